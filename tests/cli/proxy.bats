#!/usr/bin/env bats
# proxy.bats - reaching a TCP endpoint through a proxy (SPEC §3 Proxies): --proxy URL and
# proxy= on connect and relay, nc's -X/-x, with real proxies as the peers: microsocks
# (SOCKS5, with and without a password), dante (SOCKS4, SOCKS5 with the name resolved here)
# and ncat --proxy-type http (HTTP CONNECT, with and without Basic authentication).
# Data is hashed at both ends; refusals are exit 4 with the proxy's reason.

load lib/common

setup() {
	sk_setup
	UPLOADS=0
}

need() {
	command -v "$1" >/dev/null || skip "$1 is not installed (Debian package $2)"
}

# wait_port PORT: something listens on 127.0.0.1:PORT (for proxies that print nothing).
wait_port() {
	wait_until 5 eval "[[ -n \$(ss -Hltn '( sport = :$1 )') ]]"
}

# socks_bg [-u USER -P PASS]: microsocks on a free port. Sets PXPORT.
socks_bg() {
	need microsocks microsocks
	PXPORT=$(free_port)
	bg_run microsocks -- microsocks -i 127.0.0.1 -p "$PXPORT" "$@"
	wait_port "$PXPORT"
}

# dante_bg: danted accepting SOCKS4 and SOCKS5 without authentication. Sets PXPORT.
dante_bg() {
	need danted dante-server
	PXPORT=$(free_port)
	cat >"$T/danted.conf" <<-EOF
		logoutput: stderr
		internal: 127.0.0.1 port = $PXPORT
		external: 127.0.0.1
		socksmethod: none
		clientmethod: none
		user.privileged: root
		user.unprivileged: nobody
		client pass {
			from: 127.0.0.0/8 to: 0.0.0.0/0
		}
		socks pass {
			from: 127.0.0.0/8 to: 0.0.0.0/0
			command: connect
		}
	EOF
	bg_run danted -- danted -f "$T/danted.conf" -p "$T/danted.pid"
	wait_port "$PXPORT"
}

# http_proxy_bg [ncat options]: ncat as an HTTP CONNECT proxy. Sets PXPORT.
http_proxy_bg() {
	PXPORT=$(free_port)
	bg_run ncat -- ncat -l -k 127.0.0.1 "$PXPORT" --proxy-type http "$@"
	wait_port "$PXPORT"
}

# upload_via ARGS...: send 1 MiB through `sockit connect ARGS... 127.0.0.1 $LPORT` to a
# listener, and check that every byte arrived. These proxies carry no half-close (an EOF
# from either side ends the tunnel), so the listener's stdin stays open meanwhile.
upload_via() {
	# A listener of its own each time: a reused name could be read before it is rewritten.
	local name=upload$((++UPLOADS))
	random_file "$T/up" 1M
	hold_fifo "$T/lin" 9
	LISTEN_IN=$T/lin listen_bg --name "$name" 127.0.0.1 0
	bg_run client --in "$T/up" -- "$SOCKIT" connect "$@" 127.0.0.1 "$LPORT"
	local cpid=$BG_PID
	wait_until 10 eval "(( \$(stat -c %s \"$T/$name.out\") >= 1048576 ))" || true
	release_fifo 9
	rm -f "$T/lin"
	wait_exit "$LPID" 5
	wait_exit "$cpid" 5
	assert_same_data "$T/up" "$T/$name.out"
}

@test "-x alone is SOCKS5 (microsocks): 1 MiB arrives intact" {
	socks_bg
	upload_via -x "127.0.0.1:$PXPORT"
}

@test "--proxy socks5h:// asks the proxy for the name; the peer sees the proxy's address" {
	socks_bg
	listen_bg -k --exec cat 127.0.0.1 0
	got=$( (echo "hello"; sleep 0.3) | timeout 10 "$SOCKIT" connect -v --proxy "socks5h://127.0.0.1:$PXPORT" localhost "$LPORT" 2>"$T/c.err")
	assert_equal "$got" "hello"
	grep -F "connected to tcp:localhost:$LPORT" "$T/c.err"
	wait_accepts 1
}

@test "SOCKS5 with a password: from the URL or the environment; a wrong one is exit 4" {
	socks_bg -u alice -P s3cret
	upload_via --proxy "socks5h://alice:s3cret@127.0.0.1:$PXPORT"
	SOCKIT_PROXY_USER=alice SOCKIT_PROXY_PASSWORD=s3cret upload_via -x "127.0.0.1:$PXPORT"
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect --proxy "socks5h://alice:wrong@127.0.0.1:$PXPORT" 127.0.0.1 9 </dev/null
	assert_equal "$stderr" "sockit: connect: connect to tcp:127.0.0.1:9 via socks5h://127.0.0.1:$PXPORT: proxy authentication failed"
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect -x "127.0.0.1:$PXPORT" 127.0.0.1 9 </dev/null
	assert_equal "$stderr" "sockit: connect: connect to tcp:127.0.0.1:9 via socks5h://127.0.0.1:$PXPORT: proxy requires authentication"
}

@test "the proxy cannot reach the target: exit 4 with the proxy's reason" {
	socks_bg
	local port
	port=$(free_port)
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect -x "127.0.0.1:$PXPORT" 127.0.0.1 "$port" </dev/null
	assert_equal "$stderr" "sockit: connect: connect to tcp:127.0.0.1:$port via socks5h://127.0.0.1:$PXPORT: proxy says connection refused"
}

@test "dante: SOCKS4 (-X 4) to an address, and socks5:// with the name resolved here" {
	dante_bg
	upload_via -X 4 -x "127.0.0.1:$PXPORT"
	listen_bg --name echo -k --exec cat 127.0.0.1 0
	got=$( (echo "resolved here"; sleep 0.3) | timeout 10 "$SOCKIT" connect --proxy "socks5://127.0.0.1:$PXPORT" localhost "$LPORT")
	assert_equal "$got" "resolved here"
}

@test "dante refuses a SOCKS4a name: exit 4 naming the SOCKS4 code" {
	dante_bg
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect -X 4 -x "127.0.0.1:$PXPORT" localhost 9 </dev/null
	assert_equal "$stderr" "sockit: connect: connect to tcp:localhost:9 via socks4a://127.0.0.1:$PXPORT: proxy rejected the request (SOCKS4 code 91)"
}

@test "HTTP CONNECT through ncat (-X connect): 1 MiB intact; a refused target is exit 4" {
	http_proxy_bg
	upload_via -X connect -x "127.0.0.1:$PXPORT"
	local port
	port=$(free_port)
	run -4 --separate-stderr timeout 20 "$SOCKIT" connect --proxy "http://127.0.0.1:$PXPORT" 127.0.0.1 "$port" </dev/null
	assert_regex "$stderr" "^sockit: connect: connect to tcp:127\.0\.0\.1:$port via http://127\.0\.0\.1:$PXPORT: proxy answered 'HTTP/1\.[01] [45][0-9][0-9] .*'$"
}

@test "HTTP CONNECT with Basic authentication: 407 without credentials, through with them" {
	http_proxy_bg --proxy-auth bob:pw
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect --proxy "http://127.0.0.1:$PXPORT" 127.0.0.1 9 </dev/null
	assert_regex "$stderr" "proxy answered 'HTTP/1\.[01] 407 "
	upload_via --proxy "http://bob:pw@127.0.0.1:$PXPORT"
}

@test "relay --proxy: every relayed connection goes through the proxy" {
	socks_bg
	listen_bg -k --exec cat 127.0.0.1 0
	bg_run relay -- "$SOCKIT" relay -v --proxy "socks5h://127.0.0.1:$PXPORT" tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$LPORT"
	wait_line "$T/relay.err" '^listening on ' 5 "$BG_PID"
	local rport i got
	rport=$(sed -n 's/^listening on .*://p' "$T/relay.err")
	for i in 1 2 3; do
		got=$( (echo "relayed $i"; sleep 0.2) | timeout 10 "$SOCKIT" connect 127.0.0.1 "$rport")
		assert_equal "$got" "relayed $i"
	done
	wait_accepts 3
}

@test "a proxy that is down, and one that never answers (-w): exit 4" {
	local port start
	port=$(free_port)
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect -x "127.0.0.1:$port" 127.0.0.1 9 </dev/null
	assert_equal "$stderr" "sockit: connect: connect to tcp:127.0.0.1:9 via socks5h://127.0.0.1:$port: Connection refused"
	peer_bg silent silent
	start=$(now_ms)
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect -w 1 -x "127.0.0.1:$PPORT" 127.0.0.1 9 </dev/null
	assert_equal "$stderr" "sockit: connect: connect to tcp:127.0.0.1:9 via socks5h://127.0.0.1:$PPORT: Connection timed out"
	(($(now_ms) - start < 5000))
}

@test "proxy bad input: exit 2 naming it, nothing sent" {
	run -2 --separate-stderr timeout 5 "$SOCKIT" connect -X 6 -x 127.0.0.1:1080 127.0.0.1 9
	assert_equal "$stderr" "sockit: connect: invalid -X '6': expected 4, 5 or connect"
	run -2 --separate-stderr timeout 5 "$SOCKIT" connect -X 5 127.0.0.1 9
	assert_equal "$stderr" "sockit: connect: -X 5 needs the proxy's address: -x HOST[:PORT]"
	run -2 --separate-stderr timeout 5 "$SOCKIT" connect --proxy socks5://a:1 -x b:2 127.0.0.1 9
	assert_equal "$stderr" "sockit: connect: --proxy and -x exclude each other"
	run -2 --separate-stderr timeout 5 "$SOCKIT" connect --proxy ftp://127.0.0.1:21 127.0.0.1 9
	assert_regex "$stderr" "^sockit: connect: endpoint 'tcp:127\.0\.0\.1:9,proxy=ftp://127\.0\.0\.1:21': unsupported proxy scheme 'ftp' \(socks5, socks5h, socks4a, http\) \(column [0-9]+\)$"
	run -2 --separate-stderr timeout 5 "$SOCKIT" connect -u --proxy socks5://127.0.0.1:1080 127.0.0.1 9
	assert_regex "$stderr" "^sockit: connect: endpoint 'udp:.*proxy"
}

# ---- the PROXY protocol: proxy-protocol= sends the header, accept-proxy reads it ----------

@test "connect proxy-protocol=v1: the server reads the exact text line, then the data" {
	listen_bg 127.0.0.1 0
	printf 'payload' | timeout 10 "$SOCKIT" connect -v "tcp:127.0.0.1:$LPORT,proxy-protocol=v1" 2>"$T/c.err"
	wait_exit "$LPID" 5
	local cport
	cport=$(sed -n 's/^connection from 127\.0\.0\.1://p' "$T/listen.err")
	run -0 cat "$T/listen.out"
	assert_output "$(printf 'PROXY TCP4 127.0.0.1 127.0.0.1 %s %s\r\npayload' "$cport" "$LPORT")"
}

@test "connect proxy-protocol=v2 over IPv6: the binary header decodes to our two ends" {
	listen_bg ::1 0
	printf 'after' | timeout 10 "$SOCKIT" connect "tcp:[::1]:$LPORT,proxy-protocol=v2"
	wait_exit "$LPID" 5
	local cport
	cport=$(sed -n 's/^connection from \[::1\]://p' "$T/listen.err")
	run -0 "$PY" -c '
import socket, struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:12] == b"\r\n\r\n\x00\r\nQUIT\n", b[:12]
ver, fam, n = b[12], b[13], struct.unpack(">H", b[14:16])[0]
src, dst = socket.inet_ntop(socket.AF_INET6, b[16:32]), socket.inet_ntop(socket.AF_INET6, b[32:48])
sp, dp = struct.unpack(">HH", b[48:52])
print(hex(ver), hex(fam), n, src, dst, sp, dp, b[16 + n:].decode())' "$T/listen.out"
	assert_output "0x21 0x21 36 ::1 ::1 $cport $LPORT after"
}

@test "relay chain: proxy-protocol=v2 out, accept-proxy in: the far relay sees the real client" {
	listen_bg --name server -k --exec cat 127.0.0.1 0
	local sport=$LPORT
	bg_run far -- "$SOCKIT" relay -vv --stats "tcp-listen:127.0.0.1:0,accept-proxy=127.0.0.0/8" "tcp:127.0.0.1:$sport"
	wait_line "$T/far.err" '^listening on ' 5 "$BG_PID"
	local far
	far=$(sed -n 's/^listening on .*://p' "$T/far.err")
	bg_run near -- "$SOCKIT" relay -v tcp-listen:127.0.0.1:0 "tcp:127.0.0.1:$far,proxy-protocol=v2"
	wait_line "$T/near.err" '^listening on ' 5 "$BG_PID"
	local near got cport
	near=$(sed -n 's/^listening on .*://p' "$T/near.err")
	cport=$(free_port)
	got=$( (printf 'through both'; sleep 0.3) | timeout 10 "$SOCKIT" connect -p "$cport" 127.0.0.1 "$near")
	assert_equal "$got" "through both"
	# The far relay's peer is the near relay, but it reports the client's own port.
	wait_line "$T/far.err" "^PROXY header: client 127\.0\.0\.1:$cport\$" 5
	wait_line "$T/far.err" "^closed 127\.0\.0\.1:$cport -> " 5
}

@test "accept-proxy: a sender outside the CIDR is refused; a missing header is refused" {
	listen_bg --name server -k --exec cat 127.0.0.1 0
	bg_run far -- "$SOCKIT" relay -v -w 1 "tcp-listen:127.0.0.1:0,accept-proxy=10.0.0.0/8" "tcp:127.0.0.1:$LPORT"
	wait_line "$T/far.err" '^listening on ' 5 "$BG_PID"
	local far
	far=$(sed -n 's/^listening on .*://p' "$T/far.err")
	# Reset at once: while our header goes out (exit 4) or just after (exit 1).
	run --separate-stderr timeout 10 "$SOCKIT" connect "tcp:127.0.0.1:$far,proxy-protocol=v1" </dev/null
	((status == 1 || status == 4))
	wait_line "$T/far.err" "refused: not a PROXY header sender accept-proxy allows" 5
	bg_run any -- "$SOCKIT" relay -v "tcp-listen:127.0.0.1:0,accept-proxy" "tcp:127.0.0.1:$LPORT"
	wait_line "$T/any.err" '^listening on ' 5 "$BG_PID"
	local any
	any=$(sed -n 's/^listening on .*://p' "$T/any.err")
	run -1 --separate-stderr timeout 10 "$SOCKIT" connect 127.0.0.1 "$any" <<<"GET / HTTP/1.0"
	wait_line "$T/any.err" 'not a PROXY protocol header' 5
	# The server never saw a connection from either.
	run grep -c '^connection from ' "$T/server.err"
	assert_output 0
}

@test "haproxy between: it reads our v1 header and sends v2 that accept-proxy reads" {
	need haproxy haproxy
	listen_bg --name server -k --exec cat 127.0.0.1 0
	bg_run relay -- "$SOCKIT" relay -v "tcp-listen:127.0.0.1:0,accept-proxy" "tcp:127.0.0.1:$LPORT"
	wait_line "$T/relay.err" '^listening on ' 5 "$BG_PID"
	local rport hport got cport
	rport=$(sed -n 's/^listening on .*://p' "$T/relay.err")
	hport=$(free_port)
	cat >"$T/haproxy.cfg" <<-EOF
		defaults
		    mode tcp
		    timeout connect 5s
		    timeout client 10s
		    timeout server 10s
		frontend in
		    bind 127.0.0.1:$hport accept-proxy
		    default_backend out
		backend out
		    server s1 127.0.0.1:$rport send-proxy-v2
	EOF
	bg_run haproxy -- haproxy -db -f "$T/haproxy.cfg"
	wait_port "$hport"
	cport=$(free_port)
	got=$( (printf 'via haproxy'; sleep 0.3) | timeout 10 "$SOCKIT" connect -p "$cport" "tcp:127.0.0.1:$hport,proxy-protocol=v1")
	assert_equal "$got" "via haproxy"
	wait_line "$T/relay.err" "^PROXY header: client 127\.0\.0\.1:$cport\$" 5
}

# ---- listen --proxy-server: sockit as the proxy, curl and sockit as its clients ----------

# proxy_server_bg KIND [OPTIONS]: `sockit listen -v --proxy-server KIND` on loopback. Sets PXPORT.
proxy_server_bg() {
	local kind=$1
	shift
	bg_run pxs -- "$SOCKIT" listen -v --proxy-server "$kind" "$@" 127.0.0.1 0
	wait_line "$T/pxs.err" '^listening on ' 5 "$BG_PID"
	PXPORT=$(sed -n 's/^listening on .*://p' "$T/pxs.err")
}

# web_bg: python's http.server on loopback serving $T/www/file (256 KiB). Sets WEBPORT.
web_bg() {
	mkdir -p "$T/www"
	random_file "$T/www/file" 256K
	WEBPORT=$(free_port)
	bg_run web -- "$PY" -m http.server --bind 127.0.0.1 --directory "$T/www" "$WEBPORT"
	wait_port "$WEBPORT"
}

@test "--proxy-server socks5: curl fetches a file through it (name resolved by the proxy)" {
	need curl curl
	web_bg
	proxy_server_bg socks5
	timeout 20 curl -sS --socks5-hostname "127.0.0.1:$PXPORT" "http://localhost:$WEBPORT/file" -o "$T/got"
	assert_same_data "$T/www/file" "$T/got"
	wait_line "$T/pxs.err" "^127\.0\.0\.1:[0-9]+ -> localhost:$WEBPORT$" 5
}

@test "--proxy-server http: curl tunnels through CONNECT; sockit -X connect too" {
	need curl curl
	web_bg
	proxy_server_bg http
	timeout 20 curl -sS -p -x "http://127.0.0.1:$PXPORT" "http://127.0.0.1:$WEBPORT/file" -o "$T/got"
	assert_same_data "$T/www/file" "$T/got"
	# sockit as the client: the reply is the headers, then the file
	printf 'GET /file HTTP/1.0\r\n\r\n' | timeout 10 "$SOCKIT" connect -X connect -x "127.0.0.1:$PXPORT" 127.0.0.1 "$WEBPORT" >"$T/raw"
	tail -c 262144 "$T/raw" >"$T/body"
	assert_same_data "$T/www/file" "$T/body"
	grep -q '^HTTP/1.0 200 ' "$T/raw"
}

@test "--proxy-auth: the right password goes through, a wrong one is refused (exit 4)" {
	printf '# users\nalice:s3cret\n\nbob:pw\n' >"$T/users"
	listen_bg --name server -k --exec cat 127.0.0.1 0
	proxy_server_bg socks5 --proxy-auth "$T/users"
	got=$( (echo "logged in"; sleep 0.3) | timeout 10 "$SOCKIT" connect --proxy "socks5h://bob:pw@127.0.0.1:$PXPORT" 127.0.0.1 "$LPORT")
	assert_equal "$got" "logged in"
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect --proxy "socks5h://bob:nope@127.0.0.1:$PXPORT" 127.0.0.1 "$LPORT" </dev/null
	assert_equal "$stderr" "sockit: connect: connect to tcp:127.0.0.1:$LPORT via socks5h://127.0.0.1:$PXPORT: proxy authentication failed"
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect --proxy "socks5h://127.0.0.1:$PXPORT" 127.0.0.1 "$LPORT" </dev/null
	assert_equal "$stderr" "sockit: connect: connect to tcp:127.0.0.1:$LPORT via socks5h://127.0.0.1:$PXPORT: proxy requires authentication"
	# HTTP Basic against the same file
	bg_run pxh -- "$SOCKIT" listen -v --proxy-server http --proxy-auth "$T/users" 127.0.0.1 0
	wait_line "$T/pxh.err" '^listening on ' 5 "$BG_PID"
	local hport
	hport=$(sed -n 's/^listening on .*://p' "$T/pxh.err")
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect --proxy "http://alice:bad@127.0.0.1:$hport" 127.0.0.1 "$LPORT" </dev/null
	assert_regex "$stderr" "proxy answered 'HTTP/1\.1 407 Proxy Authentication Required'$"
	got=$( (echo "basic ok"; sleep 0.3) | timeout 10 "$SOCKIT" connect --proxy "http://alice:s3cret@127.0.0.1:$hport" 127.0.0.1 "$LPORT")
	assert_equal "$got" "basic ok"
}

@test "--proxy-server with --deny: a denied target is never connected to; others are" {
	listen_bg --name server -k --exec cat 127.0.0.1 0
	proxy_server_bg socks5 --deny 127.0.0.2/32
	run -4 --separate-stderr timeout 10 "$SOCKIT" connect -x "127.0.0.1:$PXPORT" 127.0.0.2 "$LPORT" </dev/null
	assert_equal "$stderr" "sockit: connect: connect to tcp:127.0.0.2:$LPORT via socks5h://127.0.0.1:$PXPORT: proxy says connection not allowed by ruleset"
	got=$( (echo "allowed"; sleep 0.3) | timeout 10 "$SOCKIT" connect -x "127.0.0.1:$PXPORT" 127.0.0.1 "$LPORT")
	assert_equal "$got" "allowed"
	# the server saw only the allowed one
	run grep -c '^connection from ' "$T/server.err"
	assert_output 1
}

@test "--proxy-server bad input: exit 2 before anything listens" {
	local port
	port=$(free_port)
	run -2 --separate-stderr timeout 5 "$SOCKIT" listen --proxy-server ftp 127.0.0.1 "$port"
	assert_equal "$stderr" "sockit: listen: invalid --proxy-server 'ftp': expected socks5 or http"
	run -2 --separate-stderr timeout 5 "$SOCKIT" listen --proxy-auth "$T/none" 127.0.0.1 "$port"
	assert_equal "$stderr" "sockit: listen: --proxy-auth needs --proxy-server"
	run -2 --separate-stderr timeout 5 "$SOCKIT" listen --proxy-server socks5 --proxy-auth "$T/none" 127.0.0.1 "$port"
	assert_equal "$stderr" "sockit: listen: --proxy-auth '$T/none': No such file or directory"
	printf 'nocolon\n' >"$T/bad"
	run -2 --separate-stderr timeout 5 "$SOCKIT" listen --proxy-server http --proxy-auth "$T/bad" 127.0.0.1 "$port"
	assert_equal "$stderr" "sockit: listen: --proxy-auth '$T/bad' line 1: expected USER:PASSWORD"
	run -2 --separate-stderr timeout 5 "$SOCKIT" listen --proxy-server socks5 --exec cat 127.0.0.1 "$port"
	assert_equal "$stderr" "sockit: listen: --proxy-server excludes -e/--exec, --sh, --broker and --chat"
	run -2 --separate-stderr timeout 5 "$SOCKIT" listen --proxy-server socks5 -u 127.0.0.1 "$port"
	assert_equal "$stderr" "sockit: listen: --proxy-server needs a stream listener, not udp-listen"
	[[ -z $(ss -Hltn "( sport = :$port )") ]]
}

@test "probe --proxy: the proxy's answer is the state (open, closed); a dead proxy is an error" {
	socks_bg
	listen_bg --name server -k --exec cat 127.0.0.1 0
	local closed
	closed=$(free_port)
	run -1 --separate-stderr timeout 20 "$SOCKIT" probe --proxy "socks5h://127.0.0.1:$PXPORT" localhost "$LPORT,$closed"
	assert_line --index 0 --regexp "^localhost $LPORT/tcp open [0-9.]+ms$"
	assert_line --index 1 "localhost $closed/tcp closed - proxy says connection refused"
	run -0 --separate-stderr timeout 20 "$SOCKIT" probe --json --proxy "socks5h://127.0.0.1:$PXPORT" 127.0.0.1 "$LPORT"
	assert_output --partial '"state":"open"'
	local dead
	dead=$(free_port)
	run -1 --separate-stderr timeout 20 "$SOCKIT" probe --proxy "socks5h://127.0.0.1:$dead" 127.0.0.1 "$LPORT"
	assert_output "127.0.0.1 $LPORT/tcp error - Connection refused"
	run -2 --separate-stderr timeout 5 "$SOCKIT" probe --proxy "socks5h://127.0.0.1:$PXPORT" -u 127.0.0.1 53
	assert_equal "$stderr" "sockit: probe: --proxy excludes -u, --banner, --http, --tls, --count and --wait"
}

@test "listen accept-proxy: the header names the peer; the data after it is all stdout gets" {
	listen_bg "tcp-listen:127.0.0.1:0,accept-proxy=127.0.0.0/8"
	local cport
	cport=$(free_port)
	printf 'after the header' | timeout 10 "$SOCKIT" connect -p "$cport" "tcp:127.0.0.1:$LPORT,proxy-protocol=v1"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	run cat "$T/listen.out"
	assert_output "after the header"
	grep -q "^PROXY header: client 127\.0\.0\.1:$cport$" "$T/listen.err"
}

@test "listen -k --sh accept-proxy: the program's SOCKIT_PEER_* are the header's client" {
	listen_bg -k --sh 'echo "$SOCKIT_PEER_ADDR $SOCKIT_PEER_PORT $SOCKIT_LOCAL_PORT"' "tcp-listen:127.0.0.1:0,accept-proxy"
	run -0 timeout 10 "$PY" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"PROXY TCP4 192.0.2.7 198.51.100.9 4444 8443\r\n")
s.shutdown(socket.SHUT_WR)
print(s.recv(100).decode().strip())' "$LPORT"
	assert_output "192.0.2.7 4444 8443"
	# no header at all: refused, the program never runs
	run timeout 10 "$PY" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
print(repr(s.recv(100)))' "$LPORT"
	refute_output --partial "192.0.2"
	wait_line "$T/listen.err" 'not a PROXY protocol header' 5
}
