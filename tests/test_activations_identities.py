"""The identities of questions 1-3, against computations this plugin did not write:
numpy/scipy, plain-Python math, and PyTorch's sigmoid, tanh, softmax and autograd (oracles)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnplan import run_solver
from cnnplan.cli import build_cli
from cnnplan_activations import checks, functions
from cnnplan_activations.identities import IDENTITIES, BY_NAME

FAST = settings(max_examples=40, deadline=None)
finite = st.floats(-1e3, 1e3, allow_nan=False)


def invoke(*args):
    return CliRunner().invoke(build_cli(), list(args))


def torch64(torch, values):
    return torch.tensor(np.asarray(values, dtype=float), dtype=torch.float64)


# The catalogue --------------------------------------------------------------------------

def test_every_identity_has_a_check_and_a_latex_statement():
    assert list(checks.CHECKS) == [i.name for i in IDENTITIES]
    for identity in IDENTITIES:
        assert identity.statement and identity.latex and identity.question[0] in "123"
    assert {i.question for i in IDENTITIES} == {"1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4",
                                                "3"}


def test_the_sheets_errors_are_recorded_where_the_seed_readme_says():
    assert "upper limit must be x" in BY_NAME["relu-step-integral"].sheet
    assert "new bias" in BY_NAME["network-sigmoid-tanh"].sheet
    assert "m tied maxima get 1/m each" in BY_NAME["softmax-scale"].sheet
    assert not BY_NAME["relu-derivative"].sheet and not BY_NAME["sigmoid-tanh"].sheet
    # the corrected statements, not the sheet's
    assert r"\int_{-\infty}^{x}" in BY_NAME["relu-step-integral"].latex
    assert "b2' = b2 + 1/2 sum_j W2[:, j]" in BY_NAME["network-sigmoid-tanh"].statement


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_every_check_passes(seed):
    for identity in IDENTITIES:
        rng = np.random.default_rng(seed)
        evidence = checks.CHECKS[identity.name](rng, 300)
        assert evidence.passed, identity.name
        assert evidence.max_error <= evidence.tolerance


def test_a_check_with_one_sample_works():
    result = run_solver("identity-check", identity="all", samples=1, seed=3)
    assert result.exit_code == 0 and result.data["passed"]


# The functions against independent implementations ----------------------------------------

def test_heaviside_relu_against_numpy():
    x = np.array([-3.0, -1e-300, -0.0, 0.0, 1e-300, 2.5])
    assert np.array_equal(functions.heaviside(x), np.heaviside(x, 0.5))
    assert np.array_equal(functions.relu(x), np.where(x > 0, x, 0.0))


@pytest.mark.oracle
def test_sigmoid_tanh_softmax_against_torch(torch):
    x = np.concatenate([np.linspace(-800, 800, 1601), [0.0, 1e-12, -1e-12]])
    with np.errstate(over="raise", invalid="raise"):  # the stable sigmoid must not overflow
        ours = functions.sigmoid(x)
    assert np.allclose(ours, torch.sigmoid(torch64(torch, x)).numpy(), rtol=1e-15, atol=1e-300)
    assert np.allclose(functions.tanh(x), torch.tanh(torch64(torch, x)).numpy(), rtol=0, atol=5e-16)
    rng = np.random.default_rng(7)
    v = rng.uniform(-500, 500, (200, 6))
    with np.errstate(over="raise", invalid="raise"):
        ours = functions.softmax(v)
    assert np.allclose(ours, torch.softmax(torch64(torch, v), dim=-1).numpy(), rtol=1e-12,
                       atol=1e-300)


@pytest.mark.oracle
def test_softmax_1000_1001_works_and_the_textbook_formula_does_not(torch):
    stable = functions.softmax([1000.0, 1001.0])
    expected = torch.softmax(torch64(torch, [1000.0, 1001.0]), dim=0).numpy()
    assert np.allclose(stable, expected, rtol=1e-15)
    assert abs(stable[0] - 1 / (1 + math.e)) < 1e-15
    assert np.all(np.isnan(functions.softmax_textbook([1000.0, 1001.0])))
    evidence = checks.check_softmax_shift(np.random.default_rng(0), 50)
    demo = evidence.data["softmax_1000_1001"]
    assert np.allclose(demo["stable"], expected, rtol=1e-15)
    assert all(math.isnan(v) for v in demo["textbook"])


# Question 1 -------------------------------------------------------------------------------

@pytest.mark.oracle
def test_relu_derivative_is_heaviside_by_autograd(torch):
    x = np.random.default_rng(1).uniform(-10, 10, 500)
    t = torch64(torch, x).requires_grad_()
    torch.relu(t).sum().backward()
    assert np.array_equal(t.grad.numpy(), np.heaviside(x, 0.5))  # x != 0 almost surely


def test_relu_one_sided_quotients_at_zero_are_0_and_1():
    evidence = checks.check_relu_derivative(np.random.default_rng(0), 100)
    for row in evidence.data["at_zero"]:
        h = row["eps"]
        assert row["left"] == (max(0.0, 0.0) - max(0.0, -h)) / h == 0.0
        assert row["right"] == (max(0.0, h) - max(0.0, 0.0)) / h == 1.0
    # so the derivative does not exist at 0; H(0) = 1/2 is the mean of the one-sided ones
    assert np.heaviside(0.0, 0.5) == (0.0 + 1.0) / 2


@given(finite)
@FAST
def test_relu_is_x_times_heaviside(x):
    assert max(0.0, x) == x * float(np.heaviside(x, 0.5))


def test_relu_is_the_integral_of_heaviside_up_to_x_by_scipy():
    from scipy.integrate import quad

    for x in (-7.5, -1.0, 0.0, 0.3, 4.0, 9.9):
        value, _ = quad(lambda t: np.heaviside(t, 0.5), -20.0, x, points=[0.0] if x > 0 else None)
        assert value == pytest.approx(max(0.0, x), abs=1e-10)
        assert float(checks.integral_of_step(np.array(-20.0), np.array(x))) == pytest.approx(
            value, abs=1e-12)


def test_the_sheets_upper_limit_plus_infinity_diverges():
    from scipy.integrate import quad

    values = [quad(lambda t: np.heaviside(t, 0.5), -L, L, points=[0.0])[0] for L in (1, 10, 100)]
    assert values == pytest.approx([1, 10, 100])       # grows with L: no finite limit
    rows = checks.check_relu_step_integral(np.random.default_rng(0), 10).data
    assert [r["integral"] for r in rows["sheet_upper_limit_inf"]] == pytest.approx(
        [r["L"] for r in rows["sheet_upper_limit_inf"]])


@pytest.mark.oracle
def test_sigmoid_of_kx_tends_to_heaviside_pointwise_not_uniformly(torch):
    x = np.array([-2.0, -0.1, 0.0, 0.1, 2.0])
    for k in (1e3, 1e4):
        s = torch.sigmoid(torch64(torch, k * x)).numpy()
        assert np.max(np.abs(s - np.heaviside(x, 0.5))) < 1e-40
    for k in (1.0, 10.0, 1e3, 1e6):   # at x = 1/k the error never shrinks; near 0 it is ~1/2
        at = torch.sigmoid(torch64(torch, [k * (1 / k), k * (1e-6 / k)])).numpy()
        assert abs(at[0] - 1) == pytest.approx(1 / (1 + math.e))
        assert abs(at[1] - 1) > 0.4999
    rows = checks.check_sigmoid_step_limit(np.random.default_rng(0), 200).data["by_k"]
    for row in rows:
        assert row["error_at_1_over_k"] == pytest.approx(1 / (1 + math.e), abs=1e-15)
        assert row["error_at_0"] == 0.0
        away = math.exp(-row["k"] * 0.1) / (1 + math.exp(-row["k"] * 0.1))  # sup, |x| >= 0.1
        assert row["max_error_away"] == pytest.approx(away, rel=1e-12, abs=1e-300)


# Question 2 -------------------------------------------------------------------------------

vectors = st.lists(st.floats(-50, 50, allow_nan=False), min_size=2, max_size=8)


@pytest.mark.oracle
@given(vectors, st.floats(-1e3, 1e3, allow_nan=False))
@FAST
def test_softmax_shift_invariance_by_torch(torch, x, c):
    a = torch.softmax(torch64(torch, np.array(x) + c), dim=0).numpy()
    b = torch.softmax(torch64(torch, x), dim=0).numpy()
    assert np.max(np.abs(a - b)) < 1e-11
    assert np.max(np.abs(functions.softmax(np.array(x) + c) - b)) < 1e-11


@pytest.mark.oracle
def test_softmax_scale_cases_by_torch(torch):
    x = [1.0, 3.0, 3.0, 2.0]
    s = lambda c: torch.softmax(torch64(torch, np.array(x) * c), dim=0).numpy()  # noqa: E731
    assert np.max(np.abs(s(2.0) - s(1.0))) > 0.05                 # not scale-invariant
    assert np.allclose(s(0.0), 0.25, rtol=0, atol=1e-16)          # c = 0: uniform
    assert np.allclose(s(1000.0), [0, 0.5, 0.5, 0], rtol=0, atol=1e-300)  # ties share
    assert np.allclose(s(1000.0)[[0, 3]], 0) and s(1000.0)[1] == 0.5
    # the sheet's "x_i > x_j => S_i -> 1" needs x_i > x_j for all j: 2 > 1 yet S_4 -> 0
    assert s(1000.0)[3] == 0.0
    assert np.array_equal(checks.argmax_share(np.array(x)), [0, 0.5, 0.5, 0])


@given(st.lists(st.integers(0, 4), min_size=2, max_size=8))
@FAST
def test_argmax_share_by_counting(ints):
    top = max(ints)
    expected = [1 / ints.count(top) if v == top else 0.0 for v in ints]
    assert checks.argmax_share(np.array(ints, dtype=float)).tolist() == expected


@pytest.mark.oracle
@given(finite, finite)
@FAST
def test_two_class_softmax_is_a_sigmoid_by_torch(torch, x1, x2):
    s = torch.softmax(torch64(torch, [x1, x2]), dim=0).numpy()
    z = torch.sigmoid(torch64(torch, [x1 - x2])).numpy()[0]
    assert abs(s[0] - z) < 1e-12 and abs(s[1] - (1 - z)) < 1e-12


@pytest.mark.oracle
@given(vectors)
@FAST
def test_k_minus_1_numbers_suffice_by_torch(torch, x):
    x = np.array(x)
    reduced = np.concatenate([[0.0], x[1:] - x[0]])
    a = torch.softmax(torch64(torch, x), dim=0).numpy()
    b = torch.softmax(torch64(torch, reduced), dim=0).numpy()
    assert np.max(np.abs(a - b)) < 1e-12


# Question 3 -------------------------------------------------------------------------------

@pytest.mark.oracle
@given(st.floats(-700, 700, allow_nan=False))
@FAST
def test_sigmoid_is_half_tanh_of_half_plus_half_by_torch(torch, a):
    sig = torch.sigmoid(torch64(torch, [a])).item()
    assert abs(sig - (math.tanh(a / 2) + 1) / 2) < 1e-15
    assert abs(math.tanh(a) - (2 * torch.sigmoid(torch64(torch, [2 * a])).item() - 1)) < 1e-15


# Failures are reported: a wrong function makes the check fail and the command exit 1 ------

def test_a_wrong_identity_fails_with_exit_1(monkeypatch):
    monkeypatch.setattr(checks, "sigmoid", lambda a: (functions.tanh(a) + 1) / 2)  # no a/2
    result = invoke("identity", "check", "sigmoid-tanh")
    assert result.exit_code == 1
    assert "FAILS" in result.stdout
    all_result = invoke("identity", "check", "all", "--format", "json")
    assert all_result.exit_code == 1
    doc = json.loads(all_result.stdout)
    assert doc["passed"] is False
    failed = {i["name"] for i in doc["identities"] if not i["passed"]}
    assert "sigmoid-tanh" in failed


# The commands -------------------------------------------------------------------------------

def test_identity_list_in_every_format():
    for fmt in ("table", "markdown", "csv"):
        result = invoke("identity", "list", "--format", fmt)
        assert result.exit_code == 0 and "relu-step-integral" in result.stdout
    latex = invoke("identity", "list", "--format", "latex").stdout
    assert r"$\max(0, x) = \int_{-\infty}^{x} H(t)\,dt$" in latex
    doc = json.loads(invoke("identity", "list", "--format", "json").stdout)
    assert [d["name"] for d in doc] == [i.name for i in IDENTITIES]


def test_identity_check_single_shows_statement_evidence_verdict():
    result = invoke("identity", "check", "sigmoid-step-limit")
    assert result.exit_code == 0
    out = result.stdout
    assert "statement:" in out and "tolerance:" in out and "verdict:" in out and "holds" in out
    assert "error at x = 1/k" in out and "Not uniform near 0" in out
    latex = invoke("identity", "check", "sigmoid-step-limit", "--format", "latex").stdout
    assert r"\item[statement] $\lim_{k \to \infty} \frac{1}{1 + e^{-kx}} = H(x)$" in latex


def test_identity_check_all_json_carries_the_numbers_and_is_reproducible():
    a = invoke("identity", "check", "all", "--samples", "200", "--seed", "9", "--format", "json")
    b = invoke("identity", "check", "all", "--samples", "200", "--seed", "9", "--format", "json")
    assert a.exit_code == 0 and a.stdout == b.stdout
    doc = json.loads(a.stdout)
    assert doc["samples"] == 200 and doc["seed"] == 9 and doc["passed"] is True
    assert len(doc["identities"]) == len(IDENTITIES)
    one = json.loads(invoke("identity", "check", "softmax-scale", "--samples", "200", "--seed",
                            "9", "--format", "json").stdout)
    same = [i for i in doc["identities"] if i["name"] == "softmax-scale"]
    assert one["identities"] == same          # a check's numbers do not depend on its company


def test_identity_check_renders_in_every_core_format():
    for fmt in ("table", "markdown", "latex", "csv", "json"):
        result = invoke("identity", "check", "all", "--samples", "50", "--format", fmt)
        assert result.exit_code == 0, (fmt, result.output)


def test_solvers_are_registered_and_callable():
    result = run_solver("identity-check", identity="relu-x-step", samples=10)
    assert result.exit_code == 0 and result.fact("verdict") == "holds"
    assert run_solver("identity-list").data[0]["name"] == "relu-derivative"
