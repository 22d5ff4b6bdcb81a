/* SPDX-License-Identifier: BSD-2-Clause */
/* test_sock.c - listeners, connects (Happy Eyeballs), UNIX files and their permissions. */
#include "internal.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct sk_endpoint *parse(const char *text)
{
	struct sk_endpoint *ep = NULL;
	struct sk_err err;

	if (sk_endpoint_parse(text, &ep, &err) < 0)
		printf("# parse '%s': %s\n", text, err.why);
	return ep;
}

/* Port after the last ':' of a listener's canonical text. */
static unsigned listener_port(struct sk_listener *l)
{
	char buf[256];

	sk_listener_format(l, buf, sizeof(buf));
	return (unsigned)strtoul(strrchr(buf, ':') + 1, NULL, 10);
}

static void tcp_round(void)
{
	struct sk_endpoint *lep = parse("tcp-listen:127.0.0.1:0"), *cep;
	struct sk_listener *l;
	struct sk_err err;
	struct sk_peer peer;
	char text[256], want[64];
	int cfd, afd;

	is_int(sk_listener_open(lep, AF_UNSPEC, &l, &err), 0, "tcp: listener on port 0");
	sk_listener_format(l, text, sizeof(text));
	snprintf(want, sizeof(want), "tcp-listen:127.0.0.1:%u", listener_port(l));
	is_str(text, want, "tcp: canonical text carries the real port");
	ok(listener_port(l) > 0, "tcp: the kernel chose a port");

	/* "localhost" resolves to ::1 and 127.0.0.1: IPv6 is refused, IPv4 wins. */
	snprintf(text, sizeof(text), "tcp:localhost:%u", listener_port(l));
	cep = parse(text);
	cfd = sk_connect(cep, &(struct sk_connect_opts){ .timeout_ms = 3000 }, &err);
	ok(cfd >= 0, "tcp: connect via Happy Eyeballs (%s)", cfd < 0 ? err.why : "ok");
	afd = sk_listener_accept(l, &peer, &err);
	ok(afd >= 0, "tcp: accepted");
	is_int(peer.addr.ss_family, AF_INET, "tcp: peer is IPv4");
	ok(fcntl(afd, F_GETFD) & FD_CLOEXEC, "tcp: accepted fd is close-on-exec");
	ok(fcntl(afd, F_GETFL) & O_NONBLOCK, "tcp: accepted fd is non-blocking");
	is_int(sk_listener_accept(l, NULL, &err), -EAGAIN, "tcp: nothing more pending");
	close(cfd);
	close(afd);
	sk_endpoint_free(cep);

	/* Refused: the listener is gone. */
	unsigned port = listener_port(l);
	sk_listener_destroy(l);
	snprintf(text, sizeof(text), "tcp:127.0.0.1:%u", port);
	cep = parse(text);
	is_int(sk_connect(cep, NULL, &err), -ECONNREFUSED, "tcp: closed port refuses");
	snprintf(want, sizeof(want), "connect to tcp:127.0.0.1:%u", port);
	is_str(err.what, want, "tcp: the error names the endpoint");
	sk_endpoint_free(cep);
	sk_endpoint_free(lep);
}

static void dual_stack(void)
{
	struct sk_endpoint *lep = parse("tcp-listen:0");
	struct sk_listener *l;
	struct sk_err err;
	char text[256];
	int cfd;

	is_int(sk_listener_open(lep, AF_UNSPEC, &l, &err), 0, "dual: lone port listens");
	sk_listener_format(l, text, sizeof(text));
	ok(strncmp(text, "tcp-listen:[::]:", 16) == 0, "dual: on [::] (%s)", text);
	snprintf(text, sizeof(text), "tcp4:127.0.0.1:%u", listener_port(l));
	struct sk_endpoint *cep = parse(text);
	cfd = sk_connect(cep, NULL, &err);
	ok(cfd >= 0, "dual: IPv4 client reaches the [::] listener (V6ONLY off)");
	close(cfd);
	sk_endpoint_free(cep);

	struct sk_listener *l2;
	char busy[64];

	snprintf(busy, sizeof(busy), "tcp-listen:%u", listener_port(l));
	struct sk_endpoint *again = parse(busy);
	is_int(sk_listener_open(again, AF_UNSPEC, &l2, &err), -EADDRINUSE,
		"dual: a second listener on the port is EADDRINUSE");
	sk_endpoint_free(again);
	sk_listener_destroy(l);
	sk_endpoint_free(lep);
}

static void unix_files(void)
{
	char dir[] = "/tmp/sockit-test-XXXXXX", path[128], text[192];
	struct sk_endpoint *ep;
	struct sk_listener *l, *l2;
	struct sk_err err;
	struct stat st;
	int fd;

	if (!mkdtemp(dir)) {
		ok(0, "unix: temp dir");
		return;
	}
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(text, sizeof(text), "unix-listen:%s,mode=600", path);
	ep = parse(text);
	is_int(sk_listener_open(ep, AF_UNSPEC, &l, &err), 0, "unix: listener with mode=600");
	ok(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "unix: socket file exists");
	is_int(st.st_mode & 07777, 0600, "unix: mode is exactly 0600");

	/* A live socket is never removed by unlink. */
	snprintf(text, sizeof(text), "unix-listen:%s,unlink", path);
	struct sk_endpoint *ep2 = parse(text);
	is_int(sk_listener_open(ep2, AF_UNSPEC, &l2, &err), -EADDRINUSE,
		"unix: unlink refuses a live socket");
	is_str(err.why, "a live socket answers there", "unix: and says why");
	ok(stat(path, &st) == 0, "unix: live file still there");

	/* Stale: the socket closes but its file stays behind (as after a crash). */
	fd = dup(sk_listener_fd(l));
	sk_listener_stop(l);
	close(fd);
	snprintf(text, sizeof(text), "unix-listen:%s", path);
	struct sk_endpoint *plain = parse(text);
	is_int(sk_listener_open(plain, AF_UNSPEC, &l2, &err), -EADDRINUSE,
		"unix: stale file without unlink: EADDRINUSE");
	is_int(sk_listener_open(ep2, AF_UNSPEC, &l2, &err), 0, "unix: unlink replaces a stale file");
	sk_listener_destroy(l2);
	ok(stat(path, &st) < 0 && errno == ENOENT, "unix: destroy removed the file");
	sk_listener_destroy(l); /* its file is gone already: must not fail or remove another */

	/* A regular file is never removed. */
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	close(fd);
	is_int(sk_listener_open(ep2, AF_UNSPEC, &l2, &err), -EADDRINUSE,
		"unix: unlink refuses a regular file");
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode), "unix: regular file intact");
	unlink(path);
	rmdir(dir);
	sk_endpoint_free(ep);
	sk_endpoint_free(ep2);
	sk_endpoint_free(plain);
}

static void abstract_names(void)
{
	char name[64], text[96];
	struct sk_endpoint *lep, *cep;
	struct sk_listener *l;
	struct sk_err err;
	int cfd, afd;

	snprintf(name, sizeof(name), "sockit-test-%d", (int)getpid());
	snprintf(text, sizeof(text), "abstract-listen:%s", name);
	lep = parse(text);
	is_int(sk_listener_open(lep, AF_UNSPEC, &l, &err), 0, "abstract: listening");
	snprintf(text, sizeof(text), "abstract:%s", name);
	cep = parse(text);
	cfd = sk_connect(cep, NULL, &err);
	ok(cfd >= 0, "abstract: connected");
	afd = sk_listener_accept(l, NULL, &err);
	ok(afd >= 0, "abstract: accepted");
	ok(access(name, F_OK) < 0, "abstract: no file in the file system");
	close(cfd);
	close(afd);
	sk_listener_destroy(l);
	sk_endpoint_free(lep);
	sk_endpoint_free(cep);
}

int main(void)
{
	tcp_round();
	dual_stack();
	unix_files();
	abstract_names();
	return tap_done();
}
