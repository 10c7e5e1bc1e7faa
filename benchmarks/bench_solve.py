"""Speed of `cnnplan solve`, as ratios against baselines measured in the same run.

1. Enumeration: 3x64x64 -> 64x32x32, --mode floor, k, s, d in 1..64 and p in 0..64, against
   python-constraint's plain BacktrackingSolver with one FunctionConstraint over the same
   domains (identical solution sets are checked). Budget: at least 100x faster.
2. Start-up: the installed `cnnplan solve --in 3x64x64 --out 64x32x32 --fix k=8` against
   `python -c "import click, pluggy, constraint"`. Budget: at most 1.5x; numpy not imported.
   Both sides run from compiled bytecode, as after `pip install`: an editable install under
   PYTHONDONTWRITEBYTECODE=1 would otherwise recompile cnnplan's sources on every start while
   the dependencies' bytecode was compiled when pip installed them.

Run: python benchmarks/bench_solve.py [--repeat N]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time

import constraint

import cnnplan

IN, OUT = (64, 64), (32, 32)
BOUND = 64


def baseline_solutions() -> set[tuple]:
    """python-constraint's plain backtracking with a single FunctionConstraint."""
    problem = constraint.Problem(constraint.BacktrackingSolver())
    problem.addVariable("k", range(1, BOUND + 1))
    problem.addVariable("s", range(1, BOUND + 1))
    problem.addVariable("p", range(0, BOUND + 1))
    problem.addVariable("d", range(1, BOUND + 1))

    def valid(k, s, p, d):
        span = d * (k - 1) + 1
        if (k == 1 and d != 1) or p > span - 1:
            return False
        return all(i + 2 * p >= span and (i + 2 * p - span) // s + 1 == o for i, o in zip(IN, OUT))

    problem.addConstraint(constraint.FunctionConstraint(valid), ["k", "s", "p", "d"])
    return {(x["k"], x["s"], x["p"], x["d"]) for x in problem.getSolutions()}


def cnnplan_solutions() -> set[tuple]:
    result = cnnplan.solve("3x64x64", "64x32x32", mode="floor",
                           max={"k": BOUND, "s": BOUND, "p": BOUND, "d": BOUND})
    return {(r["k"], r["s"], r["p"], r["d"]) for r in result.data["solutions"]}


def best_of(fn, repeat: int):
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def wall(cmd: list[str], repeat: int, env=None) -> float:
    """Median wall time of a command (one warm-up run first)."""
    subprocess.run(cmd, capture_output=True, check=False, env=env)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    base_t, base = best_of(baseline_solutions, 1)
    ours_t, ours = best_of(cnnplan_solutions, 5)
    assert ours == base, "solution sets differ"
    print(f"enumeration 3x64x64 -> 64x32x32, floor, bounds 64: {len(ours)} solutions (identical)")
    print(f"  python-constraint BacktrackingSolver + FunctionConstraint: {base_t:8.3f} s")
    print(f"  cnnplan ShapeSolver (closed form):                         {ours_t:8.4f} s")
    print(f"  speed-up: {base_t / ours_t:.0f}x (budget: >= 100x)")

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for folder in ("cnnplan", "plugins"):  # what pip does for an installed package
        compileall.compile_dir(os.path.join(root, folder), quiet=1)
    exe = shutil.which("cnnplan") or os.path.join(os.path.dirname(sys.executable), "cnnplan")
    imports = wall([sys.executable, "-c", "import click, pluggy, constraint"], args.repeat)
    solve = wall([exe, "solve", "--in", "3x64x64", "--out", "64x32x32", "--fix", "k=8"],
                 args.repeat)
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys\nfrom cnnplan.cli import main\n"
         "try:\n main(['solve','--in','3x64x64','--out','64x32x32','--fix','k=8'])\n"
         "except SystemExit:\n pass\n"
         "print('numpy imported' if 'numpy' in sys.modules else 'numpy not imported', "
         "file=sys.stderr)"],
        capture_output=True, text=True)
    print("start-up (median wall time):")
    print(f"  python -c 'import click, pluggy, constraint': {imports * 1000:6.1f} ms")
    print(f"  cnnplan solve --in 3x64x64 --out 64x32x32 --fix k=8: {solve * 1000:6.1f} ms")
    print(f"  ratio: {solve / imports:.2f}x (budget: <= 1.5x); {probe.stderr.strip()}")
    for command in (["--help"], ["plugins"]):
        t = wall([exe, *command], args.repeat)
        print(f"  cnnplan {' '.join(command)}: {t * 1000:6.1f} ms ({t / imports:.2f}x)")


if __name__ == "__main__":
    main()
