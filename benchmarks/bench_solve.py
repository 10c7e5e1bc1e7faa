"""Speed of `cnnplan solve`, as ratios against baselines measured in the same run.

1. Enumeration: 3x64x64 -> 64x32x32, --mode floor, k, s, d in 1..64 and p in 0..64, against
   python-constraint's plain BacktrackingSolver with one FunctionConstraint over the same
   domains (identical solution sets are checked). Budget: at least 100x faster.
2. The whole command: the installed `cnnplan solve --in 3x64x64 --out 64x32x32 --max
   k=64,s=64,p=64,d=64 --mode floor --format json` as a process (start-up, search, JSON
   writing), against the same python-constraint baseline; its JSON must list the identical
   solutions. Budget: at least 60x faster. Measured in wall time (best of N) and in CPU time
   (the process's user + system time, best of N, against the baseline's process time), which
   a loaded machine disturbs less.
3. Start-up: the installed `cnnplan solve --in 3x64x64 --out 64x32x32 --fix k=8` against
   `python -c "import click, pluggy, constraint"`, run alternately, best of N each (a loaded
   machine slows single runs, not the best). Budget: at most 1.3x; numpy not imported.
   Both sides run from compiled bytecode, as after `pip install`: an editable install under
   PYTHONDONTWRITEBYTECODE=1 would otherwise recompile cnnplan's sources on every start while
   the dependencies' bytecode was compiled when pip installed them.

Run: python benchmarks/bench_solve.py [--repeat N] [--whole]  (--whole: parts 1 and 2 only)
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import subprocess
import statistics
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


def best_alternating(commands: list[list[str]], repeat: int) -> list[float]:
    """Best wall time of each command, the commands run in turn `repeat` times (one warm-up
    round first), so that load on the machine falls on all of them alike."""
    best = [float("inf")] * len(commands)
    for round_ in range(repeat + 1):
        for n, cmd in enumerate(commands):
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=False)
            if round_:
                best[n] = min(best[n], time.perf_counter() - start)
    return best


def whole_command(exe: str, repeat: int) -> tuple[float, float, set]:
    """Best wall time and best CPU time (user + system) of the whole `cnnplan solve ...
    --format json` process, and its rows."""
    cmd = [exe, "solve", "--in", "3x64x64", "--out", "64x32x32", "--max",
           f"k={BOUND},s={BOUND},p={BOUND},d={BOUND}", "--mode", "floor", "--format", "json"]
    doc = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    rows = {(r["k"], r["s"], r["p"], r["d"]) for r in doc["solutions"]}
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus), rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--whole", action="store_true",
                        help="only the enumeration and the whole command (no start-up part)")
    args = parser.parse_args()

    cpu_start = time.process_time()
    base_t, base = best_of(baseline_solutions, 1)
    base_cpu = time.process_time() - cpu_start
    ours_t, ours = best_of(cnnplan_solutions, 5)
    assert ours == base, "solution sets differ"
    print(f"enumeration 3x64x64 -> 64x32x32, floor, bounds 64: {len(ours)} solutions (identical)")
    print(f"  python-constraint BacktrackingSolver + FunctionConstraint: {base_t:8.3f} s "
          f"({base_cpu:.3f} s CPU)")
    print(f"  cnnplan ShapeSolver (closed form):                         {ours_t:8.4f} s")
    print(f"  speed-up: {base_t / ours_t:.0f}x (budget: >= 100x)")

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for folder in ("cnnplan", "plugins"):  # what pip does for an installed package
        compileall.compile_dir(os.path.join(root, folder), quiet=1)
    exe = shutil.which("cnnplan") or os.path.join(os.path.dirname(sys.executable), "cnnplan")
    whole_t, whole_cpu, whole = whole_command(exe, args.repeat)
    assert whole == base, "the command's solutions differ"
    print("the whole command, as a process: cnnplan solve --in 3x64x64 --out 64x32x32 "
          f"--max k={BOUND},s={BOUND},p={BOUND},d={BOUND} --mode floor --format json")
    print(f"  {len(whole)} solutions (identical), best of {args.repeat}: {whole_t:.3f} s wall, "
          f"{whole_cpu:.3f} s CPU")
    print(f"  speed-up over python-constraint: {base_t / whole_t:.0f}x in wall time, "
          f"{base_cpu / whole_cpu:.0f}x in CPU time (budget: >= 60x)")
    if args.whole:
        return
    imports, solve, help_, plugins = best_alternating(
        [[sys.executable, "-c", "import click, pluggy, constraint"],
         [exe, "solve", "--in", "3x64x64", "--out", "64x32x32", "--fix", "k=8"],
         [exe, "--help"], [exe, "plugins"]], args.repeat)
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys\nfrom cnnplan.cli import main\n"
         "try:\n main(['solve','--in','3x64x64','--out','64x32x32','--fix','k=8'])\n"
         "except SystemExit:\n pass\n"
         "print('numpy imported' if 'numpy' in sys.modules else 'numpy not imported', "
         "file=sys.stderr)"],
        capture_output=True, text=True)
    print(f"start-up (best of {args.repeat}, run alternately):")
    print(f"  python -c 'import click, pluggy, constraint': {imports * 1000:6.1f} ms")
    print(f"  cnnplan solve --in 3x64x64 --out 64x32x32 --fix k=8: {solve * 1000:6.1f} ms")
    print(f"  ratio: {solve / imports:.2f}x (budget: <= 1.3x); {probe.stderr.strip()}")
    for command, t in (("--help", help_), ("plugins", plugins)):
        print(f"  cnnplan {command}: {t * 1000:6.1f} ms ({t / imports:.2f}x)")


if __name__ == "__main__":
    main()
