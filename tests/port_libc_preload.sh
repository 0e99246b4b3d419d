#!/bin/sh
# tests/port_libc_preload.sh LIB - real programs on tarn's malloc (ports/libc): each is run
# once with glibc's malloc and once with LIB (libtarn_malloc.so) in LD_PRELOAD, and its
# output must be the same.  With TARN_MALLOC_STATS=<file>, every process on tarn appends
# one statistics line to the file at exit: the test also checks that tarn served allocations in each
# program, that no bad pointer was handed back, and that the heap passed its full check.
#   1. a shell pipeline: seq | sort | awk | sort | uniq | tr | md5sum, plus sh's own work
#   2. python3 with PYTHONMALLOC=malloc (every Python object through malloc): dicts,
#      lists, strings, json, sorting, a million-element sum, four threads allocating
#   3. a compiler run: gcc -O2 -c on a C file (cc1 and as on tarn): the same object bytes
set -u
lib=${1:?usage: port_libc_preload.sh path/to/libtarn_malloc.so}
[ -f "$lib" ] || { echo "no $lib"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# run NAME CMD...: the command's stdout with glibc and with tarn, compared; tarn's stats
# lines checked
run() {
  name=$1; shift
  "$@" >"$tmp/$name.glibc" 2>"$tmp/$name.glibc.err"
  rc1=$?
  TARN_MALLOC_STATS="$tmp/$name.stats" LD_PRELOAD="$lib" "$@" >"$tmp/$name.tarn" 2>"$tmp/$name.tarn.err"
  rc2=$?
  if [ $rc1 -ne $rc2 ]; then
    echo "$name: exit status $rc1 with glibc, $rc2 on tarn"; cat "$tmp/$name.tarn.err"; fail=1; return
  fi
  if ! cmp -s "$tmp/$name.glibc" "$tmp/$name.tarn"; then
    echo "$name: output differs"; diff "$tmp/$name.glibc" "$tmp/$name.tarn" | head -20; fail=1; return
  fi
  touch "$tmp/$name.stats"
  lines=$(grep -c '^tarn-malloc: ' "$tmp/$name.stats")
  bad=$(grep '^tarn-malloc: ' "$tmp/$name.stats" | grep -v ' bad 0 check ok$' | head -3)
  allocs=$(sed -n 's/^tarn-malloc: allocs \([0-9]*\) .*/\1/p' "$tmp/$name.stats" | awk '{s += $1} END {print s + 0}')
  peak=$(sed -n 's/.* peak \([0-9]*\) .*/\1/p' "$tmp/$name.stats" | sort -n | tail -1)
  if [ "$lines" -eq 0 ] || [ "$allocs" -eq 0 ]; then
    echo "$name: no process reported running on tarn"; cat "$tmp/$name.tarn.err" "$tmp/$name.stats"; fail=1; return
  fi
  if [ -n "$bad" ]; then
    echo "$name: tarn reported a problem:"; echo "$bad"; fail=1; return
  fi
  echo "$name: same output ($(wc -c <"$tmp/$name.tarn") bytes); $lines processes on tarn, $allocs allocations, largest peak ${peak:-0} bytes"
}

run pipeline sh -c 'seq 1 50000 | sort -r | awk "{ print \$1 % 97, \$1 }" | sort -n -k1,1 -k2,2 | uniq -c -w 3 | tr 0-9 a-j | md5sum; x=""; for i in $(seq 1 300); do x="$x$i,"; done; echo ${#x}'

py=$(command -v python3 || true)
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
if [ -n "$py" ]; then
  run python env PYTHONMALLOC=malloc "$py" -c '
import json, collections
d = {str(i): [i] * (i % 7) for i in range(20000)}
s = json.dumps(d, sort_keys=True)
c = collections.Counter(w for w in s.split(",") if w)
print(len(s), len(c), c.most_common(3))
print(sum(range(1000000)), sorted(d, key=lambda k: (-len(d[k]), k))[:5])
print(" ".join(sorted(set("the quick brown fox jumps over the lazy dog".split()))))
import threading
res = [None] * 4
def work(k):
    d = {}
    for i in range(30000):
        d[(k, i)] = str(i * k) * (i % 5)
    res[k] = sum(len(v) for v in d.values())
ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print("threads", res)
'
else
  echo "python: SKIPPED (no python3)"
fi

cc=$(command -v gcc || command -v cc || true)
if [ -n "$cc" ]; then
  cat >"$tmp/prog.c" <<'CEOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct node { struct node *l, *r; int key; };
static struct node *insert(struct node *t, int k)
{
    if (t == NULL) { t = calloc(1, sizeof *t); if (t) t->key = k; return t; }
    if (k < t->key) t->l = insert(t->l, k); else t->r = insert(t->r, k);
    return t;
}
static int depth(const struct node *t) { int a, b; if (!t) return 0; a = depth(t->l); b = depth(t->r); return 1 + (a > b ? a : b); }
int main(void) { struct node *t = NULL; int i; for (i = 0; i < 1000; i++) t = insert(t, (i * 7919) % 1009); printf("%d\n", depth(t)); return 0; }
CEOF
  run gcc sh -c "cd '$tmp' && '$cc' -O2 -Wall -c prog.c -o prog-\$\$.o && od -An -tx1 prog-\$\$.o | md5sum"
else
  echo "gcc: SKIPPED (no compiler)"
fi

[ $fail -eq 0 ] && echo "port_libc_preload: passed" || echo "port_libc_preload: FAILED"
exit $fail
