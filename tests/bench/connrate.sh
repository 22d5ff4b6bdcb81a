#!/usr/bin/env bash
# tests/bench/connrate.sh - connections per second through a per-connection
# echo program (`sockit listen -k --exec cat`) against socat fork EXEC:cat,
# ncat -k --exec and a plain-C fork+exec floor, with 1 and 50 concurrent
# clients, every echo verified. SPEC §7. See tests/bench/README.md.
#
# usage: connrate.sh [SOCKIT] [--seconds 5] [--clients 1,50] [--runs 3]
#                    [--tools LIST] [--strace]
set -u

usage() {
	cat <<'EOF'
usage: connrate.sh [SOCKIT] [OPTIONS]
  SOCKIT            the sockit binary (default: $SOCKIT, /tmp/build-bench/src/sockit,
                    or sockit on PATH)
  --seconds N       length of each measurement (default 5)
  --clients LIST    comma-separated concurrency levels (default 1,50)
  --runs N          runs per tool and concurrency (default 3), interleaved round-robin
  --tools LIST      comma-separated subset of:
                    sockit,sockit-sh,socat,ncat,floor,floor-spawn,sockit-nohc,ncat-nohc
                    (default: all; -nohc = the client reads the 64 bytes back and
                    closes without a half-close, because ncat loses the echo after one)
  --strace          also run sockit (c=max) under strace -f and report the syscalls
                    per connection of sockit, of its child before exec, and of cat
  -h, --help        this text
EOF
}

SECS=5
CLIENTS_ARG=1,50
RUNS=3
TOOLS_ARG=sockit,sockit-sh,socat,ncat,floor,floor-spawn,sockit-nohc,ncat-nohc
DO_STRACE=0
SOCKIT_BIN=${SOCKIT:-}

while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECS=$2; shift 2 ;;
	--seconds=*) SECS=${1#*=}; shift ;;
	--clients) CLIENTS_ARG=$2; shift 2 ;;
	--clients=*) CLIENTS_ARG=${1#*=}; shift ;;
	--runs) RUNS=$2; shift 2 ;;
	--runs=*) RUNS=${1#*=}; shift ;;
	--tools) TOOLS_ARG=$2; shift 2 ;;
	--tools=*) TOOLS_ARG=${1#*=}; shift ;;
	--strace) DO_STRACE=1; shift ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "connrate.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) SOCKIT_BIN=$1; shift ;;
	esac
done

. "$(dirname "$0")/lib.sh"
bench_sockit

case $SECS in ''|*[!0-9.]*) echo "connrate.sh: bad --seconds $SECS" >&2; exit 2 ;; esac
case $RUNS in ''|*[!0-9]*|0) echo "connrate.sh: bad --runs $RUNS" >&2; exit 2 ;; esac
IFS=, read -r -a TOOLS <<<"$TOOLS_ARG"
IFS=, read -r -a CLIENTS <<<"$CLIENTS_ARG"
for c in "${CLIENTS[@]}"; do
	case $c in ''|*[!0-9]*|0) echo "connrate.sh: bad --clients $CLIENTS_ARG" >&2; exit 2 ;; esac
done

need ss iproute2
need timeout
need "$PY"
need cc "to build connrate.c: the client driver and the C floor"
for t in "${TOOLS[@]}"; do
	case $t in
	sockit|sockit-sh|floor|floor-spawn|sockit-nohc) ;;
	socat) need socat ;;
	ncat|ncat-nohc) need ncat ;;
	*) echo "connrate.sh: unknown tool $t" >&2; exit 2 ;;
	esac
done
[ $DO_STRACE = 1 ] && need strace
[ -x /bin/cat ] || { echo "connrate.sh: /bin/cat is required" >&2; exit 2; }

# The servers run with Debian's default PATH (cat is found in /usr/bin, 4th), so
# a long PATH in the caller's environment does not add failed execve()s to
# sockit and socat (which search PATH) but not to ncat (given /bin/cat).
SRV_PATH=${CONNRATE_PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
bench_setup connrate

# SCMD: the echo server on 127.0.0.1:$2, one /bin/cat per connection.
set_cmd() {
	local tool=$1 port=$2
	case $tool in
	sockit|sockit-nohc) SCMD=("$SOCKIT_BIN" listen -k --exec cat 127.0.0.1 "$port") ;;
	sockit-sh) SCMD=("$SOCKIT_BIN" listen -k --sh cat 127.0.0.1 "$port") ;;
	socat) SCMD=(socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr,backlog=1024" EXEC:cat) ;;
	ncat|ncat-nohc) SCMD=(ncat -l -k --exec /bin/cat 127.0.0.1 "$port") ;;
	floor) SCMD=("$TMP/connrate" serve-fork "$port") ;;
	floor-spawn) SCMD=("$TMP/connrate" serve-spawn "$port") ;;
	esac
}

label() {
	case $1 in
	sockit) echo "sockit listen -k --exec cat" ;;
	sockit-sh) echo "sockit listen -k --sh cat" ;;
	socat) echo "socat fork EXEC:cat" ;;
	ncat) echo "ncat -k --exec /bin/cat" ;;
	floor) echo "C floor fork+exec" ;;
	floor-spawn) echo "C posix_spawn" ;;
	sockit-nohc) echo "sockit --exec cat, no half-close" ;;
	ncat-nohc) echo "ncat --exec, no half-close" ;;
	esac
}

# one_run TOOL CONC [WRAPPER...]: start the server (under the rusage timer, or
# under WRAPPER), run the client driver for SECS, stop the server. Appends
# "ok fail elapsed conns/s p50 p99 bad reset timeout connerr srv_cpu_us_per_conn"
# to $TMP/TOOL.cCONC.res (without a wrapper).
one_run() {
	local tool=$1 conc=$2 attempt port spid out rc
	shift 2
	for ((attempt = 1; attempt <= 5; attempt++)); do
		port=$(free_port)
		set_cmd "$tool" "$port"
		rm -f "$TMP/srv.time"
		if [ $# -gt 0 ]; then
			env PATH="$SRV_PATH" "$@" "${SCMD[@]}" </dev/null >/dev/null 2>"$TMP/srv.err" &
		else
			env PATH="$SRV_PATH" "$TMP/connrate" time "$TMP/srv.time" "${SCMD[@]}" </dev/null >/dev/null 2>"$TMP/srv.err" &
		fi
		spid=$!
		BGPIDS=("$spid")
		if wait_listen "$port" "$spid"; then
			break
		fi
		kill -TERM "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null
		log "  $tool: server did not listen on port $port (attempt $attempt): $(head -c 300 "$TMP/srv.err")"
		spid=
	done
	[ -n "$spid" ] || return 1

	# The client stops starting connections after SECS; each has a 5 s deadline.
	local mode=
	case $tool in *-nohc) mode=read64 ;; esac
	out=$(timeout -s KILL "$(awk -v s="$SECS" 'BEGIN { print int(s + 30) }')" \
		"$TMP/connrate" client "$port" "$conc" "$SECS" $mode)
	rc=$?
	# Let the last children finish writing/exiting (bounded), then stop the server.
	sleep 0.2
	if [ $# -gt 0 ]; then
		# WRAPPER (strace) exits when the server, its child, has gone
		pkill -TERM -P "$spid" 2>/dev/null
	else
		kill -TERM "$spid" 2>/dev/null # the timer forwards it to the server
	fi
	local i
	for ((i = 0; i < 200; i++)); do
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.025
	done
	if kill -0 "$spid" 2>/dev/null; then
		log "  $tool: server ignored SIGTERM for 5 s; killing it"
		pkill -KILL -P "$spid" 2>/dev/null
		kill -KILL "$spid" 2>/dev/null
	fi
	wait "$spid" 2>/dev/null
	BGPIDS=()
	if [ $rc -ne 0 ] || [ -z "$out" ]; then
		log "  $tool c=$conc: client driver failed (exit $rc); server stderr: $(head -c 300 "$TMP/srv.err")"
		return 1
	fi
	if [ $# -gt 0 ]; then
		echo "$out"
		return 0
	fi
	local cpu=-
	[ -s "$TMP/srv.time" ] && cpu=$(awk -v ok="${out%% *}" '{ if (ok >= 10) printf "%.0f", ($2 + $3) * 1e6 / ok; else print "-" }' "$TMP/srv.time")
	echo "$out $cpu" >>"$TMP/$tool.c$conc.res"
	echo "$out $cpu"
}

echo "sockit connection-rate benchmark: $SOCKIT_BIN ($("$SOCKIT_BIN" --version 2>/dev/null | head -n 1))"
echo "host: $(uname -srm), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
cc -O2 -pthread -o "$TMP/connrate" "$HERE/connrate.c" || { echo "connrate.sh: cannot build connrate.c" >&2; exit 1; }

echo
echo "== connections/s through a per-connection /bin/cat on 127.0.0.1: ${SECS} s x $RUNS runs per tool and concurrency, round-robin =="
echo "   each connection: connect, send 64 bytes, shutdown(SHUT_WR), read to EOF, verify the echo, close (5 s deadline)"
echo "   servers run with PATH=$SRV_PATH"
echo "   server CPU = user+sys of the server and the children it reaped (wait4 rusage), per verified connection"

for t in "${TOOLS[@]}"; do
	# warm-up (page cache, first exec of each binary), not counted
	SECS_SAVE=$SECS
	SECS=0.5
	one_run "$t" 1 >/dev/null || log "  warm-up $t failed"
	SECS=$SECS_SAVE
	for c in "${CLIENTS[@]}"; do : >"$TMP/$t.c$c.res"; done
done
for ((run = 1; run <= RUNS; run++)); do
	for c in "${CLIENTS[@]}"; do
		for t in "${TOOLS[@]}"; do
			r=$(one_run "$t" "$c") || { log "  run $run $t c=$c failed"; continue; }
			log "  run $run c=$(printf '%-3s' "$c") $(printf '%-12s' "$t") $(awk '{ printf "%8.1f conns/s  %d ok  %d failed  p50 %.1f ms  p99 %.1f ms  server %s us CPU/conn", $4, $1, $2, $5, $6, $11 }' <<<"$r")"
		done
	done
done

declare -A RATE=() NCAT_ANCHOR=()
for c in "${CLIENTS[@]}"; do
	echo
	echo "-- $c concurrent client(s)"
	printf '%-34s %9s %17s %8s %7s %7s %9s | %8s %8s %8s\n' "tool" "conns/s" "(min-max)" "failed" "p50 ms" "p99 ms" "srv us/c" "vs socat" "vs ncat" "vs floor"
	for t in "${TOOLS[@]}"; do
		f=$TMP/$t.c$c.res
		[ -s "$f" ] && RATE[$t.$c]=$(median "$f" 4)
	done
	# ncat loses the echo after the client's half-close: when it fails, its anchor
	# is the run without half-close (compare it with sockit-nohc too).
	NCAT_ANCHOR[$c]=ncat
	if [ -n "${RATE[ncat-nohc.$c]:-}" ] && { [ -z "${RATE[ncat.$c]:-}" ] || [ "$(colsum "$TMP/ncat.c$c.res" 2)" != 0 ]; }; then
		NCAT_ANCHOR[$c]=ncat-nohc
	fi
	for t in "${TOOLS[@]}"; do
		f=$TMP/$t.c$c.res
		if [ ! -s "$f" ]; then
			printf '%-34s %9s\n' "$(label "$t")" "FAILED"
			continue
		fi
		printf '%-34s %9.1f %17s %8s %7.1f %7.1f %9s | %8s %8s %8s\n' "$(label "$t")" "${RATE[$t.$c]}" \
			"($(printf '%.0f-%.0f' "$(colmin "$f" 4)" "$(colmax "$f" 4)"))" "$(colsum "$f" 2)" \
			"$(median "$f" 5)" "$(median "$f" 6)" "$(printf '%.0f' "$(median "$f" 11)" 2>/dev/null || echo -)" \
			"$(ratio "${RATE[$t.$c]}" "${RATE[socat.$c]:-}")" "$(ratio "${RATE[$t.$c]}" "${RATE[${NCAT_ANCHOR[$c]}.$c]:-}")" \
			"$(ratio "${RATE[$t.$c]}" "${RATE[floor.$c]:-}")"
		awk '{ b += $7; r += $8; t += $9; e += $10 } END { if (b + r + t + e)
			printf "      failures over all runs: %d bad echo, %d reset, %d timeout, %d connect error\n", b, r, t, e }' "$f"
	done
done
echo "(conns/s: median over runs of verified connections per second; failed: total over all runs;"
echo " p50/p99: connection latency connect..EOF, median over runs; ratios: higher is better;"
echo " vs ncat: against ncat-nohc where ncat failed with the half-close)"

if [ -n "$(for c in "${CLIENTS[@]}"; do echo -n "${RATE[sockit.$c]:-}"; done)" ]; then
	echo
	echo "SPEC §7 target: connection rate through listen -k --exec cat above socat and ncat:"
	for c in "${CLIENTS[@]}"; do
		s=${RATE[sockit.$c]:-}
		[ -n "$s" ] || continue
		fails=$(colsum "$TMP/sockit.c$c.res" 2)
		# like for like: sockit-nohc against ncat-nohc when that is the ncat anchor
		sn=$s
		[ "${NCAT_ANCHOR[$c]}" = ncat-nohc ] && [ -n "${RATE[sockit-nohc.$c]:-}" ] && sn=${RATE[sockit-nohc.$c]}
		awk -v c="$c" -v s="$s" -v sn="$sn" -v so="${RATE[socat.$c]:-}" -v nc="${RATE[${NCAT_ANCHOR[$c]}.$c]:-}" -v nl="${NCAT_ANCHOR[$c]}" -v f="$fails" 'BEGIN {
			ok = 1; d = ""
			if (so != "") { d = d sprintf(" %.2fx socat", s / so); if (s <= so) ok = 0 }
			if (nc != "") { d = d sprintf(" %.2fx %s", sn / nc, nl); if (sn <= nc) ok = 0 }
			if (so == "" && nc == "") { printf "  c=%-3s no anchor measured\n", c; exit }
			printf "  c=%-3s %s (%s;%s failed connections)\n", c, (ok && f == 0 ? "MET" : "MISSED"), substr(d, 2), (f == 0 ? " no" : " " f)
		}'
	done
fi

# ------------------------------------------------------------------ strace ---
# One sockit run under a full `strace -f`, every call attributed to sockit itself,
# to a child between fork and its successful execve, or to the exec'd cat.
if [ $DO_STRACE = 1 ]; then
	cmax=${CLIENTS[${#CLIENTS[@]} - 1]}
	echo
	echo "== strace -f of sockit listen -k --exec cat, $cmax client(s), ${SECS} s (strace slows it down) =="
	r=$(one_run sockit "$cmax" strace -f -qq -o "$TMP/strace.out") || r=
	if [ -n "$r" ] && [ -s "$TMP/strace.out" ]; then
		ok=${r%% *}
		echo "  $ok verified connections under strace ($(awk '{ printf "%.1f", $4 }' <<<"$r") conns/s)"
		"$PY" - "$TMP/strace.out" "$ok" <<'EOF2'
import collections, re, sys
path, ok = sys.argv[1], max(int(sys.argv[2]), 1)
line_re = re.compile(r'^(\d+) +(?:<\.\.\. )?(\w+)(?:\(| resumed>)(.*?)(?:\) += (-?\d+|\?)(.*))?$')
root, state = None, {}
calls = {k: collections.Counter() for k in ("sockit", "child before exec", "cat (after exec)")}
errs = {k: collections.Counter() for k in calls}
forks = collections.Counter()
for line in open(path, errors="replace"):
    m = line_re.match(line.rstrip("\n"))
    if not m:
        continue
    pid, call, args, ret = int(m.group(1)), m.group(2), m.group(3), m.group(4)
    if "unfinished" in line:
        continue  # counted when it resumes
    if root is None:
        root = pid
    if pid == root:
        who = "sockit"
    else:
        who = state.setdefault(pid, "child before exec")
    calls[who][call] += 1
    if ret is not None and ret.startswith("-"):
        errs[who][call] += 1
    if pid == root and call in ("clone", "clone3", "fork", "vfork"):
        flags = re.findall(r'CLONE_\w+', line)
        forks["%s(%s)" % (call, "|".join(f for f in flags if f in ("CLONE_VM", "CLONE_VFORK")) or "no CLONE_VM")] += 1
    if call == "execve" and pid != root and ret == "0":
        state[pid] = "cat (after exec)"
for who in calls:
    total = sum(calls[who].values())
    print("  %-18s %7.1f syscalls/conn; top: %s" % (who, total / ok, ", ".join(
        "%s %.1f%s" % (c, n / ok, " (%.1f failed)" % (errs[who][c] / ok) if errs[who][c] else "")
        for c, n in calls[who].most_common(8))))
print("  process creation by sockit: %s" % (", ".join("%s x%d" % kv for kv in forks.items()) or "none seen"))
EOF2
	else
		echo "  (strace run failed)"
	fi
fi

echo
echo "done: load average $(cut -d' ' -f1-3 /proc/loadavg)"
