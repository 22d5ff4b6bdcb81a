#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# lib.sh - what the benchmark scripts share: requirements, scratch space and
# background processes that are always cleaned up, free ports, readiness,
# and the small statistics of their tables. Source it after option parsing:
#   . "$(dirname "$0")/lib.sh"; bench_sockit; ...; bench_setup NAME
# The script may define bench_cleanup_extra, run on exit before TMP goes.

BENCH=$(basename "$0" .sh)
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x $PY ] || PY=python3
BGPIDS=()

log() { printf '%s\n' "$*" >&2; }

# bench_sockit: settle SOCKIT_BIN (the script's argument, else
# /tmp/build-bench/src/sockit, else sockit on PATH) as an absolute path, or stop.
bench_sockit() {
	if [ -z "$SOCKIT_BIN" ]; then
		if [ -x /tmp/build-bench/src/sockit ]; then
			SOCKIT_BIN=/tmp/build-bench/src/sockit
		else
			SOCKIT_BIN=$(command -v sockit || true)
		fi
	fi
	[ -n "$SOCKIT_BIN" ] && [ -x "$SOCKIT_BIN" ] ||
		{ echo "$BENCH.sh: no sockit binary (give its path)" >&2; exit 2; }
	SOCKIT_BIN=$(readlink -f "$SOCKIT_BIN")
}

# need CMD [WHY]: stop with a clear message when CMD is missing.
need() { command -v "$1" >/dev/null 2>&1 || { echo "$BENCH.sh: $1 is required${2:+ ($2)}" >&2; exit 2; }; }

# Stop every background process (and its children: a server under a timer or
# strace), give them 3 s, then kill what is left; remove the scratch dir.
bench_cleanup() {
	local p i alive
	for p in "${BGPIDS[@]}"; do
		pkill -TERM -P "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
	done
	for ((i = 0; i < 30; i++)); do
		alive=0
		for p in "${BGPIDS[@]}"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${BGPIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	declare -F bench_cleanup_extra >/dev/null && bench_cleanup_extra
	rm -rf "$TMP"
}

# bench_setup NAME: scratch dir /tmp/sockit-NAME.XXXXXX in TMP, cleanup traps.
bench_setup() {
	TMP=$(mktemp -d "/tmp/sockit-$1.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

# A TCP (or, with "udp", a UDP) port free on 127.0.0.1 right now.
free_port() {
	"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1:] == ["udp"] else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' "$@"
}

# wait_socket t|u PORT PID: until a TCP socket listens on :PORT (t) or a UDP
# socket is bound to it (u), bounded (10 s); fail early when PID has gone.
wait_socket() {
	local proto=$1 port=$2 pid=$3 i
	for ((i = 0; i < 2000; i++)); do
		if [ -n "$(ss -Hl${proto}n "sport = :$port" 2>/dev/null)" ]; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.005
	done
	return 1
}

# wait_listen PORT PID: wait_socket for a TCP listener.
wait_listen() { wait_socket t "$@"; }

# median FILE COLUMN (rows whose value is "-" are left out; "nan" when none).
median() {
	awk -v c="$2" '$c != "-" { print $c }' "$1" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) { print "nan"; exit }
		      if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
colmin() { awk -v c="$2" 'NR == 1 || $c < m { m = $c } END { print m }' "$1"; }
colmax() { awk -v c="$2" 'NR == 1 || $c > m { m = $c } END { print m }' "$1"; }
colsum() { awk -v c="$2" '{ s += $c } END { print s + 0 }' "$1"; }

# ratio A B -> A/B with 2 decimals, or "-" when either is missing or B is 0.
ratio() {
	if [ -n "${1:-}" ] && [ -n "${2:-}" ] && [ "$1" != nan ] && [ "$2" != nan ]; then
		awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
	else echo -; fi
}
