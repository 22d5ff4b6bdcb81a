/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sockit.h - libsockit, the socket library behind the sockit tool.
 *
 * Conventions (see libsockit(3)):
 * - A call that can fail returns a negative code: -errno, or one of the SK_E*
 *   values below the errno range, and fills an optional struct sk_err.
 * - The library never prints, never exits and installs no signal handler.
 * - Every descriptor it creates is close-on-exec. A returned fd belongs to the
 *   caller; a function taking an fd says whether it adopts or borrows it.
 * - Objects are single-threaded; destroy(NULL) is a no-op.
 */
#ifndef SOCKIT_H
#define SOCKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SK_API __attribute__((visibility("default")))

#define SK_VERSION "0.1.0"

/* ---- errors ------------------------------------------------------------ */

/* Not errno values: the kernel's errno range ends at -4095. */
enum {
	SK_EUSAGE = -5001,       /* malformed endpoint/option/value; err->pos is set */
	SK_ERESOLVE = -5002,     /* err->detail holds the EAI_* code */
	SK_ETLS = -5003,         /* err->detail holds the X509_V_ERR_* or alert code */
	SK_EIDLE = -5004,        /* idle timeout expired */
	SK_EUNSUPPORTED = -5005, /* valid, but not served by this caller yet */
	SK_EWAIT = -5006,        /* a listener's wait for its first peer expired */
};

struct sk_err {
	int code;      /* == the value returned */
	int detail;    /* EAI_* for SK_ERESOLVE, else 0 */
	int pos;       /* byte offset of the bad token in parsed text, else -1 */
	char what[160]; /* "connect to tcp:[::1]:8080"; truncation is acceptable */
	char why[256];  /* "Connection refused" */
};

/* Reset *err to "no error" (pos -1, empty strings). NULL-safe. */
SK_API void sk_err_clear(struct sk_err *err);

/* Text for a code (errno or SK_E*) into buf; returns buf. Never NULL. */
SK_API const char *sk_strerror(int code, char *buf, size_t len);

/* ---- endpoints (sockit-endpoint(7)) ------------------------------------ */

enum sk_transport {
	SK_TCP,
	SK_UDP,
	SK_UNIX,
	SK_ABSTRACT,
	SK_TLS,
	SK_WS,
	SK_WSS,
	SK_VSOCK,
	SK_STDIO,
	SK_EXEC,
	SK_SH,
};

struct sk_endpoint; /* opaque: parsed TYPE:ADDRESS[,OPTION[=VALUE]]... */

/*
 * Parse one endpoint. Pure: no I/O, except that a PORT given as a service
 * name is looked up in the services database. On success *out owns a new
 * endpoint (free with sk_endpoint_free) and 0 is returned. On failure
 * returns SK_EUSAGE with err->pos at the offending token, or -ENOMEM.
 */
SK_API int sk_endpoint_parse(const char *text, struct sk_endpoint **out, struct sk_err *err);
SK_API void sk_endpoint_free(struct sk_endpoint *ep);

/*
 * Canonical text (tcp:[::1]:80,nodelay) into buf, snprintf-style: returns the
 * length the full text needs, excluding the NUL. Parsing the result gives an
 * equal endpoint. with_options=false leaves out every option.
 */
SK_API size_t sk_endpoint_format(const struct sk_endpoint *ep, bool with_options, char *buf,
	size_t len);

/*
 * Escape a value for use inside endpoint text (',' and '\' get a backslash),
 * snprintf-style. For composing endpoints from separate arguments.
 */
SK_API size_t sk_endpoint_escape(const char *value, char *buf, size_t len);

SK_API enum sk_transport sk_endpoint_transport(const struct sk_endpoint *ep);
/* SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET; SOCK_STREAM for stdio/exec/sh. */
SK_API int sk_endpoint_socktype(const struct sk_endpoint *ep);
SK_API bool sk_endpoint_is_listener(const struct sk_endpoint *ep);
/* AF_INET, AF_INET6 for tcp4/tcp6-style types, else AF_UNSPEC. */
SK_API int sk_endpoint_family(const struct sk_endpoint *ep);
/* Host as given, without brackets; "" for a listener's wildcard; NULL if none. */
SK_API const char *sk_endpoint_host(const struct sk_endpoint *ep);
/* Port (network endpoints), CID-less vsock port; 0 if none. */
SK_API unsigned sk_endpoint_port(const struct sk_endpoint *ep);
/* UNIX path, abstract name, WebSocket path, or the exec:/sh: command text. */
SK_API const char *sk_endpoint_path(const struct sk_endpoint *ep);
/* The type name as written canonically ("tcp6-listen"). */
SK_API const char *sk_endpoint_type_name(const struct sk_endpoint *ep);

/*
 * Names of the options that were given explicitly and that a caller which
 * cannot honour them should refuse: fills names[] (borrowed) up to max and
 * returns the count. Used for "not supported by COMMAND yet" messages.
 */
SK_API size_t sk_endpoint_options_given(const struct sk_endpoint *ep, const char **names,
	size_t max);

/*
 * Write one "name=value" line per option known for this endpoint's type,
 * with effective values (defaults included), separated by '\n', into buf,
 * snprintf-style. For --explain.
 */
SK_API size_t sk_endpoint_explain_options(const struct sk_endpoint *ep, char *buf, size_t len);

/* Split an exec: command line into argv with shell-like quoting ('..', "..",
 * backslash); no expansion of any kind. On success *argv_out is one
 * allocation (free() it), NULL-terminated. SK_EUSAGE on an unbalanced quote
 * or an empty command, with err->pos set. */
SK_API int sk_argv_split(const char *cmdline, char ***argv_out, struct sk_err *err);

/* ---- addresses ----------------------------------------------------------- */

/* Canonical text of a socket address: "127.0.0.1", "::1", "fe80::1%eth0",
 * a UNIX path, or "@name" for an abstract name. snprintf-style. */
SK_API size_t sk_addr_format(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len);
/* Port of an AF_INET/AF_INET6 address, else 0. */
SK_API unsigned sk_addr_port(const struct sockaddr *sa);

/*
 * Parse a numeric IPv4 or IPv6 literal (IPv6 may carry %scope; no brackets)
 * with port into *ss. Pure. SK_EUSAGE naming text when it is not one.
 */
SK_API int sk_addr_parse(const char *text, unsigned port, struct sockaddr_storage *ss,
	socklen_t *len, struct sk_err *err);

/* ---- the system resolver ------------------------------------------------- */

/*
 * Is name fit to look up: an IPv4 or IPv6 literal, or a DNS name of labels
 * of 1-63 bytes (letters, digits, '-', '_'), 253 bytes in all, with one
 * optional trailing dot? 0, or SK_EUSAGE with err->what "name 'NAME'" and
 * err->pos at the bad byte. Pure.
 */
SK_API int sk_hostname_check(const char *name, struct sk_err *err);

struct sk_resolve_opts {
	int family;      /* AF_UNSPEC, or AF_INET / AF_INET6 only */
	int socktype;    /* 0: every type the resolver offers; SOCK_STREAM, SOCK_DGRAM */
	bool canonical;  /* AI_CANONNAME: fill the list's canonical name */
	bool passive;    /* AI_PASSIVE: a NULL name means the wildcard address */
	bool numeric;    /* AI_NUMERICHOST: literals only, never a lookup */
	bool addrconfig; /* AI_ADDRCONFIG: only families configured on this host */
	bool by_address; /* one entry per address and port (the first), whatever its type */
};

/* One answer: an address with the socket type and protocol to use it with. */
struct sk_addrinfo {
	int family, socktype, protocol;
	socklen_t addrlen;
	struct sockaddr_storage addr; /* port included */
};

struct sk_addrinfo_list {
	char *canonical;           /* NULL unless asked for and given */
	size_t count;              /* >= 1 */
	struct sk_addrinfo *items; /* in the resolver's order, no two equal */
};

/*
 * getaddrinfo(3) for name (may be NULL with opts->passive) and service (a
 * port number or a services(5) name; may be NULL), keeping the resolver's
 * order and dropping repeated answers. opts may be NULL (all defaults).
 * The name is checked first (sk_hostname_check): SK_EUSAGE, no lookup.
 * Blocks while the resolver works. Thread-safe: it shares nothing.
 * On 0, *out is a new list (sk_addrinfo_list_free). On failure SK_ERESOLVE
 * with err->detail the EAI_* code, err->what the name (or "service
 * SERVICE") and err->why the resolver's text; or -errno, -ENOMEM.
 */
SK_API int sk_resolve(const char *name, const char *service, const struct sk_resolve_opts *opts,
	struct sk_addrinfo_list **out, struct sk_err *err);
SK_API void sk_addrinfo_list_free(struct sk_addrinfo_list *list); /* NULL-safe */

enum {
	SK_REVERSE_NAMEREQD = 1,        /* NI_NAMEREQD: no name is a failure */
	SK_REVERSE_NUMERIC_SERVICE = 2, /* NI_NUMERICSERV */
	SK_REVERSE_DGRAM = 4,           /* NI_DGRAM: the service as UDP */
};

/*
 * getnameinfo(3): the name of sa into host (NI_MAXHOST is enough) and, when
 * serv is not NULL, its port's service name into serv; flags from
 * SK_REVERSE_*. Without SK_REVERSE_NAMEREQD an address without a name gives
 * its numeric form. Blocks while the resolver works. 0, or SK_ERESOLVE with
 * err->what the address text and err->why the resolver's text.
 */
SK_API int sk_reverse(const struct sockaddr *sa, socklen_t salen, unsigned flags, char *host,
	size_t hostlen, char *serv, size_t servlen, struct sk_err *err);

/* ---- local interfaces ---------------------------------------------------- */

#define SK_IFNAMSIZ 16 /* IFNAMSIZ of <net/if.h> */

struct sk_iface_addr {
	socklen_t addrlen;
	struct sockaddr_storage addr; /* AF_INET or AF_INET6 */
	unsigned prefix;              /* length of the netmask in bits */
};

struct sk_iface {
	char name[SK_IFNAMSIZ];
	unsigned index;               /* if_nametoindex(3) */
	unsigned flags;               /* IFF_* of <net/if.h> */
	size_t naddrs;
	struct sk_iface_addr *addrs;  /* IPv4 then IPv6, as the kernel lists them */
};

struct sk_iface_list {
	size_t count;
	struct sk_iface *items;       /* by index */
};

/*
 * The local interfaces (getifaddrs(3)), each with its IP addresses; one
 * with none is listed too. On 0, *out is a new list (sk_iface_list_free).
 * -errno on failure.
 */
SK_API int sk_interfaces(struct sk_iface_list **out, struct sk_err *err);
SK_API void sk_iface_list_free(struct sk_iface_list *list); /* NULL-safe */

/* ---- sockets --------------------------------------------------------------- */

struct sk_connect_opts {
	int timeout_ms; /* whole attempt incl. Happy Eyeballs; <= 0: the endpoint's
			   timeout= or none */
	int family;     /* AF_UNSPEC, or AF_INET/AF_INET6 to restrict (-4/-6) */
	/* proxy-protocol=: the client and server the header announces (a relay's
	 * own peer and listening address); NULL: this connection's own ends. */
	const struct sockaddr *announce_src, *announce_dst;
};

/*
 * Resolve and connect a client endpoint (tcp, udp, unix, abstract, vsock).
 * Blocks up to the timeout. Several addresses race per RFC 8305: IPv6
 * first, the next attempt 250 ms after the previous, first success wins.
 * Returns a non-blocking connected fd (caller owns it) or a negative code:
 * SK_ERESOLVE, -ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH, SK_EUNSUPPORTED...
 */
SK_API int sk_connect(const struct sk_endpoint *ep, const struct sk_connect_opts *opts,
	struct sk_err *err);

struct sk_loop;
struct sk_connector; /* opaque: one connect in progress, driven by a loop */

/*
 * Called once with the connected fd (>= 0; the caller owns it) or a
 * negative code with err filled. The connector may be destroyed inside.
 */
typedef void (*sk_connect_cb)(struct sk_connector *c, int fd, const struct sk_err *err,
	void *userdata);

/*
 * Start connecting a client endpoint (tcp, udp, unix, abstract, vsock, and
 * exec:/sh:, whose child gets one end of a socketpair) inside loop, with
 * the same rules as sk_connect. A name is resolved here, which may block;
 * numeric addresses do not. On 0, cb is called later from the loop, never
 * from inside this call; on a negative code (an immediate failure) it is
 * never called. The connector borrows ep.
 */
SK_API int sk_connector_start(struct sk_loop *loop, const struct sk_endpoint *ep,
	const struct sk_connect_opts *opts, sk_connect_cb cb, void *userdata,
	struct sk_connector **out, struct sk_err *err);
/* Cancel (closing any attempt in flight) or free after the callback. NULL-safe. */
SK_API void sk_connector_destroy(struct sk_connector *c);

struct sk_listener; /* opaque: one listening (or bound datagram) socket */

/*
 * Create, bind and (for stream types) listen on a listener endpoint. A
 * lone port means the dual-stack wildcard [::] with IPV6_V6ONLY off,
 * falling back to 0.0.0.0 without IPv6. UNIX listeners get mode/owner/group
 * atomically at bind; the socket file is removed by sk_listener_destroy.
 * family restricts as in sk_connect_opts. The listener borrows ep, which
 * must outlive it.
 */
SK_API int sk_listener_open(const struct sk_endpoint *ep, int family, struct sk_listener **out,
	struct sk_err *err);
/*
 * Adopt a listening (or bound datagram) socket made elsewhere, such as one
 * passed by systemd socket activation; the listener owns fd afterwards and
 * makes it non-blocking and close-on-exec. -EINVAL if fd is a stream
 * socket that is not listening.
 */
SK_API int sk_listener_adopt_fd(int fd, struct sk_listener **out, struct sk_err *err);
/*
 * systemd socket activation: how many sockets were passed to this process
 * (LISTEN_PID must be ours), starting at fd sk_systemd_first_fd(); 0 when
 * none. SK_EUSAGE for malformed variables. unset_env removes LISTEN_* so
 * that children do not see them. Reads (and may change) the environment.
 */
SK_API int sk_systemd_listen_fds(bool unset_env, struct sk_err *err);
SK_API int sk_systemd_first_fd(void);
/* Send a state ("READY=1") to $NOTIFY_SOCKET (a path, or "@name" for an
 * abstract socket); 0 and nothing sent when it is unset. */
SK_API int sk_systemd_notify(const char *state, struct sk_err *err);
/* Close the socket and remove a UNIX socket file this listener created. */
SK_API void sk_listener_destroy(struct sk_listener *l);
/* Stop listening (close the socket, so new peers are refused) but keep the
 * socket file until destroy. sk_listener_fd() is -1 afterwards. */
SK_API void sk_listener_stop(struct sk_listener *l);
/* The listening fd (borrowed; non-blocking). */
SK_API int sk_listener_fd(const struct sk_listener *l);
/* Socket type of the listener (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET). */
SK_API int sk_listener_socktype(const struct sk_listener *l);
/*
 * "tcp-listen:[::]:40123": the canonical endpoint without options, with the
 * port the kernel really bound. snprintf-style.
 */
SK_API size_t sk_listener_format(const struct sk_listener *l, char *buf, size_t len);

struct sk_peer {
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

/*
 * Accept one connection (non-blocking, close-on-exec). Returns the fd or
 * -EAGAIN when none is pending, or another negative code (-EMFILE...).
 * peer may be NULL.
 */
SK_API int sk_listener_accept(struct sk_listener *l, struct sk_peer *peer, struct sk_err *err);

/*
 * Make a private, non-blocking descriptor for a borrowed stdio fd, so that
 * O_NONBLOCK never leaks to processes sharing the open file: pipes, FIFOs
 * and terminals are reopened through /proc/self/fd; sockets and regular
 * files are dup()ed (sockets are then driven with MSG_DONTWAIT). writable
 * selects the open mode. Returns the new fd or a negative code.
 */
SK_API int sk_fd_private(int fd, bool writable, struct sk_err *err);

/* ---- datagrams ------------------------------------------------------------- */

struct sk_dgram {
	char *data;                   /* points into the caller's buffer */
	size_t len;
	bool truncated;               /* longer than the slot it was read into */
	struct sockaddr_storage from;
	socklen_t fromlen;            /* sizeof(sa_family_t) for an unnamed UNIX peer */
	struct timespec when;         /* kernel receive time (CLOCK_REALTIME) */
};

/* Ask the kernel to stamp each received datagram (SO_TIMESTAMPNS). */
SK_API int sk_dgram_timestamps(int fd, struct sk_err *err);
/*
 * Receive up to n (at most 64) waiting datagrams at once (recvmmsg),
 * datagram i into buf + i * each. Does not block: -EAGAIN when none wait.
 * Returns the count; d[0..count) describe them. Without timestamps
 * enabled, `when` is the time of the call.
 */
SK_API int sk_dgram_recv(int fd, struct sk_dgram *d, size_t n, char *buf, size_t each,
	struct sk_err *err);

/*
 * A socket of its own for one peer of a UDP listener (borrowed): bound to the
 * listener's address with SO_REUSEADDR (the listener must have it too, as
 * listeners do by default) and connected to peer, so the kernel delivers
 * that peer's later datagrams to it and its replies leave from the
 * listener's address. Datagrams from other peers that arrived between bind
 * and connect may sit in its queue: read them with recvfrom and treat them
 * as the listener's. Returns the non-blocking fd or a negative code.
 */
SK_API int sk_dgram_session(int listen_fd, const struct sockaddr *peer, socklen_t peerlen,
	struct sk_err *err);

/* ---- the PROXY protocol (proxy-protocol=, accept-proxy) ----------------------- */

/* What a PROXY header says: the original client (src) and the address it
 * reached (dst); local when it carries no addresses (v1 UNKNOWN, v2 LOCAL). */
struct sk_proxy_info {
	bool local;
	struct sockaddr_storage src, dst;
};

/*
 * A PROXY protocol header of version 1 (text) or 2 (binary) for a connection
 * from src to dst. IPv4-mapped addresses are written as IPv4; other or mixed
 * families as v1 "UNKNOWN" or a v2 header without addresses. Returns its length, -ENOSPC when buf is too small (232 bytes
 * always suffice) or -EINVAL for another version.
 */
SK_API ssize_t sk_proxy_header_build(int version, const struct sockaddr *src,
	const struct sockaddr *dst, void *buf, size_t len);
/* Parse a header at the start of buf: its length, 0 when more bytes are
 * needed, -EPROTO when buf does not start with one. */
SK_API ssize_t sk_proxy_header_parse(const void *buf, size_t len, struct sk_proxy_info *out);

struct sk_proxy_reader; /* opaque: reading a PROXY header on an accepted socket */
/* Called once: rc 0 with info, or a negative code (-EPROTO: not a header,
 * -ETIMEDOUT, -ECONNRESET) with err. The reader may be destroyed inside. */
typedef void (*sk_proxy_read_cb)(struct sk_proxy_reader *r, int rc,
	const struct sk_proxy_info *info, const struct sk_err *err, void *userdata);
/* Read the header on fd (borrowed) in loop, never a byte past it, within
 * timeout_ms (<= 0: 5 s). */
SK_API int sk_proxy_reader_start(struct sk_loop *loop, int fd, int timeout_ms,
	sk_proxy_read_cb cb, void *userdata, struct sk_proxy_reader **out, struct sk_err *err);
/* Stop reading (if still going) and free. NULL-safe. */
SK_API void sk_proxy_reader_destroy(struct sk_proxy_reader *r);
/* accept-proxy on a listener: 1 when peer must send a PROXY header, 0 when
 * the listener reads none, -EACCES when accept-proxy=CIDR leaves peer out
 * (refuse it). */
SK_API int sk_endpoint_proxy_sender(const struct sk_endpoint *ep, const struct sockaddr *peer);

/* ---- serving as a proxy (listen --proxy-server) ---------------------------- */

enum sk_proxy_kind { SK_PROXY_ANY, SK_PROXY_SOCKS5, SK_PROXY_HTTP };

/* What a proxy client asked for. */
struct sk_proxy_request {
	char host[256]; /* a name or an address literal, without brackets */
	unsigned port;
	char user[256]; /* the user it authenticated as, or "" */
};

struct sk_proxy_server; /* opaque: one client's request, then our answer */
/* Whether user/password may use the proxy. */
typedef bool (*sk_proxy_auth_fn)(const char *user, const char *password, void *userdata);
/* Called once per stage: with rc 0 and req when the request is read (or the
 * reply sent), else a negative code with err (-EPROTO, -EACCES for bad
 * credentials, -ETIMEDOUT, -ECONNRESET); the refusal has been sent to the
 * client by then. The server may be destroyed inside. */
typedef void (*sk_proxy_request_cb)(struct sk_proxy_server *s, int rc,
	const struct sk_proxy_request *req, const struct sk_err *err, void *userdata);

/*
 * Read a SOCKS5 (kind SK_PROXY_SOCKS5) or HTTP CONNECT (SK_PROXY_HTTP)
 * request, or either (SK_PROXY_ANY, told by the first byte), on an accepted
 * socket (borrowed), within timeout_ms (<= 0: 10 s). With auth, the client
 * must authenticate (SOCKS5 user/password, HTTP Basic). Nothing past the
 * request is read.
 */
SK_API int sk_proxy_server_start(struct sk_loop *loop, int fd, enum sk_proxy_kind kind,
	int timeout_ms, sk_proxy_auth_fn auth, void *auth_userdata, sk_proxy_request_cb cb,
	void *userdata, struct sk_proxy_server **out, struct sk_err *err);
/* Answer the request: rc 0 (the target is connected: SOCKS5 success, HTTP
 * 200) or how reaching it failed (-ECONNREFUSED, -ETIMEDOUT, -EACCES for a
 * denied target...); done is called once the reply is sent. */
SK_API int sk_proxy_server_reply(struct sk_proxy_server *s, int rc, sk_proxy_request_cb done,
	void *userdata);
SK_API void sk_proxy_server_destroy(struct sk_proxy_server *s);

/* ---- WebSocket (ws:, wss:, ws-listen:, wss-listen:) -------------------------- */

struct sk_ws_session; /* opaque: one WebSocket connection driven by a loop */

/*
 * The opening handshake ended: fd >= 0 is the caller's end of a socketpair
 * carrying the payload bytes (non-blocking, close-on-exec; the caller owns
 * it and pumps it like a TCP socket); a negative fd is the failure
 * (-ECONNREFUSED with err->why "server answered 'HTTP/1.1 404 Not Found'",
 * -EPROTO, -ETIMEDOUT...). The session may be destroyed inside.
 */
typedef void (*sk_ws_ready_cb)(struct sk_ws_session *s, int fd, const struct sk_err *err,
	void *userdata);
/* The bridge ended, at most once and only after a successful ready: 0 after
 * both Close frames, else -EPROTO ("connection closed without a Close
 * frame", a protocol violation), -ECONNRESET... Called before the caller's
 * end sees EOF. The session may be destroyed inside. */
typedef void (*sk_ws_done_cb)(struct sk_ws_session *s, int status, const struct sk_err *err,
	void *userdata);

struct sk_ws_session_opts {
	bool server;      /* answer a client's handshake instead of making one */
	const char *host; /* client: the Host header ("example.org", "[::1]:8080") */
	const char *path; /* client: the request path; server: the only path served
			     ("/" or NULL: any); "/" when NULL */
	const char *peer; /* for messages */
	int timeout_ms;   /* handshake bound; <= 0: none */
	sk_ws_ready_cb ready;
	sk_ws_done_cb done; /* may be NULL */
	void *userdata;
};

/*
 * Start a WebSocket over the connected stream fd (a TCP socket, or the
 * plaintext end of a TLS session), which it adopts. After the handshake,
 * bytes the caller writes leave as binary frames (masked from a client),
 * and the payload of the peer's text and binary frames comes out; pings are
 * answered. The caller's EOF sends a Close frame; the peer's Close frame is
 * EOF to the caller. Returns 0, or a negative code (fd closed) with neither
 * callback ever called.
 */
SK_API int sk_ws_session_start(struct sk_loop *loop, int fd, const struct sk_ws_session_opts *opts,
	struct sk_ws_session **out, struct sk_err *err);
/* Close the connection and the session's end of the socketpair. NULL-safe. */
SK_API void sk_ws_session_destroy(struct sk_ws_session *s);

/* ---- captures (--pcap) ------------------------------------------------------ */

struct sk_pcap; /* opaque: a pcapng file being written */

/*
 * One conversation in a capture: the bytes a socket carried, written as
 * made-up IPv4/IPv6 TCP or UDP packets between the real addresses (UNIX and
 * other non-IP sockets get stand-ins on 127.0.0.1/127.0.0.2). Fields are the
 * writer's; set them with sk_pcap_flow_init only.
 */
struct sk_pcap_flow {
	struct sockaddr_storage addr[2]; /* [0] the client, [1] the server */
	uint32_t seq[2];
	bool datagrams, started, ended[2];
};

/* Start a pcapng capture on fd (adopted; closed by destroy): writes the
 * section and interface headers (raw IP, nanosecond timestamps). */
SK_API int sk_pcap_create(int fd, struct sk_pcap **out, struct sk_err *err);
SK_API void sk_pcap_destroy(struct sk_pcap *pc);
/* The first write failure (-errno) since create, else 0; writes stop after one. */
SK_API int sk_pcap_error(const struct sk_pcap *pc);
/* A conversation between client and server; socktype SOCK_DGRAM makes UDP
 * packets, anything else TCP (with a made-up handshake before the first). */
SK_API void sk_pcap_flow_init(struct sk_pcap *pc, struct sk_pcap_flow *f,
	const struct sockaddr *client, socklen_t clientlen, const struct sockaddr *server,
	socklen_t serverlen, int socktype);
/* Bytes one side sent (a datagram, or stream bytes cut into packets); when
 * NULL: now. Returns sk_pcap_error(). */
SK_API int sk_pcap_data(struct sk_pcap *pc, struct sk_pcap_flow *f, bool from_server,
	const void *data, size_t len, const struct timespec *when);
/* One side finished: a FIN, or with reset an RST (TCP flows only). */
SK_API int sk_pcap_end(struct sk_pcap *pc, struct sk_pcap_flow *f, bool from_server, bool reset,
	const struct timespec *when);

/* ---- address lists (--allow/--deny) ---------------------------------------- */

struct sk_acl; /* opaque: ordered allow/deny rules over IPv4/IPv6 blocks */

SK_API int sk_acl_create(struct sk_acl **out, struct sk_err *err);
SK_API void sk_acl_destroy(struct sk_acl *acl);
/*
 * Add "ADDR" or "ADDR/PREFIX" as an allow or a deny rule. SK_EUSAGE for a
 * malformed block (err->pos inside cidr), -ENOMEM.
 */
SK_API int sk_acl_add(struct sk_acl *acl, const char *cidr, bool allow, struct sk_err *err);
/*
 * May this peer in? A matching deny rule refuses; if there are allow
 * rules, one must match. IPv4-mapped IPv6 addresses match IPv4 rules.
 * Peers that are not IP (UNIX) and a NULL list are always let in.
 */
SK_API bool sk_acl_permits(const struct sk_acl *acl, const struct sockaddr *sa);

/* ---- probe targets: port lists and address blocks ------------------------ */

struct sk_port_range {
	unsigned first, last; /* 1 <= first <= last <= 65535 */
};

/*
 * Parse a port list: comma-separated ports ("22"), ranges ("8000-8100") and
 * service names looked up for proto ("tcp" or "udp"; NULL: "tcp") in the
 * services database. On success *out is one allocation of *count ranges in
 * the order given (free() it). SK_EUSAGE with err->pos at the bad item for
 * an empty item, a reversed range, port 0, a port over 65535 or an unknown
 * service; -ENOMEM. Pure but for the services look-up.
 */
SK_API int sk_port_list_parse(const char *text, const char *proto, struct sk_port_range **out,
	size_t *count, struct sk_err *err);

/* An IPv4 or IPv6 address block. */
struct sk_cidr {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network order, host bits zero */
	unsigned prefix;
};

/*
 * Parse "ADDR/PREFIX" or a lone address (a block of one). Host bits are
 * cleared: 10.0.0.5/30 is 10.0.0.4/30. SK_EUSAGE with err->pos for a
 * malformed address or prefix. Pure.
 */
SK_API int sk_cidr_parse(const char *text, struct sk_cidr *out, struct sk_err *err);
/* How many addresses the block holds; UINT64_MAX for 2^64 and more. */
SK_API uint64_t sk_cidr_size(const struct sk_cidr *c);
/* The index-th address of the block (port 0), counting from the network
 * address; -ERANGE past its end. */
SK_API int sk_cidr_nth(const struct sk_cidr *c, uint64_t index, struct sockaddr_storage *ss,
	socklen_t *len);

/* ---- child processes ---------------------------------------------------- */

/*
 * Find the program execvp(3) would run for prog: prog itself when it holds
 * a '/', else the first executable regular file PROG in a directory of
 * $PATH (unset: /bin:/usr/bin). Writes the path into buf (may be NULL with
 * len 0). Returns 0, -ENOENT (nowhere), -EACCES (found, not executable) or
 * -ENAMETOOLONG (buf too small). For reporting a missing program early;
 * sk_proc_spawn searches by itself.
 */
SK_API int sk_proc_find(const char *prog, char *buf, size_t len, struct sk_err *err);

/*
 * Run argv[0] (searched in $PATH as by execvp; no shell is involved: for
 * one, pass { "/bin/sh", "-c", COMMAND, NULL }) in a child process whose
 * stdin is in_fd and whose stdout is out_fd (-1: inherit ours; both may be
 * the same socket). Borrows the fds: the caller still owns and should close
 * its copies. O_NONBLOCK is cleared on them, which the caller shares (one
 * open file description). stderr is inherited; every other descriptor is
 * closed at exec. The child starts with default signal dispositions and an
 * empty signal mask. Its environment is ours with each "NAME=value" of env
 * (NULL-terminated; may be NULL) added or replacing NAME.
 * Blocks until the child has called exec: returns its pid (> 0), or a
 * negative code when fork or exec failed (-ENOENT for a missing program,
 * with err->what "exec PROG"); a child that failed to exec is reaped here.
 * The caller reaps a started child with sk_proc_reap.
 */
SK_API pid_t sk_proc_spawn(int in_fd, int out_fd, char *const *argv, const char *const *env,
	struct sk_err *err);

/*
 * Reap a child that has ended, without blocking: pid > 0 that child, -1 any
 * child of the process. Returns the reaped pid with *wstatus (as waitpid(2)
 * fills it; wstatus may be NULL), 0 when none has ended yet, or a negative
 * code (-ECHILD: no such child).
 */
SK_API pid_t sk_proc_reap(pid_t pid, int *wstatus, struct sk_err *err);

/* ---- event loop --------------------------------------------------------- */

struct sk_loop; /* opaque: epoll + timers + signalfd */

enum { SK_EV_IN = 1, SK_EV_OUT = 2, SK_EV_ERR = 4, SK_EV_HUP = 8 };

typedef void (*sk_fd_cb)(struct sk_loop *loop, int fd, unsigned events, void *userdata);
typedef void (*sk_timer_cb)(struct sk_loop *loop, void *userdata);
typedef void (*sk_signal_cb)(struct sk_loop *loop, int signo, void *userdata);

SK_API int sk_loop_create(struct sk_loop **out, struct sk_err *err);
/* Frees the loop; fds stay open (they belong to whoever added them). */
SK_API void sk_loop_destroy(struct sk_loop *loop);
/*
 * Watch fd for SK_EV_IN/SK_EV_OUT (level-triggered). An fd epoll refuses
 * (regular file, /dev/null) is treated as always ready. The fd is borrowed.
 */
SK_API int sk_loop_add_fd(struct sk_loop *loop, int fd, unsigned events, sk_fd_cb cb,
	void *userdata);
SK_API int sk_loop_mod_fd(struct sk_loop *loop, int fd, unsigned events);
SK_API void sk_loop_del_fd(struct sk_loop *loop, int fd);
/* One-shot timer after ms milliseconds; returns an id > 0 or a negative code. */
SK_API int sk_loop_add_timer(struct sk_loop *loop, int64_t ms, sk_timer_cb cb, void *userdata);
SK_API void sk_loop_cancel_timer(struct sk_loop *loop, int id);
/*
 * Deliver the signals in signos (0-terminated) through a signalfd. They are
 * blocked in the calling thread while the loop exists, and unblocked by
 * sk_loop_destroy.
 */
SK_API int sk_loop_watch_signals(struct sk_loop *loop, const int *signos, sk_signal_cb cb,
	void *userdata, struct sk_err *err);
/* Run until sk_loop_stop(); returns the value passed to it. */
SK_API int sk_loop_run(struct sk_loop *loop);
SK_API void sk_loop_stop(struct sk_loop *loop, int status);
/* Monotonic milliseconds as the loop sees them. */
SK_API int64_t sk_loop_now(const struct sk_loop *loop);

/* ---- the two-way pump ------------------------------------------------------ */

/*
 * One side of a pump: where bytes are read from and written to. For a
 * socket rfd == wfd; for stdio they differ. The pump borrows the fds, and
 * calls shutdown(SHUT_WR) on a socket wfd when the other side hits EOF.
 * With owns_wfd the pump adopts a non-socket wfd instead: it closes it at
 * the other side's EOF (so a reader downstream sees EOF) or at destroy.
 */
struct sk_pump_side {
	int rfd, wfd;       /* -1: this side never reads / never writes */
	bool owns_wfd;
	const char *name;   /* for messages: "stdin", "tcp:[::1]:80" (borrowed) */
};

enum sk_pump_dir { SK_PUMP_A_TO_B = 0, SK_PUMP_B_TO_A = 1 };

struct sk_pump; /* opaque */

/* Called once when both directions are done or one failed; status is 0, or
 * a negative code (-ECONNRESET, -EPIPE, SK_EIDLE...) with err filled. The
 * pump may be destroyed inside the callback. */
typedef void (*sk_pump_done_cb)(struct sk_pump *pump, int status, const struct sk_err *err,
	void *userdata);
/* Traffic observer (hexdump, pcap): data that just moved, never altered;
 * data NULL with len 0 once that direction reached its end (EOF). */
typedef void (*sk_pump_trace_cb)(enum sk_pump_dir dir, const void *data, size_t len,
	void *userdata);

struct sk_pump_opts {
	int idle_timeout_ms;  /* no byte either way for this long: SK_EIDLE; <= 0 off */
	size_t buffer_size;   /* per direction, 0: default (256 KiB) */
	bool no_splice;       /* force the copying path */
	/* A datagram source (UDP, unix-dgram) has no EOF: once the other
	 * direction is done, end this one after this long without a datagram.
	 * <= 0: keep receiving until the idle timeout or destroy. */
	int dgram_linger_ms;
	sk_pump_trace_cb trace; /* disables splice (bytes must be seen) */
	void *trace_userdata;
};

SK_API int sk_pump_create(struct sk_loop *loop, const struct sk_pump_side *a,
	const struct sk_pump_side *b, const struct sk_pump_opts *opts, sk_pump_done_cb done,
	void *userdata, struct sk_pump **out, struct sk_err *err);
SK_API void sk_pump_destroy(struct sk_pump *pump);
/* Bytes moved so far in one direction. */
SK_API uint64_t sk_pump_bytes(const struct sk_pump *pump, enum sk_pump_dir dir);

/* ---- TLS (OpenSSL 3) --------------------------------------------------------- */

struct sk_tls_config; /* opaque: an SSL_CTX built from a TLS endpoint's options */

/*
 * Asked for the pass phrase of an encrypted key when key-pass= is absent:
 * write it into buf (up to len bytes, no NUL needed) and return its length,
 * or a negative value to refuse. path names the key. The library never
 * opens a terminal itself; a caller may prompt on one here.
 */
typedef int (*sk_tls_pass_cb)(char *buf, size_t len, const char *path, void *userdata);

struct sk_tls_config_opts {
	sk_tls_pass_cb passphrase; /* NULL: an encrypted key without key-pass= fails */
	void *userdata;
	/* A client that inspects rather than trusts (probe --tls): the peer is
	 * verified as usual but a failure does not end the handshake; the
	 * result is sk_tls_info.verify. */
	bool report_only;
};

/*
 * Build the TLS configuration of a tls:/tls-listen: endpoint (opts may be
 * NULL). Client: verification against the system store (or ca=) with the
 * host name or IP address checked by OpenSSL, SNI for a name (sni=
 * overrides and is then the name checked), pin=, insecure, cert=/key=.
 * Server: cert=/key= (key defaults to cert's file), verify-client with ca=;
 * without cert= an ephemeral EC P-256 self-signed certificate is made in
 * memory (see sk_tls_config_fingerprint). Both: TLS 1.2 at least,
 * tls-min/tls-max, ciphers/ciphersuites, alpn. SSLKEYLOGFILE, when set,
 * names a file created 0600 (appended, never followed as a symlink) that
 * receives the NSS key log. Reads the files it names and the environment;
 * does not block otherwise. A bad file or value is SK_EUSAGE with what
 * naming the option and value. The first call opens the TLS module
 * (sockit-tls.so, the only part linked with OpenSSL): -ELIBACC when it
 * cannot. ep is not kept. Free with sk_tls_config_free.
 */
SK_API int sk_tls_config_new(const struct sk_endpoint *ep, const struct sk_tls_config_opts *opts,
	struct sk_tls_config **out, struct sk_err *err);
/* NULL-safe; every session made with cfg must be destroyed first. */
SK_API void sk_tls_config_free(struct sk_tls_config *cfg);
/* Server with an ephemeral certificate: its SHA-256 fingerprint as
 * "AB:CD:..." (what `openssl x509 -fingerprint -sha256` prints, and what
 * pin=sha256: accepts); NULL otherwise. Borrowed from cfg. */
SK_API const char *sk_tls_config_fingerprint(const struct sk_tls_config *cfg);
/* true when SSLKEYLOGFILE is active: secrets are being written out. */
SK_API bool sk_tls_config_keylog(const struct sk_tls_config *cfg);
/* true for a client that will not verify its server: insecure (yes) without a pin. */
SK_API bool sk_tls_config_unverified(const struct sk_tls_config *cfg);

struct sk_tls_session; /* opaque: one TLS connection driven by a loop */

/*
 * The handshake ended: fd >= 0 is the caller's end of a socketpair that
 * carries the plaintext (non-blocking, close-on-exec; the caller owns it
 * and can give it to sk_pump_create like a TCP socket); a negative fd is
 * the failure (SK_ETLS with err->why naming the verify error, the alert or
 * the protocol mismatch; err->detail the X509_V_ERR_* code), after which
 * the session does nothing more. No application byte is sent before the
 * peer is verified. The session may be destroyed inside.
 */
typedef void (*sk_tls_ready_cb)(struct sk_tls_session *s, int fd, const struct sk_err *err,
	void *userdata);
/*
 * The bridge ended, called at most once and only after a successful ready:
 * status 0 when both directions closed cleanly (close_notify each way), or
 * -ECONNRESET, -EPROTO ("TLS stream truncated (no close_notify)": TCP ended
 * without close_notify), SK_ETLS (an alert)... Called before the session
 * closes its end of the socketpair, so the caller hears why before its
 * pump sees EOF. The session may be destroyed inside.
 */
typedef void (*sk_tls_done_cb)(struct sk_tls_session *s, int status, const struct sk_err *err,
	void *userdata);

struct sk_tls_session_opts {
	const char *peer;  /* "localhost:443", for messages (copied) */
	int timeout_ms;    /* handshake bound; <= 0: none */
	sk_tls_ready_cb ready;
	sk_tls_done_cb done; /* may be NULL */
	void *userdata;
};

/*
 * Start a TLS session over the connected, non-blocking socket fd, which it
 * adopts (closed by destroy, and on failure here). Client or server as cfg
 * says; cfg is borrowed and must outlive the session. After the handshake
 * the session moves bytes between TLS and the plaintext socketpair with
 * bounded buffers: EOF on the plaintext end sends close_notify and shuts
 * the TCP write side; the peer's close_notify shuts the plaintext end's
 * write side (EOF to the caller). Returns 0, or a negative code with
 * neither callback ever called.
 */
SK_API int sk_tls_session_start(struct sk_loop *loop, const struct sk_tls_config *cfg, int fd,
	const struct sk_tls_session_opts *opts, struct sk_tls_session **out, struct sk_err *err);
/* Close the TCP socket and the session's plaintext end. NULL-safe. */
SK_API void sk_tls_session_destroy(struct sk_tls_session *s);

struct sk_tls_info {
	const char *protocol;     /* "TLSv1.3" */
	const char *cipher;       /* "TLS_AES_256_GCM_SHA384" */
	const char *alpn;         /* "" when none was negotiated */
	const char *peer_subject; /* RFC 2253 text, "" without a peer certificate */
	const char *peer_issuer;  /* the same for its issuer */
	const char *peer_sans;    /* "DNS:a.example,IP:192.0.2.1", "" without any */
	int64_t not_after;        /* the certificate's end, seconds since 1970; 0 unknown */
	const char *verify;       /* "ok", or why it did not verify */
};
/* After a successful ready: what was negotiated (strings borrowed from s). */
SK_API void sk_tls_session_info(const struct sk_tls_session *s, struct sk_tls_info *info);

#ifdef __cplusplus
}
#endif
#endif /* SOCKIT_H */
