"""examples/activations/ is what the real commands print today (regenerate.py rebuilds it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "activations"
HANDWRITTEN = {"README.md", "regenerate.py"}


def load_generator():
    spec = importlib.util.spec_from_file_location("activations_examples",
                                                  EXAMPLES / "regenerate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_examples_are_up_to_date(tmp_path):
    written = load_generator().regenerate(tmp_path)
    names = {p.name for p in written}
    committed = {p.name for p in EXAMPLES.iterdir() if p.is_file()} - HANDWRITTEN
    assert names == committed, "run: python examples/activations/regenerate.py"
    for name in sorted(names):
        fresh, kept = tmp_path / name, EXAMPLES / name
        if name.endswith(".npz"):
            with np.load(fresh) as a, np.load(kept) as b:
                assert sorted(a.files) == sorted(b.files), name
                assert all(np.array_equal(a[k], b[k]) for k in a.files), name
        else:
            assert fresh.read_text() == kept.read_text(), (
                f"{name} is out of date; run: python examples/activations/regenerate.py")


def test_examples_show_the_corrected_statements():
    q1, q3 = (EXAMPLES / "q1.md").read_text(), (EXAMPLES / "q3.md").read_text()
    assert "integral of H(t) dt from -inf to x" in q1 and "the upper limit must be x" in q1
    assert "b2' = b2 + 1/2 sum_j W2[:, j]" in q3 and "it must be the new bias" in q3
    assert "softmax([1000, 1001])" in (EXAMPLES / "q2.md").read_text()
