#!/usr/bin/env bats
# tls.bats - TLS (SPEC §6) against real peers: openssl s_server / s_client and socat OPENSSL.
# Certificates are made at test time (no key is committed): a CA, a server certificate for
# localhost/127.0.0.1/::1, one for another name, an expired one, and a client certificate.

load lib/common

PAYLOAD=SECRET-PAYLOAD-1234

# A leaf signed by the test CA: leaf NAME SAN.
leaf() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$1.key" -out "$1.csr"
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$2" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile "$1.ext" -out "$1.pem"
}

# OpenSSL 3.0's x509 cannot backdate: `openssl ca` signs the expired one.
expired_leaf() {
	cat >ca.cnf <<-'EOF'
		[ca]
		default_ca = test
		[test]
		database = index.txt
		new_certs_dir = .
		serial = serial
		default_md = sha256
		policy = any
		x509_extensions = ext
		unique_subject = no
		[any]
		commonName = supplied
		[ext]
		subjectAltName = DNS:localhost,IP:127.0.0.1
	EOF
	: >index.txt
	echo 01 >serial
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=expired \
		-keyout expired.key -out expired.csr
	openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr \
		-out expired.pem -startdate 20200101000000Z -enddate 20200102000000Z -notext
}

setup_file() {
	export PKI=$BATS_FILE_TMPDIR/pki
	mkdir -p "$PKI"
	(
		cd "$PKI" || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj '/CN=sockit test CA' -keyout ca.key -out ca.pem \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign
		leaf localhost 'DNS:localhost,IP:127.0.0.1,IP:::1'
		leaf other 'DNS:other.example'
		leaf client 'DNS:client'
		expired_leaf
		openssl ec -in client.key -aes256 -passout pass:s3cret -out client-enc.key
		# A client certificate from a CA nobody here trusts.
		mkdir other-ca
		cd other-ca || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj '/CN=another CA' -keyout ca.key -out ca.pem \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign
		leaf client 'DNS:client'
		cp client.pem ../stranger.pem
		cp client.key ../stranger.key
	) >"$BATS_FILE_TMPDIR/pki.log" 2>&1
}

# s_server_bg [-6] ARGS...: openssl s_server on a loopback port with stdin held open; waits
# for its ACCEPT line. Sets SPORT, SPID. Its output (with what it received) is $T/s_server.out.
s_server_bg() {
	local host=127.0.0.1 fam=
	if [[ $1 == -6 ]]; then
		host='[::1]' fam=-6
		shift
	fi
	SPORT=$(free_port $fam)
	# A fresh FIFO each time: s_server ends at EOF on its stdin.
	SN=$((${SN:-0} + 1))
	mkfifo "$T/s_server.$SN.in"
	exec {sfd}<>"$T/s_server.$SN.in"
	HELD_FDS+=("$sfd")
	bg_run s_server --in "$T/s_server.$SN.in" -- timeout -k 1 20 openssl s_server \
		-accept "$host:$SPORT" -naccept 1 "$@"
	SPID=$BG_PID
	wait_line "$T/s_server.out" '^ACCEPT' 5 "$SPID"
}

# connect_payload ARGS...: send the payload with `sockit connect ARGS`; sets status/output.
connect_payload() {
	run --separate-stderr timeout 10 "$SOCKIT" connect "$@" <<<"$PAYLOAD"
}

# tls_listen_bg ARGS...: `sockit listen --tls ARGS`; sets LPORT and PIN (ephemeral only).
tls_listen_bg() {
	listen_bg "$@" --tls
	PIN=$(grep -o 'sha256:[0-9A-F:]*' "$T/$LNAME.err" | head -n1)
}

# ---- verification ---------------------------------------------------------------------------

@test "verified connect with --ca: 16 MiB each way intact (socat OPENSSL peer)" {
	random_file "$T/up" 16M
	random_file "$T/down" 16M
	SPORT=$(free_port)
	bg_run socat_up -- timeout -k 1 30 socat -d -d -u \
		"OPENSSL-LISTEN:$SPORT,bind=127.0.0.1,reuseaddr,cert=$PKI/localhost.pem,key=$PKI/localhost.key,verify=0" \
		"CREATE:$T/up.got"
	wait_line "$T/socat_up.err" 'listening on' 5
	run timeout 20 "$SOCKIT" connect --ca "$PKI/ca.pem" --tls localhost "$SPORT" <"$T/up"
	assert_success
	wait_exit "$BG_PID" 10
	assert_same_data "$T/up" "$T/up.got"

	bg_run socat_down -- timeout -k 1 30 socat -d -d -u "OPEN:$T/down" \
		"OPENSSL-LISTEN:$SPORT,bind=127.0.0.1,reuseaddr,cert=$PKI/localhost.pem,key=$PKI/localhost.key,verify=0"
	wait_line "$T/socat_down.err" 'listening on' 5
	timeout 20 "$SOCKIT" connect --ca "$PKI/ca.pem" --tls localhost "$SPORT" </dev/null \
		>"$T/down.got"
	assert_same_data "$T/down" "$T/down.got"
}

@test "the system store does not trust the test CA: exit 5, reason named, no byte sent" {
	s_server_bg -cert "$PKI/localhost.pem" -key "$PKI/localhost.key"
	connect_payload --tls localhost "$SPORT"
	assert_equal "$status" 5
	assert_equal "$stderr" "sockit: connect: TLS handshake with localhost:$SPORT: certificate verify failed: unable to get local issuer certificate"
	wait_exit "$SPID" 5 || true
	run ! grep -q "$PAYLOAD" "$T/s_server.out"
}

@test "a certificate for another name: exit 5, hostname mismatch" {
	s_server_bg -cert "$PKI/other.pem" -key "$PKI/other.key"
	connect_payload --ca "$PKI/ca.pem" --tls localhost "$SPORT"
	assert_equal "$status" 5
	assert_equal "$stderr" "sockit: connect: TLS handshake with localhost:$SPORT: certificate verify failed: hostname mismatch"
	wait_exit "$SPID" 5 || true
	run ! grep -q "$PAYLOAD" "$T/s_server.out"
}

@test "IP-address SANs: 127.0.0.1 and ::1 are accepted" {
	s_server_bg -cert "$PKI/localhost.pem" -key "$PKI/localhost.key"
	connect_payload --ca "$PKI/ca.pem" --tls 127.0.0.1 "$SPORT"
	assert_success
	wait_line "$T/s_server.out" "$PAYLOAD" 5
	s_server_bg -6 -cert "$PKI/localhost.pem" -key "$PKI/localhost.key"
	connect_payload --ca "$PKI/ca.pem" "tls:[::1]:$SPORT"
	assert_success
	wait_line "$T/s_server.out" "$PAYLOAD" 5
}

@test "an expired certificate: exit 5, certificate has expired" {
	s_server_bg -cert "$PKI/expired.pem" -key "$PKI/expired.key"
	connect_payload --ca "$PKI/ca.pem" --tls localhost "$SPORT"
	assert_equal "$status" 5
	assert_equal "$stderr" "sockit: connect: TLS handshake with localhost:$SPORT: certificate verify failed: certificate has expired"
}

@test "--insecure connects to an untrusted server and warns" {
	s_server_bg -cert "$PKI/other.pem" -key "$PKI/other.key"
	connect_payload --insecure --tls localhost "$SPORT"
	assert_success
	assert_equal "$stderr" "sockit: connect: warning: insecure: the server's certificate is not verified"
	wait_line "$T/s_server.out" "$PAYLOAD" 5
}

@test "--pin the ephemeral fingerprint of sockit listen; a wrong pin is exit 5" {
	tls_listen_bg 0
	[[ $PIN =~ ^sha256:([0-9A-F]{2}:){31}[0-9A-F]{2}$ ]]
	connect_payload --pin "$PIN" --tls localhost "$LPORT"
	assert_success
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/listen.out")" "$PAYLOAD"

	tls_listen_bg 0
	connect_payload --pin "sha256:$(printf '%064d' 0)" --tls localhost "$LPORT"
	assert_equal "$status" 5
	assert_equal "$stderr" "sockit: connect: TLS handshake with localhost:$LPORT: certificate does not match the pin"
}

@test "the fingerprint printed is the one openssl computes (s_client sees the same certificate)" {
	tls_listen_bg 0
	fp=$(openssl s_client -connect "127.0.0.1:$LPORT" </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256)
	assert_equal "sha256:${fp#*=}" "$PIN"
}

# ---- server side: client certificates ----------------------------------------------------------

@test "--verify-client: a client certificate from --ca is let in (s_client)" {
	# listen's stdin stays open: its close_notify would end s_client before it sends.
	hold_fifo "$T/lin" 8
	tls_listen_bg --in "$T/lin" --cert "$PKI/localhost.pem" --key "$PKI/localhost.key" \
		--ca "$PKI/ca.pem" --verify-client 0
	echo "$PAYLOAD" >"$T/payload"
	bg_run s_client --in "$T/payload" -- timeout -k 1 10 openssl s_client -quiet \
		-connect "127.0.0.1:$LPORT" -cert "$PKI/client.pem" -key "$PKI/client.key" \
		-CAfile "$PKI/ca.pem"
	wait_line "$T/listen.out" "^$PAYLOAD\$" 5
	grep -q 'peer certificate CN=client' "$T/listen.err"
}

@test "--verify-client: without a client certificate nothing gets through" {
	tls_listen_bg --cert "$PKI/localhost.pem" --key "$PKI/localhost.key" --ca "$PKI/ca.pem" \
		--verify-client 0
	connect_payload --ca "$PKI/ca.pem" --tls localhost "$LPORT"
	assert_equal "$status" 5
	assert_output ''
	[[ $stderr == *"certificate required"* ]]
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 5
	run grep -c 'peer did not return a certificate' "$T/listen.err"
	assert_output 1
	[[ ! -s $T/listen.out ]]
}

@test "--verify-client: a client certificate from another CA is refused, both sides say why" {
	tls_listen_bg --cert "$PKI/localhost.pem" --key "$PKI/localhost.key" --ca "$PKI/ca.pem" \
		--verify-client 0
	connect_payload --ca "$PKI/ca.pem" --cert "$PKI/stranger.pem" --key "$PKI/stranger.key" \
		--tls localhost "$LPORT"
	assert_equal "$status" 5
	[[ $stderr == "sockit: connect: TLS connection with localhost:$LPORT: tlsv1 alert unknown ca" ]]
	wait_line "$T/listen.err" 'certificate verify failed: unable to get local issuer certificate' 5
	[[ ! -s $T/listen.out ]]
}

@test "an encrypted key without --key-pass and no terminal: exit 2, says so" {
	run --separate-stderr setsid "$SOCKIT" connect --cert "$PKI/client.pem" \
		--key "$PKI/client-enc.key" --tls localhost 1 </dev/null
	assert_equal "$status" 2
	assert_equal "$stderr" "sockit: connect: key '$PKI/client-enc.key': encrypted, and no pass phrase (key-pass=env:VAR or file:PATH)"
}

@test "--cert/--key on connect: a client certificate with an encrypted key and --key-pass" {
	tls_listen_bg --cert "$PKI/localhost.pem" --key "$PKI/localhost.key" --ca "$PKI/ca.pem" \
		--verify-client 0
	export KEYPASS=s3cret
	connect_payload --ca "$PKI/ca.pem" --cert "$PKI/client.pem" --key "$PKI/client-enc.key" \
		--key-pass env:KEYPASS --tls localhost "$LPORT"
	assert_success
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/listen.out")" "$PAYLOAD"
}

# ---- negotiation -----------------------------------------------------------------------------

@test "-v: ALPN negotiated with s_server -alpn, protocol, cipher and peer subject" {
	s_server_bg -cert "$PKI/localhost.pem" -key "$PKI/localhost.key" -alpn h2,http/1.1
	connect_payload -v --ca "$PKI/ca.pem" --alpn foo,h2 --tls 127.0.0.1 "$SPORT"
	assert_success
	[[ $stderr == *"TLS with 127.0.0.1:$SPORT: TLSv1.3 TLS_"*", ALPN h2, peer certificate CN=localhost"* ]]
	wait_line "$T/s_server.out" 'ALPN protocols advertised by the client: foo, h2' 5
}

@test "--sni picks s_server's second certificate and is the name verified" {
	s_server_bg -cert "$PKI/localhost.pem" -key "$PKI/localhost.key" \
		-servername other.example -cert2 "$PKI/other.pem" -key2 "$PKI/other.key"
	connect_payload -v --ca "$PKI/ca.pem" --sni other.example --tls 127.0.0.1 "$SPORT"
	assert_success
	[[ $stderr == *"peer certificate CN=other"* ]]
	wait_line "$T/s_server.out" 'Switching server context' 5
}

@test "--tls-min 1.3 against a TLS 1.2-only server: exit 5, protocol version" {
	s_server_bg -cert "$PKI/localhost.pem" -key "$PKI/localhost.key" -tls1_2
	connect_payload --ca "$PKI/ca.pem" --tls-min 1.3 --tls localhost "$SPORT"
	assert_equal "$status" 5
	assert_equal "$stderr" "sockit: connect: TLS handshake with localhost:$SPORT: tlsv1 alert protocol version"
}

@test "a TLS 1.1-only server (proved with s_client -tls1_1) is refused: exit 5" {
	s_server_bg -cert "$PKI/localhost.pem" -key "$PKI/localhost.key" -tls1_1 \
		-cipher DEFAULT@SECLEVEL=0
	run timeout -k 1 10 openssl s_client -connect "127.0.0.1:$SPORT" -tls1_1 \
		-cipher DEFAULT@SECLEVEL=0 </dev/null
	assert_output --partial 'Protocol  : TLSv1.1'
	wait_exit "$SPID" 5 || true
	s_server_bg -cert "$PKI/localhost.pem" -key "$PKI/localhost.key" -tls1_1 \
		-cipher DEFAULT@SECLEVEL=0
	connect_payload --insecure --tls 127.0.0.1 "$SPORT"
	assert_equal "$status" 5
	[[ $stderr == *"TLS handshake with 127.0.0.1:$SPORT: tlsv1 alert protocol version" ]]
}

@test "-w bounds the handshake: a server that never answers is exit 5" {
	hold_fifo "$T/lin" 8
	listen_bg --in "$T/lin" 0 # plain TCP: takes the ClientHello and says nothing
	run --separate-stderr timeout 10 "$SOCKIT" connect -w 0.5 --insecure --tls 127.0.0.1 \
		"$LPORT" </dev/null
	assert_equal "$status" 5
	assert_equal "${stderr##*$'\n'}" "sockit: connect: TLS handshake with 127.0.0.1:$LPORT: handshake timed out"
}

@test "a plain TCP server that closes: exit 5, the peer closed during the handshake" {
	listen_bg 0
	run --separate-stderr timeout 10 "$SOCKIT" connect --insecure --tls 127.0.0.1 "$LPORT" \
		</dev/null
	assert_equal "$status" 5
	assert_equal "${stderr##*$'\n'}" "sockit: connect: TLS handshake with 127.0.0.1:$LPORT: the peer closed the connection during the handshake"
}

# ---- stream ends ------------------------------------------------------------------------------

@test "half-close: the client's EOF still lets the server answer (close_notify, not close)" {
	hold_fifo "$T/lin" 8
	tls_listen_bg --in "$T/lin" 0
	echo question >"$T/q"
	bg_run client --in "$T/q" -- timeout 10 "$SOCKIT" connect --pin "$PIN" --tls localhost \
		"$LPORT"
	CPID=$BG_PID
	wait_line "$T/listen.out" '^question$' 5
	echo answer >&8
	release_fifo 8
	wait_exit "$CPID" 5
	assert_equal "$WSTATUS" 0
	assert_equal "$(cat "$T/client.out")" answer
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
}

@test "half-close: the server's EOF still lets the client send" {
	tls_listen_bg 0 </dev/null
	hold_fifo "$T/cin" 8
	bg_run client --in "$T/cin" -- timeout 10 "$SOCKIT" connect -v --pin "$PIN" --tls \
		localhost "$LPORT"
	CPID=$BG_PID
	wait_line "$T/client.err" '^TLS with' 5
	echo late >&8
	release_fifo 8
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_equal "$(cat "$T/listen.out")" late
	wait_exit "$CPID" 5
	assert_equal "$WSTATUS" 0
}

@test "TCP close without close_notify: exit 1, TLS stream truncated" {
	cat >"$T/trunc.py" <<-'EOF'
		import socket, ssl, sys
		ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
		ctx.load_cert_chain(sys.argv[1], sys.argv[2])
		srv = socket.socket()
		srv.bind(("127.0.0.1", 0))
		srv.listen(1)
		print("port", srv.getsockname()[1], flush=True)
		conn, _ = srv.accept()
		tls = ctx.wrap_socket(conn, server_side=True)
		tls.sendall(b"partial\n")
		tls.shutdown(socket.SHUT_RDWR)  # TCP only: no close_notify
	EOF
	bg_run trunc -- timeout 10 "$PY" "$T/trunc.py" "$PKI/localhost.pem" "$PKI/localhost.key"
	wait_line "$T/trunc.out" '^port ' 5
	port=$(awk '{print $2; exit}' "$T/trunc.out")
	run --separate-stderr timeout 10 "$SOCKIT" connect --ca "$PKI/ca.pem" --tls 127.0.0.1 \
		"$port" </dev/null
	assert_equal "$status" 1
	assert_output partial
	assert_equal "$stderr" "sockit: connect: TLS connection with 127.0.0.1:$port: TLS stream truncated (no close_notify)"
}

@test "SSLKEYLOGFILE: created 0600 with NSS key log lines, and a warning" {
	s_server_bg -cert "$PKI/localhost.pem" -key "$PKI/localhost.key"
	SSLKEYLOGFILE=$T/keys connect_payload --ca "$PKI/ca.pem" --tls localhost "$SPORT"
	assert_success
	assert_equal "$stderr" "sockit: connect: warning: SSLKEYLOGFILE is set: TLS secrets are written to $T/keys"
	assert_equal "$(stat -c %a "$T/keys")" 600
	grep -qE '^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]+$' "$T/keys"
	grep -qE '^(CLIENT|SERVER)_TRAFFIC_SECRET_0 ' "$T/keys"
}

# ---- listen: many peers, programs ------------------------------------------------------------

@test "listen -k --tls: 20 clients get through while one stalls mid-handshake" {
	tls_listen_bg -k 0
	exec 9<>/dev/tcp/127.0.0.1/"$LPORT" # connects, never says hello
	for i in $(seq 20); do
		printf 'client %s\n' "$i" | timeout 10 "$SOCKIT" connect --pin "$PIN" --tls \
			127.0.0.1 "$LPORT" &
	done
	wait_until 10 eval '(( $(wc -l <"$T/listen.out") >= 20 ))'
	exec 9>&-
	assert_equal "$(sort -V "$T/listen.out" | tr '\n' ' ')" "$(seq -f 'client %g' 20 | tr '\n' ' ')"
}

@test "a TLS session ends when both close_notify are through, not after a drain timeout" {
	tls_listen_bg 127.0.0.1 0
	local start
	start=$(now_ms)
	connect_payload --pin "$PIN" --tls 127.0.0.1 "$LPORT"
	assert_success
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	# both ends were done at once: no 2 s wait for a close_notify already exchanged
	(($(elapsed_ms "$start") < 1500))
	assert_equal "$(cat "$T/listen.out")" "$PAYLOAD"
}

@test "listen --tls without -k: the one peer's failed handshake ends it, exit 5 naming why" {
	tls_listen_bg -w 5 0
	connect_payload --pin "sha256:$(printf '%064d' 0)" --tls localhost "$LPORT"
	assert_equal "$status" 5
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 5
	run grep -c '^sockit: listen: TLS ' "$T/listen.err"
	assert_output 1
	# a plain TCP client is a protocol mismatch, said as such
	tls_listen_bg --name plain 0
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 "$SOCKIT" connect 127.0.0.1 "$LPORT" >/dev/null 2>&1 || true
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 5
	run grep '^sockit: listen: TLS ' "$T/plain.err"
	assert_output --regexp "^sockit: listen: TLS handshake with 127\.0\.0\.1:[0-9]+: .+"
}

@test "listen --tls --sh: the program gets the plaintext" {
	tls_listen_bg --sh 'tr a-z A-Z' 0
	run timeout 10 "$SOCKIT" connect --pin "$PIN" --tls localhost "$LPORT" <<<"hello"
	assert_success
	assert_output HELLO
}

@test "socat OPENSSL client to sockit listen --tls --cert: verified, 1 MiB intact" {
	random_file "$T/data" 1M
	# socat -u never reads its TLS side: nothing may wait there unread when it closes,
	# or its kernel resets the connection, dropping what it had not sent yet. So
	# listen's stdin stays open until the data is in, then its close_notify ends socat.
	hold_fifo "$T/lin" 8
	tls_listen_bg --in "$T/lin" --cert "$PKI/localhost.pem" --key "$PKI/localhost.key" 0
	bg_run socat -- timeout -k 1 10 socat -u "OPEN:$T/data" \
		"OPENSSL:localhost:$LPORT,cafile=$PKI/ca.pem,commonname=localhost"
	spid=$BG_PID
	wait_until 5 eval '[[ $(stat -c %s "$T/listen.out") == 1048576 ]]'
	release_fifo 8
	wait_exit "$spid" 5
	assert_equal "$WSTATUS" 0
	assert_same_data "$T/data" "$T/listen.out"
}

# ---- relay -------------------------------------------------------------------------------------

@test "relay tls-listen: -> tcp: terminates TLS, data intact" {
	random_file "$T/data" 1M
	listen_bg --name back --out "$T/back.out" 0
	bg_run relay -- "$SOCKIT" relay -v "tls-listen:0,cert=$PKI/localhost.pem,key=$PKI/localhost.key" \
		"tcp:127.0.0.1:$LPORT"
	wait_line "$T/relay.err" '^listening on ' 5
	rport=$(grep -m1 '^listening on ' "$T/relay.err" | sed 's/.*://')
	run timeout 10 "$SOCKIT" connect --ca "$PKI/ca.pem" --tls localhost "$rport" <"$T/data"
	assert_success
	wait_exit "$LPID" 5
	assert_same_data "$T/data" "$T/back.out"
}

@test "relay tcp-listen: -> tls: originates TLS, data intact both ways" {
	random_file "$T/data" 1M
	tls_listen_bg --name back --in "$T/data" --cert "$PKI/localhost.pem" \
		--key "$PKI/localhost.key" 0
	bg_run relay -- "$SOCKIT" relay -v tcp-listen:0 "tls:localhost:$LPORT,ca=$PKI/ca.pem"
	wait_line "$T/relay.err" '^listening on ' 5
	rport=$(grep -m1 '^listening on ' "$T/relay.err" | sed 's/.*://')
	timeout 10 "$SOCKIT" connect localhost "$rport" <"$T/data" >"$T/got"
	wait_exit "$LPID" 5
	assert_same_data "$T/data" "$T/back.out"
	assert_same_data "$T/data" "$T/got"
}

@test "relay takes the TLS flags for its one TLS side: --ca for a tls: TO, --cert/--key for a tls-listen: FROM" {
	tls_listen_bg --name back -k --exec cat --cert "$PKI/localhost.pem" --key "$PKI/localhost.key" 0
	bg_run relay -- "$SOCKIT" relay -v --ca "$PKI/ca.pem" tcp-listen:127.0.0.1:0 "tls:localhost:$LPORT"
	wait_line "$T/relay.err" '^listening on ' 5
	rport=$(grep -m1 '^listening on ' "$T/relay.err" | sed 's/.*://')
	run -0 timeout 10 "$SOCKIT" connect 127.0.0.1 "$rport" <<<"$PAYLOAD"
	assert_output "$PAYLOAD"
	listen_bg --name plain -k --exec cat 127.0.0.1 0
	bg_run front -- "$SOCKIT" relay -v --cert "$PKI/localhost.pem" --key "$PKI/localhost.key" \
		tls-listen:127.0.0.1:0 "tcp:127.0.0.1:$LPORT"
	wait_line "$T/front.err" '^listening on ' 5
	rport=$(grep -m1 '^listening on ' "$T/front.err" | sed 's/.*://')
	run -0 timeout 10 "$SOCKIT" connect --ca "$PKI/ca.pem" --tls localhost "$rport" <<<"$PAYLOAD"
	assert_output "$PAYLOAD"
	# no TLS side, or two: the flags would have nowhere, or two places, to go
	run -2 --separate-stderr "$SOCKIT" relay --insecure tcp-listen:0 tcp:127.0.0.1:1
	assert_equal "$stderr" "sockit: relay: --insecure needs a TLS endpoint (tls-listen:, tls:, wss-listen:, wss://)"
	run -2 --separate-stderr "$SOCKIT" relay --ca "$PKI/ca.pem" tls-listen:0 tls:localhost:1
	assert_equal "$stderr" "sockit: relay: --ca: FROM and TO are both TLS; give each its own endpoint options (tls:HOST:PORT,ca=FILE)"
}

@test "relay tcp-listen: -> tls: a TLS server that dies without close_notify reaches the client as a reset" {
	s_server_bg -cert "$PKI/localhost.pem" -key "$PKI/localhost.key"
	bg_run relay -- "$SOCKIT" relay -v tcp-listen:127.0.0.1:0 "tls:localhost:$SPORT,ca=$PKI/ca.pem"
	wait_line "$T/relay.err" '^listening on ' 5
	rport=$(grep -m1 '^listening on ' "$T/relay.err" | sed 's/.*://')
	hold_fifo "$T/cin" 7
	bg_run client --in "$T/cin" -- "$SOCKIT" connect 127.0.0.1 "$rport"
	local cpid=$BG_PID
	echo "through the relay" >&7
	wait_line "$T/s_server.out" '^through the relay$' 10
	# s_server runs under timeout(1): kill it, not timeout
	pkill -KILL -P "$SPID" openssl
	# stdin stays open: only the reset can end the client
	wait_exit "$cpid" 10
	assert_equal "$WSTATUS" 1
	run grep -c 'Connection reset by peer' "$T/client.err"
	assert_output 1
	wait_line "$T/relay.err" 'TLS stream truncated' 5
	release_fifo 7
}

# ---- start-up ---------------------------------------------------------------------------------

@test "neither sockit nor libsockit links OpenSSL: the TLS module is opened on first use" {
	run ldd "$SOCKIT"
	assert_success
	refute_output --partial libcrypto
	refute_output --partial libssl
}

@test "start-up maps no libm or readline either: sockit needs libsockit and libc only" {
	((SANITIZED == 0)) || skip "a sanitizer runtime brings libm of its own"
	run readelf -d "$SOCKIT"
	assert_success
	refute_output --partial libm.so
	# readline (and its libtinfo) is opened when a terminal session starts
	refute_output --partial libreadline
	refute_output --partial libtinfo
}

@test "relay stdio -> tls: with a certificate for another name: exit 5, nothing relayed" {
	s_server_bg -cert "$PKI/other.pem" -key "$PKI/other.key"
	run --separate-stderr timeout 10 "$SOCKIT" relay - "tls:localhost:$SPORT,ca=$PKI/ca.pem" \
		<<<"$PAYLOAD"
	assert_equal "$status" 5
	assert_equal "$stderr" "sockit: relay: TLS handshake with localhost:$SPORT: certificate verify failed: hostname mismatch"
	wait_exit "$SPID" 5 || true
	run ! grep -q "$PAYLOAD" "$T/s_server.out"
}

@test "--json: the tls event carries protocol, cipher, ALPN and subject" {
	tls_listen_bg --alpn h2 0
	connect_payload --json --pin "$PIN" --alpn h2 --tls localhost "$LPORT"
	assert_success
	[[ $stderr == *'"event":"tls","peer":"localhost:'"$LPORT"'","protocol":"TLSv1.3","cipher":"TLS_'*'","alpn":"h2","subject":"CN=sockit ephemeral"}'* ]]
}

# ---- bad input ----------------------------------------------------------------------------------

@test "a missing --ca file is exit 2 before connecting" {
	run --separate-stderr "$SOCKIT" connect --ca "$T/nope.pem" --tls localhost 1
	assert_equal "$status" 2
	assert_equal "$stderr" "sockit: connect: ca '$T/nope.pem': No such file or directory"
}

@test "an unreadable --key is exit 2 before listening" {
	run --separate-stderr "$SOCKIT" listen -v --cert "$PKI/localhost.pem" --key "$T/nope.key" --tls 0
	assert_equal "$status" 2
	assert_equal "$stderr" "sockit: listen: key '$T/nope.key': No such file or directory"
}

@test "a TLS flag without a TLS endpoint is a usage error naming it" {
	run --separate-stderr "$SOCKIT" connect --cert "$PKI/client.pem" localhost 1
	assert_equal "$status" 2
	assert_equal "$stderr" "sockit: connect: --cert needs a TLS endpoint (--tls, tls:, tls-listen:, wss:), not tcp"
	run --separate-stderr "$SOCKIT" listen --verify-client 0
	assert_equal "$status" 2
	assert_equal "$stderr" "sockit: listen: --verify-client needs a TLS endpoint (--tls, tls:, tls-listen:, wss:), not tcp-listen"
}

@test "a bad pin is exit 2 naming it" {
	run --separate-stderr "$SOCKIT" connect --pin sha256:xyz --tls localhost 1
	assert_equal "$status" 2
	[[ $stderr == "sockit: connect: endpoint 'tls:localhost:1,pin=sha256:xyz': invalid character 'x' in pin (column "* ]]
}

@test "--explain shows the TLS options with their effective values" {
	run "$SOCKIT" connect --explain --ca /etc/ssl/certs --alpn h2 --tls example.org 443
	assert_success
	assert_line '  ca=/etc/ssl/certs'
	assert_line '  alpn=h2'
	assert_line '  sni=example.org'
	assert_line '  tls-min=1.2'
}
