"""Regenerate the autodiff examples from the installed `cnnplan` command.

    python examples/autodiff/regenerate.py

Each file below is exactly the standard output of its command; tests/test_autodiff_examples.py
fails when a file no longer matches what the command prints. (The console transcripts in
docs/autodiff.md are refreshed by `python tests/transcripts.py docs/autodiff.md`.)
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

SURVEY = ["ln(x1) + x1*x2 - sin(x2)", "--at", "x1=2,x2=5"]
Q4 = ["1/(x1+x2) + x2**2 + cos(x1)", "--at", "x1=3,x2=6"]
FORWARD = ["--mode", "forward", "--seed", "x1=1,x2=0"]
REVERSE = ["--mode", "reverse"]

EXAMPLES = {
    "survey-table2-forward.md": ["ad", *SURVEY, *FORWARD, "--format", "markdown"],
    "survey-table2-forward.tex": ["ad", *SURVEY, *FORWARD, "--format", "latex"],
    "survey-table3-reverse.md": ["ad", *SURVEY, *REVERSE, "--format", "markdown"],
    "survey-table3-reverse.tex": ["ad", *SURVEY, *REVERSE, "--format", "latex"],
    "q4-forward.md": ["ad", *Q4, *FORWARD, "--format", "markdown"],
    "q4-forward.tex": ["ad", *Q4, *FORWARD, "--format", "latex"],
    "q4-reverse.md": ["ad", *Q4, *REVERSE, "--format", "markdown"],
    "q4-reverse.tex": ["ad", *Q4, *REVERSE, "--format", "latex"],
    "q4-graph.dot": ["ad", *Q4, "--mode", "both", "--format", "dot"],
}


def command_line(args: list[str]) -> str:
    """The shell command that produces an example."""
    return shlex.join(["cnnplan", *args])


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    exe = shutil.which("cnnplan") or os.path.join(os.path.dirname(sys.executable), "cnnplan")
    for name, args in EXAMPLES.items():
        done = subprocess.run([exe, *args], capture_output=True, text=True, check=True)
        with open(os.path.join(here, name), "w", encoding="utf-8") as out:
            out.write(done.stdout)
        print(f"{name}: {command_line(args)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
