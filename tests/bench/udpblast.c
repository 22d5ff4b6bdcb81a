/*
 * udpblast.c - UDP senders for tests/bench/udp.sh.
 *
 *   udpblast send PORT COUNT SIZE
 *       send COUNT datagrams of SIZE bytes to 127.0.0.1:PORT from a connected
 *       socket with sendmmsg() in batches of 64, as fast as the kernel takes
 *       them (each datagram starts with its 8-byte sequence number); prints
 *       "SENT START_NS END_NS" (CLOCK_MONOTONIC) on stdout. Also the "sendmmsg
 *       floor" of the send test (no stdin at all).
 *   udpblast feed COUNT SIZE
 *       write COUNT records of SIZE bytes to stdout, one write() each, after
 *       turning stdout into a packet-mode pipe (O_DIRECT, pipe(7)) when it is
 *       a pipe: every read() by the consumer then returns exactly one record,
 *       so a tool that sends one datagram per read sends SIZE-byte datagrams.
 *
 * Not part of the build: udp.sh compiles it with `cc -O2` into a temporary
 * directory.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAXSIZE 65507

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int do_send(int port, long count, int size)
{
	static char buf[BATCH][MAXSIZE];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("udpblast: socket/connect");
		return 1;
	}
	memset(m, 0, sizeof(m));
	for (int i = 0; i < BATCH; i++) {
		memset(buf[i], 'u', (size_t)size);
		if (size > 0)
			buf[i][size - 1] = '\n';
		iov[i].iov_base = buf[i];
		iov[i].iov_len = (size_t)size;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	long sent = 0, errors = 0;
	long long t0 = now_ns();
	while (sent < count) {
		int n = count - sent < BATCH ? (int)(count - sent) : BATCH;
		for (int i = 0; i < n; i++) {
			uint64_t seq = (uint64_t)(sent + i);
			if (size >= 8)
				memcpy(buf[i], &seq, 8);
		}
		int k = sendmmsg(s, m, (unsigned)n, 0);
		if (k < 0) {
			/* ECONNREFUSED from an ICMP of an earlier datagram: count, go on */
			if (errno == EINTR || errno == ECONNREFUSED || errno == ENOBUFS || errno == EAGAIN) {
				if (++errors > 1000000)
					break;
				continue;
			}
			perror("udpblast: sendmmsg");
			return 1;
		}
		sent += k;
	}
	long long t1 = now_ns();
	printf("%ld %lld %lld\n", sent, t0, t1);
	return 0;
}

static int do_feed(long count, int size)
{
	static char buf[MAXSIZE];
	struct stat st;
	if (fstat(1, &st) == 0 && S_ISFIFO(st.st_mode)) {
		int fl = fcntl(1, F_GETFL);
		if (fl < 0 || fcntl(1, F_SETFL, fl | O_DIRECT) < 0) {
			perror("udpblast feed: O_DIRECT on the stdout pipe");
			return 1;
		}
	}
	memset(buf, 'f', (size_t)size);
	if (size > 0)
		buf[size - 1] = '\n';
	for (long i = 0; i < count; i++) {
		size_t off = 0;
		while (off < (size_t)size) {
			ssize_t k = write(1, buf + off, (size_t)size - off);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EPIPE)
					return 0;
				perror("udpblast feed: write");
				return 1;
			}
			off += (size_t)k;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "send") == 0) {
		int size = atoi(argv[4]);
		if (size < 0 || size > MAXSIZE)
			return 2;
		return do_send(atoi(argv[2]), atol(argv[3]), size);
	}
	if (argc == 4 && strcmp(argv[1], "feed") == 0) {
		int size = atoi(argv[3]);
		if (size <= 0 || size > MAXSIZE)
			return 2;
		return do_feed(atol(argv[2]), size);
	}
	fprintf(stderr, "usage: udpblast send PORT COUNT SIZE | udpblast feed COUNT SIZE\n");
	return 2;
}
