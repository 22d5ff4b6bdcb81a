/* SPDX-License-Identifier: BSD-2-Clause */
/* test_addr.c - numbers, numeric addresses, UNIX addresses, CIDR blocks, address text. */
#include "internal.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stddef.h>
#include <string.h>

static void test_parse_uint(void)
{
	static const struct {
		const char *s;
		unsigned long long min, max;
		bool octal;
		int rc;
		unsigned long long want;
	} cases[] = {
		{ "0", 0, 65535, false, 0, 0 },
		{ "65535", 0, 65535, false, 0, 65535 },
		{ "00080", 0, 65535, false, 0, 80 },
		{ "65536", 0, 65535, false, -ERANGE, 0 },
		{ "0", 1, 10, false, -ERANGE, 0 },
		{ "", 0, 10, false, -EINVAL, 0 },
		{ "12a", 0, 1000, false, -EINVAL, 0 },
		{ "-1", 0, 10, false, -EINVAL, 0 },
		{ "+1", 0, 10, false, -EINVAL, 0 },
		{ " 1", 0, 10, false, -EINVAL, 0 },
		{ "1 ", 0, 10, false, -EINVAL, 0 },
		{ "0x10", 0, 100, false, -EINVAL, 0 },
		{ "18446744073709551615", 0, ULLONG_MAX, false, 0, ULLONG_MAX },
		{ "18446744073709551616", 0, ULLONG_MAX, false, -ERANGE, 0 },
		{ "99999999999999999999999", 0, ULLONG_MAX, false, -ERANGE, 0 },
		{ "99999999999999999999999x", 0, ULLONG_MAX, false, -EINVAL, 0 },
		{ "0777", 0, 0777, true, 0, 0777 },
		{ "1000", 0, 0777, true, -ERANGE, 0 },
		{ "8", 0, 0777, true, -EINVAL, 0 },
		{ "4294967295", 0, UINT32_MAX, false, 0, UINT32_MAX },
		{ "4294967296", 0, UINT32_MAX, false, -ERANGE, 0 },
	};
	unsigned long long v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		int rc = sk__parse_uint(cases[i].s, strlen(cases[i].s), cases[i].min, cases[i].max,
			cases[i].octal, &v);

		is_int(rc, cases[i].rc, "parse_uint '%s' in [%llu, %llu]%s", cases[i].s,
			cases[i].min, cases[i].max, cases[i].octal ? " octal" : "");
		if (rc == 0)
			ok(v == cases[i].want, "  value %llu", v);
		else
			ok(v == 12345, "  output untouched on failure");
	}
	is_int(sk__parse_uint("123456", 3, 0, 1000, false, &v), 0, "a view: only n bytes");
	is_int(v, 123, "  value of the view");
	is_int(sk__parse_uint(NULL, 0, 0, 1, false, &v), -EINVAL, "NULL is -EINVAL");
}

static void test_numeric(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = 0;
	unsigned lo = if_nametoindex("lo");

	is_int(sk__addr_parse_numeric("127.0.0.1", 80, &ss, &len), 0, "IPv4 literal");
	ok(sin->sin_family == AF_INET && len == sizeof(*sin), "  AF_INET, sockaddr_in length");
	is_int(ntohs(sin->sin_port), 80, "  port in network order");
	is_int(ntohl(sin->sin_addr.s_addr), 0x7f000001, "  address");

	is_int(sk__addr_parse_numeric("::1", 443, &ss, &len), 0, "IPv6 literal");
	ok(sin6->sin6_family == AF_INET6 && len == sizeof(*sin6),
		"  AF_INET6, sockaddr_in6 length");
	ok(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) && ntohs(sin6->sin6_port) == 443,
		"  ::1 port 443");
	is_int(sin6->sin6_scope_id, 0, "  no scope");

	is_int(sk__addr_parse_numeric("fe80::1%5", 1, &ss, &len), 0, "scope by index");
	is_int(sin6->sin6_scope_id, 5, "  scope id 5");
	if (lo) {
		is_int(sk__addr_parse_numeric("fe80::1%lo", 1, &ss, &len), 0, "scope by name");
		is_int(sin6->sin6_scope_id, lo, "  scope id of lo");
	}
	is_int(sk__addr_parse_numeric("fe80::1%nosuchif0", 1, &ss, &len), SK_EUSAGE,
		"unknown interface");
	is_int(sk__addr_parse_numeric("fe80::1%", 1, &ss, &len), SK_EUSAGE, "empty scope");
	is_int(sk__addr_parse_numeric("fe80::1%averyveryverylongname", 1, &ss, &len), SK_EUSAGE,
		"scope longer than IFNAMSIZ-1");
	is_int(sk__addr_parse_numeric("1.2.3.4%lo", 1, &ss, &len), SK_EUSAGE, "no scope on IPv4");
	is_int(sk__addr_parse_numeric("example.com", 1, &ss, &len), SK_EUSAGE,
		"a name is not numeric");
	is_int(sk__addr_parse_numeric("1.2.3", 1, &ss, &len), SK_EUSAGE, "short IPv4 refused");
	is_int(sk__addr_parse_numeric("[::1]", 1, &ss, &len), SK_EUSAGE, "no brackets here");
	is_int(sk__addr_parse_numeric("::1", 65536, &ss, &len), SK_EUSAGE, "port over 65535");
	is_int(sk__addr_parse_numeric(
		       "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000", 1, &ss, &len),
		SK_EUSAGE, "overlong text is refused, not truncated");
}

static void test_unix(void)
{
	struct sockaddr_un sun;
	socklen_t len = 0;
	char path[sizeof(sun.sun_path) + 2];
	size_t base = offsetof(struct sockaddr_un, sun_path);

	is_int(sk__addr_unix("/tmp/x", false, &sun, &len), 0, "unix path");
	is_int(len, base + 7, "  length includes the NUL");
	is_str(sun.sun_path, "/tmp/x", "  path");
	is_int(sun.sun_family, AF_UNIX, "  AF_UNIX");

	is_int(sk__addr_unix("name", true, &sun, &len), 0, "abstract name");
	is_int(len, base + 1 + 4, "  length: leading NUL, no terminator");
	ok(sun.sun_path[0] == '\0' && memcmp(sun.sun_path + 1, "name", 4) == 0, "  leading NUL");

	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[107] = '\0';
	is_int(sk__addr_unix(path, false, &sun, &len), 0, "107-byte path fits");
	is_int(len, sizeof(sun), "  fills sun_path");
	path[107] = 'a';
	path[108] = '\0';
	is_int(sk__addr_unix(path, false, &sun, &len), -ENAMETOOLONG, "108-byte path is too long");
	path[107] = '\0';
	is_int(sk__addr_unix(path, true, &sun, &len), 0, "107-byte abstract name fits");
	path[107] = 'a';
	is_int(sk__addr_unix(path, true, &sun, &len), -ENAMETOOLONG, "108-byte abstract name");
	is_int(sk__addr_unix("", false, &sun, &len), -EINVAL, "empty path");
}

static void check_format(
	const struct sockaddr *sa, socklen_t len, const char *want, const char *what)
{
	char buf[128];
	size_t n = sk_addr_format(sa, len, buf, sizeof(buf));

	is_str(buf, want, "format %s", what);
	is_int(n, strlen(want), "  length");
}

static void test_format(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(443) };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t base = offsetof(struct sockaddr_un, sun_path);
	unsigned lo = if_nametoindex("lo");
	char small[6];

	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	check_format((struct sockaddr *)&sin, sizeof(sin), "192.0.2.1", "IPv4");
	is_int(sk_addr_port((struct sockaddr *)&sin), 80, "IPv4 port");

	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	check_format((struct sockaddr *)&sin6, sizeof(sin6), "2001:db8::1", "IPv6");
	is_int(sk_addr_port((struct sockaddr *)&sin6), 443, "IPv6 port");

	inet_pton(AF_INET6, "::ffff:1.2.3.4", &sin6.sin6_addr);
	check_format((struct sockaddr *)&sin6, sizeof(sin6), "::ffff:1.2.3.4", "v4-mapped IPv6");

	inet_pton(AF_INET6, "fe80::1", &sin6.sin6_addr);
	sin6.sin6_scope_id = 999999;
	check_format((struct sockaddr *)&sin6, sizeof(sin6), "fe80::1%999999", "unknown scope");
	if (lo) {
		sin6.sin6_scope_id = lo;
		check_format((struct sockaddr *)&sin6, sizeof(sin6), "fe80::1%lo", "scope name");
	}

	memcpy(sun.sun_path, "/run/app.sock", 14);
	check_format((struct sockaddr *)&sun, (socklen_t)(base + 14), "/run/app.sock", "unix path");
	check_format((struct sockaddr *)&sun, sizeof(sun), "/run/app.sock", "unix, full length");
	memcpy(sun.sun_path, "\0name", 5);
	check_format((struct sockaddr *)&sun, (socklen_t)(base + 5), "@name", "abstract");
	memcpy(sun.sun_path, "\0a\0b\n", 5);
	check_format((struct sockaddr *)&sun, (socklen_t)(base + 5), "@a\\x00b\\x0a",
		"abstract with NUL and newline");
	check_format((struct sockaddr *)&sun, (socklen_t)base, "", "unnamed unix");
	is_int(sk_addr_port((struct sockaddr *)&sun), 0, "unix has no port");

	check_format((struct sockaddr *)&sin, 4, "", "short IPv4 length");
	is_int(sk_addr_format((struct sockaddr *)&sin, sizeof(sin), small, sizeof(small)), 9,
		"truncated: full length returned");
	is_str(small, "192.0", "  NUL-terminated prefix");
	is_int(sk_addr_format((struct sockaddr *)&sin, sizeof(sin), NULL, 0), 9, "NULL buffer");
	is_int(sk_addr_port(NULL), 0, "NULL port");
}

static void test_cidr(void)
{
	struct sk__cidr c;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	size_t bad;

#define CIDR(s) sk__cidr_parse(s, strlen(s), &c, &bad)
	is_int(CIDR("10.0.0.0/8"), 0, "IPv4 block");
	ok(c.family == AF_INET && c.prefix == 8, "  family and prefix");
	inet_pton(AF_INET, "10.200.3.4", &sin.sin_addr);
	ok(sk__cidr_match(&c, (struct sockaddr *)&sin), "  10.200.3.4 in 10/8");
	inet_pton(AF_INET, "11.0.0.1", &sin.sin_addr);
	ok(!sk__cidr_match(&c, (struct sockaddr *)&sin), "  11.0.0.1 not in 10/8");
	inet_pton(AF_INET6, "::ffff:10.9.9.9", &sin6.sin6_addr);
	ok(sk__cidr_match(&c, (struct sockaddr *)&sin6), "  v4-mapped peer matches an IPv4 block");
	inet_pton(AF_INET6, "::10.9.9.9", &sin6.sin6_addr);
	ok(!sk__cidr_match(&c, (struct sockaddr *)&sin6), "  v4-compatible does not");

	is_int(CIDR("192.168.1.0/23"), 0, "odd prefix");
	inet_pton(AF_INET, "192.168.0.200", &sin.sin_addr);
	ok(sk__cidr_match(&c, (struct sockaddr *)&sin), "  192.168.0.200 in /23");
	inet_pton(AF_INET, "192.168.2.1", &sin.sin_addr);
	ok(!sk__cidr_match(&c, (struct sockaddr *)&sin), "  192.168.2.1 not in /23");

	is_int(CIDR("0.0.0.0/0"), 0, "everything");
	ok(sk__cidr_match(&c, (struct sockaddr *)&sin), "  matches any IPv4");

	is_int(CIDR("2001:db8::/32"), 0, "IPv6 block");
	inet_pton(AF_INET6, "2001:db8:ffff::1", &sin6.sin6_addr);
	ok(sk__cidr_match(&c, (struct sockaddr *)&sin6), "  2001:db8:ffff::1 in /32");
	inet_pton(AF_INET6, "2001:db9::1", &sin6.sin6_addr);
	ok(!sk__cidr_match(&c, (struct sockaddr *)&sin6), "  2001:db9::1 not in /32");
	ok(!sk__cidr_match(&c, (struct sockaddr *)&sin), "  IPv4 peer not in an IPv6 block");

	is_int(CIDR("::1"), 0, "single address");
	is_int(c.prefix, 128, "  full prefix");
	is_int(CIDR("1.2.3.4"), 0, "single IPv4 address");
	is_int(c.prefix, 32, "  /32");

	is_int(CIDR("10.0.0.0/33"), -ERANGE, "prefix over 32");
	is_int(bad, 9, "  offset of the prefix");
	is_int(CIDR("::/129"), -ERANGE, "prefix over 128");
	is_int(CIDR("10.0.0.0/"), -ERANGE, "empty prefix");
	is_int(CIDR("10.0.0.0/x"), -ERANGE, "non-numeric prefix");
	is_int(CIDR("bogus/8"), -EINVAL, "not an address");
	is_int(bad, 0, "  offset 0");
	is_int(CIDR("/8"), -EINVAL, "no address");
	is_int(CIDR("fe80::1%lo/64"), -EINVAL, "no scope in a block");
#undef CIDR
}

int main(void)
{
	test_parse_uint();
	test_numeric();
	test_unix();
	test_format();
	test_cidr();
	return tap_done();
}
