/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ws.c - ws:, wss:, ws-listen: and wss-listen: for connect, single-peer
 * listen and a single relay: the WebSocket handshake on a connected stream
 * (the plaintext of TLS for wss), then the payload joins the pump like a
 * socket (lib/ws.c does the frames).
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool cli_ws_wanted(const struct sk_endpoint *ep)
{
	enum sk_transport t = sk_endpoint_transport(ep);

	return t == SK_WS || t == SK_WSS;
}

static void on_ready(struct sk_ws_session *s, int fd, const struct sk_err *err, void *userdata)
{
	struct cli_ws_stream *st = userdata;

	st->ready = true;
	st->plain = fd;
	if (fd < 0) {
		st->status = fd;
		st->err = *err;
	}
	sk_loop_stop(st->loop, 0);
}

static void on_done(struct sk_ws_session *s, int status, const struct sk_err *err, void *userdata)
{
	struct cli_ws_stream *st = userdata;

	if (status < 0 && st->status == 0) {
		st->status = status;
		st->err = *err;
	}
}

int cli_ws_stream_open(const struct cli_ctx *ctx, struct sk_loop *loop,
	const struct sk_endpoint *ep, int fd, bool server, const char *peer,
	struct cli_ws_stream *st)
{
	const char *host = sk_endpoint_host(ep);
	unsigned port = sk_endpoint_port(ep), dflt = sk_endpoint_transport(ep) == SK_WSS ? 443 : 80;
	char authority[300];
	struct sk_ws_session_opts o = {
		.server = server,
		.host = authority,
		.path = sk_endpoint_path(ep),
		.peer = peer,
		.timeout_ms = ctx->timeout_ms,
		.ready = on_ready,
		.done = on_done,
		.userdata = st,
	};
	struct sk_err err;
	int rc;

	*st = (struct cli_ws_stream){ .loop = loop, .plain = -1 };
	/* Host: as a browser writes it, the port only when it is not the default */
	snprintf(authority, sizeof(authority), "%s%s%s", strchr(host ? host : "", ':') ? "[" : "",
		host ? host : "", strchr(host ? host : "", ':') ? "]" : "");
	if (port != dflt) {
		size_t n = strlen(authority);

		snprintf(authority + n, sizeof(authority) - n, ":%u", port);
	}
	rc = sk_ws_session_start(loop, fd, &o, &st->session, &err); /* adopts fd */
	if (rc < 0)
		return cli_fail(ctx, CLI_CONNECT, rc, &err);
	rc = sk_loop_run(loop);
	if (!st->ready) {
		sk_ws_session_destroy(st->session);
		st->session = NULL;
		return rc ? rc : cli_fail(ctx, CLI_CONNECT, -EINTR, NULL); /* a signal: 128+N */
	}
	if (st->plain < 0) {
		rc = cli_fail(ctx, CLI_CONNECT, st->status, &st->err);
		sk_ws_session_destroy(st->session);
		st->session = NULL;
		return rc;
	}
	cli_event(ctx, "websocket", (struct cli_field[]){ { "peer", peer, 0 } }, 1,
		"WebSocket open with %s", peer);
	return 0;
}

int cli_ws_stream_close(const struct cli_ctx *ctx, struct cli_ws_stream *st, int status)
{
	/* The pump saw a clean EOF; a connection that ended without a Close
	 * frame, or broke the protocol, is the peer ending abnormally. */
	if (status == 0 && st->status < 0)
		status = cli_fail(ctx, CLI_TRANSFER, st->status, &st->err);
	if (st->plain >= 0)
		close(st->plain);
	st->plain = -1;
	sk_ws_session_destroy(st->session);
	st->session = NULL;
	return status;
}
