/*
 * connrate.c - client driver and plain-C floor servers for tests/bench/connrate.sh.
 *
 *   connrate client PORT CONC SECONDS
 *       CONC threads, each repeating for SECONDS: connect to 127.0.0.1:PORT,
 *       send 64 bytes (different for every connection), shutdown(SHUT_WR),
 *       read until EOF, check that exactly the 64 bytes came back, close.
 *       Every connection has its own 5 s deadline (connect + send + read).
 *       Prints one line on stdout:
 *         ok FAILED ELAPSED_S CONNS_PER_S P50_MS P99_MS BAD_ECHO RESET TIMEOUT CONNECT_ERR
 *       (conns/s counts verified connections only; failures are not retried).
 *   connrate client PORT CONC SECONDS read64
 *       the same without the half-close: send 64 bytes, read until 64 bytes
 *       came back, check them, close (for servers that lose output after a
 *       half-close, such as ncat 7.93 -k --exec)
 *
 *   connrate serve-fork PORT    the floor: listen on 127.0.0.1:PORT (backlog
 *                               1024); per connection fork(), dup2 the socket
 *                               to 0 and 1, execv("/bin/cat"); the parent
 *                               closes its copy and reaps with waitpid(WNOHANG)
 *   connrate serve-spawn PORT   the same with posix_spawn() (vfork-like
 *                               CLONE_VM in glibc) instead of fork + exec
 *   connrate time OUT CMD ARG.. run CMD, forward SIGTERM/SIGINT to it, wait4()
 *                               it and write "WALL USER SYS" (seconds; the
 *                               rusage includes the children CMD reaped) to OUT
 *
 * The servers run until SIGTERM. Not part of the build: connrate.sh compiles
 * it with `cc -O2 -pthread` into a temporary directory.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define CONN_TIMEOUT_MS 5000
#define LAT_BUCKETS 5001 /* 0.1 ms buckets up to 500 ms, last = overflow */

extern char **environ;

static struct sockaddr_in target;
static double deadline;
static int no_halfclose; /* CLOCK_MONOTONIC seconds: no new connection after it */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum { C_OK, C_BAD, C_RESET, C_TIMEOUT, C_CONNERR, C_N };

struct worker {
	pthread_t th;
	int id;
	unsigned long n[C_N];
	unsigned long lat[LAT_BUCKETS];
};

/* wait for EV on fd until the absolute time END; 1 ready, 0 timeout */
static int wait_fd(int fd, short ev, double end)
{
	for (;;) {
		double left = end - now();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = ev };
		int r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

static int one_conn(struct worker *w, unsigned long seq)
{
	char out[MSG], in[MSG + 1];
	double end = now() + CONN_TIMEOUT_MS / 1000.0;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return C_CONNERR;
	snprintf(out, sizeof(out), "client %3d conn %10lu ", w->id, seq);
	memset(out + strlen(out), 'a' + (int)(seq % 26), MSG - strlen(out));
	out[MSG - 1] = '\n';

	int res = C_OK;
	if (connect(s, (struct sockaddr *)&target, sizeof(target)) < 0) {
		if (errno != EINPROGRESS) {
			res = C_CONNERR;
			goto done;
		}
		if (!wait_fd(s, POLLOUT, end)) {
			res = C_TIMEOUT;
			goto done;
		}
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			res = err == ECONNRESET ? C_RESET : C_CONNERR;
			goto done;
		}
	}
	size_t sent = 0;
	while (sent < MSG) {
		ssize_t k = send(s, out + sent, MSG - sent, MSG_NOSIGNAL);
		if (k > 0) {
			sent += (size_t)k;
			continue;
		}
		if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (!wait_fd(s, POLLOUT, end)) {
				res = C_TIMEOUT;
				goto done;
			}
			continue;
		}
		res = (errno == ECONNRESET || errno == EPIPE) ? C_RESET : C_CONNERR;
		goto done;
	}
	if (!no_halfclose)
		shutdown(s, SHUT_WR);
	size_t got = 0;
	while (!no_halfclose || got < MSG) {
		ssize_t k = recv(s, in + got, sizeof(in) - got, 0);
		if (k > 0) {
			got += (size_t)k;
			if (got == sizeof(in)) { /* more than was sent */
				res = C_BAD;
				goto done;
			}
			continue;
		}
		if (k == 0)
			break;
		if (errno == EAGAIN || errno == EINTR) {
			if (!wait_fd(s, POLLIN, end)) {
				res = C_TIMEOUT;
				goto done;
			}
			continue;
		}
		res = errno == ECONNRESET ? C_RESET : C_CONNERR;
		goto done;
	}
	if (got != MSG || memcmp(in, out, MSG) != 0)
		res = C_BAD;
done:
	close(s);
	if (res == C_OK) {
		double ms = (now() - (end - CONN_TIMEOUT_MS / 1000.0)) * 1000.0;
		long b = (long)(ms * 10);
		w->lat[b < LAT_BUCKETS - 1 ? b : LAT_BUCKETS - 1]++;
	}
	return res;
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	unsigned long seq = 0;
	while (now() < deadline)
		w->n[one_conn(w, seq++)]++;
	return NULL;
}

static double pct(const unsigned long *lat, unsigned long total, double p)
{
	unsigned long want = (unsigned long)(p * (double)total), acc = 0;
	for (int i = 0; i < LAT_BUCKETS; i++) {
		acc += lat[i];
		if (acc > want)
			return i / 10.0;
	}
	return 0;
}

static int client(int port, int conc, double secs)
{
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_port = htons((unsigned short)port);
	target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	signal(SIGPIPE, SIG_IGN);

	struct worker *w = calloc((size_t)conc, sizeof(*w));
	if (!w)
		return 1;
	double t0 = now();
	deadline = t0 + secs;
	for (int i = 0; i < conc; i++) {
		w[i].id = i;
		if (pthread_create(&w[i].th, NULL, run_worker, &w[i]) != 0) {
			perror("connrate: pthread_create");
			return 1;
		}
	}
	unsigned long n[C_N] = { 0 };
	static unsigned long lat[LAT_BUCKETS];
	for (int i = 0; i < conc; i++) {
		pthread_join(w[i].th, NULL);
		for (int k = 0; k < C_N; k++)
			n[k] += w[i].n[k];
		for (int k = 0; k < LAT_BUCKETS; k++)
			lat[k] += w[i].lat[k];
	}
	double el = now() - t0;
	unsigned long fail = n[C_BAD] + n[C_RESET] + n[C_TIMEOUT] + n[C_CONNERR];
	printf("%lu %lu %.3f %.1f %.1f %.1f %lu %lu %lu %lu\n", n[C_OK], fail, el, n[C_OK] / el,
	       pct(lat, n[C_OK], 0.5), pct(lat, n[C_OK], 0.99), n[C_BAD], n[C_RESET], n[C_TIMEOUT],
	       n[C_CONNERR]);
	free(w);
	return 0;
}

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int serve(int port, int spawn)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1024) < 0) {
		perror("connrate: bind/listen");
		return 1;
	}
	struct sigaction act = { .sa_handler = on_term }; /* no SA_RESTART: accept returns EINTR */
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	char *argv[] = { "cat", NULL };
	while (!stop) {
		int c = accept4(l, NULL, NULL, 0); /* not CLOEXEC: it becomes the child's 0 and 1 */
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("connrate: accept");
			return 1;
		}
		if (spawn) {
			posix_spawn_file_actions_t fa;
			posix_spawn_file_actions_init(&fa);
			posix_spawn_file_actions_adddup2(&fa, c, 0);
			posix_spawn_file_actions_adddup2(&fa, c, 1);
			posix_spawn_file_actions_addclose(&fa, c);
			pid_t pid;
			int e = posix_spawn(&pid, "/bin/cat", &fa, NULL, argv, environ);
			if (e)
				fprintf(stderr, "connrate: posix_spawn: %s\n", strerror(e));
			posix_spawn_file_actions_destroy(&fa);
		} else {
			pid_t pid = fork();
			if (pid == 0) {
				dup2(c, 0);
				dup2(c, 1);
				close(c);
				execv("/bin/cat", argv);
				_exit(127);
			}
			if (pid < 0)
				perror("connrate: fork");
		}
		close(c);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	close(l);
	while (waitpid(-1, NULL, 0) > 0) /* let the last children finish, counted in rusage */
		;
	return 0;
}

static volatile pid_t timed_child;
static void forward(int sig)
{
	if (timed_child > 0)
		kill(timed_child, sig);
}

static int timed(const char *out, char **argv)
{
	struct sigaction act = { .sa_handler = forward, .sa_flags = SA_RESTART };
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execvp(argv[0], argv);
		perror("connrate time: exec");
		_exit(127);
	}
	if (pid < 0)
		return 1;
	timed_child = pid;
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			return 1;
	FILE *f = fopen(out, "w");
	if (f) {
		fprintf(f, "%.6f %.6f %.6f\n", now() - t0,
			ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
			ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
		fclose(f);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "time") == 0)
		return timed(argv[2], argv + 3);
	if ((argc == 5 || (argc == 6 && strcmp(argv[5], "read64") == 0)) &&
		strcmp(argv[1], "client") == 0) {
		no_halfclose = argc == 6;
		return client(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
	}
	if (argc == 3 && strcmp(argv[1], "serve-fork") == 0)
		return serve(atoi(argv[2]), 0);
	if (argc == 3 && strcmp(argv[1], "serve-spawn") == 0)
		return serve(atoi(argv[2]), 1);
	fprintf(stderr, "usage: connrate client PORT CONC SECONDS [read64] | serve-fork PORT | serve-spawn PORT\n"
		"       connrate time OUT CMD [ARG]...\n");
	return 2;
}
