"""`cnnplan serve`: what an API request costs against running the command it stands for.

Each request runs `cnnplan` in a child process, so the baseline is the command's own wall time
on the same question in the same run. Also checks that start-up does not import the web stack.

    python benchmarks/bench_serve.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

QUESTION = [("in", "3x64x64"), ("out", "64x32x32"), ("fix", "k=8")]


def median_time(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    import uvicorn

    from cnnplan.web.app import build_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/api/solve?" + urllib.parse.urlencode(QUESTION)
    exe = shutil.which("cnnplan") or os.path.join(os.path.dirname(sys.executable), "cnnplan")
    argv = [exe, "solve"] + [part for key, value in QUESTION for part in (f"--{key}", value)]

    def command():
        subprocess.run(argv + ["--format", "json"], capture_output=True, check=False)

    def request():
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()

    cli = median_time(command, args.repeat)
    api = median_time(request, args.repeat)
    server.should_exit = True
    probe = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom cnnplan.cli import main\n"
         "try:\n main(['--help'])\nexcept SystemExit:\n pass\n"
         "print(sorted(m for m in ('starlette', 'uvicorn') if m in sys.modules), file=sys.stderr)"],
        capture_output=True, text=True)
    print(f"GET /api/solve?{urllib.parse.urlencode(QUESTION)} (median of {args.repeat}):")
    print(f"  cnnplan solve ... --format json:  {cli * 1000:6.1f} ms")
    print(f"  the API request:                  {api * 1000:6.1f} ms")
    print(f"  ratio: {api / cli:.2f}x (the request runs the command)")
    print(f"  web modules imported by `cnnplan --help`: {probe.stderr.strip()}")


if __name__ == "__main__":
    main()
