/* SPDX-License-Identifier: BSD-2-Clause */
/* endpoint.c - TYPE:ADDRESS[,OPTION[=VALUE]]... parse and canonical format; pure, no I/O. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
/* The type table: alphabetical (strcmp order) for bsearch, matched exactly,
 * never by prefix. Columns: name, transport, socktype, family, listener. */
static const struct sk__eptype eptypes[] = {
	{ "abstract", SK_ABSTRACT, SOCK_STREAM, AF_UNSPEC, false },
	{ "abstract-dgram", SK_ABSTRACT, SOCK_DGRAM, AF_UNSPEC, false },
	{ "abstract-dgram-listen", SK_ABSTRACT, SOCK_DGRAM, AF_UNSPEC, true },
	{ "abstract-listen", SK_ABSTRACT, SOCK_STREAM, AF_UNSPEC, true },
	{ "abstract-seqpacket", SK_ABSTRACT, SOCK_SEQPACKET, AF_UNSPEC, false },
	{ "abstract-seqpacket-listen", SK_ABSTRACT, SOCK_SEQPACKET, AF_UNSPEC, true },
	{ "exec", SK_EXEC, SOCK_STREAM, AF_UNSPEC, false },
	{ "sh", SK_SH, SOCK_STREAM, AF_UNSPEC, false },
	{ "stdio", SK_STDIO, SOCK_STREAM, AF_UNSPEC, false },
	{ "tcp", SK_TCP, SOCK_STREAM, AF_UNSPEC, false },
	{ "tcp-listen", SK_TCP, SOCK_STREAM, AF_UNSPEC, true },
	{ "tcp4", SK_TCP, SOCK_STREAM, AF_INET, false },
	{ "tcp4-listen", SK_TCP, SOCK_STREAM, AF_INET, true },
	{ "tcp6", SK_TCP, SOCK_STREAM, AF_INET6, false },
	{ "tcp6-listen", SK_TCP, SOCK_STREAM, AF_INET6, true },
	{ "tls", SK_TLS, SOCK_STREAM, AF_UNSPEC, false },
	{ "tls-listen", SK_TLS, SOCK_STREAM, AF_UNSPEC, true },
	{ "tls4", SK_TLS, SOCK_STREAM, AF_INET, false },
	{ "tls4-listen", SK_TLS, SOCK_STREAM, AF_INET, true },
	{ "tls6", SK_TLS, SOCK_STREAM, AF_INET6, false },
	{ "tls6-listen", SK_TLS, SOCK_STREAM, AF_INET6, true },
	{ "udp", SK_UDP, SOCK_DGRAM, AF_UNSPEC, false },
	{ "udp-listen", SK_UDP, SOCK_DGRAM, AF_UNSPEC, true },
	{ "udp4", SK_UDP, SOCK_DGRAM, AF_INET, false },
	{ "udp4-listen", SK_UDP, SOCK_DGRAM, AF_INET, true },
	{ "udp6", SK_UDP, SOCK_DGRAM, AF_INET6, false },
	{ "udp6-listen", SK_UDP, SOCK_DGRAM, AF_INET6, true },
	{ "unix", SK_UNIX, SOCK_STREAM, AF_UNSPEC, false },
	{ "unix-dgram", SK_UNIX, SOCK_DGRAM, AF_UNSPEC, false },
	{ "unix-dgram-listen", SK_UNIX, SOCK_DGRAM, AF_UNSPEC, true },
	{ "unix-listen", SK_UNIX, SOCK_STREAM, AF_UNSPEC, true },
	{ "unix-seqpacket", SK_UNIX, SOCK_SEQPACKET, AF_UNSPEC, false },
	{ "unix-seqpacket-listen", SK_UNIX, SOCK_SEQPACKET, AF_UNSPEC, true },
	{ "vsock", SK_VSOCK, SOCK_STREAM, AF_UNSPEC, false },
	{ "vsock-listen", SK_VSOCK, SOCK_STREAM, AF_UNSPEC, true },
	{ "ws", SK_WS, SOCK_STREAM, AF_UNSPEC, false },
	{ "ws-listen", SK_WS, SOCK_STREAM, AF_UNSPEC, true },
	{ "wss", SK_WSS, SOCK_STREAM, AF_UNSPEC, false },
	{ "wss-listen", SK_WSS, SOCK_STREAM, AF_UNSPEC, true },
};
/* clang-format on */

#define NTYPES (sizeof(eptypes) / sizeof(eptypes[0]))

const struct sk__eptype *sk__eptype_table(size_t *count)
{
	*count = NTYPES;
	return eptypes;
}

struct name_key {
	const char *s;
	size_t n;
};

static int cmp_type(const void *key, const void *row)
{
	const struct name_key *k = key;
	const char *name = ((const struct sk__eptype *)row)->name;
	int c = strncmp(k->s, name, k->n);

	if (c)
		return c;
	return name[k->n] ? -1 : 0; /* the key is a proper prefix: it sorts first */
}

static const struct sk__eptype *find_type(const char *s, size_t n)
{
	struct name_key key = { s, n };

	if (n == 1 && s[0] == '-')
		key = (struct name_key){ "stdio", 5 };
	return bsearch(&key, eptypes, NTYPES, sizeof(eptypes[0]), cmp_type);
}

/* ---- messages --------------------------------------------------------- */

const char *sk__tok(const char *s, size_t n, char *buf, size_t len)
{
	size_t keep = n, i;

	if (len < 8)
		return "";
	if (keep > len - 1)
		keep = len - 4; /* room for "..." and the NUL */
	for (i = 0; i < keep; i++) {
		unsigned char ch = (unsigned char)s[i];

		buf[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (keep < n) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

size_t sk__ppos(const struct sk__pctx *c, const char *p)
{
	size_t k = (size_t)(p - c->view), i = 0;
	const char *raw = c->text + c->raw;

	if (!c->escaped)
		return c->raw + k;
	/* Walk the original bytes: each "\x" pair stands for one view byte. */
	while (k--)
		i += raw[i] == '\\' && raw[i + 1] ? 2 : 1;
	return c->raw + i;
}

int sk__pusage(const struct sk__pctx *c, const char *p, const char *why_fmt, ...)
{
	char what[sizeof(((struct sk_err *)0)->what)];
	char text[sizeof(what) - 12];
	char why[sizeof(((struct sk_err *)0)->why)];
	size_t pos = sk__ppos(c, p);
	va_list ap;

	if (!c->err)
		return SK_EUSAGE;
	snprintf(what, sizeof(what), "%s '%s'", c->noun ? c->noun : "endpoint",
		sk__tok(c->text, strlen(c->text), text, sizeof(text)));
	va_start(ap, why_fmt);
	vsnprintf(why, sizeof(why), why_fmt, ap);
	va_end(ap);
	return sk__usage(c->err, pos > INT32_MAX ? -1 : (int)pos, what, "%s", why);
}

/* ---- tokens ------------------------------------------------------------- */

const char *sk__token_end(const char *p)
{
	while (*p && *p != ',')
		p += p[0] == '\\' && p[1] ? 2 : 1;
	return p;
}

int sk__unescape(const struct sk__pctx *c, const char *s, size_t n, char **out, size_t *outn)
{
	char *v = malloc(n + 1);
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			v[k++] = s[i];
			continue;
		}
		if (i + 1 == n || (s[i + 1] != ',' && s[i + 1] != '\\')) {
			char t[SK__TOKLEN];

			free(v);
			if (i + 1 == n)
				return sk__pusage(c, s + i, "backslash at end of value");
			return sk__pusage(c, s + i, "invalid escape '\\%s' (only '\\,' and '\\\\')",
				sk__tok(s + i + 1, 1, t, sizeof(t)));
		}
		v[k++] = s[++i];
	}
	v[k] = '\0';
	*out = v;
	if (outn)
		*outn = k;
	return 0;
}

static char *dup_view(const char *s, size_t n)
{
	char *v = malloc(n + 1);

	if (v) {
		memcpy(v, s, n);
		v[n] = '\0';
	}
	return v;
}

/* ---- hosts and ports ---------------------------------------------------- */

static bool is_dns_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_';
}

static const char *show_char(char ch, char *buf, size_t len)
{
	unsigned char u = (unsigned char)ch;

	if (u < 0x20 || u >= 0x7f)
		snprintf(buf, len, "\\x%02x", u);
	else
		snprintf(buf, len, "%c", ch);
	return buf;
}

int sk__check_dns_name(const struct sk__pctx *c, const char *s, size_t n)
{
	size_t len = n && s[n - 1] == '.' ? n - 1 : n;
	char t[SK__TOKLEN], ch[8];
	size_t label = 0;

	if (len > SK__MAX_HOSTNAME)
		return sk__pusage(c, s, "host name longer than %d bytes", SK__MAX_HOSTNAME);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' && (i < len || label == 0)) {
			if (label == 0)
				return sk__pusage(c, s + i, "empty label in host name '%s'",
					sk__tok(s, n, t, sizeof(t)));
			label = 0;
			continue;
		}
		if (s[i] == '.')
			continue; /* the trailing dot of a fully qualified name */
		if (!is_dns_char(s[i]))
			return sk__pusage(c, s + i, "invalid character '%s' in host name '%s'",
				show_char(s[i], ch, sizeof(ch)), sk__tok(s, n, t, sizeof(t)));
		if (++label > 63)
			return sk__pusage(c, s + i - 63,
				"label in host name '%s' longer than 63 bytes",
				sk__tok(s, n, t, sizeof(t)));
	}
	if (label == 0 && len == n)
		return sk__pusage(
			c, s + n, "empty label in host name '%s'", sk__tok(s, n, t, sizeof(t)));
	return 0;
}

/* Digits and dots only: the user meant an IPv4 literal, so it must be one
 * (getaddrinfo would otherwise read "1.2.3" as 1.2.0.3). */
static bool looks_ipv4(const char *s, size_t n)
{
	bool digit = false;

	for (size_t i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digit = true;
		else if (s[i] != '.')
			return false;
	}
	return digit;
}

static bool looks_ipv6(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a;
	const char *pct = memchr(s, '%', n);

	if (pct)
		n = (size_t)(pct - s);
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/* Inside brackets: an IPv6 literal, optionally %scope (interface name or index). */
static int parse_v6_literal(const struct sk__pctx *c, const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN], t[SK__TOKLEN];
	const char *pct = memchr(s, '%', n);
	size_t an = pct ? (size_t)(pct - s) : n;
	struct in6_addr a;

	if (an == 0)
		return sk__pusage(c, s, "missing IPv6 address in brackets");
	if (an >= sizeof(buf))
		return sk__pusage(c, s, "invalid IPv6 address '%s'", sk__tok(s, an, t, sizeof(t)));
	memcpy(buf, s, an);
	buf[an] = '\0';
	if (inet_pton(AF_INET6, buf, &a) != 1)
		return sk__pusage(c, s, "invalid IPv6 address '%s'", sk__tok(s, an, t, sizeof(t)));
	if (!pct)
		return 0;
	const char *scope = pct + 1;
	size_t sn = n - an - 1;

	if (sn == 0)
		return sk__pusage(
			c, scope, "missing scope after '%%' in '%s'", sk__tok(s, n, t, sizeof(t)));
	if (sn >= IFNAMSIZ)
		return sk__pusage(c, scope, "scope '%s' longer than %d bytes",
			sk__tok(scope, sn, t, sizeof(t)), IFNAMSIZ - 1);
	for (size_t i = 0; i < sn; i++) {
		unsigned char ch = (unsigned char)scope[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == '/' || ch == ':' || ch == '%')
			return sk__pusage(c, scope + i, "invalid interface name '%s'",
				sk__tok(scope, sn, t, sizeof(t)));
	}
	return 0;
}

/* A valid IPv6 literal (parse_v6_literal said so) as inet_ntop writes it, so that
 * [0:0:0:0:0:0:0:1] and [FE80::A%eth0] print back as [::1] and [fe80::a%eth0]. */
static int canonical_v6(const char *s, size_t n, char **out)
{
	char addr[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN];
	const char *pct = memchr(s, '%', n);
	size_t an = pct ? (size_t)(pct - s) : n, tn;
	struct in6_addr a;

	memcpy(addr, s, an);
	addr[an] = '\0';
	if (inet_pton(AF_INET6, addr, &a) != 1 || !inet_ntop(AF_INET6, &a, text, sizeof(text)))
		return -EINVAL; /* not reached: checked before */
	tn = strlen(text);
	*out = malloc(tn + (n - an) + 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, text, tn);
	memcpy(*out + tn, s + an, n - an); /* the scope as given */
	(*out)[tn + n - an] = '\0';
	return 0;
}

int sk__parse_host(const struct sk__pctx *c, const char *s, size_t n, char **out)
{
	char t[SK__TOKLEN];
	struct in_addr a;
	int rc;

	*out = NULL;
	if (n == 0)
		return sk__pusage(c, s, "missing host");
	if (s[0] == '[') {
		if (n < 2 || s[n - 1] != ']')
			return sk__pusage(
				c, s, "missing ']' after '%s'", sk__tok(s, n, t, sizeof(t)));
		rc = parse_v6_literal(c, s + 1, n - 2);
		if (rc < 0)
			return rc;
		return canonical_v6(s + 1, n - 2, out);
	} else if (memchr(s, ':', n) && looks_ipv6(s, n)) {
		return sk__pusage(
			c, s, "IPv6 address '%s' must be in brackets", sk__tok(s, n, t, sizeof(t)));
	} else if (looks_ipv4(s, n)) {
		char buf[INET_ADDRSTRLEN];

		if (n >= sizeof(buf))
			return sk__pusage(
				c, s, "invalid IPv4 address '%s'", sk__tok(s, n, t, sizeof(t)));
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET, buf, &a) != 1)
			return sk__pusage(
				c, s, "invalid IPv4 address '%s'", sk__tok(s, n, t, sizeof(t)));
	} else {
		rc = sk__check_dns_name(c, s, n);
		if (rc < 0)
			return rc;
	}
	*out = dup_view(s, n);
	return *out ? 0 : -ENOMEM;
}

static bool is_service_char(char ch)
{
	return is_dns_char(ch) || ch == '.' || ch == '+' || ch == '/';
}

/* getservbyname_r needs scratch space; grow it on ERANGE rather than guess. */
int sk__service_port(const char *name, const char *proto, unsigned *port)
{
	struct servent se, *res = NULL;
	size_t size = 1024;
	char *scratch = NULL;
	int rc;

	for (;;) {
		char *grown = realloc(scratch, size);

		if (!grown) {
			free(scratch);
			return -ENOMEM;
		}
		scratch = grown;
		rc = getservbyname_r(name, proto, &se, scratch, size, &res);
		if (rc != ERANGE || size >= 65536)
			break;
		size *= 2;
	}
	if (rc == 0 && res)
		*port = ntohs((uint16_t)res->s_port);
	free(scratch);
	return rc == 0 && res ? 0 : -ENOENT;
}

int sk__parse_port(
	const struct sk__pctx *c, const char *s, size_t n, const char *proto, unsigned *out)
{
	unsigned long long v;
	char t[SK__TOKLEN];
	char *name;
	int rc;

	if (n == 0)
		return sk__pusage(c, s, "missing port");
	rc = sk__parse_uint(s, n, 0, 65535, false, &v);
	if (rc == -ERANGE)
		return sk__pusage(
			c, s, "port '%s' out of range 0-65535", sk__tok(s, n, t, sizeof(t)));
	if (rc == 0) {
		*out = (unsigned)v;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_service_char(s[i]) || n > 64)
			return sk__pusage(c, s, "invalid port '%s'", sk__tok(s, n, t, sizeof(t)));
	name = dup_view(s, n);
	if (!name)
		return -ENOMEM;
	rc = sk__service_port(name, proto, out);
	free(name);
	if (rc == -ENOENT)
		return sk__pusage(c, s, "unknown service '%s'", sk__tok(s, n, t, sizeof(t)));
	return rc;
}

void sk__split_hostport(
	const char *s, size_t n, size_t *host_len, const char **port, size_t *port_len)
{
	const char *colon = NULL;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close && close + 1 < s + n && close[1] == ':')
			colon = close + 1;
	} else {
		colon = memrchr(s, ':', n);
	}
	if (!colon) {
		*host_len = n;
		*port = NULL;
		*port_len = 0;
		return;
	}
	*host_len = (size_t)(colon - s);
	*port = colon + 1;
	*port_len = n - *host_len - 1;
}

const char *sk__ep_proto(const struct sk__eptype *t)
{
	return t && t->socktype == SOCK_DGRAM ? "udp" : "tcp";
}

/* tcp4/tcp6-style types take only literals of their own family. */
static int check_family(const struct sk__pctx *c, const char *s, const char *host)
{
	int family = c->type->family;
	bool v6 = strchr(host, ':') != NULL;
	struct in_addr a;

	if (family == AF_INET && v6)
		return sk__pusage(c, s, "address '%s' is not IPv4 (%s)", host, c->type->name);
	if (family == AF_INET6 && inet_pton(AF_INET, host, &a) == 1)
		return sk__pusage(c, s, "address '%s' is not IPv6 (%s)", host, c->type->name);
	return 0;
}

/*
 * HOST:PORT (client), [HOST:]PORT (listener) or, for a WebSocket client,
 * HOST[:PORT] with a default. An empty listener host is the wildcard.
 */
static int parse_inet(const struct sk__pctx *c, struct sk_endpoint *ep, const char *s, size_t n,
	unsigned default_port)
{
	const char *port;
	size_t hn, pn;
	char t[SK__TOKLEN];
	int rc;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close)
			return sk__pusage(c, s, "missing ']' in '%s'", sk__tok(s, n, t, sizeof(t)));
		if (close + 1 < s + n && close[1] != ':')
			return sk__pusage(c, close + 1, "expected ':' after ']'");
	}
	sk__split_hostport(s, n, &hn, &port, &pn);
	if (n && s[0] != '[' && port && memchr(s, ':', hn)) {
		/* "::1:80" splits as "::1" and "80"; "::1" alone as ":" and "1". */
		size_t vn = looks_ipv6(s, hn) ? hn : n;

		if (looks_ipv6(s, vn))
			return sk__pusage(c, s, "IPv6 address '%s' must be in brackets",
				sk__tok(s, vn, t, sizeof(t)));
	}
	if (!port && ep->type->listener && n && s[0] != '[') {
		/* A lone port: the wildcard host. */
		hn = 0;
		port = s;
		pn = n;
	} else if (!port && !default_port) {
		if (n == 0)
			return sk__pusage(c, s, "missing address");
		return sk__pusage(c, s, "missing port in '%s'", sk__tok(s, n, t, sizeof(t)));
	}
	if (hn || !ep->type->listener) {
		rc = sk__parse_host(c, s, hn, &ep->host);
		if (rc < 0)
			return rc;
		rc = check_family(c, s, ep->host);
		if (rc < 0)
			return rc;
	} else {
		ep->host = strdup("");
		if (!ep->host)
			return -ENOMEM;
	}
	if (!port) {
		ep->port = default_port;
		return 0;
	}
	if (pn == 0)
		return sk__pusage(
			c, port, "missing port after '%s'", sk__tok(s, hn + 1, t, sizeof(t)));
	rc = sk__parse_port(c, port, pn, sk__ep_proto(ep->type), &ep->port);
	if (rc < 0)
		return rc;
	if (ep->port == 0 && !ep->type->listener)
		return sk__pusage(c, port, "port 0 is not valid for a client");
	return 0;
}

/* UNIX path or abstract name: the rest of the address, escapes undone. */
static int parse_path(const struct sk__pctx *c, struct sk_endpoint *ep, const char *s, size_t n)
{
	bool abstract = ep->type->transport == SK_ABSTRACT;
	size_t max = SK__SUN_PATH_MAX - 1;
	size_t len;
	int rc;

	if (n == 0)
		return sk__pusage(c, s, abstract ? "missing name" : "missing path");
	rc = sk__unescape(c, s, n, &ep->path, &len);
	if (rc < 0)
		return rc;
	/* Never truncate: a shortened path names a different socket. */
	if (len > max)
		return sk__pusage(
			c, s, "%s longer than %zu bytes", abstract ? "name" : "path", max);
	return 0;
}

/* WebSocket path: from '/', escapes undone, no spaces or control bytes. */
static int parse_ws_path(const struct sk__pctx *c, struct sk_endpoint *ep, const char *s, size_t n)
{
	char ch[8];
	size_t len;
	int rc;

	if (n == 0) {
		ep->path = strdup("/");
		return ep->path ? 0 : -ENOMEM;
	}
	rc = sk__unescape(c, s, n, &ep->path, &len);
	if (rc < 0)
		return rc;
	for (size_t i = 0, raw = 0; i < len; i++, raw++) {
		unsigned char u = (unsigned char)ep->path[i];

		if (s[raw] == '\\')
			raw++;
		if (u <= 0x20 || u == 0x7f)
			return sk__pusage(c, s + raw, "invalid character '%s' in path",
				show_char((char)u, ch, sizeof(ch)));
	}
	return 0;
}

static int parse_ws(const struct sk__pctx *c, struct sk_endpoint *ep, const char *s, size_t n)
{
	unsigned default_port = ep->type->transport == SK_WSS ? 443 : 80;
	const char *slash;
	int rc;

	if (!ep->type->listener) {
		if (n < 2 || s[0] != '/' || s[1] != '/')
			return sk__pusage(c, s, "expected '//' after '%s:'", ep->type->name);
		s += 2;
		n -= 2;
	} else {
		default_port = 0;
	}
	slash = memchr(s, '/', n);
	size_t an = slash ? (size_t)(slash - s) : n;

	if (an == 0)
		return sk__pusage(c, s, ep->type->listener ? "missing port" : "missing host");
	rc = parse_inet(c, ep, s, an, default_port);
	if (rc < 0)
		return rc;
	return parse_ws_path(c, ep, s + an, n - an);
}

static int parse_vsock(const struct sk__pctx *c, struct sk_endpoint *ep, const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	unsigned long long v;
	const char *port = s;
	size_t pn = n;
	char t[SK__TOKLEN];

	if (!ep->type->listener) {
		if (!colon)
			return sk__pusage(
				c, s, "missing port in '%s'", sk__tok(s, n, t, sizeof(t)));
		if (sk__parse_uint(s, (size_t)(colon - s), 0, UINT32_MAX, false, &v) < 0)
			return sk__pusage(c, s, "invalid vsock CID '%s'",
				sk__tok(s, (size_t)(colon - s), t, sizeof(t)));
		ep->cid = (unsigned)v;
		port = colon + 1;
		pn = n - (size_t)(port - s);
	}
	if (pn == 0)
		return sk__pusage(c, port, "missing port");
	if (sk__parse_uint(port, pn, 0, UINT32_MAX, false, &v) < 0)
		return sk__pusage(
			c, port, "invalid vsock port '%s'", sk__tok(port, pn, t, sizeof(t)));
	ep->port = (unsigned)v;
	return 0;
}

/* exec:/sh: take the rest verbatim; exec's is split now so a bad quote is a usage error. */
static int parse_command(const struct sk__pctx *c, struct sk_endpoint *ep, const char *s)
{
	struct sk_err sub;
	char **argv = NULL;
	int rc;

	if (!*s)
		return sk__pusage(c, s, "missing command");
	if (ep->type->transport == SK_EXEC) {
		rc = sk_argv_split(s, &argv, &sub);
		if (rc == SK_EUSAGE)
			return sk__pusage(c, s + sub.pos, "%s", sub.why);
		if (rc < 0)
			return rc;
		free(argv);
	}
	ep->path = strdup(s);
	return ep->path ? 0 : -ENOMEM;
}

static int parse_address(
	const struct sk__pctx *c, struct sk_endpoint *ep, const char *s, const char **opts)
{
	const char *end = sk__token_end(s);
	size_t n = (size_t)(end - s);

	*opts = end;
	switch (ep->type->transport) {
	case SK_TCP:
	case SK_UDP:
	case SK_TLS:
		return parse_inet(c, ep, s, n, 0);
	case SK_UNIX:
	case SK_ABSTRACT:
		return parse_path(c, ep, s, n);
	case SK_WS:
	case SK_WSS:
		return parse_ws(c, ep, s, n);
	case SK_VSOCK:
		return parse_vsock(c, ep, s, n);
	case SK_EXEC:
	case SK_SH:
		*opts = s + strlen(s);
		return parse_command(c, ep, s);
	case SK_STDIO:
		break;
	}
	return 0;
}

/* TYPE, then ':' and an address; stdio and '-' stand alone. */
static int parse_type(struct sk__pctx *c, const char **rest)
{
	const char *text = c->text;
	size_t n = strcspn(text, ":,");
	char t[SK__TOKLEN];

	if (n == 0)
		return sk__pusage(c, text, "missing endpoint type");
	c->type = find_type(text, n);
	if (!c->type)
		return sk__pusage(
			c, text, "unknown endpoint type '%s'", sk__tok(text, n, t, sizeof(t)));
	if (c->type->transport == SK_STDIO) {
		if (text[n])
			return sk__pusage(c, text + n, "stdio takes no address or options");
		*rest = text + n;
		return 0;
	}
	if (text[n] != ':')
		return sk__pusage(c, text + n, "missing address after '%s:'", c->type->name);
	*rest = text + n + 1;
	return 0;
}

int sk_endpoint_parse(const char *text, struct sk_endpoint **out, struct sk_err *err)
{
	struct sk__pctx c = { .text = text, .err = err, .view = text };
	struct sk_endpoint *ep;
	const char *rest = NULL, *opts = NULL;
	int rc;

	if (!out)
		return sk__fail(err, -EINVAL, "parse endpoint");
	*out = NULL;
	if (!text)
		return sk__fail(err, -EINVAL, "parse endpoint");
	rc = parse_type(&c, &rest);
	if (rc < 0)
		return rc;
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return sk__fail(err, -ENOMEM, "parse endpoint");
	ep->type = c.type;
	sk__epopts_init(&ep->opt, ep->type);
	rc = parse_address(&c, ep, rest, &opts);
	if (rc == 0)
		rc = sk__epopt_parse(&c, ep, opts);
	if (rc < 0) {
		sk_endpoint_free(ep);
		if (rc == -ENOMEM)
			sk__fail(err, rc, "parse endpoint");
		return rc;
	}
	*out = ep;
	return 0;
}

void sk_endpoint_free(struct sk_endpoint *ep)
{
	if (!ep)
		return;
	sk__epopts_free(&ep->opt);
	free(ep->host);
	free(ep->path);
	free(ep);
}

/* ---- canonical text ----------------------------------------------------- */

static void put_host(struct sk__sb *sb, const char *host)
{
	if (strchr(host, ':'))
		sk__sb_printf(sb, "[%s]", host);
	else
		sk__sb_put(sb, host, strlen(host));
}

static void format_address(const struct sk_endpoint *ep, struct sk__sb *sb)
{
	const struct sk__eptype *t = ep->type;

	switch (t->transport) {
	case SK_TCP:
	case SK_UDP:
	case SK_TLS:
		if (!t->listener || ep->host[0]) {
			put_host(sb, ep->host);
			sk__sb_put(sb, ":", 1);
		}
		sk__sb_printf(sb, "%u", ep->port);
		break;
	case SK_WS:
	case SK_WSS:
		if (!t->listener) {
			/* A URL: the default port is left out, the path always shown. */
			sk__sb_put(sb, "//", 2);
			put_host(sb, ep->host);
			if (ep->port != (t->transport == SK_WSS ? 443u : 80u))
				sk__sb_printf(sb, ":%u", ep->port);
			sk__sb_escaped(sb, ep->path, strlen(ep->path));
			break;
		}
		if (ep->host[0]) {
			put_host(sb, ep->host);
			sk__sb_put(sb, ":", 1);
		}
		sk__sb_printf(sb, "%u", ep->port);
		if (strcmp(ep->path, "/") != 0)
			sk__sb_escaped(sb, ep->path, strlen(ep->path));
		break;
	case SK_UNIX:
	case SK_ABSTRACT:
		sk__sb_escaped(sb, ep->path, strlen(ep->path));
		break;
	case SK_VSOCK:
		if (!t->listener)
			sk__sb_printf(sb, "%u:", ep->cid);
		sk__sb_printf(sb, "%u", ep->port);
		break;
	case SK_EXEC:
	case SK_SH:
		sk__sb_put(sb, ep->path, strlen(ep->path)); /* verbatim, commas and all */
		break;
	case SK_STDIO:
		break;
	}
}

size_t sk_endpoint_format(const struct sk_endpoint *ep, bool with_options, char *buf, size_t len)
{
	struct sk__sb sb = { .buf = buf, .len = buf ? len : 0 };

	if (buf && len)
		buf[0] = '\0';
	if (!ep)
		return 0;
	sk__sb_put(&sb, ep->type->name, strlen(ep->type->name));
	if (ep->type->transport == SK_STDIO)
		return sb.n;
	sk__sb_put(&sb, ":", 1);
	format_address(ep, &sb);
	if (with_options)
		sk__epopt_format(ep, &sb);
	return sb.n;
}

size_t sk_endpoint_escape(const char *value, char *buf, size_t len)
{
	struct sk__sb sb = { .buf = buf, .len = buf ? len : 0 };

	if (buf && len)
		buf[0] = '\0';
	if (value)
		sk__sb_escaped(&sb, value, strlen(value));
	return sb.n;
}

size_t sk_endpoint_explain_options(const struct sk_endpoint *ep, char *buf, size_t len)
{
	struct sk__sb sb = { .buf = buf, .len = buf ? len : 0 };

	if (buf && len)
		buf[0] = '\0';
	if (ep)
		sk__epopt_explain(ep, &sb);
	return sb.n;
}

size_t sk_endpoint_options_given(const struct sk_endpoint *ep, const char **names, size_t max)
{
	size_t count = 0;

	if (!ep)
		return 0;
	for (int id = 0; id < SK__O_COUNT && count < max; id++)
		if (ep->opt.set & (1ull << id))
			names[count++] = sk__epopt_name((enum sk__opt_id)id);
	return count;
}

/* ---- getters ------------------------------------------------------------ */

enum sk_transport sk_endpoint_transport(const struct sk_endpoint *ep)
{
	return ep->type->transport;
}

int sk_endpoint_socktype(const struct sk_endpoint *ep)
{
	return ep->type->socktype;
}

bool sk_endpoint_is_listener(const struct sk_endpoint *ep)
{
	return ep->type->listener;
}

int sk_endpoint_family(const struct sk_endpoint *ep)
{
	return ep->type->family;
}

const char *sk_endpoint_host(const struct sk_endpoint *ep)
{
	return ep->host;
}

unsigned sk_endpoint_port(const struct sk_endpoint *ep)
{
	return ep->port;
}

const char *sk_endpoint_path(const struct sk_endpoint *ep)
{
	return ep->path;
}

const char *sk_endpoint_type_name(const struct sk_endpoint *ep)
{
	return ep->type->name;
}

/* ---- exec: argv --------------------------------------------------------- */

struct split {
	const char *s;
	char **argv;  /* NULL on the counting pass */
	char *out;    /* where words are written on the filling pass */
	size_t argc;  /* words */
	size_t bytes; /* word bytes, each with its NUL */
	size_t bad;   /* offset of an unbalanced quote */
	const char *why;
};

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static void emit(struct split *sp, char ch)
{
	if (sp->argv)
		*sp->out++ = ch;
	sp->bytes++;
}

/* One pass over the command line: count words (argv NULL) or write them. */
static int split_pass(struct split *sp)
{
	const char *s = sp->s;
	size_t i = 0;

	for (;;) {
		while (is_blank(s[i]))
			i++;
		if (!s[i])
			return 0;
		if (sp->argv)
			sp->argv[sp->argc] = sp->out;
		sp->argc++;
		while (s[i] && !is_blank(s[i])) {
			size_t open = i;

			if (s[i] == '\'') {
				while (s[++i] && s[i] != '\'')
					emit(sp, s[i]);
			} else if (s[i] == '"') {
				/* As in sh: inside "", a backslash quotes only these. */
				while (s[++i] && s[i] != '"') {
					if (s[i] == '\\' && s[i + 1] && strchr("\\\"$`", s[i + 1]))
						i++;
					emit(sp, s[i]);
				}
			} else {
				if (s[i] == '\\' && s[i + 1])
					i++;
				emit(sp, s[i++]);
				continue;
			}
			if (!s[i]) {
				sp->bad = open;
				sp->why = s[open] == '"' ? "unbalanced double quote"
							 : "unbalanced single quote";
				return SK_EUSAGE;
			}
			i++; /* the closing quote */
		}
		emit(sp, '\0');
	}
}

int sk_argv_split(const char *cmdline, char ***argv_out, struct sk_err *err)
{
	struct split sp = { .s = cmdline };
	char what[sizeof(((struct sk_err *)0)->what)];
	size_t ptrs, size;
	char t[SK__TOKLEN];
	char **argv;

	if (!argv_out || !cmdline)
		return sk__fail(err, -EINVAL, "split command");
	*argv_out = NULL;
	snprintf(what, sizeof(what), "command '%s'",
		sk__tok(cmdline, strlen(cmdline), t, sizeof(t)));
	if (split_pass(&sp) < 0)
		return sk__usage(err, sp.bad > INT32_MAX ? -1 : (int)sp.bad, what, "%s", sp.why);
	if (sp.argc == 0)
		return sk__usage(err, 0, what, "empty command");
	/* One allocation: the pointer array, then the words it points at. */
	if (__builtin_add_overflow(sp.argc, 1, &ptrs) ||
		__builtin_mul_overflow(ptrs, sizeof(char *), &size) ||
		__builtin_add_overflow(size, sp.bytes, &size))
		return sk__fail(err, -ENOMEM, "split %s", what);
	argv = malloc(size);
	if (!argv)
		return sk__fail(err, -ENOMEM, "split %s", what);
	sp = (struct split){ .s = cmdline, .argv = argv, .out = (char *)(argv + ptrs) };
	split_pass(&sp);
	argv[sp.argc] = NULL;
	*argv_out = argv;
	return 0;
}
