/* SPDX-License-Identifier: BSD-2-Clause */
/* cmd/resolve.c - ask the system resolver; list local interfaces. */
#include "cli.h"

#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	O_ADDRCONFIG = 256,
	O_CANONICAL,
	O_INTERFACES,
	O_NAMEREQD,
	O_NUMERIC,
	O_NUMERIC_SERVICE,
	O_PASSIVE,
	O_TYPE,
};

static const struct cli_opt resolve_opts[] = {
	/* id, long name, short, argument, help; keep alphabetical by long name */
	{ O_ADDRCONFIG, "addrconfig", 0, NULL, "only the families configured on this host" },
	{ O_CANONICAL, "canonical", 0, NULL, "print the canonical name first" },
	{ O_INTERFACES, "interfaces", 0, NULL, "list local interfaces: addresses, flags, index" },
	{ 'l', "long", 'l', NULL, "family, type, protocol, address, port, canonical name" },
	{ O_NAMEREQD, "namereqd", 0, NULL, "with -r: an address without a name is a failure" },
	{ O_NUMERIC, "numeric", 0, NULL, "accept address literals only, never look a name up" },
	{ O_NUMERIC_SERVICE, "numeric-service", 0, NULL, "with -r: show the port as a number" },
	{ O_PASSIVE, "passive", 0, NULL, "addresses to bind to; NAME '*' is the wildcard" },
	{ 'r', "reverse", 'r', "ADDRESS", "look up the name of ADDRESS [and PORT]" },
	{ O_TYPE, "type", 0, "TYPE", "stream or dgram: answers for that socket type only" },
	{ 0 },
};

/* A batch from stdin is resolved by this many threads at most. */
#define POOL_MAX 16

struct resolve_args {
	struct sk_resolve_opts ro;
	bool long_form, canonical_line, interfaces;
	unsigned reverse_flags;
	const char *reverse;
	const char *forward_only; /* the first option given that only a lookup takes */
	const char *reverse_only; /* the first option given that only -r takes */
};

static int resolve_opt(struct cli_ctx *ctx, int id, const char *arg, void *state)
{
	struct resolve_args *a = state;
	const char *fwd = NULL, *rev = NULL;

	switch (id) {
	case O_ADDRCONFIG:
		a->ro.addrconfig = true;
		fwd = "--addrconfig";
		break;
	case O_CANONICAL:
		a->canonical_line = true;
		fwd = "--canonical";
		break;
	case O_INTERFACES:
		a->interfaces = true;
		break;
	case 'l':
		a->long_form = true;
		fwd = "--long";
		break;
	case O_NAMEREQD:
		a->reverse_flags |= SK_REVERSE_NAMEREQD;
		rev = "--namereqd";
		break;
	case O_NUMERIC:
		a->ro.numeric = true;
		fwd = "--numeric";
		break;
	case O_NUMERIC_SERVICE:
		a->reverse_flags |= SK_REVERSE_NUMERIC_SERVICE;
		rev = "--numeric-service";
		break;
	case O_PASSIVE:
		a->ro.passive = true;
		fwd = "--passive";
		break;
	case 'r':
		a->reverse = arg;
		break;
	case O_TYPE:
		if (strcmp(arg, "stream") == 0)
			a->ro.socktype = SOCK_STREAM;
		else if (strcmp(arg, "dgram") == 0)
			a->ro.socktype = SOCK_DGRAM;
		else
			return cli_usage(ctx, "invalid --type '%s': expected stream or dgram", arg);
		fwd = "--type";
		break;
	default:
		return cli_usage(ctx, "bad option");
	}
	if (fwd && !a->forward_only)
		a->forward_only = fwd;
	if (rev && !a->reverse_only)
		a->reverse_only = rev;
	return 0;
}

/* The three modes take different options and arguments. */
static int check_mode(const struct cli_ctx *ctx, const struct resolve_args *a, int npos, char **pos)
{
	const char *mode = a->interfaces ? "--interfaces" : a->reverse ? "--reverse" : NULL;
	int most = a->interfaces ? 0 : a->reverse ? 1 : 2;

	if (a->interfaces && a->reverse)
		return cli_usage(ctx, "--interfaces and --reverse exclude each other");
	if (mode && a->forward_only)
		return cli_usage(ctx, "%s does not apply to %s", a->forward_only, mode);
	if (!a->reverse && a->reverse_only)
		return cli_usage(ctx, "%s needs --reverse", a->reverse_only);
	if (npos > most)
		return cli_usage(ctx, "unexpected argument '%s'", pos[most]);
	if (!mode && npos == 0)
		return cli_usage(ctx, "missing NAME (or -r ADDRESS, or --interfaces)");
	return 0;
}

/* ---- names for numbers ----------------------------------------------------- */

static const char *family_name(int family)
{
	return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "other";
}

static const char *type_name(int socktype)
{
	switch (socktype) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_DGRAM:
		return "dgram";
	case SOCK_RAW:
		return "raw";
	case SOCK_SEQPACKET:
		return "seqpacket";
	default:
		return "other";
	}
}

static const char *protocol_name(int protocol, char *buf, size_t len)
{
	switch (protocol) {
	case 0:
		return "ip";
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	default:
		snprintf(buf, len, "%d", protocol);
		return buf;
	}
}

/* ---- forward lookups --------------------------------------------------------- */

/* "[::1]", as the endpoint grammar writes an IPv6 literal, to the bare form the resolver
 * takes; anything else is left as it is. */
static char *strip_brackets(char *name)
{
	size_t n = strlen(name);

	if (n >= 2 && name[0] == '[' && name[n - 1] == ']') {
		memmove(name, name + 1, n - 2);
		name[n - 2] = '\0';
	}
	return name;
}

static void json_str_field(const char *key, const char *value)
{
	printf(",\"%s\":", key);
	if (value)
		cli_json_string(stdout, value);
	else
		fputs("null", stdout);
}

static void print_json(const char *name, const struct sk_addrinfo_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		const struct sk_addrinfo *it = &l->items[i];
		char addr[INET6_ADDRSTRLEN + SK_IFNAMSIZ + 1], proto[16];

		sk_addr_format((const struct sockaddr *)&it->addr, it->addrlen, addr, sizeof(addr));
		fputs("{\"name\":", stdout);
		cli_json_string(stdout, name);
		json_str_field("family", family_name(it->family));
		json_str_field("type", type_name(it->socktype));
		json_str_field("protocol", protocol_name(it->protocol, proto, sizeof(proto)));
		json_str_field("address", addr);
		printf(",\"port\":%u", sk_addr_port((const struct sockaddr *)&it->addr));
		json_str_field("canonical", l->canonical);
		fputs("}\n", stdout);
	}
}

/* prefix: the name and its column width in a batch, else NULL. */
static void print_long(const char *prefix, int prefix_w, const struct sk_addrinfo_list *l)
{
	char addr[INET6_ADDRSTRLEN + SK_IFNAMSIZ + 1], proto[16];
	int w = 0;

	for (size_t i = 0; i < l->count; i++) {
		size_t n = sk_addr_format((const struct sockaddr *)&l->items[i].addr,
			l->items[i].addrlen, addr, sizeof(addr));

		if ((int)n > w)
			w = (int)n;
	}
	for (size_t i = 0; i < l->count; i++) {
		const struct sk_addrinfo *it = &l->items[i];

		sk_addr_format((const struct sockaddr *)&it->addr, it->addrlen, addr, sizeof(addr));
		if (prefix)
			printf("%-*s  ", prefix_w, prefix);
		printf("%-5s  %-6s  %-4s  %-*s  %5u  %s\n", family_name(it->family),
			type_name(it->socktype), protocol_name(it->protocol, proto, sizeof(proto)),
			w, addr, sk_addr_port((const struct sockaddr *)&it->addr),
			l->canonical ? l->canonical : "-");
	}
}

static void print_plain(
	const struct resolve_args *a, const char *prefix, const struct sk_addrinfo_list *l)
{
	char addr[INET6_ADDRSTRLEN + SK_IFNAMSIZ + 1];
	const char *sep = prefix ? " " : "";

	if (!prefix)
		prefix = "";
	if (a->canonical_line)
		printf("%s%s%s\n", prefix, sep, l->canonical ? l->canonical : "-");
	for (size_t i = 0; i < l->count; i++) {
		sk_addr_format((const struct sockaddr *)&l->items[i].addr, l->items[i].addrlen,
			addr, sizeof(addr));
		printf("%s%s%s\n", prefix, sep, addr);
	}
}

/* One name's answers; batch says whether lines carry the name. */
static void print_answers(const struct cli_ctx *ctx, const struct resolve_args *a, const char *name,
	bool batch, int name_w, const struct sk_addrinfo_list *l)
{
	if (ctx->quiet)
		return;
	if (ctx->json)
		print_json(name, l);
	else if (a->long_form)
		print_long(batch ? name : NULL, name_w, l);
	else
		print_plain(a, batch ? name : NULL, l);
}

/* ---- lookups on a pool of threads -------------------------------------------- */

/*
 * Every forward lookup runs on a worker thread, so that -w can bound it:
 * getaddrinfo has no timeout of its own. A batch from stdin shares up to
 * POOL_MAX workers; the main thread prints the answers in input order.
 * The pool is on the heap: when -w gives up on a lookup, its worker may
 * still be inside getaddrinfo, and the pool must outlive the command.
 */
struct job {
	struct sk_addrinfo_list *list;
	struct sk_err err;
	int rc;
	bool done;
};

struct pool {
	char **names; /* borrowed */
	size_t count, next;
	const char *service;
	const struct sk_resolve_opts *ro;
	struct job *jobs;
	pthread_mutex_t mu;
	pthread_cond_t done; /* a job finished */
	pthread_t threads[POOL_MAX];
	size_t started;
};

/* Take the next name until none is left; sk_resolve shares nothing, so
 * only the job bookkeeping needs the lock. */
static void *pool_worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		struct job job = { 0 };
		const char *name, *service;
		bool wildcard;
		size_t i;

		pthread_mutex_lock(&p->mu);
		i = p->next < p->count ? p->next++ : p->count;
		pthread_mutex_unlock(&p->mu);
		if (i == p->count)
			return NULL;
		/* '*' is no name: the wildcard with --passive, loopback without; the
		 * resolver wants a service then, and port 0 shows the addresses alone. */
		wildcard = strcmp(p->names[i], "*") == 0 && (p->service || p->ro->passive);
		name = wildcard ? NULL : p->names[i];
		service = wildcard && !p->service ? "0" : p->service;
		job.rc = sk_resolve(name, service, p->ro, &job.list, &job.err);
		job.done = true;
		pthread_mutex_lock(&p->mu);
		p->jobs[i] = job;
		pthread_cond_broadcast(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
}

static void pool_free(struct pool *p)
{
	for (size_t i = 0; i < p->count; i++)
		sk_addrinfo_list_free(p->jobs[i].list);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	free(p->jobs);
	free(p);
}

/* Start up to POOL_MAX workers on names (borrowed); with none, this thread
 * does the work before returning. NULL when out of memory. */
static struct pool *pool_start(
	char **names, size_t count, const char *service, const struct sk_resolve_opts *ro)
{
	struct pool *p = calloc(1, sizeof(*p));
	size_t want = count < POOL_MAX ? count : POOL_MAX;
	pthread_condattr_t attr;

	if (!p)
		return NULL;
	*p = (struct pool){ .names = names, .count = count, .service = service, .ro = ro };
	p->jobs = calloc(count ? count : 1, sizeof(*p->jobs));
	if (!p->jobs) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	/* The deadline of -w is on the monotonic clock. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->done, &attr);
	pthread_condattr_destroy(&attr);
	while (p->started < want &&
		pthread_create(&p->threads[p->started], NULL, pool_worker, p) == 0)
		p->started++;
	if (p->started == 0)
		pool_worker(p);
	return p;
}

/* Wait for job i until deadline (tv_sec 0: none); false when it passed. */
static bool pool_wait(struct pool *p, size_t i, const struct timespec *deadline)
{
	bool done;

	pthread_mutex_lock(&p->mu);
	while (!p->jobs[i].done) {
		if (!deadline->tv_sec)
			pthread_cond_wait(&p->done, &p->mu);
		else if (pthread_cond_timedwait(&p->done, &p->mu, deadline) == ETIMEDOUT)
			break;
	}
	done = p->jobs[i].done;
	pthread_mutex_unlock(&p->mu);
	return done;
}

static struct timespec deadline_after(int ms)
{
	struct timespec t = { 0 };

	if (ms <= 0)
		return t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* "2" or "1.5": milliseconds as the seconds -w was given in. */
static const char *seconds_text(int ms, char *buf, size_t len)
{
	if (ms % 1000)
		snprintf(buf, len, "%d.%03d", ms / 1000, ms % 1000);
	else
		snprintf(buf, len, "%d", ms / 1000);
	for (char *e = buf + strlen(buf) - 1; strchr(buf, '.') && *e == '0'; e--)
		*e = '\0';
	return buf;
}

/* A lookup -w gave up on: a resolution failure like any other (exit 3). */
static int report_timeout(const struct cli_ctx *ctx, const char *name)
{
	struct sk_err err = { .code = SK_ERESOLVE, .pos = -1 };
	char t[32];

	snprintf(err.what, sizeof(err.what), "%s", name);
	snprintf(err.why, sizeof(err.why), "no answer within %s s",
		seconds_text(ctx->timeout_ms, t, sizeof(t)));
	return cli_fail(ctx, CLI_CONNECT, SK_ERESOLVE, &err);
}

/*
 * Print each name's answers in input order as they arrive (batch: lines
 * carry the name); a failure is reported in its place and the rest go on.
 * Returns the exit status; *abandoned when a worker may still be running.
 */
static int pool_collect(struct cli_ctx *ctx, const struct resolve_args *a, struct pool *p,
	bool batch, bool *abandoned)
{
	struct timespec deadline = deadline_after(ctx->timeout_ms);
	int status = CLI_OK, name_w = 0;

	for (size_t i = 0; batch && i < p->count; i++)
		if ((int)strlen(p->names[i]) > name_w)
			name_w = (int)strlen(p->names[i]);
	*abandoned = false;
	for (size_t i = 0; i < p->count; i++) {
		struct job *job = &p->jobs[i];
		int rc = CLI_OK;

		if (!pool_wait(p, i, &deadline)) {
			*abandoned = true;
			fflush(stdout); /* keep a failure in its place in a shared log */
			rc = report_timeout(ctx, p->names[i]);
		} else if (job->rc < 0) {
			fflush(stdout);
			rc = cli_fail(ctx, CLI_CONNECT, job->rc, &job->err);
		} else {
			print_answers(ctx, a, p->names[i], batch, name_w, job->list);
		}
		/* A resolution failure does not hide a worse one. */
		if (rc != CLI_OK && (status == CLI_OK || rc != CLI_EXIT_RESOLVE))
			status = rc;
	}
	return status;
}

/* Look names up (borrowed) and print them; returns the exit status.
 * *abandoned: -w gave up on a lookup whose worker may still read names. */
static int resolve_names(struct cli_ctx *ctx, const struct resolve_args *a, char **names,
	size_t count, const char *service, bool batch, bool *abandoned)
{
	struct pool *p = pool_start(names, count, service, &a->ro);
	int status;

	if (!p) {
		*abandoned = false;
		return cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	}
	status = pool_collect(ctx, a, p, batch, abandoned);
	if (*abandoned)
		return status; /* the pool goes with the process */
	for (size_t i = 0; i < p->started; i++)
		pthread_join(p->threads[i], NULL);
	pool_free(p);
	return status;
}

/* ---- a batch from stdin ------------------------------------------------------ */

static void free_names(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Names from stdin, one a line, surrounding blanks dropped, blank lines skipped. */
static int read_names(const struct cli_ctx *ctx, char ***out, size_t *count)
{
	char *line = NULL, **names = NULL;
	size_t cap = 0, n = 0, linecap = 0, lineno = 0;
	ssize_t len;

	while ((len = getline(&line, &linecap, stdin)) >= 0) {
		char *s = line, *e = line + len;

		lineno++;
		while (s < e && is_blank(*s))
			s++;
		while (e > s && is_blank(e[-1]))
			e--;
		if (s == e)
			continue;
		/* A name cut at a NUL would be another name. */
		if (memchr(s, '\0', (size_t)(e - s))) {
			free(line);
			free_names(names, n);
			return cli_usage(ctx, "stdin line %zu: a NUL byte in a name", lineno);
		}
		if (n == cap) {
			size_t ncap, bytes;
			char **p;

			if (__builtin_mul_overflow(cap ? cap : 16, 2, &ncap) ||
				__builtin_mul_overflow(ncap, sizeof(*names), &bytes) ||
				!(p = realloc(names, bytes)))
				goto nomem;
			names = p;
			cap = ncap;
		}
		names[n] = strndup(s, (size_t)(e - s));
		if (!names[n])
			goto nomem;
		strip_brackets(names[n++]);
	}
	free(line);
	if (ferror(stdin)) {
		int code = -errno;

		free_names(names, n);
		return cli_fail(
			ctx, CLI_SETUP, code, &(struct sk_err){ .what = "read stdin", .pos = -1 });
	}
	*out = names;
	*count = n;
	return 0;
nomem:
	free(line);
	free_names(names, n);
	return cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
}

static int resolve_batch(struct cli_ctx *ctx, const struct resolve_args *a, const char *service)
{
	struct sk_err err;
	bool abandoned;
	char **names = NULL;
	size_t count = 0;
	int status;

	status = read_names(ctx, &names, &count);
	if (status)
		return status;
	/* Every name is checked before the first lookup. */
	for (size_t i = 0; i < count; i++) {
		if (sk_hostname_check(names[i], &err) < 0) {
			free_names(names, count);
			return cli_fail(ctx, CLI_SETUP, err.code, &err);
		}
	}
	status = resolve_names(ctx, a, names, count, service, true, &abandoned);
	/* After -w gave up, a worker may still read its name: keep them. */
	if (!abandoned)
		free_names(names, count);
	return status;
}

/* ---- reverse ------------------------------------------------------------------ */

static int resolve_reverse(struct cli_ctx *ctx, const struct resolve_args *a, int npos, char **pos)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	struct sockaddr_storage ss;
	unsigned long port = 0;
	struct sk_err err;
	socklen_t len;
	char *addr;
	int rc;

	addr = strdup(a->reverse); /* to take off the brackets of [::1] */
	if (!addr)
		return cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	if (npos == 1 && !cli_parse_uint(pos[0], 0, 65535, &port)) {
		free(addr);
		return cli_usage(ctx, "invalid port '%s'", pos[0]);
	}
	rc = sk_addr_parse(strip_brackets(addr), (unsigned)port, &ss, &len, &err);
	free(addr);
	if (rc == 0)
		rc = sk_reverse((struct sockaddr *)&ss, len, a->reverse_flags, host, sizeof(host),
			npos ? serv : NULL, sizeof(serv), &err);
	if (rc < 0)
		return cli_fail(ctx, CLI_CONNECT, rc, &err);
	if (ctx->quiet)
		return CLI_OK;
	if (ctx->json) {
		fputs("{\"address\":", stdout);
		cli_json_string(stdout, a->reverse);
		json_str_field("name", host);
		if (npos)
			printf(",\"port\":%lu", port);
		else
			fputs(",\"port\":null", stdout);
		json_str_field("service", npos ? serv : NULL);
		fputs("}\n", stdout);
	} else if (npos) {
		printf("%s %s\n", host, serv);
	} else {
		printf("%s\n", host);
	}
	return CLI_OK;
}

/* ---- interfaces ----------------------------------------------------------------- */

/* clang-format off */
static const struct { unsigned flag; const char *name; } iface_flags[] = {
	/* in the order ip(8) shows them */
	{ IFF_LOOPBACK, "loopback" }, { IFF_BROADCAST, "broadcast" },
	{ IFF_POINTOPOINT, "pointopoint" }, { IFF_MULTICAST, "multicast" },
	{ IFF_NOARP, "noarp" }, { IFF_PROMISC, "promisc" }, { IFF_ALLMULTI, "allmulti" },
	{ IFF_UP, "up" }, { IFF_RUNNING, "running" },
};
/* clang-format on */
#define N_IFACE_FLAGS (sizeof(iface_flags) / sizeof(iface_flags[0]))

/* "up,loopback,running" into buf, or "-" when none is set. */
static const char *flags_text(unsigned flags, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N_IFACE_FLAGS; i++) {
		if (!(flags & iface_flags[i].flag))
			continue;
		int k = snprintf(buf + n, len - n, "%s%s", n ? "," : "", iface_flags[i].name);

		if (k < 0 || (size_t)k >= len - n)
			break;
		n += (size_t)k;
	}
	return n ? buf : "-";
}

static bool wanted(const struct cli_ctx *ctx, const struct sk_iface_addr *ad)
{
	return ctx->family == AF_UNSPEC || ctx->family == ad->addr.ss_family;
}

static void iface_addr_text(const struct sk_iface_addr *ad, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN + SK_IFNAMSIZ + 1];

	sk_addr_format((const struct sockaddr *)&ad->addr, ad->addrlen, addr, sizeof(addr));
	snprintf(buf, len, "%s/%u", addr, ad->prefix);
}

static void interfaces_json(const struct cli_ctx *ctx, const struct sk_iface_list *l)
{
	char addr[INET6_ADDRSTRLEN + SK_IFNAMSIZ + 1];

	for (size_t i = 0; i < l->count; i++) {
		const struct sk_iface *it = &l->items[i];
		bool first = true;

		fputs("{\"name\":", stdout);
		cli_json_string(stdout, it->name);
		printf(",\"index\":%u,\"flags\":[", it->index);
		for (size_t f = 0; f < N_IFACE_FLAGS; f++) {
			if (!(it->flags & iface_flags[f].flag))
				continue;
			printf("%s\"%s\"", first ? "" : ",", iface_flags[f].name);
			first = false;
		}
		fputs("],\"addresses\":[", stdout);
		first = true;
		for (size_t k = 0; k < it->naddrs; k++) {
			const struct sk_iface_addr *ad = &it->addrs[k];

			if (!wanted(ctx, ad))
				continue;
			sk_addr_format((const struct sockaddr *)&ad->addr, ad->addrlen, addr,
				sizeof(addr));
			printf("%s{\"family\":\"%s\",\"address\":", first ? "" : ",",
				family_name(ad->addr.ss_family));
			cli_json_string(stdout, addr);
			printf(",\"prefix\":%u}", ad->prefix);
			first = false;
		}
		fputs("]}\n", stdout);
	}
}

/* One line per address (an interface without any gets one with "-"):
 * NAME INDEX ADDRESS/PREFIX FLAGS, aligned. With -4/-6, that family only. */
static void interfaces_plain(const struct cli_ctx *ctx, const struct sk_iface_list *l)
{
	char text[INET6_ADDRSTRLEN + SK_IFNAMSIZ + 8], flags[128];
	int name_w = 0, addr_w = 1;

	for (size_t i = 0; i < l->count; i++) {
		const struct sk_iface *it = &l->items[i];

		if ((int)strlen(it->name) > name_w)
			name_w = (int)strlen(it->name);
		for (size_t k = 0; k < it->naddrs; k++) {
			iface_addr_text(&it->addrs[k], text, sizeof(text));
			if (wanted(ctx, &it->addrs[k]) && (int)strlen(text) > addr_w)
				addr_w = (int)strlen(text);
		}
	}
	for (size_t i = 0; i < l->count; i++) {
		const struct sk_iface *it = &l->items[i];
		bool shown = false;

		for (size_t k = 0; k < it->naddrs; k++) {
			if (!wanted(ctx, &it->addrs[k]))
				continue;
			iface_addr_text(&it->addrs[k], text, sizeof(text));
			printf("%-*s  %3u  %-*s  %s\n", name_w, it->name, it->index, addr_w, text,
				flags_text(it->flags, flags, sizeof(flags)));
			shown = true;
		}
		if (!shown && ctx->family == AF_UNSPEC)
			printf("%-*s  %3u  %-*s  %s\n", name_w, it->name, it->index, addr_w, "-",
				flags_text(it->flags, flags, sizeof(flags)));
	}
}

static int list_interfaces(struct cli_ctx *ctx)
{
	struct sk_iface_list *l;
	struct sk_err err;
	int rc = sk_interfaces(&l, &err);

	if (rc < 0)
		return cli_fail(ctx, CLI_SETUP, rc, &err);
	if (ctx->json && !ctx->quiet)
		interfaces_json(ctx, l);
	else if (!ctx->quiet)
		interfaces_plain(ctx, l);
	sk_iface_list_free(l);
	return CLI_OK;
}

/* ---- the command ------------------------------------------------------------------ */

/* Output that never reached its reader is a failure, except a reader that left. */
static int finish_output(struct cli_ctx *ctx, int status)
{
	if (fflush(stdout) != 0 && errno != EPIPE && status == CLI_OK)
		return cli_fail(ctx, CLI_SETUP, -errno,
			&(struct sk_err){ .what = "write stdout", .pos = -1 });
	return status;
}

/* A SERVICE that is a number is a port: 0-65535, never wrapped around by the resolver. */
static int check_service(const struct cli_ctx *ctx, const char *service)
{
	unsigned long port;

	if (!service || strspn(service, "0123456789") != strlen(service))
		return 0;
	if (!cli_parse_uint(service, 0, 65535, &port))
		return cli_usage(ctx, "invalid port '%s' (0-65535)", service);
	return 0;
}

static int resolve_run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct resolve_args a = { 0 };
	int first, status, npos;
	bool abandoned;
	char **pos;

	if (cli_parse(ctx, &cmd_resolve, argc, argv, resolve_opt, &a, &first, &status) < 0)
		return status;
	npos = argc - first;
	pos = argv + first;
	status = check_mode(ctx, &a, npos, pos);
	if (status == 0 && !a.interfaces && !a.reverse) {
		status = check_service(ctx, npos > 1 ? pos[1] : NULL);
		strip_brackets(pos[0]);
	}
	if (status)
		return status;
	a.ro.family = ctx->family;
	/* --long and --json show the canonical name on every answer; plain
	 * output shows each address once. */
	a.ro.canonical = a.canonical_line || a.long_form || ctx->json;
	a.ro.by_address = !a.long_form && !ctx->json;
	if (a.interfaces)
		status = list_interfaces(ctx);
	else if (a.reverse)
		status = resolve_reverse(ctx, &a, npos, pos);
	else if (strcmp(pos[0], "-") == 0)
		status = resolve_batch(ctx, &a, npos > 1 ? pos[1] : NULL);
	else
		status = resolve_names(ctx, &a, pos, 1, npos > 1 ? pos[1] : NULL, false, &abandoned);
	return finish_output(ctx, status);
}

const struct cli_cmd cmd_resolve = {
	.name = "resolve",
	.summary = "ask the system resolver (getaddrinfo/getnameinfo); list local interfaces",
	.usage = "[OPTIONS] NAME [SERVICE]\n[OPTIONS] - [SERVICE]\n[OPTIONS] -r ADDRESS [PORT]\n"
		 "[OPTIONS] --interfaces",
	.opts = resolve_opts,
	.run = resolve_run,
	.json_help = "print the answers as JSON Lines on stdout",
};
