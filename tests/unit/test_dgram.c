/* SPDX-License-Identifier: BSD-2-Clause */
/* test_dgram.c - batched receive keeps boundaries, senders and kernel times. */
#include "internal.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int udp_bound(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	*sin = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(fd, (struct sockaddr *)sin, sizeof(*sin));
	getsockname(fd, (struct sockaddr *)sin, &len);
	return fd;
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
	return tap_done();
}
