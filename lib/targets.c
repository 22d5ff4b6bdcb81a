/* SPDX-License-Identifier: BSD-2-Clause */
/* targets.c - port lists and address blocks expanded into probe targets; pure. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One item of a port list: "22", "ssh" or "8000-8100". */
static int parse_port_item(const char *list, const char *s, size_t n, const char *proto,
	struct sk_port_range *out, struct sk_err *err)
{
	char what[SK__TOKLEN + 16], t[SK__TOKLEN];
	const char *dash = memchr(s, '-', n);
	int pos = (int)(s - list);
	unsigned long long a, b;
	int ra, rb;

	snprintf(what, sizeof(what), "port list '%s'", sk__tok(list, strlen(list), t, sizeof(t)));
	sk__tok(s, n, t, sizeof(t));
	if (dash) {
		size_t an = (size_t)(dash - s);

		ra = sk__parse_uint(s, an, 1, 65535, false, &a);
		rb = sk__parse_uint(dash + 1, n - an - 1, 1, 65535, false, &b);
		if (ra == 0 && rb == 0) {
			if (a > b)
				return sk__usage(err, pos, what, "range '%s' is reversed", t);
			*out = (struct sk_port_range){ (unsigned)a, (unsigned)b };
			return 0;
		}
		/* "1-99999", "0-5": numbers, but out of range. */
		if (ra != -EINVAL && rb != -EINVAL)
			return sk__usage(err, pos, what, "range '%s' out of range 1-65535", t);
	}
	ra = sk__parse_uint(s, n, 1, 65535, false, &a);
	if (ra == -ERANGE)
		return sk__usage(err, pos, what, "port '%s' out of range 1-65535", t);
	if (ra == 0) {
		*out = (struct sk_port_range){ (unsigned)a, (unsigned)a };
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (n > 64 || !(ch == '-' || ch == '_' || ch == '.' || ch == '+' || ch == '/' ||
				      (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
				      (ch >= 'A' && ch <= 'Z')))
			return sk__usage(err, pos, what, "invalid port '%s'", t);
	}
	{
		char *name = strndup(s, n);
		unsigned port = 0;
		int rc;

		if (!name)
			return sk__fail(err, -ENOMEM, "%s", what);
		rc = sk__service_port(name, proto, &port);
		free(name);
		if (rc == -ENOENT)
			return sk__usage(err, pos, what, "unknown service '%s'", t);
		if (rc < 0)
			return sk__fail(err, rc, "%s", what);
		if (port == 0)
			return sk__usage(err, pos, what, "service '%s' has port 0", t);
		*out = (struct sk_port_range){ port, port };
	}
	return 0;
}

int sk_port_list_parse(const char *text, const char *proto, struct sk_port_range **out,
	size_t *count, struct sk_err *err)
{
	char what[SK__TOKLEN + 16], t[SK__TOKLEN];
	size_t items = 1, n = 0;
	const char *p;

	*out = NULL;
	*count = 0;
	snprintf(what, sizeof(what), "port list '%s'", sk__tok(text, strlen(text), t, sizeof(t)));
	/* Empty items first: "a,,b" is a typo whatever 'a' means. */
	for (p = text;; p++) {
		if (*p == ',' || *p == '\0') {
			if (p == text || p[-1] == ',')
				return sk__usage(err, (int)(p - text), what, "empty item");
			if (*p == '\0')
				break;
			items++;
		}
	}
	*out = calloc(items, sizeof(**out));
	if (!*out)
		return sk__fail(err, -ENOMEM, "%s", what);
	for (p = text; *p; n++) {
		size_t len = strcspn(p, ",");
		int rc = parse_port_item(text, p, len, proto ? proto : "tcp", &(*out)[n], err);

		if (rc < 0) {
			free(*out);
			*out = NULL;
			return rc;
		}
		p += len + (p[len] == ',');
	}
	*count = n;
	return 0;
}

int sk_cidr_parse(const char *text, struct sk_cidr *out, struct sk_err *err)
{
	char what[SK__TOKLEN + 24], t[SK__TOKLEN];
	struct sk__cidr c;
	size_t n = strlen(text), bad;
	unsigned bytes, bits;
	int rc;

	snprintf(what, sizeof(what), "address block '%s'", sk__tok(text, n, t, sizeof(t)));
	rc = sk__cidr_parse(text, n, &c, &bad);
	if (rc == -ERANGE)
		return sk__usage(err, (int)bad, what, "prefix length '%s' out of range 0-%d",
			sk__tok(text + bad, n - bad, t, sizeof(t)),
			c.family == AF_INET6 ? 128 : 32);
	if (rc < 0) {
		size_t an = strcspn(text, "/");

		return sk__usage(err, 0, what, "'%s' is not an IPv4 or IPv6 address",
			sk__tok(text, an, t, sizeof(t)));
	}
	out->family = c.family;
	out->prefix = c.prefix;
	memcpy(out->addr, c.addr, sizeof(out->addr));
	/* 10.0.0.5/30 means the block 10.0.0.4/30, as nmap reads it. */
	bytes = c.prefix / 8;
	bits = c.prefix % 8;
	if (bytes < 16 && bits)
		out->addr[bytes++] &= (unsigned char)(0xff00u >> bits);
	if (bytes < 16)
		memset(out->addr + bytes, 0, 16 - bytes);
	return 0;
}

uint64_t sk_cidr_size(const struct sk_cidr *c)
{
	unsigned host_bits = (c->family == AF_INET6 ? 128u : 32u) - c->prefix;

	return host_bits >= 64 ? UINT64_MAX : (uint64_t)1 << host_bits;
}

int sk_cidr_nth(
	const struct sk_cidr *c, uint64_t index, struct sockaddr_storage *ss, socklen_t *len)
{
	unsigned char addr[16];
	size_t alen = c->family == AF_INET6 ? 16 : 4;
	uint64_t carry = index;

	if (index >= sk_cidr_size(c) && sk_cidr_size(c) != UINT64_MAX)
		return -ERANGE;
	memcpy(addr, c->addr, alen);
	/* The host bits are zero, so adding the index is an OR of its bytes. */
	for (size_t i = alen; i-- > 0 && carry; carry >>= 8)
		addr[i] |= (unsigned char)(carry & 0xff);
	memset(ss, 0, sizeof(*ss));
	if (c->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr, 16);
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr, 4);
		*len = sizeof(*sin);
	}
	return 0;
}
