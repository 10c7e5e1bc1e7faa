"""Benchmark of graph networks (run by hand: python benchmarks/bench_graph.py).

1. `cnnplan inputs` on a padded U-Net (23 convolutions, 4 levels; 46 layers with the
   activations, pools and joins) over
   1..N, against the baseline of a full forward pass (`cnnplan shapes`) per size, measured in
   the same run; how the cost grows with the range (N = 1024, 2048, 4096, 8192) and the depth
   (2, 3, 4, 5 levels).
2. `cnnplan plan` of ResNet-18's second stage (examples/networks/resnet18_stage_plan.toml:
   16 layers, 5 of them free), against the brute force that tries every combination of the
   free layers' configurations through a forward pass.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import cnnplan  # noqa: E402
from cnnplan.platform.errors import BadInput  # noqa: E402
from cnnplan.network.forward import build_nodes, forward  # noqa: E402
from cnnplan.language.planfile import load_plan, plan_nodes  # noqa: E402
from networks_support import unet_plan  # noqa: E402  (the U-Net the tests check)


def unet(levels: int, width: int = 8) -> str:
    return unet_plan(True, levels, width)


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def baseline_inputs(text: str, hi: int) -> int:
    """A full forward pass (shapes, costs, receptive fields) per size."""
    from cnnplan.language.planfile import parse_plan_text

    nodes = plan_nodes(parse_plan_text(text).layers)
    accepted = 0
    for n in range(1, hi + 1):
        try:
            forward((1, n, n), nodes)
            accepted += 1
        except BadInput:
            pass
    return accepted


def bench_inputs():
    print("== cnnplan inputs: padded U-Net ==")
    text = unet(4)
    layers = text.count("[[layers]]")
    convs = text.count('"conv')
    cnnplan.run_solver("inputs", plan_text=text, range="1..64")  # warm up
    result, fast = timed(cnnplan.run_solver, "inputs", plan_text=text, range="1..4096")
    count, slow = timed(baseline_inputs, text, 4096)
    assert count == result.data["count"]
    print(f"{convs} convolutions ({layers} layers), sizes 1..4096: {fast:.3f} s ({result.data['count']} accepted, rule "
          f"{result.data['rule']!r}); full forward per size {slow:.3f} s: {slow / fast:.1f}x")
    print("range    time (s)   per size (us)")
    for hi in (1024, 2048, 4096, 8192):
        _, t = timed(cnnplan.run_solver, "inputs", plan_text=text, range=f"1..{hi}")
        print(f"{hi:5}    {t:8.3f}   {t / hi * 1e6:10.1f}")
    print("levels  layers  convs  time (s) for 1..4096")
    for levels in (2, 3, 4, 5):
        t_text = unet(levels)
        _, t = timed(cnnplan.run_solver, "inputs", plan_text=t_text, range="1..4096")
        convs = t_text.count('"conv')
        print(f"{levels:6}  {t_text.count('[[layers]]'):6}  {convs:5}  {t:8.3f}")


def bench_stage_plan():
    print("== cnnplan plan: ResNet-18 stage 2 ==")
    path = str(ROOT / "examples" / "networks" / "resnet18_stage_plan.toml")
    result, t_plan = timed(cnnplan.plan, plan_file=path)
    plan = load_plan(path)
    free = [(j, item) for j, item in enumerate(plan.layers) if item.spec.window]
    options = []
    for _, item in free:
        spec = item.spec
        choices = []
        for s, p in itertools.product(range(1, 3), range(0, 3)):
            if p > spec.get("k") - 1:
                continue
            choices.append(spec.with_values(s=s, p=p))
        options.append(choices)

    def brute():
        found = 0
        for combo in itertools.product(*options):
            items = [(item.name, item.spec, item.sources) for item in plan.layers]
            for (j, _), spec in zip(free, combo):
                items[j] = (items[j][0], spec, items[j][2])
            try:
                net = forward(plan.input, build_nodes(items))
            except BadInput:
                continue
            found += net.output == (128, 28, 28)
        return found

    count, t_brute = timed(brute)
    assert count == result.data["count"], (count, result.data["count"])
    combos = 1
    for o in options:
        combos *= len(o)
    print(f"{result.data['count']} networks: planner {t_plan:.3f} s; brute force over {combos} "
          f"combinations {t_brute:.3f} s: {t_brute / t_plan:.1f}x")


if __name__ == "__main__":
    bench_inputs()
    bench_stage_plan()
