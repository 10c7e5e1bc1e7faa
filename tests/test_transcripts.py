"""Every console transcript in README.md, docs/ and examples/, and every example file listed in
an examples/*/outputs.toml, is what the command prints today."""

from __future__ import annotations

import glob
import os
import re

import pytest

from transcripts import blocks, manifest, run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKDOWN = sorted(
    [os.path.join(ROOT, "README.md")]
    + glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True)
    + glob.glob(os.path.join(ROOT, "examples", "**", "*.md"), recursive=True)
)
MANIFESTS = sorted(glob.glob(os.path.join(ROOT, "examples", "**", "outputs.toml"), recursive=True))
#: A number below 1e-12 written in full (JSON keeps residuals exact) is rounding noise, which
#: differs between machines' floating-point libraries: compared as noise, not digit by digit.
NOISE = re.compile(r"-?\d+(?:\.\d+)?e-(?:1[3-9]|[2-9]\d|\d{3,})")


def noise_free(text: str) -> str:
    """`text` with every number below 1e-12 in scientific notation written as <noise>.

    >>> noise_free('"max_abs_error": 4.440892098500626e-16, "x": 2e-05')
    '"max_abs_error": <noise>, "x": 2e-05'
    """
    return NOISE.sub("<noise>", text)


def _marks(command: str):
    """`cnnplan import` needs torch: an oracle test (skipped without torch, which CI forbids)."""
    return [pytest.mark.oracle] if command.startswith("cnnplan import") else []


def _needs(command: str):
    if command.startswith("cnnplan import"):
        pytest.importorskip("torch")


TRANSCRIPTS = [
    pytest.param(path, command, expected, id=f"{os.path.relpath(path, ROOT)}: {command[:60]}",
                 marks=_marks(command))
    for path in MARKDOWN
    for _, _, runs in blocks(open(path, encoding="utf-8").read())
    for command, expected in runs
]
FILES = [
    pytest.param(os.path.join(os.path.dirname(path), name), command,
                 id=os.path.relpath(os.path.join(os.path.dirname(path), name), ROOT),
                 marks=_marks(command))
    for path in MANIFESTS
    for name, command in manifest(path).items()
]


@pytest.mark.parametrize("path, command, expected", TRANSCRIPTS)
def test_transcript(path, command, expected):
    _needs(command)
    assert noise_free(run(command)) == noise_free(expected.rstrip("\n")), (
        f"out of date: run `python tests/transcripts.py {os.path.relpath(path, ROOT)}`")


@pytest.mark.parametrize("path, command", FILES)
def test_example_file(path, command):
    _needs(command)
    with open(path, encoding="utf-8") as handle:
        shown = handle.read()
    manifest_path = os.path.relpath(os.path.join(os.path.dirname(path), "outputs.toml"), ROOT)
    assert noise_free(run(command, terminal=False)) == noise_free(shown), (
        f"out of date: run `python tests/transcripts.py {manifest_path}`")


def python_blocks(path):
    text = open(path, encoding="utf-8").read()
    return [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]
PYTHON_PAGES = ("README.md", "docs/solve.md")


@pytest.mark.parametrize("code", [code for page in PYTHON_PAGES
                                  for code in python_blocks(os.path.join(ROOT, page))])
def test_readme_python_runs_and_comments_hold(code):
    """Each python block of README and docs/solve.md runs; a trailing `# value` comment on a
    line is its result."""
    namespace: dict = {}
    for line in code.splitlines():
        statement, _, comment = line.partition("  # ")
        if not statement.strip():
            continue
        if comment and not statement.startswith(("import", "from", " ")) and "=" not in statement.split("(")[0]:
            value = eval(statement, namespace)  # trusted: the repository's own README
            shown = comment.strip()
            if shown.endswith("...}"):
                assert repr(value).startswith(shown[:-4].rstrip(", "))
            elif shown[0].isdigit() or shown[0] in "[{'":
                assert repr(value) == shown
        else:
            exec(statement, namespace)  # trusted: the repository's own README


def test_noise_is_only_what_is_below_1e_12():
    assert noise_free("4.440892098500626e-16 1e-12 3.5e-13 -2.1e-100 1.5e-05 12e-3") == \
        "<noise> 1e-12 <noise> <noise> 1.5e-05 12e-3"
