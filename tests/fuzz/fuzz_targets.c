/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_targets.c - the probe target parsers on arbitrary text:
 * sk_port_list_parse (ranges inside 1-65535 in order; written back as
 * "a-b,..." they parse to the same ranges) and sk_cidr_parse (host bits
 * clear; the network address and prefix parse back to the same block; the
 * last address is inside it and the one after is not). A failure is
 * SK_EUSAGE with a position inside the text.
 */
#include "fuzz.h"

#include <errno.h>
#include <sockit.h>

static void check_failure(const char *what, const char *text, int rc, const struct sk_err *err)
{
	FUZZ_CHECK(rc == SK_EUSAGE || rc == -ENOMEM, "%s '%s' returned %d", what, text, rc);
	FUZZ_CHECK(err->code == rc, "%s '%s': err.code %d, returned %d", what, text, err->code, rc);
	if (rc == SK_EUSAGE)
		FUZZ_CHECK(err->pos >= 0 && (size_t)err->pos <= strlen(text),
			"%s '%s': err.pos %d outside the text (%s)", what, text, err->pos, err->why);
}

static void check_ports(const char *text)
{
	struct sk_port_range *r, *again;
	struct sk_err err;
	size_t n, m, len = 0;
	char *back;
	int rc = sk_port_list_parse(text, "tcp", &r, &n, &err);

	if (rc < 0) {
		check_failure("port list", text, rc, &err);
		return;
	}
	FUZZ_CHECK(n >= 1, "port list '%s': no range", text);
	back = malloc(n * 12 + 1);
	FUZZ_CHECK(back, "out of memory");
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(r[i].first >= 1 && r[i].first <= r[i].last && r[i].last <= 65535,
			"port list '%s': range %u-%u", text, r[i].first, r[i].last);
		len += (size_t)sprintf(back + len, "%s%u-%u", i ? "," : "", r[i].first, r[i].last);
	}
	rc = sk_port_list_parse(back, "tcp", &again, &m, &err);
	FUZZ_CHECK(rc == 0 && m == n, "port list '%s': '%s' does not parse back (%d)", text, back,
		rc);
	FUZZ_CHECK(memcmp(r, again, n * sizeof(*r)) == 0, "port list '%s': '%s' differs", text,
		back);
	free(again);
	free(back);
	free(r);
}

static void check_cidr(const char *text)
{
	struct sockaddr_storage ss;
	struct sk_cidr c, again;
	struct sk_err err;
	char addr[128], back[160];
	unsigned max, bytes;
	uint64_t size;
	socklen_t len;
	int rc = sk_cidr_parse(text, &c, &err);

	if (rc < 0) {
		check_failure("address block", text, rc, &err);
		return;
	}
	max = c.family == AF_INET6 ? 128 : 32;
	FUZZ_CHECK(c.family == AF_INET || c.family == AF_INET6, "'%s': family %d", text, c.family);
	FUZZ_CHECK(c.prefix <= max, "'%s': prefix %u", text, c.prefix);
	for (unsigned bit = c.prefix; bit < 128; bit++) {
		bytes = bit / 8;
		FUZZ_CHECK(!(c.addr[bytes] & (0x80u >> (bit % 8))), "'%s': host bit %u set", text,
			bit);
	}
	size = sk_cidr_size(&c);
	FUZZ_CHECK(size >= 1, "'%s': empty block", text);
	FUZZ_CHECK(sk_cidr_nth(&c, 0, &ss, &len) == 0, "'%s': no first address", text);
	sk_addr_format((struct sockaddr *)&ss, len, addr, sizeof(addr));
	snprintf(back, sizeof(back), "%s/%u", addr, c.prefix);
	FUZZ_CHECK(sk_cidr_parse(back, &again, &err) == 0 &&
			   memcmp(&again, &c, sizeof(c)) == 0,
		"'%s': '%s' does not parse back to the same block", text, back);
	if (size != UINT64_MAX) {
		FUZZ_CHECK(sk_cidr_nth(&c, size - 1, &ss, &len) == 0, "'%s': no last address", text);
		FUZZ_CHECK(sk_cidr_nth(&c, size, &ss, &len) == -ERANGE,
			"'%s': an address past the end", text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);

	if (!text)
		return 0;
	check_ports(text);
	check_cidr(text);
	free(text);
	return 0;
}
