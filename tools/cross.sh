#!/bin/sh
# tools/cross.sh - build every library module for the embedded targets, freestanding,
# with -Wall -Wextra -Wpedantic -Werror -Os.
#   tools/cross.sh          compile for Cortex-M0+, Cortex-M4 and RV32IMAC with gcc and with
#                           clang; fail on any warning
#   tools/cross.sh size     also print .text/.data/.bss per module (Cortex-M4 and M0+)
set -eu
cd "$(dirname "$0")/.."
out=${BUILD:-build}/cross
mkdir -p "$out"
WARN="-Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes"
COMMON="-Os -ffreestanding -ffunction-sections -fdata-sections -Iinclude -Isrc $WARN"

targets="m0plus m4 rv32 clang-m0plus clang-m4 clang-rv32"
cc_for() {
  case "$1" in
    m0plus) echo "arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb" ;;
    m4) echo "arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16" ;;
    rv32) echo "riscv64-unknown-elf-gcc -march=rv32imac -mabi=ilp32" ;;
    # clang, freestanding (no sysroot: <string.h> falls back to src/internal.h's declarations)
    clang-m0plus) echo "clang --target=thumbv6m-none-eabi -mcpu=cortex-m0plus -mthumb" ;;
    clang-m4) echo "clang --target=thumbv7em-none-eabi -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16" ;;
    clang-rv32) echo "clang --target=riscv32-unknown-elf -march=rv32imac -mabi=ilp32" ;;
  esac
}
std_for() { if grep -q 'stdatomic.h' "$1"; then echo "-std=c11"; else echo "-std=c99"; fi; }

# one target: every module, messages to $out/$t.log, status to $out/$t.status
build_target() {
  t=$1 st=0
  cc=$(cc_for "$t")
  for f in src/*.c; do
    m=$(basename "$f" .c)
    if ! $cc $(std_for "$f") $COMMON -c "$f" -o "$out/$t-$m.o"; then
      echo "cross: $t: $f FAILED"
      st=1
    fi
  done
  [ $st -ne 0 ] || echo "cross: $t: $(ls src/*.c | wc -l) modules built"
  echo $st >"$out/$t.status"
}

# the targets side by side (each compiler runs one file at a time), reported in order
for t in $targets; do
  rm -f "$out/$t.status"
  build_target "$t" >"$out/$t.log" 2>&1 &
done
wait
status=0
for t in $targets; do
  cat "$out/$t.log"
  [ "$(cat "$out/$t.status" 2>/dev/null)" = 0 ] || status=1
done
[ $status -eq 0 ] || exit $status

if [ "${1:-}" = "size" ]; then
  printf '\n%-10s | %-28s | %-28s\n' "module" "Cortex-M4 -Os text/data/bss" "Cortex-M0+ -Os text/data/bss"
  printf -- '-----------|------------------------------|------------------------------\n'
  for f in src/*.c; do
    m=$(basename "$f" .c)
    s4=$(arm-none-eabi-size "$out/m4-$m.o" | awk 'NR==2{printf "%d / %d / %d", $1, $2, $3}')
    s0=$(arm-none-eabi-size "$out/m0plus-$m.o" | awk 'NR==2{printf "%d / %d / %d", $1, $2, $3}')
    printf '%-10s | %-28s | %-28s\n' "$m" "$s4" "$s0"
  done
fi
