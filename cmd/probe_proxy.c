/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd/probe_proxy.c - probe --proxy URL: each TCP target is asked of the
 * proxy (SOCKS5, SOCKS4a, HTTP CONNECT), one after another, each bounded by
 * -w; the proxy's answer is the state. Names go to the proxy as they are
 * (socks5h, socks4a, http resolve them there).
 */
#include "probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What the proxy said about the target, as a probe state. */
static enum probe_state state_of(int rc, const struct sk_err *err)
{
	/* A failure to reach the proxy itself is no answer about the target. */
	if (rc < 0 && strncmp(err->why, "proxy", 5) != 0)
		return PS_ERROR;
	switch (rc) {
	case 0:
		return PS_OPEN;
	case -ECONNREFUSED:
		return PS_CLOSED;
	case -ETIMEDOUT:
		return PS_FILTERED;
	case -ENETUNREACH:
	case -EHOSTUNREACH:
		return PS_UNREACHABLE;
	default:
		return PS_ERROR;
	}
}

static void probe_one(struct probe *p, struct probe_target *t, const char *url)
{
	const struct probe_host *h = &p->hosts[t->host];
	struct sk_connect_opts o = { .timeout_ms = p->timeout_ms };
	struct cli_text text = { 0 };
	struct sk_endpoint *ep = NULL;
	struct sk_err err;
	struct timespec a, b;
	int fd;

	cli_text_addf(&text, strchr(h->name, ':') ? "tcp:[%s]:%u,proxy=" : "tcp:%s:%u,proxy=",
		h->name, (unsigned)t->port);
	cli_text_add_escaped(&text, url);
	sk_err_clear(&err);
	fd = text.failed ? -ENOMEM : sk_endpoint_parse(text.text, &ep, &err);
	free(text.text);
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (fd == 0)
		fd = sk_connect(ep, &o, &err);
	clock_gettime(CLOCK_MONOTONIC, &b);
	sk_endpoint_free(ep);
	t->state = (uint8_t)state_of(fd < 0 ? fd : 0, &err);
	if (fd >= 0) {
		t->latency_ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		cli_close(fd, true); /* nothing sent: the target sees a connection and a reset */
		return;
	}
	t->err = -fd;
	if (t->state != PS_OPEN && err.why[0]) {
		free(t->detail);
		t->detail = probe_escape(err.why, strlen(err.why));
	}
}

void probe_via_proxy(struct probe *p, const char *url)
{
	for (size_t i = 0; i < p->ntargets; i++)
		probe_one(p, &p->targets[i], url);
}
