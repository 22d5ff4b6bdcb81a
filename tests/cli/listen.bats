#!/usr/bin/env bats
# listen.bats - `sockit listen` (SPEC §3 listen): the port it reports, its
# argument forms, -k with many clients, UNIX/abstract/datagram/seqpacket
# listeners, socket-file hygiene (unlink, mode, umask, removal on signals).

load lib/common

# ---- port 0 and the argument forms ----------------------------------------------------------

@test "port 0 reports the real port, which is the one listening" {
	listen_bg 127.0.0.1 0
	assert_regex "$LEP" '^tcp-listen:127\.0\.0\.1:[0-9]+$'
	((LPORT > 0 && LPORT < 65536))
	run -0 ss -Hltnp "( sport = :$LPORT )"
	assert_output --partial "pid=$LPID,"
	echo hello | timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_equal "$(cat "$T/listen.out")" hello
}

@test "a lone port listens on the dual-stack wildcard: IPv4 and IPv6 clients both reach it" {
	listen_bg -k 0
	assert_regex "$LEP" '^tcp-listen:\[::\]:[0-9]+$'
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" <<<four >/dev/null
	timeout 20 "$SOCKIT" connect ::1 "$LPORT" <<<six >/dev/null
	wait_until 5 eval '(( $(wc -l <"$T/listen.out") == 2 ))'
	assert_equal "$(sort "$T/listen.out" | tr '\n' ' ')" "four six "
}

@test "-p 0, tcp-listen:0 and -4 -p 0 report their wildcard and port" {
	listen_bg --name a -p 0
	assert_regex "$LEP" '^tcp-listen:\[::\]:[0-9]+$'
	listen_bg --name b tcp-listen:0
	assert_regex "$LEP" '^tcp-listen:\[::\]:[0-9]+$'
	listen_bg --name c -4 -p 0
	assert_regex "$LEP" '^tcp-listen:0\.0\.0\.0:[0-9]+$'
	listen_bg --name d -p 0 127.0.0.1
	assert_regex "$LEP" '^tcp-listen:127\.0\.0\.1:[0-9]+$'
}

@test "listen -p PORT listens on that port (nc -l -p habit)" {
	local port tries
	for tries in 1 2 3 4 5; do
		port=$(free_port)
		listen_bg -p "$port" 127.0.0.1 && break
	done
	assert_equal "$LEP" "tcp-listen:127.0.0.1:$port"
	echo via-p | timeout 20 "$SOCKIT" connect 127.0.0.1 "$port"
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/listen.out")" via-p
}

@test "listen HOST PORT listens on that address and port" {
	local port tries
	for tries in 1 2 3 4 5; do
		port=$(free_port)
		listen_bg 127.0.0.1 "$port" && break
	done
	assert_equal "$LEP" "tcp-listen:127.0.0.1:$port"
	echo via-host-port | timeout 20 "$SOCKIT" connect 127.0.0.1 "$port"
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/listen.out")" via-host-port
}

@test "a single-peer listener stops listening once it has its peer" {
	hold_fifo "$T/in" 8
	listen_bg --in "$T/in" 127.0.0.1 0
	bg_run first --in "$T/in" -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
	wait_accepts 1
	run -4 --separate-stderr timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT" </dev/null
	assert_equal "$stderr" "sockit: connect: connect to tcp:127.0.0.1:$LPORT: Connection refused"
}

# ---- -k: many clients ----------------------------------------------------------------------------

@test "-k: 20 concurrent clients all reach stdout, and each receives all of stdin" {
	local n=20 i pids=()
	hold_fifo "$T/in" 8
	# each client sends its line, then keeps its input open until the gate closes
	hold_fifo "$T/gate" 9
	listen_bg --in "$T/in" -k 127.0.0.1 0
	for i in $(seq $n); do
		printf 'client %02d %s\n' "$i" "$(head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$T/c$i.in"
		bg_run "c$i" -- sh -c '{ cat "$1"; cat "$2"; } | exec "$3" connect 127.0.0.1 "$4"' \
			_ "$T/c$i.in" "$T/gate" "$SOCKIT" "$LPORT"
		pids+=("$BG_PID")
	done
	wait_accepts $n 10
	# Every client's line reached the listener's stdout, whole.
	wait_until 5 eval "(( \$(wc -l <\"\$T/listen.out\") == $n ))"
	cat "$T"/c*.in | sort >"$T/want"
	sort "$T/listen.out" >"$T/have"
	cmp "$T/want" "$T/have"
	# Now stdin (200 KiB, more than a socket buffer) goes to every client.
	random_file "$T/broadcast" 200K
	timeout 10 cat "$T/broadcast" >&8
	release_fifo 8
	for i in $(seq $n); do
		wait_until 10 eval "(( \$(stat -c %s \"\$T/c$i.out\") >= 204800 ))"
	done
	release_fifo 9
	for i in $(seq $n); do
		wait_exit "${pids[i - 1]}" 10
		assert_equal "$WSTATUS" 0
		assert_same_data "$T/broadcast" "$T/c$i.out"
	done
	alive "$LPID"
}

@test "-k: a client that finishes sending is let go at once, while stdin stays open" {
	hold_fifo "$T/in" 8
	listen_bg --in "$T/in" -k --max-conns 1 127.0.0.1 0
	run -0 timeout 5 "$SOCKIT" connect 127.0.0.1 "$LPORT" <<<"first"
	# its place under --max-conns is free again: the next one gets through too
	run -0 timeout 5 "$SOCKIT" connect 127.0.0.1 "$LPORT" <<<"second"
	wait_until 5 eval '[[ $(<"$T/listen.out") == $'"'"'first\nsecond'"'"' ]]'
	alive "$LPID"
	release_fifo 8
}

@test "-k with a stalled stdout keeps the listener's memory bounded" {
	local limit=$((64 * 1024)) max=0 rss i
	if ((SANITIZED)); then
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:malloc_context_size=0
	fi
	hold_fifo "$T/stall" 7
	listen_bg --out "$T/stall" -k 127.0.0.1 0
	bg_run c1 --in /dev/zero -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
	bg_run c2 --in /dev/zero -- "$SOCKIT" connect 127.0.0.1 "$LPORT"
	wait_accepts 2
	for i in $(seq 60); do
		rss=$(vmrss_kib "$LPID") || break
		((rss > max)) && max=$rss
		sleep 0.05
	done
	echo "max VmRSS of listen -k: $max KiB (limit $limit KiB)"
	alive "$LPID"
	((max > 0 && max < limit))
	timeout 5 head -c 4096 <&7 >"$T/head"
	assert_equal "$(stat -c %s "$T/head")" 4096
}

# ---- UNIX, abstract, datagram, seqpacket ----------------------------------------------------------

@test "UNIX stream: 1 MiB each way, hashed at both ends" {
	random_file "$T/up" 1M
	random_file "$T/down" 1M
	listen_bg --in "$T/down" -U "$T/s"
	assert_equal "$LEP" "unix-listen:$T/s"
	[[ -S $T/s ]]
	timeout 20 "$SOCKIT" connect -U "$T/s" <"$T/up" >"$T/got"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
	# The listener removes the socket file it created.
	[[ ! -e $T/s ]]
}

@test "abstract namespace: 1 MiB each way, hashed at both ends, no file anywhere" {
	local name=sockit-test-$$-$RANDOM
	random_file "$T/up" 1M
	random_file "$T/down" 1M
	listen_bg --in "$T/down" --abstract "$name"
	assert_equal "$LEP" "abstract-listen:$name"
	grep -q "@$name\$" /proc/net/unix
	timeout 20 "$SOCKIT" connect "abstract:$name" <"$T/up" >"$T/got"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
	[[ ! -e $name ]]
}

@test "unix-dgram: a datagram each way" {
	echo pong >"$T/pong"
	listen_bg --in "$T/pong" "unix-dgram-listen:$T/d"
	assert_equal "$LEP" "unix-dgram-listen:$T/d"
	run -0 timeout 20 "$SOCKIT" connect "unix-dgram:$T/d" <<<ping
	assert_output pong
	assert_equal "$(cat "$T/listen.out")" ping
}

@test "unix-seqpacket: messages each way, and EOF ends both" {
	echo pong >"$T/pong"
	listen_bg --in "$T/pong" "unix-seqpacket-listen:$T/q"
	assert_equal "$LEP" "unix-seqpacket-listen:$T/q"
	run -0 timeout 20 "$SOCKIT" connect "unix-seqpacket:$T/q" <<<ping
	assert_output pong
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_equal "$(cat "$T/listen.out")" ping
}

@test "unix-seqpacket: 1 MiB each way arrives intact" {
	random_file "$T/up" 1M
	random_file "$T/down" 1M
	listen_bg --in "$T/down" "unix-seqpacket-listen:$T/q"
	timeout 20 "$SOCKIT" connect "unix-seqpacket:$T/q" <"$T/up" >"$T/got"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
}

# ---- socket files: stale, unlink, mode, umask ----------------------------------------------------

stale_socket() { # stale_socket PATH: a socket file nobody listens on
	"$PY" -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1"
}

@test "a stale socket file: without unlink exit 6, with unlink it is replaced and works" {
	stale_socket "$T/s"
	run -6 --separate-stderr timeout 20 "$SOCKIT" listen -U "$T/s"
	assert_equal "$stderr" "sockit: listen: listen on unix-listen:$T/s: Address already in use"
	[[ -S $T/s ]]
	listen_bg "unix-listen:$T/s,unlink"
	echo after-unlink | timeout 20 "$SOCKIT" connect -U "$T/s"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_equal "$(cat "$T/listen.out")" after-unlink
}

@test "unlink never removes a live socket: exit 6, the -k server keeps serving" {
	listen_bg --name live -k -U "$T/s"
	local ino
	ino=$(stat -c %i "$T/s")
	run -6 --separate-stderr timeout 20 "$SOCKIT" listen "unix-listen:$T/s,unlink"
	assert_equal "$stderr" "sockit: listen: listen on unix-listen:$T/s: a live socket answers there"
	assert_equal "$(stat -c %i "$T/s")" "$ino"
	echo still-served | timeout 20 "$SOCKIT" connect -U "$T/s" >/dev/null
	wait_until 5 grep -qx still-served "$T/live.out"
}

@test "unlink never removes a live socket: a single-peer server keeps its one session for a real client" {
	listen_bg --name live -U "$T/s"
	run -6 --separate-stderr timeout 20 "$SOCKIT" listen "unix-listen:$T/s,unlink"
	assert_regex "$stderr" "a live socket answers there"
	# Checking whether the socket is live must not use up the server's only
	# peer: the next real client is the one it serves.
	run --separate-stderr timeout 20 "$SOCKIT" connect -U "$T/s" <<<real-client
	echo "real client: status $status, stderr: $stderr"
	echo "first server's log: $(cat "$T/live.err")"
	assert_success
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/live.out")" real-client
}

@test "unlink never removes a regular file: exit 6, the file intact" {
	echo precious >"$T/f"
	run -6 --separate-stderr timeout 20 "$SOCKIT" listen "unix-listen:$T/f,unlink"
	assert_equal "$stderr" "sockit: listen: listen on unix-listen:$T/f: file exists and is not a socket"
	assert_equal "$(cat "$T/f")" precious
	run -6 --separate-stderr timeout 20 "$SOCKIT" listen -U "$T/f"
	assert_equal "$(cat "$T/f")" precious
}

@test "mode=600 gives exactly srw------- whatever the umask" {
	umask 022
	listen_bg --name a "unix-listen:$T/a,mode=600"
	assert_equal "$(stat -c '%a %A' "$T/a")" "600 srw-------"
	umask 000
	listen_bg --name b "unix-listen:$T/b,mode=600"
	assert_equal "$(stat -c '%a %A' "$T/b")" "600 srw-------"
	listen_bg --name c "unix-listen:$T/c,mode=0660"
	assert_equal "$(stat -c %a "$T/c")" 660
}

@test "with umask 077 and no mode= the socket file is not group/other accessible" {
	umask 077
	listen_bg -U "$T/s"
	local mode
	mode=$(stat -c %a "$T/s")
	echo "mode $mode"
	(( (8#$mode & 8#077) == 0 ))
	# And the umask we ran with is left alone for what follows.
	[[ -S $T/s ]]
}

# ---- signals and cleanup -------------------------------------------------------------------------

@test "SIGTERM to an idle listener: exit 143 within 1 s, socket file removed" {
	listen_bg -U "$T/s"
	kill -TERM "$LPID"
	wait_exit "$LPID" 1
	assert_equal "$WSTATUS" 143
	[[ ! -e $T/s ]]
}

@test "SIGINT to an idle listener: exit 130 within 1 s, socket file removed" {
	listen_bg -U "$T/s"
	kill -INT "$LPID"
	wait_exit "$LPID" 1
	assert_equal "$WSTATUS" 130
	[[ ! -e $T/s ]]
}

@test "SIGTERM / SIGINT to a listener during a transfer: 143 / 130 within 1 s, file removed" {
	local sig want
	for sig in TERM INT; do
		listen_bg --name "l$sig" --in /dev/zero --out /dev/null -U "$T/$sig.sock"
		bg_run "c$sig" --in /dev/zero --out /dev/null -- "$SOCKIT" connect -U "$T/$sig.sock"
		wait_accepts 1
		kill -"$sig" "$LPID"
		wait_exit "$LPID" 1
		want=$([[ $sig == TERM ]] && echo 143 || echo 130)
		assert_equal "$WSTATUS" "$want"
		[[ ! -e $T/$sig.sock ]]
	done
}

@test "SIGTERM to a -k listener with clients: exit 143 within 1 s, file removed" {
	hold_fifo "$T/in" 8
	listen_bg --in "$T/in" -k -U "$T/s"
	bg_run c1 --in "$T/in" -- "$SOCKIT" connect -U "$T/s"
	bg_run c2 --in /dev/zero --out /dev/null -- "$SOCKIT" connect -U "$T/s"
	wait_accepts 2
	kill -TERM "$LPID"
	wait_exit "$LPID" 1
	assert_equal "$WSTATUS" 143
	[[ ! -e $T/s ]]
}

@test "listen's stdout closed early (| head -c 10): it exits promptly, not 141" {
	(
		{
			echo "$BASHPID" >"$T/l.pid"
			exec "$PY" "$HELPERS/dfl.py" "$SOCKIT" listen -v 127.0.0.1 0 </dev/null 2>"$T/l.err"
		} | head -c 10 >"$T/head"
		echo "${PIPESTATUS[0]}" >"$T/l.status"
	) 3>&- &
	echo $! >>"$PIDFILE"
	wait_until 5 test -s "$T/l.pid"
	cat "$T/l.pid" >>"$PIDFILE"
	wait_line "$T/l.err" '^listening on ' 5
	local line port
	line=$(grep -m1 '^listening on ' "$T/l.err")
	port=${line##*:}
	bg_run client --in /dev/zero --out /dev/null -- "$SOCKIT" connect 127.0.0.1 "$port"
	wait_until 5 test -s "$T/l.status"
	assert_equal "$(cat "$T/l.status")" 0
	assert_equal "$(stat -c %s "$T/head")" 10
}
