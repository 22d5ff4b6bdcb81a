/* SPDX-License-Identifier: BSD-2-Clause */
/* out.c - event lines on stderr: human text with -v, JSON Lines with --json. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void cli_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

__attribute__((format(printf, 6, 0))) static void emit(const struct cli_ctx *ctx, int level,
	const char *event, const struct cli_field *fields, size_t nfields, const char *human_fmt,
	va_list ap)
{
	if (ctx->quiet)
		return;
	if (ctx->json) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		fprintf(stderr, "{\"time\":%lld.%03ld,\"command\":", (long long)ts.tv_sec,
			ts.tv_nsec / 1000000);
		cli_json_string(stderr, ctx->cmd);
		fprintf(stderr, ",\"event\":");
		cli_json_string(stderr, event);
		for (size_t i = 0; i < nfields; i++) {
			fprintf(stderr, ",");
			cli_json_string(stderr, fields[i].key);
			fputc(':', stderr);
			if (fields[i].str)
				cli_json_string(stderr, fields[i].str);
			else
				fprintf(stderr, "%lld", fields[i].num);
		}
		fprintf(stderr, "}\n");
		return;
	}
	if (ctx->verbose < level)
		return;
	vfprintf(stderr, human_fmt, ap);
	fputc('\n', stderr);
}

void cli_event(const struct cli_ctx *ctx, const char *event, const struct cli_field *fields,
	size_t nfields, const char *human_fmt, ...)
{
	va_list ap;

	va_start(ap, human_fmt);
	emit(ctx, 1, event, fields, nfields, human_fmt, ap);
	va_end(ap);
}

void cli_report(const struct cli_ctx *ctx, const char *event, const struct cli_field *fields,
	size_t nfields, const char *human_fmt, ...)
{
	va_list ap;

	va_start(ap, human_fmt);
	emit(ctx, 0, event, fields, nfields, human_fmt, ap);
	va_end(ap);
}
