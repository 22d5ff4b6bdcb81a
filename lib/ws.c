/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ws.c - WebSocket (RFC 6455) over a connected stream: the opening
 * handshake (client or server), then a bridge between binary frames on the
 * network side and plain bytes on a socketpair the caller pumps like any
 * socket. Text and binary messages arrive as their payload bytes; what the
 * caller writes leaves as binary frames (masked from a client). The closing
 * handshake maps to end-of-file: the caller's EOF sends a Close frame, the
 * peer's Close frame is EOF to the caller.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define HEAD_MAX 8192
/* Bytes read from the caller per frame, and the room for frames to send. */
#define CHUNK (16 * 1024)
#define OUT_MAX (CHUNK + 14 + 256)
/* Decoded payload waiting for the caller. */
#define IN_MAX (64 * 1024)

enum op { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

/* ---- SHA-1 (FIPS 180-4), for Sec-WebSocket-Accept only --------------------------- */

static uint32_t rol(uint32_t x, int n)
{
	return x << n | x >> (32 - n);
}

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5A827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ED9EBA1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8F1BBCDC;
		} else {
			f = b ^ c ^ d;
			k = 0xCA62C1D6;
		}
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void sk__sha1(const void *data, size_t len, unsigned char out[20])
{
	uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
	const unsigned char *p = data;
	unsigned char tail[128] = { 0 };
	size_t full = len / 64 * 64, rest = len - full, tlen;
	uint64_t bits = (uint64_t)len * 8;

	for (size_t i = 0; i < full; i += 64)
		sha1_block(h, p + i);
	memcpy(tail, p + full, rest);
	tail[rest] = 0x80;
	tlen = rest + 1 + 8 <= 64 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (unsigned char)(bits >> (8 * i));
	for (size_t i = 0; i < tlen; i += 64)
		sha1_block(h, tail + i);
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

size_t sk__base64(const void *data, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *in = data;
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

/* The Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 §4.2.2). */
static void accept_value(const char *key, char out[32])
{
	char joined[128];
	unsigned char digest[20];
	int n = snprintf(joined, sizeof(joined), "%.60s" WS_GUID, key);

	sk__sha1(joined, (size_t)n, digest);
	sk__base64(digest, sizeof(digest), out);
}

/* ---- the session ------------------------------------------------------------------- */

struct sk_ws_session {
	struct sk_loop *loop;
	int net;      /* the connection (adopted) */
	int app, mine; /* the socketpair: the caller's end, ours */
	bool server;
	char host[300], path[256], peer[300];
	sk_ws_ready_cb ready;
	sk_ws_done_cb done;
	void *userdata;
	int timer;
	/* the opening handshake */
	bool open;
	char key[32];
	char head[HEAD_MAX];
	size_t head_len;
	/* frames to the network */
	unsigned char out[OUT_MAX];
	size_t out_len, out_sent;
	bool app_eof;    /* the caller finished: our Close frame is queued */
	bool close_sent; /* a Close frame has gone out */
	/* frames from the network */
	unsigned char hdr[14];
	size_t hdr_len, hdr_need;
	uint64_t payload_left;
	unsigned char mask[4];
	size_t mask_at;
	int opcode;
	unsigned char ctrl[125];
	size_t ctrl_len;
	unsigned char in[IN_MAX];
	size_t in_len, in_sent;
	bool peer_closed; /* its Close frame came: EOF to the caller */
	bool finished;
	int busy;
	bool dead;
};

static void release(struct sk_ws_session *s)
{
	if (s->busy || !s->dead)
		return;
	free(s);
}

void sk_ws_session_destroy(struct sk_ws_session *s)
{
	if (!s)
		return;
	if (s->timer > 0)
		sk_loop_cancel_timer(s->loop, s->timer);
	s->timer = 0;
	if (s->net >= 0) {
		sk_loop_del_fd(s->loop, s->net);
		close(s->net);
	}
	if (s->mine >= 0) {
		sk_loop_del_fd(s->loop, s->mine);
		close(s->mine);
	}
	if (s->app >= 0)
		close(s->app); /* never handed over */
	s->net = s->mine = s->app = -1;
	s->finished = true;
	s->dead = true;
	release(s);
}

static void update_interest(struct sk_ws_session *s);

/* Before the caller has the socketpair: the handshake failed. */
static void fail_open(struct sk_ws_session *s, int code, const char *why)
{
	struct sk_err err;

	sk__fail_why(&err, code, -1, why, "WebSocket handshake with %s", s->peer);
	s->finished = true;
	if (s->timer > 0)
		sk_loop_cancel_timer(s->loop, s->timer);
	s->timer = 0;
	sk_loop_del_fd(s->loop, s->net);
	s->busy++;
	s->ready(s, code, &err, s->userdata);
	s->busy--;
	release(s);
}

/* After it: the bridge ended. done hears why (the errno text when why is NULL) before the
 * caller's end sees EOF. */
static void finish(struct sk_ws_session *s, int status, const char *why)
{
	struct sk_err err;

	if (s->finished)
		return;
	s->finished = true;
	if (status < 0 && why)
		sk__fail_why(&err, status, -1, why, "WebSocket with %s", s->peer);
	else if (status < 0)
		sk__fail(&err, status, "WebSocket with %s", s->peer);
	sk_loop_del_fd(s->loop, s->net);
	sk_loop_del_fd(s->loop, s->mine);
	s->busy++;
	if (s->done)
		s->done(s, status, status < 0 ? &err : NULL, s->userdata);
	s->busy--;
	if (!s->dead) {
		/* a failure resets the network side, as a reset would be carried */
		if (status < 0) {
			struct linger abort_close = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(s->net, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
		}
		shutdown(s->mine, SHUT_RDWR);
	}
	release(s);
}

static void on_deadline(struct sk_loop *loop, void *userdata)
{
	struct sk_ws_session *s = userdata;

	s->timer = 0;
	if (!s->open)
		fail_open(s, -ETIMEDOUT, "no answer in time");
}

/* ---- frames -------------------------------------------------------------------------- */

/* Append one frame (FIN set) to the output; a client masks it. */
static void queue_frame(struct sk_ws_session *s, int opcode, const void *data, size_t len)
{
	unsigned char *p = s->out + s->out_len;
	size_t h = 2;

	p[0] = (unsigned char)(0x80 | opcode);
	if (len < 126) {
		p[1] = (unsigned char)len;
	} else if (len < 65536) {
		p[1] = 126;
		p[2] = (unsigned char)(len >> 8);
		p[3] = (unsigned char)len;
		h = 4;
	} else {
		p[1] = 127;
		for (int i = 0; i < 8; i++)
			p[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
		h = 10;
	}
	if (!s->server) {
		unsigned char mask[4];

		p[1] |= 0x80;
		if (getrandom(mask, sizeof(mask), 0) != sizeof(mask))
			memset(mask, 0x5a, sizeof(mask));
		memcpy(p + h, mask, 4);
		h += 4;
		for (size_t i = 0; i < len; i++)
			p[h + i] = ((const unsigned char *)data)[i] ^ mask[i & 3];
	} else if (len) {
		memcpy(p + h, data, len);
	}
	s->out_len += h + len;
}

static void queue_close(struct sk_ws_session *s, unsigned code)
{
	unsigned char body[2] = { (unsigned char)(code >> 8), (unsigned char)code };

	if (s->close_sent)
		return;
	queue_frame(s, OP_CLOSE, body, sizeof(body));
	s->close_sent = true;
}

/* A protocol violation by the peer: Close 1002, then the failure. */
static void violation(struct sk_ws_session *s, const char *why)
{
	queue_close(s, 1002);
	send(s->net, s->out + s->out_sent, s->out_len - s->out_sent, MSG_DONTWAIT | MSG_NOSIGNAL);
	finish(s, -EPROTO, why);
}

/* A whole control frame arrived. */
static void control(struct sk_ws_session *s)
{
	if (s->opcode == OP_PING) {
		if (s->out_len + 2 + 4 + s->ctrl_len <= sizeof(s->out) && !s->close_sent)
			queue_frame(s, OP_PONG, s->ctrl, s->ctrl_len);
	} else if (s->opcode == OP_CLOSE) {
		/* Answer with a Close of our own, and tell the caller: EOF. */
		s->peer_closed = true;
		queue_close(s, 1000);
	}
}

/* Parse frame headers and payload out of buf; returns false on a violation. */
static bool take_frames(struct sk_ws_session *s, const unsigned char *buf, size_t len)
{
	while (len) {
		if (s->payload_left == 0 && s->hdr_len < s->hdr_need) {
			size_t n = s->hdr_need - s->hdr_len < len ? s->hdr_need - s->hdr_len : len;

			memcpy(s->hdr + s->hdr_len, buf, n);
			s->hdr_len += n;
			buf += n;
			len -= n;
			if (s->hdr_len == 2) {
				bool masked = s->hdr[1] & 0x80;
				unsigned plen = s->hdr[1] & 0x7f;

				if (masked != s->server) {
					violation(s, s->server ? "unmasked frame from a client"
							       : "masked frame from a server");
					return false;
				}
				if (s->hdr[0] & 0x70) {
					violation(s, "reserved bits set (no extension was agreed)");
					return false;
				}
				s->hdr_need = 2 + (plen == 126 ? 2 : plen == 127 ? 8 : 0) + (masked ? 4 : 0);
			}
			if (s->hdr_len < s->hdr_need)
				continue;
			/* the header is whole */
			unsigned plen = s->hdr[1] & 0x7f;
			size_t at = 2;
			uint64_t n64 = plen;

			if (plen == 126) {
				n64 = (uint64_t)s->hdr[2] << 8 | s->hdr[3];
				at = 4;
			} else if (plen == 127) {
				n64 = 0;
				for (int i = 0; i < 8; i++)
					n64 = n64 << 8 | s->hdr[2 + i];
				at = 10;
			}
			if (s->hdr[1] & 0x80)
				memcpy(s->mask, s->hdr + at, 4);
			s->mask_at = 0;
			s->opcode = s->hdr[0] & 0x0f;
			if (s->opcode >= 8 && (n64 > 125 || !(s->hdr[0] & 0x80))) {
				violation(s, "a control frame longer than 125 bytes or fragmented");
				return false;
			}
			if (s->opcode != OP_CONT && s->opcode != OP_TEXT && s->opcode != OP_BINARY &&
				s->opcode != OP_CLOSE && s->opcode != OP_PING && s->opcode != OP_PONG) {
				violation(s, "unknown opcode");
				return false;
			}
			s->payload_left = n64;
			s->ctrl_len = 0;
			s->hdr_len = 0;
			s->hdr_need = 2;
			if (n64 == 0 && s->opcode >= 8)
				control(s);
			continue;
		}
		/* payload */
		size_t n = s->payload_left < len ? (size_t)s->payload_left : len;

		if (s->opcode >= 8) {
			memcpy(s->ctrl + s->ctrl_len, buf, n);
			for (size_t i = 0; i < n && s->server; i++)
				s->ctrl[s->ctrl_len + i] ^= s->mask[s->mask_at++ & 3];
			s->ctrl_len += n;
		} else {
			unsigned char *dst = s->in + s->in_len;

			memcpy(dst, buf, n);
			if (s->server)
				for (size_t i = 0; i < n; i++)
					dst[i] ^= s->mask[s->mask_at++ & 3];
			s->in_len += n;
		}
		s->payload_left -= n;
		buf += n;
		len -= n;
		if (s->payload_left == 0 && s->opcode >= 8)
			control(s);
	}
	return true;
}

/* How much the network may give now without overflowing the caller's buffer. */
static size_t net_room(const struct sk_ws_session *s)
{
	return sizeof(s->in) - s->in_len;
}

/* ---- moving bytes ------------------------------------------------------------------------ */

static void pump(struct sk_ws_session *s)
{
	unsigned char buf[CHUNK];
	ssize_t n;

	for (int round = 0; round < 16 && !s->finished; round++) {
		bool moved = false;

		/* frames out */
		if (s->out_sent < s->out_len) {
			n = send(s->net, s->out + s->out_sent, s->out_len - s->out_sent,
				MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN) {
				finish(s, errno == EPIPE ? -ECONNRESET : -errno, NULL);
				return;
			}
			if (n > 0) {
				s->out_sent += (size_t)n;
				moved = true;
			}
			if (s->out_sent == s->out_len)
				s->out_len = s->out_sent = 0;
		}
		/* payload to the caller */
		if (s->in_sent < s->in_len) {
			n = send(s->mine, s->in + s->in_sent, s->in_len - s->in_sent,
				MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN) {
				finish(s, -ECONNRESET, "the local side went away");
				return;
			}
			if (n > 0) {
				s->in_sent += (size_t)n;
				moved = true;
			}
			if (s->in_sent == s->in_len)
				s->in_len = s->in_sent = 0;
		}
		if (s->peer_closed && s->in_len == 0)
			shutdown(s->mine, SHUT_WR);
		/* the caller's bytes, framed, when the output is empty */
		if (!s->app_eof && !s->close_sent && s->out_len == 0) {
			n = recv(s->mine, buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0) {
				queue_frame(s, OP_BINARY, buf, (size_t)n);
				moved = true;
			} else if (n == 0) {
				s->app_eof = true;
				queue_close(s, 1000);
				moved = true;
			} else if (errno != EAGAIN) {
				finish(s, -ECONNRESET, "the local side went away");
				return;
			}
		}
		/* frames in, while the caller keeps up */
		if (!s->peer_closed && s->in_len == 0 && net_room(s) >= sizeof(buf)) {
			n = recv(s->net, buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0) {
				if (!take_frames(s, buf, (size_t)n))
					return;
				moved = true;
			} else if (n == 0) {
				finish(s, -EPROTO, "connection closed without a Close frame");
				return;
			} else if (errno != EAGAIN) {
				finish(s, -errno, NULL);
				return;
			}
		}
		/* both Close frames exchanged and everything delivered: done */
		if (s->peer_closed && s->close_sent && s->out_len == 0 && s->in_len == 0) {
			shutdown(s->net, SHUT_WR);
			finish(s, 0, NULL);
			return;
		}
		if (!moved)
			break;
	}
	update_interest(s);
}

static void update_interest(struct sk_ws_session *s)
{
	unsigned net = 0, mine = 0;

	if (s->finished)
		return;
	if (s->out_len)
		net |= SK_EV_OUT;
	if (!s->peer_closed && s->in_len == 0)
		net |= SK_EV_IN;
	if (s->in_len)
		mine |= SK_EV_OUT;
	if (!s->app_eof && !s->close_sent && s->out_len == 0)
		mine |= SK_EV_IN;
	sk_loop_mod_fd(s->loop, s->net, net);
	sk_loop_mod_fd(s->loop, s->mine, mine);
}

static void on_bridge(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct sk_ws_session *s = userdata;

	s->busy++;
	pump(s);
	s->busy--;
	release(s);
}

/* ---- the opening handshake --------------------------------------------------------------- */

/* The value of header name in an HTTP head, into out; false when absent. */
static bool header(const char *head, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);

	for (const char *h = strstr(head, "\r\n"); h; h = strstr(h, "\r\n")) {
		h += 2;
		if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
			const char *v = h + nl + 1, *e;

			while (*v == ' ' || *v == '\t')
				v++;
			e = strstr(v, "\r\n");
			if (!e)
				e = v + strlen(v);
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			snprintf(out, len, "%.*s", (int)(e - v), v);
			return true;
		}
	}
	return false;
}

static bool has_token(const char *value, const char *token)
{
	size_t tl = strlen(token);

	for (const char *p = value; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, token, tl) == 0 && (p[tl] == '\0' || p[tl] == ',' || p[tl] == ' '))
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

/* Open: give the caller its end and start moving frames. */
static void opened(struct sk_ws_session *s)
{
	int app = s->app;

	s->open = true;
	if (s->timer > 0)
		sk_loop_cancel_timer(s->loop, s->timer);
	s->timer = 0;
	/* the same fds, now driven by the bridge */
	sk_loop_del_fd(s->loop, s->net);
	if (sk_loop_add_fd(s->loop, s->mine, 0, on_bridge, s) < 0 ||
		sk_loop_add_fd(s->loop, s->net, 0, on_bridge, s) < 0) {
		fail_open(s, -ENOMEM, "out of memory");
		return;
	}
	s->app = -1; /* the caller's now */
	s->busy++;
	s->ready(s, app, NULL, s->userdata);
	s->busy--;
	if (!s->dead)
		pump(s);
	release(s);
}

static void client_answered(struct sk_ws_session *s)
{
	char line[128], value[128], want[32];
	const char *eol = strstr(s->head, "\r\n");
	int status = 0;

	snprintf(line, sizeof(line), "%.*s", eol ? (int)(eol - s->head) : 100, s->head);
	if (sscanf(line, "HTTP/1.1 %3d", &status) != 1 || status != 101) {
		char why[200];

		snprintf(why, sizeof(why), "server answered '%.150s'", line);
		fail_open(s, -ECONNREFUSED, why);
		return;
	}
	accept_value(s->key, want);
	if (!header(s->head, "Sec-WebSocket-Accept", value, sizeof(value)) || strcmp(value, want)) {
		fail_open(s, -EPROTO, "wrong Sec-WebSocket-Accept");
		return;
	}
	opened(s);
}

/* Refuse a client's handshake with an HTTP status, then fail. */
static void server_refuse(struct sk_ws_session *s, int status, const char *text, const char *why)
{
	char reply[256];
	int n = snprintf(reply, sizeof(reply),
		"HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n", status, text,
		status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "");

	send(s->net, reply, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	fail_open(s, -EPROTO, why);
}

static void server_requested(struct sk_ws_session *s)
{
	char method[16], target[256], value[256], accept[32];
	char *q;

	if (sscanf(s->head, "%15s %255s HTTP/1.1", method, target) != 2 || strcmp(method, "GET")) {
		server_refuse(s, 400, "Bad Request", "not a WebSocket request (GET ... HTTP/1.1)");
		return;
	}
	q = strchr(target, '?');
	if (q)
		*q = '\0';
	if (strcmp(s->path, "/") != 0 && strcmp(target, s->path) != 0) {
		server_refuse(s, 404, "Not Found", "request for another path");
		return;
	}
	if (!header(s->head, "Upgrade", value, sizeof(value)) || strcasecmp(value, "websocket") ||
		!header(s->head, "Connection", value, sizeof(value)) || !has_token(value, "upgrade")) {
		server_refuse(s, 426, "Upgrade Required", "a plain HTTP request, not a WebSocket one");
		return;
	}
	if (!header(s->head, "Sec-WebSocket-Version", value, sizeof(value)) || strcmp(value, "13")) {
		server_refuse(s, 426, "Upgrade Required", "not WebSocket version 13");
		return;
	}
	if (!header(s->head, "Sec-WebSocket-Key", value, sizeof(value)) || strlen(value) != 24) {
		server_refuse(s, 400, "Bad Request", "no valid Sec-WebSocket-Key");
		return;
	}
	accept_value(value, accept);
	s->out_len = (size_t)snprintf((char *)s->out, sizeof(s->out),
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Accept: %s\r\n\r\n", accept);
	s->out_sent = 0;
	opened(s); /* the 101 goes out first, from the output buffer */
}

static void on_handshake(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct sk_ws_session *s = userdata;
	int rc;

	if (s->out_sent < s->out_len) {
		ssize_t n = send(fd, s->out + s->out_sent, s->out_len - s->out_sent,
			MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN) {
			fail_open(s, -errno, strerror(errno));
			return;
		}
		if (n > 0)
			s->out_sent += (size_t)n;
		if (s->out_sent == s->out_len) {
			s->out_len = s->out_sent = 0;
			sk_loop_mod_fd(loop, fd, SK_EV_IN);
		}
		return;
	}
	rc = sk__recv_http_head(fd, s->head, sizeof(s->head), &s->head_len);
	if (rc < 0) {
		fail_open(s, rc, rc == -ECONNRESET ? "connection closed during the handshake"
						   : strerror(-rc));
		return;
	}
	if (rc == 0) {
		if (s->head_len >= sizeof(s->head) - 1)
			fail_open(s, -EPROTO, "HTTP head too long");
		return;
	}
	if (s->server)
		server_requested(s);
	else
		client_answered(s);
}

static void client_request(struct sk_ws_session *s)
{
	unsigned char nonce[16];

	if (getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce))
		memset(nonce, 0x42, sizeof(nonce));
	sk__base64(nonce, sizeof(nonce), s->key);
	s->out_len = (size_t)snprintf((char *)s->out, sizeof(s->out),
		"GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", s->path, s->host,
		s->key);
	s->out_sent = 0;
}

int sk_ws_session_start(struct sk_loop *loop, int fd, const struct sk_ws_session_opts *opts,
	struct sk_ws_session **out, struct sk_err *err)
{
	struct sk_ws_session *s = calloc(1, sizeof(*s));
	int pair[2];

	*out = NULL;
	if (!s || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0) {
		int rc = sk__fail(err, s ? -errno : -ENOMEM, "WebSocket with %s",
			opts->peer ? opts->peer : "peer");

		free(s);
		close(fd);
		return rc;
	}
	s->loop = loop;
	s->net = fd;
	s->app = pair[0];
	s->mine = pair[1];
	s->server = opts->server;
	snprintf(s->host, sizeof(s->host), "%s", opts->host ? opts->host : "");
	snprintf(s->path, sizeof(s->path), "%s", opts->path && *opts->path ? opts->path : "/");
	snprintf(s->peer, sizeof(s->peer), "%s", opts->peer ? opts->peer : "peer");
	s->ready = opts->ready;
	s->done = opts->done;
	s->userdata = opts->userdata;
	s->hdr_need = 2;
	if (!s->server)
		client_request(s);
	if (opts->timeout_ms > 0)
		s->timer = sk_loop_add_timer(loop, opts->timeout_ms, on_deadline, s);
	if (sk__set_nonblock(fd) < 0 ||
		sk_loop_add_fd(loop, fd, s->out_len ? SK_EV_OUT : SK_EV_IN, on_handshake, s) < 0) {
		int rc = sk__fail(err, -ENOMEM, "WebSocket with %s", s->peer);

		sk_ws_session_destroy(s);
		return rc;
	}
	*out = s;
	return 0;
}
