/* SPDX-License-Identifier: BSD-2-Clause */
/* test_systemd.c - LISTEN_FDS parsing, NOTIFY_SOCKET readiness, adopting passed sockets. */
#include "internal.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void listen_fds(void)
{
	struct sk_err err;
	char pid[16];

	unsetenv("LISTEN_PID");
	is_int(sk_systemd_listen_fds(true, &err), 0, "not activated: no sockets");
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "2", 1);
	is_int(sk_systemd_listen_fds(true, &err), 0, "LISTEN_PID of another process: not ours");
	ok(!getenv("LISTEN_FDS"), "unset_env removed LISTEN_FDS");
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "2", 1);
	is_int(sk_systemd_listen_fds(false, &err), 2, "our LISTEN_PID: two sockets");
	ok(getenv("LISTEN_FDS") != NULL, "without unset_env the variables stay");
	setenv("LISTEN_FDS", "two", 1);
	is_int(sk_systemd_listen_fds(true, &err), SK_EUSAGE, "malformed LISTEN_FDS");
	is_str(err.why, "'two' is not a count of 0-1024", "names the bad value");
	is_int(sk_systemd_first_fd(), 3, "passed sockets start at fd 3");
}

static void notify(void)
{
	char dir[] = "/tmp/sockit-notify-XXXXXX", path[96], buf[64], abstract[64];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sk_err err;
	int fd;

	unsetenv("NOTIFY_SOCKET");
	is_int(sk_systemd_notify("READY=1", &err), 0, "no NOTIFY_SOCKET: nothing to do");
	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/notify", dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ok(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0, "notify socket bound");
	setenv("NOTIFY_SOCKET", path, 1);
	is_int(sk_systemd_notify("READY=1", &err), 0, "notified");
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	is_str(buf, "READY=1", "the datagram says READY=1");
	close(fd);
	unlink(path);
	rmdir(dir);

	/* systemd may name an abstract socket "@name". */
	snprintf(abstract, sizeof(abstract), "sockit-notify-%d", (int)getpid());
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, abstract, strlen(abstract));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ok(bind(fd, (struct sockaddr *)&sun,
		   (socklen_t)(sizeof(sa_family_t) + 1 + strlen(abstract))) == 0,
		"abstract notify socket bound");
	snprintf(path, sizeof(path), "@%s", abstract);
	setenv("NOTIFY_SOCKET", path, 1);
	is_int(sk_systemd_notify("READY=1", &err), 0, "notified the abstract socket");
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	is_str(buf, "READY=1", "abstract: READY=1 arrived");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void adopt(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	struct sk_listener *l;
	struct sk_err err;
	char text[128], want[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	is_int(sk_listener_adopt_fd(fd, &l, &err), -EINVAL, "a stream socket not listening is refused");
	is_str(err.why, "not a listening socket", "and says why");
	listen(fd, 8);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	is_int(sk_listener_adopt_fd(fd, &l, &err), 0, "a listening socket is adopted");
	sk_listener_format(l, text, sizeof(text));
	snprintf(want, sizeof(want), "tcp-listen:127.0.0.1:%u", ntohs(sin.sin_port));
	is_str(text, want, "its canonical text comes from the socket");
	is_int(sk_listener_socktype(l), SOCK_STREAM, "stream");
	sk_listener_destroy(l);
	ok(fcntl(fd, F_GETFD) < 0, "destroy closed the adopted fd");

	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "sk,%d", (int)getpid());
	bind(fd, (struct sockaddr *)&sun,
		(socklen_t)(sizeof(sa_family_t) + 1 + strlen(sun.sun_path + 1)));
	listen(fd, 8);
	is_int(sk_listener_adopt_fd(fd, &l, &err), 0, "an abstract seqpacket listener is adopted");
	sk_listener_format(l, text, sizeof(text));
	snprintf(want, sizeof(want), "abstract-seqpacket-listen:sk\\,%d", (int)getpid());
	is_str(text, want, "type, name and escaped comma from the socket");
	sk_listener_destroy(l);
}

int main(void)
{
	listen_fds();
	notify();
	adopt();
	return tap_done();
}
