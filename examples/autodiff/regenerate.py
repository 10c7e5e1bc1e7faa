"""Regenerate the autodiff examples, and the outputs shown in docs/autodiff.md, from the
installed `cnnplan` command.

    python examples/autodiff/regenerate.py

Each file below is exactly the standard output of its command, and each ```console block of
the docs holds `$ cnnplan ...` lines followed by what they print (stderr, then stdout);
tests/test_autodiff_examples.py fails when either no longer matches.
"""

from __future__ import annotations

import os
import re
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


HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "..", "..", "docs", "autodiff.md")
_CONSOLE = re.compile(r"^```console\n(.*?)^```$", re.S | re.M)


def run(args: list[str]) -> subprocess.CompletedProcess:
    """The installed command (the one next to this Python if it is not on PATH)."""
    exe = shutil.which("cnnplan") or os.path.join(os.path.dirname(sys.executable), "cnnplan")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)


def console_blocks(text: str) -> str:
    """`text` with every ```console block's `$ cnnplan ...` lines followed by their output."""
    def fill(match):
        commands = [line for line in match.group(1).splitlines() if line.startswith("$ ")]
        body = ""
        for line in commands:
            done = run(shlex.split(line[2:])[1:])
            body += f"{line}\n{done.stderr}{done.stdout}"
        return f"```console\n{body}```"

    return _CONSOLE.sub(fill, text)


def main() -> int:
    for name, args in EXAMPLES.items():
        done = run(args)
        if done.returncode:
            raise SystemExit(f"{command_line(args)} failed: {done.stderr}")
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as out:
            out.write(done.stdout)
        print(f"{name}: {command_line(args)}")
    with open(DOCS, encoding="utf-8") as doc:
        text = doc.read()
    with open(DOCS, "w", encoding="utf-8") as doc:
        doc.write(console_blocks(text))
    print("docs/autodiff.md: console blocks refreshed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
