"""Benchmark of `cnnplan plan` (run by hand: python benchmarks/bench_plan.py).

The question of issue 4: a chain of convolutions from 3x224x224 to 512x7x7 with free
intermediate shapes, every layer free in k 1..11, s 1..4, p 0..5, d 1..3. It prints
- the exact number of chains and the 10 best by MACs for 5 layers,
- the growth for 2..10 layers,
and compares with baselines measured in the same run, never with fixed wall times:
- brute force: every pair of configurations of a 2-layer chain (the product of the choices),
  timed on the same machine; the product for L layers is 792**L such pairs, so the brute
  force's cost for L layers is extrapolated from it;
- the planner's own 1-layer time, so the growth column shows cost per layer.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cnnplan  # noqa: E402
from cnnplan.kinds.arithmetic import conv_output, effective_kernel  # noqa: E402

BOUNDS = "k=11,s=4,p=5,d=3"
CHANNELS = [64, 128, 256, 512, 512, 512, 512, 512, 512, 512]


def chain(n_layers: int) -> list[str]:
    specs = [f"conv({c})" for c in CHANNELS[:n_layers - 1]]
    return specs + ["conv(512) -> 512x7x7"]


def configs():
    """The 792 (k, s, p, d) of one layer, minus the invalid ones (k=1 with d>1, p > k'-1)."""
    out = []
    for k, s, p, d in itertools.product(range(1, 12), range(1, 5), range(6), range(1, 4)):
        if (k == 1 and d != 1) or p > effective_kernel(k, d) - 1:
            continue
        out.append((k, s, p, d))
    return out


def brute_force_two_layers(mode: str) -> tuple[int, float, int]:
    """Every pair of configurations of conv -> conv from 224 (outputs free): (chains, s, pairs)."""
    cfgs = configs()
    start = time.perf_counter()
    chains = pairs = 0
    for k1, s1, p1, d1 in cfgs:
        o1 = conv_output(224, k1, s1, p1, d1, mode)
        for k2, s2, p2, d2 in cfgs:
            pairs += 1
            if o1 is not None and conv_output(o1, k2, s2, p2, d2, mode) is not None:
                chains += 1
    return chains, time.perf_counter() - start, pairs


def timed(fn, repeat: int):
    best, result = None, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return result, best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument("--mode", choices=["exact", "floor"], default="exact")
    parser.add_argument("--max-layers", type=int, default=10)
    args = parser.parse_args(argv)
    mode = args.mode

    def plan(n, top=10):
        return cnnplan.plan("3x224x224", chain(n), max=BOUNDS, mode=mode, rank="macs", top=top)

    print(f"cnnplan plan 3x224x224 -> 512x7x7, free intermediates, {BOUNDS}, mode {mode}, "
          f"best of {args.repeat}")
    result, seconds = timed(lambda: plan(5), args.repeat)
    print(f"\n5 layers: {result.data['count']} chains (exact), count + 10 best by MACs in "
          f"{seconds:.3f} s")
    for r, c in enumerate(result.data["chains"], start=1):
        layers = "  ".join(f"k{x['k']}s{x['s']}p{x['p']}d{x['d']}" for x in c["layers"])
        print(f"  {r:2d}. macs {c['macs']:>11,}  params {c['params']:>9,}  rf {c['rf']:>3}  "
              f"{layers}")

    chains2, brute_seconds, pairs = brute_force_two_layers(mode)
    free2 = cnnplan.plan("3x224x224", ["conv(64)", "conv(128)"], max=BOUNDS, mode=mode, top=0)
    assert free2.data["count"] == chains2, (free2.data["count"], chains2)
    _, dp2 = timed(lambda: cnnplan.plan("3x224x224", ["conv(64)", "conv(128)"], max=BOUNDS,
                                        mode=mode, top=0), args.repeat)
    per_pair = brute_seconds / pairs
    print(f"\nbaseline, brute force over the product (2 free layers from 224, {pairs:,} pairs): "
          f"{chains2:,} chains in {brute_seconds:.3f} s ({per_pair * 1e9:.0f} ns per pair); "
          f"the planner counts the same {free2.data['count']:,} in {dp2:.3f} s "
          f"({brute_seconds / dp2:.0f}x faster)")

    n_cfg = len(configs())
    _, one = timed(lambda: plan(1), args.repeat)
    print(f"\ngrowth (ratios against the planner's 1-layer time, {one * 1000:.1f} ms, and against "
          f"the brute force, extrapolated as {n_cfg}^L chains x {per_pair * 1e9:.0f} ns):")
    print(f"{'L':>3} {'chains':>26} {'shapes':>7} {'seconds':>8} {'x 1-layer':>10} "
          f"{'added layer':>12} {'brute force / planner':>22}")
    previous = None
    for n in range(2, args.max_layers + 1):
        result, seconds = timed(lambda: plan(n), args.repeat)
        shapes = sum(layer["inputs"] for layer in result.data.get("layers", []))
        brute = per_pair * n_cfg ** n
        added = "" if previous is None else f"{(seconds - previous) / one:>12.1f}"
        print(f"{n:>3} {result.data['count']:>26} {shapes:>7} {seconds:>8.3f} "
              f"{seconds / one:>10.1f} {added:>12} {brute / seconds:>22.2e}")
        previous = seconds
    print("\nshapes: reachable input shapes summed over the layers (live after pruning); "
          "added layer: the extra time of one more layer, in 1-layer times; once the set of "
          "reachable sizes stops growing, each layer adds about the same.")


if __name__ == "__main__":
    main()
