"""The sigmoid <-> tanh converter on random networks of random sizes, both directions and round
trip, each network evaluated independently (scipy/numpy here, PyTorch as the oracle)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from cnnplan import BadInput, run_solver
from cnnplan.cli import build_cli
from cnnplan_activations import network, weights
from cnnplan_activations.network import Network

FAST = settings(max_examples=30, deadline=None)
ACT = {"sigmoid": expit, "tanh": np.tanh}


def numpy_outputs(params, activation, x):
    """y_k = sum_j W2[k, j] act(sum_i W1[j, i] x_i + b1[j]) + b2[k], written out with einsum."""
    W1, b1, W2, b2 = (np.asarray(p, dtype=float) for p in params)
    hidden = ACT[activation](np.einsum("ji,ni->nj", W1, x) + b1)
    return np.einsum("kj,nj->nk", W2, hidden) + b2


def torch_outputs(torch, params, activation, x):
    W1, b1, W2, b2 = (torch.tensor(np.asarray(p, dtype=float), dtype=torch.float64) for p in params)
    act = torch.sigmoid if activation == "sigmoid" else torch.tanh
    t = torch.tensor(x, dtype=torch.float64)
    return torch.nn.functional.linear(act(torch.nn.functional.linear(t, W1, b1)), W2, b2).numpy()


@st.composite
def networks(draw):
    d, m, k = (draw(st.integers(1, 12)) for _ in range(3))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([0.01, 0.3, 1.0, 5.0, 30.0]))
    rng = np.random.default_rng(seed)
    net = Network(*(scale * rng.standard_normal(s) for s in ((m, d), (m,), (k, m), (k,))))
    x = 3 * rng.standard_normal((16, d))
    return net, x


def assert_same_outputs(y, y2):
    scale = max(float(np.max(np.abs(y))), 1e-300)
    assert float(np.max(np.abs(y - y2))) / scale <= 1e-12


@given(networks())
@FAST
def test_both_directions_by_numpy(case):
    net, x = case
    as_tanh = network.convert(net, "sigmoid", "tanh")
    assert_same_outputs(numpy_outputs(net, "sigmoid", x), numpy_outputs(as_tanh, "tanh", x))
    as_sigmoid = network.convert(net, "tanh", "sigmoid")
    assert_same_outputs(numpy_outputs(net, "tanh", x), numpy_outputs(as_sigmoid, "sigmoid", x))


@pytest.mark.oracle
@given(networks())
@FAST
def test_both_directions_by_torch(torch, case):
    net, x = case
    as_tanh = network.sigmoid_to_tanh(net)
    assert_same_outputs(torch_outputs(torch, net, "sigmoid", x),
                        torch_outputs(torch, as_tanh, "tanh", x))
    as_sigmoid = network.tanh_to_sigmoid(net)
    assert_same_outputs(torch_outputs(torch, net, "tanh", x),
                        torch_outputs(torch, as_sigmoid, "sigmoid", x))


@given(networks())
@FAST
def test_round_trip_restores_the_parameters(case):
    net, _ = case
    for there, back in ((network.sigmoid_to_tanh, network.tanh_to_sigmoid),
                        (network.tanh_to_sigmoid, network.sigmoid_to_tanh)):
        again = back(there(net))
        for p, q in zip(net[:3], again[:3]):
            assert np.array_equal(p, q)      # halving and doubling are exact in binary
        assert np.allclose(again.b2, net.b2, rtol=1e-15, atol=1e-15 * np.abs(net.W2).sum())


def test_the_issues_formulas_on_a_hand_example():
    net = Network(np.array([[2.0, -4.0]]), np.array([6.0]), np.array([[2.0], [-8.0]]),
                  np.array([1.0, 1.0]))
    t = network.sigmoid_to_tanh(net)
    assert t.W1.tolist() == [[1.0, -2.0]] and t.b1.tolist() == [3.0]
    assert t.W2.tolist() == [[1.0], [-4.0]] and t.b2.tolist() == [2.0, -3.0]   # b2 + W2/2 summed
    # the sheet's last line read literally (output bias left as it was) is not equivalent
    x = np.array([[0.3, -0.2]])
    wrong = t._replace(b2=net.b2)
    assert not np.allclose(numpy_outputs(net, "sigmoid", x), numpy_outputs(wrong, "tanh", x))


# Files ---------------------------------------------------------------------------------------

def small_network(seed=0, d=3, m=4, k=2):
    rng = np.random.default_rng(seed)
    return Network(rng.normal(size=(m, d)), rng.normal(size=m), rng.normal(size=(k, m)),
                   rng.normal(size=k))


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_save_then_load_is_exact(tmp_path, suffix):
    net = small_network()
    weights.save(net, tmp_path / f"w{suffix}").commit()
    loaded, extra = weights.load(tmp_path / f"w{suffix}")
    assert extra == []
    for p, q in zip(net, loaded):
        assert np.array_equal(p, q)
    assert not list(tmp_path.glob(".*tmp*"))


def write_json(path, net):
    path.write_text(json.dumps({k: v.tolist() for k, v in zip(network.KEYS, net)}))
    return path


@pytest.mark.oracle
@pytest.mark.parametrize("source,target", [("sigmoid", "tanh"), ("tanh", "sigmoid")])
@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_convert_command_writes_an_equivalent_network(torch, tmp_path, source, target, suffix):
    net = small_network(seed=4, d=5, m=7, k=3)
    src = tmp_path / f"net{suffix}"
    weights.save(net, src).commit()
    out = tmp_path / f"out{suffix}"
    result = CliRunner().invoke(build_cli(), ["convert", "--from", source, "--to", target,
                                              str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "equivalent" in result.stdout and "max |y - y'|" in result.stdout
    converted, _ = weights.load(out)
    x = np.random.default_rng(1).standard_normal((50, 5))
    assert_same_outputs(torch_outputs(torch, net, source, x),
                        torch_outputs(torch, converted, target, x))


def test_convert_json_output_carries_the_numbers(tmp_path):
    src = write_json(tmp_path / "net.json", small_network())
    result = CliRunner().invoke(build_cli(), ["convert", "--from", "sigmoid", "--to", "tanh",
                                              str(src), "--format", "json"])
    doc = json.loads(result.stdout)
    assert doc["check"]["passed"] is True and doc["check"]["tolerance"] == 1e-9
    assert doc["check"]["relative_error"] < 1e-12 and doc["output"] is None
    assert doc["transformation"]["b2"] == "b2' = b2 + 1/2 sum_j W2[:, j]"
    expected = network.sigmoid_to_tanh(small_network())
    assert np.array_equal(np.array(doc["parameters"]["W1"]), expected.W1)
    assert not (tmp_path / "out.json").exists()


def test_convert_renders_in_every_core_format(tmp_path):
    src = write_json(tmp_path / "net.json", small_network())
    for fmt in ("table", "markdown", "latex", "csv", "json"):
        result = CliRunner().invoke(build_cli(), ["convert", "--from", "tanh", "--to", "sigmoid",
                                                  str(src), "--format", fmt])
        assert result.exit_code == 0, (fmt, result.output)
    latex = CliRunner().invoke(build_cli(), ["convert", "--from", "tanh", "--to", "sigmoid",
                                             str(src), "--format", "latex"]).stdout
    assert r"$b_2' = b_2 - \textstyle\sum_j W_2[:, j]$" in latex


def test_extra_arrays_are_reported_and_not_copied(tmp_path):
    net = small_network()
    np.savez(tmp_path / "net.npz", **dict(zip(network.KEYS, net)), note=np.arange(3))
    result = run_solver("activation-convert", weights=str(tmp_path / "net.npz"),
                        source="sigmoid", target="tanh", output=str(tmp_path / "out.npz"))
    assert result.data["ignored"] == ["note"] and "Ignored arrays" in result.notes[0]
    with np.load(tmp_path / "out.npz") as npz:
        assert sorted(npz.files) == sorted(network.KEYS)


def test_library_call_with_arrays_in_memory():
    net = small_network()
    result = run_solver("activation-convert", weights=dict(zip(network.KEYS, net)),
                        source="sigmoid", target="tanh", samples=20, seed=2)
    assert result.exit_code == 0 and result.data["weights"] == "(in memory)"
    with pytest.raises(BadInput, match="lacks b2"):
        run_solver("activation-convert", weights={"W1": [[1.0]], "b1": [0.0], "W2": [[1.0]]})


def test_a_failed_check_exits_1_and_writes_nothing(tmp_path, monkeypatch):
    wrong = lambda net: network.Network(net.W1 / 2, net.b1 / 2, net.W2 / 2, net.b2)  # noqa: E731
    monkeypatch.setitem(network.CONVERSIONS, ("sigmoid", "tanh"),
                        (wrong, *network.CONVERSIONS[("sigmoid", "tanh")][1:]))
    src = write_json(tmp_path / "net.json", small_network())
    result = CliRunner().invoke(build_cli(), ["convert", "--from", "sigmoid", "--to", "tanh",
                                              str(src), "-o", str(tmp_path / "out.json")])
    assert result.exit_code == 1
    assert "NOT equivalent" in result.stdout and "nothing (check failed)" in result.stdout
    assert not (tmp_path / "out.json").exists()


def test_an_unknown_format_is_refused_before_anything_is_written(tmp_path):
    src = write_json(tmp_path / "net.json", small_network())
    result = CliRunner().invoke(build_cli(), ["convert", "--from", "sigmoid", "--to", "tanh",
                                              str(src), "-o", str(tmp_path / "out.json"),
                                              "--format", "pdf"])
    assert result.exit_code == 2 and "unknown format 'pdf'" in result.output
    assert not (tmp_path / "out.json").exists()


def test_batched_comparison_matches_one_batch(monkeypatch):
    net = small_network(seed=3, d=6, m=5, k=4)
    other = network.sigmoid_to_tanh(net)
    whole = np.random.default_rng(8).standard_normal((37, 6))
    batches = list(network.random_inputs(np.random.default_rng(8), 37, 6, rows=5))
    assert [len(b) for b in batches] == [5] * 7 + [2]
    assert np.array_equal(np.concatenate(batches), whole)
    assert network.compare(net, "sigmoid", other, "tanh", iter(batches)) == \
        network.compare(net, "sigmoid", other, "tanh", whole)
    monkeypatch.setattr(network, "BATCH_VALUES", 12)     # 2 inputs per batch for these sizes
    assert network.batch_rows(net) == 2
    a = run_solver("activation-convert", weights=dict(zip(network.KEYS, net)), samples=37)
    monkeypatch.setattr(network, "BATCH_VALUES", 2**21)
    b = run_solver("activation-convert", weights=dict(zip(network.KEYS, net)), samples=37)
    assert a.data["check"] == b.data["check"]


def test_a_nan_output_is_a_failure_not_a_pass():
    check = network.agreement(float("nan"), 1.0)
    assert not check.passed
