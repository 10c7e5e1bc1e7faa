"""examples/convmodes/ and docs/convmodes.md show real output of the current `cnnplan conv`.

Regenerate the examples with `python examples/convmodes/regenerate.py`; in the docs, each
```console block is `$ cnnplan ...` followed by that command's exact stdout.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "convmodes"
DOCS = ROOT / "docs" / "convmodes.md"


def _regenerate_module():
    spec = importlib.util.spec_from_file_location("convmodes_examples", EXAMPLES / "regenerate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


COMMANDS = _regenerate_module().COMMANDS


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_example_is_up_to_date(cnnplan_cmd, name):
    done = cnnplan_cmd(*COMMANDS[name])
    assert done.returncode in (0, 1), done.stderr
    assert (EXAMPLES / name).read_text() == done.stdout, (
        f"examples/convmodes/{name} is stale: run python examples/convmodes/regenerate.py")


def test_question5_example_has_the_correct_answers():
    data = json.loads((EXAMPLES / "question5.json").read_text())
    assert (data["full"], data["same"], data["valid"]) == ([1, 2, 5, 8, 6, 8], [2, 5, 8, 6], [5, 8])
    steps = (EXAMPLES / "question5.txt").read_text()
    assert "[0, 0, 1, 2, 3, 4]  [2, 0, 1, 0, 0, 0]" in steps


def _doc_blocks():
    text = DOCS.read_text()
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        first, _, output = block.partition("\n")
        assert first.startswith("$ cnnplan "), first
        yield shlex.split(first[2:])[1:], output


DOC_BLOCKS = list(_doc_blocks())


def test_the_docs_have_examples():
    assert len(DOC_BLOCKS) >= 5


@pytest.mark.parametrize("args, output", DOC_BLOCKS, ids=[" ".join(a)[:60] for a, _ in DOC_BLOCKS])
def test_docs_show_real_output(cnnplan_cmd, args, output):
    done = cnnplan_cmd(*args)
    shown = done.stdout + (done.stderr if done.returncode == 2 else "")
    assert shown == output, f"docs/convmodes.md is stale for: cnnplan {' '.join(args)}"
