/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd/probe_tls.c - probe --tls: for every open TCP target, a TLS handshake
 * that inspects rather than trusts (the verification result is reported, a
 * failure does not cut the handshake short), then the certificate's facts:
 * protocol, cipher, ALPN, subject, issuer, SANs, expiry and days left.
 * One target after another, each bounded by -w.
 */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct check {
	struct sk_loop *loop;
	bool ready;
	int rc;
	struct sk_err err;
	struct sk_tls_info info;
	struct sk_tls_session *session;
};

static void on_ready(struct sk_tls_session *s, int fd, const struct sk_err *err, void *userdata)
{
	struct check *c = userdata;

	c->ready = true;
	c->rc = fd < 0 ? fd : 0;
	if (fd < 0) {
		c->err = *err;
	} else {
		sk_tls_session_info(s, &c->info);
		close(fd); /* nothing to say: the session closes the connection */
	}
	sk_loop_stop(c->loop, 0);
}

static bool is_literal(const char *name)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* "tls:ADDR:PORT" with the flags as options, and the name as SNI when the
 * target was a name, so that the certificate is checked against it. */
static struct sk_endpoint *tls_endpoint(const struct probe *p, const struct probe_host *h,
	const struct probe_target *t, const struct cli_tls_args *tls, struct sk_err *err)
{
	const struct sockaddr_storage *ss = &h->addrs[t->addr];
	struct cli_text text = { 0 };
	struct sk_endpoint *ep = NULL;
	char addr[INET6_ADDRSTRLEN];

	sk_addr_format((const struct sockaddr *)ss, h->lens[t->addr], addr, sizeof(addr));
	cli_text_addf(&text, ss->ss_family == AF_INET6 ? "tls:[%s]:%u" : "tls:%s:%u", addr,
		(unsigned)t->port);
	cli_tls_args_append(tls, &text);
	if (h->is_name && !tls->value[CLI_O_SNI - CLI_O_ALPN] && !is_literal(h->name))
		cli_text_addf(&text, ",sni=%s", h->name);
	if (!text.failed && sk_endpoint_parse(text.text, &ep, err) < 0)
		ep = NULL;
	free(text.text);
	return ep;
}

/* The same facts as fields, for --json: {"protocol":...,"days_left":N,"verify":...}. */
static void describe_json(struct probe_target *t, const struct sk_tls_info *i,
	const char *expiry, long days)
{
	const char *keys[] = { "protocol", "cipher", "alpn", "subject", "issuer", "sans" };
	const char *values[] = { i->protocol, i->cipher, i->alpn, i->peer_subject, i->peer_issuer,
		i->peer_sans };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		fprintf(f, "%s\"%s\":", k ? "," : "{", keys[k]);
		if (values[k] && values[k][0])
			cli_json_string(f, values[k]);
		else
			fputs("null", f);
	}
	fputs(",\"not_after\":", f);
	if (i->not_after)
		cli_json_string(f, expiry);
	else
		fputs("null", f);
	fprintf(f, ",\"days_left\":%ld,\"verify\":", days);
	cli_json_string(f, i->verify);
	fputc('}', f);
	if (fclose(f) != 0) {
		free(text);
		return;
	}
	free(t->tls_json);
	t->tls_json = text;
}

static void describe(struct probe_target *t, const struct sk_tls_info *i, int warn_days)
{
	char expiry[32] = "unknown", buf[1400];
	long days = 0;

	if (i->not_after) {
		time_t na = (time_t)i->not_after;
		struct tm tm;

		gmtime_r(&na, &tm);
		strftime(expiry, sizeof(expiry), "%Y-%m-%dT%H:%M:%SZ", &tm);
		days = (long)((i->not_after - (int64_t)time(NULL)) / 86400);
	}
	snprintf(buf, sizeof(buf),
		"%s %s alpn=%s subject=\"%s\" issuer=\"%s\" sans=%s not_after=%s days_left=%ld verify=\"%s\"",
		i->protocol, i->cipher, i->alpn[0] ? i->alpn : "-", i->peer_subject, i->peer_issuer,
		i->peer_sans[0] ? i->peer_sans : "-", expiry, days, i->verify);
	free(t->detail);
	t->detail = strdup(buf);
	describe_json(t, i, expiry, days);
	/* --insecure asked not to verify: what was not checked does not fail */
	t->check_failed = (strcmp(i->verify, "ok") != 0 && strncmp(i->verify, "not verified", 12)) ||
		!i->not_after || days < warn_days;
}

static void check_one(struct probe *p, struct probe_target *t, const struct cli_tls_args *tls,
	int warn_days)
{
	const struct probe_host *h = &p->hosts[t->host];
	const struct sk_tls_config_opts copts = { .report_only = true };
	struct sk_connect_opts o = { .timeout_ms = p->timeout_ms };
	struct sk_tls_session_opts so = { .timeout_ms = p->timeout_ms, .ready = on_ready };
	struct check c = { .loop = p->loop };
	struct sk_tls_config *cfg = NULL;
	struct sk_endpoint *ep;
	char name[300];
	int fd, rc;

	probe_target_name(h, t, name, sizeof(name));
	so.peer = name;
	so.userdata = &c;
	ep = tls_endpoint(p, h, t, tls, &c.err);
	rc = ep ? sk_tls_config_new(ep, &copts, &cfg, &c.err) : -ENOMEM;
	fd = rc < 0 ? rc : sk_connect(ep, &o, &c.err);
	if (fd >= 0)
		rc = sk_tls_session_start(p->loop, cfg, fd, &so, &c.session, &c.err);
	else
		rc = fd;
	if (rc == 0) {
		sk_loop_run(p->loop);
		rc = c.ready ? c.rc : -EINTR;
	}
	if (rc == 0) {
		describe(t, &c.info, warn_days);
	} else {
		free(t->detail);
		t->detail = probe_escape(c.err.why, strlen(c.err.why));
		t->check_failed = true;
	}
	sk_tls_session_destroy(c.session);
	sk_tls_config_free(cfg);
	sk_endpoint_free(ep);
}

void probe_tls_check(struct probe *p, const struct cli_tls_args *tls, int warn_days)
{
	for (size_t i = 0; i < p->ntargets; i++) {
		struct probe_target *t = &p->targets[i];

		if (t->state == PS_OPEN && !probe_host_is_local(&p->hosts[t->host]) &&
			p->hosts[t->host].socktype == SOCK_STREAM)
			check_one(p, t, tls, warn_days);
	}
}
