/* SPDX-License-Identifier: BSD-2-Clause */
/* proc.c - a child program on a descriptor: find, spawn (no shell of ours), reap. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
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

/* O_NONBLOCK off: a program reading its stdin expects blocking reads. */
static int make_blocking(int fd)
{
	int flags = fd < 0 ? 0 : fcntl(fd, F_GETFL);

	if (flags < 0 || ((flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0))
		return -errno;
	return 0;
}

/*
 * posix_spawn (vfork-like in glibc: no page tables copied, and an exec
 * failure comes back as its errno) with the child's stdin and stdout
 * placed, every other descriptor closed, default signal dispositions and
 * an empty mask.
 */
static int spawn(pid_t *pid, const char *path, int in_fd, int out_fd, char *const *argv,
	char *const *env)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	int rc;

	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&attr, &all);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&attr, &none);
	if (rc == 0 && in_fd >= 0)
		rc = posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
	if (rc == 0 && out_fd >= 0)
		rc = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (rc == 0)
		rc = posix_spawn(pid, path, &fa, &attr, argv, env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

/*
 * A copy at 3 or above of an fd that sits on 0-2, so that placing one on 0
 * or 1 cannot clobber the other; *copy is that copy (-1: none needed).
 */
static int above_stdio(int *fd, int *copy)
{
	*copy = -1;
	if (*fd < 0 || *fd > STDERR_FILENO)
		return 0;
	*copy = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (*copy < 0)
		return -errno;
	*fd = *copy;
	return 0;
}

pid_t sk_proc_spawn(int in_fd, int out_fd, char *const *argv, const char *const *env,
	struct sk_err *err)
{
	int in_copy = -1, out_copy = -1, rc;
	char path[PATH_MAX], **envp;
	pid_t pid = -1;

	if (!argv || !argv[0])
		return sk__fail(err, -EINVAL, "exec");
	/*
	 * Searched here, once: the child then execs the one right file, and a
	 * missing program is known before anything is spawned (also where a
	 * vfork-less posix_spawn, as under valgrind, could not report it).
	 */
	rc = sk_proc_find(argv[0], path, sizeof(path), err);
	if (rc < 0)
		return rc;
	envp = merge_env(env);
	if (!envp)
		return sk__fail(err, -ENOMEM, "exec %s", argv[0]);
	rc = above_stdio(&in_fd, &in_copy);
	if (rc == 0)
		rc = above_stdio(&out_fd, &out_copy);
	if (rc == 0)
		rc = make_blocking(in_fd);
	if (rc == 0)
		rc = make_blocking(out_fd);
	if (rc == 0)
		rc = spawn(&pid, path, in_fd, out_fd, argv, envp);
	if (in_copy >= 0)
		close(in_copy);
	if (out_copy >= 0)
		close(out_copy);
	free(envp);
	return rc < 0 ? sk__fail(err, rc, "exec %s", argv[0]) : pid;
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
