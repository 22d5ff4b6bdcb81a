/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd/probe.c - check endpoints: open/closed/filtered with latency, banners,
 * HTTP status; wait until they open (or close), then run a command. The
 * targets are built in probe_targets.c, probed in probe_loop.c and printed
 * in probe_out.c.
 */
#include "probe.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	O_ALL = 256,
	O_BANNER,
	O_EXPECT,
	O_HTTP,
	O_INTERVAL,
	O_MAX_TARGETS,
	O_PAYLOAD,
	O_TLS,
	O_WAIT,
	O_WAIT_CLOSED,
	O_WARN_DAYS,
};

/* clang-format off */
static const struct cli_opt probe_opts[] = {
	/* id, long name, short, argument, help; keep alphabetical by long name */
	{ O_ALL, "all", 0, NULL, "show every target of a range, not only the open ones" },
	CLI_TLS_ROW_ALPN,
	{ O_BANNER, "banner", 0, NULL, "read what the server sends first (within -w)" },
	CLI_TLS_ROW_CA,
	{ 'c', "concurrency", 'c', "N", "at most N probes at once (default: the fd limit)" },
	{ 'n', "count", 'n', "N", "probe each target N times: latency statistics and loss" },
	{ O_EXPECT, "expect", 0, "CODE", "with --http, the status that passes (200, 2xx)" },
	{ O_HTTP, "http", 0, "[=PATH]", "send GET PATH (default /) and report the status line" },
	CLI_TLS_ROW_INSECURE,
	{ O_INTERVAL, "interval", 0, "SECS", "between rounds of --count (1) and --wait (0.5)" },
	{ O_MAX_TARGETS, "max-targets", 0, "N", "refuse more than N targets (default 65536)" },
	{ O_PAYLOAD, "payload", 0, "HEX", "with -u, send these bytes, not an empty datagram" },
	CLI_TLS_ROW_PIN,
	{ CLI_O_PROXY, "proxy", 0, "URL", "ask a proxy for each TCP target: socks5h://, socks5://, socks4a://, http://" },
	CLI_TLS_ROW_SNI,
	{ O_TLS, "tls", 0, NULL, "TLS handshake on open ports: certificate, expiry, verification" },
	{ 'u', "udp", 'u', NULL, "UDP instead of TCP (HOST PORTS form)" },
	{ O_WAIT, "wait", 0, "[=SECS]", "retry until every target is open (default 30 s)" },
	{ O_WAIT_CLOSED, "wait-closed", 0, "[=SECS]", "retry until every target is closed" },
	{ O_WARN_DAYS, "warn-days", 0, "N", "with --tls, a certificate expiring in under N days fails" },
	{ 0 },
};
/* clang-format on */

#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_WAIT_MS 30000
#define DEFAULT_MAX_TARGETS 65536

/* ---- options -------------------------------------------------------------------- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_hex(const struct cli_ctx *ctx, const char *hex, struct probe_args *a)
{
	size_t n = strlen(hex);

	if (n % 2)
		return cli_usage(ctx, "invalid --payload '%s': odd number of hex digits", hex);
	free(a->payload);
	a->payload = malloc(n / 2 + 1);
	if (!a->payload)
		return cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return cli_usage(
				ctx, "invalid --payload '%s': not hex at '%.2s'", hex, hex + i);
		a->payload[i / 2] = (char)(hi << 4 | lo);
	}
	a->payload_len = n / 2;
	return 0;
}

/* "200" or "2xx". */
static int parse_expect(const struct cli_ctx *ctx, const char *s, struct probe_args *a)
{
	unsigned long v;

	if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
		(s[2] == 'x' || s[2] == 'X')) {
		a->expect_lo = (s[0] - '0') * 100;
		a->expect_hi = a->expect_lo + 99;
		return 0;
	}
	if (!cli_parse_uint(s, 100, 599, &v))
		return cli_usage(
			ctx, "invalid --expect '%s': expected a status such as 200 or 2xx", s);
	a->expect_lo = a->expect_hi = (int)v;
	return 0;
}

static int parse_count(const struct cli_ctx *ctx, const char *opt, const char *s, unsigned long max,
	unsigned long *out)
{
	if (!cli_parse_uint(s, 1, max, out))
		return cli_usage(ctx, "invalid %s '%s': expected a number 1-%lu", opt, s, max);
	return 0;
}

static int probe_opt(struct cli_ctx *ctx, int id, const char *arg, void *state)
{
	struct probe_args *a = state;
	int ms;

	switch (id) {
	case O_ALL:
		a->all = true;
		return 0;
	case O_TLS:
		a->tls = true;
		return 0;
	case CLI_O_PROXY:
		a->proxy = arg;
		return 0;
	case O_WARN_DAYS:
		return parse_count(ctx, "--warn-days", arg, 36500, &a->warn_days);
	case O_BANNER:
		a->banner = true;
		return 0;
	case 'c':
		return parse_count(ctx, "--concurrency", arg, 1u << 20, &a->concurrency);
	case 'n':
		return parse_count(ctx, "--count", arg, 1000000, &a->count);
	case O_EXPECT:
		return parse_expect(ctx, arg, a);
	case O_HTTP:
		a->http = true;
		a->http_path = arg ? arg : "/";
		if (a->http_path[0] != '/' || strpbrk(a->http_path, " \r\n"))
			return cli_usage(ctx,
				"invalid --http path '%s': it starts with '/' and has no spaces",
				a->http_path);
		return 0;
	case O_INTERVAL:
		ms = cli_parse_seconds(arg);
		if (ms < 0)
			return cli_usage(ctx, "invalid --interval '%s': expected seconds", arg);
		a->interval_ms = ms;
		return 0;
	case O_MAX_TARGETS:
		return parse_count(ctx, "--max-targets", arg, 1ul << 24, &a->max_targets);
	case O_PAYLOAD:
		return parse_hex(ctx, arg, a);
	case 'u':
		a->udp = true;
		return 0;
	case O_WAIT:
	case O_WAIT_CLOSED:
		if (a->wait != WAIT_NONE)
			return cli_usage(ctx, "--wait and --wait-closed exclude each other");
		a->wait = id == O_WAIT ? WAIT_OPEN : WAIT_CLOSED;
		a->wait_ms = DEFAULT_WAIT_MS;
		if (arg && (ms = cli_parse_seconds(arg)) < 0)
			return cli_usage(ctx, "invalid %s '%s': expected seconds",
				id == O_WAIT ? "--wait" : "--wait-closed", arg);
		if (arg)
			a->wait_ms = ms;
		return 0;
	default:
		if (cli_tls_opt(&a->tls_args, id, arg) == 0)
			return 0;
		return cli_usage(ctx, "bad option");
	}
}

static int check_args(const struct cli_ctx *ctx, const struct probe_args *a)
{
	if (a->tls_args.first && !a->tls)
		return cli_usage(ctx, "--%s needs --tls", a->tls_args.first);
	if (a->warn_days && !a->tls)
		return cli_usage(ctx, "--warn-days needs --tls");
	if (a->proxy && (a->udp || a->banner || a->http || a->tls || a->count || a->wait))
		return cli_usage(ctx, "--proxy excludes -u, --banner, --http, --tls, --count and --wait");
	if (a->tls && (a->udp || a->banner || a->http))
		return cli_usage(ctx, "--tls excludes %s", a->udp ? "-u" : a->banner ? "--banner" : "--http");
	if (a->banner && a->http)
		return cli_usage(ctx, "--banner and --http exclude each other");
	if (a->expect_lo && !a->http)
		return cli_usage(ctx, "--expect needs --http");
	if (a->udp && (a->banner || a->http))
		return cli_usage(ctx, "%s needs TCP, not -u", a->banner ? "--banner" : "--http");
	if (a->count && a->wait != WAIT_NONE)
		return cli_usage(ctx, "--count and %s exclude each other",
			a->wait == WAIT_OPEN ? "--wait" : "--wait-closed");
	if (a->cmd && a->wait == WAIT_NONE)
		return cli_usage(ctx, "a command after '--' needs --wait or --wait-closed");
	if (a->cmd && !a->cmd[0])
		return cli_usage(ctx, "no command after '--'");
	return 0;
}

static void report_unresolved(const struct cli_ctx *ctx, const struct probe *p)
{
	for (size_t i = 0; i < p->nhosts; i++)
		if (p->hosts[i].is_name && p->hosts[i].naddrs == 0 && !ctx->quiet)
			fprintf(stderr, "sockit: %s: resolve '%s': %s\n", ctx->cmd,
				p->hosts[i].name, gai_strerror(p->hosts[i].eai));
}

static int exit_status(const struct probe *p)
{
	bool resolved = false, all_pass = true;

	/* --wait resolves again each round: a name that never did is one more target that
	 * never opened. */
	if (p->a->wait)
		return p->timed_out ? CLI_EXIT_ABNORMAL : CLI_OK;
	for (size_t i = 0; i < p->nhosts; i++)
		resolved |= p->hosts[i].naddrs > 0;
	if (!resolved && !p->a->proxy) /* the proxy resolves names itself */
		return CLI_EXIT_RESOLVE;
	for (size_t i = 0; i < p->ntargets; i++)
		all_pass &= p->targets[i].state == PS_OPEN && !p->targets[i].check_failed;
	return all_pass ? CLI_OK : CLI_EXIT_ABNORMAL;
}

/* --wait ... -- CMD: become CMD, with the signal state a shell would give it. */
static int exec_command(const struct cli_ctx *ctx, struct probe *p)
{
	char why[256];
	int e;

	fflush(stdout);
	sk_loop_destroy(p->loop); /* unblocks the signals the loop read */
	p->loop = NULL;
	signal(SIGPIPE, SIG_DFL);
	execvp(p->a->cmd[0], p->a->cmd);
	e = errno;
	fprintf(stderr, "sockit: %s: exec %s: %s\n", ctx->cmd, p->a->cmd[0],
		sk_strerror(-e, why, sizeof(why)));
	return e == ENOENT ? 127 : 126;
}

static void probe_free(struct probe *p)
{
	probe_loop_free(p);
	for (size_t i = 0; i < p->nhosts; i++) {
		free(p->hosts[i].name);
		free(p->hosts[i].addrs);
		free(p->hosts[i].lens);
	}
	for (size_t i = 0; i < p->ntargets; i++) {
		free(p->targets[i].detail);
		free(p->targets[i].tls_json);
	}
	free(p->hosts);
	free(p->targets);
}

/* "--" ends the targets; what follows is the command --wait runs. */
static int find_dashes(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return argc;
}

static int probe_run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct probe_args a = { .max_targets = DEFAULT_MAX_TARGETS, .interval_ms = -1 };
	struct probe p = { .ctx = ctx, .a = &a, .spare = { -1, -1 } };
	struct probe_out_opts out = { 0 };
	int dashes = find_dashes(argc, argv), first, status;
	struct sk_err err;
	bool ranged = false;

	if (dashes < argc)
		a.cmd = argv + dashes + 1;
	if (cli_parse(ctx, &cmd_probe, dashes, argv, probe_opt, &a, &first, &status) < 0)
		goto out;
	status = check_args(ctx, &a);
	if (status == 0 && a.tls)
		status = cli_tls_args_check(ctx, &a.tls_args);
	if (status == 0 && a.cmd && sk_proc_find(a.cmd[0], NULL, 0, &err) < 0)
		status = cli_usage(ctx, "command '%s' not found in PATH", a.cmd[0]);
	if (status == 0)
		status = probe_targets_build(&p, dashes - first, argv + first, &ranged);
	if (status)
		goto out;
	p.timeout_ms = ctx->timeout_ms > 0 ? ctx->timeout_ms : DEFAULT_TIMEOUT_MS;
	if (!a.wait && !a.proxy)
		report_unresolved(ctx, &p);
	if (a.proxy)
		probe_via_proxy(&p, a.proxy);
	else
		status = probe_loop_run(&p);
	if (status)
		goto out;
	if (a.cmd && !p.timed_out) {
		status = exec_command(ctx, &p);
		goto out;
	}
	if (a.wait && p.timed_out && !ctx->quiet)
		fprintf(stderr, "sockit: %s: not every target %s after %.1f s\n", ctx->cmd,
			a.wait == WAIT_OPEN ? "opened" : "closed", a.wait_ms / 1e3);
	out = (struct probe_out_opts){
		.all = a.all, .summarise = ranged && isatty(STDOUT_FILENO), /* a table only */
		.count = a.count > 0, .http = a.http, .tls = a.tls
	};
	if (a.tls)
		probe_tls_check(&p, &a.tls_args, (int)a.warn_days);
	if (!a.cmd)
		probe_print(ctx, &out, p.hosts, p.targets, p.ntargets);
	status = exit_status(&p);
out:
	probe_free(&p);
	free(a.payload);
	return status;
}

const struct cli_cmd cmd_probe = {
	.name = "probe",
	.summary = "check endpoints: open/closed/filtered, latency, banners, HTTP; wait for them",
	.usage = "[OPTIONS] HOST PORTS\n[OPTIONS] ENDPOINT...\n[OPTIONS] --wait[=SECS] TARGETS -- "
		 "CMD [ARGS]",
	.opts = probe_opts,
	.run = probe_run,
	.json_help = "print the results as JSON Lines on stdout",
};
