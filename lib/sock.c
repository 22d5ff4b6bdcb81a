/* SPDX-License-Identifier: BSD-2-Clause */
/* sock.c - listeners: dual-stack wildcard, options by phase, adopt, accept. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static size_t ep_text(const struct sk_endpoint *ep, char *buf, size_t len)
{
	return sk_endpoint_format(ep, false, buf, len);
}

static bool is_inet(enum sk_transport t)
{
	return t == SK_TCP || t == SK_UDP || t == SK_TLS || t == SK_WS || t == SK_WSS;
}

/* ---- listeners ----------------------------------------------------------- */

struct sk_listener {
	int fd;
	int socktype;
	const struct sk_endpoint *ep; /* borrowed; NULL for an adopted socket */
	char *created_path;           /* socket file to remove at destroy */
	dev_t dev;
	ino_t ino;
	char text[SK__SUN_PATH_MAX * 2 + 64]; /* canonical, with the real port */
};

/* Socket, options, bind and (stream) listen on one address. */
/* v6only: -1 leave as is, 0 dual-stack wildcard, 1 IPv6 only (-6, tcp6-listen). */
static int listen_on(const struct sk_endpoint *ep, int family, const struct sockaddr *sa,
	socklen_t salen, int v6only, const char *text, struct sk_err *err)
{
	int socktype = sk_endpoint_socktype(ep);
	int fd, rc;
	unsigned backlog = ep->opt.set & (1ull << SK__O_BACKLOG) ? ep->opt.backlog : 128;

	fd = socket(family, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk__fail(err, -errno, "socket for %s", text);
	/* An explicit v6only= wins (applied with the other options below). */
	if (v6only >= 0 && !(ep->opt.set & (1ull << SK__O_V6ONLY)))
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	rc = sk__epopt_apply(fd, family, ep, SK__PHASE_PREBIND, err);
	if (rc < 0)
		goto fail;
	if (bind(fd, sa, salen) < 0) {
		rc = sk__fail(err, -errno, "listen on %s", text);
		goto fail;
	}
	rc = sk__epopt_apply(fd, family, ep, SK__PHASE_POSTBIND, err);
	if (rc < 0)
		goto fail;
	if (socktype != SOCK_DGRAM && listen(fd, (int)backlog) < 0) {
		rc = sk__fail(err, -errno, "listen on %s", text);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return rc;
}

static int listen_inet(const struct sk_endpoint *ep, int family, const char *text,
	struct sk_err *err)
{
	struct addrinfo *ai = NULL;
	int rc;

	family = sk__want_family(ep, family);
	if (ep->host && *ep->host) {
		rc = sk__resolve(ep->host, ep->port, family, sk_endpoint_socktype(ep), true, &ai,
			err);
		if (rc < 0)
			return rc;
		rc = listen_on(ep, ai->ai_family, ai->ai_addr, ai->ai_addrlen, -1, text, err);
		freeaddrinfo(ai);
		return rc;
	}
	if (family != AF_INET) {
		struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_addr = in6addr_any,
			.sin6_port = htons((uint16_t)ep->port) };

		rc = listen_on(ep, AF_INET6, (struct sockaddr *)&any6, sizeof(any6),
			family == AF_INET6, text, err);
		/* No IPv6 on this host: the IPv4 wildcard serves a lone port. */
		if (rc != -EAFNOSUPPORT || family == AF_INET6)
			return rc;
	}
	struct sockaddr_in any4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY),
		.sin_port = htons((uint16_t)ep->port) };

	return listen_on(ep, AF_INET, (struct sockaddr *)&any4, sizeof(any4), -1, text, err);
}

static int listen_vsock(const struct sk_endpoint *ep, const char *text, struct sk_err *err)
{
	struct sockaddr_vm svm = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = ep->port,
	};

	return listen_on(ep, AF_VSOCK, (struct sockaddr *)&svm, sizeof(svm), -1, text, err);
}

/* A UNIX listener handed to us (systemd): its type and name from the socket. */
static void describe_unix(struct sk_listener *l, const struct sockaddr_un *sun, socklen_t sl)
{
	bool abstract = sl > sizeof(sa_family_t) && sun->sun_path[0] == '\0';
	const char *kind = l->socktype == SOCK_DGRAM ? "-dgram"
		: l->socktype == SOCK_SEQPACKET ? "-seqpacket" : "";
	char name[SK__SUN_PATH_MAX + 1] = "";
	size_t n = sl > sizeof(sa_family_t) ? sl - sizeof(sa_family_t) - abstract : 0;
	int off;

	memcpy(name, sun->sun_path + abstract, n < sizeof(name) - 1 ? n : sizeof(name) - 1);
	off = snprintf(l->text, sizeof(l->text), "%s%s-listen:", abstract ? "abstract" : "unix",
		kind);
	if (off > 0 && (size_t)off < sizeof(l->text))
		sk_endpoint_escape(name, l->text + off, sizeof(l->text) - (size_t)off);
}

/* The canonical text of what l really listens on, computed once. */
static void describe(struct sk_listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[SK__MAX_HOSTNAME + 8];
	const char *type;

	if (l->ep && !is_inet(l->ep->type->transport) && l->ep->type->transport != SK_VSOCK) {
		sk_endpoint_format(l->ep, false, l->text, sizeof(l->text));
		return;
	}
	if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) < 0) {
		snprintf(l->text, sizeof(l->text), "fd %d", l->fd);
		return;
	}
	if (ss.ss_family == AF_UNIX) {
		describe_unix(l, (struct sockaddr_un *)&ss, sl);
		return;
	}
	if (ss.ss_family == AF_VSOCK) {
		snprintf(l->text, sizeof(l->text), "vsock-listen:%u",
			((struct sockaddr_vm *)&ss)->svm_port);
		return;
	}
	type = l->ep ? sk_endpoint_type_name(l->ep)
		     : l->socktype == SOCK_DGRAM ? "udp-listen" : "tcp-listen";
	sk_addr_format((struct sockaddr *)&ss, sl, addr, sizeof(addr));
	snprintf(l->text, sizeof(l->text), ss.ss_family == AF_INET6 ? "%s:[%s]:%u" : "%s:%s:%u",
		type, addr, sk_addr_port((struct sockaddr *)&ss));
}

int sk_listener_open(const struct sk_endpoint *ep, int family, struct sk_listener **out,
	struct sk_err *err)
{
	char text[SK__SUN_PATH_MAX + 64];
	struct sk_listener *l;
	int fd;

	*out = NULL;
	ep_text(ep, text, sizeof(text));
	if (!ep->type->listener)
		return sk__fail_why(err, SK_EUNSUPPORTED, -1, "not a listener endpoint",
			"listen on %s", text);
	l = calloc(1, sizeof(*l));
	if (!l)
		return sk__fail(err, -ENOMEM, "listen on %s", text);
	switch (ep->type->transport) {
	case SK_TCP:
	case SK_TLS: /* the TCP part; sk_tls_session_start adds TLS per peer */
	case SK_WS:  /* ... and sk_ws_session_start WebSocket */
	case SK_WSS:
	case SK_UDP:
		fd = listen_inet(ep, family, text, err);
		break;
	case SK_UNIX:
	case SK_ABSTRACT:
		fd = sk__unix_listen(ep, text, &l->created_path, &l->dev, &l->ino, err);
		break;
	case SK_VSOCK:
		fd = listen_vsock(ep, text, err);
		break;
	default:
		fd = sk__fail_why(err, SK_EUNSUPPORTED, -1, "not supported yet", "listen on %s",
			text);
		break;
	}
	if (fd < 0) {
		free(l);
		return fd;
	}
	l->fd = fd;
	l->socktype = sk_endpoint_socktype(ep);
	l->ep = ep;
	describe(l);
	*out = l;
	return 0;
}

void sk_listener_stop(struct sk_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

void sk_listener_destroy(struct sk_listener *l)
{
	if (!l)
		return;
	sk_listener_stop(l);
	if (l->created_path) {
		sk__unix_remove(l->created_path, l->dev, l->ino);
		free(l->created_path);
	}
	free(l);
}

int sk_listener_fd(const struct sk_listener *l)
{
	return l->fd;
}

int sk_listener_socktype(const struct sk_listener *l)
{
	return l->socktype;
}

size_t sk_listener_format(const struct sk_listener *l, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s", l->text);

	return n < 0 ? 0 : (size_t)n;
}

int sk_listener_adopt_fd(int fd, struct sk_listener **out, struct sk_err *err)
{
	int type = 0, listening = 0, flags;
	socklen_t len = sizeof(type);
	struct sk_listener *l;

	*out = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return sk__fail(err, -errno, "adopt fd %d", fd);
	len = sizeof(listening);
	if (type != SOCK_DGRAM &&
		(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening))
		return sk__fail_why(err, -EINVAL, -1, "not a listening socket", "adopt fd %d", fd);
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
		fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return sk__fail(err, -errno, "adopt fd %d", fd);
	l = calloc(1, sizeof(*l));
	if (!l)
		return sk__fail(err, -ENOMEM, "adopt fd %d", fd);
	l->fd = fd;
	l->socktype = type;
	describe(l);
	*out = l;
	return 0;
}

int sk_listener_accept(struct sk_listener *l, struct sk_peer *peer, struct sk_err *err)
{
	struct sk_peer tmp;
	int fd;

	if (!peer)
		peer = &tmp;
	peer->addrlen = sizeof(peer->addr);
	fd = accept4(l->fd, (struct sockaddr *)&peer->addr, &peer->addrlen,
		SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		return sk__fail(err, -errno, "accept on %s", l->text);
	}
	if (l->ep && peer->addr.ss_family != AF_UNIX &&
		sk__epopt_apply(fd, peer->addr.ss_family, l->ep, SK__PHASE_CONNECTED, err) < 0) {
		/* A per-connection option failing must not take the listener down. */
		sk_err_clear(err);
	}
	return fd;
}
