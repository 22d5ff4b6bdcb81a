#!/usr/bin/env bats
# stdio.bats - how stdio meets the socket in connect and single-peer listen:
# --hexdump (the exact dump lines, both directions, nothing altered), --crlf
# (what the peer receives), and --interactive without a terminal (lines,
# escaping, the bound on an unfinished line). The tmux-driven terminal is in
# term.bats.

load lib/common

# The dump of "hello, sockit world\n" sent and "pong\n" received, as `hexdump -C` prints them.
SENT_1='> 00000000  68 65 6c 6c 6f 2c 20 73  6f 63 6b 69 74 20 77 6f  |hello, sockit wo|'
SENT_2='> 00000010  72 6c 64 0a                                       |rld.|'
RECV_1='< 00000000  70 6f 6e 67 0a                                    |pong.|'

@test "connect --hexdump: exact dump lines both ways on stderr; the data is unchanged" {
	printf 'pong\n' >"$T/pong"
	printf 'hello, sockit world\n' >"$T/hello"
	listen_bg --in "$T/pong" 127.0.0.1 0
	run --separate-stderr timeout 20 "$SOCKIT" connect --hexdump 127.0.0.1 "$LPORT" <"$T/hello"
	assert_success
	assert_output pong
	assert_equal "$(grep -c '^> ' <<<"$stderr")" 2
	assert_equal "$(grep -c '^< ' <<<"$stderr")" 1
	grep -qxF -- "$SENT_1" <<<"$stderr"
	grep -qxF -- "$SENT_2" <<<"$stderr"
	grep -qxF -- "$RECV_1" <<<"$stderr"
	wait_exit "$LPID" 5
	assert_same_data "$T/hello" "$T/listen.out"
}

@test "the dump matches hexdump -C line for line, offsets running on per direction" {
	command -v hexdump >/dev/null || skip "hexdump is not installed"
	random_file "$T/data" 100K
	listen_bg --out /dev/null 127.0.0.1 0
	run --separate-stderr timeout 20 "$SOCKIT" connect --hexdump 127.0.0.1 "$LPORT" <"$T/data"
	assert_success
	# Chunks may end mid-line: the bytes shown, in order, are the data, and each
	# line's offset is where the previous one ended.
	grep '^> ' <<<"$stderr" >"$T/dump"
	run -0 "$PY" -c 'import sys
data = open(sys.argv[1], "rb").read(); want = 0
for line in open(sys.argv[2]):
    hexpart = line[11:60]
    got = bytes.fromhex(hexpart)
    assert int(line[2:10], 16) == want, (line, want)
    assert data[want:want + len(got)] == got, line
    want += len(got)
assert want == len(data), want' "$T/data" "$T/dump"
	# A full line is formatted exactly as hexdump -C does it.
	head -c 16 "$T/data" | hexdump -C | head -1 | sed 's/^/> /' >"$T/first.want"
	grep -m1 '^> 00000000 ' <<<"$stderr" >"$T/first.got"
	assert_same_data "$T/first.want" "$T/first.got"
}

@test "listen --hexdump dumps a single peer's session" {
	printf 'pong\n' >"$T/pong"
	printf 'hello, sockit world\n' >"$T/hello"
	listen_bg --in "$T/pong" --hexdump 127.0.0.1 0
	run -0 timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" <"$T/hello"
	assert_output pong
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	# For the listener "pong" is sent and the greeting received.
	grep -qxF -- "${RECV_1/</>}" "$T/listen.err"
	grep -qxF -- "${SENT_1/>/<}" "$T/listen.err"
	grep -qxF -- "${SENT_2/>/<}" "$T/listen.err"
}

# crlf_expect IN OUT: IN with every LF not already after a CR made CRLF.
crlf_expect() {
	"$PY" -c 'import re, sys; sys.stdout.buffer.write(re.sub(rb"(?<!\r)\n", b"\r\n", open(sys.argv[1], "rb").read()))' "$1" >"$2"
}

# text_file PATH: 1 MiB of lines, some already ending CRLF, some empty, a CR alone here and there.
text_file() {
	"$PY" -c 'import random, sys
r = random.Random(7); out = []
for i in range(40000):
    out.append(b"x" * r.randrange(0, 40) + r.choice([b"\n", b"\r\n", b"\n", b"\r", b"\n\n"]))
sys.stdout.buffer.write(b"".join(out)[:1 << 20])' >"$1"
}

@test "connect --crlf: the peer receives every LF as CRLF and existing CRLF unchanged" {
	text_file "$T/text"
	crlf_expect "$T/text" "$T/want"
	listen_bg 127.0.0.1 0
	run -0 timeout 20 "$SOCKIT" connect --crlf 127.0.0.1 "$LPORT" <"$T/text"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/want" "$T/listen.out"
	# The other direction is untouched.
	printf 'a\nb\r\n' >"$T/reply"
	listen_bg --name l2 --in "$T/reply" 127.0.0.1 0
	run -0 timeout 20 "$SOCKIT" connect --crlf 127.0.0.1 "$LPORT" </dev/null
	assert_equal "$(od -An -c <<<"$output" | tr -s ' \n' ' ')" " a \n b \r \n "
}

@test "connect --crlf through a pipe, byte by byte: a CR and its LF in separate reads stay one CRLF" {
	listen_bg 127.0.0.1 0
	{
		printf 'one\r'
		sleep 0.2
		printf '\ntwo\n'
	} | timeout 20 "$SOCKIT" connect --crlf 127.0.0.1 "$LPORT"
	wait_exit "$LPID" 5
	assert_equal "$(od -An -c "$T/listen.out" | tr -s ' \n' ' ')" " o n e \r \n t w o \r \n "
}

@test "listen --crlf sends CRLF to its one peer" {
	printf 'l1\nl2\r\n' >"$T/lines"
	listen_bg --in "$T/lines" --crlf 127.0.0.1 0
	run -0 timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	wait_exit "$LPID" 5
	printf 'l1\r\nl2\r\n' >"$T/want"
	printf '%s\n' "$output" >"$T/got"
	assert_same_data "$T/want" "$T/got"
}

@test "--crlf, --hexdump and --interactive are refused with listen -k, --broker and UDP" {
	run -2 "$SOCKIT" listen -k --hexdump 127.0.0.1 0
	assert_output "sockit: listen: --hexdump is not supported with --keep-open yet"
	run -2 "$SOCKIT" listen --broker --crlf 127.0.0.1 0
	assert_output "sockit: listen: --crlf is not supported with --keep-open yet"
	run -2 "$SOCKIT" listen -u --interactive 127.0.0.1 0
	assert_output "sockit: listen: --interactive is not supported with UDP yet"
}

@test "connect --interactive without a terminal: lines go out, the peer's bytes come back escaped" {
	printf 'plain \033[31mred\a bad\377\r\nsecond\n' >"$T/reply"
	listen_bg --in "$T/reply" 127.0.0.1 0
	run -0 timeout 20 "$SOCKIT" connect --interactive --crlf 127.0.0.1 "$LPORT" < <(printf 'a\nb')
	assert_output 'plain \x1b[31mred\x07 bad\xff
second'
	wait_exit "$LPID" 5
	assert_equal "$(od -An -c "$T/listen.out" | tr -s ' \n' ' ')" " a \r \n b "
}

@test "connect --interactive: a peer's endless line is shown in pieces, never held back whole" {
	hold_fifo "$T/peer.in" 7
	listen_bg --in "$T/peer.in" 127.0.0.1 0
	hold_fifo "$T/me.in" 8
	bg_run term --in "$T/me.in" -- "$SOCKIT" connect --interactive 127.0.0.1 "$LPORT"
	wait_accepts 1
	head -c 100000 /dev/zero | tr '\0' 'z' >&7
	# No newline was sent, yet nearly all of it is on stdout, in lines of at most 4 KiB.
	wait_until 5 eval '(( $(stat -c %s "$T/term.out") >= 96000 ))'
	run -0 awk '{ if (length($0) > 4096 + 16384 * 4) exit 1 } END { print NR }' "$T/term.out"
	((output >= 2))
	release_fifo 7
	release_fifo 8
	wait_exit "$BG_PID" 5
	assert_equal "$WSTATUS" 0
	assert_equal "$(tr -d '\n' <"$T/term.out" | wc -c)" 100000
}
