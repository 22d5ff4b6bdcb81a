/* SPDX-License-Identifier: BSD-2-Clause */
/* resolve.c - getaddrinfo that keeps the resolver's reason and the name. */
#include "internal.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

int sk__resolve(const char *host, unsigned port, int family, int socktype, bool passive,
	struct addrinfo **out, struct sk_err *err)
{
	struct addrinfo hints = {
		.ai_family = family,
		.ai_socktype = socktype,
		.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0),
	};
	char service[8];
	int rc;

	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host && *host ? host : NULL, service, &hints, out);
	if (rc == 0)
		return 0;
	*out = NULL;
	if (rc == EAI_SYSTEM && errno)
		return sk__fail(err, -errno, "resolve %s", host ? host : "");
	if (err) {
		err->code = SK_ERESOLVE;
		err->detail = rc;
		err->pos = -1;
		snprintf(err->what, sizeof(err->what), "resolve %s", host ? host : "");
		snprintf(err->why, sizeof(err->why), "%s", gai_strerror(rc));
	}
	return SK_ERESOLVE;
}
