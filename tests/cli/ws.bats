#!/usr/bin/env bats
# ws.bats - WebSocket endpoints (SPEC §2: ws://, wss://, ws-listen:, wss-listen:) in connect,
# listen and relay, against python3-websockets as the independent peer: payload hashed at
# both ends, the closing handshake as EOF, refusals and truncation with their exit codes.

load lib/common

setup() {
	sk_setup
	"$PY" -c 'import websockets' 2>/dev/null || skip "python3-websockets is not installed"
	cat >"$T/wsecho.py" <<-'EOF'
		import asyncio, ssl, sys, websockets
		async def echo(ws, path=None):
		    async for m in ws:
		        await ws.send(m)
		async def main():
		    ctx = None
		    if len(sys.argv) > 1:
		        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
		        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
		    async with websockets.serve(echo, "127.0.0.1", 0, ssl=ctx, max_size=None) as srv:
		        print("port", srv.sockets[0].getsockname()[1], flush=True)
		        await asyncio.Future()
		asyncio.run(main())
	EOF
	cat >"$T/wsclient.py" <<-'EOF'
		import asyncio, ssl, sys, websockets
		# wsclient.py URL SEND [CAFILE]: send SEND as one binary message, print the first reply
		async def main():
		    ctx = None
		    if len(sys.argv) > 3:
		        ctx = ssl.create_default_context(cafile=sys.argv[3])
		    async with websockets.connect(sys.argv[1], ssl=ctx, max_size=None) as ws:
		        await ws.send(sys.argv[2].encode())
		        print((await ws.recv()).decode(), flush=True)
		asyncio.run(main())
	EOF
	cat >"$T/wsbulk.py" <<-'EOF'
		import asyncio, ssl, sys, websockets
		# wsbulk.py URL FILE [CAFILE]: send FILE in 16 KiB binary messages, write what comes
		# back to stdout until as many bytes have returned, then close cleanly
		async def main():
		    data = open(sys.argv[2], "rb").read()
		    ctx = None
		    if len(sys.argv) > 3:
		        ctx = ssl.create_default_context(cafile=sys.argv[3])
		    async with websockets.connect(sys.argv[1], ssl=ctx, max_size=None) as ws:
		        for i in range(0, len(data), 16384):
		            await ws.send(data[i:i + 16384])
		        got = 0
		        while got < len(data):
		            m = await ws.recv()
		            sys.stdout.buffer.write(m)
		            got += len(m)
		        sys.stdout.buffer.flush()
		asyncio.run(main())
	EOF
}

# wsecho_bg [CERT KEY]: the python echo server (wss with a certificate). Sets WSPORT.
wsecho_bg() {
	bg_run wsecho -- "$PY" "$T/wsecho.py" "$@"
	wait_line "$T/wsecho.out" '^port [0-9]+$' 10 "$BG_PID"
	WSPORT=$(awk '{ print $2 }' "$T/wsecho.out")
}

@test "connect ws://: 1 MiB through python's echo server comes back intact" {
	wsecho_bg
	random_file "$T/up" 1M
	hold_fifo "$T/in" 8
	bg_run client --in "$T/in" -- "$SOCKIT" connect -v "ws://127.0.0.1:$WSPORT/echo"
	local cpid=$BG_PID
	cat "$T/up" >&8
	wait_until 20 eval '(( $(stat -c %s "$T/client.out") >= 1048576 ))'
	release_fifo 8
	wait_exit "$cpid" 5
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/up" "$T/client.out"
	grep -q "^WebSocket open with 127.0.0.1:$WSPORT$" "$T/client.err"
}

@test "connect wss:// verifies python's certificate (--ca) and carries the data" {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
	wsecho_bg "$T/cert.pem" "$T/key.pem"
	got=$( (echo "over wss"; sleep 0.5) | timeout 10 "$SOCKIT" connect --ca "$T/cert.pem" "wss://127.0.0.1:$WSPORT/")
	assert_equal "$got" "over wss"
	run -5 --separate-stderr timeout 10 "$SOCKIT" connect "wss://127.0.0.1:$WSPORT/" </dev/null
	assert_regex "$stderr" "^sockit: connect: TLS handshake with 127\.0\.0\.1:$WSPORT: certificate verify failed: self-signed certificate$"
}

@test "listen ws-listen: python's client and our stdio talk both ways" {
	hold_fifo "$T/lin" 8
	LISTEN_IN=$T/lin listen_bg ws-listen:127.0.0.1:0/chat
	printf 'from the listener\n' >&8
	run -0 timeout 10 "$PY" "$T/wsclient.py" "ws://127.0.0.1:$LPORT/chat" "from python"
	assert_output "from the listener"
	release_fifo 8
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	run cat "$T/listen.out"
	assert_output "from python"
}

# bulk_clients URL N [CAFILE]: N python clients at once, each with its own 256 KiB, each
# checked for getting exactly its own bytes back.
bulk_clients() {
	local url=$1 n=$2 pids=() i
	for ((i = 1; i <= n; i++)); do
		random_file "$T/up$i" 256K
		bg_run "c$i" -- "$PY" "$T/wsbulk.py" "$url" "$T/up$i" ${3:+"$3"}
		pids+=("$BG_PID")
	done
	for ((i = 1; i <= n; i++)); do
		wait_exit "${pids[i - 1]}" 20
		assert_equal "$WSTATUS" 0
		assert_same_data "$T/up$i" "$T/c$i.out"
	done
}

@test "listen -k --exec cat on ws-listen: 3 python clients at once, each gets its own bytes back" {
	listen_bg -k --exec cat ws-listen:127.0.0.1:0/echo
	bulk_clients "ws://127.0.0.1:$LPORT/echo" 3
	wait_until 5 eval "(( \$(grep -c ' exited with status 0$' \"\$T/listen.err\") == 3 ))"
	alive "$LPID"
}

@test "listen -k on wss-listen: TLS then WebSocket per peer, python verifies our certificate" {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
	listen_bg -k --sh 'exec cat' --cert "$T/cert.pem" --key "$T/key.pem" wss-listen:127.0.0.1:0
	bulk_clients "wss://127.0.0.1:$LPORT/" 2 "$T/cert.pem"
}

@test "listen -k ws-listen with stdio: every client's messages reach stdout; a bad handshake does not stop it" {
	hold_fifo "$T/lin" 8
	LISTEN_IN=$T/lin listen_bg -k ws-listen:127.0.0.1:0/
	# a plain HTTP request gets 426 Upgrade Required and a log line; the listener goes on
	run -0 timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LPORT/"
	assert_output "426"
	wait_line "$T/listen.err" ': a plain HTTP request, not a WebSocket one$' 5
	for i in 1 2; do
		run -0 timeout 10 "$PY" -c '
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1]) as ws:
        await ws.send(sys.argv[2].encode())
asyncio.run(main())' "ws://127.0.0.1:$LPORT/" "message $i"
	done
	wait_until 5 eval '[[ $(<"$T/listen.out") == "message 1message 2" ]]'
	run cat "$T/listen.out"
	assert_output "message 1message 2"
	alive "$LPID"
	release_fifo 8
}

@test "relay ws-listen -> tcp (websockify) and tcp-listen -> ws: python on the far ends" {
	listen_bg --name server -k --exec cat 127.0.0.1 0
	bg_run wsrelay -- "$SOCKIT" relay -v ws-listen:127.0.0.1:0/ws "tcp:127.0.0.1:$LPORT"
	wait_line "$T/wsrelay.err" '^listening on ' 5 "$BG_PID"
	local rport got
	rport=$(sed -n 's/^listening on .*://p' "$T/wsrelay.err")
	run -0 timeout 10 "$PY" "$T/wsclient.py" "ws://127.0.0.1:$rport/ws" "through websockify"
	assert_output "through websockify"
	wsecho_bg
	bg_run tcprelay -- "$SOCKIT" relay -v tcp-listen:127.0.0.1:0 "ws://127.0.0.1:$WSPORT/"
	wait_line "$T/tcprelay.err" '^listening on ' 5 "$BG_PID"
	rport=$(sed -n 's/^listening on .*://p' "$T/tcprelay.err")
	got=$( (echo "tcp in, ws out"; sleep 0.5) | timeout 10 "$SOCKIT" connect 127.0.0.1 "$rport")
	assert_equal "$got" "tcp in, ws out"
}

@test "wss-listen with an ephemeral certificate: connect --pin gets through" {
	listen_bg --name server -k --exec cat 127.0.0.1 0
	bg_run wss -- "$SOCKIT" relay -v wss-listen:127.0.0.1:0/ "tcp:127.0.0.1:$LPORT"
	wait_line "$T/wss.err" '^listening on ' 5 "$BG_PID"
	local rport fp got
	rport=$(sed -n 's/^listening on .*://p' "$T/wss.err")
	fp=$(sed -n 's/.*fingerprint \(sha256:[0-9A-F:]*\).*/\1/p' "$T/wss.err")
	got=$( (echo "pinned"; sleep 0.5) | timeout 10 "$SOCKIT" connect --pin "$fp" "wss://127.0.0.1:$rport/")
	assert_equal "$got" "pinned"
}

@test "a path the server does not serve, and a plain HTTP server: exit 4 with its answer" {
	hold_fifo "$T/lin" 8
	LISTEN_IN=$T/lin listen_bg ws-listen:127.0.0.1:0/only
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect "ws://127.0.0.1:$LPORT/other" </dev/null
	assert_equal "$stderr" "sockit: connect: WebSocket handshake with 127.0.0.1:$LPORT: server answered 'HTTP/1.1 404 Not Found'"
	local web
	web=$(free_port)
	bg_run web -- "$PY" -m http.server --bind 127.0.0.1 --directory "$T" "$web"
	wait_until 5 eval "[[ -n \$(ss -Hltn '( sport = :$web )') ]]"
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect "ws://127.0.0.1:$web/nothing" </dev/null
	assert_regex "$stderr" "^sockit: connect: WebSocket handshake with 127\.0\.0\.1:$web: server answered 'HTTP/1\.[01] 404 "
}

# rawws.py MODE: a WebSocket server by hand that answers one upgrade, sends one binary message
# "before" and then ends the TCP connection without a Close frame: "fin" half-closes and reads
# what the client still sends (so the close is a FIN, whatever the timing), "reset" aborts.
write_raw_ws_server() {
	cat >"$T/rawws.py" <<-'EOF'
		import base64, hashlib, socket, struct, sys
		s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
		print("port", s.getsockname()[1], flush=True)
		c, _ = s.accept(); c.settimeout(5); req = b""
		while b"\r\n\r\n" not in req:
		    req += c.recv(4096)
		key = [l.split(b":", 1)[1].strip() for l in req.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key")][0]
		acc = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
		c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acc + b"\r\n\r\n")
		c.sendall(b"\x82\x06before")
		if sys.argv[1] == "fin":
		    c.shutdown(socket.SHUT_WR)
		    while c.recv(4096):
		        pass
		else:
		    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
		c.close()
	EOF
}

@test "a server that drops the connection without a Close frame: exit 1, data kept" {
	write_raw_ws_server
	bg_run raw -- "$PY" "$T/rawws.py" fin
	wait_line "$T/raw.out" '^port ' 5
	local port
	port=$(awk '{ print $2 }' "$T/raw.out")
	run -1 --separate-stderr timeout 10 "$SOCKIT" connect "ws://127.0.0.1:$port/" </dev/null
	assert_equal "$output" "before"
	assert_equal "$stderr" "sockit: connect: WebSocket with 127.0.0.1:$port: connection closed without a Close frame"
}

@test "a server that resets the connection: exit 1 naming the reset" {
	write_raw_ws_server
	bg_run raw -- "$PY" "$T/rawws.py" reset
	wait_line "$T/raw.out" '^port ' 5
	local port
	port=$(awk '{ print $2 }' "$T/raw.out")
	# our Close frame (stdin is empty) meets the reset: either way the reset is what is said
	run -1 --separate-stderr timeout 10 "$SOCKIT" connect "ws://127.0.0.1:$port/" </dev/null
	assert_equal "$stderr" "sockit: connect: WebSocket with 127.0.0.1:$port: Connection reset by peer"
}

@test "WebSocket bad input: exit 2 naming it, nothing listens" {
	local port
	port=$(free_port)
	run -2 --separate-stderr timeout 5 "$SOCKIT" listen --proxy-server socks5 "ws-listen:127.0.0.1:$port"
	assert_equal "$stderr" "sockit: listen: --proxy-server is not supported with ws-listen"
	run -2 --separate-stderr timeout 5 "$SOCKIT" connect --pin sha256:00 "ws://127.0.0.1:$port/"
	assert_equal "$stderr" "sockit: connect: --pin needs a TLS endpoint (--tls, tls:, tls-listen:, wss:), not ws"
	[[ -z $(ss -Hltn "( sport = :$port )") ]]
	run -0 "$SOCKIT" connect --explain 'ws://example.org/chat'
	assert_line --partial 'ws://example.org/chat'
}
