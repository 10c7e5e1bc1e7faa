"""Benchmark of the nearest-output search (run by hand: python benchmarks/bench_nearest.py).

For questions without an answer, `solve` names every reachable output at the smallest distance
(docs/networks.md). This times that search (processor time of `nearest_outputs`) against a
baseline measured in the same run: a numpy brute force that evaluates every (k, s, p, d) of the
bounded grid, one d at a time, and tallies the outputs. Both answers are compared; the ratio is
search time / brute-force time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from cnnplan.solver.bounds import make_domains, resolve_bounds  # noqa: E402
from cnnplan.solver.nearest import nearest_outputs  # noqa: E402
from cnnplan.solver.search import Geometry  # noqa: E402

CASES = [  # (layer, mode, input, output, --max)
    ("conv", "floor", (3, 64, 64), (16, 40, 20), {}),
    ("conv", "exact", (3, 64, 64), (16, 40, 20), {}),
    ("pool", "floor", (2, 8, 8, 8), (2, 14, 8, 8), {"k": 6}),
    ("conv", "floor", (3, 128, 96), (8, 200, 7), {}),
    ("conv", "floor", (3, 224, 224), (64, 113, 111), {"k": 11, "s": 4, "p": 5, "d": 3}),
]


def brute_force(layer, mode, shape_in, shape_out, domains):
    """{output: configurations} over the whole grid, then the nearest (distance, [(v, n)])."""
    k = np.array(domains["k"])[:, None, None]
    s = np.array(domains["s"])[None, :, None]
    p = np.array(domains["p"])[None, None, :]
    tally: dict = {}
    for d in domains["d"]:
        ke = d * (k - 1) + 1
        ok = (k != 1) | (d == 1)
        ok = ok & (p <= (k // 2 if layer == "pool" else ke - 1))
        outs = []
        for i in shape_in[1:]:
            n = i + 2 * p - ke
            ok = ok & (n >= 0)
            if mode == "exact":
                ok = ok & (n % s == 0)
            outs.append(n // s + 1)
        ok = np.broadcast_to(ok, np.broadcast_shapes(ok.shape, s.shape))
        rows = np.stack([np.broadcast_to(o, ok.shape)[ok] for o in outs], axis=1)
        values, counts = np.unique(rows, axis=0, return_counts=True)
        for row, c in zip(values.tolist(), counts.tolist()):
            tally[tuple(row)] = tally.get(tuple(row), 0) + c
    target = tuple(shape_out[1:])
    dist = {v: sum(abs(a - b) for a, b in zip(v, target)) for v in tally if v != target}
    best = min(dist.values())
    ties = sorted(((shape_out[0], *v), tally[v]) for v in dist if dist[v] == best)
    return best, ties


def main():
    print(f"{'question':46} {'grid':>12} {'search s':>9} {'brute s':>8} {'ratio':>6}  same")
    for layer, mode, shape_in, shape_out, maxima in CASES:
        bounds = resolve_bounds(shape_in[1:], {}, maxima)
        domains = make_domains(bounds, {})
        grid = np.prod([len(v) for v in domains.values()])
        geometry = Geometry(layer, mode, shape_in[1:], shape_out[1:])
        start = time.process_time()
        near = nearest_outputs(geometry, shape_in, shape_out, domains, [])
        search = time.process_time() - start
        start = time.process_time()
        best, ties = brute_force(layer, mode, shape_in, shape_out, domains)
        brute = time.process_time() - start
        same = near.complete and near.distance == best and sorted(near.outputs) == ties
        question = (f"{layer} {mode} {'x'.join(map(str, shape_in))} -> "
                    f"{'x'.join(map(str, shape_out))}")
        print(f"{question:46} {grid:>12,} {search:9.3f} {brute:8.3f} {search / brute:6.3f}  "
              f"{'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
