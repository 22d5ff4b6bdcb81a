/* SPDX-License-Identifier: BSD-2-Clause */
/* test_tls.c - TLS configs from endpoint options, pins, fingerprints, sessions over a socketpair. */
#include "internal.h"
#include "tap.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct side {
	struct sk_tls_session *s;
	bool ready, done;
	int fd, status;
	struct sk_err err;
	bool plain_eof_at_done; /* the caller's end already at EOF when done ran */
};

struct pair {
	struct sk_loop *loop;
	struct side client, server;
	int waiting; /* callbacks still expected before the loop stops */
};

static struct pair *the_pair;

static void on_ready(struct sk_tls_session *s, int fd, const struct sk_err *err, void *ud)
{
	struct side *side = ud;

	(void)s;
	side->ready = true;
	side->fd = fd;
	if (err)
		side->err = *err;
	if (--the_pair->waiting == 0)
		sk_loop_stop(the_pair->loop, 0);
}

static void on_done(struct sk_tls_session *s, int status, const struct sk_err *err, void *ud)
{
	struct side *side = ud;
	char ch;

	(void)s;
	side->done = true;
	side->status = status;
	if (err)
		side->err = *err;
	side->plain_eof_at_done = side->fd >= 0 && recv(side->fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
	if (--the_pair->waiting == 0)
		sk_loop_stop(the_pair->loop, 0);
}

static struct sk_endpoint *parse(const char *text)
{
	struct sk_endpoint *ep = NULL;
	struct sk_err err;

	if (sk_endpoint_parse(text, &ep, &err) < 0)
		ok(0, "parse %s: %s", text, err.why);
	return ep;
}

static int config(const char *text, struct sk_tls_config **cfg, struct sk_err *err)
{
	struct sk_endpoint *ep = parse(text);
	int rc = ep ? sk_tls_config_new(ep, NULL, cfg, err) : -EINVAL;

	sk_endpoint_free(ep);
	return rc;
}

/* A client and a server session on the two ends of a socketpair, run until both are ready. */
static void start_pair(struct pair *p, struct sk_tls_config *ccfg, struct sk_tls_config *scfg)
{
	struct sk_tls_session_opts copts = { .peer = "server", .timeout_ms = 5000,
		.ready = on_ready, .done = on_done, .userdata = &p->client };
	struct sk_tls_session_opts sopts = { .peer = "client", .timeout_ms = 5000,
		.ready = on_ready, .done = on_done, .userdata = &p->server };
	struct sk_err err;
	int sv[2];

	memset(p, 0, sizeof(*p));
	the_pair = p;
	p->client.fd = p->server.fd = -1;
	sk_loop_create(&p->loop, &err);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
	sk_tls_session_start(p->loop, ccfg, sv[0], &copts, &p->client.s, &err);
	sk_tls_session_start(p->loop, scfg, sv[1], &sopts, &p->server.s, &err);
	p->waiting = 2;
	sk_loop_run(p->loop);
}

static void stop_pair(struct pair *p)
{
	sk_tls_session_destroy(p->client.s);
	sk_tls_session_destroy(p->server.s);
	if (p->client.fd >= 0)
		close(p->client.fd);
	if (p->server.fd >= 0)
		close(p->server.fd);
	sk_loop_destroy(p->loop);
}

static void test_config_errors(void)
{
	struct sk_tls_config *cfg = NULL;
	struct sk_err err;
	int rc;

	rc = config("tls:localhost:443,ca=/nonexistent/ca.pem", &cfg, &err);
	is_int(rc, SK_EUSAGE, "a missing ca file is a usage error");
	is_str(err.what, "ca '/nonexistent/ca.pem'", "it names the value");
	rc = config("tls-listen:0,cert=/nonexistent/c.pem", &cfg, &err);
	is_int(rc, SK_EUSAGE, "a missing cert file is a usage error");
	is_str(err.what, "cert '/nonexistent/c.pem'", "it names the value");
	rc = config("tls:localhost:443,ciphers=NOPE-NOTHING", &cfg, &err);
	is_int(rc, SK_EUSAGE, "a cipher list matching nothing is a usage error");
	unsetenv("SK_TEST_NO_SUCH_VAR");
	rc = config("tls:h:1,cert=/etc/hostname,key-pass=env:SK_TEST_NO_SUCH_VAR", &cfg, &err);
	is_int(rc, SK_EUSAGE, "key-pass naming an unset variable is a usage error");
	is_str(err.why, "variable not set", "and says why");
	rc = config("tcp:localhost:80", &cfg, &err);
	is_int(rc, SK_EUSAGE, "a plain TCP endpoint has no TLS configuration");
	ok(cfg == NULL, "nothing is returned on failure");
}

static void test_fingerprint(struct sk_tls_config *scfg)
{
	const char *fp = sk_tls_config_fingerprint(scfg);
	bool shape = fp && strlen(fp) == 95;

	for (size_t i = 0; shape && i < 95; i++)
		shape = i % 3 == 2 ? fp[i] == ':' : isxdigit((unsigned char)fp[i]) &&
						      !islower((unsigned char)fp[i]);
	ok(shape, "ephemeral fingerprint is AB:CD:... (32 bytes, upper case): %s", fp ? fp : "NULL");
	ok(!sk_tls_config_keylog(scfg), "no key log without SSLKEYLOGFILE");
}

/* What the warning about an unverified server keys on: insecure, unless a pin checks. */
static void test_unverified(void)
{
	static const struct {
		const char *text;
		bool unverified;
	} cases[] = {
		{ "tls:localhost:443", false },
		{ "tls:localhost:443,insecure", true },
		{ "tls:localhost:443,insecure=no", false },
		{ "tls:localhost:443,insecure,pin=sha256:"
		  "0000000000000000000000000000000000000000000000000000000000000000", false },
		{ "tls-listen:127.0.0.1:0", false },
	};
	struct sk_tls_config *cfg;
	struct sk_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = config(cases[i].text, &cfg, &err);

		is_int(rc, 0, "config %s", cases[i].text);
		ok(rc == 0 && sk_tls_config_unverified(cfg) == cases[i].unverified,
			"%s: unverified is %s", cases[i].text, cases[i].unverified ? "true" : "false");
		sk_tls_config_free(cfg);
	}
}

/* Data both ways, then close_notify both ways: both bridges end with 0. */
static void test_clean_session(struct sk_tls_config *ccfg, struct sk_tls_config *scfg)
{
	struct pair p;
	struct sk_tls_info info;
	char buf[16] = { 0 };
	ssize_t n = -1;

	start_pair(&p, ccfg, scfg);
	ok(p.client.fd >= 0 && p.server.fd >= 0, "pinned client and ephemeral server handshake (%s)",
		p.client.err.why);
	if (p.client.fd < 0 || p.server.fd < 0) {
		stop_pair(&p);
		return;
	}
	sk_tls_session_info(p.client.s, &info);
	ok(strncmp(info.protocol, "TLSv1.", 6) == 0, "protocol %s", info.protocol);
	is_str(info.peer_subject, "CN=sockit ephemeral", "client sees the server's subject");
	is_str(info.alpn, "h2", "ALPN h2 was negotiated");
	send(p.client.fd, "hello", 5, MSG_NOSIGNAL);
	shutdown(p.client.fd, SHUT_WR);
	shutdown(p.server.fd, SHUT_WR);
	p.waiting = 2;
	sk_loop_run(p.loop);
	n = recv(p.server.fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	is_str(buf, "hello", "the server's plaintext end got the bytes (%zd)", n);
	ok(p.client.done && p.client.status == 0, "client bridge ended cleanly (%d %s)",
		p.client.status, p.client.err.why);
	ok(p.server.done && p.server.status == 0, "server bridge ended cleanly (%d %s)",
		p.server.status, p.server.err.why);
	stop_pair(&p);
}

/* The server vanishes without close_notify: the client hears it before its EOF. */
static void test_truncation(struct sk_tls_config *ccfg, struct sk_tls_config *scfg)
{
	struct pair p;

	start_pair(&p, ccfg, scfg);
	if (p.client.fd < 0 || p.server.fd < 0) {
		ok(0, "handshake for the truncation test");
		stop_pair(&p);
		return;
	}
	sk_tls_session_destroy(p.server.s);
	p.server.s = NULL;
	p.waiting = 1;
	sk_loop_run(p.loop);
	is_int(p.client.status, -EPROTO, "TCP EOF without close_notify is an error");
	is_str(p.client.err.why, "TLS stream truncated (no close_notify)", "named as truncation");
	ok(!p.client.plain_eof_at_done, "reported before the plaintext end shows EOF");
	stop_pair(&p);
}

static void test_refused(const char *client_ep, struct sk_tls_config *scfg, const char *why)
{
	struct sk_tls_config *ccfg = NULL;
	struct sk_err err;
	struct pair p;

	if (config(client_ep, &ccfg, &err) < 0) {
		ok(0, "config %s: %s", client_ep, err.why);
		return;
	}
	start_pair(&p, ccfg, scfg);
	is_int(p.client.fd, SK_ETLS, "%s: refused", client_ep);
	is_str(p.client.err.why, why, "%s: reason named", client_ep);
	ok(p.server.fd < 0, "the server got no plaintext end");
	stop_pair(&p);
	sk_tls_config_free(ccfg);
}

/* report_only (probe --tls): a failed verification is noted, the handshake goes on. */
static void test_report_only(struct sk_tls_config *scfg)
{
	const struct sk_tls_config_opts opts = { .report_only = true };
	struct sk_endpoint *ep = parse("tls:localhost:1");
	struct sk_tls_config *ccfg = NULL;
	struct sk_tls_info info;
	struct sk_err err;
	struct pair p;

	if (!ep || sk_tls_config_new(ep, &opts, &ccfg, &err) < 0) {
		ok(0, "report-only config: %s", err.why);
		sk_endpoint_free(ep);
		return;
	}
	start_pair(&p, ccfg, scfg);
	ok(p.client.fd >= 0, "report-only: the handshake finishes despite the self-signed certificate");
	if (p.client.fd >= 0) {
		sk_tls_session_info(p.client.s, &info);
		/* self-signed and for another name: OpenSSL keeps the last error */
		is_str(info.verify, "hostname mismatch", "the verification result is kept");
		is_str(info.peer_issuer, "CN=sockit ephemeral", "its issuer (itself)");
		ok(info.not_after > (int64_t)time(NULL), "its expiry is in the future");
	}
	stop_pair(&p);
	sk_tls_config_free(ccfg);
	sk_endpoint_free(ep);
}

int main(void)
{
	struct sk_tls_config *scfg = NULL, *ccfg = NULL;
	struct sk_err err;
	char pin[200];

	unsetenv("SSLKEYLOGFILE");
	test_config_errors();
	test_unverified();
	if (config("tls-listen:0,alpn=h2", &scfg, &err) < 0)
		return ok(0, "server config: %s", err.why), tap_done();
	test_fingerprint(scfg);
	snprintf(pin, sizeof(pin), "tls:localhost:1,alpn=h2,pin=sha256:%s",
		sk_tls_config_fingerprint(scfg));
	if (config(pin, &ccfg, &err) < 0)
		return ok(0, "client config: %s", err.why), tap_done();
	test_clean_session(ccfg, scfg);
	test_truncation(ccfg, scfg);
	test_refused("tls:localhost:1,pin=sha256:00000000000000000000000000000000"
		     "00000000000000000000000000000000", scfg, "certificate does not match the pin");
	test_refused("tls:localhost:1", scfg,
		"certificate verify failed: self-signed certificate");
	test_report_only(scfg);
	sk_tls_config_free(ccfg);
	sk_tls_config_free(scfg);
	return tap_done();
}
