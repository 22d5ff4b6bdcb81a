#!/usr/bin/env bash
# tests/bench/throughput.sh - one-way bulk TCP over loopback, and start-up time:
# sockit against OpenBSD nc, ncat, socat (plain and -b 131072) and a plain-C floor.
# SPEC §7. See tests/bench/README.md.
#
# usage: throughput.sh [SOCKIT] [--size 1G] [--runs 5] [--source shm|pipe]
#                      [--tools LIST] [--no-startup] [--strace] [--keep-going]
set -u

usage() {
	cat <<'EOF'
usage: throughput.sh [SOCKIT] [OPTIONS]
  SOCKIT            the sockit binary (default: $SOCKIT, /tmp/build-bench/src/sockit,
                    or sockit on PATH)
  --size SIZE       bytes per transfer, with K/M/G suffixes (IEC; default 1G)
  --runs N          timed runs per tool (default 5), interleaved round-robin
  --source shm|pipe shm (canonical): the sender's stdin is a pre-generated file in
                    /dev/shm; pipe: `head -c SIZE /dev/zero | sender`
  --tools LIST      comma-separated subset of:
                    sockit,nc,ncat,socat,socat-b128k,floor,floor-io (default: all)
  --no-startup      skip the hyperfine start-up section
  --no-transfer     skip the transfer section
  --strace          also trace sockit transfers: strace -c -f, per-call sizes,
                    and perf syscall counts when perf is available
  -h, --help        this text
EOF
}

SIZE_ARG=1G
RUNS=5
SOURCE=shm
TOOLS_ARG=sockit,nc,ncat,socat,socat-b128k,floor,floor-io
DO_STARTUP=1
DO_TRANSFER=1
DO_STRACE=0
SOCKIT_BIN=${SOCKIT:-}

while [ $# -gt 0 ]; do
	case $1 in
	--size) SIZE_ARG=$2; shift 2 ;;
	--size=*) SIZE_ARG=${1#*=}; shift ;;
	--runs) RUNS=$2; shift 2 ;;
	--runs=*) RUNS=${1#*=}; shift ;;
	--source) SOURCE=$2; shift 2 ;;
	--source=*) SOURCE=${1#*=}; shift ;;
	--tools) TOOLS_ARG=$2; shift 2 ;;
	--tools=*) TOOLS_ARG=${1#*=}; shift ;;
	--no-startup) DO_STARTUP=0; shift ;;
	--no-transfer) DO_TRANSFER=0; shift ;;
	--strace) DO_STRACE=1; shift ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "throughput.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) SOCKIT_BIN=$1; shift ;;
	esac
done

. "$(dirname "$0")/lib.sh"
bench_sockit

SIZE=$(numfmt --from=iec "$SIZE_ARG" 2>/dev/null) || { echo "throughput.sh: bad --size $SIZE_ARG" >&2; exit 2; }
case $RUNS in ''|*[!0-9]*|0) echo "throughput.sh: bad --runs $RUNS" >&2; exit 2 ;; esac
case $SOURCE in shm|pipe) ;; *) echo "throughput.sh: --source is shm or pipe" >&2; exit 2 ;; esac
IFS=, read -r -a TOOLS <<<"$TOOLS_ARG"

need ss iproute2
need timeout
need "$PY"
need cc "to build floor.c: the C floor and the rusage timer"
for t in "${TOOLS[@]}"; do
	case $t in
	sockit) ;;
	nc) need nc.openbsd netcat-openbsd ;;
	ncat) need ncat ;;
	socat|socat-b128k) need socat ;;
	floor|floor-io) ;;
	*) echo "throughput.sh: unknown tool $t" >&2; exit 2 ;;
	esac
done
[ $DO_STARTUP = 1 ] && { need hyperfine; need nc.openbsd netcat-openbsd; }
[ $DO_STRACE = 1 ] && need strace

bench_setup throughput
SRCFILE=
bench_cleanup_extra() { [ -n "$SRCFILE" ] && rm -f "$SRCFILE"; }

# The commands.  RCMD: receiver (listens on 127.0.0.1:$1, data to stdout);
# SCMD: sender (connects, stdin to the socket, exits when done).
set_cmds() {
	local tool=$1 port=$2
	case $tool in
	sockit)
		RCMD=("$SOCKIT_BIN" listen 127.0.0.1 "$port")
		SCMD=("$SOCKIT_BIN" connect 127.0.0.1 "$port") ;;
	nc)
		RCMD=(nc.openbsd -d -l 127.0.0.1 "$port")
		SCMD=(nc.openbsd -N 127.0.0.1 "$port") ;;
	ncat)
		RCMD=(ncat -l --recv-only 127.0.0.1 "$port")
		SCMD=(ncat --send-only 127.0.0.1 "$port") ;;
	socat)
		RCMD=(socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" STDOUT)
		SCMD=(socat -u STDIN "TCP:127.0.0.1:$port") ;;
	socat-b128k)
		RCMD=(socat -b 131072 -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" STDOUT)
		SCMD=(socat -b 131072 -u STDIN "TCP:127.0.0.1:$port") ;;
	floor)
		RCMD=("$TMP/floor" server "$port")
		SCMD=("$TMP/floor" client "$port" "$SIZE") ;;
	floor-io)
		RCMD=("$TMP/floor" server-io "$port")
		SCMD=("$TMP/floor" client-io "$port") ;;
	esac
}

# run_sender: the sender with its stdin from the source (the floor reads nothing).
run_sender() {
	local tool=$1
	shift
	if [ "$tool" = floor ]; then
		"$@" </dev/null
	elif [ "$SOURCE" = shm ]; then
		"$@" <"$SRCFILE"
	else
		head -c "$SIZE" /dev/zero | "$@"
	fi
}

# one_run TOOL MODE: MODE=time appends "gibps cpu_per_gib snd_cpu rcv_cpu wall" to
# $TMP/TOOL.res; MODE=verify checks the receiver got exactly SIZE bytes.
one_run() {
	local tool=$1 mode=$2 attempt port rpid t0 t1 src rc rrc
	for ((attempt = 1; attempt <= 5; attempt++)); do
		port=$(free_port)
		set_cmds "$tool" "$port"
		rm -f "$TMP/r.time" "$TMP/s.time" "$TMP/count"
		if [ "$mode" = time ]; then
			"$TMP/floor" time "$TMP/r.time" timeout 60 "${RCMD[@]}" \
				</dev/null >/dev/null 2>"$TMP/r.err" &
		elif [ "$tool" = floor ]; then
			timeout 60 "${RCMD[@]}" </dev/null >"$TMP/count" 2>"$TMP/r.err" &
		else
			{ timeout 60 "${RCMD[@]}" </dev/null 2>"$TMP/r.err" | wc -c >"$TMP/count"; } &
		fi
		rpid=$!
		BGPIDS+=("$rpid")
		if wait_listen "$port" "$rpid"; then
			break
		fi
		kill -TERM "$rpid" 2>/dev/null
		wait "$rpid" 2>/dev/null
		log "  $tool: receiver did not listen on port $port (attempt $attempt): $(head -c 300 "$TMP/r.err")"
		rpid=
	done
	[ -n "$rpid" ] || return 1

	t0=$(date +%s%N)
	if [ "$mode" = time ]; then
		run_sender "$tool" "$TMP/floor" time "$TMP/s.time" timeout 60 "${SCMD[@]}" \
			>/dev/null 2>"$TMP/s.err"
	else
		run_sender "$tool" timeout 60 "${SCMD[@]}" >/dev/null 2>"$TMP/s.err"
	fi
	rc=$?
	wait "$rpid"
	rrc=$?
	t1=$(date +%s%N)
	BGPIDS=()

	if [ $rc -ne 0 ] || [ $rrc -ne 0 ]; then
		log "  $tool: FAILED (sender exit $rc, receiver exit $rrc)"
		log "    sender stderr: $(head -c 300 "$TMP/s.err")"
		log "    receiver stderr: $(head -c 300 "$TMP/r.err")"
		return 1
	fi
	if [ "$mode" = verify ]; then
		local got
		got=$(tr -d ' \n' <"$TMP/count")
		if [ "$got" != "$SIZE" ]; then
			log "  $tool: WRONG byte count: received $got, sent $SIZE"
			return 1
		fi
		return 0
	fi
	local st rt
	st=$(tail -n 1 "$TMP/s.time")
	rt=$(tail -n 1 "$TMP/r.time")
	awk -v size="$SIZE" -v ns=$((t1 - t0)) -v st="$st" -v rt="$rt" 'BEGIN {
		split(st, s, " "); split(rt, r, " ")
		gib = size / 1073741824; wall = ns / 1e9
		scpu = s[2] + s[3]; rcpu = r[2] + r[3]
		printf "%.4f %.4f %.3f %.3f %.4f\n", gib / wall, (scpu + rcpu) / gib, scpu / gib, rcpu / gib, wall
	}' >>"$TMP/$tool.res"
	tail -n 1 "$TMP/$tool.res"
}

label() {
	case $1 in
	sockit) echo "sockit listen/connect" ;;
	nc) echo "nc.openbsd -l / -N" ;;
	ncat) echo "ncat -l / --send-only" ;;
	socat) echo "socat -u" ;;
	socat-b128k) echo "socat -u -b 131072" ;;
	floor) echo "C floor (send/recv 128K)" ;;
	floor-io) echo "C floor-io (+read/write)" ;;
	esac
}

echo "sockit benchmark: $SOCKIT_BIN ($("$SOCKIT_BIN" --version 2>/dev/null | head -n 1))"
echo "host: $(uname -srm), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
cc -O2 -o "$TMP/floor" "$HERE/floor.c" || { echo "throughput.sh: cannot build floor.c" >&2; exit 1; }

# ---------------------------------------------------------------- transfer ---
if [ $DO_TRANSFER = 1 ]; then
	if [ "$SOURCE" = shm ]; then
		SRCFILE=$(mktemp /dev/shm/sockit-bench-src.XXXXXX)
		head -c "$SIZE" /dev/zero >"$SRCFILE" || { echo "throughput.sh: cannot write $SRCFILE" >&2; exit 1; }
		srcdesc="file in /dev/shm on the sender's stdin"
	else
		srcdesc="head -c $SIZE_ARG /dev/zero | sender"
	fi
	echo
	echo "== one-way TCP over 127.0.0.1: $SIZE_ARG ($SIZE bytes) x $RUNS runs, round-robin =="
	echo "   source: $srcdesc; receiver stdout > /dev/null"
	echo "   CPU = user+sys of sender + receiver (wait4 rusage); wall = sender start .. both exited"

	# One verification run per tool (also the warm-up): the receiver's output is counted.
	declare -A BAD=()
	for t in "${TOOLS[@]}"; do
		: >"$TMP/$t.res"
		if one_run "$t" verify; then
			log "  verify $t: $SIZE bytes received, ok"
		else
			BAD[$t]=1
		fi
	done
	for ((run = 1; run <= RUNS; run++)); do
		for t in "${TOOLS[@]}"; do
			[ -n "${BAD[$t]:-}" ] && continue
			r=$(one_run "$t" time) || { log "  run $run $t failed"; continue; }
			log "  run $run $(printf '%-12s' "$t") $(awk '{ printf "%.3f GiB/s  %.3f CPU s/GiB  (wall %.3f s)", $1, $2, $5 }' <<<"$r")"
		done
	done

	declare -A THR=() CPU=()
	for t in "${TOOLS[@]}"; do
		if [ -s "$TMP/$t.res" ]; then
			THR[$t]=$(median "$TMP/$t.res" 1)
			CPU[$t]=$(median "$TMP/$t.res" 2)
		fi
	done
	ratio() { # ratio A B -> A/B or "-"
		if [ -n "${1:-}" ] && [ -n "${2:-}" ]; then awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; else echo -; fi
	}
	echo
	printf '%-26s %7s %13s %9s %8s %8s | %-11s | %-11s\n' "" "GiB/s" "(min-max)" "CPU s/GiB" "sender" "receiver" "vs socat-b" "vs C floor"
	printf '%-26s %7s %13s %9s %8s %8s | %5s %5s | %5s %5s\n' "tool" "median" "" "median" "s/GiB" "s/GiB" "thr" "CPU" "thr" "CPU"
	for t in "${TOOLS[@]}"; do
		f=$TMP/$t.res
		if [ ! -s "$f" ]; then
			printf '%-26s %7s\n' "$(label "$t")" "FAILED"
			continue
		fi
		printf '%-26s %7.3f %13s %9.3f %8.3f %8.3f | %5s %5s | %5s %5s\n' "$(label "$t")" \
			"${THR[$t]}" "($(printf '%.2f-%.2f' "$(colmin "$f" 1)" "$(colmax "$f" 1)"))" \
			"${CPU[$t]}" "$(median "$f" 3)" "$(median "$f" 4)" \
			"$(ratio "${THR[$t]}" "${THR[socat-b128k]:-}")" "$(ratio "${CPU[$t]}" "${CPU[socat-b128k]:-}")" \
			"$(ratio "${THR[$t]}" "${THR[floor]:-}")" "$(ratio "${CPU[$t]}" "${CPU[floor]:-}")"
	done
	echo "(thr: throughput ratio, higher is better; CPU: CPU-per-GiB ratio, lower is better)"
	if [ -n "${THR[sockit]:-}" ]; then
		echo
		echo "SPEC §7 targets for sockit listen/connect:"
		awk -v s="${THR[sockit]}" -v sc="${CPU[sockit]}" -v b="${THR[socat-b128k]:-}" -v f="${THR[floor]:-}" -v fio="${THR[floor-io]:-}" \
			-v cpus="$(for t in "${TOOLS[@]}"; do [ "$t" != sockit ] && [ "$t" != floor ] && [ "$t" != floor-io ] && [ -n "${CPU[$t]:-}" ] && echo -n "$t=${CPU[$t]} "; done)" 'BEGIN {
			if (b != "") printf "  throughput >= socat -b 131072:    %s (%.2fx)\n", (s >= b ? "MET" : "MISSED"), s / b
			if (f != "") printf "  throughput within 10%% of C floor: %s (%.2fx)\n", (s >= 0.9 * f ? "MET" : "MISSED"), s / f
			if (fio != "") printf "  (same check vs floor-io:          %s (%.2fx))\n", (s >= 0.9 * fio ? "MET" : "MISSED"), s / fio
			n = split(cpus, a, " "); ok = 1; worst = ""
			for (i = 1; i <= n; i++) { split(a[i], kv, "="); if (sc >= kv[2]) { ok = 0; worst = worst " " kv[1] } }
			if (n) printf "  CPU/GiB below every anchor:       %s%s\n", (ok ? "MET" : "MISSED"), (ok ? "" : " (not below:" worst ")")
		}'
	fi
fi

# ---------------------------------------------------------------- start-up ---
# hyperfine -N (no shell) -i (both nc -h and a refused connect exit non-zero).
# STARTUP_ROUNDS rounds of --runs 300, the order of the two commands swapped
# each round so background noise hits both alike; medians over all samples.
STARTUP_ROUNDS=${STARTUP_ROUNDS:-3}
if [ $DO_STARTUP = 1 ]; then
	echo
	echo "== start-up: hyperfine -N -i --warmup 20 --runs 300, x$STARTUP_ROUNDS rounds in alternating order =="
	startup() { # startup NAME CMD_SOCKIT CMD_NC
		local name=$1 r a b json jsons=()
		for ((r = 1; r <= STARTUP_ROUNDS; r++)); do
			json=$TMP/hf-$name-$r.json
			if [ $((r % 2)) = 1 ]; then a=$2 b=$3; else a=$3 b=$2; fi
			if ! timeout 300 hyperfine -N -i --warmup 20 --runs 300 --style none \
				--export-json "$json" "$a" "$b" >/dev/null 2>"$TMP/hf.err"; then
				echo "  $name: hyperfine failed: $(head -c 300 "$TMP/hf.err")"
				return
			fi
			jsons+=("$json")
		done
		"$PY" - "$name" "$2" "$3" "${jsons[@]}" <<'EOF'
import json, statistics, sys
name, cs, cn, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
t = {cs: [], cn: []}
for f in files:
    for r in json.load(open(f))["results"]:
        t[r["command"]] += r["times"]
def line(label, xs):
    xs = sorted(xs)
    print("  %-40s median %6.3f ms   mean %6.3f ms   p10 %6.3f   p90 %6.3f   (n=%d)" % (
        label, 1000 * statistics.median(xs), 1000 * statistics.mean(xs),
        1000 * xs[len(xs) // 10], 1000 * xs[len(xs) * 9 // 10], len(xs)))
    return statistics.median(xs)
ms = line("sockit " + cs.split(None, 1)[1], t[cs])
mn = line(cn, t[cn])
ratio = ms / mn
print("  %s: sockit/nc = %.2f (median)  -> SPEC 7 target <= 1.5: %s" % (name, ratio, "MET" if ratio <= 1.5 else "MISSED"))
EOF
	}
	startup version "$SOCKIT_BIN --version" "nc.openbsd -h"
	closed=$(free_port) # nothing listens there: connect is refused
	startup connect-refused "$SOCKIT_BIN connect 127.0.0.1 $closed" "nc.openbsd 127.0.0.1 $closed"
fi

# ------------------------------------------------------------------ strace ---
# Two sockit transfers under strace: one `strace -c -f` (syscall counts), one
# full trace of the data-path calls summarised per call: count, EAGAIN, bytes
# per successful call (min / median / max), epoll_wait by timeout.
wrapped_pair() { # wrapped_pair OUTPREFIX WRAPPER... ; "@OUT@" in WRAPPER becomes OUTPREFIX.{recv,send}
	local pre=$1 port rpid w rw=() sw=()
	shift
	for w in "$@"; do rw+=("${w//@OUT@/$pre.recv}"); sw+=("${w//@OUT@/$pre.send}"); done
	port=$(free_port)
	timeout 120 "${rw[@]}" "$SOCKIT_BIN" listen 127.0.0.1 "$port" \
		</dev/null >/dev/null 2>"$TMP/r.err" &
	rpid=$!
	BGPIDS=("$rpid")
	wait_listen "$port" "$rpid" || { echo "  receiver did not listen"; return 1; }
	if [ "$SOURCE" = shm ]; then
		timeout 120 "${sw[@]}" "$SOCKIT_BIN" connect 127.0.0.1 "$port" \
			<"$SRCFILE" >/dev/null 2>"$TMP/s.err"
	else
		head -c "$SIZE" /dev/zero | timeout 120 "${sw[@]}" \
			"$SOCKIT_BIN" connect 127.0.0.1 "$port" >/dev/null 2>"$TMP/s.err"
	fi
	wait "$rpid"
	BGPIDS=()
}
strace_summary() { # strace_summary FILE
	"$PY" - "$1" <<'EOF'
import collections, re, statistics, sys
line_re = re.compile(r'^(?:\d+ +)?(\w+)\((.*)\) += (-?\d+)(.*)$')
cnt, again, eof, err, sizes = (collections.Counter(), collections.Counter(), collections.Counter(),
                               collections.Counter(), collections.defaultdict(list))
ew = collections.Counter()
for line in open(sys.argv[1]):
    m = line_re.match(line.strip())
    if not m:
        continue
    call, args, ret, rest = m.group(1), m.group(2).split(", "), int(m.group(3)), m.group(4)
    if call == "epoll_wait":
        ew["timeout %s, %s" % (args[-1], "returned 0" if ret == 0 else "returned events")] += 1
        continue
    key = "%s(%s%s)" % (call, args[0], "->" + args[2] if call == "splice" else "")
    cnt[key] += 1
    if ret < 0:
        (again if "EAGAIN" in rest else err)[key] += 1
    elif ret == 0:
        eof[key] += 1
    else:
        sizes[key].append(ret)
for k in sorted(cnt):
    s = sorted(sizes[k])
    out = "    %-18s %6d calls %6d EAGAIN %2d EOF %2d err" % (k, cnt[k], again[k], eof[k], err[k])
    if s:
        out += "   bytes/call min %d median %d max %d  (%.1f MiB)" % (s[0], statistics.median(s), s[-1], sum(s) / 1048576)
    print(out)
for k in sorted(ew):
    print("    epoll_wait %-30s %6d" % (k, ew[k]))
EOF
}
if [ $DO_STRACE = 1 ]; then
	if [ "$SOURCE" = shm ] && [ -z "$SRCFILE" ]; then
		SRCFILE=$(mktemp /dev/shm/sockit-bench-src.XXXXXX)
		head -c "$SIZE" /dev/zero >"$SRCFILE"
	fi
	echo
	echo "== strace of sockit transfers ($SIZE_ARG, source $SOURCE, receiver stdout /dev/null) =="
	if wrapped_pair "$TMP/sc" strace -c -f -o @OUT@; then
		echo "-- strace -c -f, sender (sockit connect):"
		sed -n '3,12p' "$TMP/sc.send"
		echo "-- strace -c -f, receiver (sockit listen):"
		sed -n '3,12p' "$TMP/sc.recv"
	fi
	if wrapped_pair "$TMP/sf" strace -f -o @OUT@ -e trace=splice,read,write,recvfrom,sendto,recvmsg,sendmsg,sendfile,epoll_wait; then
		echo "-- data path per call, sender (fd 0/6 = stdin, 3 = socket, pipes = the others):"
		strace_summary "$TMP/sf.send"
		echo "-- data path per call, receiver:"
		strace_summary "$TMP/sf.recv"
	fi
	# strace slows the traced process enough to hide busy-polling; perf's
	# syscall tracepoints count without that distortion.
	ev=syscalls:sys_enter_splice,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_read
	ev=$ev,syscalls:sys_enter_write,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto
	if command -v perf >/dev/null 2>&1 && perf stat -e syscalls:sys_enter_splice true >/dev/null 2>&1; then
		if wrapped_pair "$TMP/pf" perf stat -x, -o @OUT@ -e "$ev"; then
			for side in send recv; do
				echo "-- perf stat syscall counts (no strace), $([ $side = send ] && echo sender || echo receiver):"
				awk -F, '/syscalls:sys_enter_/ { n = $3; sub(/.*sys_enter_/, "", n); printf "    %-12s %8s\n", n, $1 }' "$TMP/pf.$side"
			done
		fi
	else
		echo "-- (perf with syscall tracepoints unavailable: no undistorted counts)"
	fi
fi

echo
echo "done: load average $(cut -d' ' -f1-3 /proc/loadavg)"
