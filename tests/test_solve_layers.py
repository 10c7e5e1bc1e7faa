"""`solve --layer convT|maxpool|avgpool [--ceil]`: complete against brute force over a small grid
with PyTorch as the shape oracle, every row built in PyTorch, and the `unused` column."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnplan import solve

GRID = {"k": 4, "s": 3, "p": 3, "d": 2}
SIZES = range(1, 9)
KINDS = [("convT", False), ("maxpool", True), ("avgpool", False), ("avgpool", True)]


def _module(torch, kind, ceil, dims, k, s, p, d, op=0, c_in=1, c_out=1):
    n = dims - 1
    if kind == "conv":
        return [torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d][n](
            c_in, c_out, k, stride=s, padding=p, dilation=d)
    if kind == "convT":
        return [torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d][n](
            c_in, c_out, k, stride=s, padding=p, dilation=d, output_padding=op)
    if kind == "maxpool":
        return [torch.nn.MaxPool1d, torch.nn.MaxPool2d, torch.nn.MaxPool3d][n](
            k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
    return [torch.nn.AvgPool1d, torch.nn.AvgPool2d, torch.nn.AvgPool3d][n](
        k, stride=s, padding=p, ceil_mode=ceil)


def torch_table(torch, kind, ceil) -> dict:
    """(i, o) -> every (k, s, p, d, op) of the grid that DESIGN.md allows (windows on real
    input: p <= k'-1 for convolutions, p <= k // 2 for pooling; k = 1 only with d = 1) and
    for which PyTorch maps a size-i input onto size o."""
    table: dict = {}
    for k, s, p, d in itertools.product(range(1, GRID["k"] + 1), range(1, GRID["s"] + 1),
                                        range(0, GRID["p"] + 1), range(1, GRID["d"] + 1)):
        span = d * (k - 1) + 1
        if (k == 1 and d != 1) or (kind == "avgpool" and d != 1):
            continue
        if p > (span - 1 if kind == "convT" else k // 2):
            continue
        for op in range(max(s, d)) if kind == "convT" else [0]:
            module = _module(torch, kind, ceil, 1, k, s, p, d, op)
            for i in SIZES:
                try:
                    with torch.no_grad():
                        o = module(torch.zeros(1, 1, i)).shape[-1]
                except RuntimeError:
                    continue
                table.setdefault((i, o), set()).add((k, s, p, d, op))
    return table


def rows(result) -> set:
    return {(r["k"], r["s"], r["p"], r["d"], r.get("op", 0)) for r in result.data["solutions"]}


def unused(kind, i, o, row) -> int:
    """Padded rows after the last window (the matching convolution's, for convT: op)."""
    k, s, p, d, op = row
    return op if kind == "convT" else i + 2 * p - (d * (k - 1) + 1) - (o - 1) * s


@pytest.mark.oracle
@pytest.mark.parametrize("kind, ceil", KINDS)
def test_complete_against_torch_brute_force(torch, kind, ceil):
    table = torch_table(torch, kind, ceil)
    top = max(o for _, o in table)
    checked = 0
    for i in SIZES:
        for o in range(1, top + 2):
            expected = table.get((i, o), set())
            for mode in ("floor", "exact"):
                result = solve(f"2x{i}", f"2x{o}", layer=kind, ceil=ceil, mode=mode, max=GRID)
                want = expected if mode == "floor" else {
                    r for r in expected if unused(kind, i, o, r) == 0}
                assert rows(result) == want, (kind, ceil, i, o, mode)
                assert result.data["count"] == len(want)
                assert result.exit_code == (0 if want else 1)
                for r in result.data["solutions"]:
                    row = (r["k"], r["s"], r["p"], r["d"], r.get("op", 0))
                    assert r["unused"] == [unused(kind, i, o, row)]
            checked += len(expected)
    assert checked > 100


questions = st.fixed_dictionaries({
    "kind": st.sampled_from(KINDS),
    "i": st.integers(1, 12), "i2": st.integers(1, 12),
    "o": st.integers(1, 24), "o2": st.integers(1, 24),
    "square": st.booleans(),
})


@pytest.mark.oracle
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(questions)
def test_every_row_runs_in_torch_2d(torch, q):
    """Every listed row, built as a 2-D torch layer, gives the asked output, weights and params."""
    kind, ceil = q["kind"]
    inputs = (q["i"], q["i"] if q["square"] else q["i2"])
    outputs = (q["o"], q["o"] if q["square"] else q["o2"])
    c_in, c_out = 3, (5 if kind == "convT" else 3)
    result = solve(f"{c_in}x{inputs[0]}x{inputs[1]}", f"{c_out}x{outputs[0]}x{outputs[1]}",
                   layer=kind, ceil=ceil, max={"k": 5, "s": 4, "p": 3, "d": 3}, limit=30)
    for r in result.data["solutions"]:
        module = _module(torch, kind, ceil, 2, r["k"], r["s"], r["p"], r["d"], r.get("op", 0),
                         c_in, c_out)
        with torch.no_grad():
            out = module(torch.zeros(1, c_in, *inputs))
        assert list(out.shape[1:]) == r["output"] == [c_out, *outputs]
        assert sum(t.numel() for t in module.parameters()) == r["params"]
        if kind == "convT":
            assert module.weight.numel() == r["weights"]


@pytest.mark.oracle
def test_convT_questions_from_the_issue(torch):
    """'Which transposed conv doubles 16 to 32?' and 'convT 7 -> 14 with k=3' (needs op=1)."""
    doubles = solve("64x16x16", "32x32x32", layer="convT", fix="k=4,d=1")
    assert (4, 2, 1, 1, 0) in rows(doubles)
    seven = solve("8x7x7", "8x14x14", layer="convT", fix="k=3,d=1")
    assert rows(seven) == {(3, 2, 1, 1, 1)}
    assert seven.data["solutions"][0]["op"] == 1
    layer = torch.nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1)
    assert tuple(layer(torch.zeros(1, 8, 7, 7)).shape) == (1, 8, 14, 14)
    exact = solve("8x7x7", "8x14x14", layer="convT", fix="k=3,d=1", mode="exact")
    assert exact.data["count"] == 0 and exact.data["other_mode"] == {"mode": "floor", "count": 1}


def test_op_can_be_fixed_for_convT_only():
    assert rows(solve("8x7x7", "8x14x14", layer="convT", fix="k=3,op=1")) <= {
        r for r in rows(solve("8x7x7", "8x14x14", layer="convT", fix="k=3")) if r[4] == 1}
    with pytest.raises(Exception, match="unknown variable 'op'"):
        solve("8x7x7", "8x5x5", fix="op=1")
