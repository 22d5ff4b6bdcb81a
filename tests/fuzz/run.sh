#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# run.sh BUILD_DIR [SECONDS_PER_TARGET] - run every libFuzzer target for a while.
#
# Configures BUILD_DIR as a clang fuzz build when it does not exist yet, builds
# the fuzz_* binaries, and runs each one on a scratch copy of its seed corpus
# (the committed corpus never grows by itself). Exits non-zero if any target
# finds a crash, leak, timeout or broken invariant, and prints the input that
# triggered it; add that file to tests/fuzz/corpus/TARGET/ once it is fixed.
set -euo pipefail

usage() {
	echo "usage: $0 BUILD_DIR [SECONDS_PER_TARGET]" >&2
	exit 2
}
[[ $# -ge 1 && $# -le 2 ]] || usage
build=$1
secs=${2:-45}
[[ $secs =~ ^[1-9][0-9]*$ ]] || usage
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
targets=(addr argv endpoint targets)

if [[ ! -d $build ]]; then
	CC=clang meson setup "$build" "$src" -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dtests=true
fi
bins=()
for t in "${targets[@]}"; do
	bins+=("tests/fuzz/fuzz_$t")
done
if ! ninja -C "$build" "${bins[@]}"; then
	echo "run.sh: cannot build the fuzzers in $build; it needs CC=clang and -Dfuzz=true" >&2
	exit 2
fi

build=$(cd "$build" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sockit-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
failed=0
for t in "${targets[@]}"; do
	corpus=$scratch/$t
	artifacts=$build/fuzz-artifacts/$t
	log=$build/fuzz-logs/$t.log
	args=()
	mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
	cp "$here/corpus/$t/"* "$corpus/"
	[[ -f $here/$t.dict ]] && args+=("-dict=$here/$t.dict")
	echo "fuzz_$t: ${secs}s from $(find "$corpus" -type f | wc -l) seeds (log: $log)"
	rc=0
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$build/tests/fuzz/fuzz_$t" "${args[@]}" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	if [[ $rc -eq 0 ]]; then
		echo "fuzz_$t: ok, ${runs:-?} runs, corpus grew to $(find "$corpus" -type f | wc -l)"
		continue
	fi
	failed=1
	echo "fuzz_$t: FAILED (status $rc)"
	grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: |.*runtime error)' "$log" | head -n 5 || true
	crasher=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)
	if [[ -n $crasher ]]; then
		echo "fuzz_$t: crasher: $crasher"
		echo "fuzz_$t: replay: $build/tests/fuzz/fuzz_$t $crasher"
	else
		tail -n 40 "$log"
	fi
done
exit "$failed"
