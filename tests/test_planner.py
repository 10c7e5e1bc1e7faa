"""`cnnplan plan`: counts and rankings against brute-force enumeration of every chain, the
closed-form per-layer sets against the grid, single layers against `cnnplan solve`, and the
assignment's question 7 with its complete answers."""

from __future__ import annotations

import itertools
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnplan
from cnnplan import BadInput
from cnnplan.kinds.arithmetic import effective_kernel
from cnnplan.network.forward import apply_layer, next_extent
from cnnplan.platform.reporters import render_json
from cnnplan.language.specs import WINDOW_VARS, parse_spec
from cnnplan.solver.windows import WindowLayer

BOUNDS = {"k": 3, "s": 2, "p": 1, "d": 2}
CONDITIONS = ["k % 2 == 1", "s <= k", "p == 0 or d == 1", "k + s > 3"]


# -- brute force: every chain, one configuration at a time -----------------------------------


def _layer_configs(spec, bounds, conditions):
    """Every valid (k, s, p, d) of one layer, straight from the definitions (DESIGN.md)."""
    if not spec.window:
        return [None]
    ranges = {}
    for name in WINDOW_VARS:
        if spec.has(name):
            ranges[name] = [spec.get(name)]
        elif name == "d" and spec.kind == "avgpool":
            ranges[name] = [1]
        else:
            ranges[name] = range(0 if name == "p" else 1, bounds[name] + 1)
    out = []
    for k, s, p, d in itertools.product(*(ranges[n] for n in WINDOW_VARS)):
        if k == 1 and d != 1:
            continue
        if spec.kind in ("conv", "convT") and p > d * (k - 1):
            continue
        if spec.kind in ("maxpool", "avgpool") and p > k // 2:
            continue
        if spec.kind == "convT" and spec.get("op", 0) >= max(s, d):
            continue
        env = {"k": k, "s": s, "p": p, "d": d}
        if all(eval(c, {}, env) for c in conditions):  # trusted test strings
            out.append((k, s, p, d))
    return out


def _resolve(spec, cfg, c_out):
    if cfg is None:
        return spec.complete()
    k, s, p, d = cfg
    values = {"k": k, "s": s, "p": p}
    if spec.kind != "avgpool":
        values["d"] = d
    if spec.kind in ("conv", "convT"):
        values["channels"] = c_out
    return spec.with_values(**values).complete()


def brute_force(shape, texts, mode, bounds, where_all=(), where_layer=None):
    """[(params, macs, extent, [cfg])] of every valid chain, by depth-first enumeration."""
    parsed = [parse_spec(t, allow_target=True) for t in texts]
    options = [_layer_configs(spec, bounds, list(where_all) + (where_layer or {}).get(j, []))
               for j, (spec, _) in enumerate(parsed, start=1)]
    chains = []
    stack = [(0, tuple(shape), [], 0, 0, 0, 1)]
    while stack:
        j, u, cfgs, params, macs, extent, jump = stack.pop()
        if j == len(parsed):
            chains.append((params, macs, extent, cfgs))
            continue
        spec, target = parsed[j]
        c_out = spec.get("channels") or (target[0] if target else None)
        for cfg in options[j]:
            full = _resolve(spec, cfg, c_out)
            try:
                v, _, p_, m_, _ = apply_layer(full, u, j + 1)
            except BadInput:
                continue
            if mode == "exact" and full.kind == "convT" and full.get("op"):
                continue  # op adds rows no input reaches: never exact
            if mode == "exact" and full.window and full.kind != "convT":
                ke = effective_kernel(full.get("k"), full.get("d", 1))
                if any((i + 2 * full.get("p") - ke) % full.get("s") for i in u[1:]):
                    continue
            if target is not None and v != target:
                continue
            e2, jump2 = next_extent(full, extent, jump)
            stack.append((j + 1, v, cfgs + [cfg], params + p_, macs + m_,
                          e2 if e2 is not None else extent, jump2))
    return chains


def _simple(cfg):
    return () if cfg is None else (cfg[3], cfg[2], cfg[0], cfg[1])


def expected_ranking(chains, rank, top):
    index = {"params": 0, "macs": 1, "rf": 2}[rank]
    ordered = sorted(chains, key=lambda c: (c[index], [_simple(x) for x in c[3]]))
    return [[tuple(x) if x else None for x in c[3]] for c in ordered[:top]]


def planned_ranking(result):
    out = []
    for chain in result.data["chains"]:
        out.append([None if layer["k"] is None else
                    (layer["k"], layer["s"], layer["p"], layer["d"]) for layer in chain["layers"]])
    return out


# -- random chains ----------------------------------------------------------------------


@st.composite
def chain_case(draw):
    dims = draw(st.sampled_from([1, 1, 2]))
    c = draw(st.sampled_from([1, 2]))
    size = draw(st.integers(3, 14))
    shape = (c, size) if dims == 1 else (c, size, draw(st.sampled_from([size, size + 1])))
    texts = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv", "conv", "convT", "maxpool", "avgpool", "relu",
                                     "bn"]))
        args = []
        if kind in ("conv", "convT"):
            args.append(str(draw(st.sampled_from([1, 2, 4]))))
        if kind in ("conv", "convT", "maxpool", "avgpool"):
            for name in ("k", "s", "p", "d"):
                if name == "d" and kind == "avgpool":
                    continue
                if draw(st.integers(0, 3)) == 0:
                    args.append(f"{name}={draw(st.integers(0 if name == 'p' else 1, 2))}")
            if kind == "convT" and draw(st.booleans()):
                args.append(f"op={draw(st.integers(0, 1))}")
            if kind in ("maxpool", "avgpool") and draw(st.booleans()):
                args.append("ceil=true")
        texts.append(f"{kind}({', '.join(args)})" if args else kind)
    mode = draw(st.sampled_from(["exact", "floor"]))
    where_all = draw(st.sampled_from([[], [], [draw(st.sampled_from(CONDITIONS))]]))
    where_layer = {}
    windows = [j for j, t in enumerate(texts, start=1) if not t.startswith(("relu", "bn"))]
    if windows and draw(st.booleans()):
        where_layer[draw(st.sampled_from(windows))] = [draw(st.sampled_from(CONDITIONS))]
    # targets: from a random chain of the brute force when there is one
    chains = brute_force(shape, texts, mode, BOUNDS)
    if chains and draw(st.booleans()):
        witness = draw(st.sampled_from(chains))[3]
        u = shape
        outs = []
        for j, (text, cfg) in enumerate(zip(texts, witness), start=1):
            spec = parse_spec(text)
            u = apply_layer(_resolve(spec, cfg, spec.get("channels")), u, j)[0]
            outs.append(u)
        texts = [t + (f" -> {'x'.join(map(str, o))}" if draw(st.booleans()) else "")
                 for t, o in zip(texts, outs)]
    return shape, texts, mode, where_all, where_layer


@settings(max_examples=60, deadline=None)
@given(chain_case(), st.sampled_from(["params", "macs", "rf"]), st.integers(1, 6))
def test_plan_counts_and_ranks_like_brute_force(case, rank, top):
    shape, texts, mode, where_all, where_layer = case
    chains = brute_force(shape, texts, mode, BOUNDS, where_all, where_layer)
    where = list(where_all) + [f"{j}: {c}" for j, cs in where_layer.items() for c in cs]
    try:
        result = cnnplan.plan("x".join(map(str, shape)), texts, max=BOUNDS, mode=mode,
                              where=where, rank=rank, top=top)
    except BadInput as exc:  # only for statically inconsistent chains
        assert not chains, exc
        return
    assert result.data["count"] == len(chains)
    assert (result.exit_code == 0) == bool(chains)
    assert planned_ranking(result) == expected_ranking(chains, rank, top)


# -- closed forms against the grid --------------------------------------------------------


@st.composite
def window_case(draw):
    kind = draw(st.sampled_from(["conv", "convT", "maxpool", "avgpool"]))
    ceil = kind in ("maxpool", "avgpool") and draw(st.booleans())
    dims = draw(st.sampled_from([1, 2, 3]))
    size = draw(st.integers(1, 16))
    u = (2, *([size] * dims)) if draw(st.booleans()) else (2, *[draw(st.integers(1, 16))
                                                                  for _ in range(dims)])
    text = (f"{kind}(2)" if kind in ("conv", "convT") else
            f"{kind}(ceil={'true' if ceil else 'false'})")
    if kind == "convT":
        text = f"convT(2, op={draw(st.integers(0, 1))})"
    mode = draw(st.sampled_from(["exact", "floor"]))
    if kind == "convT" and mode == "exact":
        text = "convT(2, op=0)"  # exact mode refuses a non-zero op
    maxima = {"k": draw(st.integers(1, 6)), "s": draw(st.integers(1, 4)),
              "p": draw(st.integers(0, 3)), "d": draw(st.integers(1, 3))}
    return text, u, mode, maxima


@settings(max_examples=150, deadline=None)
@given(window_case())
def test_pinned_closed_forms_match_the_grid(case):
    text, u, mode, maxima = case
    spec = parse_spec(text)
    layer = WindowLayer(1, spec, u[0], 2, len(u) - 1, None, [], mode, maxima, "params")
    doms = layer.domains(u)
    by_output: dict = {}
    for v, _, _, ranked in layer.transitions(u):
        by_output.setdefault(v, set()).update(c for _, _, c in ranked)
    # every output the grid reaches, plus some it does not
    probes = set(by_output) | {(2, *[o + 1 for o in v[1:]]) for v in by_output} | {(2,) + u[1:]}
    for v in probes:
        pinned = set(layer.pinned(u[1:], v[1:], doms))
        assert pinned == by_output.get(v, set()), (v, pinned ^ by_output.get(v, set()))
    # and the grid itself against the definitions
    brute = {}
    for cfg in _layer_configs(spec, maxima, []):
        full = _resolve(spec, cfg, 2)
        try:
            v = apply_layer(full, u, 1)[0]
        except BadInput:
            continue
        if mode == "exact" and spec.kind != "convT":
            ke = effective_kernel(cfg[0], cfg[3])
            if any((i + 2 * cfg[2] - ke) % cfg[1] for i in u[1:]):
                continue
        brute.setdefault(v, set()).add(cfg)
    assert brute == by_output


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 24), st.integers(1, 24), st.sampled_from(["conv", "pool"]),
       st.sampled_from(["exact", "floor"]), st.sampled_from([{}, {"d": 1}, {"k": 3}]))
def test_single_layer_plans_agree_with_solve(i, o, layer, mode, fix):
    args = (["4"] if layer == "conv" else []) + [f"{k}={v}" for k, v in fix.items()]
    spec = f"{'conv' if layer == 'conv' else 'maxpool'}({', '.join(args)})"
    solved = cnnplan.solve(f"4x{i}x{i}", f"4x{o}x{o}", layer=layer, fix=fix, mode=mode)
    planned = cnnplan.plan(f"4x{i}x{i}", [f"{spec} -> 4x{o}x{o}"], mode=mode, top=0)
    assert planned.data["count"] == solved.data["count"]
    if solved.data["count"]:
        got = [(s["k"], s["s"], s["p"], s["d"]) for s in planned.data["solution_sets"][0]
               ["solutions"]]
        want = [(s["k"], s["s"], s["p"], s["d"]) for s in solved.data["solutions"]]
        assert got == want


# -- question 7, complete --------------------------------------------------------------


def _set(result, layer):
    for s in result.data["solution_sets"]:
        if s["layer"] == layer:
            return [(x["k"], x["s"], x["p"], x["d"]) for x in s["solutions"]]
    return []


def test_question_7_complete_answers():
    a = cnnplan.plan("3x64x64", ["conv(64, k=8, d=1) -> 64x32x32",
                                 "maxpool(p=0, d=1) -> 64x8x8",
                                 "conv(128, p=0, d=1) -> 128x4x4"], where=["2: s >= k"],
                     mode="exact")  # the assignment's formula
    assert _set(a, 1) == [(8, 2, 3, 1)]                 # 1(a)
    assert _set(a, 2) == [(4, 4, 0, 1)]                 # 2(a): non-overlapping windows
    assert _set(a, 3) == [(2, 2, 0, 1), (5, 1, 0, 1)]   # 3(a): two, not one
    assert a.data["count"] == 2
    b = cnnplan.plan("3x64x64", ["conv(64, d=7, s=2) -> 64x32x32"], mode="exact")
    assert _set(b, 1) == [(2, 2, 3, 7), (4, 2, 10, 7), (6, 2, 17, 7), (8, 2, 24, 7),
                          (10, 2, 31, 7), (12, 2, 38, 7), (14, 2, 45, 7), (16, 2, 52, 7),
                          (18, 2, 59, 7)]               # 1(b), within p <= 64
    assert cnnplan.shapes("64x32x32", ["maxpool(k=8, s=4)"]).data["output"] == [64, 7, 7]
    b3 = cnnplan.plan("64x8x8", ["conv(128, d=2, p=2) -> 128x4x4"], mode="exact")
    assert _set(b3, 1) == [(2, 3, 2, 2), (5, 1, 2, 2)]  # 3(b)
    c3 = cnnplan.plan("64x8x8", ["conv(128, p=1, d=1) -> 128x4x4"], mode="exact")
    assert _set(c3, 1) == [(4, 2, 1, 1), (7, 1, 1, 1)]  # 3(c)


# -- the answer's form, failures and limits ----------------------------------------------


def test_json_form_and_exact_big_counts():
    texts = ["conv(8)"] * 15 + ["conv(8) -> 8x4x4"]
    result = cnnplan.plan("3x64x64", texts, max="k=5,s=2,p=2,d=2", mode="floor", rank="macs",
                          top=3)
    data = json.loads(render_json(result))
    assert data["count"] == result.data["count"] > 2**64
    assert set(data) >= {"count", "chains"}
    chain = data["chains"][0]
    assert set(chain) >= {"layers", "params", "macs", "rf"}
    assert set(chain["layers"][0]) >= {"k", "s", "p", "d", "output"}
    assert [c["macs"] for c in data["chains"]] == sorted(c["macs"] for c in data["chains"])


def test_counts_multiply_when_every_intermediate_is_fixed():
    texts = ["conv(8) -> 8x32x32", "conv(8) -> 8x16x16", "maxpool -> 8x8x8", "conv(8) -> 8x4x4"]
    result = cnnplan.plan("3x64x64", texts, top=1)
    product = 1
    for s in result.data["solution_sets"]:
        product *= s["count"]
    assert len(result.data["solution_sets"]) == 4
    assert result.data["count"] == product


def test_unreachable_target_names_the_first_layer_and_the_nearest_output():
    result = cnnplan.plan("3x64x64", ["conv(64, k=8, d=1) -> 64x32x32",
                                      "maxpool(k=8, s=4, p=0, d=1) -> 64x8x8",
                                      "conv(128, k=3) -> 128x4x4"])
    assert result.exit_code == 1 and result.data["count"] == 0
    info = result.data["unreachable"]
    assert info["layer"] == 2 and info["nearest"][0]["output"] == [64, 7, 7]
    assert "layer 2 maxpool(k=8, s=4, p=0, d=1) cannot give its target 64x8x8 from 64x32x32" in \
        result.notes[0]
    free = cnnplan.plan("3x64x64", ["conv(8)", "conv(8) -> 8x100x100"], max="k=3,s=2,p=1,d=1")
    assert free.exit_code == 1 and free.data["unreachable"]["layer"] == 2
    assert free.data["unreachable"]["nearest"][0]["output"] == [8, 66, 66]


def test_where_global_and_per_layer_and_static_errors():
    base = ["conv(8) -> 8x32x32", "conv(8) -> 8x16x16"]
    everything = cnnplan.plan("3x64x64", base, top=0).data["count"]
    odd = cnnplan.plan("3x64x64", base, where="k % 2 == 1", top=0).data["count"]
    first = cnnplan.plan("3x64x64", base, where="1: k % 2 == 1", top=0).data["count"]
    assert everything > first > odd > 0
    for kwargs, message in [
        ({"where": "3: k == 1"}, "names layer 3; the plan has layers 1 to 2"),
        ({"where": "x == 1"}, "unknown name 'x'"),
        ({"where": "1 == 1"}, "mentions none of k, s, p, d"),
        ({"max": "k=0"}, "--max k=0 is below 1"),
        ({"max": "q=3"}, "unknown variable 'q'"),
        ({"rank": "speed"}, "unknown rank 'speed'"),
        ({"mode": "round"}, "unknown mode 'round'"),
        ({"top": -1}, "--top -1 must be"),
    ]:
        with pytest.raises(BadInput, match=message):
            cnnplan.plan("3x64x64", base, **kwargs)
    for texts, message in [
        (["conv -> 8x32x32", "conv"], "layer 2 conv: give the output channels"),
        (["conv(4) -> 8x32x32"], "4 output channels but the target 8x32x32 has 8"),
        (["maxpool -> 4x32x32"], "pooling keeps the 3 channels"),
        (["conv(4) -> 4x32"], "target 4x32 does not fit"),
        (["flatten", "conv(4)"], "needs a C x sizes input"),
        (["linear(4)"], "linear needs a flat input"),
        (["conv(4, groups=2)"], "groups=2 must divide the input channels 3"),
        (["relu"], None),
    ]:
        if message is None:
            with pytest.raises(BadInput, match="has no k, s, p, d to constrain"):
                cnnplan.plan("3x64x64", texts, where="1: k == 1")
            continue
        with pytest.raises(BadInput, match=message):
            cnnplan.plan("3x64x64", texts)


def test_free_outputs_with_default_bounds_on_large_inputs_ask_for_bounds():
    with pytest.raises(BadInput, match=r"give --max bounds \(e.g. --max k=11,s=4,p=5,d=3\)"):
        cnnplan.plan("3x224x224", ["conv(64)", "conv(64) -> 64x7x7"])


def test_thousands_of_layers_in_bounded_time():
    start = time.process_time()
    texts = ["conv(4, k=3, d=1)", "relu"] * 1500 + ["conv(4, k=3, d=1) -> 4x32x32"]
    result = cnnplan.plan("4x32x32", texts, max="s=2,p=1", top=2)
    assert result.data["count"] == 1
    assert len(result.data["chains"][0]["layers"]) == 3001
    free = cnnplan.plan("2x16", ["conv(2, d=1)"] * 2000 + ["conv(2, d=1) -> 2x16"],
                        max="k=3,s=1,p=1", where="2 * p <= k - 1", top=3)
    assert free.data["count"] == 2**2001 and len(free.data["chains"]) == 3
    with pytest.raises(BadInput, match="the plan is too large"):  # sizes keep growing
        cnnplan.plan("2x16", ["conv(2, d=1)"] * 2000 + ["conv(2, d=1) -> 2x16"],
                     max="k=3,s=1,p=1", top=3)
    assert time.process_time() - start < 60  # a safety net against runaway work, not a benchmark


def test_progress_is_reported_through_the_callback():
    seen = []
    cnnplan.plan("3x64x64", ["conv(8) -> 8x32x32", "conv(8) -> 8x16x16"], progress=seen.append)
    assert any("layer 1/2" in m for m in seen) and any("backward" in m for m in seen)


def test_counts_with_thousands_of_digits_render_exactly():
    result = cnnplan.plan("1x16", ["conv(1, d=1, s=1)"] * 6300, max="k=9",
                          where="2 * p == k - 1", top=1)
    assert result.data["count"] == 5**6300        # k in 1, 3, 5, 7, 9 with p = (k-1)/2
    assert json.loads(render_json(result))["count"] == 5**6300
    assert result.fact("chains (approx.)") == "3.244e+4403"


@pytest.mark.parametrize("size", [7, 9, 10])
def test_exact_mode_ceil_pooling_plans_match_torch_brute_force(cnnplan_cmd, torch, size):
    """--mode exact keeps only ceil-mode configurations with no unused rows (s divides
    i + 2p - k', where ceil and floor agree): free outputs, pinned outputs and the nearest
    outputs all against every torch MaxPool2d(ceil_mode=True) within the bounds."""
    from collections import Counter
    from itertools import product

    x = torch.zeros(1, 3, size, size)
    expected = Counter()
    for k, s, p, d in product(range(1, 4), range(1, 4), range(0, 2), range(1, 3)):
        if (k == 1 and d > 1) or p > k // 2 or (size + 2 * p - d * (k - 1) - 1) % s:
            continue
        try:
            y = torch.nn.MaxPool2d(k, s, p, d, ceil_mode=True)(x)
        except RuntimeError:
            continue
        expected[tuple(y.shape[1:])] += 1
    bounds = ["--max", "k=3,s=3,p=1,d=2", "--mode", "exact", "--format", "json"]
    free = json.loads(cnnplan_cmd("plan", "--in", f"3x{size}x{size}", "maxpool(ceil=true)",
                                  "--top", "0", *bounds).stdout)
    assert free["count"] == sum(expected.values())
    assert free["layers"][0]["outputs"] == len(expected)
    def pinned(shape):   # in-process: one command per shape would be slow
        return cnnplan.plan(f"3x{size}x{size}",
                            [f"maxpool(ceil=true) -> {'x'.join(map(str, shape))}"],
                            max="k=3,s=3,p=1,d=2", mode="exact").data

    for shape, n in expected.items():
        assert pinned(shape)["count"] == n, shape
    target = (3, size - 3, size - 3)
    if target not in expected:
        missed = pinned(target)["unreachable"]
        best = min(sum(abs(a - b) for a, b in zip(shape, target)) for shape in expected)
        assert missed["distance"] == best
        assert {tuple(o["output"]): o["count"] for o in missed["nearest"]} == {
            shape: n for shape, n in expected.items()
            if sum(abs(a - b) for a, b in zip(shape, target)) == best}


def test_exact_mode_refuses_a_transposed_output_padding(cnnplan_cmd):
    proc = cnnplan_cmd("plan", "--in", "3x9x9", "convT(4, k=2, op=1)", "--mode", "exact")
    assert proc.returncode == 2 and proc.stderr == (
        "Error: layer 1 convT(4, k=2, op=1): op=1 adds output rows no input row reaches, "
        "which --mode exact excludes; use op=0 or --mode floor\n")
