/* SPDX-License-Identifier: BSD-2-Clause */
/* systemd.c - socket activation (LISTEN_FDS) and readiness (NOTIFY_SOCKET), no libsystemd. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first descriptor systemd passes, as sd_listen_fds(3) documents. */
#define LISTEN_FDS_START 3

int sk_systemd_listen_fds(bool unset_env, struct sk_err *err)
{
	const char *pid_text = getenv("LISTEN_PID"), *fds_text = getenv("LISTEN_FDS");
	unsigned long long pid, count;
	int rc = 0;

	if (!pid_text || !fds_text)
		goto out;
	if (sk__parse_uint(pid_text, strlen(pid_text), 1, 0x7fffffff, false, &pid) < 0) {
		rc = sk__usage(err, 0, "LISTEN_PID", "'%.32s' is not a process id", pid_text);
		goto out;
	}
	/* Meant for another process (our parent, say): not ours to take. */
	if ((pid_t)pid != getpid())
		goto out;
	if (sk__parse_uint(fds_text, strlen(fds_text), 0, 1024, false, &count) < 0) {
		rc = sk__usage(err, 0, "LISTEN_FDS", "'%.32s' is not a count of 0-1024", fds_text);
		goto out;
	}
	rc = (int)count;
out:
	if (unset_env) {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
	}
	return rc;
}

int sk_systemd_first_fd(void)
{
	return LISTEN_FDS_START;
}

int sk_systemd_notify(const char *state, struct sk_err *err)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	int fd, rc;

	if (!path || !*path)
		return 0;
	/* "@name" is an abstract socket, as systemd spells it. */
	rc = sk__addr_unix(path[0] == '@' ? path + 1 : path, path[0] == '@', &sun, &len);
	if (rc < 0)
		return sk__fail(err, rc, "notify %s", path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk__fail(err, -errno, "notify %s", path);
	rc = 0;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, len) < 0)
		rc = sk__fail(err, -errno, "notify %s", path);
	close(fd);
	return rc;
}
