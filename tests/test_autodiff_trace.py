"""The autodiff plugin through the Python API: the survey's Tables 2 and 3 line for line, the
assignment's question 4 against hand-derived closed forms, and the trace's rules."""

from __future__ import annotations

import json
import math

import pytest

import cnnplan
from cnnplan_autodiff.solver import autodiff

SURVEY = "ln(x1) + x1*x2 - sin(x2)"
Q4 = "1/(x1+x2) + x2**2 + cos(x1)"


def ad(expression, at, **kwargs):
    return cnnplan.run_solver("ad", expression=expression, at=at, **kwargs)


def column(entries, key):
    return [e[key] for e in entries]


# ----- Baydin et al. (2018), Tables 2 and 3 -------------------------------------------------

def test_survey_values_to_four_decimals():
    data = ad(SURVEY, "x1=2,x2=5").data
    assert round(data["value"], 4) == 11.6521
    assert round(data["gradient"]["x1"], 4) == 5.5
    assert round(data["gradient"]["x2"], 4) == 1.7163
    assert data["derivative"] == pytest.approx(5.5)          # seed ẋ1 = 1 by default


def test_survey_closed_forms_full_precision():
    data = ad(SURVEY, {"x1": 2, "x2": 5}).data
    assert data["value"] == pytest.approx(math.log(2) + 10 - math.sin(5), rel=1e-15)
    assert data["gradient"]["x1"] == pytest.approx(1 / 2 + 5, rel=1e-15)
    assert data["gradient"]["x2"] == pytest.approx(2 - math.cos(5), rel=1e-15)


def test_survey_table2_forward_line_for_line():
    data = ad(SURVEY, "x1=2,x2=5", mode="forward", seed="x1=1,x2=0").data
    assert [(e["name"], e["definition"]) for e in data["primal"]] == [
        ("v-1", "x1"), ("v0", "x2"), ("v1", "ln v-1"), ("v2", "v-1 × v0"), ("v3", "sin v0"),
        ("v4", "v1 + v2"), ("v5", "v4 - v3"), ("y", "v5")]
    assert [(e["name"], e["rule"]) for e in data["tangent"]] == [
        ("v̇-1", "ẋ1"), ("v̇0", "ẋ2"), ("v̇1", "v̇-1 / v-1"), ("v̇2", "v̇-1 × v0 + v-1 × v̇0"),
        ("v̇3", "v̇0 × cos v0"), ("v̇4", "v̇1 + v̇2"), ("v̇5", "v̇4 - v̇3"), ("ẏ", "v̇5")]
    assert column(data["tangent"], "value") == pytest.approx([1, 0, 0.5, 5, 0, 5.5, 5.5, 5.5])
    assert data["adjoint"] == [] and data["gradient"] is None


def test_survey_table3_reverse_line_for_line():
    data = ad(SURVEY, "x1=2,x2=5", mode="reverse").data
    assert [(e["name"], e["rule"], e["expanded"]) for e in data["adjoint"]] == [
        ("x̄1", "v̄-1", None),
        ("x̄2", "v̄0", None),
        ("v̄-1", "v̄-1 + v̄1 ∂v1/∂v-1", "v̄-1 + v̄1 / v-1"),
        ("v̄0", "v̄0 + v̄2 ∂v2/∂v0", "v̄0 + v̄2 × v-1"),
        ("v̄-1", "v̄2 ∂v2/∂v-1", "v̄2 × v0"),
        ("v̄0", "v̄3 ∂v3/∂v0", "v̄3 × cos v0"),
        ("v̄2", "v̄4 ∂v4/∂v2", "v̄4 × 1"),
        ("v̄1", "v̄4 ∂v4/∂v1", "v̄4 × 1"),
        ("v̄3", "v̄5 ∂v5/∂v3", "v̄5 × (-1)"),
        ("v̄4", "v̄5 ∂v5/∂v4", "v̄5 × 1"),
        ("v̄5", "ȳ", None)]
    cos5 = math.cos(5)
    assert column(data["adjoint"], "value") == pytest.approx(
        [5.5, 2 - cos5, 5.5, 2 - cos5, 5, -cos5, 1, 1, -1, 1, 1], rel=1e-15)
    # execution order is the printed order read bottom-up
    assert column(data["adjoint"], "step") == list(range(10, -1, -1))


def test_survey_tables_render_as_text():
    text = cnnplan.render(ad(SURVEY, "x1=2,x2=5", mode="reverse"), "table").splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith("------")) + 1
    rows = [line.split() for line in text[start:start + 11]]
    assert rows[2][:5] == ["v1", "ln", "v-1", "0.6931", "v̄-1"]
    assert rows[-1] == ["v̄5", "ȳ", "1"]


# ----- the assignment's question 4 (the answer sheet is wrong in places) --------------------

Q4_Y = 1 / 9 + 36 + math.cos(3)
Q4_DX1 = -1 / 81 - math.sin(3)
Q4_DX2 = -1 / 81 + 12


def test_q4_correct_values():
    data = ad(Q4, "x1=3,x2=6", mode="both").data
    assert data["value"] == pytest.approx(Q4_Y, rel=1e-15)
    assert data["gradient"] == pytest.approx({"x1": Q4_DX1, "x2": Q4_DX2}, rel=1e-14)
    assert data["derivative"] == pytest.approx(Q4_DX1, rel=1e-14)
    # four decimals: the sheet's 0.1, 35.11, -0.153 and 11.98 are wrong or short
    assert [round(v, 4) for v in (1 / 9, Q4_Y, Q4_DX1, Q4_DX2)] == [0.1111, 35.1211, -0.1535,
                                                                     11.9877]


def test_q4_trace_level_by_level():
    data = ad(Q4, "x1=3,x2=6", mode="forward", seed="x1=1").data
    assert [e["definition"] for e in data["primal"]] == [
        "x1", "x2", "v-1 + v0", "v0^2", "cos v-1", "1 / v1", "v4 + v2", "v5 + v3", "v6"]
    assert column(data["primal"], "value") == pytest.approx(
        [3, 6, 9, 36, math.cos(3), 1 / 9, 1 / 9 + 36, Q4_Y, Q4_Y], rel=1e-15)
    assert [e["rule"] for e in data["tangent"]] == [
        "ẋ1", "ẋ2", "v̇-1 + v̇0", "2 × v0 × v̇0", "-v̇-1 × sin v-1", "-v̇1 / v1^2", "v̇4 + v̇2",
        "v̇5 + v̇3", "v̇6"]
    assert column(data["tangent"], "value") == pytest.approx(
        [1, 0, 1, 0, -math.sin(3), -1 / 81, -1 / 81, Q4_DX1, Q4_DX1], rel=1e-14)


def test_q4_table_shows_four_decimals():
    text = cnnplan.render(ad(Q4, "x1=3,x2=6", mode="forward"), "table")
    for shown in ("35.1211", "0.1111", "-0.9900", "-0.1535", "-0.0123"):
        assert shown in text
    reverse = cnnplan.render(ad(Q4, "x1=3,x2=6", mode="reverse"), "markdown")
    assert "| x̄2 | v̄0 |  | 11.9877 |" in reverse


@pytest.mark.oracle
def test_q4_against_torch_autograd(torch):
    x1 = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    x2 = torch.tensor(6.0, dtype=torch.float64, requires_grad=True)
    y = 1 / (x1 + x2) + x2 ** 2 + torch.cos(x1)
    y.backward()
    data = ad(Q4, "x1=3,x2=6", mode="reverse").data
    assert data["value"] == pytest.approx(y.item(), rel=1e-15)
    assert data["gradient"] == pytest.approx({"x1": x1.grad.item(), "x2": x2.grad.item()},
                                             rel=1e-14)


# ----- trace rules --------------------------------------------------------------------------

def test_common_subexpression_computed_once():
    data = ad("sin(x1*x2) + cos(x1*x2) + x1*x2", "x1=1,x2=2", mode="reverse").data
    definitions = [e["definition"] for e in data["primal"]]
    assert definitions.count("v-1 × v0") == 1
    assert definitions[2:] == ["v-1 × v0", "sin v1", "cos v1", "v2 + v3", "v4 + v1", "v5"]
    # v1 feeds three steps: one first contribution and two accumulations
    v1_lines = [e["rule"] for e in data["adjoint"] if e["name"] == "v̄1"]
    assert v1_lines == ["v̄1 + v̄2 ∂v2/∂v1", "v̄1 + v̄3 ∂v3/∂v1", "v̄5 ∂v5/∂v1"]


def test_log_and_ln_are_the_same_step():
    data = ad("log(x1) + ln(x1)", "x1=2", mode="forward").data
    assert [e["definition"] for e in data["primal"]] == ["x1", "ln v0", "v1 + v1", "v2"]
    assert data["derivative"] == pytest.approx(1.0)


def test_repeated_argument_is_one_adjoint_line():
    data = ad("x1*x1", "x1=3", mode="reverse").data
    lines = [(e["rule"], e["expanded"], e["value"]) for e in data["adjoint"]]
    assert lines[1] == ("v̄1 ∂v1/∂v0", "v̄1 × v0 + v̄1 × v0", 6.0)


def test_constant_steps_are_passive():
    data = ad("2*pi*x1", "x1=1", mode="both").data
    assert [e["definition"] for e in data["primal"]] == ["x1", "2 × π", "v1 × v0", "v2"]
    assert data["tangent"][1]["rule"] == "0"
    assert [e["name"] for e in data["adjoint"]] == ["x̄1", "v̄0", "v̄2"]
    assert data["gradient"]["x1"] == pytest.approx(2 * math.pi)


def test_negative_literals_and_unary_minus():
    data = ad("-x1 * -2 + x1**-1", "x1=2", mode="forward").data
    assert [e["definition"] for e in data["primal"]][1:4] == ["-v0", "v0^(-1)", "v1 × (-2)"]
    assert data["derivative"] == pytest.approx(2 - 1 / 4)


def test_powers_by_which_side_is_variable():
    data = ad("x1**3 + 2**x1 + x1**x2", "x1=2,x2=0.5", mode="reverse").data
    assert [e["op"] for e in data["primal"]][2:5] == ["power", "exponential", "pow"]
    expected_x1 = 3 * 4 + 4 * math.log(2) + 0.5 * 2 ** -0.5
    assert data["gradient"]["x1"] == pytest.approx(expected_x1, rel=1e-14)
    assert data["gradient"]["x2"] == pytest.approx(2 ** 0.5 * math.log(2), rel=1e-14)


def test_input_order_follows_x_numbers_then_at_order():
    data = ad("b + x2 * w + x1", "w=1,b=2,x2=3,x1=4", mode="reverse").data
    assert [(e["name"], e["definition"]) for e in data["primal"][:4]] == [
        ("v-3", "x1"), ("v-2", "x2"), ("v-1", "w"), ("v0", "b")]
    assert list(data["gradient"]) == ["x1", "x2", "w", "b"]


def test_relu_heaviside_convention_at_zero():
    result = ad("relu(x1)", "x1=0", mode="both")
    assert result.data["derivative"] == 0.5 and result.data["gradient"] == {"x1": 0.5}
    assert any("H(0) = 1/2" in note for note in result.notes)
    assert "H(0) = 1/2" in cnnplan.render(result, "table")
    assert "H(v0)" in result.data["tangent"][1]["rule"]


def test_abs_sign_convention_at_zero():
    result = ad("abs(x1)", "x1=0", mode="reverse")
    assert result.data["gradient"] == {"x1": 0.0}
    assert any("sgn(0) = 0" in note for note in result.notes)


def test_seed_direction():
    data = ad(SURVEY, "x1=2,x2=5", mode="both", seed="x1=2,x2=-1").data
    gradient = data["gradient"]
    assert data["seed"] == {"x1": 2.0, "x2": -1.0}
    assert data["derivative"] == pytest.approx(2 * gradient["x1"] - gradient["x2"])


def test_unused_variable_is_a_warning_not_an_input():
    result = ad("x1 * 2", "x1=1,x9=5")
    assert result.data["point"] == {"x1": 1.0}
    assert result.data["warnings"] == [
        "x9 is given in --at but not used by the expression; it is ignored"]
    assert not any("x9" in note for note in result.notes)   # the command prints it on stderr


def test_expression_of_a_variable_alone():
    data = ad("x1", "x1=3", mode="both").data
    assert data["value"] == 3 and data["derivative"] == 1 and data["gradient"] == {"x1": 1.0}


def test_json_keys_and_full_precision():
    result = ad(SURVEY, "x1=2,x2=5", mode="both")
    doc = json.loads(cnnplan.render(result, "json"))
    for key in ("expression", "point", "mode", "value", "derivative", "gradient", "primal",
                "tangent", "adjoint"):
        assert key in doc
    assert doc["value"] == math.log(2) + 10 - math.sin(5)
    assert doc["point"] == {"x1": 2.0, "x2": 5.0} and doc["mode"] == "both"


def test_decimals():
    text = cnnplan.render(ad(SURVEY, "x1=2,x2=5", mode="forward", decimals=2), "table")
    assert "11.65" in text and "11.652" not in text
    text = cnnplan.render(ad(SURVEY, "x1=2,x2=5", mode="forward", decimals=0), "table")
    assert " 12" in text


def test_latex_notation_cells_are_math():
    result = autodiff(SURVEY, "x1=2,x2=5", mode="reverse", notation="latex")
    latex = cnnplan.render(result, "latex")
    assert r"$\bar{v}_{-1} + \bar{v}_{1} \frac{\partial v_{1}}{\partial v_{-1}}$" in latex
    assert r"$\ln v_{-1}$ & 0.6931" in latex
    assert r"\toprule" in latex and r"\bottomrule" in latex
    assert "\u0304" not in latex and "\u0307" not in latex     # no Unicode accents in LaTeX


def test_every_core_reporter_renders_it():
    result = ad(Q4, "x1=3,x2=6")
    for fmt in ("table", "json", "csv", "markdown", "latex"):
        assert "35.1211" in cnnplan.render(result, fmt)


def test_dot_reporter():
    dot = cnnplan.render(ad("x1*x2 + x1", "x1=2,x2=3"), "dot")
    assert dot.splitlines()[1] == "digraph autodiff {" and dot.endswith("}")
    assert '"v1" [label="v1 = v-1 × v0\\n= 6\\nv̇1 = 3\\nv̄1 = 1"];' in dot
    assert '"v-1" -> "v2" [label="∂v2/∂v-1 = 1"];' in dot
    assert dot.count("->") == 5


def test_dot_reporter_refuses_other_results():
    with pytest.raises(cnnplan.BadInput, match="format 'dot' cannot render 'solve' results"):
        cnnplan.render(cnnplan.Result(title="not autodiff", data={"x": 1}, kind="solve"), "dot")
    from cnnplan_autodiff.dot import render_dot  # called directly, it checks the document

    with pytest.raises(cnnplan.BadInput, match="only renders autodiff results"):
        render_dot(cnnplan.Result(title="not autodiff", data={"x": 1}, kind="ad"))


def test_solver_is_registered_with_the_others():
    from cnnplan.platform.host import get_host

    host = get_host()
    assert "ad" in host.solvers.names() and "solve" in host.solvers.names()
    assert host.solvers["ad"].provider == "autodiff"
    assert host.solvers["ad"].arguments == (
        "expression, at=None, mode='both', seed=None, decimals=4, notation='text'")
    with pytest.raises(cnnplan.BadInput, match="solver 'ad': no argument 'expr'"):
        cnnplan.run_solver("ad", expr="x1")
    assert host.reporters["dot"].provider == "autodiff"


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "sideways"}, "unknown mode"),
    ({"notation": "braille"}, "unknown notation"),
    ({"decimals": 13}, "decimals must be"),
    ({"decimals": True}, "decimals must be"),
])
def test_api_argument_checks(kwargs, message):
    with pytest.raises(cnnplan.BadInput, match=message):
        ad("x1", "x1=1", **kwargs)


def test_results_copy_and_pickle():
    import copy
    import pickle

    result = ad(Q4, "x1=3,x2=6")
    for clone in (copy.deepcopy(result), pickle.loads(pickle.dumps(result))):
        assert cnnplan.render(clone, "table") == cnnplan.render(result, "table")
