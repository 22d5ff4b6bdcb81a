/* SPDX-License-Identifier: BSD-2-Clause */
/* cmd/connect.c - open a connection or datagram flow and join it to stdio. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cli_opt connect_opts[] = {
	/* id, long name, short, argument, help; keep alphabetical by long name */
	{ CLI_O_ABSTRACT, "abstract", 0, "NAME", "connect to the abstract UNIX socket NAME" },
	CLI_TLS_ROW_ALPN,
	CLI_TLS_ROW_CA,
	CLI_TLS_ROW_CERT,
	CLI_TLS_ROW_CIPHERS,
	CLI_TLS_ROW_CIPHERSUITES,
	{ CLI_O_CRLF, "crlf", 0, NULL, "send each line end from stdin as CRLF" },
	{ 'e', "exec", 'e', "'PROG ARGS'", "run PROG (no shell) on the connection instead of stdio" },
	{ CLI_O_EXPLAIN, "explain", 0, NULL, "print the parsed endpoint and the socket calls; create nothing" },
	{ CLI_O_HEXDUMP, "hexdump", 0, NULL, "log the traffic both ways on stderr as a hex dump" },
	CLI_TLS_ROW_INSECURE,
	{ CLI_O_INTERACTIVE, "interactive", 0, NULL, "line-editing terminal even when stdin/stdout are not TTYs" },
	CLI_TLS_ROW_KEY,
	CLI_TLS_ROW_KEY_PASS,
	{ CLI_O_PCAP, "pcap", 0, "FILE", "write the traffic to FILE as a pcapng capture" },
	CLI_TLS_ROW_PIN,
	{ CLI_O_PROXY, "proxy", 0, "URL", "through a proxy: socks5://, socks5h://, socks4a://, http://" },
	{ 'x', "proxy-addr", 'x', "ADDR", "nc's -x HOST[:PORT]: the proxy (port 1080, or 3128 for connect)" },
	{ 'X', "proxy-proto", 'X', "PROTO", "nc's -X: 4, 5 (the default) or connect, for -x" },
	{ CLI_O_SH, "sh", 0, "COMMAND", "run COMMAND with /bin/sh -c on the connection" },
	CLI_TLS_ROW_SNI,
	{ 's', "source", 's', "ADDR", "send from local address ADDR" },
	{ 'p', "source-port", 'p', "PORT", "send from local port PORT" },
	{ CLI_O_TLS, "tls", 0, NULL, "TLS over TCP (HOST PORT form)" },
	CLI_TLS_ROW_TLS_MAX,
	CLI_TLS_ROW_TLS_MIN,
	{ 'u', "udp", 'u', NULL, "UDP instead of TCP (HOST PORT form)" },
	{ 'U', "unix", 'U', "PATH", "connect to the UNIX stream socket PATH" },
	{ 0 },
};

struct connect_args {
	struct cli_endpoint_args ep;
	struct cli_proxy_args proxy;
	struct cli_exec exec;
	struct cli_tls_args tls;
	const char *source;
	const char *source_port;
};

static int connect_opt(struct cli_ctx *ctx, int id, const char *arg, void *state)
{
	struct connect_args *a = state;

	switch (id) {
	case 's':
		a->source = arg;
		return 0;
	case 'p':
		a->source_port = arg;
		return 0;
	case CLI_O_CRLF:
	case CLI_O_HEXDUMP:
	case CLI_O_INTERACTIVE:
		return cli_stdio_opt(ctx, id);
	case 'e':
	case CLI_O_SH:
		return cli_exec_opt(ctx, &a->exec, id, arg);
	case CLI_O_PCAP:
		return cli_pcap_opt(ctx, arg);
	case CLI_O_PROXY:
	case 'X':
	case 'x':
		return cli_proxy_opt(ctx, &a->proxy, id, arg);
	default:
		if (cli_tls_opt(&a->tls, id, arg) == 0)
			return 0;
		return cli_endpoint_opt(ctx, &a->ep, id, arg);
	}
}

/* -s/-p become the endpoint's bind= option, so --explain shows them too. */
static int source_option(const struct cli_ctx *ctx, const struct connect_args *a,
	struct cli_text *extra)
{
	if (!a->source && !a->source_port)
		return 0;
	if (a->source_port) {
		unsigned long port;

		if (!cli_parse_uint(a->source_port, 0, 65535, &port))
			return cli_usage(ctx, "invalid source port '%s'", a->source_port);
	}
	cli_text_add(extra, ",bind=");
	if (a->source && strchr(a->source, ':') && a->source[0] != '[')
		cli_text_addf(extra, "[%s]", a->source);
	else if (a->source)
		cli_text_add(extra, a->source);
	if (a->source_port)
		cli_text_addf(extra, ":%s", a->source_port);
	return 0;
}

/*
 * A TLS or WebSocket endpoint: the TLS handshake, then the WebSocket one on
 * its plaintext (wss:), then the payload joins stdio like a socket. Adopts fd.
 */
static int pump_layers(struct cli_ctx *ctx, struct sk_loop *loop, const struct sk_tls_config *cfg,
	const struct sk_endpoint *ep, int fd, const char *name)
{
	struct cli_tls_stream st = { .plain = -1 };
	struct cli_ws_stream ws = { .plain = -1 };
	int status;

	if (cfg) {
		status = cli_tls_stream_open(ctx, loop, cfg, fd, name, &st); /* adopts fd */
		if (status)
			return cli_tls_stream_close(ctx, &st, status);
		fd = st.plain;
	}
	if (cli_ws_wanted(ep)) {
		status = cli_ws_stream_open(ctx, loop, ep, fd, false, name, &ws); /* adopts fd */
		if (status == 0)
			status = cli_pump_stdio(ctx, loop, ws.plain, name, SOCK_STREAM, true);
		status = cli_ws_stream_close(ctx, &ws, status);
	} else {
		status = cli_pump_stdio(ctx, loop, fd, name, SOCK_STREAM, true);
		close(fd);
	}
	return cfg ? cli_tls_stream_close(ctx, &st, status) : status;
}

static int connect_run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct connect_args a = { 0 };
	struct cli_text extra = { 0 };
	struct sk_endpoint *ep = NULL;
	struct sk_tls_config *tls = NULL;
	struct sk_connect_opts copts;
	struct sk_loop *loop = NULL;
	struct sk_err err;
	char name[512];
	int first, status, fd;

	if (cli_parse(ctx, &cmd_connect, argc, argv, connect_opt, &a, &first, &status) < 0)
		return status;
	status = source_option(ctx, &a, &extra);
	if (status == 0)
		status = cli_proxy_option(ctx, &a.proxy, &extra);
	if (status == 0)
		status = cli_endpoint_build_tls(ctx, &a.ep, &a.tls, false, argc - first,
			argv + first, extra.text, &ep);
	free(extra.text);
	/* The program talks to the peer: stdio options have nothing to act on. */
	if (status == 0 && a.exec.text)
		status = cli_stdio_opts_unsupported(ctx, a.exec.shell ? "--sh" : "--exec");
	if (status == 0 && a.exec.text && (sk_endpoint_transport(ep) == SK_TLS || cli_ws_wanted(ep)))
		status = cli_usage(ctx, "%s is not supported with TLS or WebSocket endpoints yet",
			a.exec.shell ? "--sh" : "--exec");
	if (status) {
		sk_endpoint_free(ep);
		return status;
	}
	if (a.ep.explain) {
		status = cli_endpoint_explain(ctx, ep);
		goto out;
	}
	/* Bad certificates, keys and pass phrases stop us before any connection. */
	status = cli_tls_config(ctx, ep, &tls);
	if (status == 0)
		status = cli_pcap_open(ctx);
	if (status)
		goto out;
	sk_endpoint_format(ep, false, name, sizeof(name));
	copts = (struct sk_connect_opts){ .timeout_ms = ctx->timeout_ms, .family = ctx->family };
	fd = sk_connect(ep, &copts, &err);
	if (fd < 0) {
		status = cli_fail(ctx, CLI_CONNECT, fd, &err);
		goto out;
	}
	cli_event(ctx, "connected", (struct cli_field[]){ { "endpoint", name, 0 } }, 1,
		"connected to %s", name);
	if (a.exec.text) {
		status = cli_child_run(ctx, &a.exec, fd, name); /* adopts fd */
		goto out;
	}
	status = cli_loop_open(ctx, &loop);
	if (status) {
		close(fd);
		goto out;
	}
	if (tls || cli_ws_wanted(ep)) {
		cli_tls_peer_name(ep, name, sizeof(name));
		status = pump_layers(ctx, loop, tls, ep, fd, name);
		goto out;
	}
	status = cli_pump_stdio(ctx, loop, fd, name, sk_endpoint_socktype(ep), true);
	close(fd);
out:
	cli_pcap_close(ctx);
	sk_loop_destroy(loop);
	sk_tls_config_free(tls);
	sk_endpoint_free(ep);
	return status;
}

const struct cli_cmd cmd_connect = {
	.name = "connect",
	.summary = "open a connection or datagram flow to an endpoint and join it to stdin/stdout",
	.usage = "[OPTIONS] ENDPOINT\n[OPTIONS] HOST PORT\n[OPTIONS] -U PATH",
	.opts = connect_opts,
	.run = connect_run,
};
