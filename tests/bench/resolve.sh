#!/usr/bin/env bash
# tests/bench/resolve.sh - resolve a batch of names from a local hosts file:
# `sockit resolve -` (a bounded pool of threads, input order kept) against a
# shell loop over `getent ahostsv4 NAME` and one `getent ahostsv4 N1 N2 ...`.
# Issue 6's resolve benchmark. See tests/bench/README.md.
#
# usage: resolve.sh [SOCKIT] [--names 1000] [--runs 5]
set -u

usage() {
	cat <<'EOF'
usage: resolve.sh [SOCKIT] [OPTIONS]
  SOCKIT          the sockit binary (default: $SOCKIT, /tmp/build-bench/src/sockit,
                  or sockit on PATH)
  --names N       names in the hosts file and in the batch (default 1000)
  --runs N        runs per tool (default 5), interleaved round-robin
  -h, --help      this text
EOF
}

NAMES=1000
RUNS=5
SOCKIT_BIN=${SOCKIT:-}
while [ $# -gt 0 ]; do
	case $1 in
	--names) NAMES=$2; shift 2 ;;
	--names=*) NAMES=${1#*=}; shift ;;
	--runs) RUNS=$2; shift 2 ;;
	--runs=*) RUNS=${1#*=}; shift ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "resolve.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) SOCKIT_BIN=$1; shift ;;
	esac
done
. "$(dirname "$0")/lib.sh"
bench_sockit
case $NAMES in ''|*[!0-9]*|0) echo "resolve.sh: bad --names $NAMES" >&2; exit 2 ;; esac
case $RUNS in ''|*[!0-9]*|0) echo "resolve.sh: bad --runs $RUNS" >&2; exit 2 ;; esac

need getent
need unshare "util-linux: a private mount namespace for the hosts file"
need timeout
bench_setup resolve

# The hosts file, its names in shuffled order (the batch asks for them in
# another order than the file lists them), and files-only lookups, so that
# no query leaves the machine and every run sees the same answers.
for ((i = 1; i <= NAMES; i++)); do
	printf '10.%d.%d.%d\tn%d.bench\n' $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255)) "$i"
done >"$TMP/hosts"
printf '127.0.0.1\tlocalhost\n' >>"$TMP/hosts"
cut -f2 "$TMP/hosts" | grep '^n' | shuf >"$TMP/names"
printf 'hosts: files\n' >"$TMP/nsswitch.conf"

NS=(unshare -m --propagation private)
[ "$(id -u)" = 0 ] || NS=(unshare -r -m --propagation private)

# in_ns CMD...: CMD with the bench hosts file as /etc/hosts.
in_ns() {
	timeout 600 "${NS[@]}" /bin/sh -c \
		'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf && shift 2 && exec "$@"' \
		sh "$TMP/hosts" "$TMP/nsswitch.conf" "$@"
}

# The timed command of each tool, run inside the namespace by bash; it prints
# its wall time in ms on fd 3 and its answers on stdout.
tool_script() {
	case $1 in
	sockit) echo '"$S" resolve -4 --type stream - <"$N"' ;;
	getent-loop) echo 'while IFS= read -r n; do getent ahostsv4 "$n"; done <"$N"' ;;
	getent-one) echo 'xargs getent ahostsv4 <"$N"' ;;
	esac
}
label() {
	case $1 in
	sockit) echo "sockit resolve - (threads)" ;;
	getent-loop) echo "shell loop: getent ahostsv4 NAME" ;;
	getent-one) echo "getent ahostsv4 N1 N2 ... (one process)" ;;
	esac
}

# one_run TOOL RUN: time TOOL once; the answers go to $TMP/TOOL.RUN.out.
one_run() {
	local tool=$1 run=$2
	in_ns env S="$SOCKIT_BIN" N="$TMP/names" bash -c '
		t0=$(date +%s%N)
		'"$(tool_script "$tool")"'
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000000)) >&3' 3>>"$TMP/$tool.ms" >"$TMP/$tool.$run.out"
}

# The addresses, in order, one per name: sockit prints "NAME ADDRESS", getent
# "ADDRESS STREAM NAME" (name on the first line only) then DGRAM and RAW lines.
answers() {
	case $1 in
	sockit) awk '{ print $2 }' "$2" ;;
	*) awk '$2 == "STREAM" { print $1 }' "$2" ;;
	esac
}

TOOLS=(sockit getent-loop getent-one)
log "resolve.sh: $NAMES names, $RUNS runs, sockit $SOCKIT_BIN"
in_ns true || { echo "resolve.sh: cannot make a private mount namespace (unshare -m)" >&2; exit 2; }
# The expected answers, in batch order, straight from the hosts file.
awk 'NR == FNR { a[$2] = $1; next } { print a[$1] }' "$TMP/hosts" "$TMP/names" >"$TMP/want"
for ((r = 1; r <= RUNS; r++)); do
	for t in "${TOOLS[@]}"; do
		one_run "$t" "$r"
		if ! answers "$t" "$TMP/$t.$r.out" | cmp -s - "$TMP/want"; then
			echo "resolve.sh: $t run $r: answers differ from the hosts file" >&2
			exit 1
		fi
		log "  run $r $t: $(tail -n1 "$TMP/$t.ms") ms"
	done
done

printf '\n%-42s %10s %10s %10s %12s\n' "tool ($NAMES names, $RUNS runs)" "median ms" "min" "max" "names/s"
for t in "${TOOLS[@]}"; do
	med=$(median "$TMP/$t.ms" 1)
	printf '%-42s %10s %10s %10s %12s\n' "$(label "$t")" "$med" "$(colmin "$TMP/$t.ms" 1)" \
		"$(colmax "$TMP/$t.ms" 1)" "$(awk -v n="$NAMES" -v m="$med" 'BEGIN { if (m > 0) printf "%.0f", n * 1000 / m; else print "-" }')"
done
s=$(median "$TMP/sockit.ms" 1)
printf '\nsockit vs the shell loop: %sx faster; vs one getent process: %sx\n' \
	"$(ratio "$(median "$TMP/getent-loop.ms" 1)" "$s")" "$(ratio "$(median "$TMP/getent-one.ms" 1)" "$s")"
echo "every run's answers matched the hosts file, in input order"
