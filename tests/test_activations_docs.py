"""docs/activations.md shows the real output of every command it runs.

Console blocks hold `$ cnnplan ...` lines followed by what the command prints (stdout and
stderr, as a terminal shows them). `python tests/test_activations_docs.py` rewrites the
outputs from the current code; the test fails when they differ.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "activations.md"
BLOCK = re.compile(r"^```console\n(.*?)^```$", re.S | re.M)
PYTHON = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def run(command: str, cwd: Path) -> str:
    from click.testing import CliRunner

    from cnnplan.cli import build_cli

    args = shlex.split(command)
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(build_cli(), args[1:]).output
    finally:
        os.chdir(old)


def render(text: str, cwd: Path) -> str:
    """`text` with each console block's outputs recomputed (commands run in order, in cwd)."""
    def block(match):
        lines, out = match.group(1).splitlines(), []
        for line in lines:
            if line.startswith("$ "):
                out.append(line)
                if line.startswith("$ cnnplan "):
                    out += run(line[2:], cwd).rstrip("\n").splitlines()
        return "```console\n" + "".join(f"{line}\n" for line in out) + "```"

    return BLOCK.sub(block, text)


def sandbox(tmp: Path) -> Path:
    """A working directory holding a copy of examples/activations (the docs' input files)."""
    shutil.copytree(ROOT / "examples" / "activations", tmp / "examples" / "activations")
    return tmp


def test_docs_show_real_output(tmp_path):
    text = DOC.read_text()
    assert text.count("$ cnnplan ") >= 8
    assert render(text, sandbox(tmp_path)) == text, "run: python tests/test_activations_docs.py"


def test_docs_python_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(sandbox(tmp_path))
    blocks = PYTHON.findall(DOC.read_text())
    assert blocks
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), {})
    assert "holds" in capsys.readouterr().out


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        DOC.write_text(render(DOC.read_text(), sandbox(Path(tmp))))
    print(f"updated {DOC.relative_to(ROOT)}", file=sys.stderr)
