#!/usr/bin/env bats
# exit-codes.bats - SPEC §4: each failure gives its exit status and one stderr
# line `sockit: COMMAND: what failed: why`.

load lib/common

# ---- 0 and 2: the command line itself --------------------------------------------------------

@test "sockit --version prints the version and exits 0" {
	run -0 --separate-stderr "$SOCKIT" --version
	assert_regex "$output" '^sockit [0-9]+\.[0-9]+\.[0-9]+'
	assert_equal "${#lines[@]}" 1
	assert_equal "$stderr" ""
	# a version that could not be written is no success
	run -6 --separate-stderr sh -c '"$0" --version >/dev/full' "$SOCKIT"
	assert_equal "$stderr" "sockit: write standard output: No space left on device"
}

@test "sockit --help lists the commands on stdout and exits 0" {
	run -0 --separate-stderr "$SOCKIT" --help
	assert_line --index 0 --regexp '^Usage: sockit '
	assert_line --regexp '^  connect +'
	assert_line --regexp '^  listen +'
	assert_equal "$stderr" ""
}

@test "sockit help connect and connect --help print the same usage, exit 0" {
	run -0 "$SOCKIT" help connect
	assert_line --index 0 "Usage: sockit connect [OPTIONS] ENDPOINT"
	assert_line --regexp '^  -w, --timeout SECS +'
	local help=$output
	run -0 "$SOCKIT" connect --help
	assert_equal "$output" "$help"
	run -0 "$SOCKIT" help listen
	assert_line --regexp '^  -k, --keep-open +'
}

@test "an unknown command is exit 2 and nothing is prefix-matched" {
	run -2 --separate-stderr "$SOCKIT" bogus
	assert_equal "$stderr" "sockit: unknown command 'bogus'; run 'sockit --help'"
	assert_output ""
	run -2 --separate-stderr "$SOCKIT" conn 127.0.0.1 1
	assert_equal "$stderr" "sockit: unknown command 'conn'; run 'sockit --help'"
	run -2 --separate-stderr "$SOCKIT" help bogus
	assert_equal "$stderr" "sockit: help: unknown command 'bogus'"
}

@test "global options before COMMAND work as after it; a command's own option there is exit 2" {
	listen_bg 127.0.0.1 0
	run -0 --separate-stderr "$SOCKIT" -v -w 5 connect 127.0.0.1 "$LPORT" <<<"before the command"
	assert_equal "$stderr" "connected to tcp:127.0.0.1:$LPORT"
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/listen.out")" "before the command"
	run -0 "$SOCKIT" -4 --json resolve --type stream 127.0.0.1
	assert_output '{"name":"127.0.0.1","family":"inet","type":"stream","protocol":"tcp","address":"127.0.0.1","port":0,"canonical":"127.0.0.1"}'
	run -2 --separate-stderr "$SOCKIT" -k listen 0
	assert_equal "$stderr" "sockit: unknown option '-k' (a command's own options follow the command)"
	run -2 --separate-stderr "$SOCKIT" -q
	assert_equal "$stderr" "sockit: missing COMMAND after the options; run 'sockit --help'"
}

@test "no command at all is exit 2 with the usage on stderr" {
	run -2 --separate-stderr "$SOCKIT"
	assert_output ""
	assert_regex "$stderr" '^Usage: sockit '
}

@test "an unknown option is exit 2: sockit: connect: unknown option '--bogus'" {
	run -2 --separate-stderr "$SOCKIT" connect --bogus 127.0.0.1 1
	assert_equal "$stderr" "sockit: connect: unknown option '--bogus'"
	assert_output ""
	run -2 --separate-stderr "$SOCKIT" listen --bogus=1 0
	assert_equal "$stderr" "sockit: listen: unknown option '--bogus'"
	run -2 --separate-stderr "$SOCKIT" connect -Z 127.0.0.1 1
	assert_equal "$stderr" "sockit: connect: unknown option '-Z'"
}

@test "a missing or malformed option value is exit 2 naming it" {
	run -2 --separate-stderr "$SOCKIT" connect 127.0.0.1 1 -w
	assert_equal "$stderr" "sockit: connect: option '-w' needs an argument"
	run -2 --separate-stderr "$SOCKIT" connect -w soon 127.0.0.1 1
	assert_equal "$stderr" "sockit: connect: invalid --timeout 'soon': expected seconds"
	run -2 --separate-stderr "$SOCKIT" connect --idle-timeout=-1 127.0.0.1 1
	assert_equal "$stderr" "sockit: connect: invalid --idle-timeout '-1': expected seconds"
	run -2 --separate-stderr "$SOCKIT" connect -p 70000 127.0.0.1 1
	assert_equal "$stderr" "sockit: connect: invalid source port '70000'"
	run -2 --separate-stderr "$SOCKIT" listen --max-conns 0 -k 0
	assert_equal "$stderr" "sockit: listen: invalid --max-conns '0': expected 1-1000000"
}

@test "missing or extra arguments are exit 2" {
	run -2 --separate-stderr "$SOCKIT" connect
	assert_equal "$stderr" "sockit: connect: missing ENDPOINT or HOST PORT"
	run -2 --separate-stderr "$SOCKIT" listen
	assert_equal "$stderr" "sockit: listen: missing PORT or ENDPOINT"
	run -2 --separate-stderr "$SOCKIT" connect 127.0.0.1 1 2
	assert_equal "$stderr" "sockit: connect: unexpected argument '2'"
	run -2 --separate-stderr "$SOCKIT" connect -u tcp:127.0.0.1:1
	assert_equal "$stderr" "sockit: connect: -u/--udp applies to the HOST PORT form, not to endpoint 'tcp:127.0.0.1:1'"
}

# ---- 3: name resolution ---------------------------------------------------------------------

@test "an unresolvable name is exit 3 naming the name and the resolver's reason" {
	run -3 --separate-stderr timeout 20 "$SOCKIT" connect name.invalid 80
	assert_regex "$stderr" '^sockit: connect: resolve name\.invalid: [A-Z][^:]+$'
	assert_equal "${#stderr_lines[@]}" 1
	assert_output ""
}

# ---- 4: connection failed ---------------------------------------------------------------------

@test "a refused connection is exit 4, fast, with the exact message" {
	local port start
	port=$(free_port)
	start=$(now_ms)
	run -4 --separate-stderr timeout 20 "$SOCKIT" connect 127.0.0.1 "$port"
	(($(elapsed_ms "$start") < 2000))
	assert_equal "$stderr" "sockit: connect: connect to tcp:127.0.0.1:$port: Connection refused"
	assert_output ""
}

@test "a UDP flow to a closed port (ICMP port unreachable) is refused too: exit 4" {
	local port
	port=$(free_udp_port)
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect -u 127.0.0.1 "$port" <<<"anyone there?"
	assert_equal "$stderr" "sockit: connect: receive from udp:127.0.0.1:$port: Connection refused"
}

@test "a refused IPv6 connection is exit 4 with the bracketed address" {
	local port
	port=$(free_port -6)
	run -4 --separate-stderr timeout 20 "$SOCKIT" connect ::1 "$port"
	assert_equal "$stderr" "sockit: connect: connect to tcp:[::1]:$port: Connection refused"
}

@test "a missing or stale UNIX socket is exit 4" {
	run -4 --separate-stderr timeout 20 "$SOCKIT" connect -U "$T/none"
	assert_equal "$stderr" "sockit: connect: connect to unix:$T/none: No such file or directory"
	"$PY" -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/stale"
	run -4 --separate-stderr timeout 20 "$SOCKIT" connect -U "$T/stale"
	assert_equal "$stderr" "sockit: connect: connect to unix:$T/stale: Connection refused"
}

@test "-w against a black hole is exit 4 'Connection timed out' after about -w" {
	blackhole_start
	local start ms
	start=$(now_ms)
	run -4 --separate-stderr timeout 20 "$SOCKIT" connect -w 1 127.0.0.1 "$BHPORT"
	ms=$(elapsed_ms "$start")
	echo "took $ms ms"
	((ms >= 900 && ms < 3000))
	assert_equal "$stderr" "sockit: connect: connect to tcp:127.0.0.1:$BHPORT: Connection timed out"
}

@test "timeout= on the endpoint bounds the connect like -w" {
	blackhole_start
	local start ms
	start=$(now_ms)
	run -4 --separate-stderr timeout 20 "$SOCKIT" connect "tcp:127.0.0.1:$BHPORT,timeout=0.5"
	ms=$(elapsed_ms "$start")
	echo "took $ms ms"
	((ms >= 400 && ms < 2500))
	assert_equal "$stderr" "sockit: connect: connect to tcp:127.0.0.1:$BHPORT: Connection timed out"
}

# ---- 6: local failures -----------------------------------------------------------------------

@test "address in use is exit 6 and the first listener keeps working" {
	listen_bg 127.0.0.1 0
	run -6 --separate-stderr timeout 20 "$SOCKIT" listen 127.0.0.1 "$LPORT"
	assert_equal "$stderr" "sockit: listen: listen on tcp-listen:127.0.0.1:$LPORT: Address already in use"
	alive "$LPID"
	echo still-here | timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_equal "$(cat "$T/listen.out")" still-here
}

@test "the dual-stack wildcard and 127.0.0.1 on the same port conflict: exit 6" {
	listen_bg -p 0
	assert_regex "$LEP" '^tcp-listen:\[::\]:[0-9]+$'
	run -6 --separate-stderr timeout 20 "$SOCKIT" listen 127.0.0.1 "$LPORT"
	assert_regex "$stderr" ": Address already in use$"
	echo still-here | timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT"
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/listen.out")" still-here
}

@test "a UNIX path in use is exit 6 and the owner's socket file survives" {
	listen_bg -U "$T/s"
	local ino
	ino=$(stat -c %i "$T/s")
	run -6 --separate-stderr timeout 20 "$SOCKIT" listen -U "$T/s"
	assert_equal "$stderr" "sockit: listen: listen on unix-listen:$T/s: Address already in use"
	assert_equal "$(stat -c %i "$T/s")" "$ino"
	echo still-here | timeout 20 "$SOCKIT" connect -U "$T/s"
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/listen.out")" still-here
}

@test "a UNIX socket in a missing directory is exit 6" {
	run -6 --separate-stderr timeout 20 "$SOCKIT" listen -U "$T/no/such/dir/s"
	assert_equal "$stderr" "sockit: listen: listen on unix-listen:$T/no/such/dir/s: No such file or directory"
}

# ---- 7: timeouts while waiting ------------------------------------------------------------------

@test "-i 1 with a silent peer is exit 7 after about a second" {
	hold_fifo "$T/in" 8
	peer_bg peer silent
	local start ms
	start=$(now_ms)
	run -7 --separate-stderr timeout 20 "$SOCKIT" connect -i 1 127.0.0.1 "$PPORT" <"$T/in"
	ms=$(elapsed_ms "$start")
	echo "took $ms ms; $stderr"
	((ms >= 900 && ms < 4000))
	assert_regex "$stderr" "^sockit: connect: .*tcp:127\.0\.0\.1:$PPORT.*: no data for the idle timeout$"
}

@test "-i 1 is reset by traffic: a peer that speaks every 300 ms is not idle" {
	hold_fifo "$T/in" 8
	listen_bg --in "$T/in" 127.0.0.1 0
	bg_run conn -- "$SOCKIT" connect -i 1 127.0.0.1 "$LPORT"
	local cpid=$BG_PID i
	wait_accepts 1
	for i in 1 2 3 4 5 6 7 8; do
		echo "tick $i" >&8
		sleep 0.3 # pacing the traffic under test, not waiting for readiness
	done
	alive "$cpid"
	release_fifo 8
	wait_exit "$cpid" 5
	assert_equal "$WSTATUS" 0
	assert_equal "$(wc -l <"$T/conn.out")" 8
}

@test "listen -w 1 with no peer is exit 7 and removes its socket file" {
	local start ms
	start=$(now_ms)
	run -7 --separate-stderr timeout 20 "$SOCKIT" listen -w 1 127.0.0.1 0
	ms=$(elapsed_ms "$start")
	((ms >= 900 && ms < 4000))
	assert_regex "$stderr" '^sockit: listen: wait for a peer on tcp-listen:127\.0\.0\.1:[0-9]+: no peer within 1\.000 s$'
	run -7 --separate-stderr timeout 20 "$SOCKIT" listen -w 0.5 -U "$T/s"
	assert_regex "$stderr" "^sockit: listen: wait for a peer on unix-listen:$T/s: "
	[[ ! -e $T/s ]]
}

@test "listen -k -i 1 with no client is exit 7" {
	run -7 --separate-stderr timeout 20 "$SOCKIT" listen -k -i 1 127.0.0.1 0
	assert_regex "$stderr" 'idle timeout'
}

# ---- 1: the peer ended abnormally (connect.bats covers reads and writes) --------------------------

@test "a reset is exit 1 for listen too" {
	listen_bg --in /dev/zero 127.0.0.1 0
	# A client that resets the connection as soon as it is accepted.
	"$PY" - "$LPORT" <<-'EOF'
		import socket, struct, sys
		c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
		c.recv(1000)
		c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
		c.close()
	EOF
	wait_exit "$LPID" 5
	cat "$T/listen.err"
	assert_equal "$WSTATUS" 1
	grep -q 'Connection reset by peer$' "$T/listen.err"
}

# ---- 128+N: signals ------------------------------------------------------------------------------

@test "SIGTERM to an idle connect: exit 143 within 1 s" {
	hold_fifo "$T/in" 8
	peer_bg peer silent
	bg_run conn --in "$T/in" -- "$SOCKIT" connect 127.0.0.1 "$PPORT"
	local cpid=$BG_PID
	# Connected: the peer holds the other end.
	wait_until 5 eval "ss -Htn state established '( dport = :$PPORT )' | grep -q ."
	kill -TERM "$cpid"
	wait_exit "$cpid" 1
	assert_equal "$WSTATUS" 143
}

@test "SIGINT to an idle connect: exit 130 within 1 s" {
	hold_fifo "$T/in" 8
	peer_bg peer silent
	bg_run conn --in "$T/in" -- "$SOCKIT" connect 127.0.0.1 "$PPORT"
	local cpid=$BG_PID
	wait_until 5 eval "ss -Htn state established '( dport = :$PPORT )' | grep -q ."
	kill -INT "$cpid"
	wait_exit "$cpid" 1
	assert_equal "$WSTATUS" 130
}

@test "SIGTERM and SIGINT to connect during a transfer: 143 / 130 within 1 s" {
	local sig want cpid
	for sig in TERM INT; do
		listen_bg --name "l$sig" --in /dev/zero --out /dev/null 127.0.0.1 0
		bg_run "c$sig" --in /dev/zero --out /dev/null -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
		cpid=$BG_PID
		wait_accepts 1
		kill -"$sig" "$cpid"
		wait_exit "$cpid" 1
		want=$([[ $sig == TERM ]] && echo 143 || echo 130)
		assert_equal "$WSTATUS" "$want"
	done
}
