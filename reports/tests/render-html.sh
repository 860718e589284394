#!/usr/bin/env bash
# Renders the HTML report in headless Chromium (Debian's chromium package, installed
# here if missing) and checks what a reader sees: the conformance table with its
# rows, the bench chart as inline SVG with one pair of bars per measured call, and
# the ABI history's page (`vdsoconf history history/ --html`), and each cell
# opening (<details>) the checks behind its counts.
# Also refuses any network resource in the page. Usage: reports/tests/render-html.sh
# (runs $VDSOCONF, else a release build of this checkout)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/target/html-check}
rm -rf "$out"
mkdir -p "$out"

if ! command -v chromium >/dev/null; then
    echo "render-html: installing Debian's chromium"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || {
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
    }
fi

# The vdsoconf whose pages are rendered: $VDSOCONF (.ci/run's, built by its
# tests), else a release build. The chart's figures do not matter here, only
# what the page shows.
if [ -n "${VDSOCONF:-}" ]; then
    bin=$VDSOCONF
else
    cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin vdsoconf
    bin=${CARGO_TARGET_DIR:-$root/target}/release/vdsoconf
fi
"$bin" bench --report-dir "$out" >/dev/null
"$bin" run --report-dir "$out" >/dev/null || true # a failing check still renders
page=$out/report.html

fail() { echo "render-html: FAIL: $*" >&2; exit 1; }

# Self-contained: no src/href to anything but the page itself (the SVG namespace
# is an identifier, not a fetch).
if grep -oE '(src|href)="[^"#][^"]*"' "$page" | grep -q .; then
    fail "the page references external resources: $(grep -oE '(src|href)="[^"#][^"]*"' "$page" | head -3)"
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chrome=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --user-data-dir="$profile")
timeout 120 "${chrome[@]}" --dump-dom "file://$page" >"$out/dom.html" 2>"$out/chromium.log" \
    || fail "chromium could not render the page (see $out/chromium.log)"
timeout 120 "${chrome[@]}" --screenshot="$out/report.png" --window-size=1280,1800 "file://$page" \
    >>"$out/chromium.log" 2>&1 || true

dom=$out/dom.html
bench_rows=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rows"]))' "$out/bench.json")
grep -q '<table class="matrix">' "$dom" || fail "no conformance table in the rendered page"
grep -qE '<td class="name (pass|fail)">(PASS|FAIL)' "$dom" || fail "the conformance table has no result row"
run_checks=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["results"]))' "$out/results.json")
run_items=$(grep -oE '<li class="(pass|fail|skip|xfail|xpass)"><code>' "$dom" | wc -l)
[ "$run_items" -ge "$run_checks" ] || fail "the page's cells open $run_items checks of $run_checks"
grep -q '<svg[^>]*class="bench-chart"' "$dom" || fail "no bench chart (inline SVG) in the rendered page"
bars=$(grep -o '<rect x="[0-9.]*" y="[0-9.]*" width="[0-9.]*" height="10" fill="#[0-9a-f]*"><title>' "$dom" | wc -l)
[ "$bars" -eq $((2 * bench_rows)) ] || fail "the chart has $bars bars for $bench_rows measured calls (want two each)"
table_rows=$(grep -c '^<tr><td class="name">' "$dom" || true)
[ "$table_rows" -ge $((1 + bench_rows)) ] || fail "only $table_rows table rows rendered"
# The qemu matrix's page, when a matrix ran before (as in .ci/run).
matrix_page=$root/target/matrix/index.html
if [ -f "$matrix_page" ]; then
    timeout 120 "${chrome[@]}" --dump-dom "file://$matrix_page" >"$out/matrix-dom.html" 2>>"$out/chromium.log" \
        || fail "chromium could not render $matrix_page"
    targets=$(find "$root/target/matrix" -name target.json | wc -l)
    shown=$(grep -c '^<tr><td class="name">' "$out/matrix-dom.html" || true)
    [ "$shown" -ge "$targets" ] || fail "the matrix page shows $shown rows for $targets targets"
    # Each cell opens the checks behind it: every check of every row is listed.
    checks=$(python3 -c 'import glob, json
print(sum(len(json.load(open(f))["results"]) for f in glob.glob("'"$root"'/target/matrix/*/results.json")))')
    items=$(grep -oE '<li class="(pass|fail|skip|xfail|xpass)"><code>' "$out/matrix-dom.html" | wc -l)
    [ "$items" -ge "$checks" ] || fail "the matrix page's cells open $items checks of $checks"
    grep -q '<tr class="arch">' "$out/matrix-dom.html" || fail "the matrix page does not group rows by architecture"
    echo "render-html: ok: the matrix page shows all $targets targets, its cells open all $checks checks"
fi
# The ABI history's page: one table per lineage, one row per symbol of it.
"$bin" history "$root/history" --html "$out/history.html" >/dev/null || fail "vdsoconf history failed"
timeout 120 "${chrome[@]}" --dump-dom "file://$out/history.html" >"$out/history-dom.html" 2>>"$out/chromium.log" \
    || fail "chromium could not render the history page"
lineages=$("$bin" history "$root/history" --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
tables=$(grep -c '<table>' "$out/history-dom.html" || true)
[ "$tables" -eq "$lineages" ] || fail "the history page shows $tables tables for $lineages lineages"
grep -q '<td class="name">__vdso_clock_getres_time64@LINUX_2.6</td>' "$out/history-dom.html" \
    || fail "the history page lacks a symbol row"
echo "render-html: ok: the history page shows all $lineages lineages"
echo "render-html: ok: the conformance table and a $bench_rows-call chart ($bars bars) render in $(chromium --version 2>/dev/null | head -n1); screenshot $out/report.png"
