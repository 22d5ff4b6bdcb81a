/* SPDX-License-Identifier: BSD-2-Clause */
/* report.c - library failures into one stderr line and the exit status of SPEC §4. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

/* Local failures: the same in whatever phase they arise. */
static bool is_local(int code)
{
	switch (code) {
	case -EACCES:
	case -EPERM:
	case -EADDRINUSE:
	case -EADDRNOTAVAIL:
	case -EMFILE:
	case -ENFILE:
	case -ENOMEM:
	case -ENOBUFS:
	case -ENOSPC:
	case -EROFS:
	case -ENAMETOOLONG:
	case -ENODEV: /* iface= names no interface here */
		return true;
	default:
		return false;
	}
}

static int exit_status(enum cli_phase phase, int code)
{
	switch (code) {
	case SK_EUSAGE:
	case SK_EUNSUPPORTED:
		return CLI_EXIT_USAGE;
	case SK_ERESOLVE:
		return CLI_EXIT_RESOLVE;
	case SK_ETLS:
		return CLI_EXIT_TLS;
	case SK_EIDLE:
	case SK_EWAIT:
		return CLI_EXIT_IDLE;
	case -ECONNREFUSED: /* also a UDP flow's ICMP port unreachable, mid-transfer */
		return CLI_EXIT_CONNECT;
	default:
		break;
	}
	if (phase == CLI_TRANSFER)
		return CLI_EXIT_ABNORMAL;
	if (is_local(code))
		return CLI_EXIT_LOCAL;
	return phase == CLI_CONNECT ? CLI_EXIT_CONNECT : CLI_EXIT_LOCAL;
}

int cli_fail(const struct cli_ctx *ctx, enum cli_phase phase, int code, const struct sk_err *err)
{
	char why[256];

	if (err && err->what[0]) {
		if (err->pos >= 0)
			fprintf(stderr, "sockit: %s: %s: %s (column %d)\n", ctx->cmd, err->what,
				err->why, err->pos + 1);
		else
			fprintf(stderr, "sockit: %s: %s: %s\n", ctx->cmd, err->what,
				err->why[0] ? err->why : sk_strerror(code, why, sizeof(why)));
	} else {
		fprintf(stderr, "sockit: %s: %s\n", ctx->cmd, sk_strerror(code, why, sizeof(why)));
	}
	return exit_status(phase, code);
}

int cli_usage(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sockit: %s: ", ctx->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_USAGE;
}

void cli_log(const struct cli_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	if (ctx->quiet || ctx->verbose < level)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
