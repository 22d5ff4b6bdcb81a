/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd/relay.c - join two endpoints and move bytes both ways. A listening
 * FROM gives every peer its own connection to TO, all in one event loop;
 * any other FROM is relayed once.
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum { O_MAX_CONNS = 256, O_STATS, O_WORKERS };

static const struct cli_opt relay_opts[] = {
	/* id, long name, short, argument, help; keep alphabetical by long name */
	CLI_TLS_ROW_ALPN,
	CLI_TLS_ROW_CA,
	CLI_TLS_ROW_CERT,
	CLI_TLS_ROW_CIPHERS,
	CLI_TLS_ROW_CIPHERSUITES,
	{ CLI_O_EXPLAIN, "explain", 0, NULL, "print both endpoints and the socket calls; create nothing" },
	{ CLI_O_HEXDUMP, "hexdump", 0, NULL, "log every connection's traffic on stderr as a hex dump" },
	CLI_TLS_ROW_INSECURE,
	CLI_TLS_ROW_KEY,
	CLI_TLS_ROW_KEY_PASS,
	{ O_MAX_CONNS, "max-conns", 0, "N", "relay at most N connections at once" },
	{ CLI_O_PCAP, "pcap", 0, "FILE", "write every connection's traffic to FILE as a pcapng capture" },
	CLI_TLS_ROW_PIN,
	{ CLI_O_PROXY, "proxy", 0, "URL", "reach TO through a proxy: socks5://, socks5h://, socks4a://, http://" },
	CLI_TLS_ROW_SNI,
	{ O_STATS, "stats", 0, NULL, "a line per connection at close and a total at exit" },
	CLI_TLS_ROW_TLS_MAX,
	CLI_TLS_ROW_TLS_MIN,
	CLI_TLS_ROW_VERIFY_CLIENT,
	{ O_WORKERS, "workers", 0, "N", "N processes share a TCP port (SO_REUSEPORT), a loop each" },
	{ 0 },
};

/* Accepts per wake-up, so one busy listener cannot starve the connections. */
#define ACCEPT_BATCH 64
/* Datagrams per recvmmsg on a UDP FROM, and the most one can carry. */
#define DGRAM_BATCH 32
#define DGRAM_MAX 65536
/* A UDP session (one source address) ends after this long without a datagram
 * either way, unless -i says otherwise: UDP has no EOF to end it. */
#define SESSION_IDLE_MS 60000
/* What a session may hold while its TO connection is being made. */
#define SESSION_PENDING_MAX (256 * 1024)

struct relay;

/* A datagram that reached a UDP session before its TO connection did. */
struct held {
	struct held *next;
	size_t len;
	char data[];
};

/* One relayed connection: the FROM side, the TO side, the pump between. */
struct link {
	struct relay *relay;
	struct link *prev, *next;
	int from_fd, to_fd;
	struct sk_connector *connector;
	struct sk_proxy_reader *header; /* accept-proxy: reading the PROXY header */
	struct cli_tls_peer *handshake; /* a TLS side still handshaking */
	struct cli_tls_peer *tls_from, *tls_to; /* TLS sides past their handshake */
	struct sk_ws_session *ws_from, *ws_to; /* WebSocket sides (after TLS for wss) */
	struct sk_pump *pump;
	struct cli_trace trace;
	/* The client and the address it reached, as a PROXY header told or as
	 * accepted: what proxy-protocol= on TO announces. */
	struct sockaddr_storage client, server;
	int64_t started;
	char peer[128];
	/* UDP FROM: the source address this session serves, and what came
	 * from it while TO was still connecting. */
	struct sockaddr_storage source;
	socklen_t sourcelen;
	struct held *held, **held_tail;
	size_t held_bytes;
	uint64_t held_sent; /* bytes of held datagrams passed on outside the pump */
};

struct relay {
	struct cli_ctx *ctx;
	struct sk_loop *loop;
	struct sk_endpoint *from, *to;
	struct sk_tls_config *from_tls, *to_tls; /* TLS terminated / originated here */
	struct sk_listener *listener;
	struct link *links;
	unsigned long nlinks, max_conns;
	bool stats, to_stdio;
	bool draining; /* SIGHUP: not accepting, ends when the last link does */
	unsigned long workers;
	pid_t worker_pids[64];
	size_t nworkers;
	struct cli_backoff backoff;
	char *dgrams; /* UDP FROM: DGRAM_BATCH slots of DGRAM_MAX bytes */
	uint64_t total_links, total_sent, total_received;
	int status;
	char from_text[512], to_text[512];
	char to_peer[300]; /* HOST:PORT of a TLS TO, for messages */
};

struct relay_args {
	bool explain, stats;
	unsigned long max_conns, workers;
	struct cli_proxy_args proxy;
	struct cli_tls_args tls; /* the TLS flags, for the one TLS side */
};

#define MAX_WORKERS 64

static int relay_opt(struct cli_ctx *ctx, int id, const char *arg, void *state)
{
	struct relay_args *a = state;

	switch (id) {
	case CLI_O_EXPLAIN:
		a->explain = true;
		return 0;
	case CLI_O_HEXDUMP:
		return cli_stdio_opt(ctx, id);
	case CLI_O_PCAP:
		return cli_pcap_opt(ctx, arg);
	case CLI_O_PROXY:
		return cli_proxy_opt(ctx, &a->proxy, id, arg);
	case O_MAX_CONNS:
		if (!cli_parse_uint(arg, 1, 1000000, &a->max_conns))
			return cli_usage(ctx, "invalid --max-conns '%s': expected 1-1000000", arg);
		return 0;
	case O_STATS:
		a->stats = true;
		return 0;
	case O_WORKERS:
		if (!cli_parse_uint(arg, 1, MAX_WORKERS, &a->workers))
			return cli_usage(ctx, "invalid --workers '%s': expected 1-%d", arg, MAX_WORKERS);
		return 0;
	default:
		return cli_tls_opt(&a->tls, id, arg);
	}
}

/* ---- one connection --------------------------------------------------------------- */

static const char *how_ended(int status)
{
	switch (status) {
	case 0:
		return "eof";
	case SK_EIDLE:
		return "idle";
	case -ECONNRESET:
	case -EPIPE:
		return "reset";
	case -ECONNREFUSED:
		return "refused";
	case -ETIMEDOUT:
		return "timeout";
	default:
		return "error";
	}
}

/* --stats: one line (or JSON object) for a connection that ended. */
static void report_closed(const struct relay *r, const char *peer, uint64_t sent,
	uint64_t received, int64_t ms, int status)
{
	const char *ended = how_ended(status);

	if (!r->stats)
		return;
	cli_report(r->ctx, "closed",
		(struct cli_field[]){ { "peer", peer, 0 }, { "to", r->to_text, 0 },
			{ "sent", NULL, (long long)sent }, { "received", NULL, (long long)received },
			{ "duration_ms", NULL, ms }, { "ended", ended, 0 } },
		6, "closed %s -> %s: sent %llu received %llu in %lld.%03lld s (%s)", peer,
		r->to_text, (unsigned long long)sent, (unsigned long long)received,
		(long long)(ms / 1000), (long long)(ms % 1000), ended);
}

static void report_link(struct link *l, int status)
{
	struct relay *r = l->relay;
	uint64_t sent = l->held_sent + (l->pump ? sk_pump_bytes(l->pump, SK_PUMP_A_TO_B) : 0);
	uint64_t received = l->pump ? sk_pump_bytes(l->pump, SK_PUMP_B_TO_A) : 0;

	r->total_sent += sent;
	r->total_received += received;
	report_closed(r, l->peer, sent, received, sk_loop_now(r->loop) - l->started, status);
}

static void update_accepting(struct relay *r);
static bool link_connect(struct link *l);

static bool is_session(const struct link *l)
{
	return l->sourcelen > 0;
}

static void link_end(struct link *l, int status)
{
	struct relay *r = l->relay;

	report_link(l, status);
	if (l->pump)
		cli_trace_end(&l->trace, status);
	while (l->held) {
		struct held *h = l->held;

		l->held = h->next;
		free(h);
	}
	sk_pump_destroy(l->pump);
	sk_proxy_reader_destroy(l->header);
	cli_tls_peer_destroy(l->handshake);
	/* They finish their close_notify on their own. */
	cli_tls_peer_release(l->tls_from);
	cli_tls_peer_release(l->tls_to);
	sk_ws_session_destroy(l->ws_from);
	sk_ws_session_destroy(l->ws_to);
	sk_connector_destroy(l->connector);
	cli_close(l->from_fd, status < 0 && status != SK_EIDLE);
	cli_close(l->to_fd, status < 0 && status != SK_EIDLE);
	if (l->prev)
		l->prev->next = l->next;
	else
		r->links = l->next;
	if (l->next)
		l->next->prev = l->prev;
	r->nlinks--;
	free(l);
	if (r->draining && !r->nlinks)
		sk_loop_stop(r->loop, 128 + SIGHUP);
	else if (r->listener)
		update_accepting(r);
}

static void on_pump_done(struct sk_pump *pump, int status, const struct sk_err *err,
	void *userdata)
{
	struct link *l = userdata;

	if (status < 0 && status != -ECONNRESET && status != -EPIPE)
		cli_log(l->relay->ctx, 1, "%s: %s: %s", l->peer, err->what, err->why);
	link_end(l, status);
}

/*
 * A datagram of a UDP session that did not come through its own socket (it
 * reached the listener first): pass it to TO directly. A datagram TO takes it
 * whole or not at all; a stream TO that is full drops it, as UDP may.
 */
static void send_held(struct link *l, const char *data, size_t len)
{
	ssize_t n = send(l->to_fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 || (size_t)n != len) {
		cli_log(l->relay->ctx, 2, "%s: dropped a datagram of %zu bytes: %s", l->peer, len,
			n < 0 ? strerror(errno) : "short write");
		return;
	}
	l->held_sent += len;
	cli_trace(SK_PUMP_A_TO_B, data, len, &l->trace);
}

/* Both sides connected (the plaintext ends of TLS ones): pump between them. */
static void link_pump(struct link *l)
{
	struct relay *r = l->relay;
	struct sk_pump_side from = { .rfd = l->from_fd, .wfd = l->from_fd, .name = l->peer };
	struct sk_pump_side to = { .rfd = l->to_fd, .wfd = l->to_fd, .name = r->to_text };
	struct sk_pump_opts opts = {
		.idle_timeout_ms = r->ctx->idle_timeout_ms,
		.trace = cli_trace_wanted(r->ctx) ? cli_trace : NULL,
		.trace_userdata = &l->trace,
	};
	struct sk_err perr;
	int rc;

	if (is_session(l)) {
		if (!opts.idle_timeout_ms)
			opts.idle_timeout_ms = SESSION_IDLE_MS;
		/* TO closed its side: the source may still be sending; give it a moment. */
		opts.dgram_linger_ms = 1000;
	}
	/* The capture shows the peer's conversation with us, FROM's side. */
	cli_trace_start(&l->trace, r->ctx, l->from_fd, false, SK_PUMP_B_TO_A);
	while (l->held) {
		struct held *h = l->held;

		l->held = h->next;
		send_held(l, h->data, h->len);
		free(h);
	}
	l->held_bytes = 0;
	rc = sk_pump_create(r->loop, &from, &to, &opts, on_pump_done, l, &l->pump, &perr);
	if (rc < 0) {
		cli_log(r->ctx, 1, "%s: %s: %s", l->peer, perr.what, perr.why);
		link_end(l, rc);
	}
}

static void link_side_ready(struct link *l, bool from_side, int fd);

/* A WebSocket side opened: its payload end takes the side's place. */
static void on_link_ws(struct link *l, struct sk_ws_session *s, int fd, const struct sk_err *err)
{
	if (fd < 0) {
		cli_log(l->relay->ctx, 1, "%s: %s: %s", l->peer, err->what, err->why);
		link_end(l, fd);
		return;
	}
	if (s == l->ws_from)
		l->from_fd = fd;
	else
		l->to_fd = fd;
	if (s == l->ws_from)
		link_connect(l);
	else
		link_pump(l);
}

static void on_ws_ready(struct sk_ws_session *s, int fd, const struct sk_err *err, void *userdata)
{
	on_link_ws(userdata, s, fd, err);
}

/* A WebSocket side ended abnormally (no Close frame, a violation): say so with -v;
 * the pump sees the end. */
static void on_ws_done(struct sk_ws_session *s, int status, const struct sk_err *err,
	void *userdata)
{
	struct link *l = userdata;

	if (status < 0)
		cli_log(l->relay->ctx, 1, "%s: %s: %s", l->peer, err->what, err->why);
}

/* A side's stream is ready (a TCP socket, or TLS's plaintext): its WebSocket
 * handshake next when it is ws/wss, else relay on. fd is adopted. */
static void link_side_ready(struct link *l, bool from_side, int fd)
{
	struct relay *r = l->relay;
	const struct sk_endpoint *ep = from_side ? r->from : r->to;
	struct sk_ws_session_opts o = { .server = from_side, .path = sk_endpoint_path(ep),
		.host = r->to_peer, .peer = from_side ? l->peer : r->to_peer,
		.timeout_ms = r->ctx->timeout_ms, .ready = on_ws_ready, .done = on_ws_done,
		.userdata = l };
	struct sk_err err;

	if (!cli_ws_wanted(ep)) {
		if (from_side) {
			l->from_fd = fd;
			link_connect(l);
		} else {
			l->to_fd = fd;
			link_pump(l);
		}
		return;
	}
	if (sk_ws_session_start(r->loop, fd, &o, from_side ? &l->ws_from : &l->ws_to, &err) < 0) {
		cli_log(r->ctx, 1, "%s: %s: %s", l->peer, err.what, err.why);
		link_end(l, -ECONNRESET);
	}
}

/* A handshake of this link ended: its plaintext takes the TLS side's place. */
static void on_link_tls(struct cli_tls_peer *p, int fd, const struct sk_err *err, void *userdata)
{
	struct link *l = userdata;
	bool from_side = l->from_fd < 0;

	l->handshake = NULL;
	if (fd < 0) {
		cli_log(l->relay->ctx, 1, "%s: %s: %s", l->peer, err->what, err->why);
		cli_tls_peer_destroy(p);
		link_end(l, fd);
		return;
	}
	if (from_side)
		l->tls_from = p;
	else
		l->tls_to = p;
	link_side_ready(l, from_side, fd);
}

/* A TLS side's stream ended. A reset, an alert or a truncation (no close_notify) is the peer
 * ending abnormally, carried to the other side as a reset, as a plain stream's would be. */
static void on_link_tls_done(struct cli_tls_peer *p, int status, const struct sk_err *err,
	void *userdata)
{
	struct link *l = userdata;

	if (p == l->tls_from)
		l->tls_from = NULL;
	else if (p == l->tls_to)
		l->tls_to = NULL;
	cli_tls_peer_destroy(p);
	if (status < 0) {
		cli_log(l->relay->ctx, 1, "%s: %s: %s", l->peer, err->what, err->why);
		link_end(l, -ECONNRESET);
	}
}

/* Hand fd (adopted) to a TLS session for this link; the side whose fd is -1
 * meanwhile is the one handshaking. */
static void link_handshake(struct link *l, const struct sk_tls_config *cfg, int fd,
	const char *peer)
{
	struct sk_err err;
	int rc = cli_tls_peer_start(l->relay->ctx, l->relay->loop, cfg, fd, peer, on_link_tls,
		on_link_tls_done, l, &l->handshake, &err);

	if (rc < 0) {
		cli_log(l->relay->ctx, 1, "%s: %s: %s", l->peer, err.what, err.why);
		link_end(l, rc);
	}
}

static void on_connected(struct sk_connector *c, int fd, const struct sk_err *err,
	void *userdata)
{
	struct link *l = userdata;
	struct relay *r = l->relay;

	if (fd < 0) {
		/* TO refused or timed out: this client is let go at once, with a reset. */
		cli_log(r->ctx, 1, "%s: %s: %s", l->peer, err->what, err->why);
		link_end(l, fd);
		return;
	}
	/* Done with it: an idle link should hold as little as it can. */
	sk_connector_destroy(c);
	l->connector = NULL;
	if (r->to_tls) {
		link_handshake(l, r->to_tls, fd, r->to_peer);
		return;
	}
	link_side_ready(l, false, fd);
}

/* A link for FROM's fd (adopted), not yet connecting. */
static struct link *link_new(struct relay *r, int fd, const char *peer)
{
	struct link *l = calloc(1, sizeof(*l));

	if (!l) {
		cli_close(fd, true);
		return NULL;
	}
	l->relay = r;
	l->held_tail = &l->held;
	l->from_fd = fd;
	l->to_fd = -1;
	l->started = sk_loop_now(r->loop);
	snprintf(l->peer, sizeof(l->peer), "%s", peer);
	l->next = r->links;
	if (r->links)
		r->links->prev = l;
	r->links = l;
	r->nlinks++;
	r->total_links++;
	return l;
}

/* Start the connection to TO; false when it failed at once (l is gone). */
static bool link_connect(struct link *l)
{
	struct relay *r = l->relay;
	struct sk_connect_opts copts = {
		.timeout_ms = r->ctx->timeout_ms,
		.family = r->ctx->family,
		.announce_src = l->client.ss_family ? (struct sockaddr *)&l->client : NULL,
		.announce_dst = l->server.ss_family ? (struct sockaddr *)&l->server : NULL,
	};
	struct sk_err err;
	int rc = sk_connector_start(r->loop, r->to, &copts, on_connected, l, &l->connector, &err);

	if (rc < 0) {
		on_connected(NULL, rc, &err, l);
		return false;
	}
	return true;
}

/* Start relaying FROM's fd (adopted) to a new connection to TO. */
static struct link *link_start(struct relay *r, int fd, const char *peer)
{
	struct link *l = link_new(r, fd, peer);

	return l && link_connect(l) ? l : NULL;
}

/* FROM's side is ready to relay: its TLS handshake first (tls-listen), then TO. */
static void link_from_ready(struct link *l)
{
	struct relay *r = l->relay;
	int fd = l->from_fd;

	if (!r->from_tls) {
		l->from_fd = -1;
		link_side_ready(l, true, fd);
		return;
	}
	l->from_fd = -1; /* the TLS session has it now */
	link_handshake(l, r->from_tls, fd, l->peer);
}

/* accept-proxy: the PROXY header names the client; then on to TO. */
static void on_proxy_header(struct sk_proxy_reader *reader, int rc,
	const struct sk_proxy_info *info, const struct sk_err *err, void *userdata)
{
	struct link *l = userdata;

	sk_proxy_reader_destroy(reader);
	l->header = NULL;
	if (rc < 0) {
		cli_log(l->relay->ctx, 1, "%s: %s: %s", l->peer, err->what, err->why);
		link_end(l, rc);
		return;
	}
	if (!info->local) {
		struct sk_peer told = { .addr = info->src, .addrlen = sizeof(info->src) };

		l->client = info->src;
		l->server = info->dst;
		cli_peer_text(&told, l->peer, sizeof(l->peer));
		cli_event(l->relay->ctx, "proxied", (struct cli_field[]){ { "peer", l->peer, 0 } }, 1,
			"PROXY header: client %s", l->peer);
	}
	link_from_ready(l);
}

/* A peer accepted on FROM: its PROXY header first (accept-proxy), or TO now. */
static void link_accepted(struct relay *r, int fd, const struct sk_peer *peer, const char *text)
{
	socklen_t len = sizeof(struct sockaddr_storage);
	struct link *l = link_new(r, fd, text);
	struct sk_err err;
	int rc;

	if (!l)
		return;
	l->client = peer->addr;
	getsockname(fd, (struct sockaddr *)&l->server, &len);
	rc = sk_endpoint_proxy_sender(r->from, (const struct sockaddr *)&peer->addr);
	if (rc < 0) {
		cli_log(r->ctx, 1, "%s: refused: not a PROXY header sender accept-proxy allows", text);
		link_end(l, -ECONNREFUSED);
		return;
	}
	if (rc == 0) {
		link_from_ready(l);
		return;
	}
	rc = sk_proxy_reader_start(r->loop, fd, r->ctx->timeout_ms, on_proxy_header, l, &l->header,
		&err);
	if (rc < 0) {
		cli_log(r->ctx, 1, "%s: %s: %s", text, err.what, err.why);
		link_end(l, rc);
	}
}

/* ---- accepting --------------------------------------------------------------------- */

static void on_backoff_over(struct sk_loop *loop, void *userdata)
{
	struct relay *r = userdata;

	r->backoff.paused = false;
	update_accepting(r);
}

static void update_accepting(struct relay *r)
{
	if (r->draining)
		return;
	/* A UDP FROM is read all along: its sessions' strays arrive there too. */
	bool room = !r->max_conns || r->nlinks < r->max_conns || r->dgrams;

	sk_loop_mod_fd(r->loop, sk_listener_fd(r->listener),
		room && !r->backoff.paused ? SK_EV_IN : 0);
}

static void on_listener(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct relay *r = userdata;

	for (int i = 0; i < ACCEPT_BATCH && (!r->max_conns || r->nlinks < r->max_conns); i++) {
		struct sk_peer peer;
		struct sk_err err;
		char text[128];
		int cfd = sk_listener_accept(r->listener, &peer, &err);

		if (cfd < 0 && cli_accept_backoff(r->ctx, &r->backoff, loop, cfd, &err,
				       on_backoff_over, r))
			break;
		if (cfd == -EAGAIN)
			break;
		if (cfd < 0)
			continue; /* ECONNABORTED and kin: that peer is gone, not the listener */
		cli_accept_ok(r->ctx, &r->backoff, r->from_text);
		cli_peer_text(&peer, text, sizeof(text));
		cli_event(r->ctx, "accepted", (struct cli_field[]){ { "peer", text, 0 } }, 1,
			"connection from %s", text);
		link_accepted(r, cfd, &peer, text);
	}
	update_accepting(r);
}

/* ---- a UDP FROM: one session per source address ------------------------------------- */

static struct link *find_session(const struct relay *r, const struct sockaddr_storage *from,
	socklen_t fromlen)
{
	for (struct link *l = r->links; l; l = l->next)
		if (l->sourcelen == fromlen && memcmp(&l->source, from, fromlen) == 0)
			return l;
	return NULL;
}

static void hold(struct link *l, const char *data, size_t len)
{
	struct held *h;

	if (l->held_bytes + len > SESSION_PENDING_MAX || !(h = malloc(sizeof(*h) + len))) {
		cli_log(l->relay->ctx, 2, "%s: dropped a datagram of %zu bytes while connecting",
			l->peer, len);
		return;
	}
	h->next = NULL;
	h->len = len;
	memcpy(h->data, data, len);
	*l->held_tail = h;
	l->held_tail = &h->next;
	l->held_bytes += len;
}

static void dispatch(struct relay *r, const struct sockaddr_storage *from, socklen_t fromlen,
	const char *data, size_t len);

/*
 * Datagrams that reached a new session socket between its bind and its
 * connect can be anyone's: give each to its own session.
 */
static void drain_session(struct relay *r, int fd)
{
	char *buf = malloc(DGRAM_MAX);

	for (int i = 0; buf && i < DGRAM_BATCH; i++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, DGRAM_MAX, MSG_DONTWAIT, (struct sockaddr *)&from,
			&fromlen);

		if (n < 0)
			break;
		dispatch(r, &from, fromlen, buf, (size_t)n);
	}
	free(buf);
}

static struct link *session_start(struct relay *r, const struct sockaddr_storage *from,
	socklen_t fromlen)
{
	struct sk_peer peer = { .addrlen = fromlen };
	struct sk_err err;
	struct link *l;
	char text[128];
	int fd;

	if (r->max_conns && r->nlinks >= r->max_conns) {
		cli_log(r->ctx, 2, "--max-conns %lu reached: dropped a datagram", r->max_conns);
		return NULL;
	}
	memcpy(&peer.addr, from, fromlen);
	cli_peer_text(&peer, text, sizeof(text));
	fd = sk_dgram_session(sk_listener_fd(r->listener), (const struct sockaddr *)from, fromlen,
		&err);
	if (fd < 0) {
		cli_log(r->ctx, 1, "%s: %s: %s", text, err.what, err.why);
		return NULL;
	}
	cli_event(r->ctx, "accepted", (struct cli_field[]){ { "peer", text, 0 } }, 1,
		"datagrams from %s", text);
	l = link_start(r, fd, text);
	if (!l)
		return NULL;
	memcpy(&l->source, from, fromlen);
	l->sourcelen = fromlen;
	return l;
}

static void dispatch(struct relay *r, const struct sockaddr_storage *from, socklen_t fromlen,
	const char *data, size_t len)
{
	struct link *l = find_session(r, from, fromlen);
	bool started = false;

	if (!l) {
		l = session_start(r, from, fromlen);
		started = l != NULL;
	}
	if (!l)
		return;
	if (l->pump)
		send_held(l, data, len);
	else
		hold(l, data, len);
	if (started)
		drain_session(r, l->from_fd);
}

static void on_dgram_listener(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct relay *r = userdata;
	struct sk_dgram d[DGRAM_BATCH];
	struct sk_err err;
	int got;

	for (int round = 0; round < 4; round++) {
		got = sk_dgram_recv(fd, d, DGRAM_BATCH, r->dgrams, DGRAM_MAX, &err);
		if (got == -EAGAIN)
			return;
		if (got < 0) {
			cli_log(r->ctx, 1, "%s: %s", err.what, err.why);
			return;
		}
		for (int i = 0; i < got; i++)
			dispatch(r, &d[i].from, d[i].fromlen, d[i].data, d[i].len);
	}
}

/*
 * SIGHUP on a listening relay drains it: stop accepting (and tell the
 * workers to do the same), let the live connections finish, then exit
 * 128+1. SIGINT, SIGTERM or a second SIGHUP still end everything at once.
 */
static void on_sighup(struct sk_loop *loop, void *userdata)
{
	struct relay *r = userdata;

	if (r->draining) {
		sk_loop_stop(loop, 128 + SIGHUP);
		return;
	}
	r->draining = true;
	for (size_t i = 0; i < r->nworkers; i++)
		kill(r->worker_pids[i], SIGHUP);
	sk_loop_del_fd(loop, sk_listener_fd(r->listener));
	sk_listener_stop(r->listener);
	cli_event(r->ctx, "draining", (struct cli_field[]){ { "connections", NULL, (long long)r->nlinks } },
		1, "draining: not accepting; %lu connections left", r->nlinks);
	if (!r->nlinks)
		sk_loop_stop(loop, 128 + SIGHUP);
}

/* exec:/sh: children of TO end on their own; reap them so none lingers as a zombie. */
static void reap_children(struct sk_loop *loop, void *userdata)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Every relayed connection holds about six descriptors: take what the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Parse prefix + suffix as one endpoint (the texts are canonical, so they parse). */
static struct sk_endpoint *parse_joined(const char *prefix, const char *suffix)
{
	struct cli_text t = { 0 };
	struct sk_endpoint *ep = NULL;
	struct sk_err err;

	cli_text_add(&t, prefix);
	cli_text_add(&t, suffix);
	if (!t.failed && sk_endpoint_parse(t.text, &ep, &err) < 0)
		ep = NULL;
	free(t.text);
	return ep;
}

/* The options part of ep's canonical text (",backlog=5,..."), with reuseport added. */
static char *options_with_reuseport(const struct sk_endpoint *ep)
{
	size_t full = sk_endpoint_format(ep, true, NULL, 0);
	size_t bare = sk_endpoint_format(ep, false, NULL, 0);
	const char *given[64];
	size_t n = sk_endpoint_options_given(ep, given, 64);
	bool has = false;
	char *text = malloc(full + 16);

	if (!text)
		return NULL;
	sk_endpoint_format(ep, true, text, full + 1);
	memmove(text, text + bare, full - bare + 1);
	for (size_t i = 0; i < n; i++)
		has |= strcmp(given[i], "reuseport") == 0;
	if (!has)
		memcpy(text + (full - bare), ",reuseport", sizeof(",reuseport"));
	return text;
}

static void report_total(const struct relay *r);

static int open_listener(struct relay *r)
{
	struct sk_err err;
	int rc = sk_listener_open(r->from, r->ctx->family, &r->listener, &err);

	if (rc < 0)
		return cli_fail(r->ctx, CLI_SETUP, rc, &err);
	sk_listener_format(r->listener, r->from_text, sizeof(r->from_text));
	if (sk_listener_socktype(r->listener) == SOCK_DGRAM) {
		r->dgrams = malloc((size_t)DGRAM_BATCH * DGRAM_MAX);
		if (!r->dgrams)
			return cli_fail(r->ctx, CLI_SETUP, -ENOMEM, NULL);
	}
	if (sk_loop_add_fd(r->loop, sk_listener_fd(r->listener), SK_EV_IN,
		    r->dgrams ? on_dgram_listener : on_listener, r) < 0)
		return cli_fail(r->ctx, CLI_SETUP, -ENOMEM, NULL);
	return 0;
}

/*
 * A --workers process: its own loop and its own SO_REUSEPORT socket on the
 * first one's port, so the kernel spreads the connections. Never returns.
 */
static __attribute__((noreturn)) void run_worker(struct relay *r, struct sk_endpoint *ep)
{
	int status;

	sk_loop_destroy(r->loop); /* the parent's epoll and signalfd, our copies */
	sk_listener_stop(r->listener);
	sk_listener_destroy(r->listener);
	r->listener = NULL;
	r->nworkers = 0;
	r->from = ep;
	status = cli_loop_open(r->ctx, &r->loop);
	if (status == 0) {
		cli_loop_on_signal(SIGCHLD, reap_children, r);
		cli_loop_on_signal(SIGHUP, on_sighup, r);
		status = open_listener(r);
	}
	if (status == 0)
		status = sk_loop_run(r->loop);
	while (r->links)
		link_end(r->links, 0);
	report_total(r);
	fflush(NULL);
	_exit(status);
}

/* Fork workers - 1 more processes, each binding the port the first one got. */
static int start_workers(struct relay *r)
{
	char *opts = options_with_reuseport(r->from);
	struct sk_endpoint *ep = opts ? parse_joined(r->from_text, opts) : NULL;

	free(opts);
	if (!ep)
		return cli_fail(r->ctx, CLI_SETUP, -ENOMEM, NULL);
	fflush(NULL);
	for (unsigned long i = 1; i < r->workers; i++) {
		pid_t pid = fork();

		if (pid == 0)
			run_worker(r, ep);
		if (pid < 0) {
			sk_endpoint_free(ep);
			return cli_fail(r->ctx, CLI_SETUP, -errno, NULL);
		}
		r->worker_pids[r->nworkers++] = pid;
	}
	sk_endpoint_free(ep);
	return 0;
}

/* On our way out: the workers go too (they exit 128+N after their own
 * cleanup); after a drain they are left to finish theirs. */
static void stop_workers(struct relay *r, bool drained)
{
	for (size_t i = 0; i < r->nworkers && !drained; i++)
		kill(r->worker_pids[i], SIGTERM);
	for (size_t i = 0; i < r->nworkers; i++)
		while (waitpid(r->worker_pids[i], NULL, 0) < 0 && errno == EINTR)
			;
	r->nworkers = 0;
}

static int serve_listener(struct relay *r)
{
	int status;

	raise_fd_limit();
	/* Every worker's socket needs SO_REUSEPORT, the first one's too. */
	if (r->workers > 1) {
		char *opts = options_with_reuseport(r->from);
		char bare[512];
		struct sk_endpoint *ep;

		sk_endpoint_format(r->from, false, bare, sizeof(bare));
		ep = opts ? parse_joined(bare, opts) : NULL;
		free(opts);
		if (!ep)
			return cli_fail(r->ctx, CLI_SETUP, -ENOMEM, NULL);
		sk_endpoint_free(r->from);
		r->from = ep;
	}
	status = open_listener(r);
	if (status)
		return status;
	cli_event(r->ctx, "listening", (struct cli_field[]){ { "endpoint", r->from_text, 0 } }, 1,
		"listening on %s", r->from_text);
	if (r->workers > 1) {
		status = start_workers(r);
		if (status)
			return status;
	}
	cli_loop_on_signal(SIGHUP, on_sighup, r);
	status = sk_loop_run(r->loop); /* until a signal: 128+N */
	stop_workers(r, r->draining && !r->nlinks);
	return status;
}

/* ---- relaying once ------------------------------------------------------------------- */

/* One side of a single relay: stdio, or a connection (fd adopted by *side;
 * for TLS, the plaintext end, with the session in *st; for WebSocket, the
 * payload end, with the session in *ws). */
static int open_side(struct relay *r, const struct sk_endpoint *ep, const char *name,
	const struct sk_tls_config *tls, struct cli_stdio *io, struct cli_tls_stream *st,
	struct cli_ws_stream *ws, struct sk_pump_side *side)
{
	struct sk_connect_opts copts = { .timeout_ms = r->ctx->timeout_ms, .family = r->ctx->family };
	struct sk_err err;
	char peer[300];
	int fd, status;

	if (sk_endpoint_transport(ep) == SK_STDIO) {
		status = cli_stdio_open(r->ctx, io);
		if (status)
			return status;
		*side = (struct sk_pump_side){ .rfd = io->in, .wfd = io->out, .owns_wfd = true,
			.name = "stdio" };
		io->out = -1; /* the pump owns it now */
		return 0;
	}
	fd = sk_connect(ep, &copts, &err);
	if (fd < 0)
		return cli_fail(r->ctx, CLI_CONNECT, fd, &err);
	cli_event(r->ctx, "connected", (struct cli_field[]){ { "endpoint", name, 0 } }, 1,
		"connected to %s", name);
	if (tls) {
		cli_tls_peer_name(ep, peer, sizeof(peer));
		status = cli_tls_stream_open(r->ctx, r->loop, tls, fd, peer, st); /* adopts fd */
		if (status)
			return status;
		fd = st->plain;
		st->plain = -1; /* ours now: closed as the side is */
	}
	if (cli_ws_wanted(ep)) {
		cli_tls_peer_name(ep, peer, sizeof(peer));
		status = cli_ws_stream_open(r->ctx, r->loop, ep, fd, false, peer, ws); /* adopts fd */
		if (status)
			return status;
		*side = (struct sk_pump_side){ .rfd = ws->plain, .wfd = ws->plain, .name = name };
		ws->plain = -1; /* ours now: closed as the side is */
		return 0;
	}
	*side = (struct sk_pump_side){ .rfd = fd, .wfd = fd, .name = name };
	return 0;
}

static void close_side(const struct sk_pump_side *side, bool reset)
{
	if (side->rfd >= 0 && side->rfd == side->wfd)
		cli_close(side->rfd, reset);
}

static int relay_once(struct relay *r)
{
	struct cli_stdio io_from = { -1, -1 }, io_to = { -1, -1 };
	struct cli_tls_stream st_from = { .plain = -1 }, st_to = { .plain = -1 };
	struct cli_ws_stream ws_from = { .plain = -1 }, ws_to = { .plain = -1 };
	struct sk_pump_side from = { .rfd = -1, .wfd = -1 }, to = { .rfd = -1, .wfd = -1 };
	struct cli_pump_result o = { .loop = r->loop };
	struct cli_trace trace;
	struct sk_pump_opts opts = {
		.idle_timeout_ms = r->ctx->idle_timeout_ms,
		.trace = cli_trace_wanted(r->ctx) ? cli_trace : NULL,
		.trace_userdata = &trace,
	};
	struct sk_pump *pump = NULL;
	struct sk_err err;
	int64_t started = sk_loop_now(r->loop);
	int status, rc;

	status = open_side(r, r->from, r->from_text, r->from_tls, &io_from, &st_from, &ws_from, &from);
	if (status == 0)
		status = open_side(r, r->to, r->to_text, r->to_tls, &io_to, &st_to, &ws_to, &to);
	/* The capture shows FROM's conversation, or TO's when FROM is stdio. */
	if (status == 0 && from.rfd == from.wfd)
		cli_trace_start(&trace, r->ctx, from.rfd, true, SK_PUMP_B_TO_A);
	else if (status == 0)
		cli_trace_start(&trace, r->ctx, to.rfd, true, SK_PUMP_A_TO_B);
	if (status == 0) {
		rc = sk_pump_create(r->loop, &from, &to, &opts, cli_pump_done, &o, &pump, &err);
		if (rc < 0)
			status = cli_fail(r->ctx, CLI_SETUP, rc, &err);
		else
			status = sk_loop_run(r->loop);
	}
	if (o.done) {
		cli_trace_end(&trace, o.status);
		status = o.status < 0 ? cli_fail(r->ctx, CLI_TRANSFER, o.status, &o.err) : 0;
		r->total_links = 1;
		r->total_sent = sk_pump_bytes(pump, SK_PUMP_A_TO_B);
		r->total_received = sk_pump_bytes(pump, SK_PUMP_B_TO_A);
		report_closed(r, r->from_text, r->total_sent, r->total_received,
			sk_loop_now(r->loop) - started, o.status);
	}
	sk_pump_destroy(pump);
	close_side(&from, o.status < 0 && o.status != SK_EIDLE);
	close_side(&to, o.status < 0 && o.status != SK_EIDLE);
	status = cli_ws_stream_close(r->ctx, &ws_from, status);
	status = cli_ws_stream_close(r->ctx, &ws_to, status);
	if (st_from.peer)
		status = cli_tls_stream_close(r->ctx, &st_from, status);
	if (st_to.peer)
		status = cli_tls_stream_close(r->ctx, &st_to, status);
	cli_stdio_close(&io_from);
	cli_stdio_close(&io_to);
	return status;
}

/* ---- running ---------------------------------------------------------------------------- */

static bool relay_serves(const struct sk_endpoint *ep)
{
	switch (sk_endpoint_transport(ep)) {
	case SK_TCP:
	case SK_TLS:
	case SK_WS:
	case SK_WSS:
	case SK_UNIX:
	case SK_ABSTRACT:
	case SK_VSOCK:
	case SK_STDIO:
	case SK_EXEC:
	case SK_SH:
		return true;
	case SK_UDP:
		return true;
	default:
		return false;
	}
}

/* exec:PROG must name a program on PATH, or nothing starts (exit 2). */
static int check_program(const struct cli_ctx *ctx, const struct sk_endpoint *ep)
{
	struct sk_err err;
	char **argv;
	int rc;

	if (sk_endpoint_transport(ep) != SK_EXEC)
		return 0;
	rc = sk_argv_split(sk_endpoint_path(ep), &argv, &err);
	if (rc == 0) {
		rc = sk_proc_find(argv[0], NULL, 0, &err);
		free(argv);
	}
	if (rc < 0) {
		cli_fail(ctx, CLI_SETUP, rc, &err);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static bool is_tls(const struct sk_endpoint *ep)
{
	return sk_endpoint_transport(ep) == SK_TLS || sk_endpoint_transport(ep) == SK_WSS;
}

/*
 * The TLS flags (--ca, --cert, --insecure...) are the options of the one TLS side: the
 * server of a tls-listen: FROM, or the client of a tls: TO. With both sides TLS they would
 * be ambiguous, so each side then takes endpoint options.
 */
static int tls_flags_side(struct relay *r, const struct cli_tls_args *tls, struct cli_text *from,
	struct cli_text *to)
{
	struct sk_endpoint *f = NULL, *t = NULL;
	struct sk_err err;
	int rc = 0;

	if (!tls->first)
		return 0;
	if (sk_endpoint_parse(from->text, &f, &err) < 0 || sk_endpoint_parse(to->text, &t, &err) < 0)
		rc = cli_fail(r->ctx, CLI_SETUP, err.code, &err);
	else if (is_tls(f) && is_tls(t))
		rc = cli_usage(r->ctx, "--%s: FROM and TO are both TLS; give each its own endpoint "
				       "options (tls:HOST:PORT,ca=FILE)", tls->first);
	else if (!is_tls(f) && !is_tls(t))
		rc = cli_usage(r->ctx, "--%s needs a TLS endpoint (tls-listen:, tls:, wss-listen:, "
				       "wss://)", tls->first);
	else
		cli_tls_args_append(tls, is_tls(f) ? from : to);
	sk_endpoint_free(f);
	sk_endpoint_free(t);
	return rc;
}

/* Both endpoints are checked before either is opened: a bad TO never binds FROM. */
static int parse_endpoints(struct relay *r, int npos, char **pos,
	const struct cli_proxy_args *proxy, const struct cli_tls_args *tls)
{
	struct cli_text from = { 0 }, to = { 0 };
	struct sk_err err;
	int rc;

	if (npos != 2)
		return cli_usage(r->ctx, npos < 2 ? "missing %s" : "unexpected argument '%s'",
			npos == 0 ? "FROM and TO" : npos == 1 ? "TO" : pos[2]);
	/* --proxy is TO's proxy= option. */
	cli_text_add(&from, pos[0]);
	cli_text_add(&to, pos[1]);
	rc = cli_proxy_option(r->ctx, proxy, &to);
	if (rc == 0 && (from.failed || to.failed))
		rc = cli_fail(r->ctx, CLI_SETUP, -ENOMEM, NULL);
	if (rc == 0)
		rc = tls_flags_side(r, tls, &from, &to);
	if (rc == 0 && (from.failed || to.failed))
		rc = cli_fail(r->ctx, CLI_SETUP, -ENOMEM, NULL);
	if (rc == 0)
		rc = sk_endpoint_parse(from.text, &r->from, &err);
	if (rc == 0)
		rc = sk_endpoint_parse(to.text, &r->to, &err);
	free(from.text);
	free(to.text);
	if (rc < 0)
		return cli_fail(r->ctx, CLI_SETUP, rc, &err);
	if (rc)
		return rc;
	for (int i = 0; i < 2; i++) {
		struct sk_endpoint **ep = i ? &r->to : &r->from;

		if (!relay_serves(*ep))
			return cli_usage(r->ctx, "endpoint '%s': type '%s' is not supported by relay yet",
				pos[i], sk_endpoint_type_name(*ep));
	}
	if (r->workers > 1 && (sk_endpoint_transport(r->from) != SK_TCP ||
				      !sk_endpoint_is_listener(r->from)))
		return cli_usage(r->ctx, "--workers needs a TCP listener as FROM (SO_REUSEPORT)");
	if (r->workers > 1 && r->ctx->pcap_path)
		return cli_usage(r->ctx, "--pcap cannot be shared by --workers processes");
	if (sk_endpoint_is_listener(r->from) && sk_endpoint_socktype(r->from) == SOCK_DGRAM &&
		sk_endpoint_transport(r->from) != SK_UDP)
		return cli_usage(r->ctx, "endpoint '%s': a UNIX datagram listener has no peer "
					  "addresses to tell sessions apart; relay needs a stream or UDP listener",
			pos[0]);
	for (int i = 0; i < 2; i++) {
		rc = check_program(r->ctx, i ? r->to : r->from);
		if (rc)
			return rc;
	}
	if (sk_endpoint_is_listener(r->to))
		return cli_usage(r->ctx, "endpoint '%s' is a listener: TO must be a client endpoint",
			pos[1]);
	if (sk_endpoint_transport(r->from) == SK_STDIO && sk_endpoint_transport(r->to) == SK_STDIO)
		return cli_usage(r->ctx, "FROM and TO cannot both be stdio");
	if (sk_endpoint_is_listener(r->from) && sk_endpoint_transport(r->to) == SK_STDIO)
		return cli_usage(r->ctx, "a listening FROM relays many peers: TO cannot be stdio "
					  "(use 'sockit listen')");
	sk_endpoint_format(r->from, false, r->from_text, sizeof(r->from_text));
	sk_endpoint_format(r->to, false, r->to_text, sizeof(r->to_text));
	if (sk_endpoint_transport(r->to) == SK_TLS || cli_ws_wanted(r->to))
		cli_tls_peer_name(r->to, r->to_peer, sizeof(r->to_peer));
	return 0;
}

static int explain(const struct relay *r)
{
	int status;

	printf("FROM\n");
	status = cli_endpoint_explain(r->ctx, r->from);
	if (status == 0) {
		printf("TO (a connection for each peer of a listening FROM)\n");
		status = cli_endpoint_explain(r->ctx, r->to);
	}
	return status;
}

static void report_total(const struct relay *r)
{
	if (!r->stats)
		return;
	cli_report(r->ctx, "total",
		(struct cli_field[]){ { "connections", NULL, (long long)r->total_links },
			{ "sent", NULL, (long long)r->total_sent },
			{ "received", NULL, (long long)r->total_received } },
		3, "total: %llu connections, sent %llu received %llu",
		(unsigned long long)r->total_links, (unsigned long long)r->total_sent,
		(unsigned long long)r->total_received);
}

static int relay_run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct relay_args a = { 0 };
	struct relay r = { .ctx = ctx };
	int first, status;

	if (cli_parse(ctx, &cmd_relay, argc, argv, relay_opt, &a, &first, &status) < 0)
		return status;
	r.workers = a.workers;
	status = parse_endpoints(&r, argc - first, argv + first, &a.proxy, &a.tls);
	if (status == 0 && a.explain)
		status = explain(&r);
	if (status || a.explain)
		goto out;
	r.stats = a.stats;
	r.max_conns = a.max_conns;
	/* Bad certificates and keys stop us before anything listens or connects. */
	status = cli_tls_config(ctx, r.from, &r.from_tls);
	if (status == 0)
		status = cli_tls_config(ctx, r.to, &r.to_tls);
	if (status == 0)
		status = cli_pcap_open(ctx);
	if (status == 0)
		status = cli_loop_open(ctx, &r.loop);
	if (status)
		goto out;
	cli_loop_on_signal(SIGCHLD, reap_children, &r);
	status = sk_endpoint_is_listener(r.from) ? serve_listener(&r) : relay_once(&r);
	while (r.links)
		link_end(r.links, 0);
	cli_tls_peers_drain(r.loop, 0);
	report_total(&r);
out:
	cli_pcap_close(ctx);
	sk_tls_config_free(r.from_tls);
	sk_tls_config_free(r.to_tls);
	sk_listener_destroy(r.listener);
	free(r.dgrams);
	sk_loop_destroy(r.loop);
	sk_endpoint_free(r.from);
	sk_endpoint_free(r.to);
	return status;
}

const struct cli_cmd cmd_relay = {
	.name = "relay",
	.summary = "join two endpoints and move bytes both ways; a listening FROM relays every peer",
	.usage = "[OPTIONS] FROM TO",
	.opts = relay_opts,
	.run = relay_run,
};
