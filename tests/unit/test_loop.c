/* SPDX-License-Identifier: BSD-2-Clause */
/* test_loop.c - epoll loop: fd readiness, always-ready files, timers, signals. */
#include "internal.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static int fired_a, fired_b, fired_c;

static void mark_a(struct sk_loop *loop, void *ud)
{
	(void)ud;
	fired_a = ++fired_c;
	(void)loop;
}

static void mark_b(struct sk_loop *loop, void *ud)
{
	(void)ud;
	fired_b = ++fired_c;
	sk_loop_stop(loop, 42);
}

static void on_read(struct sk_loop *loop, int fd, unsigned events, void *ud)
{
	char c;
	int *got = ud;

	if ((events & SK_EV_IN) && read(fd, &c, 1) == 1)
		*got = c;
	sk_loop_stop(loop, 7);
}

static void on_file(struct sk_loop *loop, int fd, unsigned events, void *ud)
{
	int *calls = ud;

	(*calls)++;
	if (*calls == 3)
		sk_loop_stop(loop, 3);
	(void)fd;
	(void)events;
}

static void on_signal(struct sk_loop *loop, int signo, void *ud)
{
	*(int *)ud = signo;
	sk_loop_stop(loop, 128 + signo);
}

static void never(struct sk_loop *loop, void *ud)
{
	(void)ud;
	sk_loop_stop(loop, -1);
}

int main(void)
{
	struct sk_loop *loop;
	struct sk_err err;
	int p[2], got = 0, calls = 0, signo = 0, id, file;
	int64_t t0;
	is_int(sk_loop_create(&loop, &err), 0, "loop created");

	/* Timers fire in due order, not insertion order; a cancelled one never fires. */
	sk_loop_add_timer(loop, 30, mark_b, NULL);
	sk_loop_add_timer(loop, 10, mark_a, NULL);
	id = sk_loop_add_timer(loop, 20, never, NULL);
	ok(id > 0, "timer id is positive");
	sk_loop_cancel_timer(loop, id);
	t0 = sk_loop_now(loop);
	is_int(sk_loop_run(loop), 42, "run returns the stop status");
	is_int(fired_a, 1, "10 ms timer fired first");
	is_int(fired_b, 2, "30 ms timer fired second");
	ok(sk_loop_now(loop) - t0 >= 29, "the loop waited for the timers");

	/* A pipe becomes readable. */
	ok(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	is_int(sk_loop_add_fd(loop, p[0], SK_EV_IN, on_read, &got), 0, "pipe read end watched");
	is_int(sk_loop_add_fd(loop, p[0], SK_EV_IN, on_read, &got), -EEXIST,
		"a second watch on one fd is refused");
	ok(write(p[1], "x", 1) == 1, "wrote a byte");
	is_int(sk_loop_run(loop), 7, "fd callback stopped the loop");
	is_int(got, 'x', "callback read the byte");
	sk_loop_del_fd(loop, p[0]);

	/* A regular file cannot be in epoll: it is always ready. */
	file = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	is_int(sk_loop_add_fd(loop, file, SK_EV_IN, on_file, &calls), 0,
		"regular file accepted as always ready");
	is_int(sk_loop_run(loop), 3, "always-ready callback ran repeatedly");
	sk_loop_mod_fd(loop, file, 0);
	id = sk_loop_add_timer(loop, 20, mark_b, NULL);
	calls = 0;
	sk_loop_run(loop);
	is_int(calls, 0, "an always-ready fd without interest is not called (no spin)");
	sk_loop_del_fd(loop, file);
	close(file);

	/* Signals arrive through the signalfd, not a handler. */
	static const int sigs[] = { SIGUSR1, 0 };
	is_int(sk_loop_watch_signals(loop, sigs, on_signal, &signo, &err), 0, "signals watched");
	raise(SIGUSR1);
	is_int(sk_loop_run(loop), 128 + SIGUSR1, "signal stopped the loop");
	is_int(signo, SIGUSR1, "callback saw SIGUSR1");

	sk_loop_destroy(loop);
	sk_loop_destroy(NULL);
	ok(1, "destroy(NULL) is a no-op");
	close(p[0]);
	close(p[1]);
	return tap_done();
}
