/* SPDX-License-Identifier: BSD-2-Clause */
/* test_connect.c - connects in a loop: async results, the race, children, timeouts, cancel. */
#include "internal.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct result {
	struct sk_loop *loop;
	int calls, fd;
	struct sk_err err;
};

static void on_done(struct sk_connector *c, int fd, const struct sk_err *err, void *userdata)
{
	struct result *r = userdata;

	(void)c;
	r->calls++;
	r->fd = fd;
	if (err)
		r->err = *err;
	sk_loop_stop(r->loop, 0);
}

static void stop_loop(struct sk_loop *loop, void *userdata)
{
	(void)userdata;
	sk_loop_stop(loop, 0);
}

static struct sk_endpoint *parse(const char *text)
{
	struct sk_endpoint *ep = NULL;
	struct sk_err err;

	if (sk_endpoint_parse(text, &ep, &err) < 0)
		printf("# parse '%s': %s\n", text, err.why);
	return ep;
}

/* A listening socket on 127.0.0.1 with the given backlog; its port in *port. */
static int tcp_listener(int backlog, unsigned *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	listen(fd, backlog);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void run(struct result *r, const char *text, const struct sk_connect_opts *o,
	const char *what)
{
	struct sk_endpoint *ep = parse(text);
	struct sk_connector *c = NULL;
	struct sk_err err;

	r->calls = 0;
	r->fd = -1;
	is_int(sk_connector_start(r->loop, ep, o, on_done, r, &c, &err), 0, "%s: started", what);
	is_int(r->calls, 0, "%s: no callback from inside start", what);
	sk_loop_run(r->loop);
	is_int(r->calls, 1, "%s: one callback", what);
	sk_connector_destroy(c);
	sk_endpoint_free(ep);
}

int main(void)
{
	struct result r = { 0 };
	struct sk_err err;
	char text[96];
	unsigned port;
	int lfd;

	signal(SIGPIPE, SIG_IGN);
	sk_loop_create(&r.loop, &err);

	/* localhost is ::1 then 127.0.0.1: IPv6 refused, IPv4 wins the race. */
	lfd = tcp_listener(8, &port);
	snprintf(text, sizeof(text), "tcp:localhost:%u", port);
	run(&r, text, NULL, "race");
	ok(r.fd >= 0, "race: connected (%s)", r.fd < 0 ? r.err.why : "ok");
	if (r.fd >= 0) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		getpeername(r.fd, (struct sockaddr *)&ss, &len);
		is_int(ss.ss_family, AF_INET, "race: the IPv4 address won");
		close(r.fd);
	}
	close(lfd);

	/* Nobody listens: refused, reported through the callback. */
	snprintf(text, sizeof(text), "tcp:127.0.0.1:%u", port);
	run(&r, text, NULL, "refused");
	is_int(r.fd, -ECONNREFUSED, "refused: -ECONNREFUSED");
	snprintf(text, sizeof(text), "connect to tcp:127.0.0.1:%u", port);
	is_str(r.err.what, text, "refused: names the endpoint");

	/* A full accept queue drops SYNs: the deadline ends the wait. */
	lfd = tcp_listener(0, &port);
	int held[4];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (int i = 0; i < 4; i++) {
		held[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		connect(held[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(100000); /* let the handshakes that can complete do so */
	snprintf(text, sizeof(text), "tcp:127.0.0.1:%u", port);
	int64_t t0 = sk_loop_now(r.loop);
	run(&r, text, &(struct sk_connect_opts){ .timeout_ms = 300 }, "timeout");
	is_int(r.fd, -ETIMEDOUT, "timeout: -ETIMEDOUT");
	ok(sk_loop_now(r.loop) - t0 >= 290, "timeout: not before the deadline");
	for (int i = 0; i < 4; i++)
		close(held[i]);
	close(lfd);

	/* exec: a child on a socketpair, here an echo. */
	run(&r, "exec:cat", NULL, "exec");
	ok(r.fd >= 0, "exec: a socket to the child");
	if (r.fd >= 0) {
		char buf[16] = "";
		ssize_t n;

		ok(write(r.fd, "ping\n", 5) == 5, "exec: wrote to the child");
		shutdown(r.fd, SHUT_WR);
		for (int tries = 0; tries < 200; tries++) {
			n = read(r.fd, buf, sizeof(buf) - 1);
			if (n >= 0 || errno != EAGAIN)
				break;
			usleep(10000);
		}
		is_str(buf, "ping\n", "exec: cat echoed through the socketpair");
		close(r.fd);
	}

	/* An abstract peer answers at once; the result still comes from the loop. */
	snprintf(text, sizeof(text), "abstract-listen:sk-connect-%d", (int)getpid());
	struct sk_endpoint *lep = parse(text);
	struct sk_listener *l;
	sk_listener_open(lep, AF_UNSPEC, &l, &err);
	snprintf(text, sizeof(text), "abstract:sk-connect-%d", (int)getpid());
	run(&r, text, NULL, "abstract");
	ok(r.fd >= 0, "abstract: connected");
	close(r.fd);
	sk_listener_destroy(l);
	sk_endpoint_free(lep);

	/* Cancelled before the loop runs: no callback, nothing leaks. */
	struct sk_endpoint *ep = parse("exec:cat");
	struct sk_connector *c;
	r.calls = 0;
	is_int(sk_connector_start(r.loop, ep, NULL, on_done, &r, &c, &err), 0, "cancel: started");
	sk_connector_destroy(c);
	sk_loop_add_timer(r.loop, 50, stop_loop, NULL);
	sk_loop_run(r.loop);
	is_int(r.calls, 0, "cancel: no callback after destroy");
	sk_endpoint_free(ep);

	/* Failures known at once come back from start itself. */
	ep = parse("tcp:name.invalid:80");
	is_int(sk_connector_start(r.loop, ep, NULL, on_done, &r, &c, &err), SK_ERESOLVE,
		"unresolvable: immediate SK_ERESOLVE");
	sk_endpoint_free(ep);
	sk_loop_destroy(r.loop);
	return tap_done();
}
