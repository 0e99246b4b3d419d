#!/usr/bin/env python3
"""tools/cg_percall.py OUT FUNCTION... - instructions per call from a callgrind output file.

For each named function (exact name, or a C++ name followed by its parameter list), sums
over every call site the number of calls and the inclusive instruction count callgrind
recorded for them (the `calls=` lines), and prints calls, inclusive Ir and Ir per call.

    valgrind --tool=callgrind --callgrind-out-file=cg.out build/gcc/example_lua
    tools/cg_percall.py cg.out tarn_lua_alloc tarn_heap_realloc tarn_heap_free
"""
import collections
import re
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    names = {}
    calls = collections.Counter()
    cost = collections.Counter()
    cfn = None
    pending = None

    def name_of(tok):
        m = re.match(r'\((\d+)\)(?: (.*))?', tok)
        if not m:
            return tok
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), '?')

    with open(sys.argv[1]) as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('cfn='):
                cfn = name_of(line[4:])
            elif line.startswith('fn='):
                name_of(line[3:])
            elif line.startswith('calls='):
                pending = int(line[6:].split()[0])
            elif pending is not None:
                parts = line.split()
                calls[cfn] += pending
                cost[cfn] += int(parts[1]) if len(parts) > 1 else 0
                pending = None
    for want in sys.argv[2:]:
        for fn in sorted(calls):
            if fn == want or fn.startswith(want + '('):
                print("%s: %d calls, %d Ir inclusive, %.1f Ir/call"
                      % (fn, calls[fn], cost[fn], cost[fn] / calls[fn]))


if __name__ == '__main__':
    main()
