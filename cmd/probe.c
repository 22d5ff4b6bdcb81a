/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd/probe.c - check endpoints: open/closed/filtered with latency, banners,
 * HTTP status; wait until they open (or close), then run a command.
 *
 * Every probe is a non-blocking connect in one event loop. On loopback the
 * kernel has already answered by the time connect() returns, so SO_ERROR is
 * read at once and most probes never reach epoll at all.
 */
#include "probe.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum {
	O_ALL = 256,
	O_BANNER,
	O_EXPECT,
	O_HTTP,
	O_INTERVAL,
	O_MAX_TARGETS,
	O_PAYLOAD,
	O_WAIT,
	O_WAIT_CLOSED,
};

static const struct cli_opt probe_opts[] = {
	/* id, long name, short, argument, help; keep alphabetical by long name */
	{ O_ALL, "all", 0, NULL, "show every target of a range, not only the open ones" },
	{ O_BANNER, "banner", 0, NULL, "read what the server sends first (within -w)" },
	{ 'c', "concurrency", 'c', "N", "at most N probes at once (default: the fd limit)" },
	{ 'n', "count", 'n', "N", "probe each target N times: latency statistics and loss" },
	{ O_EXPECT, "expect", 0, "CODE", "with --http, the status that passes (200, 2xx)" },
	{ O_HTTP, "http", 0, "[=PATH]", "send GET PATH (default /) and report the status line" },
	{ O_INTERVAL, "interval", 0, "SECS", "between rounds of --count (1) and --wait (0.5)" },
	{ O_MAX_TARGETS, "max-targets", 0, "N", "refuse more than N targets (default 65536)" },
	{ O_PAYLOAD, "payload", 0, "HEX", "with -u, send these bytes, not an empty datagram" },
	{ 'u', "udp", 'u', NULL, "UDP instead of TCP (HOST PORTS form)" },
	{ O_WAIT, "wait", 0, "[=SECS]", "retry until every target is open (default 30 s)" },
	{ O_WAIT_CLOSED, "wait-closed", 0, "[=SECS]", "retry until every target is closed" },
	{ 0 },
};

#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_WAIT_MS 30000
#define DEFAULT_MAX_TARGETS 65536
#define FD_RESERVE 64
#define FILL_BATCH 256
#define READ_MAX 1024

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

enum wait_mode { WAIT_NONE, WAIT_OPEN, WAIT_CLOSED };

struct probe_args {
	bool udp, all, banner, http;
	const char *http_path;
	int expect_lo, expect_hi; /* accepted statuses; 0: below 400 */
	unsigned long concurrency, count, max_targets;
	int interval_ms;          /* -1: the mode's default */
	enum wait_mode wait;
	int wait_ms;
	char *payload;
	size_t payload_len;
	char **cmd;               /* after --, run once every target is open */
};

/* One probe in flight. */
struct slot {
	struct probe *probe;
	int fd;
	uint32_t target;
	bool busy;
	enum { PH_CONNECT, PH_READ, PH_DGRAM } phase;
	struct timespec start;
	int64_t deadline; /* loop milliseconds */
	char *buf;        /* --banner/--http reply so far */
	size_t len;
};

struct probe {
	const struct cli_ctx *ctx;
	const struct probe_args *a;
	struct sk_loop *loop;
	struct probe_host *hosts;
	size_t nhosts;
	struct probe_target *targets;
	size_t ntargets;
	uint32_t *queue; /* this round's targets */
	size_t nqueue, next;
	struct slot *slots;
	uint32_t *free_slots;
	size_t nslots, nfree;
	int timeout_ms;
	int sweep_timer, fill_timer;
	int spare[2]; /* refused TCP sockets for reuse: IPv4, IPv6; -1 when none */
	unsigned round;
	int64_t started, wait_deadline;
	bool done, timed_out;
};

/* ---- options -------------------------------------------------------------------- */

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
		unsigned v;

		if (sscanf(hex + i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", hex[i]) ||
			!strchr("0123456789abcdefABCDEF", hex[i + 1]))
			return cli_usage(ctx, "invalid --payload '%s': not hex at '%.2s'", hex, hex + i);
		a->payload[i / 2] = (char)v;
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
		return cli_usage(ctx, "invalid --expect '%s': expected a status such as 200 or 2xx",
			s);
	a->expect_lo = a->expect_hi = (int)v;
	return 0;
}

static int parse_count(const struct cli_ctx *ctx, const char *opt, const char *s,
	unsigned long max, unsigned long *out)
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
			return cli_usage(ctx, "invalid --http path '%s': it starts with '/' and has no spaces",
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
		return cli_usage(ctx, "bad option");
	}
}

static int check_args(const struct cli_ctx *ctx, const struct probe_args *a)
{
	if (a->banner && a->http)
		return cli_usage(ctx, "--banner and --http exclude each other");
	if (a->expect_lo && !a->http)
		return cli_usage(ctx, "--expect needs --http");
	if (a->udp && (a->banner || a->http))
		return cli_usage(ctx, "%s needs TCP, not -u", a->banner ? "--banner" : "--http");
	if (a->count && a->wait != WAIT_NONE)
		return cli_usage(ctx, "--count and %s exclude each other",
			a->wait == WAIT_OPEN ? "--wait" : "--wait-closed");
	if (a->cmd && a->wait != WAIT_OPEN)
		return cli_usage(ctx, "a command after '--' needs --wait");
	if (a->cmd && !a->cmd[0])
		return cli_usage(ctx, "no command after '--'");
	return 0;
}

/* ---- targets ------------------------------------------------------------------------ */

static int add_host(struct probe *p, struct probe_host *h)
{
	struct probe_host *grown;

	if ((p->nhosts & (p->nhosts + 1)) == 0) {
		grown = realloc(p->hosts, (p->nhosts * 2 + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		p->hosts = grown;
	}
	p->hosts[p->nhosts++] = *h;
	return 0;
}

/* The addresses of a name or literal, in the resolver's order, without duplicates. */
static int resolve_host(struct probe_host *h, const char *host, int family)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = h->socktype }, *res, *ai;
	size_t n = 0;
	int rc;

	free(h->addrs);
	free(h->lens);
	h->addrs = NULL;
	h->lens = NULL;
	h->naddrs = 0;
	hints.ai_flags = AI_NUMERICHOST;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc == EAI_NONAME) {
		hints.ai_flags = AI_ADDRCONFIG;
		rc = getaddrinfo(host, NULL, &hints, &res);
	}
	h->eai = rc;
	if (rc != 0)
		return 0;
	for (ai = res; ai; ai = ai->ai_next)
		n++;
	h->addrs = calloc(n, sizeof(*h->addrs));
	h->lens = calloc(n, sizeof(*h->lens));
	if (!h->addrs || !h->lens) {
		freeaddrinfo(res);
		return -ENOMEM;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		bool dup = false;

		for (size_t i = 0; i < h->naddrs && !dup; i++)
			dup = h->lens[i] == ai->ai_addrlen &&
			      memcmp(&h->addrs[i], ai->ai_addr, ai->ai_addrlen) == 0;
		if (dup || ai->ai_addrlen > sizeof(*h->addrs) || h->naddrs >= 255)
			continue;
		memcpy(&h->addrs[h->naddrs], ai->ai_addr, ai->ai_addrlen);
		h->lens[h->naddrs++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	return 0;
}

static int one_address(struct probe_host *h, const struct sockaddr_storage *ss, socklen_t len)
{
	h->addrs = malloc(sizeof(*h->addrs));
	h->lens = malloc(sizeof(*h->lens));
	if (!h->addrs || !h->lens)
		return -ENOMEM;
	h->addrs[0] = *ss;
	h->lens[0] = len;
	h->naddrs = 1;
	return 0;
}

/* A CIDR block: one host per address, as many as the target limit allows. */
static int add_block(const struct cli_ctx *ctx, struct probe *p, const char *text,
	const char *proto, int socktype, size_t nports, unsigned long max)
{
	struct sockaddr_storage ss;
	struct sk_cidr c;
	struct sk_err err;
	socklen_t len;
	uint64_t size;
	int rc = sk_cidr_parse(text, &c, &err);

	if (rc < 0)
		return cli_fail(ctx, CLI_SETUP, rc, &err);
	if ((ctx->family == AF_INET && c.family != AF_INET) ||
		(ctx->family == AF_INET6 && c.family != AF_INET6))
		return cli_usage(ctx, "address block '%s' is not IPv%c, as %s asks", text,
			ctx->family == AF_INET ? '4' : '6', ctx->family == AF_INET ? "-4" : "-6");
	size = sk_cidr_size(&c);
	if (size > max / nports) {
		if (size == UINT64_MAX)
			return cli_usage(ctx, "too many targets: '%s' holds 2^%u addresses, more than "
					      "--max-targets %lu", text, 128 - c.prefix, max);
		return cli_usage(ctx, "too many targets: '%s' x %zu port%s = %llu, more than "
				      "--max-targets %lu", text, nports, nports == 1 ? "" : "s",
			(unsigned long long)size * nports, max);
	}
	for (uint64_t i = 0; i < size; i++) {
		struct probe_host h = { .proto = proto, .socktype = socktype };
		char name[64];

		sk_cidr_nth(&c, i, &ss, &len);
		sk_addr_format((struct sockaddr *)&ss, len, name, sizeof(name));
		h.name = strdup(name);
		if (!h.name || one_address(&h, &ss, len) < 0 || add_host(p, &h) < 0) {
			free(h.name);
			free(h.addrs);
			free(h.lens);
			return cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
		}
	}
	return 0;
}

static int add_named(const struct cli_ctx *ctx, struct probe *p, const char *host,
	const char *proto, int socktype)
{
	struct probe_host h = { .proto = proto, .socktype = socktype, .is_name = true };

	if (strlen(host) > 253)
		return cli_usage(ctx, "host name '%.40s...' is longer than 253 bytes", host);
	h.name = strdup(host);
	if (!h.name || resolve_host(&h, host, ctx->family) < 0 || add_host(p, &h) < 0) {
		free(h.name);
		free(h.addrs);
		free(h.lens);
		return cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	}
	return 0;
}

static int add_targets(struct probe *p, uint32_t host, const uint16_t *ports, size_t nports)
{
	struct probe_target *grown;
	size_t need = p->ntargets + nports, cap = 1;

	while (cap < need)
		cap *= 2;
	grown = realloc(p->targets, cap * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	p->targets = grown;
	for (size_t i = 0; i < nports; i++)
		p->targets[p->ntargets++] = (struct probe_target){ .host = host, .port = ports[i] };
	return 0;
}

/* PORTS into a list without repeats, in the order given; *ranged when a range is in it. */
static int expand_ports(const struct cli_ctx *ctx, const char *text, const char *proto,
	uint16_t **out, size_t *n, bool *ranged)
{
	struct sk_port_range *r;
	struct sk_err err;
	size_t nr, k = 0;
	uint8_t seen[65536 / 8] = { 0 };
	int rc = sk_port_list_parse(text, proto, &r, &nr, &err);

	if (rc < 0)
		return cli_fail(ctx, CLI_SETUP, rc, &err);
	*out = malloc(65536 * sizeof(**out));
	if (!*out) {
		free(r);
		return cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	}
	for (size_t i = 0; i < nr; i++) {
		*ranged |= r[i].first != r[i].last;
		for (unsigned port = r[i].first; port <= r[i].last; port++) {
			if (seen[port / 8] & (1u << (port % 8)))
				continue;
			seen[port / 8] |= (uint8_t)(1u << (port % 8));
			(*out)[k++] = (uint16_t)port;
		}
	}
	free(r);
	*n = k;
	return 0;
}

/* sockit probe HOST PORTS */
static int host_ports(const struct cli_ctx *ctx, struct probe *p, const struct probe_args *a,
	const char *host, const char *ports_text, bool *ranged)
{
	const char *proto = a->udp ? "udp" : "tcp";
	int socktype = a->udp ? SOCK_DGRAM : SOCK_STREAM;
	uint16_t *ports = NULL;
	size_t nports = 0;
	int status;
	char *bare = NULL;

	status = expand_ports(ctx, ports_text, proto, &ports, &nports, ranged);
	if (status)
		return status;
	if (nports > a->max_targets) {
		free(ports);
		return cli_usage(ctx, "too many targets: %zu ports, more than --max-targets %lu",
			nports, a->max_targets);
	}
	/* [::1] as in endpoints, or ::1 as in nc. */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		bare = strndup(host + 1, strlen(host) - 2);
		if (!bare) {
			free(ports);
			return cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
		}
		host = bare;
	}
	if (strchr(host, '/')) {
		status = add_block(ctx, p, host, proto, socktype, nports, a->max_targets);
		*ranged |= p->nhosts > 1;
	} else {
		status = add_named(ctx, p, host, proto, socktype);
	}
	for (size_t i = 0; status == 0 && i < p->nhosts; i++)
		if (add_targets(p, (uint32_t)i, ports, nports) < 0)
			status = cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	free(ports);
	free(bare);
	return status;
}

/* One ENDPOINT argument: tcp:, udp:, unix:, abstract: (and their variants). */
static int add_endpoint(const struct cli_ctx *ctx, struct probe *p, const char *text)
{
	struct probe_host h = { 0 };
	struct sk_endpoint *ep;
	struct sk_err err;
	const char *given[8];
	uint16_t port;
	int rc = sk_endpoint_parse(text, &ep, &err), status = 0;

	if (rc < 0)
		return cli_fail(ctx, CLI_SETUP, rc, &err);
	if (sk_endpoint_is_listener(ep)) {
		status = cli_usage(ctx, "endpoint '%s' is a listener; probe needs a client endpoint",
			text);
		goto out;
	}
	if (sk_endpoint_options_given(ep, given, 8) > 0) {
		status = cli_usage(ctx, "endpoint '%s': option '%s' is not supported by probe", text,
			given[0]);
		goto out;
	}
	h.socktype = sk_endpoint_socktype(ep);
	switch (sk_endpoint_transport(ep)) {
	case SK_TCP:
	case SK_UDP: {
		int family = sk_endpoint_family(ep) != AF_UNSPEC ? sk_endpoint_family(ep) : ctx->family;

		h.proto = sk_endpoint_transport(ep) == SK_TCP ? "tcp" : "udp";
		h.is_name = true;
		h.name = strdup(sk_endpoint_host(ep));
		port = (uint16_t)sk_endpoint_port(ep);
		if (!h.name || resolve_host(&h, h.name, family) < 0)
			status = cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
		break;
	}
	case SK_UNIX:
	case SK_ABSTRACT: {
		struct sockaddr_storage ss = { 0 };
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
		bool abstract = sk_endpoint_transport(ep) == SK_ABSTRACT;
		const char *path = sk_endpoint_path(ep);
		size_t n = strlen(path);

		h.proto = abstract ? "abstract" : "unix";
		port = 0;
		sun->sun_family = AF_UNIX;
		/* The parser has checked the length against sun_path. */
		memcpy(sun->sun_path + abstract, path, n);
		if (asprintf(&h.name, "%s%s", abstract ? "@" : "", path) < 0)
			h.name = NULL;
		if (!h.name || one_address(&h, &ss,
				       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1)) < 0)
			status = cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
		break;
	}
	default:
		status = cli_usage(ctx, "endpoint '%s': type '%s' is not supported by probe%s", text,
			sk_endpoint_type_name(ep),
			sk_endpoint_transport(ep) == SK_TLS ? " yet" : "");
		goto out;
	}
	if (status == 0 && (add_host(p, &h) < 0 || add_targets(p, (uint32_t)p->nhosts - 1, &port, 1) < 0))
		status = cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	if (status == 0)
		h = (struct probe_host){ 0 };
out:
	free(h.name);
	free(h.addrs);
	free(h.lens);
	sk_endpoint_free(ep);
	return status;
}

static int build_targets(const struct cli_ctx *ctx, struct probe *p, const struct probe_args *a,
	int npos, char **pos, bool *ranged)
{
	int status;

	if (npos == 0)
		return cli_usage(ctx, "missing targets: HOST PORTS or ENDPOINT...");
	if (npos == 2 && !strchr(pos[1], ':')) {
		if (a->payload && !a->udp)
			return cli_usage(ctx, "--payload needs UDP targets: -u or udp: endpoints");
		return host_ports(ctx, p, a, pos[0], pos[1], ranged);
	}
	if (a->udp)
		return cli_usage(ctx, "-u is for the HOST PORTS form; write udp:HOST:PORT");
	for (int i = 0; i < npos; i++) {
		if (a->payload && strncmp(pos[i], "udp", 3) != 0)
			return cli_usage(ctx, "--payload needs UDP targets: -u or udp: endpoints");
		if (!strchr(pos[i], ':'))
			return cli_usage(ctx, "'%s' is not an endpoint; give HOST PORTS or ENDPOINT...",
				pos[i]);
		status = add_endpoint(ctx, p, pos[i]);
		if (status)
			return status;
		if (p->ntargets > a->max_targets)
			return cli_usage(ctx, "too many targets: more than --max-targets %lu",
				a->max_targets);
	}
	return 0;
}

/* ---- one probe ------------------------------------------------------------------------ */

static double ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static bool is_local(const struct probe_host *h)
{
	return h->addrs && h->addrs[0].ss_family == AF_UNIX;
}

/* What a failed connect says about the target. */
static enum probe_state state_of(const struct probe_host *h, int e)
{
	if (is_local(h)) {
		switch (e) {
		case ECONNREFUSED:
			return PS_REFUSED;
		case ENOENT:
		case ENOTDIR:
			return PS_MISSING;
		case EACCES:
		case EPERM:
			return PS_DENIED;
		default:
			return PS_ERROR;
		}
	}
	switch (e) {
	case ECONNREFUSED:
		return PS_CLOSED;
	case ETIMEDOUT:
		return h->socktype == SOCK_DGRAM ? PS_OPEN_FILTERED : PS_FILTERED;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case EHOSTDOWN:
		return PS_UNREACHABLE;
	default:
		return PS_ERROR;
	}
}

static bool http_passes(const struct probe_args *a, int status)
{
	if (a->expect_lo)
		return status >= a->expect_lo && status <= a->expect_hi;
	return status >= 100 && status < 400;
}

static void start_probe(struct probe *p, uint32_t ti);

/* A probe of target ti ended in state st (errno e, latency ms when open). */
static void record(struct probe *p, uint32_t ti, enum probe_state st, int e, double ms)
{
	struct probe_target *t = &p->targets[ti];
	const struct probe_host *h = &p->hosts[t->host];

	/* Not open here: a name's next address may answer (localhost: ::1, then 127.0.0.1). */
	if (st != PS_OPEN && (size_t)t->addr + 1 < h->naddrs) {
		t->addr++;
		start_probe(p, ti);
		return;
	}
	if (st != PS_OPEN && h->naddrs > 1)
		t->addr = 0;
	t->state = (uint8_t)st;
	t->err = e;
	t->sent++;
	if (st == PS_OPEN) {
		t->latency_ms = ms;
		t->received++;
		t->sum += ms;
		t->sumsq += ms * ms;
		if (t->received == 1 || ms < t->min)
			t->min = ms;
		if (ms > t->max)
			t->max = ms;
	}
	if (p->a->count && p->ctx->verbose && !p->ctx->quiet) {
		char name[300];

		probe_target_name(h, t, name, sizeof(name));
		if (st == PS_OPEN)
			fprintf(stderr, "%s %s %.2fms (probe %u)\n", name, probe_state_names[st], ms,
				t->sent);
		else
			fprintf(stderr, "%s %s (probe %u)\n", name, probe_state_names[st], t->sent);
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reset on close (SO_LINGER 0): the service sees the handshake and an RST, no data. */
static void close_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* A TCP socket connected to itself (same address and port both ends, which
 * loopback allows for a port in the ephemeral range) found nothing listening. */
static bool self_connected(int fd)
{
	struct sockaddr_storage a, b;
	socklen_t la = sizeof(a), lb = sizeof(b);

	if (getsockname(fd, (struct sockaddr *)&a, &la) < 0 ||
		getpeername(fd, (struct sockaddr *)&b, &lb) < 0)
		return false;
	return la == lb && memcmp(&a, &b, la) == 0;
}

static void fill(struct probe *p);

/* Stop watching and close the slot's socket (with a reset when asked) and free it. */
static void release_slot(struct probe *p, struct slot *s, bool reset)
{
	sk_loop_del_fd(p->loop, s->fd);
	if (reset)
		close_reset(s->fd);
	else
		close(s->fd);
	s->fd = -1;
	free(s->buf);
	s->buf = NULL;
	s->len = 0;
	s->busy = false;
	p->free_slots[p->nfree++] = (uint32_t)(s - p->slots);
}

static void on_slot(struct sk_loop *loop, int fd, unsigned events, void *userdata);

/* Watch fd for the rest of its probe; false (fd closed, target recorded) when it cannot. */
static struct slot *take_slot(struct probe *p, int fd, uint32_t ti, int phase,
	const struct timespec *start)
{
	struct slot *s = &p->slots[p->free_slots[--p->nfree]];
	int rc;

	*s = (struct slot){ .probe = p, .fd = fd, .target = ti, .busy = true, .phase = phase,
		.start = *start, .deadline = mono_ms() + p->timeout_ms };
	rc = sk_loop_add_fd(p->loop, fd, phase == PH_CONNECT ? SK_EV_OUT : SK_EV_IN, on_slot, s);
	if (rc < 0) {
		s->busy = false;
		p->nfree++;
		close(fd);
		record(p, ti, PS_ERROR, -rc, 0);
		return NULL;
	}
	return s;
}

static void send_http(struct probe *p, struct slot *s)
{
	const struct probe_target *t = &p->targets[s->target];
	const struct probe_host *h = &p->hosts[t->host];
	bool v6 = !is_local(h) && strchr(h->name, ':');
	char port[16] = "";
	char *req = NULL;
	int n;

	if (!is_local(h) && t->port != 80)
		snprintf(port, sizeof(port), ":%u", t->port);
	n = asprintf(&req,
		"GET %s HTTP/1.0\r\nHost: %s%s%s%s\r\nUser-Agent: sockit/%s\r\n"
		"Connection: close\r\n\r\n",
		p->a->http_path, v6 ? "[" : "", is_local(h) ? "localhost" : h->name, v6 ? "]" : "",
		port, SK_VERSION);
	/* A short request fits the empty send buffer of a new connection. */
	if (n > 0)
		send(s->fd, req, (size_t)n, MSG_NOSIGNAL);
	free(req);
}

/* Connected (s is NULL when connect() finished at once): open, unless it is
 * a self-connect; --banner and --http go on reading. */
static void connected(struct probe *p, struct slot *s, int fd, uint32_t ti,
	const struct timespec *start)
{
	const struct probe_host *h = &p->hosts[p->targets[ti].host];
	double ms = ms_since(start);

	if (!is_local(h) && h->socktype == SOCK_STREAM && self_connected(fd)) {
		if (s)
			release_slot(p, s, false);
		else
			close(fd);
		record(p, ti, PS_CLOSED, ECONNREFUSED, 0);
		return;
	}
	if ((p->a->banner || p->a->http) && h->socktype == SOCK_STREAM) {
		if (!s) {
			s = take_slot(p, fd, ti, PH_READ, start);
			if (!s)
				return;
		} else {
			s->phase = PH_READ;
			s->deadline = mono_ms() + p->timeout_ms;
			sk_loop_mod_fd(p->loop, fd, SK_EV_IN);
		}
		p->targets[ti].latency_ms = ms;
		if (p->a->http)
			send_http(p, s);
		return;
	}
	if (s)
		release_slot(p, s, true);
	else
		close_reset(fd);
	record(p, ti, PS_OPEN, 0, ms);
}

/* "HTTP/1.1 200 OK": the status, or -1. */
static int http_status(const char *line, size_t n)
{
	if (n < 12 || memcmp(line, "HTTP/", 5) != 0)
		return -1;
	for (size_t i = 5; i < n; i++) {
		if (line[i] != ' ')
			continue;
		if (i + 4 > n || (i + 4 < n && line[i + 4] != ' '))
			return -1;
		if (line[i + 1] < '1' || line[i + 1] > '5' || line[i + 2] < '0' ||
			line[i + 2] > '9' || line[i + 3] < '0' || line[i + 3] > '9')
			return -1;
		return (line[i + 1] - '0') * 100 + (line[i + 2] - '0') * 10 + (line[i + 3] - '0');
	}
	return -1;
}

/* --banner/--http: what the server sent (maybe nothing) decides the detail. */
static void finish_read(struct probe *p, struct slot *s)
{
	struct probe_target *t = &p->targets[s->target];
	uint32_t ti = s->target;
	double ms = t->latency_ms;
	size_t n = s->len;

	free(t->detail);
	t->detail = NULL;
	if (p->a->http) {
		size_t line = 0;
		int status;

		while (line < n && s->buf[line] != '\r' && s->buf[line] != '\n')
			line++;
		status = http_status(s->buf, line);
		t->check_failed = status < 0 || !http_passes(p->a, status);
		if (n == 0)
			t->detail = strdup("no HTTP response");
		else
			t->detail = probe_escape(s->buf, line);
	} else if (n) {
		t->detail = probe_escape(s->buf, n);
	}
	release_slot(p, s, true);
	record(p, ti, PS_OPEN, 0, ms);
}

static void read_reply(struct probe *p, struct slot *s)
{
	ssize_t n;

	if (!s->buf) {
		s->buf = malloc(READ_MAX);
		if (!s->buf) {
			finish_read(p, s);
			return;
		}
	}
	n = recv(s->fd, s->buf + s->len, READ_MAX - s->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		s->len += (size_t)n;
	/* A banner is the first bytes; an HTTP reply, its first line. */
	if (n > 0 && p->a->http && s->len < READ_MAX && !memchr(s->buf, '\n', s->len))
		return;
	finish_read(p, s);
}

static void on_slot(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct slot *s = userdata;
	struct probe *p = s->probe;
	uint32_t ti = s->target;
	int e = 0;
	socklen_t len = sizeof(e);
	char reply[1];
	double ms;

	switch (s->phase) {
	case PH_CONNECT:
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
		if (e) {
			release_slot(p, s, false);
			record(p, ti, state_of(&p->hosts[p->targets[ti].host], e), e, 0);
		} else {
			connected(p, s, fd, ti, &s->start);
		}
		break;
	case PH_DGRAM:
		/* Any reply, even an empty one, means something answered. */
		if (recv(fd, reply, sizeof(reply), MSG_DONTWAIT | MSG_TRUNC) >= 0) {
			ms = ms_since(&s->start);
			release_slot(p, s, false);
			record(p, ti, PS_OPEN, 0, ms);
			break;
		}
		e = errno;
		if (e == EAGAIN || e == EINTR)
			break;
		release_slot(p, s, false);
		record(p, ti, state_of(&p->hosts[p->targets[ti].host], e), e, 0);
		break;
	case PH_READ:
		read_reply(p, s);
		break;
	}
	fill(p);
}

/* Send the datagram of a UDP probe; ICMP errors come back through IP_RECVERR. */
static int start_dgram(struct probe *p, int fd, int family)
{
	int one = 1;

	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	if (send(fd, p->a->payload ? p->a->payload : "", p->a->payload_len, MSG_NOSIGNAL) < 0)
		return errno;
	return 0;
}

static void set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

/* A TCP socket for the next probe: the one a refused probe left, or a new one. */
static int tcp_socket(struct probe *p, int family)
{
	int *spare = &p->spare[family == AF_INET6];
	int fd = *spare;

	*spare = -1;
	return fd >= 0 ? fd : socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/* Keep a refused socket for the next probe (it is unconnected again), or close it. */
static void tcp_spare(struct probe *p, int family, int fd)
{
	int *spare = &p->spare[family == AF_INET6];

	if (*spare < 0)
		*spare = fd;
	else
		close(fd);
}

static void start_probe(struct probe *p, uint32_t ti)
{
	struct probe_target *t = &p->targets[ti];
	const struct probe_host *h = &p->hosts[t->host];
	bool tcp = h->socktype == SOCK_STREAM && !is_local(h);
	struct sockaddr_storage ss;
	struct timespec start;
	socklen_t len;
	int fd, e = 0;

	if (h->naddrs == 0) {
		record(p, ti, PS_UNRESOLVED, 0, 0);
		return;
	}
	ss = h->addrs[t->addr];
	len = h->lens[t->addr];
	set_port(&ss, t->port);
	fd = tcp ? tcp_socket(p, ss.ss_family) :
		   socket(ss.ss_family, h->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		record(p, ti, PS_ERROR, errno, 0);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		e = errno;
	/*
	 * Loopback has usually answered by now. A second connect() tells how
	 * the first one ended: 0 connected, EALREADY still in progress, else
	 * its error, after which the socket is unconnected again and serves the
	 * next probe: no socket() and close() per closed port.
	 */
	if (e == EINPROGRESS && tcp) {
		e = connect(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
		if (e == EALREADY)
			e = EINPROGRESS;
	}
	if (e == 0 && h->socktype == SOCK_DGRAM && !is_local(h)) {
		e = start_dgram(p, fd, ss.ss_family);
		if (e == 0) {
			take_slot(p, fd, ti, PH_DGRAM, &start);
			return;
		}
	}
	/* A UNIX listener with a full backlog is still listening. */
	if (e == 0 || (e == EAGAIN && is_local(h))) {
		connected(p, NULL, fd, ti, &start);
		return;
	}
	if (e == EINPROGRESS) {
		take_slot(p, fd, ti, PH_CONNECT, &start);
		return;
	}
	if (tcp && e == ECONNREFUSED)
		tcp_spare(p, ss.ss_family, fd);
	else
		close(fd);
	record(p, ti, state_of(h, e), e, 0);
}

/* ---- rounds ------------------------------------------------------------------------------ */

static void on_fill(struct sk_loop *loop, void *userdata);
static void on_sweep(struct sk_loop *loop, void *userdata);
static void round_done(struct probe *p);

static int sweep_ms(const struct probe *p)
{
	int ms = p->timeout_ms / 20;

	return ms < 5 ? 5 : ms > 100 ? 100 : ms;
}

/* Start probes up to the concurrency, a batch at a time so that replies to
 * those in flight are not kept waiting. */
static void fill(struct probe *p)
{
	size_t budget = FILL_BATCH;

	if (p->done)
		return;
	while (p->next < p->nqueue && p->nfree > 0 && budget-- > 0)
		start_probe(p, p->queue[p->next++]);
	if (p->next < p->nqueue && p->nfree > 0 && !p->fill_timer)
		p->fill_timer = sk_loop_add_timer(p->loop, 0, on_fill, p);
	if (p->nfree < p->nslots && !p->sweep_timer)
		p->sweep_timer = sk_loop_add_timer(p->loop, sweep_ms(p), on_sweep, p);
	if (p->next == p->nqueue && p->nfree == p->nslots)
		round_done(p);
}

static void on_fill(struct sk_loop *loop, void *userdata)
{
	struct probe *p = userdata;

	p->fill_timer = 0;
	fill(p);
}

/* Probes past their -w: a connect is filtered, a datagram open|filtered, a
 * read ends with what came. */
static void on_sweep(struct sk_loop *loop, void *userdata)
{
	struct probe *p = userdata;
	int64_t now = mono_ms();

	p->sweep_timer = 0;
	for (size_t i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];
		uint32_t ti = s->target;

		if (!s->busy || s->deadline > now)
			continue;
		if (s->phase == PH_READ) {
			finish_read(p, s);
			continue;
		}
		release_slot(p, s, false);
		record(p, ti, s->phase == PH_DGRAM ? PS_OPEN_FILTERED : PS_FILTERED, ETIMEDOUT, 0);
	}
	fill(p);
}

static bool satisfied(const struct probe *p, const struct probe_target *t)
{
	if (p->a->wait == WAIT_CLOSED)
		return t->state == PS_CLOSED || t->state == PS_REFUSED || t->state == PS_MISSING;
	return t->state == PS_OPEN && !t->check_failed;
}

static void on_round(struct sk_loop *loop, void *userdata);

static void round_start(struct probe *p)
{
	p->nqueue = 0;
	p->next = 0;
	p->round++;
	/* A name may appear later (a container coming up): ask again each round. */
	if (p->a->wait && p->round > 1)
		for (size_t i = 0; i < p->nhosts; i++)
			if (p->hosts[i].is_name && p->hosts[i].naddrs == 0)
				resolve_host(&p->hosts[i], p->hosts[i].name, p->ctx->family);
	for (size_t i = 0; i < p->ntargets; i++)
		if (!p->targets[i].satisfied)
			p->queue[p->nqueue++] = (uint32_t)i;
	fill(p);
}

static void on_round(struct sk_loop *loop, void *userdata)
{
	round_start(userdata);
}

static void finish(struct probe *p)
{
	p->done = true;
	sk_loop_stop(p->loop, 0);
}

static void round_done(struct probe *p)
{
	double secs = (double)(mono_ms() - p->started) / 1e3;
	size_t left = 0;
	char name[300];

	if (p->a->wait == WAIT_NONE) {
		if (p->a->count && p->round < p->a->count)
			sk_loop_add_timer(p->loop, p->a->interval_ms >= 0 ? p->a->interval_ms : 1000,
				on_round, p);
		else
			finish(p);
		return;
	}
	for (size_t i = 0; i < p->ntargets; i++) {
		struct probe_target *t = &p->targets[i];

		if (t->satisfied)
			continue;
		if (!satisfied(p, t)) {
			left++;
			continue;
		}
		t->satisfied = true;
		probe_target_name(&p->hosts[t->host], t, name, sizeof(name));
		cli_log(p->ctx, 1, "%s %s after %.1f s", name, probe_state_names[t->state], secs);
	}
	if (left == 0) {
		finish(p);
		return;
	}
	cli_log(p->ctx, 1, "waiting for %zu of %zu target%s, %.1f s left", left, p->ntargets,
		p->ntargets == 1 ? "" : "s", (double)(p->wait_deadline - mono_ms()) / 1e3);
	sk_loop_add_timer(p->loop, p->a->interval_ms >= 0 ? p->a->interval_ms : 500, on_round, p);
}

/* The --wait deadline: probes still in flight keep their last state. */
static void on_wait_expired(struct sk_loop *loop, void *userdata)
{
	struct probe *p = userdata;

	for (size_t i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];

		if (!s->busy)
			continue;
		if (p->targets[s->target].state == PS_PENDING)
			p->targets[s->target].state = PS_FILTERED;
		release_slot(p, s, false);
	}
	p->timed_out = true;
	finish(p);
}

/* ---- running ---------------------------------------------------------------------------- */

/* As many probes at once as descriptors allow: the soft limit goes up to
 * the hard one, less a reserve for stdio, the loop and the resolver. */
static size_t concurrency(const struct probe_args *a, size_t ntargets)
{
	struct rlimit rl;
	size_t n = 1024 - FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > 2 * FD_RESERVE)
			n = (size_t)rl.rlim_cur - FD_RESERVE;
		else if (rl.rlim_cur == RLIM_INFINITY)
			n = 1u << 20;
		else
			n = rl.rlim_cur > 8 ? (size_t)rl.rlim_cur / 2 : 1;
	}
	if (a->concurrency && a->concurrency < n)
		n = a->concurrency;
	if (n > 65536)
		n = 65536;
	return n < ntargets ? n : (ntargets ? ntargets : 1);
}

static int run_loop(const struct cli_ctx *ctx, struct probe *p)
{
	int status = cli_loop_open(ctx, &p->loop);

	if (status)
		return status;
	p->nslots = concurrency(p->a, p->ntargets);
	p->slots = calloc(p->nslots, sizeof(*p->slots));
	p->free_slots = malloc(p->nslots * sizeof(*p->free_slots));
	p->queue = malloc(p->ntargets * sizeof(*p->queue));
	if (!p->slots || !p->free_slots || !p->queue)
		return cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	for (size_t i = 0; i < p->nslots; i++) {
		p->slots[i].fd = -1;
		p->free_slots[p->nfree++] = (uint32_t)(p->nslots - 1 - i);
	}
	p->started = mono_ms();
	if (p->a->wait) {
		p->wait_deadline = p->started + p->a->wait_ms;
		sk_loop_add_timer(p->loop, p->a->wait_ms, on_wait_expired, p);
	}
	round_start(p);
	/* Everything may have been answered before the loop even runs. */
	if (p->done)
		return 0;
	return sk_loop_run(p->loop);
}

static void report_unresolved(const struct cli_ctx *ctx, const struct probe *p)
{
	for (size_t i = 0; i < p->nhosts; i++)
		if (p->hosts[i].is_name && p->hosts[i].naddrs == 0 && !ctx->quiet)
			fprintf(stderr, "sockit: %s: resolve '%s': %s\n", ctx->cmd, p->hosts[i].name,
				gai_strerror(p->hosts[i].eai));
}

static int exit_status(const struct probe *p)
{
	bool resolved = false, all_pass = true;

	for (size_t i = 0; i < p->nhosts; i++)
		resolved |= p->hosts[i].naddrs > 0;
	if (!resolved)
		return CLI_EXIT_RESOLVE;
	if (p->a->wait)
		return p->timed_out ? CLI_EXIT_ABNORMAL : CLI_OK;
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
	for (size_t i = 0; i < p->nslots; i++)
		if (p->slots[i].busy)
			release_slot(p, &p->slots[i], false);
	for (size_t i = 0; i < p->nhosts; i++) {
		free(p->hosts[i].name);
		free(p->hosts[i].addrs);
		free(p->hosts[i].lens);
	}
	for (size_t i = 0; i < p->ntargets; i++)
		free(p->targets[i].detail);
	for (int i = 0; i < 2; i++)
		if (p->spare[i] >= 0)
			close(p->spare[i]);
	free(p->hosts);
	free(p->targets);
	free(p->queue);
	free(p->slots);
	free(p->free_slots);
	sk_loop_destroy(p->loop);
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
	if (status == 0 && a.cmd && sk_proc_find(a.cmd[0], NULL, 0, &err) < 0)
		status = cli_usage(ctx, "command '%s' not found in PATH", a.cmd[0]);
	if (status == 0)
		status = build_targets(ctx, &p, &a, dashes - first, argv + first, &ranged);
	if (status)
		goto out;
	p.timeout_ms = ctx->timeout_ms > 0 ? ctx->timeout_ms : DEFAULT_TIMEOUT_MS;
	if (!a.wait)
		report_unresolved(ctx, &p);
	status = run_loop(ctx, &p);
	if (status)
		goto out;
	if (a.cmd && !p.timed_out) {
		status = exec_command(ctx, &p);
		goto out;
	}
	if (a.wait && p.timed_out && !ctx->quiet)
		fprintf(stderr, "sockit: %s: not every target %s after %.1f s\n", ctx->cmd,
			a.wait == WAIT_OPEN ? "opened" : "closed", a.wait_ms / 1e3);
	out = (struct probe_out_opts){ .all = a.all, .summarise = ranged, .count = a.count > 0,
		.http = a.http };
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
	.usage = "[OPTIONS] HOST PORTS\n[OPTIONS] ENDPOINT...\n[OPTIONS] --wait[=SECS] TARGETS -- CMD [ARGS]",
	.opts = probe_opts,
	.run = probe_run,
};
