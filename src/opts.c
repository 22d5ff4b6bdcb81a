/* SPDX-License-Identifier: BSD-2-Clause */
/* opts.c - shared option rows; rows -> getopt_long and --help. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { O_JSON = 1000 };

/* Options every command takes (SPEC §3); id, long name, short, argument, help. */
static const struct cli_opt common_opts[] = {
	{ '4', NULL, '4', NULL, "use IPv4 only" },
	{ '6', NULL, '6', NULL, "use IPv6 only" },
	{ 'h', "help", 'h', NULL, "show this help and exit" },
	{ 'i', "idle-timeout", 'i', "SECS", "give up after SECS without data either way (exit 7)" },
	{ O_JSON, "json", 0, NULL, "log events as JSON Lines on stderr" },
	{ 'q', "quiet", 'q', NULL, "print nothing but errors" },
	{ 'v', "verbose", 'v', NULL, "print events on stderr; repeat for more" },
	{ 'w', "timeout", 'w', "SECS", "bound connecting, or a listener's wait for a peer" },
	{ 0 },
};

#define MAX_OPTS 64

static size_t count_rows(const struct cli_opt *rows)
{
	size_t n = 0;

	while (rows && (rows[n].name || rows[n].short_name))
		n++;
	return n;
}

/* An argument named "[=SECS]" is optional: --wait or --wait=5. */
static int arg_kind(const struct cli_opt *o)
{
	if (!o->arg)
		return no_argument;
	return o->arg[0] == '[' ? optional_argument : required_argument;
}

/* One getopt_long table and short-option string from common + command rows. */
static void build_getopt(const struct cli_opt *cmd_rows, struct option *longs, char *shorts)
{
	const struct cli_opt *sets[2] = { common_opts, cmd_rows };
	size_t nl = 0, ns = 0;

	/* ':' first: a missing argument is reported as ':', not '?'. */
	shorts[ns++] = ':';
	for (int s = 0; s < 2; s++) {
		for (size_t i = 0; i < count_rows(sets[s]) && nl < MAX_OPTS; i++) {
			const struct cli_opt *o = &sets[s][i];

			if (o->name)
				longs[nl++] = (struct option){ o->name, arg_kind(o), NULL, o->id };
			if (o->short_name) {
				shorts[ns++] = (char)o->short_name;
				if (o->arg)
					shorts[ns++] = ':';
			}
		}
	}
	longs[nl] = (struct option){ 0 };
	shorts[ns] = '\0';
}

int cli_parse_seconds(const char *s)
{
	char *end;
	double v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > 86400.0 * 365)
		return -1;
	return (int)ceil(v * 1000.0);
}

bool cli_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = (unsigned long)v;
	return true;
}

static int common_opt(struct cli_ctx *ctx, int id, const char *arg)
{
	int ms;

	switch (id) {
	case '4':
		ctx->family = AF_INET;
		return 0;
	case '6':
		ctx->family = AF_INET6;
		return 0;
	case 'v':
		ctx->verbose++;
		return 0;
	case 'q':
		ctx->quiet = true;
		return 0;
	case O_JSON:
		ctx->json = true;
		return 0;
	case 'w':
	case 'i':
		ms = cli_parse_seconds(arg);
		if (ms < 0)
			return cli_usage(ctx, "invalid %s '%s': expected seconds",
				id == 'w' ? "--timeout" : "--idle-timeout", arg);
		if (id == 'w')
			ctx->timeout_ms = ms;
		else
			ctx->idle_timeout_ms = ms;
		return 0;
	default:
		return -1; /* not a common option */
	}
}

static const char *bad_option(int argc, char **argv, int index, int optopt_char, char *buf,
	size_t len)
{
	const char *arg = index > 0 ? argv[index - 1] : "";
	const char *cur = index < argc ? argv[index] : "";

	/* Inside a bundle (-Zv) getopt has not moved past the word yet: it is argv[index]. */
	if (optopt_char > 0 && optopt_char < 128 && cur[0] == '-' && cur[1] != '-' &&
		strchr(cur + 1, optopt_char)) {
		snprintf(buf, len, "-%c", optopt_char);
		return buf;
	}
	if (optopt_char && !(arg[0] == '-' && arg[1] == '-')) {
		snprintf(buf, len, "-%c", optopt_char);
		return buf;
	}
	snprintf(buf, len, "%.*s", (int)strcspn(arg, "="), arg);
	return buf;
}

int cli_parse(struct cli_ctx *ctx, const struct cli_cmd *cmd, int argc, char **argv,
	cli_opt_fn on_opt, void *state, int *first_arg, int *status)
{
	struct option longs[MAX_OPTS + 1];
	char shorts[2 * MAX_OPTS + 3], name[64];
	int c, rc;

	build_getopt(cmd->opts, longs, shorts);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (c == '?') {
			*status = cli_usage(ctx, "unknown option '%s'",
				bad_option(argc, argv, optind, optopt, name, sizeof(name)));
			return -1;
		}
		if (c == ':') {
			*status = cli_usage(ctx, "option '%s' needs an argument",
				bad_option(argc, argv, optind, optopt, name, sizeof(name)));
			return -1;
		}
		if (c == 'h') {
			cli_help(cmd, stdout);
			*status = 0;
			return -1;
		}
		rc = common_opt(ctx, c, optarg);
		if (rc < 0)
			rc = on_opt ? on_opt(ctx, c, optarg, state) : cli_usage(ctx, "bad option");
		if (rc != 0) {
			*status = rc;
			return -1;
		}
	}
	*first_arg = optind;
	return 0;
}

static const struct cli_opt *common_row(const char *name, size_t len, int short_name)
{
	for (size_t i = 0; i < count_rows(common_opts); i++) {
		const struct cli_opt *o = &common_opts[i];

		if (short_name ? o->short_name == short_name
			       : o->name && strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	}
	return NULL;
}

/* The number of arguments the global option at argv[i] spans (with its value), or 0 when
 * argv[i] is no common option. */
static int global_span(int argc, char **argv, int i)
{
	const char *a = argv[i];
	const struct cli_opt *o;

	if (a[1] == '-') {
		size_t len = strcspn(a + 2, "=");

		o = common_row(a + 2, len, 0);
		if (!o || (a[2 + len] == '=' && !o->arg))
			return 0;
		return o->arg && !a[2 + len] && i + 1 < argc ? 2 : 1;
	}
	for (const char *p = a + 1; *p; p++) {
		o = common_row(NULL, 0, (unsigned char)*p);
		if (!o)
			return 0;
		if (o->arg) /* the rest of the word is its value, else the next word */
			return p[1] || i + 1 >= argc ? 1 : 2;
	}
	return 1;
}

int cli_hoist_globals(int argc, char **argv, const char **bad)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-' && argv[i][1] && strcmp(argv[i], "--") != 0) {
		int span = global_span(argc, argv, i);

		if (!span) {
			*bad = argv[i];
			return -1;
		}
		i += span;
	}
	if (i == 1 || i >= argc)
		return i;
	/* COMMAND GLOBALS... ARGS: the command's own parser takes the common options. */
	char *cmd = argv[i];

	memmove(argv + 2, argv + 1, (size_t)(i - 1) * sizeof(*argv));
	argv[1] = cmd;
	return 1;
}

/* The common rows of cmd, with its own words for --json where it has them. */
static const char *row_help(const struct cli_cmd *cmd, const struct cli_opt *o)
{
	return o->id == O_JSON && cmd && cmd->json_help ? cmd->json_help : o->help;
}

static void help_rows(const struct cli_cmd *cmd, const struct cli_opt *rows, FILE *out)
{
	for (size_t i = 0; i < count_rows(rows); i++) {
		const struct cli_opt *o = &rows[i];
		char left[64];
		int n;

		if (o->short_name && o->name)
			n = snprintf(left, sizeof(left), "-%c, --%s", o->short_name, o->name);
		else if (o->name)
			n = snprintf(left, sizeof(left), "    --%s", o->name);
		else
			n = snprintf(left, sizeof(left), "-%c", o->short_name);
		if (o->arg && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, "%s%s",
				o->arg[0] == '[' ? "" : " ", o->arg);
		fprintf(out, "  %-26s %s\n", left, row_help(cmd, o));
	}
}

void cli_help(const struct cli_cmd *cmd, FILE *out)
{
	const char *u = cmd->usage;
	bool first = true;

	while (*u) {
		size_t len = strcspn(u, "\n");

		fprintf(out, "%s sockit %s %.*s\n", first ? "Usage:" : "      ", cmd->name, (int)len,
			u);
		first = false;
		u += len + (u[len] == '\n');
	}
	/* The summary doubles as the command table's lowercase line. */
	fprintf(out, "\n%c%s.\n", toupper((unsigned char)cmd->summary[0]), cmd->summary + 1);
	if (count_rows(cmd->opts)) {
		fprintf(out, "\nOptions:\n");
		help_rows(NULL, cmd->opts, out);
	}
	fprintf(out, "\nCommon options:\n");
	help_rows(cmd, common_opts, out);
	fprintf(out, "\nSee sockit-%s(1) and sockit-endpoint(7).\n", cmd->name);
}
