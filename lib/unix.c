/* SPDX-License-Identifier: BSD-2-Clause */
/* unix.c - UNIX and abstract listeners: mode/owner/group at bind, stale-file unlink. */
#include "internal.h"

#include <errno.h>
#include <grp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* A name or a number; -ENOENT when no such user/group exists. */
static int lookup_id(const char *name, bool group, unsigned *id)
{
	unsigned long long n;
	char buf[4096];

	if (sk__parse_uint(name, strlen(name), 0, 0xfffffffeull, false, &n) == 0) {
		*id = (unsigned)n;
		return 0;
	}
	if (group) {
		struct group gr, *res = NULL;

		getgrnam_r(name, &gr, buf, sizeof(buf), &res);
		if (!res)
			return -ENOENT;
		*id = res->gr_gid;
	} else {
		struct passwd pw, *res = NULL;

		getpwnam_r(name, &pw, buf, sizeof(buf), &res);
		if (!res)
			return -ENOENT;
		*id = res->pw_uid;
	}
	return 0;
}

/* Does one sock_diag answer describe a socket bound to (dev, ino) that serves? */
static bool diag_serves(const struct nlmsghdr *h, dev_t dev, ino_t ino, int socktype)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	const struct rtattr *a = (const struct rtattr *)(m + 1);
	int len = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		const struct unix_diag_vfs *v = RTA_DATA(a);

		if (a->rta_type != UNIX_DIAG_VFS || v->udiag_vfs_ino != ino)
			continue;
		/* The kernel reports its own dev_t layout: 12 bits major, 20 minor. */
		if (v->udiag_vfs_dev >> 20 != major(dev) || (v->udiag_vfs_dev & 0xfffff) != minor(dev))
			continue;
		return m->udiag_type == socktype &&
			(socktype == SOCK_DGRAM || m->udiag_state == TCP_LISTEN);
	}
	return false;
}

/*
 * Ask the kernel (sock_diag) whether a socket of this type serves the file
 * (dev, ino), without connecting: a probe connect would be accepted by a
 * single-peer server as its one client. 1 yes, 0 no, < 0 cannot tell.
 */
static int socket_file_served(dev_t dev, ino_t ino, int socktype)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} ask = {
		.nlh = { .nlmsg_len = sizeof(ask), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = AF_UNIX, .udiag_states = ~0u, .udiag_show = UDIAG_SHOW_VFS },
	};
	long buf[8192 / sizeof(long)];
	int fd, found = 0, rc = -EIO;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (send(fd, &ask, sizeof(ask), 0) < 0)
		goto out;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n <= 0)
			goto out;
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				rc = found;
				goto out;
			}
			if (h->nlmsg_type == NLMSG_ERROR)
				goto out;
			found |= diag_serves(h, dev, ino, socktype);
		}
	}
out:
	close(fd);
	return rc;
}

/*
 * `unlink`: remove the file only when it is a socket that nobody answers on
 * (a stale file left by a crashed server); never a live socket, never a
 * regular file. Returns 0 when the path is free to bind.
 */
static int remove_stale(const struct sockaddr_un *sun, socklen_t len, int socktype,
	const char *text, struct sk_err *err)
{
	struct stat st;
	int fd, rc;

	if (lstat(sun->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : sk__fail(err, -errno, "inspect %s", sun->sun_path);
	if (!S_ISSOCK(st.st_mode))
		return sk__fail_why(err, -EADDRINUSE, -1, "file exists and is not a socket",
			"listen on %s", text);
	if (socket_file_served(st.st_dev, st.st_ino, socktype) == 1)
		return sk__fail_why(err, -EADDRINUSE, -1, "a live socket answers there",
			"listen on %s", text);
	/* Not served in our network namespace: a connect is the last word. */
	fd = socket(AF_UNIX, socktype | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk__fail(err, -errno, "socket for %s", text);
	rc = connect(fd, (const struct sockaddr *)sun, len);
	if (rc == 0 || errno != ECONNREFUSED) {
		rc = rc == 0 || errno == EAGAIN ? -EADDRINUSE : -errno;
		close(fd);
		return sk__fail_why(err, rc, -1,
			rc == -EADDRINUSE ? "a live socket answers there" : strerror(-rc),
			"listen on %s", text);
	}
	close(fd);
	if (unlink(sun->sun_path) < 0 && errno != ENOENT)
		return sk__fail(err, -errno, "remove stale %s", sun->sun_path);
	return 0;
}

/*
 * bind() creates the file with the process umask applied, so setting the
 * umask from mode= around it gives the final permissions with no window in
 * which the socket is more open than asked. Without mode= the caller's
 * umask stands.
 */
static int bind_with_mode(int fd, const struct sk_endpoint *ep, const struct sockaddr_un *sun,
	socklen_t len)
{
	bool have_mode = ep->opt.set & (1ull << SK__O_MODE);
	mode_t old = 0;
	int rc, saved;

	if (have_mode)
		old = umask((mode_t)(~ep->opt.mode & 0777));
	rc = bind(fd, (const struct sockaddr *)sun, len);
	saved = errno;
	if (have_mode)
		umask(old);
	errno = saved;
	return rc;
}

static int set_owner(const struct sk_endpoint *ep, const char *path, const char *text,
	struct sk_err *err)
{
	unsigned uid = (unsigned)-1, gid = (unsigned)-1;

	if ((ep->opt.set & (1ull << SK__O_OWNER)) && lookup_id(ep->opt.owner, false, &uid) < 0)
		return sk__fail_why(err, -ENOENT, -1, "no such user", "owner %s for %s",
			ep->opt.owner, text);
	if ((ep->opt.set & (1ull << SK__O_GROUP)) && lookup_id(ep->opt.group, true, &gid) < 0)
		return sk__fail_why(err, -ENOENT, -1, "no such group", "group %s for %s",
			ep->opt.group, text);
	if (uid == (unsigned)-1 && gid == (unsigned)-1)
		return 0;
	if (lchown(path, uid, gid) < 0)
		return sk__fail(err, -errno, "chown %s", path);
	return 0;
}

int sk__unix_listen(const struct sk_endpoint *ep, const char *text, char **created_path,
	dev_t *dev, ino_t *ino, struct sk_err *err)
{
	bool abstract = ep->type->transport == SK_ABSTRACT;
	int socktype = sk_endpoint_socktype(ep);
	unsigned backlog = ep->opt.set & (1ull << SK__O_BACKLOG) ? ep->opt.backlog : 128;
	struct sockaddr_un sun;
	struct stat st;
	socklen_t len;
	int fd, rc;

	rc = sk__addr_unix(ep->path, abstract, &sun, &len);
	if (rc < 0)
		return sk__fail(err, rc, "listen on %s", text);
	if (!abstract && (ep->opt.set & (1ull << SK__O_UNLINK)) && ep->opt.unlink) {
		rc = remove_stale(&sun, len, socktype, text, err);
		if (rc < 0)
			return rc;
	}
	fd = socket(AF_UNIX, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk__fail(err, -errno, "socket for %s", text);
	rc = sk__epopt_apply(fd, AF_UNIX, ep, SK__PHASE_PREBIND, err);
	if (rc < 0)
		goto fail;
	if ((abstract ? bind(fd, (struct sockaddr *)&sun, len) : bind_with_mode(fd, ep, &sun, len)) <
		0) {
		rc = sk__fail(err, -errno, "listen on %s", text);
		goto fail;
	}
	if (!abstract) {
		if (lstat(sun.sun_path, &st) < 0) {
			rc = sk__fail(err, -errno, "inspect %s", sun.sun_path);
			goto fail;
		}
		*dev = st.st_dev;
		*ino = st.st_ino;
		*created_path = strdup(sun.sun_path);
		if (!*created_path) {
			rc = sk__fail(err, -ENOMEM, "listen on %s", text);
			goto fail_unlink;
		}
		rc = set_owner(ep, sun.sun_path, text, err);
		if (rc < 0)
			goto fail_unlink;
	}
	if (socktype != SOCK_DGRAM && listen(fd, (int)backlog) < 0) {
		rc = sk__fail(err, -errno, "listen on %s", text);
		goto fail_unlink;
	}
	return fd;
fail_unlink:
	if (!abstract) {
		sk__unix_remove(sun.sun_path, st.st_dev, st.st_ino);
		free(*created_path);
		*created_path = NULL;
	}
fail:
	close(fd);
	return rc;
}

void sk__unix_remove(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;

	/* Someone may have replaced it since: only our own socket file goes. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev && st.st_ino == ino)
		unlink(path);
}
