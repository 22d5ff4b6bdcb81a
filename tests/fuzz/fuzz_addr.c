/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_addr.c - the (pointer, length) parsers of addr.c and endpoint.c on an
 * unterminated exact-size view, so ASan sees any read past the length:
 * sk__parse_uint against strtoull, sk__cidr_parse (its text form must parse
 * back to the same block, which must contain its own address) and
 * sk__split_hostport (its pieces must lie inside the view).
 */
#include "fuzz.h"
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>

/* The bounds lib/ really uses: ports, vsock, prefixes, option values, modes. */
static const struct {
	unsigned long long min, max;
	bool octal;
} uint_cases[] = {
	/* min, max, octal */
	{ 0, 65535, false },
	{ 0, UINT32_MAX, false },
	{ 0, ULLONG_MAX, false },
	{ 1, 255, false },
	{ 1, INT_MAX, false },
	{ 0, 0777, true },
	{ 0, 07777, true },
};

/* The reference: only digits of the base, then strtoull on a terminated copy. */
static int reference_uint(const char *s, size_t n, unsigned long long min,
	unsigned long long max, bool octal, unsigned long long *out)
{
	char *copy;
	unsigned long long v;
	int saved;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > (octal ? '7' : '9'))
			return -EINVAL;
	copy = malloc(n + 1);
	FUZZ_CHECK(copy, "out of memory");
	memcpy(copy, s, n);
	copy[n] = '\0';
	errno = 0;
	v = strtoull(copy, NULL, octal ? 8 : 10);
	saved = errno;
	free(copy);
	if (saved == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static void check_uint(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(uint_cases) / sizeof(uint_cases[0]); i++) {
		unsigned long long got = 0, want = 0;
		int rc = sk__parse_uint(s, n, uint_cases[i].min, uint_cases[i].max,
			uint_cases[i].octal, &got);
		int ref = reference_uint(s, n, uint_cases[i].min, uint_cases[i].max,
			uint_cases[i].octal, &want);

		FUZZ_CHECK(rc == ref, "parse_uint case %zu: %d, reference %d", i, rc, ref);
		FUZZ_CHECK(rc < 0 || got == want, "parse_uint case %zu: %llu, reference %llu", i,
			got, want);
		FUZZ_CHECK(sk__parse_uint(s, n, uint_cases[i].min, uint_cases[i].max,
				   uint_cases[i].octal, NULL) == rc,
			"parse_uint case %zu: a NULL out changes the result", i);
	}
}

/* A block in the form accept-proxy= stores it: inet_ntop(addr)/prefix. */
static void check_cidr_text(const struct sk__cidr *cidr)
{
	char addr[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 8];
	struct sk__cidr again;
	size_t bad = 0;
	int n;

	FUZZ_CHECK(inet_ntop(cidr->family, cidr->addr, addr, sizeof(addr)), "inet_ntop failed");
	n = snprintf(text, sizeof(text), "%s/%u", addr, cidr->prefix);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(text), "CIDR text too long");
	FUZZ_CHECK(sk__cidr_parse(text, (size_t)n, &again, &bad) == 0, "'%s' does not parse",
		text);
	FUZZ_CHECK(again.family == cidr->family && again.prefix == cidr->prefix &&
			memcmp(again.addr, cidr->addr, sizeof(again.addr)) == 0,
		"'%s' parses to another block", text);
}

/* A block contains its own address, as IPv4 and as an IPv4-mapped IPv6 peer. */
static void check_cidr_match(const struct sk__cidr *cidr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	if (cidr->family == AF_INET) {
		memcpy(&sin.sin_addr, cidr->addr, 4);
		FUZZ_CHECK(sk__cidr_match(cidr, (const struct sockaddr *)&sin),
			"IPv4 block misses its own address");
		sin6.sin6_addr.s6_addr[10] = 0xff;
		sin6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin6.sin6_addr.s6_addr[12], cidr->addr, 4);
		FUZZ_CHECK(sk__cidr_match(cidr, (const struct sockaddr *)&sin6),
			"IPv4 block misses its own address seen as IPv4-mapped IPv6");
		return;
	}
	memcpy(&sin6.sin6_addr, cidr->addr, 16);
	FUZZ_CHECK(sk__cidr_match(cidr, (const struct sockaddr *)&sin6),
		"IPv6 block misses its own address");
	FUZZ_CHECK(!sk__cidr_match(cidr, (const struct sockaddr *)&sin),
		"IPv6 block matches an IPv4 peer");
}

static void check_cidr(const char *s, size_t n)
{
	struct sk__cidr cidr;
	size_t bad = SIZE_MAX;
	int rc = sk__cidr_parse(s, n, &cidr, &bad);

	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE, "cidr_parse returned %d", rc);
	if (rc == -ERANGE) {
		FUZZ_CHECK(bad > 0 && bad <= n && s[bad - 1] == '/',
			"cidr_parse: -ERANGE with offset %zu of %zu", bad, n);
		return;
	}
	if (rc < 0) {
		FUZZ_CHECK(bad == 0, "cidr_parse: -EINVAL with offset %zu", bad);
		return;
	}
	FUZZ_CHECK((cidr.family == AF_INET && cidr.prefix <= 32) ||
			(cidr.family == AF_INET6 && cidr.prefix <= 128),
		"cidr_parse: family %d prefix %u", cidr.family, cidr.prefix);
	check_cidr_text(&cidr);
	check_cidr_match(&cidr);
}

static void check_split_hostport(const char *s, size_t n)
{
	const char *port = s;
	size_t host_len = SIZE_MAX, port_len = SIZE_MAX;

	sk__split_hostport(s, n, &host_len, &port, &port_len);
	FUZZ_CHECK(host_len <= n, "split_hostport: host %zu of %zu bytes", host_len, n);
	if (!port) {
		FUZZ_CHECK(host_len == n && port_len == 0, "split_hostport: no port, host %zu/%zu",
			host_len, n);
		return;
	}
	FUZZ_CHECK(port == s + host_len + 1 && s[host_len] == ':' &&
			host_len + 1 + port_len == n,
		"split_hostport: host %zu, port at %td + %zu, of %zu", host_len, port - s,
		port_len, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *view = fuzz_view(data, size);

	if (!view)
		return 0;
	check_uint(view, size);
	check_cidr(view, size);
	check_split_hostport(view, size);
	free(view);
	return 0;
}
