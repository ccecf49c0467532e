# The documentation against the tree: README.md and docs/*.md link only to files and
# headings that exist and name only source paths that exist, and every section the code,
# scripts and man pages cite exists (tests/docs/check_docs.py).
# Sourced by tests/run.sh after lib.sh, like cases.sh; boots nothing.

case_docs_consistent() {
    local line
    mkdir -p "$OUT"
    /usr/bin/python3 "$ROOT/tests/docs/check_docs.py" "$ROOT" >"$OUT/check_docs.log" 2>&1
    while IFS= read -r line; do
        case $line in
            "PASS docs: "*) check_pass "${line#PASS docs: }" ;;
            "FAIL docs: "*) check_fail "${line#FAIL docs: }" ;;
        esac
    done <"$OUT/check_docs.log"
    grep -q '^PASS docs: README.md' "$OUT/check_docs.log" ||
        check_fail "check_docs.py checked README.md" "$(tail -n 3 "$OUT/check_docs.log")"
}

# make stress runs the cases docs/reliability.md names (tests/reliability/report.py --cases):
# each must be a case here, or make stress would silently run less than the page says.
case_docs_reliability_cases_exist() {
    local regex name missing=()
    regex=$(/usr/bin/python3 "$ROOT/tests/reliability/report.py" --cases) ||
        { check_fail "report.py --cases answered" "$regex"; return; }
    for name in $(sed -E 's/^\^\((.*)\)\$$/\1/; s/\|/ /g' <<<"$regex"); do
        declare -F "case_$name" >/dev/null || missing+=("$name")
    done
    if ((${#missing[@]})); then
        check_fail "every case docs/reliability.md names exists" "missing: ${missing[*]}"
    else
        check_pass "every case docs/reliability.md names exists ($(wc -w <<<"${regex//|/ }") cases)"
    fi
}
