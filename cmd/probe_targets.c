/* SPDX-License-Identifier: BSD-2-Clause */
/* cmd/probe_targets.c - probe targets: HOST PORTS (a name, a literal or a CIDR block) or endpoints.
 */
#include "probe.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

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
int probe_host_resolve(struct probe_host *h, const char *host, int family)
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
	/* No AI_ADDRCONFIG: with only a loopback interface it hides localhost. */
	if (rc == EAI_NONAME) {
		hints.ai_flags = 0;
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
			return cli_usage(ctx,
				"too many targets: '%s' holds 2^%u addresses, more than "
				"--max-targets %lu",
				text, 128 - c.prefix, max);
		return cli_usage(ctx,
			"too many targets: '%s' x %zu port%s = %llu, more than "
			"--max-targets %lu",
			text, nports, nports == 1 ? "" : "s", (unsigned long long)size * nports,
			max);
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
	if (!h.name || probe_host_resolve(&h, host, ctx->family) < 0 || add_host(p, &h) < 0) {
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
		status = cli_usage(
			ctx, "endpoint '%s' is a listener; probe needs a client endpoint", text);
		goto out;
	}
	if (sk_endpoint_options_given(ep, given, 8) > 0) {
		status = cli_usage(ctx, "endpoint '%s': option '%s' is not supported by probe",
			text, given[0]);
		goto out;
	}
	h.socktype = sk_endpoint_socktype(ep);
	switch (sk_endpoint_transport(ep)) {
	case SK_TCP:
	case SK_UDP: {
		int family =
			sk_endpoint_family(ep) != AF_UNSPEC ? sk_endpoint_family(ep) : ctx->family;

		h.proto = sk_endpoint_transport(ep) == SK_TCP ? "tcp" : "udp";
		h.is_name = true;
		h.name = strdup(sk_endpoint_host(ep));
		port = (uint16_t)sk_endpoint_port(ep);
		if (!h.name || probe_host_resolve(&h, h.name, family) < 0)
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
		if (!h.name ||
			one_address(&h, &ss,
				(socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1)) < 0)
			status = cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
		break;
	}
	default:
		status = cli_usage(ctx, "endpoint '%s': type '%s' is not supported by probe%s",
			text, sk_endpoint_type_name(ep),
			sk_endpoint_transport(ep) == SK_TLS ? " yet" : "");
		goto out;
	}
	if (status == 0 &&
		(add_host(p, &h) < 0 || add_targets(p, (uint32_t)p->nhosts - 1, &port, 1) < 0))
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
			return cli_usage(ctx,
				"'%s' is not an endpoint; give HOST PORTS or ENDPOINT...", pos[i]);
		status = add_endpoint(ctx, p, pos[i]);
		if (status)
			return status;
		if (p->ntargets > a->max_targets)
			return cli_usage(ctx, "too many targets: more than --max-targets %lu",
				a->max_targets);
	}
	return 0;
}

int probe_targets_build(struct probe *p, int npos, char **pos, bool *ranged)
{
	return build_targets(p->ctx, p, p->a, npos, pos, ranged);
}
