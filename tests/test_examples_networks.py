"""The network examples (examples/*.toml, their answers in examples/answers/) and the console
sessions of docs/networks.md are up to date: every command shown is run again and its output
compared (regenerate the answers with python examples/regenerate_answers.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("regenerate_answers",
                                              ROOT / "examples" / "regenerate_answers.py")
regenerate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(regenerate)


def test_every_answer_file_is_listed():
    listed = {name for name, _ in regenerate.EXAMPLES}
    present = {p.name for p in (ROOT / "examples" / "answers").iterdir()}
    assert listed == present


@pytest.mark.parametrize("name, command", regenerate.EXAMPLES, ids=[n for n, _ in
                                                                    regenerate.EXAMPLES])
def test_example_answers_are_up_to_date(name, command):
    stored = (ROOT / "examples" / "answers" / name).read_text()
    assert stored == regenerate.render(name, command), \
        f"examples/answers/{name} is stale: run python examples/regenerate_answers.py"


def _sessions():
    text = (ROOT / "docs" / "networks.md").read_text()
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        lines = block.rstrip("\n").split("\n")
        assert lines[0].startswith("$ cnnplan "), lines[0]
        command = lines[0][len("$ cnnplan "):].replace("\\", "")
        yield command, "\n".join(lines[1:])


@pytest.mark.parametrize("command, shown", list(_sessions()))
def test_docs_show_real_output(command, shown):
    output, code = regenerate.run(command)
    expected = output.rstrip()
    if code:
        expected += f"\n[exit {code}]"
    assert shown == expected
