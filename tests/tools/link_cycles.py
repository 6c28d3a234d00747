#!/usr/bin/env python3
"""Link-level cycles between vipd's object files.

    link_cycles.py BUILD_DIR

Reads every object of vipd/, netlink/ and checks/ under BUILD_DIR/obj with
nm, links each file to the files that define the symbols it uses, and
prints each cycle (a strongly connected group of two or more files).
Exit status 1 if there is one: a file that calls into a file that calls
back is one concern in two places, or two concerns tangled (issue 10).
"""
import glob
import os
import subprocess
import sys


def graph(build):
    defs, uses = {}, {}
    for d in ("vipd", "netlink", "checks"):
        for o in sorted(glob.glob(os.path.join(build, "obj", d, "*.o"))):
            name = os.path.relpath(o, os.path.join(build, "obj"))[:-2]
            out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
            uses[name] = set()
            for line in out.splitlines():
                f = line.split()
                if len(f) == 3 and f[1] in "TDBRC":
                    defs[f[2]] = name
                elif len(f) == 2 and f[0] == "U":
                    uses[name].add(f[1])
    return {n: {defs[s] for s in us if s in defs and defs[s] != n} for n, us in uses.items()}


def cycles(g):
    """Tarjan's strongly connected components of size > 1."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in g:
        if v not in index:
            visit(v)
    return out


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    g = graph(build)
    if not g:
        print("no objects under %s/obj" % build, file=sys.stderr)
        return 2
    found = cycles(g)
    for c in found:
        print("cycle: " + " <-> ".join(c))
    print("%d files, %d link cycle(s)" % (len(g), len(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
