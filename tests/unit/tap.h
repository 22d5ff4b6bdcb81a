/* SPDX-License-Identifier: BSD-2-Clause */
/* tap.h - a tiny TAP producer: plan, ok, is_int, is_str print both values on failure. */
#ifndef SOCKIT_TAP_H
#define SOCKIT_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void tap_plan(int n)
{
	printf("1..%d\n", n);
}

__attribute__((format(printf, 2, 3))) static inline int ok(int cond, const char *fmt, ...)
{
	char desc[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	/* One TAP line per case, whatever the description holds. */
	for (char *p = desc; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	printf("%sok %d - %s\n", cond ? "" : "not ", ++tap_n, desc);
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

#define is_int(got, want, ...)                                                              \
	do {                                                                                \
		long long g_ = (long long)(got), w_ = (long long)(want);                    \
		if (!ok(g_ == w_, __VA_ARGS__))                                             \
			printf("#   got: %lld\n#   expected: %lld\n", g_, w_);                \
	} while (0)

#define is_str(got, want, ...)                                                              \
	do {                                                                                \
		const char *g_ = (got), *w_ = (want);                                       \
		if (!ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__))                      \
			printf("#   got: '%s'\n#   expected: '%s'\n", g_ ? g_ : "(null)",     \
				w_ ? w_ : "(null)");                                        \
	} while (0)

/* Plan at the end, so a test cannot promise cases it never ran. */
static inline int tap_done(void)
{
	tap_plan(tap_n);
	return tap_failed ? 1 : 0;
}

#endif
