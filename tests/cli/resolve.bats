#!/usr/bin/env bats
# resolve.bats - sockit resolve: getaddrinfo/getnameinfo as the system answers, and the
# local interfaces.
#
# No test depends on outside DNS. Names come from the system's own localhost entry,
# from literals, or from a hosts file this file writes: `in_hosts` runs sockit in a
# private mount namespace (unshare -m; -r adds a user namespace when not root) where
# that file is bound over /etc/hosts and nsswitch.conf says `hosts: files`, so a
# lookup never leaves the machine and a missing name fails at once, the same way on
# every host.

load lib/common

HOSTS='10.1.2.3	dup.test
10.1.2.3	dup.test
10.1.2.4	dup.test
fd00::7	dup.test
10.9.9.9	canon.test alias.test
10.0.0.1	a.test
10.0.0.2	b.test
10.0.0.3	c.test
127.0.0.1	localhost'

# in_hosts CMD ARGS...: run CMD with /etc/hosts = $HOSTS and files-only lookups.
in_hosts() {
	local ns=(unshare -m --propagation private)
	((EUID == 0)) || ns=(unshare -r -m --propagation private)
	printf '%s\n' "$HOSTS" >"$T/hosts"
	printf 'hosts: files\n' >"$T/nsswitch.conf"
	timeout 20 "${ns[@]}" /bin/sh -c \
		'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf && shift 2 && exec "$@"' \
		sh "$T/hosts" "$T/nsswitch.conf" "$@"
}

# in_dead_dns CMD ARGS...: run CMD in private mount and network namespaces where
# the only name server, 127.0.0.1:53, takes queries and never answers (the
# resolver would wait 5 s), and nsswitch.conf says `hosts: dns`.
in_dead_dns() {
	local ns=(unshare -m -n --propagation private)
	((EUID == 0)) || ns=(unshare -r -m -n --propagation private)
	printf 'nameserver 127.0.0.1\noptions timeout:5 attempts:1\n' >"$T/resolv.conf"
	printf 'hosts: dns\n' >"$T/nsswitch.conf"
	cat >"$T/dead-dns.sh" <<-'EOF'
		ip link set lo up || exit 90
		mount --bind "$T/resolv.conf" /etc/resolv.conf || exit 90
		mount --bind "$T/nsswitch.conf" /etc/nsswitch.conf || exit 90
		rm -f "$T/dns.ready"
		/usr/bin/python3 -c 'import socket, sys, time
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind(("127.0.0.1", 53))
		open(sys.argv[1], "w").close()
		time.sleep(15)' "$T/dns.ready" &
		dns=$!
		for _ in $(seq 50); do [ -e "$T/dns.ready" ] && break; sleep 0.1; done
		[ -e "$T/dns.ready" ] || exit 90
		"$@"
		rc=$?
		kill "$dns"
		exit "$rc"
	EOF
	T=$T timeout 20 "${ns[@]}" /bin/sh "$T/dead-dns.sh" "$@"
}

setup() {
	sk_setup
	if [[ $BATS_TEST_DESCRIPTION == *"(hosts file)"* ]] &&
		! in_hosts true 2>/dev/null; then
		skip "no private mount namespace here (unshare -m)"
	fi
	if [[ $BATS_TEST_DESCRIPTION == *"(dead DNS)"* ]] &&
		! in_dead_dns true 2>/dev/null; then
		skip "no private network namespace here (unshare -n)"
	fi
}

# ---- forward lookups ---------------------------------------------------------------------

@test "localhost: its addresses, one a line, none twice, exit 0" {
	run -0 --separate-stderr "$SOCKIT" resolve localhost
	assert_line 127.0.0.1
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort | uniq -d)" ""
	for l in "${lines[@]}"; do
		assert_regex "$l" '^[0-9a-f.:]+$'
	done
	assert_equal "$stderr" ""
}

@test "literals are printed back; -4/-6 keep their family" {
	run -0 "$SOCKIT" resolve 127.0.0.1
	assert_output 127.0.0.1
	run -0 "$SOCKIT" resolve ::1
	assert_output ::1
	run -0 "$SOCKIT" resolve -4 127.0.0.1
	assert_output 127.0.0.1
	run -0 "$SOCKIT" resolve -6 ::1
	assert_output ::1
	run -3 --separate-stderr "$SOCKIT" resolve -4 ::1
	assert_output ""
	assert_regex "$stderr" '^sockit: resolve: ::1: .+$'
}

@test "each address once, in the resolver's order (hosts file)" {
	# The resolver itself repeats 10.1.2.3 (listed twice): the test can fail.
	run -0 in_hosts getent ahostsv4 dup.test
	assert_equal "$(grep -c '^10\.1\.2\.3 .*STREAM' <<<"$output")" 2
	run -0 --separate-stderr in_hosts "$SOCKIT" resolve -4 dup.test
	assert_equal "$output" $'10.1.2.3\n10.1.2.4'
	run -0 in_hosts "$SOCKIT" resolve -6 dup.test
	assert_output fd00::7
	run -0 in_hosts "$SOCKIT" resolve dup.test
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort)" $'10.1.2.3\n10.1.2.4\nfd00::7'
	run -0 in_hosts "$SOCKIT" resolve -l -4 --type stream dup.test
	assert_equal "${#lines[@]}" 2
}

@test "--type dgram: datagram answers only" {
	run -0 "$SOCKIT" resolve -l --type dgram 127.0.0.1
	assert_output "inet   dgram   udp   127.0.0.1      0  127.0.0.1"
	run -0 "$SOCKIT" resolve -l --type stream ::1 53
	assert_output "inet6  stream  tcp   ::1     53  ::1"
}

@test "--long: family, type, protocol, address, port, canonical name in columns" {
	run -0 "$SOCKIT" resolve -l 127.0.0.1 http
	assert_line --index 0 "inet   stream  tcp   127.0.0.1     80  127.0.0.1"
	# Without --type every socket type the resolver offers, aligned the same way.
	for l in "${lines[@]}"; do
		assert_regex "$l" '^inet   (stream|dgram |raw   )  (tcp |udp |ip  )  127\.0\.0\.1 +[0-9]+  127\.0\.0\.1$'
	done
	run -0 in_hosts "$SOCKIT" resolve -l --type stream alias.test 8080
	assert_output "inet   stream  tcp   10.9.9.9   8080  canon.test"
}

@test "--canonical prints the canonical name first (hosts file)" {
	run -0 in_hosts "$SOCKIT" resolve --canonical alias.test
	assert_equal "$output" $'canon.test\n10.9.9.9'
}

@test "--json: one object per answer with the documented fields" {
	run -0 --separate-stderr "$SOCKIT" resolve --json --type stream 127.0.0.1 http
	run -0 /usr/bin/python3 -c '
import json, sys
objs = [json.loads(l) for l in sys.argv[1].splitlines()]
assert len(objs) == 1, objs
o = objs[0]
assert list(o) == ["name", "family", "type", "protocol", "address", "port", "canonical"], list(o)
assert o == {"name": "127.0.0.1", "family": "inet", "type": "stream", "protocol": "tcp",
             "address": "127.0.0.1", "port": 80, "canonical": "127.0.0.1"}, o
print("ok")' "$output"
	assert_output ok
	run -0 in_hosts "$SOCKIT" resolve --json dup.test https
	run -0 /usr/bin/python3 -c '
import json, sys
objs = [json.loads(l) for l in sys.argv[1].splitlines()]
keys = {(o["address"], o["type"]) for o in objs}
assert len(keys) == len(objs), "a repeated answer"
assert {o["address"] for o in objs} == {"10.1.2.3", "10.1.2.4", "fd00::7"}, objs
assert all(o["port"] == 443 and o["name"] == "dup.test" for o in objs), objs
assert all(o["canonical"] == "dup.test" for o in objs), objs
assert {o["family"] for o in objs} == {"inet", "inet6"}, objs
print("ok")' "$output"
	assert_output ok
}

@test "--passive with '*' gives the wildcard addresses" {
	run -0 "$SOCKIT" resolve --passive -4 --type stream '*' 8080
	assert_output 0.0.0.0
	run -0 "$SOCKIT" resolve --passive -6 --type stream '*' 8080
	assert_output ::
}

@test "--passive '*' with --long, --json and --canonical, and without a SERVICE" {
	run -0 "$SOCKIT" resolve --passive -4 --type stream --long '*' 8080
	assert_output --regexp '^inet +stream +tcp +0\.0\.0\.0 +8080 +-$'
	run -0 "$SOCKIT" resolve --passive -6 --type stream --json '*' 8080
	assert_output '{"name":"*","family":"inet6","type":"stream","protocol":"tcp","address":"::","port":8080,"canonical":null}'
	run -0 "$SOCKIT" resolve --passive -4 --canonical '*' 8080
	assert_line 0.0.0.0
	run -0 "$SOCKIT" resolve --passive -4 '*'
	assert_output 0.0.0.0
}

@test "a numeric SERVICE is a port 0-65535, never wrapped; [::1] is an IPv6 literal" {
	run -2 --separate-stderr "$SOCKIT" resolve localhost 65536
	assert_equal "$stderr" "sockit: resolve: invalid port '65536' (0-65535)"
	run -2 --separate-stderr "$SOCKIT" resolve -l --passive '*' 99999
	assert_equal "$stderr" "sockit: resolve: invalid port '99999' (0-65535)"
	run -0 "$SOCKIT" resolve -l --type stream 127.0.0.1 65535
	assert_output --regexp '^inet +stream +tcp +127\.0\.0\.1 +65535 '
	run -0 "$SOCKIT" resolve '[::1]'
	assert_output ::1
	run -0 "$SOCKIT" resolve -r '[::1]' 22
	assert_output --regexp '^[^ ]+ (ssh|22)$'
}

@test "-q prints nothing; the status tells" {
	run -0 --separate-stderr "$SOCKIT" resolve -q 127.0.0.1
	assert_output ""
	assert_equal "$stderr" ""
}

# ---- failures ------------------------------------------------------------------------------

@test "--numeric with a name: exit 3 with the resolver's reason" {
	run -3 --separate-stderr "$SOCKIT" resolve --numeric localhost
	assert_output ""
	assert_equal "$stderr" "sockit: resolve: localhost: Name or service not known"
}

@test "an unknown name fails fast with its name and the resolver's reason, exit 3" {
	local t0
	t0=$(now_ms)
	run -3 --separate-stderr timeout 10 "$SOCKIT" resolve nonexistent.invalid
	(($(now_ms) - t0 < 5000))
	assert_output ""
	assert_regex "$stderr" '^sockit: resolve: nonexistent\.invalid: [A-Z][^:]+$'
}

@test "an unknown name, resolved from files only, exit 3 (hosts file)" {
	run -3 --separate-stderr in_hosts "$SOCKIT" resolve missing.test
	assert_equal "$stderr" "sockit: resolve: missing.test: Name or service not known"
	run -3 --separate-stderr in_hosts "$SOCKIT" resolve -6 canon.test
	assert_regex "$stderr" '^sockit: resolve: canon\.test: .+$'
}

@test "an unknown service is named, exit 3" {
	run -3 --separate-stderr "$SOCKIT" resolve 127.0.0.1 no-such-service-x
	assert_equal "$stderr" "sockit: resolve: service no-such-service-x: Servname not supported for ai_socktype"
}

@test "a 254-byte name, a 64-byte label, an empty label: exit 2 before any lookup" {
	local long
	long=$(printf 'a%.0s' {1..254})
	run -2 --separate-stderr "$SOCKIT" resolve "$long"
	assert_output ""
	assert_equal "$stderr" "sockit: resolve: name '${long:0:144}...': host name longer than 253 bytes (column 1)"
	run -2 --separate-stderr "$SOCKIT" resolve a..b
	assert_equal "$stderr" "sockit: resolve: name 'a..b': empty label in host name 'a..b' (column 3)"
	local label
	label=$(printf 'b%.0s' {1..64})
	run -2 --separate-stderr "$SOCKIT" resolve "$label.org"
	assert_equal "$stderr" "sockit: resolve: name '$label.org': label in host name '$label.org' longer than 63 bytes (column 1)"
	# Nothing was looked up: no socket was even created. (LeakSanitizer cannot
	# run under ptrace, so a sanitizer build skips this part.)
	if command -v strace >/dev/null && ((SANITIZED == 0)); then
		run -2 strace -f -e trace=socket,connect -o "$T/trace" "$SOCKIT" resolve a..b
		run -0 grep -c 'exited with 2' "$T/trace"
		run ! grep -E 'socket\(|connect\(' "$T/trace"
	fi
}

@test "bad option values and unknown options: exit 2 naming the token" {
	run -2 --separate-stderr "$SOCKIT" resolve --type raw localhost
	assert_equal "$stderr" "sockit: resolve: invalid --type 'raw': expected stream or dgram"
	run -2 --separate-stderr "$SOCKIT" resolve --bogus localhost
	assert_equal "$stderr" "sockit: resolve: unknown option '--bogus'"
	run -2 --separate-stderr "$SOCKIT" resolve
	assert_equal "$stderr" "sockit: resolve: missing NAME (or -r ADDRESS, or --interfaces)"
	run -2 --separate-stderr "$SOCKIT" resolve localhost http extra
	assert_equal "$stderr" "sockit: resolve: unexpected argument 'extra'"
	run -2 --separate-stderr "$SOCKIT" resolve --namereqd localhost
	assert_equal "$stderr" "sockit: resolve: --namereqd needs --reverse"
	run -2 --separate-stderr "$SOCKIT" resolve -r 127.0.0.1 --type stream
	assert_equal "$stderr" "sockit: resolve: --type does not apply to --reverse"
	run -2 --separate-stderr "$SOCKIT" resolve --interfaces -l
	assert_equal "$stderr" "sockit: resolve: --long does not apply to --interfaces"
}

@test "-w bounds a lookup the resolver would wait on, exit 3 (dead DNS)" {
	local t0 ms
	t0=$(now_ms)
	run -3 --separate-stderr in_dead_dns "$SOCKIT" resolve -w 1 slow.test
	ms=$(($(now_ms) - t0))
	assert_output ""
	assert_equal "$stderr" "sockit: resolve: slow.test: no answer within 1 s"
	# Gave up at 1 s, well before the resolver's own 5 s.
	((ms >= 900 && ms < 4000)) || fail "took $ms ms"
	# A batch: what has an answer is printed, in order; what waits is reported.
	t0=$(now_ms)
	run -3 --separate-stderr in_dead_dns "$SOCKIT" resolve -w 1.5 - <<<$'127.0.0.1\nslow.test\n::1'
	ms=$(($(now_ms) - t0))
	assert_output $'127.0.0.1 127.0.0.1\n::1 ::1'
	assert_equal "$stderr" "sockit: resolve: slow.test: no answer within 1.5 s"
	((ms >= 1400 && ms < 4500)) || fail "took $ms ms"
}

# ---- reverse --------------------------------------------------------------------------------

@test "-r 127.0.0.1 gives localhost; with a port, its service" {
	run -0 --separate-stderr "$SOCKIT" resolve -r 127.0.0.1
	assert_output localhost
	assert_equal "$stderr" ""
	run -0 "$SOCKIT" resolve -r 127.0.0.1 80
	assert_output "localhost http"
	run -0 "$SOCKIT" resolve -r 127.0.0.1 80 --numeric-service
	assert_output "localhost 80"
	run -0 "$SOCKIT" resolve --json -r 127.0.0.1 80
	run -0 /usr/bin/python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert o == {"address": "127.0.0.1", "name": "localhost", "port": 80, "service": "http"}, o
print("ok")' "$output"
	assert_output ok
}

@test "-r an address without a name: itself, or exit 3 with --namereqd (hosts file)" {
	run -0 in_hosts "$SOCKIT" resolve -r 192.0.2.1
	assert_output 192.0.2.1
	run -3 --separate-stderr in_hosts "$SOCKIT" resolve -r 192.0.2.1 --namereqd
	assert_output ""
	assert_equal "$stderr" "sockit: resolve: 192.0.2.1: Name or service not known"
	run -0 in_hosts "$SOCKIT" resolve -r 10.9.9.9 --namereqd
	assert_output canon.test
}

@test "-r with something that is no address: exit 2 naming it" {
	run -2 --separate-stderr "$SOCKIT" resolve -r localhost
	assert_equal "$stderr" "sockit: resolve: address 'localhost': not an IPv4 or IPv6 address"
	run -2 --separate-stderr "$SOCKIT" resolve -r 127.0.0.1 70000
	assert_equal "$stderr" "sockit: resolve: invalid port '70000'"
}

# ---- many names from stdin -----------------------------------------------------------------

@test "- : input order kept, a failure in the middle reported in place, exit 3 (hosts file)" {
	printf 'a.test\nb.test\nmissing.test\n\n  c.test  \n127.0.0.1\n' >"$T/names"
	run -3 --separate-stderr in_hosts "$SOCKIT" resolve -4 - <"$T/names"
	assert_equal "$output" $'a.test 10.0.0.1\nb.test 10.0.0.2\nc.test 10.0.0.3\n127.0.0.1 127.0.0.1'
	assert_equal "$stderr" "sockit: resolve: missing.test: Name or service not known"
	# Together on one stream, the failure sits in its place.
	run -3 in_hosts /bin/sh -c '"$1" resolve -4 - <"$2" 2>&1' sh "$SOCKIT" "$T/names"
	assert_equal "$output" $'a.test 10.0.0.1\nb.test 10.0.0.2\nsockit: resolve: missing.test: Name or service not known\nc.test 10.0.0.3\n127.0.0.1 127.0.0.1'
}

@test "- : 300 names resolved concurrently come out in input order (hosts file)" {
	local i want=
	HOSTS=$(for i in $(seq 300); do printf '10.7.%d.%d\tn%d.test\n' $((i / 256)) $((i % 256)) "$i"; done)
	for i in $(seq 300 -1 1); do
		printf 'n%d.test\n' "$i"
		want+="n$i.test 10.7.$((i / 256)).$((i % 256))"$'\n'
	done >"$T/names"
	run -0 --separate-stderr in_hosts "$SOCKIT" resolve -4 --type stream - <"$T/names"
	assert_equal "$output" "${want%$'\n'}"
	assert_equal "$stderr" ""
	run -0 in_hosts "$SOCKIT" resolve --json -4 --type stream - <"$T/names"
	assert_equal "${#lines[@]}" 300
	assert_equal "${lines[0]}" '{"name":"n300.test","family":"inet","type":"stream","protocol":"tcp","address":"10.7.1.44","port":0,"canonical":"n300.test"}'
}

@test "- : a malformed name stops the batch before any lookup, exit 2" {
	run -2 --separate-stderr "$SOCKIT" resolve - <<<$'127.0.0.1\na..b\n::1'
	assert_output ""
	assert_equal "$stderr" "sockit: resolve: name 'a..b': empty label in host name 'a..b' (column 3)"
	printf '127.0.0.1\nlocal\0host\n' >"$T/names"
	run -2 --separate-stderr "$SOCKIT" resolve - <"$T/names"
	assert_output ""
	assert_equal "$stderr" "sockit: resolve: stdin line 2: a NUL byte in a name"
}

# ---- interfaces -----------------------------------------------------------------------------

@test "--interfaces shows lo with 127.0.0.1/8, its index and flags" {
	local idx
	idx=$(cat /sys/class/net/lo/ifindex)
	run -0 --separate-stderr "$SOCKIT" resolve --interfaces
	assert_line --regexp "^lo +$idx  127\.0\.0\.1/8 +loopback(,[a-z]+)*,up(,[a-z]+)*\$"
	assert_equal "$stderr" ""
	run -0 "$SOCKIT" resolve --interfaces -6
	refute_line --regexp '127\.0\.0\.1'
}

@test "--interfaces --json: one object per interface, lo with 127.0.0.1/8" {
	run -0 --separate-stderr "$SOCKIT" resolve --interfaces --json
	run -0 /usr/bin/python3 -c '
import json, sys
objs = [json.loads(l) for l in sys.argv[1].splitlines()]
lo = [o for o in objs if o["name"] == "lo"]
assert len(lo) == 1, objs
lo = lo[0]
assert list(lo) == ["name", "index", "flags", "addresses"], list(lo)
assert lo["index"] == int(open("/sys/class/net/lo/ifindex").read()), lo
assert "loopback" in lo["flags"] and "up" in lo["flags"], lo
assert {"family": "inet", "address": "127.0.0.1", "prefix": 8} in lo["addresses"], lo
idx = [o["index"] for o in objs]
assert idx == sorted(idx) and len(set(idx)) == len(idx), idx
print("ok")' "$output"
	assert_output ok
}
