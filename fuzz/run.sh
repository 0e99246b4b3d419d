#!/bin/sh
# fuzz/run.sh - the shell side of mk/fuzz.mk (run `make fuzz`, `make fuzz-merge`, not this).
#
#   fuzz/run.sh run   DIR SECONDS MAX_LEN "ARGS" target...   fuzz each target in turn
#   fuzz/run.sh merge DIR 0       MAX_LEN "ARGS" target...   minimise into fuzz/corpus/<m>/
#   fuzz/run.sh sources target                                library files a target exercises
#
# DIR is $(BUILD)/fuzz holding the fuzz_<m> binaries.  Each target runs as one libFuzzer job
# (-jobs=1: one core) in DIR/run/<m>/, reading the committed corpus fuzz/corpus/<m>/ as seed
# and writing new inputs to the work corpus DIR/corpus/<m>/; crashes go to DIR/artifacts/<m>/.
set -u

mode=$1
shift

sources() {
    case $1 in
    block) echo src/block.c ;;
    lfblock) echo src/lfblock.c ;;
    heap) echo src/heap.c ;;
    handle) echo src/handle.c ;;
    ext) echo src/ext.c ;;
    mynewt) echo compat/mynewt/*.c ;;
    smp|mem_pool) echo compat/$1/*.c src/heap.c ;;
    ckremm) echo compat/ckremm/*.c src/handle.c src/heap.c ;;
    smm) echo compat/smm/*.c src/ext.c ;;
    *) echo src/*.c compat/*/*.c ;;
    esac | tr ' ' '\n' | while read -r f; do [ -f "$f" ] && echo "$f"; done
}

if [ "$mode" = sources ]; then
    sources "$1"
    exit 0
fi

dir=$1 secs=$2 maxlen=$3 args=$4
shift 4
top=$(pwd)
case $dir in /*) base=$dir ;; *) base=$top/$dir ;; esac   # BUILD may be absolute
status=0
summary=$dir/summary.txt
: >"$summary"
printf '%-10s %8s %12s %14s %10s %8s %8s %8s %s\n' target seconds executions operations ops/exec cov ft corpus result >>"$summary"

for m in "$@"; do
    bin=$base/fuzz_$m
    seed=$top/fuzz/corpus/$m
    work=$base/corpus/$m
    mkdir -p "$work" "$base/artifacts/$m" "$base/run/$m" "$seed"
    case $mode in
    run)
        echo "== fuzz_$m: $secs s (log: $dir/run/$m/fuzz-0.log)"
        rm -f "$base/run/$m"/fuzz-*.log
        # shellcheck disable=SC2086
        (cd "$base/run/$m" && "$bin" -jobs=1 -max_total_time="$secs" -max_len="$maxlen" \
            -print_final_stats=1 -artifact_prefix="$base/artifacts/$m/" $args \
            "$work" "$seed" >/dev/null 2>&1)
        log=$base/run/$m/fuzz-0.log
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        ops=$(sed -n 's/^tarn-fuzz: operations: *//p' "$log" | tail -1)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
        ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
        n=$(ls "$work" | wc -l)
        res=ok
        if [ ! -s "$log" ] || [ -z "${execs:-}" ]; then
            res="NO RUN"          # the target did not start or printed no statistics
            status=1
        elif grep -q -e '==ERROR' -e 'fuzz model mismatch' -e 'runtime error' -e 'deadly signal' \
                   -e 'Test unit written' "$log"; then
            res=CRASH
            status=1
            grep -m5 -e 'ERROR' -e 'mismatch' -e 'runtime error' -e 'Test unit written' "$log"
        fi
        ope=0
        [ -n "${execs:-}" ] && [ "${execs:-0}" -gt 0 ] && [ -n "${ops:-}" ] && ope=$((ops / execs))
        printf '%-10s %8s %12s %14s %10s %8s %8s %8s %s\n' "$m" "$secs" "${execs:-?}" "${ops:-?}" \
            "$ope" "${cov:-?}" "${ft:-?}" "$n" "$res" >>"$summary"
        ;;
    merge)
        out=$base/merged/$m
        rm -rf "$out"
        mkdir -p "$out"
        # shellcheck disable=SC2086
        # -use_counters=0: keep the fewest inputs that reach every edge (not every hit count)
        (cd "$base/run/$m" && "$bin" -merge=1 -use_counters=0 $args "$out" "$seed" "$work" \
            >"$base/run/$m/merge.log" 2>&1) || { echo "merge of $m failed"; status=1; continue; }
        # regression inputs (regress-*) and long sequences (soak-*) stay under their own
        # name, once
        for f in "$seed"/regress-* "$seed"/soak-*; do
            [ -f "$f" ] || continue
            for g in "$out"/*; do cmp -s "$f" "$g" && rm -f "$g"; done
            cp "$f" "$out/"
        done
        rm -f "$seed"/*
        cp "$out"/* "$seed/"
        echo "fuzz/corpus/$m: $(ls "$seed" | wc -l) inputs, $(cat "$seed"/* | wc -c) bytes"
        ;;
    esac
done

if [ "$mode" = run ]; then
    echo
    cat "$summary"
    awk 'NR > 1 { if ($3 ~ /^[0-9]+$/) e += $3; if ($4 ~ /^[0-9]+$/) o += $4 } END { printf "total: %d executions, %d operations\n", e, o }' "$summary"
fi
exit $status
