"""Planning over graphs: exact counts and rankings against a brute force over every
configuration of every free layer (small bounds), on residual blocks, concatenations and
random DAGs."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnplan
from cnnplan import BadInput
from cnnplan.kinds.arithmetic import effective_kernel
from cnnplan.network.forward import build_nodes, forward
from cnnplan.language.specs import parse_layers
from test_planner import _layer_configs, _resolve

BOUNDS = {"k": 3, "s": 2, "p": 1, "d": 2}
MAX = "k=3,s=2,p=1,d=2"


def brute_force(shape, text, mode, bounds=BOUNDS):
    """[(params, macs, rf, simple keys, cfgs)] of every valid network, one at a time."""
    layers = parse_layers(text)
    options = [_layer_configs(spec, bounds, []) for _, spec, _, _ in layers]
    found = []
    for cfgs in itertools.product(*options):
        items = []
        for (name, spec, target, _), cfg in zip(layers, cfgs):
            c_out = spec.get("channels") or (target[0] if target else None)
            items.append((name, _resolve(spec, cfg, c_out), None))
        try:
            net = forward(shape, build_nodes(items))
        except BadInput:
            continue
        ok = True
        for step, (_, _, target, _) in zip(net.steps, layers):
            spec = step.spec
            if target is not None and step.output != target:
                ok = False
            if mode == "exact" and spec.window and spec.kind != "convT":
                ke = effective_kernel(spec.get("k"), spec.get("d", 1))
                if any((i + 2 * spec.get("p") - ke) % spec.get("s") for i in step.input[1:]):
                    ok = False
        if ok:
            simple = tuple(() if c is None else (c[3], c[2], c[0], c[1]) for c in cfgs)
            found.append((net.params, net.macs, net.rf, simple, cfgs))
    return found


def planned(shape, text, mode, rank="params", top=5):
    return cnnplan.plan(shape, [text], max=MAX, mode=mode, rank=rank, top=top)


GRAPHS = [
    # a ResNet basic block with a strided first conv and a free 1x1 shortcut
    ("4x8x8", "c1: conv(6); relu; conv(6, k=3) -> 6x4x4; ds: conv(6, k=1, from=input); "
              "add(3)"),
    # U-Net-like: pool, free upsampling convT, concat with the skip
    ("2x8x8", "e: conv(3, k=3, p=1); maxpool(k=2); convT(3); concat(e) -> 6x8x8"),
    # two free branches joined by add, then a free pool
    ("3x9x9", "a: conv(4, from=input); b: conv(4, k=3, from=input); add(a, b); maxpool"),
]


@pytest.mark.parametrize("mode", ["floor", "exact"])
@pytest.mark.parametrize("shape, text", GRAPHS)
def test_graph_counts_equal_brute_force(shape, text, mode):
    expected = brute_force(shape, text, mode)
    result = planned(shape, text, mode)
    assert result.data["count"] == len(expected)
    assert result.exit_code == (0 if expected else 1)


@pytest.mark.parametrize("rank, index", [("params", 0), ("macs", 1), ("rf", 2)])
@pytest.mark.parametrize("shape, text", GRAPHS)
def test_graph_rankings_equal_brute_force(shape, text, rank, index):
    expected = brute_force(shape, text, "floor")
    if not expected:
        pytest.skip("no network")
    result = planned(shape, text, "floor", rank=rank, top=5)
    got = [chain[rank] for chain in result.data["chains"]]
    want = sorted(expected, key=lambda e: (e[index], e[3]))[:5]
    assert got == [e[index] for e in want]
    # the best network is the simplest among the cheapest
    best = result.data["chains"][0]["layers"]
    first = want[0][4]
    for layer, cfg in zip(best, first):
        if cfg is not None:
            assert (layer["k"], layer["s"], layer["p"], layer["d"]) == cfg


@st.composite
def random_graph(draw):
    """A random DAG of free convs, pools, relus and joins over 2 x n x n inputs."""
    n = draw(st.integers(4, 9))
    layers, channels = [], {"input": 2}
    free = 0
    for j in range(draw(st.integers(2, 5))):
        name = f"n{j}"
        earlier = list(channels)
        source = draw(st.sampled_from(earlier))
        kind = draw(st.sampled_from(["conv", "pool", "relu", "add", "concat"]))
        if kind in ("add", "concat") and len(earlier) >= 2:
            a, b = draw(st.lists(st.sampled_from(earlier), min_size=2, max_size=2, unique=True))
            if kind == "add" and channels[a] != channels[b]:
                kind = "concat"
            layers.append(f"{name}: {kind}({a}, {b})")
            channels[name] = channels[a] if kind == "add" else channels[a] + channels[b]
            continue
        if kind == "conv" and free < 2:
            free += 1
            c = draw(st.sampled_from([2, 3]))
            fixed = draw(st.sampled_from(["", ", d=1", ", k=3", ", s=1, d=1"]))
            layers.append(f"{name}: conv({c}{fixed}, from={source})")
            channels[name] = c
        elif kind == "pool":
            layers.append(f"{name}: maxpool(k=2, from={source})")
            channels[name] = channels[source]
        else:
            layers.append(f"{name}: relu(from={source})")
            channels[name] = channels[source]
    return f"2x{n}x{n}", "; ".join(layers)


@settings(max_examples=60, deadline=None)
@given(random_graph(), st.sampled_from(["floor", "exact"]))
def test_random_graph_counts_equal_brute_force(graph, mode):
    shape, text = graph
    try:
        expected = brute_force(shape, text, mode)
    except BadInput:
        return
    result = planned(shape, text, mode, top=3)
    assert result.data["count"] == len(expected)
    if expected:
        assert [c["params"] for c in result.data["chains"]] == sorted(
            e[0] for e in expected)[:3]


def test_join_that_never_lines_up_says_which_shapes(cnnplan_cmd):
    proc = cnnplan_cmd("plan", "--in", "3x8x8", "a: conv(4, k=3, p=0); b: conv(4, k=1, from=input);"
                       " add(a, b)", "--max", MAX, "--mode", "exact")  # floor: both give 3x3
    assert proc.returncode == 1
    assert "never lines up" in proc.stdout and "4x6x6, 4x8x8" in proc.stdout


def test_graph_plan_exports_runnable_torch(torch, cnnplan_cmd, tmp_path):
    proc = cnnplan_cmd("plan", "--in", GRAPHS[0][0], GRAPHS[0][1], "--max", MAX, "--mode",
                       "floor", "--top", "2", "--format", "torch")
    assert proc.returncode == 0, proc.stderr
    namespace = {}
    exec(compile(proc.stdout, "export", "exec"), namespace)
    for chain, shapes in zip(namespace["CHAINS"], namespace["CHAIN_OUTPUT_SHAPES"]):
        assert namespace["check"](chain, shapes) == (6, 4, 4)
