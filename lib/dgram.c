/* SPDX-License-Identifier: BSD-2-Clause */
/* dgram.c - datagrams in batches (recvmmsg), with kernel receive times, and
 * per-peer session sockets beside a datagram listener. */
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

/* Per batch; more would only grow the stack frame below. */
#define BATCH_MAX 64

int sk_dgram_timestamps(int fd, struct sk_err *err)
{
	int on = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0)
		return sk__fail(err, -errno, "enable SO_TIMESTAMPNS on fd %d", fd);
	return 0;
}

/* The kernel's receive time from the control data, else now. */
static struct timespec receive_time(struct msghdr *mh)
{
	struct timespec ts;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return ts;
		}
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

int sk_dgram_recv(int fd, struct sk_dgram *d, size_t n, char *buf, size_t each,
	struct sk_err *err)
{
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	/* CMSG_SPACE is a multiple of the header's alignment, so every row is aligned. */
	_Alignas(struct cmsghdr) char control[BATCH_MAX][CMSG_SPACE(sizeof(struct timespec))];
	int got;

	if (n > BATCH_MAX)
		n = BATCH_MAX;
	memset(msgs, 0, n * sizeof(msgs[0]));
	for (size_t i = 0; i < n; i++) {
		iov[i] = (struct iovec){ .iov_base = buf + i * each, .iov_len = each };
		msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &d[i].from,
			.msg_namelen = sizeof(d[i].from),
			.msg_iov = &iov[i],
			.msg_iovlen = 1,
			.msg_control = control[i],
			.msg_controllen = sizeof(control[i]),
		};
	}
	got = recvmmsg(fd, msgs, (unsigned)n, MSG_DONTWAIT, NULL);
	if (got < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN
							       : sk__fail(err, -errno, "receive on fd %d", fd);
	for (int i = 0; i < got; i++) {
		d[i].data = buf + (size_t)i * each;
		d[i].len = msgs[i].msg_len;
		d[i].fromlen = msgs[i].msg_hdr.msg_namelen;
		d[i].truncated = msgs[i].msg_hdr.msg_flags & MSG_TRUNC;
		d[i].when = receive_time(&msgs[i].msg_hdr);
	}
	return got;
}

/* The listener's IPV6_V6ONLY, so the session socket binds the same way. */
static int copy_v6only(int from, int to)
{
	int v6only;
	socklen_t len = sizeof(v6only);

	if (getsockopt(from, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) < 0)
		return -errno;
	return setsockopt(to, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0 ? -errno : 0;
}

int sk_dgram_session(int listen_fd, const struct sockaddr *peer, socklen_t peerlen,
	struct sk_err *err)
{
	struct sockaddr_storage local;
	socklen_t locallen = sizeof(local);
	int one = 1, fd, rc;

	if (getsockname(listen_fd, (struct sockaddr *)&local, &locallen) < 0)
		return sk__fail(err, -errno, "session socket for fd %d", listen_fd);
	if (local.ss_family != AF_INET && local.ss_family != AF_INET6)
		return sk__fail(err, -EAFNOSUPPORT, "session socket for fd %d", listen_fd);
	fd = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk__fail(err, -errno, "session socket for fd %d", listen_fd);
	rc = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ? -errno : 0;
	if (rc == 0 && local.ss_family == AF_INET6)
		rc = copy_v6only(listen_fd, fd);
	if (rc == 0 && bind(fd, (struct sockaddr *)&local, locallen) < 0)
		rc = -errno;
	if (rc == 0 && connect(fd, peer, peerlen) < 0)
		rc = -errno;
	if (rc < 0) {
		close(fd);
		return sk__fail(err, rc, "session socket for fd %d", listen_fd);
	}
	return fd;
}
