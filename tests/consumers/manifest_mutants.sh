#!/bin/sh
# tests/consumers/manifest_mutants.sh <work-dir> - proves tools/check_manifests.py can fail:
# each case copies the files it checks into <work-dir>, breaks one thing, and expects the
# checker to reject the copy.  The unbroken copy must pass.  Needs python3.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
W=$1
PYTHON=${PYTHON:-python3}
CHECK="$ROOT/tools/check_manifests.py"

fresh() {
    rm -rf "$W/tree"
    mkdir -p "$W/tree/ports" "$W/tree/prefix/lib/cmake/tarn" "$W/tree/prefix/lib/pkgconfig"
    cp -R "$ROOT/include" "$ROOT/src" "$ROOT/compat" "$ROOT/zephyr" "$W/tree/"
    cp -R "$ROOT/ports/esp-idf" "$W/tree/ports/"
    cp "$ROOT/CMakeLists.txt" "$ROOT/CHANGELOG.md" "$ROOT/idf_component.yml" "$ROOT/library.json" "$W/tree/"
    v=$(sed -n 's/^version: "\(.*\)"$/\1/p' "$ROOT/idf_component.yml")
    printf 'set(PACKAGE_VERSION "%s")\n' "$v" >"$W/tree/prefix/lib/cmake/tarn/tarnConfigVersion.cmake"
    printf 'Name: tarn\nVersion: %s\n' "$v" >"$W/tree/prefix/lib/pkgconfig/tarn.pc"
}
run_check() {
    "$PYTHON" "$CHECK" --root "$W/tree" --installed "$W/tree/prefix" >"$W/out" 2>&1
}

fresh
if ! run_check; then
    cat "$W/out" >&2
    echo "manifest mutants: the unbroken copy fails the check" >&2
    exit 1
fi

n=0
bad=0
# mutant <description> <shell command run inside the copy>
mutant() {
    n=$((n + 1))
    fresh
    (cd "$W/tree" && sh -c "$2")
    if run_check; then
        echo "manifest mutants: NOT caught: $1" >&2
        bad=$((bad + 1))
    fi
}
mutant "library.json version differs" \
    "sed -i 's/\"version\": \"[^\"]*\"/\"version\": \"9.9.9\"/' library.json"
mutant "library.json is not JSON" "sed -i 's/^}/,}/' library.json"
mutant "library.json srcDir missing" "sed -i 's/\"srcDir\": \"src\"/\"srcDir\": \"source\"/' library.json"
mutant "library.json unknown key" "sed -i 's/\"frameworks\"/\"framework\"/' library.json"
mutant "idf_component.yml version differs" "sed -i 's/^version: .*/version: \"9.9.9\"/' idf_component.yml"
mutant "idf_component.yml tab indentation" "sed -i 's/^  idf:/\tidf:/' idf_component.yml"
mutant "idf_component.yml without dependencies.idf" "sed -i '/^  idf:/d' idf_component.yml"
mutant "idf_component.yml excludes the sources" "sed -i 's|\"build/\\*\\*\"|\"src/**\"|' idf_component.yml"
mutant "ESP-IDF component names a missing folder" \
    "sed -i 's|\${_tarn_dir}/src/\\*.c|\${_tarn_dir}/sources/*.c|' ports/esp-idf/tarn/CMakeLists.txt"
mutant "CHANGELOG.md newest release differs" "sed -i 's/^## \\[[0-9.]*\\]/## [9.9.9]/' CHANGELOG.md"
mutant "CHANGELOG.md unknown change type" "sed -i 's/^### Added/### New/' CHANGELOG.md"
mutant "tarn.h version bumped alone" "sed -i 's/^#define TARN_VERSION_MINOR .*/#define TARN_VERSION_MINOR 77/' include/tarn/tarn.h"
mutant "installed tarn.pc version differs" "sed -i 's/^Version: .*/Version: 9.9.9/' prefix/lib/pkgconfig/tarn.pc"
mutant "installed CMake version differs" \
    "sed -i 's/PACKAGE_VERSION \"[^\"]*\"/PACKAGE_VERSION \"9.9.9\"/' prefix/lib/cmake/tarn/tarnConfigVersion.cmake"
mutant "zephyr/module.yml names a missing cmake folder" "sed -i 's/^  cmake: .*/  cmake: zephyr2/' zephyr/module.yml"
mutant "zephyr/module.yml without name" "sed -i '/^name:/d' zephyr/module.yml"
mutant "zephyr/Kconfig default differs from config.h" \
    "sed -i '/^config TARN_CHECK_LEVEL/,/^config/s/^\tdefault 1/\tdefault 2/' zephyr/Kconfig"
mutant "zephyr/Kconfig lacks an option" \
    "sed -i '/^config TARN_NO_INTRINSICS/,+2d' zephyr/Kconfig"
mutant "config.h gains an option Kconfig lacks" \
    "printf '#ifndef TARN_NEW_OPTION\n#define TARN_NEW_OPTION 3\n#endif\n' >>include/tarn/config.h"
mutant "zephyr mapping header misses an option" \
    "sed -i 's/^#define TARN_ALIGN CONFIG_TARN_ALIGN/#define TARN_ALIGN_X CONFIG_TARN_ALIGN/' zephyr/include/tarn_zephyr_config.h"
mutant "zephyr/CMakeLists.txt names a missing folder" "sed -i 's|\${TARN_DIR}/src/\\*.c|\${TARN_DIR}/srcs/*.c|' zephyr/CMakeLists.txt"

if [ $bad -ne 0 ]; then
    echo "manifest mutants: $bad of $n broken manifests passed the check" >&2
    exit 1
fi
echo "manifest mutants: all $n broken copies rejected"
