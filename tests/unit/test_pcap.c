/* SPDX-License-Identifier: BSD-2-Clause */
/* test_pcap.c - the pcapng file: headers, made-up packets that checksum, sequence numbers. */
#include "internal.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <unistd.h>

struct packet {
	const uint8_t *ip;
	uint32_t len;
	uint64_t ns;
};

static uint8_t *file;
static size_t file_len;
static struct packet pkts[64];
static int npkts;
static uint32_t linktype, tsresol;

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static unsigned be16(const uint8_t *p)
{
	return (unsigned)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

/* Read the whole capture back and split it into blocks; false when malformed. */
static bool parse(int fd)
{
	off_t end = lseek(fd, 0, SEEK_END);
	size_t off = 0;

	free(file);
	file_len = (size_t)end;
	file = malloc(file_len + 1);
	if (pread(fd, file, file_len, 0) != (ssize_t)file_len)
		return false;
	npkts = 0;
	while (off + 12 <= file_len) {
		uint32_t type = rd32(file + off), len = rd32(file + off + 4);

		if (len < 12 || len % 4 || off + len > file_len || rd32(file + off + len - 4) != len)
			return false;
		if (type == 0x0A0D0D0A && rd32(file + off + 8) != 0x1A2B3C4D)
			return false;
		if (type == 1) {
			linktype = (uint32_t)(file[off + 8] | file[off + 9] << 8);
			if (rd32(file + off + 16) == (9u | 1u << 16))
				tsresol = file[off + 20];
		}
		if (type == 6 && npkts < 64) {
			pkts[npkts].ns = (uint64_t)rd32(file + off + 12) << 32 | rd32(file + off + 16);
			pkts[npkts].len = rd32(file + off + 20);
			pkts[npkts].ip = file + off + 28;
			npkts++;
		}
		off += len;
	}
	return off == file_len;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += be16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static unsigned fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* True when the IP header (v4) and the transport checksum verify. */
static bool checksums_ok(const struct packet *pk)
{
	const uint8_t *ip = pk->ip;
	bool v4 = (ip[0] >> 4) == 4;
	size_t hl = v4 ? 20 : 40, alen = v4 ? 4 : 16;
	size_t l4len = pk->len - hl;
	uint32_t sum;

	if (v4 && fold(sum16(ip, 20, 0)) != 0xffff)
		return false;
	sum = sum16(ip + (v4 ? 12 : 8), 2 * alen, 0);
	sum += (v4 ? ip[9] : ip[6]) + (uint32_t)l4len;
	return fold(sum16(ip + hl, l4len, sum)) == 0xffff;
}

static int tcp_flags(const struct packet *pk)
{
	return pk->ip[(pk->ip[0] >> 4) == 4 ? 20 + 13 : 40 + 13];
}

static uint32_t tcp_seq(const struct packet *pk)
{
	return be32(pk->ip + ((pk->ip[0] >> 4) == 4 ? 20 : 40) + 4);
}

static int capture_file(void)
{
	return memfd_create("pcap", MFD_CLOEXEC);
}

static void test_tcp4(void)
{
	struct sockaddr_in c = { .sin_family = AF_INET, .sin_port = htons(40000) };
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct timespec when = { .tv_sec = 1700000000, .tv_nsec = 123456789 };
	struct sk_pcap *pc;
	struct sk_pcap_flow f;
	struct sk_err err;
	int fd = capture_file(), rfd = dup(fd);
	static char big[70000];

	inet_pton(AF_INET, "192.0.2.1", &c.sin_addr);
	inet_pton(AF_INET, "192.0.2.2", &s.sin_addr);
	is_int(sk_pcap_create(fd, &pc, &err), 0, "create a capture");
	sk_pcap_flow_init(pc, &f, (struct sockaddr *)&c, sizeof(c), (struct sockaddr *)&s, sizeof(s),
		SOCK_STREAM);
	is_int(sk_pcap_data(pc, &f, false, "GET / HTTP/1.0\r\n\r\n", 18, &when), 0, "client data");
	is_int(sk_pcap_data(pc, &f, true, big, sizeof(big), NULL), 0, "70000 bytes from the server");
	is_int(sk_pcap_end(pc, &f, false, false, NULL), 0, "client FIN");
	is_int(sk_pcap_end(pc, &f, false, false, NULL), 0, "a second FIN is not written");
	is_int(sk_pcap_end(pc, &f, true, true, NULL), 0, "server RST");
	ok(parse(rfd), "every block well formed, lengths match at both ends");
	is_int(linktype, 101, "link type raw IP");
	is_int(tsresol, 9, "nanosecond timestamps");
	is_int(npkts, 3 + 1 + 2 + 1 + 1, "handshake, 1 + 2 data packets, FIN, RST");
	is_int(tcp_flags(&pkts[0]), 0x02, "SYN");
	is_int(tcp_flags(&pkts[1]), 0x12, "SYN-ACK");
	is_int(tcp_flags(&pkts[2]), 0x10, "ACK");
	is_int(pkts[0].ns, 1700000000123456789ull, "the given time, in ns");
	is_int(pkts[3].len, 20 + 20 + 18, "data packet: IP + TCP + 18 bytes");
	ok(memcmp(pkts[3].ip + 40, "GET / HTTP/1.0", 14) == 0, "payload as given");
	is_int(be16(pkts[3].ip + 20), 40000, "source port");
	is_int(be16(pkts[3].ip + 22), 80, "destination port");
	ok(memcmp(pkts[3].ip + 12, &c.sin_addr, 4) == 0 && memcmp(pkts[3].ip + 16, &s.sin_addr, 4) == 0,
		"real addresses");
	is_int(pkts[4].len + pkts[5].len - 2 * 40, 70000, "the server's bytes in two packets");
	is_int(tcp_seq(&pkts[5]) - tcp_seq(&pkts[4]), pkts[4].len - 40, "sequence numbers follow");
	is_int(be32(pkts[3].ip + 28), tcp_seq(&pkts[4]), "the client acknowledges the server's bytes");
	is_int(tcp_flags(&pkts[6]), 0x11, "FIN-ACK");
	is_int(tcp_flags(&pkts[7]), 0x14, "RST-ACK");
	for (int i = 0; i < npkts; i++)
		if (!ok(checksums_ok(&pkts[i]), "packet %d checksums verify", i))
			break;
	is_int(sk_pcap_error(pc), 0, "no write error");
	sk_pcap_destroy(pc);
	close(rfd);
}

static void test_udp6_and_standins(void)
{
	struct sockaddr_in6 c = { .sin6_family = AF_INET6, .sin6_port = htons(5000) };
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(53) };
	struct sockaddr_in6 mapped = { .sin6_family = AF_INET6, .sin6_port = htons(6000) };
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(7000) };
	struct sockaddr_un un = { .sun_family = AF_UNIX, .sun_path = "/run/x.sock" };
	struct sk_pcap *pc;
	struct sk_pcap_flow f, g, h;
	struct sk_err err;
	int fd = capture_file(), rfd = dup(fd);

	inet_pton(AF_INET6, "2001:db8::1", &c.sin6_addr);
	inet_pton(AF_INET6, "2001:db8::2", &s.sin6_addr);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
	inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
	sk_pcap_create(fd, &pc, &err);
	sk_pcap_flow_init(pc, &f, (struct sockaddr *)&c, sizeof(c), (struct sockaddr *)&s, sizeof(s),
		SOCK_DGRAM);
	sk_pcap_data(pc, &f, false, "query", 5, NULL);
	sk_pcap_data(pc, &f, true, "", 0, NULL);
	is_int(sk_pcap_end(pc, &f, false, true, NULL), 0, "a UDP flow has no end packet");
	sk_pcap_flow_init(pc, &g, (struct sockaddr *)&mapped, sizeof(mapped), (struct sockaddr *)&v4,
		sizeof(v4), SOCK_STREAM);
	sk_pcap_data(pc, &g, false, "x", 1, NULL);
	sk_pcap_flow_init(pc, &h, (struct sockaddr *)&un, sizeof(un), (struct sockaddr *)&un,
		sizeof(un), SOCK_STREAM);
	sk_pcap_data(pc, &h, true, "y", 1, NULL);
	ok(parse(rfd), "well formed");
	is_int(npkts, 2 + 4 + 4, "2 datagrams; handshake + data twice");
	is_int(pkts[0].ip[0] >> 4, 6, "IPv6 packet");
	is_int(pkts[0].ip[6], IPPROTO_UDP, "UDP");
	is_int(pkts[0].len, 40 + 8 + 5, "IPv6 + UDP + 5 bytes");
	is_int(be16(pkts[0].ip + 40 + 4), 8 + 5, "UDP length");
	is_int(pkts[1].len, 40 + 8, "an empty datagram is a packet too");
	ok(checksums_ok(&pkts[0]) && checksums_ok(&pkts[1]), "UDP/IPv6 checksums verify");
	is_int(pkts[2].ip[0] >> 4, 4, "an IPv4-mapped client is shown as IPv4");
	ok(memcmp(pkts[2].ip + 12, &v4.sin_addr, 4) == 0, "... as 127.0.0.1");
	is_int(pkts[6].ip[0] >> 4, 4, "UNIX sockets get IPv4 stand-ins");
	is_int(be32(pkts[9].ip + 12), 0x7f000002, "... the server on 127.0.0.2");
	ok(checksums_ok(&pkts[9]), "... and checksums verify");
	sk_pcap_destroy(pc);
	close(rfd);
}

static void test_write_error(void)
{
	struct sk_pcap *pc;
	struct sk_pcap_flow f;
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sk_err err;
	int p[2];

	if (!ok(pipe2(p, O_CLOEXEC) == 0, "a pipe"))
		return;
	is_int(sk_pcap_create(p[1], &pc, &err), 0, "a capture into a pipe");
	close(p[0]);
	sk_pcap_flow_init(pc, &f, (struct sockaddr *)&a, sizeof(a), (struct sockaddr *)&a, sizeof(a),
		SOCK_STREAM);
	is_int(sk_pcap_data(pc, &f, false, "z", 1, NULL), -EPIPE, "its reader gone: -EPIPE");
	is_int(sk_pcap_error(pc), -EPIPE, "the error stays");
	sk_pcap_destroy(pc);
	is_int(sk_pcap_create(-1, &pc, &err), -EBADF, "a bad fd fails at create");
	ok(pc == NULL, "... and gives nothing");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_tcp4();
	test_udp6_and_standins();
	test_write_error();
	free(file);
	return tap_done();
}
