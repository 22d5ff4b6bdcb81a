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
	char *name;        /* as printed: "localhost", "10.0.0.3", "/run/x.sock", "@name" */
	const char *proto; /* "tcp", "udp", "unix", "abstract" */
	int socktype;
	struct sockaddr_storage *addrs; /* port 0 */
	socklen_t *lens;
	size_t naddrs; /* 0: unresolved */
	bool is_name;  /* resolved by name (retried by --wait) */
	int eai;       /* why it did not resolve */
};

struct probe_target {
	uint32_t host;
	uint16_t port;     /* 0 for UNIX sockets */
	uint8_t state;     /* enum probe_state */
	uint8_t addr;      /* index of the address in use */
	bool satisfied;    /* --wait/--wait-closed: needs no more tries */
	bool check_failed; /* --http status not accepted */
	int err;           /* errno for PS_ERROR */
	double latency_ms; /* connect latency of the last open probe */
	char *detail;      /* banner or HTTP status line, escaped */
	char *tls_json;    /* --tls: the certificate's facts as a JSON object */
	/* --count */
	unsigned sent, received;
	double sum, sumsq, min, max;
};

struct probe_out_opts {
	bool all;       /* every target, not only open ones */
	bool summarise; /* a range or block: non-open states as counts (unless all) */
	bool count;     /* --count statistics */
	bool http;
	bool tls;       /* the detail is --tls's certificate facts */
};

enum wait_mode { WAIT_NONE, WAIT_OPEN, WAIT_CLOSED };

struct probe_args {
	bool udp, all, banner, http;
	const char *http_path;
	int expect_lo, expect_hi; /* accepted statuses; 0: below 400 */
	unsigned long concurrency, count, max_targets;
	int interval_ms; /* -1: the mode's default */
	enum wait_mode wait;
	int wait_ms;
	char *payload;
	size_t payload_len;
	char **cmd; /* after --, run once every target is open */
	bool tls;                /* --tls */
	const char *proxy;       /* --proxy URL */
	unsigned long warn_days; /* --warn-days */
	struct cli_tls_args tls_args; /* --ca, --insecure, --sni, --alpn, --pin */
};

/* One probe in flight. */
struct slot {
	struct probe *probe;
	int fd;
	uint32_t target;
	bool busy;
	enum { PH_CONNECT, PH_READ, PH_DGRAM } phase;
	struct timespec start;
	int64_t deadline; /* CLOCK_MONOTONIC milliseconds */
	char *buf;        /* --banner/--http reply so far */
	size_t len;
};

struct probe {
	const struct cli_ctx *ctx;
	const struct probe_args *a;
	struct sk_loop *loop;
	struct probe_host *hosts;
	size_t nhosts;
	struct probe_target *targets;
	size_t ntargets;
	uint32_t *queue; /* this round's targets */
	size_t nqueue, next;
	struct slot *slots;
	uint32_t *free_slots;
	size_t nslots, nfree;
	int timeout_ms;
	int sweep_timer, fill_timer;
	int spare[2]; /* refused TCP sockets for reuse: IPv4, IPv6; -1 when none */
	unsigned round;
	int64_t started, wait_deadline;
	bool done, timed_out;
};

static inline bool probe_host_is_local(const struct probe_host *h)
{
	return h->naddrs && h->addrs[0].ss_family == AF_UNIX;
}

/* cmd/probe_targets.c: HOST PORTS or ENDPOINT... into p->hosts and
 * p->targets; usage errors printed. *ranged when a range or a block was
 * given. Returns 0 or the exit status. */
int probe_targets_build(struct probe *p, int npos, char **pos, bool *ranged);
/* The addresses of a name or literal (h->socktype set), in the resolver's
 * order without repeats; 0 with h->naddrs 0 and h->eai when it does not
 * resolve, -ENOMEM. */
int probe_host_resolve(struct probe_host *h, const char *host, int family);

/* cmd/probe_loop.c: probe every target (rounds for --count and --wait)
 * in one event loop; 0, or the exit status (128+N after a signal). */
int probe_loop_run(struct probe *p);
/* Close what the loop still holds and free it. */
void probe_loop_free(struct probe *p);

/* cmd/probe_tls.c: --tls on every open TCP target, one after another: the
 * certificate's facts in t->detail, t->check_failed when it does not verify
 * or expires within warn_days. */
void probe_tls_check(struct probe *p, const struct cli_tls_args *tls, int warn_days);

/* cmd/probe_proxy.c: --proxy, every target asked of the proxy, one after another. */
void probe_via_proxy(struct probe *p, const char *url);

/* cmd/probe_out.c: print every target's result on stdout (table, lines or JSON). */
void probe_print(const struct cli_ctx *ctx, const struct probe_out_opts *o,
	const struct probe_host *hosts, const struct probe_target *targets, size_t n);
/* "127.0.0.1 22/tcp" or "/run/x.sock unix" for messages. */
void probe_target_name(
	const struct probe_host *h, const struct probe_target *t, char *buf, size_t len);
/* Bytes a server sent, made printable: \r \n \t \\ and \xHH. Returns a new string. */
char *probe_escape(const char *s, size_t n);

#endif
