/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd/probe_loop.c - the probes: non-blocking connects (TCP, UDP, UNIX) in
 * one event loop, at most a concurrency at once, in rounds for --count and
 * --wait.
 *
 * On loopback the kernel has answered a SYN by the time connect() returns,
 * so a second connect() reports the result at once and most probes never
 * reach epoll at all.
 */
#include "probe.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define FD_RESERVE 64
#define FILL_BATCH 256
#define READ_MAX 1024

static double ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* What a failed connect says about the target. */
static enum probe_state state_of(const struct probe_host *h, int e)
{
	if (probe_host_is_local(h)) {
		switch (e) {
		case ECONNREFUSED:
			return PS_REFUSED;
		case ENOENT:
		case ENOTDIR:
			return PS_MISSING;
		case EACCES:
		case EPERM:
			return PS_DENIED;
		default:
			return PS_ERROR;
		}
	}
	switch (e) {
	case ECONNREFUSED:
		return PS_CLOSED;
	case ETIMEDOUT:
		return h->socktype == SOCK_DGRAM ? PS_OPEN_FILTERED : PS_FILTERED;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case EHOSTDOWN:
		return PS_UNREACHABLE;
	default:
		return PS_ERROR;
	}
}

static bool http_passes(const struct probe_args *a, int status)
{
	if (a->expect_lo)
		return status >= a->expect_lo && status <= a->expect_hi;
	return status >= 100 && status < 400;
}

static void start_probe(struct probe *p, uint32_t ti);

/* A probe of target ti ended in state st (errno e, latency ms when open). */
static void record(struct probe *p, uint32_t ti, enum probe_state st, int e, double ms)
{
	struct probe_target *t = &p->targets[ti];
	const struct probe_host *h = &p->hosts[t->host];

	/* Not open here: a name's next address may answer (localhost: ::1, then 127.0.0.1). */
	if (st != PS_OPEN && (size_t)t->addr + 1 < h->naddrs) {
		t->addr++;
		start_probe(p, ti);
		return;
	}
	if (st != PS_OPEN) {
		free(t->detail); /* a banner of an earlier round */
		t->detail = NULL;
	}
	t->state = (uint8_t)st;
	t->err = e;
	t->sent++;
	if (st == PS_OPEN) {
		t->latency_ms = ms;
		t->received++;
		t->sum += ms;
		t->sumsq += ms * ms;
		if (t->received == 1 || ms < t->min)
			t->min = ms;
		if (ms > t->max)
			t->max = ms;
	}
	/* --count: open when any probe was; the loss says how often. */
	if (p->a->count && t->received)
		t->state = PS_OPEN;
	if (p->a->count && p->ctx->verbose) {
		char name[300];

		probe_target_name(h, t, name, sizeof(name));
		if (st == PS_OPEN)
			cli_log(p->ctx, 1, "%s open %.2fms (probe %u)", name, ms, t->sent);
		else
			cli_log(p->ctx, 1, "%s %s (probe %u)", name, probe_state_names[st], t->sent);
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A TCP socket connected to itself (same address and port both ends, which
 * loopback allows for a port in the ephemeral range) found nothing listening. */
static bool self_connected(int fd)
{
	struct sockaddr_storage a, b;
	socklen_t la = sizeof(a), lb = sizeof(b);

	if (getsockname(fd, (struct sockaddr *)&a, &la) < 0 ||
		getpeername(fd, (struct sockaddr *)&b, &lb) < 0)
		return false;
	return la == lb && memcmp(&a, &b, la) == 0;
}

static void fill(struct probe *p);

/* Stop watching and close the slot's socket (with a reset when asked) and free it. */
static void release_slot(struct probe *p, struct slot *s, bool reset)
{
	sk_loop_del_fd(p->loop, s->fd);
	/* A reset: the service sees the handshake and an RST, no data. */
	cli_close(s->fd, reset);
	s->fd = -1;
	free(s->buf);
	s->buf = NULL;
	s->len = 0;
	s->busy = false;
	p->free_slots[p->nfree++] = (uint32_t)(s - p->slots);
}

static void on_slot(struct sk_loop *loop, int fd, unsigned events, void *userdata);

/* Watch fd for the rest of its probe; false (fd closed, target recorded) when it cannot. */
static struct slot *take_slot(
	struct probe *p, int fd, uint32_t ti, int phase, const struct timespec *start)
{
	struct slot *s = &p->slots[p->free_slots[--p->nfree]];
	int rc;

	*s = (struct slot){ .probe = p,
		.fd = fd,
		.target = ti,
		.busy = true,
		.phase = phase,
		.start = *start,
		.deadline = mono_ms() + p->timeout_ms };
	rc = sk_loop_add_fd(p->loop, fd, phase == PH_CONNECT ? SK_EV_OUT : SK_EV_IN, on_slot, s);
	if (rc < 0) {
		s->busy = false;
		p->nfree++;
		close(fd);
		record(p, ti, PS_ERROR, -rc, 0);
		return NULL;
	}
	return s;
}

static void send_http(struct probe *p, struct slot *s)
{
	const struct probe_target *t = &p->targets[s->target];
	const struct probe_host *h = &p->hosts[t->host];
	bool v6 = !probe_host_is_local(h) && strchr(h->name, ':');
	char port[16] = "";
	char *req = NULL;
	int n;

	if (!probe_host_is_local(h) && t->port != 80)
		snprintf(port, sizeof(port), ":%u", t->port);
	n = asprintf(&req,
		"GET %s HTTP/1.0\r\nHost: %s%s%s%s\r\nUser-Agent: sockit/%s\r\n"
		"Connection: close\r\n\r\n",
		p->a->http_path, v6 ? "[" : "", probe_host_is_local(h) ? "localhost" : h->name,
		v6 ? "]" : "", port, SK_VERSION);
	/* A short request fits the empty send buffer of a new connection. */
	if (n > 0)
		send(s->fd, req, (size_t)n, MSG_NOSIGNAL);
	free(req);
}

/* Connected (s is NULL when connect() finished at once): open, unless it is
 * a self-connect; --banner and --http go on reading. */
static void connected(
	struct probe *p, struct slot *s, int fd, uint32_t ti, const struct timespec *start)
{
	const struct probe_host *h = &p->hosts[p->targets[ti].host];
	double ms = ms_since(start);

	if (!probe_host_is_local(h) && h->socktype == SOCK_STREAM && self_connected(fd)) {
		if (s)
			release_slot(p, s, false);
		else
			close(fd);
		record(p, ti, PS_CLOSED, ECONNREFUSED, 0);
		return;
	}
	if ((p->a->banner || p->a->http) && h->socktype == SOCK_STREAM) {
		if (!s) {
			s = take_slot(p, fd, ti, PH_READ, start);
			if (!s)
				return;
		} else {
			s->phase = PH_READ;
			s->deadline = mono_ms() + p->timeout_ms;
			sk_loop_mod_fd(p->loop, fd, SK_EV_IN);
		}
		p->targets[ti].latency_ms = ms;
		if (p->a->http)
			send_http(p, s);
		return;
	}
	if (s)
		release_slot(p, s, true);
	else
		cli_close(fd, true);
	record(p, ti, PS_OPEN, 0, ms);
}

/* "HTTP/1.1 200 OK": the status, or -1. */
static int http_status(const char *line, size_t n)
{
	if (n < 12 || memcmp(line, "HTTP/", 5) != 0)
		return -1;
	for (size_t i = 5; i < n; i++) {
		if (line[i] != ' ')
			continue;
		if (i + 4 > n || (i + 4 < n && line[i + 4] != ' '))
			return -1;
		if (line[i + 1] < '1' || line[i + 1] > '5' || line[i + 2] < '0' ||
			line[i + 2] > '9' || line[i + 3] < '0' || line[i + 3] > '9')
			return -1;
		return (line[i + 1] - '0') * 100 + (line[i + 2] - '0') * 10 + (line[i + 3] - '0');
	}
	return -1;
}

/* --banner/--http: what the server sent (maybe nothing) decides the detail. */
static void finish_read(struct probe *p, struct slot *s)
{
	struct probe_target *t = &p->targets[s->target];
	uint32_t ti = s->target;
	double ms = t->latency_ms;
	size_t n = s->len;

	free(t->detail);
	t->detail = NULL;
	if (p->a->http) {
		size_t line = 0;
		int status;

		while (line < n && s->buf[line] != '\r' && s->buf[line] != '\n')
			line++;
		status = http_status(s->buf, line);
		t->check_failed = status < 0 || !http_passes(p->a, status);
		if (n == 0)
			t->detail = strdup("no HTTP response");
		else
			t->detail = probe_escape(s->buf, line);
	} else if (n) {
		t->detail = probe_escape(s->buf, n);
	}
	release_slot(p, s, true);
	record(p, ti, PS_OPEN, 0, ms);
}

static void read_reply(struct probe *p, struct slot *s)
{
	ssize_t n;

	if (!s->buf) {
		s->buf = malloc(READ_MAX);
		if (!s->buf) {
			finish_read(p, s);
			return;
		}
	}
	n = recv(s->fd, s->buf + s->len, READ_MAX - s->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		s->len += (size_t)n;
	/* A banner is the first bytes; an HTTP reply, its first line. */
	if (n > 0 && p->a->http && s->len < READ_MAX && !memchr(s->buf, '\n', s->len))
		return;
	finish_read(p, s);
}

static void on_slot(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct slot *s = userdata;
	struct probe *p = s->probe;
	uint32_t ti = s->target;
	int e = 0;
	socklen_t len = sizeof(e);
	char reply[1];
	double ms;

	switch (s->phase) {
	case PH_CONNECT:
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
		if (e) {
			release_slot(p, s, false);
			record(p, ti, state_of(&p->hosts[p->targets[ti].host], e), e, 0);
		} else {
			connected(p, s, fd, ti, &s->start);
		}
		break;
	case PH_DGRAM:
		/* Any reply, even an empty one, means something answered. */
		if (recv(fd, reply, sizeof(reply), MSG_DONTWAIT | MSG_TRUNC) >= 0) {
			ms = ms_since(&s->start);
			release_slot(p, s, false);
			record(p, ti, PS_OPEN, 0, ms);
			break;
		}
		e = errno;
		if (e == EAGAIN || e == EINTR)
			break;
		release_slot(p, s, false);
		record(p, ti, state_of(&p->hosts[p->targets[ti].host], e), e, 0);
		break;
	case PH_READ:
		read_reply(p, s);
		break;
	}
	fill(p);
}

/* Send the datagram of a UDP probe; ICMP errors come back through IP_RECVERR. */
static int start_dgram(struct probe *p, int fd, int family)
{
	int one = 1;

	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	if (send(fd, p->a->payload ? p->a->payload : "", p->a->payload_len, MSG_NOSIGNAL) < 0)
		return errno;
	return 0;
}

static void set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

/* A TCP socket for the next probe: the one a refused probe left, or a new one. */
static int tcp_socket(struct probe *p, int family)
{
	int *spare = &p->spare[family == AF_INET6];
	int fd = *spare;

	*spare = -1;
	return fd >= 0 ? fd : socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/* Keep a refused socket for the next probe (it is unconnected again), or close it. */
static void tcp_spare(struct probe *p, int family, int fd)
{
	int *spare = &p->spare[family == AF_INET6];

	if (*spare < 0)
		*spare = fd;
	else
		close(fd);
}

static void start_probe(struct probe *p, uint32_t ti)
{
	struct probe_target *t = &p->targets[ti];
	const struct probe_host *h = &p->hosts[t->host];
	bool tcp = h->socktype == SOCK_STREAM && !probe_host_is_local(h);
	struct sockaddr_storage ss;
	struct timespec start;
	socklen_t len;
	int fd, e = 0;

	if (h->naddrs == 0) {
		record(p, ti, PS_UNRESOLVED, 0, 0);
		return;
	}
	ss = h->addrs[t->addr];
	len = h->lens[t->addr];
	set_port(&ss, t->port);
	fd = tcp ? tcp_socket(p, ss.ss_family)
		 : socket(ss.ss_family, h->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		record(p, ti, PS_ERROR, errno, 0);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		e = errno;
	/*
	 * Loopback has usually answered by now. A second connect() tells how
	 * the first one ended: 0 connected, EALREADY still in progress, else
	 * its error, after which the socket is unconnected again and serves the
	 * next probe: no socket() and close() per closed port.
	 */
	if (e == EINPROGRESS && tcp) {
		e = connect(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
		if (e == EALREADY)
			e = EINPROGRESS;
	}
	if (e == 0 && h->socktype == SOCK_DGRAM && !probe_host_is_local(h)) {
		e = start_dgram(p, fd, ss.ss_family);
		if (e == 0) {
			take_slot(p, fd, ti, PH_DGRAM, &start);
			return;
		}
	}
	/* A UNIX listener with a full backlog is still listening. */
	if (e == 0 || (e == EAGAIN && probe_host_is_local(h))) {
		connected(p, NULL, fd, ti, &start);
		return;
	}
	if (e == EINPROGRESS) {
		take_slot(p, fd, ti, PH_CONNECT, &start);
		return;
	}
	if (tcp && e == ECONNREFUSED)
		tcp_spare(p, ss.ss_family, fd);
	else
		close(fd);
	record(p, ti, state_of(h, e), e, 0);
}

/* ---- rounds ------------------------------------------------------------------------------ */

static void on_fill(struct sk_loop *loop, void *userdata);
static void on_sweep(struct sk_loop *loop, void *userdata);
static void round_done(struct probe *p);

static int sweep_ms(const struct probe *p)
{
	int ms = p->timeout_ms / 20;

	return ms < 5 ? 5 : ms > 100 ? 100 : ms;
}

/* Start probes up to the concurrency, a batch at a time so that replies to
 * those in flight are not kept waiting. */
static void fill(struct probe *p)
{
	size_t budget = FILL_BATCH;

	if (p->done)
		return;
	while (p->next < p->nqueue && p->nfree > 0 && budget-- > 0)
		start_probe(p, p->queue[p->next++]);
	if (p->next < p->nqueue && p->nfree > 0 && !p->fill_timer)
		p->fill_timer = sk_loop_add_timer(p->loop, 0, on_fill, p);
	if (p->nfree < p->nslots && !p->sweep_timer)
		p->sweep_timer = sk_loop_add_timer(p->loop, sweep_ms(p), on_sweep, p);
	if (p->next == p->nqueue && p->nfree == p->nslots)
		round_done(p);
}

static void on_fill(struct sk_loop *loop, void *userdata)
{
	struct probe *p = userdata;

	p->fill_timer = 0;
	fill(p);
}

/* Probes past their -w: a connect is filtered, a datagram open|filtered, a
 * read ends with what came. */
static void on_sweep(struct sk_loop *loop, void *userdata)
{
	struct probe *p = userdata;
	int64_t now = mono_ms();

	p->sweep_timer = 0;
	for (size_t i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];
		uint32_t ti = s->target;

		if (!s->busy || s->deadline > now)
			continue;
		if (s->phase == PH_READ) {
			finish_read(p, s);
			continue;
		}
		release_slot(p, s, false);
		record(p, ti, s->phase == PH_DGRAM ? PS_OPEN_FILTERED : PS_FILTERED, ETIMEDOUT, 0);
	}
	fill(p);
}

static bool satisfied(const struct probe *p, const struct probe_target *t)
{
	if (p->a->wait == WAIT_CLOSED)
		return t->state == PS_CLOSED || t->state == PS_REFUSED || t->state == PS_MISSING;
	return t->state == PS_OPEN && !t->check_failed;
}

static void on_round(struct sk_loop *loop, void *userdata);

static void round_start(struct probe *p)
{
	p->nqueue = 0;
	p->next = 0;
	p->round++;
	/* A name may appear later (a container coming up): ask again each round. */
	if (p->a->wait && p->round > 1)
		for (size_t i = 0; i < p->nhosts; i++)
			if (p->hosts[i].is_name && p->hosts[i].naddrs == 0)
				probe_host_resolve(&p->hosts[i], p->hosts[i].name, p->ctx->family);
	for (size_t i = 0; i < p->ntargets; i++) {
		struct probe_target *t = &p->targets[i];

		if (t->satisfied)
			continue;
		/* A name's addresses are tried from the first again, unless one was open. */
		if (t->state != PS_OPEN)
			t->addr = 0;
		p->queue[p->nqueue++] = (uint32_t)i;
	}
	fill(p);
}

static void on_round(struct sk_loop *loop, void *userdata)
{
	round_start(userdata);
}

static void finish(struct probe *p)
{
	p->done = true;
	sk_loop_stop(p->loop, 0);
}

static void round_done(struct probe *p)
{
	double secs = (double)(mono_ms() - p->started) / 1e3;
	size_t left = 0;
	char name[300];

	if (p->a->wait == WAIT_NONE) {
		if (p->a->count && p->round < p->a->count)
			sk_loop_add_timer(p->loop,
				p->a->interval_ms >= 0 ? p->a->interval_ms : 1000, on_round, p);
		else
			finish(p);
		return;
	}
	for (size_t i = 0; i < p->ntargets; i++) {
		struct probe_target *t = &p->targets[i];

		if (t->satisfied)
			continue;
		if (!satisfied(p, t)) {
			left++;
			continue;
		}
		t->satisfied = true;
		probe_target_name(&p->hosts[t->host], t, name, sizeof(name));
		cli_log(p->ctx, 1, "%s %s after %.1f s", name, probe_state_names[t->state], secs);
	}
	if (left == 0) {
		finish(p);
		return;
	}
	cli_log(p->ctx, 1, "waiting for %zu of %zu target%s, %.1f s left", left, p->ntargets,
		p->ntargets == 1 ? "" : "s", (double)(p->wait_deadline - mono_ms()) / 1e3);
	sk_loop_add_timer(p->loop, p->a->interval_ms >= 0 ? p->a->interval_ms : 500, on_round, p);
}

/* The --wait deadline: probes still in flight keep their last state. */
static void on_wait_expired(struct sk_loop *loop, void *userdata)
{
	struct probe *p = userdata;

	for (size_t i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];

		if (!s->busy)
			continue;
		if (p->targets[s->target].state == PS_PENDING)
			p->targets[s->target].state = PS_FILTERED;
		release_slot(p, s, false);
	}
	p->timed_out = true;
	finish(p);
}

/* ---- running ---------------------------------------------------------------------------- */

/* As many probes at once as descriptors allow: the soft limit goes up to
 * the hard one, less a reserve for stdio, the loop and the resolver. */
static size_t concurrency(const struct probe_args *a, size_t ntargets)
{
	struct rlimit rl;
	size_t n = 1024 - FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > 2 * FD_RESERVE)
			n = (size_t)rl.rlim_cur - FD_RESERVE;
		else if (rl.rlim_cur == RLIM_INFINITY)
			n = 1u << 20;
		else
			n = rl.rlim_cur > 8 ? (size_t)rl.rlim_cur / 2 : 1;
	}
	if (a->concurrency && a->concurrency < n)
		n = a->concurrency;
	if (n > 65536)
		n = 65536;
	return n < ntargets ? n : (ntargets ? ntargets : 1);
}

int probe_loop_run(struct probe *p)
{
	const struct cli_ctx *ctx = p->ctx;
	int status = cli_loop_open(ctx, &p->loop);

	if (status)
		return status;
	p->nslots = concurrency(p->a, p->ntargets);
	p->slots = calloc(p->nslots, sizeof(*p->slots));
	p->free_slots = malloc(p->nslots * sizeof(*p->free_slots));
	p->queue = malloc(p->ntargets * sizeof(*p->queue));
	if (!p->slots || !p->free_slots || !p->queue)
		return cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	for (size_t i = 0; i < p->nslots; i++) {
		p->slots[i].fd = -1;
		p->free_slots[p->nfree++] = (uint32_t)(p->nslots - 1 - i);
	}
	p->started = mono_ms();
	if (p->a->wait) {
		p->wait_deadline = p->started + p->a->wait_ms;
		sk_loop_add_timer(p->loop, p->a->wait_ms, on_wait_expired, p);
	}
	round_start(p);
	/* Everything may have been answered before the loop even runs. */
	if (p->done)
		return 0;
	return sk_loop_run(p->loop);
}

void probe_loop_free(struct probe *p)
{
	for (size_t i = 0; i < p->nslots; i++)
		if (p->slots[i].busy)
			release_slot(p, &p->slots[i], false);
	for (int i = 0; i < 2; i++)
		if (p->spare[i] >= 0)
			close(p->spare[i]);
	free(p->queue);
	free(p->slots);
	free(p->free_slots);
	sk_loop_destroy(p->loop);
	p->loop = NULL;
}
