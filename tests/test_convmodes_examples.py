"""examples/convmodes/ holds the correct answers of question 5 (tests/test_transcripts.py checks
that every example file is the current output of its command in outputs.toml)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "convmodes"


def test_question5_example_has_the_correct_answers():
    data = json.loads((EXAMPLES / "question5.json").read_text())
    assert (data["full"], data["same"], data["valid"]) == ([1, 2, 5, 8, 6, 8], [2, 5, 8, 6], [5, 8])
    steps = (EXAMPLES / "question5.txt").read_text()
    assert "[0, 0, 1, 2, 3, 4]  [2, 0, 1, 0, 0, 0]" in steps
