/*
 * relaybench.c - helpers for tests/bench/relay.sh (TCP relays on loopback).
 *
 *   relaybench sink PORT OUT
 *       listen on 127.0.0.1:PORT, accept one connection, recv() into a
 *       128 KiB buffer until EOF, close; write "BYTES T_FIRST T_EOF" to OUT
 *       (CLOCK_MONOTONIC ns of the accept and of the EOF)
 *   relaybench source PORT SIZE
 *       T0 = CLOCK_MONOTONIC; connect to 127.0.0.1:PORT, send SIZE bytes
 *       (128 KiB send()s from a buffer of zeros), shutdown(SHUT_WR), wait
 *       (at most 10 s) for EOF; print "T0 T_SENT T_EOF" (ns; T_EOF 0 when
 *       the EOF did not come)
 *   relaybench echo PORT COUNTFILE
 *       epoll echo server on 127.0.0.1:PORT (backlog 4096, one thread):
 *       echoes what it reads, closes after the peer's EOF once everything
 *       is echoed. COUNTFILE (mmap'ed, 3 x uint64: accepted, open, closed)
 *       is kept up to date without a system call. Runs until SIGTERM.
 *   relaybench count COUNTFILE     print "ACCEPTED OPEN CLOSED"
 *   relaybench hold PORT N SECONDS
 *       open N connections to 127.0.0.1:PORT (at most 64 being set up at
 *       once), send one byte on each and wait for its echo; then print
 *       "ready N MS" on stdout and hold them all open until SIGTERM
 *       ("lost a held connection" when one is closed meanwhile). Gives up
 *       (exit 1, "failed ...") after SECONDS.
 *   relaybench floor PORT TPORT
 *       the splice+epoll floor: a minimal relay from 127.0.0.1:PORT to
 *       127.0.0.1:TPORT, one process, one epoll loop, a pipe pair per
 *       connection (1 MiB pipes) and splice(2) both ways, half-close
 *       carried. Runs until SIGTERM.
 *   relaybench time OUT CMD [ARG]...
 *       run CMD as a child subreaper (PR_SET_CHILD_SUBREAPER), forward
 *       SIGTERM/SIGINT to it; when it has exited, SIGTERM whatever of its
 *       process tree is left, reap every descendant, and write
 *       "WALL USER SYS" (seconds; rusage of the whole tree) to OUT
 *   relaybench tree PID
 *       print "NPROCS RSS_KIB PSS_KIB" summed over PID and all its
 *       descendants (VmRSS of /proc/P/status, Pss of /proc/P/smaps_rollup)
 *
 * Not part of the build: relay.sh compiles it with `cc -O2` into a
 * temporary directory.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (128 * 1024)

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void catch_term(void)
{
	struct sigaction act = { .sa_handler = on_term }; /* no SA_RESTART */
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static int listen_on(int port, int backlog)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in sa = loopback(port);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, backlog) < 0) {
		perror("relaybench: bind/listen");
		exit(1);
	}
	return l;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* ---- sink / source ------------------------------------------------------------------ */

static int sink(int port, const char *out)
{
	static char buf[CHUNK];
	int l = listen_on(port, 16);
	int c = accept(l, NULL, NULL);
	if (c < 0)
		die("relaybench sink: accept");
	int64_t t0 = now_ns();
	unsigned long long n = 0;
	for (;;) {
		ssize_t k = recv(c, buf, sizeof(buf), 0);
		if (k > 0) {
			n += (unsigned long long)k;
			continue;
		}
		if (k == 0)
			break;
		if (errno == EINTR)
			continue;
		die("relaybench sink: recv");
	}
	int64_t t1 = now_ns();
	close(c);
	close(l);
	FILE *f = fopen(out, "w");
	if (!f)
		die("relaybench sink: output");
	fprintf(f, "%llu %lld %lld\n", n, (long long)t0, (long long)t1);
	fclose(f);
	return 0;
}

static int source(int port, unsigned long long size)
{
	static char buf[CHUNK];
	int64_t t0 = now_ns(), t1, t2 = 0;
	struct sockaddr_in sa = loopback(port);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	signal(SIGPIPE, SIG_IGN);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("relaybench source: connect");
	unsigned long long left = size;
	while (left > 0) {
		ssize_t k = send(s, buf, left < CHUNK ? left : CHUNK, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			die("relaybench source: send");
		}
		left -= (unsigned long long)k;
	}
	t1 = now_ns();
	shutdown(s, SHUT_WR);
	struct pollfd p = { .fd = s, .events = POLLIN };
	int64_t end = t1 + 10000000000LL;
	while (now_ns() < end) {
		if (poll(&p, 1, (int)((end - now_ns()) / 1000000) + 1) <= 0)
			continue;
		ssize_t k = recv(s, buf, sizeof(buf), 0);
		if (k == 0) {
			t2 = now_ns();
			break;
		}
		if (k < 0 && errno != EINTR)
			break;
	}
	close(s);
	printf("%lld %lld %lld\n", (long long)t0, (long long)t1, (long long)t2);
	return 0;
}

/* ---- echo server -------------------------------------------------------------------- */

struct econn {
	int fd;
	int eof;
	size_t head, tail;
	char buf[4096];
};

static int echo(int port, const char *countfile)
{
	int cf = open(countfile, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (cf < 0 || ftruncate(cf, 4096) < 0)
		die("relaybench echo: count file");
	volatile uint64_t *cnt = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, cf, 0);
	if (cnt == MAP_FAILED)
		die("relaybench echo: mmap");
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	catch_term();
	int l = listen_on(port, 4096);
	fcntl(l, F_SETFL, O_NONBLOCK);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	struct epoll_event evs[256];
	while (!stop) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			struct econn *c = evs[i].data.ptr;
			if (!c) {
				for (int k = 0; k < 64; k++) {
					int fd = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (fd < 0)
						break;
					c = calloc(1, sizeof(*c));
					if (!c) {
						close(fd);
						continue;
					}
					c->fd = fd;
					cnt[0]++;
					cnt[1]++;
					struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
				}
				continue;
			}
			int dead = 0;
			for (;;) {
				if (c->head < c->tail) {
					ssize_t k = send(c->fd, c->buf + c->head, c->tail - c->head,
						MSG_NOSIGNAL | MSG_DONTWAIT);
					if (k < 0 && errno == EAGAIN)
						break;
					if (k < 0) {
						dead = 1;
						break;
					}
					c->head += (size_t)k;
					if (c->head < c->tail)
						break;
					c->head = c->tail = 0;
				}
				if (c->eof) {
					dead = 1;
					break;
				}
				ssize_t k = recv(c->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
				if (k > 0) {
					c->tail = (size_t)k;
					continue;
				}
				if (k == 0) {
					c->eof = 1;
					continue;
				}
				if (errno != EAGAIN)
					dead = 1;
				break;
			}
			if (dead) {
				close(c->fd);
				free(c);
				cnt[1]--;
				cnt[2]++;
				continue;
			}
			/* output pending: wait for room and stop reading; else read */
			struct epoll_event e = { .events = c->head < c->tail ? EPOLLOUT : EPOLLIN,
				.data.ptr = c };
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
		}
	}
	return 0;
}

static int count(const char *countfile)
{
	uint64_t v[3] = { 0, 0, 0 };
	int fd = open(countfile, O_RDONLY);
	if (fd < 0 || pread(fd, v, sizeof(v), 0) < 0)
		die("relaybench count");
	printf("%llu %llu %llu\n", (unsigned long long)v[0], (unsigned long long)v[1],
		(unsigned long long)v[2]);
	return 0;
}

/* ---- holding N idle connections ----------------------------------------------------- */

enum { H_CONNECTING, H_WAITING, H_DONE };

static int hold(int port, int n, double secs)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	catch_term();
	int *fd = calloc((size_t)n, sizeof(int));
	char *st = calloc((size_t)n, 1);
	if (!fd || !st)
		return 1;
	struct sockaddr_in sa = loopback(port);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int64_t t0 = now_ns(), end = t0 + (int64_t)(secs * 1e9);
	int started = 0, inflight = 0, done = 0;
	const char *why = "timeout";
	struct epoll_event evs[64];
	while (done < n && !stop) {
		while (inflight < 64 && started < n) {
			int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (s < 0) {
				why = "socket";
				goto fail;
			}
			if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
				why = "connect";
				goto fail;
			}
			fd[started] = s;
			struct epoll_event e = { .events = EPOLLOUT, .data.u32 = (uint32_t)started };
			epoll_ctl(ep, EPOLL_CTL_ADD, s, &e);
			started++;
			inflight++;
		}
		int64_t left = end - now_ns();
		if (left <= 0)
			goto fail;
		int k = epoll_wait(ep, evs, 64, (int)(left / 1000000) + 1);
		for (int i = 0; i < k; i++) {
			int id = (int)evs[i].data.u32, s = fd[id];
			if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
				why = "connection failed or closed";
				goto fail;
			}
			if (st[id] == H_CONNECTING) {
				int err = 0;
				socklen_t el = sizeof(err);
				getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
				if (err || send(s, "x", 1, MSG_NOSIGNAL) != 1) {
					why = "connect/send";
					goto fail;
				}
				st[id] = H_WAITING;
				struct epoll_event e = { .events = EPOLLIN, .data.u32 = (uint32_t)id };
				epoll_ctl(ep, EPOLL_CTL_MOD, s, &e);
			} else if (st[id] == H_WAITING) {
				char b;
				ssize_t r = recv(s, &b, 1, 0);
				if (r < 0 && errno == EAGAIN)
					continue;
				if (r != 1 || b != 'x') {
					why = "bad echo";
					goto fail;
				}
				st[id] = H_DONE;
				/* keep watching: a close by the relay while held is an error */
				struct epoll_event e = { .events = EPOLLRDHUP, .data.u32 = (uint32_t)id };
				epoll_ctl(ep, EPOLL_CTL_MOD, s, &e);
				inflight--;
				done++;
			}
		}
	}
	if (stop)
		return 1;
	printf("ready %d %.0f\n", n, (now_ns() - t0) / 1e6);
	fflush(stdout);
	/* hold until SIGTERM; a connection the relay closes meanwhile is reported */
	while (!stop) {
		int k = epoll_wait(ep, evs, 64, 1000);
		for (int i = 0; i < k; i++) {
			printf("lost a held connection\n");
			fflush(stdout);
			epoll_ctl(ep, EPOLL_CTL_DEL, fd[evs[i].data.u32], NULL);
		}
	}
	return 0;
fail:
	printf("failed %s: %d of %d connections echoed, %d started, %.1f s\n", why, done, n, started,
		(now_ns() - t0) / 1e9);
	return 1;
}

/* ---- the splice+epoll floor ----------------------------------------------------------- */

struct fdir {
	int src, dst, pipe[2];
	size_t inpipe;
	int eof, want_in, want_out;
};

struct fconn {
	int a, b;
	struct fdir d[2]; /* a->b, b->a */
	unsigned ev_a, ev_b;
};

struct ftag {
	struct fconn *c;
	int side; /* 0: a, 1: b */
};

/* move what can move; -1 on an error */
static int fpump(struct fdir *d)
{
	d->want_in = d->want_out = 0;
	for (int round = 0; round < 16; round++) {
		if (d->inpipe > 0) {
			ssize_t k = splice(d->pipe[0], NULL, d->dst, NULL, d->inpipe,
				SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
			if (k < 0) {
				if (errno == EAGAIN) {
					d->want_out = 1;
					return 0;
				}
				return -1;
			}
			d->inpipe -= (size_t)k;
			if (d->inpipe > 0)
				continue;
		}
		if (d->eof)
			return 0;
		ssize_t k = splice(d->src, NULL, d->pipe[1], NULL, 1 << 20,
			SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (k == 0) {
			d->eof = 1;
			shutdown(d->dst, SHUT_WR);
			return 0;
		}
		if (k < 0) {
			if (errno == EAGAIN) {
				d->want_in = 1;
				return 0;
			}
			return -1;
		}
		d->inpipe += (size_t)k;
	}
	/* a full round budget: come back at the next wake-up */
	d->want_in = d->inpipe == 0;
	d->want_out = d->inpipe > 0;
	return 0;
}

static void fclose_conn(int ep, struct fconn *c, int reset)
{
	struct linger lg = { 1, 0 };
	if (reset) {
		setsockopt(c->a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		setsockopt(c->b, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, c->a, NULL);
	epoll_ctl(ep, EPOLL_CTL_DEL, c->b, NULL);
	close(c->a);
	close(c->b);
	for (int i = 0; i < 2; i++) {
		close(c->d[i].pipe[0]);
		close(c->d[i].pipe[1]);
	}
	free(c);
}

static void fsync_events(int ep, struct fconn *c, struct ftag *ta, struct ftag *tb)
{
	unsigned ea = (c->d[0].want_in ? EPOLLIN : 0) | (c->d[1].want_out ? EPOLLOUT : 0);
	unsigned eb = (c->d[1].want_in ? EPOLLIN : 0) | (c->d[0].want_out ? EPOLLOUT : 0);
	if (ea != c->ev_a) {
		struct epoll_event e = { .events = ea, .data.ptr = ta };
		epoll_ctl(ep, EPOLL_CTL_MOD, c->a, &e);
		c->ev_a = ea;
	}
	if (eb != c->ev_b) {
		struct epoll_event e = { .events = eb, .data.ptr = tb };
		epoll_ctl(ep, EPOLL_CTL_MOD, c->b, &e);
		c->ev_b = eb;
	}
}

static int floor_relay(int port, int tport)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	catch_term();
	int l = listen_on(port, 4096);
	fcntl(l, F_SETFL, O_NONBLOCK);
	struct sockaddr_in to = loopback(tport);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	struct epoll_event evs[256];
	while (!stop) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			struct ftag *t = evs[i].data.ptr;
			if (!t) {
				for (int k = 0; k < 64; k++) {
					int a = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (a < 0)
						break;
					/* loopback: a blocking connect completes at once */
					int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
					struct fconn *c = calloc(1, sizeof(*c) + 2 * sizeof(struct ftag));
					if (b < 0 || !c || connect(b, (struct sockaddr *)&to, sizeof(to)) < 0) {
						struct linger lg = { 1, 0 };
						setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
						close(a);
						if (b >= 0)
							close(b);
						free(c);
						continue;
					}
					fcntl(b, F_SETFL, O_NONBLOCK);
					c->a = a;
					c->b = b;
					c->d[0] = (struct fdir){ .src = a, .dst = b };
					c->d[1] = (struct fdir){ .src = b, .dst = a };
					for (int d = 0; d < 2; d++) {
						if (pipe2(c->d[d].pipe, O_NONBLOCK | O_CLOEXEC) < 0)
							die("relaybench floor: pipe2");
						fcntl(c->d[d].pipe[1], F_SETPIPE_SZ, 1 << 20);
					}
					struct ftag *ta = (struct ftag *)(c + 1), *tb = ta + 1;
					*ta = (struct ftag){ c, 0 };
					*tb = (struct ftag){ c, 1 };
					c->ev_a = c->ev_b = EPOLLIN;
					c->d[0].want_in = c->d[1].want_in = 1;
					struct epoll_event e = { .events = EPOLLIN, .data.ptr = ta };
					epoll_ctl(ep, EPOLL_CTL_ADD, a, &e);
					e.data.ptr = tb;
					epoll_ctl(ep, EPOLL_CTL_ADD, b, &e);
				}
				continue;
			}
			struct fconn *c = t->c;
			struct ftag *ta = (struct ftag *)(c + 1), *tb = ta + 1;
			/* the readable side feeds its direction, the writable side drains the other */
			int err = 0;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				err |= fpump(&c->d[t->side]);
			if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
				err |= fpump(&c->d[!t->side]);
			if (err) {
				fclose_conn(ep, c, 1);
				continue;
			}
			if (c->d[0].eof && c->d[1].eof && !c->d[0].inpipe && !c->d[1].inpipe) {
				fclose_conn(ep, c, 0);
				continue;
			}
			fsync_events(ep, c, ta, tb);
		}
	}
	return 0;
}

/* ---- timing a process tree ------------------------------------------------------------- */

static volatile pid_t timed_child;
static void forward(int sig)
{
	if (timed_child > 0)
		kill(timed_child, sig);
}

/* our children (reparented orphans included) */
static int children_of(pid_t pid, pid_t *out, int max)
{
	char path[300], buf[65536];
	int n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)pid, e->d_name);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		/* a seq_file: one page per read() at most */
		size_t len = 0;
		ssize_t k;
		while (len < sizeof(buf) - 1 && (k = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)k;
		close(fd);
		buf[len] = 0;
		for (char *p = buf, *q; n < max; p = q) {
			long v = strtol(p, &q, 10);
			if (q == p)
				break;
			out[n++] = (pid_t)v;
		}
	}
	closedir(d);
	return n;
}

static int timed(const char *out, char **argv)
{
	struct sigaction act = { .sa_handler = forward, .sa_flags = SA_RESTART };
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	int64_t t0 = now_ns();
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execvp(argv[0], argv);
		perror("relaybench time: exec");
		_exit(127);
	}
	if (pid < 0)
		return 1;
	timed_child = pid;
	int st, rc;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	/* what is left of the tree is ours now: stop it (bounded) and reap it all */
	int64_t end = now_ns() + 5000000000LL;
	for (;;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		pid_t kids[4096];
		int n = children_of(getpid(), kids, 4096);
		if (n == 0)
			break;
		for (int i = 0; i < n; i++)
			kill(kids[i], now_ns() < end ? SIGTERM : SIGKILL);
		usleep(10000);
	}
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	FILE *f = fopen(out, "w");
	if (f) {
		fprintf(f, "%.6f %.6f %.6f\n", (now_ns() - t0) / 1e9,
			ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
			ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
		fclose(f);
	}
	return rc;
}

/* ---- memory of a process tree ------------------------------------------------------------ */

static long field_kib(const char *path, const char *key)
{
	char buf[8192];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (k <= 0)
		return 0;
	buf[k] = 0;
	char *p = strstr(buf, key);
	return p ? strtol(p + strlen(key), NULL, 10) : 0;
}

static void tree_sum(pid_t pid, long *np, long *rss, long *pss)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	(*np)++;
	*rss += field_kib(path, "\nVmRSS:");
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	*pss += field_kib(path, "\nPss:");
	static pid_t kids[65536];
	int n = children_of(pid, kids, 65536);
	pid_t *mine = malloc((size_t)(n ? n : 1) * sizeof(pid_t));
	memcpy(mine, kids, (size_t)n * sizeof(pid_t));
	for (int i = 0; i < n; i++)
		tree_sum(mine[i], np, rss, pss);
	free(mine);
}

static int tree(pid_t pid)
{
	long np = 0, rss = 0, pss = 0;
	tree_sum(pid, &np, &rss, &pss);
	printf("%ld %ld %ld\n", np, rss, pss);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "sink") == 0)
		return sink(atoi(argv[2]), argv[3]);
	if (argc == 4 && strcmp(argv[1], "source") == 0)
		return source(atoi(argv[2]), strtoull(argv[3], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "echo") == 0)
		return echo(atoi(argv[2]), argv[3]);
	if (argc == 3 && strcmp(argv[1], "count") == 0)
		return count(argv[2]);
	if (argc == 5 && strcmp(argv[1], "hold") == 0)
		return hold(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
	if (argc == 4 && strcmp(argv[1], "floor") == 0)
		return floor_relay(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 4 && strcmp(argv[1], "time") == 0)
		return timed(argv[2], argv + 3);
	if (argc == 3 && strcmp(argv[1], "tree") == 0)
		return tree((pid_t)atoi(argv[2]));
	fprintf(stderr, "usage: relaybench sink PORT OUT | source PORT SIZE | echo PORT COUNTFILE\n"
			"       relaybench count COUNTFILE | hold PORT N SECONDS | floor PORT TPORT\n"
			"       relaybench time OUT CMD [ARG]... | tree PID\n");
	return 2;
}
