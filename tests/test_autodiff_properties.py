"""Property tests: random expression trees at random points.

The trees are built here, as nested tuples, and turned into three things independently of
the plugin: the expression text it parses, a PyTorch function (autograd is the gradient
oracle) and a `math` function (for central finite differences).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cnnplan

VARIABLES = ("x1", "x2", "x3")
SMOOTH = ("sin", "cos", "tan", "exp", "ln", "sqrt", "tanh", "sigmoid", "neg")
KINKED = ("relu", "abs")
BINARY = ("+", "-", "*", "/", "**")
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


def trees(unary):
    leaves = st.one_of(
        st.sampled_from(VARIABLES).map(lambda name: ("var", name)),
        st.sampled_from((0.5, 1.0, 2.0, 3.0, -1.5)).map(lambda value: ("num", value)),
    )
    return st.recursive(leaves, lambda sub: st.one_of(
        st.tuples(st.sampled_from(unary), sub),
        st.tuples(st.sampled_from(BINARY), sub, sub),
    ), max_leaves=6)


points = st.fixed_dictionaries({name: st.tuples(st.sampled_from((-1, 1)), st.floats(1e-3, 3))
                                .map(lambda t: t[0] * t[1]) for name in VARIABLES})
seeds = st.fixed_dictionaries({name: st.sampled_from((-1.0, 0.0, 0.5, 1.0, 2.0))
                               for name in VARIABLES})


def text(tree) -> str:
    kind = tree[0]
    if kind == "var":
        return tree[1]
    if kind == "num":
        return f"({tree[1]!r})" if tree[1] < 0 else repr(tree[1])
    if kind == "neg":
        return f"(-{text(tree[1])})"
    if len(tree) == 2:
        return f"{kind}({text(tree[1])})"
    return f"({text(tree[1])} {kind} {text(tree[2])})"


def evaluate(tree, env, lib):
    """The tree's value with `lib` (a dict of functions: math or torch flavoured)."""
    kind = tree[0]
    if kind == "var":
        return env[tree[1]]
    if kind == "num":
        return lib["const"](tree[1])
    args = [evaluate(t, env, lib) for t in tree[1:]]
    return lib[kind](*args)


ARITHMETIC = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
              "/": lambda a, b: a / b, "neg": lambda a: -a}
MATH = dict(ARITHMETIC, const=float, **{"**": math.pow}, sin=math.sin, cos=math.cos,
            tan=math.tan, exp=math.exp, ln=math.log, sqrt=math.sqrt, tanh=math.tanh,
            sigmoid=lambda a: 1 / (1 + math.exp(-a)), relu=lambda a: max(a, 0.0), abs=abs)


def torch_lib(torch):
    f64 = torch.float64
    return dict(ARITHMETIC, const=lambda v: torch.tensor(v, dtype=f64), **{"**": torch.pow},
                sin=torch.sin, cos=torch.cos, tan=torch.tan, exp=torch.exp, ln=torch.log,
                sqrt=torch.sqrt, tanh=torch.tanh, sigmoid=torch.sigmoid, relu=torch.relu,
                abs=torch.abs)


def run(tree, point, mode="both", seed=None):
    """The plugin's JSON document, or None where the trace rejects the point (domain)."""
    try:
        return cnnplan.run_solver("ad", expression=text(tree), at=point, mode=mode,
                                  seed=seed).data
    except cnnplan.BadInput:
        return None


def at_kink(data) -> bool:
    """relu or abs evaluated exactly at 0 (PyTorch's relu'(0) = 0, ours H(0) = 1/2)."""
    values = {e["name"]: e["value"] for e in data["primal"]}
    return any(e["op"] in KINKED and e["partials"] and values[e["operands"][0]] == 0
               for e in data["primal"])


def close(a, b, tol):
    return abs(a - b) <= tol * (1 + max(abs(a), abs(b)))


@pytest.mark.oracle
@SETTINGS
@given(tree=trees(SMOOTH + KINKED), point=points, seed=seeds)
def test_reverse_gradient_matches_torch_and_forward_matches_gradient_dot_seed(
        torch, tree, point, seed):
    data = run(tree, point, seed=seed)
    assume(data is not None and not at_kink(data))
    env = {name: torch.tensor(v, dtype=torch.float64, requires_grad=True)
           for name, v in point.items()}
    y = evaluate(tree, env, torch_lib(torch))
    assume(torch.is_tensor(y) and y.requires_grad)
    grads = torch.autograd.grad(y, list(env.values()), allow_unused=True)
    expected = {name: 0.0 if g is None else g.item() for name, g in zip(env, grads)}
    gradient = {name: data["gradient"].get(name, 0.0) for name in VARIABLES}
    assert close(data["value"], y.item(), 1e-9)
    for name in VARIABLES:
        assert close(gradient[name], expected[name], 1e-9), (text(tree), name)
    used = data["gradient"]
    dot = sum(gradient[name] * seed[name] for name in used)
    assert close(data["derivative"], dot, 1e-9), text(tree)


@SETTINGS
@given(tree=trees(SMOOTH), point=points, seed=seeds)
def test_derivatives_match_central_finite_differences(tree, point, seed):
    data = run(tree, point, seed=seed)
    assume(data is not None)
    # only where the function is smooth and well scaled around the point
    assume(all(abs(e["value"]) < 1e3 for e in data["primal"]))
    assume(all(abs(p) < 1e3 for e in data["primal"] for p in e["partials"].values()))
    h = 1e-6

    def f(t):
        try:
            return evaluate(tree, {n: v + t * seed[n] for n, v in point.items()}, MATH)
        except (ValueError, ZeroDivisionError, OverflowError):
            return math.nan

    central = (f(h) - f(-h)) / (2 * h)
    assume(math.isfinite(central))
    assert close(data["derivative"], central, 1e-4), text(tree)
    used = data["gradient"]
    assert close(sum(used[n] * seed[n] for n in used), central, 1e-4), text(tree)


@given(tree=trees(SMOOTH + KINKED), point=points)
@settings(max_examples=40, deadline=None, derandomize=True)
def test_trace_is_well_formed(tree, point):
    """Every argument of a step comes before it; adjoint lines only touch earlier variables;
    common subexpressions appear once."""
    data = run(tree, point, mode="reverse")
    assume(data is not None)
    order = {e["name"]: k for k, e in enumerate(data["primal"])}
    for entry in data["primal"]:
        assert all(order[a] < order[entry["name"]] for a in entry["operands"])
    steps = [e["definition"] for e in data["primal"] if e["op"] not in ("input", "output")]
    assert len(set(steps)) == len(steps)
    for line in data["adjoint"]:
        if line.get("expanded"):
            source = line["rule"].split("∂")[1].rstrip("/")
            assert order[line["of"]] < order[source]
    assert data["adjoint"][-1]["rule"] == "ȳ" and data["adjoint"][-1]["value"] == 1.0
