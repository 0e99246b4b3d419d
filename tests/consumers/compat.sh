#!/bin/sh
# tests/consumers/compat.sh <build-dir> - every compat layer is built as a user builds it:
# with the public headers alone (-Iinclude -Icompat/<name>, never src/), then linked with
# the library and with seed-user code, which runs.  The seed-user code is the layer's
# example (examples/<name>, code written against the original API; an example may bring
# test doubles of its own, e.g. an emulated chip from tests/support), or, for a layer
# without one, tests/consumers/app/compat.c.  Exit status 0 when every layer compiled
# warning-free (-Werror), linked and ran successfully.
# Environment: CC (default gcc), CFLAGS (extra flags, e.g. -m32).
# $WARN and $CFLAGS hold several words on purpose.
# shellcheck disable=SC2086
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
NAME="compat consumers"
# shellcheck source=common.sh
. "$HERE/common.sh"
CFLAGS=${CFLAGS:-}
WARN="-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Werror"

# The library, built as its own build does (its sources see src/internal.h).
L="$B/lib"
rm -rf "$L"
mkdir -p "$L"
for src in "$ROOT"/src/*.c; do
    std="c99"
    grep -q 'stdatomic\.h' "$src" && std="c11"
    quiet "$CC" -std=$std $WARN $CFLAGS -O2 -I"$ROOT/include" -I"$ROOT/src" -c "$src" \
        -o "$L/$(basename "$src" .c).o"
done

passed=""
for dir in "$ROOT"/compat/*/; do
    name=$(basename "$dir")
    d="$B/compat-$name"
    rm -rf "$d"
    mkdir -p "$d"
    # the layer: public headers only (a layer that includes src/internal.h fails here)
    incs="-I$ROOT/include -I$ROOT/compat/$name"
    for src in "$dir"*.c; do
        quiet "$CC" -std=c99 $WARN $CFLAGS -O2 $incs -c "$src" -o "$d/layer_$(basename "$src" .c).o"
    done
    # the seed-user code
    app_incs="$incs"
    if [ -d "$ROOT/examples/$name" ]; then
        apps=$(ls "$ROOT/examples/$name"/*.c)
        app_incs="$app_incs -I$ROOT/examples/$name"
        if grep -q 'support/emudev\.h' "$ROOT/examples/$name"/*.h "$ROOT/examples/$name"/*.c 2>/dev/null; then
            app_incs="$app_incs -I$ROOT/tests"
            apps="$apps $ROOT/tests/support/emudev.c"
        fi
    else
        apps="$HERE/app/compat.c"
    fi
    for src in $apps; do
        quiet "$CC" -std=c99 $CFLAGS -O2 $app_incs -c "$src" -o "$d/app_$(basename "$src" .c).o"
    done
    quiet "$CC" $CFLAGS "$d"/app_*.o "$d"/layer_*.o "$L"/*.o -o "$d/app"
    quiet "$d/app"
    passed="$passed $name"
done
echo "compat consumers: each layer built with -Iinclude -Icompat/<name> only, linked and run:$passed"
