"""docs/activations.md: the Python example runs (its console transcripts are checked by
tests/test_transcripts.py, like every doc's)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "activations.md"
PYTHON = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def test_docs_python_example_runs(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "examples" / "activations", tmp_path / "examples" / "activations")
    monkeypatch.chdir(tmp_path)
    blocks = PYTHON.findall(DOC.read_text())
    assert blocks
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), {})  # trusted: the repository's own docs
    assert "holds" in capsys.readouterr().out


def test_docs_show_every_command():
    text = DOC.read_text()
    for command in ("cnnplan identity list", "cnnplan identity check", "cnnplan convert",
                    "--format latex", "--format json"):
        assert f"$ {command}" in text or command in text
