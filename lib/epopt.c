/* SPDX-License-Identifier: BSD-2-Clause */
/* epopt.c - endpoint option table: value type, accepted types, phase, applier. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum vtype {
	V_BOOL,      /* bare = yes; =yes|no|1|0|true|false */
	V_UINT,      /* decimal in [min, max] */
	V_MODE,      /* octal permission bits in [min, max] */
	V_STR,       /* non-empty text; max > 0 bounds its length */
	V_IFACE,     /* interface name, at most IFNAMSIZ-1 bytes */
	V_HOSTNAME,  /* a DNS name (sni=) */
	V_KEEPALIVE, /* bare, a boolean word, or IDLE[:INTVL[:CNT]] seconds */
	V_BIND,      /* ADDR[:PORT], [V6][:PORT] or :PORT */
	V_SECONDS,   /* decimal seconds with up to 3 fraction digits -> ms */
	V_ENUM,      /* one of choices[] */
	V_PROXY,     /* SCHEME://[USER[:PASS]@]HOST[:PORT] */
	V_CIDR,      /* ADDR[/PREFIX], stored normalised */
	V_KEYPASS,   /* env:VAR or file:PATH, never the secret itself */
	V_PIN,       /* sha256:HEX, stored lowercase without colons */
	V_ALPN,      /* one protocol name, 1-255 bytes */
};

enum {
	F_LIST = 1,   /* repeatable: each occurrence adds an item */
	F_BARE = 2,   /* a non-boolean that may be given without a value */
	F_STREAM = 4, /* only SOCK_STREAM types */
	F_CONN = 8,   /* not on datagram types */
	F_AGAIN = 16, /* applied again on connected/accepted sockets */
	F_INET = 32,  /* a socket option of IPv4/IPv6 sockets only */
};

struct choice {
	const char *name;
	unsigned value;
};

struct optdef;
typedef int (*apply_fn)(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d);

struct optdef {
	const char *name;
	enum vtype vtype;
	unsigned long long min, max;
	size_t off;       /* the field in struct sk__epopts */
	uint32_t accepts; /* ONE(transport, listener) bits */
	unsigned flags;
	enum sk__phase phase;
	apply_fn apply;     /* NULL: read by the code that owns the phase */
	int level, optname; /* for the generic appliers */
	const struct choice *choices;
};

/* Which (transport, client/listener) pairs accept an option. */
#define CL(t) (1u << ((t)*2))
#define LI(t) (1u << ((t)*2 + 1))
#define BOTH(t) (CL(t) | LI(t))
#define TLS_ALL (BOTH(SK_TLS) | BOTH(SK_WSS))
#define TCP_ALL (BOTH(SK_TCP) | TLS_ALL | BOTH(SK_WS))
#define IP_ALL (TCP_ALL | BOTH(SK_UDP))
#define IP_CLIENTS (CL(SK_TCP) | CL(SK_UDP) | CL(SK_TLS) | CL(SK_WS) | CL(SK_WSS))
#define IP_LISTENERS (LI(SK_TCP) | LI(SK_UDP) | LI(SK_TLS) | LI(SK_WS) | LI(SK_WSS))
#define LOCAL_ALL (BOTH(SK_UNIX) | BOTH(SK_ABSTRACT))

#define FIELD(f) offsetof(struct sk__epopts, f)

static int apply_flag(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d);
static int apply_int(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d);
static int apply_iface(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d);
static int apply_keepalive(
	int fd, int family, const struct sk_endpoint *ep, const struct optdef *d);
static int apply_v6only(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d);
static int apply_ttl(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d);
static int apply_tos(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d);

static const struct choice proxy_protocols[] = { { "v1", 1 }, { "v2", 2 }, { NULL, 0 } };
static const struct choice tls_versions[] = { { "1.2", 0x0303 }, { "1.3", 0x0304 }, { NULL, 0 } };

/* The option table, indexed by enum sk__opt_id and so alphabetical: the
 * canonical text lists options in this order. */
static const struct optdef opts[SK__O_COUNT] = {
	[SK__O_ACCEPT_PROXY] = { .name = "accept-proxy",
		.vtype = V_CIDR,
		.off = FIELD(accept_proxy),
		.flags = F_LIST | F_BARE | F_STREAM,
		.accepts = LI(SK_TCP) | LI(SK_TLS) | LI(SK_WS) | LI(SK_WSS) | LI(SK_UNIX) |
			   LI(SK_ABSTRACT),
		.phase = SK__PHASE_CONNECTED },
	[SK__O_ALPN] = { .name = "alpn",
		.vtype = V_ALPN,
		.off = FIELD(alpn),
		.flags = F_LIST,
		.accepts = TLS_ALL,
		.phase = SK__PHASE_CONNECTED },
	[SK__O_BACKLOG] = { .name = "backlog",
		.vtype = V_UINT,
		.min = 1,
		.max = 65535,
		.off = FIELD(backlog),
		.flags = F_CONN,
		.accepts = LI(SK_TCP) | LI(SK_TLS) | LI(SK_WS) | LI(SK_WSS) | LI(SK_UNIX) |
			   LI(SK_ABSTRACT) | LI(SK_VSOCK),
		.phase = SK__PHASE_POSTBIND },
	[SK__O_BIND] = { .name = "bind",
		.vtype = V_BIND,
		.accepts = IP_CLIENTS,
		.phase = SK__PHASE_PREBIND },
	[SK__O_CA] = { .name = "ca",
		.vtype = V_STR,
		.off = FIELD(ca),
		.accepts = TLS_ALL,
		.phase = SK__PHASE_CONNECTED },
	[SK__O_CERT] = { .name = "cert",
		.vtype = V_STR,
		.off = FIELD(cert),
		.accepts = TLS_ALL,
		.phase = SK__PHASE_CONNECTED },
	[SK__O_CIPHERS] = { .name = "ciphers",
		.vtype = V_STR,
		.off = FIELD(ciphers),
		.accepts = TLS_ALL,
		.phase = SK__PHASE_CONNECTED },
	[SK__O_CIPHERSUITES] = { .name = "ciphersuites",
		.vtype = V_STR,
		.off = FIELD(ciphersuites),
		.accepts = TLS_ALL,
		.phase = SK__PHASE_CONNECTED },
	[SK__O_GROUP] = { .name = "group",
		.vtype = V_STR,
		.max = 256,
		.off = FIELD(group),
		.accepts = LI(SK_UNIX),
		.phase = SK__PHASE_PREBIND },
	[SK__O_IFACE] = { .name = "iface",
		.vtype = V_IFACE,
		.off = FIELD(iface),
		.accepts = IP_ALL,
		.phase = SK__PHASE_PREBIND,
		.apply = apply_iface },
	[SK__O_INSECURE] = { .name = "insecure",
		.vtype = V_BOOL,
		.off = FIELD(insecure),
		.accepts = CL(SK_TLS) | CL(SK_WSS),
		.phase = SK__PHASE_CONNECTED },
	[SK__O_KEEPALIVE] = { .name = "keepalive",
		.vtype = V_KEEPALIVE,
		.off = FIELD(keepalive),
		.flags = F_BARE | F_AGAIN | F_INET,
		.accepts = TCP_ALL,
		.phase = SK__PHASE_PREBIND,
		.apply = apply_keepalive },
	[SK__O_KEY] = { .name = "key",
		.vtype = V_STR,
		.off = FIELD(key),
		.accepts = TLS_ALL,
		.phase = SK__PHASE_CONNECTED },
	[SK__O_KEY_PASS] = { .name = "key-pass",
		.vtype = V_KEYPASS,
		.off = FIELD(key_pass),
		.accepts = TLS_ALL,
		.phase = SK__PHASE_CONNECTED },
	[SK__O_MODE] = { .name = "mode",
		.vtype = V_MODE,
		.max = 0777,
		.off = FIELD(mode),
		.accepts = LI(SK_UNIX),
		.phase = SK__PHASE_PREBIND },
	[SK__O_NODELAY] = { .name = "nodelay",
		.vtype = V_BOOL,
		.off = FIELD(nodelay),
		.flags = F_AGAIN | F_INET,
		.accepts = TCP_ALL,
		.phase = SK__PHASE_PREBIND,
		.apply = apply_flag,
		.level = IPPROTO_TCP,
		.optname = TCP_NODELAY },
	[SK__O_OWNER] = { .name = "owner",
		.vtype = V_STR,
		.max = 256,
		.off = FIELD(owner),
		.accepts = LI(SK_UNIX),
		.phase = SK__PHASE_PREBIND },
	[SK__O_PIN] = { .name = "pin",
		.vtype = V_PIN,
		.off = FIELD(pin),
		.accepts = CL(SK_TLS) | CL(SK_WSS),
		.phase = SK__PHASE_CONNECTED },
	[SK__O_PROXY] = { .name = "proxy",
		.vtype = V_PROXY,
		.off = FIELD(proxy),
		.accepts = CL(SK_TCP) | CL(SK_TLS) | CL(SK_WS) | CL(SK_WSS),
		.phase = SK__PHASE_CONNECTED },
	[SK__O_PROXY_PROTOCOL] = { .name = "proxy-protocol",
		.vtype = V_ENUM,
		.off = FIELD(proxy_protocol),
		.flags = F_STREAM,
		.accepts = CL(SK_TCP) | CL(SK_TLS) | CL(SK_UNIX) | CL(SK_ABSTRACT),
		.phase = SK__PHASE_CONNECTED,
		.choices = proxy_protocols },
	[SK__O_RCVBUF] = { .name = "rcvbuf",
		.vtype = V_UINT,
		.min = 1,
		.max = INT_MAX,
		.off = FIELD(rcvbuf),
		.accepts = IP_ALL | LOCAL_ALL,
		.phase = SK__PHASE_PREBIND,
		.apply = apply_int,
		.level = SOL_SOCKET,
		.optname = SO_RCVBUF },
	[SK__O_REUSEADDR] = { .name = "reuseaddr",
		.vtype = V_BOOL,
		.off = FIELD(reuseaddr),
		.accepts = IP_ALL,
		.phase = SK__PHASE_PREBIND,
		.apply = apply_flag,
		.level = SOL_SOCKET,
		.optname = SO_REUSEADDR },
	[SK__O_REUSEPORT] = { .name = "reuseport",
		.vtype = V_BOOL,
		.off = FIELD(reuseport),
		.accepts = IP_ALL,
		.phase = SK__PHASE_PREBIND,
		.apply = apply_flag,
		.level = SOL_SOCKET,
		.optname = SO_REUSEPORT },
	[SK__O_SNDBUF] = { .name = "sndbuf",
		.vtype = V_UINT,
		.min = 1,
		.max = INT_MAX,
		.off = FIELD(sndbuf),
		.accepts = IP_ALL | LOCAL_ALL,
		.phase = SK__PHASE_PREBIND,
		.apply = apply_int,
		.level = SOL_SOCKET,
		.optname = SO_SNDBUF },
	[SK__O_SNI] = { .name = "sni",
		.vtype = V_HOSTNAME,
		.off = FIELD(sni),
		.accepts = CL(SK_TLS) | CL(SK_WSS),
		.phase = SK__PHASE_CONNECTED },
	[SK__O_TIMEOUT] = { .name = "timeout",
		.vtype = V_SECONDS,
		.min = 1,
		.max = INT_MAX,
		.off = FIELD(timeout_ms),
		.flags = F_CONN,
		.accepts = CL(SK_TCP) | CL(SK_TLS) | CL(SK_WS) | CL(SK_WSS) | CL(SK_UNIX) |
			   CL(SK_ABSTRACT) | CL(SK_VSOCK),
		.phase = SK__PHASE_PREBIND },
	[SK__O_TLS_MAX] = { .name = "tls-max",
		.vtype = V_ENUM,
		.off = FIELD(tls_max),
		.accepts = TLS_ALL,
		.phase = SK__PHASE_CONNECTED,
		.choices = tls_versions },
	[SK__O_TLS_MIN] = { .name = "tls-min",
		.vtype = V_ENUM,
		.off = FIELD(tls_min),
		.accepts = TLS_ALL,
		.phase = SK__PHASE_CONNECTED,
		.choices = tls_versions },
	[SK__O_TOS] = { .name = "tos",
		.vtype = V_UINT,
		.min = 0,
		.max = 255,
		.off = FIELD(tos),
		.flags = F_INET,
		.accepts = IP_ALL,
		.phase = SK__PHASE_PREBIND,
		.apply = apply_tos },
	[SK__O_TTL] = { .name = "ttl",
		.vtype = V_UINT,
		.min = 1,
		.max = 255,
		.off = FIELD(ttl),
		.flags = F_INET,
		.accepts = IP_ALL,
		.phase = SK__PHASE_PREBIND,
		.apply = apply_ttl },
	[SK__O_UNLINK] = { .name = "unlink",
		.vtype = V_BOOL,
		.off = FIELD(unlink),
		.accepts = LI(SK_UNIX),
		.phase = SK__PHASE_PREBIND },
	[SK__O_V6ONLY] = { .name = "v6only",
		.vtype = V_BOOL,
		.off = FIELD(v6only),
		.flags = F_INET,
		.accepts = IP_LISTENERS,
		.phase = SK__PHASE_PREBIND,
		.apply = apply_v6only },
	[SK__O_VERIFY_CLIENT] = { .name = "verify-client",
		.vtype = V_BOOL,
		.off = FIELD(verify_client),
		.accepts = LI(SK_TLS) | LI(SK_WSS),
		.phase = SK__PHASE_CONNECTED },
};

#define BIT(id) (1ull << (id))

const char *sk__epopt_name(enum sk__opt_id id)
{
	return (unsigned)id < SK__O_COUNT ? opts[id].name : NULL;
}

static bool applies(const struct optdef *d, const struct sk__eptype *t)
{
	if (!(d->accepts & (1u << (t->transport * 2 + (t->listener ? 1 : 0)))))
		return false;
	if ((d->flags & F_STREAM) && t->socktype != SOCK_STREAM)
		return false;
	return !(d->flags & F_CONN) || t->socktype != SOCK_DGRAM;
}

bool sk__epopt_applies(enum sk__opt_id id, const struct sk__eptype *t)
{
	return (unsigned)id < SK__O_COUNT && applies(&opts[id], t);
}

static const struct optdef *find_opt(const char *s, size_t n)
{
	for (size_t i = 0; i < SK__O_COUNT; i++)
		if (strncmp(opts[i].name, s, n) == 0 && opts[i].name[n] == '\0')
			return &opts[i];
	return NULL;
}

void sk__epopts_init(struct sk__epopts *o, const struct sk__eptype *t)
{
	memset(o, 0, sizeof(*o));
	/* A restarted server must not wait out TIME_WAIT: on unless reuseaddr=no. */
	o->reuseaddr = t->listener && applies(&opts[SK__O_REUSEADDR], t);
	/* tcp6-listen: and the like bind IPv6 only, so v6only is on unless v6only=no. */
	o->v6only = t->listener && t->family == AF_INET6 && applies(&opts[SK__O_V6ONLY], t);
	o->backlog = 128;
}

static void strlist_free(struct sk__strlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

void sk__epopts_free(struct sk__epopts *o)
{
	char **strs[] = { &o->owner, &o->group, &o->bind_host, &o->iface, &o->proxy, &o->ca,
		&o->cert, &o->key, &o->key_pass, &o->sni, &o->pin, &o->ciphers, &o->ciphersuites };

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	strlist_free(&o->accept_proxy);
	strlist_free(&o->alpn);
}

/* ---- values --------------------------------------------------------------- */

#define PTR(o, d, type) ((type *)((char *)(o) + (d)->off))

static int bool_word(const char *v, bool *out)
{
	static const char *const yes[] = { "1", "yes", "true" }, *const no[] = { "0", "no",
		"false" };

	for (size_t i = 0; i < 3; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_uint_value(const struct sk__pctx *c, const struct optdef *d, const char *v,
	size_t n, bool octal, unsigned *out)
{
	unsigned long long x;
	char t[SK__TOKLEN];
	int rc = sk__parse_uint(v, n, d->min, d->max, octal, &x);

	if (rc == -ERANGE)
		return sk__pusage(c, v,
			octal ? "%s '%s' out of range %llo-0%llo"
			      : "%s '%s' out of range %llu-%llu",
			d->name, sk__tok(v, n, t, sizeof(t)), d->min, d->max);
	if (rc < 0)
		return sk__pusage(c, v, "invalid %s '%s' for '%s'", octal ? "octal mode" : "number",
			sk__tok(v, n, t, sizeof(t)), d->name);
	*out = (unsigned)x;
	return 0;
}

/* keepalive=IDLE[:INTVL[:CNT]]: seconds, seconds, probes, as the kernel bounds them. */
static int parse_keepalive(const struct sk__pctx *c, struct sk__epopts *o, const char *v, size_t n)
{
	static const struct {
		const char *what;
		unsigned max;
	} fields[] = { { "idle", 32767 }, { "interval", 32767 }, { "count", 127 } };
	unsigned *dst[] = { &o->keepalive_idle, &o->keepalive_intvl, &o->keepalive_cnt };
	const char *p = v, *end = v + n;
	unsigned long long x;
	char t[SK__TOKLEN];

	if (bool_word(v, &o->keepalive) == 0)
		return 0;
	o->keepalive = true;
	for (size_t i = 0;; i++) {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		size_t fn = colon ? (size_t)(colon - p) : (size_t)(end - p);
		int rc;

		if (i == 3)
			return sk__pusage(c, p,
				"too many fields in keepalive '%s' "
				"(IDLE[:INTVL[:CNT]])",
				sk__tok(v, n, t, sizeof(t)));
		rc = sk__parse_uint(p, fn, 1, fields[i].max, false, &x);
		if (rc == -ERANGE)
			return sk__pusage(c, p, "keepalive %s '%s' out of range 1-%u",
				fields[i].what, sk__tok(p, fn, t, sizeof(t)), fields[i].max);
		if (rc < 0)
			return sk__pusage(c, p, "invalid keepalive %s '%s' (IDLE[:INTVL[:CNT]])",
				fields[i].what, sk__tok(p, fn, t, sizeof(t)));
		*dst[i] = (unsigned)x;
		if (!colon)
			return 0;
		p = colon + 1;
	}
}

/* bind=ADDR[:PORT], [V6][:PORT] or :PORT (any address). */
static int parse_bind(const struct sk__pctx *c, struct sk_endpoint *ep, const char *v, size_t n)
{
	const char *port;
	size_t hn, pn;
	int rc;

	sk__split_hostport(v, n, &hn, &port, &pn);
	if (v[0] != '[' && port && memchr(v, ':', hn)) {
		char t[64];

		return sk__pusage(c, v, "IPv6 address '%s' in bind must be in brackets",
			sk__tok(v, n, t, sizeof(t)));
	}
	if (hn) {
		rc = sk__parse_host(c, v, hn, &ep->opt.bind_host);
		if (rc < 0)
			return rc;
	}
	if (!port)
		return 0;
	if (pn == 0)
		return sk__pusage(c, port, "missing port after ':' in bind");
	return sk__parse_port(c, port, pn, sk__ep_proto(ep->type), &ep->opt.bind_port);
}

/* timeout=SECS: whole seconds or up to three fraction digits, kept as ms. */
static int parse_seconds(
	const struct sk__pctx *c, const struct optdef *d, const char *v, size_t n, unsigned *out)
{
	const char *dot = memchr(v, '.', n);
	size_t in = dot ? (size_t)(dot - v) : n, fn = dot ? n - in - 1 : 0;
	unsigned long long whole = 0, frac = 0, ms;
	char t[SK__TOKLEN];

	if ((dot && (fn == 0 || fn > 3)) ||
		(in && sk__parse_uint(v, in, 0, ULLONG_MAX, false, &whole) == -EINVAL) ||
		(in == 0 && !dot) || (fn && sk__parse_uint(dot + 1, fn, 0, 999, false, &frac) < 0))
		return sk__pusage(c, v, "invalid %s '%s' (seconds, up to 3 decimals)", d->name,
			sk__tok(v, n, t, sizeof(t)));
	for (size_t i = fn; i < 3; i++)
		frac *= 10;
	if (in && sk__parse_uint(v, in, 0, ULLONG_MAX, false, &whole) < 0)
		whole = ULLONG_MAX;
	if (__builtin_mul_overflow(whole, 1000, &ms) || __builtin_add_overflow(ms, frac, &ms) ||
		ms < d->min || ms > d->max)
		return sk__pusage(c, v, "%s '%s' out of range 0.001-%llu.%03llu", d->name,
			sk__tok(v, n, t, sizeof(t)), d->max / 1000, d->max % 1000);
	*out = (unsigned)ms;
	return 0;
}

static int parse_enum(
	const struct sk__pctx *c, const struct optdef *d, const char *v, size_t n, unsigned *out)
{
	const struct choice *ch;
	char t[SK__TOKLEN];

	for (ch = d->choices; ch->name; ch++) {
		if (strcmp(ch->name, v) == 0) {
			*out = ch->value;
			return 0;
		}
	}
	return sk__pusage(c, v, "invalid value '%s' for '%s' (use %s or %s)",
		sk__tok(v, n, t, sizeof(t)), d->name, d->choices[0].name, d->choices[1].name);
}

/* Normalised "ADDR/PREFIX", so logs and the canonical text agree. */
static int parse_cidr(
	const struct sk__pctx *c, const struct optdef *d, const char *v, size_t n, char **out)
{
	char addr[INET6_ADDRSTRLEN], t[SK__TOKLEN];
	struct sk__cidr cidr;
	size_t bad;
	int rc = sk__cidr_parse(v, n, &cidr, &bad);

	if (rc == -ERANGE)
		return sk__pusage(c, v + bad, "prefix '%s' out of range 0-%u",
			sk__tok(v + bad, n - bad, t, sizeof(t)), cidr.family == AF_INET ? 32 : 128);
	if (rc < 0)
		return sk__pusage(
			c, v, "invalid CIDR '%s' for '%s'", sk__tok(v, n, t, sizeof(t)), d->name);
	inet_ntop(cidr.family, cidr.addr, addr, sizeof(addr));
	if (asprintf(out, "%s/%u", addr, cidr.prefix) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int parse_keypass(const struct sk__pctx *c, const char *v, size_t n)
{
	bool ok = false;

	if (n > 4 && strncmp(v, "env:", 4) == 0) {
		ok = !(v[4] >= '0' && v[4] <= '9');
		for (size_t i = 4; i < n; i++)
			if (!(v[i] == '_' || (v[i] >= 'a' && v[i] <= 'z') ||
				    (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9')))
				ok = false;
	} else if (n > 5 && strncmp(v, "file:", 5) == 0) {
		ok = true;
	}
	/* Never echo the value: it may be the very secret we refuse to take. */
	if (!ok)
		return sk__pusage(c, v, "key-pass must be env:VAR or file:PATH, never the secret");
	return 0;
}

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* pin=sha256:HEX, bare or as `openssl x509 -fingerprint -sha256` prints it
 * (AB:CD:...): a colon may sit only between two bytes. */
static int parse_pin(const struct sk__pctx *c, const char *v, size_t n, char **out)
{
	static const char digits[] = "0123456789abcdef";
	char norm[7 + 64 + 1] = "sha256:";
	size_t k = 0;

	if (n < 7 || strncasecmp(v, "sha256:", 7) != 0)
		return sk__pusage(c, v, "pin must be sha256: and 64 hex digits");
	for (size_t i = 7; i < n; i++) {
		int h = hex_value(v[i]);

		if (v[i] == ':' && k % 2 == 0 && i > 7 && v[i - 1] != ':' && i + 1 < n)
			continue;
		if (h < 0)
			return sk__pusage(c, v + i, "invalid character '%c' in pin",
				v[i] > 0x20 && v[i] < 0x7f ? v[i] : '?');
		if (k == 64)
			return sk__pusage(c, v + i, "pin longer than 64 hex digits");
		norm[7 + k++] = digits[h];
	}
	if (k != 64)
		return sk__pusage(c, v, "pin has %zu hex digits, sha256 needs 64", k);
	norm[7 + 64] = '\0';
	*out = strdup(norm);
	return *out ? 0 : -ENOMEM;
}

static bool is_bad_name_char(char ch)
{
	return (unsigned char)ch <= 0x20 || ch == 0x7f || ch == '/' || ch == ':';
}

/* SO_BINDTODEVICE takes at most IFNAMSIZ-1 bytes: refuse rather than cut. */
static int parse_iface(const struct sk__pctx *c, const char *v, size_t n)
{
	char t[SK__TOKLEN];

	if (n >= IFNAMSIZ)
		return sk__pusage(c, v, "interface name '%s' longer than %d bytes",
			sk__tok(v, n, t, sizeof(t)), IFNAMSIZ - 1);
	for (size_t i = 0; i < n; i++)
		if (is_bad_name_char(v[i]))
			return sk__pusage(c, v + i, "invalid interface name '%s'",
				sk__tok(v, n, t, sizeof(t)));
	if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
		return sk__pusage(c, v, "invalid interface name '%s'", v);
	return 0;
}

static int parse_sni(const struct sk__pctx *c, const char *v, size_t n, char **out)
{
	struct in_addr a;
	char t[SK__TOKLEN];
	int rc = sk__parse_host(c, v, n, out);

	if (rc < 0)
		return rc;
	/* RFC 6066: SNI carries host names only, never literals. */
	if (strchr(*out, ':') || inet_pton(AF_INET, *out, &a) == 1) {
		free(*out);
		*out = NULL;
		return sk__pusage(c, v, "sni '%s' is an address, not a host name",
			sk__tok(v, n, t, sizeof(t)));
	}
	return 0;
}

int sk__proxy_parse(const struct sk__pctx *c, const char *s, size_t n, struct sk__proxy_url *out)
{
	static const struct {
		const char *name;
		enum sk__proxy_scheme scheme;
		unsigned port;
	} schemes[] = {
		/* alphabetical; the default ports are nc's and squid's */
		{ "http", SK__PROXY_HTTP, 3128 },
		{ "socks4a", SK__PROXY_SOCKS4A, 1080 },
		{ "socks5", SK__PROXY_SOCKS5, 1080 },
		{ "socks5h", SK__PROXY_SOCKS5H, 1080 },
	};
	const char *sep = memmem(s, n, "://", 3), *a, *end = s + n, *slash, *at, *port;
	size_t i, hn, pn;
	char t[SK__TOKLEN];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!sep)
		return sk__pusage(c, s, "invalid proxy URL (SCHEME://[USER[:PASS]@]HOST[:PORT])");
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i].name) == (size_t)(sep - s) &&
			strncmp(schemes[i].name, s, (size_t)(sep - s)) == 0)
			break;
	if (i == sizeof(schemes) / sizeof(schemes[0]))
		return sk__pusage(c, s,
			"unsupported proxy scheme '%s' (socks5, socks5h, socks4a, http)",
			sk__tok(s, (size_t)(sep - s), t, sizeof(t)));
	out->scheme = schemes[i].scheme;
	out->port = schemes[i].port;
	a = sep + 3;
	slash = memchr(a, '/', (size_t)(end - a));
	if (slash && slash + 1 != end)
		return sk__pusage(c, slash, "unexpected path in proxy URL");
	if (slash)
		end = slash;
	at = memrchr(a, '@', (size_t)(end - a));
	if (at) {
		const char *colon = memchr(a, ':', (size_t)(at - a));

		out->user = a;
		out->user_len = colon ? (size_t)(colon - a) : (size_t)(at - a);
		if (colon) {
			out->pass = colon + 1;
			out->pass_len = (size_t)(at - colon - 1);
		}
		if (out->user_len == 0)
			return sk__pusage(c, a, "missing user name before '@' in proxy URL");
		a = at + 1;
	}
	sk__split_hostport(a, (size_t)(end - a), &hn, &port, &pn);
	if (hn == 0)
		return sk__pusage(c, a, "missing host in proxy URL");
	if (a[0] != '[' && port && memchr(a, ':', hn)) {
		char tok[64];

		return sk__pusage(c, a, "IPv6 address '%s' in proxy URL must be in brackets",
			sk__tok(a, (size_t)(end - a), tok, sizeof(tok)));
	}
	rc = sk__parse_host(c, a, hn, &out->host);
	if (rc < 0)
		return rc;
	if (port) {
		rc = sk__parse_port(c, port, pn, "tcp", &out->port);
		if (rc == 0 && out->port == 0)
			rc = sk__pusage(c, port, "port 0 is not valid for a proxy");
		if (rc < 0) {
			free(out->host);
			out->host = NULL;
			return rc;
		}
	}
	return 0;
}

static int list_add(struct sk__strlist *l, char *item)
{
	char **items = realloc(l->items, (l->count + 1) * sizeof(*items));

	if (!items) {
		free(item);
		return -ENOMEM;
	}
	items[l->count++] = item;
	l->items = items;
	return 0;
}

static int set_string(char **dst, const char *v)
{
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

/* v is NUL-terminated (an unescaped copy) and non-empty. */
static int parse_value(const struct sk__pctx *c, struct sk_endpoint *ep, const struct optdef *d,
	const char *v, size_t n)
{
	struct sk__epopts *o = &ep->opt;
	struct sk__proxy_url url;
	char t[SK__TOKLEN], *item = NULL;
	int rc;

	switch (d->vtype) {
	case V_BOOL:
		if (bool_word(v, PTR(o, d, bool)) < 0)
			return sk__pusage(c, v, "invalid value '%s' for '%s' (use yes or no)",
				sk__tok(v, n, t, sizeof(t)), d->name);
		return 0;
	case V_UINT:
		return parse_uint_value(c, d, v, n, false, PTR(o, d, unsigned));
	case V_MODE:
		return parse_uint_value(c, d, v, n, true, PTR(o, d, unsigned));
	case V_STR:
		if (d->max && n > d->max)
			return sk__pusage(c, v, "%s '%s' longer than %llu bytes", d->name,
				sk__tok(v, n, t, sizeof(t)), d->max);
		return set_string(PTR(o, d, char *), v);
	case V_IFACE:
		rc = parse_iface(c, v, n);
		return rc < 0 ? rc : set_string(PTR(o, d, char *), v);
	case V_HOSTNAME:
		return parse_sni(c, v, n, PTR(o, d, char *));
	case V_KEEPALIVE:
		return parse_keepalive(c, o, v, n);
	case V_BIND:
		return parse_bind(c, ep, v, n);
	case V_SECONDS:
		return parse_seconds(c, d, v, n, PTR(o, d, unsigned));
	case V_ENUM:
		return parse_enum(c, d, v, n, PTR(o, d, unsigned));
	case V_PROXY:
		rc = sk__proxy_parse(c, v, n, &url);
		if (rc < 0)
			return rc;
		free(url.host);
		return set_string(PTR(o, d, char *), v);
	case V_CIDR:
		rc = parse_cidr(c, d, v, n, &item);
		return rc < 0 ? rc : list_add(PTR(o, d, struct sk__strlist), item);
	case V_KEYPASS:
		rc = parse_keypass(c, v, n);
		return rc < 0 ? rc : set_string(PTR(o, d, char *), v);
	case V_PIN:
		return parse_pin(c, v, n, PTR(o, d, char *));
	case V_ALPN:
		if (n > 255)
			return sk__pusage(c, v, "alpn '%s' longer than 255 bytes",
				sk__tok(v, n, t, sizeof(t)));
		item = strdup(v);
		if (!item)
			return -ENOMEM;
		return list_add(PTR(o, d, struct sk__strlist), item);
	}
	return 0;
}

/* Checks that need no value: known, accepted here, not repeated, valued when it must be. */
static int check_occurrence(const struct sk__pctx *c, const struct sk_endpoint *ep,
	const char *name, size_t nn, const char *eq, const struct optdef **out)
{
	const struct optdef *d = find_opt(name, nn);
	char t[SK__TOKLEN];
	uint64_t bit;

	if (nn == 0)
		return sk__pusage(c, name, "missing option name");
	if (!d)
		return sk__pusage(c, name, "unknown option '%s'", sk__tok(name, nn, t, sizeof(t)));
	if (!applies(d, ep->type))
		return sk__pusage(c, name, "option '%s' does not apply to %s endpoints", d->name,
			ep->type->name);
	bit = BIT(d - opts);
	if ((ep->opt.set & bit) && !(d->flags & F_LIST))
		return sk__pusage(c, name, "option '%s' given twice", d->name);
	if (!eq && d->vtype != V_BOOL && !(d->flags & F_BARE))
		return sk__pusage(c, name, "option '%s' needs a value", d->name);
	if (eq && (eq[1] == ',' || eq[1] == '\0'))
		return sk__pusage(c, eq + 1, "missing value for '%s'", d->name);
	/* accept-proxy: bare means "from anyone", CIDRs mean "only from these". */
	if ((d->flags & F_BARE) && (d->flags & F_LIST) && (ep->opt.set & bit)) {
		bool was_bare = PTR(&ep->opt, d, const struct sk__strlist)->count == 0;

		if (was_bare && !eq)
			return sk__pusage(c, name, "option '%s' given twice", d->name);
		if (was_bare || !eq)
			return sk__pusage(
				c, name, "option '%s' given both bare and with a value", d->name);
	}
	*out = d;
	return 0;
}

int sk__epopt_parse(const struct sk__pctx *c, struct sk_endpoint *ep, const char *p)
{
	const char *tls_max_at = NULL;

	while (*p == ',') {
		const char *name = p + 1, *eq, *end;
		size_t nn = strcspn(name, "=,");
		const struct optdef *d = NULL;
		int rc;

		eq = name[nn] == '=' ? name + nn : NULL;
		end = eq ? sk__token_end(eq + 1) : name + nn;
		rc = check_occurrence(c, ep, name, nn, eq, &d);
		if (rc < 0)
			return rc;
		if (eq) {
			struct sk__pctx vc = *c;
			char *v;
			size_t vn;

			rc = sk__unescape(c, eq + 1, (size_t)(end - eq - 1), &v, &vn);
			if (rc < 0)
				return rc;
			vc.view = v;
			vc.raw = sk__ppos(c, eq + 1);
			vc.escaped = true;
			rc = parse_value(&vc, ep, d, v, vn);
			free(v);
		} else if (d->vtype == V_BOOL) {
			*PTR(&ep->opt, d, bool) = true;
		} else if (d->vtype == V_KEEPALIVE) {
			ep->opt.keepalive = true;
		}
		if (rc < 0)
			return rc;
		ep->opt.set |= BIT(d - opts);
		if (d - opts == SK__O_TLS_MAX)
			tls_max_at = name;
		p = end;
	}
	if ((ep->opt.set & BIT(SK__O_TLS_MIN)) && (ep->opt.set & BIT(SK__O_TLS_MAX)) &&
		ep->opt.tls_min > ep->opt.tls_max)
		return sk__pusage(c, tls_max_at, "tls-max is below tls-min");
	return 0;
}

/* ---- text ------------------------------------------------------------------ */

static void put_str(struct sk__sb *sb, const char *s)
{
	sk__sb_escaped(sb, s, strlen(s));
}

static void put_seconds(struct sk__sb *sb, unsigned ms)
{
	unsigned frac = ms % 1000, digits = 3;

	if (!frac) {
		sk__sb_printf(sb, "%u", ms / 1000);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	sk__sb_printf(sb, "%u.%0*u", ms / 1000, (int)digits, frac);
}

static void put_keepalive(struct sk__sb *sb, const struct sk__epopts *o)
{
	/* "keepalive=1" is the boolean yes: an idle time of one second alone is
	 * written "01", which reads back as that number. */
	if (o->keepalive_idle == 1 && !o->keepalive_intvl && !o->keepalive_cnt) {
		sk__sb_printf(sb, "01");
		return;
	}
	sk__sb_printf(sb, "%u", o->keepalive_idle);
	if (o->keepalive_intvl)
		sk__sb_printf(sb, ":%u", o->keepalive_intvl);
	if (o->keepalive_cnt)
		sk__sb_printf(sb, ":%u", o->keepalive_cnt);
}

static void put_bind(struct sk__sb *sb, const struct sk__epopts *o)
{
	/* The zone of [fe80::1%eth0] may hold ',' or '\\': escape it like any value. */
	if (o->bind_host && strchr(o->bind_host, ':')) {
		sk__sb_printf(sb, "[");
		put_str(sb, o->bind_host);
		sk__sb_printf(sb, "]");
	} else if (o->bind_host)
		put_str(sb, o->bind_host);
	if (o->bind_port || !o->bind_host)
		sk__sb_printf(sb, ":%u", o->bind_port);
}

static void put_choice(struct sk__sb *sb, const struct optdef *d, unsigned value)
{
	for (const struct choice *ch = d->choices; ch->name; ch++)
		if (ch->value == value)
			sk__sb_printf(sb, "%s", ch->name);
}

/* A proxy URL for display: the password, if any, is not shown. */
static void put_proxy_masked(struct sk__sb *sb, const char *url)
{
	struct sk__pctx pc = { .text = url, .view = url };
	struct sk__proxy_url u;

	if (sk__proxy_parse(&pc, url, strlen(url), &u) < 0 || !u.pass) {
		if (u.host)
			free(u.host);
		put_str(sb, url);
		return;
	}
	free(u.host);
	sk__sb_escaped(sb, url, (size_t)(u.pass - url));
	sk__sb_put(sb, "***", 3);
	put_str(sb, u.pass + u.pass_len);
}

/* The value of a given scalar option as the canonical text spells it. */
static void put_value(struct sk__sb *sb, const struct optdef *d, const struct sk__epopts *o)
{
	switch (d->vtype) {
	case V_BOOL:
		sk__sb_printf(sb, "%s", *PTR(o, d, const bool) ? "yes" : "no");
		break;
	case V_UINT:
		sk__sb_printf(sb, "%u", *PTR(o, d, const unsigned));
		break;
	case V_MODE:
		sk__sb_printf(sb, "0%03o", *PTR(o, d, const unsigned));
		break;
	case V_SECONDS:
		put_seconds(sb, *PTR(o, d, const unsigned));
		break;
	case V_ENUM:
		put_choice(sb, d, *PTR(o, d, const unsigned));
		break;
	case V_KEEPALIVE:
		if (!o->keepalive)
			sk__sb_printf(sb, "no");
		else if (!o->keepalive_idle)
			sk__sb_printf(sb, "yes");
		else
			put_keepalive(sb, o);
		break;
	case V_BIND:
		put_bind(sb, o);
		break;
	case V_STR:
	case V_IFACE:
	case V_HOSTNAME:
	case V_PROXY:
	case V_KEYPASS:
	case V_PIN:
		put_str(sb, *PTR(o, d, char *const));
		break;
	case V_CIDR:
	case V_ALPN:
		break; /* lists: one item per occurrence, written by the caller */
	}
}

void sk__epopt_format(const struct sk_endpoint *ep, struct sk__sb *sb)
{
	const struct sk__epopts *o = &ep->opt;

	for (size_t id = 0; id < SK__O_COUNT; id++) {
		const struct optdef *d = &opts[id];

		if (!(o->set & BIT(id)))
			continue;
		if (d->flags & F_LIST) {
			const struct sk__strlist *l = PTR(o, d, const struct sk__strlist);

			if (l->count == 0)
				sk__sb_printf(sb, ",%s", d->name);
			for (size_t i = 0; i < l->count; i++) {
				sk__sb_printf(sb, ",%s=", d->name);
				put_str(sb, l->items[i]);
			}
			continue;
		}
		/* Booleans: the bare name means yes, so only "no" needs a value. */
		if ((d->vtype == V_BOOL && *PTR(o, d, const bool)) ||
			(d->vtype == V_KEEPALIVE && o->keepalive && !o->keepalive_idle)) {
			sk__sb_printf(sb, ",%s", d->name);
			continue;
		}
		sk__sb_printf(sb, ",%s=", d->name);
		put_value(sb, d, o);
	}
}

/* Effective values for --explain; an empty value means nothing is set and
 * the kernel's, OpenSSL's or the system's default applies. */
static void explain_one(struct sk__sb *sb, const struct optdef *d, const struct sk_endpoint *ep)
{
	const struct sk__epopts *o = &ep->opt;
	size_t id = (size_t)(d - opts);
	bool set = o->set & BIT(id);
	struct in_addr a;

	sk__sb_printf(sb, "%s=", d->name);
	if (d->flags & F_LIST) {
		const struct sk__strlist *l = PTR(o, d, const struct sk__strlist);

		if (d->flags & F_BARE && (!set || !l->count))
			sk__sb_printf(sb, "%s", set ? "yes" : "no");
		for (size_t i = 0; i < l->count; i++) {
			sk__sb_printf(sb, "%s", i ? "," : "");
			put_str(sb, l->items[i]);
		}
		return;
	}
	if (set && d->vtype == V_PROXY)
		put_proxy_masked(sb, o->proxy);
	else if (set || d->vtype == V_BOOL || d->vtype == V_KEEPALIVE || id == SK__O_BACKLOG)
		put_value(sb, d, o);
	else if (id == SK__O_TLS_MIN)
		sk__sb_printf(sb, "1.2");
	else if (id == SK__O_TLS_MAX)
		sk__sb_printf(sb, "1.3");
	else if (id == SK__O_SNI && ep->host && !strchr(ep->host, ':') &&
		 inet_pton(AF_INET, ep->host, &a) != 1)
		put_str(sb, ep->host); /* the name connected to, unless a literal */
}

void sk__epopt_explain(const struct sk_endpoint *ep, struct sk__sb *sb)
{
	bool first = true;

	for (size_t id = 0; id < SK__O_COUNT; id++) {
		if (!applies(&opts[id], ep->type))
			continue;
		if (!first)
			sk__sb_put(sb, "\n", 1);
		first = false;
		explain_one(sb, &opts[id], ep);
	}
}

/* ---- appliers ---------------------------------------------------------------- */

static int set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno : 0;
}

static int apply_flag(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d)
{
	return set_int(fd, d->level, d->optname, *PTR(&ep->opt, d, const bool) ? 1 : 0);
}

static int apply_int(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d)
{
	return set_int(fd, d->level, d->optname, (int)*PTR(&ep->opt, d, const unsigned));
}

static int apply_iface(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d)
{
	const char *name = ep->opt.iface;

	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, (socklen_t)strlen(name)) < 0)
		return -errno;
	return 0;
}

static int apply_keepalive(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d)
{
	const struct sk__epopts *o = &ep->opt;
	int rc = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, o->keepalive ? 1 : 0);

	if (rc < 0 || !o->keepalive)
		return rc;
	if (o->keepalive_idle)
		rc = set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, (int)o->keepalive_idle);
	if (rc == 0 && o->keepalive_intvl)
		rc = set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, (int)o->keepalive_intvl);
	if (rc == 0 && o->keepalive_cnt)
		rc = set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, (int)o->keepalive_cnt);
	return rc;
}

static int apply_v6only(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d)
{
	/* An IPv4 socket has no such option; v6only=yes then simply holds. */
	if (family != AF_INET6)
		return 0;
	return set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, ep->opt.v6only ? 1 : 0);
}

static int apply_ttl(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d)
{
	if (family == AF_INET6)
		return set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, (int)ep->opt.ttl);
	return set_int(fd, IPPROTO_IP, IP_TTL, (int)ep->opt.ttl);
}

static int apply_tos(int fd, int family, const struct sk_endpoint *ep, const struct optdef *d)
{
	if (family == AF_INET6)
		return set_int(fd, IPPROTO_IPV6, IPV6_TCLASS, (int)ep->opt.tos);
	return set_int(fd, IPPROTO_IP, IP_TOS, (int)ep->opt.tos);
}

int sk__epopt_apply(
	int fd, int family, const struct sk_endpoint *ep, enum sk__phase phase, struct sk_err *err)
{
	const struct sk__epopts *o = &ep->opt;

	for (size_t id = 0; id < SK__O_COUNT; id++) {
		const struct optdef *d = &opts[id];
		char text[128];
		int rc;

		if (!d->apply || !applies(d, ep->type))
			continue;
		if (d->phase != phase && !(phase == SK__PHASE_CONNECTED && (d->flags & F_AGAIN)))
			continue;
		/* Given options, plus booleans on by default (reuseaddr on listeners). */
		if (!(o->set & BIT(id)) && !(d->vtype == V_BOOL && *PTR(o, d, const bool)))
			continue;
		if ((d->flags & F_INET) && family != AF_INET && family != AF_INET6)
			continue;
		rc = d->apply(fd, family, ep, d);
		if (rc < 0) {
			sk_endpoint_format(ep, false, text, sizeof(text));
			return sk__fail(err, rc, "set %s on %s", d->name, text);
		}
	}
	return 0;
}
