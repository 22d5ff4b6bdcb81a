/* SPDX-License-Identifier: BSD-2-Clause */
/* cmd/probe.h - what cmd/probe.c (targets, the probing loop) shares with cmd/probe_out.c. */
#ifndef SOCKIT_CMD_PROBE_H
#define SOCKIT_CMD_PROBE_H

#include "cli.h"

#include <stdint.h>

/* The states of SPEC §3, in the order of probe_state_names. */
enum probe_state {
	PS_PENDING,
	PS_OPEN,
	PS_CLOSED,
	PS_FILTERED,
	PS_UNREACHABLE,
	PS_ERROR,
	PS_UNRESOLVED,
	PS_OPEN_FILTERED, /* UDP: nothing came back */
	PS_REFUSED,       /* UNIX: a socket file nobody listens on */
	PS_MISSING,
	PS_DENIED,
	PS_COUNT
};
extern const char *const probe_state_names[PS_COUNT];

/* One host: a name or literal with its addresses, one address of a block,
 * or a UNIX/abstract socket. */
struct probe_host {
	char *name;                      /* as printed: "localhost", "10.0.0.3", "/run/x.sock", "@name" */
	const char *proto;               /* "tcp", "udp", "unix", "abstract" */
	int socktype;
	struct sockaddr_storage *addrs;  /* port 0 */
	socklen_t *lens;
	size_t naddrs;                   /* 0: unresolved */
	bool is_name;                    /* resolved by name (retried by --wait) */
	int eai;                         /* why it did not resolve */
};

struct probe_target {
	uint32_t host;
	uint16_t port;                   /* 0 for UNIX sockets */
	uint8_t state;                   /* enum probe_state */
	uint8_t addr;                    /* index of the address in use */
	bool satisfied;                  /* --wait/--wait-closed: needs no more tries */
	bool check_failed;               /* --http status not accepted */
	int err;                         /* errno for PS_ERROR */
	double latency_ms;               /* connect latency of the last open probe */
	char *detail;                    /* banner or HTTP status line, escaped */
	/* --count */
	unsigned sent, received;
	double sum, sumsq, min, max;
};

struct probe_out_opts {
	bool all;       /* every target, not only open ones */
	bool summarise; /* a range or block: non-open states as counts (unless all) */
	bool count;     /* --count statistics */
	bool http;
};

/* cmd/probe_out.c: print every target's result on stdout (table, lines or JSON). */
void probe_print(const struct cli_ctx *ctx, const struct probe_out_opts *o,
	const struct probe_host *hosts, const struct probe_target *targets, size_t n);
/* "127.0.0.1 22/tcp" or "/run/x.sock unix" for messages. */
void probe_target_name(const struct probe_host *h, const struct probe_target *t, char *buf,
	size_t len);
/* Bytes a server sent, made printable: \r \n \t \\ and \xHH. Returns a new string. */
char *probe_escape(const char *s, size_t n);

#endif
