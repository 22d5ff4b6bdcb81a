#!/usr/bin/env bats
# connect.bats - `sockit connect` moving data (SPEC §3 connect): binary-safe at
# full size both ways, every half-close ordering, bounded memory against a
# stalled reader, resets, a closed stdout, UDP, IPv6.

load lib/common

# ---- bulk data, hashed at both ends ------------------------------------------------------

@test "16 MiB from connect to listen arrive intact" {
	random_file "$T/up" 16M
	listen_bg 127.0.0.1 0
	run -0 timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" <"$T/up"
	assert_output ""
	wait_exit "$LPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
}

@test "16 MiB from listen to connect arrive intact (connect's stdin empty)" {
	random_file "$T/down" 16M
	listen_bg --in "$T/down" 127.0.0.1 0
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null >"$T/got"
	wait_exit "$LPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/down" "$T/got"
	[[ ! -s $T/listen.out ]]
}

@test "16 MiB each way at once" {
	random_file "$T/up" 16M
	random_file "$T/down" 16M
	listen_bg --in "$T/down" 127.0.0.1 0
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" <"$T/up" >"$T/got"
	wait_exit "$LPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
}

@test "16 MiB each way at once through pipes on both ends" {
	random_file "$T/up" 16M
	random_file "$T/down" 16M
	mkfifo "$T/lin"
	bg_run feeder --out "$T/lin" -- cat "$T/down"
	listen_bg --in "$T/lin" 127.0.0.1 0
	cat "$T/up" | timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" | cat >"$T/got"
	wait_exit "$LPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
}

@test "every byte value 0-255, NUL, CR and LF included, passes unchanged both ways" {
	"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 64 + b"\0\r\n\r\r\n\n\0\0\xff")' >"$T/bytes"
	"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(255, -1, -1)) * 64 + b"\r\n\0")' >"$T/back"
	listen_bg --in "$T/back" 127.0.0.1 0
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" <"$T/bytes" >"$T/got"
	wait_exit "$LPID" 10
	cmp "$T/bytes" "$T/listen.out"
	cmp "$T/back" "$T/got"
}

@test "IPv6 loopback: 1 MiB each way over [::1]" {
	random_file "$T/up" 1M
	random_file "$T/down" 1M
	listen_bg --in "$T/down" 'tcp-listen:[::1]:0'
	assert_regex "$LEP" '^tcp-listen:\[::1\]:[0-9]+$'
	timeout 20 "$SOCKIT" connect "tcp:[::1]:$LPORT" <"$T/up" >"$T/got"
	wait_exit "$LPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
	grep -q '^connection from \[::1\]:' "$T/listen.err"
}

# ---- half-close: every ordering ----------------------------------------------------------------

@test "after our stdin ends, a late reply from the peer still arrives in full" {
	random_file "$T/up" 1M
	random_file "$T/reply" 1M
	# The peer reads to EOF and only then answers.
	peer_bg peer reply-after-eof "$T/reply"
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$PPORT" <"$T/up" >"$T/got"
	assert_same_data "$T/reply" "$T/got"
	wait_exit "$PPID_" 5
	assert_equal "$(report_value peer bytes)" $((1024 * 1024))
	assert_equal "$(report_value peer sha256)" "$(sha "$T/up")"
}

@test "after the peer's EOF, the rest of our input is still sent" {
	random_file "$T/part1" 256K
	random_file "$T/part2" 1M
	hold_fifo "$T/in" 8
	peer_bg peer eof-first hello
	bg_run conn --in "$T/in" -- "$SOCKIT" connect 127.0.0.1 "$PPORT"
	# Bounded: if sockit is gone, nothing drains the FIFO.
	timeout 10 cat "$T/part1" >&8
	# The peer has said all it will say (and shut down its side) ...
	wait_until 5 grep -qx hello "$T/conn.out"
	# ... and the second half of our input goes out after that.
	timeout 10 cat "$T/part2" >&8
	release_fifo 8
	wait_exit "$BG_PID" 10
	assert_equal "$WSTATUS" 0
	wait_exit "$PPID_" 5
	cat "$T/part1" "$T/part2" >"$T/sent"
	assert_equal "$(report_value peer bytes)" "$(stat -c %s "$T/sent")"
	assert_equal "$(report_value peer sha256)" "$(sha "$T/sent")"
}

@test "empty stdin: the peer sees EOF at once and its whole reply arrives" {
	random_file "$T/reply" 100K
	peer_bg peer reply-after-eof "$T/reply"
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$PPORT" </dev/null >"$T/got"
	assert_same_data "$T/reply" "$T/got"
	wait_exit "$PPID_" 5
	assert_equal "$(report_value peer bytes)" 0
	assert_equal "$(report_value peer eof)" yes
}

@test "empty stdin on both ends: both exit 0 with nothing written" {
	listen_bg 127.0.0.1 0
	run -0 --separate-stderr timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	assert_output ""
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	[[ ! -s $T/listen.out ]]
}

# ---- memory stays bounded against a stalled reader --------------------------------------------

@test "a stalled reader keeps sockit's memory bounded (connect and listen)" {
	local limit=$((64 * 1024)) max_c=0 max_l=0 rss i
	if ((SANITIZED)); then
		# ASan's quarantine would hold freed memory and look like growth.
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:malloc_context_size=0
	fi
	# The listener's stdout is a FIFO that nobody reads.
	hold_fifo "$T/stall" 7
	listen_bg --out "$T/stall" 127.0.0.1 0
	bg_run conn --in /dev/zero --out /dev/null -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
	local cpid=$BG_PID
	wait_accepts 1
	# Sample for 3 s: unbounded buffering of /dev/zero would reach GiBs.
	for i in $(seq 60); do
		rss=$(vmrss_kib "$cpid") || break
		((rss > max_c)) && max_c=$rss
		rss=$(vmrss_kib "$LPID") || break
		((rss > max_l)) && max_l=$rss
		sleep 0.05
	done
	echo "max VmRSS: connect $max_c KiB, listen $max_l KiB (limit $limit KiB)"
	alive "$cpid"
	alive "$LPID"
	((max_c > 0 && max_c < limit))
	((max_l > 0 && max_l < limit))
	# Data did flow: the stalled pipe holds the start of the stream.
	timeout 5 head -c 4096 <&7 >"$T/head"
	assert_equal "$(stat -c %s "$T/head")" 4096
	assert_equal "$(tr -d '\0' <"$T/head" | wc -c)" 0
}

# ---- the reader of our stdout goes away ----------------------------------------------------------

@test "stdout closed early (| head -c 10): connect exits promptly, status 0, no SIGPIPE" {
	listen_bg --in /dev/zero 127.0.0.1 0
	local start st
	start=$(now_ms)
	timeout 20 "$PY" "$HELPERS/dfl.py" "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null 2>"$T/err" |
		head -c 10 >"$T/head"
	st=${PIPESTATUS[0]}
	echo "status $st after $(elapsed_ms "$start") ms; stderr: $(cat "$T/err")"
	assert_equal "$st" 0
	(($(elapsed_ms "$start") < 5000))
	assert_equal "$(stat -c %s "$T/head")" 10
}

@test "stdout closed early while stdin is a file: connect still exits promptly" {
	random_file "$T/up" 1M
	listen_bg --in /dev/zero --out /dev/null 127.0.0.1 0
	local st
	timeout 20 "$PY" "$HELPERS/dfl.py" "$SOCKIT" connect 127.0.0.1 "$LPORT" <"$T/up" 2>"$T/err" |
		head -c 10 >/dev/null
	st=${PIPESTATUS[0]}
	echo "status $st; stderr: $(cat "$T/err")"
	((st != 141 && st != 124))
	assert_equal "$st" 0
}

# ---- resets ----------------------------------------------------------------------------------------

@test "a peer reset while we send: exit 1 naming the reset, never SIGPIPE" {
	peer_bg peer reset-after 65536
	run --separate-stderr timeout 20 "$PY" "$HELPERS/dfl.py" "$SOCKIT" connect 127.0.0.1 "$PPORT" </dev/zero
	echo "status $status; stderr: $stderr"
	assert_equal "$status" 1
	assert_regex "$stderr" "^sockit: connect: .*tcp:127\.0\.0\.1:$PPORT: Connection reset by peer$"
}

@test "a peer reset while we read: exit 1 naming the reset" {
	hold_fifo "$T/in" 8
	peer_bg peer send-reset 200000
	local st=0
	timeout 20 "$PY" "$HELPERS/dfl.py" "$SOCKIT" connect 127.0.0.1 "$PPORT" <"$T/in" \
		>"$T/got" 2>"$T/err" || st=$?
	echo "status $st; stderr: $(cat "$T/err")"
	assert_equal "$st" 1
	assert_regex "$(cat "$T/err")" "^sockit: connect: receive from tcp:127\.0\.0\.1:$PPORT: Connection reset by peer$"
}

# ---- UDP --------------------------------------------------------------------------------------------

@test "UDP over IPv4: a datagram each way" {
	echo pong >"$T/pong"
	listen_bg --in "$T/pong" -u 127.0.0.1 0
	assert_regex "$LEP" '^udp-listen:127\.0\.0\.1:[0-9]+$'
	run -0 timeout 20 "$SOCKIT" connect -u 127.0.0.1 "$LPORT" <<<ping
	assert_output pong
	assert_equal "$(cat "$T/listen.out")" ping
}

@test "UDP over IPv6: a datagram each way" {
	echo pong6 >"$T/pong"
	listen_bg --in "$T/pong" -u ::1 0
	assert_regex "$LEP" '^udp-listen:\[::1\]:[0-9]+$'
	run -0 timeout 20 "$SOCKIT" connect "udp:[::1]:$LPORT" <<<ping6
	assert_output pong6
	assert_equal "$(cat "$T/listen.out")" ping6
}

@test "a 65507-byte datagram (the IPv4 maximum) arrives whole" {
	random_file "$T/dgram" 65507
	peer_bg peer udp-sizes
	run -0 timeout 20 "$SOCKIT" connect -u 127.0.0.1 "$PPORT" <"$T/dgram"
	wait_until 5 test -s "$T/peer.report"
	assert_equal "$(cat "$T/peer.report")" "datagram 65507 $(sha "$T/dgram")"
}

@test "a 65507-byte datagram from connect -u reaches listen -u intact" {
	random_file "$T/dgram" 65507
	listen_bg -u 127.0.0.1 0
	run -0 timeout 20 "$SOCKIT" connect -u 127.0.0.1 "$LPORT" <"$T/dgram"
	wait_until 5 eval '(( $(stat -c %s "$T/listen.out") >= 65507 ))'
	assert_same_data "$T/dgram" "$T/listen.out"
}

# ---- the shorthand forms ---------------------------------------------------------------------------

@test "HOST PORT and ENDPOINT forms reach the same listener" {
	listen_bg -k 127.0.0.1 0
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" <<<one >/dev/null
	timeout 20 "$SOCKIT" connect "tcp:127.0.0.1:$LPORT" <<<two >/dev/null
	timeout 20 "$SOCKIT" connect "tcp4:localhost:$LPORT" <<<three >/dev/null
	wait_until 5 eval '(( $(wc -l <"$T/listen.out") == 3 ))'
	assert_equal "$(sort "$T/listen.out" | tr '\n' ' ')" "one three two "
}
