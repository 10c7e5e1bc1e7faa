"""`cnnplan ad` through the installed command and click's CliRunner: output, warnings, and
every kind of bad input (one line on stderr, exit 2, never a traceback)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cnnplan.cli import build_cli

SURVEY = "ln(x1) + x1*x2 - sin(x2)"


def invoke(*args):
    return CliRunner().invoke(build_cli(), list(args))


def test_plugin_is_listed(cnnplan_cmd):
    done = cnnplan_cmd("plugins", "--format", "json")
    assert done.returncode == 0
    (entry,) = [p for p in json.loads(done.stdout) if p["name"] == "autodiff"]
    assert entry["hooks"] == ["register_commands", "register_reporters", "register_solvers"]


def test_issue_examples_through_installed_command(cnnplan_cmd):
    done = cnnplan_cmd("ad", "1/(x1+x2) + x2**2 + cos(x1)", "--at", "x1=3,x2=6",
                       "--mode", "forward", "--seed", "x1=1,x2=0")
    assert done.returncode == 0, done.stderr
    assert "derivative: ẏ = -0.1535" in done.stdout and "35.1211" in done.stdout
    done = cnnplan_cmd("ad", SURVEY, "--at", "x1=2,x2=5", "--mode", "reverse",
                       "--format", "json")
    doc = json.loads(done.stdout)
    assert round(doc["gradient"]["x1"], 4) == 5.5 and round(doc["gradient"]["x2"], 4) == 1.7163


@pytest.mark.parametrize("fmt, marker", [
    ("table", "Reverse mode: evaluation trace and adjoint trace"),
    ("markdown", "| v̄-1 | v̄-1 + v̄1 ∂v1/∂v-1 | v̄-1 + v̄1 / v-1 | 5.5000 |"),
    ("latex", r"$\bar{x}_{2}$ & $\bar{v}_{0}$ &  & 1.7163 \\"),
    ("csv", "v1,ln v-1,0.6931,v̄-1,v̄-1 + v̄1 ∂v1/∂v-1,v̄-1 + v̄1 / v-1,5.5000"),
    ("dot", '"v0" -> "v3" [label="∂v3/∂v0 = 0.2837"];'),
])
def test_formats(fmt, marker):
    result = invoke("ad", SURVEY, "--at", "x1=2,x2=5", "--mode", "reverse", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert marker in result.output


def test_expression_may_start_with_minus():
    result = invoke("ad", "-x1**2", "--at", "x1=3", "--mode", "forward")
    assert result.exit_code == 0 and "derivative: ẏ = -6" in result.output


def test_repeated_at_options_and_decimals():
    result = invoke("ad", SURVEY, "--at", "x1=2", "--at", "x2=5", "--decimals", "2")
    assert result.exit_code == 0 and "y:          11.65" in result.output


def test_unused_variable_warns_on_stderr(cnnplan_cmd):
    done = cnnplan_cmd("ad", "x1 * 2", "--at", "x1=1,x3=4")
    assert done.returncode == 0
    assert done.stderr.strip() == ("cnnplan: warning: x3 is given in --at but not used by the "
                                   "expression; it is ignored")


def test_seed_in_reverse_mode_warns(cnnplan_cmd):
    done = cnnplan_cmd("ad", "x1 * 2", "--at", "x1=1", "--mode", "reverse", "--seed", "x1=1")
    assert done.returncode == 0 and "--seed is ignored in reverse mode" in done.stderr


def test_dot_format_refuses_other_commands(cnnplan_cmd):
    done = cnnplan_cmd("solve", "--in", "3x8x8", "--out", "3x4x4", "--format", "dot")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == (
        "Error: format 'dot' cannot render 'solve' or 'solve-per-axis' results (it renders "
        "'ad'); choose one of: csv, html, json, latex, markdown, svg, svg-animated, table")


BAD = [
    # syntax errors point at the column
    (["x1 +* 2"], "syntax error in the expression at column 5"),
    (["sin(x1"], "syntax error in the expression at column 4: '(' was never closed"),
    (["x1 +"], "syntax error in the expression at the end"),
    # unknown functions and names say which and list the known ones
    (["sinh(x1)"], "unknown function 'sinh' at column 1; known functions: abs, cos, exp, ln, "
                   "log, relu, sigmoid, sin, sqrt, tan, tanh"),
    (["x1 + z", "--at", "x1=1"], "unknown name 'z' at column 6: give it a value with --at z=NUMBER "
                 "(known names: x1, pi, e;"),
    (["sin + x1"], "sin at column 1 is a function: call it, e.g. sin(x1)"),
    (["log(x1, 2)"], "log at column 1 takes exactly one argument"),
    # a variable missing from --at
    (["x1 * x2", "--at", "x1=1"], "unknown name 'x2' at column 6: give it a value with "
                                  "--at x2=NUMBER"),
    (["x1"], "unknown name 'x1' at column 1"),
    # domain errors name the trace step
    (["log(-1)"], "domain error at v1 = ln(-1): ln needs a positive argument"),
    (["1/0"], "domain error at v1 = 1 / 0: division by zero"),
    (["sqrt(-4)"], "domain error at v1 = √(-4): sqrt needs a non-negative argument"),
    (["x1 + 1/(x1 - 1)", "--at", "x1=1"], "domain error at v2 = 1 / v1 (v1 = 0): division by "
                                          "zero"),
    (["ln(x1 - 3)", "--at", "x1=2"], "domain error at v2 = ln v1 (v1 = -1): ln needs a "
                                     "positive argument"),
    (["sqrt(x1)", "--at", "x1=0"], "not differentiable at v1 = √v0 (v0 = 0)"),
    (["(-8)**x1", "--at", "x1=0.5"], "domain error at v1 = (-8)^v0 (v0 = 0.5): c ** x with a "
                                     "variable exponent needs a positive base c"),
    # overflow names the step, never a silent inf or nan
    (["exp(1000)"], "overflow at v1 = exp(1000): the value is too large for a float"),
    (["2**2**2**2**2**2"], "overflow at v4 = 2^v3 (v3 = 65536): the value is too large"),
    (["exp(x1) * 1e300", "--at", "x1=100"], "overflow at v2 = v1 × 1e+300"),
    (["x1**400", "--at", "x1=10"], "overflow at v1 = v0^400 (v0 = 10)"),
    (["1/x1", "--at", "x1=1e-200"], "overflow at v1 = 1 / v0 (v0 = 1e-200): the derivative is "
                                     "too large for a float"),
    (["x1*1e10", "--at", "x1=1", "--mode", "forward", "--seed", "x1=1e300"],
     "overflow in the tangent trace at v̇1 (the tangent of v1 = v0 × 10000000000)"),
    (["1e200*(1e200*x1)", "--at", "x1=1e-300", "--mode", "reverse"],
     "overflow in the adjoint trace at v̄0 (from v1 = 1e+200 × v0)"),
    (["1e400 * x1"], "the number at column 1 is too large for a float"),
    # forbidden constructs
    (["__import__('os')"], "unknown function '__import__' at column 1"),
    (["x1.__class__", "--at", "x1=1"], "attribute access at column 1 is not allowed"),
    (["(lambda: 1)()"], "a lambda at column 2 cannot be called"),
    (["lambda: x1"], "a lambda at column 1 is not allowed"),
    (["[x1 for x1 in (1, 2)]"], "a comprehension at column 1 is not allowed"),
    (["sum(x for x in (1,))"], "unknown function 'sum'"),
    (["x1[0]", "--at", "x1=1"], "subscripting at column 1 is not allowed"),
    (["x1 ^ 2", "--at", "x1=1"], "the operator '^' (write ** for powers) at column 1"),
    (["x1 < 2", "--at", "x1=1"], "a comparison at column 1 is not allowed"),
    (["'text'"], "a str at column 1 is not allowed; only real numbers are"),
    (["x1 +\n2"], "the expression must be one line of printable text (column 5)"),
    (["x" * 100_000], "the expression is too long (100,000 characters; the limit is 1,000)"),
    (["sin(" * 150 + "x1" + ")" * 150, "--at", "x1=1"], "nested too deeply"),
    (["(" * 250 + "x1" + ")" * 250, "--at", "x1=1"], "too many nested parentheses"),
    (["   "], "the expression is empty"),
    (["42"], "the expression is a single constant"),
    # options
    (["x1", "--at", "x1"], "--at 'x1' is not NAME=NUMBER (e.g. --at x1=3,x2=6)"),
    (["x1", "--at", "x1=abc"], "--at x1='abc' is not a number"),
    (["x1", "--at", "x1=nan"], "--at x1='nan' is not a finite number"),
    (["x1", "--at", "x1=1,x1=2"], "--at gives x1 twice (1 and 2)"),
    (["x1", "--at", "sin=1"], "--at name 'sin' is a function"),
    (["x1", "--at", "pi=1"], "--at name 'pi' is a constant"),
    (["v1", "--at", "v1=1"], "--at name 'v1' looks like a trace variable"),
    (["x1", "--at", "x1=1", "--seed", "x2=1"], "--seed names x2, which --at does not give "
                                               "(inputs: x1)"),
    (["x1", "--at", "x1=1", "--mode", "sideways"], "Invalid value for '--mode'"),
    (["x1", "--at", "x1=1", "--decimals", "20"], "Invalid value for '--decimals'"),
    (["x1", "--at", "x1=1", "--format", "pdf"], "unknown format 'pdf'; choose one of:"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_through_installed_command(cnnplan_cmd, args, message):
    done = cnnplan_cmd("ad", *args)
    assert done.returncode == 2, done.stdout
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert message in lines[0]
    assert "Traceback" not in done.stderr


def test_bad_input_through_clirunner():
    result = invoke("ad", "log(-1)")
    assert result.exit_code == 2
    assert "Error: domain error at v1 = ln(-1)" in result.output
