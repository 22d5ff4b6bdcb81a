/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_argv.c - sk_argv_split on arbitrary command lines. On success argv
 * is NULL-terminated, has at least one word, and the words, re-quoted with
 * single quotes, split again to the same argv. A failure is SK_EUSAGE at an
 * opening quote (or column 0 for an empty command).
 */
#include "fuzz.h"

#include <errno.h>
#include <sockit.h>

/* 'word' with each ' written as '\'' : sh's own way, and the splitter's. */
static char *requote(char **argv)
{
	size_t n = 1;
	char *out, *p;

	for (char **a = argv; *a; a++) {
		n += 3; /* quotes and a space */
		for (const char *s = *a; *s; s++)
			n += *s == '\'' ? 4 : 1;
	}
	out = malloc(n);
	FUZZ_CHECK(out, "out of memory");
	p = out;
	for (char **a = argv; *a; a++) {
		if (a != argv)
			*p++ = ' ';
		*p++ = '\'';
		for (const char *s = *a; *s; s++) {
			if (*s == '\'') {
				memcpy(p, "'\\''", 4);
				p += 4;
			} else {
				*p++ = *s;
			}
		}
		*p++ = '\'';
	}
	*p = '\0';
	return out;
}

static size_t count_words(char **argv)
{
	size_t n = 0;

	while (argv[n])
		n++;
	return n;
}

static void check_split(const char *cmdline, char **argv)
{
	size_t len = strlen(cmdline), argc = count_words(argv), bytes = 0;
	char *again_text;
	char **again = NULL;
	struct sk_err err;
	int rc;

	FUZZ_CHECK(argc >= 1, "'%s': success with no words", cmdline);
	/* Every word costs at least one input byte (a char or a quote pair), and a separator. */
	FUZZ_CHECK(argc <= len, "'%s': %zu words from %zu bytes", cmdline, argc, len);
	for (size_t i = 0; i < argc; i++)
		bytes += strlen(argv[i]);
	FUZZ_CHECK(bytes <= len, "'%s': %zu word bytes from %zu", cmdline, bytes, len);

	again_text = requote(argv);
	rc = sk_argv_split(again_text, &again, &err);
	if (rc == -ENOMEM) {
		free(again_text);
		return;
	}
	FUZZ_CHECK(rc == 0, "re-quoted '%s' does not split: %s", again_text, err.why);
	FUZZ_CHECK(count_words(again) == argc, "'%s': %zu words, re-quoted %zu", cmdline, argc,
		count_words(again));
	for (size_t i = 0; i < argc; i++)
		FUZZ_CHECK(strcmp(argv[i], again[i]) == 0, "'%s': word %zu '%s' became '%s'",
			cmdline, i, argv[i], again[i]);
	free(again);
	free(again_text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cmdline = fuzz_cstring(data, size);
	char **argv = NULL;
	struct sk_err err;
	int rc;

	if (!cmdline)
		return 0;
	sk_err_clear(&err);
	rc = sk_argv_split(cmdline, &argv, &err);
	if (rc == 0) {
		FUZZ_CHECK(argv, "success without argv");
		check_split(cmdline, argv);
		free(argv);
	} else {
		FUZZ_CHECK(!argv, "failure left argv set");
		FUZZ_CHECK(rc == SK_EUSAGE || rc == -ENOMEM, "'%s': returned %d", cmdline, rc);
		FUZZ_CHECK(err.code == rc, "'%s': err.code %d, returned %d", cmdline, err.code, rc);
		if (rc == SK_EUSAGE) {
			FUZZ_CHECK(err.pos >= 0 && (size_t)err.pos <= size,
				"'%s': err.pos %d outside 0-%zu", cmdline, err.pos, size);
			FUZZ_CHECK(err.pos == 0 || cmdline[err.pos] == '\'' || cmdline[err.pos] == '"',
				"'%s': err.pos %d is not at a quote (%s)", cmdline, err.pos, err.why);
		}
	}
	free(cmdline);
	return 0;
}
