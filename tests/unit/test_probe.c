/* SPDX-License-Identifier: BSD-2-Clause */
/* test_probe.c - port lists and address blocks for probe targets. */
#include "internal.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

/* The ranges of a port list as "a-b,c-d", or the usage error as "why @pos". */
static const char *ports(const char *text, char *buf, size_t len)
{
	struct sk_port_range *r;
	struct sk_err err;
	size_t n, off = 0;
	int rc = sk_port_list_parse(text, "tcp", &r, &n, &err);

	if (rc < 0) {
		snprintf(buf, len, "%s: %s @%d", err.what, err.why, err.pos);
		return buf;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(
			buf + off, len - off, "%s%u-%u", i ? "," : "", r[i].first, r[i].last);
	free(r);
	return buf;
}

static void test_port_lists(void)
{
	char b[512];

	is_str(ports("22", b, sizeof(b)), "22-22", "single port");
	is_str(ports("1-1024", b, sizeof(b)), "1-1024", "range");
	is_str(ports("ssh,80,8000-8100", b, sizeof(b)), "22-22,80-80,8000-8100",
		"service, port and range in order");
	is_str(ports("65535", b, sizeof(b)), "65535-65535", "highest port");
	is_str(ports("0", b, sizeof(b)), "port list '0': port '0' out of range 1-65535 @0",
		"port 0 refused");
	is_str(ports("80,70000", b, sizeof(b)),
		"port list '80,70000': port '70000' out of range 1-65535 @3", "port over 65535");
	is_str(ports("10-5", b, sizeof(b)), "port list '10-5': range '10-5' is reversed @0",
		"reversed range");
	is_str(ports("1-70000", b, sizeof(b)),
		"port list '1-70000': range '1-70000' out of range 1-65535 @0", "range too high");
	is_str(ports("a,,b", b, sizeof(b)), "port list 'a,,b': empty item @2",
		"empty item named before the unknown service");
	is_str(ports("22,", b, sizeof(b)), "port list '22,': empty item @3", "trailing comma");
	is_str(ports("", b, sizeof(b)), "port list '': empty item @0", "empty list");
	is_str(ports("22,nosuchservice", b, sizeof(b)),
		"port list '22,nosuchservice': unknown service 'nosuchservice' @3",
		"unknown service");
	is_str(ports("8 0", b, sizeof(b)), "port list '8 0': invalid port '8 0' @0",
		"space inside an item");
}

static const char *block(const char *text, char *buf, size_t len)
{
	struct sk_cidr c;
	struct sk_err err;
	struct sockaddr_storage ss;
	socklen_t sl;
	char first[64], last[64];
	uint64_t size;

	if (sk_cidr_parse(text, &c, &err) < 0) {
		snprintf(buf, len, "%s: %s @%d", err.what, err.why, err.pos);
		return buf;
	}
	size = sk_cidr_size(&c);
	sk_cidr_nth(&c, 0, &ss, &sl);
	sk_addr_format((struct sockaddr *)&ss, sl, first, sizeof(first));
	if (size != UINT64_MAX && sk_cidr_nth(&c, size - 1, &ss, &sl) == 0)
		sk_addr_format((struct sockaddr *)&ss, sl, last, sizeof(last));
	else
		snprintf(last, sizeof(last), "...");
	snprintf(buf, len, "%s..%s (%llu)", first, last, (unsigned long long)size);
	return buf;
}

static void test_cidr(void)
{
	struct sockaddr_storage ss;
	struct sk_cidr c;
	socklen_t sl;
	char b[512];

	is_str(block("10.0.0.0/30", b, sizeof(b)), "10.0.0.0..10.0.0.3 (4)", "IPv4 /30");
	is_str(block("10.0.0.5/30", b, sizeof(b)), "10.0.0.4..10.0.0.7 (4)", "host bits cleared");
	is_str(block("192.168.1.7", b, sizeof(b)), "192.168.1.7..192.168.1.7 (1)", "lone address");
	is_str(block("10.0.0.0/8", b, sizeof(b)), "10.0.0.0..10.255.255.255 (16777216)",
		"IPv4 /8 counted");
	is_str(block("fd00::/126", b, sizeof(b)), "fd00::..fd00::3 (4)", "IPv6 /126");
	is_str(block("fd00::1:0/112", b, sizeof(b)), "fd00::1:0..fd00::1:ffff (65536)",
		"IPv6 /112");
	is_str(block("fd00::/64", b, sizeof(b)), "fd00::..... (18446744073709551615)",
		"IPv6 /64 saturates");
	is_str(block("10.0.0.0/33", b, sizeof(b)),
		"address block '10.0.0.0/33': prefix length '33' out of range 0-32 @9",
		"prefix too long");
	is_str(block("10.0.0/24", b, sizeof(b)),
		"address block '10.0.0/24': '10.0.0' is not an IPv4 or IPv6 address @0",
		"short address");
	is_str(block("::1/129", b, sizeof(b)),
		"address block '::1/129': prefix length '129' out of range 0-128 @4",
		"IPv6 prefix too long");
	is_str(block("10.0.0.0/", b, sizeof(b)),
		"address block '10.0.0.0/': prefix length '' out of range 0-32 @9",
		"missing prefix");
	sk_cidr_parse("10.0.0.0/30", &c, NULL);
	is_int(sk_cidr_nth(&c, 4, &ss, &sl), -ERANGE, "past the end of the block");
	sk_cidr_parse("10.0.0.0/23", &c, NULL);
	sk_cidr_nth(&c, 300, &ss, &sl);
	sk_addr_format((struct sockaddr *)&ss, sl, b, sizeof(b));
	is_str(b, "10.0.1.44", "index carries into the next byte");
}

int main(void)
{
	test_port_lists();
	test_cidr();
	return tap_done();
}
