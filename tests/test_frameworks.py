"""TensorFlow's, ONNX's and JAX's padding rules (p=same_upper, same_lower, explicit pairs) and
effective padding, against independent oracles: a brute-force reading of TensorFlow's
definition, onnxruntime's own SAME_UPPER / SAME_LOWER, autograd, and the receptive-field
table of Araujo, Norris & Sim (google-research/receptive_field, TF-Slim models)."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx_support import onnx_modules, run, session, single_op_model

import cnnplan
from cnnplan import BadInput
from cnnplan.kinds.arithmetic import same_output, same_pads, window_output


def brute_same(i, k, s, d, rule):
    """TensorFlow's 'same', read off its definition: as many outputs as ceil(i / s) and the
    least total padding t that lets the last of them fit ((o-1)s + k' <= i + t), half of it
    (rounded down) on the side the rule favours less."""
    o = 0
    while o * s < i:
        o += 1
    t = 0
    while (o - 1) * s + d * (k - 1) + 1 > i + t:
        t += 1
    small = t // 2
    return o, ((small, t - small) if rule == "same_upper" else (t - small, small))


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 6), st.integers(1, 4),
       st.sampled_from(["same_upper", "same_lower"]))
def test_same_rules_match_the_definition(i, k, s, d, rule):
    o, pads = brute_same(i, k, s, d, rule)
    assert same_output(i, s) == o
    assert same_pads(i, k, s, d, rule) == pads
    assert window_output(i, k, s, *pads, d) == o
    # and through the spec language: conv and max pooling, any stride
    out = cnnplan.shapes(f"2x{i}", [f"conv(3, k={k}, s={s}, d={d}, p={rule})"]).data["output"]
    assert out == [3, o]


def test_same_rules_against_onnxruntime():
    """Every small i, k, s (dilation 1: onnxruntime refuses dilation with SAME_*): a Conv whose
    output channel t has only the weight of tap t reads input position j*s - before + t, so
    an output that reads a real row gives the padding before; its length gives o."""
    _, _, numpy = onnx_modules()
    for k, s, rule in itertools.product(range(1, 6), range(1, 5), ("same_upper", "same_lower")):
        model = session(single_op_model("Conv", 1, 1, numpy.eye(k).reshape(k, 1, k),
                                        kernel_shape=[k], strides=[s], auto_pad=rule.upper()))
        for i in range(1, 14):
            x = numpy.arange(1, i + 1, dtype=numpy.float32).reshape(1, 1, i)
            y = run(model, x)[0][0]
            found = {j * s + tap - (int(v) - 1) for tap in range(k)
                     for j, v in enumerate(y[tap]) if v}
            data = cnnplan.shapes(f"1x{i}", [f"conv(1, k={k}, s={s}, p={rule})"]).data
            assert data["output"] == [1, y.shape[1]], (i, k, s, rule)
            assert len(found) == 1
            if (y.shape[1] - 1) * s + k >= i:   # ONNX's formula has no max(t, 0): where the
                # total is negative onnxruntime crops; TensorFlow (and cnnplan) pad 0
                assert same_pads(i, k, s, 1, rule)[0] == found.pop(), (i, k, s, rule)


# -- --format torch: F.pad before the layer, numerically equal to onnxruntime ----------------

CASES = [  # (cnnplan layer, ONNX op, attributes)
    ("conv(2, k=3, s=2, p=same_upper, bias=false)", "Conv",
     {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ("conv(2, k=(2, 4), s=(3, 2), p=same_lower, bias=false)", "Conv",
     {"kernel_shape": [2, 4], "strides": [3, 2], "auto_pad": "SAME_LOWER"}),
    ("conv(2, k=3, s=2, p=((0, 2), (1, 0)), bias=false)", "Conv",
     {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 1, 2, 0]}),
    ("maxpool(k=3, s=2, p=same_upper)", "MaxPool",
     {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ("maxpool(k=2, s=1, p=((1, 0), (0, 1)))", "MaxPool",
     {"kernel_shape": [2, 2], "strides": [1, 1], "pads": [1, 0, 0, 1]}),
    ("avgpool(k=3, s=2, p=same_upper, count_pad=false)", "AveragePool",
     {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ("avgpool(k=3, s=2, p=((0, 2), (2, 1)), count_pad=true)", "AveragePool",
     {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 2, 2, 1],
      "count_include_pad": 1}),
    ("avgpool(k=2, s=2, p=((1, 1), (0, 1)), count_pad=false)", "AveragePool",
     {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 0, 1, 1]}),
]


@pytest.mark.parametrize("layer, op, attributes", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("size", ["9x10", "8x7"])
def test_torch_export_equals_onnxruntime(torch, layer, op, attributes, size):
    _, _, numpy = onnx_modules()
    result = cnnplan.shapes(f"2x{size}", [layer])
    code = cnnplan.render(result, "torch")
    namespace: dict = {}
    exec(compile(code, "<export>", "exec"), namespace)
    model = namespace["MODEL"].eval()
    assert namespace["check"]() == tuple(result.data["output"])
    x = numpy.random.default_rng(0).standard_normal((1, 2, *map(int, size.split("x"))))
    x = x.astype(numpy.float32)
    weight = None
    if op == "Conv":
        weight = model[0].layer.weight.detach().numpy()
    onnx_model = single_op_model(op, 2, 2, weight, **attributes)
    (expected,) = run(onnx_model, x)
    with torch.no_grad():
        got = model(torch.from_numpy(x)).numpy()
    assert got.shape == expected.shape
    numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


# -- the spec language ---------------------------------------------------------------------

def test_pairs_parse_canonically_and_collapse_when_symmetric():
    spec = cnnplan.shapes("1x8x8", ["conv(1, k=3, p=((0, 1), (2, 2)))"]).data["layers"][0]
    assert spec["spec"] == "conv(1, k=3, s=1, p=((0, 1), (2, 2)), d=1)"
    assert spec["output"] == [1, 7, 10]
    sym = cnnplan.shapes("1x8x8", ["conv(1, k=3, p=((1, 1), (1, 1)))"]).data["layers"][0]
    assert sym["spec"] == "conv(1, k=3, s=1, p=1, d=1)"


@pytest.mark.parametrize("text, message", [
    ("conv(1, k=3, p=((0, 1), (0, 1), (0, 1)))", "gives 3 (before, after) pairs for 2"),
    ("conv(1, k=3, p=((0, 1, 2), (0, 1)))", "(before, after) pairs"),
    ("conv(1, k=3, p=((0, -1), (0, 1)))", "must be at least 0"),
    ("maxpool(k=3, s=2, p=same_upper, ceil=true)", "drop ceil=true"),
    ("maxpool(k=2, p=((2, 0), (0, 0)))", "not smaller than the window 2"),
    ("conv(1, k=3, s=2, p=same)", "p=same_upper is TensorFlow's rule"),
    ("convT(1, k=3, p=same_upper)", "p must be"),
])
def test_bad_padding_is_refused(text, message, cnnplan_cmd):
    with pytest.raises(BadInput, match=None) as caught:
        cnnplan.shapes("1x8x8", [text])
    assert message in str(caught.value)
    done = cnnplan_cmd("shapes", "--in", "1x8x8", text)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_plan_file_pairs(tmp_path):
    plan = tmp_path / "net.toml"
    plan.write_text('input = "1x8x8"\n[[layers]]\nkind = "conv"\nchannels = 2\nk = 3\n'
                    'p = [[0, 1], [1, 0]]\n')
    data = cnnplan.shapes(plan_file=str(plan)).data
    assert data["output"] == [2, 7, 7]


# -- effective padding and rf: chains against autograd, graphs, the Distill table -------------

def _supports(torch, model, length):
    """Per output position, the first and last input position it reads (autograd, weights 1;
    None where it reads none)."""
    x = torch.ones(1, 1, length, dtype=torch.double)
    jac = torch.autograd.functional.jacobian(lambda t: model(t)[0].sum(0), x, vectorize=True)
    out = []
    for row in jac.reshape(-1, length):
        nz = torch.nonzero(row).flatten()
        out.append((int(nz[0]), int(nz[-1])) if len(nz) else None)
    return out


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["conv", "maxpool"]), st.integers(1, 4),
                          st.integers(1, 3), st.integers(1, 2),
                          st.sampled_from(["same_upper", "same_lower", "pairs", "int"]),
                          st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=4))
def test_effective_padding_and_rf_match_autograd(torch, layers):
    """Output x of a chain reads input positions x*jump - eff_padding onwards, rf of them."""
    length = 120
    texts = []
    for kind, k, s, d, rule, a, b in layers:
        d = d if kind == "conv" else 1
        p = {"same_upper": "same_upper", "same_lower": "same_lower",
             "pairs": f"(({min(a, k - 1)}, {min(b, k - 1)}))", "int": str(min(a, k // 2))}[rule]
        texts.append(f"conv(1, k={k}, s={s}, d={d}, p={p}, bias=false)" if kind == "conv"
                     else f"maxpool(k={k}, s={s}, p={p})")
    try:
        result = cnnplan.shapes(f"1x{length}", ["; ".join(texts)])
    except BadInput:
        return
    code = cnnplan.render(result, "torch")
    namespace: dict = {}
    exec(compile(code, "<export>", "exec"), namespace)
    model = namespace["MODEL"].double()
    for module in model.modules():   # weights 1; max pooling as the sum over its windows
        if isinstance(module, torch.nn.Conv1d):
            torch.nn.init.constant_(module.weight, 1.0)
    for n, module in enumerate(model):
        inner = getattr(module, "layer", module)
        if isinstance(inner, torch.nn.MaxPool1d):
            conv = torch.nn.Conv1d(1, 1, inner.kernel_size, inner.stride, inner.padding,
                                   bias=False).double()
            torch.nn.init.constant_(conv.weight, 1.0)
            if hasattr(module, "layer"):
                module.layer, module.value = conv, 0.0
            else:
                model[n] = conv
    last = result.data["layers"][-1]
    checked = 0
    for x_out, support in enumerate(_supports(torch, model, length)):
        first = x_out * last["jump"] - last["eff_padding"]
        if first >= 0 and first + last["rf"] <= length:   # its field lies inside the input
            assert support == (first, first + last["rf"] - 1), (texts, x_out)
            checked += 1
    assert checked or last["rf"] > length // 2, texts


def test_misaligned_join_rf_is_the_union(torch):
    """The issue's example: output x of the join reads inputs 2x - 1 .. 2x + 1 (autograd)."""
    text = "A: avgpool(k=2, s=2, ceil=true); B: conv(1, k=2, s=2, p=1, from=input); add(A, B)"
    data = cnnplan.shapes("1x41", [text]).data
    assert data["layers"][-1]["rf"] == 3 and data["layers"][-1]["eff_padding"] == 1
    assert data["layers"][-1].get("rf_exact", True) is True
    pool = torch.nn.AvgPool1d(2, 2, ceil_mode=True)
    conv = torch.nn.Conv1d(1, 1, 2, 2, 1, bias=False).double()
    torch.nn.init.constant_(conv.weight, 1.0)
    supports = _supports(torch, lambda x: pool(x) + conv(x), 41)
    assert all(supports[x] == (2 * x - 1, 2 * x + 1) for x in range(1, 20))


def test_misaligned_join_rf_through_the_command(cnnplan_cmd):
    text = "A: avgpool(k=2, s=2, ceil=true); B: conv(1, k=2, s=2, p=1, from=input); add(A, B)"
    done = cnnplan_cmd("shapes", "--in", "1x41", text)
    assert done.returncode == 0
    row = [line for line in done.stdout.splitlines() if line.startswith("3 ")][0]
    assert row.split()[-3:] == ["3", "2", "1"]          # rf, jump, eff pad
    assert "effective padding per path 0, 1" in done.stdout


def test_eff_padding_per_axis_is_a_list():
    """One layer's field of output 0 starts its padding before input 0."""
    data = cnnplan.shapes("1x9x9", ["conv(1, k=(3, 5), p=(1, 0))"]).data
    assert data["layers"][0]["eff_padding"] == [1, 0]
    assert data["layers"][0]["rf"] == [3, 5]          # per axis, as the effective padding


def _separable(channels, s):
    return [f"conv(1, k=3, s={s}, p=same_upper)", f"conv({channels}, k=1)"]


def _tf_slim(name):
    """TF-Slim models as cnnplan chains (TensorFlow's 'SAME' is same_upper; slim's pooling
    defaults to 'VALID'), with the end-points the table lists (layer indices)."""
    if name == "vgg_16":
        layers, points = [], {}
        for block, (n, c) in enumerate([(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)], 1):
            for j in range(1, n + 1):
                layers.append(f"conv({c}, k=3, p=same_upper)")
                points[f"conv{block}_{j}"] = len(layers)
            layers.append("maxpool(k=2, s=2)")
            points[f"pool{block}"] = len(layers)
        return layers, points
    if name == "alexnet_v2":
        layers = ["conv(64, k=11, s=4)", "maxpool(k=3, s=2)", "conv(192, k=5, p=same_upper)",
                  "maxpool(k=3, s=2)", "conv(384, k=3, p=same_upper)",
                  "conv(384, k=3, p=same_upper)", "conv(256, k=3, p=same_upper)",
                  "maxpool(k=3, s=2)"]
        names = ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"]
        return layers, {n: i for i, n in enumerate(names, 1)}
    layers, points = ["conv(32, k=3, s=2, p=same_upper)"], {"Conv2d_0": 1}
    strides = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]
    channels = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024]
    for n, (s, c) in enumerate(zip(strides, channels), 1):
        layers += [f"conv({[32, *channels][n - 1]}, k=3, s={s}, p=same_upper, "
                   f"groups={[32, *channels][n - 1]})", f"conv({c}, k=1)"]
        points[f"Conv2d_{n}_pointwise"] = len(layers)
    return layers, points


# google-research/receptive_field, RECEPTIVE_FIELD_TABLE.md, resolution 224:
# end-point: (rf, effective stride, effective padding)
DISTILL = {
    "vgg_16": {"conv1_1": (3, 1, 1), "pool1": (6, 2, 2), "conv2_1": (10, 2, 4),
               "pool2": (16, 4, 6), "conv3_1": (24, 4, 10), "conv3_2": (32, 4, 14),
               "pool3": (44, 8, 18), "conv4_1": (60, 8, 26), "conv4_2": (76, 8, 34),
               "pool4": (100, 16, 42), "conv5_1": (132, 16, 58), "conv5_2": (164, 16, 74),
               "pool5": (212, 32, 90)},
    "alexnet_v2": {"conv1": (11, 4, 0), "pool1": (19, 8, 0), "conv2": (51, 8, 16),
                   "conv3": (99, 16, 32), "conv4": (131, 16, 48), "conv5": (163, 16, 64),
                   "pool5": (195, 32, 64)},
    "mobilenet_v1": {"Conv2d_0": (3, 2, 0), "Conv2d_1_pointwise": (7, 2, 2),
                     "Conv2d_2_pointwise": (11, 4, 2), "Conv2d_3_pointwise": (19, 4, 6),
                     "Conv2d_4_pointwise": (27, 8, 6), "Conv2d_5_pointwise": (43, 8, 14),
                     "Conv2d_6_pointwise": (59, 16, 14), "Conv2d_7_pointwise": (91, 16, 30),
                     "Conv2d_8_pointwise": (123, 16, 46), "Conv2d_9_pointwise": (155, 16, 62),
                     "Conv2d_10_pointwise": (187, 16, 78),
                     "Conv2d_11_pointwise": (219, 16, 94),
                     "Conv2d_12_pointwise": (251, 32, 94),
                     "Conv2d_13_pointwise": (315, 32, 126)},
}


@pytest.mark.parametrize("name", sorted(DISTILL))
def test_distill_receptive_field_table(name):
    layers, points = _tf_slim(name)
    data = cnnplan.shapes("3x224x224", ["; ".join(layers)]).data
    got = {point: (data["layers"][i - 1]["rf"], data["layers"][i - 1]["jump"],
                   data["layers"][i - 1]["eff_padding"])
           for point, i in points.items() if point in DISTILL[name]}
    assert got == DISTILL[name]


def test_mobilenet_padding_depends_on_the_input_size():
    """At 225 the stride-2 'same' convolutions pad one row before as well: effective padding
    grows (the table's own remark that padding depends on the resolution)."""
    layers, _ = _tf_slim("mobilenet_v1")
    at = {size: cnnplan.shapes(f"3x{size}x{size}", ["; ".join(layers)]).data["layers"][0]
          for size in (224, 225)}
    assert at[224]["eff_padding"] == 0 and at[225]["eff_padding"] == 1


def test_random_same_chains_give_tensorflow_sizes():
    """Chains of same_upper layers: every output size is ceil(i / s), layer after layer."""
    rng = random.Random(5)
    for _ in range(50):
        size, texts, sizes = rng.randint(1, 300), [], []
        i = size
        for _ in range(rng.randint(1, 6)):
            k, s = rng.randint(1, 7), rng.randint(1, 4)
            texts.append(rng.choice([f"conv(1, k={k}, s={s}, p=same_upper)",
                                     f"maxpool(k={k}, s={s}, p=same_lower)"]))
            i = -(-i // s)
            sizes.append(i)
        data = cnnplan.shapes(f"1x{size}", ["; ".join(texts)]).data
        assert [layer["output"][1] for layer in data["layers"]] == sizes


# -- solve --padding ---------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30), st.sampled_from(["same_upper", "same_lower"]))
def test_solve_same_rules_against_brute_force(i, o, rule):
    """--where over k makes solve list every (k, s, d); brute force: every k, s, d within the
    bounds whose brute-force 'same' output is o."""
    expected = {(k, s, d) for k in range(1, 6) for s in range(1, 7) for d in range(1, 4)
                if (k > 1 or d == 1) and brute_same(i, k, s, d, rule)[0] == o}
    try:
        result = cnnplan.solve(f"2x{i}", f"4x{o}", max="k=5,s=6,d=3", where="k >= 1",
                               padding=rule)
    except BadInput:
        assert not expected
        return
    got = {(r["k"], r["s"], r["d"]) for r in result.data["solutions"]}
    assert got == expected and result.exit_code == (0 if expected else 1)
    summary = cnnplan.solve(f"2x{i}", f"4x{o}", max="k=5,s=6,d=3", padding=rule).data
    assert {r["s"] for r in summary["solutions"]} == {s for _, s, _ in expected}


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 25), st.integers(1, 25), st.sampled_from(["floor", "exact"]))
def test_solve_explicit_against_brute_force(i, o, mode):
    """Every (before, after) pair with each side < k' (a window always touches real input):
    the totals that give o, per (k, s, d)."""
    expected = {}
    for k, s, d in itertools.product(range(1, 5), range(1, 5), range(1, 3)):
        ke = d * (k - 1) + 1
        if k == 1 and d > 1:
            continue
        for a, b in itertools.product(range(ke), repeat=2):
            span = i + a + b - ke
            if span >= 0 and span // s + 1 == o and (mode == "floor" or span % s == 0):
                expected.setdefault((k, s, d), set()).add(a + b)
    result = cnnplan.solve(f"2x{i}", f"4x{o}", max="k=4,s=4,d=2", padding="explicit",
                           mode=mode)
    got = {(r["k"], r["s"], r["d"]): set(range(r["p_total"][0], r["p_total"][1] + 1))
           for r in result.data["solutions"]}
    assert got == expected


def test_solve_same_upper_through_the_command(cnnplan_cmd):
    """The issue's question: which k and s with same_upper take 224 to 112? Any k, s = 2."""
    done = cnnplan_cmd("solve", "--in", "3x224x224", "--out", "64x112x112", "--padding",
                       "same_upper")
    assert done.returncode == 0
    assert "1..224  2  same_upper  1..224" in done.stdout
    done = cnnplan_cmd("solve", "--in", "3x224x224", "--out", "64x112x112", "--padding",
                       "same_upper", "--layer", "convT")
    assert done.returncode == 2 and "transposed convolutions" in done.stderr
    done = cnnplan_cmd("solve", "--in", "3x224x224", "--out", "64x111x112", "--padding",
                       "same_lower")
    assert done.returncode == 1 and "nearest sizes same_lower reaches: 112x112" in done.stdout


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(1, 12), st.sampled_from(["same_upper", "same_lower"]),
       st.sampled_from(["floor", "exact"]))
def test_plan_same_rules_against_brute_force(i, o, rule, mode):
    """plan with p=same_upper and a target: every (k, s, d) whose brute-force 'same' output is
    o (exact mode: also s divides i, so no window reads padding the others do not)."""
    expected = {(k, s, d) for k in range(1, 5) for s in range(1, 6) for d in range(1, 3)
                if (k > 1 or d == 1) and brute_same(i, k, s, d, rule)[0] == o
                and (mode == "floor" or i % s == 0)}
    result = cnnplan.plan(f"2x{i}", [f"conv(4, p={rule}) -> 4x{o}"], max="k=4,s=5,d=2",
                          mode=mode, top=1000)
    got = {(c["layers"][0]["k"], c["layers"][0]["s"], c["layers"][0]["d"])
           for c in result.data["chains"]}
    assert got == expected and result.data["count"] == len(expected)


def test_plan_same_rules_free_outputs_and_chains():
    """Two free layers, then a target: sizes follow ceil(i/s) through the chain."""
    result = cnnplan.plan("3x224x224", ["conv(8, k=3, p=same_upper)",
                                        "maxpool(k=3, p=same_lower) -> 8x28x28"],
                          max="s=4,d=1", top=50)
    assert result.data["count"] > 0
    for chain in result.data["chains"]:
        s1, s2 = (layer["s"] for layer in chain["layers"])
        assert -(-(-(-224 // s1)) // s2) == 28
    assert {tuple(layer["s"] for layer in c["layers"]) for c in result.data["chains"]} == {
        (s1, s2) for s1 in range(1, 5) for s2 in range(1, 5) if -(-(-(-224 // s1)) // s2) == 28}
