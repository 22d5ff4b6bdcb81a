/* SPDX-License-Identifier: BSD-2-Clause */
/* hexdump.c - --hexdump: traffic on stderr as offset/hex/ASCII lines, one offset per direction. */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

#define PER_LINE 16
/* "> " + offset (up to 16 digits) + 16 bytes + gaps + "|16 chars|\n" fits easily. */
#define LINE_MAX_LEN 96
/* Lines gathered before one write, so a chunk reaches stderr in few writes. */
#define BATCH 32

/* One line as `hexdump -C` prints it, after the direction marker. */
static size_t format_line(char *out, char mark, uint64_t offset, const unsigned char *p, size_t n)
{
	size_t len = (size_t)snprintf(out, LINE_MAX_LEN, "%c %08" PRIx64 " ", mark, offset);

	for (size_t i = 0; i < PER_LINE; i++) {
		if (i == PER_LINE / 2)
			out[len++] = ' ';
		if (i < n)
			len += (size_t)snprintf(out + len, LINE_MAX_LEN - len, " %02x", p[i]);
		else
			len += (size_t)snprintf(out + len, LINE_MAX_LEN - len, "   ");
	}
	len += (size_t)snprintf(out + len, LINE_MAX_LEN - len, "  |");
	for (size_t i = 0; i < n; i++)
		out[len++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	out[len++] = '|';
	out[len++] = '\n';
	return len;
}

void cli_hexdump_trace(enum sk_pump_dir dir, const void *data, size_t len, void *userdata)
{
	struct cli_hexdump *dump = userdata;
	FILE *out = dump->out ? dump->out : stderr;
	const unsigned char *p = data;
	char mark = dir == SK_PUMP_A_TO_B ? '>' : '<';
	char buf[BATCH * LINE_MAX_LEN];
	size_t used = 0;

	while (len > 0) {
		size_t n = len < PER_LINE ? len : PER_LINE;

		used += format_line(buf + used, mark, dump->offset[dir], p, n);
		dump->offset[dir] += n;
		p += n;
		len -= n;
		if (used > sizeof(buf) - LINE_MAX_LEN) {
			fwrite(buf, 1, used, out);
			used = 0;
		}
	}
	fwrite(buf, 1, used, out);
	fflush(out);
}
