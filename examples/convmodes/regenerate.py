"""Regenerate the example outputs in this folder, and the outputs shown in docs/convmodes.md,
with the installed `cnnplan` command.

    python examples/convmodes/regenerate.py

Each example file holds the exact stdout of one real command; in the docs, each ```console
block is `$ cnnplan ...` followed by its stdout (and stderr for bad input, exit 2).
tests/test_convmodes_examples.py checks that both are up to date.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent.parent / "docs" / "convmodes.md"

# file name -> arguments after `cnnplan`
COMMANDS = {
    "question5.txt": ["conv", "1,2,3,4", "1,0,2", "--mode", "all", "--steps"],
    "question5.json": ["conv", "1,2,3,4", "1,0,2", "--mode", "all", "--format", "json"],
    "question5.md": ["conv", "1,2,3,4", "1,0,2", "--mode", "all", "--steps",
                     "--format", "markdown"],
    "question5.tex": ["conv", "1,2,3,4", "1,0,2", "--mode", "all", "--steps",
                      "--format", "latex"],
    "even_kernel_numpy.txt": ["conv", "1,2,3,4", "1,2", "--mode", "same", "--steps"],
    "even_kernel_torch.txt": ["conv", "1,2,3,4", "1,2", "--mode", "same", "--steps",
                              "--same", "torch"],
    "kernel_longer.txt": ["conv", "1,2", "1,0,2,3", "--mode", "all", "--steps"],
    "matrix_correlate_torch.txt": ["conv", "[[1,2,3],[4,5,6],[7,8,9]]", "[[1,0],[0,-1]]",
                                   "--correlate", "--same", "torch", "--steps"],
    "strided_dilated.txt": ["conv", "1,2,3,4,5,6,7", "1,0,-1", "--correlate", "--stride", "2",
                            "--dilation", "2"],
}


def command_line(args: list[str]) -> str:
    """The command as a reader would type it (shell-quoted)."""
    return "cnnplan " + " ".join(shlex.quote(a) for a in args)


def run(args: list[str]) -> subprocess.CompletedProcess:
    """Run the installed `cnnplan` (the one next to this Python, else on PATH)."""
    exe = os.path.join(os.path.dirname(sys.executable), "cnnplan")
    if not os.path.exists(exe):
        exe = shutil.which("cnnplan") or "cnnplan"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)


def shown(done: subprocess.CompletedProcess) -> str:
    """What a docs block shows: stdout, plus the error line for bad input (exit 2)."""
    return done.stdout + (done.stderr if done.returncode == 2 else "")


def refresh_docs(text: str) -> str:
    """Re-run the command heading each ```console block and put its output under it."""
    def block(match):
        first = match.group(1)
        args = shlex.split(first[2:])[1:]
        return f"```console\n{first}\n{shown(run(args))}```"

    return re.sub(r"```console\n(\$ cnnplan [^\n]*)\n.*?```", block, text, flags=re.S)


def main():
    for name, args in COMMANDS.items():
        done = run(args)
        if done.returncode not in (0, 1):
            sys.exit(f"{command_line(args)} failed: {done.stderr.strip()}")
        (HERE / name).write_text(done.stdout)
        print(f"{name}: {command_line(args)}")
    if DOCS.exists():
        DOCS.write_text(refresh_docs(DOCS.read_text()))
        print(f"refreshed {DOCS.name}")


if __name__ == "__main__":
    main()
