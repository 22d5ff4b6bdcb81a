/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_endpoint.c - sk_endpoint_parse on arbitrary text. On success the
 * canonical text must parse again to an equal endpoint and format to the
 * very same bytes; failures must be SK_EUSAGE with a position inside the
 * text. Also drives explain, the getters, truncated output and escaping.
 */
#include "fuzz.h"

#include <errno.h>
#include <sockit.h>

#define MAX_OPTS 64 /* more than there are options */

/* A failed parse: only these codes, and a usage error points into the text. */
static void check_failure(const char *text, int rc, const struct sk_err *err)
{
	size_t len = strlen(text);

	FUZZ_CHECK(rc == SK_EUSAGE || rc == -ENOMEM, "parse '%s' returned %d", text, rc);
	FUZZ_CHECK(err->code == rc, "parse '%s': err.code %d, returned %d", text, err->code, rc);
	FUZZ_CHECK(memchr(err->what, '\0', sizeof(err->what)) && memchr(err->why, '\0', sizeof(err->why)),
		"parse '%s': err text not terminated", text);
	if (rc == SK_EUSAGE)
		FUZZ_CHECK(err->pos >= 0 && (size_t)err->pos <= len,
			"parse '%s': err.pos %d outside 0-%zu (%s)", text, err->pos, len, err->why);
}

/* Format into a block of exactly the size the call asks for, and check the count. */
static char *format_exact(const struct sk_endpoint *ep, bool with_options)
{
	size_t n = sk_endpoint_format(ep, with_options, NULL, 0), got;
	char *buf = malloc(n + 1);

	FUZZ_CHECK(buf, "out of memory");
	got = sk_endpoint_format(ep, with_options, buf, n + 1);
	FUZZ_CHECK(got == n && strlen(buf) == n, "format: %zu then %zu, strlen %zu", n, got,
		strlen(buf));
	return buf;
}

/* snprintf-style truncation: a prefix of the full text, terminated, the same count. */
static void check_truncated(const struct sk_endpoint *ep, const char *full, size_t len)
{
	size_t n = strlen(full), keep = len ? (len - 1 < n ? len - 1 : n) : 0;
	char *buf = malloc(len ? len : 1);

	FUZZ_CHECK(buf, "out of memory");
	FUZZ_CHECK(sk_endpoint_format(ep, true, buf, len) == n, "truncated format: wrong count");
	if (len)
		FUZZ_CHECK(strlen(buf) == keep && memcmp(buf, full, keep) == 0,
			"format into %zu bytes: '%s' is not a prefix of '%s'", len, buf, full);
	free(buf);
}

static char *explain_exact(const struct sk_endpoint *ep)
{
	size_t n = sk_endpoint_explain_options(ep, NULL, 0), got;
	char *buf = malloc(n + 1);

	FUZZ_CHECK(buf, "out of memory");
	got = sk_endpoint_explain_options(ep, buf, n + 1);
	FUZZ_CHECK(got == n && strlen(buf) == n, "explain: %zu then %zu, strlen %zu", n, got,
		strlen(buf));
	return buf;
}

/* Every getter agrees; with_options also compares the options given. */
static void check_equal(const struct sk_endpoint *a, const struct sk_endpoint *b,
	bool with_options, const char *canon)
{
	const char *na[MAX_OPTS], *nb[MAX_OPTS];
	size_t ca, cb;

	FUZZ_CHECK(sk_endpoint_transport(a) == sk_endpoint_transport(b) &&
			sk_endpoint_socktype(a) == sk_endpoint_socktype(b) &&
			sk_endpoint_is_listener(a) == sk_endpoint_is_listener(b) &&
			sk_endpoint_family(a) == sk_endpoint_family(b) &&
			strcmp(sk_endpoint_type_name(a), sk_endpoint_type_name(b)) == 0,
		"'%s' parses to another type", canon);
	FUZZ_CHECK(fuzz_same_str(sk_endpoint_host(a), sk_endpoint_host(b)),
		"'%s': host '%s' became '%s'", canon, sk_endpoint_host(a), sk_endpoint_host(b));
	FUZZ_CHECK(sk_endpoint_port(a) == sk_endpoint_port(b), "'%s': port %u became %u", canon,
		sk_endpoint_port(a), sk_endpoint_port(b));
	FUZZ_CHECK(fuzz_same_str(sk_endpoint_path(a), sk_endpoint_path(b)),
		"'%s': path '%s' became '%s'", canon, sk_endpoint_path(a), sk_endpoint_path(b));
	ca = sk_endpoint_options_given(a, na, MAX_OPTS);
	cb = sk_endpoint_options_given(b, nb, MAX_OPTS);
	if (!with_options) {
		FUZZ_CHECK(cb == 0, "'%s' (without options) has %zu options", canon, cb);
		return;
	}
	FUZZ_CHECK(ca == cb, "'%s': %zu options given became %zu", canon, ca, cb);
	for (size_t i = 0; i < ca; i++)
		FUZZ_CHECK(strcmp(na[i], nb[i]) == 0, "'%s': option '%s' became '%s'", canon,
			na[i], nb[i]);
}

/* The canonical text parses, to an equal endpoint whose text is the same bytes. */
static void check_round_trip(const struct sk_endpoint *ep, bool with_options)
{
	char *canon = format_exact(ep, with_options), *again;
	struct sk_endpoint *ep2 = NULL;
	struct sk_err err;
	int rc = sk_endpoint_parse(canon, &ep2, &err);

	if (rc == -ENOMEM) {
		free(canon);
		return;
	}
	FUZZ_CHECK(rc == 0, "canonical text '%s' does not parse: %s (column %d)", canon, err.why,
		err.pos);
	again = format_exact(ep2, with_options);
	FUZZ_CHECK(strcmp(canon, again) == 0, "canonical text '%s' formats again as '%s'", canon,
		again);
	check_equal(ep, ep2, with_options, canon);
	if (with_options) {
		char *e1 = explain_exact(ep), *e2 = explain_exact(ep2);

		FUZZ_CHECK(strcmp(e1, e2) == 0, "'%s': explain differs after a round trip", canon);
		free(e1);
		free(e2);
	}
	free(again);
	free(canon);
	sk_endpoint_free(ep2);
}

/* The getters must not crash, and strings they return are terminated. */
static void touch_getters(const struct sk_endpoint *ep)
{
	const char *names[MAX_OPTS];
	const char *host = sk_endpoint_host(ep), *path = sk_endpoint_path(ep);
	size_t count = sk_endpoint_options_given(ep, names, MAX_OPTS);
	size_t sum = strlen(sk_endpoint_type_name(ep));

	sum += host ? strlen(host) : 0;
	sum += path ? strlen(path) : 0;
	for (size_t i = 0; i < count; i++)
		sum += strlen(names[i]);
	FUZZ_CHECK(sk_endpoint_options_given(ep, names, 0) == 0, "options_given ignores max");
	FUZZ_CHECK(sum > 0, "empty type name");
	(void)sk_endpoint_transport(ep);
	(void)sk_endpoint_socktype(ep);
	(void)sk_endpoint_is_listener(ep);
	(void)sk_endpoint_family(ep);
	(void)sk_endpoint_port(ep);
}

/* abstract:ESCAPED(text) names exactly text, whatever bytes it holds. */
static void check_escape(const char *text, size_t len)
{
	static const char prefix[] = "abstract:";
	size_t n = sk_endpoint_escape(text, NULL, 0);
	char *ep_text = malloc(sizeof(prefix) + n);
	struct sk_endpoint *ep = NULL;
	struct sk_err err;
	int rc;

	FUZZ_CHECK(ep_text, "out of memory");
	memcpy(ep_text, prefix, sizeof(prefix) - 1);
	FUZZ_CHECK(sk_endpoint_escape(text, ep_text + sizeof(prefix) - 1, n + 1) == n,
		"escape: wrong count");
	rc = sk_endpoint_parse(ep_text, &ep, &err);
	if (len > 0 && len <= 107) /* sun_path holds 108 bytes, less the leading NUL */
		FUZZ_CHECK(rc == 0 || rc == -ENOMEM, "'%s' does not parse: %s", ep_text, err.why);
	else
		FUZZ_CHECK(rc == SK_EUSAGE || rc == -ENOMEM, "'%s' parses", ep_text);
	if (rc == 0)
		FUZZ_CHECK(strcmp(sk_endpoint_path(ep), text) == 0, "'%s' names '%s'", ep_text,
			sk_endpoint_path(ep));
	sk_endpoint_free(ep);
	free(ep_text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);
	struct sk_endpoint *ep = NULL;
	struct sk_err err;
	int rc, rc_quiet;

	if (!text)
		return 0;
	sk_err_clear(&err);
	rc = sk_endpoint_parse(text, &ep, &err);
	if (rc < 0) {
		FUZZ_CHECK(!ep, "failed parse left *out set");
		check_failure(text, rc, &err);
	} else {
		char *full = format_exact(ep, true), *bare = format_exact(ep, false), *expl;

		FUZZ_CHECK(rc == 0 && ep, "parse returned %d", rc);
		FUZZ_CHECK(strncmp(full, bare, strlen(bare)) == 0,
			"'%s' does not start with its option-less text '%s'", full, bare);
		touch_getters(ep);
		expl = explain_exact(ep);
		check_truncated(ep, full, size % (strlen(full) + 2));
		check_round_trip(ep, true);
		check_round_trip(ep, false);
		free(expl);
		free(bare);
		free(full);
		sk_endpoint_free(ep);
	}
	/* Without an sk_err the outcome is the same. */
	ep = NULL;
	rc_quiet = sk_endpoint_parse(text, &ep, NULL);
	FUZZ_CHECK(rc_quiet == rc || rc_quiet == -ENOMEM || rc == -ENOMEM,
		"parse '%s': %d with sk_err, %d without", text, rc, rc_quiet);
	sk_endpoint_free(ep);
	check_escape(text, size);
	free(text);
	return 0;
}
