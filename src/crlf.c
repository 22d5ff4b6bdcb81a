/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crlf.c - --crlf: a stage between stdin and the pump that sends each LF
 * as CRLF. stdin is read here, converted, and written into a pipe the pump
 * reads like any other input, so the pump itself stays a pure byte mover
 * (and splices the pipe straight into the socket).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define CHUNK (32 * 1024)

struct cli_crlf {
	struct sk_loop *loop;
	int in;       /* stdin (borrowed) */
	int pipe[2];  /* [0] is read by the pump, [1] is ours */
	bool cr;      /* the last byte read was CR: an LF right after it is already CRLF */
	bool in_eof;
	size_t head, tail;
	char out[2 * CHUNK];
};

size_t cli_crlf_convert(const char *in, size_t len, char *out, bool *cr)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n' && !*cr)
			out[n++] = '\r';
		out[n++] = in[i];
		*cr = in[i] == '\r';
	}
	return n;
}

static void update_interest(struct cli_crlf *c)
{
	bool pending = c->tail > c->head;

	if (!c->in_eof)
		sk_loop_mod_fd(c->loop, c->in, pending ? 0 : SK_EV_IN);
	if (c->pipe[1] >= 0)
		sk_loop_mod_fd(c->loop, c->pipe[1], pending ? SK_EV_OUT : 0);
}

/* Write what is converted; at stdin EOF with nothing left, close the pipe (EOF for the pump). */
static void flush(struct cli_crlf *c)
{
	while (c->tail > c->head) {
		ssize_t n = write(c->pipe[1], c->out + c->head, c->tail - c->head);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			/* The pump is gone; nobody wants the rest. */
			c->head = c->tail;
			break;
		}
		c->head += (size_t)n;
	}
	c->head = c->tail = 0;
	if (c->in_eof && c->pipe[1] >= 0) {
		sk_loop_del_fd(c->loop, c->pipe[1]);
		close(c->pipe[1]);
		c->pipe[1] = -1;
	}
}

static void on_stdin(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct cli_crlf *c = userdata;
	char buf[CHUNK];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* stdin is done (EOF or an error, which ends it the same way). */
		c->in_eof = true;
		sk_loop_del_fd(loop, fd);
	} else {
		c->tail = cli_crlf_convert(buf, (size_t)n, c->out, &c->cr);
	}
	flush(c);
	update_interest(c);
}

static void on_pipe(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct cli_crlf *c = userdata;

	flush(c);
	update_interest(c);
}

int cli_crlf_open(const struct cli_ctx *ctx, struct sk_loop *loop, int in, struct cli_crlf **out,
	int *rfd)
{
	struct cli_crlf *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c)
		return cli_fail(ctx, CLI_SETUP, -ENOMEM, NULL);
	c->loop = loop;
	c->in = in;
	if (pipe2(c->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		rc = -errno;
		free(c);
		return cli_fail(ctx, CLI_SETUP, rc, NULL);
	}
	rc = sk_loop_add_fd(loop, in, SK_EV_IN, on_stdin, c);
	if (rc == 0) {
		rc = sk_loop_add_fd(loop, c->pipe[1], 0, on_pipe, c);
		if (rc < 0)
			sk_loop_del_fd(loop, in);
	}
	if (rc < 0) {
		close(c->pipe[0]);
		close(c->pipe[1]);
		free(c);
		return cli_fail(ctx, CLI_SETUP, rc, NULL);
	}
	*out = c;
	*rfd = c->pipe[0];
	return 0;
}

void cli_crlf_close(struct cli_crlf *c)
{
	if (!c)
		return;
	if (!c->in_eof)
		sk_loop_del_fd(c->loop, c->in);
	if (c->pipe[1] >= 0) {
		sk_loop_del_fd(c->loop, c->pipe[1]);
		close(c->pipe[1]);
	}
	close(c->pipe[0]);
	free(c);
}
