#!/usr/bin/env bats
# endpoint.bats - the endpoint grammar (SPEC §2) through the CLI: malformed
# endpoints are usage errors that name the token and its column and create
# nothing (SPEC §5); good ones print back canonically; --explain creates nothing.

load lib/common

# bad_endpoint CMD ENDPOINT TOKEN [COLUMN]: `sockit CMD ENDPOINT` exits 2 with an
# empty stdout and exactly one stderr line
#   sockit: CMD: endpoint 'ENDPOINT': WHY (column N)
# where WHY names TOKEN (when TOKEN is not empty) and N is COLUMN or, without
# COLUMN, the 1-based column at which TOKEN starts in ENDPOINT.
bad_endpoint() {
	local cmd=$1 ep=$2 token=$3 col=${4:-} st=0 line prefix why n
	timeout 10 "$SOCKIT" "$cmd" "$ep" </dev/null >"$T/bad.out" 2>"$T/bad.err" || st=$?
	line=$(cat "$T/bad.err")
	if ((st != 2)); then
		echo "$cmd '$ep': exit $st, want 2 (stderr: $line)"
		return 1
	fi
	if [[ -s $T/bad.out ]]; then
		echo "$cmd '$ep': stdout is not empty: $(cat "$T/bad.out")"
		return 1
	fi
	if (($(wc -l <"$T/bad.err") != 1)); then
		echo "$cmd '$ep': want one stderr line, got: $line"
		return 1
	fi
	prefix="sockit: $cmd: endpoint '$ep': "
	if [[ $line != "$prefix"* || ! $line =~ \(column\ ([0-9]+)\)$ ]]; then
		echo "$cmd '$ep': want \"$prefix... (column N)\", got: $line"
		return 1
	fi
	n=${BASH_REMATCH[1]}
	why=${line#"$prefix"}
	if [[ -n $token && $why != *"$token"* ]]; then
		echo "$cmd '$ep': message does not name '$token': $line"
		return 1
	fi
	if [[ -n $col ]] && ((n != col)); then
		echo "$cmd '$ep': column $n, want $col: $line"
		return 1
	fi
	if [[ -z $col && ${ep:n-1} != "$token"* ]]; then
		echo "$cmd '$ep': column $n points at '${ep:n-1}', not at '$token': $line"
		return 1
	fi
}

# bad_endpoints CMD < TABLE: bad_endpoint for each line "ENDPOINT|TOKEN[|COLUMN]";
# reports every failing line, then fails if any did.
bad_endpoints() {
	local cmd=$1 ep token col failed=0 count=0
	while IFS='|' read -r ep token col; do
		[[ -n $ep ]] || continue
		count=$((count + 1))
		bad_endpoint "$cmd" "$ep" "$token" "$col" || failed=$((failed + 1))
	done
	echo "$count endpoints, $failed wrong"
	((failed == 0))
}

# ---- the exact message, for a dozen typical mistakes ---------------------------------

@test "an unknown endpoint type is named at column 1" {
	run -2 --separate-stderr "$SOCKIT" connect bogus:127.0.0.1:80
	assert_equal "$stderr" "sockit: connect: endpoint 'bogus:127.0.0.1:80': unknown endpoint type 'bogus' (column 1)"
	assert_output ""
}

@test "endpoint types match exactly, never by prefix or case" {
	run -2 --separate-stderr "$SOCKIT" connect tc:127.0.0.1:80
	assert_equal "$stderr" "sockit: connect: endpoint 'tc:127.0.0.1:80': unknown endpoint type 'tc' (column 1)"
	run -2 --separate-stderr "$SOCKIT" connect TCP:127.0.0.1:80
	assert_equal "$stderr" "sockit: connect: endpoint 'TCP:127.0.0.1:80': unknown endpoint type 'TCP' (column 1)"
}

@test "a port above 65535 is out of range, at its column" {
	run -2 --separate-stderr "$SOCKIT" connect tcp:127.0.0.1:65536
	assert_equal "$stderr" "sockit: connect: endpoint 'tcp:127.0.0.1:65536': port '65536' out of range 0-65535 (column 15)"
}

@test "port 0 is refused for a client" {
	run -2 --separate-stderr "$SOCKIT" connect tcp:127.0.0.1:0
	assert_equal "$stderr" "sockit: connect: endpoint 'tcp:127.0.0.1:0': port 0 is not valid for a client (column 15)"
}

@test "a bare IPv6 address must be bracketed" {
	run -2 --separate-stderr "$SOCKIT" connect tcp:::1:80
	assert_equal "$stderr" "sockit: connect: endpoint 'tcp:::1:80': IPv6 address '::1' must be in brackets (column 5)"
}

@test "a malformed IPv6 literal is named inside its brackets" {
	run -2 --separate-stderr "$SOCKIT" connect 'tcp:[::g]:80'
	assert_equal "$stderr" "sockit: connect: endpoint 'tcp:[::g]:80': invalid IPv6 address '::g' (column 6)"
}

@test "a dotted quad out of range is not a host name" {
	run -2 --separate-stderr "$SOCKIT" connect tcp:256.1.1.1:80
	assert_equal "$stderr" "sockit: connect: endpoint 'tcp:256.1.1.1:80': invalid IPv4 address '256.1.1.1' (column 5)"
}

@test "an invalid character in a host name is pointed at" {
	run -2 --separate-stderr "$SOCKIT" connect 'tcp:bad!host:80'
	assert_equal "$stderr" "sockit: connect: endpoint 'tcp:bad!host:80': invalid character '!' in host name 'bad!host' (column 8)"
}

@test "tcp4 takes only IPv4 addresses" {
	run -2 --separate-stderr "$SOCKIT" connect 'tcp4:[::1]:80'
	assert_equal "$stderr" "sockit: connect: endpoint 'tcp4:[::1]:80': address '::1' is not IPv4 (tcp4) (column 6)"
}

@test "an unknown option is named with its column" {
	run -2 --separate-stderr "$SOCKIT" connect tcp:127.0.0.1:80,bogus
	assert_equal "$stderr" "sockit: connect: endpoint 'tcp:127.0.0.1:80,bogus': unknown option 'bogus' (column 18)"
}

@test "a listener's misspelt option gives the documented message (STYLE.md)" {
	run -2 --separate-stderr "$SOCKIT" listen tcp-listen:80,backlgo=5
	assert_equal "$stderr" "sockit: listen: endpoint 'tcp-listen:80,backlgo=5': unknown option 'backlgo' (column 15)"
}

@test "a boolean option takes only yes/no/1/0" {
	run -2 --separate-stderr "$SOCKIT" connect tcp:127.0.0.1:80,nodelay=maybe
	assert_equal "$stderr" "sockit: connect: endpoint 'tcp:127.0.0.1:80,nodelay=maybe': invalid value 'maybe' for 'nodelay' (use yes or no) (column 26)"
}

@test "a numeric option out of range gives the range" {
	run -2 --separate-stderr "$SOCKIT" connect tcp:127.0.0.1:80,ttl=256
	assert_equal "$stderr" "sockit: connect: endpoint 'tcp:127.0.0.1:80,ttl=256': ttl '256' out of range 1-255 (column 22)"
}

@test "an option of another endpoint type is refused" {
	run -2 --separate-stderr "$SOCKIT" connect tcp:127.0.0.1:80,mode=600
	assert_equal "$stderr" "sockit: connect: endpoint 'tcp:127.0.0.1:80,mode=600': option 'mode' does not apply to tcp endpoints (column 18)"
}

@test "an option given twice is refused at the second one" {
	run -2 --separate-stderr "$SOCKIT" connect tcp:127.0.0.1:80,nodelay,nodelay
	assert_equal "$stderr" "sockit: connect: endpoint 'tcp:127.0.0.1:80,nodelay,nodelay': option 'nodelay' given twice (column 26)"
}

@test "only \\, and \\\\ are escapes in a path" {
	run -2 --separate-stderr "$SOCKIT" connect 'unix:/tmp/a\q'
	assert_equal "$stderr" "sockit: connect: endpoint 'unix:/tmp/a\\q': invalid escape '\\q' (only '\\,' and '\\\\') (column 12)"
}

@test "a mode that is not octal is refused and no socket file appears" {
	run -2 --separate-stderr "$SOCKIT" listen "unix-listen:$T/s,mode=800"
	assert_equal "$stderr" "sockit: listen: endpoint 'unix-listen:$T/s,mode=800': invalid octal mode '800' for 'mode' (column $((${#T} + 21)))"
	[[ ! -e $T/s ]]
}

# ---- many more: exit 2, one line, the token named at its column ----------------------

@test "malformed addresses: each names its token and column" {
	bad_endpoints connect <<-'EOF'
		:80||1
		tcp:||5
		tcp:127.0.0.1|127.0.0.1
		tcp:127.0.0.1:||15
		tcp:127.0.0.1:nosuchservice|nosuchservice
		tcp:127.0.0.1:8 0|8 0
		tcp:127.0.0.1:-1|-1
		tcp:[::1:80|[::1:80
		tcp:[::1]80||10
		tcp:[]:80||6
		tcp:[fe80::1%]:80|fe80::1%|14
		tcp:[fe80::1%e/th0]:80|e/th0|15
		tcp:1.2.3:80|1.2.3
		tcp:a..b:80|a..b|7
		tcp6:127.0.0.1:80|127.0.0.1|6
		udp6:127.0.0.1:53|127.0.0.1|6
		tcp:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com:80|aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
		unix:||6
		abstract:||10
		unix:/tmp/a\||12
		stdio:foo||6
		vsock:x:5|x
		ws:host||4
		exec:||6
		exec:cat 'x||10
	EOF
}

@test "malformed options: each names its token and column" {
	bad_endpoints connect <<-'EOF'
		tcp:127.0.0.1:80,rcvbuf=abc|abc
		tcp:127.0.0.1:80,rcvbuf=0|0
		tcp:127.0.0.1:80,sndbuf=99999999999|99999999999
		tcp:127.0.0.1:80,ttl=0|0
		tcp:127.0.0.1:80,tos=x|x
		tcp:127.0.0.1:80,rcvbuf|rcvbuf
		tcp:127.0.0.1:80,nodelay=|nodelay|26
		tcp:127.0.0.1:80,nodelay=yes=no|yes=no
		tcp:127.0.0.1:80,,nodelay||18
		tcp:127.0.0.1:80,=1||18
		tcp:127.0.0.1:80,keepalive=0:5|0
		tcp:127.0.0.1:80,keepalive=x|x
		tcp:127.0.0.1:80,timeout=abc|abc
		tcp:127.0.0.1:80,timeout=0.0001|0.0001
		tcp:127.0.0.1:80,bind=127.0.0.1:99999|99999
		tcp:127.0.0.1:80,bind=[::1|[::1
		tcp:127.0.0.1:80,iface=waytoolongname0123|waytoolongname0123
		tcp:127.0.0.1:80,unlink|unlink
		tcp:127.0.0.1:80,alpn=h2|alpn
		tcp:127.0.0.1:80,proxy=ftp://x|ftp
		tcp:127.0.0.1:80,proxy-protocol=v3|v3
		tcp:127.0.0.1:http,bogus=1|bogus
		udp:127.0.0.1:80,nodelay|nodelay
		udp:127.0.0.1:80,backlog=5|backlog
		unix:/tmp/x,mode=600|mode
	EOF
}

@test "malformed listener endpoints: each names its token and column" {
	bad_endpoints listen <<-EOF
		unix-listen:$T/s,mode=1777|1777
		unix-listen:$T/s,mode=rw|rw
		unix-listen:$T/s,mode=|mode|$((${#T} + 21))
		unix-listen:$T/s,bogus|bogus
		unix-listen:$T/s,owner=|owner|$((${#T} + 22))
		unix-listen:$T/s,unlink=maybe|maybe
		unix-dgram-listen:$T/s,backlog=4|backlog
		abstract-listen:sockit-test-$$,mode=600|mode
		tcp-listen:70000|70000
		tcp-listen:||12
		tcp-listen:127.0.0.1:||22
		tcp-listen:0,backlog=0|0
		tcp-listen:0,v6only=2|2
		tcp-listen:0,reuseaddr=2|2
		tcp-listen:127.0.0.1:0,timeout=5|timeout
		tcp-listen:[::1]:0,bind=::1|bind
		udp-listen:0,backlog=5|backlog
	EOF
	[[ ! -e $T/s ]]
}

@test "bind= with a bare IPv6 address names the address" {
	bad_endpoint connect 'tcp:127.0.0.1:80,bind=::1' '::1'
}

@test "a host name over 253 bytes is refused before any look-up" {
	local host
	host=$(printf 'abcdefghi.%.0s' {1..26})com # 263 bytes
	traced_run "$SOCKIT" connect "tcp:$host:80"
	assert_equal "$status" 2
	assert_regex "$stderr" "^sockit: connect: endpoint 'tcp:abcdefghi\..*': host name longer than 253 bytes \(column 5\)$"
	assert_no_socket_calls
}

@test "a UNIX path over the sun_path limit is refused and nothing is created" {
	local dir=$T/d path
	mkdir "$dir"
	path=$dir/$(printf 'p%.0s' {1..120})
	traced_run "$SOCKIT" listen -U "$path"
	assert_equal "$status" 2
	assert_regex "$stderr" "^sockit: listen: endpoint 'unix-listen:.*': path longer than 107 bytes \(column 13\)$"
	assert_no_socket_calls
	assert_equal "$(ls -A "$dir")" ""
}

# ---- nothing is created, nothing is sent ------------------------------------------------

@test "a bad option on unix-listen creates no socket file and makes no socket call" {
	traced_run "$SOCKIT" listen "unix-listen:$T/s,mode=0600,bogus"
	assert_equal "$status" 2
	assert_regex "$stderr" "unknown option 'bogus'"
	assert_no_socket_calls
	[[ ! -e $T/s ]]
}

@test "a bad option on tcp-listen never binds: parsing fails before the port is tried" {
	# Hold the port: a listener that tried to bind would fail with 6, not 2.
	listen_bg --name owner 127.0.0.1 0
	run -2 --separate-stderr "$SOCKIT" listen "tcp-listen:127.0.0.1:$LPORT,backlog=0"
	assert_regex "$stderr" "backlog '0' out of range"
	# And with the port free it stays free: no socket call at all.
	local port
	port=$(free_port)
	traced_run "$SOCKIT" listen "tcp-listen:127.0.0.1:$port,nodelay=perhaps"
	assert_equal "$status" 2
	assert_no_socket_calls
	run "$PY" -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$port"
	assert_success
}

@test "a bad option on connect sends nothing to a live listener" {
	listen_bg 127.0.0.1 0
	traced_run "$SOCKIT" connect "tcp:127.0.0.1:$LPORT,ttl=300" <<<"not this"
	assert_equal "$status" 2
	assert_no_socket_calls
	# The listener takes the first connection in its queue: it must be this one.
	echo marker | timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT"
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/listen.out")" marker
}

@test "a listener endpoint given to connect (and vice versa) is a usage error" {
	run -2 --separate-stderr "$SOCKIT" connect tcp-listen:80
	assert_equal "$stderr" "sockit: connect: endpoint 'tcp-listen:80' is a listener; use 'sockit listen'"
	run -2 --separate-stderr "$SOCKIT" listen tcp:127.0.0.1:80
	assert_equal "$stderr" "sockit: listen: endpoint 'tcp:127.0.0.1:80' is not a listener; use 'sockit connect'"
}

# ---- canonical text and --explain --------------------------------------------------------

@test "--explain prints the canonical endpoint and exits 0" {
	run -0 --separate-stderr "$SOCKIT" connect --explain ::1 http
	assert_line --index 0 "endpoint: tcp:[::1]:80"
	assert_line "type: tcp (SOCK_STREAM, client)"
	assert_equal "$stderr" ""
	run -0 "$SOCKIT" connect --explain 'tcp:[::1]:http,nodelay'
	assert_line --index 0 "endpoint: tcp:[::1]:80,nodelay"
	assert_line "  nodelay=yes"
	run -0 "$SOCKIT" connect --explain -u 127.0.0.1 53
	assert_line --index 0 "endpoint: udp:127.0.0.1:53"
	run -0 "$SOCKIT" listen --explain -p 8080
	assert_line --index 0 "endpoint: tcp-listen:8080"
	assert_line "  reuseaddr=yes"
	run -0 "$SOCKIT" listen --explain 'tcp-listen:8080,reuseaddr=no'
	assert_line "  reuseaddr=no"
}

@test "--explain: IPv6 literals canonical; the family and v6only the socket will really get" {
	run -0 "$SOCKIT" connect --explain 'tcp:[0:0:0:0:0:0:0:1]:80'
	assert_line --index 0 "endpoint: tcp:[::1]:80"
	run -0 "$SOCKIT" connect --explain 'tcp:[FE80::A%lo]:80'
	assert_line --index 0 "endpoint: tcp:[fe80::a%lo]:80"
	run -0 "$SOCKIT" listen --explain tcp4-listen:0
	assert_line "  socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC) for 0.0.0.0"
	run -0 "$SOCKIT" listen --explain -4 0
	assert_line "family: IPv4 only (-4)"
	assert_line "  socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC) for 0.0.0.0"
	run -0 "$SOCKIT" listen --explain tcp6-listen:0
	assert_line "  v6only=yes"
	assert_line "  socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC) for [::]; setsockopt(IPV6_V6ONLY, 1)"
	run -0 "$SOCKIT" listen --explain 0
	assert_line "  v6only=no"
	assert_line "  socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC) for [::]; setsockopt(IPV6_V6ONLY, 0) (AF_INET if no IPv6)"
}

@test "shorthands that cannot apply are refused, never dropped: --tls with -U, -u; -4 with tcp6" {
	run -2 --separate-stderr "$SOCKIT" listen --tls -U "$T/s"
	assert_equal "$stderr" "sockit: listen: --tls applies to TCP, not to --unix"
	[[ ! -e $T/s ]]
	run -2 --separate-stderr "$SOCKIT" connect --tls --abstract "sockit-$$"
	assert_equal "$stderr" "sockit: connect: --tls applies to TCP, not to --abstract"
	run -2 --separate-stderr "$SOCKIT" listen -u --tls 0
	assert_equal "$stderr" "sockit: listen: -u/--udp and --tls exclude each other (TLS runs over TCP)"
	run -2 --separate-stderr "$SOCKIT" listen -p 0 -U "$T/s"
	assert_equal "$stderr" "sockit: listen: -p/--port applies to TCP and UDP, not to --unix"
	run -2 --separate-stderr "$SOCKIT" listen -p 0 tcp-listen:0
	assert_equal "$stderr" "sockit: listen: -p/--port applies to the HOST PORT form, not to endpoint 'tcp-listen:0'"
	run -2 --separate-stderr "$SOCKIT" listen -4 tcp6-listen:0
	assert_equal "$stderr" "sockit: listen: -4 conflicts with endpoint 'tcp6-listen:0' (tcp6-listen)"
	run -2 --separate-stderr "$SOCKIT" connect --crlf -Zv 127.0.0.1 80
	assert_equal "$stderr" "sockit: connect: unknown option '-Z'"
}

@test "iface= naming no interface is a local failure: exit 6" {
	run -6 --separate-stderr "$SOCKIT" connect 'tcp:127.0.0.1:1,iface=nosuch0' </dev/null
	assert_regex "$stderr" "^sockit: connect: .*: No such device$"
	run -6 --separate-stderr "$SOCKIT" listen 'tcp-listen:127.0.0.1:0,iface=nosuch0'
	assert_regex "$stderr" "^sockit: listen: .*: No such device$"
}

@test "listen --explain creates no socket file and binds nothing" {
	traced_run "$SOCKIT" listen --explain "unix-listen:$T/s,mode=600"
	assert_equal "$status" 0
	assert_line --index 0 "endpoint: unix-listen:$T/s,mode=0600"
	assert_no_socket_calls
	[[ ! -e $T/s ]]
	traced_run "$SOCKIT" listen --explain 127.0.0.1 0
	assert_equal "$status" 0
	assert_line --index 0 "endpoint: tcp-listen:127.0.0.1:0"
	assert_no_socket_calls
}

@test "connect --explain opens no connection" {
	listen_bg 127.0.0.1 0
	traced_run "$SOCKIT" connect --explain 127.0.0.1 "$LPORT"
	assert_equal "$status" 0
	assert_line --index 0 "endpoint: tcp:127.0.0.1:$LPORT"
	assert_no_socket_calls
	echo marker | timeout 20 "$SOCKIT" connect 127.0.0.1 "$LPORT"
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/listen.out")" marker
}

@test "a comma in a path is escaped in endpoint text and printed back escaped" {
	listen_bg "unix-listen:$T/a\\,b"
	assert_equal "$LEP" "unix-listen:$T/a\\,b"
	[[ -S $T/a,b ]]
	echo via-escape | timeout 20 "$SOCKIT" connect -U "$T/a,b"
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
	assert_equal "$(cat "$T/listen.out")" via-escape
}

@test "the HOST PORT shorthand brackets a bare IPv6 address" {
	listen_bg ::1 0
	assert_equal "$LEP" "tcp-listen:[::1]:$LPORT"
	echo six | timeout 20 "$SOCKIT" connect ::1 "$LPORT"
	wait_exit "$LPID" 5
	assert_equal "$(cat "$T/listen.out")" six
}

@test "a service name is accepted as a port and printed back as the number" {
	run -0 "$SOCKIT" connect --explain tcp:localhost:ssh
	assert_line --index 0 "endpoint: tcp:localhost:22"
}
