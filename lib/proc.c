/* SPDX-License-Identifier: BSD-2-Clause */
/* proc.c - a child program on a descriptor: find, spawn (no shell of ours), reap. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* What execvp(3) searches when PATH is unset (glibc's confstr(_CS_PATH)). */
#define DEFAULT_PATH "/bin:/usr/bin"

/* 0 when path names an executable regular file, else -ENOENT or -EACCES. */
static int check_file(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == EACCES ? -EACCES : -ENOENT;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
		return -EACCES;
	return 0;
}

static int put_path(const char *path, char *buf, size_t len)
{
	if (!buf)
		return 0;
	if (strlen(path) >= len)
		return -ENAMETOOLONG;
	memcpy(buf, path, strlen(path) + 1);
	return 0;
}

int sk_proc_find(const char *prog, char *buf, size_t len, struct sk_err *err)
{
	const char *dirs, *dir;
	size_t plen;
	int rc, best = -ENOENT;

	if (!prog || !*prog)
		return sk__fail(err, -ENOENT, "exec ''");
	if (strchr(prog, '/')) {
		rc = check_file(prog);
		if (rc == 0)
			rc = put_path(prog, buf, len);
		return rc < 0 ? sk__fail(err, rc, "exec %s", prog) : 0;
	}
	dirs = getenv("PATH");
	if (!dirs)
		dirs = DEFAULT_PATH;
	plen = strlen(prog);
	for (dir = dirs;; dir++) {
		size_t dlen = strcspn(dir, ":");
		char *path = malloc(dlen + plen + 3);

		if (!path)
			return sk__fail(err, -ENOMEM, "exec %s", prog);
		/* An empty PATH entry means the current directory, as for execvp. */
		if (dlen)
			memcpy(path, dir, dlen);
		else
			path[dlen++] = '.';
		path[dlen] = '/';
		memcpy(path + dlen + 1, prog, plen + 1);
		rc = check_file(path);
		if (rc == 0)
			rc = put_path(path, buf, len);
		free(path);
		if (rc == 0)
			return 0;
		if (rc != -ENOENT)
			best = rc; /* found, but not executable: say so, as execvp does */
		dir += strcspn(dir, ":");
		if (!*dir)
			break;
	}
	return sk__fail(err, best, "exec %s", prog);
}

/* The caller's environment with each NAME=value of extra replacing or adding NAME.
 * Only the pointer array is allocated; the strings are borrowed. */
static char **merge_env(const char *const *extra)
{
	size_t n = 0, m = 0, k = 0;
	char **env;

	for (char **e = environ; e && *e; e++)
		n++;
	for (const char *const *x = extra; x && *x; x++)
		m++;
	if (__builtin_add_overflow(n, m, &k) || __builtin_add_overflow(k, 1, &k))
		return NULL;
	env = calloc(k, sizeof(*env));
	if (!env)
		return NULL;
	k = 0;
	for (char **e = environ; e && *e; e++) {
		size_t name = strcspn(*e, "=");
		bool replaced = false;

		for (const char *const *x = extra; x && *x && !replaced; x++)
			replaced = strncmp(*x, *e, name) == 0 && (*x)[name] == '=';
		if (!replaced)
			env[k++] = *e;
	}
	for (const char *const *x = extra; x && *x; x++)
		env[k++] = (char *)*x;
	env[k] = NULL;
	return env;
}

/* Mark every descriptor from 3 up close-on-exec, where close_range cannot. */
static void cloexec_from_3(void)
{
	struct rlimit rl;
	int max = 65536;

	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (int fd = 3; fd < max; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Put fd on target (0 or 1) in blocking mode; -1 leaves target as inherited. */
static int place(int fd, int target)
{
	int flags;

	if (fd < 0)
		return 0;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || ((flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0))
		return -1;
	return dup2(fd, target) < 0 ? -1 : 0;
}

/*
 * In the child, between fork and exec: only async-signal-safe calls. On
 * failure the errno goes up the close-on-exec pipe, which the parent reads
 * as "exec failed"; a pipe closed by a successful exec reads as success.
 */
static __attribute__((noreturn)) void child(int in_fd, int out_fd, char *const *argv,
	char *const *env, int report)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int in = -1, out = -1, e;

	/* Away from 0 and 1 first, so that placing one cannot clobber the other. */
	if (in_fd >= 0)
		in = fcntl(in_fd, F_DUPFD_CLOEXEC, 3);
	if (out_fd >= 0)
		out = fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
	if ((in_fd >= 0 && in < 0) || (out_fd >= 0 && out < 0) || place(in, STDIN_FILENO) < 0 ||
		place(out, STDOUT_FILENO) < 0)
		goto fail;
	cloexec_from_3();
	/* An ignored SIGPIPE, and a blocked SIGCHLD, would otherwise outlive exec. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvpe(argv[0], argv, env);
fail:
	e = errno;
	while (write(report, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(127);
}

pid_t sk_proc_spawn(int in_fd, int out_fd, char *const *argv, const char *const *env,
	struct sk_err *err)
{
	int report[2], e = 0, rc;
	char **envp;
	ssize_t n;
	pid_t pid;

	if (!argv || !argv[0])
		return sk__fail(err, -EINVAL, "exec");
	envp = merge_env(env);
	if (!envp)
		return sk__fail(err, -ENOMEM, "exec %s", argv[0]);
	if (pipe2(report, O_CLOEXEC) < 0) {
		rc = sk__fail(err, -errno, "exec %s", argv[0]);
		free(envp);
		return rc;
	}
	pid = fork();
	if (pid == 0)
		child(in_fd, out_fd, argv, envp, report[1]);
	rc = -errno;
	free(envp);
	close(report[1]);
	if (pid < 0) {
		close(report[0]);
		return sk__fail(err, rc, "exec %s", argv[0]);
	}
	/* Blocks until exec succeeds (EOF) or the child reports why it failed. */
	do
		n = read(report[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n != (ssize_t)sizeof(e))
		return pid;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return sk__fail(err, e > 0 ? -e : -ECHILD, "exec %s", argv[0]);
}

pid_t sk_proc_reap(pid_t pid, int *wstatus, struct sk_err *err)
{
	int status = 0;
	pid_t got;

	do
		got = waitpid(pid, &status, WNOHANG);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return sk__fail(err, -errno, "wait for child %d", (int)pid);
	if (got > 0 && wstatus)
		*wstatus = status;
	return got;
}
