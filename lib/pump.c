/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pump.c - move bytes both ways between two sides.
 *
 * Each direction has one source, one sink and one bounded stage: a pipe for
 * splice(2) when both ends allow it (zero copy), else a heap buffer. When
 * one end is itself a pipe the direction splices straight across, with no
 * stage at all. A direction reads only while its stage has room and its
 * sink is not blocked, so a slow sink throttles its source and memory stays
 * bounded. EOF on a source is carried to the
 * other side as shutdown(SHUT_WR) (or close, for a non-socket sink) once the
 * stage has drained; the pump is done when both directions are.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define DEFAULT_BUFFER (256 * 1024)
#define DGRAM_BUFFER (64 * 1024 + 1)
/* The largest UDP payload; a byte stream is cut into messages of at most this. */
#define MAX_MESSAGE 65507
#define PIPE_SIZE (1024 * 1024)
/* fill_pipe(): splice is refused for this pair, the direction now copies. */
#define SWITCHED_TO_COPY (-100000)
/* Reads and writes per wake-up before yielding to other fds. */
#define ROUNDS 16

enum kind {
	K_NONE,
	K_STREAM,   /* stream socket */
	K_MSG,      /* SOCK_SEQPACKET: boundaries kept, 0 means EOF */
	K_DGRAM,    /* SOCK_DGRAM: boundaries kept, no EOF at all */
	K_PIPE,
	K_FILE,
	K_DEVNULL,
	K_OTHER,    /* terminal, other character device */
};

struct dir {
	struct sk_pump *pump;
	int rfd, wfd;
	enum kind rkind, wkind;
	bool rsock_blocking; /* a borrowed socket without O_NONBLOCK: no splice */
	bool w_owned;
	const char *rname, *wname;
	bool splicing;
	bool direct;    /* splicing with no stage: one end is a pipe already */
	int pipe[2];
	size_t in_pipe, pipe_cap;
	char *buf;
	size_t cap, head, tail;
	bool one_msg;   /* keep boundaries: one read = one datagram */
	size_t max_read; /* a stream read into a message sink: at most one message */
	bool eof;
	bool done;
	bool w_blocked; /* last write hit EAGAIN: wait for SK_EV_OUT */
	uint64_t bytes;
};

struct sk_pump {
	struct sk_loop *loop;
	struct dir d[2];
	int fds[4];
	unsigned want[4];
	size_t nfds;
	struct sk_pump_opts opts;
	sk_pump_done_cb done;
	void *userdata;
	int idle_timer, linger_timer;
	int64_t last_activity;
	int busy;
	bool finished, dead;
};

static enum kind classify(int fd, bool *blocking_sock)
{
	struct stat st;
	int type = 0;
	socklen_t len = sizeof(type);

	*blocking_sock = false;
	if (fd < 0 || fstat(fd, &st) < 0)
		return K_NONE;
	if (S_ISSOCK(st.st_mode)) {
		getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
		*blocking_sock = !(fcntl(fd, F_GETFL) & O_NONBLOCK);
		if (type == SOCK_DGRAM)
			return K_DGRAM;
		return type == SOCK_SEQPACKET ? K_MSG : K_STREAM;
	}
	if (S_ISFIFO(st.st_mode))
		return K_PIPE;
	if (S_ISREG(st.st_mode))
		return K_FILE;
	if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3)
		return K_DEVNULL;
	return K_OTHER;
}

static bool is_sock(enum kind k)
{
	return k == K_STREAM || k == K_MSG || k == K_DGRAM;
}

static bool can_splice(const struct dir *d)
{
	bool src = (d->rkind == K_STREAM && !d->rsock_blocking) || d->rkind == K_PIPE ||
		d->rkind == K_FILE;
	bool dst = d->wkind == K_STREAM || d->wkind == K_PIPE || d->wkind == K_DEVNULL;

	return src && dst;
}

static int setup_dir(struct sk_pump *p, struct dir *d, const struct sk_pump_side *from,
	const struct sk_pump_side *to, struct sk_err *err)
{
	bool wblocking;

	d->pump = p;
	d->rfd = from->rfd;
	d->wfd = to->wfd;
	d->rname = from->name ? from->name : "input";
	d->wname = to->name ? to->name : "output";
	d->w_owned = to->owns_wfd;
	d->pipe[0] = d->pipe[1] = -1;
	d->rkind = classify(d->rfd, &d->rsock_blocking);
	d->wkind = classify(d->wfd, &wblocking);
	if (d->rfd < 0 || d->wfd < 0) {
		d->done = d->eof = true;
		return 0;
	}
	d->one_msg = d->rkind == K_DGRAM || d->rkind == K_MSG || d->wkind == K_DGRAM ||
		d->wkind == K_MSG;
	d->max_read = d->one_msg && d->rkind != K_DGRAM && d->rkind != K_MSG ? MAX_MESSAGE
									      : SIZE_MAX;
	if (!d->one_msg && !p->opts.no_splice && !p->opts.trace && can_splice(d) &&
		(d->rkind == K_PIPE || d->wkind == K_PIPE)) {
		d->splicing = d->direct = true;
		return 0;
	}
	/* Stage pipe and buffer come with the first byte: an idle connection holds neither. */
	if (!d->one_msg && !p->opts.no_splice && !p->opts.trace && can_splice(d)) {
		d->splicing = true;
		return 0;
	}
	d->cap = p->opts.buffer_size ? p->opts.buffer_size : DEFAULT_BUFFER;
	if (d->one_msg && d->cap < DGRAM_BUFFER)
		d->cap = DGRAM_BUFFER;
	return 0;
}

static void close_stage(struct dir *d)
{
	if (d->pipe[0] >= 0)
		close(d->pipe[0]);
	if (d->pipe[1] >= 0)
		close(d->pipe[1]);
	d->pipe[0] = d->pipe[1] = -1;
	free(d->buf);
	d->buf = NULL;
}

/* The splice stage, made when first needed; false when no pipe can be had. */
static bool open_stage_pipe(struct dir *d)
{
	if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		d->pipe[0] = d->pipe[1] = -1;
		return false;
	}
	/* Bigger chunks, fewer wake-ups; the default 64 KiB serves if refused. */
	if (fcntl(d->pipe[1], F_SETPIPE_SZ, PIPE_SIZE) < 0)
		d->pipe_cap = 64 * 1024;
	else
		d->pipe_cap = (size_t)fcntl(d->pipe[1], F_GETPIPE_SZ);
	return true;
}

/* Give up splicing for this direction (refused, or out of pipes): copy instead. */
static ssize_t switch_to_copy(struct dir *d)
{
	close_stage(d);
	d->splicing = false;
	d->cap = d->pump->opts.buffer_size ? d->pump->opts.buffer_size : DEFAULT_BUFFER;
	return SWITCHED_TO_COPY;
}


/* ---- interest bookkeeping --------------------------------------------------- */

static size_t fd_slot(struct sk_pump *p, int fd)
{
	for (size_t i = 0; i < p->nfds; i++)
		if (p->fds[i] == fd)
			return i;
	return (size_t)-1;
}

static bool pending(const struct dir *d)
{
	return d->splicing ? d->in_pipe > 0 : d->tail > d->head;
}

static bool has_room(const struct dir *d)
{
	if (d->direct)
		return true;
	if (d->splicing)
		return d->pipe[0] < 0 || d->in_pipe < d->pipe_cap; /* no stage yet: room */
	return d->one_msg ? d->tail == d->head : d->tail < d->cap;
}

static void update_interest(struct sk_pump *p)
{
	unsigned want[4] = { 0 };

	for (int i = 0; i < 2; i++) {
		struct dir *d = &p->d[i];
		size_t s;

		if (d->done)
			continue;
		/* Not while the sink is blocked: an always-ready source would spin. */
		s = fd_slot(p, d->rfd);
		if (s != (size_t)-1 && !d->eof && has_room(d) && !d->w_blocked)
			want[s] |= SK_EV_IN;
		s = fd_slot(p, d->wfd);
		if (s != (size_t)-1 && d->w_blocked && (pending(d) || d->direct))
			want[s] |= SK_EV_OUT;
	}
	for (size_t i = 0; i < p->nfds; i++) {
		if (p->fds[i] >= 0 && want[i] != p->want[i]) {
			sk_loop_mod_fd(p->loop, p->fds[i], want[i]);
			p->want[i] = want[i];
		}
	}
}

/* ---- finishing ------------------------------------------------------------- */

static void unregister_all(struct sk_pump *p)
{
	for (size_t i = 0; i < p->nfds; i++) {
		if (p->fds[i] >= 0)
			sk_loop_del_fd(p->loop, p->fds[i]);
		p->fds[i] = -1;
	}
	if (p->idle_timer > 0)
		sk_loop_cancel_timer(p->loop, p->idle_timer);
	if (p->linger_timer > 0)
		sk_loop_cancel_timer(p->loop, p->linger_timer);
	p->idle_timer = p->linger_timer = 0;
}

static void finish(struct sk_pump *p, int status, const struct sk_err *err)
{
	if (p->finished)
		return;
	p->finished = true;
	unregister_all(p);
	if (p->done)
		p->done(p, status, err, p->userdata);
}

static void fail(struct dir *d, int code, const char *verb, const char *name)
{
	struct sk_err err;

	sk__fail(&err, code, "%s %s", verb, name);
	finish(d->pump, code, &err);
}

static void end_dir(struct dir *d);

static void on_linger(struct sk_loop *loop, void *userdata)
{
	struct sk_pump *p = userdata;
	struct dir *d = p->d[0].done ? &p->d[1] : &p->d[0];
	int64_t quiet = sk_loop_now(loop) - p->last_activity;

	p->linger_timer = 0;
	if (quiet < p->opts.dgram_linger_ms) {
		p->linger_timer = sk_loop_add_timer(loop, p->opts.dgram_linger_ms - quiet,
			on_linger, p);
		return;
	}
	p->busy++;
	if (!pending(d))
		end_dir(d);
	else
		d->eof = true; /* flush what is staged, then end */
	if (!p->finished)
		update_interest(p);
	if (--p->busy == 0 && p->dead)
		sk_pump_destroy(p);
}

/* The source is finished and the stage drained: tell the sink. */
static void end_dir(struct dir *d)
{
	struct sk_pump *p = d->pump;

	d->done = true;
	if (p->opts.trace)
		p->opts.trace((enum sk_pump_dir)(d - p->d), NULL, 0, p->opts.trace_userdata);
	if (d->wkind == K_STREAM || d->wkind == K_MSG) {
		shutdown(d->wfd, SHUT_WR);
	} else if (d->w_owned && d->wfd >= 0) {
		size_t s = fd_slot(p, d->wfd);

		/* Never close an fd the other direction still reads. */
		if (d->wfd != p->d[0].rfd && d->wfd != p->d[1].rfd) {
			if (s != (size_t)-1) {
				sk_loop_del_fd(p->loop, d->wfd);
				p->fds[s] = -1;
			}
			close(d->wfd);
			d->wfd = -1;
		}
	}
	close_stage(d);
	if (p->d[0].done && p->d[1].done) {
		finish(p, 0, NULL);
		return;
	}
	struct dir *other = d == &p->d[0] ? &p->d[1] : &p->d[0];

	if (other->rkind == K_DGRAM && p->opts.dgram_linger_ms > 0 && !p->linger_timer)
		p->linger_timer = sk_loop_add_timer(p->loop, p->opts.dgram_linger_ms, on_linger, p);
}

/* ---- moving bytes -------------------------------------------------------------- */

/* Returns > 0 bytes read, 0 at EOF, -EAGAIN, or another negative errno. */
static ssize_t read_some(struct dir *d, char *dst, size_t len)
{
	ssize_t n;

	if (is_sock(d->rkind))
		n = recv(d->rfd, dst, len, MSG_DONTWAIT);
	else
		n = read(d->rfd, dst, len);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static ssize_t write_some(struct dir *d, const char *src, size_t len)
{
	ssize_t n;

	if (is_sock(d->wkind))
		n = send(d->wfd, src, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		n = write(d->wfd, src, len);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

/*
 * A sink that is not a socket went away (`| head`): the reader no longer
 * wants the data, so this direction ends quietly, as for cat(1) without
 * SIGPIPE. A socket sink failing is the peer ending abnormally.
 */
static bool sink_gone(struct dir *d, ssize_t rc)
{
	if (rc != -EPIPE || is_sock(d->wkind))
		return false;
	d->eof = true;
	d->in_pipe = 0;
	d->head = d->tail = 0;
	end_dir(d);
	return true;
}

/* Splice from the stage pipe to the sink: 1 moved, 0 blocked, -1 finished. */
static int flush_pipe(struct dir *d)
{
	ssize_t n = splice(d->pipe[0], NULL, d->wfd, NULL, d->in_pipe,
		SPLICE_F_NONBLOCK | SPLICE_F_MOVE);

	if (n > 0) {
		d->in_pipe -= (size_t)n;
		d->bytes += (uint64_t)n;
		d->w_blocked = false;
		return 1;
	}
	if (n < 0 && errno == EAGAIN) {
		d->w_blocked = true;
		return 0;
	}
	if (!sink_gone(d, -errno))
		fail(d, n >= 0 ? -EIO : errno == EPIPE ? -ECONNRESET : -errno, "send to", d->wname);
	return -1;
}

static int flush_buf(struct dir *d)
{
	ssize_t n = write_some(d, d->buf + d->head, d->tail - d->head);

	if (n >= 0) {
		/* A datagram goes whole or not at all; a stream may be short. */
		size_t sent = d->one_msg && is_sock(d->wkind) ? d->tail - d->head : (size_t)n;

		d->head += sent;
		d->bytes += sent;
		if (d->head == d->tail)
			d->head = d->tail = 0;
		d->w_blocked = false;
		return 1;
	}
	if (n == -EAGAIN || n == -ENOBUFS) {
		d->w_blocked = true;
		return 0;
	}
	/* A socket says EPIPE once the peer's reset has been consumed: a reset. */
	if (!sink_gone(d, n))
		fail(d, n == -EPIPE ? -ECONNRESET : (int)n, "send to", d->wname);
	return -1;
}

static ssize_t fill_pipe(struct dir *d)
{
	ssize_t n;

	if (d->pipe[0] < 0 && !open_stage_pipe(d))
		return switch_to_copy(d);
	n = splice(d->rfd, NULL, d->pipe[1], NULL, d->pipe_cap - d->in_pipe,
		SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	/* This pair cannot splice after all: copy through a buffer. */
	if (n < 0 && errno == EINVAL && d->in_pipe == 0 && d->bytes == 0)
		return switch_to_copy(d);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	d->in_pipe += (size_t)n;
	return n;
}

static ssize_t fill_buf(struct dir *d)
{
	size_t room = d->cap - d->tail;
	ssize_t n;

	if (!d->buf) {
		d->buf = malloc(d->cap);
		if (!d->buf)
			return -ENOMEM;
	}
	n = read_some(d, d->buf + d->tail, room < d->max_read ? room : d->max_read);

	if (n > 0) {
		if (d->pump->opts.trace)
			d->pump->opts.trace((enum sk_pump_dir)(d - d->pump->d), d->buf + d->tail,
				(size_t)n, d->pump->opts.trace_userdata);
		d->tail += (size_t)n;
	} else if (n == 0 && d->rkind == K_DGRAM) {
		/* An empty datagram, not an end: UDP and unix-dgram have no EOF. */
		return -EAGAIN;
	}
	return n;
}

/*
 * Splice source to sink with no stage. EAGAIN does not say which end is
 * not ready, so ask the source how much it holds: bytes waiting mean the
 * sink is full. Returns like fill_pipe(); > 0 bytes moved.
 */
static ssize_t splice_direct(struct dir *d)
{
	ssize_t n = splice(d->rfd, NULL, d->wfd, NULL, PIPE_SIZE, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	int avail = 0;

	if (n > 0) {
		d->bytes += (uint64_t)n;
		d->w_blocked = false;
		return n;
	}
	if (n == 0)
		return 0;
	/* Refused for this pair (an O_APPEND file, say): copy through a buffer. */
	if (errno == EINVAL && d->bytes == 0) {
		d->direct = false;
		return switch_to_copy(d);
	}
	if (errno != EAGAIN)
		return -errno;
	d->w_blocked = ioctl(d->rfd, FIONREAD, &avail) == 0 && avail > 0;
	return -EAGAIN;
}

/* A failure of a direct splice: which end failed is known only by kind. */
static void fail_direct(struct dir *d, int code)
{
	if (is_sock(d->rkind) && code != -EPIPE) {
		fail(d, code, "receive from", d->rname);
		return;
	}
	if (!sink_gone(d, code))
		fail(d, code == -EPIPE ? -ECONNRESET : code, "send to", d->wname);
}

/* Move what can move now; returns false when the pump finished. */
static bool run_dir(struct dir *d)
{
	struct sk_pump *p = d->pump;

	if (d->direct) {
		for (int round = 0; round < ROUNDS && d->direct; round++) {
			ssize_t n = splice_direct(d);

			if (n > 0) {
				p->last_activity = sk_loop_now(p->loop);
				continue;
			}
			if (n == 0)
				end_dir(d);
			else if (n != -EAGAIN && n != SWITCHED_TO_COPY)
				fail_direct(d, (int)n);
			if (n != SWITCHED_TO_COPY)
				return !p->finished;
		}
		if (d->direct)
			return !p->finished;
	}

	for (int round = 0; round < ROUNDS && !d->done; round++) {
		ssize_t n;

		if (pending(d)) {
			int rc = d->splicing ? flush_pipe(d) : flush_buf(d);

			if (rc < 0)
				return !p->finished;
			if (rc == 0)
				break;
			p->last_activity = sk_loop_now(p->loop);
			continue;
		}
		if (d->eof) {
			end_dir(d);
			return !p->finished;
		}
		n = d->splicing ? fill_pipe(d) : fill_buf(d);
		if (n == SWITCHED_TO_COPY)
			continue;
		if (n == -EAGAIN)
			break;
		if (n == 0) {
			d->eof = true;
			continue;
		}
		if (n < 0) {
			fail(d, (int)n, "receive from", d->rname);
			return false;
		}
		p->last_activity = sk_loop_now(p->loop);
	}
	/* Out of rounds: nothing wakes us for a bare EOF, and only SK_EV_OUT
	 * for bytes still staged. */
	if (!d->done && pending(d))
		d->w_blocked = true;
	else if (!d->done && d->eof)
		end_dir(d);
	return !p->finished;
}

static void on_fd(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct sk_pump *p = userdata;

	p->busy++;
	for (int i = 0; i < 2 && !p->finished; i++) {
		struct dir *d = &p->d[i];
		bool wake = (fd == d->rfd && (events & (SK_EV_IN | SK_EV_HUP | SK_EV_ERR))) ||
			(fd == d->wfd && (events & (SK_EV_OUT | SK_EV_ERR | SK_EV_HUP)));

		if (wake && !d->done)
			run_dir(d);
	}
	if (!p->finished)
		update_interest(p);
	if (--p->busy == 0 && p->dead)
		sk_pump_destroy(p);
}

static void on_idle(struct sk_loop *loop, void *userdata)
{
	struct sk_pump *p = userdata;
	int64_t quiet = sk_loop_now(loop) - p->last_activity;
	int64_t limit = p->opts.idle_timeout_ms;
	struct sk_err err;

	p->idle_timer = 0;
	if (quiet < limit) {
		p->idle_timer = sk_loop_add_timer(loop, limit - quiet, on_idle, p);
		return;
	}
	p->busy++;
	sk__fail_why(&err, SK_EIDLE, -1, "no data for the idle timeout", "transfer between %s and %s",
		p->d[0].rname, p->d[1].rname);
	finish(p, SK_EIDLE, &err);
	if (--p->busy == 0 && p->dead)
		sk_pump_destroy(p);
}

static int watch_fd(struct sk_pump *p, int fd, struct sk_err *err)
{
	int rc;

	if (fd < 0 || fd_slot(p, fd) != (size_t)-1)
		return 0;
	rc = sk_loop_add_fd(p->loop, fd, 0, on_fd, p);
	if (rc < 0)
		return sk__fail(err, rc, "watch fd %d", fd);
	p->fds[p->nfds] = fd;
	p->want[p->nfds++] = 0;
	return 0;
}

int sk_pump_create(struct sk_loop *loop, const struct sk_pump_side *a,
	const struct sk_pump_side *b, const struct sk_pump_opts *opts, sk_pump_done_cb done,
	void *userdata, struct sk_pump **out, struct sk_err *err)
{
	struct sk_pump *p = calloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	if (!p)
		return sk__fail(err, -ENOMEM, "create pump");
	p->loop = loop;
	if (opts)
		p->opts = *opts;
	p->done = done;
	p->userdata = userdata;
	p->last_activity = sk_loop_now(loop);
	rc = setup_dir(p, &p->d[SK_PUMP_A_TO_B], a, b, err);
	if (rc == 0)
		rc = setup_dir(p, &p->d[SK_PUMP_B_TO_A], b, a, err);
	if (rc == 0)
		rc = watch_fd(p, a->rfd, err);
	if (rc == 0)
		rc = watch_fd(p, a->wfd, err);
	if (rc == 0)
		rc = watch_fd(p, b->rfd, err);
	if (rc == 0)
		rc = watch_fd(p, b->wfd, err);
	if (rc == 0 && p->opts.idle_timeout_ms > 0) {
		p->idle_timer = sk_loop_add_timer(loop, p->opts.idle_timeout_ms, on_idle, p);
		if (p->idle_timer < 0)
			rc = sk__fail(err, p->idle_timer, "arm idle timer");
	}
	if (rc < 0) {
		sk_pump_destroy(p);
		return rc;
	}
	for (int i = 0; i < 2; i++)
		p->d[i].w_blocked = false;
	update_interest(p);
	*out = p;
	return 0;
}

void sk_pump_destroy(struct sk_pump *p)
{
	if (!p)
		return;
	if (p->busy) {
		/* Inside our own callback: free once it returns. */
		p->dead = true;
		return;
	}
	p->finished = true;
	unregister_all(p);
	for (int i = 0; i < 2; i++) {
		struct dir *d = &p->d[i];

		close_stage(d);
		if (d->w_owned && d->wfd >= 0 && !is_sock(d->wkind))
			close(d->wfd);
	}
	free(p);
}

uint64_t sk_pump_bytes(const struct sk_pump *p, enum sk_pump_dir dir)
{
	return p->d[dir].bytes;
}
