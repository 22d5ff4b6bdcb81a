/* SPDX-License-Identifier: BSD-2-Clause */
/* test_proc.c - child programs: PATH search, spawn on a socket, fds, signals, env, reaping. */
#include "internal.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Read until EOF (bounded by 5 s) into buf; returns the length. */
static size_t read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0)
			break;
		n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return got;
}

/* Reap pid, polling for up to 5 s; returns what sk_proc_reap last returned. */
static pid_t reap_within(pid_t pid, int *status)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	pid_t got = 0;

	for (int i = 0; i < 500 && got == 0; i++) {
		got = sk_proc_reap(pid, status, NULL);
		if (got == 0)
			nanosleep(&tick, NULL);
	}
	return got;
}

/* Run `sh -c SCRIPT` on one end of a socketpair, send input, then EOF; collect output. */
static pid_t run_sh(const char *script, const char *input, const char *const *env, char *out,
	size_t len, int *status)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	struct sk_err err;
	int sv[2];
	pid_t pid;

	out[0] = '\0';
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return -errno;
	pid = sk_proc_spawn(sv[1], sv[1], argv, env, &err);
	close(sv[1]);
	if (pid > 0) {
		fcntl(sv[0], F_SETFL, 0);
		if (input && write(sv[0], input, strlen(input)) < 0)
			pid = -errno;
		shutdown(sv[0], SHUT_WR);
		read_all(sv[0], out, len);
		if (reap_within(pid, status) != pid)
			pid = -ECHILD;
	}
	close(sv[0]);
	return pid;
}

static void test_find(void)
{
	char path[4096], tiny[4];
	struct sk_err err;

	is_int(sk_proc_find("sh", path, sizeof(path), NULL), 0, "find: sh is on PATH");
	ok(strlen(path) > 3 && strcmp(path + strlen(path) - 3, "/sh") == 0, "find: path '%s'",
		path);
	is_int(sk_proc_find("/bin/sh", NULL, 0, NULL), 0, "find: an absolute path, no buffer");
	is_int(sk_proc_find("nosuchprog-sockit", NULL, 0, &err), -ENOENT, "find: missing program");
	is_str(err.what, "exec nosuchprog-sockit", "find: err->what names the program");
	is_int(sk_proc_find("/etc/passwd", NULL, 0, NULL), -EACCES, "find: not executable");
	is_int(sk_proc_find("/", NULL, 0, NULL), -EACCES, "find: a directory");
	is_int(sk_proc_find("/bin/sh", tiny, sizeof(tiny), NULL), -ENAMETOOLONG,
		"find: a buffer too small");
	is_int(sk_proc_find("", NULL, 0, NULL), -ENOENT, "find: empty name");
}

static void test_exec_failure(void)
{
	char *argv[] = { "nosuchprog-sockit", "arg", NULL };
	char *dir[] = { "/", NULL };
	struct sk_err err;

	is_int(sk_proc_spawn(-1, -1, argv, NULL, &err), -ENOENT, "spawn: missing program");
	is_str(err.what, "exec nosuchprog-sockit", "spawn: err->what names the program");
	is_int(sk_proc_spawn(-1, -1, dir, NULL, &err), -EACCES, "spawn: a directory");
	/* The failed children were reaped inside spawn. */
	is_int(sk_proc_reap(-1, NULL, NULL), -ECHILD, "spawn: no child left behind");
	is_int(sk_proc_spawn(-1, -1, NULL, NULL, NULL), -EINVAL, "spawn: NULL argv");
}

static void test_stdio_and_status(void)
{
	char out[256];
	int status = -1;
	pid_t pid;

	pid = run_sh("read x; echo \"got $x\"; cat; echo after-eof; exit 3", "line\nrest\n",
		NULL, out, sizeof(out), &status);
	ok(pid > 0, "spawn: sh started (pid %d)", (int)pid);
	is_str(out, "got line\nrest\nafter-eof\n",
		"spawn: stdin and stdout are the socket; output after EOF arrives");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 3, "reap: exit status 3 (raw %d)", status);
}

static void test_argv_verbatim(void)
{
	char *argv[] = { "printf", "%s|", "a b", "$(echo no)", "`x`", ";&*>", NULL };
	char out[256];
	int sv[2], status = -1;
	pid_t pid;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	pid = sk_proc_spawn(-1, sv[1], argv, NULL, NULL);
	close(sv[1]);
	read_all(sv[0], out, sizeof(out));
	close(sv[0]);
	ok(pid > 0, "spawn: printf found on PATH");
	is_str(out, "a b|$(echo no)|`x`|;&*>|", "spawn: argv arrives verbatim, no shell");
	is_int(reap_within(pid, &status), pid, "reap: that pid");
}

static void test_fds(void)
{
	char script[128], out[256];
	int leak, status;

	/* A descriptor without close-on-exec, as a careless caller might hold. */
	leak = fcntl(STDERR_FILENO, F_DUPFD, 20);
	/* No pipeline: the shell's own pipe ends would show up while ls lists its fds. The
	 * trailing ':' keeps the shell alive (no exec of ls), so $$ is the spawned child. */
	snprintf(script, sizeof(script), "ls /proc/$$/fd; :");
	run_sh(script, NULL, NULL, out, sizeof(out), &status);
	is_str(out, "0\n1\n2\n", "spawn: the child holds exactly fds 0-2 (fd %d stayed out)",
		leak);
	close(leak);
}

static void test_signals(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe, old_usr;
	sigset_t block, old_mask;
	char out[256];
	int status;

	sigaction(SIGPIPE, &ign, &old_pipe);
	sigaction(SIGUSR1, &ign, &old_usr);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	/* glibc's posix_spawn leaves its internal signals 32 and 33 ignored: not ours. */
	run_sh("b=$(awk '/^SigBlk/ {print $2}' /proc/$$/status);"
	       "i=$(awk '/^SigIgn/ {print $2}' /proc/$$/status);"
	       "printf 'SigBlk: %s SigIgn: %016x ' $b $((0x$i & ~0x180000000))", NULL, NULL,
		out, sizeof(out), &status);
	is_str(out, "SigBlk: 0000000000000000 SigIgn: 0000000000000000 ",
		"spawn: default dispositions and an empty mask");
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(SIGUSR1, &old_usr, NULL);
}

static void test_env(void)
{
	const char *extra[] = { "SK_TEST_A=new", "SK_TEST_B=b c", NULL };
	char out[256];
	int status;

	setenv("SK_TEST_A", "old", 1);
	setenv("SK_TEST_KEEP", "kept", 1);
	run_sh("echo \"$SK_TEST_A/$SK_TEST_B/$SK_TEST_KEEP\"; env | grep -c '^SK_TEST_A='", NULL,
		extra, out, sizeof(out), &status);
	is_str(out, "new/b c/kept\n1\n", "spawn: env pairs added or replacing, once each");
	unsetenv("SK_TEST_A");
	unsetenv("SK_TEST_KEEP");
}

static void test_reap(void)
{
	char *argv[] = { "sleep", "5", NULL };
	int status = -1;
	pid_t pid;

	pid = sk_proc_spawn(-1, -1, argv, NULL, NULL);
	ok(pid > 0, "spawn: sleep");
	is_int(sk_proc_reap(pid, &status, NULL), 0, "reap: a running child is not reaped");
	kill(pid, SIGTERM);
	is_int(reap_within(pid, &status), pid, "reap: after SIGTERM");
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "reap: ended by SIGTERM (raw %d)",
		status);
	is_int(sk_proc_reap(pid, &status, NULL), -ECHILD, "reap: twice is -ECHILD");
}

int main(void)
{
	test_find();
	test_exec_failure();
	test_stdio_and_status();
	test_argv_verbatim();
	test_fds();
	test_signals();
	test_env();
	test_reap();
	return tap_done();
}
