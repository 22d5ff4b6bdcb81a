/* SPDX-License-Identifier: BSD-2-Clause */
/* test_err.c - error codes, messages and struct sk_err filling. */
#include "internal.h"
#include "tap.h"

#include <errno.h>

int main(void)
{
	struct sk_err err;
	char buf[64];

	sk_err_clear(&err);
	is_int(err.pos, -1, "cleared error has no position");
	is_str(err.what, "", "cleared error has no what");

	is_str(sk_strerror(-ECONNREFUSED, buf, sizeof(buf)), "Connection refused",
		"errno codes use the libc text");
	is_str(sk_strerror(SK_ERESOLVE, buf, sizeof(buf)), "name resolution failed",
		"SK_ERESOLVE has its own text");
	is_str(sk_strerror(SK_EIDLE, buf, sizeof(buf)), "idle timeout", "SK_EIDLE text");
	is_str(sk_strerror(-99999, buf, sizeof(buf)), "error -99999", "unknown code is shown");
	is_str(sk_strerror(-ECONNRESET, buf, 6), "Conne", "truncates to the buffer");

	is_int(sk__fail(&err, -EADDRINUSE, "listen on %s", "tcp-listen:80"), -EADDRINUSE,
		"sk__fail returns the code");
	is_int(err.code, -EADDRINUSE, "sk__fail records the code");
	is_str(err.what, "listen on tcp-listen:80", "sk__fail formats what");
	is_str(err.why, "Address already in use", "sk__fail derives why from errno");
	is_int(sk__fail(NULL, -EIO, "x"), -EIO, "sk__fail without err still returns the code");

	is_int(sk__usage(&err, 14, "endpoint 'tcp-listen:80,backlgo=5'", "unknown option '%s'",
		       "backlgo"),
		SK_EUSAGE, "sk__usage returns SK_EUSAGE");
	is_int(err.pos, 14, "sk__usage records the position");
	is_str(err.why, "unknown option 'backlgo'", "sk__usage formats why");

	is_int(sk__fail_why(&err, -EADDRINUSE, -1, "a live socket answers there", "listen on %s",
		       "unix-listen:/x"),
		-EADDRINUSE, "sk__fail_why returns the code");
	is_str(err.why, "a live socket answers there", "sk__fail_why keeps its why");
	return tap_done();
}
