# tests/consumers/common.sh - sourced (`. "$HERE/common.sh"`) by the consumer scripts that
# take one argument, their build directory.  Needs HERE (the script's folder) and NAME (the
# prefix of its messages); sets ROOT (tarn's checkout), B (the build directory, created,
# absolute) and CC (default gcc), and defines fail and quiet.
# shellcheck shell=sh

if [ $# -ne 1 ]; then
    echo "usage: $0 <build-dir>" >&2
    exit 2
fi
# shellcheck disable=SC2034  # ROOT is for the scripts that source this
ROOT=$(cd "$HERE/../.." && pwd)
mkdir -p "$1"
B=$(cd "$1" && pwd)
CC=${CC:-gcc}

fail() { echo "$NAME: FAILED: $*" >&2; exit 1; }
# run a command quietly; on failure show its output and stop
quiet() {
    log="$B/last.log"
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        fail "$*"
    fi
}
