#!/usr/bin/env bash
# tests/bench/probe.sh - `sockit probe` of every loopback TCP port (1-65535)
# side by side with `nmap -sT -T5`, and of a smaller range with OpenBSD
# `nc -z`, with 3 known listeners: time per sweep and whether the open set is
# right (self-connects reported as open are wrong). SPEC §7. See
# tests/bench/README.md.
#
# It runs in a private network namespace (unshare -rn) when it can, so that
# no other service's listener comes and goes during a sweep: the open set
# must then be exactly the 3 known ports.
#
# usage: probe.sh [SOCKIT] [--runs 3] [--nc-range A-B] [--tools LIST] [--host-net]
set -u

usage() {
	cat <<'EOF'
usage: probe.sh [SOCKIT] [OPTIONS]
  SOCKIT            the sockit binary (default: $SOCKIT, /tmp/build-bench/src/sockit,
                    or sockit on PATH)
  --runs N          timed sweeps per tool (default 3), round-robin
  --nc-range A-B    the range for nc -z, which connects one port at a time
                    (default: the ephemeral port range, where self-connects
                    happen; sockit sweeps it too, for the ratio)
  --tools LIST      comma-separated subset of sockit,nmap,nc (default: all)
  --host-net        stay in the host's network namespace (other listeners
                    then count as right when ss -ltn shows them)
  -h, --help        this text
EOF
}

RUNS=3
NC_RANGE=$(tr '\t' '-' </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768-60999)
TOOLS_ARG=sockit,nmap,nc
SOCKIT_BIN=${SOCKIT:-}
HOST_NET=0
ARGS=("$@")
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift 2 ;;
	--runs=*) RUNS=${1#*=}; shift ;;
	--nc-range) NC_RANGE=$2; shift 2 ;;
	--nc-range=*) NC_RANGE=${1#*=}; shift ;;
	--tools) TOOLS_ARG=$2; shift 2 ;;
	--tools=*) TOOLS_ARG=${1#*=}; shift ;;
	--host-net) HOST_NET=1; shift ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "probe.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) SOCKIT_BIN=$1; shift ;;
	esac
done
. "$(dirname "$0")/lib.sh"
bench_sockit
case $RUNS in ''|*[!0-9]*|0) echo "probe.sh: bad --runs $RUNS" >&2; exit 2 ;; esac
case $NC_RANGE in [0-9]*-[0-9]*) ;; *) echo "probe.sh: bad --nc-range $NC_RANGE" >&2; exit 2 ;; esac
IFS=, read -r -a TOOLS <<<"$TOOLS_ARG"

# Into a network namespace of our own, with only a loopback interface.
if [ "$HOST_NET" = 0 ] && [ -z "${PROBE_BENCH_NETNS:-}" ] && command -v unshare >/dev/null &&
	unshare -rn true 2>/dev/null; then
	PROBE_BENCH_NETNS=1 exec unshare -rn "$0" "$SOCKIT_BIN" "${ARGS[@]}"
fi
if [ -n "${PROBE_BENCH_NETNS:-}" ]; then
	ip link set lo up || { echo "probe.sh: cannot bring up lo in the namespace" >&2; exit 1; }
	NETNS="a private network namespace (unshare -rn)"
else
	NETNS="the host's network namespace"
fi

need ss iproute2
need timeout
need "$PY"
for t in "${TOOLS[@]}"; do
	case $t in
	sockit) ;;
	nmap) need nmap "apt-get install nmap" ;;
	nc) need nc.openbsd "apt-get install netcat-openbsd" ;;
	*) echo "probe.sh: unknown tool $t" >&2; exit 2 ;;
	esac
done
bench_setup probe

# The probe of 65535 ports wants thousands of descriptors: sockit raises its
# own soft limit; nmap and nc get the same here.
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# Three known listeners on free ports, one of them inside NC_RANGE.
"$PY" - "${NC_RANGE%-*}" "${NC_RANGE#*-}" >"$TMP/known" 2>"$TMP/known.err" <<'EOF' &
import os, random, socket, sys, time
lo, hi = int(sys.argv[1]), int(sys.argv[2])
socks = []
def hold(port):
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen(128)
    socks.append(s)
    return s.getsockname()[1]
ports = [hold(0), hold(0)]
for _ in range(200):
    p = random.randint(max(lo, 1024), hi)
    try:
        ports.append(hold(p))
        break
    except OSError:
        pass
print(" ".join(map(str, sorted(ports))), flush=True)
time.sleep(3600)
EOF
BGPIDS+=($!)
for ((i = 0; i < 100; i++)); do
	[ -s "$TMP/known" ] && break
	sleep 0.05
done
read -r -a KNOWN <"$TMP/known"
[ ${#KNOWN[@]} = 3 ] || { echo "probe.sh: could not start 3 listeners: $(cat "$TMP/known.err")" >&2; exit 1; }

# Every TCP port something listens on for 127.0.0.1 (other services included).
listening() {
	ss -Hltn | awk '{ n = split($4, a, ":"); h = substr($4, 1, length($4) - length(a[n]) - 1)
		if (h == "127.0.0.1" || h == "0.0.0.0" || h == "*" || h == "[::]" || h ~ /^127\./) print a[n] }' | sort -un
}

# open_ports TOOL LO HI: run one sweep, print the open ports (sorted) on
# stdout and the wall time in seconds on fd 3.
sweep() {
	local tool=$1 lo=$2 hi=$3 start end
	start=$(date +%s.%N)
	case $tool in
	sockit)
		timeout 120 "$SOCKIT_BIN" probe -q 127.0.0.1 "$lo-$hi" >"$TMP/out" 2>"$TMP/err"
		awk '$3 == "open" { sub("/tcp", "", $2); print $2 }' "$TMP/out" ;;
	nmap)
		timeout 300 nmap -sT -T5 -n -Pn -p"$lo-$hi" -oG "$TMP/out" 127.0.0.1 >/dev/null 2>"$TMP/err"
		grep -o '[0-9]*/open/tcp' "$TMP/out" | cut -d/ -f1 ;;
	nc)
		timeout 300 nc.openbsd -z -v -w 1 127.0.0.1 "$lo-$hi" >"$TMP/out" 2>&1
		sed -n 's/^Connection to 127.0.0.1 \([0-9]*\) port .*succeeded.*/\1/p' "$TMP/out" ;;
	esac | sort -un >"$TMP/open"
	end=$(date +%s.%N)
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

# check TOOL LO HI: compare $TMP/open with what listened in [LO, HI] before
# and after; prints "ok" or what was missing/extra.
check() {
	local lo=$2 hi=$3 k missing='' extra='' p
	for k in "${KNOWN[@]}"; do
		((k >= lo && k <= hi)) || continue
		grep -qx "$k" "$TMP/open" || missing+=" $k"
	done
	while read -r p; do
		[ -n "$p" ] || continue
		grep -qx "$p" "$TMP/listen.before" || grep -qx "$p" "$TMP/listen.after" || extra+=" $p"
	done <"$TMP/open"
	if [ -z "$missing$extra" ]; then echo ok; else echo "WRONG${missing:+ missing:$missing}${extra:+ extra (not listening):$extra}"; fi
}

echo "sockit probe benchmark: $SOCKIT_BIN ($("$SOCKIT_BIN" --version 2>/dev/null | head -n 1))"
echo "host: $(uname -srm), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "network: $NETNS"
echo "fd limit $(ulimit -n); ephemeral ports $(tr '\t' '-' </proc/sys/net/ipv4/ip_local_port_range); known listeners: ${KNOWN[*]}"
command -v nmap >/dev/null && echo "nmap: $(nmap --version | head -n 1)"
echo

declare -A RANGE=([sockit]=1-65535 [nmap]=1-65535 [nc]=$NC_RANGE [sockit-nc]=$NC_RANGE)
JOBS=()
for t in "${TOOLS[@]}"; do
	JOBS+=("$t")
	[ "$t" = nc ] && JOBS+=(sockit-nc)
done
for j in "${JOBS[@]}"; do : >"$TMP/$j.times"; : >"$TMP/$j.check"; done

# warm-up (page cache, first run of each binary), not counted
for j in "${JOBS[@]}"; do
	r=${RANGE[$j]}
	sweep "${j%-nc}" "${r%-*}" "${r#*-}" >/dev/null
done
for ((run = 1; run <= RUNS; run++)); do
	for j in "${JOBS[@]}"; do
		r=${RANGE[$j]}
		listening >"$TMP/listen.before"
		secs=$(sweep "${j%-nc}" "${r%-*}" "${r#*-}")
		listening >"$TMP/listen.after"
		verdict=$(check "$j" "${r%-*}" "${r#*-}")
		echo "$secs" >>"$TMP/$j.times"
		echo "$verdict" >>"$TMP/$j.check"
		log "  run $run $(printf '%-10s' "$j") ports $(printf '%-11s' "$r") $(printf '%7.3f' "$secs") s  $(wc -l <"$TMP/open") open  $verdict"
	done
done

label() {
	case $1 in
	sockit) echo "sockit probe 127.0.0.1 1-65535" ;;
	nmap) echo "nmap -sT -T5 -p1-65535 127.0.0.1" ;;
	nc) echo "nc.openbsd -z 127.0.0.1 $NC_RANGE" ;;
	sockit-nc) echo "sockit probe 127.0.0.1 $NC_RANGE" ;;
	esac
}
declare -A MED=()
echo "== one sweep of loopback TCP ports: median of $RUNS runs (min-max), open set checked against ss -ltn =="
printf '%-38s %8s %17s  %-8s %s\n' tool seconds "(min-max)" "vs nmap" "open set"
for j in "${JOBS[@]}"; do
	f=$TMP/$j.times
	MED[$j]=$(median "$f" 1)
done
for j in "${JOBS[@]}"; do
	f=$TMP/$j.times
	vs=-
	case $j in
	sockit) vs=$(ratio "${MED[nmap]:-}" "${MED[sockit]}") ;;
	nmap) vs=1.00 ;;
	esac
	wrong=$(grep -vc '^ok$' "$TMP/$j.check")
	printf '%-38s %8.3f %17s  %-8s %s\n' "$(label "$j")" "${MED[$j]}" \
		"($(printf '%.3f-%.3f' "$(colmin "$f" 1)" "$(colmax "$f" 1)"))" "$vs" \
		"$([ "$wrong" = 0 ] && echo "right in every run" || echo "WRONG in $wrong run(s): $(grep -vm1 '^ok$' "$TMP/$j.check")")"
done
if [ -n "${MED[nc]:-}" ] && [ -n "${MED[sockit-nc]:-}" ]; then
	echo "(nc -z connects one port at a time: over $NC_RANGE sockit is $(ratio "${MED[nc]}" "${MED[sockit-nc]}")x as fast)"
fi
if [ -n "${MED[sockit]:-}" ] && [ -n "${MED[nmap]:-}" ]; then
	echo
	wrong=$(grep -vc '^ok$' "$TMP/sockit.check")
	awk -v s="${MED[sockit]}" -v n="${MED[nmap]}" -v w="$wrong" 'BEGIN {
		printf "SPEC §7 target: all 65535 loopback ports at least 1.5x as fast as nmap -sT -T5, and right: %s (%.2fx, %s)\n",
			(n / s >= 1.5 && w == 0) ? "MET" : "MISSED", n / s, w == 0 ? "open set right" : "open set WRONG" }'
fi
echo
echo "done: load average $(cut -d' ' -f1-3 /proc/loadavg)"
