"""examples/autodiff/ is up to date: every file equals its command's output today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnplan.cli import build_cli

HERE = Path(__file__).resolve().parent.parent / "examples" / "autodiff"
_spec = importlib.util.spec_from_file_location("autodiff_examples", HERE / "regenerate.py")
regenerate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regenerate)


@pytest.mark.parametrize("name", sorted(regenerate.EXAMPLES))
def test_example_file_matches_its_command(name):
    result = CliRunner().invoke(build_cli(), regenerate.EXAMPLES[name])
    assert result.exit_code == 0, result.output
    assert (HERE / name).read_text(encoding="utf-8") == result.output, (
        f"{name} is out of date: run python examples/autodiff/regenerate.py")


def test_readme_lists_every_command():
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    for args in regenerate.EXAMPLES.values():
        assert regenerate.command_line(args) in readme


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
