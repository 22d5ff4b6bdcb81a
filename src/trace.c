/* SPDX-License-Identifier: BSD-2-Clause */
/* trace.c - watching a conversation: --hexdump on stderr, --pcap into a capture file. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int cli_pcap_opt(struct cli_ctx *ctx, const char *path)
{
	if (!*path)
		return cli_usage(ctx, "invalid --pcap '': expected a file name");
	ctx->pcap_path = path;
	return 0;
}

int cli_pcap_open(struct cli_ctx *ctx)
{
	struct sk_err err;
	int fd, rc;

	if (!ctx->pcap_path)
		return 0;
	/* A capture holds everything that was said: readable by its owner only. */
	fd = open(ctx->pcap_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		sk_err_clear(&err);
		snprintf(err.what, sizeof(err.what), "open capture file %s", ctx->pcap_path);
		snprintf(err.why, sizeof(err.why), "%s", strerror(errno));
		return cli_fail(ctx, CLI_SETUP, -errno, &err);
	}
	rc = sk_pcap_create(fd, &ctx->pcap, &err);
	return rc < 0 ? cli_fail(ctx, CLI_SETUP, rc, &err) : 0;
}

void cli_pcap_close(struct cli_ctx *ctx)
{
	if (ctx->pcap && sk_pcap_error(ctx->pcap))
		cli_log(ctx, 0, "sockit: %s: write capture file %s: %s", ctx->cmd, ctx->pcap_path,
			strerror(-sk_pcap_error(ctx->pcap)));
	sk_pcap_destroy(ctx->pcap);
	ctx->pcap = NULL;
}

bool cli_trace_wanted(const struct cli_ctx *ctx)
{
	return ctx->stdio.hexdump || ctx->pcap;
}

void cli_trace_start(struct cli_trace *t, const struct cli_ctx *ctx, int sock, bool local_is_client,
	enum sk_pump_dir outgoing)
{
	struct sockaddr_storage local = { 0 }, peer = { 0 };
	socklen_t locallen = sizeof(local), peerlen = sizeof(peer);
	int socktype = SOCK_STREAM;
	socklen_t len = sizeof(socktype);

	memset(t, 0, sizeof(*t));
	t->hexdump = ctx->stdio.hexdump;
	t->pcap = ctx->pcap;
	t->local_is_client = local_is_client;
	t->outgoing = outgoing;
	if (!t->pcap)
		return;
	getsockname(sock, (struct sockaddr *)&local, &locallen);
	getpeername(sock, (struct sockaddr *)&peer, &peerlen);
	getsockopt(sock, SOL_SOCKET, SO_TYPE, &socktype, &len);
	if (local_is_client)
		sk_pcap_flow_init(t->pcap, &t->flow, (struct sockaddr *)&local, locallen,
			(struct sockaddr *)&peer, peerlen, socktype);
	else
		sk_pcap_flow_init(t->pcap, &t->flow, (struct sockaddr *)&peer, peerlen,
			(struct sockaddr *)&local, locallen, socktype);
}

/* Whether bytes moving in dir come from the server end of the conversation. */
static bool from_server(const struct cli_trace *t, enum sk_pump_dir dir)
{
	bool from_local = dir == t->outgoing;

	return t->local_is_client ? !from_local : from_local;
}

void cli_trace(enum sk_pump_dir dir, const void *data, size_t len, void *userdata)
{
	struct cli_trace *t = userdata;

	if (t->hexdump && len)
		cli_hexdump_trace(dir, data, len, &t->dump);
	if (!t->pcap)
		return;
	if (data)
		sk_pcap_data(t->pcap, &t->flow, from_server(t, dir), data, len, NULL);
	else
		sk_pcap_end(t->pcap, &t->flow, from_server(t, dir), false, NULL);
}

void cli_trace_end(struct cli_trace *t, int status)
{
	/* A reset shows as an RST from the far end of the socket we watched. */
	if (t->pcap && (status == -ECONNRESET || status == -EPIPE))
		sk_pcap_end(t->pcap, &t->flow, t->local_is_client, true, NULL);
}
