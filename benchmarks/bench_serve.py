"""`cnnplan serve` under load (issue 22), on 127.0.0.1 only.

Starts `cnnplan serve` on a free loopback port (a process of its own) and measures:

1. one request against running the command it stands for (the baseline: a process start per
   question, which is what the server paid per request before its worker pool);
2. throughput: CLIENTS clients (asyncio, keep-alive) send a mix of solve, shapes, inputs and
   plan questions for SECONDS: requests/s, p50/p99 latency, errors;
3. isolation: two slow questions (about 2 s of CPU each) run while a trivial solve is timed.

    python benchmarks/bench_serve.py [--clients 50] [--seconds 10]

Goal (issue 22, a 2-core machine): >= 100 requests/s at 50 clients with p99 <= 1 s and no
errors; the trivial solve answered in <= 1 s while the two slow ones run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

MIX = [
    ("solve", [("in", "3x64x64"), ("out", "64x32x32"), ("fix", "k=8")]),
    ("solve", [("in", "64x32x32"), ("out", "64x8x8"), ("layer", "pool"), ("max", "p=0")]),
    ("solve", [("in", "1x5x5"), ("out", "1x3x3"), ("fix", "k=3,s=2,p=1"), ("format", "svg")]),
    ("shapes", [("in", "3x256x256"), ("spec", "conv(64, k=8, s=2)"), ("spec", "maxpool(k=5)"),
                ("spec", "conv(128, k=4, p=1)")]),
    ("inputs", [("in", "3x64x64"), ("spec", "conv(8, k=3, s=2)"), ("spec", "conv(8, k=3)"),
                ("range", "1..64")]),
    ("plan", [("in", "3x64x64"), ("spec", "conv(64, k=8, d=1) -> 64x32x32"),
              ("spec", "maxpool(p=0, d=1) -> 64x8x8"), ("top", "3")]),
]
SLOW = ("plan", [("in", "3x512x512"), ("out", "64x4x4")] + [("spec", "conv(64)")] * 8
        + [("max", "k=11,s=4,p=5,d=3")])
TRIVIAL = ("solve", [("in", "1x5"), ("out", "1x3"), ("fix", "k=3")])


def path(question) -> str:
    command, params = question
    return f"/api/{command}?{urllib.parse.urlencode(params)}"


async def get(reader, writer, target: str) -> int:
    """One keep-alive GET; its status (the body is read and dropped)."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    await reader.readexactly(length)
    return status


async def one(port: int, target: str) -> tuple[int, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    start = time.perf_counter()
    status = await get(reader, writer, target)
    writer.close()
    return status, time.perf_counter() - start


async def load(port: int, clients: int, seconds: float):
    """Latencies and error count of `clients` keep-alive clients cycling through MIX."""
    latencies, errors = [], []
    deadline = time.perf_counter() + seconds

    async def client(n: int):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        k = n
        while time.perf_counter() < deadline:
            target = path(MIX[k % len(MIX)])
            k += 1
            start = time.perf_counter()
            status = await get(reader, writer, target)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors.append(status)
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies, errors, time.perf_counter() - start


async def isolation(port: int) -> tuple[float, list[float]]:
    """The trivial solve's latency while two slow questions run, and the slow ones' times."""
    slow = [asyncio.ensure_future(one(port, path(SLOW))) for _ in range(2)]
    await asyncio.sleep(0.7)                   # both running, past the pool's slow mark
    status, trivial = await one(port, path(TRIVIAL))
    assert status == 200
    done = await asyncio.gather(*slow)
    return trivial, [t for _, t in done]


def start_server() -> tuple[subprocess.Popen, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    exe = shutil.which("cnnplan") or os.path.join(os.path.dirname(sys.executable), "cnnplan")
    proc = subprocess.Popen([exe, "serve", "--port", str(port)], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    for _ in range(600):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("cnnplan serve did not start")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    proc, port = start_server()
    try:
        exe = shutil.which("cnnplan") or os.path.join(os.path.dirname(sys.executable), "cnnplan")
        command, params = MIX[0]
        argv = [exe, command] + [f"--{k}={v}" for k, v in params] + ["--format=json"]
        cli = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=False)
            cli.append(time.perf_counter() - start)
        api = [asyncio.run(one(port, path(MIX[0])))[1] for _ in range(args.repeat + 1)][1:]
        cli_s, api_s = statistics.median(cli), statistics.median(api)
        latencies, errors, wall = asyncio.run(load(port, args.clients, args.seconds))
        latencies.sort()
        trivial, slow = asyncio.run(isolation(port))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(f"one question ({path(MIX[0])}), median of {args.repeat}:")
    print(f"  cnnplan {command} ... --format json (a process start): {cli_s * 1000:7.1f} ms")
    print(f"  the API request (a pooled worker):                 {api_s * 1000:7.1f} ms")
    print(f"  ratio: {cli_s / api_s:.1f}x faster per question than a process per request")
    print(f"load: {args.clients} clients, {len(MIX)} kinds of question, {wall:.1f} s:")
    print(f"  {len(latencies)} requests, {len(latencies) / wall:.0f} requests/s "
          f"(a process per request would manage at most {os.cpu_count() / cli_s:.0f}/s "
          f"on {os.cpu_count()} cores)")
    print(f"  latency p50 {p(0.5) * 1000:.0f} ms, p99 {p(0.99) * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms; errors: {len(errors)}")
    print(f"isolation: a trivial solve took {trivial * 1000:.0f} ms while two slow questions "
          f"ran ({', '.join(f'{t:.1f} s' for t in slow)})")


if __name__ == "__main__":
    main()
