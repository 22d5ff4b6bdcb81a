/* SPDX-License-Identifier: BSD-2-Clause */
/* stdio.c - what connect and listen share: signals, private stdio, the stdio pump. */
#include "cli.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

/* Quiet period after our input ends on a datagram flow, which has no EOF. */
#define DGRAM_LINGER_MS 1000

/* Where SIGCHLD and SIGHUP go when a command asks. Without a handler,
 * SIGCHLD is only drained and SIGHUP ends the loop like SIGTERM. */
static struct route {
	int signo;
	cli_signal_fn fn;
	void *userdata;
} routes[] = { { SIGCHLD, NULL, NULL }, { SIGHUP, NULL, NULL } };

static struct route *route_of(int signo)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].signo == signo)
			return &routes[i];
	return NULL;
}

void cli_loop_on_signal(int signo, cli_signal_fn fn, void *userdata)
{
	struct route *r = route_of(signo);

	if (r) {
		r->fn = fn;
		r->userdata = userdata;
	}
}

static void on_signal(struct sk_loop *loop, int signo, void *userdata)
{
	struct route *r = route_of(signo);

	if (r && r->fn)
		r->fn(loop, r->userdata);
	else if (signo != SIGCHLD)
		sk_loop_stop(loop, 128 + signo);
}

int cli_loop_open(const struct cli_ctx *ctx, struct sk_loop **loop)
{
	static const int signos[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD, 0 };
	struct sk_err err;
	int rc;

	rc = sk_loop_create(loop, &err);
	if (rc < 0)
		return cli_fail(ctx, CLI_SETUP, rc, &err);
	rc = sk_loop_watch_signals(*loop, signos, on_signal, NULL, &err);
	if (rc < 0) {
		sk_loop_destroy(*loop);
		*loop = NULL;
		return cli_fail(ctx, CLI_SETUP, rc, &err);
	}
	return 0;
}

int cli_stdio_open(const struct cli_ctx *ctx, struct cli_stdio *io)
{
	struct sk_err err;
	int rc;

	io->in = sk_fd_private(STDIN_FILENO, false, &err);
	if (io->in < 0)
		return cli_fail(ctx, CLI_SETUP, io->in, &err);
	io->out = sk_fd_private(STDOUT_FILENO, true, &err);
	if (io->out < 0) {
		rc = cli_fail(ctx, CLI_SETUP, io->out, &err);
		close(io->in);
		return rc;
	}
	/*
	 * From here on only io->out holds our end of stdout, so closing it
	 * shows EOF downstream when the peer finishes.
	 */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	return 0;
}

void cli_stdio_close(struct cli_stdio *io)
{
	if (io->in >= 0)
		close(io->in);
	if (io->out >= 0)
		close(io->out);
	io->in = io->out = -1;
}

void cli_pump_done(struct sk_pump *pump, int status, const struct sk_err *err, void *userdata)
{
	struct cli_pump_result *r = userdata;

	r->done = true;
	r->status = status;
	if (err)
		r->err = *err;
	sk_loop_stop(r->loop, 0);
}

int cli_pump_stdio(const struct cli_ctx *ctx, struct sk_loop *loop, int sock, const char *name,
	int socktype, bool local_is_client)
{
	struct cli_stdio io;
	struct cli_pump_result result = { .loop = loop };
	struct sk_pump_side local = { .owns_wfd = true, .name = "stdio" };
	struct sk_pump_side remote = { .rfd = sock, .wfd = sock, .name = name };
	struct cli_trace trace;
	struct sk_pump_opts opts = {
		.idle_timeout_ms = ctx->idle_timeout_ms,
		.dgram_linger_ms = socktype == SOCK_DGRAM ? DGRAM_LINGER_MS : 0,
		/* A trace turns splice off, so only when asked for. */
		.trace = cli_trace_wanted(ctx) ? cli_trace : NULL,
		.trace_userdata = &trace,
	};
	struct cli_crlf *crlf = NULL;
	struct sk_pump *pump;
	struct sk_err err;
	int rc;

	if (cli_term_wanted(ctx))
		return cli_term_run(ctx, loop, sock, name, socktype, local_is_client);
	cli_trace_start(&trace, ctx, sock, local_is_client, SK_PUMP_A_TO_B);
	rc = cli_stdio_open(ctx, &io);
	if (rc)
		return rc;
	local.rfd = io.in;
	local.wfd = io.out;
	if (ctx->stdio.crlf)
		rc = cli_crlf_open(ctx, loop, io.in, &crlf, &local.rfd);
	if (rc) {
		cli_stdio_close(&io);
		return rc;
	}
	rc = sk_pump_create(loop, &local, &remote, &opts, cli_pump_done, &result, &pump, &err);
	if (rc < 0) {
		cli_crlf_close(crlf);
		cli_stdio_close(&io);
		return cli_fail(ctx, CLI_SETUP, rc, &err);
	}
	io.out = -1; /* the pump owns it now */
	rc = sk_loop_run(loop);
	sk_pump_destroy(pump);
	cli_crlf_close(crlf);
	cli_stdio_close(&io);
	if (!result.done)
		return rc; /* a signal: 128+N */
	cli_trace_end(&trace, result.status);
	if (result.status < 0)
		return cli_fail(ctx, CLI_TRANSFER, result.status, &result.err);
	return 0;
}

int cli_stdio_opt(struct cli_ctx *ctx, int id)
{
	switch (id) {
	case CLI_O_CRLF:
		ctx->stdio.crlf = true;
		return 0;
	case CLI_O_HEXDUMP:
		ctx->stdio.hexdump = true;
		return 0;
	case CLI_O_INTERACTIVE:
		ctx->stdio.interactive = true;
		return 0;
	default:
		return -1;
	}
}

int cli_stdio_opts_unsupported(const struct cli_ctx *ctx, const char *what)
{
	const char *opt = NULL;

	if (ctx->stdio.crlf)
		opt = "--crlf";
	else if (ctx->stdio.hexdump)
		opt = "--hexdump";
	else if (ctx->stdio.interactive)
		opt = "--interactive";
	else if (ctx->pcap_path)
		opt = "--pcap";
	if (!opt)
		return 0;
	return cli_usage(ctx, "%s is not supported with %s yet", opt, what);
}
