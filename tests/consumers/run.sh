#!/bin/sh
# tests/consumers/run.sh <build-dir> - build and run one tiny consumer project per way of
# using tarn (docs/consuming.md), each with tarn's public interface only:
#   copy-block      the block pool's files copied next to the program, plain cc
#   copy-config     the same with a user configuration file (-DTARN_CONFIG_FILE)
#   copy-<module>   every other module copied alone with the common files: compiles and
#                   links with nothing else (DESIGN: a module is its .h, its .c and the
#                   common files)
#   compat-public-headers  every compat layer compiled with -Iinclude -Icompat/<name>
#                   only, linked with the library and its seed-user example, run
#                   (tests/consumers/compat.sh)
#   cmake-subdir    add_subdirectory(tarn) + tarn::tarn (and tarn::compat)
#   cmake-installed cmake --install (moved with --prefix), then find_package(tarn CONFIG REQUIRED)
#   pkg-config      pkg-config --cflags --libs tarn from the install prefix, plain cc
#   zephyr-host     the Zephyr module built with stand-ins for Zephyr's CMake functions
#   esp-idf-host    the ESP-IDF component, both ways ESP-IDF reaches it, same way
#   platformio-host the sources and flags library.json gives PlatformIO, plain cc
#   manifests       tools/check_manifests.py, with the installed package's version files,
#                   and manifest_mutants.sh: broken copies of the manifests are rejected
# Every program checks what it gets back from tarn and exits non-zero on any failure.
# Needs cmake, make, a C compiler and pkg-config; the last two steps need python3 and fail,
# naming the package, without it.  Environment: CC (default gcc), CMAKE (cmake),
# JOBS (2), PYTHON (python3).
# $WARN, $flags, $incs and the like hold several words on purpose.
# shellcheck disable=SC2086
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
NAME=consumers
# shellcheck source=common.sh
. "$HERE/common.sh"
CMAKE=${CMAKE:-cmake}
JOBS=${JOBS:-2}
PYTHON=${PYTHON:-python3}
APP="$HERE/app"
WARN="-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror"

VERSION=$(sed -n 's/^#define TARN_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9][0-9]*\).*/\2/p' \
          "$ROOT/include/tarn/tarn.h" | paste -sd. -)
case $VERSION in
    *.*.*) ;;
    *) echo "consumers: cannot read the version from include/tarn/tarn.h" >&2; exit 1 ;;
esac

passed=""
ok() { passed="$passed $1"; }
uses_atomics() { grep -q 'stdatomic\.h' "$1"; }

# ---- (a) copy the module's files ------------------------------------------------------------
copy_common() {  # copy_common <dir> <module>
    rm -rf "$1"
    mkdir -p "$1/tarn"
    cp "$ROOT/include/tarn/tarn.h" "$ROOT/include/tarn/config.h" "$ROOT/include/tarn/$2.h" "$1/tarn/"
    cp "$ROOT/src/tarn.c" "$ROOT/src/internal.h" "$ROOT/src/$2.c" "$1/"
}

d="$B/copy-block"
copy_common "$d" block
cp "$APP/main.c" "$APP/expect.h" "$d/"
quiet "$CC" -std=c99 $WARN -O2 -I"$d" -DCONSUMER='"copy-block"' -DEXPECT_VERSION="\"$VERSION\"" \
    -DEXPECT_ALIGN=8 -DEXPECT_CHECK_LEVEL=1 \
    "$d/main.c" "$d/block.c" "$d/tarn.c" -o "$d/app"
quiet "$d/app"
ok copy-block

d="$B/copy-config"
copy_common "$d" block
cp "$APP/main.c" "$APP/expect.h" "$APP/my_tarn_config.h" "$d/"
quiet "$CC" -std=c99 $WARN -O2 -I"$d" -DTARN_CONFIG_FILE='"my_tarn_config.h"' \
    -DCONSUMER='"copy-config"' -DEXPECT_VERSION="\"$VERSION\"" -DEXPECT_ALIGN=16 \
    -DEXPECT_CHECK_LEVEL=2 -DEXPECT_POISON_FREE=1 -DEXPECT_POISON_BYTE=0x5a \
    "$d/main.c" "$d/block.c" "$d/tarn.c" -o "$d/app"
quiet "$d/app"
ok copy-config

for src in "$ROOT"/src/*.c; do
    m=$(basename "$src" .c)
    [ "$m" = tarn ] && continue
    [ "$m" = block ] && continue
    [ -f "$ROOT/include/tarn/$m.h" ] || fail "src/$m.c has no header include/tarn/$m.h"
    d="$B/copy-$m"
    copy_common "$d" "$m"
    std="c99"
    uses_atomics "$d/$m.c" && std=c11
    printf 'int main(void) { return 0; }\n' >"$d/probe.c"
    quiet "$CC" -std=$std $WARN -O2 -I"$d" -c "$d/$m.c" -o "$d/$m.o"
    quiet "$CC" -std=c99 $WARN -O2 -I"$d" -c "$d/tarn.c" -o "$d/tarn.o"
    # objects named on the command line are always linked: an undefined reference to
    # another module fails here
    quiet "$CC" -std=c99 "$d/probe.c" "$d/$m.o" "$d/tarn.o" -o "$d/probe"
    ok "copy-$m"
done

# ---- (a2) every compat layer with the public headers only (compat.sh) ------------------------
export CC
quiet "$HERE/compat.sh" "$B/compat"
ok compat-public-headers

# ---- (b) add_subdirectory ---------------------------------------------------------------------
d="$B/cmake-subdir"
rm -rf "$d"
mkdir -p "$d/src"
cp "$HERE/cmake-subdir/CMakeLists.txt" "$d/src/"
cp -R "$APP" "$d/src/app"
ln -s "$ROOT" "$d/src/tarn"
quiet "$CMAKE" -S "$d/src" -B "$d/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$CC" \
    -DEXPECT_VERSION="$VERSION"
quiet "$CMAKE" --build "$d/build" -j"$JOBS"
quiet "$d/build/app"
quiet "$d/build/app_compat"
ok cmake-subdir

# ---- (c) cmake --install + find_package --------------------------------------------------------
# Installed twice: to the prefix given at configure time (CMAKE_INSTALL_PREFIX), and moved
# elsewhere at install time (cmake --install --prefix), which packagers do.
PREFIX="$B/prefix"
MOVED="$B/prefix-moved"
rm -rf "$PREFIX" "$MOVED" "$B/tarn-build"
quiet "$CMAKE" -S "$ROOT" -B "$B/tarn-build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$CC" \
    -DTARN_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX="$PREFIX"
quiet "$CMAKE" --build "$B/tarn-build" -j"$JOBS"
quiet "$CMAKE" --install "$B/tarn-build"
quiet "$CMAKE" --install "$B/tarn-build" --prefix "$MOVED"
for p in "$PREFIX" "$MOVED"; do
    [ -f "$p/include/tarn/tarn.h" ] || fail "cmake --install did not install include/tarn/tarn.h in $p"
done

# The compat library is exported as tarn::compat when the package names it so
# (EXPORT_NAME compat), otherwise under its target name.
compat_target=tarn::compat
if ! grep -q 'tarn::compat\b' "$PREFIX"/lib*/cmake/tarn/tarnTargets.cmake 2>/dev/null; then
    compat_target=tarn::tarn_compat
    echo "consumers: NOTE: the installed package exports tarn::tarn_compat, the source tree" \
         "tarn::compat (the top-level CMakeLists.txt needs EXPORT_NAME compat)" >&2
fi
# The CMake package is relocatable: the consumer uses the moved copy.
d="$B/cmake-installed"
rm -rf "$d"
quiet "$CMAKE" -S "$HERE/cmake-installed" -B "$d" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_PREFIX_PATH="$MOVED" -DAPP_DIR="$APP" \
    -DEXPECT_VERSION="$VERSION" -DTARN_COMPAT_TARGET="$compat_target"
quiet "$CMAKE" --build "$d" -j"$JOBS"
quiet "$d/app"
quiet "$d/app_compat"
ok cmake-installed

# ---- (d) pkg-config ----------------------------------------------------------------------------
# PKG_CONFIG_LIBDIR replaces the default search path: only the given prefix's tarn.pc is seen.
pcdir_of() {
    pc=$(find "$1" -name tarn.pc | head -n 1)
    [ -n "$pc" ] || fail "cmake --install did not install tarn.pc in $1"
    dirname "$pc"
}
pcdir=$(pcdir_of "$PREFIX")
d="$B/pkg-config"
rm -rf "$d"
mkdir -p "$d"
cp "$APP/main.c" "$APP/expect.h" "$d/"
pcver=$(PKG_CONFIG_LIBDIR="$pcdir" pkg-config --modversion tarn) || fail "pkg-config --modversion tarn"
[ "$pcver" = "$VERSION" ] || fail "pkg-config says tarn $pcver, tarn.h says $VERSION"
flags=$(PKG_CONFIG_LIBDIR="$pcdir" pkg-config --cflags --libs tarn) || fail "pkg-config --cflags --libs tarn"
quiet "$CC" -std=c99 $WARN -O2 -DCONSUMER='"pkg-config"' -DEXPECT_VERSION="\"$VERSION\"" \
    "$d/main.c" $flags -o "$d/app"
quiet "$d/app"
ok pkg-config
# tarn.pc of the moved copy must point at the moved copy (prefix=${pcfiledir}/...).
mpcdir=$(pcdir_of "$MOVED")
mprefix=$(PKG_CONFIG_LIBDIR="$mpcdir" pkg-config --variable=prefix tarn)
if [ "$(cd "$mprefix" 2>/dev/null && pwd)" = "$MOVED" ]; then
    mflags=$(PKG_CONFIG_LIBDIR="$mpcdir" pkg-config --cflags --libs tarn)
    quiet "$CC" -std=c99 $WARN -O2 -DCONSUMER='"pkg-config-moved"' "$d/main.c" $mflags -o "$d/app-moved"
    quiet "$d/app-moved"
    ok pkg-config-moved
elif grep -q pcfiledir "$mpcdir/tarn.pc"; then
    fail "tarn.pc uses \${pcfiledir} but its prefix $mprefix is not the install prefix $MOVED"
else
    echo "consumers: NOTE: tarn.pc keeps the configure-time prefix ($mprefix) after" \
         "cmake --install --prefix $MOVED (cmake/tarn.pc.in needs prefix=\${pcfiledir}/...)" >&2
fi

# ---- (e) Zephyr module -------------------------------------------------------------------------
d="$B/zephyr-host"
rm -rf "$d"
quiet "$CMAKE" -S "$HERE/zephyr-host" -B "$d" -DCMAKE_C_COMPILER="$CC" -DTARN_DIR="$ROOT" \
    -DAPP_DIR="$APP" -DEXPECT_VERSION="$VERSION"
quiet "$CMAKE" --build "$d" -j"$JOBS"
quiet "$d/app"
quiet "$d/app_compat"
ok zephyr-host

# ---- (f) ESP-IDF component ---------------------------------------------------------------------
for mode in component root; do
    d="$B/esp-idf-host-$mode"
    rm -rf "$d"
    quiet "$CMAKE" -S "$HERE/esp-idf-host" -B "$d" -DCMAKE_C_COMPILER="$CC" -DTARN_DIR="$ROOT" \
        -DAPP_DIR="$APP" -DEXPECT_VERSION="$VERSION" -DMODE=$mode
    quiet "$CMAKE" --build "$d" -j"$JOBS"
    quiet "$d/app"
    ok "esp-idf-host-$mode"
done

# ---- (g) PlatformIO library.json and (h) the manifest checks need python3 ----------------------
if command -v "$PYTHON" >/dev/null 2>&1; then
    d="$B/platformio-host"
    rm -rf "$d"
    mkdir -p "$d"
    "$PYTHON" "$ROOT/tools/check_manifests.py" --platformio-build >"$d/plan" \
        || fail "check_manifests.py --platformio-build"
    srcs=$(sed -n 's/^source //p' "$d/plan")
    incs=$(sed -n 's/^include /-I/p' "$d/plan")
    pflags=$(sed -n 's/^flag //p' "$d/plan")
    [ -n "$srcs" ] || fail "library.json gives PlatformIO no sources"
    objs=""
    for s in $srcs; do
        o="$d/$(basename "$s" .c).o"
        std="c99"
        uses_atomics "$s" && std=c11
        quiet "$CC" -std=$std $WARN -O2 $incs $pflags -I"$(dirname "$s")" -c "$s" -o "$o"
        objs="$objs $o"
    done
    quiet "$CC" -std=c99 $WARN -O2 $incs $pflags -DCONSUMER='"platformio-host"' \
        -DEXPECT_VERSION="\"$VERSION\"" "$APP/main.c" $objs -o "$d/app"
    quiet "$d/app"
    ok platformio-host

    log="$B/manifests.log"
    if ! "$PYTHON" "$ROOT/tools/check_manifests.py" --installed "$PREFIX" >"$log" 2>&1; then
        cat "$log" >&2
        fail "tools/check_manifests.py --installed $PREFIX"
    fi
    grep WARNING "$log" >&2 || true
    quiet "$HERE/manifest_mutants.sh" "$B/manifest-mutants"
    ok manifests
else
    fail "platformio-host and manifests cannot run: $PYTHON is not on PATH (Debian: python3)"
fi

echo "consumers: passed:$passed"
