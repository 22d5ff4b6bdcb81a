#!/usr/bin/env bats
# interop.bats - sockit against real peers: socat, ncat and OpenBSD nc, both as
# servers for `sockit connect` and as clients of `sockit listen`, with the data
# hashed at both ends.

load lib/common

setup() {
	sk_setup
	random_file "$T/up" 4M
	random_file "$T/down" 4M
}

need() {
	command -v "$1" >/dev/null || skip "$1 is not installed"
}

# socat_listen ADDRESS...: start `socat -d -d ADDRESS...` (stdin $T/down, stdout
# $T/socat.out) and wait for its `listening on` notice. Sets SPID, SPORT.
socat_listen() {
	need socat
	bg_run socat --in "$T/down" -- socat -d -d -t 10 "$@"
	SPID=$BG_PID
	wait_line "$T/socat.err" ' listening on ' 5 "$SPID" || {
		cat "$T/socat.err" >&2
		return 1
	}
	SPORT=$(grep -m1 ' listening on ' "$T/socat.err" | sed -n 's/.*:\([0-9]*\)$/\1/p')
}

# ncat_listen: `ncat -l` on a free loopback port (ncat cannot report port 0),
# retried when another process takes the port first. Sets NPID, NPORT.
ncat_listen() {
	need ncat
	local tries
	for tries in 1 2 3 4 5; do
		NPORT=$(free_port)
		bg_run ncat --in "$T/down" -- ncat -v -l 127.0.0.1 "$NPORT"
		NPID=$BG_PID
		wait_line "$T/ncat.err" '^Ncat: Listening on ' 5 "$NPID" && return 0
	done
	cat "$T/ncat.err" >&2
	return 1
}

# ---- sockit connect against their servers --------------------------------------------------

@test "sockit connect to a socat TCP listener: 4 MiB each way" {
	socat_listen TCP-LISTEN:0,bind=127.0.0.1 STDIO
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$SPORT" <"$T/up" >"$T/got"
	wait_exit "$SPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/socat.out"
	assert_same_data "$T/down" "$T/got"
}

@test "sockit connect -U to a socat UNIX listener: 4 MiB each way" {
	socat_listen "UNIX-LISTEN:$T/s" STDIO
	timeout 20 "$SOCKIT" connect -U "$T/s" <"$T/up" >"$T/got"
	wait_exit "$SPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/socat.out"
	assert_same_data "$T/down" "$T/got"
}

@test "sockit connect to an ncat listener: 4 MiB each way" {
	ncat_listen
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$NPORT" <"$T/up" >"$T/got"
	wait_exit "$NPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/ncat.out"
	assert_same_data "$T/down" "$T/got"
}

@test "sockit connect -u to a socat UDP receiver: the datagram arrives" {
	need socat
	local port tries
	echo "udp to socat" >"$T/dgram"
	# socat prints no port for UDP-RECV: take a free one, retry on a collision.
	for tries in 1 2 3 4 5; do
		port=$(free_udp_port)
		bg_run socat -- socat -d -d -u "UDP-RECV:$port,bind=127.0.0.1" STDOUT
		wait_line "$T/socat.err" 'starting data transfer loop' 5 "$BG_PID" && break
	done
	run -0 timeout 20 "$SOCKIT" connect -u 127.0.0.1 "$port" <"$T/dgram"
	wait_until 5 test -s "$T/socat.out"
	assert_same_data "$T/dgram" "$T/socat.out"
}

# ---- their clients against sockit listen ---------------------------------------------------------

@test "socat client to sockit listen: 4 MiB each way" {
	need socat
	listen_bg --in "$T/down" 127.0.0.1 0
	timeout 20 socat -t 10 STDIO "TCP:127.0.0.1:$LPORT" <"$T/up" >"$T/got"
	wait_exit "$LPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
}

@test "socat client over IPv6 to sockit listen on the wildcard: 4 MiB each way" {
	need socat
	listen_bg --in "$T/down" -p 0
	timeout 20 socat -t 10 STDIO "TCP6:[::1]:$LPORT" <"$T/up" >"$T/got"
	wait_exit "$LPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
}

@test "ncat client to sockit listen: 4 MiB each way" {
	need ncat
	listen_bg --in "$T/down" 127.0.0.1 0
	timeout 20 ncat 127.0.0.1 "$LPORT" <"$T/up" >"$T/got"
	wait_exit "$LPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
}

@test "OpenBSD nc -N client to sockit listen: 4 MiB each way" {
	need nc.openbsd
	listen_bg --in "$T/down" 127.0.0.1 0
	timeout 20 nc.openbsd -N 127.0.0.1 "$LPORT" <"$T/up" >"$T/got"
	wait_exit "$LPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
}

@test "socat UNIX client to sockit listen -U: 4 MiB each way" {
	need socat
	listen_bg --in "$T/down" -U "$T/s"
	timeout 20 socat -t 10 STDIO "UNIX-CONNECT:$T/s" <"$T/up" >"$T/got"
	wait_exit "$LPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
}

@test "socat abstract client to sockit listen --abstract: 4 MiB each way" {
	need socat
	local name=sockit-interop-$$-$RANDOM
	listen_bg --in "$T/down" --abstract "$name"
	timeout 20 socat -t 10 STDIO "ABSTRACT-CONNECT:$name" <"$T/up" >"$T/got"
	wait_exit "$LPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
}

@test "socat UDP client to sockit listen -u: a datagram each way" {
	need socat
	echo "pong from sockit" >"$T/pong"
	listen_bg --in "$T/pong" -u 127.0.0.1 0
	run -0 timeout 20 socat -t 2 STDIO "UDP:127.0.0.1:$LPORT" <<<"ping from socat"
	assert_output "pong from sockit"
	assert_equal "$(cat "$T/listen.out")" "ping from socat"
}

@test "many ncat clients at once to sockit listen -k: every line arrives" {
	need ncat
	local i pids=()
	listen_bg -k 127.0.0.1 0
	for i in $(seq 10); do
		echo "ncat client $i" >"$T/n$i.in"
		bg_run "n$i" --in "$T/n$i.in" -- ncat --send-only 127.0.0.1 "$LPORT"
		pids+=("$BG_PID")
	done
	for i in $(seq 10); do
		wait_exit "${pids[i - 1]}" 10
		assert_equal "$WSTATUS" 0
	done
	wait_until 5 eval '(( $(wc -l <"$T/listen.out") == 10 ))'
	assert_equal "$(sort "$T/listen.out")" "$(cat "$T"/n*.in | sort)"
}
