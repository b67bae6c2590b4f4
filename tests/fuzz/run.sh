#!/bin/sh
# run.sh - run every libFuzzer target for a while and report what it did.
#
#   tests/fuzz/run.sh [SECONDS [TARGET...]]
#
# Run from a build configured with CC=clang --enable-fuzzing (make fuzz does
# this).  Each target starts from a copy of its seed corpus, so the corpus in
# the source tree is never changed; new inputs stay in the work directory
# ($FUZZ_WORK, default a fresh temporary directory).  A crash leaves its
# input in WORK/TARGET/artifacts/ and makes the script exit 1; keep such an
# input under tests/fuzz/regressions/TARGET/ once the code is fixed.
#
# Prints one table row per target: executions, executions per second, edge
# coverage (cov), features (ft) and the corpus size at the end.

set -u
seconds=${1:-600}
[ $# -gt 0 ] && shift
srcdir=${srcdir:-$(dirname "$0")/../..}
targets=${*:-"fuzz_json fuzz_csv fuzz_xml fuzz_signature fuzz_webhook_body fuzz_schedule fuzz_config"}
work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/dropstock-fuzz.XXXXXX")}
LSAN_OPTIONS="suppressions=$srcdir/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS

status=0
printf '%-18s %8s %12s %9s %7s %7s %7s  %s\n' \
    target seconds executions exec/s cov ft corpus result
for t in $targets; do
    bin=tests/fuzz/$t
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin: not built (configure with CC=clang --enable-fuzzing)" >&2
        exit 2
    fi
    mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
    cp "$srcdir/tests/fuzz/corpus/$t/"* "$work/$t/corpus/" 2>/dev/null
    log=$work/$t/log
    "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 \
        -print_final_stats=1 -artifact_prefix="$work/$t/artifacts/" \
        "$work/$t/corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    files=$(find "$work/$t/corpus" -type f | wc -l)
    result=ok
    if [ "$rc" -ne 0 ]; then
        result="FAILED (exit $rc, see $log)"
        status=1
    fi
    printf '%-18s %8s %12s %9s %7s %7s %7s  %s\n' "$t" "$seconds" \
        "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$files" "$result"
done
echo "work directory: $work"
exit $status
