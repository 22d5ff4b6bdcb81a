/* SPDX-License-Identifier: BSD-2-Clause */
/* cmd/listen.c - accept a peer (or many, with -k) and join it to stdio. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { O_ALLOW = 256, O_BROKER, O_CHAT, O_DENY, O_MAX_CONNS, O_PROXY_AUTH, O_PROXY_SERVER,
	O_SYSTEMD, O_TIMESTAMPS };

static const struct cli_opt listen_opts[] = {
	/* id, long name, short, argument, help; keep alphabetical by long name */
	{ CLI_O_ABSTRACT, "abstract", 0, "NAME", "listen on the abstract UNIX socket NAME" },
	CLI_TLS_ROW_ALPN,
	{ O_ALLOW, "allow", 0, "CIDR", "accept only peers in CIDR (repeatable)" },
	{ O_BROKER, "broker", 0, NULL, "keep accepting; what one client sends goes to all others" },
	CLI_TLS_ROW_CA,
	CLI_TLS_ROW_CERT,
	{ O_CHAT, "chat", 0, NULL, "--broker with '<user N>' prefixes and join/leave lines" },
	CLI_TLS_ROW_CIPHERS,
	CLI_TLS_ROW_CIPHERSUITES,
	{ CLI_O_CRLF, "crlf", 0, NULL, "send each line end from stdin as CRLF (one peer)" },
	{ O_DENY, "deny", 0, "CIDR", "refuse peers in CIDR (repeatable; wins over --allow)" },
	{ 'e', "exec", 'e', "'PROG ARGS'", "run PROG (no shell) for each connection, on the socket" },
	{ CLI_O_EXPLAIN, "explain", 0, NULL, "print the parsed endpoint and the socket calls; create nothing" },
	{ CLI_O_HEXDUMP, "hexdump", 0, NULL, "log the traffic both ways on stderr as a hex dump (one peer)" },
	{ CLI_O_INTERACTIVE, "interactive", 0, NULL, "line-editing terminal even when stdin/stdout are not TTYs" },
	{ 'k', "keep-open", 'k', NULL, "keep accepting: stdin to every client, every client to stdout" },
	CLI_TLS_ROW_KEY,
	CLI_TLS_ROW_KEY_PASS,
	{ O_MAX_CONNS, "max-conns", 0, "N", "with -k, at most N clients at once" },
	{ CLI_O_PCAP, "pcap", 0, "FILE", "write the traffic to FILE as a pcapng capture (one peer)" },
	{ 'p', "port", 'p', "PORT", "the port to listen on (as in nc -l -p PORT)" },
	{ O_PROXY_AUTH, "proxy-auth", 0, "FILE", "--proxy-server clients must log in as a USER:PASSWORD line of FILE" },
	{ O_PROXY_SERVER, "proxy-server", 0, "KIND", "be a socks5 or http (CONNECT) proxy; --allow/--deny apply to targets too" },
	{ CLI_O_SH, "sh", 0, "COMMAND", "run COMMAND with /bin/sh -c for each connection" },
	{ O_SYSTEMD, "systemd", 0, NULL, "serve the socket systemd passed (socket activation)" },
	{ O_TIMESTAMPS, "timestamps", 0, NULL, "with -u, prefix each datagram with its receive time" },
	{ CLI_O_TLS, "tls", 0, NULL, "TLS over TCP" },
	CLI_TLS_ROW_TLS_MAX,
	CLI_TLS_ROW_TLS_MIN,
	{ 'u', "udp", 'u', NULL, "UDP: datagrams to stdout, stdin to the latest peer" },
	{ 'U', "unix", 'U', "PATH", "listen on the UNIX stream socket PATH" },
	CLI_TLS_ROW_VERIFY_CLIENT,
	{ 0 },
};

/* Bytes queued for one -k client before stdin stops being read; a broker
 * client this far behind is dropped. */
#define CLIENT_QUEUE_MAX (256 * 1024)
#define CHUNK (64 * 1024)
/* Datagrams taken per recvmmsg, and the largest one kept whole. */
#define DGRAM_BATCH 32
/* A burst waits in the kernel while stdout drains: ask for room (capped by rmem_max). */
#define DGRAM_RCVBUF (4 * 1024 * 1024)
#define DGRAM_MAX 65536
/* "2026-11-26T01:43:11.123456789Z " */
#define STAMP_LEN 31
/* A chat line longer than this is passed on in pieces. */
#define CHAT_LINE_MAX 4096
/* A broker client with bytes queued and none taken for this long is dropped. */
#define STALL_MS 2000

/* Where -k clients' bytes go. */
enum hub_mode {
	HUB_STDIO,  /* stdin to every client, every client to stdout */
	HUB_BROKER, /* each client to every other client */
	HUB_CHAT,   /* broker, line by line, with <user N> prefixes */
};

struct client {
	struct listener_run *run;
	struct client *next;
	int fd;
	char *queue; /* stdin bytes not yet sent to this client */
	size_t queued;
	bool read_eof, blocked;
	bool dropped;              /* broker: too far behind, closed after this delivery */
	int64_t progress_at;       /* broker: when it last took bytes, or its queue filled */
	char peer[128];
	unsigned user;             /* chat: <user N> */
	char line[CHAT_LINE_MAX];  /* chat: a line not yet complete */
	size_t linelen;
};

/* A TLS peer whose handshake is still running. */
/* What a peer's PROXY header said (accept-proxy), kept until its program starts. */
struct told {
	bool valid;
	struct sk_proxy_info info;
};

struct handshake {
	struct handshake *next;
	struct cli_tls_peer *peer;
	char text[128];
	struct told told;
};

/* ws-listen with -k, a program or a hub: each peer's WebSocket session, from its opening
 * handshake until the bridge between its frames and the socketpair end its client, program
 * or hub slot uses has ended. */
struct ws_peer {
	struct ws_peer *next;
	struct listener_run *run;
	struct sk_ws_session *session;
	bool open; /* the handshake succeeded: the socketpair end is in use */
	char text[128];
	struct told told;
};

/* accept-proxy: a peer whose PROXY header is being read. */
struct header_wait {
	struct header_wait *next;
	struct listener_run *run;
	int fd;
	struct sk_proxy_reader *reader;
	char text[128];
};

struct listener_run {
	struct cli_ctx *ctx;
	const struct sk_tls_config *tls;  /* tls-listen: each peer gets a handshake first */
	struct handshake *handshakes;
	struct cli_tls_stream stream;     /* single peer over TLS */
	struct cli_children *children; /* -e/--sh: a program per connection */
	struct cli_proxy_serve *proxy; /* --proxy-server: a proxy session per connection */
	struct sk_loop *loop;
	struct sk_listener *listener;
	bool keep_open;
	enum hub_mode mode;
	const struct sk_acl *acl;
	unsigned long max_conns;
	unsigned next_user;
	struct cli_backoff backoff;
	int stall_timer;
	char name[512];
	int status;          /* exit status once stopped by us */
	int accepted_fd;     /* single-peer mode: the peer */
	const struct sk_endpoint *ws; /* ws-listen:, wss-listen:; NULL: not */
	struct ws_peer *ws_peers;     /* ws with -k, a program or a hub: one per peer */
	const struct sk_endpoint *ep; /* NULL with --systemd */
	struct header_wait *headers;  /* accept-proxy: headers still to come */
	char peer[128];
	int wait_timer, idle_timer;
	int64_t last_activity;
	/* -k and UDP: stdio joined by hand */
	struct cli_stdio io;
	bool stdin_eof, stdout_gone;
	struct client *clients;
	unsigned long nclients;
	char *outbuf;        /* peer bytes not yet written to stdout */
	size_t outlen, outcap;
	char *dgram_slots;   /* UDP: DGRAM_BATCH slots of DGRAM_MAX bytes */
	bool timestamps;
	struct sockaddr_storage dgram_peer;
	socklen_t dgram_peerlen;
};

struct listen_args {
	struct cli_endpoint_args ep;
	struct cli_exec exec;
	const char *proxy_server, *proxy_auth;
	enum sk_proxy_kind proxy_kind;
	struct cli_tls_args tls;
	bool keep_open;
	enum hub_mode mode;
	struct sk_acl *acl;
	unsigned long max_conns;
	bool systemd, timestamps;
};

static int acl_rule(struct cli_ctx *ctx, struct listen_args *a, const char *cidr, bool allow)
{
	struct sk_err err;
	int rc = a->acl ? 0 : sk_acl_create(&a->acl, &err);

	if (rc == 0)
		rc = sk_acl_add(a->acl, cidr, allow, &err);
	return rc < 0 ? cli_fail(ctx, CLI_SETUP, rc, &err) : 0;
}

static int listen_opt(struct cli_ctx *ctx, int id, const char *arg, void *state)
{
	struct listen_args *a = state;

	switch (id) {
	case 'k':
		a->keep_open = true;
		return 0;
	case CLI_O_CRLF:
	case CLI_O_HEXDUMP:
	case CLI_O_INTERACTIVE:
		return cli_stdio_opt(ctx, id);
	case CLI_O_PCAP:
		return cli_pcap_opt(ctx, arg);
	case O_PROXY_SERVER:
		a->proxy_server = arg;
		a->keep_open = true;
		return cli_proxy_kind(ctx, arg, &a->proxy_kind);
	case O_PROXY_AUTH:
		a->proxy_auth = arg;
		return 0;
	case O_ALLOW:
	case O_DENY:
		return acl_rule(ctx, a, arg, id == O_ALLOW);
	case O_BROKER:
	case O_CHAT:
		a->keep_open = true;
		a->mode = id == O_CHAT ? HUB_CHAT : HUB_BROKER;
		return 0;
	case O_SYSTEMD:
		a->systemd = true;
		return 0;
	case O_TIMESTAMPS:
		a->timestamps = true;
		return 0;
	case O_MAX_CONNS:
		if (!cli_parse_uint(arg, 1, 1000000, &a->max_conns))
			return cli_usage(ctx, "invalid --max-conns '%s': expected 1-1000000", arg);
		return 0;
	case 'e':
	case CLI_O_SH:
		return cli_exec_opt(ctx, &a->exec, id, arg);
	case 'p':
		a->ep.port = arg;
		return 0;
	default:
		if (cli_tls_opt(&a->tls, id, arg) == 0)
			return 0;
		return cli_endpoint_opt(ctx, &a->ep, id, arg);
	}
}

static void stop(struct listener_run *r, int status)
{
	r->status = status;
	sk_loop_stop(r->loop, 0);
}

static void log_peer(struct listener_run *r, const char *event, const char *peer)
{
	cli_event(r->ctx, event, (struct cli_field[]){ { "peer", peer, 0 } }, 1, "%s %s",
		strcmp(event, "accepted") == 0 ? "connection from" : "closed", peer);
}

/* ---- timers: -w (first peer) and -i (idle, for -k and UDP) ---------------- */

static void on_wait_expired(struct sk_loop *loop, void *userdata)
{
	struct listener_run *r = userdata;
	struct sk_err err;

	r->wait_timer = 0;
	snprintf(err.what, sizeof(err.what), "wait for a peer on %.120s", r->name);
	snprintf(err.why, sizeof(err.why), "no peer within %d.%03d s", r->ctx->timeout_ms / 1000,
		r->ctx->timeout_ms % 1000);
	err.pos = -1;
	stop(r, cli_fail(r->ctx, CLI_CONNECT, SK_EWAIT, &err));
}

static void got_peer(struct listener_run *r)
{
	if (r->wait_timer > 0)
		sk_loop_cancel_timer(r->loop, r->wait_timer);
	r->wait_timer = 0;
	r->last_activity = sk_loop_now(r->loop);
}

static void on_idle(struct sk_loop *loop, void *userdata)
{
	struct listener_run *r = userdata;
	int64_t quiet = sk_loop_now(loop) - r->last_activity;
	struct sk_err err;

	r->idle_timer = 0;
	if (quiet < r->ctx->idle_timeout_ms) {
		r->idle_timer = sk_loop_add_timer(loop, r->ctx->idle_timeout_ms - quiet, on_idle, r);
		return;
	}
	snprintf(err.what, sizeof(err.what), "listen on %.140s", r->name);
	snprintf(err.why, sizeof(err.why), "no data for the idle timeout");
	err.pos = -1;
	stop(r, cli_fail(r->ctx, CLI_TRANSFER, SK_EIDLE, &err));
}

/* ---- stdout, shared by every -k client and by UDP ------------------------- */

static void update_interest(struct listener_run *r);

static void flush_stdout(struct listener_run *r)
{
	while (r->outlen && !r->stdout_gone) {
		ssize_t n = write(r->io.out, r->outbuf, r->outlen);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			/* The reader left (| head): peers' bytes are no longer wanted. */
			r->stdout_gone = true;
			break;
		}
		memmove(r->outbuf, r->outbuf + n, r->outlen - (size_t)n);
		r->outlen -= (size_t)n;
	}
	if (r->stdout_gone)
		r->outlen = 0;
}

static void on_stdout(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct listener_run *r = userdata;

	flush_stdout(r);
	update_interest(r);
}

/* ---- -k: many clients ------------------------------------------------------- */

static void hub_announce(struct listener_run *r, const struct client *except, unsigned user,
	const char *event);

static void client_close(struct client *c)
{
	struct listener_run *r = c->run;
	unsigned user = c->user;

	for (struct client **pp = &r->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	sk_loop_del_fd(r->loop, c->fd);
	close(c->fd);
	log_peer(r, "closed", c->peer);
	free(c->queue);
	free(c);
	r->nclients--;
	if (r->mode == HUB_CHAT)
		hub_announce(r, NULL, user, "left");
}

/* Send what is queued; at stdin EOF with nothing left, half-close. */
static bool client_flush(struct client *c)
{
	while (c->queued) {
		ssize_t n = send(c->fd, c->queue, c->queued, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			c->blocked = true;
			return true;
		}
		if (n < 0)
			return false;
		memmove(c->queue, c->queue + n, c->queued - (size_t)n);
		c->queued -= (size_t)n;
		c->progress_at = sk_loop_now(c->run->loop);
	}
	c->blocked = false;
	if (c->run->stdin_eof && c->run->mode == HUB_STDIO)
		shutdown(c->fd, SHUT_WR);
	return true;
}

/* ---- --broker and --chat: clients talk to each other ------------------------ */

/* Queue data for one client; a client that fell too far behind is marked to drop. */
static void client_queue(struct client *c, const char *data, size_t len)
{
	if (c->dropped)
		return;
	if (c->queued + len > CLIENT_QUEUE_MAX) {
		c->dropped = true;
		return;
	}
	if (!c->queued)
		c->progress_at = sk_loop_now(c->run->loop);
	memcpy(c->queue + c->queued, data, len);
	c->queued += len;
	if (!client_flush(c))
		c->dropped = true;
}

/* Close the clients marked while delivering (closing may announce, and mark more). */
static void drop_marked(struct listener_run *r)
{
	struct client *c = r->clients;

	while (c) {
		if (!c->dropped) {
			c = c->next;
			continue;
		}
		cli_event(r->ctx, "dropped", (struct cli_field[]){ { "peer", c->peer, 0 } }, 1,
			"dropped %s: too far behind", c->peer);
		client_close(c);
		c = r->clients;
	}
}

/*
 * Senders wait while some client's queue is nearly full (reads pause), so
 * a client merely slower than the rest loses nothing; one that takes no
 * bytes at all for STALL_MS is dropped, and the others go on.
 */
static void on_stall_check(struct sk_loop *loop, void *userdata)
{
	struct listener_run *r = userdata;
	int64_t now = sk_loop_now(loop);

	for (struct client *c = r->clients; c; c = c->next)
		if (c->queued && now - c->progress_at >= STALL_MS)
			c->dropped = true;
	drop_marked(r);
	update_interest(r);
	r->stall_timer = sk_loop_add_timer(loop, STALL_MS / 4, on_stall_check, r);
}

static void hub_deliver(struct listener_run *r, const struct client *from, const char *data,
	size_t len)
{
	for (struct client *c = r->clients; c; c = c->next)
		if (c != from)
			client_queue(c, data, len);
}

/* "<announce> user 3 joined" to everyone but except. */
static void hub_announce(struct listener_run *r, const struct client *except, unsigned user,
	const char *event)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "<announce> user %u %s\n", user, event);

	hub_deliver(r, except, line, (size_t)n);
	drop_marked(r);
}

/* Pass on whole lines as "<user N> line"; a line too long goes in pieces. */
static void chat_line(struct client *c, bool flush)
{
	char prefix[32];
	int n;

	if (!c->linelen && !flush)
		return;
	n = snprintf(prefix, sizeof(prefix), "<user %u> ", c->user);
	hub_deliver(c->run, c, prefix, (size_t)n);
	hub_deliver(c->run, c, c->line, c->linelen);
	if (!c->linelen || c->line[c->linelen - 1] != '\n')
		hub_deliver(c->run, c, "\n", 1);
	c->linelen = 0;
}

static void chat_feed(struct client *c, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		c->line[c->linelen++] = data[i];
		if (data[i] == '\n' || c->linelen == sizeof(c->line))
			chat_line(c, true);
	}
}

/* A client's bytes to the other clients (broker, chat); false on a read error. */
static bool client_read_hub(struct client *c)
{
	char buf[CHUNK];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN;
	if (n == 0) {
		c->read_eof = true;
		if (c->run->mode == HUB_CHAT && c->linelen)
			chat_line(c, true);
		return true;
	}
	c->run->last_activity = sk_loop_now(c->run->loop);
	if (c->run->mode == HUB_CHAT)
		chat_feed(c, buf, (size_t)n);
	else
		hub_deliver(c->run, c, buf, (size_t)n);
	return true;
}

static bool client_read(struct client *c)
{
	struct listener_run *r = c->run;
	ssize_t n;

	if (r->mode != HUB_STDIO)
		return client_read_hub(c);
	if (r->outlen >= r->outcap)
		return true;
	n = recv(c->fd, r->outbuf + r->outlen, r->outcap - r->outlen, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN;
	if (n == 0) {
		c->read_eof = true;
		return true;
	}
	r->outlen += (size_t)n;
	r->last_activity = sk_loop_now(r->loop);
	flush_stdout(r);
	return true;
}

static void on_client(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct client *c = userdata;
	struct listener_run *r = c->run;
	bool ok = true;

	if (events & (SK_EV_IN | SK_EV_HUP | SK_EV_ERR))
		ok = client_read(c);
	if (ok && (events & SK_EV_OUT))
		ok = client_flush(c);
	/* The client has finished sending and has what stdin gave so far: it is done (as with
	 * ncat -k), or `echo hi | sockit connect` would wait for an end of stdin that may never
	 * come, holding a --max-conns place. */
	if (!ok || (c->read_eof && !c->queued))
		client_close(c);
	drop_marked(r);
	update_interest(r);
}

static void broadcast(struct listener_run *r, const char *data, size_t len)
{
	struct client *next;

	for (struct client *c = r->clients; c; c = next) {
		next = c->next;
		memcpy(c->queue + c->queued, data, len);
		c->queued += len;
		if (!client_flush(c))
			client_close(c);
	}
}

/* Room in every queue for one more read (chat prefixes ride on the margin). */
static bool hub_has_room(const struct listener_run *r)
{
	for (const struct client *c = r->clients; c; c = c->next)
		if (c->queued + 2 * CHUNK > CLIENT_QUEUE_MAX)
			return false;
	return true;
}

static bool clients_have_room(const struct listener_run *r)
{
	for (const struct client *c = r->clients; c; c = c->next)
		if (c->queued + CHUNK > CLIENT_QUEUE_MAX)
			return false;
	return r->clients != NULL;
}

/* ---- UDP: datagrams to stdout, stdin to the latest peer --------------------- */

/* "2026-11-26T01:43:11.123456789Z " before a datagram, for --timestamps. */
static void stamp(char *out, const struct timespec *ts)
{
	struct tm tm;
	char date[24], text[64];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(text, sizeof(text), "%.19s.%09ldZ ", date, ts->tv_nsec % 1000000000L);
	memcpy(out, text, STAMP_LEN);
}

/* One datagram to the stdout buffer; its sender becomes the peer stdin answers. */
static void take_datagram(struct listener_run *r, const struct sk_dgram *d)
{
	struct sk_peer peer = { .addr = d->from, .addrlen = d->fromlen };
	char text[128];

	if (!sk_acl_permits(r->acl, (const struct sockaddr *)&d->from))
		return;
	if (peer.addrlen != r->dgram_peerlen || memcmp(&peer.addr, &r->dgram_peer, peer.addrlen)) {
		cli_peer_text(&peer, text, sizeof(text));
		log_peer(r, "accepted", text);
	}
	got_peer(r);
	r->dgram_peer = peer.addr;
	r->dgram_peerlen = peer.addrlen;
	if (r->timestamps) {
		stamp(r->outbuf + r->outlen, &d->when);
		r->outlen += STAMP_LEN;
	}
	memcpy(r->outbuf + r->outlen, d->data, d->len);
	r->outlen += d->len;
	/* With stamps the output is lines: one datagram, one line. */
	if (r->timestamps && (!d->len || d->data[d->len - 1] != '\n'))
		r->outbuf[r->outlen++] = '\n';
}

/* A batch of datagrams (recvmmsg); each reaches stdout whole. */
static void dgram_read(struct listener_run *r)
{
	struct sk_dgram d[DGRAM_BATCH];
	struct sk_err err;
	int n;

	if (r->outlen)
		return;
	n = sk_dgram_recv(sk_listener_fd(r->listener), d, DGRAM_BATCH, r->dgram_slots, DGRAM_MAX,
		&err);
	for (int i = 0; i < n; i++)
		take_datagram(r, &d[i]);
	flush_stdout(r);
}

/* ---- stdin ------------------------------------------------------------------- */

static void on_stdin(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct listener_run *r = userdata;
	char buf[CHUNK];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		r->stdin_eof = true;
		sk_loop_del_fd(loop, fd);
		for (struct client *c = r->clients; c; c = c->next)
			if (!c->queued)
				shutdown(c->fd, SHUT_WR);
		update_interest(r);
		return;
	}
	r->last_activity = sk_loop_now(loop);
	if (sk_listener_socktype(r->listener) == SOCK_DGRAM)
		sendto(sk_listener_fd(r->listener), buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL,
			(struct sockaddr *)&r->dgram_peer, r->dgram_peerlen);
	else
		broadcast(r, buf, (size_t)n);
	update_interest(r);
}

/* ---- accepting ----------------------------------------------------------------- */

static void add_client(struct listener_run *r, int fd, const char *peer)
{
	struct client *c = calloc(1, sizeof(*c));

	if (c)
		c->queue = malloc(CLIENT_QUEUE_MAX);
	if (!c || !c->queue || sk_loop_add_fd(r->loop, fd, SK_EV_IN, on_client, c) < 0) {
		if (c)
			free(c->queue);
		free(c);
		close(fd);
		return;
	}
	c->run = r;
	c->fd = fd;
	c->user = ++r->next_user;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->next = r->clients;
	r->clients = c;
	r->nclients++;
	if (r->stdin_eof && r->mode == HUB_STDIO)
		shutdown(fd, SHUT_WR);
	if (r->mode == HUB_CHAT) {
		char you[64];
		int n = snprintf(you, sizeof(you), "<announce> you are user %u\n", c->user);

		client_queue(c, you, (size_t)n);
		hub_announce(r, c, c->user, "joined");
	}
}

/* A peer the --allow/--deny rules keep out: a reset, so it cannot mistake it for EOF. */
static void refuse(struct listener_run *r, int fd, const char *peer)
{
	cli_close(fd, true);
	cli_event(r->ctx, "refused", (struct cli_field[]){ { "peer", peer, 0 } }, 1,
		"refused %s (--allow/--deny)", peer);
}

static void on_backoff_over(struct sk_loop *loop, void *userdata)
{
	struct listener_run *r = userdata;

	r->backoff.paused = false;
	update_interest(r);
}

/* ---- -e/--sh: a program per connection (src/child.c) ------------------------------ */

static void handshakes_destroy(struct listener_run *r);
static void ws_peers_destroy(struct listener_run *r, bool open_too);

static void on_child_exit(void *userdata, int status)
{
	struct listener_run *r = userdata;

	r->nclients--;
	r->last_activity = sk_loop_now(r->loop);
	if (!r->keep_open)
		stop(r, status); /* the one peer's program decides the exit status */
	else
		update_interest(r);
}

/* --proxy-server: a session ended; --max-conns counts live ones. */
static void on_proxy_session_end(void *userdata, int status)
{
	struct listener_run *r = userdata;

	r->nclients--;
	r->last_activity = sk_loop_now(r->loop);
	update_interest(r);
}

static void exec_peer(struct listener_run *r, int fd, const char *peer, const struct told *told)
{
	int status = cli_child_spawn(r->children, fd, peer, told->valid ? &told->info : NULL);

	if (status == 0)
		r->nclients++;
	if (r->keep_open) {
		update_interest(r); /* --max-conns counts live programs */
		return;
	}
	/* One peer: later peers are refused; wait for its program to end. */
	sk_loop_del_fd(r->loop, sk_listener_fd(r->listener));
	sk_listener_stop(r->listener);
	handshakes_destroy(r);
	ws_peers_destroy(r, false);
	if (status)
		stop(r, status);
}

static void headers_destroy(struct listener_run *r);

/* A connected peer (the plaintext of a TLS one): a program, the one peer, or a -k client. */
static void peer_ready(struct listener_run *r, int fd, const char *text, const struct told *told)
{
	if (r->children) {
		exec_peer(r, fd, text, told);
		return;
	}
	if (r->proxy) {
		r->nclients++;
		cli_proxy_serve_client(r->proxy, fd, text);
		update_interest(r);
		return;
	}
	if (!r->keep_open) {
		r->accepted_fd = fd;
		snprintf(r->peer, sizeof(r->peer), "%s", text);
		headers_destroy(r); /* the one peer is chosen */
		stop(r, -1);
		return;
	}
	add_client(r, fd, text);
	update_interest(r);
}

/* ---- ws-listen with many peers: a session per peer, none blocking the others ------- */

static void ws_peer_free(struct listener_run *r, struct ws_peer *wp)
{
	for (struct ws_peer **pp = &r->ws_peers; *pp; pp = &(*pp)->next) {
		if (*pp == wp) {
			*pp = wp->next;
			break;
		}
	}
	sk_ws_session_destroy(wp->session);
	free(wp);
}

/* open_too: also the sessions whose peers are being served, not only handshakes. */
static void ws_peers_destroy(struct listener_run *r, bool open_too)
{
	for (struct ws_peer **pp = &r->ws_peers; *pp;) {
		struct ws_peer *wp = *pp;

		if (!open_too && wp->open) {
			pp = &wp->next;
			continue;
		}
		*pp = wp->next;
		sk_ws_session_destroy(wp->session);
		free(wp);
	}
}

static void on_ws_peer_ready(struct sk_ws_session *s, int fd, const struct sk_err *err,
	void *userdata)
{
	struct ws_peer *wp = userdata;
	struct listener_run *r = wp->run;

	(void)s;
	if (fd < 0) {
		/* One client's failure is not the listener's: log it, go on listening. */
		cli_log(r->ctx, 1, "%s: %s", err->what, err->why);
		ws_peer_free(r, wp);
		return;
	}
	wp->open = true;
	got_peer(r);
	peer_ready(r, fd, wp->text, &wp->told);
}

static void on_ws_peer_done(struct sk_ws_session *s, int status, const struct sk_err *err,
	void *userdata)
{
	struct ws_peer *wp = userdata;

	(void)s;
	if (status < 0)
		cli_log(wp->run->ctx, 1, "%s: %s", err->what, err->why);
	ws_peer_free(wp->run, wp);
}

static void ws_peer_start(struct listener_run *r, int fd, const char *text,
	const struct told *told)
{
	struct ws_peer *wp = calloc(1, sizeof(*wp));
	struct sk_ws_session_opts o = {
		.server = true,
		.path = sk_endpoint_path(r->ws),
		.peer = text,
		.timeout_ms = r->ctx->timeout_ms,
		.ready = on_ws_peer_ready,
		.done = on_ws_peer_done,
		.userdata = wp,
	};
	struct sk_err err;

	if (!wp) {
		cli_close(fd, true);
		return;
	}
	wp->run = r;
	wp->told = *told;
	snprintf(wp->text, sizeof(wp->text), "%s", text);
	if (sk_ws_session_start(r->loop, fd, &o, &wp->session, &err) < 0) { /* adopts fd */
		cli_log(r->ctx, 1, "%s: %s", err.what, err.why);
		free(wp);
		return;
	}
	wp->next = r->ws_peers;
	r->ws_peers = wp;
}

/* A peer past accept (and TLS): its WebSocket handshake first where there is one to serve
 * many; the one stdio peer of ws-listen does its handshake after the listener stops. */
static void peer_open(struct listener_run *r, int fd, const char *text, const struct told *told)
{
	if (r->ws && (r->keep_open || r->children)) {
		ws_peer_start(r, fd, text, told);
		return;
	}
	got_peer(r);
	peer_ready(r, fd, text, told);
}

/* ---- tls-listen: a handshake per peer, none blocking the others ------------------- */

/* Take the handshake of p off the list; returns it (the caller frees it). */
static struct handshake *handshake_take(struct listener_run *r, const struct cli_tls_peer *p)
{
	for (struct handshake **pp = &r->handshakes; *pp; pp = &(*pp)->next) {
		struct handshake *h = *pp;

		if (h->peer == p) {
			*pp = h->next;
			return h;
		}
	}
	return NULL;
}

static void handshakes_destroy(struct listener_run *r)
{
	while (r->handshakes) {
		struct handshake *h = r->handshakes;

		r->handshakes = h->next;
		cli_tls_peer_destroy(h->peer);
		free(h);
	}
}

/* The one peer's stream failed (truncation, reset): that will be the exit status. */
static void on_tls_done(struct cli_tls_peer *p, int status, const struct sk_err *err,
	void *userdata)
{
	struct listener_run *r = userdata;

	(void)p;
	cli_tls_stream_ended(&r->stream, status, err);
}

static void on_tls_ready(struct cli_tls_peer *p, int fd, const struct sk_err *err,
	void *userdata)
{
	struct listener_run *r = userdata;
	struct handshake *h = handshake_take(r, p);
	struct told told = h ? h->told : (struct told){ 0 };
	char text[128];

	snprintf(text, sizeof(text), "%s", h ? h->text : "peer");
	free(h);
	if (fd < 0 && (r->keep_open || r->children)) {
		/* One client's failure is not the listener's: log it, go on listening. */
		cli_log(r->ctx, 1, "%s: %s", err->what, err->why);
		cli_tls_peer_destroy(p);
		return;
	}
	if (fd < 0) {
		/* Without -k the first peer is the session, as in nc: its failed handshake ends it. */
		cli_tls_peer_destroy(p);
		stop(r, cli_fail(r->ctx, CLI_CONNECT, fd, err));
		return;
	}
	if (r->keep_open || r->children) {
		cli_tls_peer_release(p); /* it finishes on its own */
		peer_open(r, fd, text, &told);
		return;
	}
	got_peer(r);
	r->stream.peer = p;
	r->stream.loop = r->loop;
	handshakes_destroy(r); /* the one peer is chosen */
	peer_ready(r, fd, text, &told);
}

static void handshake_start(struct listener_run *r, int fd, const char *text,
	const struct told *told)
{
	struct handshake *h = calloc(1, sizeof(*h));
	struct sk_err err;

	if (!h) {
		close(fd);
		return;
	}
	snprintf(h->text, sizeof(h->text), "%s", text);
	h->told = *told;
	if (cli_tls_peer_start(r->ctx, r->loop, r->tls, fd, text, on_tls_ready, on_tls_done, r,
		    &h->peer, &err) < 0) {
		cli_log(r->ctx, 1, "%s: %s", err.what, err.why);
		free(h);
		return;
	}
	h->next = r->handshakes;
	r->handshakes = h;
}

/* An accepted peer, named as its PROXY header said (or as accepted): TLS first, or on. */
static void peer_accepted(struct listener_run *r, int fd, const char *text, const struct told *told)
{
	/* -w waits for a peer: over TLS, one whose handshake succeeds. */
	if (r->tls) {
		handshake_start(r, fd, text, told);
		return;
	}
	peer_open(r, fd, text, told);
}

static struct header_wait *header_take(struct listener_run *r, const struct header_wait *hw)
{
	for (struct header_wait **pp = &r->headers; *pp; pp = &(*pp)->next) {
		if (*pp == hw) {
			*pp = hw->next;
			return (struct header_wait *)hw;
		}
	}
	return NULL;
}

static void on_header(struct sk_proxy_reader *reader, int rc, const struct sk_proxy_info *info,
	const struct sk_err *err, void *userdata)
{
	struct header_wait *hw = header_take(((struct header_wait *)userdata)->run, userdata);
	struct listener_run *r = hw->run;
	struct told told = { .valid = rc == 0 && !info->local };
	char text[128];

	sk_proxy_reader_destroy(reader);
	snprintf(text, sizeof(text), "%s", hw->text);
	if (rc < 0) {
		cli_log(r->ctx, 1, "%s: %s: %s", hw->text, err->what, err->why);
		cli_close(hw->fd, true);
		free(hw);
		return;
	}
	if (told.valid) {
		struct sk_peer client = { .addr = info->src, .addrlen = sizeof(info->src) };

		told.info = *info;
		cli_peer_text(&client, text, sizeof(text));
		cli_event(r->ctx, "proxied", (struct cli_field[]){ { "peer", text, 0 } }, 1,
			"PROXY header: client %s", text);
		/* --allow/--deny speak of the client the header names, too */
		if (!sk_acl_permits(r->acl, (struct sockaddr *)&info->src)) {
			refuse(r, hw->fd, text);
			free(hw);
			return;
		}
	}
	peer_accepted(r, hw->fd, text, &told);
	free(hw);
}

/* accept-proxy: read the peer's PROXY header before anything else. */
static void header_start(struct listener_run *r, int fd, const char *text)
{
	struct header_wait *hw = calloc(1, sizeof(*hw));
	struct sk_err err;

	if (!hw) {
		cli_close(fd, true);
		return;
	}
	hw->run = r;
	hw->fd = fd;
	snprintf(hw->text, sizeof(hw->text), "%s", text);
	if (sk_proxy_reader_start(r->loop, fd, r->ctx->timeout_ms, on_header, hw, &hw->reader,
		    &err) < 0) {
		cli_log(r->ctx, 1, "%s: %s: %s", text, err.what, err.why);
		cli_close(fd, true);
		free(hw);
		return;
	}
	hw->next = r->headers;
	r->headers = hw;
}

static void headers_destroy(struct listener_run *r)
{
	while (r->headers) {
		struct header_wait *hw = r->headers;

		r->headers = hw->next;
		sk_proxy_reader_destroy(hw->reader);
		cli_close(hw->fd, false);
		free(hw);
	}
}

static void on_listener(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct listener_run *r = userdata;
	struct sk_peer peer;
	struct sk_err err;
	char text[128];
	int cfd;

	if (sk_listener_socktype(r->listener) == SOCK_DGRAM) {
		dgram_read(r);
		update_interest(r);
		return;
	}
	cfd = sk_listener_accept(r->listener, &peer, &err);
	if (cfd < 0 && cli_accept_backoff(r->ctx, &r->backoff, r->loop, cfd, &err,
			       on_backoff_over, r)) {
		update_interest(r);
		return;
	}
	if (cfd == -EAGAIN || cfd == -ECONNABORTED)
		return;
	if (cfd < 0) {
		stop(r, cli_fail(r->ctx, CLI_SETUP, cfd, &err));
		return;
	}
	cli_accept_ok(r->ctx, &r->backoff, r->name);
	cli_peer_text(&peer, text, sizeof(text));
	if (!sk_acl_permits(r->acl, (struct sockaddr *)&peer.addr)) {
		refuse(r, cfd, text);
		return;
	}
	log_peer(r, "accepted", text);
	switch (r->ep ? sk_endpoint_proxy_sender(r->ep, (struct sockaddr *)&peer.addr) : 0) {
	case 0:
		peer_accepted(r, cfd, text, &(struct told){ 0 });
		return;
	case 1:
		header_start(r, cfd, text);
		return;
	default:
		cli_log(r->ctx, 1, "%s: refused: not a PROXY header sender accept-proxy allows", text);
		cli_close(cfd, true);
		return;
	}
}

static void update_interest(struct listener_run *r)
{
	bool dgram = sk_listener_socktype(r->listener) == SOCK_DGRAM;
	bool room = r->outlen < r->outcap && (!dgram || r->outlen == 0);
	unsigned lev = 0;

	if (r->io.out >= 0)
		sk_loop_mod_fd(r->loop, r->io.out, r->outlen ? SK_EV_OUT : 0);
	if (dgram)
		lev = room ? SK_EV_IN : 0;
	else if (!r->backoff.paused && (!r->max_conns || r->nclients < r->max_conns))
		lev = SK_EV_IN;
	sk_loop_mod_fd(r->loop, sk_listener_fd(r->listener), lev);
	if (!r->stdin_eof) {
		bool want = dgram ? r->dgram_peerlen > 0 : clients_have_room(r);

		sk_loop_mod_fd(r->loop, r->io.in, want ? SK_EV_IN : 0);
	}
	if (r->mode != HUB_STDIO)
		room = hub_has_room(r);
	for (struct client *c = r->clients; c; c = c->next)
		sk_loop_mod_fd(r->loop, c->fd,
			(!c->read_eof && room ? SK_EV_IN : 0) | (c->blocked ? SK_EV_OUT : 0));
}

/* ---- running ---------------------------------------------------------------------- */

static int watch_stdio(struct listener_run *r)
{
	int status = cli_stdio_open(r->ctx, &r->io);

	if (status)
		return status;
	if (sk_listener_socktype(r->listener) == SOCK_DGRAM) {
		r->outcap = DGRAM_BATCH * (DGRAM_MAX + STAMP_LEN + 1);
		r->dgram_slots = malloc(DGRAM_BATCH * DGRAM_MAX);
	} else {
		r->outcap = CHUNK * 4;
	}
	r->outbuf = malloc(r->outcap);
	if (!r->outbuf || (sk_listener_socktype(r->listener) == SOCK_DGRAM && !r->dgram_slots) || sk_loop_add_fd(r->loop, r->io.in, 0, on_stdin, r) < 0 ||
		sk_loop_add_fd(r->loop, r->io.out, 0, on_stdout, r) < 0)
		return cli_fail(r->ctx, CLI_SETUP, -ENOMEM, NULL);
	return 0;
}

static int serve(struct listener_run *r)
{
	int status = 0, rc;

	if (r->children || r->proxy) {
		r->stdin_eof = true; /* each connection has its own peer; stdin is not read */
	} else if (r->mode != HUB_STDIO) {
		r->stdin_eof = true; /* clients talk to each other; stdio stays out of it */
		r->stall_timer = sk_loop_add_timer(r->loop, STALL_MS / 4, on_stall_check, r);
	} else if (r->keep_open || sk_listener_socktype(r->listener) == SOCK_DGRAM) {
		status = watch_stdio(r);
		if (status)
			return status;
	}
	if (r->keep_open || sk_listener_socktype(r->listener) == SOCK_DGRAM) {
		if (r->ctx->idle_timeout_ms > 0)
			r->idle_timer = sk_loop_add_timer(r->loop, r->ctx->idle_timeout_ms, on_idle, r);
	}
	if (sk_loop_add_fd(r->loop, sk_listener_fd(r->listener), SK_EV_IN, on_listener, r) < 0)
		return cli_fail(r->ctx, CLI_SETUP, -ENOMEM, NULL);
	if (r->ctx->timeout_ms > 0)
		r->wait_timer = sk_loop_add_timer(r->loop, r->ctx->timeout_ms, on_wait_expired, r);
	if (r->keep_open || r->io.out >= 0)
		update_interest(r);
	r->status = -1;
	rc = sk_loop_run(r->loop);
	if (r->status < 0 && r->accepted_fd < 0)
		return rc; /* a signal: 128+N */
	if (r->accepted_fd < 0)
		return r->status;
	/* One peer: stop listening, then behave like connect. */
	sk_loop_del_fd(r->loop, sk_listener_fd(r->listener));
	sk_listener_stop(r->listener);
	if (r->wait_timer > 0)
		sk_loop_cancel_timer(r->loop, r->wait_timer);
	if (r->ws) {
		struct cli_ws_stream ws;

		status = cli_ws_stream_open(r->ctx, r->loop, r->ws, r->accepted_fd, true, r->peer,
			&ws); /* adopts the fd */
		if (status == 0)
			status = cli_pump_stdio(r->ctx, r->loop, ws.plain, r->peer, SOCK_STREAM, false);
		status = cli_ws_stream_close(r->ctx, &ws, status);
	} else {
		status = cli_pump_stdio(r->ctx, r->loop, r->accepted_fd, r->peer,
			sk_listener_socktype(r->listener), false);
		close(r->accepted_fd);
	}
	if (r->stream.peer)
		status = cli_tls_stream_close(r->ctx, &r->stream, status);
	log_peer(r, "closed", r->peer);
	return status;
}

static void run_cleanup(struct listener_run *r)
{
	handshakes_destroy(r);
	ws_peers_destroy(r, true);
	cli_tls_peer_destroy(r->stream.peer);
	cli_tls_peers_drain(r->loop, 0);
	headers_destroy(r);
	while (r->clients)
		client_close(r->clients);
	cli_stdio_close(&r->io);
	free(r->outbuf);
	free(r->dgram_slots);
	cli_children_destroy(r->children);
	cli_proxy_serve_destroy(r->proxy);
	sk_listener_destroy(r->listener);
	sk_loop_destroy(r->loop);
}

/* Options that only make sense for some listeners, checked before anything listens. */
static int check_hub_args(const struct cli_ctx *ctx, const struct listen_args *a,
	const struct sk_endpoint *ep)
{
	enum sk_transport t = sk_endpoint_transport(ep);

	if (a->acl && t != SK_TCP && t != SK_UDP && t != SK_TLS)
		return cli_usage(ctx, "--allow/--deny apply to IP listeners, not %s",
			sk_endpoint_type_name(ep));
	if (a->mode != HUB_STDIO && sk_endpoint_socktype(ep) == SOCK_DGRAM)
		return cli_usage(ctx, "--broker/--chat need a stream listener, not %s",
			sk_endpoint_type_name(ep));
	if (a->timestamps && sk_endpoint_socktype(ep) != SOCK_DGRAM)
		return cli_usage(ctx, "--timestamps needs a datagram listener (-u), not %s",
			sk_endpoint_type_name(ep));
	return 0;
}

/* -e/--sh serve stream peers one program each; stdio and the hubs are elsewhere. */
static int check_proxy_args(const struct cli_ctx *ctx, const struct listen_args *a,
	const struct sk_endpoint *ep)
{
	if (a->proxy_auth && !a->proxy_server)
		return cli_usage(ctx, "--proxy-auth needs --proxy-server");
	if (!a->proxy_server)
		return 0;
	if (a->exec.text || a->mode != HUB_STDIO)
		return cli_usage(ctx, "--proxy-server excludes -e/--exec, --sh, --broker and --chat");
	if (ep && sk_endpoint_socktype(ep) != SOCK_STREAM)
		return cli_usage(ctx, "--proxy-server needs a stream listener, not %s",
			sk_endpoint_type_name(ep));
	return 0;
}

/* A proxy server speaks SOCKS or HTTP on the connection itself, not inside WebSocket frames. */
static int check_ws_args(const struct cli_ctx *ctx, const struct listen_args *a,
	const struct sk_endpoint *ep)
{
	if (!cli_ws_wanted(ep) || !a->proxy_server)
		return 0;
	return cli_usage(ctx, "--proxy-server is not supported with %s", sk_endpoint_type_name(ep));
}

static int check_exec_args(const struct cli_ctx *ctx, const struct listen_args *a,
	const struct sk_endpoint *ep)
{
	if (!a->exec.text)
		return 0;
	if (a->mode != HUB_STDIO)
		return cli_usage(ctx, "-e/--exec and --sh exclude --broker and --chat");
	if (sk_endpoint_socktype(ep) == SOCK_DGRAM)
		return cli_usage(ctx, "-e/--exec and --sh are not supported with datagram "
				      "listeners (-u, %s) yet", sk_endpoint_type_name(ep));
	return 0;
}

/* Unless rcvbuf= says otherwise; root may pass rmem_max (SO_RCVBUFFORCE). */
static void widen_rcvbuf(const struct sk_endpoint *ep, int fd)
{
	const char *given[64];
	size_t n = ep ? sk_endpoint_options_given(ep, given, 64) : 0;
	int size = DGRAM_RCVBUF;

	for (size_t i = 0; i < n; i++)
		if (strcmp(given[i], "rcvbuf") == 0)
			return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* --systemd stands instead of an endpoint, so nothing may name one. */
static int check_systemd_args(const struct cli_ctx *ctx, const struct listen_args *a, int npos)
{
	if (npos > 0 || a->ep.port || a->ep.unix_path || a->ep.abstract_name || a->ep.udp ||
		a->ep.tls || a->ep.explain)
		return cli_usage(ctx, "--systemd takes the socket systemd passes: no endpoint, "
				      "port or -u/-U/--abstract/--tls/--explain");
	return 0;
}

/* What check_hub_args and check_exec_args say of an endpoint, for a passed socket. */
static int check_passed_socket(const struct cli_ctx *ctx, const struct listen_args *a,
	const struct sk_listener *l)
{
	bool dgram = sk_listener_socktype(l) == SOCK_DGRAM;

	if (dgram && (a->mode != HUB_STDIO || a->exec.text))
		return cli_usage(ctx, "--systemd passed a datagram socket: %s needs a stream one",
			a->exec.text ? (a->exec.shell ? "--sh" : "--exec") : "--broker/--chat");
	if (!dgram && a->timestamps)
		return cli_usage(ctx, "--systemd passed a stream socket: --timestamps needs a "
				      "datagram one");
	return 0;
}

/* The one socket systemd passed us (LISTEN_FDS=1, LISTEN_PID ours). */
static int adopt_systemd_socket(struct sk_listener **out, struct sk_err *err)
{
	int n = sk_systemd_listen_fds(true, err);

	if (n < 0)
		return n;
	if (n != 1) {
		snprintf(err->what, sizeof(err->what), "--systemd");
		if (n)
			snprintf(err->why, sizeof(err->why), "%d sockets passed; listen serves one", n);
		else
			snprintf(err->why, sizeof(err->why), "no socket passed (LISTEN_PID, LISTEN_FDS)");
		err->pos = -1;
		return SK_EUSAGE;
	}
	return sk_listener_adopt_fd(sk_systemd_first_fd(), out, err);
}

/* --crlf, --hexdump, --interactive and --pcap shape the one-peer stdio session only. */
static int check_stdio_args(const struct cli_ctx *ctx, const struct listen_args *a,
	const struct sk_endpoint *ep)
{
	if (a->exec.text)
		return cli_stdio_opts_unsupported(ctx, a->exec.shell ? "--sh" : "--exec");
	if (a->proxy_server)
		return cli_stdio_opts_unsupported(ctx, "--proxy-server");
	if (a->keep_open)
		return cli_stdio_opts_unsupported(ctx, "--keep-open");
	if (sk_endpoint_socktype(ep) == SOCK_DGRAM)
		return cli_stdio_opts_unsupported(ctx, "UDP");
	return 0;
}

static int listen_run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct listen_args a = { 0 };
	struct listener_run r = { .ctx = ctx, .accepted_fd = -1, .io = { -1, -1 } };
	struct sk_tls_config *tls = NULL;
	struct sk_endpoint *ep = NULL;
	struct sk_err err;
	int first, status, rc;

	if (cli_parse(ctx, &cmd_listen, argc, argv, listen_opt, &a, &first, &status) < 0)
		goto out;
	if (a.systemd)
		status = check_systemd_args(ctx, &a, argc - first);
	else
		status = cli_endpoint_build_tls(ctx, &a.ep, &a.tls, true, argc - first,
			argv + first, NULL, &ep);
	if (status == 0 && ep)
		status = check_hub_args(ctx, &a, ep);
	if (status == 0)
		status = check_proxy_args(ctx, &a, ep);
	if (status == 0 && ep)
		status = check_ws_args(ctx, &a, ep);
	if (status == 0 && ep)
		status = check_exec_args(ctx, &a, ep);
	if (status == 0 && ep)
		status = check_stdio_args(ctx, &a, ep);
	if (status)
		goto out;
	if (a.ep.explain) {
		status = cli_endpoint_explain(ctx, ep);
		goto out;
	}
	/* Bad certificates and keys stop us before anything listens. */
	status = ep ? cli_tls_config(ctx, ep, &tls) : 0;
	if (status == 0)
		status = cli_pcap_open(ctx);
	if (status)
		goto out;
	r.tls = tls;
	r.ws = ep && cli_ws_wanted(ep) ? ep : NULL;
	r.ep = ep;
	r.keep_open = a.keep_open;
	r.mode = a.mode;
	r.acl = a.acl;
	r.max_conns = a.max_conns;
	r.timestamps = a.timestamps;
	status = cli_loop_open(ctx, &r.loop);
	if (status == 0 && a.exec.text)
		status = cli_children_create(ctx, &a.exec, on_child_exit, &r, &r.children);
	if (status == 0 && a.proxy_server)
		status = cli_proxy_serve_create(ctx, r.loop, a.proxy_kind, a.proxy_auth, a.acl,
			on_proxy_session_end, &r, &r.proxy);
	if (status)
		goto out;
	rc = a.systemd ? adopt_systemd_socket(&r.listener, &err)
		       : sk_listener_open(ep, ctx->family, &r.listener, &err);
	/* A passed socket's type is known only now; nothing of ours listens yet. */
	if (rc == 0 && a.systemd)
		status = check_passed_socket(ctx, &a, r.listener);
	if (status)
		goto out;
	if (rc == 0 && r.timestamps && sk_listener_socktype(r.listener) == SOCK_DGRAM)
		rc = sk_dgram_timestamps(sk_listener_fd(r.listener), &err);
	if (rc == 0 && sk_listener_socktype(r.listener) == SOCK_DGRAM)
		widen_rcvbuf(ep, sk_listener_fd(r.listener));
	if (rc < 0) {
		status = cli_fail(ctx, CLI_SETUP, rc, &err);
		goto out;
	}
	sk_listener_format(r.listener, r.name, sizeof(r.name));
	cli_event(ctx, "listening", (struct cli_field[]){ { "endpoint", r.name, 0 } }, 1,
		"listening on %s", r.name);
	/* Ready means listening: clients may come now. */
	if (a.systemd && (rc = sk_systemd_notify("READY=1", &err)) < 0)
		cli_fail(ctx, CLI_SETUP, rc, &err);
	status = serve(&r);
out:
	run_cleanup(&r);
	cli_pcap_close(ctx);
	sk_tls_config_free(tls);
	sk_acl_destroy(a.acl);
	sk_endpoint_free(ep);
	return status;
}

const struct cli_cmd cmd_listen = {
	.name = "listen",
	.summary = "accept connections or datagrams on an endpoint and join them to stdin/stdout",
	.usage = "[OPTIONS] [HOST] PORT\n[OPTIONS] ENDPOINT\n[OPTIONS] -U PATH",
	.opts = listen_opts,
	.run = listen_run,
};
