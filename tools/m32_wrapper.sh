#!/bin/sh
# tools/m32_wrapper.sh [BUILD] - the command that runs the 32-bit x86 test programs of
# `make test-m32` here: nothing where the kernel runs i386 programs, else qemu-i386 (Debian
# qemu-user, in tools/deps.txt).  It builds and runs a probe in BUILD (default build).
set -u
dir=${1:-build}
mkdir -p "$dir"
printf 'int main(void) { return 0; }\n' > "$dir/m32probe.c"
if gcc -m32 "$dir/m32probe.c" -o "$dir/m32probe" 2>/dev/null && "$dir/m32probe" 2>/dev/null; then
    exit 0
fi
echo qemu-i386
