/*
 * udpsink.c - UDP and byte-stream counters for tests/bench/udp.sh.
 *
 *   udpsink recv PORT IDLE_MS MAX_S RCVBUF [stdout]
 *       bind 127.0.0.1:PORT (SO_RCVBUFFORCE, else SO_RCVBUF, of RCVBUF bytes;
 *       0 keeps the system default net.core.rmem_default), receive with
 *       recvmmsg() in batches of 64 until IDLE_MS of silence after the first
 *       datagram, or MAX_S seconds in all, or SIGTERM; prints
 *       "DATAGRAMS BYTES FIRST_NS LAST_NS MIN_SIZE MAX_SIZE BATCHES" on stderr
 *       (CLOCK_MONOTONIC; BATCHES = recvmmsg calls that returned datagrams).
 *       With "stdout" it also writes every datagram to stdout (one writev per
 *       batch): the "recvmmsg floor" of the receive test.
 *   udpsink count OUT
 *       read stdin to EOF, write "BYTES FIRST_NS LAST_NS READS" to OUT (the
 *       times of the first and the last read that returned data).
 *
 * Not part of the build: udp.sh compiles it with `cc -O2` into a temporary
 * directory.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define DGMAX 65536

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int do_recv(int port, int idle_ms, double max_s, int sz, int out)
{
	struct sigaction act = { .sa_handler = on_term }; /* poll returns EINTR */
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	static char buf[BATCH][DGMAX];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (sz > 0 && setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("udpsink: bind");
		return 1;
	}
	memset(m, 0, sizeof(m));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = DGMAX;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	long long start = now_ns(), first = 0, last = 0, end = start + (long long)(max_s * 1e9);
	long dgrams = 0, batches = 0, minsz = -1, maxsz = 0;
	long long bytes = 0;
	for (;;) {
		long long t = now_ns();
		if (stop || t >= end || (dgrams && t - last >= (long long)idle_ms * 1000000LL))
			break;
		long long wait = dgrams ? last + (long long)idle_ms * 1000000LL - t : end - t;
		struct pollfd p = { .fd = s, .events = POLLIN };
		if (poll(&p, 1, (int)(wait / 1000000) + 1) <= 0)
			continue;
		int n = recvmmsg(s, m, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		last = now_ns();
		if (!dgrams)
			first = last;
		batches++;
		for (int i = 0; i < n; i++) {
			long len = (long)m[i].msg_len;
			dgrams++;
			bytes += len;
			if (minsz < 0 || len < minsz)
				minsz = len;
			if (len > maxsz)
				maxsz = len;
			iov[i].iov_len = (size_t)len; /* for the writev below */
		}
		if (out) {
			struct iovec *v = iov;
			int cnt = n;
			while (cnt > 0) {
				ssize_t k = writev(1, v, cnt);
				if (k < 0) {
					if (errno == EINTR)
						continue;
					perror("udpsink: writev");
					return 1;
				}
				while (cnt > 0 && (size_t)k >= v->iov_len) {
					k -= (ssize_t)v->iov_len;
					v++;
					cnt--;
				}
				if (cnt > 0) {
					v->iov_base = (char *)v->iov_base + k;
					v->iov_len -= (size_t)k;
				}
			}
		}
		for (int i = 0; i < n; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = DGMAX;
		}
	}
	fprintf(stderr, "%ld %lld %lld %lld %ld %ld %ld\n", dgrams, bytes, first, last,
		minsz < 0 ? 0 : minsz, maxsz, batches);
	return 0;
}

static int do_count(const char *outpath)
{
	static char buf[1 << 20];
	long long bytes = 0, first = 0, last = 0;
	long reads = 0;
	for (;;) {
		ssize_t k = read(0, buf, sizeof(buf));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			perror("udpsink count: read");
			break;
		}
		if (k == 0)
			break;
		last = now_ns();
		if (!reads)
			first = last;
		reads++;
		bytes += k;
	}
	FILE *f = fopen(outpath, "w");
	if (!f)
		return 1;
	fprintf(f, "%lld %lld %lld %ld\n", bytes, first, last, reads);
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "recv") == 0)
		return do_recv(atoi(argv[2]), atoi(argv[3]), atof(argv[4]), atoi(argv[5]),
			argc == 7 && strcmp(argv[6], "stdout") == 0);
	if (argc == 3 && strcmp(argv[1], "count") == 0)
		return do_count(argv[2]);
	fprintf(stderr, "usage: udpsink recv PORT IDLE_MS MAX_S RCVBUF [stdout] | udpsink count OUT\n");
	return 2;
}
