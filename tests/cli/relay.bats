#!/usr/bin/env bats
# relay.bats - `sockit relay FROM TO` (SPEC §3 relay): bytes both ways with the data hashed
# at both ends, half-close and resets carried across, many peers in one process, bounded
# memory against a stalled server, every endpoint pair, validation before anything is
# created, signals, --stats (text and JSON), --max-conns, --explain, and socat on either side.

load lib/common

setup() {
	sk_setup
	write_rp
}

# ---- helpers -----------------------------------------------------------------------------------

# relay_bg [--name NAME] [--in FILE] [--out FILE] ARGS...: start `sockit relay -v ARGS` and
# wait (<= 5 s) for its `listening on` line (or, with --json, its "listening" event).
# Sets RPID, REP (the endpoint it printed), RPORT (the text after the last ':'), RNAME.
relay_bg() {
	local name=relay opts=() line re='^listening on |"event":"listening"'
	while [[ $# -gt 0 ]]; do
		case $1 in
		--name) name=$2; shift 2 ;;
		--in | --out) opts+=("$1" "$2"); shift 2 ;;
		*) break ;;
		esac
	done
	bg_run "$name" "${opts[@]}" -- "$SOCKIT" relay -v "$@"
	RPID=$BG_PID
	RNAME=$name
	if ! wait_line "$T/$name.err" "$re" 5 "$RPID"; then
		echo "sockit relay $* did not report listening; stderr:" >&2
		cat "$T/$name.err" >&2
		return 1
	fi
	line=$(grep -m1 -E "$re" "$T/$name.err")
	if [[ $line == '{'* ]]; then
		REP=$(sed -n 's/.*"endpoint":"\([^"]*\)".*/\1/p' <<<"$line")
	else
		REP=${line#listening on }
	fi
	RPORT=${REP##*:}
}

# rp_bg NAME MODE ARGS...: start a server mode of $T/rp.py and wait for its port. Sets
# SPID_, SPORT.
rp_bg() {
	local name=$1
	shift
	bg_run "$name" -- "$PY" "$T/rp.py" "$@"
	SPID_=$BG_PID
	if ! wait_line "$T/$name.out" '^port [0-9]+$' 5 "$SPID_"; then
		echo "rp.py $* did not start:" >&2
		cat "$T/$name.err" >&2
		return 1
	fi
	SPORT=$(awk '/^port /{print $2; exit}' "$T/$name.out")
}

fd_count() {
	ls "/proc/$1/fd" | wc -l
}

# established PORT: how many established TCP connections have PORT as their local port.
established() {
	ss -Htn state established "( sport = :$1 )" | wc -l
}

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() {
	[[ -z $(ss -Hltn "( sport = :$1 )") ]]
}

# lower_asan_quarantine: a sanitizer build keeps freed memory in a quarantine (256 MiB by
# default), which would hide whether the relay's own memory stays bounded.
lower_asan_quarantine() {
	if ((SANITIZED)); then
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:malloc_context_size=0
	fi
}

# write_rp: $T/rp.py, the scripted servers and clients of this file (stdlib only).
write_rp() {
	cat >"$T/rp.py" <<-'EOF'
		import hashlib, os, random, socket, socketserver, struct, sys, threading, time

		def announce(port):
		    sys.stdout.write("port %d\n" % port)
		    sys.stdout.flush()

		class Server(socketserver.ThreadingTCPServer):
		    allow_reuse_address = True
		    daemon_threads = True
		    request_queue_size = 1024

		def serve(handler):
		    srv = Server(("127.0.0.1", 0), handler)
		    announce(srv.server_address[1])
		    srv.serve_forever()

		def read_all(conn, sizes=None):
		    h, n = hashlib.sha256(), 0
		    while True:
		        b = conn.recv(sizes() if sizes else 1 << 16)
		        if not b:
		            return n, h.hexdigest()
		        h.update(b)
		        n += len(b)

		def echo_handler(req):
		    class H(socketserver.BaseRequestHandler):
		        def handle(self):
		            c = self.request
		            while True:
		                b = c.recv(1 << 16)
		                if not b:
		                    break
		                c.sendall(b)
		            c.shutdown(socket.SHUT_WR)
		    return H

		class Ack(socketserver.BaseRequestHandler):
		    """Read until EOF, then answer with the byte count and a newline."""
		    def handle(self):
		        n, _ = read_all(self.request)
		        self.request.sendall(b"%d\n" % n)
		        self.request.shutdown(socket.SHUT_WR)

		# ---- random chunks and half-close timing: one plan per connection, known to both ends
		def plan(seed, cid):
		    r = random.Random("%s-%d" % (seed, cid))
		    size = lambda: r.choice([0, r.randrange(1, 512), r.randrange(1, 1 << 20)])
		    p = {"up": size(), "down": size(),
		         "client_waits": r.random() < 0.3,   # client sends only after the server's EOF
		         "server_waits": r.random() < 0.3,   # server sends only after the client's EOF
		         "delay": r.random() * 0.05}        # before shutting down the write side
		    if p["client_waits"]:
		        p["server_waits"] = False           # both waiting would be a deadlock
		    return p

		def chunks(seed, cid, tag):
		    r = random.Random("%s-%d-%s" % (seed, cid, tag))
		    return lambda: r.choice([1, r.randrange(1, 64), r.randrange(1, 4096), r.randrange(1, 65537)])

		def send_payload(c, n, sizes, delay):
		    h, data, off = hashlib.sha256(), os.urandom(n), 0
		    h.update(data)
		    while off < n:
		        k = min(sizes(), n - off)
		        c.sendall(data[off:off + k])
		        off += k
		        if k % 7 == 0:
		            time.sleep(0.001)
		    time.sleep(delay)
		    c.shutdown(socket.SHUT_WR)
		    return n, h.hexdigest()

		def both_ways(c, p, seed, cid, mine, waits):
		    """Send my payload and read the other's, with the plan's ordering; (sent, received)."""
		    out = {}
		    def sender():
		        out["sent"] = send_payload(c, p[mine], chunks(seed, cid, mine), p["delay"])
		    if waits:
		        received = read_all(c, chunks(seed, cid, "r" + mine))
		        sender()
		    else:
		        t = threading.Thread(target=sender)
		        t.start()
		        received = read_all(c, chunks(seed, cid, "r" + mine))
		        t.join()
		    return out["sent"], received

		lock = threading.Lock()

		def fuzz_server(seed, report):
		    class H(socketserver.BaseRequestHandler):
		        def handle(self):
		            c = self.request
		            c.settimeout(60)
		            hdr = b""
		            while len(hdr) < 4:
		                b = c.recv(4 - len(hdr))
		                if not b:
		                    return
		                hdr += b
		            cid = struct.unpack("!I", hdr)[0]
		            p = plan(seed, cid)
		            sent, got = both_ways(c, p, seed, cid, "down", p["server_waits"])
		            with lock, open(report, "a") as f:
		                f.write("%d up %d %s down %d %s\n" % (cid, got[0], got[1], sent[0], sent[1]))
		    serve(H)

		def fuzz_clients(port, seed, count, report):
		    lines, errors = [], []
		    def one(cid):
		        try:
		            p = plan(seed, cid)
		            c = socket.create_connection(("127.0.0.1", port), timeout=60)
		            c.sendall(struct.pack("!I", cid))
		            sent, got = both_ways(c, p, seed, cid, "up", p["client_waits"])
		            c.close()
		            with lock:
		                lines.append("%d up %d %s down %d %s" % (cid, sent[0], sent[1], got[0], got[1]))
		        except Exception as e:
		            with lock:
		                errors.append("connection %d (%r): %r" % (cid, p, e))
		    ts = [threading.Thread(target=one, args=(i,)) for i in range(count)]
		    for t in ts:
		        t.start()
		    for t in ts:
		        t.join()
		    with open(report, "w") as f:
		        f.write("".join(l + "\n" for l in lines))
		    if errors:
		        sys.exit("\n".join(errors))

		# ---- many echo clients: COUNT connections, BATCH open at once, SIZE bytes each
		def echo_clients(port, count, batch, size):
		    errors = []
		    def one(i, barrier):
		        try:
		            data = os.urandom(size)
		            c = socket.create_connection(("127.0.0.1", port), timeout=60)
		            barrier.wait(60)   # every connection of the batch is open at once
		            t = threading.Thread(target=lambda: (c.sendall(data), c.shutdown(socket.SHUT_WR)))
		            t.start()
		            got = bytearray()
		            while True:
		                b = c.recv(1 << 16)
		                if not b:
		                    break
		                got += b
		            t.join()
		            c.close()
		            if bytes(got) != data:
		                errors.append("connection %d: sent %d bytes, got %d back, different" % (i, size, len(got)))
		        except Exception as e:
		            errors.append("connection %d: %r" % (i, e))
		    done = 0
		    while done < count:
		        n = min(batch, count - done)
		        barrier = threading.Barrier(n)
		        ts = [threading.Thread(target=one, args=(done + k, barrier)) for k in range(n)]
		        for t in ts:
		            t.start()
		        for t in ts:
		            t.join()
		        done += n
		    if errors:
		        sys.exit("%d of %d failed:\n" % (len(errors), count) + "\n".join(errors[:10]))
		    print("ok %d" % count)

		def stall(go, report):
		    """Accept one peer, read nothing until the file GO exists, then read all of it."""
		    s = socket.socket()
		    s.bind(("127.0.0.1", 0))
		    s.listen(1)
		    announce(s.getsockname()[1])
		    c, _ = s.accept()
		    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
		    while not os.path.exists(go):
		        time.sleep(0.05)
		    n, digest = read_all(c)
		    with open(report, "w") as f:
		        f.write("bytes %d\nsha256 %s\n" % (n, digest))

		def udp_echo():
		    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    s.bind(("127.0.0.1", 0))
		    announce(s.getsockname()[1])
		    while True:
		        b, a = s.recvfrom(1 << 16)
		        s.sendto(b, a)

		mode, a = sys.argv[1], sys.argv[2:]
		if mode == "echo":
		    serve(echo_handler(None))
		elif mode == "ack":
		    serve(Ack)
		elif mode == "fuzz-server":
		    fuzz_server(a[0], a[1])
		elif mode == "fuzz-clients":
		    fuzz_clients(int(a[0]), a[1], int(a[2]), a[3])
		elif mode == "echo-clients":
		    echo_clients(int(a[0]), int(a[1]), int(a[2]), int(a[3]))
		elif mode == "stall":
		    stall(a[0], a[1])
		elif mode == "udp-echo":
		    udp_echo()
		else:
		    sys.exit("rp.py: unknown mode %r" % mode)
	EOF
}

# ---- bulk data and half-close --------------------------------------------------------------------

@test "tcp-listen -> tcp: 16 MiB up, then 16 MiB down after the server saw EOF, hashed at both ends" {
	random_file "$T/up" 16M
	random_file "$T/down" 16M
	peer_bg server reply-after-eof "$T/down"
	relay_bg tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$PPORT"
	assert_regex "$REP" '^tcp-listen:127\.0\.0\.1:[0-9]+$'
	# The server answers only after EOF, and the client exits only after the server's EOF:
	# both half-closes must cross the relay.
	timeout 30 "$SOCKIT" connect 127.0.0.1 "$RPORT" <"$T/up" >"$T/got"
	wait_until 5 test -s "$T/server.report"
	assert_equal "$(report_value server bytes)" 16777216
	assert_equal "$(report_value server sha256)" "$(sha "$T/up")"
	assert_same_data "$T/down" "$T/got"
	alive "$RPID"
	[[ ! -s $T/relay.out ]]
}

@test "the server's half-close reaches the client, which can still send 1 MiB after it" {
	random_file "$T/up" 1M
	peer_bg server eof-first "early words"
	relay_bg tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$PPORT"
	run -0 timeout 20 "$PY" - "$RPORT" "$T/up" <<-'EOF'
		import socket, sys
		c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
		got = b""
		while True:                      # the server's data, then its EOF
		    b = c.recv(65536)
		    if not b:
		        break
		    got += b
		assert got == b"early words", got
		c.sendall(open(sys.argv[2], "rb").read())   # the other direction goes on
		c.shutdown(socket.SHUT_WR)
		assert c.recv(1) == b""
		print("client done")
	EOF
	assert_output "client done"
	wait_until 5 test -s "$T/server.report"
	assert_equal "$(report_value server bytes)" 1048576
	assert_equal "$(report_value server sha256)" "$(sha "$T/up")"
	assert_equal "$(report_value server eof)" yes
}

# ---- many peers in one process ---------------------------------------------------------------------

@test "200 concurrent echo connections through one relay come back intact" {
	rp_bg echo echo
	relay_bg tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$SPORT"
	run -0 timeout 120 "$PY" "$T/rp.py" echo-clients "$RPORT" 200 200 65536
	assert_output "ok 200"
	# One process, no children: every connection ran in the relay's own loop.
	[[ -z $(ps --ppid "$RPID" -o pid=) ]]
	assert_equal "$(awk '/^Threads:/ { print $2 }' "/proc/$RPID/status")" 1
	alive "$RPID"
}

@test "fd count and RSS of the relay are back to baseline after 1,000 relayed connections" {
	local base_fd base_rss fd rss slack
	lower_asan_quarantine
	rp_bg echo echo
	relay_bg tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$SPORT"
	# Warm up with the same concurrency, so the baseline includes whatever a loop that
	# has served 50 at once keeps for reuse.
	run -0 timeout 60 "$PY" "$T/rp.py" echo-clients "$RPORT" 100 50 4096
	wait_until 5 eval '(( $(established "$RPORT") == 0 ))'
	base_fd=$(fd_count "$RPID")
	base_rss=$(vmrss_kib "$RPID")
	run -0 timeout 120 "$PY" "$T/rp.py" echo-clients "$RPORT" 1000 50 4096
	assert_output "ok 1000"
	wait_until 5 eval '(( $(fd_count "$RPID") <= base_fd ))' || true
	fd=$(fd_count "$RPID")
	rss=$(vmrss_kib "$RPID")
	slack=$((SANITIZED ? 8192 : 1024))
	echo "fds: $base_fd -> $fd; VmRSS: $base_rss -> $rss KiB (slack $slack KiB)"
	assert_equal "$fd" "$base_fd"
	((rss <= base_rss + slack))
}

# ---- resets and a missing server ---------------------------------------------------------------------

@test "a server reset reaches the client as a reset: connect exits 1 naming it" {
	hold_fifo "$T/in" 8
	peer_bg server send-reset 200000
	relay_bg tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$PPORT"
	local st=0
	timeout 20 "$PY" "$HELPERS/dfl.py" "$SOCKIT" connect 127.0.0.1 "$RPORT" <"$T/in" \
		>"$T/got" 2>"$T/err" || st=$?
	echo "status $st; stderr: $(cat "$T/err")"
	assert_equal "$st" 1
	grep -qi 'reset' "$T/err"
	alive "$RPID"
}

@test "a client reset reaches the server as a reset: listen exits 1 naming it" {
	listen_bg --in /dev/zero 127.0.0.1 0
	relay_bg tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$LPORT"
	"$PY" - "$RPORT" <<-'EOF'
		import socket, struct, sys
		c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
		n = 0
		while n < 100000:          # the server is really there and sending
		    n += len(c.recv(65536))
		c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
		c.close()
	EOF
	wait_exit "$LPID" 5
	cat "$T/listen.err"
	assert_equal "$WSTATUS" 1
	grep -q 'Connection reset by peer$' "$T/listen.err"
	alive "$RPID"
}

@test "server down: the client is reset at once, and later clients are served once it is back" {
	local port start st=0
	random_file "$T/down" 64K
	port=$(free_port)
	relay_bg --stats tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$port"
	hold_fifo "$T/in" 8
	start=$(now_ms)
	timeout 20 "$PY" "$HELPERS/dfl.py" "$SOCKIT" connect 127.0.0.1 "$RPORT" <"$T/in" \
		>"$T/got" 2>"$T/err" || st=$?
	echo "status $st after $(elapsed_ms "$start") ms; stderr: $(cat "$T/err")"
	(($(elapsed_ms "$start") < 1000))
	# A reset: 1 once connected, or 4 when the RST beats connect's own check of the
	# connection (a reset while connecting, sockit(1)).
	[[ $st == 1 || $st == 4 ]]
	grep -qi 'reset' "$T/err"
	alive "$RPID"
	wait_line "$T/relay.err" "^closed .* -> tcp:127\.0\.0\.1:$port: sent 0 received 0 in [0-9]+\.[0-9]{3} s \(refused\)$" 5
	# The server comes up on that port: the same relay now serves.
	listen_bg --in "$T/down" 127.0.0.1 "$port" || skip "port $port was taken by another process"
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$RPORT" <<<"back again" >"$T/got"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_equal "$(cat "$T/listen.out")" "back again"
	assert_same_data "$T/down" "$T/got"
	alive "$RPID"
}

@test "a server that never answers (-w 1): the client is reset after the timeout, the relay lives on" {
	local start st=0
	blackhole_start
	relay_bg --stats -w 1 tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$BHPORT"
	hold_fifo "$T/in" 8
	start=$(now_ms)
	timeout 20 "$PY" "$HELPERS/dfl.py" "$SOCKIT" connect 127.0.0.1 "$RPORT" <"$T/in" \
		>"$T/got" 2>"$T/err" || st=$?
	echo "status $st after $(elapsed_ms "$start") ms; stderr: $(cat "$T/err")"
	(($(elapsed_ms "$start") >= 900 && $(elapsed_ms "$start") < 3000))
	assert_equal "$st" 1
	alive "$RPID"
	wait_line "$T/relay.err" "^closed .* -> tcp:127\.0\.0\.1:$BHPORT: sent 0 received 0 in [0-9]+\.[0-9]{3} s \(timeout\)$" 5
}

# ---- endpoint pairs -----------------------------------------------------------------------------------

@test "unix-listen -> tcp: 1 MiB each way, and the socket file goes with the relay" {
	random_file "$T/up" 1M
	random_file "$T/down" 1M
	listen_bg --in "$T/down" 127.0.0.1 0
	relay_bg "unix-listen:$T/s" "tcp:127.0.0.1:$LPORT"
	assert_equal "$REP" "unix-listen:$T/s"
	[[ -S $T/s ]]
	timeout 20 "$SOCKIT" connect -U "$T/s" <"$T/up" >"$T/got"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
	kill -TERM "$RPID"
	wait_exit "$RPID" 2
	assert_equal "$WSTATUS" 143
	[[ ! -e $T/s ]]
}

@test "tcp-listen -> unix: 1 MiB each way" {
	random_file "$T/up" 1M
	random_file "$T/down" 1M
	listen_bg --in "$T/down" -U "$T/srv"
	relay_bg tcp-listen:127.0.0.1:0 "unix:$T/srv"
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$RPORT" <"$T/up" >"$T/got"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
}

@test "abstract-listen -> tcp: 1 MiB each way, no file anywhere" {
	local name=sockit-relay-$$-$RANDOM
	random_file "$T/up" 1M
	random_file "$T/down" 1M
	listen_bg --in "$T/down" 127.0.0.1 0
	relay_bg "abstract-listen:$name" "tcp:127.0.0.1:$LPORT"
	assert_equal "$REP" "abstract-listen:$name"
	grep -q "@$name\$" /proc/net/unix
	timeout 20 "$SOCKIT" connect "abstract:$name" <"$T/up" >"$T/got"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
	[[ ! -e $name ]]
}

@test "stdio -> tcp ('-' and 'stdio'): 1 MiB each way, exit 0 when both are done" {
	local from
	random_file "$T/up" 1M
	random_file "$T/down" 1M
	for from in - stdio; do
		listen_bg --name "l$from" --in "$T/down" 127.0.0.1 0
		run -0 --separate-stderr timeout 20 bash -c '"$1" relay "$2" "tcp:127.0.0.1:$3" <"$4" >"$5"' _ \
			"$SOCKIT" "$from" "$LPORT" "$T/up" "$T/got"
		wait_exit "$LPID" 5
		assert_equal "$WSTATUS" 0
		assert_same_data "$T/up" "$T/l$from.out"
		assert_same_data "$T/down" "$T/got"
	done
}

@test "tcp -> tcp: a relay that dials both sides joins them, 1 MiB each way" {
	random_file "$T/a" 1M
	random_file "$T/b" 1M
	listen_bg --name a --in "$T/a" 127.0.0.1 0
	local aport=$LPORT apid=$LPID
	listen_bg --name b --in "$T/b" 127.0.0.1 0
	run -0 timeout 20 "$SOCKIT" relay "tcp:127.0.0.1:$aport" "tcp:127.0.0.1:$LPORT"
	wait_exit "$apid" 5
	assert_equal "$WSTATUS" 0
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/a" "$T/b.out"
	assert_same_data "$T/b" "$T/a.out"
}

@test "tcp-listen -> exec:cat: 1 MiB per client comes back exactly, 5 clients in turn" {
	local i
	relay_bg tcp-listen:127.0.0.1:0 exec:cat
	for i in 1 2 3 4 5; do
		random_file "$T/in" 1M
		timeout 20 "$SOCKIT" connect 127.0.0.1 "$RPORT" <"$T/in" >"$T/out"
		assert_same_data "$T/in" "$T/out"
	done
	alive "$RPID"
}

@test "tcp-listen -> exec: with arguments runs them without a shell" {
	relay_bg tcp-listen:127.0.0.1:0 "exec:tr 'a-z' 'A-Z'"
	run -0 timeout 20 "$SOCKIT" connect 127.0.0.1 "$RPORT" <<<'hello, $(relay) `x` ;|&'
	assert_output 'HELLO, $(RELAY) `X` ;|&'
}

@test "tcp-listen -> sh: runs the command with /bin/sh -c, commas and all" {
	relay_bg tcp-listen:127.0.0.1:0 'sh:echo start, then; tr a-z A-Z'
	run -0 timeout 20 "$SOCKIT" connect 127.0.0.1 "$RPORT" <<<"hello"
	assert_output "start, then
HELLO"
}

@test "sh: as FROM (no listener): one relay between a child and a server, then exit 0" {
	random_file "$T/down" 256K
	listen_bg --in "$T/down" 127.0.0.1 0
	# The server's bytes go through cat and come back to it.
	run -0 timeout 20 "$SOCKIT" relay sh:cat "tcp:127.0.0.1:$LPORT"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/down" "$T/listen.out"
}

@test "tcp6-listen -> tcp4: the address families may differ" {
	random_file "$T/up" 256K
	listen_bg 127.0.0.1 0
	relay_bg 'tcp6-listen:[::1]:0' "tcp4:127.0.0.1:$LPORT"
	assert_regex "$REP" '^tcp6-listen:\[::1\]:[0-9]+$'
	timeout 20 "$SOCKIT" connect ::1 "$RPORT" <"$T/up"
	wait_exit "$LPID" 5
	assert_same_data "$T/up" "$T/listen.out"
}

@test "udp-listen -> udp: two clients get their own flows and only their own replies" {
	rp_bg uecho udp-echo
	relay_bg udp-listen:127.0.0.1:0 "udp:127.0.0.1:$SPORT"
	assert_regex "$REP" '^udp-listen:127\.0\.0\.1:[0-9]+$'
	run -0 timeout 20 "$PY" - "$RPORT" <<-'EOF'
		import socket, sys
		port = int(sys.argv[1])
		a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		for s in (a, b):
		    s.settimeout(5)
		for i in range(10):
		    a.sendto(b"A%d" % i, ("127.0.0.1", port))
		    b.sendto(b"B%d" % i, ("127.0.0.1", port))
		    got_a, src_a = a.recvfrom(100)
		    got_b, src_b = b.recvfrom(100)
		    assert got_a == b"A%d" % i, got_a
		    assert got_b == b"B%d" % i, got_b
		    # replies leave from the address the clients sent to
		    assert src_a == ("127.0.0.1", port) and src_b == src_a, (src_a, src_b)
		print("kept apart")
	EOF
	assert_output "kept apart"
}

# udp_client PORT COUNT SIZE: send COUNT datagrams of SIZE random bytes one by one, each
# awaiting its echo; prints "sha256-sent sha256-received".
udp_client() {
	timeout 30 "$PY" - "$@" <<-'EOF'
		import hashlib, os, socket, sys
		port, count, size = map(int, sys.argv[1:4])
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.settimeout(5)
		s.connect(("127.0.0.1", port))
		sent, got = hashlib.sha256(), hashlib.sha256()
		for i in range(count):
		    d = os.urandom(size)
		    sent.update(d)
		    s.send(d)
		    got.update(s.recv(1 << 16))
		print(sent.hexdigest(), got.hexdigest())
	EOF
}

@test "udp-listen -> udp: 300 datagrams of up to 60000 bytes come back intact" {
	local out a b
	rp_bg uecho udp-echo
	relay_bg udp-listen:127.0.0.1:0 "udp:127.0.0.1:$SPORT"
	out=$(udp_client "$RPORT" 200 1200) && read -r a b <<<"$out"
	[[ -n $a && $a == "$b" ]]
	out=$(udp_client "$RPORT" 100 60000) && read -r a b <<<"$out"
	[[ -n $a && $a == "$b" ]]
}

@test "udp-listen -> tcp: each source's datagrams become one TCP stream, replies come back" {
	local out a b
	listen_bg -k --exec cat 127.0.0.1 0
	relay_bg udp-listen:127.0.0.1:0 "tcp:127.0.0.1:$LPORT"
	out=$(udp_client "$RPORT" 100 1000) && read -r a b <<<"$out"
	[[ -n $a && $a == "$b" ]]
}

@test "udp-listen: a session ends after -i without datagrams (--stats says idle), the next starts anew" {
	local out a b
	rp_bg uecho udp-echo
	relay_bg --name relay udp-listen:127.0.0.1:0 "udp:127.0.0.1:$SPORT" -i 0.5 --stats
	out=$(udp_client "$RPORT" 3 100) && read -r a b <<<"$out"
	[[ -n $a && $a == "$b" ]]
	wait_line "$T/relay.err" '^closed .*sent 300 received 300 .*\(idle\)$' 5 "$RPID"
	out=$(udp_client "$RPORT" 2 100) && read -r a b <<<"$out"
	[[ -n $a && $a == "$b" ]]
	wait_line "$T/relay.err" '^closed .*sent 200 received 200 .*\(idle\)$' 5 "$RPID"
}

@test "udp-listen --max-conns 1: a second source gets nothing while the first is served" {
	rp_bg uecho udp-echo
	relay_bg udp-listen:127.0.0.1:0 "udp:127.0.0.1:$SPORT" --max-conns 1
	run -0 timeout 20 "$PY" - "$RPORT" <<-'EOF'
		import socket, sys
		port = int(sys.argv[1])
		a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		a.settimeout(5)
		b.settimeout(1)
		a.sendto(b"first", ("127.0.0.1", port))
		assert a.recv(100) == b"first"
		b.sendto(b"second", ("127.0.0.1", port))
		try:
		    b.recv(100)
		    sys.exit("the second source was served")
		except socket.timeout:
		    pass
		a.sendto(b"again", ("127.0.0.1", port))
		assert a.recv(100) == b"again"
		print("one session")
	EOF
	assert_output "one session"
}

# ---- memory bound against a stalled server ----------------------------------------------------------

@test "a stalled server keeps the relay's RSS bounded while 256 MiB is offered; then every byte arrives" {
	local chunks=16 max=0 rss i limit=$((64 * 1024)) want
	((SANITIZED)) && chunks=4
	lower_asan_quarantine
	random_file "$T/chunk" 16M
	want=$(for ((i = 0; i < chunks; i++)); do cat "$T/chunk"; done | sha256sum | cut -d' ' -f1)
	rp_bg server stall "$T/go" "$T/server.report"
	relay_bg tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$SPORT"
	bg_run client -- bash -c 'for ((i = 0; i < $1; i++)); do cat "$2"; done |
		"$3" connect 127.0.0.1 "$4"' _ "$chunks" "$T/chunk" "$SOCKIT" "$RPORT"
	local cpid=$BG_PID
	wait_until 5 eval '(( $(established "$SPORT") == 1 ))'
	for i in $(seq 60); do
		rss=$(vmrss_kib "$RPID") || break
		((rss > max)) && max=$rss
		sleep 0.05
	done
	echo "max VmRSS of the relay while stalled: $max KiB (limit $limit KiB)"
	alive "$RPID"
	alive "$cpid" # the client is held back, not done
	((max > 0 && max < limit))
	touch "$T/go"
	wait_exit "$cpid" 60
	assert_equal "$WSTATUS" 0
	wait_until 10 test -s "$T/server.report"
	assert_equal "$(report_value server bytes)" $((chunks * 16 * 1024 * 1024))
	assert_equal "$(report_value server sha256)" "$want"
}

# ---- random chunk sizes and half-close timing ----------------------------------------------------

@test "random chunk sizes and half-close timing across 60 concurrent connections: hashes agree" {
	local seed=$RANDOM$RANDOM
	echo "seed $seed"
	rp_bg server fuzz-server "$seed" "$T/server.lines"
	relay_bg tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$SPORT"
	run -0 timeout 120 "$PY" "$T/rp.py" fuzz-clients "$RPORT" "$seed" 60 "$T/client.lines"
	wait_until 10 eval '(( $(wc -l <"$T/server.lines") == 60 ))'
	assert_equal "$(wc -l <"$T/client.lines")" 60
	diff <(sort -n "$T/client.lines") <(sort -n "$T/server.lines")
	alive "$RPID"
}

# ---- validation before anything is created ---------------------------------------------------------

@test "a bad TO creates nothing: exit 2 naming it, the port stays free, no socket file" {
	local port
	port=$(free_port)
	traced_run timeout 10 "$SOCKIT" relay "tcp-listen:127.0.0.1:$port" tcp:127.0.0.1:99999
	assert_equal "$status" 2
	assert_equal "$stderr" "sockit: relay: endpoint 'tcp:127.0.0.1:99999': port '99999' out of range 0-65535 (column 15)"
	assert_no_socket_calls
	port_free "$port"

	traced_run timeout 10 "$SOCKIT" relay "unix-listen:$T/s" "unix:$T/srv,nodelya"
	assert_equal "$status" 2
	assert_regex "$stderr" "^sockit: relay: endpoint 'unix:.*,nodelya': unknown option 'nodelya' \(column [0-9]+\)$"
	assert_no_socket_calls
	[[ ! -e $T/s ]]
}

@test "a listener as TO, or an unbalanced exec: quote, is exit 2 before FROM is bound" {
	traced_run timeout 10 "$SOCKIT" relay "unix-listen:$T/s" tcp-listen:127.0.0.1:0
	assert_equal "$status" 2
	assert_regex "$stderr" '^sockit: relay: .*tcp-listen'
	assert_no_socket_calls
	[[ ! -e $T/s ]]

	traced_run timeout 10 "$SOCKIT" relay "unix-listen:$T/s" "exec:cat 'unbalanced"
	assert_equal "$status" 2
	assert_regex "$stderr" '^sockit: relay: '
	assert_no_socket_calls
	[[ ! -e $T/s ]]
}

@test "exec: naming a program that is not in PATH is exit 2 before FROM is bound" {
	run -2 --separate-stderr timeout 5 "$SOCKIT" relay "unix-listen:$T/s" exec:sockit-no-such-program-$$
	assert_regex "$stderr" "^sockit: relay: .*sockit-no-such-program-$$"
	[[ ! -e $T/s ]]
}

@test "a UNIX datagram listener as FROM is exit 2, nothing bound" {
	local name=sockit-relay-$$-$RANDOM
	# Its peers are often unnamed, so sessions could not be told apart: refused before
	# anything is created.
	run -2 --separate-stderr timeout 5 "$SOCKIT" relay "unix-dgram-listen:$T/d" tcp:127.0.0.1:9
	assert_regex "$stderr" "^sockit: relay: .*unix-dgram-listen"
	[[ ! -e $T/d ]]
	run -2 --separate-stderr timeout 5 "$SOCKIT" relay "abstract-dgram-listen:$name" tcp:127.0.0.1:9
	assert_regex "$stderr" "^sockit: relay: .*abstract-dgram-listen"
}

@test "a bad FROM: exit 2 naming it with its column" {
	run -2 --separate-stderr timeout 10 "$SOCKIT" relay 'tcp-listen:0,backlgo=5' tcp:127.0.0.1:1
	assert_output ""
	assert_equal "$stderr" "sockit: relay: endpoint 'tcp-listen:0,backlgo=5': unknown option 'backlgo' (column 14)"
	run -2 --separate-stderr timeout 10 "$SOCKIT" relay 'tpc-listen:0' tcp:127.0.0.1:1
	assert_regex "$stderr" "^sockit: relay: endpoint 'tpc-listen:0': .*\(column 1\)$"
}

@test "usage errors: one endpoint, three, an unknown option, a bad --max-conns" {
	run -2 --separate-stderr timeout 10 "$SOCKIT" relay tcp-listen:0
	assert_regex "$stderr" '^sockit: relay: '
	run -2 --separate-stderr timeout 10 "$SOCKIT" relay tcp-listen:0 tcp:127.0.0.1:1 tcp:127.0.0.1:2
	assert_regex "$stderr" '^sockit: relay: '
	run -2 --separate-stderr timeout 10 "$SOCKIT" relay --no-such-option tcp-listen:0 tcp:127.0.0.1:1
	assert_regex "$stderr" '^sockit: relay: .*--no-such-option'
	run -2 --separate-stderr timeout 10 "$SOCKIT" relay --max-conns x tcp-listen:0 tcp:127.0.0.1:1
	assert_regex "$stderr" '^sockit: relay: .*max-conns'
}

@test "--explain prints both endpoints canonically, creates nothing and exits 0" {
	traced_run timeout 10 "$SOCKIT" relay --explain "unix-listen:$T/s,mode=0600" 'tcp:127.0.0.1:9,nodelay'
	assert_equal "$status" 0
	echo "$output"
	assert_output --partial "unix-listen:$T/s"
	assert_output --partial "tcp:127.0.0.1:9"
	assert_output --partial "mode=0600"
	assert_output --partial "nodelay="
	assert_no_socket_calls
	[[ ! -e $T/s ]]
}

@test "--explain with an exec: or sh: TO describes a child on a socketpair, not a socket connect" {
	run -0 --separate-stderr timeout 10 "$SOCKIT" relay --explain tcp-listen:127.0.0.1:0 'exec:cat -n'
	echo "$output"
	assert_output --partial "exec:cat -n"
	refute_output --partial "AF_VSOCK"
	refute_output --partial "connect(cat -n)"
	assert_output --partial "socketpair"
	run -0 --separate-stderr timeout 10 "$SOCKIT" relay --explain tcp-listen:127.0.0.1:0 'sh:tr a-z A-Z'
	refute_output --partial "AF_VSOCK"
	assert_output --partial "socketpair"
}

# ---- signals ------------------------------------------------------------------------------------------

# reader_bg NAME ADDRESS: a client (UNIX path or TCP port) that sends nothing and reads until
# EOF or a reset, then prints which one and how long it waited.
reader_bg() {
	bg_run "$1" -- "$PY" -c '
import socket, sys, time
a = sys.argv[1]
c = socket.socket(socket.AF_UNIX) if a.startswith("/") else socket.socket()
c.connect(a if a.startswith("/") else ("127.0.0.1", int(a)))
c.settimeout(30)
print("connected", flush=True)
t = time.monotonic()
try:
    while c.recv(65536):
        pass
    how = "eof"
except ConnectionResetError:
    how = "reset"
print("%s after %.3f s" % (how, time.monotonic() - t), flush=True)
' "$2"
}

@test "SIGTERM with live connections: exit 143 within 1 s, clients let go, socket file removed" {
	local i pids=()
	rp_bg echo echo
	relay_bg "unix-listen:$T/s" "tcp:127.0.0.1:$SPORT"
	for i in 1 2 3; do
		reader_bg "c$i" "$T/s"
		pids+=("$BG_PID")
	done
	wait_until 5 eval '(( $(established "$SPORT") == 3 ))'
	kill -TERM "$RPID"
	wait_exit "$RPID" 1
	assert_equal "$WSTATUS" 143
	[[ ! -e $T/s ]]
	for i in 1 2 3; do
		wait_exit "${pids[i - 1]}" 2
		grep -E '^(eof|reset) after' "$T/c$i.out"
	done
	wait_until 2 eval '(( $(established "$SPORT") == 0 ))'
}

@test "SIGINT with a live connection: exit 130" {
	rp_bg echo echo
	relay_bg tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$SPORT"
	hold_fifo "$T/in" 8
	bg_run c1 --in "$T/in" -- "$SOCKIT" connect 127.0.0.1 "$RPORT"
	wait_until 5 eval '(( $(established "$SPORT") == 1 ))'
	kill -INT "$RPID"
	wait_exit "$RPID" 1
	assert_equal "$WSTATUS" 130
	port_free "$RPORT"
}

@test "SIGHUP drains: no new peers, the live connection goes on, then exit 129" {
	rp_bg echo echo
	relay_bg --name relay tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$SPORT" --stats
	hold_fifo "$T/in" 8
	bg_run c1 --in "$T/in" -- "$SOCKIT" connect 127.0.0.1 "$RPORT"
	local cpid=$BG_PID
	echo one >&8
	wait_line "$T/c1.out" '^one$' 5 "$cpid"
	kill -HUP "$RPID"
	wait_line "$T/relay.err" '^draining: not accepting; 1 connections left$' 5 "$RPID"
	run -4 --separate-stderr timeout 5 "$SOCKIT" connect 127.0.0.1 "$RPORT" </dev/null
	assert_equal "$stderr" "sockit: connect: connect to tcp:127.0.0.1:$RPORT: Connection refused"
	alive "$RPID"
	echo two >&8
	wait_line "$T/c1.out" '^two$' 5 "$cpid"
	release_fifo 8
	wait_exit "$cpid" 5
	assert_equal "$WSTATUS" 0
	wait_exit "$RPID" 5
	assert_equal "$WSTATUS" 129
	grep -E '^closed 127\.0\.0\.1:[0-9]+ -> .*: sent 8 received 8 .*\(eof\)$' "$T/relay.err"
}

@test "SIGHUP then SIGTERM: the drain is cut short, exit 143" {
	rp_bg echo echo
	relay_bg tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$SPORT"
	hold_fifo "$T/in" 8
	bg_run c1 --in "$T/in" -- "$SOCKIT" connect 127.0.0.1 "$RPORT"
	wait_until 5 eval '(( $(established "$SPORT") == 1 ))'
	kill -HUP "$RPID"
	wait_line "$T/relay.err" '^draining: ' 5 "$RPID"
	kill -TERM "$RPID"
	wait_exit "$RPID" 1
	assert_equal "$WSTATUS" 143
}

# ---- exit status of a single relay -------------------------------------------------------------------

@test "a single relay: exit 4 when TO refuses, 1 on a reset, 7 on -i" {
	local port st start
	port=$(free_port)
	run -4 --separate-stderr timeout 20 "$SOCKIT" relay - "tcp:127.0.0.1:$port" </dev/null
	assert_equal "$stderr" "sockit: relay: connect to tcp:127.0.0.1:$port: Connection refused"

	hold_fifo "$T/in" 8
	peer_bg reset send-reset 100000
	st=0
	timeout 20 "$PY" "$HELPERS/dfl.py" "$SOCKIT" relay - "tcp:127.0.0.1:$PPORT" <"$T/in" \
		>/dev/null 2>"$T/err" || st=$?
	echo "reset: status $st; $(cat "$T/err")"
	assert_equal "$st" 1
	grep -qi reset "$T/err"

	peer_bg silent silent
	start=$(now_ms)
	st=0
	timeout 20 "$SOCKIT" relay -i 1 - "tcp:127.0.0.1:$PPORT" <"$T/in" >/dev/null 2>"$T/err" || st=$?
	echo "idle: status $st after $(elapsed_ms "$start") ms; $(cat "$T/err")"
	assert_equal "$st" 7
	(($(elapsed_ms "$start") < 3000))
}

# ---- --stats, --json, --hexdump, --max-conns ------------------------------------------------------

@test "--stats: a line per connection with bytes each way, and a total at exit" {
	rp_bg ack ack
	relay_bg --stats tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$SPORT"
	head -c 1000 /dev/urandom >"$T/a"
	head -c 300000 /dev/urandom >"$T/b"
	run -0 timeout 20 "$SOCKIT" connect 127.0.0.1 "$RPORT" <"$T/a"
	assert_output 1000
	wait_line "$T/relay.err" '^closed ' 5
	run -0 timeout 20 "$SOCKIT" connect 127.0.0.1 "$RPORT" <"$T/b"
	assert_output 300000
	wait_until 5 eval '(( $(grep -c "^closed " "$T/relay.err") == 2 ))'
	grep -E "^closed 127\.0\.0\.1:[0-9]+ -> tcp:127\.0\.0\.1:$SPORT: sent 1000 received 5 in [0-9]+\.[0-9]{3} s \(eof\)$" "$T/relay.err"
	grep -E "^closed 127\.0\.0\.1:[0-9]+ -> tcp:127\.0\.0\.1:$SPORT: sent 300000 received 7 in [0-9]+\.[0-9]{3} s \(eof\)$" "$T/relay.err"
	kill -TERM "$RPID"
	wait_exit "$RPID" 2
	assert_equal "$WSTATUS" 143
	grep -x "total: 2 connections, sent 301000 received 12" "$T/relay.err"
}

@test "--stats without -v still prints its lines (and -q silences them)" {
	rp_bg ack ack
	# No -v, so no `listening on` line: wait for the socket file instead.
	bg_run relay -- "$SOCKIT" relay --stats "unix-listen:$T/s" "tcp:127.0.0.1:$SPORT"
	RPID=$BG_PID
	wait_until 5 test -S "$T/s"
	run -0 timeout 20 "$SOCKIT" connect -U "$T/s" <<<"four"
	assert_output 5
	wait_line "$T/relay.err" '^closed ' 5 "$RPID"
	grep -E "^closed .* -> tcp:127\.0\.0\.1:$SPORT: sent 5 received 2 in [0-9]+\.[0-9]{3} s \(eof\)$" "$T/relay.err"
	kill -TERM "$RPID"
	wait_exit "$RPID" 2
	assert_equal "$WSTATUS" 143
	grep -x "total: 1 connections, sent 5 received 2" "$T/relay.err"

	run -0 --separate-stderr timeout 20 bash -c 'printf hi | "$1" relay -q --stats - exec:cat' _ "$SOCKIT"
	assert_output hi
	assert_equal "$stderr" ""
}

@test "--stats --json: every stderr line is JSON, and the byte counts equal what was sent" {
	local n
	rp_bg ack ack
	relay_bg --stats --json tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$SPORT"
	for n in 1 70000 2000000; do
		head -c "$n" /dev/urandom >"$T/in"
		run -0 timeout 20 "$SOCKIT" connect 127.0.0.1 "$RPORT" <"$T/in"
		assert_output "$n"
	done
	wait_until 5 eval '(( $(grep -c "\"event\":\"closed\"" "$T/relay.err") == 3 ))'
	kill -TERM "$RPID"
	wait_exit "$RPID" 2
	assert_equal "$WSTATUS" 143
	cat "$T/relay.err"
	run -0 "$PY" - "$T/relay.err" "tcp:127.0.0.1:$SPORT" <<-'EOF'
		import json, sys
		events = [json.loads(line) for line in open(sys.argv[1])]   # every line parses
		closed = [e for e in events if e.get("event") == "closed"]
		total = [e for e in events if e.get("event") == "total"]
		assert len(closed) == 3, closed
		for e in closed:
		    assert e["to"] == sys.argv[2], e
		    assert e["peer"].startswith("127.0.0.1:"), e
		    assert e["ended"] == "eof", e
		    assert isinstance(e["duration_ms"], int) and e["duration_ms"] >= 0, e
		    assert e["received"] == len(b"%d\n" % e["sent"]), e
		assert sorted(e["sent"] for e in closed) == [1, 70000, 2000000], closed
		assert len(total) == 1, total
		t = total[0]
		assert t["connections"] == 3, t
		assert t["sent"] == 2070001, t
		assert t["received"] == 2 + 6 + 8, t
		print("json ok")
	EOF
	assert_output "json ok"
}

@test "--hexdump: the traffic of both directions on stderr, the bytes unchanged" {
	run -0 --separate-stderr timeout 20 bash -c 'printf hello | "$1" relay --hexdump - exec:cat' _ "$SOCKIT"
	assert_output hello
	echo "$stderr"
	grep -E '^> 0+  68 65 6c 6c 6f .*\|hello\|$' <<<"$stderr"
	grep -E '^< 0+  68 65 6c 6c 6f .*\|hello\|$' <<<"$stderr"
}

@test "--max-conns 2: a third client waits until one of the first two leaves" {
	rp_bg echo echo
	relay_bg --max-conns 2 tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$SPORT"
	run -0 timeout 30 "$PY" - "$RPORT" <<-'EOF'
		import socket, sys
		port = int(sys.argv[1])
		def conn(tag):
		    c = socket.create_connection(("127.0.0.1", port), timeout=5)
		    c.sendall(tag)
		    return c
		a, b = conn(b"a"), conn(b"b")
		assert a.recv(10) == b"a" and b.recv(10) == b"b"      # both relayed
		c = conn(b"c")                                          # in the backlog
		c.settimeout(0.7)
		try:
		    got = c.recv(10)
		    sys.exit("the third client was served while two were live: %r" % got)
		except socket.timeout:
		    pass
		a.shutdown(socket.SHUT_WR)                              # the first one leaves
		assert a.recv(10) == b""
		a.close()
		c.settimeout(5)
		assert c.recv(10) == b"c", "the third client was not served after one left"
		print("third waited")
	EOF
	assert_output "third waited"
}

@test "-i 1 on a listening relay closes an idle connection (idle) and keeps serving" {
	rp_bg echo echo
	relay_bg --stats -i 1 tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$SPORT"
	reader_bg idle "$RPORT"
	wait_exit "$BG_PID" 4
	cat "$T/idle.out"
	assert_regex "$(tail -n1 "$T/idle.out")" '^(eof|reset) after (0\.9|1\.|2\.)'
	wait_line "$T/relay.err" '^closed .* \(idle\)$' 5
	alive "$RPID"
	run -0 timeout 20 "$SOCKIT" connect 127.0.0.1 "$RPORT" <<<"still here"
	assert_output "still here"
}

# ---- socat on either side --------------------------------------------------------------------------

need() {
	command -v "$1" >/dev/null || skip "$1 is not installed"
}

@test "socat as the client of a relay: 4 MiB each way" {
	need socat
	random_file "$T/up" 4M
	random_file "$T/down" 4M
	listen_bg --in "$T/down" 127.0.0.1 0
	relay_bg tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$LPORT"
	timeout 20 socat -t 10 STDIO "TCP:127.0.0.1:$RPORT" <"$T/up" >"$T/got"
	wait_exit "$LPID" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/listen.out"
	assert_same_data "$T/down" "$T/got"
}

@test "socat as the server behind a relay: 4 MiB each way" {
	need socat
	local sport
	random_file "$T/up" 4M
	random_file "$T/down" 4M
	bg_run socat --in "$T/down" -- socat -d -d -t 10 TCP-LISTEN:0,bind=127.0.0.1 STDIO
	local spid=$BG_PID
	wait_line "$T/socat.err" ' listening on ' 5 "$spid"
	sport=$(grep -m1 ' listening on ' "$T/socat.err" | sed -n 's/.*:\([0-9]*\)$/\1/p')
	relay_bg tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$sport"
	timeout 20 "$SOCKIT" connect 127.0.0.1 "$RPORT" <"$T/up" >"$T/got"
	wait_exit "$spid" 10
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/socat.out"
	assert_same_data "$T/down" "$T/got"
}

# ---- --workers ----------------------------------------------------------------------------

@test "--workers 3: three processes hold the port, every connection is relayed, SIGTERM stops all" {
	listen_bg --name echo -k --exec cat 127.0.0.1 0
	local echo_port=$LPORT i got
	bg_run relay -- "$SOCKIT" relay -v --stats --workers 3 tcp-listen:127.0.0.1:0 \
		"tcp:127.0.0.1:$echo_port"
	local rpid=$BG_PID
	wait_line "$T/relay.err" '^listening on ' 5
	local port
	port=$(sed -n 's/^listening on .*://p' "$T/relay.err")
	# One listening socket per process, all on the one port.
	wait_until 5 eval '(( $(ss -Hltn "( sport = :$port )" | wc -l) == 3 ))'
	for i in $(seq 30); do
		got=$(echo "worker check $i" | timeout 10 "$SOCKIT" connect 127.0.0.1 "$port")
		assert_equal "$got" "worker check $i"
	done
	kill -TERM "$rpid"
	wait_exit "$rpid" 5
	assert_equal "$WSTATUS" 143
	# Every process printed its total; together they relayed all 30.
	run awk '/^total: / { n += $2 } END { print n }' "$T/relay.err"
	assert_output 30
	wait_until 5 eval '(( $(ss -Hltn "( sport = :$port )" | wc -l) == 0 ))'
}

@test "--workers on a UNIX listener is exit 2 before anything listens" {
	run -2 timeout 5 "$SOCKIT" relay --workers 2 "unix-listen:$T/w.sock" tcp:127.0.0.1:9
	assert_output "sockit: relay: --workers needs a TCP listener as FROM (SO_REUSEPORT)"
	[[ ! -e $T/w.sock ]]
}
