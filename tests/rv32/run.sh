#!/bin/sh
# tests/rv32/run.sh [OUT_DIR] [test_x ...] - the lock-free pool's portable tests on RV32IMAC
# (LR.W/SC.W: TARN_LFBLOCK_LLSC 1), bare-metal under QEMU's `virt` board with picolibc's
# semihosting (main's return value becomes QEMU's exit status: 0 passed, 77 skipped).
#
#   default tests: test_lfblock test_lfblock_word32 test_lfblock_llsc test_lfblock_lean
#                  test_lfblock_fallback
#   needs: riscv64-unknown-elf-gcc, picolibc-riscv64-unknown-elf, qemu-system-misc (Debian)
#
# Without real interrupts here, test_lfblock_llsc calls its handler from the hook between
# LR.W and SC.W: the handler's own LR/SC pairs must make the interrupted SC.W fail.
set -eu
cd "$(dirname "$0")/../.."
out=${1:-build/rv32}
[ $# -gt 0 ] && shift
tests=${*:-test_lfblock test_lfblock_word32 test_lfblock_llsc test_lfblock_lean test_lfblock_fallback}

for tool in riscv64-unknown-elf-gcc qemu-system-riscv32; do
  command -v $tool >/dev/null 2>&1 || {
    echo "rv32: FAILED: $tool not found (Debian: gcc-riscv64-unknown-elf, qemu-system-misc)" >&2; exit 1; }
done
if ! echo 'int main(void){return 0;}' | riscv64-unknown-elf-gcc --specs=picolibc.specs -march=rv32imac \
      -mabi=ilp32 -x c - -o /dev/null >/dev/null 2>&1; then
  echo "rv32: FAILED: picolibc for riscv64-unknown-elf not found (Debian: picolibc-riscv64-unknown-elf)" >&2
  exit 1
fi
mkdir -p "$out"
CC="riscv64-unknown-elf-gcc --specs=picolibc.specs --oslib=semihost --crt0=semihost -march=rv32imac -mabi=ilp32"
WARN="-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Werror"
# QEMU virt: RAM at 0x80000000; code and data both there
LD="-Wl,--defsym=__flash=0x80000000 -Wl,--defsym=__flash_size=0x200000 \
    -Wl,--defsym=__ram=0x80200000 -Wl,--defsym=__ram_size=0x200000 -Wl,--defsym=__stack_size=0x8000"
OPT="-O2 -g -ffunction-sections -fdata-sections"

# the library (C11 for lfblock.c), as the ports build it
rm -f "$out/libtarn.a"
for f in src/*.c; do
  std=-std=c99; grep -q stdatomic.h "$f" && std=-std=c11
  $CC $std $OPT $WARN -Iinclude -Isrc -c "$f" -o "$out/$(basename "$f" .c).o"
done
riscv64-unknown-elf-ar rcs "$out/libtarn.a" "$out"/*.o

status=0
for t in $tests; do
  if ! $CC -std=gnu11 -DTARN_TEST_SCALE=10 $OPT $WARN -Iinclude -Isrc -Itests "tests/$t.c" \
        -Wl,--gc-sections $LD "$out/libtarn.a" -o "$out/$t.elf" >"$out/$t.build.log" 2>&1; then
    echo "rv32: $t: ***Not built"; cat "$out/$t.build.log"; status=1; continue
  fi
  rc=0
  timeout -k 5 120 qemu-system-riscv32 -M virt -nographic -monitor none -serial null -bios none \
    -semihosting-config enable=on,target=native -kernel "$out/$t.elf" </dev/null >"$out/$t.log" 2>&1 || rc=$?
  case $rc in
    0) echo "rv32: $t: Passed ($(tail -n 1 "$out/$t.log"))" ;;
    77) echo "rv32: $t: Skipped" ;;
    *) echo "rv32: $t: ***Failed (exit $rc)"; sed 's/^/    | /' "$out/$t.log"; status=1 ;;
  esac
done
[ $status -eq 0 ] && echo "rv32: passed (RV32IMAC, qemu-system-riscv32 -M virt)"
exit $status
