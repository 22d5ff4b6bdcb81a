/* SPDX-License-Identifier: BSD-2-Clause */
/* cli.h - what the executable's plumbing (src/) shares with the commands (cmd/). */
#ifndef SOCKIT_CLI_H
#define SOCKIT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <sockit.h>

/* Exit statuses of SPEC §4. */
enum cli_exit {
	CLI_OK = 0,
	CLI_EXIT_ABNORMAL = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_RESOLVE = 3,
	CLI_EXIT_CONNECT = 4,
	CLI_EXIT_TLS = 5,
	CLI_EXIT_LOCAL = 6,
	CLI_EXIT_IDLE = 7,
};

/* One option row; `arg` names the argument (NULL: none). Ids below 256 are the short letter. */
struct cli_opt {
	int id;
	const char *name;
	int short_name;
	const char *arg;
	const char *help;
};

/* How stdio meets the socket in connect and single-peer listen (stdio.c, term.c). */
struct cli_stdio_opts {
	bool crlf;        /* --crlf: each LF from stdin is sent as CRLF */
	bool hexdump;     /* --hexdump: both directions dumped on stderr */
	bool interactive; /* --interactive: the terminal even without TTYs */
};

/* Options every command takes (SPEC §3), parsed into the context. */
struct cli_ctx {
	const char *cmd; /* "connect", for messages */
	int verbose;
	bool quiet;
	bool json;
	int family;          /* AF_UNSPEC / AF_INET / AF_INET6 */
	int timeout_ms;      /* -w; 0: none */
	int idle_timeout_ms; /* -i; 0: none */
	struct cli_stdio_opts stdio; /* connect and listen only (cli_stdio_opt) */
	const char *pcap_path; /* --pcap FILE */
	struct sk_pcap *pcap;  /* open while the command runs (cli_pcap_open) */
};

/* Called for each command-specific option; returns 0 or an exit status. */
typedef int (*cli_opt_fn)(struct cli_ctx *ctx, int id, const char *arg, void *state);

struct cli_cmd {
	const char *name;
	const char *summary;
	const char *usage; /* lines after "sockit NAME ", '\n'-separated */
	const struct cli_opt *opts;
	int (*run)(struct cli_ctx *ctx, int argc, char **argv); /* returns the exit status */
	const char *json_help; /* --json's help when it is not the event log (NULL) */
};

/* opts.c */
/*
 * sockit [GLOBAL OPTIONS] COMMAND ...: move COMMAND in front of the common options before it
 * (-v, -q, -4, -6, -w SECS, -i SECS, --json), where the command's parser finds them. Returns
 * the index of COMMAND afterwards (1; argc when there is none), or -1 with *bad the first word
 * that is no common option.
 */
int cli_hoist_globals(int argc, char **argv, const char **bad);
/*
 * Parse common and command options from argv (argv[0] is the command name).
 * On success returns 0 and sets *first_arg to the first positional index;
 * "--help" prints help and returns -1 with *status 0; errors print one line
 * and return -1 with *status 2.
 */
int cli_parse(struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc, char **argv,
	cli_opt_fn on_opt, void *state, int *first_arg, int *status);
void cli_help(const struct cli_cmd *cmd, FILE *out);
/* Parse seconds ("1.5") into milliseconds; -1 when malformed or out of range. */
int cli_parse_seconds(const char *s);
/* Parse a whole number in [min, max]; false when malformed or out of range. */
bool cli_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* report.c */
/* Where a failure arose decides its exit status: a reset while connecting is
 * exit 4, mid-transfer exit 1. */
enum cli_phase {
	CLI_SETUP,    /* local: socket, bind, listen, files */
	CLI_CONNECT,  /* reaching the peer */
	CLI_TRANSFER, /* moving data */
};
/* Print "sockit: CMD: what: why" for a library failure; returns the exit status. */
int cli_fail(const struct cli_ctx *ctx, enum cli_phase phase, int code, const struct sk_err *err);
/* Print "sockit: CMD: MESSAGE" (a usage error); returns CLI_EXIT_USAGE. */
int cli_usage(const struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An event line at verbosity >= level on stderr ("listening on ..."); never with -q. */
void cli_log(const struct cli_ctx *ctx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* out.c */
struct cli_field {
	const char *key;
	const char *str; /* NULL: the number */
	long long num;
};
/* One event: a JSON object on stderr with --json, else the human line with -v. */
void cli_event(const struct cli_ctx *ctx, const char *event, const struct cli_field *fields,
	size_t nfields, const char *human_fmt, ...) __attribute__((format(printf, 5, 6)));
/* Like cli_event, but asked for (--stats): printed without -v, silenced by -q. */
void cli_report(const struct cli_ctx *ctx, const char *event, const struct cli_field *fields,
	size_t nfields, const char *human_fmt, ...) __attribute__((format(printf, 5, 6)));
void cli_json_string(FILE *out, const char *s);

/* stdio.c */
/* An event loop that stops with 128+N on SIGINT, SIGTERM or SIGHUP, and hands
 * SIGCHLD (and SIGHUP, when asked) to the handlers set with cli_loop_on_signal. */
int cli_loop_open(const struct cli_ctx *ctx, struct sk_loop **loop);
typedef void (*cli_signal_fn)(struct sk_loop *loop, void *userdata);
/* Route SIGCHLD or SIGHUP to fn (NULL: SIGCHLD dropped, SIGHUP stops the
 * loop); one handler per signal for the process. */
void cli_loop_on_signal(int signo, cli_signal_fn fn, void *userdata);
/* Private non-blocking copies of stdin and stdout (see sk_fd_private). */
struct cli_stdio {
	int in, out;
};
int cli_stdio_open(const struct cli_ctx *ctx, struct cli_stdio *io);
void cli_stdio_close(struct cli_stdio *io);
/*
 * Move bytes between stdio and a connected socket until both directions
 * are done, a failure, or a signal; returns the exit status. Borrows sock;
 * local_is_client (we connected rather than accepted) is for --pcap.
 */
int cli_pump_stdio(const struct cli_ctx *ctx, struct sk_loop *loop, int sock, const char *name,
	int socktype, bool local_is_client);
/* Option ids of the rows --crlf, --hexdump and --interactive (connect and listen). */
enum { CLI_O_CRLF = 400, CLI_O_HEXDUMP, CLI_O_INTERACTIVE };
/* Handle one of them into ctx->stdio; 0, or -1 when id is not one. */
int cli_stdio_opt(struct cli_ctx *ctx, int id);
/* A usage error (exit status) when one of them is given to a mode that joins
 * stdio by hand (listen -k, UDP); what names that mode. 0 otherwise. */
int cli_stdio_opts_unsupported(const struct cli_ctx *ctx, const char *what);

/* crlf.c: --crlf as a stage between stdin and the pump. */
struct cli_crlf;
/* Convert len bytes into out (room for 2 * len): a bare LF becomes CRLF; cr
 * carries "the last byte was CR" across calls. Returns the bytes written. */
size_t cli_crlf_convert(const char *in, size_t len, char *out, bool *cr);
/* Read in (borrowed) through the loop and offer the converted bytes on *rfd
 * (a pipe, owned by the stage), which reaches EOF after in does. Returns 0 or
 * an exit status (message printed). */
int cli_crlf_open(const struct cli_ctx *ctx, struct sk_loop *loop, int in, struct cli_crlf **out,
	int *rfd);
void cli_crlf_close(struct cli_crlf *c); /* NULL-safe */

/* hexdump.c: --hexdump lines, as `hexdump -C` with a direction marker:
 * "> " for bytes sent (SK_PUMP_A_TO_B, A being stdio), "< " for received. */
struct cli_hexdump {
	FILE *out;          /* NULL: stderr */
	uint64_t offset[2]; /* per direction */
};
/* An sk_pump_trace_cb; userdata is a struct cli_hexdump. */
void cli_hexdump_trace(enum sk_pump_dir dir, const void *data, size_t len, void *userdata);

/* trace.c: --hexdump and --pcap watch a conversation without changing it. */
enum { CLI_O_PCAP = 420 };
/* --pcap FILE: remember the path (exit status on a bad one, else 0). */
int cli_pcap_opt(struct cli_ctx *ctx, const char *path);
/* Create the capture file (mode 0600) when --pcap was given; 0 or an exit status. */
int cli_pcap_open(struct cli_ctx *ctx);
/* Close it; a write failure on the way is reported on stderr. */
void cli_pcap_close(struct cli_ctx *ctx);
/* --hexdump or --pcap: a pump needs a trace (which turns splice off). */
bool cli_trace_wanted(const struct cli_ctx *ctx);
struct cli_trace {
	struct cli_hexdump dump;
	bool hexdump;
	struct sk_pcap *pcap; /* borrowed from the context; NULL: no capture */
	struct sk_pcap_flow flow;
	bool local_is_client;      /* we connected (else we accepted) */
	enum sk_pump_dir outgoing; /* the pump direction that writes into the socket */
};
/* Watch the conversation on sock: local_is_client says who is the client
 * in the capture, outgoing which pump direction sends on sock. */
void cli_trace_start(struct cli_trace *t, const struct cli_ctx *ctx, int sock, bool local_is_client,
	enum sk_pump_dir outgoing);
/* An sk_pump_trace_cb; userdata is a struct cli_trace. */
void cli_trace(enum sk_pump_dir dir, const void *data, size_t len, void *userdata);
/* How the conversation ended (a pump status): a reset is captured as one. */
void cli_trace_end(struct cli_trace *t, int status);

/* term.c: the interactive terminal (readline when built with it). */
/* --interactive, or stdin and stdout both terminals. */
bool cli_term_wanted(const struct cli_ctx *ctx);
/* Lines typed go to sock (borrowed), its data is printed above the prompt,
 * until both are done, a failure, or a signal; returns the exit status. */
int cli_term_run(const struct cli_ctx *ctx, struct sk_loop *loop, int sock, const char *name,
	int socktype, bool local_is_client);

/* endpoint_args.c: the endpoint shorthands connect and listen share. */
enum { CLI_O_ABSTRACT = 300, CLI_O_EXPLAIN, CLI_O_TLS }; /* with 'u' and 'U' */
struct cli_endpoint_args {
	bool udp, tls, explain;
	const char *unix_path, *abstract_name;
	const char *port; /* listen -p */
};
/* Handle a shorthand option; 0, an exit status, or -1 when id is not one. */
int cli_endpoint_opt(struct cli_ctx *ctx, struct cli_endpoint_args *a, int id, const char *arg);
/*
 * Compose and parse the endpoint from shorthands and positionals (ENDPOINT,
 * HOST PORT, or for a listener [HOST] PORT), append `extra` options, and
 * check this command can serve it. Returns 0 or an exit status (usage
 * errors already printed).
 */
int cli_endpoint_build(const struct cli_ctx *ctx, const struct cli_endpoint_args *a,
	bool listener, int npos, char **pos, const char *extra, struct sk_endpoint **out);
/* --explain: the endpoint, its effective options and the calls; exit status. */
int cli_endpoint_explain(const struct cli_ctx *ctx, const struct sk_endpoint *ep);

/* A growing string for composing endpoint text. */
struct cli_text {
	char *text;
	size_t len, cap;
	bool failed;
};
void cli_text_add(struct cli_text *t, const char *s);
void cli_text_addf(struct cli_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a value with ',' and '\\' escaped for endpoint text. */
void cli_text_add_escaped(struct cli_text *t, const char *value);

/* --proxy URL (connect, relay) and nc's -X PROTO -x HOST[:PORT] (connect). */
enum { CLI_O_PROXY = 310 }; /* with 'X' and 'x' */
struct cli_proxy_args {
	const char *url, *nc_proto, *nc_addr;
};
/* Handle one of them; 0, an exit status, or -1 when id is not one. */
int cli_proxy_opt(struct cli_ctx *ctx, struct cli_proxy_args *p, int id, const char *arg);
/* Append ",proxy=URL" to extra when one was given; 0 or an exit status. */
int cli_proxy_option(const struct cli_ctx *ctx, const struct cli_proxy_args *p,
	struct cli_text *extra);

/* child.c: -e/--exec and --sh, a program on the connection (connect and listen). */
enum { CLI_O_SH = 350 }; /* with 'e' */
struct cli_exec {
	const char *text; /* the option's argument (borrowed); NULL: none */
	bool shell;       /* --sh: run text with /bin/sh -c */
};
/*
 * Handle -e (split with shell-like quoting, no shell; an unbalanced quote or
 * a program not on PATH is a usage error) or --sh (/bin/sh -c). Returns 0,
 * an exit status, or -1 when id is not one of them.
 */
int cli_exec_opt(struct cli_ctx *ctx, struct cli_exec *x, int id, const char *arg);

/* The live children of a command; SIGCHLD (from cli_loop_open's loop) reaps them. */
struct cli_children;
/* A child ended: status 0 when it exited 0, else 1. Must not destroy the set. */
typedef void (*cli_child_exit_fn)(void *userdata, int status);
int cli_children_create(const struct cli_ctx *ctx, const struct cli_exec *exec,
	cli_child_exit_fn on_exit, void *userdata, struct cli_children **out);
/* Forget the set; children still running are left alone. NULL-safe. */
void cli_children_destroy(struct cli_children *cs);
/*
 * Run the program on the connected socket fd (adopted: closed here in any
 * case) with the SOCKIT_* environment; peer names it in the -v lines. With
 * told (accept-proxy), SOCKIT_PEER_* and SOCKIT_LOCAL_* are the addresses
 * the PROXY header gave. Returns 0, or the exit status of a failure.
 */
int cli_child_spawn(struct cli_children *cs, int fd, const char *peer,
	const struct sk_proxy_info *told);
/* connect: a child on fd (adopted) in its own loop; returns 0 when it exited 0,
 * 1 when it failed or was killed, 128+N on our signal N. */
int cli_child_run(const struct cli_ctx *ctx, const struct cli_exec *exec, int fd, const char *peer);

/* proxyserve.c: listen --proxy-server, a SOCKS5 or HTTP CONNECT proxy. */
struct cli_proxy_serve;
/* --proxy-server socks5|http; 0 or an exit status. */
int cli_proxy_kind(const struct cli_ctx *ctx, const char *arg, enum sk_proxy_kind *out);
/* Serve sessions in loop; auth_file (--proxy-auth, "user:password" lines) may
 * be NULL; acl (borrowed) is checked against every target address too. on_end
 * is called as each session ends. 0 or an exit status (message printed). */
int cli_proxy_serve_create(const struct cli_ctx *ctx, struct sk_loop *loop,
	enum sk_proxy_kind kind, const char *auth_file, const struct sk_acl *acl,
	cli_child_exit_fn on_end, void *userdata, struct cli_proxy_serve **out);
/* A new client (fd adopted; peer names it in messages). */
void cli_proxy_serve_client(struct cli_proxy_serve *ps, int fd, const char *peer);
void cli_proxy_serve_destroy(struct cli_proxy_serve *ps); /* NULL-safe */

/* accept.c: what listen and relay share about accepting. */
/* Close a socket (-1: nothing); with reset, as an RST (SO_LINGER 0), so the
 * peer cannot take it for a clean end. */
void cli_close(int fd, bool reset);
/* A dual-stack listener's IPv4 peer (::ffff:a.b.c.d) as the IPv4 address it is; any other
 * address copied as it is. Returns the length of out. */
socklen_t cli_addr_unmapped(const struct sockaddr_storage *ss, socklen_t len,
	struct sockaddr_storage *out);
/* "127.0.0.1:5000" (also for a dual-stack listener's IPv4 peer), "[::1]:5000", a UNIX path,
 * or "unnamed UNIX peer". */
void cli_peer_text(const struct sk_peer *peer, char *buf, size_t len);
struct cli_backoff {
	bool paused;  /* accepting waits for the resume timer */
	bool episode; /* out of fds since the last accept: logged once */
};
/* For an accept failure: true when it is a resource shortage, now paused
 * (resume is called after a short wait; clear b->paused there). */
bool cli_accept_backoff(const struct cli_ctx *ctx, struct cli_backoff *b, struct sk_loop *loop,
	int code, const struct sk_err *err, sk_timer_cb resume, void *userdata);
/* An accept succeeded: ends an episode ("accepting again on NAME" with -v). */
void cli_accept_ok(const struct cli_ctx *ctx, struct cli_backoff *b, const char *name);

/* stdio.c: how a pump ended, for a command that runs one until it does. */
struct cli_pump_result {
	bool done;
	int status;
	struct sk_err err;
	struct sk_loop *loop; /* stopped when the pump is done */
};
/* An sk_pump_done_cb; userdata is a struct cli_pump_result. */
void cli_pump_done(struct sk_pump *pump, int status, const struct sk_err *err, void *userdata);

/* tls_args.c: the TLS flags of connect and listen, and TLS peers in a loop. */
enum {
	CLI_O_ALPN = 500,
	CLI_O_CA,
	CLI_O_CERT,
	CLI_O_CIPHERS,
	CLI_O_CIPHERSUITES,
	CLI_O_INSECURE,
	CLI_O_KEY,
	CLI_O_KEY_PASS,
	CLI_O_PIN,
	CLI_O_SNI,
	CLI_O_TLS_MAX,
	CLI_O_TLS_MIN,
	CLI_O_VERIFY_CLIENT,
};
/* The rows, one definition each; commands place them in their alphabetical tables. */
#define CLI_TLS_ROW_ALPN { CLI_O_ALPN, "alpn", 0, "LIST", "TLS: ALPN protocols, comma-separated, in order of preference" }
#define CLI_TLS_ROW_CA { CLI_O_CA, "ca", 0, "FILE|DIR", "TLS: trust these CA certificates (PEM) instead of the system store" }
#define CLI_TLS_ROW_CERT { CLI_O_CERT, "cert", 0, "FILE", "TLS: our certificate chain (PEM)" }
#define CLI_TLS_ROW_CIPHERS { CLI_O_CIPHERS, "ciphers", 0, "LIST", "TLS 1.2: OpenSSL cipher list" }
#define CLI_TLS_ROW_CIPHERSUITES { CLI_O_CIPHERSUITES, "ciphersuites", 0, "LIST", "TLS 1.3: OpenSSL cipher suites" }
#define CLI_TLS_ROW_INSECURE { CLI_O_INSECURE, "insecure", 0, NULL, "TLS: do not verify the server's certificate (warned about)" }
#define CLI_TLS_ROW_KEY { CLI_O_KEY, "key", 0, "FILE", "TLS: the private key of --cert (PEM; default: the --cert file)" }
#define CLI_TLS_ROW_KEY_PASS { CLI_O_KEY_PASS, "key-pass", 0, "env:VAR|file:PATH", "TLS: where the pass phrase of --key is (never the secret)" }
#define CLI_TLS_ROW_PIN { CLI_O_PIN, "pin", 0, "sha256:HEX", "TLS: trust exactly the certificate with this SHA-256 fingerprint" }
#define CLI_TLS_ROW_SNI { CLI_O_SNI, "sni", 0, "NAME", "TLS: send NAME as SNI and verify the certificate for NAME" }
#define CLI_TLS_ROW_TLS_MAX { CLI_O_TLS_MAX, "tls-max", 0, "1.2|1.3", "TLS: highest protocol version" }
#define CLI_TLS_ROW_TLS_MIN { CLI_O_TLS_MIN, "tls-min", 0, "1.2|1.3", "TLS: lowest protocol version (default 1.2)" }
#define CLI_TLS_ROW_VERIFY_CLIENT { CLI_O_VERIFY_CLIENT, "verify-client", 0, NULL, "TLS: require a client certificate signed by --ca" }

struct cli_tls_args {
	const char *value[CLI_O_VERIFY_CLIENT - CLI_O_ALPN + 1]; /* by id - CLI_O_ALPN */
	const char *first; /* the first TLS flag given, for messages ("--ca") */
};
/* Handle a TLS flag; 0, or -1 when id is not one. */
int cli_tls_opt(struct cli_tls_args *a, int id, const char *arg);
/* Check the TLS flags of a command that builds its TLS endpoints later (probe --tls): exit
 * status 2 naming a bad flag, or a file that does not load; the --insecure warning. */
int cli_tls_args_check(const struct cli_ctx *ctx, const struct cli_tls_args *a);
/* Append the given TLS flags as endpoint options (",ca=...,alpn=h2"). */
void cli_tls_args_append(const struct cli_tls_args *a, struct cli_text *extra);
/* cli_endpoint_build, then the TLS flags added as the endpoint's options. */
int cli_endpoint_build_tls(const struct cli_ctx *ctx, const struct cli_endpoint_args *a,
	const struct cli_tls_args *tls, bool listener, int npos, char **pos, const char *extra,
	struct sk_endpoint **out);
/* The one warning for a client that will not verify its server (--insecure without --pin). */
void cli_tls_warn_unverified(const struct cli_ctx *ctx, const struct sk_tls_config *cfg);
/* The endpoint's TLS configuration (NULL for other endpoints), with the
 * warnings and the ephemeral fingerprint on stderr. Returns an exit status. */
int cli_tls_config(const struct cli_ctx *ctx, const struct sk_endpoint *ep,
	struct sk_tls_config **out);

/* "HOST:PORT" ("[::1]:443") of a client endpoint, for TLS messages. */
void cli_tls_peer_name(const struct sk_endpoint *ep, char *buf, size_t len);

/* A TLS session owned by a command until released, then by itself. */
struct cli_tls_peer;
/* The handshake ended: fd >= 0 is the plaintext (owned by the callee), or
 * the failure code with err. */
typedef void (*cli_tls_ready_fn)(struct cli_tls_peer *p, int fd, const struct sk_err *err,
	void *userdata);
/* The stream ended (0, or -EPROTO for a truncation, -ECONNRESET...). */
typedef void (*cli_tls_done_fn)(struct cli_tls_peer *p, int status, const struct sk_err *err,
	void *userdata);
/* Start on fd (adopted); peer names it in messages. -v prints the protocol,
 * cipher, ALPN and peer subject at ready. Returns 0 or a negative code. */
int cli_tls_peer_start(const struct cli_ctx *ctx, struct sk_loop *loop,
	const struct sk_tls_config *cfg, int fd, const char *peer, cli_tls_ready_fn ready,
	cli_tls_done_fn done, void *userdata, struct cli_tls_peer **out, struct sk_err *err);
/* No more callbacks: the session finishes its close_notify and frees itself;
 * a failure is logged with -v. NULL-safe. */
void cli_tls_peer_release(struct cli_tls_peer *p);
/* Close it now, callbacks and all (a failed handshake, an abandoned one). NULL-safe. */
void cli_tls_peer_destroy(struct cli_tls_peer *p);
/* Run loop until every released session has finished (at most ms), or free
 * them all at once with ms 0 (at exit). */
void cli_tls_peers_drain(struct sk_loop *loop, int ms);
/* connect and single-peer listen: handshake on fd (adopted) and wait for it.
 * Returns 0 with *plain, or the exit status (message printed: exit 5). */
struct cli_tls_stream {
	struct cli_tls_peer *peer;
	struct sk_loop *loop;
	int plain;
	bool handshaken, failed;
	int status; /* a failure of the stream, negative, with err */
	struct sk_err err;
};
int cli_tls_stream_open(const struct cli_ctx *ctx, struct sk_loop *loop,
	const struct sk_tls_config *cfg, int fd, const char *peer, struct cli_tls_stream *st);
/* The stream's end as a cli_tls_done_fn reports it: a failure is kept for
 * cli_tls_stream_close, since the pump sees only a clean EOF. */
void cli_tls_stream_ended(struct cli_tls_stream *st, int status, const struct sk_err *err);
/* After the pump: the stream's own failure (a truncation, a reset) wins over
 * the pump's clean end; the session is released and drained. */
int cli_tls_stream_close(const struct cli_ctx *ctx, struct cli_tls_stream *st, int status);

/* ws.c: ws:/wss: and their listeners for connect, single-peer listen and a
 * single relay: the handshake on a connected stream, then a plain socket. */
bool cli_ws_wanted(const struct sk_endpoint *ep);
struct cli_ws_stream {
	struct sk_ws_session *session;
	struct sk_loop *loop;
	int plain;  /* the payload side, for the pump (closed by cli_ws_stream_close) */
	bool ready;
	int status; /* a failure of the handshake or of the stream, with err */
	struct sk_err err;
};
/* Run the handshake on fd (adopted) as client or server, waiting for it in
 * loop. Returns 0 with st->plain, or the exit status (message printed). */
int cli_ws_stream_open(const struct cli_ctx *ctx, struct sk_loop *loop,
	const struct sk_endpoint *ep, int fd, bool server, const char *peer,
	struct cli_ws_stream *st);
/* After the pump: a stream that ended without a Close frame wins over the
 * pump's clean end (exit 1); the session is closed. */
int cli_ws_stream_close(const struct cli_ctx *ctx, struct cli_ws_stream *st, int status);

/* commands.c */
const struct cli_cmd *cli_command_find(const char *name);
extern const struct cli_cmd *const cli_commands[];

extern const struct cli_cmd cmd_connect;
extern const struct cli_cmd cmd_listen;
extern const struct cli_cmd cmd_probe;
extern const struct cli_cmd cmd_relay;
extern const struct cli_cmd cmd_resolve;

#endif
