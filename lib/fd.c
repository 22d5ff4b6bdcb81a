/* SPDX-License-Identifier: BSD-2-Clause */
/* fd.c - private non-blocking descriptors for borrowed stdio. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int sk_fd_private(int fd, bool writable, struct sk_err *err)
{
	char proc[32];
	struct stat st;
	int nfd;

	if (fstat(fd, &st) < 0)
		return sk__fail(err, -errno, "inspect fd %d", fd);
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		/*
		 * A new open file description: O_NONBLOCK on it cannot surprise
		 * the shell or the other end of a pipeline sharing ours.
		 */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		nfd = open(proc, (writable ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (nfd >= 0)
			return nfd;
	}
	/* Sockets are driven with MSG_DONTWAIT; files never block for long. */
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return sk__fail(err, -errno, "duplicate fd %d", fd);
	return nfd;
}

int sk__set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ? -1 : 0;
}
