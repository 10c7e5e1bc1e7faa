"""A pre-started `cnnplan` process for the server's pool: it reads one task per line on stdin
(JSON: argv, the posted plan as base64, the budgets), runs the command in-process exactly as
the terminal would, and answers one JSON line: exit code, stdout, stderr.

Budgets, per task: RLIMIT_CPU is raised to the CPU used so far plus the task's seconds (the
kernel kills the worker past it), RLIMIT_AS bounds the whole worker (a MemoryError ends the
worker after answering), and stdout is capped (a larger answer is refused, not buffered).
A worker that overran is replaced by the pool; one that finished is reused.

    python -m cnnplan.web.worker     # spoken to by cnnplan.web.pool, not by people
"""

from __future__ import annotations

import base64
import errno
import io
import json
import os
import resource
import shutil
import sys
import tempfile

WARM_UP = (
    ["solve", "--in", "1x4", "--out", "1x2", "--format", "json"],
    ["shapes", "--in", "1x4", "conv(1, k=3)", "--format", "json"],
)


class CappedText(io.StringIO):
    """A stdout that refuses to grow past `limit` characters (the write fails like a full
    disk, so the command stops and says so; `overflowed` tells the worker why)."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit
        self.overflowed = False

    def write(self, text):
        if self.tell() + len(text) > self.limit:
            self.overflowed = True
            raise OSError(errno.EFBIG, "the answer is too large")
        return super().write(text)

    def isatty(self):
        return False


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_task(task: dict, main) -> dict:
    """Run `cnnplan ARGV` for one task in a fresh temporary folder (the posted plan, if any, is
    its plan.toml); stdout and stderr captured."""
    folder = tempfile.mkdtemp(prefix="cnnplan-task-")
    here = os.getcwd()
    out, err = CappedText(task["max_output"]), CappedText(64 << 10)
    argv = list(task["argv"])
    if task.get("body") is not None:
        with open(os.path.join(folder, "plan.toml"), "wb") as handle:
            handle.write(base64.b64decode(task["body"]))
        argv = argv[:1] + ["plan.toml"] + argv[1:]
    limit = int(_cpu_used() + task["cpu_seconds"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (limit, resource.RLIM_INFINITY))
    saved = sys.stdout, sys.stderr
    code, overrun = 0, None
    try:
        os.chdir(folder)
        sys.stdout, sys.stderr = out, err
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except MemoryError:
            overrun = "memory"
    finally:
        sys.stdout, sys.stderr = saved
        os.chdir(here)
        shutil.rmtree(folder, ignore_errors=True)
    if out.overflowed:
        overrun = "output"
    return {
        "code": code,
        "out": out.getvalue() if not overrun else "",
        "err": err.getvalue(),
        "overrun": overrun,
    }


def serve_tasks(tasks, answers) -> None:
    """Answer each task line read from `tasks` with one JSON line on `answers`, until EOF or
    an overrun (the pool then starts a fresh worker)."""
    from cnnplan.cli import main

    for argv in WARM_UP:  # import the command line, the plugins and numpy once, up front
        try:
            main(argv)
        except SystemExit:
            pass
    answers.write('{"ready": true}\n')
    answers.flush()
    for line in tasks:
        answer = run_task(json.loads(line), main)
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
        if answer["overrun"] == "memory":
            break


def worker_main() -> None:
    """Keep the protocol on private copies of fds 0 and 1; the command sees /dev/null there."""
    tasks = os.fdopen(os.dup(0), "r", encoding="utf-8")
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    sys.stdin = open(os.devnull, encoding="utf-8")
    os.environ.update(CNNPLAN_DEBUG="", COLUMNS="100")
    memory = int(os.environ.get("CNNPLAN_WORKER_MEMORY") or 0)
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    serve_tasks(tasks, answers)


if __name__ == "__main__":
    worker_main()
