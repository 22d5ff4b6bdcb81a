#!/usr/bin/env bats
# pcap.bats - --pcap FILE on connect, listen and relay (SPEC §3 relay): the capture is read
# back by tshark, an independent reader, and must hold exactly the bytes that crossed, each
# direction hashed, with the real addresses and ports, a handshake, FIN or RST, and
# checksums that verify.

load lib/common

setup() {
	sk_setup
	command -v tshark >/dev/null || skip "tshark is not installed (Debian package tshark)"
}

# flows FILE: tshark's view (lib/pcapflows.py), also kept in $T/flows for failures.
flows() {
	"$PY" "$HELPERS/pcapflows.py" "$1" | tee "$T/flows"
}

# flow_line PROTO SRC DST: the line of one direction; SRC/DST as ADDR:PORT.
flow_line() {
	grep -F "$1 $2 > $3 " "$T/flows"
}

@test "connect --pcap: both directions byte-exact, real addresses, handshake and FINs, checksums good" {
	random_file "$T/up" 300K
	random_file "$T/down" 200K
	LISTEN_IN=$T/down listen_bg 127.0.0.1 0
	timeout 20 "$SOCKIT" connect --pcap "$T/c.pcapng" 127.0.0.1 "$LPORT" <"$T/up" >"$T/got"
	wait_exit "$LPID" 5
	assert_same_data "$T/down" "$T/got"
	[[ $(stat -c %a "$T/c.pcapng") == 600 ]]
	flows "$T/c.pcapng"
	run -0 grep -c '^tcp ' "$T/flows"
	assert_output 2
	local cport
	cport=$(awk 'NR == 1 { split($2, a, ":"); print a[2] }' "$T/flows")
	run -0 flow_line tcp "127.0.0.1:$cport" "127.0.0.1:$LPORT"
	assert_output "tcp 127.0.0.1:$cport > 127.0.0.1:$LPORT bytes=$((300 * 1024)) sha256=$(sha "$T/up") syn=1 fin=1 rst=0"
	run -0 flow_line tcp "127.0.0.1:$LPORT" "127.0.0.1:$cport"
	assert_output "tcp 127.0.0.1:$LPORT > 127.0.0.1:$cport bytes=$((200 * 1024)) sha256=$(sha "$T/down") syn=1 fin=1 rst=0"
	grep -E '^checksums bad=0 checked=[1-9]' "$T/flows"
}

@test "listen --pcap over IPv6: the peer is the client, the listener the server" {
	printf 'from the server\n' >"$T/down"
	LISTEN_IN=$T/down listen_bg --pcap "$T/l.pcapng" ::1 0
	printf 'from the client\n' | timeout 10 "$SOCKIT" connect ::1 "$LPORT" >/dev/null
	wait_exit "$LPID" 5
	flows "$T/l.pcapng"
	# The first packet (the SYN) goes from the client to the listener's port.
	run -0 awk 'NR == 1 { print $4 }' "$T/flows"
	assert_output "[::1]:$LPORT"
	run -0 grep -c "bytes=16 .* syn=1 fin=1 rst=0" "$T/flows"
	assert_output 2
	grep '^checksums bad=0 ' "$T/flows"
}

@test "relay --pcap: one conversation per connection, each the peer's bytes exactly" {
	listen_bg --name echo -k --exec cat 127.0.0.1 0
	local echo_port=$LPORT i
	bg_run relay -- "$SOCKIT" relay -v --pcap "$T/r.pcapng" tcp-listen:127.0.0.1:0 \
		"tcp:127.0.0.1:$echo_port"
	local rpid=$BG_PID rport
	wait_line "$T/relay.err" '^listening on ' 5 "$rpid"
	rport=$(sed -n 's/^listening on .*://p' "$T/relay.err")
	for i in 1 2 3; do
		random_file "$T/in$i" $((i * 10))K
		timeout 10 "$SOCKIT" connect 127.0.0.1 "$rport" <"$T/in$i" >"$T/out$i"
		assert_same_data "$T/in$i" "$T/out$i"
	done
	kill -TERM "$rpid"
	wait_exit "$rpid" 5
	flows "$T/r.pcapng"
	for i in 1 2 3; do
		# each client's bytes to the relay's port, and the same bytes back from it
		run -0 grep -c " > 127.0.0.1:$rport bytes=$((i * 10240)) sha256=$(sha "$T/in$i") " "$T/flows"
		assert_output 1
		run -0 grep -c "^tcp 127.0.0.1:$rport > .* bytes=$((i * 10240)) sha256=$(sha "$T/in$i") " "$T/flows"
		assert_output 1
	done
	grep '^checksums bad=0 ' "$T/flows"
}

@test "relay --pcap of a reset: the capture ends with an RST" {
	bg_run server -- "$PY" -c '
import socket, struct, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print("port", s.getsockname()[1], flush=True)
c, _ = s.accept(); c.recv(10)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()'
	wait_line "$T/server.out" '^port ' 5
	local sport
	sport=$(awk '{ print $2 }' "$T/server.out")
	run -1 --separate-stderr timeout 10 "$SOCKIT" relay --pcap "$T/x.pcapng" - "tcp:127.0.0.1:$sport" <<<"hello"
	flows "$T/x.pcapng"
	grep -E "^tcp 127\.0\.0\.1:$sport > .* rst=1$" "$T/flows"
}

@test "relay udp-listen --pcap: datagrams as UDP packets, one per datagram" {
	bg_run uecho -- "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print("port", s.getsockname()[1], flush=True)
while True:
    b, a = s.recvfrom(65536); s.sendto(b, a)'
	wait_line "$T/uecho.out" '^port ' 5
	local sport rport
	sport=$(awk '{ print $2 }' "$T/uecho.out")
	bg_run relay -- "$SOCKIT" relay -v --pcap "$T/u.pcapng" udp-listen:127.0.0.1:0 "udp:127.0.0.1:$sport"
	local rpid=$BG_PID
	wait_line "$T/relay.err" '^listening on ' 5 "$rpid"
	rport=$(sed -n 's/^listening on .*://p' "$T/relay.err")
	run -0 timeout 10 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
for d in (b"one", b"two!", b"three"):
    s.sendto(d, ("127.0.0.1", int(sys.argv[1]))); assert s.recv(100) == d
print("echoed")' "$rport"
	kill -TERM "$rpid"
	wait_exit "$rpid" 5
	flows "$T/u.pcapng"
	run -0 grep -c "^udp .* bytes=12 sha256=$(printf 'onetwo!three' | sha256sum | cut -d' ' -f1) syn=0 fin=0 rst=0" "$T/flows"
	assert_output 2
	run -0 --separate-stderr tshark -r "$T/u.pcapng" -Y udp
	assert_equal "${#lines[@]}" 6
}

@test "connect -U --pcap: a UNIX conversation is shown between 127.0.0.1 and 127.0.0.2" {
	printf 'pong' >"$T/down"
	LISTEN_IN=$T/down listen_bg -U "$T/s.sock"
	printf 'ping' | timeout 10 "$SOCKIT" connect --pcap "$T/x.pcapng" -U "$T/s.sock" >/dev/null
	wait_exit "$LPID" 5
	flows "$T/x.pcapng"
	grep -E '^tcp 127\.0\.0\.1:[0-9]+ > 127\.0\.0\.2:1 bytes=4 ' "$T/flows"
	grep -E '^tcp 127\.0\.0\.2:1 > 127\.0\.0\.1:[0-9]+ bytes=4 ' "$T/flows"
}

@test "--pcap bad input: exit 2 before anything is created or sent" {
	local port
	port=$(free_port)
	run -2 --separate-stderr timeout 5 "$SOCKIT" connect --pcap '' 127.0.0.1 "$port"
	assert_equal "$stderr" "sockit: connect: invalid --pcap '': expected a file name"
	run -2 --separate-stderr timeout 5 "$SOCKIT" listen -k --pcap "$T/k.pcapng" 127.0.0.1 0
	assert_equal "$stderr" "sockit: listen: --pcap is not supported with --keep-open yet"
	[[ ! -e $T/k.pcapng ]]
	run -2 --separate-stderr timeout 5 "$SOCKIT" relay --workers 2 --pcap "$T/w.pcapng" \
		tcp-listen:127.0.0.1:0 tcp:127.0.0.1:9
	assert_equal "$stderr" "sockit: relay: --pcap cannot be shared by --workers processes"
	[[ ! -e $T/w.pcapng ]]
	run -2 --separate-stderr timeout 5 "$SOCKIT" connect --exec cat --pcap "$T/e.pcapng" 127.0.0.1 "$port"
	assert_equal "$stderr" "sockit: connect: --pcap is not supported with --exec yet"
	[[ ! -e $T/e.pcapng ]]
}

@test "--pcap into a directory that does not exist: exit 6, nothing connects" {
	listen_bg 127.0.0.1 0
	run -6 --separate-stderr timeout 5 "$SOCKIT" connect --pcap "$T/no/such/dir/x.pcapng" 127.0.0.1 "$LPORT" </dev/null
	assert_equal "$stderr" "sockit: connect: open capture file $T/no/such/dir/x.pcapng: No such file or directory"
	# The listener saw no peer: it is still waiting for its first one.
	alive "$LPID"
	run grep -c '^connection from ' "$T/listen.err"
	assert_output 0
}
