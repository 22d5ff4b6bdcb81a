/* SPDX-License-Identifier: BSD-2-Clause */
/* accept.c - what listen and relay share about accepting: peer names, running out of fds. */
#include "cli.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* How long accepting pauses when the process is out of descriptors. */
#define ACCEPT_BACKOFF_MS 100

void cli_close(int fd, bool reset)
{
	struct linger abort_close = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0)
		return;
	if (reset)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
	close(fd);
}

socklen_t cli_addr_unmapped(const struct sockaddr_storage *ss, socklen_t len,
	struct sockaddr_storage *out)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)out;

	if (ss->ss_family != AF_INET6 || len < sizeof(*sin6) ||
		!IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memcpy(out, ss, len <= sizeof(*out) ? len : sizeof(*out));
		return len <= sizeof(*out) ? len : sizeof(*out);
	}
	memset(out, 0, sizeof(*out));
	sin->sin_family = AF_INET;
	sin->sin_port = sin6->sin6_port;
	memcpy(&sin->sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
	return sizeof(*sin);
}

void cli_peer_text(const struct sk_peer *peer, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	const struct sockaddr *sa = (const struct sockaddr *)&ss;
	socklen_t sslen = cli_addr_unmapped(&peer->addr, peer->addrlen, &ss);
	char addr[112];

	sk_addr_format(sa, sslen, addr, sizeof(addr));
	if (ss.ss_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", addr, sk_addr_port(sa));
	else if (ss.ss_family == AF_INET)
		snprintf(buf, len, "%s:%u", addr, sk_addr_port(sa));
	else
		snprintf(buf, len, "%s", addr[0] ? addr : "unnamed UNIX peer");
}

/*
 * Out of descriptors (EMFILE, ENFILE) or memory: the pending connection
 * stays in the backlog and the listener stays readable, so pause instead
 * of spinning, and say so once per episode.
 */
bool cli_accept_backoff(const struct cli_ctx *ctx, struct cli_backoff *b, struct sk_loop *loop,
	int code, const struct sk_err *err, sk_timer_cb resume, void *userdata)
{
	if (code != -EMFILE && code != -ENFILE && code != -ENOBUFS && code != -ENOMEM)
		return false;
	if (!b->episode) {
		fprintf(stderr, "sockit: %s: %s: %s; pausing accepts\n", ctx->cmd, err->what,
			err->why);
		b->episode = true;
	}
	b->paused = true;
	sk_loop_add_timer(loop, ACCEPT_BACKOFF_MS, resume, userdata);
	return true;
}

void cli_accept_ok(const struct cli_ctx *ctx, struct cli_backoff *b, const char *name)
{
	if (!b->episode)
		return;
	cli_event(ctx, "resumed", NULL, 0, "accepting again on %s", name);
	b->episode = false;
}
