#!/bin/sh
# tools/deps.sh [--check|--list] - make sure the packages in tools/deps.txt are installed.
#
#   tools/deps.sh           install what is missing when it can (root, or sudo without a
#                           password, and apt-get present), printing the one command it runs;
#                           otherwise print that command for the user and exit 1
#   tools/deps.sh --check   only check; exit 1 with the command to run when something is missing
#   tools/deps.sh --list    print the package names
#
# On Debian the packages are checked with dpkg-query.  Without dpkg-query (another
# distribution) the commands of the list's second column are looked up on PATH instead, and
# the library packages (second column "-") cannot be checked.
# Environment: DEPS_LOG  where apt-get's output goes (default build/logs/deps.log).
# $pkgs and $sudo hold several words (or none) on purpose.
# shellcheck disable=SC2086
set -eu
cd "$(dirname "$0")/.."
log=${DEPS_LOG:-build/logs/deps.log}
mode=${1:-install}

pkgs=$(sed 's/#.*//' tools/deps.txt | awk 'NF { print $1 }')
if [ "$mode" = --list ]; then
    printf '%s\n' $pkgs
    exit 0
fi

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
    # one call for the whole list: "name status" per installed or known package
    st=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $pkgs 2>/dev/null || true)
    for p in $pkgs; do
        printf '%s\n' "$st" | grep -qx "$p installed" || missing="$missing $p"
    done
else
    nocheck=""
    for p in $pkgs; do
        c=$(sed 's/#.*//' tools/deps.txt | awk -v p="$p" '$1 == p { print $2 }')
        if [ "$c" = - ]; then
            nocheck="$nocheck $p"
        elif ! command -v "$c" >/dev/null 2>&1; then
            missing="$missing $p"
        fi
    done
    echo "deps: no dpkg-query: checked commands only; make sure you have the equivalent of:$nocheck"
    if [ -n "$missing" ]; then
        echo "deps: FAILED: commands missing for the Debian packages:$missing (see tools/deps.txt)" >&2
        exit 1
    fi
    exit 0
fi
[ -n "$missing" ] || exit 0

# wait up to 10 minutes for another apt/dpkg run to finish instead of failing on its lock
apt="apt-get -q -o DPkg::Lock::Timeout=600"
cmd="$apt update && $apt install -y --no-install-recommends$missing"
sudo=""
can=no
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        can=yes
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        can=yes sudo="sudo "
    fi
fi
if [ "$mode" = --check ] || [ $can = no ]; then
    echo "deps: FAILED: missing packages:$missing" >&2
    echo "deps: run:  sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi

echo "deps: installing:  ${sudo}sh -c '$cmd'"
mkdir -p "$(dirname "$log")"
if ! ${sudo}env DEBIAN_FRONTEND=noninteractive sh -c "$cmd" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "deps: FAILED: the install failed (whole output: $log)" >&2
    exit 1
fi
echo "deps: installed:$missing"
