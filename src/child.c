/* SPDX-License-Identifier: BSD-2-Clause */
/* child.c - -e/--exec and --sh: a program on a connection, for connect and listen. */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

/* ---- the option ----------------------------------------------------------------- */

/* argv for --sh: the only place a shell is involved. One allocation, as from sk_argv_split. */
static char **shell_argv(const char *command)
{
	char **argv = malloc(4 * sizeof(*argv));

	if (!argv)
		return NULL;
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = (char *)command; /* borrowed from the command line, which outlives us */
	argv[3] = NULL;
	return argv;
}

int cli_exec_opt(struct cli_ctx *ctx, struct cli_exec *x, int id, const char *arg)
{
	struct sk_err err;
	char **argv;
	int rc;

	if (id != 'e' && id != CLI_O_SH)
		return -1;
	if (x->text)
		return cli_usage(ctx, "-e/--exec and --sh may be given once, and not together");
	if (id == CLI_O_SH) {
		if (!*arg)
			return cli_usage(ctx, "--sh: empty command");
		x->text = arg;
		x->shell = true;
		return 0;
	}
	rc = sk_argv_split(arg, &argv, &err);
	if (rc < 0)
		return cli_fail(ctx, CLI_SETUP, rc, &err);
	/* A missing program is a usage error now, before anything listens or connects. */
	rc = sk_proc_find(argv[0], NULL, 0, &err);
	free(argv);
	if (rc < 0) {
		cli_fail(ctx, CLI_SETUP, rc, &err);
		return CLI_EXIT_USAGE;
	}
	x->text = arg;
	return 0;
}

/* ---- the environment: SOCKIT_* from the socket ------------------------------------ */

#define ENV_MAX 10

struct child_env {
	char *vars[ENV_MAX + 1]; /* NULL-terminated */
	size_t n;
};

__attribute__((format(printf, 2, 3))) static void env_add(struct child_env *e, const char *fmt,
	...)
{
	va_list ap;
	char *s;
	int rc;

	if (e->n >= ENV_MAX)
		return;
	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc >= 0)
		e->vars[e->n++] = s;
}

static void env_free(struct child_env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->vars[i]);
	e->n = 0;
}

/* Address text for a script: an IPv4 peer of a dual-stack listener as plain IPv4. */
static void env_addr(struct child_env *e, const char *name, const struct sockaddr_storage *ss,
	socklen_t len)
{
	struct sockaddr_storage plain;
	socklen_t plen = cli_addr_unmapped(ss, len, &plain);
	size_t n = sk_addr_format((const struct sockaddr *)&plain, plen, NULL, 0);
	char *text = malloc(n + 1);

	if (!text)
		return;
	sk_addr_format((const struct sockaddr *)&plain, plen, text, n + 1);
	env_add(e, "%s=%s", name, text);
	free(text);
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_VSOCK)
		return ((const struct sockaddr_vm *)ss)->svm_port;
	return sk_addr_port((const struct sockaddr *)ss);
}

static bool is_abstract(const struct sockaddr_storage *ss, socklen_t len)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;

	return ss->ss_family == AF_UNIX && len > offsetof(struct sockaddr_un, sun_path) &&
		sun->sun_path[0] == '\0';
}

static const char *proto_name(int fd, const struct sockaddr_storage *local, socklen_t llen,
	const struct sockaddr_storage *peer, socklen_t plen)
{
	int type = SOCK_STREAM;
	socklen_t tlen = sizeof(type);

	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen);
	switch (local->ss_family) {
	case AF_INET:
	case AF_INET6:
		return type == SOCK_DGRAM ? "udp" : "tcp";
	case AF_UNIX:
		/* A client's own address is unnamed: the listener's name tells. */
		return is_abstract(local, llen) || is_abstract(peer, plen) ? "abstract" : "unix";
	case AF_VSOCK:
		return "vsock";
	default:
		return "unknown";
	}
}

static void build_env(int fd, const struct sk_proxy_info *told, struct child_env *e)
{
	struct sockaddr_storage local = { 0 }, peer = { 0 };
	socklen_t llen = sizeof(local), plen = sizeof(peer);
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0)
		llen = 0;
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0)
		plen = 0;
	/* accept-proxy: the client and the address it reached, as the header said */
	if (told) {
		peer = told->src;
		local = told->dst;
		plen = llen = sizeof(struct sockaddr_storage);
	}
	env_add(e, "SOCKIT_PROTO=%s", proto_name(fd, &local, llen, &peer, plen));
	env_addr(e, "SOCKIT_PEER_ADDR", &peer, plen);
	env_addr(e, "SOCKIT_LOCAL_ADDR", &local, llen);
	if (local.ss_family != AF_UNIX) {
		env_add(e, "SOCKIT_PEER_PORT=%u", port_of(&peer));
		env_add(e, "SOCKIT_LOCAL_PORT=%u", port_of(&local));
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 && cred.pid > 0) {
		env_add(e, "SOCKIT_PEER_PID=%d", (int)cred.pid);
		env_add(e, "SOCKIT_PEER_UID=%u", (unsigned)cred.uid);
		env_add(e, "SOCKIT_PEER_GID=%u", (unsigned)cred.gid);
	}
}

/* ---- live children ------------------------------------------------------------------ */

struct child {
	struct child *next;
	pid_t pid;
	char peer[128];
};

struct cli_children {
	const struct cli_ctx *ctx;
	char **argv; /* the program, split once */
	cli_child_exit_fn on_exit;
	void *userdata;
	struct child *live;
};

/* 0 for a child that exited 0, else 1 (a failure or a signal); logs how it ended. */
static int log_exit(const struct cli_children *cs, const struct child *c, int wstatus)
{
	const struct cli_ctx *ctx = cs->ctx;

	if (WIFEXITED(wstatus)) {
		cli_event(ctx, "exited",
			(struct cli_field[]){ { "peer", c->peer, 0 }, { "pid", NULL, c->pid },
				{ "status", NULL, WEXITSTATUS(wstatus) } },
			3, "child %d for %s exited with status %d", (int)c->pid, c->peer,
			WEXITSTATUS(wstatus));
		return WEXITSTATUS(wstatus) == 0 ? CLI_OK : CLI_EXIT_ABNORMAL;
	}
	if (WIFSIGNALED(wstatus)) {
		const char *name = sigabbrev_np(WTERMSIG(wstatus));

		cli_event(ctx, "exited",
			(struct cli_field[]){ { "peer", c->peer, 0 }, { "pid", NULL, c->pid },
				{ "signal", NULL, WTERMSIG(wstatus) } },
			3, "child %d for %s killed by SIG%s", (int)c->pid, c->peer,
			name ? name : "?");
	}
	return CLI_EXIT_ABNORMAL;
}

/* Forget a reaped child, log how it ended and tell the command. */
static void child_ended(struct cli_children *cs, pid_t pid, int wstatus)
{
	for (struct child **pp = &cs->live; *pp; pp = &(*pp)->next) {
		struct child *c = *pp;
		int status;

		if (c->pid != pid)
			continue;
		*pp = c->next;
		status = log_exit(cs, c, wstatus);
		free(c);
		if (cs->on_exit)
			cs->on_exit(cs->userdata, status);
		return;
	}
}

static void on_sigchld(struct sk_loop *loop, void *userdata)
{
	struct cli_children *cs = userdata;

	/* One SIGCHLD may stand for several ended children. */
	for (;;) {
		int wstatus;
		pid_t pid = sk_proc_reap(-1, &wstatus, NULL);

		if (pid <= 0)
			break;
		child_ended(cs, pid, wstatus);
	}
}

int cli_children_create(const struct cli_ctx *ctx, const struct cli_exec *exec,
	cli_child_exit_fn on_exit, void *userdata, struct cli_children **out)
{
	struct cli_children *cs = calloc(1, sizeof(*cs));
	struct sk_err err;
	int rc = -ENOMEM;

	*out = NULL;
	if (cs && exec->shell)
		cs->argv = shell_argv(exec->text);
	else if (cs)
		rc = sk_argv_split(exec->text, &cs->argv, &err); /* checked by cli_exec_opt */
	if (!cs || !cs->argv) {
		free(cs);
		return cli_fail(ctx, CLI_SETUP, rc, rc == -ENOMEM ? NULL : &err);
	}
	cs->ctx = ctx;
	cs->on_exit = on_exit;
	cs->userdata = userdata;
	cli_loop_on_signal(SIGCHLD, on_sigchld, cs);
	*out = cs;
	return 0;
}

void cli_children_destroy(struct cli_children *cs)
{
	struct child *next;

	if (!cs)
		return;
	cli_loop_on_signal(SIGCHLD, NULL, NULL);
	/* Children still running are left alone: they hold their own connections. */
	for (struct child *c = cs->live; c; c = next) {
		next = c->next;
		free(c);
	}
	free(cs->argv);
	free(cs);
}

int cli_child_spawn(struct cli_children *cs, int fd, const char *peer,
	const struct sk_proxy_info *told)
{
	struct child_env env = { 0 };
	struct child *c = calloc(1, sizeof(*c));
	struct sk_err err;
	pid_t pid;

	if (!c) {
		close(fd);
		return cli_fail(cs->ctx, CLI_SETUP, -ENOMEM, NULL);
	}
	build_env(fd, told, &env);
	pid = sk_proc_spawn(fd, fd, cs->argv, (const char *const *)env.vars, &err);
	env_free(&env);
	/* The child has its copy: once it ends, the peer sees the connection close. */
	close(fd);
	if (pid < 0) {
		free(c);
		return cli_fail(cs->ctx, CLI_SETUP, pid, &err);
	}
	c->pid = pid;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->next = cs->live;
	cs->live = c;
	cli_event(cs->ctx, "spawned",
		(struct cli_field[]){ { "peer", c->peer, 0 }, { "pid", NULL, pid },
			{ "program", cs->argv[0], 0 } },
		3, "child %d for %s: %s", (int)pid, c->peer, cs->argv[0]);
	return 0;
}

/* ---- connect: one child, then exit with its status ------------------------------- */

struct run_one {
	struct sk_loop *loop;
	int status;
};

static void on_only_child_exit(void *userdata, int status)
{
	struct run_one *one = userdata;

	one->status = status;
	sk_loop_stop(one->loop, 0);
}

int cli_child_run(const struct cli_ctx *ctx, const struct cli_exec *exec, int fd, const char *peer)
{
	struct run_one one = { .status = -1 };
	struct cli_children *cs = NULL;
	int status, rc;

	/* SIGCHLD is blocked (and read by the loop) before the child can end. */
	status = cli_loop_open(ctx, &one.loop);
	if (status == 0)
		status = cli_children_create(ctx, exec, on_only_child_exit, &one, &cs);
	if (status) {
		close(fd);
		sk_loop_destroy(one.loop);
		return status;
	}
	status = cli_child_spawn(cs, fd, peer, NULL);
	if (status == 0) {
		rc = sk_loop_run(one.loop);
		status = one.status >= 0 ? one.status : rc; /* else a signal: 128+N */
	}
	cli_children_destroy(cs);
	sk_loop_destroy(one.loop);
	return status;
}
