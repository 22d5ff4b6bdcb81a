#!/usr/bin/env bash
# tests/bench/relay.sh - `sockit relay` TCP->TCP over loopback against socat
# fork (plain and -b 131072), ncat -k --sh-exec 'ncat ...' and a splice+epoll
# C floor: (1) single-stream throughput and CPU per GiB, (2) connections per
# second with 1 and 50 concurrent echo clients, (3) memory per idle relayed
# connection with 1,000 held open, (4) strace -c syscalls per MiB.
# SPEC §7, issue 4. See tests/bench/README.md.
#
# usage: relay.sh [SOCKIT] [--quick] [--size 1G] [--runs 5] [--seconds 3]
#                 [--rate-runs 3] [--conns 1000] [--tools LIST] [--sections LIST]
set -u

usage() {
	cat <<'EOF'
usage: relay.sh [SOCKIT] [OPTIONS]
  SOCKIT            the sockit binary (default: $SOCKIT, /tmp/build-bench/src/sockit,
                    or sockit on PATH)
  --quick           --size 256M --runs 3 --seconds 1 --rate-runs 2 (about 3 min)
  --size SIZE       bytes per throughput transfer, IEC suffixes (default 1G)
  --runs N          throughput runs per tool (default 5), round-robin
  --seconds N       length of each connection-rate measurement (default 3)
  --rate-runs N     connection-rate runs per tool and concurrency (default 3)
  --clients LIST    concurrency levels (default 1,50)
  --conns N         idle connections held for the memory section (default 1000;
                    ncat gets at most 100, see README)
  --strace-size S   bytes of the strace -c transfer (default 256M)
  --tools LIST      comma-separated subset of sockit,socat,socat-b128k,ncat,floor
                    (default: all; sockit-w2 = `relay --workers 2` is added to the
                    rate section when sockit has --workers)
  --sections LIST   comma-separated subset of tput,rate,mem,strace (default: all)
  -h, --help        this text
EOF
}

SIZE_ARG=1G
RUNS=5
SECS=3
RATE_RUNS=3
CLIENTS_ARG=1,50
CONNS=1000
STRACE_SIZE_ARG=256M
TOOLS_ARG=sockit,socat,socat-b128k,ncat,floor
SECTIONS_ARG=tput,rate,mem,strace
SOCKIT_BIN=${SOCKIT:-}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) SIZE_ARG=256M; RUNS=3; SECS=1; RATE_RUNS=2; shift ;;
	--size) SIZE_ARG=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--rate-runs) RATE_RUNS=$2; shift 2 ;;
	--clients) CLIENTS_ARG=$2; shift 2 ;;
	--conns) CONNS=$2; shift 2 ;;
	--strace-size) STRACE_SIZE_ARG=$2; shift 2 ;;
	--tools) TOOLS_ARG=$2; shift 2 ;;
	--sections) SECTIONS_ARG=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "relay.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) SOCKIT_BIN=$1; shift ;;
	esac
done

. "$(dirname "$0")/lib.sh"
bench_sockit

SIZE=$(numfmt --from=iec "$SIZE_ARG" 2>/dev/null) || { echo "relay.sh: bad --size $SIZE_ARG" >&2; exit 2; }
STRACE_SIZE=$(numfmt --from=iec "$STRACE_SIZE_ARG" 2>/dev/null) || { echo "relay.sh: bad --strace-size" >&2; exit 2; }
for v in "$RUNS" "$RATE_RUNS" "$CONNS"; do
	case $v in ''|*[!0-9]*|0) echo "relay.sh: bad count $v" >&2; exit 2 ;; esac
done
case $SECS in ''|*[!0-9.]*) echo "relay.sh: bad --seconds $SECS" >&2; exit 2 ;; esac
IFS=, read -r -a TOOLS <<<"$TOOLS_ARG"
IFS=, read -r -a CLIENTS <<<"$CLIENTS_ARG"
IFS=, read -r -a SECTIONS <<<"$SECTIONS_ARG"
has_section() { [[ ",$SECTIONS_ARG," == *",$1,"* ]]; }
has_tool() { [[ ",$TOOLS_ARG," == *",$1,"* ]]; }

need ss iproute2
need timeout
need "$PY"
need cc "to build relaybench.c and connrate.c"
for t in "${TOOLS[@]}"; do
	case $t in
	sockit|floor) ;;
	socat|socat-b128k) need socat ;;
	ncat) need ncat ;;
	*) echo "relay.sh: unknown tool $t" >&2; exit 2 ;;
	esac
done
for s in "${SECTIONS[@]}"; do
	case $s in tput|rate|mem|strace) ;; *) echo "relay.sh: unknown section $s" >&2; exit 2 ;; esac
done
has_section strace && need strace

bench_setup relay

# stop PID...: SIGTERM, wait (bounded 5 s), SIGKILL
stop() {
	local p i
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "$@"; do
		for ((i = 0; i < 100; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	local keep=() b
	for b in "${BGPIDS[@]}"; do
		[[ " $* " == *" $b "* ]] || keep+=("$b")
	done
	BGPIDS=("${keep[@]}")
}

SOCKIT_WORKERS=0
if "$SOCKIT_BIN" relay --help 2>&1 | grep -q -- '--workers'; then
	SOCKIT_WORKERS=1
fi

# RCMD: the relay from 127.0.0.1:$2 to 127.0.0.1:$3
set_relay() {
	local tool=$1 p=$2 s=$3
	case $tool in
	sockit) RCMD=("$SOCKIT_BIN" relay -q "tcp-listen:127.0.0.1:$p" "tcp:127.0.0.1:$s") ;;
	sockit-w2) RCMD=("$SOCKIT_BIN" relay -q --workers 2 "tcp-listen:127.0.0.1:$p" "tcp:127.0.0.1:$s") ;;
	socat) RCMD=(socat "TCP-LISTEN:$p,bind=127.0.0.1,fork,reuseaddr,backlog=1024" "TCP:127.0.0.1:$s") ;;
	socat-b128k) RCMD=(socat -b 131072 "TCP-LISTEN:$p,bind=127.0.0.1,fork,reuseaddr,backlog=1024" "TCP:127.0.0.1:$s") ;;
	ncat) RCMD=(ncat -l -k -m "${NCAT_MAX:-100}" --sh-exec "ncat 127.0.0.1 $s" 127.0.0.1 "$p") ;;
	floor) RCMD=("$TMP/relaybench" floor "$p" "$s") ;;
	esac
}

label() {
	case $1 in
	sockit) echo "sockit relay" ;;
	sockit-w2) echo "sockit relay --workers 2" ;;
	socat) echo "socat fork" ;;
	socat-b128k) echo "socat -b 131072 fork" ;;
	ncat) echo "ncat -k --sh-exec ncat" ;;
	floor) echo "C floor splice+epoll" ;;
	esac
}

# start_relay TOOL PORT TARGET TIMEFILE: the relay under the tree timer;
# sets TPID (the timer) and RPID (the relay), or fails.
start_relay() {
	local tool=$1 s=$3 out=$4 attempt p i
	for ((attempt = 1; attempt <= 5; attempt++)); do
		p=$2
		[ "$attempt" -gt 1 ] && p=$(free_port)
		set_relay "$tool" "$p" "$s"
		"$TMP/relaybench" time "$out" "${RCMD[@]}" </dev/null >/dev/null 2>>"$TMP/relay.err" &
		TPID=$!
		BGPIDS+=("$TPID")
		if wait_listen "$p" "$TPID"; then
			RPORT=$p
			RPID=
			for ((i = 0; i < 100; i++)); do
				[ -n "$RPID" ] && break
				RPID=$(cat "/proc/$TPID/task/$TPID/children" 2>/dev/null | awk '{ print $1 }')
				[ -z "$RPID" ] && sleep 0.01
			done
			return 0
		fi
		stop "$TPID"
		log "  $tool: relay did not listen on port $p (attempt $attempt): $(tail -c 300 "$TMP/relay.err")"
	done
	return 1
}

# wait_tree_idle: until the relay has no child process left (socat's per-connection
# child lingers up to -t 0.5 s after a half-close), bounded 5 s
wait_tree_idle() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$("$TMP/relaybench" tree "$RPID" | awk '{ print $1 }')" = 1 ] && return 0
		sleep 0.05
	done
}

minmax() {
	awk -v c="$2" -v f="$3" 'NR == 1 { lo = hi = $c } { if ($c < lo) lo = $c; if ($c > hi) hi = $c }
		END { if (NR) printf f "-" f, lo, hi; else printf "-" }' "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
target() {
	# target LABEL VALUE OP LIMIT: prints MET/MISSED
	awk -v l="$1" -v v="$2" -v op="$3" -v t="$4" 'BEGIN {
		if (v == "-" || v == "nan") { printf "  %-66s n/a\n", l; exit }
		ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0)
		printf "  %-66s %s (%s)\n", l, ok ? "MET" : "MISSED", v }'
}

# ---- build the helpers ------------------------------------------------------------------

cc -O2 -Wall -o "$TMP/relaybench" "$HERE/relaybench.c" || { log "relay.sh: relaybench.c does not build"; exit 2; }
if has_section rate; then
	[ -f "$HERE/connrate.c" ] || { log "relay.sh: tests/bench/connrate.c (the echo client driver) is missing"; exit 2; }
	cc -O2 -pthread -o "$TMP/connrate" "$HERE/connrate.c" || { log "relay.sh: connrate.c does not build"; exit 2; }
fi
# 1,000 held connections need ~4,000 descriptors on the client side and in the
# echo server (the relays inherit the limit; sockit raises its own anyway)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null

echo "# sockit relay benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# sockit: $SOCKIT_BIN ($("$SOCKIT_BIN" --version 2>&1 | head -n 1))"
echo "# $(socat -V 2>/dev/null | grep -m1 'socat version' || echo 'socat: -'); ncat $(ncat --version 2>&1 | grep -o 'Version [0-9.]*' | head -n 1)"
echo "# kernel $(uname -r); ulimit -n $(ulimit -n)"
[ $SOCKIT_WORKERS = 0 ] && echo "# sockit relay has no --workers: the --workers 2 scaling row is skipped"

# ---- (1) throughput ---------------------------------------------------------------------

# tput_run TOOL SIZE: one transfer source -> relay -> sink; appends
# "gibps cpu_s_per_gib wall_s user_s sys_s" to $TMP/TOOL.tput
tput_run() {
	local tool=$1 size=$2 s spid line got t0 t1 tm
	s=$(free_port)
	rm -f "$TMP/sink.out"
	timeout 120 "$TMP/relaybench" sink "$s" "$TMP/sink.out" 2>>"$TMP/sink.err" &
	spid=$!
	BGPIDS+=("$spid")
	if ! wait_listen "$s" "$spid"; then
		stop "$spid"
		log "  $tool: the sink did not listen"
		return 1
	fi
	if ! start_relay "$tool" "$(free_port)" "$s" "$TMP/relay.time"; then
		stop "$spid"
		return 1
	fi
	line=$(timeout 100 "$TMP/relaybench" source "$RPORT" "$size" 2>>"$TMP/source.err")
	wait "$spid"
	stop "$spid"
	wait_tree_idle
	stop "$TPID"
	got=$(awk '{ print $1 }' "$TMP/sink.out" 2>/dev/null)
	if [ "$got" != "$size" ]; then
		log "  $tool: WRONG byte count at the sink: ${got:-none} of $size (source: ${line:-timed out})"
		return 1
	fi
	t0=$(awk '{ print $1 }' <<<"$line")
	t1=$(awk '{ print $3 }' "$TMP/sink.out")
	tm=$(cat "$TMP/relay.time")
	awk -v size="$size" -v ns=$((t1 - t0)) -v tm="$tm" 'BEGIN {
		split(tm, r, " "); gib = size / 1073741824; wall = ns / 1e9
		printf "%.4f %.4f %.4f %.3f %.3f\n", gib / wall, (r[2] + r[3]) / gib, wall, r[2], r[3] }'
}

if has_section tput; then
	echo
	echo "## (1) single-stream relay throughput: $(numfmt --to=iec "$SIZE")B source -> relay -> sink, $RUNS runs round-robin"
	log "throughput: verifying each relay once (untimed, also the warm-up)"
	TPUT_TOOLS=()
	for t in "${TOOLS[@]}"; do
		if tput_run "$t" "$SIZE" >"$TMP/run.out"; then
			out=$(cat "$TMP/run.out")
			TPUT_TOOLS+=("$t")
			log "  $t: ok ($out)"
		else
			echo "  $t: skipped: the verification transfer failed (see above)"
		fi
	done
	for ((r = 1; r <= RUNS; r++)); do
		log "throughput run $r/$RUNS"
		for t in "${TPUT_TOOLS[@]}"; do
			if tput_run "$t" "$SIZE" >"$TMP/run.out"; then
				out=$(cat "$TMP/run.out")
				echo "$out" >>"$TMP/$t.tput"
				log "  $t: $out"
			fi
		done
	done
	echo
	printf '| %-24s | %-15s | %-17s | %-10s | %-10s | %-8s | %-8s |\n' tool "GiB/s median" "(min-max)" "CPU s/GiB" "GiB/s vs" "CPU vs" "GiB/s vs"
	printf '| %-24s | %-15s | %-17s | %-10s | %-10s | %-8s | %-8s |\n' "" "" "" "(relay)" "tuned" "tuned" "floor"
	printf '|%s|%s|%s|%s|%s|%s|%s|\n' -------------------------- ----------------- ------------------- ------------ ------------ ---------- ----------
	REF_G=nan; REF_C=nan; FLOOR_G=nan
	[ -s "$TMP/socat-b128k.tput" ] && { REF_G=$(median "$TMP/socat-b128k.tput" 1); REF_C=$(median "$TMP/socat-b128k.tput" 2); }
	[ -s "$TMP/floor.tput" ] && FLOOR_G=$(median "$TMP/floor.tput" 1)
	for t in "${TOOLS[@]}"; do
		f=$TMP/$t.tput
		if [ ! -s "$f" ]; then
			printf '| %-24s | %-15s | %-17s | %-10s | %-10s | %-8s | %-8s |\n' "$(label "$t")" failed - - - - -
			continue
		fi
		g=$(median "$f" 1); c=$(median "$f" 2)
		printf '| %-24s | %-15.2f | %-17s | %-10.3f | %-10s | %-8s | %-8s |\n' "$(label "$t")" "$g" "$(minmax "$f" 1 %.2f)" "$c" \
			"$(ratio "$g" "$REF_G")" "$(ratio "$c" "$REF_C")" "$(ratio "$g" "$FLOOR_G")"
	done
	if [ -s "$TMP/sockit.tput" ]; then
		SG=$(median "$TMP/sockit.tput" 1); SC=$(median "$TMP/sockit.tput" 2)
		echo
		echo "SPEC §7 relay TCP->TCP:"
		target "throughput >= 1.3x tuned socat (sockit/socat-b128k GiB/s)" "$(ratio "$SG" "$REF_G")" ">=" 1.3
		target "CPU per GiB <= 0.75x tuned socat (sockit/socat-b128k CPU s/GiB)" "$(ratio "$SC" "$REF_C")" "<=" 0.75
	fi
	echo "(wall = source start .. EOF at the sink; CPU = user+sys of the relay's whole process tree, wait4 rusage)"
fi

# ---- the echo server used by (2) and (3) --------------------------------------------------

start_echo() {
	ECHO_PORT=$(free_port)
	"$TMP/relaybench" echo "$ECHO_PORT" "$TMP/echo.count" </dev/null >/dev/null 2>>"$TMP/echo.err" &
	EPID=$!
	BGPIDS+=("$EPID")
	wait_listen "$ECHO_PORT" "$EPID" || { log "relay.sh: the echo server did not start: $(cat "$TMP/echo.err")"; exit 1; }
}
echo_open() { "$TMP/relaybench" count "$TMP/echo.count" | awk '{ print $2 }'; }

# ---- (2) connection rate --------------------------------------------------------------------

if has_section rate; then
	RATE_TOOLS=("${TOOLS[@]}")
	if [ $SOCKIT_WORKERS = 1 ] && has_tool sockit; then
		RATE_TOOLS+=(sockit-w2)
	fi
	echo
	echo "## (2) connections/s through the relay to a C epoll echo server: ${SECS} s x $RATE_RUNS runs, round-robin"
	start_echo
	# rate_run TOOL CONC: appends "ok fail el conns/s p50 p99 bad reset timeout connerr cpu_us_per_conn"
	rate_run() {
		local tool=$1 conc=$2 out mode=
		start_relay "$tool" "$(free_port)" "$ECHO_PORT" "$TMP/relay.time" || return 1
		# ncat 7.x loses the child's output after a client's half-close (issue 3):
		# its client reads the 64 bytes back and closes instead
		[ "$tool" = ncat ] && mode=read64
		out=$(timeout -s KILL "$(awk -v s="$SECS" 'BEGIN { print int(s + 30) }')" \
			"$TMP/connrate" client "$RPORT" "$conc" "$SECS" $mode)
		sleep 0.1
		wait_tree_idle
		stop "$TPID"
		[ -n "$out" ] || { log "  $tool c=$conc: the client driver failed"; return 1; }
		awk -v tm="$(cat "$TMP/relay.time")" '{ split(tm, r, " ")
			printf "%s %.0f\n", $0, $1 ? (r[2] + r[3]) * 1e6 / $1 : 0 }' <<<"$out"
	}
	for t in "${RATE_TOOLS[@]}"; do
		for c in "${CLIENTS[@]}"; do
			log "rate warm-up $t c=$c"
			SECS=0.5 rate_run "$t" "$c" >/dev/null || true
		done
	done
	for ((r = 1; r <= RATE_RUNS; r++)); do
		for c in "${CLIENTS[@]}"; do
			log "rate run $r/$RATE_RUNS c=$c"
			for t in "${RATE_TOOLS[@]}"; do
				if rate_run "$t" "$c" >"$TMP/run.out"; then
					out=$(cat "$TMP/run.out")
					echo "$out" >>"$TMP/$t.c$c.rate"
					log "  $t: $out"
				fi
			done
		done
	done
	for c in "${CLIENTS[@]}"; do
		echo
		echo "c=$c concurrent clients (connect, send 64 B, half-close, read the echo to EOF, verify):"
		printf '| %-26s | %-9s | %-15s | %-8s | %-8s | %-9s | %-11s | %-14s |\n' tool "conns/s" "(min-max)" "failed" "p50 ms" "p99 ms" "CPU us/conn" "vs tuned socat"
		printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------------------------- ----------- ----------------- ---------- ---------- ----------- ------------- ----------------
		REF=nan
		[ -s "$TMP/socat-b128k.c$c.rate" ] && REF=$(median "$TMP/socat-b128k.c$c.rate" 4)
		for t in "${RATE_TOOLS[@]}"; do
			f=$TMP/$t.c$c.rate
			if [ ! -s "$f" ]; then
				printf '| %-26s | %-9s | %-15s | %-8s | %-8s | %-9s | %-11s | %-14s |\n' "$(label "$t")" failed - - - - - -
				continue
			fi
			v=$(median "$f" 4)
			lab=$(label "$t")
			[ "$t" = ncat ] && lab="$lab (*)"
			printf '| %-26s | %-9.0f | %-15s | %-8s | %-8s | %-9s | %-11s | %-14s |\n' "$lab" "$v" "$(minmax "$f" 4 %.0f)" \
				"$(awk '{ s += $2 } END { print s }' "$f")" "$(median "$f" 5)" "$(median "$f" 6)" "$(median "$f" 11)" "$(ratio "$v" "$REF")"
		done
		if [ -s "$TMP/sockit.c$c.rate" ]; then
			if [ "$c" = 50 ]; then
				target "SPEC §7: relay c=50 conns/s >= 2x tuned socat fork" "$(ratio "$(median "$TMP/sockit.c$c.rate" 4)" "$REF")" ">=" 2
			else
				target "issue 4: relay c=$c conns/s >= 2x tuned socat fork" "$(ratio "$(median "$TMP/sockit.c$c.rate" 4)" "$REF")" ">=" 2
			fi
		fi
	done
	echo "(*) ncat: the client does not half-close (connrate read64): ncat loses the echo after a half-close."
	echo "failed = connections that did not get their exact echo back (sum over runs); CPU = relay tree user+sys / verified connections"
	stop "$EPID"
fi

# ---- (3) memory per idle relayed connection ------------------------------------------------

# Slab+KernelStack+PageTables in KiB
kmem() { awk '/^(Slab|KernelStack|PageTables):/ { s += $2 } END { print s }' /proc/meminfo; }

if has_section mem; then
	echo
	echo "## (3) memory per idle relayed connection: $CONNS connections held open end to end (ncat: at most 100)"
	start_echo
	# mem_run TOOL N: prints "n procs_held rss_idle rss_held pss_idle pss_held kmem_idle kmem_held"
	mem_run() {
		local tool=$1 n=$2 idle held k0 k1 hpid i st=
		if [ "$tool" = direct ]; then
			RPORT=$ECHO_PORT
			idle="0 0 0"
		else
			NCAT_MAX=$n start_relay "$tool" "$(free_port)" "$ECHO_PORT" "$TMP/relay.time" || return 1
			sleep 0.3
			idle=$("$TMP/relaybench" tree "$RPID")
		fi
		k0=$(kmem)
		"$TMP/relaybench" hold "$RPORT" "$n" 90 >"$TMP/hold.out" 2>&1 &
		hpid=$!
		BGPIDS+=("$hpid")
		for ((i = 0; i < 1000; i++)); do
			st=$(head -n 1 "$TMP/hold.out")
			[ -n "$st" ] && break
			kill -0 "$hpid" 2>/dev/null || break
			sleep 0.1
		done
		if [[ "$st" != ready* ]] || [ "$(echo_open)" != "$n" ]; then
			log "  $tool: ${st:-the holder gave no answer}; the echo server has $(echo_open) open"
			stop "$hpid"
			[ "$tool" = direct ] || stop "$TPID"
			return 1
		fi
		sleep 1 # let the last children settle
		if [ "$tool" = direct ]; then
			held="0 0 0"
		else
			held=$("$TMP/relaybench" tree "$RPID")
		fi
		k1=$(kmem)
		grep -q lost "$TMP/hold.out" && log "  $tool: $(grep -c lost "$TMP/hold.out") held connections were closed"
		stop "$hpid"
		[ "$tool" = direct ] || { wait_tree_idle; stop "$TPID"; }
		for ((i = 0; i < 100; i++)); do
			[ "$(echo_open)" = 0 ] && break
			sleep 0.1
		done
		echo "$n $held $idle $k0 $k1" | awk '{ print $1, $2, $6, $3, $7, $4, $8, $9 }'
	}
	log "memory: direct (no relay), for the kernel share of client and server sockets"
	DIRECT_K=nan
	if mem_run direct "$CONNS" >"$TMP/run.out"; then
		out=$(cat "$TMP/run.out")
		DIRECT_K=$(awk '{ printf "%.2f", ($8 - $7) / $1 }' <<<"$out")
		log "  direct: $out"
	fi
	echo
	printf '| %-24s | %-5s | %-6s | %-17s | %-11s | %-11s | %-11s | %-11s | %-11s |\n' tool conns procs "RSS KiB" "RSS/conn" "RSS/conn" "PSS/conn" "kernel/conn" "kernel/conn"
	printf '| %-24s | %-5s | %-6s | %-17s | %-11s | %-11s | %-11s | %-11s | %-11s |\n' "" "" "" "idle -> held" "KiB (total)" "KiB (added)" "KiB (total)" "KiB (all)" "KiB (relay)"
	printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' -------------------------- ------- -------- ------------------- ------------- ------------- ------------- ------------- -------------
	for t in "${TOOLS[@]}"; do
		n=$CONNS
		[ "$t" = ncat ] && [ "$n" -gt 100 ] && n=100
		log "memory: $t, $n connections"
		if ! mem_run "$t" "$n" >"$TMP/run.out"; then
			printf '| %-24s | %-5s | %-6s | %-17s | %-11s | %-11s | %-11s | %-11s | %-11s |\n' "$(label "$t")" "$n" failed - - - - - -
			continue
		fi
		out=$(cat "$TMP/run.out")
		log "  $t: $out"
		echo "$out" >"$TMP/$t.mem"
		awk -v lab="$(label "$t")" -v dk="$DIRECT_K" '{
			n = $1; kall = ($8 - $7) / n
			krel = (dk == "nan") ? "-" : sprintf("%.1f", kall - dk)
			printf "| %-24s | %-5d | %-6d | %-17s | %-11.1f | %-11.1f | %-11.1f | %-11.1f | %-11s |\n", lab, n, $2,
				sprintf("%d -> %d", $3, $4), $4 / n, ($4 - $3) / n, $6 / n, kall, krel }' <<<"$out"
	done
	echo "RSS/PSS/conn = the relay's whole process tree (VmRSS / Pss summed over the relay and all its"
	echo "children) with the connections held, / conns (added: minus the idle relay's RSS, / conns)."
	echo "For a forking relay the RSS sum counts shared"
	echo "pages (libc, the binary) once per process; PSS shares them out. kernel/conn = growth of"
	echo "Slab+KernelStack+PageTables in /proc/meminfo / conns (all: client, relay and server side;"
	echo "relay: minus the same with the clients connected straight to the echo server, ${DIRECT_K} KiB/conn)."
	echo "Slab includes a pipe's buffer ring above 8 KiB (a 1 MiB pipe: 256 x 40 B, a 16 KiB page"
	echo "allocation counted as SUnreclaim, not listed in /proc/slabinfo): two such pipes per"
	echo "connection are ~32 KiB of a relay's share. System-wide, so other load shows up in it."
	if [ -s "$TMP/sockit.mem" ]; then
		echo
		echo "SPEC §7 memory per idle relayed connection:"
		target "sockit user space <= 32 KiB per connection (tree RSS / conns, KiB)" \
			"$(awk '{ printf "%.1f", $4 / $1 }' "$TMP/sockit.mem")" "<=" 32
		target "no process or thread per connection (processes in the tree)" "$(awk '{ print $2 }' "$TMP/sockit.mem")" "<=" 1
	fi
	stop "$EPID"
fi

# ---- (4) strace -c --------------------------------------------------------------------------------

if has_section strace; then
	MIB=$(awk -v s="$STRACE_SIZE" 'BEGIN { print s / 1048576 }')
	echo
	echo "## (4) strace -c -f of the relay process tree, one $(numfmt --to=iec "$STRACE_SIZE")B transfer: system calls per MiB"
	echo
	for t in "${TOOLS[@]}"; do
		s=$(free_port)
		rm -f "$TMP/sink.out" "$TMP/strace.$t"
		timeout 200 "$TMP/relaybench" sink "$s" "$TMP/sink.out" 2>>"$TMP/sink.err" &
		spid=$!
		BGPIDS+=("$spid")
		wait_listen "$s" "$spid" || { stop "$spid"; continue; }
		p=$(free_port)
		set_relay "$t" "$p" "$s"
		"$TMP/relaybench" time "$TMP/relay.time" strace -c -f -o "$TMP/strace.$t" "${RCMD[@]}" </dev/null >/dev/null 2>>"$TMP/relay.err" &
		TPID=$!
		BGPIDS+=("$TPID")
		if ! wait_listen "$p" "$TPID"; then
			log "  $t: the relay under strace did not listen"
			stop "$spid" "$TPID"
			continue
		fi
		timeout 180 "$TMP/relaybench" source "$p" "$STRACE_SIZE" >/dev/null 2>>"$TMP/source.err"
		wait "$spid"
		stop "$spid"
		# the relay is strace's child: stop it, and strace writes its table
		SPID=$(cat "/proc/$TPID/task/$TPID/children" 2>/dev/null | awk '{ print $1 }')
		RPID=$(cat "/proc/$SPID/task/$SPID/children" 2>/dev/null | awk '{ print $1 }')
		[ -n "$RPID" ] && wait_tree_idle
		[ -n "$RPID" ] && kill -TERM "$RPID" 2>/dev/null
		sleep 0.3
		stop "$TPID"
		got=$(awk '{ print $1 }' "$TMP/sink.out" 2>/dev/null)
		if [ "$got" != "$STRACE_SIZE" ] || [ ! -s "$TMP/strace.$t" ]; then
			echo "  $(label "$t"): failed (${got:-no} bytes at the sink)"
			continue
		fi
		awk -v mib="$MIB" '$NF == "total" { print $4 / mib }' "$TMP/strace.$t" >"$TMP/$t.sc"
		top=$(awk -v mib="$MIB" '$1 ~ /^[0-9.]+$/ && $NF != "total" {
				e = (NF == 6) ? $5 : 0
				printf "%d %s %.1f%s\n", $4, $NF, $4 / mib, e ? sprintf(" (%d%% err)", 100 * e / $4) : "" }' "$TMP/strace.$t" |
			sort -rn | head -n 6 | cut -d' ' -f2- | paste -sd, - | sed 's/,/, /g')
		printf '%-26s %8.1f calls/MiB (%d calls): %s\n' "$(label "$t")" "$(cat "$TMP/$t.sc")" \
			"$(awk '$NF == "total" { print $4 }' "$TMP/strace.$t")" "$top"
	done
	if [ -s "$TMP/sockit.sc" ] && [ -s "$TMP/socat-b128k.sc" ]; then
		echo
		echo "sockit / socat -b 131072 system calls per MiB: $(ratio "$(cat "$TMP/sockit.sc")" "$(cat "$TMP/socat-b128k.sc")")"
	fi
	echo "(calls/MiB per system call, the six most frequent; err = share that failed, mostly EAGAIN)"
fi

echo
echo "# done, load $(cut -d' ' -f1-3 /proc/loadavg)"
