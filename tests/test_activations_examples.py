"""examples/activations/: the sample network is what sample_weights.py writes, and the files
that q3.md's `cnnplan convert -o` commands wrote follow the conversion rules (computed here
with plain numpy). The transcripts themselves are checked by tests/test_transcripts.py."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "activations"


def load(name: str) -> dict:
    path = EXAMPLES / name
    if path.suffix == ".json":
        return {k: np.array(v, dtype=float) for k, v in json.loads(path.read_text()).items()}
    with np.load(path) as npz:
        return {k: npz[k] for k in npz.files}


def sample() -> dict:
    spec = importlib.util.spec_from_file_location("activations_sample",
                                                  EXAMPLES / "sample_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(zip(("W1", "b1", "W2", "b2"), module.sample_network()))


def test_sample_weights_are_up_to_date():
    expected = sample()
    for name in ("sigmoid_net.json", "sigmoid_net.npz"):
        got = load(name)
        assert sorted(got) == sorted(expected), name
        assert all(np.array_equal(got[k], expected[k]) for k in expected), (
            f"{name} is stale: run python examples/activations/sample_weights.py")


def test_converted_weight_files_follow_the_rules():
    s = sample()
    tanh = {"W1": s["W1"] / 2, "b1": s["b1"] / 2, "W2": s["W2"] / 2,
            "b2": s["b2"] + 0.5 * s["W2"].sum(axis=1)}
    for name in ("tanh_net.json", "tanh_net.npz"):
        got = load(name)
        for key in tanh:
            assert np.allclose(got[key], tanh[key], rtol=1e-15, atol=1e-15), (name, key)
    again = load("sigmoid_net_again.json")
    for key in s:
        assert np.allclose(again[key], s[key], rtol=1e-15, atol=1e-15), key


def test_examples_cover_questions_1_to_3_with_the_corrected_statements():
    text = {n: (EXAMPLES / n).read_text() for n in ("q1.md", "q2.md", "q3.md")}
    commands = {n: re.findall(r"^\$ (cnnplan .*)$", t, re.M) for n, t in text.items()}
    checked = {c.split()[3] for cs in commands.values() for c in cs if c.startswith(
        "cnnplan identity check ")}
    from cnnplan_activations.identities import BY_NAME

    assert checked == set(BY_NAME)
    assert "integral of H(t) dt from -inf to x" in text["q1.md"]
    assert "the upper limit must be x" in text["q1.md"]
    assert "softmax([1000, 1001])" in text["q2.md"] and "0.7310585786" in text["q2.md"]
    assert "b2' = b2 + 1/2 sum_j W2[:, j]" in text["q3.md"] and "new bias" in text["q3.md"]
    assert sum(c.startswith("cnnplan convert") for c in commands["q3.md"]) == 3
