"""What plugins cost at start-up, as ratios against baselines measured in the same run.

For `cnnplan --help` (which loads every plugin and lists its commands) and a small
`cnnplan solve`: the median wall time with every installed plugin loaded, against the same
command with CNNPLAN_LOAD_PLUGINS= (no plugin loaded), and both against
`python -c "import click, pluggy, constraint"`. It also lists the modules of the built-in
plugins that each command imports: with references ("module:function") and LazyCommand, only
their hook modules. Everything runs from compiled bytecode, as after `pip install`.

Run: python benchmarks/bench_startup.py [--repeat N]
(to measure other code, e.g. an older checkout, put it first on PYTHONPATH)
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys

from bench_solve import wall

PLUGINS = ("cnnplan_activations", "cnnplan_autodiff", "cnnplan_convmodes")
COMMANDS = {"--help": ["--help"],
            "solve": ["solve", "--in", "3x64x64", "--out", "64x32x32", "--fix", "k=8"]}
PROBE = """
import sys, time
start = time.process_time()
from cnnplan.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
cpu = time.process_time() - start
print(cpu, " ".join(sorted(m for m in sys.modules if m.startswith({plugins!r}))), file=sys.stderr)
"""


def in_process(argv: list[str], repeat: int, env: dict) -> tuple[float, list[str]]:
    """Median CPU time of a command inside the interpreter (from importing cnnplan.cli to
    the end; CPU time, so other processes on the machine disturb it less than wall time),
    and the built-in plugins' modules it imported."""
    times, modules = [], []
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv, plugins=PLUGINS)],
                              capture_output=True, text=True, env=env)
        cpu, *modules = proc.stderr.splitlines()[-1].split()
        times.append(float(cpu))
    return statistics.median(times), modules


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()

    import cnnplan

    folders = [os.path.dirname(cnnplan.__file__)]
    for name in PLUGINS:
        spec = __import__("importlib.util").util.find_spec(name)
        folders.append(os.path.dirname(spec.origin))
    for folder in folders:  # what pip does for an installed package
        compileall.compile_dir(folder, quiet=1)
    print(f"cnnplan from {folders[0]}")
    exe = shutil.which("cnnplan") or os.path.join(os.path.dirname(sys.executable), "cnnplan")
    imports = wall([sys.executable, "-c", "import click, pluggy, constraint"], args.repeat)
    print(f"python -c 'import click, pluggy, constraint': {imports * 1000:6.1f} ms")
    for label, argv in COMMANDS.items():
        none = dict(os.environ, CNNPLAN_LOAD_PLUGINS="")
        bare, loaded = wall([exe, *argv], args.repeat, none), wall([exe, *argv], args.repeat)
        cpu_bare, _ = in_process(argv, args.repeat, none)
        cpu_loaded, modules = in_process(argv, args.repeat, dict(os.environ))
        print(f"cnnplan {label}:")
        print(f"  wall time, no plugins:  {bare * 1000:6.1f} ms ({bare / imports:.2f}x the imports)")
        print(f"  wall time, all plugins: {loaded * 1000:6.1f} ms ({loaded / imports:.2f}x the "
              f"imports; {loaded / bare:.2f}x no plugins)")
        print(f"  CPU time in cnnplan, no plugins: {cpu_bare * 1000:5.1f} ms, all plugins: "
              f"{cpu_loaded * 1000:5.1f} ms ({cpu_loaded / cpu_bare:.2f}x)")
        print(f"  plugin modules imported ({len(modules)}): {' '.join(modules)}")


if __name__ == "__main__":
    main()
