/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * connect.c - client connects driven by an event loop: Happy Eyeballs
 * (RFC 8305) for names with several addresses, UNIX and vsock peers, and
 * exec:/sh: children on a socketpair. sk_connect() is the same machine run
 * on a private loop.
 */
#include "internal.h"

#include <errno.h>
#include <linux/vm_sockets.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* RFC 8305 §5: the recommended Connection Attempt Delay. */
#define HE_ATTEMPT_DELAY_MS 250
#define HE_MAX_ATTEMPTS 16

struct sk_connector {
	struct sk_loop *loop;
	const struct sk_endpoint *ep; /* borrowed */
	sk_connect_cb cb;
	void *userdata;
	struct addrinfo *list;
	struct addrinfo *addrs[HE_MAX_ATTEMPTS];
	size_t naddrs, next;
	int inflight[HE_MAX_ATTEMPTS]; /* connecting sockets, watched for SK_EV_OUT */
	size_t ninflight;
	int stagger_timer, deadline_timer, deliver_timer;
	int result; /* the winner's fd, or the code to report */
	struct sk_err err;
	int busy;
	bool starting; /* inside sk_connector_start: report from the loop instead */
	bool finished, dead;
	/* proxy=: the connection to the proxy, then the exchange that opens the tunnel */
	const char *proxy_url; /* borrowed from the endpoint; NULL: direct */
	char *target;          /* the host the proxy is asked for (socks5: an address) */
	int proxy_fd;
	struct sk__proxy_hs *proxy_hs;
	/* proxy-protocol=: who the header names (empty family: the socket's own ends) */
	struct sockaddr_storage announce_src, announce_dst;
	char text[SK__SUN_PATH_MAX * 2 + 64];
};

int sk__want_family(const struct sk_endpoint *ep, int family)
{
	int f = sk_endpoint_family(ep);

	return f != AF_UNSPEC ? f : family;
}

/* Bind a client socket to bind=ADDR[:PORT] before connecting. */
static int bind_source(int fd, int family, const struct sk_endpoint *ep, const char *text,
	struct sk_err *err)
{
	struct addrinfo *ai = NULL;
	int rc;

	if (!(ep->opt.set & (1ull << SK__O_BIND)))
		return 0;
	rc = sk__resolve(ep->opt.bind_host, ep->opt.bind_port, family, sk_endpoint_socktype(ep),
		true, &ai, err);
	if (rc < 0)
		return rc;
	if (ep->opt.bind_port) {
		int one = 1;

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		rc = sk__fail(err, -errno, "bind %s for %s",
			ep->opt.bind_host ? ep->opt.bind_host : "source", text);
	freeaddrinfo(ai);
	return rc;
}

/*
 * A non-blocking socket with its options, connect() called: returns the fd
 * with *connected telling whether it is done, or a negative code.
 */
static int open_attempt(struct sk_connector *c, int family, const struct sockaddr *sa,
	socklen_t salen, bool *connected)
{
	const struct sk_endpoint *ep = c->ep;
	int fd, rc;

	fd = socket(family, sk_endpoint_socktype(ep) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk__fail(&c->err, -errno, "socket for %s", c->text);
	rc = sk__epopt_apply(fd, family, ep, SK__PHASE_PREBIND, &c->err);
	if (rc == 0 && family != AF_UNIX && family != AF_VSOCK)
		rc = bind_source(fd, family, ep, c->text, &c->err);
	/* A UNIX datagram client needs an address of its own for replies: autobind. */
	if (rc == 0 && family == AF_UNIX && sk_endpoint_socktype(ep) == SOCK_DGRAM) {
		struct sockaddr_un self = { .sun_family = AF_UNIX };

		if (bind(fd, (struct sockaddr *)&self, sizeof(sa_family_t)) < 0)
			rc = sk__fail(&c->err, -errno, "bind for %s", c->text);
	}
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*connected = connect(fd, sa, salen) == 0;
	/* UNIX sockets say EAGAIN when the listener's backlog is full: wait as for TCP. */
	if (!*connected && errno != EINPROGRESS && errno != EAGAIN) {
		rc = sk__fail(&c->err, -errno, "connect to %s", c->text);
		close(fd);
		return rc;
	}
	return fd;
}

/* RFC 8305 §4: interleave the families, IPv6 first. */
static size_t order_addresses(struct addrinfo *list, struct addrinfo **out, size_t max)
{
	struct addrinfo *v6[HE_MAX_ATTEMPTS], *v4[HE_MAX_ATTEMPTS];
	size_t n6 = 0, n4 = 0, n = 0, i;

	for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET6 && n6 < HE_MAX_ATTEMPTS)
			v6[n6++] = ai;
		else if (ai->ai_family == AF_INET && n4 < HE_MAX_ATTEMPTS)
			v4[n4++] = ai;
	}
	for (i = 0; n < max && (i < n6 || i < n4); i++) {
		if (i < n6)
			out[n++] = v6[i];
		if (i < n4 && n < max)
			out[n++] = v4[i];
	}
	return n;
}

/* ---- finishing ---------------------------------------------------------------- */

static void stop_timer(struct sk_connector *c, int *id)
{
	if (*id > 0)
		sk_loop_cancel_timer(c->loop, *id);
	*id = 0;
}

/* Close every attempt but keep; the losers of the race. */
static void drop_attempts(struct sk_connector *c, int keep)
{
	for (size_t i = 0; i < c->ninflight; i++) {
		sk_loop_del_fd(c->loop, c->inflight[i]);
		if (c->inflight[i] != keep)
			close(c->inflight[i]);
	}
	c->ninflight = 0;
}

static void release(struct sk_connector *c)
{
	if (c->busy || !c->dead)
		return;
	freeaddrinfo(c->list);
	free(c->target);
	free(c);
}

/* proxy-protocol=: the PROXY header goes first on the new connection. */
static int announce(struct sk_connector *c, int fd)
{
	struct sockaddr_storage src = c->announce_src, dst = c->announce_dst;
	socklen_t len = sizeof(src);
	char header[256];
	ssize_t n;

	if (src.ss_family == AF_UNSPEC)
		getsockname(fd, (struct sockaddr *)&src, &len);
	len = sizeof(dst);
	if (dst.ss_family == AF_UNSPEC)
		getpeername(fd, (struct sockaddr *)&dst, &len);
	n = sk_proxy_header_build((int)c->ep->opt.proxy_protocol, (struct sockaddr *)&src,
		(struct sockaddr *)&dst, header, sizeof(header));
	/* A new connection's send buffer takes a couple of hundred bytes whole. */
	if (n > 0) {
		ssize_t sent = send(fd, header, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (sent != n)
			n = sent < 0 ? -errno : -EAGAIN;
	}
	if (n < 0) {
		close(fd);
		return sk__fail(&c->err, (int)n, "send the PROXY header to %s", c->text);
	}
	return fd;
}

/* An exchange with the proxy still under way is abandoned. */
static void drop_proxy(struct sk_connector *c)
{
	if (!c->proxy_hs)
		return;
	sk__proxy_destroy(c->proxy_hs);
	c->proxy_hs = NULL;
	close(c->proxy_fd);
	c->proxy_fd = -1;
}

static void on_proxy_done(struct sk__proxy_hs *hs, int rc, const struct sk_err *err,
	void *userdata);

/* Connected to the proxy: ask it for the target; the result comes later. */
static int start_proxy(struct sk_connector *c, int fd)
{
	int rc;

	drop_attempts(c, fd);
	stop_timer(c, &c->stagger_timer);
	c->proxy_fd = fd;
	rc = sk__proxy_start(c->loop, fd, c->proxy_url, c->target, c->ep->port, c->text,
		on_proxy_done, c, &c->proxy_hs, &c->err);
	if (rc < 0) {
		close(fd);
		c->proxy_fd = -1;
	}
	return rc;
}

static void on_deliver(struct sk_loop *loop, void *userdata);

/*
 * Report once: the winner's fd (the caller owns it) or the failure. Never
 * from inside sk_connector_start, where the caller has no handle yet.
 */
static void finish(struct sk_connector *c, int result)
{
	if (c->finished)
		return;
	if (c->starting) {
		c->result = result;
		if (!c->deliver_timer)
			c->deliver_timer = sk_loop_add_timer(c->loop, 0, on_deliver, c);
		return;
	}
	/* A socket to the proxy is not the connection yet. */
	if (result >= 0 && c->proxy_url && result != c->proxy_fd) {
		result = start_proxy(c, result);
		if (result == 0)
			return;
	}
	if (result != c->proxy_fd)
		drop_proxy(c);
	if (result >= 0 && (c->ep->opt.set & (1ull << SK__O_PROXY_PROTOCOL)))
		result = announce(c, result);
	c->finished = true;
	stop_timer(c, &c->stagger_timer);
	stop_timer(c, &c->deadline_timer);
	stop_timer(c, &c->deliver_timer);
	drop_attempts(c, result);
	c->busy++;
	c->cb(c, result, result < 0 ? &c->err : NULL, c->userdata);
	c->busy--;
	release(c);
}

static void on_proxy_done(struct sk__proxy_hs *hs, int rc, const struct sk_err *err,
	void *userdata)
{
	struct sk_connector *c = userdata;
	int fd = c->proxy_fd;

	if (rc < 0)
		c->err = *err; /* it lives in hs */
	sk__proxy_destroy(hs);
	c->proxy_hs = NULL;
	if (rc < 0) {
		close(fd);
		c->proxy_fd = -1;
		finish(c, rc);
		return;
	}
	finish(c, fd);
}

static void on_deliver(struct sk_loop *loop, void *userdata)
{
	struct sk_connector *c = userdata;

	c->deliver_timer = 0;
	finish(c, c->result);
}

/* ---- the race ------------------------------------------------------------------ */

static void launch_next(struct sk_connector *c);

static void on_attempt(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct sk_connector *c = userdata;
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	if (soerr == 0) {
		finish(c, fd);
		return;
	}
	c->result = sk__fail(&c->err, -soerr, "connect to %s", c->text);
	for (size_t i = 0; i < c->ninflight; i++) {
		if (c->inflight[i] == fd) {
			c->inflight[i] = c->inflight[--c->ninflight];
			break;
		}
	}
	sk_loop_del_fd(loop, fd);
	close(fd);
	/* Nothing else in flight: the next address need not wait its turn. */
	if (c->ninflight == 0) {
		stop_timer(c, &c->stagger_timer);
		launch_next(c);
	}
}

static void on_stagger(struct sk_loop *loop, void *userdata)
{
	struct sk_connector *c = userdata;

	c->stagger_timer = 0;
	launch_next(c);
}

static void on_deadline(struct sk_loop *loop, void *userdata)
{
	struct sk_connector *c = userdata;

	c->deadline_timer = 0;
	finish(c, sk__fail(&c->err, -ETIMEDOUT, "connect to %s", c->text));
}

/* Start the next address; attempts that fail at once make way for the one after. */
static void launch_next(struct sk_connector *c)
{
	while (c->next < c->naddrs) {
		const struct addrinfo *ai = c->addrs[c->next++];
		bool connected = false;
		int fd = open_attempt(c, ai->ai_family, ai->ai_addr, ai->ai_addrlen, &connected);

		if (fd < 0) {
			c->result = fd;
			continue;
		}
		if (connected) {
			finish(c, fd);
			return;
		}
		if (sk_loop_add_fd(c->loop, fd, SK_EV_OUT, on_attempt, c) < 0) {
			close(fd);
			c->result = sk__fail(&c->err, -ENOMEM, "connect to %s", c->text);
			continue;
		}
		c->inflight[c->ninflight++] = fd;
		if (c->next < c->naddrs)
			c->stagger_timer = sk_loop_add_timer(c->loop, HE_ATTEMPT_DELAY_MS, on_stagger, c);
		return;
	}
	if (c->ninflight == 0)
		finish(c, c->result);
}

/* ---- starting, by transport ------------------------------------------------- */

/*
 * proxy=: the race goes to the proxy, which is then asked for the target by
 * name (socks5h, socks4a, http) or, for socks5, by an address found here.
 */
static int via_proxy(struct sk_connector *c, int family, char **host, unsigned *port)
{
	char target[SK__SUN_PATH_MAX + 64], where[300];
	size_t used;
	int rc;

	c->proxy_url = c->ep->opt.proxy;
	rc = sk__proxy_address(c->proxy_url, host, port, where, sizeof(where));
	if (rc < 0)
		return rc;
	if (sk__proxy_resolves_locally(c->proxy_url)) {
		struct addrinfo *ai = NULL;

		rc = sk__resolve(c->ep->host, c->ep->port, family, SOCK_STREAM, false, &ai, &c->err);
		if (rc < 0)
			return rc;
		sk_addr_format(ai->ai_addr, ai->ai_addrlen, target, sizeof(target));
		freeaddrinfo(ai);
		c->target = strdup(target);
	} else {
		c->target = strdup(c->ep->host);
	}
	if (!c->target)
		return sk__fail(&c->err, -ENOMEM, "connect to %s", c->text);
	used = strlen(c->text);
	snprintf(c->text + used, sizeof(c->text) - used, " via %s", where);
	return 0;
}

static int start_inet(struct sk_connector *c, const struct sk_connect_opts *o)
{
	int family = sk__want_family(c->ep, o->family);
	const char *host = c->ep->host;
	unsigned port = c->ep->port;
	char *proxy_host = NULL;
	int rc = 0;

	if (c->ep->opt.set & (1ull << SK__O_PROXY)) {
		rc = via_proxy(c, family, &proxy_host, &port);
		host = proxy_host;
		/* -4/-6 speak of the target; the proxy is reached however it can be. */
		family = AF_UNSPEC;
	}
	if (rc == 0)
		rc = sk__resolve(host, port, family, sk_endpoint_socktype(c->ep), false, &c->list,
			&c->err);
	free(proxy_host);
	if (rc < 0)
		return rc;
	c->naddrs = order_addresses(c->list, c->addrs, HE_MAX_ATTEMPTS);
	if (c->naddrs == 0)
		return sk__fail(&c->err, -EAFNOSUPPORT, "connect to %s", c->text);
	/* A datagram "connect" only sets the default peer: nothing to race. */
	if (sk_endpoint_socktype(c->ep) == SOCK_DGRAM)
		c->naddrs = 1;
	c->result = -ECONNREFUSED;
	launch_next(c);
	return 0;
}

/* UNIX, abstract and vsock: one address, connected at once or soon. */
static int start_local(struct sk_connector *c)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	bool connected = false;
	int fd, rc;

	if (c->ep->type->transport == SK_VSOCK) {
		struct sockaddr_vm *svm = (struct sockaddr_vm *)&ss;

		svm->svm_family = AF_VSOCK;
		svm->svm_cid = c->ep->cid;
		svm->svm_port = c->ep->port;
		len = sizeof(*svm);
	} else {
		rc = sk__addr_unix(c->ep->path, c->ep->type->transport == SK_ABSTRACT,
			(struct sockaddr_un *)&ss, &len);
		if (rc < 0)
			return sk__fail(&c->err, rc, "connect to %s", c->text);
	}
	fd = open_attempt(c, ss.ss_family, (struct sockaddr *)&ss, len, &connected);
	if (fd < 0)
		return fd;
	if (connected) {
		finish(c, fd);
		return 0;
	}
	if (sk_loop_add_fd(c->loop, fd, SK_EV_OUT, on_attempt, c) < 0) {
		close(fd);
		return sk__fail(&c->err, -ENOMEM, "connect to %s", c->text);
	}
	c->inflight[c->ninflight++] = fd;
	return 0;
}

/* exec:/sh: a child whose stdin and stdout are one end of a socketpair. */
static int start_child(struct sk_connector *c)
{
	static const char *const no_env[] = { NULL };
	char *sh_argv[] = { "/bin/sh", "-c", c->ep->path, NULL };
	char **argv = NULL;
	int sv[2], rc;
	pid_t pid;

	if (c->ep->type->transport == SK_EXEC) {
		rc = sk_argv_split(c->ep->path, &argv, &c->err);
		if (rc < 0)
			return rc;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = sk__fail(&c->err, -errno, "socketpair for %s", c->text);
		free(argv);
		return rc;
	}
	pid = sk_proc_spawn(sv[1], sv[1], argv ? argv : sh_argv, no_env, &c->err);
	free(argv);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return (int)pid;
	}
	if (sk__set_nonblock(sv[0]) < 0) {
		close(sv[0]);
		return sk__fail(&c->err, -errno, "socketpair for %s", c->text);
	}
	finish(c, sv[0]);
	return 0;
}

int sk_connector_start(struct sk_loop *loop, const struct sk_endpoint *ep,
	const struct sk_connect_opts *opts, sk_connect_cb cb, void *userdata,
	struct sk_connector **out, struct sk_err *err)
{
	struct sk_connect_opts none = { 0 };
	struct sk_connector *c;
	int timeout, rc;

	*out = NULL;
	if (!opts)
		opts = &none;
	c = calloc(1, sizeof(*c));
	if (!c)
		return sk__fail(err, -ENOMEM, "connect");
	c->loop = loop;
	c->ep = ep;
	c->proxy_fd = -1;
	if (opts->announce_src && opts->announce_dst) {
		memcpy(&c->announce_src, opts->announce_src, sk__sockaddr_len(opts->announce_src));
		memcpy(&c->announce_dst, opts->announce_dst, sk__sockaddr_len(opts->announce_dst));
	}
	c->cb = cb;
	c->userdata = userdata;
	sk_err_clear(&c->err);
	sk_endpoint_format(ep, false, c->text, sizeof(c->text));
	timeout = opts->timeout_ms > 0 ? opts->timeout_ms : 0;
	if (!timeout && (ep->opt.set & (1ull << SK__O_TIMEOUT)))
		timeout = (int)ep->opt.timeout_ms;
	if (timeout)
		c->deadline_timer = sk_loop_add_timer(loop, timeout, on_deadline, c);
	c->busy++;
	c->starting = true;
	if (ep->type->listener) {
		rc = sk__fail_why(&c->err, SK_EUNSUPPORTED, -1, "a listener cannot be connected",
			"connect to %s", c->text);
	} else {
		switch (ep->type->transport) {
		case SK_TCP:
		case SK_TLS: /* the TCP part; sk_tls_session_start adds TLS */
		case SK_WS:  /* ... and sk_ws_session_start WebSocket */
		case SK_WSS:
		case SK_UDP:
			rc = start_inet(c, opts);
			break;
		case SK_UNIX:
		case SK_ABSTRACT:
		case SK_VSOCK:
			rc = start_local(c);
			break;
		case SK_EXEC:
		case SK_SH:
			rc = start_child(c);
			break;
		default:
			rc = sk__fail_why(&c->err, SK_EUNSUPPORTED, -1, "not supported yet",
				"connect to %s", c->text);
			break;
		}
	}
	c->busy--;
	c->starting = false;
	if (rc < 0 || (c->deliver_timer < 0)) {
		rc = rc < 0 ? rc : sk__fail(&c->err, -ENOMEM, "connect to %s", c->text);
		if (err)
			*err = c->err;
		sk_connector_destroy(c);
		return rc;
	}
	*out = c;
	return 0;
}

void sk_connector_destroy(struct sk_connector *c)
{
	if (!c)
		return;
	stop_timer(c, &c->stagger_timer);
	stop_timer(c, &c->deadline_timer);
	if (c->deliver_timer > 0 && c->result >= 0 && !c->finished)
		close(c->result); /* delivered to nobody */
	stop_timer(c, &c->deliver_timer);
	drop_attempts(c, -1);
	drop_proxy(c);
	c->finished = true;
	c->dead = true;
	release(c);
}

/* ---- the blocking form ------------------------------------------------------------ */

struct blocking {
	int result;
	struct sk_err err;
};

static void on_blocking_done(struct sk_connector *c, int result, const struct sk_err *err,
	void *userdata)
{
	struct blocking *b = userdata;

	b->result = result;
	if (err)
		b->err = *err;
	sk_loop_stop(c->loop, 0);
}

int sk_connect(const struct sk_endpoint *ep, const struct sk_connect_opts *opts,
	struct sk_err *err)
{
	struct blocking b = { .result = -EINPROGRESS };
	struct sk_connector *c = NULL;
	struct sk_loop *loop;
	int rc;

	rc = sk_loop_create(&loop, err);
	if (rc < 0)
		return rc;
	rc = sk_connector_start(loop, ep, opts, on_blocking_done, &b, &c, err);
	if (rc == 0)
		rc = sk_loop_run(loop);
	if (rc == 0) {
		rc = b.result;
		if (rc < 0 && err)
			*err = b.err;
	}
	sk_connector_destroy(c);
	sk_loop_destroy(loop);
	return rc;
}
