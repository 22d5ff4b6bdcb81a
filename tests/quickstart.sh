#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# quickstart.sh demo|test - the two README commands, for a fresh Debian 12 machine as root.
#   demo: install build dependencies, build, run a real listen/connect round trip.
#   test: install build and test dependencies, then build and test twice
#         (release, and address+undefined sanitizers), warnings as errors;
#         then the separate stages: unit tests under valgrind, fuzzing
#         (about 2 minutes), and the Debian package build with lintian.
# Ends with one line "N passed, N failed, N skipped" summing every run and stage.
set -euo pipefail

cd "$(dirname "$0")/.."
mode=${1:-}
build_deps=(build-essential meson ninja-build pkg-config libssl-dev libreadline-dev scdoc
	bash-completion)
test_deps=(bats bats-support bats-assert socat ncat netcat-openbsd openssl python3 iproute2
	procps strace systemd tmux tshark microsocks dante-server haproxy curl nftables python3-websockets
	zsh fish valgrind clang
	libclang-rt-14-dev debhelper dpkg-dev
	fakeroot lintian rsync)

apt_install() { # install what is missing; no network needed when nothing is
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	((${#missing[@]})) || return 0
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() { # build DIR [MESON OPTIONS]
	local dir=$1
	shift
	if [[ -f $dir/build.ninja ]]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
	meson compile -C "$dir"
}

run_tests() { # run_tests DIR LOGBASE [MESON TEST OPTIONS]: meson test, then its TAP tally
	local dir=$1 base=$2 status=0
	shift 2
	meson test -C "$dir" --print-errorlogs --num-processes 2 --logbase "$base" "$@" ||
		status=$?
	/usr/bin/python3 tests/tally.py "$dir" "$status" "$base" | tee -a "$tallies" || true
}

stage() { # stage NAME COMMAND...: a pass/fail step, counted as one case
	echo "--- stage: $1"
	local name=$1
	shift
	if "$@"; then
		echo "stage $name: ok"
		echo "1 passed, 0 failed, 0 skipped" >>"$tallies"
	else
		echo "stage $name: FAILED" | tee -a "$tallies"
		echo "0 passed, 1 failed, 0 skipped" >>"$tallies"
	fi
}

demo() {
	local sock dir
	dir=$(mktemp -d)
	sock=$dir/demo.sock
	build build -Dbuildtype=release
	echo "--- a real round trip: sockit listen on $sock, sockit connect sends a line ---"
	build/src/sockit listen -v -U "$sock" </dev/null >"$dir/received" 2>"$dir/listen.log" &
	local lpid=$!
	for _ in $(seq 50); do grep -q '^listening on ' "$dir/listen.log" && break; sleep 0.1; done
	cat "$dir/listen.log"
	local line
	line="hello from sockit $(date -u +%FT%TZ)"
	echo "$line" | build/src/sockit connect -U "$sock"
	wait "$lpid"
	echo "the listener received: $(cat "$dir/received")"
	[[ $(cat "$dir/received") == "$line" ]]
	local ok=$?
	rm -rf "$dir"
	return $ok
}

case $mode in
demo)
	apt_install "${build_deps[@]}"
	demo
	;;
test)
	apt_install "${build_deps[@]}" "${test_deps[@]}"
	tallies=$(mktemp)
	trap 'rm -f "$tallies"' EXIT
	build build-release -Dbuildtype=release -Dwerror=true -Dwarning_level=3
	build build-asan -Dbuildtype=debug -Dwerror=true -Dwarning_level=3 \
		-Db_sanitize=address,undefined -Db_lundef=false
	run_tests build-release testlog
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		SOCKIT_SANITIZED=1 run_tests build-asan testlog
	# Separate stages, outside the two meson test runs' budget.
	run_tests build-release valgrind --suite unit \
		--wrapper 'valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite'
	stage fuzz tests/fuzz/run.sh build-fuzz 40
	stage deb packaging/build-deb.sh
	# The README's other command, so that it cannot break unseen.
	stage demo demo
	# The failed cases again, then one line for everything, last, so a run of
	# no tests (or the name of what failed) is visible at the end of the log.
	grep '^FAILED ' "$tallies" || true
	grep '^stage .*: FAILED' "$tallies" || true
	awk '/^[0-9]+ passed, / {p += $1; f += $3; s += $5} END {
		printf "%d passed, %d failed, %d skipped\n", p, f, s; exit (f > 0 || p == 0) }' \
		"$tallies"
	;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac
