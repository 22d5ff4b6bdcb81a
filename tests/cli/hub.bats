#!/usr/bin/env bats
# hub.bats - listen with many clients talking to each other (--broker, --chat),
# address rules (--allow/--deny), and running out of descriptors.

load lib/common

# Start a client that keeps its stdin open (a held FIFO) and collects what it gets.
client_bg() { # client_bg NAME FD
	hold_fifo "$T/$1.in" "$2"
	bg_run "$1" --in "$T/$1.in" -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
	eval "${1}_PID=\$BG_PID"
}

# A client that connects and never reads, with a tiny receive buffer.
stalled_bg() {
	bg_run stalled -- "$PY" -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
print("connected", flush=True)
time.sleep(60)
' "$LPORT"
	STALLED_PID=$BG_PID
	wait_line "$T/stalled.out" connected 5
}

# A refused peer is reset right after the handshake: the client sees the
# reset while connecting (exit 4) or on its first send or receive (exit 1).
assert_reset() {
	[[ $status == 1 || $status == 4 ]] || fail "exit $status, expected 1 or 4"
	assert_output --partial "Connection reset by peer"
}

accepted() { # accepted N: the listener has logged N connections
	(($(grep -c '^connection from ' "$T/listen.err") >= $1))
}

@test "--broker: what one client sends reaches every other client, intact" {
	listen_bg --broker 127.0.0.1 0
	client_bg b 7
	client_bg c 8
	wait_until 5 accepted 2
	random_file "$T/data" 1048576
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" <"$T/data" >"$T/a.out"
	wait_until 10 eval '(( $(stat -c %s "$T/b.out") == 1048576 && $(stat -c %s "$T/c.out") == 1048576 ))'
	assert_equal "$(sha "$T/b.out")" "$(sha "$T/data")"
	assert_equal "$(sha "$T/c.out")" "$(sha "$T/data")"
	# The sender gets nothing back: "to all others".
	assert_equal "$(stat -c %s "$T/a.out")" 0
}

@test "--broker: a client that stops reading is dropped; the others lose nothing" {
	listen_bg --broker 127.0.0.1 0
	client_bg b 7
	stalled_bg
	wait_until 5 accepted 2
	random_file "$T/data" 16777216
	timeout 40 "$SOCKIT" connect 127.0.0.1 "$LPORT" <"$T/data" >/dev/null
	wait_until 20 eval '(( $(stat -c %s "$T/b.out") == 16777216 ))'
	assert_equal "$(sha "$T/b.out")" "$(sha "$T/data")"
	wait_line "$T/listen.err" '^dropped 127\.0\.0\.1:[0-9]+: too far behind' 5
	alive "$LPID"
}

@test "--chat: <user N> prefixes, join and leave lines, line by line" {
	listen_bg --chat 127.0.0.1 0
	client_bg b 7
	wait_until 5 accepted 1
	client_bg c 8
	wait_until 5 accepted 2
	wait_line "$T/b.out" '^<announce> user 2 joined$' 5
	echo "hello from b" >&7
	wait_line "$T/c.out" '^<user 1> hello from b$' 5
	printf 'one\ntwo\n' >&8
	wait_line "$T/b.out" '^<user 2> two$' 5
	kill "$c_PID"
	wait_line "$T/b.out" '^<announce> user 2 left$' 5
	run cat "$T/b.out"
	assert_output "$(printf '%s\n' '<announce> you are user 1' '<announce> user 2 joined' \
		'<user 2> one' '<user 2> two' '<announce> user 2 left')"
	run cat "$T/c.out"
	assert_output "$(printf '%s\n' '<announce> you are user 2' '<user 1> hello from b')"
}

@test "--broker with -u is a usage error before anything listens" {
	run -2 timeout 10 "$SOCKIT" listen --broker -u 127.0.0.1 0
	assert_output "sockit: listen: --broker/--chat need a stream listener, not udp-listen"
}

# ---- --allow / --deny -------------------------------------------------------------------

@test "--deny: the same client that is served without the rule is reset with it" {
	listen_bg 127.0.0.1 0
	run -0 timeout 10 "$SOCKIT" connect 127.0.0.1 "$LPORT" <<<served
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/listen.out")" served

	listen_bg --name denied --deny 127.0.0.0/8 127.0.0.1 0
	run timeout 10 "$SOCKIT" connect 127.0.0.1 "$LPORT" <<<refused
	assert_reset
	wait_line "$T/denied.err" '^refused 127\.0\.0\.1:[0-9]+ \(--allow/--deny\)$' 5
	assert_equal "$(cat "$T/denied.out")" ""
	alive "$LPID" # a refused peer is not the one peer: still listening
}

@test "--allow: only listed blocks get in; deny wins over allow" {
	listen_bg -k --allow 10.0.0.0/8 127.0.0.1 0
	run timeout 10 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	assert_reset
	wait_line "$T/listen.err" '^refused ' 5

	listen_bg --name allowed -k --allow 127.0.0.1 127.0.0.1 0
	run -0 timeout 10 "$SOCKIT" connect 127.0.0.1 "$LPORT" <<<welcome
	wait_line "$T/allowed.out" '^welcome$' 5

	listen_bg --name both -k --allow 127.0.0.0/8 --deny 127.0.0.1 127.0.0.1 0
	run timeout 10 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	assert_reset
	wait_line "$T/both.err" '^refused ' 5
}

@test "--deny matches an IPv4 peer of a dual-stack listener (seen as ::ffff:a.b.c.d)" {
	listen_bg -k --deny 127.0.0.1 0
	assert_regex "$LEP" '^tcp-listen:\[::\]:'
	run timeout 10 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	assert_reset
	run -0 timeout 10 "$SOCKIT" connect ::1 "$LPORT" <<<six
	wait_line "$T/listen.out" '^six$' 5
}

@test "--allow/--deny: a malformed block is exit 2 naming it, and nothing listens" {
	run -2 timeout 10 "$SOCKIT" listen --allow 10.0.0.0/33 127.0.0.1 0
	assert_output "sockit: listen: --allow '10.0.0.0/33': prefix length '33' out of range 0-32 (column 10)"
	run -2 timeout 10 "$SOCKIT" listen --deny example.org 0
	assert_output "sockit: listen: --deny 'example.org': 'example.org' is not an IPv4 or IPv6 address block (column 1)"
	run -2 timeout 10 "$SOCKIT" listen --allow 127.0.0.1 -U "$T/s.sock"
	assert_output "sockit: listen: --allow/--deny apply to IP listeners, not unix-listen"
	[[ ! -e $T/s.sock ]]
}

# ---- out of descriptors -------------------------------------------------------------------

cpu_ticks() { # utime + stime of a process, in clock ticks
	awk '{print $14 + $15}' "/proc/$1/stat"
}

@test "EMFILE on accept: no spin, one log line, service resumes when fds free up" {
	# sockit itself (the python wrapper execs it) gets a 16-fd limit.
	bg_run listen -- prlimit --nofile=16 "$SOCKIT" listen -v -k 127.0.0.1 0
	LPID=$BG_PID
	wait_line "$T/listen.err" '^listening on ' 5
	LPORT=$(sed -n 's/^listening on .*://p' "$T/listen.err")
	local i
	for i in $(seq 14); do
		hold_fifo "$T/c$i.in" $((20 + i))
		bg_run "c$i" --in "$T/c$i.in" -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
		eval "c${i}_PID=\$BG_PID"
	done
	wait_line "$T/listen.err" 'Too many open files; pausing accepts' 10
	local before after
	before=$(cpu_ticks "$LPID")
	sleep 2 # measuring CPU over a fixed window, not waiting for readiness
	after=$(cpu_ticks "$LPID")
	# A spinning accept loop burns ~200 ticks in 2 s; pausing costs a few.
	((after - before < 40)) || fail "listener used $((after - before)) ticks in 2 s"
	assert_equal "$(grep -c 'pausing accepts' "$T/listen.err")" 1
	for i in $(seq 14); do
		kill "$(eval echo "\$c${i}_PID")"
	done
	run -0 timeout 10 "$SOCKIT" connect 127.0.0.1 "$LPORT" <<<"after the flood"
	wait_line "$T/listen.out" '^after the flood$' 10
	wait_line "$T/listen.err" '^accepting again on ' 5
}

@test "300 sequential -k clients under RLIMIT_NOFILE=64: descriptors come back" {
	bg_run listen -- prlimit --nofile=64 "$SOCKIT" listen -v -k 127.0.0.1 0
	LPID=$BG_PID
	wait_line "$T/listen.err" '^listening on ' 5
	LPORT=$(sed -n 's/^listening on .*://p' "$T/listen.err")
	local before i
	before=$(ls "/proc/$LPID/fd" | wc -l)
	for i in $(seq 300); do
		timeout 10 "$SOCKIT" connect 127.0.0.1 "$LPORT" <<<"n$i" >/dev/null ||
			fail "client $i failed"
	done
	wait_until 10 eval '(( $(grep -c "^closed " "$T/listen.err") == 300 ))'
	assert_equal "$(ls "/proc/$LPID/fd" | wc -l)" "$before"
	assert_equal "$(wc -l <"$T/listen.out")" 300
}
