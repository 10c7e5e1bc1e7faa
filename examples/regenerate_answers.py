"""Rewrite examples/answers/ from the plan files here (python examples/regenerate_answers.py).

Each answer file starts with the command that produced it (`$ cnnplan ...`, or `# $ cnnplan
...` in the runnable .py snippets); tests/test_examples_networks.py runs every command again
and fails when an answer is out of date.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "examples" / "answers"

EXAMPLES = [
    ("q6.txt", "shapes examples/q6.toml"),
    ("q6_torch.py", "shapes examples/q6.toml --format torch"),
    ("q7_a.txt", "plan examples/q7_a.toml"),
    ("q7_b.txt", "plan examples/q7_b.toml"),
    ("q7_c.txt", "plan examples/q7_c.toml"),
    ("q7_2b.txt", "shapes examples/q7_2b.toml"),
    ("resnet_stem.txt", "shapes examples/resnet_stem.toml"),
    ("resnet_stem_torch.py", "shapes examples/resnet_stem.toml --format torch"),
    ("stem_plan.txt", "plan examples/stem_plan.toml"),
    ("stem_plan_rf.txt", "plan examples/stem_plan.toml --rank rf --top 3"),
    ("encoder_plan.txt", "plan examples/encoder_plan.toml"),
    ("encoder_plan_torch.py", "plan examples/encoder_plan.toml --format torch --top 1"),
]


def run(command: str) -> tuple[str, int]:
    """The output and exit code of `cnnplan COMMAND`, run in-process from the repository root."""
    import shlex

    from click.testing import CliRunner

    from cnnplan.cli import build_cli

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(build_cli(), shlex.split(command))
    finally:
        os.chdir(cwd)
    return result.output, result.exit_code


def render(name: str, command: str) -> str:
    output, code = run(command)
    head = f"# $ cnnplan {command}" if name.endswith(".py") else f"$ cnnplan {command}"
    text = f"{head}\n{output.rstrip()}\n"
    if code:
        text += f"[exit {code}]\n"
    return text


def main():
    sys.path.insert(0, str(ROOT))
    ANSWERS.mkdir(exist_ok=True)
    for name, command in EXAMPLES:
        (ANSWERS / name).write_text(render(name, command))
        print(f"wrote examples/answers/{name}")


if __name__ == "__main__":
    main()
