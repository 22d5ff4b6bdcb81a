/* SPDX-License-Identifier: BSD-2-Clause */
/* endpoint_args.c - the nc-style shorthands (HOST PORT, -u, -U, --abstract) as endpoint text. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_text_add(struct cli_text *t, const char *s)
{
	cli_text_addf(t, "%s", s);
}

void cli_text_addf(struct cli_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || t->len + (size_t)n + 1 > t->cap) {
		size_t cap = (t->len + (size_t)(n < 0 ? 0 : n) + 1) * 2;
		char *p = n < 0 ? NULL : realloc(t->text, cap);

		if (!p) {
			t->failed = true;
			return;
		}
		t->text = p;
		t->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(t->text + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

void cli_text_add_escaped(struct cli_text *t, const char *value)
{
	size_t n = sk_endpoint_escape(value, NULL, 0);
	char *buf = malloc(n + 1);

	if (!buf) {
		t->failed = true;
		return;
	}
	sk_endpoint_escape(value, buf, n + 1);
	cli_text_add(t, buf);
	free(buf);
}

/* An IPv6 literal needs brackets in endpoint text; nc users type it bare. */
static void add_host(struct cli_text *t, const char *host)
{
	if (strchr(host, ':') && host[0] != '[')
		cli_text_addf(t, "[%s]", host);
	else
		cli_text_add(t, host);
}

int cli_endpoint_opt(struct cli_ctx *ctx, struct cli_endpoint_args *a, int id, const char *arg)
{
	switch (id) {
	case 'u':
		a->udp = true;
		return 0;
	case 'U':
		a->unix_path = arg;
		return 0;
	case CLI_O_ABSTRACT:
		a->abstract_name = arg;
		return 0;
	case CLI_O_TLS:
		a->tls = true;
		return 0;
	case CLI_O_EXPLAIN:
		a->explain = true;
		return 0;
	default:
		return -1;
	}
}

int cli_proxy_opt(struct cli_ctx *ctx, struct cli_proxy_args *p, int id, const char *arg)
{
	switch (id) {
	case CLI_O_PROXY:
		p->url = arg;
		return 0;
	case 'X':
		if (strcmp(arg, "4") && strcmp(arg, "5") && strcmp(arg, "connect"))
			return cli_usage(ctx, "invalid -X '%s': expected 4, 5 or connect", arg);
		p->nc_proto = arg;
		return 0;
	case 'x':
		p->nc_addr = arg;
		return 0;
	default:
		return -1;
	}
}

int cli_proxy_option(const struct cli_ctx *ctx, const struct cli_proxy_args *p,
	struct cli_text *extra)
{
	struct cli_text url = { 0 };

	if (p->nc_proto && !p->nc_addr)
		return cli_usage(ctx, "-X %s needs the proxy's address: -x HOST[:PORT]", p->nc_proto);
	if (p->url && p->nc_addr)
		return cli_usage(ctx, "--proxy and -x exclude each other");
	if (!p->url && !p->nc_addr)
		return 0;
	if (p->url) {
		cli_text_add(&url, p->url);
	} else {
		/* nc: -X 4 is SOCKS4 (4a here, which also takes names), 5 SOCKS5 with the
		 * name resolved by the proxy, connect HTTP; -x alone means SOCKS5. */
		const char *proto = p->nc_proto ? p->nc_proto : "5";

		cli_text_add(&url, strcmp(proto, "4") == 0 ? "socks4a://"
				   : strcmp(proto, "5") == 0 ? "socks5h://" : "http://");
		cli_text_add(&url, p->nc_addr);
	}
	if (!url.failed) {
		cli_text_add(extra, ",proxy=");
		cli_text_add_escaped(extra, url.text);
	}
	free(url.text);
	return url.failed ? cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL) : 0;
}

static bool looks_like_endpoint(const char *arg)
{
	return strchr(arg, ':') || strcmp(arg, "-") == 0 || strcmp(arg, "stdio") == 0;
}

/* Endpoint text rather than a host, even an IPv6 one ("tcp-listen:0", not "::1"). */
static bool is_endpoint(const char *arg)
{
	struct sk_endpoint *ep = NULL;
	struct sk_err err;
	bool yes = sk_endpoint_parse(arg, &ep, &err) == 0;

	sk_endpoint_free(ep);
	return yes;
}

/* The shorthand forms: -U PATH, --abstract NAME, HOST PORT, [HOST] PORT. */
static int compose(const struct cli_ctx *ctx, const struct cli_endpoint_args *a, bool listener,
	int npos, char **pos, struct cli_text *t)
{
	const char *suffix = listener ? "-listen" : "";
	const char *local = a->unix_path ? a->unix_path : a->abstract_name;
	const char *host = NULL, *port = a->port;

	if (a->unix_path && a->abstract_name)
		return cli_usage(ctx, "--unix and --abstract exclude each other");
	/* Each would otherwise be dropped without a word: asked-for TLS must not go plain. */
	if (local && (a->tls || port))
		return cli_usage(ctx, "%s, not to %s",
			a->tls ? "--tls applies to TCP" : "-p/--port applies to TCP and UDP",
			a->unix_path ? "--unix" : "--abstract");
	if (a->udp && a->tls)
		return cli_usage(ctx, "-u/--udp and --tls exclude each other (TLS runs over TCP)");
	if (local) {
		if (npos > 0)
			return cli_usage(ctx, "unexpected argument '%s' after %s", pos[0],
				a->unix_path ? "--unix" : "--abstract");
		cli_text_addf(t, "%s%s%s:", a->unix_path ? "unix" : "abstract",
			a->udp ? "-dgram" : "", suffix);
		cli_text_add_escaped(t, local);
		return 0;
	}
	if (npos == 1 && !port && looks_like_endpoint(pos[0])) {
		if (a->udp || a->tls)
			return cli_usage(ctx, "%s applies to the HOST PORT form, not to endpoint '%s'",
				a->udp ? "-u/--udp" : "--tls", pos[0]);
		cli_text_add(t, pos[0]);
		return 0;
	}
	if (port && npos == 1 && is_endpoint(pos[0]))
		return cli_usage(ctx, "-p/--port applies to the HOST PORT form, not to endpoint '%s'",
			pos[0]);
	if (listener && port && npos <= 1) {
		host = npos ? pos[0] : NULL;
	} else if (listener && npos == 1) {
		port = pos[0];
	} else if (npos == 2 && !port) {
		host = pos[0];
		port = pos[1];
	} else if (npos == 0) {
		return cli_usage(ctx, listener ? "missing PORT or ENDPOINT"
					       : "missing ENDPOINT or HOST PORT");
	} else if (npos == 1) {
		return cli_usage(ctx, "missing PORT after '%s': give HOST PORT or an endpoint "
				      "like tcp:HOST:PORT", pos[0]);
	} else {
		return cli_usage(ctx, "unexpected argument '%s'", pos[npos - 1]);
	}
	cli_text_addf(t, "%s%s:", a->tls ? "tls" : a->udp ? "udp" : "tcp", suffix);
	if (host) {
		add_host(t, host);
		cli_text_add(t, ":");
	}
	cli_text_add(t, port);
	return 0;
}

static bool serves(enum sk_transport t)
{
	return t == SK_TCP || t == SK_UDP || t == SK_UNIX || t == SK_ABSTRACT || t == SK_VSOCK ||
		t == SK_TLS || t == SK_WS || t == SK_WSS;
}

static int check_served(const struct cli_ctx *ctx, const struct sk_endpoint *ep, bool listener,
	const char *text)
{
	if (sk_endpoint_is_listener(ep) != listener)
		return cli_usage(ctx, "endpoint '%s' is %s; use 'sockit %s'", text,
			listener ? "not a listener" : "a listener", listener ? "connect" : "listen");
	if (!serves(sk_endpoint_transport(ep)))
		return cli_usage(ctx, "endpoint '%s': type '%s' is not supported by %s yet", text,
			sk_endpoint_type_name(ep), ctx->cmd);
	/* tcp6-listen: with -4 cannot be both; neither may win without a word. */
	if (ctx->family != AF_UNSPEC && sk_endpoint_family(ep) != AF_UNSPEC &&
		ctx->family != sk_endpoint_family(ep))
		return cli_usage(ctx, "%s conflicts with endpoint '%s' (%s)",
			ctx->family == AF_INET ? "-4" : "-6", text, sk_endpoint_type_name(ep));
	return 0;
}

int cli_endpoint_build(const struct cli_ctx *ctx, const struct cli_endpoint_args *a,
	bool listener, int npos, char **pos, const char *extra, struct sk_endpoint **out)
{
	struct cli_text t = { 0 };
	struct sk_err err;
	int status, rc;

	*out = NULL;
	status = compose(ctx, a, listener, npos, pos, &t);
	if (status == 0 && extra)
		cli_text_add(&t, extra);
	if (status == 0 && t.failed)
		status = cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	if (status) {
		free(t.text);
		return status;
	}
	rc = sk_endpoint_parse(t.text, out, &err);
	if (rc < 0)
		status = cli_fail(ctx, CLI_SETUP, rc, &err);
	else
		status = check_served(ctx, *out, listener, t.text);
	if (status) {
		sk_endpoint_free(*out);
		*out = NULL;
	}
	free(t.text);
	return status;
}

static const char *socktype_name(int socktype)
{
	return socktype == SOCK_DGRAM ? "SOCK_DGRAM"
		: socktype == SOCK_SEQPACKET ? "SOCK_SEQPACKET" : "SOCK_STREAM";
}

/* family: -4/-6 (AF_UNSPEC: neither); v6only: the effective v6only= of ep. */
static void explain_calls(const struct sk_endpoint *ep, int family, bool v6only, FILE *out)
{
	enum sk_transport t = sk_endpoint_transport(ep);
	const char *st = socktype_name(sk_endpoint_socktype(ep));
	bool inet = t == SK_TCP || t == SK_UDP || t == SK_TLS;
	bool local = t == SK_UNIX || t == SK_ABSTRACT;
	bool stream = sk_endpoint_socktype(ep) != SOCK_DGRAM;

	fprintf(out, "calls:\n");
	if (t == SK_EXEC || t == SK_SH) {
		fprintf(out, "  socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)\n");
		fprintf(out, "  posix_spawn(%s) with one end as its stdin and stdout, no other fds\n",
			t == SK_SH ? "/bin/sh -c COMMAND" : "PROGRAM, searched in PATH, no shell");
		return;
	}
	if (t == SK_STDIO) {
		fprintf(out, "  standard input and output, reopened non-blocking (no socket)\n");
		return;
	}
	if (inet && !sk_endpoint_is_listener(ep)) {
		fprintf(out, "  getaddrinfo(\"%s\", \"%u\", %s)\n", sk_endpoint_host(ep),
			sk_endpoint_port(ep), st);
		fprintf(out, "  socket(AF_INET6 or AF_INET, %s | SOCK_NONBLOCK | SOCK_CLOEXEC)"
			     " per address\n", st);
		fprintf(out, "  setsockopt(...) for the options above\n");
		fprintf(out, "  connect() per address, IPv6 first, the next 250 ms later;"
			     " first success wins\n");
		if (t == SK_TLS)
			fprintf(out, "  TLS handshake (OpenSSL): the server's certificate verified as the"
				     " options above say, before any data\n");
		return;
	}
	if (inet) {
		if (sk_endpoint_family(ep) != AF_UNSPEC)
			family = sk_endpoint_family(ep);
		if (*sk_endpoint_host(ep))
			fprintf(out, "  getaddrinfo(\"%s\", \"%u\", %s%s, AI_PASSIVE)\n",
				sk_endpoint_host(ep), sk_endpoint_port(ep), st,
				family == AF_INET ? ", AF_INET" : family == AF_INET6 ? ", AF_INET6" : "");
		else if (family == AF_INET)
			fprintf(out, "  socket(AF_INET, %s | SOCK_NONBLOCK | SOCK_CLOEXEC) for 0.0.0.0\n",
				st);
		else
			fprintf(out, "  socket(AF_INET6, %s | SOCK_NONBLOCK | SOCK_CLOEXEC) for [::];"
				     " setsockopt(IPV6_V6ONLY, %d)%s\n", st,
				family == AF_INET6 || v6only,
				family == AF_INET6 ? "" : " (AF_INET if no IPv6)");
	} else if (local) {
		fprintf(out, "  socket(AF_UNIX, %s | SOCK_NONBLOCK | SOCK_CLOEXEC)\n", st);
	} else {
		fprintf(out, "  socket(AF_VSOCK, %s | SOCK_CLOEXEC)\n", st);
	}
	fprintf(out, "  setsockopt(...) for the options above\n");
	if (sk_endpoint_is_listener(ep)) {
		fprintf(out, "  bind(%s)\n", t == SK_UNIX ? sk_endpoint_path(ep) : "address");
		if (stream)
			fprintf(out, "  listen(backlog)\n  accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)\n");
		if (t == SK_TLS)
			fprintf(out, "  TLS handshake (OpenSSL) with each accepted peer, in the event"
				     " loop\n");
	} else {
		fprintf(out, "  connect(%s)\n", sk_endpoint_path(ep) ? sk_endpoint_path(ep) : "");
	}
}

/* text (lines separated by '\n') has line: how the option list tells an effective value. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

int cli_endpoint_explain(const struct cli_ctx *ctx, const struct sk_endpoint *ep)
{
	size_t n = sk_endpoint_format(ep, true, NULL, 0);
	size_t m = sk_endpoint_explain_options(ep, NULL, 0);
	char *text = malloc(n + 1), *opts = malloc(m + 1);
	const char *line;

	if (!text || !opts) {
		free(text);
		free(opts);
		return cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	}
	sk_endpoint_format(ep, true, text, n + 1);
	sk_endpoint_explain_options(ep, opts, m + 1);
	printf("endpoint: %s\n", text);
	printf("type: %s (%s, %s)\n", sk_endpoint_type_name(ep),
		socktype_name(sk_endpoint_socktype(ep)),
		sk_endpoint_is_listener(ep) ? "listener" : "client");
	if (ctx->family != AF_UNSPEC)
		printf("family: %s only (%s)\n", ctx->family == AF_INET ? "IPv4" : "IPv6",
			ctx->family == AF_INET ? "-4" : "-6");
	printf("options:\n");
	for (line = opts; *line;) {
		size_t len = strcspn(line, "\n");

		printf("  %.*s\n", (int)len, line);
		line += len + (line[len] == '\n');
	}
	explain_calls(ep, ctx->family, has_line(opts, "v6only=yes"), stdout);
	free(text);
	free(opts);
	return fflush(stdout) == 0 ? 0 : CLI_EXIT_LOCAL;
}
