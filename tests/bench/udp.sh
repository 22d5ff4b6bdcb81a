#!/usr/bin/env bash
# tests/bench/udp.sh - UDP datagrams/s over loopback: received by `sockit listen -u`
# and sent by `sockit connect -u`, against OpenBSD nc, ncat, socat and C floors.
# SPEC §7. See tests/bench/README.md.
#
# usage: udp.sh [SOCKIT] [--count 500000] [--send-count 200000] [--size 64]
#               [--runs 3] [--tools LIST] [--no-recv] [--no-send] [--strace]
set -u

usage() {
	cat <<'EOF'
usage: udp.sh [SOCKIT] [OPTIONS]
  SOCKIT             the sockit binary (default: $SOCKIT, /tmp/build-bench/src/sockit,
                     or sockit on PATH)
  --count K          datagrams blasted at each receiver (default 500000)
  --send-count K     records fed to each sender (default 200000)
  --size N           datagram / record size in bytes (default 64)
  --runs N           runs per tool (default 3), interleaved round-robin
  --tools LIST       comma-separated subset of
                     sockit,nc,ncat,socat,floor,floor-bigbuf,sockit-rcvbuf
                     (default: all; floor-bigbuf and sockit-rcvbuf are receive-only)
  --no-recv          skip the receive test
  --no-send          skip the send test
  --strace           also trace sockit (receive and send) and summarise its data-path
                     calls: recvmmsg/sendmmsg batch sizes, read/write sizes
  -h, --help         this text
EOF
}

COUNT=500000
SCOUNT=200000
DSIZE=64
RUNS=3
TOOLS_ARG=sockit,nc,ncat,socat,floor,floor-bigbuf,sockit-rcvbuf
DO_RECV=1
DO_SEND=1
DO_STRACE=0
SOCKIT_BIN=${SOCKIT:-}

while [ $# -gt 0 ]; do
	case $1 in
	--count) COUNT=$2; shift 2 ;;
	--count=*) COUNT=${1#*=}; shift ;;
	--send-count) SCOUNT=$2; shift 2 ;;
	--send-count=*) SCOUNT=${1#*=}; shift ;;
	--size) DSIZE=$2; shift 2 ;;
	--size=*) DSIZE=${1#*=}; shift ;;
	--runs) RUNS=$2; shift 2 ;;
	--runs=*) RUNS=${1#*=}; shift ;;
	--tools) TOOLS_ARG=$2; shift 2 ;;
	--tools=*) TOOLS_ARG=${1#*=}; shift ;;
	--no-recv) DO_RECV=0; shift ;;
	--no-send) DO_SEND=0; shift ;;
	--strace) DO_STRACE=1; shift ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "udp.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) SOCKIT_BIN=$1; shift ;;
	esac
done

. "$(dirname "$0")/lib.sh"
bench_sockit
for v in COUNT SCOUNT DSIZE RUNS; do
	case ${!v} in ''|*[!0-9]*|0) echo "udp.sh: bad value ${!v} for ${v,,}" >&2; exit 2 ;; esac
done
[ "$DSIZE" -le 65507 ] || { echo "udp.sh: --size at most 65507" >&2; exit 2; }
IFS=, read -r -a TOOLS <<<"$TOOLS_ARG"

need ss iproute2
need timeout
need mkfifo
need "$PY"
need cc "to build udpblast.c and udpsink.c"
for t in "${TOOLS[@]}"; do
	case $t in
	sockit|floor|floor-bigbuf|sockit-rcvbuf) ;;
	nc) need nc.openbsd netcat-openbsd ;;
	ncat) need ncat ;;
	socat) need socat ;;
	*) echo "udp.sh: unknown tool $t" >&2; exit 2 ;;
	esac
done
[ $DO_STRACE = 1 ] && need strace

bench_setup udp
SRCFILE=
bench_cleanup_extra() { [ -n "$SRCFILE" ] && rm -f "$SRCFILE"; }

# wait_gone PID SECS [SIG]: wait for PID (a child of this shell) to exit, at most
# SECS; then send it SIG (default KILL, logged) and reap it.
wait_gone() {
	local pid=$1 i n sig=${3:-KILL}
	n=$(awk -v s="$2" 'BEGIN { print int(s * 40) }')
	for ((i = 0; i < n; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.025
	done
	if kill -0 "$pid" 2>/dev/null; then
		[ "$sig" = KILL ] && log "  (pid $pid still running after $2 s: killed)"
		kill -"$sig" "$pid" 2>/dev/null
		[ "$sig" = KILL ] || wait_gone "$pid" 5
	fi
	wait "$pid" 2>/dev/null
}

# RCMD: a receiver bound to 127.0.0.1:$2 writing every datagram to stdout.
set_recv() {
	local tool=$1 port=$2
	case $tool in
	sockit) RCMD=("$SOCKIT_BIN" listen -u 127.0.0.1 "$port") ;;
	sockit-rcvbuf) RCMD=("$SOCKIT_BIN" listen "udp-listen:127.0.0.1:$port,rcvbuf=4194304") ;;
	nc) RCMD=(nc.openbsd -d -u -l 127.0.0.1 "$port") ;;
	ncat) RCMD=(ncat -u -l --recv-only 127.0.0.1 "$port") ;;
	socat) RCMD=(socat -u "UDP4-RECV:$port,bind=127.0.0.1" STDOUT) ;;
	floor) RCMD=("$TMP/udpsink" recv "$port" 600000 600 0 stdout) ;;
	floor-bigbuf) RCMD=("$TMP/udpsink" recv "$port" 600000 600 $((64 << 20)) stdout) ;;
	esac
}
# SCMD: a sender of stdin to 127.0.0.1:$2 (the floor blasts from memory).
set_send() {
	local tool=$1 port=$2
	case $tool in
	sockit) SCMD=("$SOCKIT_BIN" connect -u 127.0.0.1 "$port") ;;
	nc) SCMD=(nc.openbsd -u -q 0 127.0.0.1 "$port") ;;
	ncat) SCMD=(ncat -u --send-only 127.0.0.1 "$port") ;;
	socat) SCMD=(socat -u STDIN "UDP4:127.0.0.1:$port") ;;
	floor|floor-bigbuf) SCMD=("$TMP/udpblast" send "$port" "$SCOUNT" "$DSIZE") ;;
	esac
}
label() {
	case $1 in
	sockit) echo "sockit listen/connect -u" ;;
	nc) echo "nc.openbsd -u" ;;
	ncat) echo "ncat -u" ;;
	socat) echo "socat -u UDP4-RECV/UDP4" ;;
	floor) echo "C floor (recvmmsg/sendmmsg)" ;;
	floor-bigbuf) echo "C floor, SO_RCVBUF 64 MiB" ;;
	sockit-rcvbuf) echo "sockit, rcvbuf=4194304" ;;
	esac
}

# recv_run TOOL [WRAPPER...]: blast COUNT datagrams at the receiver, drain 1 s,
# stop it; prints "sent send_s sent_per_s received loss_pct recv_per_s".
recv_run() {
	local tool=$1 attempt port rpid cpid out
	shift
	for ((attempt = 1; attempt <= 5; attempt++)); do
		port=$(free_port udp)
		set_recv "$tool" "$port"
		rm -f "$TMP/fifo" "$TMP/count"
		mkfifo "$TMP/fifo"
		timeout -s KILL 120 "$TMP/udpsink" count "$TMP/count" <"$TMP/fifo" &
		cpid=$!
		if [ $# -gt 0 ]; then # WRAPPER (strace) runs the receiver as its child
			"$@" "${RCMD[@]}" </dev/null >"$TMP/fifo" 2>"$TMP/r.err" &
		else
			timeout 120 "${RCMD[@]}" </dev/null >"$TMP/fifo" 2>"$TMP/r.err" &
		fi
		rpid=$!
		BGPIDS=("$rpid" "$cpid")
		if wait_socket u "$port" "$rpid"; then
			break
		fi
		kill -TERM "$rpid" 2>/dev/null
		wait_gone "$rpid" 5
		wait_gone "$cpid" 5
		log "  $tool: receiver did not bind port $port (attempt $attempt): $(head -c 300 "$TMP/r.err")"
		rpid=
	done
	[ -n "$rpid" ] || return 1
	out=$(timeout -s KILL 120 "$TMP/udpblast" send "$port" "$COUNT" "$DSIZE")
	sleep 1 # drain
	if [ $# -gt 0 ]; then
		pkill -TERM -P "$rpid" 2>/dev/null # the receiver; strace then exits
	else
		kill -TERM "$rpid" 2>/dev/null # timeout passes it on to the receiver
	fi
	wait_gone "$rpid" 10
	wait_gone "$cpid" 5
	BGPIDS=()
	if [ -z "$out" ] || [ ! -s "$TMP/count" ]; then
		log "  $tool: receive run failed: $(head -c 300 "$TMP/r.err")"
		return 1
	fi
	awk -v out="$out" -v size="$DSIZE" '{
		split(out, o, " "); sent = o[1]; t0 = o[2]; t1 = o[3]
		got = $1 / size; last = $3
		span = (got > 0 ? (last - t0) / 1e9 : 0)
		printf "%d %.4f %.0f %.0f %.2f %.0f %d\n", sent, (t1 - t0) / 1e9, sent / ((t1 - t0) / 1e9),
			got, 100 * (1 - got / sent), (span > 0 ? got / span : 0), $4
	}' "$TMP/count"
}

# send_run TOOL INPUT [WRAPPER...]: INPUT file|packet; the sink counts what arrives.
# prints "datagrams bytes mean_size dgrams_per_s MBps tool_wall_s byte_loss_pct"
send_run() {
	local tool=$1 input=$2 port spid t0 t1 rc
	shift 2
	port=$(free_port udp)
	set_send "$tool" "$port"
	rm -f "$TMP/sink"
	timeout -s KILL 120 "$TMP/udpsink" recv "$port" 1000 100 $((64 << 20)) 2>"$TMP/sink" &
	spid=$!
	BGPIDS=("$spid")
	wait_socket u "$port" "$spid" || { log "  sink did not bind"; return 1; }
	t0=$(date +%s%N)
	if [ "$tool" = floor ]; then
		"$@" "${SCMD[@]}" </dev/null >/dev/null 2>"$TMP/s.err"
	elif [ "$input" = file ]; then
		timeout 60 "$@" "${SCMD[@]}" <"$SRCFILE" >/dev/null 2>"$TMP/s.err"
	else
		"$TMP/udpblast" feed "$SCOUNT" "$DSIZE" | timeout 60 "$@" "${SCMD[@]}" >/dev/null 2>"$TMP/s.err"
	fi
	rc=$?
	t1=$(date +%s%N)
	# the sink ends after 1 s of silence; if nothing came, SIGTERM makes it report
	wait_gone "$spid" 3 TERM
	BGPIDS=()
	[ $rc -eq 0 ] || log "  $tool ($input): sender exit $rc: $(head -c 300 "$TMP/s.err")"
	[ -s "$TMP/sink" ] || { log "  $tool: no sink result"; return 1; }
	awk -v ns=$((t1 - t0)) -v want=$((SCOUNT * DSIZE)) '{
		d = $1; b = $2; span = ($4 - $3) / 1e9
		printf "%d %d %.1f %.0f %.2f %.3f %.2f %d\n", d, b, (d ? b / d : 0), (span > 0 ? d / span : 0),
			(span > 0 ? b / span / 1e6 : 0), ns / 1e9, 100 * (1 - b / want), $7
	}' "$TMP/sink"
}

echo "sockit UDP benchmark: $SOCKIT_BIN ($("$SOCKIT_BIN" --version 2>/dev/null | head -n 1))"
echo "host: $(uname -srm), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "net.core.rmem_default $(cat /proc/sys/net/core/rmem_default), rmem_max $(cat /proc/sys/net/core/rmem_max)"
cc -O2 -o "$TMP/udpblast" "$HERE/udpblast.c" && cc -O2 -o "$TMP/udpsink" "$HERE/udpsink.c" ||
	{ echo "udp.sh: cannot build udpblast.c / udpsink.c" >&2; exit 1; }

# ----------------------------------------------------------------- receive ---
declare -A RRATE=() RLOSS=()
if [ $DO_RECV = 1 ]; then
	echo
	echo "== receive: $COUNT datagrams of $DSIZE bytes blasted with sendmmsg at each receiver, $RUNS runs, round-robin =="
	echo "   receiver stdout -> a pipe -> byte counter; stopped with SIGTERM 1 s after the sender ends"
	echo "   recv/s = datagrams received / (first send .. last byte on the receiver's stdout)"
	for t in "${TOOLS[@]}"; do : >"$TMP/recv.$t.res"; done
	for ((run = 1; run <= RUNS; run++)); do
		for t in "${TOOLS[@]}"; do
			r=$(recv_run "$t") || { log "  run $run $t failed"; continue; }
			echo "$r" >>"$TMP/recv.$t.res"
			log "  recv run $run $(printf '%-7s' "$t") $(awk '{ printf "sent %d at %.0f/s, received %d (loss %.2f%%), %.0f recv/s, %d stdout reads", $1, $3, $4, $5, $6, $7 }' <<<"$r")"
		done
	done

	for t in "${TOOLS[@]}"; do
		[ -s "$TMP/recv.$t.res" ] || continue
		RRATE[$t]=$(median "$TMP/recv.$t.res" 6)
		RLOSS[$t]=$(median "$TMP/recv.$t.res" 5)
	done
	echo
	printf '%-30s %10s %10s %10s %17s %8s | %9s\n' "receiver" "sent/s" "received" "loss %" "recv/s (min-max)" "" "vs socat"
	for t in "${TOOLS[@]}"; do
		f=$TMP/recv.$t.res
		if [ ! -s "$f" ]; then printf '%-30s %10s\n' "$(label "$t")" FAILED; continue; fi
		printf '%-30s %10.0f %10.0f %10.2f %9.0f %16s | %9s\n' "$(label "$t")" "$(median "$f" 3)" "$(median "$f" 4)" \
			"${RLOSS[$t]}" "${RRATE[$t]}" "($(printf '%.0f-%.0f' "$(colmin "$f" 6)" "$(colmax "$f" 6)"))" \
			"$(ratio "${RRATE[$t]}" "${RRATE[socat]:-}")"
	done
	echo "(medians over runs; loss = datagrams sent but never written to stdout, mostly dropped"
	echo " at the receiver's full socket buffer; sent/s is the same blaster for every receiver)"
	if [ -n "${RRATE[sockit]:-}" ]; then
		awk -v s="${RRATE[sockit]}" -v sl="${RLOSS[sockit]}" -v a="$(for t in nc ncat socat; do
			[ -n "${RRATE[$t]:-}" ] && echo -n "$t=${RRATE[$t]}=${RLOSS[$t]} "; done)" 'BEGIN {
			n = split(a, x, " "); br = 0; bn = ""; ml = 101
			for (i = 1; i <= n; i++) { split(x[i], kv, "="); if (kv[2] > br) { br = kv[2]; bn = kv[1] }; if (kv[3] < ml) ml = kv[3] }
			if (!n) exit
			printf "\nSPEC §7 target, receive: >= the best anchor (%s %.0f/s) with no more loss (best anchor loss %.2f%%):\n", bn, br, ml
			printf "  rate %s (%.2fx), loss %s (%.2f%% vs %.2f%%)\n", (s >= br ? "MET" : "MISSED"), s / br,
				(sl <= ml ? "MET" : "MISSED"), sl, ml
			if (sl < 1 || ml < 1)
				print "  (with little loss recv/s is bounded by the blaster, which shares the CPUs with the receiver:"
			if (sl < 1 || ml < 1)
				print "   compare the datagrams received as well)"
		}'
	fi
fi

# -------------------------------------------------------------------- send ---
if [ $DO_SEND = 1 ]; then
	SRCFILE=$(mktemp /dev/shm/sockit-udp-src.XXXXXX)
	head -c $((SCOUNT * DSIZE)) /dev/zero | tr '\0' 'r' >"$SRCFILE"
	echo
	echo "== send: $SCOUNT records of $DSIZE bytes on each sender's stdin, $RUNS runs, round-robin =="
	echo "   file:   stdin is a $((SCOUNT * DSIZE))-byte file in /dev/shm (each read() returns what the tool asks for)"
	echo "   packet: stdin is a packet-mode pipe (O_DIRECT) fed one record per write(): each read() returns one record"
	echo "   a C sink (recvmmsg, 64 MiB buffer) counts datagrams and bytes; dgram/s over its first..last receive"
	for t in "${TOOLS[@]}"; do for i in file packet; do : >"$TMP/send.$t.$i.res"; done; done
	for ((run = 1; run <= RUNS; run++)); do
		for i in packet file; do
			for t in "${TOOLS[@]}"; do
				case $t in floor-bigbuf|sockit-rcvbuf) continue ;; esac
				[ "$t" = floor ] && [ "$i" = file ] && continue
				r=$(send_run "$t" "$i") || { log "  run $run $t $i failed"; continue; }
				echo "$r" >>"$TMP/send.$t.$i.res"
				log "  send run $run $(printf '%-7s %-6s' "$t" "$i") $(awk '{ printf "%d datagrams, mean %.1f B, %.0f dgram/s, %.1f MB/s, wall %.2f s, byte loss %.2f%%", $1, $3, $4, $5, $6, $7 }' <<<"$r")"
			done
		done
	done
	declare -A SRATE=()
	for i in packet file; do
		echo
		echo "-- stdin: $i"
		printf '%-30s %10s %9s %12s %17s %8s %8s %8s | %8s\n' "sender" "datagrams" "mean B" "dgram/s" "(min-max)" "MB/s" "wall s" "loss %" "vs socat"
		for t in "${TOOLS[@]}"; do
			f=$TMP/send.$t.$i.res
			[ -s "$f" ] && SRATE[$t.$i]=$(median "$f" 4)
		done
		for t in "${TOOLS[@]}"; do
			f=$TMP/send.$t.$i.res
			case $t in floor-bigbuf|sockit-rcvbuf) continue ;; esac
			if [ "$t" = floor ]; then
				[ "$i" = packet ] || continue
				lab="C floor sendmmsg (no stdin)"
			else
				lab=$(label "$t")
			fi
			if [ ! -s "$f" ]; then printf '%-30s %10s\n' "$lab" FAILED; continue; fi
			printf '%-30s %10.0f %9.1f %12.0f %17s %8.1f %8.2f %8.2f | %8s\n' "$lab" "$(median "$f" 1)" "$(median "$f" 3)" \
				"${SRATE[$t.$i]}" "($(printf '%.0f-%.0f' "$(colmin "$f" 4)" "$(colmax "$f" 4)"))" \
				"$(median "$f" 5)" "$(median "$f" 6)" "$(median "$f" 7)" "$(ratio "${SRATE[$t.$i]}" "${SRATE[socat.$i]:-}")"
		done
	done
	echo "(medians over runs; mean B = bytes per datagram: a datagram is whatever one read() of stdin"
	echo " returned; loss % = input bytes that never reached the sink; wall = sender start .. exit)"
	if [ -n "${SRATE[sockit.packet]:-}" ] && [ -n "${SRATE[socat.packet]:-}" ]; then
		awk -v s="${SRATE[sockit.packet]}" -v so="${SRATE[socat.packet]}" 'BEGIN {
			printf "\nSPEC §7 target, send: >= 3x socat in %s-byte datagrams/s (packet stdin): %s (%.2fx)\n", '"$DSIZE"', (s >= 3 * so ? "MET" : "MISSED"), s / so }'
	fi
fi

# ------------------------------------------------------------------ strace ---
# Per data-path call of sockit: how many, and the distribution of the return
# value (datagrams for recvmmsg/sendmmsg, bytes for read/write/send).
strace_summary() {
	"$PY" - "$1" <<'EOF'
import collections, re, statistics, sys
line_re = re.compile(r'^(?:\d+ +)?(\w+)\((\d+)?.*\) += (-?\d+)(.*)$')
vals, errs = collections.defaultdict(list), collections.Counter()
for line in open(sys.argv[1], errors="replace"):
    m = line_re.match(line.strip())
    if not m:
        continue
    key = "%s(%s)" % (m.group(1), m.group(2) or "")
    ret = int(m.group(3))
    if ret < 0:
        errs[key + " " + (m.group(4).split()[0] if m.group(4).split() else "")] += 1
    else:
        vals[key].append(ret)
for k in sorted(vals):
    v = sorted(vals[k])
    print("    %-16s %8d calls  returned min %d median %g mean %.1f max %d" % (
        k, len(v), v[0], statistics.median(v), sum(v) / len(v), v[-1]))
for k in sorted(errs):
    print("    %-30s %8d failed" % (k, errs[k]))
EOF
}
if [ $DO_STRACE = 1 ]; then
	calls=trace=recvmmsg,recvmsg,recvfrom,read,write,writev,sendmmsg,sendmsg,sendto,splice,epoll_wait,poll,ppoll
	echo
	echo "== strace -f of sockit (strace slows it down; the batch and write sizes are what matter) =="
	if true; then
		r=$(recv_run sockit strace -f -o "$TMP/st.recv" -e "$calls") || r=
		if [ -n "$r" ]; then
			echo "-- sockit listen -u receiving $COUNT datagrams: $(awk '{ printf "received %d (loss %.2f%%)", $4, $5 }' <<<"$r")"
			echo "   (fds as in sockit; the few 832-byte reads are the dynamic loader)"
			strace_summary "$TMP/st.recv"
		fi
	fi
	if [ -z "$SRCFILE" ]; then
		SRCFILE=$(mktemp /dev/shm/sockit-udp-src.XXXXXX)
		head -c $((SCOUNT * DSIZE)) /dev/zero | tr '\0' 'r' >"$SRCFILE"
	fi
	for i in packet file; do
		r=$(send_run sockit "$i" strace -f -o "$TMP/st.send.$i" -e "$calls") || r=
		if [ -n "$r" ]; then
			echo "-- sockit connect -u, stdin $i: $(awk '{ printf "%d datagrams, mean %.1f B", $1, $3 }' <<<"$r")"
			strace_summary "$TMP/st.send.$i"
		fi
	done
fi

echo
echo "done: load average $(cut -d' ' -f1-3 /proc/loadavg)"
