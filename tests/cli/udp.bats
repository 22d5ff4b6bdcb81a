#!/usr/bin/env bats
# udp.bats - listen -u with --timestamps and bursts (recvmmsg batches).

load lib/common

send_datagrams() { # send_datagrams PORT COUNT: "datagram N" each, as fast as Python goes
	"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(b"datagram %d" % i, ("127.0.0.1", int(sys.argv[1])))
' "$1" "$2"
}

@test "--timestamps: each datagram is one line after its kernel receive time (UTC, ns)" {
	listen_bg -u --timestamps 127.0.0.1 0
	send_datagrams "$LPORT" 50
	wait_until 5 eval '(( $(wc -l <"$T/listen.out") == 50 ))'
	# Parseable, in order, close to now, and the payload intact after the stamp.
	run -0 "$PY" -c '
import datetime, re, sys, time
prev = None
for i, line in enumerate(open(sys.argv[1])):
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{9})Z datagram (\d+)\n", line)
    assert m, line
    assert int(m.group(3)) == i, line
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp() + int(m.group(2)) / 1e9
    assert abs(t - time.time()) < 60, line
    assert prev is None or t >= prev, "time went backwards at %d" % i
    prev = t
print("ok")
' "$T/listen.out"
	assert_output ok
}

@test "a burst of 200 datagrams arrives whole and in order" {
	listen_bg -u 127.0.0.1 0
	send_datagrams "$LPORT" 200
	wait_until 5 eval '(( $(stat -c %s "$T/listen.out") == $(seq 0 199 | sed "s/^/datagram /" | tr -d "\n" | wc -c) ))'
	assert_equal "$(cat "$T/listen.out")" "$(seq 0 199 | sed 's/^/datagram /' | tr -d '\n')"
}

@test "--timestamps on a stream listener is exit 2 before anything listens" {
	run -2 "$SOCKIT" listen --timestamps 127.0.0.1 0
	assert_output "sockit: listen: --timestamps needs a datagram listener (-u), not tcp-listen"
}
