/* SPDX-License-Identifier: BSD-2-Clause */
/* resolve.c - getaddrinfo/getnameinfo that keep the resolver's reason and the name;
 * the local interfaces. */
#include "internal.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An EAI_* failure as SK_ERESOLVE (the resolver's text), or EAI_SYSTEM as -errno. */
static int gai_fail(struct sk_err *err, int rc, int saved_errno, const char *what)
{
	if (rc == EAI_SYSTEM && saved_errno)
		return sk__fail(err, -saved_errno, "%s", what);
	if (rc == EAI_MEMORY)
		return sk__fail(err, -ENOMEM, "%s", what);
	sk__fail_why(err, SK_ERESOLVE, -1, gai_strerror(rc), "%s", what);
	if (err)
		err->detail = rc;
	return SK_ERESOLVE;
}

int sk__resolve(const char *host, unsigned port, int family, int socktype, bool passive,
	struct addrinfo **out, struct sk_err *err)
{
	struct addrinfo hints = {
		.ai_family = family,
		.ai_socktype = socktype,
		.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0),
	};
	char service[8], what[sizeof(err->what)];
	int rc, saved_errno;

	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host && *host ? host : NULL, service, &hints, out);
	if (rc == 0)
		return 0;
	saved_errno = errno;
	*out = NULL;
	snprintf(what, sizeof(what), "resolve %s", host ? host : "");
	return gai_fail(err, rc, saved_errno, what);
}

int sk_hostname_check(const char *name, struct sk_err *err)
{
	struct sk__pctx c = { .text = name, .err = err, .view = name, .noun = "name" };
	struct sockaddr_storage ss;
	socklen_t len;

	if (!name || !*name)
		return sk__fail_why(err, SK_EUSAGE, -1, "empty name", "name ''");
	if (sk__addr_parse_numeric(name, 0, &ss, &len) == 0)
		return 0;
	return sk__check_dns_name(&c, name, strlen(name));
}

void sk__resolve_hints(const struct sk_resolve_opts *o, struct addrinfo *hints)
{
	*hints = (struct addrinfo){
		.ai_family = o->family,
		.ai_socktype = o->socktype,
		.ai_flags = (o->canonical ? AI_CANONNAME : 0) | (o->passive ? AI_PASSIVE : 0) |
			    (o->numeric ? AI_NUMERICHOST : 0) | (o->addrconfig ? AI_ADDRCONFIG : 0),
	};
}

static bool same_answer(const struct sk_addrinfo *a, const struct sk_addrinfo *b, bool by_address)
{
	if (a->family != b->family || a->addrlen != b->addrlen ||
		memcmp(&a->addr, &b->addr, a->addrlen) != 0)
		return false;
	return by_address || (a->socktype == b->socktype && a->protocol == b->protocol);
}

size_t sk__addrinfo_dedup(struct sk_addrinfo *items, size_t n, bool by_address)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < kept && !same_answer(&items[j], &items[i], by_address))
			j++;
		if (j == kept)
			items[kept++] = items[i];
	}
	return kept;
}

void sk_addrinfo_list_free(struct sk_addrinfo_list *list)
{
	if (!list)
		return;
	free(list->canonical);
	free(list->items);
	free(list);
}

/* Copy the resolver's answers that fit a sockaddr_storage, then drop repeats. */
static int list_from(const struct addrinfo *res, bool by_address, struct sk_addrinfo_list **out)
{
	struct sk_addrinfo_list *l = calloc(1, sizeof(*l));
	size_t n = 0;

	if (!l)
		return -ENOMEM;
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
		n++;
	l->items = calloc(n ? n : 1, sizeof(*l->items));
	if (!l->items ||
		(res && res->ai_canonname && !(l->canonical = strdup(res->ai_canonname)))) {
		sk_addrinfo_list_free(l);
		return -ENOMEM;
	}
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		struct sk_addrinfo *it = &l->items[l->count];

		if (ai->ai_addrlen > sizeof(it->addr))
			continue;
		it->family = ai->ai_family;
		it->socktype = ai->ai_socktype;
		it->protocol = ai->ai_protocol;
		it->addrlen = ai->ai_addrlen;
		memcpy(&it->addr, ai->ai_addr, ai->ai_addrlen);
		l->count++;
	}
	l->count = sk__addrinfo_dedup(l->items, l->count, by_address);
	*out = l;
	return 0;
}

int sk_resolve(const char *name, const char *service, const struct sk_resolve_opts *opts,
	struct sk_addrinfo_list **out, struct sk_err *err)
{
	static const struct sk_resolve_opts defaults;
	struct addrinfo hints, *res = NULL;
	char what[sizeof(err->what)], t[SK__TOKLEN];
	int rc;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (name || !opts->passive) {
		rc = sk_hostname_check(name, err);
		if (rc < 0)
			return rc;
	}
	sk__resolve_hints(opts, &hints);
	if (!name)
		hints.ai_flags &= ~AI_CANONNAME; /* EAI_BADFLAGS without a name to canonicalise */
	rc = getaddrinfo(name, service, &hints, &res);
	if (rc != 0) {
		int saved_errno = errno;

		if (rc == EAI_SERVICE && service)
			snprintf(what, sizeof(what), "service %s",
				sk__tok(service, strlen(service), t, sizeof(t)));
		else
			snprintf(what, sizeof(what), "%s", name ? name : "*");
		return gai_fail(err, rc, saved_errno, what);
	}
	rc = list_from(res, opts->by_address, out);
	freeaddrinfo(res);
	if (rc < 0)
		return sk__fail(err, rc, "%s", name ? name : "*");
	if ((*out)->count == 0) {
		sk_addrinfo_list_free(*out);
		*out = NULL;
		return gai_fail(err, EAI_FAMILY, 0, name ? name : "*");
	}
	return 0;
}

int sk_reverse(const struct sockaddr *sa, socklen_t salen, unsigned flags, char *host,
	size_t hostlen, char *serv, size_t servlen, struct sk_err *err)
{
	int niflags = ((flags & SK_REVERSE_NAMEREQD) ? NI_NAMEREQD : 0) |
		      ((flags & SK_REVERSE_NUMERIC_SERVICE) ? NI_NUMERICSERV : 0) |
		      ((flags & SK_REVERSE_DGRAM) ? NI_DGRAM : 0);
	char what[sizeof(err->what)];
	int rc, saved_errno;

	if (hostlen > NI_MAXHOST)
		hostlen = NI_MAXHOST; /* getnameinfo takes socklen_t sizes */
	if (servlen > NI_MAXSERV)
		servlen = NI_MAXSERV;
	rc = getnameinfo(
		sa, salen, host, (socklen_t)hostlen, serv, serv ? (socklen_t)servlen : 0, niflags);
	if (rc == 0)
		return 0;
	saved_errno = errno;
	sk_addr_format(sa, salen, what, sizeof(what));
	return gai_fail(err, rc, saved_errno, what);
}

/* ---- interfaces ------------------------------------------------------------ */

unsigned sk__mask_prefix(const struct sockaddr *mask)
{
	const unsigned char *b;
	unsigned bits = 0;
	size_t n;

	if (!mask)
		return 0;
	if (mask->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
		n = 4;
	} else if (mask->sa_family == AF_INET6) {
		b = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		n = 16;
	} else {
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		bits += (unsigned)__builtin_popcount(b[i]);
	return bits;
}

void sk_iface_list_free(struct sk_iface_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i].addrs);
	free(list->items);
	free(list);
}

/* Grow *items (each `size` bytes) to hold one more than *count. */
static int grow(void **items, size_t count, size_t size)
{
	size_t bytes;
	void *p;

	if (__builtin_add_overflow(count, 1, &count) || __builtin_mul_overflow(count, size, &bytes))
		return -ENOMEM;
	p = realloc(*items, bytes);
	if (!p)
		return -ENOMEM;
	*items = p;
	return 0;
}

/* The interface of ifa in l, added (without addresses) when new. */
static struct sk_iface *iface_get(struct sk_iface_list *l, const struct ifaddrs *ifa)
{
	struct sk_iface *it;
	size_t n = strlen(ifa->ifa_name);

	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].name, ifa->ifa_name) == 0)
			return &l->items[i];
	if (grow((void **)&l->items, l->count, sizeof(*l->items)) < 0)
		return NULL;
	it = &l->items[l->count++];
	*it = (struct sk_iface){ .index = if_nametoindex(ifa->ifa_name), .flags = ifa->ifa_flags };
	memcpy(it->name, ifa->ifa_name, n + 1);
	return it;
}

static int add_addr(struct sk_iface *it, const struct ifaddrs *ifa)
{
	int family = ifa->ifa_addr->sa_family;
	socklen_t len =
		family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	struct sk_iface_addr *a;

	if (grow((void **)&it->addrs, it->naddrs, sizeof(*it->addrs)) < 0)
		return -ENOMEM;
	a = &it->addrs[it->naddrs++];
	*a = (struct sk_iface_addr){ .addrlen = len, .prefix = sk__mask_prefix(ifa->ifa_netmask) };
	memcpy(&a->addr, ifa->ifa_addr, len);
	return 0;
}

static int by_index(const void *a, const void *b)
{
	unsigned x = ((const struct sk_iface *)a)->index, y = ((const struct sk_iface *)b)->index;

	return (x > y) - (x < y);
}

int sk_interfaces(struct sk_iface_list **out, struct sk_err *err)
{
	struct ifaddrs *all = NULL;
	struct sk_iface_list *l;
	int rc = 0;

	*out = NULL;
	if (getifaddrs(&all) < 0)
		return sk__fail(err, -errno, "list interfaces");
	l = calloc(1, sizeof(*l));
	if (!l)
		rc = -ENOMEM;
	for (const struct ifaddrs *ifa = all; ifa && rc == 0; ifa = ifa->ifa_next) {
		int family = ifa->ifa_addr ? ifa->ifa_addr->sa_family : AF_UNSPEC;
		struct sk_iface *it;

		/* The kernel keeps names below IFNAMSIZ; anything else is not ours to show. */
		if (strlen(ifa->ifa_name) >= SK_IFNAMSIZ)
			continue;
		it = iface_get(l, ifa);
		if (!it)
			rc = -ENOMEM;
		else if (family == AF_INET || family == AF_INET6)
			rc = add_addr(it, ifa);
	}
	freeifaddrs(all);
	if (rc < 0) {
		sk_iface_list_free(l);
		return sk__fail(err, rc, "list interfaces");
	}
	qsort(l->items, l->count, sizeof(*l->items), by_index);
	*out = l;
	return 0;
}
