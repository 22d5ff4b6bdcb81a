/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tls_loader.c - the sk_tls_* exports: the first TLS call opens the module
 * sockit-tls.so (tls.c, linked with OpenSSL), so that a program that never
 * uses TLS never loads OpenSSL at all. Each configuration holds its own
 * reference to the module and each object points at the module's entry
 * points, so there is no global state here.
 */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A program that links tls.c itself (the unit tests) has the module built in. */
#pragma weak sk__tls_module_ops

static const char MODULE_NAME[] = "sockit-tls.so";

/* Beside libsockit.so: installed in its "sockit" directory, in a build tree next to it. */
static void *open_beside(const char *libpath, const char *sub, char *tried, size_t len)
{
	const char *slash = strrchr(libpath, '/');
	int dirlen = slash ? (int)(slash - libpath) : 1;
	int n = snprintf(tried, len, "%.*s%s/%s", dirlen, slash ? libpath : ".", sub,
		MODULE_NAME);

	if (n < 0 || (size_t)n >= len)
		return NULL;
	return dlopen(tried, RTLD_NOW | RTLD_LOCAL);
}

static int load_module(const struct sk__tls_ops **ops, void **module, struct sk_err *err)
{
	char tried[4096];
	Dl_info info;
	void *dl = NULL;

	*module = NULL;
	if (&sk__tls_module_ops) {
		*ops = &sk__tls_module_ops;
		return 0;
	}
	/* Any address inside libsockit names the file it was loaded from. */
	if (dladdr(MODULE_NAME, &info) && info.dli_fname) {
		dl = open_beside(info.dli_fname, "/sockit", tried, sizeof(tried));
		if (!dl)
			dl = open_beside(info.dli_fname, "", tried, sizeof(tried));
	}
	if (!dl) {
		snprintf(tried, sizeof(tried), "%s", SK__TLS_MODULE_PATH);
		dl = dlopen(tried, RTLD_NOW | RTLD_LOCAL);
	}
	if (!dl)
		return sk__fail_why(err, -ELIBACC, -1, dlerror(), "TLS module %s", MODULE_NAME);
	*ops = dlsym(dl, SK__TLS_OPS_SYMBOL);
	if (!*ops) {
		dlclose(dl);
		return sk__fail_why(err, -ELIBBAD, -1, "no entry point", "TLS module %s", tried);
	}
	*module = dl;
	return 0;
}

/* Every object the module makes starts with its head. */
static const struct sk__tls_head *head_of(const void *obj)
{
	return obj;
}

int sk_tls_config_new(const struct sk_endpoint *ep, const struct sk_tls_config_opts *opts,
	struct sk_tls_config **out, struct sk_err *err)
{
	const struct sk__tls_ops *ops;
	void *module;
	int rc;

	*out = NULL;
	rc = load_module(&ops, &module, err);
	if (rc < 0)
		return rc;
	rc = ops->config_new(ep, opts, out, err);
	if (rc < 0) {
		if (module)
			dlclose(module);
		return rc;
	}
	((struct sk__tls_head *)*out)->module = module;
	return 0;
}

void sk_tls_config_free(struct sk_tls_config *cfg)
{
	void *module;

	if (!cfg)
		return;
	module = head_of(cfg)->module;
	head_of(cfg)->ops->config_free(cfg);
	if (module)
		dlclose(module);
}

const char *sk_tls_config_fingerprint(const struct sk_tls_config *cfg)
{
	return head_of(cfg)->ops->config_fingerprint(cfg);
}

bool sk_tls_config_keylog(const struct sk_tls_config *cfg)
{
	return head_of(cfg)->ops->config_keylog(cfg);
}

bool sk_tls_config_unverified(const struct sk_tls_config *cfg)
{
	return head_of(cfg)->ops->config_unverified(cfg);
}

int sk_tls_session_start(struct sk_loop *loop, const struct sk_tls_config *cfg, int fd,
	const struct sk_tls_session_opts *opts, struct sk_tls_session **out, struct sk_err *err)
{
	return head_of(cfg)->ops->session_start(loop, cfg, fd, opts, out, err);
}

void sk_tls_session_destroy(struct sk_tls_session *s)
{
	if (s)
		head_of(s)->ops->session_destroy(s);
}

void sk_tls_session_info(const struct sk_tls_session *s, struct sk_tls_info *info)
{
	head_of(s)->ops->session_info(s, info);
}
