"""The server's pool of pre-started `cnnplan` workers (cnnplan.web.worker), so that a request
costs a line on a pipe instead of a process start, and each keeps its own budget.

- `size` workers wait, started before the first request. A task goes to an idle worker, or
  waits its turn (at most `max_waiting` wait; more are refused as busy).
- A task that has run `slow_after` seconds is slow: its worker is niced (the fast ones get the
  CPU first) and a spare is started, so `size` workers stay free for fast questions (up to
  `max_workers` in all). A slow worker is retired after its task (its niceness cannot be
  lowered again) and replaced.
- A task past its wall time, a worker killed by its CPU limit or out of memory, and a task
  whose client went away (cancelled) end the worker; a fresh one takes its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections import deque

STREAM_LIMIT = 64 << 20  # the longest answer line a worker may send (JSON of the output)


class Overrun(Exception):
    """A task that could not be answered within a budget: 'time', 'cpu', 'memory', 'output'
    or 'busy' (too many waiting)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Worker:
    """One worker process and its pipes."""

    def __init__(self, proc):
        self.proc = proc
        self.slow = False

    @classmethod
    async def start(cls, memory_bytes: int) -> "Worker":
        env = dict(
            os.environ,
            CNNPLAN_WORKER_MEMORY=str(memory_bytes),
            CNNPLAN_DEBUG="",
            OPENBLAS_NUM_THREADS="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cnnplan.web.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
            limit=STREAM_LIMIT,
            start_new_session=True,
        )
        worker = cls(proc)
        assert proc.stdout is not None  # stdout=PIPE above
        line = await proc.stdout.readline()
        if not line.startswith(b'{"ready"'):
            worker.kill()
            raise RuntimeError("a cnnplan worker failed to start")
        return worker

    async def ask(self, task: dict) -> dict:
        """Send one task, wait for its answer (EOFError if the worker died meanwhile)."""
        self.proc.stdin.write(json.dumps(task).encode() + b"\n")
        try:
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise EOFError from None
        line = await self.proc.stdout.readline()
        if not line:
            raise EOFError
        return json.loads(line)

    def make_slow(self):
        self.slow = True
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, self.proc.pid, 10)

    def kill(self):
        with contextlib.suppress(ProcessLookupError, OSError):
            self.proc.kill()

    async def reap(self):
        self.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.proc.wait(), 5)


class Pool:
    def __init__(
        self,
        size: int = 4,
        max_workers: int = 8,
        memory_bytes: int = 4 << 30,
        slow_after: float = 0.5,
        max_waiting: int = 1000,
    ):
        self.size, self.max_workers, self.memory_bytes = size, max_workers, memory_bytes
        self.slow_after, self.max_waiting = slow_after, max_waiting
        self.idle: deque[Worker] = deque()
        self.waiting: deque[asyncio.Future] = deque()
        self.live = 0  # workers started or starting
        self.slow = 0  # of those, running a slow task
        self.stats = {"tasks": 0, "replaced": 0, "cancelled": 0, "slow": 0, "overruns": 0}
        self.closed = False
        self._starting: set[asyncio.Task] = set()

    async def start(self):
        self._top_up()
        await asyncio.gather(*list(self._starting), return_exceptions=True)

    async def close(self):
        self.closed = True
        for task in list(self._starting):
            task.cancel()
        while self.idle:
            await self.idle.popleft().reap()
        for waiter in self.waiting:
            waiter.cancel()

    def _top_up(self):
        """Start workers until `size` are not busy with slow tasks (at most max_workers)."""
        while (
            not self.closed and self.live - self.slow < self.size and self.live < self.max_workers
        ):
            self.live += 1
            task = asyncio.ensure_future(self._spawn())
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)

    async def _spawn(self):
        try:
            worker = await Worker.start(self.memory_bytes)
        except BaseException:
            self.live -= 1
            raise
        if self.closed:
            self.live -= 1
            await worker.reap()
        else:
            self._release(worker)

    def _release(self, worker: Worker):
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self.idle.append(worker)

    def _retire(self, worker: Worker, replaced: bool = True):
        self.live -= 1
        if worker.slow:
            self.slow -= 1
        if replaced:
            self.stats["replaced"] += 1
        asyncio.ensure_future(worker.reap())
        self._top_up()

    async def _acquire(self) -> Worker:
        if self.idle:
            return self.idle.popleft()
        if len(self.waiting) >= self.max_waiting:
            raise Overrun("busy")
        waiter = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())  # handed over just as the client left
            raise
        finally:
            with contextlib.suppress(ValueError):
                self.waiting.remove(waiter)

    def _mark_slow(self, worker: Worker):
        worker.make_slow()
        self.slow += 1
        self.stats["slow"] += 1
        self._top_up()

    async def run(self, task: dict, wall_seconds: float) -> dict:
        """The worker's answer to `task` ({code, out, err}), or Overrun."""
        worker = await self._acquire()
        self.stats["tasks"] += 1
        timer = asyncio.get_running_loop().call_later(self.slow_after, self._mark_slow, worker)
        try:
            answer = await asyncio.wait_for(worker.ask(task), wall_seconds)
        except TimeoutError:
            self.stats["overruns"] += 1
            self._retire(worker)
            raise Overrun("time") from None
        except EOFError:
            self.stats["overruns"] += 1
            self._retire(worker)
            raise Overrun("cpu") from None
        except BaseException:  # cancelled (the client left) or a broken answer
            self.stats["cancelled"] += 1
            self._retire(worker)
            raise
        finally:
            timer.cancel()
        if answer.get("overrun") == "memory":
            self.stats["overruns"] += 1
            self._retire(worker)
        elif worker.slow:
            self._retire(worker, replaced=False)
        else:
            self._release(worker)
        if answer.get("overrun"):
            raise Overrun(answer["overrun"])
        return answer
