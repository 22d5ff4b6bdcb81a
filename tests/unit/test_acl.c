/* SPDX-License-Identifier: BSD-2-Clause */
/* test_acl.c - allow/deny rules against IPv4, IPv6 and v4-mapped peers. */
#include "internal.h"
#include "tap.h"

#include <arpa/inet.h>
#include <sys/un.h>

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	return ss;
}

static bool permits(const struct sk_acl *acl, const char *text)
{
	struct sockaddr_storage ss = addr(text);

	return sk_acl_permits(acl, (struct sockaddr *)&ss);
}

int main(void)
{
	struct sk_acl *acl;
	struct sk_err err;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	ok(sk_acl_permits(NULL, (struct sockaddr *)&sun), "no list lets everyone in");
	is_int(sk_acl_create(&acl, &err), 0, "list created");
	ok(permits(acl, "192.0.2.1"), "an empty list lets everyone in");

	is_int(sk_acl_add(acl, "10.0.0.0/8", false, &err), 0, "deny 10.0.0.0/8");
	ok(!permits(acl, "10.1.2.3"), "denied block refused");
	ok(!permits(acl, "::ffff:10.1.2.3"), "v4-mapped peer matches the IPv4 deny rule");
	ok(permits(acl, "11.0.0.1"), "outside the denied block: in (no allow rules)");

	is_int(sk_acl_add(acl, "127.0.0.0/8", true, &err), 0, "allow 127.0.0.0/8");
	is_int(sk_acl_add(acl, "::1", true, &err), 0, "allow ::1");
	ok(permits(acl, "127.0.0.1"), "allowed block in");
	ok(permits(acl, "::1"), "allowed IPv6 address in");
	ok(!permits(acl, "11.0.0.1"), "with allow rules, an unlisted peer is refused");
	ok(!permits(acl, "::2"), "unlisted IPv6 refused");
	ok(sk_acl_permits(acl, (struct sockaddr *)&sun), "UNIX peers are not subject to the list");

	is_int(sk_acl_add(acl, "10.1.0.0/16", true, &err), 0, "allow inside a denied block");
	ok(!permits(acl, "10.1.2.3"), "deny wins over allow");

	is_int(sk_acl_add(acl, "10.0.0.0/33", true, &err), SK_EUSAGE, "prefix 33 rejected");
	is_str(err.why, "prefix length '33' out of range 0-32", "names the prefix");
	is_int(err.pos, 9, "position of the prefix");
	is_str(err.what, "--allow '10.0.0.0/33'", "what names the option and value");
	is_int(sk_acl_add(acl, "example.org", false, &err), SK_EUSAGE, "a name is not a block");
	is_str(err.why, "'example.org' is not an IPv4 or IPv6 address block", "and says so");
	is_int(sk_acl_add(acl, "::/129", false, &err), SK_EUSAGE, "IPv6 prefix 129 rejected");
	is_str(err.why, "prefix length '129' out of range 0-128", "IPv6 range named");
	sk_acl_destroy(acl);
	sk_acl_destroy(NULL);
	return tap_done();
}
