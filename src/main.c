/* SPDX-License-Identifier: BSD-2-Clause */
/* main.c - global options, process hygiene, look up the command, return its status. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out, "Usage: sockit [--version] [--help] COMMAND [OPTIONS] ARGS...\n"
		     "       sockit help COMMAND\n\n"
		     "A socket toolkit: what netcat, ncat and socat do, in one tool.\n\n"
		     "Commands:\n");
	for (size_t i = 0; cli_commands[i]; i++)
		fprintf(out, "  %-10s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
	fprintf(out, "\nRun 'sockit COMMAND --help' for a command's options; see sockit(1).\n");
}

/* A closed 0, 1 or 2 would otherwise be reused by the first socket we open. */
static int reopen_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);

		if (nfd < 0)
			return -1;
		if (nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
	return 0;
}

/* What was printed reached standard output (not a full disk, not a closed pipe). */
static int stdout_done(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	fprintf(stderr, "sockit: write standard output: %s\n", strerror(errno));
	return CLI_EXIT_LOCAL;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { .cmd = "sockit" };
	const struct cli_cmd *cmd;
	const char *name;

	if (reopen_std_fds() < 0)
		return CLI_EXIT_LOCAL;
	if (getuid() != geteuid() || getgid() != getegid()) {
		fprintf(stderr, "sockit: refusing to run setuid or setgid\n");
		return CLI_EXIT_LOCAL;
	}
	/* Writes pass MSG_NOSIGNAL too; a closed pipe is an error we report, not a death. */
	signal(SIGPIPE, SIG_IGN);
	/* Each stderr line in one write(2): --workers processes and children share
	 * the file, and an unbuffered fprintf would interleave their lines. */
	static char errbuf[4096];
	setvbuf(stderr, errbuf, _IOLBF, sizeof(errbuf));

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		printf("sockit %s\n", SK_VERSION);
		return stdout_done();
	}
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		usage(stdout);
		return stdout_done();
	}
	if (strcmp(name, "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return stdout_done();
		}
		cmd = cli_command_find(argv[2]);
		if (!cmd) {
			fprintf(stderr, "sockit: help: unknown command '%s'\n", argv[2]);
			return CLI_EXIT_USAGE;
		}
		cli_help(cmd, stdout);
		return stdout_done();
	}
	if (name[0] == '-') {
		const char *bad = NULL;
		int at = cli_hoist_globals(argc, argv, &bad);

		if (at < 0) {
			fprintf(stderr, "sockit: unknown option '%s' (a command's own options follow "
					"the command)\n", bad);
			return CLI_EXIT_USAGE;
		}
		if (at >= argc) {
			fprintf(stderr, "sockit: missing COMMAND after the options; run 'sockit --help'\n");
			return CLI_EXIT_USAGE;
		}
		name = argv[1];
	}
	cmd = cli_command_find(name);
	if (!cmd) {
		fprintf(stderr, "sockit: unknown command '%s'; run 'sockit --help'\n", name);
		return CLI_EXIT_USAGE;
	}
	ctx.cmd = cmd->name;
	return cmd->run(&ctx, argc - 1, argv + 1);
}
