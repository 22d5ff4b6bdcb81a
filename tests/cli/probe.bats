#!/usr/bin/env bats
# probe.bats - sockit probe: states, ranges and blocks, UDP, UNIX, --wait,
# --count, --banner, --http, output formats and usage errors, on loopback.

load lib/common

# probe_ok ARGS...: run probe with stdout only (the summary goes to stderr).
probe() {
	run --separate-stderr "$SOCKIT" probe "$@"
}

# A UDP echo on 127.0.0.1 (socat); sets UPORT once it is bound.
udp_echo_bg() {
	UPORT=$(free_udp_port)
	bg_run udpecho -- socat "UDP4-RECVFROM:$UPORT,bind=127.0.0.1,fork" EXEC:cat
	wait_until 5 eval '[[ -n $(ss -Hlun "sport = :$UPORT") ]]'
}

# A stale UNIX socket file: bound, then closed without unlink.
stale_socket() {
	"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.close()' "$1"
}

# A tiny HTTP server on 127.0.0.1 serving $T; sets HPORT.
http_bg() {
	HPORT=$(free_port)
	echo hello >"$T/index.html"
	bg_run http -- "$PY" -m http.server -b 127.0.0.1 -d "$T" "$HPORT"
	wait_until 10 eval '[[ -n $(ss -Hltn "sport = :$HPORT") ]]'
}

@test "an open port is open with its latency, a closed one closed; exit 1 when not all open" {
	listen_bg -k 127.0.0.1 0
	closed=$(free_port)
	probe 127.0.0.1 "$LPORT"
	assert_success
	assert_output --regexp "^127\.0\.0\.1 $LPORT/tcp open [0-9]+\.[0-9]{2}ms$"
	probe 127.0.0.1 "$LPORT,$closed"
	assert_failure 1
	assert_line --index 0 --regexp "^127\.0\.0\.1 $LPORT/tcp open [0-9]+\.[0-9]{2}ms$"
	assert_line --index 1 "127.0.0.1 $closed/tcp closed -"
}

@test "a TCP probe sends no data: the listener sees a connection and zero bytes" {
	listen_bg -k 127.0.0.1 0
	probe 127.0.0.1 "$LPORT"
	assert_success
	wait_until 5 grep -q '^closed ' "$T/listen.err"
	assert_equal "$(stat -c %s "$T/listen.out")" 0
	# The same listener does log bytes a client sends, so the check can fail.
	printf abc | "$SOCKIT" connect 127.0.0.1 "$LPORT"
	wait_until 5 eval '(( $(stat -c %s "$T/listen.out") == 3 ))'
}

@test "a range in a pipe: one line per port, the open one among the closed ones" {
	listen_bg -k 127.0.0.1 0
	lo=$((LPORT > 3 ? LPORT - 3 : 1)) hi=$((LPORT < 65533 ? LPORT + 2 : 65535))
	probe 127.0.0.1 "$lo-$hi"
	assert_failure 1
	assert_equal "${#lines[@]}" $((hi - lo + 1))
	assert_line --regexp "^127\.0\.0\.1 $LPORT/tcp open [0-9.]+ms$"
	assert_equal "$(grep -c ' closed -$' <<<"$output")" $((hi - lo))
	assert_equal "$stderr" ""
}

@test "on a terminal: an aligned table of the open port, the closed ones counted under it" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	listen_bg -k 127.0.0.1 0
	lo=$((LPORT > 3 ? LPORT - 3 : 1)) hi=$((LPORT < 65533 ? LPORT + 2 : 65535))
	run -1 env NO_COLOR=1 timeout 10 script -qec "'$SOCKIT' probe 127.0.0.1 $lo-$hi" /dev/null
	output=${output//$'\r'/}
	mapfile -t lines <<<"$output"
	assert_line --index 0 --regexp '^HOST +PORT +STATE +LATENCY +DETAIL$'
	assert_line --index 1 --regexp "^127\.0\.0\.1 +$LPORT/tcp +open +[0-9.]+ms$"
	assert_line --index 2 "not shown: $((hi - lo)) closed (--all shows them)"
	assert_equal "${#lines[@]}" 3
}

@test "a CIDR block 127.0.0.0/30 probes four addresses on one port" {
	listen_bg -k 0.0.0.0 0
	probe --all 127.0.0.0/30 "$LPORT"
	assert_equal "$(cut -d' ' -f1,2 <<<"$output")" "$(printf '127.0.0.%s '"$LPORT"'/tcp\n' 0 1 2 3)"
	assert_equal "$(grep -c ' open ' <<<"$output")" 4
}

@test "--json: one object per target with the documented fields" {
	listen_bg -k 127.0.0.1 0
	closed=$(free_port)
	probe --json 127.0.0.1 "$LPORT,$closed"
	assert_failure 1
	run -0 "$PY" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert len(rows) == 2, rows
a, b = rows
assert a["host"] == "127.0.0.1" and a["address"] == "127.0.0.1" and a["proto"] == "tcp", a
assert a["port"] == int(sys.argv[1]) and a["state"] == "open", a
assert isinstance(a["latency_ms"], float) and a["latency_ms"] >= 0, a
assert b["port"] == int(sys.argv[2]) and b["state"] == "closed" and "latency_ms" not in b, b
print("ok")' "$LPORT" "$closed" <<<"$output"
	assert_output ok
}

@test "a dropped SYN is filtered after -w" {
	blackhole_start
	start=$(now_ms)
	probe -w 0.5 127.0.0.1 "$BHPORT"
	assert_failure 1
	assert_output "127.0.0.1 $BHPORT/tcp filtered -"
	(($(elapsed_ms "$start") < 3000))
}

@test "UDP: no listener is closed (ICMP), an echo is open, silence is open|filtered" {
	port=$(free_udp_port)
	probe -u 127.0.0.1 "$port"
	assert_failure 1
	assert_output "127.0.0.1 $port/udp closed -"
	udp_echo_bg
	probe -u --payload 68690a 127.0.0.1 "$UPORT"
	assert_success
	assert_output --regexp "^127\.0\.0\.1 $UPORT/udp open [0-9.]+ms$"
	# A bound socket that never answers.
	bg_run silent -- "$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(60)'
	wait_line "$T/silent.out" '^[0-9]+$' 5
	sport=$(cat "$T/silent.out")
	probe -w 0.3 udp:127.0.0.1:"$sport"
	assert_failure 1
	assert_output "127.0.0.1 $sport/udp open|filtered -"
}

@test "UNIX: open, refused (stale file), missing; abstract open" {
	listen_bg -k "unix-listen:$T/live.sock"
	stale_socket "$T/stale.sock"
	[[ -S $T/stale.sock ]]
	probe "unix:$T/live.sock" "unix:$T/stale.sock" "unix:$T/none.sock"
	assert_failure 1
	assert_line --index 0 --regexp "^$T/live\.sock unix open [0-9.]+ms$"
	assert_line --index 1 "$T/stale.sock unix refused -"
	assert_line --index 2 "$T/none.sock unix missing -"
	listen_bg --name abs -k "abstract-listen:sockit-probe-$$-$BATS_TEST_NUMBER"
	probe "abstract:sockit-probe-$$-$BATS_TEST_NUMBER"
	assert_success
	assert_output --regexp "^@sockit-probe-$$-$BATS_TEST_NUMBER abstract open [0-9.]+ms$"
}

@test "--wait succeeds once a listener appears later" {
	port=$(free_port)
	bg_run later -- sh -c "sleep 1; exec timeout 20 '$SOCKIT' listen -k 127.0.0.1 $port"
	start=$(now_ms)
	probe -v --wait=10 127.0.0.1 "$port"
	assert_success
	assert_output --regexp "^127\.0\.0\.1 $port/tcp open [0-9.]+ms$"
	[[ $stderr == *"waiting for 1 of 1 target"* ]]
	(($(elapsed_ms "$start") >= 900))
}

@test "--wait times out with exit 1 at its deadline" {
	port=$(free_port)
	start=$(now_ms)
	probe --wait=1 127.0.0.1 "$port"
	assert_failure 1
	assert_output "127.0.0.1 $port/tcp closed -"
	assert_equal "$stderr" "sockit: probe: not every target opened after 1.0 s"
	elapsed=$(elapsed_ms "$start")
	((elapsed >= 900 && elapsed < 4000))
}

@test "--wait -- CMD runs CMD once open and exits with its status; not on timeout" {
	listen_bg -k 127.0.0.1 0
	run "$SOCKIT" probe --wait=5 127.0.0.1 "$LPORT" -- sh -c 'echo ran "$0"; exit 7' arg0
	assert_failure 7
	assert_output "ran arg0"
	port=$(free_port)
	run "$SOCKIT" probe --wait=0.5 127.0.0.1 "$port" -- sh -c 'echo ran; exit 0'
	assert_failure 1
	refute_output --partial ran
	run -2 "$SOCKIT" probe --wait=1 127.0.0.1 "$LPORT" -- no-such-program-xyz
	assert_output "sockit: probe: command 'no-such-program-xyz' not found in PATH"
}

@test "--wait-closed returns once the port is freed" {
	listen_bg -k 127.0.0.1 0
	(sleep 0.7; kill "$LPID") &
	probe -v --wait-closed=10 127.0.0.1 "$LPORT"
	assert_success
	assert_output "127.0.0.1 $LPORT/tcp closed -"
	[[ $stderr == *"127.0.0.1 $LPORT/tcp closed after "* ]]
}

@test "--wait-closed -- CMD runs CMD once the port is free; a name that never resolves times out with 1" {
	listen_bg -k 127.0.0.1 0
	(sleep 0.5; kill "$LPID") &
	run -5 --separate-stderr timeout 15 "$SOCKIT" probe --wait-closed=10 127.0.0.1 "$LPORT" -- sh -c 'echo port free; exit 5'
	assert_output "port free"
	run -1 --separate-stderr timeout 15 "$SOCKIT" probe --wait=1 nonexistent.invalid 80 -- true
	assert_equal "$stderr" "sockit: probe: not every target opened after 1.0 s"
	run -2 --separate-stderr "$SOCKIT" probe 127.0.0.1 "$LPORT" -- true
	assert_equal "$stderr" "sockit: probe: a command after '--' needs --wait or --wait-closed"
}

@test "--tls flags are checked before any probe: exit 2 naming the flag; --insecure warns" {
	listen_bg -k 127.0.0.1 0
	run -2 --separate-stderr "$SOCKIT" probe --tls --pin sha256:00 127.0.0.1 "$LPORT"
	assert_equal "$stderr" "sockit: probe: --pin 'sha256:00': pin has 2 hex digits, sha256 needs 64"
	run -2 --separate-stderr "$SOCKIT" probe --tls --sni 'bad!name' 127.0.0.1 "$LPORT"
	assert_equal "$stderr" "sockit: probe: --sni 'bad!name': invalid character '!' in host name 'bad!name'"
	run -2 --separate-stderr "$SOCKIT" probe --tls --ca "$T/none.pem" 127.0.0.1 "$LPORT"
	assert_equal "$stderr" "sockit: probe: ca '$T/none.pem': No such file or directory"
	# nothing reached the listener
	run ! grep -q '^connection from' "$T/listen.err"
	run --separate-stderr timeout 10 "$SOCKIT" probe --tls --insecure -w 1 127.0.0.1 "$LPORT"
	[[ ${stderr%%$'\n'*} == "sockit: probe: warning: insecure: the server's certificate is not verified" ]]
}

@test "--count: min/avg/max/stddev and loss per target" {
	listen_bg -k 127.0.0.1 0
	probe -n 3 --interval 0.05 127.0.0.1 "$LPORT"
	assert_success
	assert_output --regexp "^127\.0\.0\.1 $LPORT/tcp open [0-9.]+ms 3 sent, 3 received, 0% loss, min/avg/max/stddev [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ ms$"
	port=$(free_port)
	probe -n 2 --interval 0 --json 127.0.0.1 "$port"
	assert_failure 1
	assert_output "{\"host\":\"127.0.0.1\",\"address\":\"127.0.0.1\",\"port\":$port,\"proto\":\"tcp\",\"state\":\"closed\",\"sent\":2,\"received\":0,\"loss_percent\":100.0}"
}

@test "--banner shows the greeting, escaped" {
	printf 'SSH-2.0-sockit\r\n\001' >"$T/greeting"
	listen_bg --in "$T/greeting" 127.0.0.1 0
	probe --banner 127.0.0.1 "$LPORT"
	assert_success
	assert_output --regexp "^127\.0\.0\.1 $LPORT/tcp open [0-9.]+ms SSH-2\.0-sockit\\\\r\\\\n\\\\x01$"
}

@test "--http reports the status line; --expect decides" {
	http_bg
	probe --http 127.0.0.1 "$HPORT"
	assert_success
	assert_output --regexp "^127\.0\.0\.1 $HPORT/tcp open [0-9.]+ms HTTP/1\.0 200 OK$"
	probe --http=/index.html --expect 2xx 127.0.0.1 "$HPORT"
	assert_success
	probe --http=/missing --expect 200 127.0.0.1 "$HPORT"
	assert_failure 1
	assert_output --regexp " HTTP/1\.0 404 File not found \(not accepted\)$"
	probe --http --expect 404 --json 127.0.0.1 "$HPORT"
	assert_failure 1
	assert_output --partial '"http_status":200,"http_line":"HTTP/1.0 200 OK","http_ok":false}'
}

@test "an unresolved name is exit 3 alone, exit 1 beside a resolved target" {
	probe nosuchhost.invalid 80
	assert_failure 3
	assert_output --regexp "^nosuchhost\.invalid 80/tcp unresolved - "
	assert_line --index 0 --partial unresolved
	[[ $stderr == "sockit: probe: resolve 'nosuchhost.invalid': "* ]]
	listen_bg -k 127.0.0.1 0
	probe tcp:nosuchhost.invalid:80 tcp:127.0.0.1:"$LPORT"
	assert_failure 1
	assert_line --index 1 --regexp "^127\.0\.0\.1 $LPORT/tcp open "
}

@test "bad port lists and blocks are exit 2 naming the item, before any probe" {
	run -2 "$SOCKIT" probe 127.0.0.1 0
	assert_output "sockit: probe: port list '0': port '0' out of range 1-65535 (column 1)"
	run -2 "$SOCKIT" probe 127.0.0.1 70000
	assert_output "sockit: probe: port list '70000': port '70000' out of range 1-65535 (column 1)"
	run -2 "$SOCKIT" probe 127.0.0.1 10-5
	assert_output "sockit: probe: port list '10-5': range '10-5' is reversed (column 1)"
	run -2 "$SOCKIT" probe 127.0.0.1 'a,,b'
	assert_output "sockit: probe: port list 'a,,b': empty item (column 3)"
	run -2 "$SOCKIT" probe 10.0.0.0/33 22
	assert_output "sockit: probe: address block '10.0.0.0/33': prefix length '33' out of range 0-32 (column 10)"
	run -2 "$SOCKIT" probe 10.0.0/24 22
	assert_output "sockit: probe: address block '10.0.0/24': '10.0.0' is not an IPv4 or IPv6 address (column 1)"
	run -2 "$SOCKIT" probe 10.0.0.0/8 22
	assert_output "sockit: probe: too many targets: '10.0.0.0/8' x 1 port = 16777216, more than --max-targets 65536"
	run -2 "$SOCKIT" probe --max-targets 8 127.0.0.0/30 1-3
	assert_output "sockit: probe: too many targets: '127.0.0.0/30' x 3 ports = 12, more than --max-targets 8"
	run -2 "$SOCKIT" probe tls:127.0.0.1:443
	assert_output "sockit: probe: endpoint 'tls:127.0.0.1:443': type 'tls' is not supported by probe yet"
	run -2 "$SOCKIT" probe --expect 200 127.0.0.1 80
	assert_output "sockit: probe: --expect needs --http"
}

@test "nothing is sent for a usage error" {
	traced_run "$SOCKIT" probe 127.0.0.1 22,0
	assert_failure 2
	assert_no_socket_calls
}

@test "self-connects across the ephemeral range are never reported open" {
	# In a private network namespace nothing else listens. Sweeping the
	# ephemeral range makes the kernel pick, now and then, the destination
	# port as the source port: a self-connect, which nc -z reports as open.
	command -v unshare >/dev/null || skip "unshare is not installed"
	unshare -rn true 2>/dev/null || skip "no private network namespace here"
	cat >"$T/sweep.sh" <<'EOF2'
ip link set lo up || exit 97
# (dash reads /proc files a byte at a time, which they do not support)
set -- $(cat /proc/sys/net/ipv4/ip_local_port_range)
lo=$1 hi=$2
"$SOCKIT" listen -v -k 127.0.0.1 0 </dev/null >/dev/null 2>"$T/ns.err" &
pid=$!
i=0
until line=$(grep -m1 '^listening on ' "$T/ns.err"); do
	i=$((i + 1)); [ $i -gt 100 ] && exit 98; sleep 0.05
done
echo "listener ${line##*:}"
for round in 1 2 3; do
	# every port has its line in a pipe: keep those that are not closed
	"$SOCKIT" probe -q 127.0.0.1 "$lo-$hi" | awk '$3 != "closed"'
done
kill $pid
EOF2
	run --separate-stderr env SOCKIT="$SOCKIT" T="$T" timeout 60 unshare -rn sh "$T/sweep.sh"
	assert_success
	port=${lines[0]#listener }
	assert_equal "${#lines[@]}" 4
	for i in 1 2 3; do
		assert_line --index "$i" --regexp "^127\.0\.0\.1 $port/tcp open [0-9.]+ms$"
	done
}

@test "filtered by an nftables drop rule, unreachable without a route (private netns)" {
	unshare -rn true 2>/dev/null || skip "no private network namespace here"
	command -v nft >/dev/null || skip "nft is not installed"
	cat >"$T/fw.sh" <<'EOF2'
ip link set lo up || exit 97
nft add table inet t || exit 96
nft add chain inet t in '{ type filter hook input priority 0; }' || exit 96
nft add rule inet t in tcp dport 9 drop || exit 96
"$SOCKIT" probe --all -w 0.3 127.0.0.1 9-10
"$SOCKIT" probe -w 0.3 192.0.2.1 80
EOF2
	run --separate-stderr env SOCKIT="$SOCKIT" timeout 30 unshare -rn sh "$T/fw.sh"
	assert_failure 1
	assert_equal "$output" "127.0.0.1 9/tcp filtered -
127.0.0.1 10/tcp closed -
192.0.2.1 80/tcp unreachable -"
}

# ---- --tls: the certificate's facts, its verification and its expiry -----------------------

# tls_server_bg: openssl s_server with a 20-day certificate for localhost and 127.0.0.1.
tls_server_bg() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 20 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
		-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
	TLSPORT=$(free_port)
	# s_server ends at EOF on its stdin: hold it open
	hold_fifo "$T/s_in" 9
	bg_run s_server --in "$T/s_in" -- openssl s_server -accept "$TLSPORT" -cert "$T/cert.pem" \
		-key "$T/key.pem" -alpn h2
	wait_line "$T/s_server.out" '^ACCEPT' 10 "$BG_PID"
}

@test "probe --tls: protocol, names, expiry and a verification that passes with --ca" {
	tls_server_bg
	run -0 --separate-stderr timeout 20 "$SOCKIT" probe --tls --ca "$T/cert.pem" --alpn h2 localhost "$TLSPORT"
	assert_regex "$output" "^localhost $TLSPORT/tcp open [0-9.]+ms TLSv1\.3 [A-Z0-9_]+ alpn=h2 subject=\"CN=localhost\" issuer=\"CN=localhost\" sans=DNS:localhost,IP:127\.0\.0\.1 not_after=[0-9-]+T[0-9:]+Z days_left=(19|20) verify=\"ok\"$"
}

@test "probe --tls: an untrusted certificate and --warn-days fail (exit 1), JSON says why" {
	tls_server_bg
	run -1 --separate-stderr timeout 20 "$SOCKIT" probe --tls 127.0.0.1 "$TLSPORT"
	assert_regex "$output" 'verify="self-signed certificate" \(not accepted\)$'
	run -1 --separate-stderr timeout 20 "$SOCKIT" probe --tls --ca "$T/cert.pem" --warn-days 30 127.0.0.1 "$TLSPORT"
	assert_regex "$output" 'days_left=(19|20) verify="ok" \(not accepted\)$'
	run -0 --separate-stderr timeout 20 "$SOCKIT" probe --json --tls --ca "$T/cert.pem" --warn-days 7 127.0.0.1 "$TLSPORT"
	run -0 "$PY" -c '
import json, sys
o = json.loads(sys.argv[1])
t = o["tls"]
assert o["tls_ok"] is True and t["verify"] == "ok" and t["subject"] == "CN=localhost", o
assert t["protocol"].startswith("TLSv1.") and t["days_left"] in (19, 20), o
assert t["sans"] == "DNS:localhost,IP:127.0.0.1" and t["alpn"] is None, o
print("ok")' "$output"
}

@test "probe --tls bad input: exit 2 naming it" {
	run -2 --separate-stderr timeout 5 "$SOCKIT" probe --ca "$T/x.pem" 127.0.0.1 443
	assert_equal "$stderr" "sockit: probe: --ca needs --tls"
	run -2 --separate-stderr timeout 5 "$SOCKIT" probe --warn-days 10 127.0.0.1 443
	assert_equal "$stderr" "sockit: probe: --warn-days needs --tls"
	run -2 --separate-stderr timeout 5 "$SOCKIT" probe --tls -u 127.0.0.1 443
	assert_equal "$stderr" "sockit: probe: --tls excludes -u"
}
