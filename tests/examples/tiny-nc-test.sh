#!/bin/bash
# tiny-nc-test.sh TINY_NC SOCKIT: the example really talks to a sockit listener.
set -u
tiny=$1 sockit=$2
dir=$(mktemp -d)
trap 'kill $lpid 2>/dev/null; rm -rf "$dir"' EXIT
echo "1..3"
printf 'reply from the listener\n' >"$dir/reply"
"$sockit" listen -v -U "$dir/s" <"$dir/reply" >"$dir/got" 2>"$dir/log" &
lpid=$!
for _ in $(seq 50); do grep -q '^listening on ' "$dir/log" && break; sleep 0.1; done
echo "hello from tiny-nc" | timeout 10 "$tiny" "unix:$dir/s" >"$dir/back"
rc=$?
wait "$lpid"
[[ $rc -eq 0 ]] && echo "ok 1 - tiny-nc exits 0" || echo "not ok 1 - tiny-nc exit $rc"
[[ $(cat "$dir/got") == "hello from tiny-nc" ]] && echo "ok 2 - listener got our line" ||
	echo "not ok 2 - listener got '$(cat "$dir/got")'"
[[ $(cat "$dir/back") == "reply from the listener" ]] && echo "ok 3 - reply reached stdout" ||
	echo "not ok 3 - got '$(cat "$dir/back")'"
