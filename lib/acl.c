/* SPDX-License-Identifier: BSD-2-Clause */
/* acl.c - allow/deny lists of address blocks for accepted peers. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct acl_rule {
	struct sk__cidr block;
	bool allow;
};

struct sk_acl {
	struct acl_rule *rules;
	size_t count, cap;
	size_t allows;
};

int sk_acl_create(struct sk_acl **out, struct sk_err *err)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : sk__fail(err, -ENOMEM, "create address list");
}

void sk_acl_destroy(struct sk_acl *acl)
{
	if (!acl)
		return;
	free(acl->rules);
	free(acl);
}

int sk_acl_add(struct sk_acl *acl, const char *cidr, bool allow, struct sk_err *err)
{
	char what[96];
	struct sk__cidr block;
	size_t bad;
	int rc;

	snprintf(what, sizeof(what), "%s '%.64s'", allow ? "--allow" : "--deny", cidr);
	rc = sk__cidr_parse(cidr, strlen(cidr), &block, &bad);
	if (rc == -ERANGE)
		return sk__usage(err, (int)bad, what, "prefix length '%s' out of range 0-%d",
			cidr + bad, block.family == AF_INET6 ? 128 : 32);
	if (rc < 0)
		return sk__usage(err, 0, what, "'%.64s' is not an IPv4 or IPv6 address block", cidr);
	if (acl->count == acl->cap) {
		size_t n = acl->cap ? acl->cap * 2 : 8;
		struct acl_rule *r = realloc(acl->rules, n * sizeof(*r));

		if (!r)
			return sk__fail(err, -ENOMEM, "%s", what);
		acl->rules = r;
		acl->cap = n;
	}
	acl->rules[acl->count++] = (struct acl_rule){ .block = block, .allow = allow };
	acl->allows += allow;
	return 0;
}

bool sk_acl_permits(const struct sk_acl *acl, const struct sockaddr *sa)
{
	bool allowed;

	if (!acl || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return true;
	/* A deny rule wins over any allow rule; with allow rules, one must match. */
	allowed = acl->allows == 0;
	for (size_t i = 0; i < acl->count; i++) {
		if (!sk__cidr_match(&acl->rules[i].block, sa))
			continue;
		if (!acl->rules[i].allow)
			return false;
		allowed = true;
	}
	return allowed;
}
