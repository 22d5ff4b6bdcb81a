/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tiny-nc.c - a netcat in 60 lines on libsockit's public API.
 *
 *   tiny-nc ENDPOINT        e.g. tiny-nc tcp:localhost:8080
 *
 * Connects (Happy Eyeballs for names), then copies stdin to the peer and
 * the peer to stdout until both directions are done; half-close included.
 * Build: cc tiny-nc.c $(pkg-config --cflags --libs sockit)
 */
#include <sockit.h>

#include <stdio.h>
#include <unistd.h>

struct result {
	struct sk_loop *loop;
	int status;
	struct sk_err err;
};

static void done(struct sk_pump *pump, int status, const struct sk_err *err, void *userdata)
{
	struct result *r = userdata;

	(void)pump;
	r->status = status;
	if (err)
		r->err = *err;
	sk_loop_stop(r->loop, 0);
}

int main(int argc, char **argv)
{
	struct sk_endpoint *ep = NULL;
	struct sk_pump *pump = NULL;
	struct result r = { 0 };
	struct sk_err err;
	int fd, in, out, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: tiny-nc ENDPOINT\n");
		return 2;
	}
	if (sk_endpoint_parse(argv[1], &ep, &err) < 0 ||
		(fd = sk_connect(ep, &(struct sk_connect_opts){ .timeout_ms = 5000 }, &err)) < 0) {
		fprintf(stderr, "tiny-nc: %s: %s\n", err.what, err.why);
		sk_endpoint_free(ep);
		return 1;
	}
	in = sk_fd_private(STDIN_FILENO, false, &err);
	out = sk_fd_private(STDOUT_FILENO, true, &err);
	struct sk_pump_side local = { .rfd = in, .wfd = out, .owns_wfd = true, .name = "stdio" };
	struct sk_pump_side remote = { .rfd = fd, .wfd = fd, .name = argv[1] };

	if (in >= 0 && out >= 0 && sk_loop_create(&r.loop, &err) == 0 &&
		sk_pump_create(r.loop, &local, &remote, NULL, done, &r, &pump, &err) == 0) {
		close(STDOUT_FILENO); /* only the pump's copy is left: EOF reaches the reader */
		sk_loop_run(r.loop);
		if (r.status < 0)
			fprintf(stderr, "tiny-nc: %s: %s\n", r.err.what, r.err.why);
		rc = r.status < 0;
	} else {
		fprintf(stderr, "tiny-nc: %s: %s\n", err.what, err.why);
	}
	sk_pump_destroy(pump);
	sk_loop_destroy(r.loop);
	close(in);
	close(fd);
	sk_endpoint_free(ep);
	return rc;
}
