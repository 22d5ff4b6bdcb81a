/* SPDX-License-Identifier: BSD-2-Clause */
/* cmd/probe_out.c - probe results: an aligned table on a TTY, plain lines in a pipe, JSON Lines. */
#include "probe.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const probe_state_names[PS_COUNT] = {
	[PS_PENDING] = "pending",
	[PS_OPEN] = "open",
	[PS_CLOSED] = "closed",
	[PS_FILTERED] = "filtered",
	[PS_UNREACHABLE] = "unreachable",
	[PS_ERROR] = "error",
	[PS_UNRESOLVED] = "unresolved",
	[PS_OPEN_FILTERED] = "open|filtered",
	[PS_REFUSED] = "refused",
	[PS_MISSING] = "missing",
	[PS_DENIED] = "denied",
};

char *probe_escape(const char *s, size_t n)
{
	char *out = malloc(n * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\r' || ch == '\n' || ch == '\t' || ch == '\\') {
			*o++ = '\\';
			*o++ = ch == '\r' ? 'r' : ch == '\n' ? 'n' : ch == '\t' ? 't' : '\\';
		} else if (ch < 0x20 || ch >= 0x7f) {
			o += sprintf(o, "\\x%02x", ch);
		} else {
			*o++ = (char)ch;
		}
	}
	*o = '\0';
	return out;
}

static void port_text(
	const struct probe_host *h, const struct probe_target *t, char *buf, size_t len)
{
	if (probe_host_is_local(h))
		snprintf(buf, len, "%s", h->proto);
	else
		snprintf(buf, len, "%u/%s", t->port, h->proto);
}

void probe_target_name(
	const struct probe_host *h, const struct probe_target *t, char *buf, size_t len)
{
	char port[32];

	port_text(h, t, port, sizeof(port));
	snprintf(buf, len, "%s %s", h->name, port);
}

/* Newton's square root: a libm call here would cost every start-up of
 * sockit the loading of libm (SPEC §7 start-up target). */
static double square_root(double v)
{
	double x = v > 1 ? v : 1;

	for (int i = 0; i < 64 && v > 0; i++) {
		double next = (x + v / x) / 2;

		if (next >= x)
			break;
		x = next;
	}
	return v > 0 ? x : 0;
}

static double stddev(const struct probe_target *t)
{
	double mean, var;

	if (t->received < 2)
		return 0;
	mean = t->sum / t->received;
	var = t->sumsq / t->received - mean * mean;
	return var > 0 ? square_root(var) : 0;
}

static double loss_percent(const struct probe_target *t)
{
	return t->sent ? 100.0 * (t->sent - t->received) / t->sent : 0;
}

/* The LATENCY column: the connect time, or with --count the average. */
static void latency_text(
	const struct probe_out_opts *o, const struct probe_target *t, char *buf, size_t len)
{
	if (o->count && t->received)
		snprintf(buf, len, "%.2fms", t->sum / t->received);
	else if (!o->count && t->state == PS_OPEN)
		snprintf(buf, len, "%.2fms", t->latency_ms);
	else
		snprintf(buf, len, "-");
}

/* The rest of the line: statistics, banner, HTTP status, or why it failed.
 * A banner or status line is returned as it is (it may be long); other
 * text is made in buf. */
static const char *detail_text(const struct probe_out_opts *o, const struct probe_host *h,
	const struct probe_target *t, char *buf, size_t len)
{
	char why[256];

	buf[0] = '\0';
	if (!o->count && t->detail)
		return t->detail;
	if (o->count) {
		if (t->received)
			snprintf(buf, len,
				"%u sent, %u received, %.0f%% loss, min/avg/max/stddev "
				"%.3f/%.3f/%.3f/%.3f ms",
				t->sent, t->received, loss_percent(t), t->min, t->sum / t->received,
				t->max, stddev(t));
		else
			snprintf(buf, len, "%u sent, 0 received, 100%% loss", t->sent);
	} else if (t->state == PS_ERROR) {
		snprintf(buf, len, "%s", sk_strerror(-t->err, why, sizeof(why)));
	} else if (t->state == PS_UNRESOLVED) {
		snprintf(buf, len, "%s", gai_strerror(h->eai));
	}
	return buf;
}

static int http_code(const char *line)
{
	const char *sp = line ? strchr(line, ' ') : NULL;

	return sp && strncmp(line, "HTTP/", 5) == 0 ? atoi(sp + 1) : 0;
}

static void json_line(
	const struct probe_out_opts *o, const struct probe_host *h, const struct probe_target *t)
{
	char addr[128], why[256];

	printf("{\"host\":");
	cli_json_string(stdout, h->name);
	if (h->naddrs && !probe_host_is_local(h)) {
		sk_addr_format((const struct sockaddr *)&h->addrs[t->addr], h->lens[t->addr], addr,
			sizeof(addr));
		printf(",\"address\":");
		cli_json_string(stdout, addr);
	}
	if (!probe_host_is_local(h))
		printf(",\"port\":%u", t->port);
	printf(",\"proto\":\"%s\",\"state\":\"%s\"", h->proto, probe_state_names[t->state]);
	if (t->state == PS_OPEN && !o->count)
		printf(",\"latency_ms\":%.3f", t->latency_ms);
	if (t->state == PS_ERROR) {
		printf(",\"error\":");
		cli_json_string(stdout, sk_strerror(-t->err, why, sizeof(why)));
	} else if (t->state == PS_UNRESOLVED) {
		printf(",\"error\":");
		cli_json_string(stdout, gai_strerror(h->eai));
	}
	if (o->http && t->state == PS_OPEN) {
		printf(",\"http_status\":%d,\"http_line\":", http_code(t->detail));
		cli_json_string(stdout, t->detail ? t->detail : "");
		printf(",\"http_ok\":%s", t->check_failed ? "false" : "true");
	} else if (o->tls && t->tls_json) {
		printf(",\"tls\":%s,\"tls_ok\":%s", t->tls_json, t->check_failed ? "false" : "true");
	} else if (t->detail) {
		/* a banner, or why --tls got no certificate to describe */
		printf(",\"%s\":", o->tls ? "tls_error" : "banner");
		cli_json_string(stdout, t->detail);
		if (o->tls)
			printf(",\"tls_ok\":false");
	}
	if (o->count) {
		printf(",\"sent\":%u,\"received\":%u,\"loss_percent\":%.1f", t->sent, t->received,
			loss_percent(t));
		if (t->received)
			printf(",\"min_ms\":%.3f,\"avg_ms\":%.3f,\"max_ms\":%.3f,\"stddev_ms\":%."
			       "3f",
				t->min, t->sum / t->received, t->max, stddev(t));
	}
	printf("}\n");
}

static const char *state_colour(enum probe_state s)
{
	switch (s) {
	case PS_OPEN:
		return "\033[32m";
	case PS_CLOSED:
	case PS_REFUSED:
	case PS_MISSING:
		return "\033[31m";
	case PS_FILTERED:
	case PS_OPEN_FILTERED:
	case PS_UNREACHABLE:
		return "\033[33m";
	default:
		return "\033[35m";
	}
}

struct row {
	const char *host;
	char port[32], latency[32], text[300];
	const char *detail;  /* text, or the target's banner or status line */
	const char *verdict; /* " (not accepted)" after a failed --http check */
	enum probe_state state;
};

static void fill_row(const struct probe_out_opts *o, const struct probe_host *h,
	const struct probe_target *t, struct row *r)
{
	r->host = h->name;
	r->state = t->state;
	port_text(h, t, r->port, sizeof(r->port));
	latency_text(o, t, r->latency, sizeof(r->latency));
	r->detail = detail_text(o, h, t, r->text, sizeof(r->text));
	r->verdict = t->check_failed ? " (not accepted)" : "";
}

static bool shown(const struct probe_out_opts *o, const struct probe_target *t)
{
	return o->all || !o->summarise || t->state == PS_OPEN;
}

/* Column widths of the rows shown, headers included. */
static void widths(const struct probe_out_opts *o, const struct probe_host *hosts,
	const struct probe_target *targets, size_t n, int w[4])
{
	struct row r;

	w[0] = 4, w[1] = 4, w[2] = 5, w[3] = 7; /* HOST PORT STATE LATENCY */
	for (size_t i = 0; i < n; i++) {
		if (!shown(o, &targets[i]))
			continue;
		fill_row(o, &hosts[targets[i].host], &targets[i], &r);
		w[0] = (int)strlen(r.host) > w[0] ? (int)strlen(r.host) : w[0];
		w[1] = (int)strlen(r.port) > w[1] ? (int)strlen(r.port) : w[1];
		w[2] = (int)strlen(probe_state_names[r.state]) > w[2]
			       ? (int)strlen(probe_state_names[r.state])
			       : w[2];
		w[3] = (int)strlen(r.latency) > w[3] ? (int)strlen(r.latency) : w[3];
	}
}

static void print_summary(const struct cli_ctx *ctx, FILE *f, const size_t *hidden)
{
	const char *sep = "";

	if (ctx->quiet)
		return;
	fprintf(f, "not shown:");
	for (int s = 0; s < PS_COUNT; s++) {
		if (!hidden[s])
			continue;
		fprintf(f, "%s %zu %s", sep, hidden[s], probe_state_names[s]);
		sep = ",";
	}
	fprintf(f, " (--all shows them)\n");
}

void probe_print(const struct cli_ctx *ctx, const struct probe_out_opts *o,
	const struct probe_host *hosts, const struct probe_target *targets, size_t n)
{
	const char *nc = getenv("NO_COLOR");
	bool table = isatty(STDOUT_FILENO);
	bool colour = table && !(nc && *nc);
	size_t hidden[PS_COUNT] = { 0 }, nhidden = 0;
	struct row r;
	int w[4] = { 0 };

	if (ctx->json) {
		for (size_t i = 0; i < n; i++)
			json_line(o, &hosts[targets[i].host], &targets[i]);
		fflush(stdout);
		return;
	}
	if (table) {
		widths(o, hosts, targets, n, w);
		printf("%-*s  %-*s  %-*s  %*s  %s\n", w[0], "HOST", w[1], "PORT", w[2], "STATE",
			w[3], "LATENCY", o->count ? "STATISTICS" : "DETAIL");
	}
	for (size_t i = 0; i < n; i++) {
		const struct probe_target *t = &targets[i];

		if (!shown(o, t)) {
			hidden[t->state]++;
			nhidden++;
			continue;
		}
		fill_row(o, &hosts[t->host], t, &r);
		if (!table) {
			printf("%s %s %s %s%s%s%s\n", r.host, r.port, probe_state_names[r.state],
				r.latency, r.detail[0] ? " " : "", r.detail, r.verdict);
			continue;
		}
		printf("%-*s  %-*s  %s%-*s%s  %*s%s%s%s\n", w[0], r.host, w[1], r.port,
			colour ? state_colour(r.state) : "", w[2], probe_state_names[r.state],
			colour ? "\033[0m" : "", w[3], r.latency, r.detail[0] ? "  " : "", r.detail,
			r.verdict);
	}
	fflush(stdout);
	if (nhidden)
		print_summary(ctx, table ? stdout : stderr, hidden);
}
