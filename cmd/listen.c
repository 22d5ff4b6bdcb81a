/* SPDX-License-Identifier: BSD-2-Clause */
/* cmd/listen.c - accept a peer (or many, with -k) and join it to stdio. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { O_MAX_CONNS = 256 };

static const struct cli_opt listen_opts[] = {
	/* id, long name, short, argument, help; keep alphabetical by long name */
	{ CLI_O_ABSTRACT, "abstract", 0, "NAME", "listen on the abstract UNIX socket NAME" },
	{ CLI_O_EXPLAIN, "explain", 0, NULL, "print the parsed endpoint and the socket calls; create nothing" },
	{ 'k', "keep-open", 'k', NULL, "keep accepting: stdin to every client, every client to stdout" },
	{ O_MAX_CONNS, "max-conns", 0, "N", "with -k, at most N clients at once" },
	{ 'p', "port", 'p', "PORT", "the port to listen on (as in nc -l -p PORT)" },
	{ CLI_O_TLS, "tls", 0, NULL, "TLS over TCP" },
	{ 'u', "udp", 'u', NULL, "UDP: datagrams to stdout, stdin to the latest peer" },
	{ 'U', "unix", 'U', "PATH", "listen on the UNIX stream socket PATH" },
	{ 0 },
};

/* Bytes queued for one -k client before stdin stops being read. */
#define CLIENT_QUEUE_MAX (256 * 1024)
#define CHUNK (64 * 1024)

struct client {
	struct listener_run *run;
	struct client *next;
	int fd;
	char *queue; /* stdin bytes not yet sent to this client */
	size_t queued;
	bool read_eof, blocked;
	char peer[128];
};

struct listener_run {
	struct cli_ctx *ctx;
	struct sk_loop *loop;
	struct sk_listener *listener;
	bool keep_open;
	unsigned long max_conns;
	char name[512];
	int status;          /* exit status once stopped by us */
	int accepted_fd;     /* single-peer mode: the peer */
	char peer[128];
	int wait_timer, idle_timer;
	int64_t last_activity;
	/* -k and UDP: stdio joined by hand */
	struct cli_stdio io;
	bool stdin_eof, stdout_gone;
	struct client *clients;
	unsigned long nclients;
	char *outbuf;        /* peer bytes not yet written to stdout */
	size_t outlen;
	struct sockaddr_storage dgram_peer;
	socklen_t dgram_peerlen;
};

struct listen_args {
	struct cli_endpoint_args ep;
	bool keep_open;
	unsigned long max_conns;
};

static int listen_opt(struct cli_ctx *ctx, int id, const char *arg, void *state)
{
	struct listen_args *a = state;

	switch (id) {
	case 'k':
		a->keep_open = true;
		return 0;
	case O_MAX_CONNS:
		if (!cli_parse_uint(arg, 1, 1000000, &a->max_conns))
			return cli_usage(ctx, "invalid --max-conns '%s': expected 1-1000000", arg);
		return 0;
	case 'p':
		a->ep.port = arg;
		return 0;
	default:
		return cli_endpoint_opt(ctx, &a->ep, id, arg);
	}
}

static void peer_text(const struct sk_peer *peer, char *buf, size_t len)
{
	char addr[112];

	sk_addr_format((const struct sockaddr *)&peer->addr, peer->addrlen, addr, sizeof(addr));
	if (peer->addr.ss_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", addr, sk_addr_port((const struct sockaddr *)&peer->addr));
	else if (peer->addr.ss_family == AF_INET)
		snprintf(buf, len, "%s:%u", addr, sk_addr_port((const struct sockaddr *)&peer->addr));
	else
		snprintf(buf, len, "%s", addr[0] ? addr : "unnamed UNIX peer");
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

static void client_close(struct client *c)
{
	struct listener_run *r = c->run;

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
	}
	c->blocked = false;
	if (c->run->stdin_eof)
		shutdown(c->fd, SHUT_WR);
	return true;
}

static bool client_read(struct client *c)
{
	struct listener_run *r = c->run;
	ssize_t n;

	if (r->outlen >= CHUNK * 4)
		return true;
	n = recv(c->fd, r->outbuf + r->outlen, CHUNK * 4 - r->outlen, MSG_DONTWAIT);
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
	/* Both ways done: the client sent EOF and has everything stdin will give. */
	if (!ok || (c->read_eof && r->stdin_eof && !c->queued))
		client_close(c);
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

static bool clients_have_room(const struct listener_run *r)
{
	for (const struct client *c = r->clients; c; c = c->next)
		if (c->queued + CHUNK > CLIENT_QUEUE_MAX)
			return false;
	return r->clients != NULL;
}

/* ---- UDP: datagrams to stdout, stdin to the latest peer --------------------- */

static void dgram_read(struct listener_run *r)
{
	struct sk_peer peer;
	char text[128];
	ssize_t n;

	if (r->outlen)
		return; /* one datagram at a time reaches stdout whole */
	peer.addrlen = sizeof(peer.addr);
	n = recvfrom(sk_listener_fd(r->listener), r->outbuf, CHUNK * 4, MSG_DONTWAIT,
		(struct sockaddr *)&peer.addr, &peer.addrlen);
	if (n < 0)
		return;
	if (peer.addrlen != r->dgram_peerlen || memcmp(&peer.addr, &r->dgram_peer, peer.addrlen)) {
		peer_text(&peer, text, sizeof(text));
		log_peer(r, "accepted", text);
	}
	got_peer(r);
	r->dgram_peer = peer.addr;
	r->dgram_peerlen = peer.addrlen;
	r->outlen = (size_t)n;
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
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->next = r->clients;
	r->clients = c;
	r->nclients++;
	if (r->stdin_eof)
		shutdown(fd, SHUT_WR);
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
	if (cfd == -EAGAIN || cfd == -ECONNABORTED)
		return;
	if (cfd < 0) {
		stop(r, cli_fail(r->ctx, CLI_SETUP, cfd, &err));
		return;
	}
	peer_text(&peer, text, sizeof(text));
	log_peer(r, "accepted", text);
	got_peer(r);
	if (!r->keep_open) {
		r->accepted_fd = cfd;
		snprintf(r->peer, sizeof(r->peer), "%s", text);
		stop(r, -1);
		return;
	}
	add_client(r, cfd, text);
	update_interest(r);
}

static void update_interest(struct listener_run *r)
{
	bool dgram = sk_listener_socktype(r->listener) == SOCK_DGRAM;
	bool room = r->outlen < CHUNK * 4 && (!dgram || r->outlen == 0);
	unsigned lev = 0;

	if (r->io.out >= 0)
		sk_loop_mod_fd(r->loop, r->io.out, r->outlen ? SK_EV_OUT : 0);
	if (dgram)
		lev = room ? SK_EV_IN : 0;
	else if (!r->max_conns || r->nclients < r->max_conns)
		lev = SK_EV_IN;
	sk_loop_mod_fd(r->loop, sk_listener_fd(r->listener), lev);
	if (!r->stdin_eof) {
		bool want = dgram ? r->dgram_peerlen > 0 : clients_have_room(r);

		sk_loop_mod_fd(r->loop, r->io.in, want ? SK_EV_IN : 0);
	}
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
	r->outbuf = malloc(CHUNK * 4);
	if (!r->outbuf || sk_loop_add_fd(r->loop, r->io.in, 0, on_stdin, r) < 0 ||
		sk_loop_add_fd(r->loop, r->io.out, 0, on_stdout, r) < 0)
		return cli_fail(r->ctx, CLI_SETUP, -ENOMEM, NULL);
	return 0;
}

static int serve(struct listener_run *r)
{
	int status = 0, rc;

	if (r->keep_open || sk_listener_socktype(r->listener) == SOCK_DGRAM) {
		status = watch_stdio(r);
		if (status)
			return status;
		if (r->ctx->idle_timeout_ms > 0)
			r->idle_timer = sk_loop_add_timer(r->loop, r->ctx->idle_timeout_ms, on_idle, r);
	}
	if (sk_loop_add_fd(r->loop, sk_listener_fd(r->listener), SK_EV_IN, on_listener, r) < 0)
		return cli_fail(r->ctx, CLI_SETUP, -ENOMEM, NULL);
	if (r->ctx->timeout_ms > 0)
		r->wait_timer = sk_loop_add_timer(r->loop, r->ctx->timeout_ms, on_wait_expired, r);
	if (r->io.out >= 0)
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
	status = cli_pump_stdio(r->ctx, r->loop, r->accepted_fd, r->peer,
		sk_listener_socktype(r->listener));
	close(r->accepted_fd);
	log_peer(r, "closed", r->peer);
	return status;
}

static void run_cleanup(struct listener_run *r)
{
	while (r->clients)
		client_close(r->clients);
	cli_stdio_close(&r->io);
	free(r->outbuf);
	sk_listener_destroy(r->listener);
	sk_loop_destroy(r->loop);
}

static int listen_run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct listen_args a = { 0 };
	struct listener_run r = { .ctx = ctx, .accepted_fd = -1, .io = { -1, -1 } };
	struct sk_endpoint *ep = NULL;
	struct sk_err err;
	int first, status, rc;

	if (cli_parse(ctx, &cmd_listen, argc, argv, listen_opt, &a, &first, &status) < 0)
		return status;
	status = cli_endpoint_build(ctx, &a.ep, true, argc - first, argv + first, NULL, &ep);
	if (status)
		return status;
	if (a.ep.explain) {
		status = cli_endpoint_explain(ctx, ep);
		sk_endpoint_free(ep);
		return status;
	}
	r.keep_open = a.keep_open;
	r.max_conns = a.max_conns;
	status = cli_loop_open(ctx, &r.loop);
	if (status)
		goto out;
	rc = sk_listener_open(ep, ctx->family, &r.listener, &err);
	if (rc < 0) {
		status = cli_fail(ctx, CLI_SETUP, rc, &err);
		goto out;
	}
	sk_listener_format(r.listener, r.name, sizeof(r.name));
	cli_event(ctx, "listening", (struct cli_field[]){ { "endpoint", r.name, 0 } }, 1,
		"listening on %s", r.name);
	status = serve(&r);
out:
	run_cleanup(&r);
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
