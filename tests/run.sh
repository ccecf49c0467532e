#!/usr/bin/env bash
# thinvisor's test runner (make test): host unit tests (cmocka, ASan+UBSan),
# a short libFuzzer pass per parser, then the boot cases of tests/boot/cases.sh.
# Every check prints one line, PASS or FAIL; the last line is the summary.
#
# TESTS=regex     run only the boot cases whose name matches
# JOBS=N          boot cases run at once (default 2)
# FUZZ_SECONDS=N  length of each short fuzz run (default 20)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
RESULTS=$BUILD/test
JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
rm -rf "$RESULTS" && mkdir -p "$RESULTS"

# --- host unit tests: cmocka's TAP output, one line per test --------------------
run_unit() {
    local bin name
    for bin in "$BUILD"/unit/test_*; do
        name=${bin##*/test_}
        CMOCKA_MESSAGE_OUTPUT=TAP "$bin" > "$RESULTS/unit-$name.tap" 2>&1
        local rc=$?
        sed -nE "s/^ok [0-9]+ - (.*)/PASS unit $name: \1/p; s/^not ok [0-9]+ - (.*)/FAIL unit $name: \1/p" \
            "$RESULTS/unit-$name.tap"
        if [ $rc -ne 0 ] && ! grep -q '^not ok' "$RESULTS/unit-$name.tap"; then
            echo "FAIL unit $name: exited $rc"; tail -5 "$RESULTS/unit-$name.tap" | sed 's/^/     /'
        fi
    done
}

# --- short fuzz pass -----------------------------------------------------------
run_fuzz() {
    local bin name corpus
    for bin in "$BUILD"/fuzz/fuzz_*; do
        name=${bin##*/fuzz_}
        corpus=$BUILD/fuzz/corpus-$name
        mkdir -p "$corpus"
        if "$bin" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "$corpus" \
            "$ROOT/tests/fuzz/seeds/$name" > "$RESULTS/fuzz-$name.log" 2>&1; then
            echo "PASS fuzz $name: $(sed -nE 's/^stat::number_of_executed_units: *//p' "$RESULTS/fuzz-$name.log") inputs in ${FUZZ_SECONDS}s, no crash"
        else
            echo "FAIL fuzz $name: crash (see $RESULTS/fuzz-$name.log)"
            grep -m3 -E 'ERROR|SUMMARY|Assertion' "$RESULTS/fuzz-$name.log" | sed 's/^/     /'
        fi
    done
}

# --- boot cases, JOBS at a time --------------------------------------------------
run_boot() {
    # shellcheck source=tests/boot/lib.sh
    source "$ROOT/tests/boot/lib.sh"
    # cases.sh, then the other case files (cases_install.sh, ...)
    local f
    for f in "$ROOT"/tests/boot/cases*.sh; do
        # shellcheck source=/dev/null
        source "$f"
    done
    local cases c
    cases=$(declare -F | awk '{print $3}' | sed -n 's/^case_//p' | grep -E "${TESTS:-.}")
    for c in $cases; do
        while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
        (
            CASE=$c OUT=$RESULTS/boot-$c
            start=$(date +%s)
            "case_$c" > "$RESULTS/boot-$c.result" 2>&1
            echo "     ($c took $(( $(date +%s) - start ))s)" >> "$RESULTS/boot-$c.result"
            cat "$RESULTS/boot-$c.result"
        ) &
    done
    wait
}

{
    run_unit
    run_fuzz
    run_boot
} | tee "$RESULTS/all.log"

passed=$(grep -c '^PASS ' "$RESULTS/all.log")
failed=$(grep -c '^FAIL ' "$RESULTS/all.log")
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
