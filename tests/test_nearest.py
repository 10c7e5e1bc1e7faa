"""The nearest reachable outputs of `solve` and `plan` against a brute force over the whole
bounded grid: every configuration, one at a time, with PyTorch's documented output formulas
written out here, the distance defined in docs/networks.md (sum of the absolute differences of
the spatial sizes), all ties, most configurations first, then by size."""

from __future__ import annotations

import itertools
import json

from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cnnplan

GRID = {"k": 4, "s": 3, "p": 2, "d": 2}


def output_size(kind, i, k, s, p, d, mode="floor", ceil=False, op=0):
    """PyTorch's output size of one axis, or None when the layer does not apply."""
    ke = d * (k - 1) + 1
    if kind == "convT":
        o = (i - 1) * s - 2 * p + ke + op
        return o if o >= 1 else None
    n = i + 2 * p - ke
    if ceil:
        if mode == "exact" and n % s:  # exact: no row unused, no window overhanging
            return None
        o = -(-n // s) + 1
        if o >= 2 and (o - 1) * s >= i + p:  # the last window must start inside the input
            o -= 1
        return o if o >= 1 else None
    if n < 0 or (mode == "exact" and n % s):
        return None
    return n // s + 1


def valid(kind, k, s, p, d, op=0):
    """DESIGN.md's validity rules, written out."""
    if k == 1 and d != 1:
        return False
    if kind in ("maxpool", "pool") and p > k // 2:
        return False
    if kind in ("conv", "convT") and p > d * (k - 1):
        return False
    return not (kind == "convT" and op >= max(s, d))


def reach(kind, shape, c_out, grid, mode="floor", ceil=False, fixed=None, where=None, op=0):
    """{output shape: configurations} of one layer from `shape`, over the whole grid."""
    fixed = fixed or {}
    ranges = [[fixed[v]] if v in fixed else range(0 if v == "p" else 1, grid[v] + 1)
              for v in "kspd"]
    found = {}
    for k, s, p, d in itertools.product(*ranges):
        if not valid(kind, k, s, p, d, op) or (where and not where(k, s, p, d)):
            continue
        outs = [output_size(kind, i, k, s, p, d, mode, ceil, op) for i in shape[1:]]
        if None not in outs:
            v = (c_out, *outs)
            found[v] = found.get(v, 0) + 1
    return found


def expected_nearest(tally, target):
    """All outputs at the smallest distance (target excluded), most configurations first."""
    dist = {v: sum(abs(a - b) for a, b in zip(v[1:], target[1:])) for v in tally
            if v != tuple(target)}
    if not dist:
        return None, []
    best = min(dist.values())
    ties = sorted((v for v, n in dist.items() if n == best), key=lambda v: (-tally[v], v))
    return best, [{"output": list(v), "count": tally[v]} for v in ties]


def _max(grid):
    return ",".join(f"{v}={n}" for v, n in grid.items())


# -- solve -------------------------------------------------------------------------------------

WHERES = {None: None, "s <= k": lambda k, s, p, d: s <= k,
          "k % 2 == 1": lambda k, s, p, d: k % 2 == 1, "p == 0 or d == 2": lambda k, s, p, d:
          p == 0 or d == 2}


@settings(max_examples=120, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=3), st.data(),
       st.sampled_from(["conv", "pool"]), st.sampled_from(["floor", "exact"]),
       st.sampled_from(sorted(WHERES, key=str)))
def test_solve_nearest_is_the_brute_force_nearest(sizes, data, layer, mode, where):
    target = [data.draw(st.integers(1, 14)) for _ in sizes]
    grid = dict(GRID, s=data.draw(st.sampled_from([3, 25])))  # strides beyond every input too
    c_out = 2 if layer == "conv" else 1
    shape_in, shape_out = (1, *sizes), (c_out, *target)
    result = cnnplan.solve("x".join(map(str, shape_in)), "x".join(map(str, shape_out)),
                           layer=layer, mode=mode, max=grid, where=[where] if where else [])
    tally = reach("conv" if layer == "conv" else "pool", shape_in, c_out, grid, mode,
                  where=WHERES[where])
    assert result.data["count"] == tally.get(shape_out, 0)
    assume(result.data["count"] == 0)
    distance, nearest = expected_nearest(tally, shape_out)
    assert result.data["nearest"] == nearest
    assert result.data["nearest_distance"] == distance
    assert result.data["nearest_complete"] is True


# -- plan --------------------------------------------------------------------------------------

SECOND = {  # layer 2 of the plan: spec without target -> (kind, ceil mode, output padding)
    "conv(2)": ("conv", False, 0), "maxpool": ("maxpool", False, 0),
    "maxpool(ceil=true)": ("maxpool", True, 0), "convT(2)": ("convT", False, 0),
    "convT(2, op=1)": ("convT", False, 1),
}


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 8), min_size=1, max_size=2), st.data(),
       st.sampled_from(["conv(3)", "maxpool"]), st.sampled_from(sorted(SECOND)),
       st.sampled_from(["floor", "exact"]), st.sampled_from(sorted(WHERES, key=str)))
def test_plan_nearest_is_the_brute_force_nearest(sizes, data, first, second, mode, where):
    target_sizes = [data.draw(st.integers(1, 16)) for _ in sizes]
    kind2, ceil, op = SECOND[second]
    assume(not (op and mode == "exact"))  # refused: op adds rows no input reaches
    c_mid = 3 if first == "conv(3)" else 1
    c_out = 2 if kind2 in ("conv", "convT") else c_mid
    shape_in, target = (1, *sizes), (c_out, *target_sizes)
    test = WHERES[where]
    middle = reach("conv" if first == "conv(3)" else "maxpool", shape_in, c_mid, GRID, mode,
                   where=test)
    assume(middle)
    tally: dict = {}
    for u in middle:
        for v, n in reach(kind2, u, c_out, GRID, mode, ceil, where=test, op=op).items():
            tally[v] = tally.get(v, 0) + n
    result = cnnplan.plan("x".join(map(str, shape_in)),
                          [first, f"{second} -> {'x'.join(map(str, target))}"],
                          max=_max(GRID), mode=mode, where=[where] if where else [])
    if target in tally:
        assert result.data["count"] > 0
        return
    failure = result.data["unreachable"]
    assert failure["layer"] == 2
    distance, nearest = expected_nearest(tally, target)
    assert failure["nearest"] == nearest
    assert failure["distance"] == distance
    assert failure["complete"] is True


# -- the reported wrong answers, through the installed command ---------------------------------


def _json(proc):
    assert proc.stderr == ""
    return json.loads(proc.stdout)


def test_plan_finds_what_solve_finds_through_a_square_window(cnnplan_cmd):
    """Issue 16, 1: plan said nothing nearby was reachable; solve named outputs."""
    plan = cnnplan_cmd("plan", "--in", "3x64x64", "conv(16) -> 16x40x20", "--mode", "floor",
                       "--format", "json")
    solve = cnnplan_cmd("solve", "--in", "3x64x64", "--out", "16x40x20", "--mode", "floor",
                        "--format", "json")
    assert plan.returncode == solve.returncode == 1
    near = _json(plan)["unreachable"]
    doc = _json(solve)
    assert near["nearest"] == doc["nearest"] and near["distance"] == doc["nearest_distance"]
    assert near["complete"] and doc["nearest_complete"]
    # a square window keeps both axes equal: o x o is |40 - o| + |20 - o| = 20 away for every
    # o in 20..40, and further outside; the brute force over one axis (o = 20..40) says which
    # o are reachable from 64 and with how many configurations
    one_axis = reach("conv", (3, 64), 16, {"k": 64, "s": 64, "p": 64, "d": 64})
    expected = {(16, o, o): one_axis[(16, o)] for o in range(20, 41) if (16, o) in one_axis}
    assert near["distance"] == 20
    assert {tuple(x["output"]): x["count"] for x in near["nearest"]} == expected


def test_plan_nearest_over_every_reachable_input(cnnplan_cmd):
    """Issue 16, 2: plan named 2x22 (distance 38) while 2x50 (distance 10) is reachable."""
    grid = {"k": 30, "s": 1, "p": 10, "d": 10}
    middle = reach("maxpool", (2, 200), 2, grid)
    tally: dict = {}
    for u in middle:
        for v, n in reach("maxpool", u, 2, {"k": 4, "s": 4, "p": 0, "d": 1},
                          fixed={"k": 4, "s": 4, "p": 0, "d": 1}, mode="exact").items():
            tally[v] = tally.get(v, 0) + n
    distance, nearest = expected_nearest(tally, (2, 60))
    proc = cnnplan_cmd("plan", "--in", "2x200", "maxpool(s=1)",
                       "maxpool(k=4, s=4, p=0, d=1) -> 2x60", "--max", "k=30,p=10,d=10",
                       "--mode", "exact", "--format", "json")
    assert proc.returncode == 1
    near = _json(proc)["unreachable"]
    assert (near["distance"], near["nearest"]) == (distance, nearest)
    assert distance == 10 and nearest[0]["output"] == [2, 50]


def test_solve_nearest_when_axes_share_one_window(cnnplan_cmd):
    """Issue 16, 3: solve named 2x9x7 (distance 5) while 2x5x4 (distance 4) has a solution,
    and 2x9x9x9 while 2x8x8x8 is nearer."""
    for mode in ("floor", "exact"):
        tally = reach("conv", (2, 7, 5), 2, {"k": 7, "s": 7, "p": 3, "d": 4},
                      mode=mode, fixed={"p": 3, "d": 4})
        distance, nearest = expected_nearest(tally, (2, 5, 8))
        proc = cnnplan_cmd("solve", "--in", "2x7x5", "--out", "2x5x8", "--fix", "p=3,d=4",
                           "--mode", mode, "--format", "json")
        doc = _json(proc)
        assert (doc["nearest_distance"], doc["nearest"]) == (distance, nearest)
    tally = reach("pool", (2, 8, 8, 8), 2, {"k": 6, "s": 8, "p": 8, "d": 8})
    distance, nearest = expected_nearest(tally, (2, 14, 8, 8))
    proc = cnnplan_cmd("solve", "--in", "2x8x8x8", "--out", "2x14x8x8", "--layer", "pool",
                       "--mode", "floor", "--max", "k=6", "--format", "json")
    doc = _json(proc)
    assert (doc["nearest_distance"], doc["nearest"]) == (distance, nearest)
    assert [2, 8, 8, 8] in [x["output"] for x in nearest]


def test_plan_takes_a_flat_target_on_flatten(cnnplan_cmd):
    """Issue 16, 4: 'flatten -> 12' was refused; 'flatten -> 2x6' was accepted."""
    grid = {"k": 4, "s": 3, "p": 2, "d": 2}
    configs = reach("conv", (1, 8), 2, grid, mode="exact")
    flat = {}
    for v, n in configs.items():
        flat[v[0] * v[1]] = flat.get(v[0] * v[1], 0) + n
    proc = cnnplan_cmd("plan", "--in", "1x8", "conv(2)", "flatten -> 12", "--max", _max(grid),
                       "--mode", "exact", "--format", "json")
    assert proc.returncode == 0 and _json(proc)["count"] == flat[12]
    shapes = cnnplan_cmd("shapes", "--in", "1x8", "conv(2, k=3)", "flatten -> 12")
    assert shapes.returncode == 0
    wrong = cnnplan_cmd("plan", "--in", "1x8", "conv(2)", "flatten -> 2x6", "--max", _max(grid))
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr.strip().splitlines() == [
        "Error: layer 2 flatten: target 2x6 does not fit; this layer gives a flat size such "
        "as 10"]
    # no flat size is reachable: the nearest flat sizes, each from one layer-1 output
    miss = cnnplan_cmd("plan", "--in", "1x8", "conv(2)", "flatten -> 13", "--max", _max(grid),
                       "--mode", "exact", "--format", "json")
    assert miss.returncode == 1
    near = _json(miss)["unreachable"]
    best = min(abs(n - 13) for n in flat)
    assert near["distance"] == best
    assert sorted(x["output"][0] for x in near["nearest"]) == sorted(
        n for n in flat if abs(n - 13) == best)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=3),
       st.sampled_from([("conv", False, 0), ("pool", False, 0), ("pool", True, 0),
                        ("convT", False, 0), ("convT", False, 1)]),
       st.sampled_from(["floor", "exact"]), st.integers(1, 25), st.integers(1, 5))
def test_every_output_of_the_sweep_with_its_count(sizes, rule, mode, s_max, k_max):
    """What the nearest search collects: every reachable output and its number of
    configurations, as the brute force over the grid (strides beyond every input included)."""
    import numpy as np

    from cnnplan.solver.nearest import Sweep, _sweep_rows

    layer, ceil, op = rule
    grid = {"k": k_max, "s": s_max, "p": 2, "d": 2}
    domains = {v: list(range(0 if v == "p" else 1, n + 1)) for v, n in grid.items()}
    found: dict = {}
    for rows, weights in _sweep_rows(Sweep(layer, mode, ceil, op), tuple(sizes), domains):
        for row, n in zip(rows.tolist(), np.asarray(weights).tolist()):
            found[(1, *row)] = found.get((1, *row), 0) + n
    kind = "maxpool" if layer == "pool" else layer
    assert found == reach(kind, (1, *sizes), 1, grid, "floor" if layer == "convT" else mode,
                          ceil, op=op)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 8), min_size=1, max_size=2), st.data(),
       st.sampled_from(["conv(3)", "maxpool"]), st.sampled_from(["floor", "exact"]))
def test_graph_plan_nearest_is_the_brute_force_nearest(sizes, data, first, mode):
    """A graph (a residual add after a layer with a target): when the target cannot be
    reached, the nearest outputs from the inputs that reach the layer, with their counts."""
    target_sizes = [data.draw(st.integers(1, 16)) for _ in sizes]
    c_mid = 3 if first == "conv(3)" else 1
    shape_in, target = (1, *sizes), (c_mid, *target_sizes)
    middle = reach("conv" if first == "conv(3)" else "maxpool", shape_in, c_mid, GRID, mode)
    assume(middle)
    tally: dict = {}
    for u in middle:
        for v, n in reach("conv", u, c_mid, GRID, mode).items():
            tally[v] = tally.get(v, 0) + n
    assume(target not in tally)
    result = cnnplan.plan("x".join(map(str, shape_in)),
                          [f"a: {first}; b: conv({c_mid}) -> {'x'.join(map(str, target))}; "
                           "add(a)"], max=_max(GRID), mode=mode)
    failure = result.data["unreachable"]
    assert result.exit_code == 1 and failure["name"] == "b"
    distance, nearest = expected_nearest(tally, target)
    assert failure["distance"] == distance and failure["nearest"] == nearest
    assert failure["complete"] is True
