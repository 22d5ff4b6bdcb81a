/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcap.c - traffic as a pcapng capture: the bytes a socket carried, dressed
 * as IPv4/IPv6 + TCP or UDP packets with the connection's real addresses,
 * so that Wireshark dissects the application protocol. Nothing is captured
 * from the wire; the packets are made up from what the pump moved.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* pcapng block types and the one link type used: raw IPv4/IPv6 packets. */
#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define LINKTYPE_RAW 101
#define OPT_IF_TSRESOL 9

#define IP4_HDR 20
#define IP6_HDR 40
#define TCP_HDR 20
#define UDP_HDR 8
/* Payload per made-up packet: an IPv4 total length is 16 bits. */
#define SEGMENT_MAX (65535 - IP4_HDR - TCP_HDR)

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10 };

struct sk_pcap {
	int fd;
	int error; /* the first write failure; later writes are skipped */
	unsigned next_fake; /* port numbers for flows without IP addresses */
	uint8_t *pkt;       /* one packet being built (IP header + payload) */
};

static int write_all(struct sk_pcap *pc, const void *buf, size_t len)
{
	const char *p = buf;

	while (len && !pc->error) {
		ssize_t n = write(pc->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pc->error = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	return pc->error;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* pcapng's own fields are in the writer's byte order (the SHB says which). */
static void host32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

int sk_pcap_create(int fd, struct sk_pcap **out, struct sk_err *err)
{
	struct sk_pcap *pc = calloc(1, sizeof(*pc));
	uint8_t shb[28] = { 0 }, idb[32] = { 0 };
	int64_t section_len = -1;
	int rc;

	*out = NULL;
	if (pc)
		pc->pkt = malloc(IP6_HDR + TCP_HDR + SEGMENT_MAX);
	if (!pc || !pc->pkt) {
		if (pc)
			free(pc);
		close(fd);
		return sk__fail(err, -ENOMEM, "start a capture");
	}
	pc->fd = fd;
	pc->next_fake = 1;
	host32(shb, BT_SHB);
	host32(shb + 4, sizeof(shb));
	host32(shb + 8, 0x1A2B3C4D);
	memcpy(shb + 12, &(uint16_t){ 1 }, 2); /* version 1.0 */
	memcpy(shb + 14, &(uint16_t){ 0 }, 2);
	memcpy(shb + 16, &section_len, 8);
	host32(shb + 24, sizeof(shb));

	host32(idb, BT_IDB);
	host32(idb + 4, sizeof(idb));
	memcpy(idb + 8, &(uint16_t){ LINKTYPE_RAW }, 2);
	host32(idb + 12, 0); /* no snap length limit */
	/* if_tsresol = 9: timestamps in nanoseconds; then opt_endofopt */
	memcpy(idb + 16, &(uint16_t){ OPT_IF_TSRESOL }, 2);
	memcpy(idb + 18, &(uint16_t){ 1 }, 2);
	idb[20] = 9;
	host32(idb + 28, sizeof(idb));

	write_all(pc, shb, sizeof(shb));
	rc = write_all(pc, idb, sizeof(idb));
	if (rc < 0) {
		sk_pcap_destroy(pc);
		return sk__fail(err, rc, "write the capture header");
	}
	*out = pc;
	return 0;
}

void sk_pcap_destroy(struct sk_pcap *pc)
{
	if (!pc)
		return;
	close(pc->fd);
	free(pc->pkt);
	free(pc);
}

int sk_pcap_error(const struct sk_pcap *pc)
{
	return pc->error;
}

/* An IPv4-mapped IPv6 address as the IPv4 one it stands for. */
static void unmap(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4 = { .sin_family = AF_INET };

	if (ss->ss_family != AF_INET6)
		return;
	memcpy(&s6, ss, sizeof(s6));
	if (!IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr))
		return;
	s4.sin_port = s6.sin6_port;
	memcpy(&s4.sin_addr, &s6.sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &s4, sizeof(s4));
}

static bool is_ip(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET || ss->ss_family == AF_INET6;
}

static void fake_ip4(struct sockaddr_storage *ss, uint32_t addr, unsigned port)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(addr) };

	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &s4, sizeof(s4));
}

void sk_pcap_flow_init(struct sk_pcap *pc, struct sk_pcap_flow *f, const struct sockaddr *client,
	socklen_t clientlen, const struct sockaddr *server, socklen_t serverlen, int socktype)
{
	memset(f, 0, sizeof(*f));
	if (clientlen <= sizeof(f->addr[0]))
		memcpy(&f->addr[0], client, clientlen);
	if (serverlen <= sizeof(f->addr[1]))
		memcpy(&f->addr[1], server, serverlen);
	unmap(&f->addr[0]);
	unmap(&f->addr[1]);
	/* UNIX, vsock, stdio, or one IPv4 and one IPv6 side: stand-ins on loopback. */
	if (!is_ip(&f->addr[0]) || f->addr[0].ss_family != f->addr[1].ss_family) {
		unsigned n = pc->next_fake++;

		fake_ip4(&f->addr[0], 0x7f000001, 1024 + (n % 60000));
		fake_ip4(&f->addr[1], 0x7f000002, 1);
	}
	f->datagrams = socktype == SOCK_DGRAM;
	f->seq[0] = 0x10000000u;
	f->seq[1] = 0x20000000u;
}

/* The Internet checksum over a pseudo-header and the transport header + payload. */
static uint16_t checksum(const struct sk_pcap_flow *f, int from, uint8_t proto, const uint8_t *l4,
	size_t len)
{
	uint32_t sum = 0;
	const uint8_t *src, *dst;
	size_t alen;

	if (f->addr[0].ss_family == AF_INET) {
		src = (const uint8_t *)&((const struct sockaddr_in *)&f->addr[from])->sin_addr;
		dst = (const uint8_t *)&((const struct sockaddr_in *)&f->addr[!from])->sin_addr;
		alen = 4;
	} else {
		src = ((const struct sockaddr_in6 *)&f->addr[from])->sin6_addr.s6_addr;
		dst = ((const struct sockaddr_in6 *)&f->addr[!from])->sin6_addr.s6_addr;
		alen = 16;
	}
	for (size_t i = 0; i < alen; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	sum += proto + (uint32_t)(len & 0xffff) + (uint32_t)(len >> 16);
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(l4[i] << 8 | l4[i + 1]);
	if (len & 1)
		sum += (uint32_t)l4[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t ip4_checksum(const uint8_t *h)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < IP4_HDR; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
	return sk_addr_port((const struct sockaddr *)ss);
}

/* Build the IP header for l4len bytes of transport; returns its length. */
static size_t ip_header(const struct sk_pcap_flow *f, int from, uint8_t proto, size_t l4len,
	uint8_t *h)
{
	if (f->addr[0].ss_family == AF_INET) {
		memset(h, 0, IP4_HDR);
		h[0] = 0x45;
		put16(h + 2, (unsigned)(IP4_HDR + l4len));
		put16(h + 6, 0x4000); /* don't fragment */
		h[8] = 64;
		h[9] = proto;
		memcpy(h + 12, &((const struct sockaddr_in *)&f->addr[from])->sin_addr, 4);
		memcpy(h + 16, &((const struct sockaddr_in *)&f->addr[!from])->sin_addr, 4);
		put16(h + 10, ip4_checksum(h));
		return IP4_HDR;
	}
	memset(h, 0, IP6_HDR);
	h[0] = 0x60;
	put16(h + 4, (unsigned)l4len);
	h[6] = proto;
	h[7] = 64;
	memcpy(h + 8, ((const struct sockaddr_in6 *)&f->addr[from])->sin6_addr.s6_addr, 16);
	memcpy(h + 24, ((const struct sockaddr_in6 *)&f->addr[!from])->sin6_addr.s6_addr, 16);
	return IP6_HDR;
}

static int write_packet(struct sk_pcap *pc, const struct timespec *when, size_t len)
{
	uint8_t head[28], tail[4];
	uint64_t ns = (uint64_t)when->tv_sec * 1000000000u + (uint64_t)when->tv_nsec;
	size_t pad = (4 - len % 4) % 4;
	uint32_t total = (uint32_t)(sizeof(head) + len + pad + sizeof(tail));
	static const uint8_t zeros[4];

	host32(head, BT_EPB);
	host32(head + 4, total);
	host32(head + 8, 0); /* interface 0 */
	host32(head + 12, (uint32_t)(ns >> 32));
	host32(head + 16, (uint32_t)ns);
	host32(head + 20, (uint32_t)len);
	host32(head + 24, (uint32_t)len);
	host32(tail, total);
	write_all(pc, head, sizeof(head));
	write_all(pc, pc->pkt, len);
	write_all(pc, zeros, pad);
	return write_all(pc, tail, sizeof(tail));
}

/* One packet from side `from` (0 client, 1 server) carrying data[0..len). */
static int emit(struct sk_pcap *pc, struct sk_pcap_flow *f, int from, unsigned flags,
	const void *data, size_t len, const struct timespec *when)
{
	uint8_t *ip = pc->pkt;
	uint8_t l4[TCP_HDR] = { 0 };
	size_t hl, l4hl = f->datagrams ? UDP_HDR : TCP_HDR;
	uint8_t proto = f->datagrams ? IPPROTO_UDP : IPPROTO_TCP;

	put16(l4, port_of(&f->addr[from]));
	put16(l4 + 2, port_of(&f->addr[!from]));
	if (f->datagrams) {
		put16(l4 + 4, (unsigned)(UDP_HDR + len));
	} else {
		put32(l4 + 4, f->seq[from]);
		put32(l4 + 8, flags & TCP_ACK ? f->seq[!from] : 0);
		l4[12] = (TCP_HDR / 4) << 4;
		l4[13] = (uint8_t)flags;
		put16(l4 + 14, 65535);
	}
	hl = ip_header(f, from, proto, l4hl + len, ip);
	memcpy(ip + hl, l4, l4hl);
	if (len)
		memcpy(ip + hl + l4hl, data, len);
	{
		uint16_t sum = checksum(f, from, proto, ip + hl, l4hl + len);

		/* UDP says "no checksum" with 0, so a computed 0 is sent as all ones. */
		if (f->datagrams && sum == 0)
			sum = 0xffff;
		put16(ip + hl + (f->datagrams ? 6 : 16), sum);
	}
	return write_packet(pc, when, hl + l4hl + len);
}

static struct timespec now_or(const struct timespec *when)
{
	struct timespec ts;

	if (when)
		return *when;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

/* TCP flows start with a made-up handshake, so every dissector sees a whole stream. */
static void open_flow(struct sk_pcap *pc, struct sk_pcap_flow *f, const struct timespec *ts)
{
	if (f->started || f->datagrams)
		return;
	f->started = true;
	emit(pc, f, 0, TCP_SYN, NULL, 0, ts);
	f->seq[0]++;
	emit(pc, f, 1, TCP_SYN | TCP_ACK, NULL, 0, ts);
	f->seq[1]++;
	emit(pc, f, 0, TCP_ACK, NULL, 0, ts);
}

int sk_pcap_data(struct sk_pcap *pc, struct sk_pcap_flow *f, bool from_server, const void *data,
	size_t len, const struct timespec *when)
{
	struct timespec ts = now_or(when);
	int from = from_server ? 1 : 0;
	const char *p = data;

	open_flow(pc, f, &ts);
	if (f->datagrams) {
		/* A datagram is one packet; longer than an IPv4 packet holds, it is cut. */
		return emit(pc, f, from, 0, p, len > SEGMENT_MAX ? SEGMENT_MAX : len, &ts);
	}
	while (len) {
		size_t n = len > SEGMENT_MAX ? SEGMENT_MAX : len;

		emit(pc, f, from, TCP_PSH | TCP_ACK, p, n, &ts);
		f->seq[from] += (uint32_t)n;
		p += n;
		len -= n;
	}
	return pc->error;
}

int sk_pcap_end(struct sk_pcap *pc, struct sk_pcap_flow *f, bool from_server, bool reset,
	const struct timespec *when)
{
	struct timespec ts = now_or(when);
	int from = from_server ? 1 : 0;

	if (f->datagrams || f->ended[from])
		return pc->error;
	open_flow(pc, f, &ts);
	f->ended[from] = true;
	if (reset) {
		f->ended[!from] = true;
		return emit(pc, f, from, TCP_RST | TCP_ACK, NULL, 0, &ts);
	}
	emit(pc, f, from, TCP_FIN | TCP_ACK, NULL, 0, &ts);
	f->seq[from]++;
	return pc->error;
}
