/* SPDX-License-Identifier: BSD-2-Clause */
/* test_resolve.c - name checks, options to hints, dedup, numeric lookups, reverse, interfaces. */
#include "internal.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

static void test_hostname_check(void)
{
	static const struct {
		const char *name;
		int rc, pos;
		const char *why;
	} cases[] = {
		{ "localhost", 0, -1, "" },
		{ "example.org.", 0, -1, "" },
		{ "_srv.a-b.example", 0, -1, "" },
		{ "127.0.0.1", 0, -1, "" },
		{ "::1", 0, -1, "" },
		{ "fe80::1%lo", 0, -1, "" },
		{ "a..b", SK_EUSAGE, 2, "empty label in host name 'a..b'" },
		{ ".a", SK_EUSAGE, 0, "empty label in host name '.a'" },
		{ "a b", SK_EUSAGE, 1, "invalid character ' ' in host name 'a b'" },
		{ "", SK_EUSAGE, -1, "empty name" },
	};
	struct sk_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sk_err_clear(&err);
		is_int(sk_hostname_check(cases[i].name, &err), cases[i].rc, "check '%s'",
			cases[i].name);
		if (cases[i].rc == 0)
			continue;
		is_int(err.pos, cases[i].pos, "  position");
		is_str(err.why, cases[i].why, "  reason");
	}
	is_int(sk_hostname_check(NULL, NULL), SK_EUSAGE, "NULL name, NULL err");

	char name[300];

	memset(name, 'a', 254);
	name[254] = '\0';
	for (int i = 50; i < 254; i += 50)
		name[i] = '.';
	is_int(sk_hostname_check(name, &err), SK_EUSAGE, "254 bytes");
	is_str(err.why, "host name longer than 253 bytes", "  reason");
	ok(strncmp(err.what, "name 'aaaa", 10) == 0, "  names the name: %s", err.what);
	name[253] = '\0';
	is_int(sk_hostname_check(name, NULL), 0, "253 bytes");
	name[253] = '.';
	name[254] = '\0';
	is_int(sk_hostname_check(name, NULL), 0, "253 bytes and the root dot");

	memset(name, 'b', 64);
	memcpy(name + 64, ".org", 5);
	is_int(sk_hostname_check(name, &err), SK_EUSAGE, "a 64-byte label");
	ok(strstr(err.why, "longer than 63 bytes") != NULL, "  reason: %s", err.why);
	memcpy(name + 63, ".org", 5);
	is_int(sk_hostname_check(name, NULL), 0, "a 63-byte label");
}

static void test_hints(void)
{
	struct sk_resolve_opts o = { 0 };
	struct addrinfo h;

	sk__resolve_hints(&o, &h);
	is_int(h.ai_flags, 0, "defaults: no flags");
	is_int(h.ai_family, AF_UNSPEC, "  any family");
	is_int(h.ai_socktype, 0, "  any type");
	o = (struct sk_resolve_opts){
		.family = AF_INET6, .socktype = SOCK_DGRAM, .canonical = true
	};
	sk__resolve_hints(&o, &h);
	is_int(h.ai_flags, AI_CANONNAME, "canonical: AI_CANONNAME");
	is_int(h.ai_family, AF_INET6, "  family");
	is_int(h.ai_socktype, SOCK_DGRAM, "  type");
	o = (struct sk_resolve_opts){ .passive = true, .numeric = true, .addrconfig = true };
	sk__resolve_hints(&o, &h);
	is_int(h.ai_flags, AI_PASSIVE | AI_NUMERICHOST | AI_ADDRCONFIG,
		"passive, numeric, addrconfig");
}

static struct sk_addrinfo answer(const char *addr, unsigned port, int socktype)
{
	struct sk_addrinfo a = { .socktype = socktype };

	sk__addr_parse_numeric(addr, port, &a.addr, &a.addrlen);
	a.family = a.addr.ss_family;
	a.protocol = socktype == SOCK_STREAM  ? IPPROTO_TCP
		     : socktype == SOCK_DGRAM ? IPPROTO_UDP
					      : 0;
	return a;
}

static void test_dedup(void)
{
	struct sk_addrinfo items[8];
	size_t n;

	items[0] = answer("10.0.0.1", 0, SOCK_STREAM);
	items[1] = answer("10.0.0.1", 0, SOCK_DGRAM);
	items[2] = answer("10.0.0.2", 0, SOCK_STREAM);
	items[3] = answer("10.0.0.1", 0, SOCK_STREAM);
	items[4] = answer("::1", 0, SOCK_STREAM);
	items[5] = answer("10.0.0.2", 0, SOCK_STREAM);
	items[6] = answer("10.0.0.1", 80, SOCK_STREAM);
	n = sk__addrinfo_dedup(items, 7, false);
	is_int(n, 5, "exact repeats dropped");
	is_int(items[0].socktype, SOCK_STREAM, "  order kept: first");
	is_int(items[1].socktype, SOCK_DGRAM, "  order kept: second");
	is_int(sk_addr_port((struct sockaddr *)&items[4].addr), 80,
		"  another port is another answer");
	n = sk__addrinfo_dedup(items, n, true);
	is_int(n, 4, "by address: one per address and port");
	is_int(items[1].addr.ss_family, AF_INET, "  10.0.0.2 second");
	is_int(items[2].addr.ss_family, AF_INET6, "  ::1 third");
	is_int(sk__addrinfo_dedup(items, 0, true), 0, "nothing stays nothing");
}

static void test_numeric(void)
{
	struct sk_resolve_opts o = { .numeric = true, .socktype = SOCK_STREAM, .canonical = true };
	struct sk_addrinfo_list *l = NULL;
	struct sk_err err;
	char text[64];

	is_int(sk_resolve("127.0.0.1", "80", &o, &l, &err), 0, "numeric 127.0.0.1 port 80");
	if (l) {
		is_int(l->count, 1, "  one answer");
		sk_addr_format((struct sockaddr *)&l->items[0].addr, l->items[0].addrlen, text,
			sizeof(text));
		is_str(text, "127.0.0.1", "  address");
		is_int(sk_addr_port((struct sockaddr *)&l->items[0].addr), 80, "  port");
		is_int(l->items[0].protocol, IPPROTO_TCP, "  tcp");
		is_str(l->canonical, "127.0.0.1", "  canonical name of a literal");
	}
	sk_addrinfo_list_free(l);
	l = (void *)1;
	is_int(sk_resolve("localhost", NULL, &o, &l, &err), SK_ERESOLVE, "numeric with a name");
	ok(l == NULL, "  no list");
	is_int(err.detail, EAI_NONAME, "  EAI_NONAME");
	is_str(err.what, "localhost", "  names the name");
	is_str(err.why, gai_strerror(EAI_NONAME), "  the resolver's text");
	is_int(sk_resolve("a..b", NULL, NULL, &l, &err), SK_EUSAGE,
		"a bad name is never looked up");
	o = (struct sk_resolve_opts){ .family = AF_INET, .numeric = true };
	is_int(sk_resolve("::1", NULL, &o, &l, &err), SK_ERESOLVE, "-4 with an IPv6 literal");
	o = (struct sk_resolve_opts){ .numeric = true, .socktype = SOCK_STREAM };
	is_int(sk_resolve("::1", "no-such-service-x", &o, &l, &err), SK_ERESOLVE,
		"unknown service");
	is_str(err.what, "service no-such-service-x", "  names the service");
	o = (struct sk_resolve_opts){ .passive = true, .socktype = SOCK_STREAM, .family = AF_INET };
	is_int(sk_resolve(NULL, "8080", &o, &l, &err), 0, "passive, no name: the wildcard");
	if (l) {
		sk_addr_format((struct sockaddr *)&l->items[0].addr, l->items[0].addrlen, text,
			sizeof(text));
		is_str(text, "0.0.0.0", "  0.0.0.0");
	}
	sk_addrinfo_list_free(l);
	sk_addrinfo_list_free(NULL);
}

static void test_reverse(void)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	struct sockaddr_storage ss;
	struct sk_err err;
	socklen_t len;

	is_int(sk_addr_parse("127.0.0.1", 80, &ss, &len, &err), 0, "parse 127.0.0.1");
	is_int(sk_reverse((struct sockaddr *)&ss, len, SK_REVERSE_NUMERIC_SERVICE, host,
		       sizeof(host), serv, sizeof(serv), &err),
		0, "reverse 127.0.0.1");
	ok(host[0] != '\0', "  a name: %s", host);
	is_str(serv, "80", "  numeric service");
	is_int(sk_addr_parse("::1", 0, &ss, &len, &err), 0, "parse ::1");
	is_int(sk_reverse((struct sockaddr *)&ss, len, 0, host, sizeof(host), NULL, 0, &err), 0,
		"reverse ::1 without a service");
	ok(host[0] != '\0', "  a name or ::1: %s", host);
	is_int(sk_addr_parse("localhost", 0, &ss, &len, &err), SK_EUSAGE, "a name is no address");
	is_str(err.what, "address 'localhost'", "  names it");
	is_int(err.pos, -1, "  no column");
	is_int(sk_addr_parse("::1", 65536, &ss, &len, &err), SK_EUSAGE, "port 65536");
}

static void test_interfaces(void)
{
	struct sockaddr_in mask4 = { .sin_family = AF_INET };
	struct sockaddr_in6 mask6 = { .sin6_family = AF_INET6 };
	struct sk_iface_list *l = NULL;
	struct sk_err err;
	bool lo = false, lo4 = false;

	inet_pton(AF_INET, "255.255.240.0", &mask4.sin_addr);
	is_int(sk__mask_prefix((struct sockaddr *)&mask4), 20, "mask 255.255.240.0 is /20");
	inet_pton(AF_INET6, "ffff:ffff:ffff:ffff::", &mask6.sin6_addr);
	is_int(sk__mask_prefix((struct sockaddr *)&mask6), 64, "an IPv6 /64 mask");
	is_int(sk__mask_prefix(NULL), 0, "no mask");

	is_int(sk_interfaces(&l, &err), 0, "list interfaces");
	for (size_t i = 0; l && i < l->count; i++) {
		const struct sk_iface *it = &l->items[i];

		if (strcmp(it->name, "lo") != 0)
			continue;
		lo = true;
		is_int(it->index, if_nametoindex("lo"), "  lo has its index");
		ok(it->flags & IFF_LOOPBACK, "  lo is a loopback");
		for (size_t k = 0; k < it->naddrs; k++) {
			char text[64];

			sk_addr_format((struct sockaddr *)&it->addrs[k].addr, it->addrs[k].addrlen,
				text, sizeof(text));
			if (strcmp(text, "127.0.0.1") == 0 && it->addrs[k].prefix == 8)
				lo4 = true;
		}
	}
	ok(lo, "  lo is listed");
	ok(lo4, "  lo has 127.0.0.1/8");
	for (size_t i = 1; l && i < l->count; i++)
		ok(l->items[i - 1].index < l->items[i].index, "  sorted by index (%s)",
			l->items[i].name);
	sk_iface_list_free(l);
	sk_iface_list_free(NULL);
}

int main(void)
{
	test_hostname_check();
	test_hints();
	test_dedup();
	test_numeric();
	test_reverse();
	test_interfaces();
	return tap_done();
}
