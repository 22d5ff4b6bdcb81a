/* SPDX-License-Identifier: BSD-2-Clause */
/* test_pump.c - two-way pump: integrity, half-close, resets, idle, datagrams, gone sinks. */
#include "internal.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOTAL (4u << 20)

struct outcome {
	bool done;
	int status;
	struct sk_err err;
	struct sk_loop *loop;
};

static void on_done(struct sk_pump *pump, int status, const struct sk_err *err, void *ud)
{
	struct outcome *o = ud;

	(void)pump;
	o->done = true;
	o->status = status;
	if (err)
		o->err = *err;
	sk_loop_stop(o->loop, 0);
}

static unsigned char pattern(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* child: write TOTAL pattern bytes to fd, then close it */
static pid_t spawn_writer(int fd, int *close_too, int nclose)
{
	pid_t pid = fork();

	if (pid == 0) {
		unsigned char buf[8192];

		for (int i = 0; i < nclose; i++)
			close(close_too[i]);
		for (size_t off = 0; off < TOTAL; off += sizeof(buf)) {
			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = pattern(off + i);
			for (size_t done = 0; done < sizeof(buf);) {
				ssize_t n = write(fd, buf + done, sizeof(buf) - done);

				if (n <= 0)
					_exit(1);
				done += (size_t)n;
			}
		}
		shutdown(fd, SHUT_WR); /* a socket's EOF, shared by every holder; no-op on a pipe */
		_exit(0);
	}
	return pid;
}

/* child: echo everything from a stream socket back, half-close after EOF */
static pid_t spawn_echo(int fd, int *close_too, int nclose)
{
	pid_t pid = fork();

	if (pid == 0) {
		char buf[65536];
		ssize_t n;

		for (int i = 0; i < nclose; i++)
			close(close_too[i]);
		fcntl(fd, F_SETFL, 0);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			for (ssize_t done = 0; done < n;) {
				ssize_t w = write(fd, buf + done, (size_t)(n - done));

				if (w <= 0)
					_exit(1);
				done += w;
			}
		shutdown(fd, SHUT_WR);
		_exit(n == 0 ? 0 : 1);
	}
	return pid;
}

/* child: read fd to EOF, report byte count and hash on result */
static pid_t spawn_reader(int fd, int result, int *close_too, int nclose)
{
	pid_t pid = fork();

	if (pid == 0) {
		unsigned char buf[65536];
		uint64_t h = 1469598103934665603ull, count = 0, out[2];
		ssize_t n;

		for (int i = 0; i < nclose; i++)
			close(close_too[i]);
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			h = fnv(h, buf, (size_t)n);
			count += (uint64_t)n;
		}
		out[0] = count;
		out[1] = h;
		_exit(write(result, out, sizeof(out)) == sizeof(out) ? 0 : 1);
	}
	return pid;
}

static uint64_t expected_hash(void)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < TOTAL; i++) {
		unsigned char c = pattern(i);

		h = fnv(h, &c, 1);
	}
	return h;
}

/* stdin pipe -> pump -> echo peer -> pump -> stdout pipe, all 4 MiB intact. */
static void round_trip(struct sk_loop *loop, bool no_splice)
{
	int in[2], out[2], sv[2], res[2];
	struct outcome o = { .loop = loop };
	struct sk_pump *pump;
	struct sk_err err;
	uint64_t got[2] = { 0, 0 };
	pid_t w, e, r;
	const char *how = no_splice ? "copying" : "splicing";

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(res, O_CLOEXEC) ||
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv)) {
		ok(0, "%s: set-up", how);
		return;
	}
	int all[] = { in[0], out[0], out[1], sv[0], sv[1], res[0], res[1] };
	w = spawn_writer(in[1], all, 7);
	int for_echo[] = { in[0], in[1], out[0], out[1], sv[0], res[0], res[1] };
	e = spawn_echo(sv[1], for_echo, 7);
	int for_reader[] = { in[0], in[1], out[1], sv[0], sv[1], res[0] };
	r = spawn_reader(out[0], res[1], for_reader, 6);
	close(in[1]);
	close(sv[1]);
	close(out[0]);
	close(res[1]);
	fcntl(in[0], F_SETFL, O_NONBLOCK);
	fcntl(out[1], F_SETFL, O_NONBLOCK);

	struct sk_pump_side a = { .rfd = in[0], .wfd = out[1], .owns_wfd = true, .name = "stdio" };
	struct sk_pump_side b = { .rfd = sv[0], .wfd = sv[0], .name = "peer" };
	struct sk_pump_opts opts = { .no_splice = no_splice, .buffer_size = 16384 };

	is_int(sk_pump_create(loop, &a, &b, &opts, on_done, &o, &pump, &err), 0,
		"%s: pump created", how);
	sk_loop_run(loop);
	ok(o.done, "%s: pump finished", how);
	is_int(o.status, 0, "%s: clean end after both half-closes", how);
	is_int((long long)sk_pump_bytes(pump, SK_PUMP_A_TO_B), TOTAL, "%s: all bytes to the peer", how);
	is_int((long long)sk_pump_bytes(pump, SK_PUMP_B_TO_A), TOTAL, "%s: all bytes back", how);
	sk_pump_destroy(pump); /* closes out[1]: the reader sees EOF */
	ok(read(res[0], got, sizeof(got)) == sizeof(got), "%s: reader reported", how);
	is_int((long long)got[0], TOTAL, "%s: reader got every byte", how);
	ok(got[1] == expected_hash(), "%s: bytes intact (hash)", how);
	waitpid(w, NULL, 0);
	int st = -1;
	waitpid(e, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: peer saw our EOF (half-close carried)", how);
	waitpid(r, NULL, 0);
	close(in[0]);
	close(sv[0]);
	close(res[0]);
}

/* socket <-> pump <-> echo socket: both sinks are sockets, so bytes go through the stage pipe. */
static void round_trip_staged(struct sk_loop *loop)
{
	int x[2], sv[2], res[2];
	struct outcome o = { .loop = loop };
	struct sk_pump *pump;
	struct sk_err err;
	uint64_t got[2] = { 0, 0 };
	pid_t w, e, r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, x) || pipe2(res, O_CLOEXEC) ||
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv)) {
		ok(0, "staged: set-up");
		return;
	}
	int for_writer[] = { x[0], sv[0], sv[1], res[0], res[1] };
	w = spawn_writer(x[1], for_writer, 5);
	int for_echo[] = { x[0], x[1], sv[0], res[0], res[1] };
	e = spawn_echo(sv[1], for_echo, 5);
	int for_reader[] = { x[0], sv[0], sv[1], res[0] };
	r = spawn_reader(x[1], res[1], for_reader, 4);
	close(sv[1]);
	close(res[1]);
	fcntl(x[0], F_SETFL, O_NONBLOCK);

	struct sk_pump_side a = { .rfd = x[0], .wfd = x[0], .name = "near" };
	struct sk_pump_side b = { .rfd = sv[0], .wfd = sv[0], .name = "peer" };

	is_int(sk_pump_create(loop, &a, &b, NULL, on_done, &o, &pump, &err), 0,
		"staged: pump created");
	close(x[1]);
	sk_loop_run(loop);
	is_int(o.status, 0, "staged: clean end");
	is_int((long long)sk_pump_bytes(pump, SK_PUMP_B_TO_A), TOTAL, "staged: all bytes back");
	sk_pump_destroy(pump);
	close(x[0]);
	ok(read(res[0], got, sizeof(got)) == sizeof(got), "staged: reader reported");
	is_int((long long)got[0], TOTAL, "staged: reader got every byte");
	ok(got[1] == expected_hash(), "staged: bytes intact (hash)");
	waitpid(w, NULL, 0);
	waitpid(e, NULL, 0);
	waitpid(r, NULL, 0);
	close(sv[0]);
	close(res[0]);
}

/* A TCP peer that aborts (SO_LINGER 0) is a reset, not an EOF. */
static void reset_is_reported(struct sk_loop *loop)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), cfd, afd, keep[2];
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct outcome o = { .loop = loop };
	struct sk_pump *pump;
	struct sk_err err;

	bind(lfd, (struct sockaddr *)&sin, sizeof(sin));
	listen(lfd, 1);
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok(connect(cfd, (struct sockaddr *)&sin, len) == 0, "reset: connected");
	afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ok(pipe2(keep, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(cfd);

	struct sk_pump_side a = { .rfd = keep[0], .wfd = keep[1], .name = "stdio" };
	struct sk_pump_side b = { .rfd = afd, .wfd = afd, .name = "tcp peer" };

	sk_pump_create(loop, &a, &b, NULL, on_done, &o, &pump, &err);
	sk_loop_run(loop);
	is_int(o.status, -ECONNRESET, "reset: reported as ECONNRESET");
	is_str(o.err.what, "receive from tcp peer", "reset: says where");
	sk_pump_destroy(pump);
	close(afd);
	close(lfd);
	close(keep[0]);
	close(keep[1]);
}

static void idle_timeout(struct sk_loop *loop)
{
	int sv[2], keep[2];
	struct outcome o = { .loop = loop };
	struct sk_pump *pump;
	struct sk_err err;
	struct sk_pump_opts opts = { .idle_timeout_ms = 50 };
	int64_t t0 = sk_loop_now(loop);

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
	ok(pipe2(keep, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	struct sk_pump_side a = { .rfd = keep[0], .wfd = keep[1], .name = "stdio" };
	struct sk_pump_side b = { .rfd = sv[0], .wfd = sv[0], .name = "peer" };

	sk_pump_create(loop, &a, &b, &opts, on_done, &o, &pump, &err);
	sk_loop_run(loop);
	is_int(o.status, SK_EIDLE, "idle: SK_EIDLE after silence");
	ok(sk_loop_now(loop) - t0 >= 45, "idle: not before the timeout");
	sk_pump_destroy(pump);
	close(sv[0]);
	close(sv[1]);
	close(keep[0]);
	close(keep[1]);
}

/* Datagram boundaries survive, and an empty datagram is not an EOF. */
static void datagrams(struct sk_loop *loop)
{
	int src[2], dst[2], keep[2];
	struct outcome o = { .loop = loop };
	struct sk_pump *pump;
	struct sk_err err;
	static char big[5000];
	char buf[8192];
	struct sk_pump_opts opts = { .dgram_linger_ms = 30 };

	socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, src);
	socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, dst);
	ok(pipe2(keep, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	send(src[1], "a", 1, 0);
	send(src[1], "", 0, 0);
	send(src[1], big, sizeof(big), 0);
	close(keep[1]); /* our input ends at once: the datagram side lingers */

	struct sk_pump_side a = { .rfd = src[0], .wfd = src[0], .name = "dgram in" };
	struct sk_pump_side b = { .rfd = keep[0], .wfd = dst[0], .name = "dgram out" };

	sk_pump_create(loop, &a, &b, &opts, on_done, &o, &pump, &err);
	sk_loop_run(loop);
	is_int(o.status, 0, "dgram: ended after the linger, cleanly");
	is_int(recv(dst[1], buf, sizeof(buf), MSG_DONTWAIT), 1, "dgram: first datagram whole");
	is_int(recv(dst[1], buf, sizeof(buf), MSG_DONTWAIT), 5000,
		"dgram: 5000-byte datagram whole (empty one skipped, not EOF)");
	sk_pump_destroy(pump);
	close(src[0]);
	close(src[1]);
	close(dst[0]);
	close(dst[1]);
	close(keep[0]);
}

/* stdout's reader went away: that direction ends quietly; no SIGPIPE, no error. */
static void sink_gone(struct sk_loop *loop)
{
	int sv[2], out[2], in[2];
	struct outcome o = { .loop = loop };
	struct sk_pump *pump;
	struct sk_err err;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
	ok(pipe2(out, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	ok(pipe2(in, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	close(out[0]);
	close(in[1]);
	ok(write(sv[1], "data for nobody", 15) == 15, "gone: peer sent");

	struct sk_pump_side a = { .rfd = in[0], .wfd = out[1], .owns_wfd = true, .name = "stdio" };
	struct sk_pump_side b = { .rfd = sv[0], .wfd = sv[0], .name = "peer" };

	sk_pump_create(loop, &a, &b, NULL, on_done, &o, &pump, &err);
	sk_loop_run(loop);
	is_int(o.status, 0, "gone: a vanished stdout reader is not an error");
	sk_pump_destroy(pump);
	close(sv[0]);
	close(sv[1]);
	close(in[0]);
}

int main(void)
{
	struct sk_loop *loop;
	struct sk_err err;

	signal(SIGPIPE, SIG_IGN);
	alarm(60); /* a broken half-close would hang: fail instead */
	if (sk_loop_create(&loop, &err) < 0) {
		ok(0, "loop");
		return tap_done();
	}
	round_trip(loop, false);
	round_trip(loop, true);
	round_trip_staged(loop);
	reset_is_reported(loop);
	idle_timeout(loop);
	datagrams(loop);
	sink_gone(loop);
	sk_loop_destroy(loop);
	return tap_done();
}
