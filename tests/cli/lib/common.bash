# tests/cli/lib/common.bash - shared helpers for the sockit command-line tests.
#
# Every file does `load lib/common`. Tests get the binary from $SOCKIT.
# Rules the helpers enforce: loopback only, port 0 for listeners (the real
# port comes from the `listening on ...` line of `listen -v`), no sleeps for
# readiness (every wait polls with a bound), and every background process is
# recorded and killed by PID in teardown.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
bats_require_minimum_version 1.5.0

PY=/usr/bin/python3
HELPERS=$BATS_TEST_DIRNAME/lib

setup() {
	sk_setup
}

teardown() {
	sk_teardown
}

sk_setup() {
	if [[ -z ${SOCKIT:-} || ! -x $SOCKIT ]]; then
		echo "SOCKIT must name the sockit binary (got '${SOCKIT:-}')" >&2
		return 1
	fi
	T=$BATS_TEST_TMPDIR
	HELD_FDS=()
	PIDFILE=$T/.pids
	: >"$PIDFILE"
	# A sanitizer build is slower and bigger; the RSS test needs to know.
	if [[ ${SOCKIT_SANITIZED:-} == 1 ]] || ldd "$SOCKIT" 2>/dev/null | grep -q 'lib[at]san'; then
		SANITIZED=1
	else
		SANITIZED=0
	fi
}

sk_teardown() {
	local pid f
	[[ -f ${PIDFILE:-} ]] || return 0
	# A failed test shows what its processes said (bats prints teardown output).
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		for f in "$T"/*.err; do
			[[ -s $f ]] || continue
			echo "--- ${f##*/}"
			tail -n 5 "$f"
		done
	fi
	# Newest first: clients before the servers they talk to.
	for pid in $(tac "$PIDFILE"); do
		alive "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for pid in $(tac "$PIDFILE"); do
		wait_gone "$pid" 2 || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null || true
	done
	: >"$PIDFILE"
}

# ---- time and polling ---------------------------------------------------------

now_ms() {
	local us=${EPOCHREALTIME/./}
	echo $((us / 1000))
}

# to_ms SECS: seconds (decimals allowed) as whole milliseconds.
to_ms() {
	awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'
}

# wait_until SECS CMD...: run CMD every 50 ms until it succeeds; 1 when SECS pass.
wait_until() {
	local end
	end=$(($(now_ms) + $(to_ms "$1")))
	shift
	until "$@"; do
		(($(now_ms) < end)) || return 1
		sleep 0.05
	done
}

# alive PID: the process exists and is not a zombie.
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# wait_gone PID SECS: wait until PID has exited (zombie or reaped).
wait_gone() {
	wait_until "$2" eval "! alive $1"
}

# wait_exit PID SECS: wait until PID (a child of this shell) exits; sets WSTATUS.
# Fails, leaving the process running, when it is still there after SECS.
wait_exit() {
	WSTATUS=
	wait_gone "$1" "$2" || {
		echo "process $1 still running after $2 s" >&2
		return 1
	}
	WSTATUS=0
	wait "$1" || WSTATUS=$?
}

# ---- background processes -------------------------------------------------------

# bg_run NAME [--in FILE] [--out FILE] -- CMD...: start CMD in the background with
# stdin FILE (default /dev/null), stdout FILE (default $T/NAME.out) and stderr
# $T/NAME.err; SIGINT and SIGPIPE at their defaults, as from a terminal. Sets BG_PID.
bg_run() {
	local name=$1 in=/dev/null out=
	shift
	out=$T/$name.out
	while [[ $# -gt 0 ]]; do
		case $1 in
		--in) in=$2; shift 2 ;;
		--out) out=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	# Empty the logs here, not in the child: a name used before must not show
	# its old lines to a wait_line that runs before the child starts.
	: >"$T/$name.err"
	[[ $out == "$T/$name.out" ]] && : >"$out"
	# fd 3 is bats' own output, and a held FIFO (hold_fifo) must have no other
	# writer: a child keeping either open would stall the run or hide an EOF.
	(
		for fd in ${HELD_FDS[@]+"${HELD_FDS[@]}"}; do
			eval "exec $fd>&-"
		done
		exec "$PY" "$HELPERS/dfl.py" "$@" <"$in" >"$out" 2>"$T/$name.err" 3>&-
	) &
	BG_PID=$!
	echo "$BG_PID" >>"$PIDFILE"
}

# wait_line FILE REGEX SECS [PID]: wait until FILE has a line matching REGEX;
# gives up early when PID has exited without printing it.
wait_line() {
	local file=$1 re=$2 pid=${4:-} end
	end=$(($(now_ms) + $(to_ms "$3")))
	until grep -qE -- "$re" "$file" 2>/dev/null; do
		if [[ -n $pid ]] && ! alive "$pid"; then
			grep -qE -- "$re" "$file" 2>/dev/null && return 0
			return 1
		fi
		(($(now_ms) < end)) || return 1
		sleep 0.05
	done
}

# listen_bg [--name NAME] [--in FILE] [--out FILE] ARGS...: start `sockit listen -v ARGS`
# and wait (<= 5 s) for its `listening on` line. Sets LPID, LEP (the endpoint it
# printed), LPORT (the text after the last ':'), LNAME. Files: $T/NAME.{out,err}.
listen_bg() {
	local name=listen opts=() line
	while [[ $# -gt 0 ]]; do
		case $1 in
		--name) name=$2; shift 2 ;;
		--in | --out) opts+=("$1" "$2"); shift 2 ;;
		*) break ;;
		esac
	done
	[[ ${#opts[@]} -gt 0 || -z ${LISTEN_IN:-} ]] || opts=(--in "$LISTEN_IN")
	bg_run "$name" "${opts[@]}" -- "$SOCKIT" listen -v "$@"
	LPID=$BG_PID
	LNAME=$name
	if ! wait_line "$T/$name.err" '^listening on ' 5 "$LPID"; then
		echo "sockit listen $* did not report listening; stderr:" >&2
		cat "$T/$name.err" >&2
		return 1
	fi
	line=$(grep -m1 '^listening on ' "$T/$name.err")
	LEP=${line#listening on }
	LPORT=${line##*:}
}

# wait_accepts N [SECS]: wait until the listener logged N `connection from` lines.
wait_accepts() {
	wait_until "${2:-5}" eval "(( \$(grep -c '^connection from ' \"\$T/\$LNAME.err\") >= $1 ))"
}

# peer_bg NAME MODE ARGS...: start a scripted peer (lib/peer.py) and wait for its
# port. Sets PPID_, PPORT; its report goes to $T/NAME.report.
peer_bg() {
	local name=$1
	shift
	PEER_REPORT=$T/$name.report bg_run "$name" -- "$PY" "$HELPERS/peer.py" "$@"
	PPID_=$BG_PID
	if ! wait_line "$T/$name.out" '^port [0-9]+$' 5 "$PPID_"; then
		echo "peer $* did not start:" >&2
		cat "$T/$name.err" >&2
		return 1
	fi
	PPORT=$(awk '/^port /{print $2; exit}' "$T/$name.out")
}

# blackhole_start [-6]: a loopback TCP port whose accept queue is full, so that
# SYNs to it are dropped and connects hang. Sets BHPORT.
blackhole_start() {
	peer_bg blackhole "$@" blackhole
	BHPORT=$PPORT
}

# free_port [-6]: a loopback port that was free a moment ago (for peers that
# cannot report port 0, such as ncat).
free_port() {
	"$PY" "$HELPERS/peer.py" "$@" free-port
}

# free_udp_port [-6]: the same for UDP.
free_udp_port() {
	"$PY" "$HELPERS/peer.py" "$@" free-udp-port
}

# hold_fifo PATH FD: create a FIFO and open it read-write on FD in this shell,
# so that readers never see EOF (and never block on open) until FD is closed.
hold_fifo() {
	mkfifo "$1"
	eval "exec $2<>\"\$1\""
	HELD_FDS+=("$2")
}

# release_fifo FD: close a held FIFO; its reader sees EOF once the data is read.
release_fifo() {
	eval "exec $1>&-"
}

# ---- data -----------------------------------------------------------------------

# random_file PATH SIZE: SIZE bytes from /dev/urandom (SIZE as for head -c: 16M).
random_file() {
	head -c "$2" /dev/urandom >"$1"
}

sha() {
	sha256sum <"$1" | cut -d' ' -f1
}

# assert_same_data EXPECTED ACTUAL: same size and SHA-256, with both shown if not.
assert_same_data() {
	local want got
	want="$(stat -c %s "$1") $(sha "$1")"
	got="$(stat -c %s "$2" 2>/dev/null) $(sha "$2" 2>/dev/null)"
	if [[ $want != "$got" ]]; then
		echo "data differs: expected '$1' ($want), got '$2' ($got)" >&2
		return 1
	fi
}

# report_value NAME KEY: a value from a peer.py report.
report_value() {
	awk -v k="$2" '$1 == k { print $2; exit }' "$T/$1.report"
}

# vmrss_kib PID: resident set size in KiB.
vmrss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# ---- syscall trace ----------------------------------------------------------------

# traced_run CMD...: `run` CMD under strace, logging socket, bind, listen and
# connect calls to $T/strace.log; skips without strace.
traced_run() {
	local asan=${ASAN_OPTIONS:-}
	command -v strace >/dev/null || skip "strace is not installed"
	# LeakSanitizer cannot run under ptrace.
	((SANITIZED)) && asan=${asan:+$asan:}detect_leaks=0
	run --separate-stderr env ASAN_OPTIONS="$asan" \
		strace -f -qq -o "$T/strace.log" -e trace=socket,bind,listen,connect "$@"
}
# assert_no_socket_calls: the traced_run opened no IP socket and bound, listened
# or connected nothing (the C library's own look-up of the nscd socket aside).
assert_no_socket_calls() {
	if grep -E 'socket\(AF_INET|bind\(|listen\(|connect\(' "$T/strace.log" | grep -v nscd; then
		echo "socket calls were made (above)" >&2
		return 1
	fi
}

# elapsed_ms START_MS: milliseconds since START_MS.
elapsed_ms() {
	echo $(($(now_ms) - $1))
}
