/* SPDX-License-Identifier: BSD-2-Clause */
/* test_dgram.c - batched receive keeps boundaries, senders and kernel times;
 * a session socket takes its peer's datagrams from the listener. */
#include "internal.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int udp_bound_reuse(struct sockaddr_in *sin, int reuse)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse));
	*sin = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(fd, (struct sockaddr *)sin, sizeof(*sin));
	getsockname(fd, (struct sockaddr *)sin, &len);
	return fd;
}

static int udp_bound(struct sockaddr_in *sin)
{
	return udp_bound_reuse(sin, 0);
}

/* What fd has waiting, without blocking: its length, or -1. */
static ssize_t waiting(int fd, char *buf, size_t len, struct sockaddr_in *from)
{
	socklen_t fromlen = sizeof(*from);

	return recvfrom(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)from, &fromlen);
}

static void test_session(void)
{
	struct sockaddr_in l_addr, a_addr, b_addr, from;
	int l = udp_bound_reuse(&l_addr, 1), a = udp_bound(&a_addr), b = udp_bound(&b_addr);
	int plain, sess, fds[2];
	struct sk_err err;
	char buf[64];

	sk_err_clear(&err);
	sess = sk_dgram_session(l, (struct sockaddr *)&a_addr, sizeof(a_addr), &err);
	ok(sess >= 0, "session socket for peer A (%s)", err.why);
	sendto(a, "from a", 6, 0, (struct sockaddr *)&l_addr, sizeof(l_addr));
	sendto(b, "from b", 6, 0, (struct sockaddr *)&l_addr, sizeof(l_addr));
	usleep(10000);
	is_int(waiting(sess, buf, sizeof(buf), &from), 6, "A's datagram reaches A's session");
	is_int(from.sin_port, a_addr.sin_port, "... from A");
	is_int(waiting(sess, buf, sizeof(buf), &from), -1, "B's does not");
	is_int(waiting(l, buf, sizeof(buf), &from), 6, "B's reaches the listener");
	is_int(from.sin_port, b_addr.sin_port, "... from B");
	is_int(send(sess, "reply", 5, 0), 5, "the session replies");
	usleep(10000);
	is_int(waiting(a, buf, sizeof(buf), &from), 5, "A gets the reply");
	is_int(from.sin_port, l_addr.sin_port, "... from the listener's address");
	ok(fcntl(sess, F_GETFD) & FD_CLOEXEC, "close-on-exec");
	ok(fcntl(sess, F_GETFL) & O_NONBLOCK, "non-blocking");
	close(sess);

	plain = udp_bound(&l_addr);
	is_int(sk_dgram_session(plain, (struct sockaddr *)&a_addr, sizeof(a_addr), &err),
		-EADDRINUSE, "a listener without SO_REUSEADDR: -EADDRINUSE");
	socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds);
	is_int(sk_dgram_session(fds[0], (struct sockaddr *)&a_addr, sizeof(a_addr), &err),
		-EAFNOSUPPORT, "a UNIX datagram socket: -EAFNOSUPPORT");
	close(fds[0]);
	close(fds[1]);
	close(plain);
	close(l);
	close(a);
	close(b);
}

int main(void)
{
	static const size_t sizes[] = { 1, 100, 65507, 0, 10 };
	static char big[65507], buf[16 * 65536];
	struct sockaddr_in rx_addr, tx_addr;
	int rx = udp_bound(&rx_addr), tx = udp_bound(&tx_addr), n;
	struct sk_dgram d[16];
	struct sk_err err;
	struct timespec now;

	is_int(sk_dgram_recv(rx, d, 16, buf, 65536, &err), -EAGAIN, "nothing waiting: -EAGAIN");
	is_int(sk_dgram_timestamps(rx, &err), 0, "SO_TIMESTAMPNS on");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		big[0] = (char)('a' + i);
		sendto(tx, big, sizes[i], 0, (struct sockaddr *)&rx_addr, sizeof(rx_addr));
	}
	n = sk_dgram_recv(rx, d, 16, buf, 65536, &err);
	is_int(n, 5, "five datagrams in one call");
	for (int i = 0; i < n && i < 5; i++) {
		is_int((long long)d[i].len, (long long)sizes[i], "datagram %d whole (%zu bytes)", i,
			sizes[i]);
		ok(!d[i].truncated, "datagram %d not truncated", i);
		is_int(ntohs(((struct sockaddr_in *)&d[i].from)->sin_port), ntohs(tx_addr.sin_port),
			"datagram %d from the sender's port", i);
	}
	ok(d[0].data[0] == 'a' && d[2].data[0] == 'c', "bytes land in their own slots");
	clock_gettime(CLOCK_REALTIME, &now);
	ok(d[0].when.tv_sec > 0 && labs(now.tv_sec - d[0].when.tv_sec) <= 5,
		"receive time is wall-clock now");
	ok(d[4].when.tv_sec > d[0].when.tv_sec ||
			(d[4].when.tv_sec == d[0].when.tv_sec && d[4].when.tv_nsec >= d[0].when.tv_nsec),
		"receive times do not go backwards");

	sendto(tx, big, 100, 0, (struct sockaddr *)&rx_addr, sizeof(rx_addr));
	n = sk_dgram_recv(rx, d, 1, buf, 50, &err);
	is_int(n, 1, "one datagram into a small slot");
	ok(d[0].truncated, "a datagram longer than its slot says so");
	close(rx);
	close(tx);
	test_session();
	return tap_done();
}
