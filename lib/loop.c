/* SPDX-License-Identifier: BSD-2-Clause */
/* loop.c - epoll loop: fds, one-shot timers, signals through a signalfd. */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct watch {
	sk_fd_cb cb;
	void *userdata;
	unsigned events;
	uint32_t gen;      /* bumped on every add/del, so stale epoll events are dropped */
	bool active;
	bool in_epoll;     /* without interest it is out of the epoll set, so
			      ERR/HUP (which epoll reports unasked) cannot spin */
	bool always_ready; /* epoll refused it (regular file): never blocks */
};

struct timer {
	int64_t due;
	int id;
	sk_timer_cb cb;
	void *userdata;
};

struct sk_loop {
	int epfd;
	struct watch *watches; /* indexed by fd */
	size_t nwatches;
	size_t nready;         /* active always_ready watches that want events */
	struct timer *timers;  /* binary min-heap on due */
	size_t ntimers, captimers;
	int next_timer_id;
	int sigfd;
	sigset_t sigmask, oldmask;
	sk_signal_cb sigcb;
	void *sigdata;
	int64_t now;
	bool stopped;
	int status;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sk_loop_create(struct sk_loop **out, struct sk_err *err)
{
	struct sk_loop *loop = calloc(1, sizeof(*loop));

	*out = NULL;
	if (!loop)
		return sk__fail(err, -ENOMEM, "create event loop");
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int rc = sk__fail(err, -errno, "create event loop");

		free(loop);
		return rc;
	}
	loop->sigfd = -1;
	loop->next_timer_id = 1;
	loop->now = mono_ms();
	*out = loop;
	return 0;
}

void sk_loop_destroy(struct sk_loop *loop)
{
	if (!loop)
		return;
	if (loop->sigfd >= 0) {
		close(loop->sigfd);
		sigprocmask(SIG_SETMASK, &loop->oldmask, NULL);
	}
	close(loop->epfd);
	free(loop->watches);
	free(loop->timers);
	free(loop);
}

static struct watch *watch_slot(struct sk_loop *loop, int fd)
{
	size_t n;
	struct watch *w;

	if (fd < 0)
		return NULL;
	if ((size_t)fd < loop->nwatches)
		return &loop->watches[fd];
	n = loop->nwatches ? loop->nwatches : 16;
	while (n <= (size_t)fd)
		n *= 2;
	w = realloc(loop->watches, n * sizeof(*w));
	if (!w)
		return NULL;
	memset(w + loop->nwatches, 0, (n - loop->nwatches) * sizeof(*w));
	loop->watches = w;
	loop->nwatches = n;
	return &loop->watches[fd];
}

static uint32_t to_epoll(unsigned events)
{
	return (events & SK_EV_IN ? EPOLLIN : 0) | (events & SK_EV_OUT ? EPOLLOUT : 0);
}

int sk_loop_add_fd(struct sk_loop *loop, int fd, unsigned events, sk_fd_cb cb, void *userdata)
{
	struct watch *w = watch_slot(loop, fd);
	struct epoll_event ev;

	if (!w)
		return fd < 0 ? -EBADF : -ENOMEM;
	if (w->active)
		return -EEXIST;
	w->gen++;
	ev.events = to_epoll(events);
	ev.data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)w->gen << 32;
	w->always_ready = false;
	w->in_epoll = true;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		if (errno != EPERM)
			return -errno;
		w->in_epoll = false;
		w->always_ready = true;
		if (events)
			loop->nready++;
	} else if (!events) {
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		w->in_epoll = false;
	}
	w->cb = cb;
	w->userdata = userdata;
	w->events = events;
	w->active = true;
	return 0;
}

int sk_loop_mod_fd(struct sk_loop *loop, int fd, unsigned events)
{
	struct watch *w = fd >= 0 && (size_t)fd < loop->nwatches ? &loop->watches[fd] : NULL;
	struct epoll_event ev;

	if (!w || !w->active)
		return -ENOENT;
	if (w->events == events)
		return 0;
	if (w->always_ready) {
		loop->nready += (events != 0) - (w->events != 0);
		w->events = events;
		return 0;
	}
	w->events = events;
	if (!events) {
		if (w->in_epoll)
			epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		w->in_epoll = false;
		return 0;
	}
	ev.events = to_epoll(events);
	ev.data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)w->gen << 32;
	if (epoll_ctl(loop->epfd, w->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	w->in_epoll = true;
	return 0;
}

void sk_loop_del_fd(struct sk_loop *loop, int fd)
{
	struct watch *w = fd >= 0 && (size_t)fd < loop->nwatches ? &loop->watches[fd] : NULL;

	if (!w || !w->active)
		return;
	if (w->always_ready && w->events)
		loop->nready--;
	if (w->in_epoll)
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->in_epoll = false;
	w->active = false;
	w->gen++;
}

/* ---- timers: a binary min-heap; cancelling is rare, so it may be linear ---- */

static void heap_swap(struct timer *t, size_t a, size_t b)
{
	struct timer tmp = t[a];

	t[a] = t[b];
	t[b] = tmp;
}

static void heap_up(struct timer *t, size_t i)
{
	while (i > 0 && t[(i - 1) / 2].due > t[i].due) {
		heap_swap(t, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct timer *t, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && t[l].due < t[m].due)
			m = l;
		if (r < n && t[r].due < t[m].due)
			m = r;
		if (m == i)
			return;
		heap_swap(t, i, m);
		i = m;
	}
}

static void heap_remove(struct sk_loop *loop, size_t i)
{
	loop->timers[i] = loop->timers[--loop->ntimers];
	if (i < loop->ntimers) {
		heap_down(loop->timers, loop->ntimers, i);
		heap_up(loop->timers, i);
	}
}

int sk_loop_add_timer(struct sk_loop *loop, int64_t ms, sk_timer_cb cb, void *userdata)
{
	if (loop->ntimers == loop->captimers) {
		size_t n = loop->captimers ? loop->captimers * 2 : 8;
		struct timer *t = realloc(loop->timers, n * sizeof(*t));

		if (!t)
			return -ENOMEM;
		loop->timers = t;
		loop->captimers = n;
	}
	if (loop->next_timer_id == 0x7fffffff)
		loop->next_timer_id = 1;
	int id = loop->next_timer_id++;

	loop->timers[loop->ntimers] = (struct timer){
		.due = mono_ms() + (ms > 0 ? ms : 0),
		.id = id,
		.cb = cb,
		.userdata = userdata,
	};
	heap_up(loop->timers, loop->ntimers++);
	return id;
}

void sk_loop_cancel_timer(struct sk_loop *loop, int id)
{
	for (size_t i = 0; i < loop->ntimers; i++) {
		if (loop->timers[i].id == id) {
			heap_remove(loop, i);
			return;
		}
	}
}

static void run_timers(struct sk_loop *loop)
{
	loop->now = mono_ms();
	while (!loop->stopped && loop->ntimers && loop->timers[0].due <= loop->now) {
		struct timer t = loop->timers[0];

		heap_remove(loop, 0);
		t.cb(loop, t.userdata);
	}
}

/* ---- signals ------------------------------------------------------------ */

static void on_signalfd(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		loop->sigcb(loop, (int)si.ssi_signo, loop->sigdata);
}

int sk_loop_watch_signals(struct sk_loop *loop, const int *signos, sk_signal_cb cb,
	void *userdata, struct sk_err *err)
{
	int rc;

	if (loop->sigfd >= 0)
		return sk__fail(err, -EBUSY, "watch signals");
	sigemptyset(&loop->sigmask);
	for (; *signos; signos++)
		sigaddset(&loop->sigmask, *signos);
	if (sigprocmask(SIG_BLOCK, &loop->sigmask, &loop->oldmask) < 0)
		return sk__fail(err, -errno, "block signals");
	loop->sigfd = signalfd(-1, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sigfd < 0) {
		rc = sk__fail(err, -errno, "create signalfd");
		sigprocmask(SIG_SETMASK, &loop->oldmask, NULL);
		return rc;
	}
	loop->sigcb = cb;
	loop->sigdata = userdata;
	rc = sk_loop_add_fd(loop, loop->sigfd, SK_EV_IN, on_signalfd, NULL);
	if (rc < 0) {
		close(loop->sigfd);
		loop->sigfd = -1;
		sigprocmask(SIG_SETMASK, &loop->oldmask, NULL);
		return sk__fail(err, rc, "watch signals");
	}
	return 0;
}

/* ---- running ---------------------------------------------------------------- */

static int next_timeout(struct sk_loop *loop)
{
	int64_t d;

	if (loop->nready)
		return 0;
	if (!loop->ntimers)
		return -1;
	d = loop->timers[0].due - mono_ms();
	if (d <= 0)
		return 0;
	return d > 0x7fffffff ? 0x7fffffff : (int)d;
}

static void dispatch(struct sk_loop *loop, const struct epoll_event *ev)
{
	int fd = (int)(uint32_t)ev->data.u64;
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	struct watch *w = &loop->watches[fd];
	unsigned events = 0;

	/* An earlier callback in this batch may have removed or replaced it. */
	if (!w->active || w->gen != gen)
		return;
	if (ev->events & EPOLLIN)
		events |= SK_EV_IN;
	if (ev->events & EPOLLOUT)
		events |= SK_EV_OUT;
	if (ev->events & EPOLLERR)
		events |= SK_EV_ERR;
	if (ev->events & (EPOLLHUP | EPOLLRDHUP))
		events |= SK_EV_HUP;
	w->cb(loop, fd, events, w->userdata);
}

static void dispatch_always_ready(struct sk_loop *loop)
{
	for (size_t fd = 0; fd < loop->nwatches && loop->nready && !loop->stopped; fd++) {
		struct watch *w = &loop->watches[fd];

		if (w->active && w->always_ready && w->events)
			w->cb(loop, (int)fd, w->events, w->userdata);
	}
}

int sk_loop_run(struct sk_loop *loop)
{
	struct epoll_event evs[64];

	loop->stopped = false;
	while (!loop->stopped) {
		int n = epoll_wait(loop->epfd, evs, 64, next_timeout(loop));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		loop->now = mono_ms();
		for (int i = 0; i < n && !loop->stopped; i++)
			dispatch(loop, &evs[i]);
		if (!loop->stopped)
			dispatch_always_ready(loop);
		run_timers(loop);
	}
	return loop->status;
}

void sk_loop_stop(struct sk_loop *loop, int status)
{
	loop->stopped = true;
	loop->status = status;
}

int64_t sk_loop_now(const struct sk_loop *loop)
{
	return loop->now;
}
