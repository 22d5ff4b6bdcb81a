/* SPDX-License-Identifier: BSD-2-Clause */
/* internal.h - struct bodies and sk__ helpers shared by the lib/ sources (not installed). */
#ifndef SOCKIT_INTERNAL_H
#define SOCKIT_INTERNAL_H

#include "sockit.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/types.h>
#include <sys/un.h>

#define SK__MAX_HOSTNAME 253
#define SK__SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path))

/* err.c: fill err (when non-NULL) and return code. */
int sk__fail(struct sk_err *err, int code, const char *what_fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like sk__fail, and set the "why" text instead of deriving it from code. */
int sk__fail_why(struct sk_err *err, int code, int pos, const char *why, const char *what_fmt,
	...) __attribute__((format(printf, 5, 6)));
/* A usage error at byte offset pos of the parsed text. */
int sk__usage(struct sk_err *err, int pos, const char *what, const char *why_fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* One string list value (repeatable options: alpn=, accept-proxy=). */
struct sk__strlist {
	char **items;
	size_t count;
};

/* Option ids; the table in epopt.c is the one source of names and types. */
enum sk__opt_id {
	SK__O_ACCEPT_PROXY,
	SK__O_ALPN,
	SK__O_BACKLOG,
	SK__O_BIND,
	SK__O_CA,
	SK__O_CERT,
	SK__O_CIPHERS,
	SK__O_CIPHERSUITES,
	SK__O_GROUP,
	SK__O_IFACE,
	SK__O_INSECURE,
	SK__O_KEEPALIVE,
	SK__O_KEY,
	SK__O_KEY_PASS,
	SK__O_MODE,
	SK__O_NODELAY,
	SK__O_OWNER,
	SK__O_PIN,
	SK__O_PROXY,
	SK__O_PROXY_PROTOCOL,
	SK__O_RCVBUF,
	SK__O_REUSEADDR,
	SK__O_REUSEPORT,
	SK__O_SNDBUF,
	SK__O_SNI,
	SK__O_TIMEOUT,
	SK__O_TLS_MAX,
	SK__O_TLS_MIN,
	SK__O_TOS,
	SK__O_TTL,
	SK__O_UNLINK,
	SK__O_V6ONLY,
	SK__O_VERIFY_CLIENT,
	SK__O_COUNT
};

/* Option values; a field means something only when its bit is in `set`,
 * except where a default is documented in epopt.c. */
struct sk__epopts {
	uint64_t set; /* 1ull << enum sk__opt_id, for each option given */
	bool reuseaddr, reuseport, nodelay, v6only, unlink, insecure, verify_client;
	unsigned backlog;
	bool keepalive;
	unsigned keepalive_idle, keepalive_intvl, keepalive_cnt; /* 0: kernel default */
	unsigned rcvbuf, sndbuf;
	unsigned ttl, tos;
	unsigned mode;            /* permission bits, <= 07777 */
	char *owner, *group;      /* name or number, resolved when applied */
	char *bind_host;          /* without brackets; NULL: any */
	unsigned bind_port;       /* 0: any */
	char *iface;
	unsigned timeout_ms;
	char *proxy;              /* URL text, validated */
	unsigned proxy_protocol;  /* 1 or 2 */
	struct sk__strlist accept_proxy; /* CIDR texts; empty + bit set: from anyone */
	char *ca, *cert, *key, *key_pass, *sni, *pin, *ciphers, *ciphersuites;
	struct sk__strlist alpn;
	unsigned tls_min, tls_max; /* 0x0303 style: TLS1_2_VERSION... */
};

/* One row of the type table (endpoint.c). */
struct sk__eptype {
	const char *name;        /* "tcp6-listen" */
	enum sk_transport transport;
	int socktype;            /* SOCK_STREAM / SOCK_DGRAM / SOCK_SEQPACKET */
	int family;              /* AF_UNSPEC, AF_INET, AF_INET6 */
	bool listener;
};

struct sk_endpoint {
	const struct sk__eptype *type;
	char *host;       /* no brackets; "" = wildcard listener; may hold %scope */
	unsigned port;
	unsigned cid;     /* vsock */
	char *path;       /* unix path, abstract name, ws path (with '/'), exec/sh text */
	struct sk__epopts opt;
};

/* epopt.c: apply the socket options that belong to a phase. */
enum sk__phase {
	SK__PHASE_PREBIND,   /* after socket(), before bind()/connect() */
	SK__PHASE_POSTBIND,  /* after bind(), before listen() */
	SK__PHASE_CONNECTED, /* on an accepted or connected socket */
};
int sk__epopt_apply(int fd, int family, const struct sk_endpoint *ep, enum sk__phase phase,
	struct sk_err *err);

/* addr.c */
/* Parse a numeric IPv4/IPv6 literal (IPv6 may carry %scope); 0 or SK_EUSAGE. */
int sk__addr_parse_numeric(const char *host, unsigned port, struct sockaddr_storage *ss,
	socklen_t *len);
/* Fill a sockaddr_un for a path (abstract: leading NUL). -ENAMETOOLONG if too long. */
int sk__addr_unix(const char *path, bool abstract, struct sockaddr_un *sun, socklen_t *len);
/* Parse "N" into [min, max]; 0 on success, -EINVAL or -ERANGE. Accepts only
 * decimal digits (base 8 when octal). */
int sk__parse_uint(const char *s, size_t n, unsigned long long min, unsigned long long max,
	bool octal, unsigned long long *out);

/* ---- endpoint parsing: shared by endpoint.c and epopt.c ------------------ */

/* snprintf-style output: writes what fits (always NUL-terminated when
 * len > 0) and counts in n the length the whole text needs. */
struct sk__sb {
	char *buf;
	size_t len;
	size_t n;
};
void sk__sb_put(struct sk__sb *sb, const char *s, size_t n);
void sk__sb_printf(struct sk__sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s with ',' and '\' backslashed, as endpoint text needs them. */
void sk__sb_escaped(struct sk__sb *sb, const char *s, size_t n);

/*
 * The endpoint text under parse, so that a usage error can name the byte
 * offset of its token. Parsers look at a view: the text itself, or an
 * unescaped copy of text[raw...] whose offsets map back through "\," pairs.
 */
struct sk__pctx {
	const char *text;              /* the whole endpoint, NUL-terminated */
	struct sk_err *err;            /* may be NULL */
	const struct sk__eptype *type; /* NULL until the type is known */
	const char *view;              /* text, or an unescaped copy */
	size_t raw;                    /* offset in text where view starts */
	bool escaped;                  /* view is an unescaped copy */
	const char *noun;              /* what text is, for messages; NULL: "endpoint" */
};
/* Offset in c->text of p, a pointer into c->view (p may be its end). */
size_t sk__ppos(const struct sk__pctx *c, const char *p);
/* SK_EUSAGE: what = "endpoint 'TEXT'", pos = sk__ppos(c, p), why from fmt. */
int sk__pusage(const struct sk__pctx *c, const char *p, const char *why_fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A token fit for a one-line message: control bytes shown as '?', cut
 * with "..." when longer than the buffer. Returns buf. */
#define SK__TOKLEN 72
const char *sk__tok(const char *s, size_t n, char *buf, size_t len);
/* Copy s with "\," and "\\" undone into a new NUL-terminated string; any
 * other escape is a usage error at its backslash. s points into c->view. */
int sk__unescape(const struct sk__pctx *c, const char *s, size_t n, char **out, size_t *outn);
/* HOST: a DNS name, an IPv4 literal or a bracketed IPv6 literal with an
 * optional %scope. *out gets a malloc'd copy without brackets. */
int sk__parse_host(const struct sk__pctx *c, const char *s, size_t n, char **out);
/* A DNS name: labels of 1-63 bytes, 253 in all, one optional trailing dot;
 * letters, digits, '-' and '_'. */
int sk__check_dns_name(const struct sk__pctx *c, const char *s, size_t n);
/* PORT: 0-65535, or a service name looked up for proto ("tcp", "udp"). */
int sk__parse_port(const struct sk__pctx *c, const char *s, size_t n, const char *proto,
	unsigned *out);
/* Split [HOST:]PORT-like text at the colon that ends the host ("[v6]" kept
 * whole). *port is NULL when there is no colon; an unbracketed host with a
 * colon is left to sk__parse_host, which names the bracket rule. */
void sk__split_hostport(const char *s, size_t n, size_t *host_len, const char **port,
	size_t *port_len);
/* End of an address or option value: the first comma no backslash protects. */
const char *sk__token_end(const char *p);
/* A service name's port from the services database; 0, -ENOENT or -ENOMEM. */
int sk__service_port(const char *name, const char *proto, unsigned *port);
/* "tcp" for stream types, "udp" for datagram ones: the services database key. */
const char *sk__ep_proto(const struct sk__eptype *t);

/* The type table (endpoint.c), alphabetical; for tests, docs and completion. */
const struct sk__eptype *sk__eptype_table(size_t *count);

/* epopt.c: parse ",name[=value]..." starting at p (',' or NUL) in c->view. */
int sk__epopt_parse(const struct sk__pctx *c, struct sk_endpoint *ep, const char *p);
/* Defaults that hold when an option is not given (reuseaddr on listeners,
 * backlog 128); every other field is zero. */
void sk__epopts_init(struct sk__epopts *o, const struct sk__eptype *t);
void sk__epopts_free(struct sk__epopts *o);
/* Append ",name[=value]" for each given option, in table order. */
void sk__epopt_format(const struct sk_endpoint *ep, struct sk__sb *sb);
/* Append "name=value" lines for every option the type accepts. */
void sk__epopt_explain(const struct sk_endpoint *ep, struct sk__sb *sb);
const char *sk__epopt_name(enum sk__opt_id id);
bool sk__epopt_applies(enum sk__opt_id id, const struct sk__eptype *t);

/* proxy=URL, parsed (epopt.c). host is malloc'd; user/pass point into the
 * parsed text and are not NUL-terminated. */
enum sk__proxy_scheme { SK__PROXY_SOCKS5, SK__PROXY_SOCKS5H, SK__PROXY_SOCKS4A, SK__PROXY_HTTP };
struct sk__proxy_url {
	enum sk__proxy_scheme scheme;
	const char *user, *pass; /* NULL when absent */
	size_t user_len, pass_len;
	char *host;
	unsigned port;
};
int sk__proxy_parse(const struct sk__pctx *c, const char *s, size_t n, struct sk__proxy_url *out);

/* proxy.c: the exchange with a proxy on a connected socket (borrowed), in the
 * loop; cb gets 0 when the tunnel to host:port is open, or a negative code
 * with err filled (the proxy's refusal as -ECONNREFUSED and kin). what
 * (borrowed) names the connection in messages. */
struct sk__proxy_hs;
typedef void (*sk__proxy_cb)(struct sk__proxy_hs *hs, int rc, const struct sk_err *err,
	void *userdata);
int sk__proxy_start(struct sk_loop *loop, int fd, const char *url, const char *host,
	unsigned port, const char *what, sk__proxy_cb cb, void *userdata,
	struct sk__proxy_hs **out, struct sk_err *err);
void sk__proxy_destroy(struct sk__proxy_hs *hs);
/* Take an HTTP head off fd into buf (cap bytes; NUL-terminated at *len) up
 * to its blank line and never past it: 1 once the blank line is in, 0 while
 * more is to come (buf full when *len reaches cap - 1), or a negative code. */
int sk__recv_http_head(int fd, char *buf, size_t cap, size_t *len);
/* ws.c: RFC 4648 base64 of len bytes into out (4 * ceil(len / 3) + 1 bytes,
 * NUL-terminated); returns the length. And SHA-1, for WebSocket keys only. */
size_t sk__base64(const void *data, size_t len, char *out);
void sk__sha1(const void *data, size_t len, unsigned char out[20]);
/* socks5:// (not socks5h://) wants the target's address, resolved here. */
bool sk__proxy_resolves_locally(const char *url);
/* Where the proxy is (*host malloc'd) and "SCHEME://HOST:PORT" for messages
 * (no credentials) into text. */
int sk__proxy_address(const char *url, char **host, unsigned *port, char *text, size_t len);

/* addr.c: an address block "ADDR[/PREFIX]" (accept-proxy=, --allow). */
struct sk__cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;
};
/* 0, -EINVAL (address not numeric; *bad = its offset) or -ERANGE (prefix;
 * *bad = its offset). No prefix means a single address. */
int sk__cidr_parse(const char *s, size_t n, struct sk__cidr *out, size_t *bad);
/* The size of a whole address of sa's family (AF_INET, AF_INET6, AF_UNIX). */
socklen_t sk__sockaddr_len(const struct sockaddr *sa);
/* Does sa fall in the block? An IPv4-mapped IPv6 address matches IPv4 blocks. */
bool sk__cidr_match(const struct sk__cidr *cidr, const struct sockaddr *sa);

/* resolve.c */
int sk__resolve(const char *host, unsigned port, int family, int socktype, bool passive,
	struct addrinfo **out, struct sk_err *err);
/* getaddrinfo hints for the options. */
void sk__resolve_hints(const struct sk_resolve_opts *o, struct addrinfo *hints);
/* Drop answers equal to an earlier one (same address and port and, unless
 * by_address, type and protocol), in place and in order; returns the count kept. */
size_t sk__addrinfo_dedup(struct sk_addrinfo *items, size_t n, bool by_address);
/* Bits set in an AF_INET/AF_INET6 netmask; 0 for NULL or another family. */
unsigned sk__mask_prefix(const struct sockaddr *mask);

/* connect.c: the effective family restriction, the type's (tcp6) or the caller's (-6). */
int sk__want_family(const struct sk_endpoint *ep, int family);

/* fd.c: O_NONBLOCK on; 0 or -1 with errno. */
int sk__set_nonblock(int fd);

/* unix.c */
/* Bind (and listen on) a UNIX or abstract listener; for a path, reports the
 * file it created so that sk__unix_remove can delete exactly that file. */
int sk__unix_listen(const struct sk_endpoint *ep, const char *text, char **created_path,
	dev_t *dev, ino_t *ino, struct sk_err *err);
/* Remove path only while it is still the socket file (dev, ino) we created. */
void sk__unix_remove(const char *path, dev_t dev, ino_t ino);

/* ---- TLS: tls.c is a module (sockit-tls.so), loaded by tls_loader.c on first use ---- */

/* The module's entry points, behind the sk_tls_* exports of the same names. */
struct sk__tls_ops {
	int (*config_new)(const struct sk_endpoint *ep, const struct sk_tls_config_opts *opts,
		struct sk_tls_config **out, struct sk_err *err);
	void (*config_free)(struct sk_tls_config *cfg);
	const char *(*config_fingerprint)(const struct sk_tls_config *cfg);
	bool (*config_keylog)(const struct sk_tls_config *cfg);
	bool (*config_unverified)(const struct sk_tls_config *cfg);
	int (*session_start)(struct sk_loop *loop, const struct sk_tls_config *cfg, int fd,
		const struct sk_tls_session_opts *opts, struct sk_tls_session **out,
		struct sk_err *err);
	void (*session_destroy)(struct sk_tls_session *s);
	void (*session_info)(const struct sk_tls_session *s, struct sk_tls_info *info);
};
/* The first member of struct sk_tls_config and struct sk_tls_session: how the
 * exports reach the module that made the object. */
struct sk__tls_head {
	const struct sk__tls_ops *ops;
	void *module; /* config: the dlopen handle it holds (NULL when built in) */
};
/* Defined by tls.c, exported by the module; a program that links tls.c
 * itself (the unit tests) has it built in. */
#define SK__TLS_OPS_SYMBOL "sk__tls_module_ops"
extern const struct sk__tls_ops sk__tls_module_ops;

#endif
