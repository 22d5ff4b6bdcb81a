/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz.h - shared by the fuzz targets and replay.c: the entry point, exact-size copies, checks. */
#ifndef SOCKIT_FUZZ_H
#define SOCKIT_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libFuzzer's entry point; replay.c calls it once per corpus file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input as a C string in a block of exactly size + 1 bytes, so that ASan
 * flags any read past the terminator. NULL when the input holds a NUL (the
 * parser would never see what follows it) or when memory runs out.
 */
static inline char *fuzz_cstring(const uint8_t *data, size_t size)
{
	char *s;

	if (size && memchr(data, '\0', size))
		return NULL;
	s = malloc(size + 1);
	if (!s)
		return NULL;
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The input as a (pointer, length) view: exactly size bytes, no terminator. */
static inline char *fuzz_view(const uint8_t *data, size_t size)
{
	char *s = malloc(size);

	if (s && size)
		memcpy(s, data, size);
	return s;
}

/* A broken invariant: say which, then abort so libFuzzer keeps the input. */
__attribute__((format(printf, 3, 4), noreturn)) static inline void fuzz_fail(
	const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define FUZZ_CHECK(cond, ...)                                                               \
	do {                                                                                \
		if (!(cond))                                                                \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);                         \
	} while (0)

/* Both NULL, or equal strings. */
static inline int fuzz_same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

#endif
