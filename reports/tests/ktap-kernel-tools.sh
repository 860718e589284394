#!/usr/bin/env bash
# Our KTAP read by the kernel's own tools, with every verdict in it: a run of
# `vdsoconf run --format ktap` on a QEMU image judged as a 7.2 kernel's vDSO,
# with a spec that records two of its findings as deviations and expects a
# third one that does not show (so: PASS, FAIL, SKIP, XFAIL and XPASS), is
#  - parsed by tools/testing/kunit/kunit.py parse, which must see every check
#    with the status kselftest gives it (XFAIL and XPASS are ok lines: passed);
#  - compared, line by line, with what kselftest.h itself prints for the same
#    results: a C program built with the kernel's header calls
#    ksft_test_result_code() for each check of results.json, and its result
#    lines, totals and exit status must be ours.
# Usage: reports/tests/ktap-kernel-tools.sh [LINUX_SRC]  (default: Debian's
# linux-source-7.3, fetched into the cache as .ci/kernel-tree does)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../../runners/lib/cache.sh
source runners/lib/cache.sh
# shellcheck source=../../runners/lib/private-apt.sh
source runners/lib/private-apt.sh
# shellcheck source=../../runners/kernel-source/fetch.sh
source runners/kernel-source/fetch.sh
VDSOCONF_CACHE=$(vdsoconf_cache_dir)
export VDSOCONF_CACHE
fail() {
    echo "ktap-kernel-tools: $*" >&2
    exit 1
}

src=${1:-}
if [ -z "$src" ]; then
    mkdir -p "$VDSOCONF_CACHE/kernel-source"
    src=$(with_lock "$VDSOCONF_CACHE/kernel-source/.lock" kernel_source 7.3)
fi
[ -f "$src/tools/testing/kunit/kunit.py" ] && [ -f "$src/tools/testing/selftests/kselftest.h" ] ||
    fail "$src has no tools/testing/kunit/kunit.py or tools/testing/selftests/kselftest.h"
echo "ktap-kernel-tools: source $src"

# The vdsoconf to read: $VDSOCONF (.ci/run's, built by its tests), else a release build.
vdsoconf=${VDSOCONF:-}
if [ -z "$vdsoconf" ]; then
    cargo build --release --locked --quiet -p vdsoconf
    vdsoconf=target/release/vdsoconf
fi
root=$PWD/target/ktap-kernel-tools

# check LABEL ALL WANT: QEMU's aarch64 vDSO judged as a 7.2 kernel's, with
# deviations in a copy of the spec (ALL: one for every failure too); WANT: the
# exit status `vdsoconf run` must give.
check() {
    local label=$1 all=$2 want=$3
    work=$root/$label
    rm -rf "$work"
    mkdir -p "$work"
    # QEMU's aarch64 vDSO as a 7.2 kernel's: its segment is writable and
    # executable (segment-wx) and its sigreturn is FUNC (symbol-type), recorded
    # here as deviations (XFAIL); getrandom is missing (FAIL); a deviation for the
    # notes, which are clean, does not show (XPASS); calls are skips.
    awk -v all="$all" '{ print } /^deviations:$/ {
        print "  - description: \"test: the segment is writable and executable\""
        print "    evidence: \"reports/tests/ktap-kernel-tools.sh\""
        print "    checks: [\"image::segments\"]"
        print "    symptoms: [\"segment-wx\"]"
        print "  - description: \"test: the sigreturn trampoline is a FUNC\""
        print "    evidence: \"reports/tests/ktap-kernel-tools.sh\""
        print "    checks: [\"resolve::__kernel_rt_sigreturn\"]"
        print "    symptoms: [\"symbol-type\"]"
        print "  - description: \"test: a note that is not there\""
        print "    evidence: \"reports/tests/ktap-kernel-tools.sh\""
        print "    checks: [\"image::notes\"]"
        print "    symptoms: [\"no-build-id\"]"
        if (all) {
            print "  - description: \"test: getrandom is missing\""
            print "    evidence: \"reports/tests/ktap-kernel-tools.sh\""
            print "    checks: [\"resolve::__kernel_getrandom\"]"
            print "    symptoms: [\"missing-symbol\"]"
        }
    }' spec/aarch64.yaml >"$work/aarch64.yaml"
    status=0
    "$vdsoconf" run --arch aarch64 --kernel 7.2 --spec "$work/aarch64.yaml" \
        --image suite/fixtures/aarch64/qemu-10.0-le.so --format ktap \
        --output "$work/results.ktap" --report-dir "$work/report" || status=$?
    [ "$status" = "$want" ] || fail "vdsoconf run exited $status, not $want"
    for word in XFAIL XPASS SKIP; do
        grep -q "^  ok [0-9]* .* # $word " "$work/results.ktap" || fail "no $word line in $work/results.ktap"
    done
    [ "$all" ] || grep -q "^  not ok " "$work/results.ktap" || fail "no failure in $work/results.ktap"

    # kunit.py parse: every check, with the status kselftest gives it.
    python3 "$src/tools/testing/kunit/kunit.py" parse "$work/results.ktap" >"$work/kunit.out" 2>&1 ||
        true # it exits 1 when a test failed
    python3 - "$work/report/results.json" "$work/kunit.out" "$label" <<'PY' || fail "kunit.py parse read it otherwise (its output: $work/kunit.out)"
import json, re, sys
results = json.load(open(sys.argv[1]))["results"]
text = re.sub(r"\x1b\[[0-9;]*m", "", open(sys.argv[2]).read())
status = {"pass": "PASSED", "xfail": "PASSED", "xpass": "PASSED", "skip": "SKIPPED", "fail": "FAILED"}
seen = {}
for line in text.splitlines():
    m = re.search(r"\[(PASSED|SKIPPED|FAILED|CRASHED)\] (\S+)", line)
    if m:
        seen.setdefault(m.group(2), m.group(1))
bad = [f"{r['name']}: {r['result']['verdict']}, kunit.py {seen.get(r['name'])}"
       for r in results if seen.get(r["name"]) != status[r["result"]["verdict"]]]
if bad or "ERROR" in text or "CRASHED" in text:
    print("\n".join(bad[:20]) or text[-2000:], file=sys.stderr)
    sys.exit(1)
counts = {v: sum(r["result"]["verdict"] == v for r in results) for v in status}
print(f"ktap-kernel-tools: {sys.argv[3]}: kunit.py parse read all {len(results)} checks as kselftest would "
      f"(xfail {counts['xfail']} and xpass {counts['xpass']} passed, skip {counts['skip']} skipped, "
      f"fail {counts['fail']} failed)")
PY

    # kselftest.h: the same results through ksft_test_result_code().
    python3 - "$work/report/results.json" >"$work/ksft.c" <<'PY'
import json, sys
code = {"pass": "KSFT_PASS", "fail": "KSFT_FAIL", "skip": "KSFT_SKIP", "xfail": "KSFT_XFAIL", "xpass": "KSFT_XPASS"}
def c(s):  # as a C string literal, '%' escaped for the format
    return json.dumps(s.replace("%", "%%"))
results = json.load(open(sys.argv[1]))["results"]
print('#include "kselftest.h"\nint main(void)\n{')
print(f"\tksft_print_header();\n\tksft_set_plan({len(results)});")
for r in results:
    v = r["result"]["verdict"]
    # A pass or a failure has no message on its line (a failure's problems are
    # diagnostics before it); a reason is kept on one line and without '#'.
    why = r["result"].get("reason")
    why = "NULL" if why is None else c(why.replace("\n", " ").replace("\r", " ").replace("#", "no."))
    print(f'\tksft_test_result_code({code[v]}, {c(r["name"])}, {why});')
print("\tksft_print_cnts();\n\tksft_finished();\n}")
PY
    gcc -O0 -w -I "$src/tools/testing/selftests" -o "$work/ksft" "$work/ksft.c"
    ksft_status=0
    "$work/ksft" >"$work/ksft.out" 2>&1 || ksft_status=$?
    # Result lines without their numbers (kselftest numbers one flat list, ours
    # each group's subtests), in order.
    strip() { sed -n -E 's/^ *(not ok|ok) [0-9]+ (.*)$/\1 \2/p' | sed -E 's/ +$//'; }
    grep -E '^  (not ok|ok) [0-9]+ ' "$work/results.ktap" | strip >"$work/ours.lines"
    grep -E '^(not ok|ok) [0-9]+ ' "$work/ksft.out" | strip >"$work/ksft.lines"
    diff -u "$work/ksft.lines" "$work/ours.lines" >"$work/lines.diff" ||
        fail "our result lines are not kselftest.h's ($work/lines.diff)"
    theirs=$(grep '^# Totals:' "$work/ksft.out" | tail -n 1)
    ours=$(grep '^# Totals:' "$work/results.ktap")
    [ "$theirs" = "$ours" ] || fail "totals: kselftest.h '$theirs', ours '$ours'"
    # ksft_finished(): 0 when every test passed, xfailed, xpassed or skipped, else 1.
    [ "$ksft_status" = "$status" ] || fail "exit status: kselftest.h $ksft_status, ours $status"
    echo "ktap-kernel-tools: $label: $(wc -l <"$work/ours.lines") result lines, the totals ($ours) and the exit status ($status) are what kselftest.h prints"
}

check with-a-failure "" 1
check every-failure-known 1 0
