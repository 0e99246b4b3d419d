#!/bin/sh
# tests/spin/run.sh [OUT_DIR] - model-check the lock-free block pool (lfblock.pml) with spin.
#
#   correct model, 2 blocks, 3 processes x 2 get/put rounds        must verify: 0 errors
#   correct model, 3 blocks, 3 processes x 2 rounds                must verify: 0 errors
#   more blocks than processes (3 blocks, 2 processes x 3 rounds):
#   no more carved than were ever out at once (the watermark)      must verify: 0 errors
#   broken: no tag (TAGMOD=1)                                      spin must find the ABA
#   broken: a get that finds the last blocks carved by others
#   fails without reading the list again                           spin must find it
#   narrow tag: 2 bits (TAGMOD=4), wraps within one window         spin must find the ABA
#   quarantine on (Q slots), ring smaller than and as large as
#   the pool                                                       must verify: 0 errors
#   broken quarantine: put's exchange split into load + store      spin must find it
#   LL/SC (LLSC), no tag at all, 2 and 3 blocks                    must verify: 0 errors
#   broken LL/SC: the store-conditional always stores              spin must find it
# Exhaustive search (no bit-state hashing; -DCOLLAPSE only compresses states), safety
# properties (assertions, including the invariant checked after every shared step).
# Fails, naming what to install, when spin or a C compiler is missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build/spin}
CC=${CC:-cc}

if ! command -v spin >/dev/null 2>&1; then
  echo "test-spin: FAILED: spin is not on PATH (Debian: spin)" >&2
  exit 1
fi
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "test-spin: FAILED: no C compiler ($CC) to build the pan verifier (Debian: gcc)" >&2
  exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
status=0

# check NAME pass|fail SPIN-DEFINES...
check() {
  name=$1; expect=$2; shift 2
  d="$out/$name"
  rm -rf "$d"; mkdir -p "$d"
  cp "$here/lfblock.pml" "$d/"
  if ! (cd "$d" && spin "$@" -a lfblock.pml >spin.log 2>&1 &&
        $CC -O2 -w -DSAFETY -DCOLLAPSE -o pan pan.c >cc.log 2>&1); then
    echo "test-spin: $name: could not build the verifier:"; cat "$d/spin.log" "$d/cc.log" 2>/dev/null
    status=1; return
  fi
  (cd "$d" && ./pan -m20000 >pan.out 2>&1) || true
  errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$d/pan.out" | head -n 1)
  states=$(sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' "$d/pan.out" | head -n 1)
  if [ -z "$errors" ] || grep -q "max search depth too small" "$d/pan.out"; then
    echo "test-spin: $name: verifier did not complete:"; cat "$d/pan.out"; status=1; return
  fi
  if [ "$expect" = pass ]; then
    if [ "$errors" -eq 0 ]; then
      echo "test-spin: $name: verified, 0 errors ($states states, $*)"
    else
      echo "test-spin: $name: FAILED, spin found an error:"; grep -m1 "violated" "$d/pan.out" || true
      (cd "$d" && spin -t "$@" -p lfblock.pml | tail -n 40) || true
      status=1
    fi
  else
    if [ "$errors" -gt 0 ]; then
      echo "test-spin: $name: spin found the expected bug: $(grep -m1 'violated' "$d/pan.out" | sed 's/^pan:[0-9]*: //')"
    else
      echo "test-spin: $name: FAILED: spin found no error in a model that must fail ($states states)"
      status=1
    fi
  fi
}

# The checks, run JOBS at a time (each verifier is single-threaded), longest first; the
# results are printed in the order of the table at the top.
if [ "${SPIN_ONE:-}" = 1 ]; then  # one check, for the xargs below: run.sh OUT NAME EXPECT DEFINES...
  shift
  check "$@" >"$out/$1.report" 2>&1
  exit $status
fi
for name in correct-n2 correct-n3 watermark-n3-p2 broken-empty broken-no-tag broken-2bit-tag quarantine-n2-q1 quarantine-n2-q2 \
            broken-quarantine-xchg llsc-n2-no-tag llsc-n3-no-tag broken-llsc-plain-store; do
  rm -f "$out/$name.report"
done
SPIN_ONE=1 xargs -P "${JOBS:-2}" -L 1 sh "$0" "$out" <<'LIST' || status=1
quarantine-n2-q1 pass -DN=2 -DP=3 -DROUNDS=2 -DTAGMOD=64 -DQ=1
quarantine-n2-q2 pass -DN=2 -DP=3 -DROUNDS=2 -DTAGMOD=64 -DQ=2
broken-quarantine-xchg fail -DN=2 -DP=3 -DROUNDS=2 -DTAGMOD=64 -DQ=1 -DQBROKEN
llsc-n3-no-tag pass -DN=3 -DP=3 -DROUNDS=2 -DTAGMOD=1 -DLLSC
correct-n3 pass -DN=3 -DP=3 -DROUNDS=2 -DTAGMOD=64
llsc-n2-no-tag pass -DN=2 -DP=3 -DROUNDS=2 -DTAGMOD=1 -DLLSC
broken-llsc-plain-store fail -DN=2 -DP=3 -DROUNDS=2 -DTAGMOD=1 -DLLSC -DLLSC_BROKEN
correct-n2 pass -DN=2 -DP=3 -DROUNDS=2 -DTAGMOD=64
watermark-n3-p2 pass -DN=3 -DP=2 -DROUNDS=3 -DTAGMOD=64
broken-empty fail -DN=2 -DP=3 -DROUNDS=2 -DTAGMOD=64 -DEMPTYBROKEN
broken-2bit-tag fail -DN=2 -DP=3 -DROUNDS=2 -DTAGMOD=4
broken-no-tag fail -DN=2 -DP=3 -DROUNDS=2 -DTAGMOD=1
LIST
for name in correct-n2 correct-n3 watermark-n3-p2 broken-empty broken-no-tag broken-2bit-tag quarantine-n2-q1 quarantine-n2-q2 \
            broken-quarantine-xchg llsc-n2-no-tag llsc-n3-no-tag broken-llsc-plain-store; do
  cat "$out/$name.report" 2>/dev/null || { echo "test-spin: $name: did not run"; status=1; }
done
[ $status -eq 0 ] && echo "test-spin: passed"
exit $status
