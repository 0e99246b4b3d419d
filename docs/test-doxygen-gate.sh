#!/bin/sh
# docs/test-doxygen-gate.sh <work-dir> - proves that `make docs` fails on an undocumented
# public symbol: runs docs/Doxyfile (with its input filter) over a header written in
# tarn's style, once fully documented (must pass) and once with one undocumented function
# (must fail and name it with file:line).  Fails, naming the package, without doxygen.
set -eu
W=$1
DOXYGEN=${DOXYGEN:-doxygen}
if ! command -v "$DOXYGEN" >/dev/null 2>&1; then
    echo "doxygen gate: FAILED: $DOXYGEN is not on PATH (Debian: doxygen)" >&2
    exit 1
fi
cd "$(dirname "$0")/.."
rm -rf "$W"
mkdir -p "$W/good/tarn" "$W/bad/tarn"

cat >"$W/good/tarn/probe.h" <<'H'
/*
 * tarn/probe.h - a header written as tarn's are: a plain opening comment naming the file.
 */
#ifndef TARN_PROBE_H
#define TARN_PROBE_H
/** Bytes in a probe.  Constant expression. */
#define TARN_PROBE_BYTES 16u
/** A probe. */
typedef struct tarn_probe {
    int level; /**< how deep */
} tarn_probe;
/** Count probes.  O(1).  Never fails. */
int tarn_probe_count(const tarn_probe *p);
#endif
H
sed 's|^#endif|int tarn_probe_undocumented(void);\n#endif|' \
    "$W/good/tarn/probe.h" >"$W/bad/tarn/probe.h"

run() {  # run <dir>: doxygen over <dir>/tarn/probe.h
    TARN_DOCS_OUT="$W/$1/out" TARN_DOCS_INPUT="$W/$1/tarn/probe.h" TARN_VERSION=0 \
        "$DOXYGEN" docs/Doxyfile >"$W/$1/log" 2>&1
}
if ! run good; then
    cat "$W/good/log" >&2
    echo "doxygen gate: FAILED: a fully documented header was rejected" >&2
    exit 1
fi
if run bad; then
    echo "doxygen gate: FAILED: an undocumented function passed" >&2
    exit 1
fi
if ! grep -q "probe.h:14:.*tarn_probe_undocumented.*not documented" "$W/bad/log"; then
    cat "$W/bad/log" >&2
    echo "doxygen gate: FAILED: the warning does not name the function with file:line" >&2
    exit 1
fi
echo "doxygen gate: ok (an undocumented function fails docs/Doxyfile, a documented header passes)"
