/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proxy.c - reaching a TCP endpoint through a proxy (proxy=URL): SOCKS5
 * (RFC 1928, with RFC 1929 user/password), SOCKS4a, and HTTP CONNECT
 * (RFC 9110 §9.3.6), as a non-blocking exchange on the connected socket,
 * driven by the loop. Nothing past the proxy's answer is ever read, so the
 * tunnel's first bytes stay in the socket for whoever uses it next.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An HTTP proxy's answer must fit in this. */
#define REPLY_MAX 8192

enum stage { S5_METHOD, S5_AUTH, S5_REPLY_HEAD, S5_REPLY_REST, S4_REPLY, HTTP_REPLY, DONE };

struct sk__proxy_hs {
	struct sk_loop *loop;
	int fd; /* borrowed until the callback */
	struct sk__proxy_url url;
	const char *host; /* the target, borrowed from the endpoint */
	unsigned port;
	int family;
	char user[256], pass[256];
	enum stage stage;
	char out[768];
	size_t out_len, out_sent;
	char in[REPLY_MAX];
	size_t in_len, need;
	sk__proxy_cb cb;
	void *userdata;
	struct sk_err err;
	char text[300]; /* "socks5://127.0.0.1:1080", for messages (no password) */
	const char *what; /* "tcp:example.org:80 via socks5://...", borrowed */
	bool finished;
};

static const char *scheme_name(enum sk__proxy_scheme s)
{
	switch (s) {
	case SK__PROXY_SOCKS5:
		return "socks5";
	case SK__PROXY_SOCKS5H:
		return "socks5h";
	case SK__PROXY_SOCKS4A:
		return "socks4a";
	default:
		return "http";
	}
}

/* "socks5://127.0.0.1:1080": the proxy for messages, never its password. */
static void describe(const struct sk__proxy_url *u, char *text, size_t len)
{
	snprintf(text, len, strchr(u->host, ':') ? "%s://[%s]:%u" : "%s://%s:%u",
		scheme_name(u->scheme), u->host, u->port);
}

static void finish(struct sk__proxy_hs *hs, int rc)
{
	if (hs->finished)
		return;
	hs->finished = true;
	hs->stage = DONE;
	sk_loop_del_fd(hs->loop, hs->fd);
	hs->cb(hs, rc, rc < 0 ? &hs->err : NULL, hs->userdata);
}

/* The proxy said no: its reason, as a connect failure (exit 4). */
static void refused(struct sk__proxy_hs *hs, int code, const char *why_fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void refused(struct sk__proxy_hs *hs, int code, const char *why_fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, why_fmt);
	vsnprintf(why, sizeof(why), why_fmt, ap);
	va_end(ap);
	finish(hs, sk__fail_why(&hs->err, code, -1, why, "connect to %s", hs->what));
}

static void queue(struct sk__proxy_hs *hs, const void *data, size_t len, size_t need,
	enum stage next)
{
	memcpy(hs->out, data, len);
	hs->out_len = len;
	hs->out_sent = 0;
	hs->in_len = 0;
	hs->need = need;
	hs->stage = next;
	sk_loop_mod_fd(hs->loop, hs->fd, SK_EV_OUT);
}

/* ---- the requests ------------------------------------------------------------------------ */

static size_t put_port(char *p, unsigned port)
{
	p[0] = (char)(port >> 8);
	p[1] = (char)port;
	return 2;
}

/* SOCKS5 CONNECT: the target as a name (socks5h, or any name) or an address. */
static void socks5_request(struct sk__proxy_hs *hs)
{
	char req[4 + 1 + 255 + 2] = { 5, 1, 0 };
	size_t n = 3;
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, hs->host, &a4) == 1) {
		req[n++] = 1;
		memcpy(req + n, &a4, 4);
		n += 4;
	} else if (inet_pton(AF_INET6, hs->host, &a6) == 1) {
		req[n++] = 4;
		memcpy(req + n, &a6, 16);
		n += 16;
	} else {
		/* socks5 (not 5h) has the name resolved here, by the caller, before. */
		size_t len = strlen(hs->host);

		req[n++] = 3;
		req[n++] = (char)len;
		memcpy(req + n, hs->host, len);
		n += len;
	}
	n += put_port(req + n, hs->port);
	/* VER REP RSV ATYP and one byte of the address tell the length of the rest. */
	queue(hs, req, n, 5, S5_REPLY_HEAD);
}

static void socks5_greet(struct sk__proxy_hs *hs)
{
	char greet[4] = { 5, 1, 0 };

	if (hs->user[0]) {
		greet[1] = 2;
		greet[3] = 2; /* no auth, or user/password */
		queue(hs, greet, 4, 2, S5_METHOD);
	} else {
		queue(hs, greet, 3, 2, S5_METHOD);
	}
}

static void socks5_auth(struct sk__proxy_hs *hs)
{
	char req[3 + 255 + 255];
	size_t ul = strlen(hs->user), pl = strlen(hs->pass), n = 0;

	req[n++] = 1;
	req[n++] = (char)ul;
	memcpy(req + n, hs->user, ul);
	n += ul;
	req[n++] = (char)pl;
	memcpy(req + n, hs->pass, pl);
	n += pl;
	queue(hs, req, n, 2, S5_AUTH);
}

static void socks4a_request(struct sk__proxy_hs *hs)
{
	char req[8 + 256 + 256] = { 4, 1 };
	struct in_addr a4;
	size_t n = 2, ul = strlen(hs->user);
	bool literal = inet_pton(AF_INET, hs->host, &a4) == 1;

	n += put_port(req + n, hs->port);
	if (literal)
		memcpy(req + n, &a4, 4);
	else
		memcpy(req + n, "\0\0\0\1", 4); /* 0.0.0.x: the name follows */
	n += 4;
	memcpy(req + n, hs->user, ul + 1);
	n += ul + 1;
	if (!literal) {
		size_t hl = strlen(hs->host);

		memcpy(req + n, hs->host, hl + 1);
		n += hl + 1;
	}
	queue(hs, req, n, 8, S4_REPLY);
}

static void http_request(struct sk__proxy_hs *hs)
{
	char req[sizeof(hs->out)], authority[300], cred[520], b64[700];
	bool v6 = strchr(hs->host, ':') != NULL;
	int n;

	snprintf(authority, sizeof(authority), v6 ? "[%s]:%u" : "%s:%u", hs->host, hs->port);
	n = snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", authority, authority);
	if (hs->user[0]) {
		int cn = snprintf(cred, sizeof(cred), "%s:%s", hs->user, hs->pass);

		sk__base64(cred, (size_t)cn, b64);
		n += snprintf(req + n, sizeof(req) - (size_t)n, "Proxy-Authorization: Basic %s\r\n",
			b64);
	}
	n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
	queue(hs, req, (size_t)n, 0, HTTP_REPLY);
}

/* ---- the answers ---------------------------------------------------------------------------- */

static int socks5_reply_code(unsigned rep, const char **why)
{
	static const char *const text[] = { "succeeded", "general SOCKS server failure",
		"connection not allowed by ruleset", "network unreachable", "host unreachable",
		"connection refused", "TTL expired", "command not supported",
		"address type not supported" };
	static const int codes[] = { 0, -ECONNREFUSED, -ECONNREFUSED, -ENETUNREACH, -EHOSTUNREACH,
		-ECONNREFUSED, -ETIMEDOUT, -EPROTO, -EPROTO };

	if (rep >= sizeof(codes) / sizeof(codes[0])) {
		*why = "unknown SOCKS reply";
		return -EPROTO;
	}
	*why = text[rep];
	return codes[rep];
}

static void answered(struct sk__proxy_hs *hs)
{
	const unsigned char *in = (const unsigned char *)hs->in;
	const char *why;
	int code;

	switch (hs->stage) {
	case S5_METHOD:
		if (in[0] != 5) {
			refused(hs, -EPROTO, "not a SOCKS5 proxy (version %u)", in[0]);
			return;
		}
		if (in[1] == 0xff) {
			refused(hs, -ECONNREFUSED,
				hs->user[0] ? "proxy accepts no authentication we offer"
					    : "proxy requires authentication");
			return;
		}
		if (in[1] == 2 && hs->user[0]) {
			socks5_auth(hs);
			return;
		}
		if (in[1] != 0) {
			refused(hs, -EPROTO, "proxy chose an unknown method %u", in[1]);
			return;
		}
		socks5_request(hs);
		return;
	case S5_AUTH:
		if (in[1] != 0) {
			refused(hs, -ECONNREFUSED, "proxy authentication failed");
			return;
		}
		socks5_request(hs);
		return;
	case S5_REPLY_HEAD:
		if (in[0] != 5) {
			refused(hs, -EPROTO, "bad SOCKS5 reply (version %u)", in[0]);
			return;
		}
		code = socks5_reply_code(in[1], &why);
		if (code < 0) {
			refused(hs, code, "proxy says %s", why);
			return;
		}
		/* the bound address: 4 or 16 bytes, or a name of in[4] bytes; then the port */
		hs->need = in[3] == 1 ? 4 + 2 - 1 : in[3] == 4 ? 16 + 2 - 1 : in[3] == 3 ? in[4] + 2u : 0;
		if (!hs->need) {
			refused(hs, -EPROTO, "bad SOCKS5 reply (address type %u)", in[3]);
			return;
		}
		hs->in_len = 0;
		hs->stage = S5_REPLY_REST;
		return;
	case S5_REPLY_REST:
		finish(hs, 0);
		return;
	case S4_REPLY:
		if (in[1] == 0x5a) {
			finish(hs, 0);
			return;
		}
		refused(hs, -ECONNREFUSED, "proxy rejected the request (SOCKS4 code %u)", in[1]);
		return;
	default:
		return;
	}
}

/* The HTTP status line: 2xx opens the tunnel; anything else is the proxy's no. */
static void http_answered(struct sk__proxy_hs *hs)
{
	char *eol = strstr(hs->in, "\r\n");
	int status = 0;

	if (eol)
		*eol = '\0';
	if (sscanf(hs->in, "HTTP/%*d.%*d %3d", &status) != 1) {
		refused(hs, -EPROTO, "not an HTTP proxy answer");
		return;
	}
	if (status / 100 == 2) {
		finish(hs, 0);
		return;
	}
	refused(hs, -ECONNREFUSED, "proxy answered '%.200s'", hs->in);
}

int sk__recv_http_head(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t n = recv(fd, buf + *len, cap - 1 - *len, MSG_PEEK | MSG_DONTWAIT);
	size_t from = *len > 3 ? *len - 3 : 0;
	char *end;

	if (n <= 0)
		return n == 0 ? -ECONNRESET : errno == EAGAIN ? 0 : -errno;
	buf[*len + (size_t)n] = '\0';
	end = strstr(buf + from, "\r\n\r\n");
	if (end)
		n = end + 4 - (buf + *len);
	if (recv(fd, buf + *len, (size_t)n, MSG_DONTWAIT) != n)
		return -EIO;
	*len += (size_t)n;
	buf[*len] = '\0';
	return end != NULL;
}

/* Read the HTTP answer up to its blank line and not a byte further. */
static int read_http(struct sk__proxy_hs *hs)
{
	int rc = sk__recv_http_head(hs->fd, hs->in, sizeof(hs->in), &hs->in_len);

	if (rc > 0)
		http_answered(hs);
	else if (rc == 0 && hs->in_len >= sizeof(hs->in) - 1)
		refused(hs, -EPROTO, "proxy answer longer than %d bytes", REPLY_MAX);
	return rc < 0 ? rc : 0;
}

static void on_io(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct sk__proxy_hs *hs = userdata;
	ssize_t n;

	if (hs->out_sent < hs->out_len) {
		n = send(fd, hs->out + hs->out_sent, hs->out_len - hs->out_sent,
			MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN) {
			finish(hs, sk__fail(&hs->err, -errno, "send to proxy %s", hs->text));
			return;
		}
		if (n > 0)
			hs->out_sent += (size_t)n;
		if (hs->out_sent == hs->out_len)
			sk_loop_mod_fd(loop, fd, SK_EV_IN);
		return;
	}
	if (hs->stage == HTTP_REPLY) {
		int rc = read_http(hs);

		if (rc < 0)
			finish(hs, sk__fail(&hs->err, rc, "receive from proxy %s", hs->text));
		return;
	}
	n = recv(fd, hs->in + hs->in_len, hs->need - hs->in_len, MSG_DONTWAIT);
	if (n == 0) {
		refused(hs, -ECONNRESET, "proxy closed the connection");
		return;
	}
	if (n < 0 && errno != EAGAIN) {
		finish(hs, sk__fail(&hs->err, -errno, "receive from proxy %s", hs->text));
		return;
	}
	if (n > 0)
		hs->in_len += (size_t)n;
	if (hs->in_len == hs->need)
		answered(hs);
}

/* The user and password: the URL's, else $SOCKIT_PROXY_USER/$SOCKIT_PROXY_PASSWORD. */
static int credentials(struct sk__proxy_hs *hs, struct sk_err *err)
{
	const char *user = getenv("SOCKIT_PROXY_USER"), *pass = getenv("SOCKIT_PROXY_PASSWORD");
	size_t ul = user ? strlen(user) : 0, pl = pass ? strlen(pass) : 0;

	if (hs->url.user) {
		user = hs->url.user;
		ul = hs->url.user_len;
		pass = hs->url.pass;
		pl = hs->url.pass_len;
	}
	/* SOCKS5 carries each in one length byte. */
	if (ul > 255 || pl > 255)
		return sk__fail_why(err, SK_EUSAGE, -1, "user name or password over 255 bytes",
			"proxy %s", hs->text);
	if (user)
		memcpy(hs->user, user, ul);
	if (pass)
		memcpy(hs->pass, pass, pl);
	return 0;
}

int sk__proxy_start(struct sk_loop *loop, int fd, const char *url, const char *host,
	unsigned port, const char *what, sk__proxy_cb cb, void *userdata,
	struct sk__proxy_hs **out, struct sk_err *err)
{
	struct sk__pctx pc = { .text = url, .view = url, .err = err };
	struct sk__proxy_hs *hs = calloc(1, sizeof(*hs));
	int rc;

	*out = NULL;
	if (!hs)
		return sk__fail(err, -ENOMEM, "proxy %s", url);
	rc = sk__proxy_parse(&pc, url, strlen(url), &hs->url);
	if (rc < 0) {
		free(hs);
		return rc;
	}
	describe(&hs->url, hs->text, sizeof(hs->text));
	hs->loop = loop;
	hs->fd = fd;
	hs->host = host;
	hs->port = port;
	hs->what = what;
	hs->cb = cb;
	hs->userdata = userdata;
	sk_err_clear(&hs->err);
	rc = credentials(hs, err);
	if (rc == 0 && sk_loop_add_fd(loop, fd, SK_EV_OUT, on_io, hs) < 0)
		rc = sk__fail(err, -ENOMEM, "proxy %s", hs->text);
	if (rc < 0) {
		free(hs->url.host);
		free(hs);
		return rc;
	}
	switch (hs->url.scheme) {
	case SK__PROXY_SOCKS5:
	case SK__PROXY_SOCKS5H:
		socks5_greet(hs);
		break;
	case SK__PROXY_SOCKS4A:
		socks4a_request(hs);
		break;
	default:
		http_request(hs);
		break;
	}
	*out = hs;
	return 0;
}

void sk__proxy_destroy(struct sk__proxy_hs *hs)
{
	if (!hs)
		return;
	if (!hs->finished)
		sk_loop_del_fd(hs->loop, hs->fd);
	free(hs->url.host);
	free(hs);
}

bool sk__proxy_resolves_locally(const char *url)
{
	return strncmp(url, "socks5://", 9) == 0;
}

int sk__proxy_address(const char *url, char **host, unsigned *port, char *text, size_t len)
{
	struct sk__pctx pc = { .text = url, .view = url };
	struct sk__proxy_url u;
	int rc = sk__proxy_parse(&pc, url, strlen(url), &u);

	if (rc < 0)
		return rc;
	describe(&u, text, len);
	*host = u.host;
	*port = u.port;
	return 0;
}
