/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_proxy.c - the proxy exchanges byte for byte: what SOCKS5, SOCKS4a and
 * HTTP CONNECT requests look like, how answers are read (never past their
 * end), and how refusals are reported; PROXY protocol headers built, parsed
 * and read off a socket.
 */
#include "internal.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct run {
	struct sk_loop *loop;
	int fds[2]; /* [0] ours (the client side), [1] the test plays the proxy */
	struct sk__proxy_hs *hs;
	bool done;
	int rc;
	struct sk_err err;
};

static void on_done(struct sk__proxy_hs *hs, int rc, const struct sk_err *err, void *userdata)
{
	struct run *r = userdata;

	r->done = true;
	r->rc = rc;
	if (err)
		r->err = *err;
}

static void on_tick(struct sk_loop *loop, void *userdata)
{
	sk_loop_stop(loop, 0);
}

/* Let the loop run the exchange for a moment. */
static void spin(struct run *r)
{
	sk_loop_add_timer(r->loop, 20, on_tick, r);
	sk_loop_run(r->loop);
}

static bool start(struct run *r, const char *url, const char *host, unsigned port)
{
	struct sk_err err;

	memset(r, 0, sizeof(*r));
	sk_loop_create(&r->loop, &err);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, r->fds);
	if (sk__proxy_start(r->loop, r->fds[0], url, host, port, "tcp:target", on_done, r, &r->hs,
		    &err) < 0)
		return false;
	spin(r);
	return true;
}

static void stop(struct run *r)
{
	sk__proxy_destroy(r->hs);
	close(r->fds[0]);
	close(r->fds[1]);
	sk_loop_destroy(r->loop);
}

/* What the client sent so far, as the proxy reads it. */
static ssize_t sent(struct run *r, void *buf, size_t len)
{
	return recv(r->fds[1], buf, len, MSG_DONTWAIT);
}

static void answer(struct run *r, const void *data, size_t len)
{
	if (write(r->fds[1], data, len) != (ssize_t)len)
		ok(0, "the test proxy could not answer");
	spin(r);
}

static void test_socks5_plain(void)
{
	struct run r;
	unsigned char buf[512];
	ssize_t n;

	ok(start(&r, "socks5h://127.0.0.1:1080", "example.org", 443), "socks5h: started");
	n = sent(&r, buf, sizeof(buf));
	ok(n == 3 && memcmp(buf, "\x05\x01\x00", 3) == 0, "greeting: version 5, one method, no auth");
	answer(&r, "\x05\x00", 2);
	n = sent(&r, buf, sizeof(buf));
	ok(n == 4 + 1 + 11 + 2 && memcmp(buf, "\x05\x01\x00\x03\x0b" "example.org\x01\xbb", 18) == 0,
		"CONNECT by name (ATYP 3), port 443");
	ok(!r.done, "not done before the reply");
	/* reply with a bound IPv4 address, and the tunnel's first bytes right behind it */
	answer(&r, "\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38" "tunnel", 16);
	ok(r.done && r.rc == 0, "tunnel open");
	n = recv(r.fds[0], buf, sizeof(buf), MSG_DONTWAIT);
	ok(n == 6 && memcmp(buf, "tunnel", 6) == 0, "the tunnel's bytes are left unread");
	stop(&r);
}

static void test_socks5_auth_and_refusal(void)
{
	struct run r;
	unsigned char buf[512];
	ssize_t n;

	ok(start(&r, "socks5://bob:pw@127.0.0.1:1080", "192.0.2.7", 80), "socks5 with a user");
	n = sent(&r, buf, sizeof(buf));
	ok(n == 4 && memcmp(buf, "\x05\x02\x00\x02", 4) == 0, "offers no auth and user/password");
	answer(&r, "\x05\x02", 2);
	n = sent(&r, buf, sizeof(buf));
	ok(n == 1 + 1 + 3 + 1 + 2 && memcmp(buf, "\x01\x03" "bob\x02" "pw", 8) == 0,
		"RFC 1929 user/password");
	answer(&r, "\x01\x00", 2);
	n = sent(&r, buf, sizeof(buf));
	ok(n == 10 && memcmp(buf, "\x05\x01\x00\x01\xc0\x00\x02\x07\x00\x50", 10) == 0,
		"CONNECT to an IPv4 address (ATYP 1)");
	answer(&r, "\x05\x05\x00\x01\0\0\0\0\0\0", 10);
	ok(r.done && r.rc == -ECONNREFUSED, "REP 5: -ECONNREFUSED");
	is_str(r.err.why, "proxy says connection refused", "the proxy's reason");
	is_str(r.err.what, "connect to tcp:target", "what names the connection");
	stop(&r);

	ok(start(&r, "socks5h://bob:bad@127.0.0.1:1080", "h", 1), "a wrong password");
	sent(&r, buf, sizeof(buf));
	answer(&r, "\x05\x02", 2);
	sent(&r, buf, sizeof(buf));
	answer(&r, "\x01\x01", 2);
	ok(r.done && r.rc == -ECONNREFUSED, "authentication failed: -ECONNREFUSED");
	is_str(r.err.why, "proxy authentication failed", "... says so");
	stop(&r);

	ok(start(&r, "socks5h://127.0.0.1:1080", "h", 1), "no credentials");
	sent(&r, buf, sizeof(buf));
	answer(&r, "\x05\xff", 2);
	is_str(r.err.why, "proxy requires authentication", "method 0xff without credentials");
	stop(&r);

	ok(start(&r, "socks5h://127.0.0.1:1080", "h", 1), "a proxy that is not SOCKS5");
	sent(&r, buf, sizeof(buf));
	answer(&r, "HT", 2);
	ok(r.rc == -EPROTO, "version 'H': -EPROTO");
	stop(&r);
}

static void test_socks4a(void)
{
	struct run r;
	unsigned char buf[512];
	ssize_t n;

	ok(start(&r, "socks4a://al@127.0.0.1:1080", "example.org", 80), "socks4a by name");
	n = sent(&r, buf, sizeof(buf));
	ok(n == 8 + 3 + 12 && memcmp(buf, "\x04\x01\x00\x50\x00\x00\x00\x01" "al\0example.org\0", 23) == 0,
		"SOCKS4a: 0.0.0.1, user id, then the name");
	answer(&r, "\x00\x5b\0\0\0\0\0\0", 8);
	ok(r.done && r.rc == -ECONNREFUSED, "0x5b: rejected");
	is_str(r.err.why, "proxy rejected the request (SOCKS4 code 91)", "... with its code");
	stop(&r);

	ok(start(&r, "socks4a://127.0.0.1:1080", "10.1.2.3", 22), "socks4a to an address");
	n = sent(&r, buf, sizeof(buf));
	ok(n == 9 && memcmp(buf, "\x04\x01\x00\x16\x0a\x01\x02\x03\0", 9) == 0, "plain SOCKS4 request");
	answer(&r, "\x00\x5a\0\0\0\0\0\0", 8);
	ok(r.done && r.rc == 0, "0x5a: granted");
	stop(&r);
}

static void test_http(void)
{
	static const char want[] = "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n"
				   "Proxy-Authorization: Basic Ym9iOnB3\r\n\r\n";
	struct run r;
	char buf[1024];
	ssize_t n;

	ok(start(&r, "http://bob:pw@127.0.0.1:3128", "2001:db8::1", 443), "http CONNECT");
	n = sent(&r, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	is_str(buf, want, "request line, Host and Basic credentials");
	/* the answer in two pieces, the blank line split, tunnel bytes behind it */
	answer(&r, "HTTP/1.1 200 Connection established\r\nX: y\r", 42);
	ok(!r.done, "not done before the blank line");
	answer(&r, "\n\r\nhello", 8);
	ok(r.done && r.rc == 0, "200: tunnel open");
	n = recv(r.fds[0], buf, sizeof(buf), MSG_DONTWAIT);
	ok(n == 5 && memcmp(buf, "hello", 5) == 0, "the tunnel's bytes are left unread");
	stop(&r);

	ok(start(&r, "http://127.0.0.1:3128", "h", 1), "http refused");
	sent(&r, buf, sizeof(buf));
	answer(&r, "HTTP/1.0 407 Proxy Authentication Required\r\n\r\n", 46);
	ok(r.done && r.rc == -ECONNREFUSED, "407: -ECONNREFUSED");
	is_str(r.err.why, "proxy answered 'HTTP/1.0 407 Proxy Authentication Required'",
		"the status line is the reason");
	stop(&r);

	ok(start(&r, "http://127.0.0.1:3128", "h", 1), "http proxy closes");
	sent(&r, buf, sizeof(buf));
	shutdown(r.fds[1], SHUT_WR);
	spin(&r);
	ok(r.done && r.rc < 0, "EOF before an answer is a failure");
	stop(&r);
}

static void test_credentials(void)
{
	struct run r;
	char buf[600];
	ssize_t n;

	setenv("SOCKIT_PROXY_USER", "env", 1);
	setenv("SOCKIT_PROXY_PASSWORD", "pass", 1);
	ok(start(&r, "http://127.0.0.1:3128", "h", 1), "credentials from the environment");
	n = sent(&r, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	ok(strstr(buf, "Proxy-Authorization: Basic ZW52OnBhc3M=\r\n") != NULL, "env:pass in Basic");
	stop(&r);
	ok(start(&r, "http://url:pw@127.0.0.1:3128", "h", 1), "the URL's win");
	n = sent(&r, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	ok(strstr(buf, "Basic dXJsOnB3\r\n") != NULL, "url:pw in Basic");
	stop(&r);
	unsetenv("SOCKIT_PROXY_USER");
	unsetenv("SOCKIT_PROXY_PASSWORD");
}


static void sin_of(struct sockaddr_storage *ss, const char *addr, unsigned port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
	}
}

static void test_header_build_parse(void)
{
	struct sockaddr_storage src, dst, mapped;
	struct sk_proxy_info info;
	char buf[256], text[64];
	ssize_t n;

	sin_of(&src, "192.0.2.1", 40000);
	sin_of(&dst, "198.51.100.2", 443);
	n = sk_proxy_header_build(1, (struct sockaddr *)&src, (struct sockaddr *)&dst, buf, sizeof(buf));
	buf[n > 0 ? n : 0] = '\0';
	is_str(buf, "PROXY TCP4 192.0.2.1 198.51.100.2 40000 443\r\n", "v1 text");
	is_int(sk_proxy_header_parse(buf, (size_t)n, &info), n, "v1 parses back whole");
	ok(!info.local && sk_addr_port((struct sockaddr *)&info.src) == 40000 &&
			sk_addr_port((struct sockaddr *)&info.dst) == 443, "v1 ports");
	sk_addr_format((struct sockaddr *)&info.src, sizeof(info.src), text, sizeof(text));
	is_str(text, "192.0.2.1", "v1 source address");
	is_int(sk_proxy_header_parse(buf, (size_t)n - 1, &info), 0, "v1 without its LF: more needed");
	is_int(sk_proxy_header_parse("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", 31, &info), -EPROTO,
		"v1 with a bare LF: -EPROTO");
	is_int(sk_proxy_header_parse("PROXY TCP4 1.2.3.4 5.6.7.8 1 70000\r\n", 36, &info), -EPROTO,
		"v1 with port 70000: -EPROTO");
	is_int(sk_proxy_header_parse("PROXY UNKNOWN\r\nx", 16, &info), 15, "v1 UNKNOWN");
	ok(info.local, "... carries no addresses");
	is_int(sk_proxy_header_parse("GET / HTTP/1.0\r\n", 16, &info), -EPROTO, "HTTP is not a header");
	is_int(sk_proxy_header_parse("PRO", 3, &info), 0, "a prefix of one: more needed");
	memset(buf, 'A', sizeof(buf));
	memcpy(buf, "PROXY ", 6);
	is_int(sk_proxy_header_parse(buf, 120, &info), -EPROTO, "no line end within 107 bytes");

	sin_of(&src, "2001:db8::1", 1);
	sin_of(&dst, "2001:db8::2", 2);
	n = sk_proxy_header_build(2, (struct sockaddr *)&src, (struct sockaddr *)&dst, buf, sizeof(buf));
	is_int(n, 16 + 36, "v2 over IPv6: 52 bytes");
	ok(buf[12] == 0x21 && buf[13] == 0x21, "v2 PROXY command, TCP over IPv6");
	is_int(sk_proxy_header_parse(buf, 20, &info), 0, "v2 cut short: more needed");
	is_int(sk_proxy_header_parse(buf, (size_t)n, &info), n, "v2 parses back whole");
	sk_addr_format((struct sockaddr *)&info.dst, sizeof(info.dst), text, sizeof(text));
	is_str(text, "2001:db8::2", "v2 destination address");
	is_int(sk_proxy_header_build(2, (struct sockaddr *)&src, (struct sockaddr *)&dst, buf, 40),
		-ENOSPC, "a small buffer: -ENOSPC");
	is_int(sk_proxy_header_build(3, (struct sockaddr *)&src, (struct sockaddr *)&dst, buf, 256),
		-EINVAL, "version 3: -EINVAL");

	sin_of(&mapped, "::ffff:10.0.0.1", 5);
	sin_of(&dst, "10.0.0.2", 6);
	n = sk_proxy_header_build(1, (struct sockaddr *)&mapped, (struct sockaddr *)&dst, buf, sizeof(buf));
	buf[n > 0 ? n : 0] = '\0';
	is_str(buf, "PROXY TCP4 10.0.0.1 10.0.0.2 5 6\r\n", "an IPv4-mapped client is written as IPv4");
	n = sk_proxy_header_build(2, (struct sockaddr *)&src, (struct sockaddr *)&dst, buf, sizeof(buf));
	ok(n == 16 && buf[13] == 0, "mixed families: v2 without addresses");
	is_int(sk_proxy_header_parse(buf, (size_t)n, &info), 16, "... parses");
	ok(info.local, "... as carrying no addresses");
}

struct pp_run {
	bool done;
	int rc;
	struct sk_proxy_info info;
};

static void on_header(struct sk_proxy_reader *r, int rc, const struct sk_proxy_info *info,
	const struct sk_err *err, void *userdata)
{
	struct pp_run *p = userdata;

	p->done = true;
	p->rc = rc;
	if (info)
		p->info = *info;
}

static void test_header_reader(void)
{
	struct run r = { 0 };
	struct pp_run p = { 0 };
	struct sk_proxy_reader *reader;
	struct sk_err err;
	char buf[64];
	ssize_t n;

	sk_loop_create(&r.loop, &err);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, r.fds);
	is_int(sk_proxy_reader_start(r.loop, r.fds[0], 2000, on_header, &p, &reader, &err), 0,
		"reader started");
	answer(&r, "PROXY TCP6 ::1 ::2 10", 21);
	ok(!p.done, "half a line: still reading");
	answer(&r, "00 20\r\nclient bytes", 19);
	ok(p.done && p.rc == 0, "the header is read");
	is_int(sk_addr_port((struct sockaddr *)&p.info.src), 1000, "its source port");
	n = recv(r.fds[0], buf, sizeof(buf), MSG_DONTWAIT);
	ok(n == 12 && memcmp(buf, "client bytes", 12) == 0, "the client's bytes are left unread");
	sk_proxy_reader_destroy(reader);

	p = (struct pp_run){ 0 };
	sk_proxy_reader_start(r.loop, r.fds[0], 50, on_header, &p, &reader, &err);
	spin(&r);
	spin(&r);
	spin(&r);
	ok(p.done && p.rc == -ETIMEDOUT, "nothing within the timeout: -ETIMEDOUT");
	sk_proxy_reader_destroy(reader);
	r.hs = NULL;
	stop(&r);
}

static void test_proxy_sender(void)
{
	struct sk_endpoint *bare, *cidr, *none;
	struct sockaddr_storage in, out;
	struct sk_err err;

	sk_endpoint_parse("tcp-listen:0,accept-proxy", &bare, &err);
	sk_endpoint_parse("tcp-listen:0,accept-proxy=10.0.0.0/8,accept-proxy=::1", &cidr, &err);
	sk_endpoint_parse("tcp-listen:0", &none, &err);
	sin_of(&in, "::ffff:10.1.2.3", 1);
	sin_of(&out, "192.0.2.1", 1);
	is_int(sk_endpoint_proxy_sender(none, (struct sockaddr *)&in), 0, "no accept-proxy: 0");
	is_int(sk_endpoint_proxy_sender(bare, (struct sockaddr *)&out), 1, "bare: anyone sends one");
	is_int(sk_endpoint_proxy_sender(cidr, (struct sockaddr *)&in), 1, "a mapped sender in 10/8");
	is_int(sk_endpoint_proxy_sender(cidr, (struct sockaddr *)&out), -EACCES, "outside: -EACCES");
	sin_of(&in, "::1", 1);
	is_int(sk_endpoint_proxy_sender(cidr, (struct sockaddr *)&in), 1, "::1 listed");
	sk_endpoint_free(bare);
	sk_endpoint_free(cidr);
	sk_endpoint_free(none);
}

/* ---- the server side, against our own client, both in one loop ---------------------------- */

struct served {
	struct run client;
	struct sk_proxy_server *server;
	int stage_rc;
	struct sk_proxy_request req;
	bool got_request, replied;
	int reply_with; /* what the "target" connect gives */
};

static bool auth_ok(const char *user, const char *password, void *userdata)
{
	return strcmp(user, "u") == 0 && strcmp(password, "p") == 0;
}

static void on_replied(struct sk_proxy_server *s, int rc, const struct sk_proxy_request *req,
	const struct sk_err *err, void *userdata)
{
	struct served *v = userdata;

	v->replied = true;
	v->stage_rc = rc;
}

static void on_served_request(struct sk_proxy_server *s, int rc, const struct sk_proxy_request *req,
	const struct sk_err *err, void *userdata)
{
	struct served *v = userdata;

	v->got_request = rc == 0;
	v->stage_rc = rc;
	if (rc < 0)
		shutdown(v->client.fds[1], SHUT_RDWR); /* as the command closes the client */
	if (rc == 0) {
		v->req = *req;
		sk_proxy_server_reply(s, v->reply_with, on_replied, v);
	}
}

/* Our client (url) asks the server (kind, auth) for host:port; returns the client's rc. */
static int serve_one(struct served *v, const char *url, enum sk_proxy_kind kind, bool auth,
	const char *host, unsigned port)
{
	struct sk_err err;

	memset(v, 0, sizeof(*v) - sizeof(v->reply_with));
	v->client.rc = 1;
	sk_loop_create(&v->client.loop, &err);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, v->client.fds);
	sk_proxy_server_start(v->client.loop, v->client.fds[1], kind, 2000, auth ? auth_ok : NULL,
		NULL, on_served_request, v, &v->server, &err);
	sk__proxy_start(v->client.loop, v->client.fds[0], url, host, port, "tcp:t", on_done,
		&v->client, &v->client.hs, &err);
	for (int i = 0; i < 10 && !v->client.done; i++)
		spin(&v->client);
	return v->client.done ? v->client.rc : 1;
}

static void served_stop(struct served *v)
{
	sk_proxy_server_destroy(v->server);
	stop(&v->client);
}

static void test_server(void)
{
	struct served v = { .reply_with = 0 };
	char buf[32];

	is_int(serve_one(&v, "socks5h://127.0.0.1:1", SK_PROXY_SOCKS5, false, "example.org", 8080), 0,
		"SOCKS5: our client gets through our server");
	ok(v.got_request && strcmp(v.req.host, "example.org") == 0 && v.req.port == 8080,
		"the server read example.org:8080");
	ok(v.replied && v.stage_rc == 0, "the success reply was sent");
	/* the first tunnelled bytes stay for the pump */
	ok(send(v.client.fds[0], "tunnel", 6, 0) == 6 &&
			recv(v.client.fds[1], buf, sizeof(buf), MSG_DONTWAIT) == 6,
		"nothing past the request was read");
	served_stop(&v);

	is_int(serve_one(&v, "socks5://u:p@127.0.0.1:1", SK_PROXY_ANY, true, "192.0.2.1", 22), 0,
		"SOCKS5 with the right password (kind: either)");
	ok(strcmp(v.req.host, "192.0.2.1") == 0 && strcmp(v.req.user, "u") == 0, "address and user");
	served_stop(&v);

	is_int(serve_one(&v, "socks5h://u:x@127.0.0.1:1", SK_PROXY_SOCKS5, true, "h", 1), -ECONNREFUSED,
		"a wrong password is refused");
	is_str(v.client.err.why, "proxy authentication failed", "... and our client says so");
	ok(!v.got_request && v.stage_rc == -EACCES, "the server reports -EACCES");
	served_stop(&v);

	v.reply_with = -ECONNREFUSED;
	is_int(serve_one(&v, "socks5h://127.0.0.1:1", SK_PROXY_SOCKS5, false, "h", 1), -ECONNREFUSED,
		"a target that refuses");
	is_str(v.client.err.why, "proxy says connection refused", "... is SOCKS5 reply 5");
	served_stop(&v);

	v.reply_with = -EACCES;
	serve_one(&v, "socks5h://127.0.0.1:1", SK_PROXY_SOCKS5, false, "h", 1);
	is_str(v.client.err.why, "proxy says connection not allowed by ruleset", "a denied target: reply 2");
	served_stop(&v);

	v.reply_with = 0;
	is_int(serve_one(&v, "http://u:p@127.0.0.1:1", SK_PROXY_HTTP, true, "::1", 443), 0,
		"HTTP CONNECT with Basic credentials");
	ok(strcmp(v.req.host, "::1") == 0 && v.req.port == 443, "[::1]:443 read without brackets");
	served_stop(&v);

	is_int(serve_one(&v, "http://127.0.0.1:1", SK_PROXY_HTTP, true, "h", 1), -ECONNREFUSED,
		"HTTP without credentials");
	is_str(v.client.err.why, "proxy answered 'HTTP/1.1 407 Proxy Authentication Required'", "... 407");
	served_stop(&v);

	v.reply_with = -ETIMEDOUT;
	serve_one(&v, "http://127.0.0.1:1", SK_PROXY_HTTP, false, "h", 1);
	is_str(v.client.err.why, "proxy answered 'HTTP/1.1 504 Gateway Timeout'", "a target timing out: 504");
	served_stop(&v);

	v.reply_with = 0;
	ok(serve_one(&v, "http://127.0.0.1:1", SK_PROXY_SOCKS5, false, "h", 1) < 0,
		"an HTTP client at a SOCKS5-only server fails");
	is_int(v.stage_rc, -EPROTO, "... the server saw no SOCKS5 client");
	served_stop(&v);
}

int main(void)
{
	char text[128], *host = NULL;
	unsigned port = 0;

	test_socks5_plain();
	test_socks5_auth_and_refusal();
	test_socks4a();
	test_http();
	test_credentials();
	test_header_build_parse();
	test_header_reader();
	test_proxy_sender();
	test_server();
	is_int(sk__proxy_address("socks5h://u:secret@[::1]", &host, &port, text, sizeof(text)), 0,
		"proxy address");
	is_str(host, "::1", "its host");
	is_int(port, 1080, "the SOCKS default port");
	is_str(text, "socks5h://[::1]:1080", "described without the password");
	free(host);
	ok(sk__proxy_resolves_locally("socks5://h") && !sk__proxy_resolves_locally("socks5h://h"),
		"socks5 resolves here, socks5h at the proxy");
	return tap_done();
}
