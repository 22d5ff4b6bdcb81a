/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proxyproto.c - the PROXY protocol (haproxy's proxy-protocol.txt, v1 text
 * and v2 binary): the header a relay sends first so that the server learns
 * the original client's address (proxy-protocol=), and reading one on an
 * accepted connection (accept-proxy).
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const unsigned char v2_sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55,
	0x49, 0x54, 0x0A };
/* v1's longest line, CRLF included (the spec's 107 bytes). */
#define V1_MAX 107
/* Time allowed for a header to arrive on an accepted connection. */
#define READ_TIMEOUT_MS 5000

/* An IPv4-mapped IPv6 address as plain IPv4, so both ends share a family. */
static void unmapped(const struct sockaddr *sa, struct sockaddr_storage *out)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)out;

		s4->sin_family = AF_INET;
		s4->sin_port = s6->sin6_port;
		memcpy(&s4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
		return;
	}
	memcpy(out, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		: sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(sa_family_t));
}

ssize_t sk_proxy_header_build(int version, const struct sockaddr *src, const struct sockaddr *dst,
	void *buf, size_t len)
{
	struct sockaddr_storage s, d;
	unsigned char *p = buf;
	bool inet;

	if (version != 1 && version != 2)
		return -EINVAL;
	unmapped(src, &s);
	unmapped(dst, &d);
	inet = s.ss_family == d.ss_family && (s.ss_family == AF_INET || s.ss_family == AF_INET6);
	if (version == 1) {
		char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
		int n;

		if (!inet) {
			n = snprintf(buf, len, "PROXY UNKNOWN\r\n");
		} else {
			sk_addr_format((struct sockaddr *)&s, sizeof(s), sa, sizeof(sa));
			sk_addr_format((struct sockaddr *)&d, sizeof(d), da, sizeof(da));
			n = snprintf(buf, len, "PROXY %s %s %s %u %u\r\n",
				s.ss_family == AF_INET ? "TCP4" : "TCP6", sa, da,
				sk_addr_port((struct sockaddr *)&s), sk_addr_port((struct sockaddr *)&d));
		}
		return n < 0 || (size_t)n >= len ? -ENOSPC : n;
	}
	/* v2: signature, PROXY command, family, length, addresses */
	size_t alen = !inet ? 0 : s.ss_family == AF_INET ? 12 : 36;

	if (len < 16 + alen)
		return -ENOSPC;
	memcpy(p, v2_sig, 12);
	p[12] = 0x21;
	p[13] = !inet ? 0x00 : s.ss_family == AF_INET ? 0x11 : 0x21;
	p[14] = (unsigned char)(alen >> 8);
	p[15] = (unsigned char)alen;
	if (s.ss_family == AF_INET && inet) {
		const struct sockaddr_in *a = (void *)&s, *b = (void *)&d;

		memcpy(p + 16, &a->sin_addr, 4);
		memcpy(p + 20, &b->sin_addr, 4);
		memcpy(p + 24, &a->sin_port, 2);
		memcpy(p + 26, &b->sin_port, 2);
	} else if (inet) {
		const struct sockaddr_in6 *a = (void *)&s, *b = (void *)&d;

		memcpy(p + 16, &a->sin6_addr, 16);
		memcpy(p + 32, &b->sin6_addr, 16);
		memcpy(p + 48, &a->sin6_port, 2);
		memcpy(p + 50, &b->sin6_port, 2);
	}
	return (ssize_t)(16 + alen);
}

static bool set_inet(struct sockaddr_storage *ss, int family, const char *addr, unsigned long port)
{
	memset(ss, 0, sizeof(*ss));
	if (port > 65535)
		return false;
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return inet_pton(AF_INET, addr, &s4->sin_addr) == 1;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	return inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1;
}

/* "PROXY TCP4 1.2.3.4 5.6.7.8 111 222\r\n" */
static ssize_t parse_v1(const char *p, size_t len, struct sk_proxy_info *out)
{
	const char *eol = memchr(p, '\n', len < V1_MAX ? len : V1_MAX);
	char line[V1_MAX + 1], proto[8], sa[64], da[64];
	unsigned long sp, dp;
	int family, n = 0;

	if (!eol)
		return len >= V1_MAX ? -EPROTO : 0;
	if (eol == p || eol[-1] != '\r')
		return -EPROTO;
	memcpy(line, p, (size_t)(eol - p - 1));
	line[eol - p - 1] = '\0';
	if (strcmp(line, "PROXY UNKNOWN") == 0 || strncmp(line, "PROXY UNKNOWN ", 14) == 0) {
		out->local = true;
		return eol + 1 - p;
	}
	if (sscanf(line, "PROXY %7s %63s %63s %lu %lu%n", proto, sa, da, &sp, &dp, &n) != 5 ||
		line[n] != '\0')
		return -EPROTO;
	family = strcmp(proto, "TCP4") == 0 ? AF_INET : strcmp(proto, "TCP6") == 0 ? AF_INET6 : 0;
	if (!family || !set_inet(&out->src, family, sa, sp) || !set_inet(&out->dst, family, da, dp))
		return -EPROTO;
	out->local = false;
	return eol + 1 - p;
}

static ssize_t parse_v2(const unsigned char *p, size_t len, struct sk_proxy_info *out)
{
	size_t alen, total;

	if (len < 16)
		return 0;
	alen = (size_t)p[14] << 8 | p[15];
	total = 16 + alen;
	if ((p[12] & 0xf0) != 0x20 || (p[12] & 0x0f) > 1)
		return -EPROTO;
	if (len < total)
		return 0;
	out->local = true;
	/* LOCAL (health checks), or an address family we do not carry: the socket's own. */
	if ((p[12] & 0x0f) == 0)
		return (ssize_t)total;
	if (p[13] == 0x11 && alen >= 12) {
		struct sockaddr_in *s = (struct sockaddr_in *)&out->src, *d = (struct sockaddr_in *)&out->dst;

		memset(&out->src, 0, sizeof(out->src));
		memset(&out->dst, 0, sizeof(out->dst));
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, p + 16, 4);
		memcpy(&d->sin_addr, p + 20, 4);
		memcpy(&s->sin_port, p + 24, 2);
		memcpy(&d->sin_port, p + 26, 2);
		out->local = false;
	} else if (p[13] == 0x21 && alen >= 36) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src, *d = (struct sockaddr_in6 *)&out->dst;

		memset(&out->src, 0, sizeof(out->src));
		memset(&out->dst, 0, sizeof(out->dst));
		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, p + 16, 16);
		memcpy(&d->sin6_addr, p + 32, 16);
		memcpy(&s->sin6_port, p + 48, 2);
		memcpy(&d->sin6_port, p + 50, 2);
		out->local = false;
	}
	return (ssize_t)total;
}

ssize_t sk_proxy_header_parse(const void *buf, size_t len, struct sk_proxy_info *out)
{
	const unsigned char *p = buf;
	size_t n = len < 12 ? len : 12;

	memset(out, 0, sizeof(*out));
	if (memcmp(p, v2_sig, n) == 0)
		return len < 12 ? 0 : parse_v2(p, len, out);
	if (memcmp(p, "PROXY ", len < 6 ? len : 6) == 0)
		return len < 6 ? 0 : parse_v1(buf, len, out);
	return -EPROTO;
}

/* ---- reading one on an accepted connection ------------------------------------------------ */

struct sk_proxy_reader {
	struct sk_loop *loop;
	int fd; /* borrowed */
	int timer;
	sk_proxy_read_cb cb;
	void *userdata;
	char buf[16 + 216]; /* v2's longest with the addresses we read, or a v1 line */
	size_t len;
	bool done;
};

static void reader_finish(struct sk_proxy_reader *r, int rc, const struct sk_proxy_info *info,
	struct sk_err *err)
{
	if (r->done)
		return;
	r->done = true;
	sk_loop_del_fd(r->loop, r->fd);
	if (r->timer > 0)
		sk_loop_cancel_timer(r->loop, r->timer);
	r->timer = 0;
	r->cb(r, rc, info, err, r->userdata);
}

static void on_read_timeout(struct sk_loop *loop, void *userdata)
{
	struct sk_proxy_reader *r = userdata;
	struct sk_err err;

	r->timer = 0;
	reader_finish(r, sk__fail_why(&err, -ETIMEDOUT, -1, "no PROXY header in time",
				 "read the PROXY header on fd %d", r->fd),
		NULL, &err);
}

/* Peek, then take exactly the header: what follows is the client's. Bytes
 * of a header still incomplete are taken at once (they are all header), so a
 * slow sender does not keep the socket readable with nothing new. */
static void on_readable(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct sk_proxy_reader *r = userdata;
	struct sk_proxy_info info;
	struct sk_err err;
	ssize_t n = recv(fd, r->buf + r->len, sizeof(r->buf) - r->len, MSG_PEEK | MSG_DONTWAIT);
	ssize_t used, take;

	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		reader_finish(r, sk__fail(&err, n == 0 ? -ECONNRESET : -errno,
					 "read the PROXY header on fd %d", fd),
			NULL, &err);
		return;
	}
	used = sk_proxy_header_parse(r->buf, r->len + (size_t)n, &info);
	if (used == 0 && r->len + (size_t)n == sizeof(r->buf))
		used = -EPROTO;
	if (used < 0) {
		reader_finish(r, sk__fail_why(&err, -EPROTO, -1, "not a PROXY protocol header",
					 "read the PROXY header on fd %d", fd),
			NULL, &err);
		return;
	}
	take = used ? used - (ssize_t)r->len : n;
	if (recv(fd, r->buf + r->len, (size_t)take, MSG_DONTWAIT) != take) {
		reader_finish(r, sk__fail(&err, -EIO, "read the PROXY header on fd %d", fd), NULL,
			&err);
		return;
	}
	r->len += (size_t)take;
	if (used)
		reader_finish(r, 0, &info, NULL);
}

int sk_proxy_reader_start(struct sk_loop *loop, int fd, int timeout_ms, sk_proxy_read_cb cb,
	void *userdata, struct sk_proxy_reader **out, struct sk_err *err)
{
	struct sk_proxy_reader *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return sk__fail(err, -ENOMEM, "read the PROXY header on fd %d", fd);
	r->loop = loop;
	r->fd = fd;
	r->cb = cb;
	r->userdata = userdata;
	r->timer = sk_loop_add_timer(loop, timeout_ms > 0 ? timeout_ms : READ_TIMEOUT_MS,
		on_read_timeout, r);
	if (r->timer < 0 || sk_loop_add_fd(loop, fd, SK_EV_IN, on_readable, r) < 0) {
		if (r->timer > 0)
			sk_loop_cancel_timer(loop, r->timer);
		free(r);
		return sk__fail(err, -ENOMEM, "read the PROXY header on fd %d", fd);
	}
	*out = r;
	return 0;
}

void sk_proxy_reader_destroy(struct sk_proxy_reader *r)
{
	if (!r)
		return;
	if (!r->done) {
		sk_loop_del_fd(r->loop, r->fd);
		if (r->timer > 0)
			sk_loop_cancel_timer(r->loop, r->timer);
	}
	free(r);
}

int sk_endpoint_proxy_sender(const struct sk_endpoint *ep, const struct sockaddr *peer)
{
	const struct sk__strlist *l = &ep->opt.accept_proxy;

	if (!(ep->opt.set & (1ull << SK__O_ACCEPT_PROXY)))
		return 0;
	if (l->count == 0)
		return 1;
	for (size_t i = 0; i < l->count; i++) {
		struct sk__cidr cidr;
		size_t bad;

		if (sk__cidr_parse(l->items[i], strlen(l->items[i]), &cidr, &bad) == 0 &&
			sk__cidr_match(&cidr, peer))
			return 1;
	}
	return -EACCES;
}
