"""Regenerate this directory from the real commands (run from anywhere):

    python examples/activations/regenerate.py

Writes the sample sigmoid network (sigmoid_net.json / .npz), then runs each command below
with this directory as the working directory and saves its output. A test
(tests/test_activations_examples.py) regenerates into a temporary directory and checks that
the committed files are identical.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (file, heading, [(subheading, command), ...]); outputs go in as rendered markdown.
QUESTIONS = (
    ("q1.md", "Question 1: the ReLU, the Heaviside step and the sigmoid", (
        ("1.1 The derivative of max(0, x) is H(x) wherever it exists",
         "cnnplan identity check relu-derivative --format markdown"),
        ("1.2 max(0, x) = x H(x)", "cnnplan identity check relu-x-step --format markdown"),
        ("1.2 max(0, x) = integral of H from -inf to x (the sheet's upper limit +inf is wrong)",
         "cnnplan identity check relu-step-integral --format markdown"),
        ("1.3 sigmoid(kx) tends to H(x) as k grows",
         "cnnplan identity check sigmoid-step-limit --format markdown"),
    )),
    ("q2.md", "Question 2: softmax", (
        ("2.1 Shift invariance, and the stable softmax([1000, 1001])",
         "cnnplan identity check softmax-shift --format markdown"),
        ("2.2 No scale invariance; c = 0 and c -> inf",
         "cnnplan identity check softmax-scale --format markdown"),
        ("2.3 Two classes: softmax is a sigmoid of x1 - x2",
         "cnnplan identity check softmax-two-class --format markdown"),
        ("2.4 K classes need only K - 1 numbers",
         "cnnplan identity check softmax-k-minus-1 --format markdown"),
    )),
    ("q3.md", "Question 3: every sigmoid network has an equivalent tanh network", (
        ("The scalar identity", "cnnplan identity check sigmoid-tanh --format markdown"),
        ("Random networks, both directions and round trip (the sheet's b2' symbol is wrong)",
         "cnnplan identity check network-sigmoid-tanh --format markdown"),
        ("Converting the sample network (JSON)",
         "cnnplan convert --from sigmoid --to tanh sigmoid_net.json -o tanh_net.json "
         "--format markdown"),
        ("And back",
         "cnnplan convert --from tanh --to sigmoid tanh_net.json -o sigmoid_net_again.json "
         "--format markdown"),
        ("The same network as .npz",
         "cnnplan convert --from sigmoid --to tanh sigmoid_net.npz -o tanh_net.npz "
         "--format markdown"),
    )),
)
SINGLE = (
    ("identities.tex", "cnnplan identity list --format latex"),
    ("all.json", "cnnplan identity check all --format json"),
)
GENERATED_WEIGHTS = ("tanh_net.json", "sigmoid_net_again.json", "tanh_net.npz")
SAMPLE_SEED = 5   # the sample network: D = 3 inputs, M = 4 hidden units, K = 2 outputs


def sample_network() -> dict:
    """A small sigmoid network with 3-decimal weights (easy to read in JSON)."""
    import numpy as np

    rng = np.random.default_rng(SAMPLE_SEED)
    shapes = {"W1": (4, 3), "b1": (4,), "W2": (2, 4), "b2": (2,)}
    return {key: np.round(rng.normal(0.0, 1.5, shape), 3) for key, shape in shapes.items()}


def write_sample_weights(directory: Path) -> None:
    import numpy as np

    net = sample_network()
    np.savez(directory / "sigmoid_net.npz", **net)
    doc = {key: value.tolist() for key, value in net.items()}
    (directory / "sigmoid_net.json").write_text(json.dumps(doc, indent=2) + "\n")


@contextmanager
def working_directory(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run(command: str) -> str:
    """The stdout of `command` (a `cnnplan ...` line), run in-process; it must exit 0."""
    from click.testing import CliRunner

    from cnnplan.cli import build_cli

    args = shlex.split(command)
    assert args[0] == "cnnplan", command
    result = CliRunner().invoke(build_cli(), args[1:])
    if result.exit_code != 0:
        raise RuntimeError(f"{command!r} exited {result.exit_code}: {result.output}")
    return result.stdout


def same_arrays(a: Path, b: Path) -> bool:
    import numpy as np

    with np.load(a) as x, np.load(b) as y:
        return sorted(x.files) == sorted(y.files) and all(
            np.array_equal(x[k], y[k]) for k in x.files)


@contextmanager
def keeping_unchanged_npz(directory: Path):
    """.npz archives carry write times; keep the old bytes when the arrays did not change."""
    old = {p: p.read_bytes() for p in directory.glob("*.npz")}
    yield
    for path, content in old.items():
        if path.exists() and path.read_bytes() != content:
            previous = path.with_name(path.name + ".previous")
            previous.write_bytes(content)
            try:
                if same_arrays(path, previous):
                    path.write_bytes(content)
            finally:
                previous.unlink()


def regenerate(directory: Path = HERE) -> list[Path]:
    """Write every example file into `directory`; returns the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with keeping_unchanged_npz(directory):
        return _regenerate(directory)


def _regenerate(directory: Path) -> list[Path]:
    write_sample_weights(directory)
    written = [directory / "sigmoid_net.npz", directory / "sigmoid_net.json"]
    with working_directory(directory):
        for name, heading, sections in QUESTIONS:
            parts = [f"# {heading}", "",
                     "Generated by `python examples/activations/regenerate.py`; do not edit."]
            for subheading, command in sections:
                parts += ["", f"## {subheading}", "", "```console", f"$ {command}", "```", "",
                          run(command).rstrip("\n").replace("### ", "#### ", 1)]
            (directory / name).write_text("\n".join(parts) + "\n")
            written.append(directory / name)
        for name, command in SINGLE:
            (directory / name).write_text(run(command))
            written.append(directory / name)
    return written + [directory / name for name in GENERATED_WEIGHTS]


if __name__ == "__main__":
    for path in regenerate(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(path)
