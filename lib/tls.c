/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tls.c - TLS with OpenSSL 3: a configuration built from an endpoint's
 * options, and a session that handshakes inside the loop and then bridges
 * the TLS stream to a plaintext socketpair, so the pump never sees TLS.
 *
 * This file is the module sockit-tls.so, the only part of libsockit that
 * links OpenSSL: tls_loader.c opens it on the first TLS call, so a plain
 * start-up neither maps nor relocates libcrypto (which costs about 2 ms).
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* Plaintext moved per direction at a time; a TLS record holds 16 KiB. */
#define BRIDGE_BUF (64 * 1024)
#define PASS_MAX 1024
/* "AB:" per byte of a SHA-256 digest. */
#define FINGERPRINT_LEN (32 * 3)

struct sk_tls_config {
	struct sk__tls_head head; /* first: the exports dispatch through it */
	SSL_CTX *ctx;
	bool server;
	char *host;   /* client: the name or address checked (sni= if given) */
	bool host_is_ip;
	char *sni;    /* client: sent as SNI; NULL for an IP literal */
	unsigned char pin[32];
	bool pinned;
	int keylog_fd;
	char fingerprint[FINGERPRINT_LEN]; /* ephemeral server certificate; "" otherwise */
	unsigned char *alpn; /* wire format: length-prefixed names */
	size_t alpn_len;
	char pass[PASS_MAX]; /* the key's pass phrase while loading it */
	sk_tls_pass_cb pass_cb;
	void *pass_userdata;
	bool pass_missing; /* the key was encrypted and nobody gave its pass phrase */
	const char *key_path;
	BIO_METHOD *sock_method; /* a socket BIO whose writes never raise SIGPIPE */
	bool report_only; /* client: verify, but finish the handshake either way */
	bool unverified;  /* client: insecure without a pin, the peer is taken on trust */
};

/* ---- a socket BIO that sends with MSG_NOSIGNAL ------------------------------------ */

/* OpenSSL's socket BIO uses write(2): a peer gone away would raise SIGPIPE,
 * and the library installs no handlers, so sends say MSG_NOSIGNAL. */
static int nosig_write(BIO *b, const char *data, int len)
{
	int fd = -1;
	ssize_t n;

	BIO_get_fd(b, &fd);
	BIO_clear_retry_flags(b);
	n = send(fd, data, (size_t)len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		BIO_set_retry_write(b);
	return (int)n;
}

static BIO_METHOD *make_sock_method(void)
{
	const BIO_METHOD *base = BIO_s_socket();
	BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOCKET, "sockit socket");

	if (!m)
		return NULL;
	BIO_meth_set_write(m, nosig_write);
	BIO_meth_set_read(m, BIO_meth_get_read(base));
	BIO_meth_set_puts(m, BIO_meth_get_puts(base));
	BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(base));
	BIO_meth_set_create(m, BIO_meth_get_create(base));
	BIO_meth_set_destroy(m, BIO_meth_get_destroy(base));
	return m;
}

/* ---- errors ------------------------------------------------------------------- */

/* The reason OpenSSL queued first (the cause; later entries say where it
 * surfaced, "PEM lib"), as text; clears the queue. */
static const char *ossl_reason(char *buf, size_t len, const char *fallback)
{
	unsigned long first = ERR_get_error();
	const char *why = first ? ERR_reason_error_string(first) : NULL;

	ERR_clear_error();
	snprintf(buf, len, "%s", why ? why : fallback);
	return buf;
}

/* A bad TLS option value: a usage error naming option and value. */
static int config_usage(struct sk_err *err, const char *opt, const char *value, const char *why)
{
	return sk__fail_why(err, SK_EUSAGE, -1, why, "%s '%s'", opt, value);
}

/* ---- pass phrases (key-pass=env:VAR|file:PATH, or the caller's prompt) --------- */

static int read_pass_file(struct sk_tls_config *cfg, const char *path, struct sk_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return config_usage(err, "key-pass", path, strerror(errno));
	n = read(fd, cfg->pass, sizeof(cfg->pass) - 1);
	close(fd);
	if (n < 0)
		return config_usage(err, "key-pass", path, strerror(errno));
	cfg->pass[n] = '\0';
	if (strcspn(cfg->pass, "\r\n") == (size_t)n && (size_t)n == sizeof(cfg->pass) - 1)
		return config_usage(err, "key-pass", path, "pass phrase too long");
	cfg->pass[strcspn(cfg->pass, "\r\n")] = '\0'; /* the first line is the pass phrase */
	return 0;
}

static int load_pass(struct sk_tls_config *cfg, const char *spec, struct sk_err *err)
{
	const char *value;

	if (strncmp(spec, "file:", 5) == 0)
		return read_pass_file(cfg, spec + 5, err);
	value = getenv(spec + 4);
	if (!value)
		return config_usage(err, "key-pass", spec, "variable not set");
	if (strlen(value) >= sizeof(cfg->pass))
		return config_usage(err, "key-pass", spec, "pass phrase too long");
	snprintf(cfg->pass, sizeof(cfg->pass), "%s", value);
	return 0;
}

/* OpenSSL asks only when the key is encrypted. */
static int on_pass(char *buf, int size, int rwflag, void *userdata)
{
	struct sk_tls_config *cfg = userdata;
	size_t n;
	int rc;

	(void)rwflag;
	if (cfg->pass[0]) {
		n = strlen(cfg->pass);
		if (n >= (size_t)size)
			return -1;
		memcpy(buf, cfg->pass, n);
		return (int)n;
	}
	rc = cfg->pass_cb ? cfg->pass_cb(buf, (size_t)size, cfg->key_path, cfg->pass_userdata)
			  : -1;
	cfg->pass_missing = rc < 0;
	return rc < 0 ? -1 : rc;
}

/* ---- certificates and keys -------------------------------------------------------- */

static int load_ca(struct sk_tls_config *cfg, const char *ca, struct sk_err *err)
{
	struct stat st;
	char why[256];
	int ok;

	if (stat(ca, &st) < 0)
		return config_usage(err, "ca", ca, strerror(errno));
	if (S_ISDIR(st.st_mode))
		ok = SSL_CTX_load_verify_dir(cfg->ctx, ca);
	else
		ok = SSL_CTX_load_verify_file(cfg->ctx, ca);
	if (!ok)
		return config_usage(err, "ca", ca, ossl_reason(why, sizeof(why), "no certificate"));
	if (cfg->server && !S_ISDIR(st.st_mode)) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);

		if (names)
			SSL_CTX_set_client_CA_list(cfg->ctx, names);
	}
	return 0;
}

static int load_cert_key(struct sk_tls_config *cfg, const char *cert, const char *key,
	struct sk_err *err)
{
	char why[256];

	if (access(cert, R_OK) < 0)
		return config_usage(err, "cert", cert, strerror(errno));
	if (!SSL_CTX_use_certificate_chain_file(cfg->ctx, cert))
		return config_usage(err, "cert", cert,
			ossl_reason(why, sizeof(why), "not a PEM certificate"));
	if (access(key, R_OK) < 0)
		return config_usage(err, "key", key, strerror(errno));
	cfg->key_path = key;
	SSL_CTX_set_default_passwd_cb(cfg->ctx, on_pass);
	SSL_CTX_set_default_passwd_cb_userdata(cfg->ctx, cfg);
	if (!SSL_CTX_use_PrivateKey_file(cfg->ctx, key, SSL_FILETYPE_PEM))
		return config_usage(err, "key", key, cfg->pass_missing
				? "encrypted, and no pass phrase (key-pass=env:VAR or file:PATH)"
				: ossl_reason(why, sizeof(why), "not a PEM private key"));
	if (!SSL_CTX_check_private_key(cfg->ctx))
		return config_usage(err, "key", key, "does not match the certificate");
	return 0;
}

static void format_fingerprint(const unsigned char *md, unsigned n, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = 0;

	for (unsigned i = 0; i < n && k + 3 <= len; i++) {
		out[k++] = hex[md[i] >> 4];
		out[k++] = hex[md[i] & 15];
		out[k++] = i + 1 < n ? ':' : '\0';
	}
}

/* No cert=: an EC P-256 self-signed certificate made in memory, valid 30 days. */
static int make_ephemeral(struct sk_tls_config *cfg, struct sk_err *err)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	int ok = pkey && x;

	ok = ok && X509_set_version(x, 2);
	ok = ok && ASN1_INTEGER_set_int64(X509_get_serialNumber(x), (int64_t)time(NULL));
	ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	ok = ok && X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
	ok = ok && X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
			   (const unsigned char *)"sockit ephemeral", -1, -1, 0);
	ok = ok && X509_set_issuer_name(x, X509_get_subject_name(x));
	ok = ok && X509_set_pubkey(x, pkey);
	ok = ok && X509_sign(x, pkey, EVP_sha256());
	ok = ok && SSL_CTX_use_certificate(cfg->ctx, x) && SSL_CTX_use_PrivateKey(cfg->ctx, pkey);
	ok = ok && X509_digest(x, EVP_sha256(), md, &n);
	if (ok)
		format_fingerprint(md, n, cfg->fingerprint, sizeof(cfg->fingerprint));
	X509_free(x);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return ok ? 0 : sk__fail_why(err, -ENOMEM, -1, "cannot generate a key",
				"ephemeral certificate");
}

/* ---- verification ------------------------------------------------------------------- */

/* pin=: the leaf's DER SHA-256 must match, and then nothing else is asked. */
static int verify_pin(X509_STORE_CTX *store, void *arg)
{
	struct sk_tls_config *cfg = arg;
	X509 *leaf = X509_STORE_CTX_get0_cert(store);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (leaf && X509_digest(leaf, EVP_sha256(), md, &n) && n == 32 &&
		memcmp(md, cfg->pin, 32) == 0)
		return 1;
	X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
	return cfg->report_only;
}

/* report_only: every verification error is noted, none ends the handshake. */
static int verify_noting(int ok, X509_STORE_CTX *store)
{
	(void)store;
	(void)ok;
	return 1;
}

static int hexval(char ch)
{
	return ch >= 'a' ? ch - 'a' + 10 : ch - '0';
}

/* The parser stored "sha256:" and 64 lowercase hex digits. */
static void set_pin(struct sk_tls_config *cfg, const char *pin)
{
	for (size_t i = 0; i < 32; i++)
		cfg->pin[i] = (unsigned char)(hexval(pin[7 + 2 * i]) << 4 | hexval(pin[8 + 2 * i]));
	cfg->pinned = true;
}

static bool is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

static int setup_client(struct sk_tls_config *cfg, const struct sk_endpoint *ep,
	struct sk_err *err)
{
	const struct sk__epopts *o = &ep->opt;
	const char *name = o->sni ? o->sni : ep->host;

	cfg->host = strdup(name ? name : "");
	if (!cfg->host)
		return -ENOMEM;
	cfg->host[strcspn(cfg->host, "%")] = '\0'; /* a v6 scope is not in certificates */
	cfg->host_is_ip = is_ip_literal(cfg->host);
	if (!cfg->host_is_ip) {
		cfg->sni = strdup(cfg->host);
		if (!cfg->sni)
			return -ENOMEM;
	}
	if (o->pin) {
		set_pin(cfg, o->pin);
		SSL_CTX_set_cert_verify_callback(cfg->ctx, verify_pin, cfg);
	}
	cfg->unverified = o->insecure && !o->pin;
	SSL_CTX_set_verify(cfg->ctx, cfg->unverified ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
		cfg->report_only ? verify_noting : NULL);
	if (cfg->alpn && SSL_CTX_set_alpn_protos(cfg->ctx, cfg->alpn, (unsigned)cfg->alpn_len))
		return config_usage(err, "alpn", o->alpn.items[0], "rejected by OpenSSL");
	if (o->cert || o->key)
		return load_cert_key(cfg, o->cert ? o->cert : o->key, o->key ? o->key : o->cert,
			err);
	return 0;
}

/* The server's choice: its own first protocol that the client offers. */
static int on_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
	const unsigned char *in, unsigned inlen, void *arg)
{
	struct sk_tls_config *cfg = arg;
	unsigned char *sel = NULL;

	(void)ssl;
	if (SSL_select_next_proto(&sel, outlen, cfg->alpn, (unsigned)cfg->alpn_len, in, inlen) !=
		OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static int setup_server(struct sk_tls_config *cfg, const struct sk_endpoint *ep,
	struct sk_err *err)
{
	const struct sk__epopts *o = &ep->opt;
	int rc;

	if (o->cert || o->key)
		rc = load_cert_key(cfg, o->cert ? o->cert : o->key, o->key ? o->key : o->cert, err);
	else
		rc = make_ephemeral(cfg, err);
	if (rc < 0)
		return rc;
	if (o->verify_client)
		SSL_CTX_set_verify(cfg->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			NULL);
	/* Nothing resumes sessions here, and tickets a client never reads would
	 * turn its close into a reset (unread data) that can cut what it sent. */
	SSL_CTX_set_num_tickets(cfg->ctx, 0);
	if (cfg->alpn)
		SSL_CTX_set_alpn_select_cb(cfg->ctx, on_alpn_select, cfg);
	return 0;
}

/* alpn=h2,alpn=http/1.1 as the wire list: a length byte before each name. */
static int build_alpn(struct sk_tls_config *cfg, const struct sk__strlist *l)
{
	size_t total = 0, k = 0;

	if (!l->count)
		return 0;
	for (size_t i = 0; i < l->count; i++)
		total += 1 + strlen(l->items[i]);
	cfg->alpn = malloc(total);
	if (!cfg->alpn)
		return -ENOMEM;
	for (size_t i = 0; i < l->count; i++) {
		size_t n = strlen(l->items[i]);

		cfg->alpn[k++] = (unsigned char)n;
		memcpy(cfg->alpn + k, l->items[i], n);
		k += n;
	}
	cfg->alpn_len = total;
	return 0;
}

/* NSS key log lines for Wireshark; the file descriptor was opened 0600. */
static void on_keylog(const SSL *ssl, const char *line)
{
	struct sk_tls_config *cfg = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	size_t n = strlen(line);
	char *rec = malloc(n + 1);

	if (!rec)
		return;
	memcpy(rec, line, n);
	rec[n] = '\n';
	/* One write per line, so concurrent writers (O_APPEND) never interleave. */
	if (write(cfg->keylog_fd, rec, n + 1) < 0) {
		/* nothing to do: a key log is best effort */
	}
	free(rec);
}

static int open_keylog(struct sk_tls_config *cfg, struct sk_err *err)
{
	const char *path = getenv("SSLKEYLOGFILE");

	if (!path || !*path)
		return 0;
	cfg->keylog_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (cfg->keylog_fd < 0)
		return sk__fail(err, -errno, "SSLKEYLOGFILE '%s'", path);
	SSL_CTX_set_keylog_callback(cfg->ctx, on_keylog);
	return 0;
}

static void tls_config_free(struct sk_tls_config *cfg);

static int setup_common(struct sk_tls_config *cfg, const struct sk_endpoint *ep,
	struct sk_err *err)
{
	const struct sk__epopts *o = &ep->opt;
	char why[256];
	int rc;

	SSL_CTX_set_app_data(cfg->ctx, cfg);
	SSL_CTX_set_mode(cfg->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
					   SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (!SSL_CTX_set_min_proto_version(cfg->ctx, o->tls_min ? (int)o->tls_min : TLS1_2_VERSION))
		return config_usage(err, "tls-min", "?", "rejected by OpenSSL");
	if (o->tls_max && !SSL_CTX_set_max_proto_version(cfg->ctx, (int)o->tls_max))
		return config_usage(err, "tls-max", "?", "rejected by OpenSSL");
	if (o->ciphers && !SSL_CTX_set_cipher_list(cfg->ctx, o->ciphers))
		return config_usage(err, "ciphers", o->ciphers,
			ossl_reason(why, sizeof(why), "no cipher matched"));
	if (o->ciphersuites && !SSL_CTX_set_ciphersuites(cfg->ctx, o->ciphersuites))
		return config_usage(err, "ciphersuites", o->ciphersuites,
			ossl_reason(why, sizeof(why), "no cipher suite matched"));
	if (o->key_pass) {
		rc = load_pass(cfg, o->key_pass, err);
		if (rc < 0)
			return rc;
	}
	if (o->ca) {
		rc = load_ca(cfg, o->ca, err);
		if (rc < 0)
			return rc;
	} else if (!cfg->server || o->verify_client) {
		SSL_CTX_set_default_verify_paths(cfg->ctx);
	}
	rc = build_alpn(cfg, &o->alpn);
	if (rc < 0)
		return rc;
	return open_keylog(cfg, err);
}

static int tls_config_new(const struct sk_endpoint *ep, const struct sk_tls_config_opts *opts,
	struct sk_tls_config **out, struct sk_err *err)
{
	struct sk_tls_config *cfg;
	int rc;

	*out = NULL;
	if (ep->type->transport != SK_TLS && ep->type->transport != SK_WSS)
		return sk__fail_why(err, SK_EUSAGE, -1, "not a TLS endpoint", "TLS for %s",
			ep->type->name);
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return sk__fail(err, -ENOMEM, "TLS configuration");
	cfg->head.ops = &sk__tls_module_ops;
	cfg->keylog_fd = -1;
	cfg->server = ep->type->listener;
	if (opts) {
		cfg->pass_cb = opts->passphrase;
		cfg->pass_userdata = opts->userdata;
		cfg->report_only = opts->report_only;
	}
	cfg->ctx = SSL_CTX_new(cfg->server ? TLS_server_method() : TLS_client_method());
	cfg->sock_method = make_sock_method();
	if (!cfg->ctx || !cfg->sock_method) {
		SSL_CTX_free(cfg->ctx);
		BIO_meth_free(cfg->sock_method);
		free(cfg);
		return sk__fail_why(err, -ENOMEM, -1, "OpenSSL could not start", "TLS configuration");
	}
	rc = setup_common(cfg, ep, err);
	if (rc == 0)
		rc = cfg->server ? setup_server(cfg, ep, err) : setup_client(cfg, ep, err);
	OPENSSL_cleanse(cfg->pass, sizeof(cfg->pass));
	cfg->key_path = NULL;
	ERR_clear_error();
	if (rc < 0) {
		if (rc == -ENOMEM && err && !err->what[0])
			sk__fail(err, rc, "TLS configuration");
		tls_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

static void tls_config_free(struct sk_tls_config *cfg)
{
	if (!cfg)
		return;
	SSL_CTX_free(cfg->ctx);
	BIO_meth_free(cfg->sock_method);
	if (cfg->keylog_fd >= 0)
		close(cfg->keylog_fd);
	free(cfg->host);
	free(cfg->sni);
	free(cfg->alpn);
	free(cfg);
}

static const char *tls_config_fingerprint(const struct sk_tls_config *cfg)
{
	return cfg->fingerprint[0] ? cfg->fingerprint : NULL;
}

static bool tls_config_keylog(const struct sk_tls_config *cfg)
{
	return cfg->keylog_fd >= 0;
}

static bool tls_config_unverified(const struct sk_tls_config *cfg)
{
	return cfg->unverified;
}

/* ---- the session ----------------------------------------------------------------- */

struct bridge_buf {
	char *data;
	size_t off, len;
};

struct sk_tls_session {
	struct sk__tls_head head; /* first: the exports dispatch through it */
	struct sk_loop *loop;
	const struct sk_tls_config *cfg;
	SSL *ssl;
	int tcp_fd, plain_fd;
	int timer;
	sk_tls_ready_cb ready;
	sk_tls_done_cb done;
	void *userdata;
	bool handshaking;
	bool want_read, want_write;  /* what OpenSSL waits for on tcp_fd */
	bool plain_eof;              /* the caller's end shut its write side */
	bool notify_sent;            /* our close_notify is out, TCP write side shut */
	bool tls_eof;                /* the peer's close_notify arrived */
	bool plain_shut;             /* the caller saw EOF */
	bool finished;
	bool discarding;             /* failed: the caller's bytes are dropped */
	int busy;
	bool dead;
	struct bridge_buf out;       /* plaintext on its way into TLS */
	struct bridge_buf in;        /* decrypted, on its way to the caller */
	char peer[160];
	char alpn[256];
	char subject[256];
	char issuer[256];
	char sans[512];
	char verify[160];
	int64_t not_after;
};

static void session_free(struct sk_tls_session *s)
{
	if (s->timer > 0)
		sk_loop_cancel_timer(s->loop, s->timer);
	if (s->tcp_fd >= 0) {
		sk_loop_del_fd(s->loop, s->tcp_fd);
		close(s->tcp_fd);
	}
	if (s->plain_fd >= 0) {
		sk_loop_del_fd(s->loop, s->plain_fd);
		close(s->plain_fd);
	}
	SSL_free(s->ssl);
	free(s->out.data);
	free(s->in.data);
	free(s);
}

static void release(struct sk_tls_session *s)
{
	if (s->busy == 0 && s->dead)
		session_free(s);
}

static void tls_session_destroy(struct sk_tls_session *s)
{
	if (!s)
		return;
	s->dead = true;
	s->finished = true;
	release(s);
}

/* Why a handshake failed, in the words of SPEC §6: verify error, alert or protocol. */
static int handshake_error(struct sk_tls_session *s, int ssl_rc, struct sk_err *err)
{
	long verify = SSL_get_verify_result(s->ssl);
	int e = SSL_get_error(s->ssl, ssl_rc);
	char why[256], reason[200];
	int detail = 0;

	if (verify == X509_V_ERR_CERT_REJECTED && s->cfg->pinned) {
		snprintf(why, sizeof(why), "certificate does not match the pin");
		detail = (int)verify;
	} else if (verify != X509_V_OK) {
		snprintf(why, sizeof(why), "certificate verify failed: %s",
			X509_verify_cert_error_string(verify));
		detail = (int)verify;
	} else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno && ssl_rc < 0) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
	} else if ((e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) ||
		   ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		snprintf(why, sizeof(why), "the peer closed the connection during the handshake");
	} else {
		snprintf(why, sizeof(why), "%s",
			ossl_reason(reason, sizeof(reason), "handshake failed"));
	}
	ERR_clear_error();
	sk__fail_why(err, SK_ETLS, -1, why, "TLS handshake with %s", s->peer);
	if (err)
		err->detail = detail;
	return SK_ETLS;
}

static void finish(struct sk_tls_session *s, int status, const struct sk_err *err);
static void on_io(struct sk_loop *loop, int fd, unsigned events, void *userdata);

static void on_deadline(struct sk_loop *loop, void *userdata)
{
	struct sk_tls_session *s = userdata;
	struct sk_err err;

	(void)loop;
	s->timer = 0;
	sk__fail_why(&err, SK_ETLS, -1, "handshake timed out", "TLS handshake with %s", s->peer);
	sk_loop_del_fd(s->loop, s->tcp_fd);
	s->handshaking = false;
	s->busy++;
	s->finished = true;
	if (s->ready)
		s->ready(s, SK_ETLS, &err, s->userdata);
	s->busy--;
	release(s);
}

/* An X509 name as RFC 2253 text into out. */
static void name_text(X509_NAME *name, char *out, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	out[0] = '\0';
	if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_get_mem_data(b, &p);
		snprintf(out, len, "%.*s", (int)n, p ? p : "");
	}
	BIO_free(b);
}

/* "DNS:a.example,IP:192.0.2.1": the certificate's subjectAltName entries. */
static void sans_text(X509 *cert, char *out, size_t len)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		char one[300] = "";

		if (g->type == GEN_DNS) {
			snprintf(one, sizeof(one), "DNS:%.*s", ASN1_STRING_length(g->d.dNSName),
				(const char *)ASN1_STRING_get0_data(g->d.dNSName));
		} else if (g->type == GEN_IPADD) {
			const unsigned char *ip = ASN1_STRING_get0_data(g->d.iPAddress);
			int n = ASN1_STRING_length(g->d.iPAddress);
			char text[64];

			if (inet_ntop(n == 4 ? AF_INET : AF_INET6, ip, text, sizeof(text)))
				snprintf(one, sizeof(one), "IP:%s", text);
		}
		if (one[0] && used + strlen(one) + 2 < len)
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "", one);
	}
	GENERAL_NAMES_free(names);
}

static void record_info(struct sk_tls_session *s)
{
	const unsigned char *alpn = NULL;
	unsigned alen = 0;
	X509 *peer = SSL_get1_peer_certificate(s->ssl);
	long verify = SSL_get_verify_result(s->ssl);

	SSL_get0_alpn_selected(s->ssl, &alpn, &alen);
	snprintf(s->alpn, sizeof(s->alpn), "%.*s", (int)alen, alpn ? (const char *)alpn : "");
	s->subject[0] = s->issuer[0] = s->sans[0] = '\0';
	s->not_after = 0;
	if (verify == X509_V_ERR_CERT_REJECTED && s->cfg->pinned)
		snprintf(s->verify, sizeof(s->verify), "certificate does not match the pin");
	else if (SSL_get_verify_mode(s->ssl) == SSL_VERIFY_NONE)
		snprintf(s->verify, sizeof(s->verify), "not verified (insecure)");
	else
		snprintf(s->verify, sizeof(s->verify), "%s",
			verify == X509_V_OK ? "ok" : X509_verify_cert_error_string(verify));
	if (peer) {
		struct tm tm;

		name_text(X509_get_subject_name(peer), s->subject, sizeof(s->subject));
		name_text(X509_get_issuer_name(peer), s->issuer, sizeof(s->issuer));
		sans_text(peer, s->sans, sizeof(s->sans));
		if (ASN1_TIME_to_tm(X509_get0_notAfter(peer), &tm))
			s->not_after = (int64_t)timegm(&tm);
		X509_free(peer);
	}
}

/* The handshake is done: make the socketpair and give the caller its end. */
static void handshake_done(struct sk_tls_session *s)
{
	struct sk_err err;
	int sv[2];

	s->handshaking = false;
	if (s->timer > 0)
		sk_loop_cancel_timer(s->loop, s->timer);
	s->timer = 0;
	record_info(s);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		s->finished = true;
		s->ready(s, sk__fail(&err, -errno, "TLS handshake with %s", s->peer), &err, s->userdata);
		return;
	}
	if (sk_loop_add_fd(s->loop, sv[0], SK_EV_IN, on_io, s) < 0) {
		close(sv[0]);
		close(sv[1]);
		s->finished = true;
		s->ready(s, sk__fail(&err, -ENOMEM, "TLS handshake with %s", s->peer), &err, s->userdata);
		return;
	}
	s->plain_fd = sv[0];
	s->ready(s, sv[1], NULL, s->userdata);
}

static void do_handshake(struct sk_tls_session *s)
{
	struct sk_err err;
	int rc = SSL_do_handshake(s->ssl);

	if (rc == 1) {
		handshake_done(s);
		return;
	}
	switch (SSL_get_error(s->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		s->want_read = true;
		return;
	case SSL_ERROR_WANT_WRITE:
		s->want_write = true;
		return;
	default:
		break;
	}
	rc = handshake_error(s, rc, &err);
	sk_loop_del_fd(s->loop, s->tcp_fd);
	s->handshaking = false;
	s->finished = true;
	if (s->timer > 0)
		sk_loop_cancel_timer(s->loop, s->timer);
	s->timer = 0;
	s->ready(s, rc, &err, s->userdata);
}

/* A failure of the TLS stream after the handshake: reset, truncation, protocol error. */
static int stream_error(struct sk_tls_session *s, int ssl_rc, int saved_errno,
	struct sk_err *err)
{
	int e = SSL_get_error(s->ssl, ssl_rc);
	unsigned long code = ERR_peek_last_error();
	char reason[200];

	if (e == SSL_ERROR_SYSCALL && saved_errno == ECONNRESET) {
		ERR_clear_error();
		return sk__fail(err, -ECONNRESET, "TLS connection with %s", s->peer);
	}
	if ((e == SSL_ERROR_SSL && ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
		(e == SSL_ERROR_SYSCALL && (saved_errno == 0 || ssl_rc == 0))) {
		ERR_clear_error();
		return sk__fail_why(err, -EPROTO, -1, "TLS stream truncated (no close_notify)", "TLS connection with %s", s->peer);
	}
	if (e == SSL_ERROR_SYSCALL) {
		ERR_clear_error();
		return sk__fail(err, saved_errno ? -saved_errno : -EIO, "TLS connection with %s", s->peer);
	}
	/* An alert after the handshake (TLS 1.3: a refused client certificate). */
	return sk__fail_why(err, SK_ETLS, -1, ossl_reason(reason, sizeof(reason), "TLS error"),
		"TLS connection with %s", s->peer);
}

/* Plaintext from the caller into TLS records. Returns true on progress. */
static bool move_out(struct sk_tls_session *s, int *status, struct sk_err *err)
{
	struct bridge_buf *b = &s->out;
	bool progress = false;

	if (b->len == 0 && !s->plain_eof) {
		ssize_t n = recv(s->plain_fd, b->data, BRIDGE_BUF, MSG_DONTWAIT);

		if (n > 0) {
			b->off = 0;
			b->len = (size_t)n;
			progress = true;
		} else if (n == 0 || errno != EAGAIN) {
			s->plain_eof = true;
			progress = true;
		}
	}
	while (b->len) {
		int rc;

		errno = 0;
		rc = SSL_write(s->ssl, b->data + b->off, (int)b->len);
		if (rc > 0) {
			b->off += (size_t)rc;
			b->len -= (size_t)rc;
			progress = true;
			continue;
		}
		switch (SSL_get_error(s->ssl, rc)) {
		case SSL_ERROR_WANT_READ:
			s->want_read = true;
			return progress;
		case SSL_ERROR_WANT_WRITE:
			s->want_write = true;
			return progress;
		default:
			*status = stream_error(s, rc, errno, err);
			return true;
		}
	}
	if (s->plain_eof && !s->notify_sent) {
		int rc = SSL_shutdown(s->ssl);

		if (rc < 0 && SSL_get_error(s->ssl, rc) == SSL_ERROR_WANT_WRITE) {
			s->want_write = true;
			return progress;
		}
		ERR_clear_error();
		shutdown(s->tcp_fd, SHUT_WR);
		s->notify_sent = true;
		progress = true;
	}
	return progress;
}

/* Decrypted bytes to the caller; the peer's close_notify becomes EOF. */
static bool move_in(struct sk_tls_session *s, int *status, struct sk_err *err)
{
	struct bridge_buf *b = &s->in;
	bool progress = false;

	if (b->len == 0 && !s->tls_eof) {
		int rc;

		errno = 0;
		rc = SSL_read(s->ssl, b->data, BRIDGE_BUF);
		if (rc > 0) {
			b->off = 0;
			b->len = (size_t)rc;
			progress = true;
		} else {
			switch (SSL_get_error(s->ssl, rc)) {
			case SSL_ERROR_WANT_READ:
				s->want_read = true;
				break;
			case SSL_ERROR_WANT_WRITE:
				s->want_write = true;
				break;
			case SSL_ERROR_ZERO_RETURN:
				s->tls_eof = true;
				progress = true;
				break;
			default:
				*status = stream_error(s, rc, errno, err);
				return true;
			}
		}
	}
	while (b->len) {
		ssize_t n = send(s->plain_fd, b->data + b->off, b->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN)
			return progress;
		if (n < 0) {
			/* The caller closed its end: what the peer sends has nowhere to go. */
			b->len = 0;
			s->tls_eof = true;
			break;
		}
		b->off += (size_t)n;
		b->len -= (size_t)n;
		progress = true;
	}
	if (s->tls_eof && !s->plain_shut) {
		shutdown(s->plain_fd, SHUT_WR);
		s->plain_shut = true;
		progress = true;
	}
	return progress;
}

static void bridge(struct sk_tls_session *s)
{
	struct sk_err err;
	int status = 0;
	bool progress = true;

	while (progress && status == 0) {
		s->want_read = s->want_write = false;
		progress = move_out(s, &status, &err);
		if (status == 0)
			progress = move_in(s, &status, &err) || progress;
	}
	if (status < 0)
		finish(s, status, &err);
	else if (s->notify_sent && s->plain_shut && s->in.len == 0)
		finish(s, 0, NULL);
}

/*
 * Report first, then end the caller's stream: a failure reaches the caller
 * before its pump sees EOF (a truncation must not pass for a clean end).
 * After a failure the plaintext end only shows EOF, and what the caller
 * still writes is read and dropped, so it ends as cleanly as it would on
 * EOF and the failure reported here is the one that counts.
 */
static void finish(struct sk_tls_session *s, int status, const struct sk_err *err)
{
	s->finished = true;
	sk_loop_del_fd(s->loop, s->tcp_fd);
	sk_loop_del_fd(s->loop, s->plain_fd);
	if (s->done)
		s->done(s, status, err, s->userdata);
	if (s->dead)
		return;
	if (status < 0) {
		shutdown(s->plain_fd, SHUT_WR);
		s->discarding = true;
		sk_loop_add_fd(s->loop, s->plain_fd, SK_EV_IN, on_io, s);
		return;
	}
	close(s->plain_fd);
	s->plain_fd = -1;
}

/* After a failure: the caller's bytes have nowhere to go. */
static void discard(struct sk_tls_session *s)
{
	ssize_t n;

	do
		n = recv(s->plain_fd, s->out.data, BRIDGE_BUF, MSG_DONTWAIT);
	while (n > 0);
	if (n == 0 || errno != EAGAIN) {
		sk_loop_del_fd(s->loop, s->plain_fd);
		s->discarding = false;
	}
}

static void update_interest(struct sk_tls_session *s)
{
	unsigned tcp = 0, plain = 0;

	if (s->finished || s->dead)
		return;
	if (s->want_read || (!s->handshaking && !s->tls_eof && s->in.len == 0))
		tcp |= SK_EV_IN;
	if (s->want_write)
		tcp |= SK_EV_OUT;
	sk_loop_mod_fd(s->loop, s->tcp_fd, tcp);
	if (s->plain_fd < 0)
		return;
	if (s->out.len == 0 && !s->plain_eof)
		plain |= SK_EV_IN;
	if (s->in.len)
		plain |= SK_EV_OUT;
	sk_loop_mod_fd(s->loop, s->plain_fd, plain);
}

static void on_io(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct sk_tls_session *s = userdata;

	(void)loop;
	(void)fd;
	(void)events;
	s->busy++;
	if (s->discarding)
		discard(s);
	if (s->handshaking) {
		s->want_read = s->want_write = false;
		do_handshake(s);
	}
	if (!s->handshaking && !s->finished && !s->dead && s->plain_fd >= 0)
		bridge(s);
	update_interest(s);
	s->busy--;
	release(s);
}

static int session_setup(struct sk_tls_session *s, struct sk_err *err)
{
	const struct sk_tls_config *cfg = s->cfg;
	BIO *bio;

	s->out.data = malloc(BRIDGE_BUF);
	s->in.data = malloc(BRIDGE_BUF);
	s->ssl = SSL_new(cfg->ctx);
	bio = BIO_new(cfg->sock_method);
	if (!s->out.data || !s->in.data || !s->ssl || !bio) {
		BIO_free(bio);
		return sk__fail(err, -ENOMEM, "TLS handshake with %s", s->peer);
	}
	BIO_set_fd(bio, s->tcp_fd, BIO_NOCLOSE);
	SSL_set_bio(s->ssl, bio, bio);
	if (cfg->server) {
		SSL_set_accept_state(s->ssl);
		return 0;
	}
	SSL_set_connect_state(s->ssl);
	if (cfg->sni && !SSL_set_tlsext_host_name(s->ssl, cfg->sni))
		return sk__fail_why(err, SK_EUSAGE, -1, "rejected by OpenSSL", "sni '%s'", cfg->sni);
	if (cfg->host_is_ip &&
		!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), cfg->host))
		return sk__fail(err, -ENOMEM, "TLS handshake with %s", s->peer);
	if (!cfg->host_is_ip && cfg->host[0] && !SSL_set1_host(s->ssl, cfg->host))
		return sk__fail(err, -ENOMEM, "TLS handshake with %s", s->peer);
	return 0;
}

static int tls_session_start(struct sk_loop *loop, const struct sk_tls_config *cfg, int fd,
	const struct sk_tls_session_opts *opts, struct sk_tls_session **out, struct sk_err *err)
{
	struct sk_tls_session *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return sk__fail(err, -ENOMEM, "TLS session");
	}
	s->head.ops = &sk__tls_module_ops;
	s->loop = loop;
	s->cfg = cfg;
	s->tcp_fd = fd;
	s->plain_fd = -1;
	s->handshaking = true;
	s->ready = opts->ready;
	s->done = opts->done;
	s->userdata = opts->userdata;
	snprintf(s->peer, sizeof(s->peer), "%s", opts->peer ? opts->peer : "peer");
	rc = session_setup(s, err);
	if (rc == 0 && sk_loop_add_fd(loop, fd, SK_EV_IN | SK_EV_OUT, on_io, s) < 0)
		rc = sk__fail(err, -ENOMEM, "TLS handshake with %s", s->peer);
	if (rc == 0 && opts->timeout_ms > 0) {
		s->timer = sk_loop_add_timer(loop, opts->timeout_ms, on_deadline, s);
		if (s->timer < 0)
			rc = sk__fail(err, s->timer, "TLS handshake with %s", s->peer);
	}
	if (rc < 0) {
		s->timer = s->timer > 0 ? s->timer : 0;
		session_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static void tls_session_info(const struct sk_tls_session *s, struct sk_tls_info *info)
{
	info->protocol = SSL_get_version(s->ssl);
	info->cipher = SSL_get_cipher_name(s->ssl);
	info->alpn = s->alpn;
	info->peer_subject = s->subject;
	info->peer_issuer = s->issuer;
	info->peer_sans = s->sans;
	info->not_after = s->not_after;
	info->verify = s->verify;
}

/* What tls_loader.c finds with dlsym: the only symbol the module exports. */
__attribute__((visibility("default"))) const struct sk__tls_ops sk__tls_module_ops = {
	.config_new = tls_config_new,
	.config_free = tls_config_free,
	.config_fingerprint = tls_config_fingerprint,
	.config_keylog = tls_config_keylog,
	.config_unverified = tls_config_unverified,
	.session_start = tls_session_start,
	.session_destroy = tls_session_destroy,
	.session_info = tls_session_info,
};
