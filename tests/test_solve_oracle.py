"""The single-layer solution set against brute force over the same grid, and against PyTorch."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import constraint

from cnnplan import solve
from cnnplan.solver.search import Geometry, build_problem


def brute_force(layer, mode, inputs, outputs, bounds, fixed=None, where=lambda k, s, p, d: True):
    """DESIGN.md's definition, checked point by point over the whole grid (no pruning)."""
    fixed = fixed or {}
    ranges = {
        name: [fixed[name]] if name in fixed else range(lo, hi + 1)
        for name, (lo, hi) in bounds.items()
    }
    found = set()
    for k, s, p, d in itertools.product(ranges["k"], ranges["s"], ranges["p"], ranges["d"]):
        if k == 1 and d != 1:
            continue
        span = d * (k - 1) + 1
        if layer == "conv" and p > span - 1:
            continue
        if layer == "pool" and p > k // 2:
            continue
        ok = True
        for i, o in zip(inputs, outputs):
            n = i + 2 * p - span
            if n < 0 or (mode == "exact" and n % s) or n // s + 1 != o:
                ok = False
                break
        if ok and where(k, s, p, d):
            found.add((k, s, p, d))
    return found


def as_set(result):
    return {(r["k"], r["s"], r["p"], r["d"]) for r in result.data["solutions"]}


questions = st.fixed_dictionaries({
    "layer": st.sampled_from(["conv", "pool"]),
    "mode": st.sampled_from(["exact", "floor"]),
    "axes": st.integers(1, 3),
    "i": st.integers(1, 20),
    "i2": st.integers(1, 20),
    "o": st.integers(1, 20),
    "o2": st.integers(1, 20),
    "square": st.booleans(),
    "bounds": st.fixed_dictionaries({
        "k": st.integers(1, 9), "s": st.integers(1, 9), "p": st.integers(0, 9), "d": st.integers(1, 5),
    }),
    "fix": st.dictionaries(st.sampled_from("kspd"), st.integers(1, 6), max_size=2),
})


def _shapes(q):
    inputs = [q["i"]] * q["axes"]
    outputs = [q["o"]] * q["axes"]
    if not q["square"] and q["axes"] > 1:
        inputs[-1], outputs[-1] = q["i2"], q["o2"]
    c_in, c_out = 3, (3 if q["layer"] == "pool" else 5)
    return inputs, outputs, c_in, c_out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(questions)
def test_solution_set_equals_brute_force(q):
    inputs, outputs, c_in, c_out = _shapes(q)
    fix = {n: v for n, v in q["fix"].items() if v <= q["bounds"][n] and not (n == "p" and v < 0)}
    bounds = {n: (0 if n == "p" else 1, q["bounds"][n]) for n in "kspd"}
    result = solve("x".join(map(str, [c_in, *inputs])), "x".join(map(str, [c_out, *outputs])),
                   layer=q["layer"], mode=q["mode"], fix=fix,
                   max={n: q["bounds"][n] for n in "kspd"})
    expected = brute_force(q["layer"], q["mode"], inputs, outputs, bounds, fix)
    assert as_set(result) == expected
    assert result.data["count"] == len(expected)
    assert result.exit_code == (0 if expected else 1)


@settings(max_examples=60, deadline=None)
@given(questions, st.sampled_from([
    ("k % 2 == 1", lambda k, s, p, d: k % 2 == 1),
    ("s == k", lambda k, s, p, d: s == k),
    ("p == (k - 1) // 2", lambda k, s, p, d: p == (k - 1) // 2),
    ("k * d <= 3 * s or not p", lambda k, s, p, d: k * d <= 3 * s or not p),
]))
def test_where_filters_exactly(q, where):
    inputs, outputs, c_in, c_out = _shapes(q)
    bounds = {n: (0 if n == "p" else 1, q["bounds"][n]) for n in "kspd"}
    result = solve("x".join(map(str, [c_in, *inputs])), "x".join(map(str, [c_out, *outputs])),
                   layer=q["layer"], mode=q["mode"], where=[where[0]],
                   max={n: q["bounds"][n] for n in "kspd"})
    assert as_set(result) == brute_force(q["layer"], q["mode"], inputs, outputs, bounds,
                                         where=where[1])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 16), st.integers(1, 16), st.sampled_from(["exact", "floor"]))
def test_engine_backtracking_solver_agrees(i, o, mode):
    """The same Problem answered by python-constraint's own solver gives the same set."""
    geometry = Geometry("conv", mode, (i,), (o,))
    domains = {"k": range(1, 7), "s": range(1, 7), "p": range(0, 7), "d": range(1, 4)}
    fast = {tuple(sol[v] for v in "kspd") for sol in build_problem(geometry, domains).getSolutions()}
    slow = build_problem(geometry, domains, solver=constraint.BacktrackingSolver()).getSolutions()
    assert fast == {tuple(sol[v] for v in "kspd") for sol in slow}


def _torch_layer(torch, layer, n_axes, c_in, c_out, k, s, p, d):
    if layer == "conv":
        cls = [torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d][n_axes - 1]
        return cls(c_in, c_out, k, stride=s, padding=p, dilation=d)
    cls = [torch.nn.MaxPool1d, torch.nn.MaxPool2d, torch.nn.MaxPool3d][n_axes - 1]
    return cls(k, stride=s, padding=p, dilation=d)


@pytest.mark.oracle
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(questions)
def test_every_floor_solution_runs_in_torch(torch, q):
    """Each solution, built as a torch layer, gives exactly the stated output shape."""
    q = dict(q, mode="floor", bounds={n: min(v, 5) for n, v in q["bounds"].items()})
    inputs, outputs, c_in, c_out = _shapes(q)
    result = solve("x".join(map(str, [c_in, *inputs])), "x".join(map(str, [c_out, *outputs])),
                   layer=q["layer"], mode="floor", max=q["bounds"], limit=25)
    for row in result.data["solutions"]:
        module = _torch_layer(torch, q["layer"], len(inputs), c_in, c_out,
                              row["k"], row["s"], row["p"], row["d"])
        with torch.no_grad():
            out = module(torch.zeros(1, c_in, *inputs))
        assert list(out.shape[1:]) == row["output"] == [c_out, *outputs]
        if q["layer"] == "conv":
            assert sum(t.numel() for t in module.parameters()) == row["params"]
            assert module.weight.numel() == row["weights"]


@pytest.mark.oracle
@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["conv", "pool"]), st.integers(1, 12), st.integers(1, 6),
       st.integers(1, 4), st.integers(0, 4), st.integers(1, 3))
def test_brute_force_definition_matches_torch(torch, layer, i, k, s, p, d):
    """The test's own rule agrees with torch: what it accepts, torch computes the same size for;
    what torch rejects, it rejects too."""
    span = d * (k - 1) + 1
    expected = (i + 2 * p - span) // s + 1
    accepted = brute_force(layer, "floor", [i], [expected],
                           {"k": (k, k), "s": (s, s), "p": (p, p), "d": (d, d)})
    module = _torch_layer(torch, layer, 1, 2, 2, k, s, p, d)
    try:
        with torch.no_grad():
            out = module(torch.zeros(1, 2, i)).shape[-1]
    except RuntimeError:
        out = None
    if accepted:
        assert out == expected
    if out is None:
        assert not accepted


@pytest.mark.oracle
def test_torch_pool_padding_rule_is_half_the_kernel(torch):
    """The pool padding check is p <= k // 2 on the kernel size, not on the dilated span."""
    torch.nn.MaxPool1d(3, stride=1, padding=1, dilation=3)(torch.zeros(1, 1, 20))
    with pytest.raises(RuntimeError):
        torch.nn.MaxPool1d(3, stride=1, padding=2, dilation=3)(torch.zeros(1, 1, 20))
