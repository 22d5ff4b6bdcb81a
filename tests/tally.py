#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""tally.py BUILDDIR [MESON_STATUS [LOGBASE]]: count TAP cases of a `meson test` run.

Meson's own summary counts test programs, not the cases inside them, and a
run that executed nothing can look green. This reads meson-logs/testlog.json,
counts `ok` / `not ok` in every TAP output (plus cases a plan promised but
never ran; a non-TAP test counts as one case), prints each failed case as a
line `FAILED BUILDDIR TEST: not ok ...`, then `N passed, N failed` last, and exits non-zero on any failure, on a non-zero meson status, or when
nothing ran. LOGBASE is meson test's --logbase (default testlog).
"""
import glob
import json
import os
import re
import sys

PLAN = re.compile(r"^1\.\.(\d+)")
CASE = re.compile(r"^(not ok|ok)\b(.*)$")


def count_tap(text, failures):
    passed = failed = skipped = 0
    planned = None
    for line in text.splitlines():
        m = PLAN.match(line)
        if m:
            planned = int(m.group(1))
            continue
        m = CASE.match(line)
        if not m:
            continue
        rest = m.group(2)
        if "# SKIP" in rest.upper():
            skipped += 1
        elif m.group(1) == "ok" or "# TODO" in rest.upper():
            passed += 1
        else:
            failed += 1
            failures.append(line.strip())
    seen = passed + failed + skipped
    if planned is not None and planned > seen:
        failed += planned - seen
    return passed, failed, skipped


def main():
    if len(sys.argv) < 2:
        print("usage: tally.py BUILDDIR [MESON_STATUS [LOGBASE]]", file=sys.stderr)
        return 2
    status = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    logbase = sys.argv[3] if len(sys.argv) > 3 else "testlog"
    passed = failed = skipped = 0
    path = f"{sys.argv[1]}/meson-logs/{logbase}.json"
    if not os.path.exists(path):
        # meson test --wrapper W appends "-W" to the log base name
        found = sorted(glob.glob(f"{sys.argv[1]}/meson-logs/{logbase}-*.json"), key=os.path.getmtime)
        path = found[-1] if found else path
    try:
        with open(path, encoding="utf-8") as f:
            entries = [json.loads(line) for line in f if line.strip()]
    except OSError as e:
        print(f"tally: {e}", file=sys.stderr)
        entries = []
    for e in entries:
        out = e.get("stdout") or ""
        if e.get("protocol", "").lower() == "tap" or PLAN.search(out) or re.search(r"(?m)^ok ", out):
            failures = []
            p, f_, s = count_tap(out, failures)
            for line in failures:
                print(f"FAILED {sys.argv[1]} {e.get('name')}: {line}")
            if e.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP") and f_ == 0:
                f_ = 1  # crashed or timed out after its last case
                print(f"FAILED {sys.argv[1]} {e.get('name')}: {e.get('result')} after its last case")
        else:
            p, f_, s = (1, 0, 0) if e.get("result") in ("OK", "EXPECTEDFAIL") else (0, 1, 0)
            if f_:
                print(f"FAILED {sys.argv[1]} {e.get('name')}: {e.get('result')}")
            if e.get("result") == "SKIP":
                p, s = 0, 1
        if f_:
            print(f"tally: {e.get('name')}: {f_} failed", file=sys.stderr)
        passed, failed, skipped = passed + p, failed + f_, skipped + s
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    if failed or status or passed == 0:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
