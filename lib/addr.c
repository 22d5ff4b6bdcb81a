/* SPDX-License-Identifier: BSD-2-Clause */
/* addr.c - sockaddr <-> text, [v6%scope], CIDR blocks, numbers; pure. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

int sk__parse_uint(const char *s, size_t n, unsigned long long min, unsigned long long max,
	bool octal, unsigned long long *out)
{
	unsigned base = octal ? 8 : 10;
	unsigned long long v = 0;
	bool overflow = false;

	if (!s || n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d >= base)
			return -EINVAL;
		/* Keep scanning after an overflow: "99x" is malformed, not too big. */
		if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v))
			overflow = true;
	}
	if (overflow || v < min || v > max)
		return -ERANGE;
	if (out)
		*out = v;
	return 0;
}

/* IPv6 text "ADDR[%SCOPE]" into sin6; scope by interface name or index. */
static int parse_v6(const char *host, struct sockaddr_in6 *sin6)
{
	char addr[INET6_ADDRSTRLEN];
	const char *pct = strchr(host, '%');
	size_t n = pct ? (size_t)(pct - host) : strlen(host);

	if (n >= sizeof(addr))
		return SK_EUSAGE;
	memcpy(addr, host, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
		return SK_EUSAGE;
	if (pct) {
		const char *scope = pct + 1;
		size_t sn = strlen(scope);
		unsigned long long idx;

		if (sn == 0 || sn >= IFNAMSIZ)
			return SK_EUSAGE;
		if (sk__parse_uint(scope, sn, 1, UINT32_MAX, false, &idx) == 0)
			sin6->sin6_scope_id = (uint32_t)idx;
		else
			sin6->sin6_scope_id = if_nametoindex(scope);
		if (sin6->sin6_scope_id == 0)
			return SK_EUSAGE;
	}
	return 0;
}

int sk__addr_parse_numeric(
	const char *host, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	if (!host || port > 65535)
		return SK_EUSAGE;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (parse_v6(host, sin6) < 0)
		return SK_EUSAGE;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	*len = sizeof(*sin6);
	return 0;
}

int sk__addr_unix(const char *path, bool abstract, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = path ? strlen(path) : 0;

	if (n == 0)
		return -EINVAL;
	/* An abstract name has a leading NUL and no terminator; a path needs
	 * its NUL. Either way, never truncate: a cut path names another file. */
	if (n + 1 > sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (abstract) {
		memcpy(sun->sun_path + 1, path, n);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	} else {
		memcpy(sun->sun_path, path, n);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 0;
}

void sk__sb_put(struct sk__sb *sb, const char *s, size_t n)
{
	if (sb->n < sb->len) {
		size_t room = sb->len - 1 - sb->n;
		size_t k = n < room ? n : room;

		memcpy(sb->buf + sb->n, s, k);
		sb->buf[sb->n + k] = '\0';
	}
	sb->n += n;
}

void sk__sb_printf(struct sk__sb *sb, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	if (sb->n < sb->len)
		k = vsnprintf(sb->buf + sb->n, sb->len - sb->n, fmt, ap);
	else
		k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		sb->n += (size_t)k;
}

void sk__sb_escaped(struct sk__sb *sb, const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != ',' && s[i] != '\\')
			continue;
		sk__sb_put(sb, s + run, i - run);
		sk__sb_put(sb, "\\", 1);
		run = i;
	}
	sk__sb_put(sb, s + run, n - run);
}

/* Bytes that would garble a one-line message are shown as \xNN. */
static void put_printable(struct sk__sb *sb, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f)
			sk__sb_printf(sb, "\\x%02x", ch);
		else
			sk__sb_put(sb, s + i, 1);
	}
}

size_t sk_addr_format(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len)
{
	struct sk__sb sb = { .buf = buf, .len = len };
	char text[INET6_ADDRSTRLEN];

	if (buf && len)
		buf[0] = '\0';
	else
		sb.len = 0;
	if (!sa || salen < sizeof(sa_family_t))
		return 0;
	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		if (salen < sizeof(*sin))
			break;
		inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
		sk__sb_put(&sb, text, strlen(text));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		char ifname[IF_NAMESIZE];

		if (salen < sizeof(*sin6))
			break;
		/* inet_ntop already writes a v4-mapped address as ::ffff:1.2.3.4. */
		inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
		sk__sb_put(&sb, text, strlen(text));
		if (!sin6->sin6_scope_id)
			break;
		if (if_indextoname(sin6->sin6_scope_id, ifname))
			sk__sb_printf(&sb, "%%%s", ifname);
		else
			sk__sb_printf(&sb, "%%%u", (unsigned)sin6->sin6_scope_id);
		break;
	}
	case AF_UNIX: {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
		size_t off = offsetof(struct sockaddr_un, sun_path);
		size_t n = salen > off ? salen - off : 0;

		if (n > sizeof(sun->sun_path))
			n = sizeof(sun->sun_path);
		if (n == 0)
			break; /* unnamed: a socketpair end or an unbound client */
		if (sun->sun_path[0] == '\0') {
			sk__sb_put(&sb, "@", 1);
			put_printable(&sb, sun->sun_path + 1, n - 1);
		} else {
			put_printable(&sb, sun->sun_path, strnlen(sun->sun_path, n));
		}
		break;
	}
	case AF_VSOCK: {
		const struct sockaddr_vm *svm = (const struct sockaddr_vm *)sa;

		if (salen >= sizeof(*svm))
			sk__sb_printf(&sb, "%u", (unsigned)svm->svm_cid);
		break;
	}
	default:
		sk__sb_printf(&sb, "(family %d)", sa->sa_family);
		break;
	}
	return sb.n;
}

unsigned sk_addr_port(const struct sockaddr *sa)
{
	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

int sk__cidr_parse(const char *s, size_t n, struct sk__cidr *out, size_t *bad)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = memchr(s, '/', n);
	size_t an = slash ? (size_t)(slash - s) : n;
	unsigned long long prefix;
	unsigned max;

	*bad = 0;
	if (an == 0 || an >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, an);
	addr[an] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	out->prefix = max;
	if (!slash)
		return 0;
	*bad = an + 1;
	if (sk__parse_uint(slash + 1, n - an - 1, 0, max, false, &prefix) < 0)
		return -ERANGE;
	out->prefix = (unsigned)prefix;
	return 0;
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (!rest)
		return true;
	return ((a[whole] ^ b[whole]) & (0xff00u >> rest)) == 0;
}

bool sk__cidr_match(const struct sk__cidr *cidr, const struct sockaddr *sa)
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		return cidr->family == AF_INET &&
		       prefix_equal(
			       cidr->addr, (const unsigned char *)&sin->sin_addr, cidr->prefix);
	}
	if (sa->sa_family == AF_INET6) {
		const unsigned char *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		if (cidr->family == AF_INET6)
			return prefix_equal(cidr->addr, a, cidr->prefix);
		/* A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d. */
		return memcmp(a, v4mapped, sizeof(v4mapped)) == 0 &&
		       prefix_equal(cidr->addr, a + 12, cidr->prefix);
	}
	return false;
}

int sk_addr_parse(const char *text, unsigned port, struct sockaddr_storage *ss, socklen_t *len,
	struct sk_err *err)
{
	char t[SK__TOKLEN];

	if (port > 65535)
		return sk__fail_why(err, SK_EUSAGE, -1, "out of range", "port %u", port);
	if (!text || sk__addr_parse_numeric(text, port, ss, len) < 0)
		return sk__fail_why(err, SK_EUSAGE, -1, "not an IPv4 or IPv6 address",
			"address '%s'", text ? sk__tok(text, strlen(text), t, sizeof(t)) : "");
	return 0;
}

socklen_t sk__sockaddr_len(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	case AF_UNIX:
		return sizeof(struct sockaddr_un);
	default:
		return sizeof(sa_family_t);
	}
}
