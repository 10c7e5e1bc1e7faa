"""The installed `cnnplan` under the hostile-input budget (issue 14), for test_hostile.py and
test_fuzz.py: each run has a CPU limit and an address-space limit (setrlimit in the child) and
reports its peak resident memory (wait4), so a test can assert that any input answers or
refuses within 5 s of CPU and 500 MB.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass

CPU_SECONDS = 5           # the budget: RLIMIT_CPU kills a run past it (SIGXCPU)
ADDRESS_SPACE = 2**31     # RLIMIT_AS, a safety net (numpy maps more than it touches)
PEAK_MB = 500             # the budget for peak resident memory, measured by wait4
WALL_SECONDS = 120        # a hang (a FIFO, a lock) is killed and fails the test
GOOD_EXITS = {0, 1, 2, 130}


@dataclass
class Run:
    args: list
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float
    cpu: float

    def problems(self) -> list[str]:
        """What breaks the hostile-input contract: exit codes, tracebacks, multi-line errors,
        the budget."""
        found = []
        if self.returncode not in GOOD_EXITS:
            found.append(f"exit {self.returncode}")
        if "Traceback" in self.stderr:
            found.append("a traceback")
        lines = self.stderr.splitlines()
        if self.returncode == 2 and (len(lines) != 1 or not lines[0].startswith("Error: ")):
            found.append(f"{len(lines)} stderr lines for bad input")
        if self.returncode in (1, 130) and len(lines) > 1:
            found.append(f"{len(lines)} stderr lines on failure")
        if self.peak_mb > PEAK_MB:
            found.append(f"peak memory {self.peak_mb:.0f} MB")
        return found


def executable() -> str:
    return shutil.which("cnnplan") or os.path.join(os.path.dirname(sys.executable), "cnnplan")


def _limit(umask=None):
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    if umask is not None:
        os.umask(umask)


def run_bounded(args, cwd=None, env=None, stdout=subprocess.PIPE, umask=None) -> Run:
    """Run `cnnplan ARGS` within the budget; stdout may be a file object (e.g. /dev/full) or
    None to inherit; `umask` for the child (default: this process's)."""
    full_env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                    **(env or {}))
    proc = subprocess.Popen([executable(), *args], stdin=subprocess.DEVNULL, stdout=stdout,
                            stderr=subprocess.PIPE, cwd=cwd, env=full_env,
                            preexec_fn=lambda: _limit(umask))
    chunks = {"out": b"", "err": b""}

    def drain(name, stream):
        chunks[name] = stream.read()

    readers = [threading.Thread(target=drain, args=("err", proc.stderr))]
    if proc.stdout is not None:
        readers.append(threading.Thread(target=drain, args=("out", proc.stdout)))
    for reader in readers:
        reader.start()
    timer = threading.Timer(WALL_SECONDS, lambda: os.kill(proc.pid, signal.SIGKILL))
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    return Run(list(args), proc.returncode, chunks["out"].decode("utf-8", "replace"),
               chunks["err"].decode("utf-8", "replace"), usage.ru_maxrss / 1024,
               usage.ru_utime + usage.ru_stime)


def snapshot(folder) -> dict:
    """Every entry under `folder`: name -> digest of a regular file's bytes and its mode, or
    the kind of anything else (a FIFO, a device, a link), so that replacing a FIFO or a
    device with a regular file, or changing a mode, shows as a change."""
    import stat

    found = {}
    for root, folders, files in os.walk(folder):
        for name in files + folders:
            path = os.path.join(root, name)
            info = os.lstat(path)
            key = os.path.relpath(path, folder)
            if stat.S_ISREG(info.st_mode):
                with open(path, "rb") as handle:
                    found[key] = (hashlib.sha256(handle.read()).hexdigest(), info.st_mode)
            else:
                found[key] = stat.S_IFMT(info.st_mode)
    return found


def wide_concat_plan(branches: int, input_shape: str) -> str:
    """A plan file: `branches` convolutions of the input, all joined by one concat."""
    lines = [f'input = "{input_shape}"']
    for i in range(branches):
        lines += ["[[layers]]", f'name = "b{i}"', 'spec = "conv(1, k=3, p=1)"', 'from = "input"']
    lines += ["[[layers]]", 'name = "cat"', 'spec = "concat"',
              "from = [" + ", ".join(f'"b{i}"' for i in range(branches)) + "]"]
    return "\n".join(lines) + "\n"


def add_all_plan(layers: int, input_shape: str) -> str:
    """A plan file: a conv and a relu, then `layers` - 2 adds, each of every earlier layer."""
    lines = [f'input = "{input_shape}"', "[[layers]]", 'name = "l0"', 'spec = "conv(4, k=3, p=1)"',
             "[[layers]]", 'name = "l1"', 'spec = "relu"']
    for i in range(2, layers):
        lines += ["[[layers]]", f'name = "l{i}"', 'spec = "add"',
                  "from = [" + ", ".join(f'"l{j}"' for j in range(i)) + "]"]
    return "\n".join(lines) + "\n"
