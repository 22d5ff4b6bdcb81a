/* SPDX-License-Identifier: BSD-2-Clause */
/* err.c - SK_E* codes, sk_strerror(), filling struct sk_err. */
#include "internal.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>

void sk_err_clear(struct sk_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->detail = 0;
	err->pos = -1;
	err->what[0] = '\0';
	err->why[0] = '\0';
}

const char *sk_strerror(int code, char *buf, size_t len)
{
	const char *text;

	if (!buf || !len)
		return "";
	switch (code) {
	case 0:
		text = "Success";
		break;
	case SK_EUSAGE:
		text = "invalid usage";
		break;
	case SK_ERESOLVE:
		text = "name resolution failed";
		break;
	case SK_ETLS:
		text = "TLS failure";
		break;
	case SK_EIDLE:
		text = "idle timeout";
		break;
	case SK_EUNSUPPORTED:
		text = "not supported";
		break;
	case SK_EWAIT:
		text = "no peer within the timeout";
		break;
	default:
		if (code < 0 && code > -4096) {
			/* The GNU strerror_r may return a static string instead of filling buf. */
			text = strerror_r(-code, buf, len);
			if (text != buf)
				snprintf(buf, len, "%s", text);
			return buf;
		}
		snprintf(buf, len, "error %d", code);
		return buf;
	}
	snprintf(buf, len, "%s", text);
	return buf;
}

__attribute__((format(printf, 2, 0))) static void fill_what(struct sk_err *err,
	const char *fmt, va_list ap)
{
	vsnprintf(err->what, sizeof(err->what), fmt, ap);
}

int sk__fail(struct sk_err *err, int code, const char *what_fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->detail = 0;
	err->pos = -1;
	va_start(ap, what_fmt);
	fill_what(err, what_fmt, ap);
	va_end(ap);
	sk_strerror(code, err->why, sizeof(err->why));
	return code;
}

int sk__fail_why(struct sk_err *err, int code, int pos, const char *why, const char *what_fmt,
	...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->detail = 0;
	err->pos = pos;
	va_start(ap, what_fmt);
	fill_what(err, what_fmt, ap);
	va_end(ap);
	snprintf(err->why, sizeof(err->why), "%s", why);
	return code;
}

int sk__usage(struct sk_err *err, int pos, const char *what, const char *why_fmt, ...)
{
	va_list ap;

	if (!err)
		return SK_EUSAGE;
	err->code = SK_EUSAGE;
	err->detail = 0;
	err->pos = pos;
	snprintf(err->what, sizeof(err->what), "%s", what);
	va_start(ap, why_fmt);
	vsnprintf(err->why, sizeof(err->why), why_fmt, ap);
	va_end(ap);
	return SK_EUSAGE;
}
