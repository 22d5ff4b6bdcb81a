/* SPDX-License-Identifier: BSD-2-Clause */
/* tls_args.c - the TLS flags as endpoint options, the configuration, and TLS peers in a loop. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* How long a finished command waits for its close_notify to go out. */
#define DRAIN_MS 2000

/* Endpoint option names by flag id - CLI_O_ALPN. */
static const char *const option_names[] = {
	"alpn", "ca", "cert", "ciphers", "ciphersuites", "insecure", "key", "key-pass", "pin",
	"sni", "tls-max", "tls-min", "verify-client",
};

int cli_tls_opt(struct cli_tls_args *a, int id, const char *arg)
{
	if (id < CLI_O_ALPN || id > CLI_O_VERIFY_CLIENT)
		return -1;
	a->value[id - CLI_O_ALPN] = arg ? arg : "";
	if (!a->first)
		a->first = option_names[id - CLI_O_ALPN];
	return 0;
}

/* --alpn h2,http/1.1 becomes alpn=h2,alpn=http/1.1 (a list repeats the option). */
static void add_alpn(struct cli_text *t, const char *list)
{
	const char *p = list;

	do {
		size_t n = strcspn(p, ",");
		char *item = strndup(p, n);

		if (!item) {
			t->failed = true;
			return;
		}
		cli_text_add(t, ",alpn=");
		cli_text_add_escaped(t, item);
		free(item);
		p += n + (p[n] == ',');
	} while (*p);
}

/* The flags as endpoint options (",ca=...,alpn=h2"), once the endpoint is
 * known to be TLS (a usage error naming the flag otherwise). */
void cli_tls_args_append(const struct cli_tls_args *a, struct cli_text *extra)
{
	for (int id = CLI_O_ALPN; id <= CLI_O_VERIFY_CLIENT; id++) {
		const char *v = a->value[id - CLI_O_ALPN];

		if (!v)
			continue;
		if (id == CLI_O_ALPN) {
			add_alpn(extra, v);
			continue;
		}
		cli_text_addf(extra, ",%s", option_names[id - CLI_O_ALPN]);
		if (id == CLI_O_INSECURE || id == CLI_O_VERIFY_CLIENT)
			continue; /* booleans: the bare name means yes */
		cli_text_add(extra, "=");
		cli_text_add_escaped(extra, v);
	}
}

int cli_tls_args_check(const struct cli_ctx *ctx, const struct cli_tls_args *a)
{
	const struct sk_tls_config_opts copts = { .report_only = true };
	struct cli_text text = { 0 };
	struct sk_tls_config *cfg = NULL;
	struct sk_endpoint *ep = NULL;
	struct sk_err err;
	int rc = 0;

	/* One flag at a time, so that the message names the flag, not a made-up endpoint. */
	for (int id = CLI_O_ALPN; id <= CLI_O_VERIFY_CLIENT && rc == 0; id++) {
		struct cli_tls_args one = { 0 };

		if (!a->value[id - CLI_O_ALPN])
			continue;
		one.value[id - CLI_O_ALPN] = a->value[id - CLI_O_ALPN];
		text.len = 0;
		cli_text_add(&text, "tls:localhost:443");
		cli_tls_args_append(&one, &text);
		if (text.failed)
			rc = cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
		else if (sk_endpoint_parse(text.text, &ep, &err) < 0)
			rc = cli_usage(ctx, "--%s '%s': %s", option_names[id - CLI_O_ALPN],
				a->value[id - CLI_O_ALPN], err.why);
		sk_endpoint_free(ep);
		ep = NULL;
	}
	/* Then together: files that do not load, and the warning for --insecure. */
	text.len = 0;
	cli_text_add(&text, "tls:localhost:443");
	cli_tls_args_append(a, &text);
	if (rc == 0 && !text.failed && sk_endpoint_parse(text.text, &ep, &err) == 0) {
		rc = sk_tls_config_new(ep, &copts, &cfg, &err);
		rc = rc < 0 ? cli_fail(ctx, CLI_SETUP, rc, &err) : 0;
		if (rc == 0)
			cli_tls_warn_unverified(ctx, cfg);
	}
	sk_tls_config_free(cfg);
	sk_endpoint_free(ep);
	free(text.text);
	return rc;
}

static int tls_options(const struct cli_ctx *ctx, const struct cli_tls_args *a,
	const struct sk_endpoint *ep, struct cli_text *extra)
{
	if (!a->first)
		return 0;
	if (sk_endpoint_transport(ep) != SK_TLS && sk_endpoint_transport(ep) != SK_WSS)
		return cli_usage(ctx, "--%s needs a TLS endpoint (--tls, tls:, tls-listen:, wss:), not %s",
			a->first, sk_endpoint_type_name(ep));
	cli_tls_args_append(a, extra);
	return 0;
}

int cli_endpoint_build_tls(const struct cli_ctx *ctx, const struct cli_endpoint_args *a,
	const struct cli_tls_args *tls, bool listener, int npos, char **pos, const char *extra,
	struct sk_endpoint **out)
{
	struct cli_text more = { 0 };
	int status = cli_endpoint_build(ctx, a, listener, npos, pos, extra, out);

	if (status || !tls->first)
		return status;
	/* The TLS flags are options of the endpoint, once it is known to be TLS. */
	cli_text_add(&more, extra ? extra : "");
	status = tls_options(ctx, tls, *out, &more);
	sk_endpoint_free(*out);
	*out = NULL;
	if (status == 0 && more.failed)
		status = cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	if (status == 0)
		status = cli_endpoint_build(ctx, a, listener, npos, pos, more.text, out);
	free(more.text);
	return status;
}

/* An encrypted key without key-pass=: ask on the terminal, never echoing. */
static int prompt_pass(char *buf, size_t len, const char *path, void *userdata)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios old, quiet;
	size_t n = 0;
	bool too_long = false;
	char ch;

	(void)userdata;
	if (fd < 0)
		return -1;
	if (tcgetattr(fd, &old) < 0) {
		close(fd);
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	dprintf(fd, "Pass phrase for %s: ", path);
	while (read(fd, &ch, 1) == 1 && ch != '\n' && ch != '\r') {
		if (n < len)
			buf[n++] = ch;
		else
			too_long = true; /* refused, never cut */
	}
	tcsetattr(fd, TCSAFLUSH, &old);
	dprintf(fd, "\n");
	close(fd);
	return too_long ? -1 : (int)n;
}

void cli_tls_warn_unverified(const struct cli_ctx *ctx, const struct sk_tls_config *cfg)
{
	if (sk_tls_config_unverified(cfg) && !ctx->quiet)
		fprintf(stderr, "sockit: %s: warning: insecure: the server's certificate is not "
				"verified\n", ctx->cmd);
}

int cli_tls_config(const struct cli_ctx *ctx, const struct sk_endpoint *ep,
	struct sk_tls_config **out)
{
	const struct sk_tls_config_opts opts = { .passphrase = prompt_pass };
	const char *fp;
	struct sk_err err;
	int rc;

	*out = NULL;
	if (sk_endpoint_transport(ep) != SK_TLS && sk_endpoint_transport(ep) != SK_WSS)
		return 0;
	rc = sk_tls_config_new(ep, &opts, out, &err);
	if (rc < 0)
		return cli_fail(ctx, CLI_SETUP, rc, &err);
	cli_tls_warn_unverified(ctx, *out);
	if (sk_tls_config_keylog(*out) && !ctx->quiet)
		fprintf(stderr, "sockit: %s: warning: SSLKEYLOGFILE is set: TLS secrets are "
				"written to %s\n", ctx->cmd, getenv("SSLKEYLOGFILE"));
	fp = sk_tls_config_fingerprint(*out);
	if (fp && !ctx->quiet)
		fprintf(stderr, "sockit: %s: ephemeral certificate, SHA-256 fingerprint "
				"sha256:%s\n", ctx->cmd, fp);
	return 0;
}

void cli_tls_peer_name(const struct sk_endpoint *ep, char *buf, size_t len)
{
	const char *host = sk_endpoint_host(ep);

	snprintf(buf, len, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, sk_endpoint_port(ep));
}

/* ---- peers ------------------------------------------------------------------- */

struct cli_tls_peer {
	struct cli_tls_peer *prev, *next; /* released peers still finishing */
	const struct cli_ctx *ctx;
	struct sk_loop *loop;
	struct sk_tls_session *session;
	cli_tls_ready_fn ready;
	cli_tls_done_fn done;
	void *userdata;
	bool released;
	bool finished; /* the session's done came: nothing is left to finish */
	char peer[128];
};

/* Released peers, so that a command's end can wait for or free them. */
static struct {
	struct cli_tls_peer *head;
	struct sk_loop *draining;
} orphans;

static void peer_free(struct cli_tls_peer *p)
{
	if (p->released) {
		if (p->prev)
			p->prev->next = p->next;
		else
			orphans.head = p->next;
		if (p->next)
			p->next->prev = p->prev;
	}
	sk_tls_session_destroy(p->session);
	free(p);
	if (orphans.draining && !orphans.head)
		sk_loop_stop(orphans.draining, 0);
}

static void on_ready(struct sk_tls_session *s, int fd, const struct sk_err *err, void *userdata)
{
	struct cli_tls_peer *p = userdata;
	struct sk_tls_info info;

	if (fd >= 0) {
		sk_tls_session_info(s, &info);
		cli_event(p->ctx, "tls",
			(struct cli_field[]){ { "peer", p->peer, 0 }, { "protocol", info.protocol, 0 },
				{ "cipher", info.cipher, 0 }, { "alpn", info.alpn, 0 },
				{ "subject", info.peer_subject, 0 } },
			5, "TLS with %s: %s %s, ALPN %s, peer certificate %s", p->peer, info.protocol,
			info.cipher, info.alpn[0] ? info.alpn : "none",
			info.peer_subject[0] ? info.peer_subject : "none");
	}
	if (p->released) {
		if (fd >= 0)
			close(fd);
		peer_free(p);
		return;
	}
	p->ready(p, fd, err, p->userdata);
}

static void on_done(struct sk_tls_session *s, int status, const struct sk_err *err,
	void *userdata)
{
	struct cli_tls_peer *p = userdata;

	(void)s;
	if (!p->released) {
		p->finished = true;
		if (p->done)
			p->done(p, status, err, p->userdata);
		return;
	}
	if (status < 0 && err)
		cli_log(p->ctx, 1, "%s: %s", err->what, err->why);
	peer_free(p);
}

int cli_tls_peer_start(const struct cli_ctx *ctx, struct sk_loop *loop,
	const struct sk_tls_config *cfg, int fd, const char *peer, cli_tls_ready_fn ready,
	cli_tls_done_fn done, void *userdata, struct cli_tls_peer **out, struct sk_err *err)
{
	struct cli_tls_peer *p = calloc(1, sizeof(*p));
	struct sk_tls_session_opts opts = {
		.peer = peer,
		.timeout_ms = ctx->timeout_ms,
		.ready = on_ready,
		.done = on_done,
	};
	int rc;

	*out = NULL;
	if (!p) {
		close(fd);
		snprintf(err->what, sizeof(err->what), "TLS with %.100s", peer);
		snprintf(err->why, sizeof(err->why), "%s", strerror(ENOMEM));
		err->pos = -1;
		return -ENOMEM;
	}
	p->ctx = ctx;
	p->loop = loop;
	p->ready = ready;
	p->done = done;
	p->userdata = userdata;
	snprintf(p->peer, sizeof(p->peer), "%s", peer);
	opts.userdata = p;
	rc = sk_tls_session_start(loop, cfg, fd, &opts, &p->session, err);
	if (rc < 0) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void cli_tls_peer_destroy(struct cli_tls_peer *p)
{
	if (p && !p->released)
		peer_free(p);
}

void cli_tls_peer_release(struct cli_tls_peer *p)
{
	if (!p || p->released)
		return;
	if (p->finished) { /* no close_notify left to send: done already */
		peer_free(p);
		return;
	}
	p->released = true;
	p->next = orphans.head;
	if (orphans.head)
		orphans.head->prev = p;
	orphans.head = p;
}

static void on_drain_timeout(struct sk_loop *loop, void *userdata)
{
	(void)userdata;
	sk_loop_stop(loop, 0);
}

void cli_tls_peers_drain(struct sk_loop *loop, int ms)
{
	int timer;

	if (orphans.head && ms > 0 && loop) {
		timer = sk_loop_add_timer(loop, ms, on_drain_timeout, NULL);
		orphans.draining = loop;
		sk_loop_run(loop);
		orphans.draining = NULL;
		if (timer > 0)
			sk_loop_cancel_timer(loop, timer);
	}
	while (orphans.head)
		peer_free(orphans.head);
}

/* ---- one stream: connect, and listen's single peer ----------------------------- */

static void stream_ready(struct cli_tls_peer *p, int fd, const struct sk_err *err, void *userdata)
{
	struct cli_tls_stream *st = userdata;

	(void)p;
	st->handshaken = true;
	st->plain = fd;
	if (fd < 0) {
		st->status = fd;
		st->err = *err;
	}
	sk_loop_stop(st->loop, 0);
}

void cli_tls_stream_ended(struct cli_tls_stream *st, int status, const struct sk_err *err)
{
	if (status >= 0)
		return;
	st->failed = true;
	st->status = status;
	st->err = *err;
}

static void stream_done(struct cli_tls_peer *p, int status, const struct sk_err *err,
	void *userdata)
{
	(void)p;
	cli_tls_stream_ended(userdata, status, err);
}

int cli_tls_stream_open(const struct cli_ctx *ctx, struct sk_loop *loop,
	const struct sk_tls_config *cfg, int fd, const char *peer, struct cli_tls_stream *st)
{
	struct sk_err err;
	int rc;

	*st = (struct cli_tls_stream){ .loop = loop, .plain = -1 };
	rc = cli_tls_peer_start(ctx, loop, cfg, fd, peer, stream_ready, stream_done, st,
		&st->peer, &err);
	if (rc < 0)
		return cli_fail(ctx, CLI_CONNECT, rc, &err);
	rc = sk_loop_run(loop);
	if (!st->handshaken)
		return rc; /* a signal: 128+N */
	if (st->plain < 0)
		return cli_fail(ctx, CLI_CONNECT, st->status, &st->err);
	return 0;
}

int cli_tls_stream_close(const struct cli_ctx *ctx, struct cli_tls_stream *st, int status)
{
	if (st->failed && status == 0)
		status = cli_fail(ctx, CLI_TRANSFER, st->status, &st->err);
	cli_tls_peer_release(st->peer);
	st->peer = NULL;
	cli_tls_peers_drain(st->loop, status == 0 ? DRAIN_MS : 0);
	return status;
}
