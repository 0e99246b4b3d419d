#!/bin/sh
# tools/parts.sh LOG_DIR PART... - run `$MAKE PART` for each part in turn, its whole output
# going to LOG_DIR/PART.log, and print one line per part: name, result, seconds (wall).
# A failed part's log follows its line, without the build's progress lines and the tests
# that passed (at most the last $SHOW_LINES lines; the whole log stays in LOG_DIR).
# Every part runs even when an earlier one failed, so one run lists every failure.
# Ends with "N passed, N failed"; exit status 1 when a part failed.  LOG_DIR/times.txt
# gets each part's wall and CPU seconds (CPU with /usr/bin/time only; it does not depend
# on what else the machine is running, so it shows where the time goes).
# Environment: MAKE (default make), SHOW_LINES (default 300).
# $timer and $MAKE hold several words (or none) on purpose.
# shellcheck disable=SC2086
set -u
logs=$1
shift
MAKE=${MAKE:-make}
SHOW_LINES=${SHOW_LINES:-300}
mkdir -p "$logs"

# what a failed part's log shows: everything but progress and passing tests
show() {
    grep -Ev -e '^\[ *[0-9]+(/[0-9]+|%)\] ' \
        -e '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(Passed|Skipped) +[0-9.]+ sec' \
        -e '^ +Start +[0-9]+: ' -e '^(Scanning dependencies|Consolidate compiler|Test project) ' \
        -e '^ *[0-9]+/[0-9]+ \[[a-z0-9]+ [a-z0-9-]+\] +[a-z0-9_]+ +(Passed|Skipped) ' \
        "$1" >"$1.shown" || true
    n=$(wc -l <"$1.shown")
    if [ "$n" -gt "$SHOW_LINES" ]; then
        echo "    | ... (last $SHOW_LINES of $n lines; whole log: $1)"
        tail -n "$SHOW_LINES" "$1.shown" | sed 's/^/    | /'
    else
        sed 's/^/    | /' "$1.shown"
    fi
    rm -f "$1.shown"
}

timer=""
[ ! -x /usr/bin/time ] || timer="/usr/bin/time -o $logs/.cpu -f %U+%S"
: >"$logs/times.txt"
passed=0 failed=0 failures=""
t0=$(date +%s)
for p in "$@"; do
    s=$(date +%s)
    rm -f "$logs/.cpu"
    if $timer $MAKE --no-print-directory "$p" >"$logs/$p.log" 2>&1; then
        r=ok passed=$((passed + 1))
    else
        r=FAILED failed=$((failed + 1)) failures="$failures $p"
    fi
    w=$(($(date +%s) - s))
    printf '%-18s %-7s %5d s\n' "$p" "$r" $w
    cpu=$(tail -n 1 "$logs/.cpu" 2>/dev/null | awk -F+ '{ printf "%.0f", $1 + $2 }')
    echo "$p $r wall ${w} s cpu ${cpu:-?} s" >>"$logs/times.txt"
    [ $r = ok ] || show "$logs/$p.log"
done
printf '%-18s %-7s %5d s   (logs: %s/)\n' total "" $(($(date +%s) - t0)) "$logs"
[ -z "$failures" ] || echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
