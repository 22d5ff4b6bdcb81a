/*
 * floor.c - the "plain-C floor" for tests/bench/throughput.sh.
 *
 * The least a one-way TCP transfer over loopback can cost with ordinary
 * blocking send()/recv() calls and a 128 KiB user buffer; every tool in the
 * benchmark is compared against it.
 *
 *   floor server PORT        accept one connection on 127.0.0.1:PORT, recv()
 *                            into a 128 KiB buffer until EOF, print the byte
 *                            count on stdout, exit 0
 *   floor client PORT BYTES  connect to 127.0.0.1:PORT, send() BYTES bytes
 *                            (zeros) from a 128 KiB buffer, close, exit 0
 *   floor server-io PORT     as server, but write() what it receives to stdout
 *   floor client-io PORT     as client, but send what it read()s from stdin
 *                            (the "same syscalls as a relay of stdio" floor)
 *   floor time OUT CMD ARG.. run CMD, wait4() it and write "WALL USER SYS"
 *                            (seconds, microsecond resolution; the rusage
 *                            includes CMD's reaped descendants) to OUT; exit
 *                            with CMD's status (128+N for a signal)
 *
 * Not part of the build: throughput.sh compiles it with `cc -O2` into a
 * temporary directory.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF (128 * 1024)

static char buf[BUF];

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in loopback(const char *port)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(port));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += n;
		len -= (size_t)n;
	}
}

static void send_all(int s, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(s, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("send");
		}
		p += n;
		len -= (size_t)n;
	}
}

static int server(const char *port, int io)
{
	struct sockaddr_in sa = loopback(port);
	int one = 1;
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0)
		die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	if (listen(ls, 1) < 0)
		die("listen");
	int s = accept(ls, NULL, NULL);
	if (s < 0)
		die("accept");
	close(ls);
	unsigned long long total = 0;
	for (;;) {
		ssize_t n = recv(s, buf, BUF, 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recv");
		}
		total += (unsigned long long)n;
		if (io)
			write_all(1, buf, (size_t)n);
	}
	close(s);
	if (!io)
		printf("%llu\n", total);
	return 0;
}

static int client(const char *port, const char *bytes)
{
	struct sockaddr_in sa = loopback(port);
	unsigned long long left = bytes ? strtoull(bytes, NULL, 10) : 0;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		die("socket");
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	while (!bytes) { /* client-io: stdin to the socket */
		ssize_t n = read(0, buf, BUF);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		send_all(s, buf, (size_t)n);
	}
	while (left > 0) {
		size_t want = left < BUF ? (size_t)left : BUF;
		ssize_t n = send(s, buf, want, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("send");
		}
		left -= (unsigned long long)n;
	}
	close(s);
	return 0;
}

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static int timed(const char *out, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "floor: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	FILE *f = fopen(out, "w");
	if (!f)
		die(out);
	fprintf(f, "%.6f %.6f %.6f\n",
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		tv(ru.ru_utime), tv(ru.ru_stime));
	fclose(f);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "time") == 0)
		return timed(argv[2], argv + 3);
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return server(argv[2], 0);
	if (argc == 3 && strcmp(argv[1], "server-io") == 0)
		return server(argv[2], 1);
	if (argc == 4 && strcmp(argv[1], "client") == 0)
		return client(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "client-io") == 0)
		return client(argv[2], NULL);
	fprintf(stderr, "usage: floor server[-io] PORT | floor client PORT BYTES | floor client-io PORT\n"
		"       floor time OUT CMD [ARG]...\n");
	return 2;
}
