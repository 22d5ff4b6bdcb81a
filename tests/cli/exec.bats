#!/usr/bin/env bats
# exec.bats - a program per connection: `listen -e/--exec` and `--sh` (SPEC §3 listen),
# `connect -e/--sh`: exact bytes, argv without a shell, the SOCKIT_* environment,
# descriptor hygiene, reaping, half-close through the child, exit statuses.

load lib/common

# child_pid N: the pid of the Nth child the listener logged (`child PID for ...`).
child_pid() {
	sed -n 's/^child \([0-9]*\) for .*: .*$/\1/p' "$T/$LNAME.err" | sed -n "${1}p"
}

# children_of PID: the ps STAT of each child of PID, one per line.
children_of() {
	ps --ppid "$1" -o stat= 2>/dev/null || true
}

no_children() {
	[[ -z $(children_of "$LPID") ]]
}

# track_children: let teardown kill the listener's children too (they outlive it).
track_children() {
	sed -n 's/^child \([0-9]*\) for .*: .*$/\1/p' "$T/$LNAME.err" >>"$PIDFILE"
}

fd_count() {
	ls "/proc/$1/fd" | wc -l
}

# ---- bytes through the child ------------------------------------------------------------------

@test "-k --exec cat: 50 sequential 256 KiB connections come back exactly" {
	local i
	listen_bg -k --exec cat 127.0.0.1 0
	for i in $(seq 50); do
		random_file "$T/in" 256K
		timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" <"$T/in" >"$T/out"
		assert_same_data "$T/in" "$T/out"
	done
	wait_until 5 eval '(( $(grep -c "exited with status 0$" "$T/listen.err") == 50 ))'
	alive "$LPID"
}

@test "-k --exec /bin/cat: 20 concurrent 256 KiB connections come back exactly" {
	local n=20 i pids=()
	listen_bg -k --exec /bin/cat 127.0.0.1 0
	for i in $(seq $n); do
		random_file "$T/c$i.in" 256K
	done
	for i in $(seq $n); do
		bg_run "c$i" --in "$T/c$i.in" -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
		pids+=("$BG_PID")
	done
	for i in $(seq $n); do
		wait_exit "${pids[i - 1]}" 20
		assert_equal "$WSTATUS" 0
		assert_same_data "$T/c$i.in" "$T/c$i.out"
	done
	wait_until 5 no_children
	alive "$LPID"
}

@test "half-close through the child: output after the client's EOF still reaches it" {
	listen_bg --sh 'cat; echo done-after-eof' 127.0.0.1 0
	run -0 --separate-stderr timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" <<<"first line"
	assert_output "first line
done-after-eof"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
}

# ---- argv and the shell ------------------------------------------------------------------------

@test "--exec: blanks, \$(), backticks and ;|&*> arrive verbatim in argv; no shell runs" {
	local want
	listen_bg --exec "printf '%s\n' 'a b' '\$(touch $T/pwned)' '\`touch $T/pwned2\`' ';' '|' '&' '*' '>' \"x  y\" back\\ slash" 127.0.0.1 0
	run -0 --separate-stderr timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	want=$(printf '%s\n' 'a b' "\$(touch $T/pwned)" "\`touch $T/pwned2\`" ';' '|' '&' '*' '>' 'x  y' 'back slash')
	assert_output "$want"
	[[ ! -e $T/pwned && ! -e $T/pwned2 ]]
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
}

@test "--sh runs the command with /bin/sh -c" {
	listen_bg --sh 'for w in one two; do printf "%s-" "$w"; done; echo $((6 * 7))' 127.0.0.1 0
	run -0 --separate-stderr timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	assert_output "one-two-42"
}

@test "data from the peer is never interpreted: a line of shell syntax is just bytes to the child" {
	listen_bg --sh 'read -r line; printf "%s\n" "$line"' 127.0.0.1 0
	run -0 --separate-stderr timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" <<<"\$(touch $T/pwned); \`id\`"
	assert_output "\$(touch $T/pwned); \`id\`"
	[[ ! -e $T/pwned ]]
}

# ---- the environment ---------------------------------------------------------------------------

@test "SOCKIT_* for a TCP peer over IPv4" {
	local peer
	listen_bg --sh 'env | grep -E "^SOCKIT_(PEER|LOCAL|PROTO)" | sort' 127.0.0.1 0
	run -0 --separate-stderr timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	peer=$(sed -n 's/^connection from 127\.0\.0\.1://p' "$T/listen.err")
	assert_output "SOCKIT_LOCAL_ADDR=127.0.0.1
SOCKIT_LOCAL_PORT=$LPORT
SOCKIT_PEER_ADDR=127.0.0.1
SOCKIT_PEER_PORT=$peer
SOCKIT_PROTO=tcp"
}

@test "SOCKIT_* for a TCP peer over IPv6, and an IPv4 peer of the dual-stack wildcard as IPv4" {
	local peer
	listen_bg --sh 'env | grep -E "^SOCKIT_(PEER|LOCAL|PROTO)" | sort' ::1 0
	run -0 --separate-stderr timeout 20 "$SOCKIT" connect ::1 "$LPORT" </dev/null
	peer=$(sed -n 's/^connection from \[::1\]://p' "$T/listen.err")
	assert_output "SOCKIT_LOCAL_ADDR=::1
SOCKIT_LOCAL_PORT=$LPORT
SOCKIT_PEER_ADDR=::1
SOCKIT_PEER_PORT=$peer
SOCKIT_PROTO=tcp"
	listen_bg --name dual --sh 'echo "$SOCKIT_PEER_ADDR $SOCKIT_LOCAL_ADDR"' 0
	run -0 --separate-stderr timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	assert_output "127.0.0.1 127.0.0.1"
}

@test "SOCKIT_* for a UNIX peer: the client's own PID, UID and GID (SO_PEERCRED)" {
	listen_bg --sh 'env | grep -E "^SOCKIT_(PEER|LOCAL|PROTO)" | sort' -U "$T/s.sock"
	bg_run client -- "$SOCKIT" connect -U "$T/s.sock"
	wait_exit "$BG_PID" 20
	assert_equal "$WSTATUS" 0
	assert_equal "$(cat "$T/client.out")" "SOCKIT_LOCAL_ADDR=$T/s.sock
SOCKIT_PEER_ADDR=
SOCKIT_PEER_GID=$(id -g)
SOCKIT_PEER_PID=$BG_PID
SOCKIT_PEER_UID=$(id -u)
SOCKIT_PROTO=unix"
}

@test "SOCKIT_PROTO is abstract for an abstract-namespace listener" {
	local name=sockit-exec-$$-$RANDOM
	listen_bg --sh 'echo "$SOCKIT_PROTO $SOCKIT_LOCAL_ADDR"' --abstract "$name"
	run -0 --separate-stderr timeout 20 "$SOCKIT" connect --abstract "$name" </dev/null
	assert_output "abstract @$name"
}

# ---- descriptors, reaping -------------------------------------------------------------------

@test "the child holds exactly fds 0, 1 and 2: not the listener, not other clients" {
	local pid
	hold_fifo "$T/in1" 8
	hold_fifo "$T/in2" 9
	listen_bg -k --exec 'sleep 30' 127.0.0.1 0
	bg_run c1 --in "$T/in1" -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
	bg_run c2 --in "$T/in2" -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
	wait_until 5 eval '[[ -n $(child_pid 2) ]]'
	pid=$(child_pid 2)
	assert_equal "$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')" "0 1 2 "
	# 0 and 1 are the connection itself, 2 is sockit's stderr.
	assert_regex "$(readlink "/proc/$pid/fd/0")" '^socket:'
	assert_equal "$(readlink "/proc/$pid/fd/0")" "$(readlink "/proc/$pid/fd/1")"
	assert_equal "$(readlink "/proc/$pid/fd/2")" "$T/listen.err"
	# Signals at their defaults and none blocked, although sockit ignores SIGPIPE
	# and blocks SIGCHLD. (glibc's posix_spawn leaves its two internal signals,
	# 32 and 33, ignored; the program's own libc sets them up again.)
	assert_equal "$(awk '/^SigBlk/ { print $2 }' "/proc/$pid/status")" 0000000000000000
	assert_equal "$((0x$(awk '/^SigIgn/ { print $2 }' "/proc/$pid/status") & ~0x180000000))" 0
	track_children
}

@test "the listener's fd count is back to its baseline after 200 connections" {
	local base i
	listen_bg -k --exec cat 127.0.0.1 0
	base=$(fd_count "$LPID")
	for i in $(seq 200); do
		echo "$i" | timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" >/dev/null
	done
	wait_until 5 no_children
	assert_equal "$(fd_count "$LPID")" "$base"
	assert_equal "$(grep -c '^child .* exited with status 0$' "$T/listen.err")" 200
}

@test "no zombies: 30 concurrent children are all reaped, each exit logged" {
	local n=30 i pids=()
	listen_bg -k --sh 'echo hi' 127.0.0.1 0
	for i in $(seq $n); do
		bg_run "c$i" -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
		pids+=("$BG_PID")
	done
	for i in $(seq $n); do
		wait_exit "${pids[i - 1]}" 20
		assert_equal "$(cat "$T/c$i.out")" hi
	done
	wait_until 5 eval '(( $(grep -c "exited with status 0$" "$T/listen.err") == 30 ))'
	run children_of "$LPID"
	refute_output --partial Z
	assert_output ""
}

@test "--max-conns bounds live children; a slot frees when a child ends" {
	hold_fifo "$T/in1" 7
	hold_fifo "$T/in2" 8
	hold_fifo "$T/in3" 9
	listen_bg -k --max-conns 2 --exec cat 127.0.0.1 0
	bg_run c1 --in "$T/in1" -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
	bg_run c2 --in "$T/in2" -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
	wait_accepts 2
	bg_run c3 --in "$T/in3" -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
	local c3=$BG_PID
	# The third waits in the backlog (a negative check needs a pause).
	sleep 0.5
	assert_equal "$(grep -c '^connection from ' "$T/listen.err")" 2
	echo one >&7
	release_fifo 7
	wait_accepts 3
	echo three >&9
	release_fifo 9
	wait_exit "$c3" 10
	assert_equal "$WSTATUS" 0
	assert_equal "$(cat "$T/c3.out")" three
	assert_equal "$(cat "$T/c1.out")" one
}

@test "-k --exec does not read stdin at all" {
	printf 'not for anyone\n' >"$T/stdin"
	listen_bg --in "$T/stdin" -k --exec cat 127.0.0.1 0
	run -0 --separate-stderr timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" <<<"echoed"
	assert_output echoed
	assert_equal "$(awk '/^pos:/ { print $2 }' "/proc/$LPID/fdinfo/0")" 0
}

# ---- exit statuses and events --------------------------------------------------------------------

@test "single peer: exit 0 when the program exits 0, 1 when it fails or is killed" {
	listen_bg --name ok --exec true 127.0.0.1 0
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	listen_bg --name fail --sh 'exit 3' 127.0.0.1 0
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 1
	grep -q '^child [0-9]* for 127\.0\.0\.1:[0-9]* exited with status 3$' "$T/fail.err"
	listen_bg --name killed --sh 'kill -TERM $$' 127.0.0.1 0
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 1
	grep -q '^child [0-9]* for 127\.0\.0\.1:[0-9]* killed by SIGTERM$' "$T/killed.err"
}

@test "single peer: later peers are refused while the program runs" {
	hold_fifo "$T/in" 8
	listen_bg --exec cat 127.0.0.1 0
	bg_run first --in "$T/in" -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
	wait_until 5 eval '[[ -n $(child_pid 1) ]]'
	run -4 --separate-stderr timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	release_fifo 8
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
}

@test "--json logs spawned and exited events" {
	bg_run listen -- "$SOCKIT" listen --json --exec true 127.0.0.1 0
	LPID=$BG_PID
	wait_line "$T/listen.err" '"event":"listening"' 5 "$LPID"
	LPORT=$(sed -n 's/.*"endpoint":"tcp-listen:127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$T/listen.err")
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	grep -q '"event":"spawned","peer":"127\.0\.0\.1:[0-9]*","pid":[0-9]*,"program":"true"}' "$T/listen.err"
	grep -q '"event":"exited","peer":"127\.0\.0\.1:[0-9]*","pid":[0-9]*,"status":0}' "$T/listen.err"
}

@test "SIGTERM to a -k --exec listener: exit 143, running children keep serving their clients" {
	local pid
	hold_fifo "$T/in" 8
	listen_bg -k --exec cat 127.0.0.1 0
	bg_run client --in "$T/in" -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
	local cpid=$BG_PID
	wait_until 5 eval '[[ -n $(child_pid 1) ]]'
	pid=$(child_pid 1)
	kill -TERM "$LPID"
	wait_exit "$LPID" 2
	assert_equal "$WSTATUS" 143
	track_children
	alive "$pid"
	echo still-served >&8
	release_fifo 8
	wait_exit "$cpid" 10
	assert_equal "$WSTATUS" 0
	assert_equal "$(cat "$T/client.out")" still-served
}

# ---- usage errors: before anything listens ---------------------------------------------------------

@test "a program not on PATH: exit 2 before listening" {
	traced_run "$SOCKIT" listen -v --exec 'nosuchprog-sockit --flag' 127.0.0.1 0
	assert_equal "$status" 2
	assert_equal "$stderr" "sockit: listen: exec nosuchprog-sockit: No such file or directory"
	assert_no_socket_calls
}

@test "an unbalanced quote in --exec: exit 2 naming the column, before listening" {
	traced_run "$SOCKIT" listen -v --exec "printf 'a b" 127.0.0.1 0
	assert_equal "$status" 2
	assert_equal "$stderr" "sockit: listen: command 'printf 'a b': unbalanced single quote (column 8)"
	assert_no_socket_calls
}

@test "-e and --sh together, an empty --sh, --exec with -u: exit 2" {
	run -2 --separate-stderr "$SOCKIT" listen --exec cat --sh cat 127.0.0.1 0
	assert_equal "$stderr" "sockit: listen: -e/--exec and --sh may be given once, and not together"
	run -2 --separate-stderr "$SOCKIT" listen --sh '' 127.0.0.1 0
	assert_equal "$stderr" "sockit: listen: --sh: empty command"
	run -2 --separate-stderr "$SOCKIT" listen -u --exec cat 127.0.0.1 0
	assert_equal "$stderr" "sockit: listen: -e/--exec and --sh are not supported with datagram listeners (-u, udp-listen) yet"
	run -2 --separate-stderr "$SOCKIT" connect --exec 'nosuchprog-sockit' 127.0.0.1 9
	assert_equal "$stderr" "sockit: connect: exec nosuchprog-sockit: No such file or directory"
}

# ---- connect -e/--sh ---------------------------------------------------------------------------------

@test "connect --exec cat: the program talks to the remote peer, 256 KiB round trip" {
	random_file "$T/data" 256K
	listen_bg --in "$T/data" 127.0.0.1 0
	run -0 --separate-stderr timeout 20 "$SOCKIT" connect --exec cat 127.0.0.1 "$LPORT"
	assert_output ""
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/data" "$T/listen.out"
}

@test "connect --sh: the child's environment and exit status" {
	listen_bg 127.0.0.1 0
	run -1 --separate-stderr timeout 20 "$SOCKIT" connect --sh 'echo "$SOCKIT_PROTO $SOCKIT_PEER_ADDR:$SOCKIT_PEER_PORT"; exit 4' 127.0.0.1 "$LPORT"
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/listen.out")" "tcp 127.0.0.1:$LPORT"
	listen_bg --name two 127.0.0.1 0
	run -0 --separate-stderr timeout 20 "$SOCKIT" connect --sh 'echo ok' 127.0.0.1 "$LPORT"
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/two.out")" ok
}
