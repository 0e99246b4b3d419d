#!/bin/sh
# ports/cortex-m/test.sh - build tarn's portable tests as bare-metal images and run each one
# under QEMU, reporting pass/fail per test as CTest does on the host.
#
#   ports/cortex-m/test.sh [-b BUILD_DIR] [-j JOBS] [-c "m3 m4"] [-s SCALE] [-t SECONDS] [test_x ...]
#
#   -b  build directory (default build/qemu); images go to BUILD_DIR/<cpu>/
#   -j  parallel compile jobs and QEMU instances (default 2)
#   -c  CPUs to run on (default "m0 m4"): m0 = Cortex-M0+ code on the Cortex-M3 of
#       mps2-an385 (unaligned accesses trap), m3 = Cortex-M3 on mps2-an385, m4 = Cortex-M4F
#       on mps2-an386
#   -s  TARN_TEST_SCALE for the images (default 10: randomized tests run 1/10 of the host length)
#   -t  timeout per test in seconds (default 120)
#   test names restrict the run; default: every tests/test_*.c without the host-only marker.
#
# A test is portable unless its source contains the line  /* tarn-test: host-only */.
# Exit status of a test = main's return value (semihosting exit): 0 passed, 77 skipped,
# anything else failed; 124 = timed out; 136/139 = the core faulted (division by zero /
# memory fault; the fault registers and the faulting PC, resolved to file:line, are shown).
# After each test that exits, its stack high-water mark and heap use are shown.
# The Cortex-M4 library (hard float) is always compiled too, as a build check.
set -eu
cd "$(dirname "$0")/../.."
root=$(pwd)

build=build/qemu
jobs=2
cpus="m0 m4"
scale=10
tmo=120
while getopts b:j:c:s:t: opt; do
  case $opt in
    b) build=$OPTARG ;;
    j) jobs=$OPTARG ;;
    c) cpus=$OPTARG ;;
    s) scale=$OPTARG ;;
    t) tmo=$OPTARG ;;
    *) sed -n '2,20p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

for tool in arm-none-eabi-gcc qemu-system-arm; do
  command -v $tool >/dev/null 2>&1 || { echo "cortex-m: $tool not found" >&2; exit 2; }
done

# ---- which tests ----------------------------------------------------------------------
if [ $# -gt 0 ]; then
  tests="$*"
else
  tests=""
  hostonly=""
  for f in tests/test_*.c; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .c)
    if grep -q -F '/* tarn-test: host-only */' "$f"; then hostonly="$hostonly $n"; else tests="$tests $n"; fi
  done
  [ -z "$hostonly" ] || echo "cortex-m: host-only (not run on target):$hostonly"
fi
[ -n "$tests" ] || { echo "cortex-m: no portable tests found"; exit 0; }

board_of() { case $1 in m0|m3) echo mps2-an385 ;; m4) echo mps2-an386 ;; *) echo "cortex-m: unknown cpu $1" >&2; exit 2 ;; esac; }

# ---- build --------------------------------------------------------------------------
mkdir -p "$build"
build=$(cd "$build" && pwd)
status=0
# Cortex-M4 library: a cheap build check even when the M4 board is not run.
case " $cpus " in *" m4 "*) ;; *)
  if ! make -s --no-print-directory -f ports/cortex-m/Makefile O="$build/m4" CPU=m4 -j"$jobs" lib \
        >"$build/build-m4-lib.log" 2>&1; then
    cat "$build/build-m4-lib.log"; echo "cortex-m: Cortex-M4 library build FAILED"; status=1
  else
    echo "cortex-m: Cortex-M4 library builds ($(ls "$build"/m4/lib/*.o | wc -l) modules)"
  fi ;;
esac

for cpu in $cpus; do
  board=$(board_of "$cpu")
  out="$build/$cpu"
  mkdir -p "$out"
  # -k: one test that does not build must not hide the others
  if ! make -k -s --no-print-directory -f ports/cortex-m/Makefile O="$out" CPU="$cpu" SCALE="$scale" \
        TESTS="$tests" -j"$jobs" images >"$out/build.log" 2>&1; then
    echo "cortex-m: [$cpu] build errors:"; cat "$out/build.log"
  elif [ -s "$out/build.log" ]; then
    cat "$out/build.log"
  fi

  # ---- run, up to $jobs QEMUs at once; one result file per test ------------------------
  for t in $tests; do rm -f "$out/$t.log" "$out/$t.rc" "$out/$t.time"; done
  printf '%s\n' $tests | xargs -P "$jobs" -I{} sh -c '
    out=$1 t=$2 board=$3 tmo=$4
    [ -f "$out/$t.elf" ] || { echo "image not built" >"$out/$t.log"; echo build >"$out/$t.rc"; exit 0; }
    s=$(date +%s.%N)
    rc=0
    timeout -k 5 "$tmo" qemu-system-arm -M "$board" -nographic -monitor none -serial null \
      -semihosting-config enable=on,target=native -kernel "$out/$t.elf" \
      </dev/null >"$out/$t.log" 2>&1 || rc=$?
    e=$(date +%s.%N)
    echo "$rc" >"$out/$t.rc"
    awk -v s="$s" -v e="$e" "BEGIN{printf \"%.2f\", e - s}" >"$out/$t.time"
  ' sh "$out" {} "$board" "$tmo"

  # ---- report ---------------------------------------------------------------------------
  n=0 pass=0 skip=0 fail=0 failed=""
  total=$(printf '%s\n' $tests | wc -l)
  for t in $tests; do
    n=$((n + 1))
    rc=$(cat "$out/$t.rc" 2>/dev/null || echo none)
    tm=$(cat "$out/$t.time" 2>/dev/null || echo 0)
    case $rc in
      0) res="Passed"; pass=$((pass + 1)) ;;
      77) res="Skipped"; skip=$((skip + 1)) ;;
      build) res="***Not built" ;;
      124|137) res="***Timeout (${tmo} s)" ;;
      136) res="***Fault: division by zero" ;;
      139) res="***Fault: memory" ;;
      *) res="***Failed (exit $rc)" ;;
    esac
    # stack high-water mark and heap use, reported by startup.c at exit
    use=$(sed -n 's/^cortex-m: stack high-water \([0-9]*\) of [0-9]* bytes, heap \([0-9]*\) bytes.*/  (stack \1 B, heap \2 B)/p' \
          "$out/$t.log" 2>/dev/null | tail -1)
    printf '%3d/%d [%s %s] %-28s %s  %s s%s\n' "$n" "$total" "$cpu" "$board" "$t" "$res" "$tm" "$use"
    case $rc in
      0|77) ;;
      *)
        fail=$((fail + 1)); failed="$failed $t"
        sed 's/^/    | /' "$out/$t.log"
        # resolve the faulting PC/LR to source lines
        for a in $(sed -n 's/.*PC=\(0x[0-9a-f]*\) LR=\(0x[0-9a-f]*\).*/\1 \2/p' "$out/$t.log"); do
          printf '    | %s: ' "$a"
          arm-none-eabi-addr2line -f -p -e "$out/$t.elf" "$a" 2>/dev/null || echo "?"
        done ;;
    esac
  done
  secs=$(for t in $tests; do cat "$out/$t.time" 2>/dev/null || :; echo; done | awk '{s += $1} END {printf "%.1f", s}')
  echo "cortex-m: [$cpu $board, TARN_TEST_SCALE=$scale] $pass passed, $skip skipped, $fail failed of $total ($secs s in QEMU)"
  [ $fail -eq 0 ] || { echo "cortex-m: [$cpu] FAILED:$failed"; status=1; }
done
exit $status
