"""examples/autodiff/ holds the survey's tables and question 4 with correct values (every file
is checked against its command in outputs.toml by tests/test_transcripts.py)."""

from __future__ import annotations

from pathlib import Path

from transcripts import manifest

HERE = Path(__file__).resolve().parent.parent / "examples" / "autodiff"


def test_readme_lists_every_command():
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    for command in manifest(str(HERE / "outputs.toml")).values():
        assert command in readme


def test_question_4_examples_hold_the_correct_values():
    forward = (HERE / "q4-forward.md").read_text(encoding="utf-8")
    reverse = (HERE / "q4-reverse.tex").read_text(encoding="utf-8")
    assert "| v4 | 1 / v1 | 0.1111 |" in forward and "35.1211" in forward
    assert "-0.1535" in forward
    assert r"$\bar{x}_{2}$ & $\bar{v}_{0}$ &  & 11.9877" in reverse


def test_docs_python_api_example():
    import cnnplan

    text = (HERE.parent.parent / "docs" / "autodiff.md").read_text(encoding="utf-8")
    result = cnnplan.run_solver("ad", expression="ln(x1) + x1*x2 - sin(x2)",
                                at={"x1": 2, "x2": 5}, mode="reverse")
    assert f'result.data["gradient"]        # {result.data["gradient"]!r}' in text
