/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ws.c - WebSocket: SHA-1 and base64 against published vectors, the
 * opening handshake both ways, frames in and out (masking, 16- and 64-bit
 * lengths, fragments, pings), the closing handshake as EOF, and what a
 * broken peer gets.
 */
#include "internal.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static void hex(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_digests(void)
{
	unsigned char md[20];
	char text[64], b64[64];
	static char million[1000000];

	sk__sha1("abc", 3, md);
	hex(md, 20, text);
	is_str(text, "a9993e364706816aba3e25717850c26c9cd0d89d", "SHA-1 of abc");
	sk__sha1("", 0, md);
	hex(md, 20, text);
	is_str(text, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "SHA-1 of nothing");
	sk__sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, md);
	hex(md, 20, text);
	is_str(text, "84983e441c3bd26ebaae4aa1f95129e5e54670f1", "SHA-1 of 56 bytes (two tail blocks)");
	memset(million, 'a', sizeof(million));
	sk__sha1(million, sizeof(million), md);
	hex(md, 20, text);
	is_str(text, "34aa973cd4c4daa4f61eeb2bdbad27316534016f", "SHA-1 of a million a");
	sk__base64("foobar", 6, b64);
	is_str(b64, "Zm9vYmFy", "base64 foobar");
	sk__base64("fooba", 5, b64);
	is_str(b64, "Zm9vYmE=", "base64 fooba");
	sk__base64("f", 1, b64);
	is_str(b64, "Zg==", "base64 f");
	/* RFC 6455 §1.3's example key and answer */
	sk__sha1("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 60, md);
	sk__base64(md, 20, b64);
	is_str(b64, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "the RFC's Sec-WebSocket-Accept");
}

/* ---- a client session and a server session joined in one loop ------------------------- */

struct end {
	struct sk_ws_session *s;
	int fd; /* the caller's end after ready */
	int ready_rc, done_rc;
	bool ready, done;
	struct sk_err err;
};

struct pair {
	struct sk_loop *loop;
	struct end c, srv;
};

static void on_ready(struct sk_ws_session *s, int fd, const struct sk_err *err, void *userdata)
{
	struct end *e = userdata;

	e->ready = true;
	e->ready_rc = fd < 0 ? fd : 0;
	e->fd = fd;
	if (err)
		e->err = *err;
}

static void on_done(struct sk_ws_session *s, int status, const struct sk_err *err, void *userdata)
{
	struct end *e = userdata;

	e->done = true;
	e->done_rc = status;
	if (err)
		e->err = *err;
}

static void on_tick(struct sk_loop *loop, void *userdata)
{
	sk_loop_stop(loop, 0);
}

static void spin(struct pair *p)
{
	sk_loop_add_timer(p->loop, 20, on_tick, NULL);
	sk_loop_run(p->loop);
}

static void start(struct pair *p, const char *client_path, const char *server_path, int netfd[2])
{
	struct sk_err err;
	struct sk_ws_session_opts co = { .host = "example.org", .path = client_path, .peer = "srv",
		.timeout_ms = 2000, .ready = on_ready, .done = on_done, .userdata = &p->c };
	struct sk_ws_session_opts so = { .server = true, .path = server_path, .peer = "cli",
		.timeout_ms = 2000, .ready = on_ready, .done = on_done, .userdata = &p->srv };

	memset(p, 0, sizeof(*p));
	p->c.fd = p->srv.fd = -1;
	sk_loop_create(&p->loop, &err);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, netfd);
	sk_ws_session_start(p->loop, netfd[0], &co, &p->c.s, &err);
	if (server_path)
		sk_ws_session_start(p->loop, netfd[1], &so, &p->srv.s, &err);
	for (int i = 0; i < 5; i++)
		spin(p);
}

static void finish(struct pair *p)
{
	if (p->c.fd >= 0)
		close(p->c.fd);
	if (p->srv.fd >= 0)
		close(p->srv.fd);
	sk_ws_session_destroy(p->c.s);
	sk_ws_session_destroy(p->srv.s);
	sk_loop_destroy(p->loop);
}

/* Read what arrived at an end, for up to a few spins. */
static size_t drain(struct pair *p, int fd, char *buf, size_t cap)
{
	size_t got = 0;

	for (int i = 0; i < 20; i++) {
		ssize_t n = recv(fd, buf + got, cap - got, MSG_DONTWAIT);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		spin(p);
	}
	return got;
}

static void test_session_pair(void)
{
	static char big[200000], back[200000];
	struct pair p;
	int net[2];
	char buf[64];
	size_t got;

	start(&p, "/chat", "/chat", net);
	ok(p.c.ready && p.c.ready_rc == 0, "client: handshake done");
	ok(p.srv.ready && p.srv.ready_rc == 0, "server: handshake done");
	is_int(send(p.c.fd, "hello", 5, 0), 5, "the client's caller writes");
	got = drain(&p, p.srv.fd, buf, 5);
	ok(got == 5 && memcmp(buf, "hello", 5) == 0, "the server's caller reads the same bytes");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	/* 200 KB one way: frames with 16-bit lengths, flow held by the buffers */
	size_t sent = 0, rcvd = 0;

	for (int i = 0; i < 400 && rcvd < sizeof(big); i++) {
		ssize_t n = sent < sizeof(big) ? send(p.srv.fd, big + sent, sizeof(big) - sent, MSG_DONTWAIT) : 0;

		if (n > 0)
			sent += (size_t)n;
		spin(&p);
		while ((n = recv(p.c.fd, back + rcvd, sizeof(back) - rcvd, MSG_DONTWAIT)) > 0)
			rcvd += (size_t)n;
	}
	ok(rcvd == sizeof(big) && memcmp(big, back, sizeof(big)) == 0,
		"200000 bytes server to client, in order and intact");

	/* the client's EOF: a Close frame; the server answers; both see EOF */
	shutdown(p.c.fd, SHUT_WR);
	for (int i = 0; i < 5; i++)
		spin(&p);
	ok(recv(p.srv.fd, buf, sizeof(buf), MSG_DONTWAIT) == 0, "the server's caller sees EOF");
	ok(recv(p.c.fd, buf, sizeof(buf), MSG_DONTWAIT) == 0, "the client's caller sees EOF too");
	ok(p.c.done && p.c.done_rc == 0 && p.srv.done && p.srv.done_rc == 0,
		"both: done after both Close frames");
	finish(&p);
}

static void test_refusals(void)
{
	struct pair p;
	int net[2];

	start(&p, "/other", "/chat", net);
	ok(p.c.ready && p.c.ready_rc == -ECONNREFUSED, "another path: refused");
	is_str(p.c.err.why, "server answered 'HTTP/1.1 404 Not Found'", "... with the server's 404");
	ok(p.srv.ready && p.srv.ready_rc == -EPROTO, "the server failed it too");
	finish(&p);
}

/* The test plays a raw peer on net[1] against a client session. */
static void test_raw_server(void)
{
	struct pair p;
	int net[2];
	char req[1024], key[64], reply[256], acc[64], buf[64];
	unsigned char md[20];
	ssize_t n;
	char *k;

	start(&p, "/x", NULL, net);
	n = recv(net[1], req, sizeof(req) - 1, MSG_DONTWAIT);
	req[n > 0 ? n : 0] = '\0';
	ok(strncmp(req, "GET /x HTTP/1.1\r\nHost: example.org\r\n", 36) == 0, "request line and Host");
	ok(strstr(req, "Sec-WebSocket-Version: 13\r\n") != NULL, "version 13");
	k = strstr(req, "Sec-WebSocket-Key: ");
	ok(k && sscanf(k, "Sec-WebSocket-Key: %63s", key) == 1 && strlen(key) == 24, "a 16-byte key");
	snprintf(req, sizeof(req), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	sk__sha1(req, strlen(req), md);
	sk__base64(md, 20, acc);
	n = snprintf(reply, sizeof(reply),
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Accept: %s\r\n\r\n", acc);
	send(net[1], reply, (size_t)n, 0);
	/* then, in the same write: a text frame in two fragments and a ping */
	send(net[1], "\x01\x03" "abc" "\x89\x02hi" "\x80\x02" "de", 5 + 4 + 4, 0);
	for (int i = 0; i < 5; i++)
		spin(&p);
	ok(p.c.ready && p.c.ready_rc == 0, "101 with the right accept: open");
	n = recv(p.c.fd, buf, sizeof(buf), MSG_DONTWAIT);
	ok(n == 5 && memcmp(buf, "abcde", 5) == 0, "fragments joined; the ping's payload not in the data");
	n = recv(net[1], buf, sizeof(buf), MSG_DONTWAIT);
	ok(n == 2 + 4 + 2 && (unsigned char)buf[0] == 0x8a && (unsigned char)buf[1] == 0x82 &&
			((buf[6] ^ buf[2]) == 'h') && ((buf[7] ^ buf[3]) == 'i'),
		"a masked pong with the ping's payload");
	send(p.c.fd, "x", 1, 0);
	spin(&p);
	n = recv(net[1], buf, sizeof(buf), MSG_DONTWAIT);
	ok(n == 2 + 4 + 1 && (unsigned char)buf[0] == 0x82 && (unsigned char)buf[1] == 0x81 &&
			(buf[6] ^ buf[2]) == 'x', "the caller's byte as a masked binary frame");
	/* an unmasked-bit violation the other way: a masked frame from the server */
	send(net[1], "\x82\x81\x00\x00\x00\x00x", 7, 0);
	for (int i = 0; i < 3; i++)
		spin(&p);
	ok(p.c.done && p.c.done_rc == -EPROTO, "a masked frame from a server: -EPROTO");
	is_str(p.c.err.why, "masked frame from a server", "... saying why");
	n = recv(net[1], buf, sizeof(buf), MSG_DONTWAIT);
	ok(n >= 8 && (unsigned char)buf[0] == 0x88 && ((buf[6] ^ buf[2]) << 8 | (unsigned char)(buf[7] ^ buf[3])) == 1002,
		"and a Close 1002 went out");
	close(net[1]);
	finish(&p);

	start(&p, "/", NULL, net);
	recv(net[1], req, sizeof(req), MSG_DONTWAIT);
	send(net[1], "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: bogus\r\n\r\n", 66, 0);
	for (int i = 0; i < 3; i++)
		spin(&p);
	ok(p.c.ready && p.c.ready_rc == -EPROTO, "a wrong accept value: -EPROTO");
	close(net[1]);
	finish(&p);

	start(&p, "/", NULL, net);
	recv(net[1], req, sizeof(req), MSG_DONTWAIT);
	send(net[1], "HTTP/1.1 101 Switching Protocols\r\n", 34, 0);
	shutdown(net[1], SHUT_WR);
	for (int i = 0; i < 3; i++)
		spin(&p);
	ok(p.c.ready && p.c.ready_rc < 0, "EOF inside the handshake: a failure");
	close(net[1]);
	finish(&p);
}

static void test_truncation(void)
{
	struct pair p;
	int net[2];

	start(&p, "/", "/", net);
	ok(p.c.ready_rc == 0 && p.srv.ready_rc == 0, "open");
	/* the server's connection goes away without a Close frame */
	sk_ws_session_destroy(p.srv.s);
	p.srv.s = NULL;
	for (int i = 0; i < 3; i++)
		spin(&p);
	ok(p.c.done && p.c.done_rc == -EPROTO, "no Close frame before EOF: -EPROTO");
	is_str(p.c.err.why, "connection closed without a Close frame", "... says so");
	finish(&p);
}

int main(void)
{
	test_digests();
	test_session_pair();
	test_refusals();
	test_raw_server();
	test_truncation();
	return tap_done();
}
