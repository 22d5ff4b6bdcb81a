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

/* ---- sockets --------------------------------------------------------------- */

struct sk_connect_opts {
	int timeout_ms; /* whole attempt incl. Happy Eyeballs; <= 0: the endpoint's
			   timeout= or none */
	int family;     /* AF_UNSPEC, or AF_INET/AF_INET6 to restrict (-4/-6) */
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
/* Traffic observer (hexdump, pcap): data that just moved, never altered. */
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
};
/* After a successful ready: what was negotiated (strings borrowed from s). */
SK_API void sk_tls_session_info(const struct sk_tls_session *s, struct sk_tls_info *info);

#ifdef __cplusplus
}
#endif
#endif /* SOCKIT_H */
