#!/usr/bin/env python3
# check-imports.py: no two files of the library need each other
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: check-imports.py LIBRARY.a
#
# Reads the symbols each object of the static library defines and uses
# (nm) and draws an edge from a file to every other file whose symbols it
# uses.  The library's layout (README.md) says the calls between its files
# go one way: this fails, naming the files and the symbols, when the
# graph has a cycle.  Prints "ok N files, M edges" otherwise.

import collections
import os
import subprocess
import sys


def main():
    archive = sys.argv[1]
    out = subprocess.run(['nm', '-A', archive], check=True,
                         capture_output=True, text=True).stdout
    defined = {}
    used = collections.defaultdict(set)
    for line in out.splitlines():
        where, _, rest = line.rpartition(':')
        member = os.path.basename(where).split('.')[0]
        parts = rest.split()
        if len(parts) == 3 and parts[1] in 'TDBRV':
            defined[parts[2]] = member
        elif len(parts) == 2 and parts[0] == 'U':
            used[member].add(parts[1])

    edges = collections.defaultdict(dict)
    for member, symbols in used.items():
        for symbol in sorted(symbols):
            owner = defined.get(symbol)
            if owner is not None and owner != member:
                edges[member].setdefault(owner, symbol)

    # Tarjan's strongly connected components, iteratively.
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []
    for start in sorted(set(defined.values()) | set(used)):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))

    for component in cycles:
        print('cycle among: ' + ' '.join(component))
        for a in component:
            for b in component:
                if b in edges[a]:
                    print('  %s -> %s (%s)' % (a, b, edges[a][b]))
    if cycles:
        return 1
    print('ok: %d files, %d edges' % (len(set(defined.values())),
                                      sum(len(e) for e in edges.values())))
    return 0


if __name__ == '__main__':
    sys.exit(main())
