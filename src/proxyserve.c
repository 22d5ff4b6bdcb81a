/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proxyserve.c - listen --proxy-server socks5|http: each client says where
 * it wants to go (lib/proxyserver.c), we connect there, answer, and pump
 * bytes both ways; every session in the listener's one loop.
 */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One user:password line of --proxy-auth FILE. */
struct credential {
	char *user, *password;
};

struct cli_proxy_serve {
	const struct cli_ctx *ctx;
	struct sk_loop *loop;
	enum sk_proxy_kind kind;
	const struct sk_acl *acl; /* --allow/--deny, for targets too; borrowed */
	struct credential *creds; /* NULL: no authentication */
	size_t ncreds;
	cli_child_exit_fn on_end; /* a session ended (status 0 or 1) */
	void *userdata;
	struct session *sessions;
};

struct session {
	struct cli_proxy_serve *ps;
	struct session *prev, *next;
	int fd, to_fd;
	struct sk_proxy_server *hs;
	struct sk_endpoint *target_ep;
	struct sk_connector *connector;
	struct sk_pump *pump;
	char peer[128], target[300];
};

int cli_proxy_kind(const struct cli_ctx *ctx, const char *arg, enum sk_proxy_kind *out)
{
	if (strcmp(arg, "socks5") == 0)
		*out = SK_PROXY_SOCKS5;
	else if (strcmp(arg, "http") == 0)
		*out = SK_PROXY_HTTP;
	else
		return cli_usage(ctx, "invalid --proxy-server '%s': expected socks5 or http", arg);
	return 0;
}

/* ---- credentials ------------------------------------------------------------------------ */

static void free_creds(struct credential *creds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(creds[i].user);
		free(creds[i].password);
	}
	free(creds);
}

/* --proxy-auth FILE: "user:password" lines; blank lines and '#' comments skipped. */
static int read_creds(struct cli_proxy_serve *ps, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *colon;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int status = 0;

	if (!f)
		return cli_usage(ps->ctx, "--proxy-auth '%s': %s", path, strerror(errno));
	while (status == 0 && (len = getline(&line, &cap, f)) >= 0) {
		struct credential *grown;

		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		colon = strchr(line, ':');
		if (!colon || colon == line || strlen(colon + 1) > 255 || colon - line > 255) {
			status = cli_usage(ps->ctx, "--proxy-auth '%s' line %zu: expected USER:PASSWORD",
				path, lineno);
			break;
		}
		grown = realloc(ps->creds, (ps->ncreds + 1) * sizeof(*grown));
		if (!grown) {
			status = cli_fail(ps->ctx, CLI_SETUP, -ENOMEM, NULL);
			break;
		}
		ps->creds = grown;
		*colon = '\0';
		ps->creds[ps->ncreds].user = strdup(line);
		ps->creds[ps->ncreds].password = strdup(colon + 1);
		ps->ncreds++;
	}
	free(line);
	fclose(f);
	if (status == 0 && ps->ncreds == 0)
		status = cli_usage(ps->ctx, "--proxy-auth '%s': no USER:PASSWORD line", path);
	return status;
}

/* Compared in full whatever differs, so the time taken tells nothing. */
static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return diff == 0;
}

static bool check_user(const char *user, const char *password, void *userdata)
{
	const struct cli_proxy_serve *ps = userdata;

	for (size_t i = 0; i < ps->ncreds; i++)
		if (ps->creds[i].user && strcmp(ps->creds[i].user, user) == 0)
			return same_secret(ps->creds[i].password, password);
	return false;
}

/* ---- a session ----------------------------------------------------------------------------- */

/* Unlink and free a session, closing both sockets (with a reset when asked). */
static void session_free(struct session *s, bool reset)
{
	struct cli_proxy_serve *ps = s->ps;

	sk_pump_destroy(s->pump);
	sk_connector_destroy(s->connector);
	sk_proxy_server_destroy(s->hs);
	sk_endpoint_free(s->target_ep);
	cli_close(s->fd, reset);
	cli_close(s->to_fd, reset);
	if (s->prev)
		s->prev->next = s->next;
	else
		ps->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s);
}

static void session_end(struct session *s, int status)
{
	struct cli_proxy_serve *ps = s->ps;

	if (s->pump)
		cli_event(ps->ctx, "closed",
			(struct cli_field[]){ { "peer", s->peer, 0 }, { "target", s->target, 0 },
				{ "sent", NULL, (long long)sk_pump_bytes(s->pump, SK_PUMP_A_TO_B) },
				{ "received", NULL, (long long)sk_pump_bytes(s->pump, SK_PUMP_B_TO_A) } },
			4, "closed %s -> %s", s->peer, s->target);
	session_free(s, status < 0 && status != SK_EIDLE);
	ps->on_end(ps->userdata, status < 0 ? 1 : 0);
}

static void on_pump_done(struct sk_pump *pump, int status, const struct sk_err *err,
	void *userdata)
{
	session_end(userdata, status);
}

static void on_replied(struct sk_proxy_server *hs, int rc, const struct sk_proxy_request *req,
	const struct sk_err *err, void *userdata)
{
	struct session *s = userdata;
	struct sk_pump_side a = { .rfd = s->fd, .wfd = s->fd, .name = s->peer };
	struct sk_pump_side b = { .rfd = s->to_fd, .wfd = s->to_fd, .name = s->target };
	struct sk_pump_opts opts = { .idle_timeout_ms = s->ps->ctx->idle_timeout_ms };
	struct sk_err perr;

	sk_proxy_server_destroy(hs);
	s->hs = NULL;
	if (rc < 0 || s->to_fd < 0) {
		session_end(s, rc < 0 ? rc : -ECONNREFUSED);
		return;
	}
	rc = sk_pump_create(s->ps->loop, &a, &b, &opts, on_pump_done, s, &s->pump, &perr);
	if (rc < 0) {
		cli_log(s->ps->ctx, 1, "%s: %s: %s", s->peer, perr.what, perr.why);
		session_end(s, rc);
	}
}

/* Tell the client how reaching the target went; on_replied goes on from there. */
static void answer(struct session *s, int rc, const struct sk_err *err)
{
	if (rc < 0)
		cli_log(s->ps->ctx, 1, "%s: %s: %s", s->peer, err ? err->what : s->target,
			err ? err->why : "refused");
	if (sk_proxy_server_reply(s->hs, rc, on_replied, s) < 0)
		session_end(s, -ENOMEM);
}

static void on_connected(struct sk_connector *c, int fd, const struct sk_err *err,
	void *userdata)
{
	struct session *s = userdata;

	sk_connector_destroy(c);
	s->connector = NULL;
	if (fd >= 0) {
		s->to_fd = fd;
		cli_event(s->ps->ctx, "connected",
			(struct cli_field[]){ { "peer", s->peer, 0 }, { "target", s->target, 0 } }, 2,
			"%s -> %s", s->peer, s->target);
	}
	answer(s, fd < 0 ? fd : 0, err);
}

/*
 * The endpoint to connect: the name as asked, or with --allow/--deny the
 * first address of it the rules let through (so a denied target is never
 * even tried). 0, or a negative code with err.
 */
static int target_endpoint(struct session *s, const struct sk_proxy_request *req,
	struct sk_err *err)
{
	struct cli_text t = { 0 };
	struct sk_addrinfo_list *list = NULL;
	char addr[INET6_ADDRSTRLEN + 8];
	const char *host = req->host;
	int rc = 0;

	if (s->ps->acl) {
		struct sk_resolve_opts o = { .family = s->ps->ctx->family, .socktype = SOCK_STREAM };

		rc = sk_resolve(req->host, NULL, &o, &list, err);
		host = NULL;
		for (size_t i = 0; rc == 0 && i < list->count && !host; i++) {
			const struct sockaddr *sa = (struct sockaddr *)&list->items[i].addr;

			if (sk_acl_permits(s->ps->acl, sa)) {
				sk_addr_format(sa, list->items[i].addrlen, addr, sizeof(addr));
				host = addr;
			}
		}
		if (rc == 0 && !host) {
			sk_err_clear(err);
			snprintf(err->what, sizeof(err->what), "proxy to %.140s", s->target);
			snprintf(err->why, sizeof(err->why), "target refused by --allow/--deny");
			rc = -EACCES;
		}
	}
	if (rc == 0) {
		cli_text_addf(&t, strchr(host, ':') ? "tcp:[%s]:%u" : "tcp:%s:%u", host, req->port);
		rc = t.failed ? -ENOMEM : sk_endpoint_parse(t.text, &s->target_ep, err);
	}
	free(t.text);
	sk_addrinfo_list_free(list);
	return rc;
}

static void on_request(struct sk_proxy_server *hs, int rc, const struct sk_proxy_request *req,
	const struct sk_err *err, void *userdata)
{
	struct session *s = userdata;
	struct sk_connect_opts copts = { .timeout_ms = s->ps->ctx->timeout_ms,
		.family = s->ps->ctx->family };
	struct sk_err cerr;

	if (rc < 0) {
		cli_log(s->ps->ctx, 1, "%s: %s: %s", s->peer, err->what, err->why);
		session_end(s, rc);
		return;
	}
	snprintf(s->target, sizeof(s->target), strchr(req->host, ':') ? "[%s]:%u" : "%s:%u",
		req->host, req->port);
	rc = target_endpoint(s, req, &cerr);
	if (rc == 0)
		rc = sk_connector_start(s->ps->loop, s->target_ep, &copts, on_connected, s,
			&s->connector, &cerr);
	if (rc < 0)
		answer(s, rc, &cerr);
}

void cli_proxy_serve_client(struct cli_proxy_serve *ps, int fd, const char *peer)
{
	struct session *s = calloc(1, sizeof(*s));
	struct sk_err err;

	if (!s) {
		cli_close(fd, true);
		ps->on_end(ps->userdata, 1);
		return;
	}
	s->ps = ps;
	s->fd = fd;
	s->to_fd = -1;
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	snprintf(s->target, sizeof(s->target), "?");
	s->next = ps->sessions;
	if (ps->sessions)
		ps->sessions->prev = s;
	ps->sessions = s;
	if (sk_proxy_server_start(ps->loop, fd, ps->kind, ps->ctx->timeout_ms,
		    ps->creds ? check_user : NULL, ps, on_request, s, &s->hs, &err) < 0) {
		cli_log(ps->ctx, 1, "%s: %s: %s", peer, err.what, err.why);
		session_end(s, -ENOMEM);
	}
}

int cli_proxy_serve_create(const struct cli_ctx *ctx, struct sk_loop *loop,
	enum sk_proxy_kind kind, const char *auth_file, const struct sk_acl *acl,
	cli_child_exit_fn on_end, void *userdata, struct cli_proxy_serve **out)
{
	struct cli_proxy_serve *ps = calloc(1, sizeof(*ps));
	int status;

	*out = NULL;
	if (!ps)
		return cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	*ps = (struct cli_proxy_serve){ .ctx = ctx, .loop = loop, .kind = kind, .acl = acl,
		.on_end = on_end, .userdata = userdata };
	status = auth_file ? read_creds(ps, auth_file) : 0;
	if (status) {
		cli_proxy_serve_destroy(ps);
		return status;
	}
	*out = ps;
	return 0;
}

void cli_proxy_serve_destroy(struct cli_proxy_serve *ps)
{
	if (!ps)
		return;
	/* Quietly: the listener is going away, nobody counts sessions any more. */
	while (ps->sessions)
		session_free(ps->sessions, false);
	free_creds(ps->creds, ps->ncreds);
	free(ps);
}
