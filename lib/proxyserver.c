/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proxyserver.c - the server side of a proxy: what a SOCKS5 (RFC 1928, with
 * RFC 1929 user/password) or HTTP CONNECT client asks for, read off an
 * accepted socket in the loop, and the answer sent back once the caller has
 * tried the target. Nothing past the request is read: the client's first
 * tunnelled bytes stay in the socket for the pump.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define REQUEST_MAX 8192
#define READ_TIMEOUT_MS 10000

enum stage { S_FIRST, S5_GREETING, S5_AUTH, S5_REQUEST_HEAD, S5_REQUEST_REST, HTTP_REQUEST,
	S_WAIT_TARGET, S_REPLY, S_DONE };

struct sk_proxy_server {
	struct sk_loop *loop;
	int fd; /* borrowed */
	enum sk_proxy_kind kind;
	sk_proxy_auth_fn auth;
	void *auth_userdata;
	sk_proxy_request_cb cb;
	void *userdata;
	int timer;
	enum stage stage;
	unsigned char in[REQUEST_MAX + 1];
	size_t in_len, need;
	char out[512];
	size_t out_len, out_sent;
	bool close_after; /* a refusal: the reply, then done with an error */
	int refusal;
	struct sk_proxy_request req;
	struct sk_err err;
	bool finished;
};

static void finish(struct sk_proxy_server *s, int rc)
{
	if (s->finished)
		return;
	s->finished = true;
	if (s->stage != S_WAIT_TARGET) /* the request is read: the reply is still to come */
		s->stage = S_DONE;
	sk_loop_del_fd(s->loop, s->fd);
	if (s->timer > 0)
		sk_loop_cancel_timer(s->loop, s->timer);
	s->timer = 0;
	s->cb(s, rc, rc == 0 ? &s->req : NULL, rc < 0 ? &s->err : NULL, s->userdata);
}

static void fail(struct sk_proxy_server *s, int code, const char *why)
{
	finish(s, sk__fail_why(&s->err, code, -1, why, "proxy request on fd %d", s->fd));
}

/* Queue bytes for the client; with refusal set, end with that code once sent. */
static void reply(struct sk_proxy_server *s, const void *data, size_t len, enum stage next)
{
	memcpy(s->out, data, len);
	s->out_len = len;
	s->out_sent = 0;
	s->in_len = 0;
	s->stage = next;
	sk_loop_mod_fd(s->loop, s->fd, SK_EV_OUT);
}

static void refuse(struct sk_proxy_server *s, const void *data, size_t len, int code,
	const char *why)
{
	s->refusal = code;
	s->close_after = true;
	sk__fail_why(&s->err, code, -1, why, "proxy request on fd %d", s->fd);
	reply(s, data, len, S_REPLY);
}

/* ---- SOCKS5 ---------------------------------------------------------------------------------- */

static void socks5_greeting(struct sk_proxy_server *s)
{
	unsigned char want = s->auth ? 2 : 0;
	size_t n = s->in[1];

	/* VER NMETHODS read; now the methods themselves */
	if (s->need == 2) {
		if (n == 0) {
			refuse(s, "\x05\xff", 2, -EPROTO, "SOCKS5 greeting without methods");
			return;
		}
		s->need = 2 + n;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (s->in[2 + i] == want) {
			reply(s, (char[]){ 5, (char)want }, 2, want ? S5_AUTH : S5_REQUEST_HEAD);
			s->need = want ? 2 : 5;
			return;
		}
	}
	refuse(s, "\x05\xff", 2, -EACCES,
		want ? "client offers no user/password authentication" : "client insists on authentication");
}

/* RFC 1929: VER ULEN UNAME PLEN PASSWD, read in steps as the lengths come. */
static void socks5_auth(struct sk_proxy_server *s)
{
	size_t ulen = s->in[1], plen;
	char user[256], pass[256];

	if (s->in_len == 2) {
		s->need = 2 + ulen + 1;
		return;
	}
	plen = s->in[2 + ulen];
	if (s->in_len == 2 + ulen + 1 && plen) {
		s->need = 2 + ulen + 1 + plen;
		return;
	}
	memcpy(user, s->in + 2, ulen);
	user[ulen] = '\0';
	memcpy(pass, s->in + 3 + ulen, plen);
	pass[plen] = '\0';
	snprintf(s->req.user, sizeof(s->req.user), "%s", user);
	if (!s->auth(user, pass, s->auth_userdata)) {
		refuse(s, "\x01\x01", 2, -EACCES, "wrong user name or password");
		return;
	}
	reply(s, "\x01\x00", 2, S5_REQUEST_HEAD);
	s->need = 5;
}

static void socks5_request(struct sk_proxy_server *s)
{
	static const char unsupported[] = { 5, 7, 0, 1, 0, 0, 0, 0, 0, 0 };
	static const char bad_type[] = { 5, 8, 0, 1, 0, 0, 0, 0, 0, 0 };
	unsigned char *p = s->in;
	size_t alen;

	if (s->stage == S5_REQUEST_HEAD) {
		if (p[0] != 5) {
			fail(s, -EPROTO, "not a SOCKS5 request");
			return;
		}
		if (p[1] != 1) {
			refuse(s, unsupported, sizeof(unsupported), -EPROTO,
				"only CONNECT is served");
			return;
		}
		alen = p[3] == 1 ? 4 : p[3] == 4 ? 16 : p[3] == 3 ? 1u + p[4] : 0;
		if (!alen || (p[3] == 3 && p[4] == 0)) {
			refuse(s, bad_type, sizeof(bad_type), -EPROTO, "unknown address type");
			return;
		}
		s->need = 4 + alen + 2;
		s->stage = S5_REQUEST_REST;
		return;
	}
	if (p[3] == 1) {
		inet_ntop(AF_INET, p + 4, s->req.host, sizeof(s->req.host));
		alen = 4;
	} else if (p[3] == 4) {
		inet_ntop(AF_INET6, p + 4, s->req.host, sizeof(s->req.host));
		alen = 16;
	} else {
		alen = 1u + p[4];
		memcpy(s->req.host, p + 5, p[4]);
		s->req.host[p[4]] = '\0';
	}
	s->req.port = (unsigned)(p[4 + alen] << 8 | p[5 + alen]);
	s->stage = S_WAIT_TARGET;
	sk_loop_mod_fd(s->loop, s->fd, 0);
	finish(s, 0);
}

/* ---- HTTP CONNECT -------------------------------------------------------------------------- */

static const char *http_status_text(int status)
{
	switch (status) {
	case 200:
		return "Connection established";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 405:
		return "Method Not Allowed";
	case 407:
		return "Proxy Authentication Required";
	case 502:
		return "Bad Gateway";
	case 504:
		return "Gateway Timeout";
	default:
		return "Error";
	}
}

static void http_refuse(struct sk_proxy_server *s, int status, int code, const char *why)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\n\r\n", status,
		http_status_text(status),
		status == 407 ? "Proxy-Authenticate: Basic realm=\"sockit\"\r\n" : "");

	refuse(s, buf, (size_t)n, code, why);
}

static int unbase64(const char *in, char *out, size_t cap)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned v = 0;
	size_t o = 0;
	int bits = 0;

	for (; *in && *in != '=' && *in != '\r'; in++) {
		const char *p = strchr(tab, *in);

		if (!p)
			return -1;
		v = v << 6 | (unsigned)(p - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)(v >> bits);
		}
	}
	out[o] = '\0';
	return (int)o;
}

/* "Proxy-Authorization: Basic B64" among the headers, checked by the auth hook. */
static bool http_authorized(struct sk_proxy_server *s, const char *headers)
{
	const char *h = headers;
	char cred[600], *colon;

	while ((h = strstr(h, "\r\n")) != NULL) {
		h += 2;
		if (strncasecmp(h, "Proxy-Authorization:", 20) == 0) {
			h += 20;
			while (*h == ' ')
				h++;
			if (strncasecmp(h, "Basic ", 6) != 0 || unbase64(h + 6, cred, sizeof(cred)) < 0)
				return false;
			colon = strchr(cred, ':');
			if (!colon || (size_t)(colon - cred) >= sizeof(s->req.user))
				return false;
			*colon = '\0';
			memcpy(s->req.user, cred, (size_t)(colon - cred) + 1);
			return s->auth(cred, colon + 1, s->auth_userdata);
		}
	}
	return false;
}

static void http_request(struct sk_proxy_server *s)
{
	char *req = (char *)s->in, method[16], target[300], *colon;
	unsigned long port;
	char *end;

	if (sscanf(req, "%15s %299s HTTP/1.%*d", method, target) != 2) {
		http_refuse(s, 400, -EPROTO, "not an HTTP request");
		return;
	}
	if (strcmp(method, "CONNECT") != 0) {
		http_refuse(s, 405, -EPROTO, "only CONNECT is served");
		return;
	}
	colon = strrchr(target, ':');
	port = colon ? strtoul(colon + 1, &end, 10) : 0;
	if (!colon || colon == target || *end || port == 0 || port > 65535) {
		http_refuse(s, 400, -EPROTO, "CONNECT target is not HOST:PORT");
		return;
	}
	*colon = '\0';
	if (target[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(target, target + 1, strlen(target));
	}
	if (strlen(target) >= sizeof(s->req.host)) {
		http_refuse(s, 400, -EPROTO, "CONNECT target too long");
		return;
	}
	if (s->auth && !http_authorized(s, req)) {
		http_refuse(s, 407, -EACCES, "no or wrong proxy credentials");
		return;
	}
	memcpy(s->req.host, target, strlen(target) + 1);
	s->req.port = (unsigned)port;
	s->stage = S_WAIT_TARGET;
	sk_loop_mod_fd(s->loop, s->fd, 0);
	finish(s, 0);
}

/* Read the request headers up to the blank line and not a byte further. */
static int read_http(struct sk_proxy_server *s)
{
	int rc = sk__recv_http_head(s->fd, (char *)s->in, sizeof(s->in), &s->in_len);

	if (rc > 0)
		http_request(s);
	else if (rc == 0 && s->in_len >= sizeof(s->in) - 1)
		http_refuse(s, 400, -EPROTO, "request headers too long");
	return rc < 0 ? rc : 0;
}

/* ---- driving -------------------------------------------------------------------------------- */

static void got_bytes(struct sk_proxy_server *s)
{
	switch (s->stage) {
	case S_FIRST:
		/* The first byte tells the protocol: 5 is SOCKS5, a letter HTTP. */
		if (s->in[0] == 5 && s->kind != SK_PROXY_HTTP) {
			s->stage = S5_GREETING;
			s->need = 2;
		} else if (s->kind != SK_PROXY_SOCKS5) {
			s->stage = HTTP_REQUEST;
		} else {
			fail(s, -EPROTO, "not a SOCKS5 client");
		}
		return;
	case S5_GREETING:
		socks5_greeting(s);
		return;
	case S5_AUTH:
		socks5_auth(s);
		return;
	case S5_REQUEST_HEAD:
	case S5_REQUEST_REST:
		socks5_request(s);
		return;
	default:
		return;
	}
}

static void on_io(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct sk_proxy_server *s = userdata;
	ssize_t n;

	if (s->out_sent < s->out_len) {
		n = send(fd, s->out + s->out_sent, s->out_len - s->out_sent, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN) {
			finish(s, sk__fail(&s->err, -errno, "proxy reply on fd %d", fd));
			return;
		}
		if (n > 0)
			s->out_sent += (size_t)n;
		if (s->out_sent < s->out_len)
			return;
		if (s->close_after || s->stage == S_REPLY) {
			finish(s, s->close_after ? s->refusal : 0);
			return;
		}
		sk_loop_mod_fd(loop, fd, SK_EV_IN);
		return;
	}
	if (s->stage == HTTP_REQUEST) {
		int rc = read_http(s);

		if (rc < 0)
			finish(s, sk__fail(&s->err, rc, "proxy request on fd %d", fd));
		return;
	}
	if (s->stage == S_FIRST) {
		n = recv(fd, s->in, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 1) {
			got_bytes(s);
			return;
		}
	} else {
		n = recv(fd, s->in + s->in_len, s->need - s->in_len, MSG_DONTWAIT);
		if (n > 0) {
			s->in_len += (size_t)n;
			if (s->in_len == s->need)
				got_bytes(s);
			return;
		}
	}
	if (n < 0 && errno == EAGAIN)
		return;
	finish(s, sk__fail(&s->err, n == 0 ? -ECONNRESET : -errno, "proxy request on fd %d", fd));
}

static void on_timeout(struct sk_loop *loop, void *userdata)
{
	struct sk_proxy_server *s = userdata;

	s->timer = 0;
	fail(s, -ETIMEDOUT, "no complete request in time");
}

int sk_proxy_server_start(struct sk_loop *loop, int fd, enum sk_proxy_kind kind, int timeout_ms,
	sk_proxy_auth_fn auth, void *auth_userdata, sk_proxy_request_cb cb, void *userdata,
	struct sk_proxy_server **out, struct sk_err *err)
{
	struct sk_proxy_server *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return sk__fail(err, -ENOMEM, "proxy request on fd %d", fd);
	s->loop = loop;
	s->fd = fd;
	s->kind = kind;
	s->auth = auth;
	s->auth_userdata = auth_userdata;
	s->cb = cb;
	s->userdata = userdata;
	s->stage = S_FIRST;
	sk_err_clear(&s->err);
	s->timer = sk_loop_add_timer(loop, timeout_ms > 0 ? timeout_ms : READ_TIMEOUT_MS, on_timeout, s);
	if (s->timer < 0 || sk_loop_add_fd(loop, fd, SK_EV_IN, on_io, s) < 0) {
		if (s->timer > 0)
			sk_loop_cancel_timer(loop, s->timer);
		free(s);
		return sk__fail(err, -ENOMEM, "proxy request on fd %d", fd);
	}
	*out = s;
	return 0;
}

/* The SOCKS5 reply code for how reaching the target went. */
static char socks5_rep(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case -EACCES:
	case -EPERM:
		return 2;
	case -ENETUNREACH:
		return 3;
	case -EHOSTUNREACH:
	case SK_ERESOLVE:
		return 4;
	case -ECONNREFUSED:
		return 5;
	case -ETIMEDOUT:
		return 6;
	default:
		return 1;
	}
}

int sk_proxy_server_reply(struct sk_proxy_server *s, int rc, sk_proxy_request_cb done,
	void *userdata)
{
	char buf[256];
	int n;

	if (s->stage != S_WAIT_TARGET)
		return -EINVAL;
	s->finished = false;
	s->cb = done;
	s->userdata = userdata;
	if (s->in[0] == 5) {
		/* BND.ADDR is not worth a getsockname: clients ignore it; 0.0.0.0:0. */
		char r[10] = { 5, socks5_rep(rc), 0, 1, 0, 0, 0, 0, 0, 0 };

		memcpy(buf, r, sizeof(r));
		n = sizeof(r);
	} else {
		int status = rc == 0 ? 200 : rc == -EACCES || rc == -EPERM ? 403
			: rc == -ETIMEDOUT ? 504 : 502;

		n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n\r\n", status,
			http_status_text(status));
	}
	if (rc < 0) {
		s->refusal = rc;
		s->close_after = true;
		sk__fail(&s->err, rc, "connect to %s:%u", s->req.host, s->req.port);
	}
	s->timer = sk_loop_add_timer(s->loop, READ_TIMEOUT_MS, on_timeout, s);
	if (sk_loop_add_fd(s->loop, s->fd, SK_EV_OUT, on_io, s) < 0)
		return -ENOMEM;
	reply(s, buf, (size_t)n, S_REPLY);
	return 0;
}

void sk_proxy_server_destroy(struct sk_proxy_server *s)
{
	if (!s)
		return;
	if (!s->finished) {
		sk_loop_del_fd(s->loop, s->fd);
		if (s->timer > 0)
			sk_loop_cancel_timer(s->loop, s->timer);
	}
	free(s);
}
