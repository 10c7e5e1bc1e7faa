"""`cnnplan import` against what torch alone must do for the same answer.

For each reference model of examples/models/reference.py, in one process (torch imported and
the meta device warmed up once, before any timing):
  baseline: build the model, trace it with torch.fx, run ShapeProp on the meta device;
  cnnplan:  cnnplan.import_model (the same three steps, plus the mapping onto layer kinds,
            writing the plan text, reading it back with cnnplan.shapes and the checks).
Then the command a user runs (`cnnplan import ... -o FILE`, a fresh process that imports torch)
against torch alone in a fresh process (import torch, build, fx trace, meta-device ShapeProp);
issue 21's goal: at most 1.3 x. Run: python benchmarks/bench_import.py [--quick] (--quick: one run each
instead of the best or median of three).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, "examples", "models", "reference.py")
MODELS = [("SmallResNet", "3x32x32"), ("resnet18", "3x224x224"), ("resnet50", "3x224x224"),
          ("mobilenet_v2", "3x224x224"), ("densenet121", "3x224x224"),
          ("unet", "1x572x572"), ("unet_padded", "1x256x256")]


REPEAT = 1 if "--quick" in sys.argv else 3


def best(function, repeat=REPEAT) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    import torch
    from torch.fx.passes.shape_prop import ShapeProp

    import cnnplan
    from cnnplan.importers.torch.load import load_target

    def torch_only(name, shape):
        model = load_target(f"{REFERENCE}:{name}")().eval()
        gm = torch.fx.symbolic_trace(model).to("meta")
        ShapeProp(gm).propagate(torch.empty(2, *map(int, shape.split("x")), device="meta"))

    torch_only("SmallResNet", "3x32x32")        # warm-up: the meta device's first use
    print(f"in one process (torch imported, meta device warm), best of {REPEAT}:")
    print(f"  {'model':13} {'torch alone':>11} {'cnnplan':>8} {'ratio':>6}")
    for name, shape in MODELS:
        base = best(lambda: torch_only(name, shape))
        ours = best(lambda: cnnplan.import_model(f"{REFERENCE}:{name}", shape))
        print(f"  {name:13} {base:10.2f}s {ours:7.2f}s {ours / base:5.2f}x")
    print(f"the command against torch alone, a fresh process each (median of {REPEAT}; wall "
          "time, and the process's CPU time, which a busy machine disturbs less):")
    print(f"  {'model':13} {'torch alone':>17} {'cnnplan':>17} {'ratio':>12}")
    print(f"  {'':13} {'wall':>8} {'CPU':>8} {'wall':>8} {'CPU':>8} {'wall':>5} {'CPU':>6}")
    exe = os.path.join(os.path.dirname(sys.executable), "cnnplan")
    with tempfile.TemporaryDirectory() as folder:
        for name, shape in MODELS:
            base = median(lambda: subprocess.run(
                [sys.executable, "-c", FRESH.format(reference=REFERENCE, name=name,
                                                    shape=shape.replace("x", ", "))],
                check=True))
            ours = median(lambda: subprocess.run(
                [exe, "import", f"{REFERENCE}:{name}", "--in", shape, "-o",
                 os.path.join(folder, "net.toml")], check=True, stderr=subprocess.DEVNULL))
            print(f"  {name:13} {base[0]:7.2f}s {base[1]:7.2f}s {ours[0]:7.2f}s {ours[1]:7.2f}s "
                  f"{ours[0] / base[0]:4.2f}x {ours[1] / base[1]:5.2f}x")


# torch alone in a fresh process: import, build, fx trace, ShapeProp on the meta device
FRESH = """
import importlib.util, torch, torch.fx
from torch.fx.passes.shape_prop import ShapeProp
spec = importlib.util.spec_from_file_location("reference", {reference!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
gm = torch.fx.symbolic_trace(getattr(module, {name!r})().eval()).to("meta")
ShapeProp(gm).propagate(torch.empty(2, {shape}, device="meta"))
"""


def median(function) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system of the child processes) of
    `function`, which runs a subprocess."""
    import resource

    walls, cpus = [], []
    for _ in range(REPEAT):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        function()
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


if __name__ == "__main__":
    main()
