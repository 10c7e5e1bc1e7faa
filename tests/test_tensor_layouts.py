"""Layout and attention kinds against PyTorch (issue 21, items 2, 7, 8): shapes and refusals of
permute, flatten(start, end), unflatten, reshape, expand, select, narrow, split, chunk, unbind,
concat(dim), softmax(dim), linear(last=true), matmul, attention and mha equal torch's ops on a
tensor (and the `--format torch` export's); MACs of matrix products and attention equal
torch.utils.flop_counter (FLOPs / 2) and fvcore; receptive fields per axis equal autograd's,
through permutations; `NAME[j]` reads output j; imported models built here equal their torch
forward (shapes by hooks, parameters, MACs by fvcore and the flop counter)."""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cnnplan
from cnnplan import BadInput


def text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(str, value)) + ")"
    return str(value)


def spec(kind, **values) -> str:
    args = ", ".join(f"{name}={text(v)}" for name, v in values.items())
    return f"{kind}({args})" if args else kind


def torch_dim(d):
    """cnnplan's axis (no batch) as torch's."""
    return d + 1 if d >= 0 else d


def reference(torch, kind, values, x):
    """torch's own op for a description, written from torch's documentation: a tensor, or a
    tuple of tensors for several outputs."""
    v = values
    if kind == "permute":
        return x.permute(0, *(torch_dim(d) for d in v["dims"]))
    if kind == "flatten":
        return torch.flatten(x, torch_dim(v.get("start", 0)), torch_dim(v.get("end", -1)))
    if kind == "unflatten":
        return x.unflatten(torch_dim(v["dim"]), v["sizes"])
    if kind == "reshape":
        return x.reshape(x.shape[0], *v["shape"])
    if kind == "expand":
        return x.expand(x.shape[0], *v["shape"])
    if kind == "select":
        return x.select(torch_dim(v["dim"]), v["index"])
    if kind == "narrow":
        return x.narrow(torch_dim(v["dim"]), v["start"], v["length"])
    if kind == "split":
        sizes = v["sizes"]
        return torch.split(x, list(sizes) if isinstance(sizes, tuple) else sizes,
                           torch_dim(v["dim"]))
    if kind == "chunk":
        return torch.chunk(x, v["chunks"], torch_dim(v["dim"]))
    if kind == "unbind":
        return torch.unbind(x, torch_dim(v["dim"]))
    if kind == "softmax":
        return torch.softmax(x, torch_dim(v["dim"]))
    raise AssertionError(kind)


def shapes_of(y):
    if isinstance(y, (tuple, list)):
        return [tuple(t.shape[1:]) for t in y]
    return [tuple(y.shape[1:])]


def run(torch, fn):
    try:
        with torch.no_grad():
            y = fn()
    except (RuntimeError, IndexError, ValueError, TypeError):
        return None
    if any(t.numel() == 0 for t in (y if isinstance(y, (tuple, list)) else [y])):
        return None
    return y


def axis(draw, rank):
    return draw(st.integers(-rank, rank - 1))


@st.composite
def layout_case(draw):
    rank = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 6)) for _ in range(rank))
    kind = draw(st.sampled_from(["permute", "flatten", "unflatten", "reshape", "expand",
                                 "select", "narrow", "split", "chunk", "unbind", "softmax"]))
    size = math.prod(shape)
    v: dict = {}
    if kind == "permute":
        dims = list(range(rank))
        v["dims"] = tuple(draw(st.permutations(dims))) if draw(st.integers(0, 5)) else \
            tuple(draw(st.integers(-rank, rank)) for _ in range(rank))
        if rank == 1 and v["dims"] == (0,):
            v["dims"] = (0, 0) if draw(st.booleans()) else v["dims"]
    elif kind == "flatten":
        v["start"], v["end"] = axis(draw, rank), axis(draw, rank)
    elif kind == "unflatten":
        v["dim"] = axis(draw, rank)
        n = shape[v["dim"]]
        a = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]
                                 + [draw(st.integers(1, 4))]))
        v["sizes"] = (a, -1) if draw(st.booleans()) else (a, max(n // a, 1))
    elif kind == "reshape":
        pieces = [d for d in range(1, size + 1) if size % d == 0]
        a = draw(st.sampled_from(pieces))
        v["shape"] = draw(st.sampled_from([(a, -1), (-1, a), (a, size // a), (size,),
                                           (a, -1, 1), (a + 1, -1)]))
    elif kind == "expand":
        v["shape"] = tuple(draw(st.sampled_from([-1, n, 3])) for n in shape)
        if draw(st.integers(0, 3)) == 0:
            v["shape"] = (2, *v["shape"])
    elif kind in ("select", "narrow"):
        v["dim"] = axis(draw, rank)
        n = shape[v["dim"]]
        if kind == "select":
            v["index"] = draw(st.integers(0, n))
        else:
            v["start"] = draw(st.integers(0, n - 1))
            v["length"] = draw(st.integers(1, n))
    elif kind == "split":
        v["dim"] = axis(draw, rank)
        n = shape[v["dim"]]
        if draw(st.booleans()):
            v["sizes"] = draw(st.integers(1, n + 1))
        else:
            cut = draw(st.integers(1, max(n - 1, 1)))
            v["sizes"] = (cut, n - cut + draw(st.sampled_from([0, 0, 1])))
            if v["sizes"][1] < 1:
                v["sizes"] = (n,)
    elif kind == "chunk":
        v["chunks"], v["dim"] = draw(st.integers(1, 7)), axis(draw, rank)
    elif kind == "unbind":
        v["dim"] = axis(draw, rank)
    elif kind == "softmax":
        v["dim"] = axis(draw, rank)
    return shape, kind, v


def cnnplan_shapes(shape, layers):
    """cnnplan.shapes on C x sizes, or on a flat C given as C x 1, flattened."""
    if len(shape) == 1:
        return cnnplan.shapes(f"{shape[0]}x1", ["flatten", *layers]), 1
    return cnnplan.shapes("x".join(map(str, shape)), layers), 0


def _batched_shapes(out) -> list:
    return [tuple(o.shape) for o in (out if isinstance(out, (tuple, list)) else [out])]


def check_layout(torch, case):
    shape, kind, v = case
    layer = spec(kind, **v)
    x = torch.randn(1, *shape)
    expected = run(torch, lambda: reference(torch, kind, v, x))
    at_seven = run(torch, lambda: reference(torch, kind, v, torch.randn(7, *shape)))
    if at_seven is None or {s[0] for s in _batched_shapes(at_seven)} != {7}:
        expected = None      # right at batch 1 only (a new axis in front of the batch)
    try:
        result, skip = cnnplan_shapes(shape, [layer])
    except BadInput as exc:
        if expected is not None and () in shapes_of(expected):
            return     # deliberate: one number per sample has no C x sizes shape
        assert expected is None, f"cnnplan refused {layer} on {shape} ({exc}), torch gives " \
                                 f"{shapes_of(expected)}"
        return
    assert expected is not None, f"torch refuses {layer} on {shape}; cnnplan gives " \
                                 f"{result.data['layers'][-1]}"
    got = result.data["layers"][-1]
    outputs = [tuple(o) for o in got.get("outputs", [got["output"]])]
    assert outputs == shapes_of(expected), layer
    assert got["params"] == got["macs"] == 0
    # the export builds the same thing
    reader = "; ".join(f"identity(from=last[{j}])" for j in range(len(outputs)))
    if len(outputs) > 1 or kind in ("split", "chunk", "unbind"):
        layers = ["flatten"] * skip + [f"last: {layer}", reader]
        exported_check(torch, cnnplan.shapes(f"{shape[0]}x1" if skip else
                                             "x".join(map(str, shape)), layers))
    else:
        exported_check(torch, result)


def exported_check(torch, result):
    namespace: dict = {}
    exec(compile(cnnplan.render(result, "torch"), "<export>", "exec"), namespace)
    assert namespace["check"]() == tuple(result.data["output"])


@pytest.mark.oracle
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layout_case())
def test_layout_kinds_match_torch(torch, case):
    check_layout(torch, case)


NAMED = [
    ((96, 56, 56), "permute", {"dims": (1, 2, 0)}),            # ConvNeXt: channels last
    ((56, 56, 96), "permute", {"dims": (2, 0, 1)}),            # and back
    ((116, 28, 28), "unflatten", {"dim": 0, "sizes": (2, -1)}),   # ShuffleNet's shuffle
    ((58, 2, 28, 28), "flatten", {"start": 0, "end": 1}),
    ((768, 14, 14), "flatten", {"start": 1}),                  # ViT's patches -> tokens
    ((116, 28, 28), "chunk", {"chunks": 2, "dim": 0}),         # ShuffleNet's branches
    ((5, 4), "chunk", {"chunks": 4, "dim": 0}),                # torch: 3 pieces of 2, 2, 1
    ((6, 4), "chunk", {"chunks": 4, "dim": 0}),                # torch: 3 pieces, not 4
    ((128, 8, 8), "split", {"sizes": 64, "dim": 0}),           # CSP: x.split(C // 2, dim=1)
    ((7, 3), "split", {"sizes": (3, 4), "dim": 0}),
    ((7, 3), "split", {"sizes": (3, 3), "dim": 0}),            # torch refuses: 6 of 7
    ((197, 768), "select", {"dim": 0, "index": 0}),            # ViT's class token x[:, 0]
    ((3, 4, 8), "unbind", {"dim": 0}),                         # q, k, v = qkv.unbind(0)
    ((1, 1, 8), "expand", {"shape": (-1, 5, -1)}),             # class token expand
    ((4, 3), "expand", {"shape": (5, -1)}),                    # torch refuses 4 -> 5
    ((2, 3, 4), "reshape", {"shape": (6, -1)}),
    ((2, 3, 4), "reshape", {"shape": (5, -1)}),                # 24 is not 5 x n
    ((4, 6, 6), "softmax", {"dim": -1}),
]


@pytest.mark.oracle
@pytest.mark.parametrize("shape, kind, values", NAMED)
def test_named_layouts_match_torch(torch, shape, kind, values):
    check_layout(torch, (shape, kind, values))


# -- concat along other axes, linear on the last axis -----------------------------------------

def with_second(a, b, layer):
    """A network on input shape `a` that makes a second tensor of shape `b` from it (flatten,
    linear, reshape) and then applies the join `layer` (which names them input and b)."""
    return cnnplan.shapes("x".join(map(str, a)), [
        f"flat: flatten; wide: linear({math.prod(b)}, last=true); "
        f"b: reshape(shape={text(b)}); j: {layer}"])


@pytest.mark.oracle
@pytest.mark.parametrize("a, b, dim", [((1, 768), (196, 768), 0), ((4, 1, 8), (4, 3, 8), 1),
                                       ((4, 2, 8), (4, 3, 8), 2), ((4, 2), (5, 2), 1),
                                       ((4, 2, 8), (4, 3, 8), 0)])
def test_concat_along_an_axis_matches_torch(torch, a, b, dim):
    expected = run(torch, lambda: torch.cat([torch.zeros(1, *a), torch.zeros(1, *b)],
                                            torch_dim(dim)))
    try:
        result = with_second(a, b, f"concat(input, b, dim={dim})")
    except BadInput:
        assert expected is None
        return
    assert expected is not None
    assert tuple(result.data["output"]) == tuple(expected.shape[1:])
    exported_check(torch, result)


@pytest.mark.oracle
@pytest.mark.parametrize("shape, features, bias", [((197, 768), 3072, True),
                                                   ((56, 56, 96), 384, False), ((10,), 4, True)])
def test_linear_on_the_last_axis_matches_torch(torch, shape, features, bias):
    from torch.utils.flop_counter import FlopCounterMode

    module = torch.nn.Linear(shape[-1], features, bias=bias)
    x = torch.randn(1, *shape)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = module(x)
    result, _ = cnnplan_shapes(shape, [f"linear({features}, last=true, bias={text(bias)})"])
    got = result.data["layers"][-1]
    assert tuple(got["output"]) == tuple(y.shape[1:])
    assert got["params"] == sum(p.numel() for p in module.parameters())
    assert got["macs"] == counter.get_total_flops() // 2
    exported_check(torch, result)


def test_linear_on_a_non_flat_input_still_asks_for_flatten():
    with pytest.raises(BadInput, match=r"put flatten before it \(or linear\(N, last=true\)"):
        cnnplan.shapes("4x5x5", ["linear(3)"])


# -- matrix products and attention: shapes, refusals, MACs ----------------------------------

@st.composite
def matmul_case(draw):
    lead = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2))))
    n, k, m = (draw(st.integers(1, 6)) for _ in range(3))
    other_lead = tuple(draw(st.sampled_from([1, d, d + 1])) for d in lead)
    if draw(st.booleans()):
        other_lead = other_lead[1:]
    k2 = k if draw(st.integers(0, 5)) else k + 1
    return (*lead, n, k), (*other_lead, k2, m)


def flop_macs(torch, fn):
    """MACs as torch.utils.flop_counter counts them (FLOPs / 2). Attention runs on torch's
    math backend: the counter has no formula for CPU's fused kernel
    (_scaled_dot_product_flash_attention_for_cpu) and would count its products as 0."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        y = fn()
    return y, counter.get_total_flops() // 2


def every_batch(torch, fn, *shapes):
    """fn's output at batch 1 if torch gives a batch-first output of the same shape at batch 1
    and at batch 7 (tensors of different ranks line a batch up with a feature axis: torch
    accepts some of them at batch 1 only), else None."""
    outputs = [run(torch, lambda: fn(*(torch.randn(n, *s) for s in shapes))) for n in (1, 7)]
    if any(out is None or out.shape[0] != n for out, n in zip(outputs, (1, 7))):
        return None
    return outputs[0] if outputs[0].shape[1:] == outputs[1].shape[1:] else None


@pytest.mark.oracle
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(matmul_case())
def test_matmul_matches_torch_and_the_flop_counter(torch, case):
    a, b = case
    x, w = torch.randn(1, *a), torch.randn(1, *b)
    expected = every_batch(torch, torch.matmul, a, b)
    try:
        result = with_second(a, b, "matmul(input, b)")
    except BadInput as exc:
        assert expected is None or len(a) < 2, (a, b, str(exc))
        return
    assert expected is not None, (a, b)
    got = result.data["layers"][-1]
    assert tuple(got["output"]) == tuple(expected.shape[1:])
    _, macs = flop_macs(torch, lambda: torch.matmul(x, w))
    assert got["macs"] == macs
    exported_check(torch, result)


@pytest.mark.oracle
def test_matmul_macs_equal_fvcore(torch):
    from fvcore.nn import FlopCountAnalysis

    class Scores(torch.nn.Module):
        def forward(self, q):
            return torch.matmul(q, q.transpose(-1, -2))

    q = torch.randn(1, 4, 50, 16)
    fv = FlopCountAnalysis(Scores(), q)
    fv.unsupported_ops_warnings(False)
    result = cnnplan.shapes("4x50x16", ["k: permute(dims=(0, 2, 1)); matmul(input, k)"])
    assert result.data["layers"][-1]["macs"] == fv.total() == 4 * 50 * 50 * 16


@pytest.mark.oracle
@pytest.mark.parametrize("q, k, v", [((4, 10, 8), (4, 12, 8), (4, 12, 6)),
                                     ((2, 3, 7, 5), (2, 3, 9, 5), (2, 3, 9, 5)),
                                     ((10, 8), (12, 8), (12, 8)),
                                     ((4, 10, 8), (4, 12, 7), (4, 12, 6))])   # widths differ
def test_attention_matches_torch_and_the_flop_counter(torch, q, k, v):
    import torch.nn.functional as F

    tensors = [torch.randn(1, *s) for s in (q, k, v)]
    expected = run(torch, lambda: F.scaled_dot_product_attention(*tensors))
    layers = (f"k: linear({math.prod(k)}, last=true, from=flat); kk: reshape(shape={text(k)}); "
              f"v: linear({math.prod(v)}, last=true, from=flat); vv: reshape(shape={text(v)}); "
              "attention(input, kk, vv)")
    try:
        result = cnnplan.shapes("x".join(map(str, q)), [f"flat: flatten; {layers}"])
    except BadInput:
        assert expected is None
        return
    got = result.data["layers"][-1]
    assert tuple(got["output"]) == tuple(expected.shape[1:])
    _, macs = flop_macs(torch, lambda: F.scaled_dot_product_attention(*tensors))
    lead = math.prod(q[:-2])
    assert got["macs"] == macs == lead * q[-2] * k[-2] * (q[-1] + v[-1])   # QK^T + AV
    exported_check(torch, result)


@pytest.mark.oracle
@pytest.mark.parametrize("length, width, heads, bias", [(197, 64, 4, True), (50, 48, 6, False),
                                                        (7, 12, 1, True)])
def test_mha_matches_torch_and_the_flop_counter(torch, length, width, heads, bias):
    module = torch.nn.MultiheadAttention(width, heads, bias=bias, batch_first=True)
    x = torch.randn(1, length, width)
    # grad mode keeps torch off its fused fast path, so the counter sees every product
    (y, _), macs = flop_macs(torch, lambda: module(x, x, x, need_weights=False))
    result = cnnplan.shapes(f"{length}x{width}", [f"mha({heads}, bias={text(bias)})"])
    got = result.data["layers"][-1]
    assert tuple(got["output"]) == tuple(y.shape[1:])
    assert got["params"] == sum(p.numel() for p in module.parameters())
    assert got["macs"] == macs == 4 * length * width ** 2 + 2 * length ** 2 * width
    assert any("Q K^T and A V" in note for note in result.notes)
    exported_check(torch, result)


def test_mha_needs_heads_dividing_the_width():
    with pytest.raises(BadInput, match="5 heads must divide the width 12"):
        cnnplan.shapes("7x12", ["mha(5)"])


# -- receptive fields per axis, through permutations: autograd ----------------------------------

def widest_per_axis(torch, model, shape):
    """Per spatial axis, the widest span of input positions one output position depends on
    (the output position with the most, over all channels; positions away from the borders)."""
    x = torch.rand(1, *shape, dtype=torch.double, requires_grad=True)
    y = model(x)
    best = [0] * (len(shape) - 1)
    centre = [s // 2 for s in y.shape[2:]]
    out = y[(0, slice(None), *centre)].sum()
    (grad,) = torch.autograd.grad(out, x)
    support = torch.nonzero(grad[0].abs().sum(0))
    for a in range(len(best)):
        best[a] = int(support[:, a].max() - support[:, a].min()) + 1
    return best


@st.composite
def per_axis_chain(draw):
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "maxpool", "permuted_linear"]))
        if kind == "permuted_linear":
            layers.append(("permuted_linear", None))
            continue
        k = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
        s = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        layers.append((kind, (k, s)))
    return layers


@pytest.mark.oracle
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(per_axis_chain())
def test_rf_per_axis_matches_autograd_through_permutes(torch, layers):
    """Windows with different kernels per axis, and ConvNeXt's channels-last linear between
    two permutes: cnnplan's rf per axis is autograd's (all weights 1, max pooling as a
    convolution with the same windows)."""
    nn = torch.nn
    modules, specs = [], []
    for kind, values in layers:
        if kind == "permuted_linear":
            modules += [Permute(0, 2, 3, 1), nn.Linear(2, 2), Permute(0, 3, 1, 2)]
            specs += ["permute(dims=(1, 2, 0))", "linear(2, last=true)",
                      "permute(dims=(2, 0, 1))"]
            continue
        k, s = values
        modules.append(nn.Conv2d(2, 2, k, stride=s, bias=False))
        specs.append(f"{kind if kind == 'conv' else 'maxpool'}("
                     + ("2, " if kind == "conv" else "") + f"k={text(k)}, s={text(s)})")
    model = nn.Sequential(*modules).double()
    for p in model.parameters():
        nn.init.constant_(p, 1.0)
    shape = (2, 96, 96)
    try:
        result = cnnplan.shapes("2x96x96", specs)
    except BadInput:
        return
    rf = result.data["layers"][-1]["rf"]
    rf = rf if isinstance(rf, list) else [rf, rf]
    assume(min(result.data["output"][1:]) >= 3)
    assert widest_per_axis(torch, model, shape) == rf, specs


@pytest.mark.oracle
@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.one_of(st.none(), st.integers(-15, 15)),
       st.one_of(st.none(), st.integers(-15, 15)), st.one_of(st.none(), st.integers(1, 4)))
def test_slice_is_pythons_at_every_size(torch, size, start, stop, step):
    """slice(dim=1, start=, stop=, step=) gives torch's x[:, :, start:stop:step] (negative
    bounds, clamping), or refuses where that selects nothing."""
    bounds = {"start": start, "stop": stop, "step": step}
    spec = "slice(dim=1" + "".join(f", {k}={v}" for k, v in bounds.items() if v is not None) + ")"
    expected = tuple(torch.zeros(1, 3, size, 5)[:, :, start:stop:step].shape[1:])
    if expected[1] == 0:
        with pytest.raises(BadInput, match="selects no position"):
            cnnplan.shapes(f"3x{size}x5", [spec])
    else:
        assert tuple(cnnplan.shapes(f"3x{size}x5", [spec]).data["output"]) == expected


@pytest.mark.oracle
def test_rf_through_a_strided_slice_and_a_negative_select_is_autograds(torch):
    """A spatial slice with a step is a 1-wide window of that stride: the fields after it
    equal autograd's; a select on the other axis keeps this one's."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(2, 2, 3, bias=False), nn.Conv2d(2, 2, 3, bias=False)

        def forward(self, x):
            return self.b(self.a(x)[:, :, 1::2])

    model = Net().double()
    for p in model.parameters():
        nn.init.constant_(p, 1.0)
    result = cnnplan.shapes("2x40x40", ["conv(2, k=3, bias=false); slice(dim=1, start=1, "
                                        "step=2); conv(2, k=3, bias=false)"])
    assert result.data["layers"][-1]["rf"] == widest_per_axis(torch, model, (2, 40, 40)) \
        == [7, 5]


class Permute:
    """A parameterless module: x.permute(dims)."""

    def __new__(cls, *dims):
        import torch

        class _Permute(torch.nn.Module):
            def forward(self, x):
                return x.permute(*dims)
        return _Permute()


@pytest.mark.oracle
def test_inception_branches_report_rf_per_axis(torch):
    """Inception-v3's 1x7 then 7x1 factorised branch after a 3x3: autograd's spans per axis
    differ, and the table shows both."""
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 1, 3, bias=False), nn.Conv2d(1, 1, (1, 7), bias=False),
                          nn.Conv2d(1, 1, (1, 7), bias=False), nn.Conv2d(1, 1, (7, 1),
                                                                        bias=False)).double()
    for p in model.parameters():
        nn.init.constant_(p, 1.0)
    result = cnnplan.shapes("1x40x40", ["conv(1, k=3, bias=false); conv(1, k=(1, 7), bias=false);"
                                        " conv(1, k=(1, 7), bias=false); "
                                        "conv(1, k=(7, 1), bias=false)"])
    rf = result.data["layers"][-1]["rf"]
    assert rf == widest_per_axis(torch, model, (1, 40, 40)) == [9, 15]
    assert result.data["layers"][0]["rf"] == 3          # a number where the axes agree
    table = cnnplan.render(result, "table")
    assert " 9x15 " in table


def test_rf_ends_where_positions_merge_and_moves_with_permute():
    result = cnnplan.shapes("8x16x16", ["conv(8, k=(3, 5), p=(1, 2)); permute(dims=(1, 2, 0)); "
                                        "permute(dims=(1, 0, 2)); permute(dims=(2, 1, 0)); "
                                        "flatten(start=1)"])
    rfs = [layer["rf"] for layer in result.data["layers"]]
    # the input's axes, in its order, however the tensor is laid out; merged: no rf
    assert rfs == [[3, 5], [3, 5], [3, 5], [3, 5], None]


# -- several outputs: NAME[j] ---------------------------------------------------------------

@pytest.mark.parametrize("layers, message", [
    ("a: chunk(2); conv(4, k=3)", "reads a, but a has several outputs; read one, as in a[0]"),
    ("a: chunk(2); conv(4, k=3, from=a[2])", "reads a[2], but a has 2 outputs (0 to 1)"),
    ("a: conv(4, k=1); conv(4, k=3, from=a[0])", "reads a[0], but a has one output"),
    ("a: chunk(2); conv(4, k=3, from=a[x])", "expected an output number, found 'x'"),
    ("a: chunk(2); conv(4, k=3, from=b[0])", "reads 'b', but no earlier layer is called that"),
])
def test_output_references_refuse_in_one_line(cnnplan_cmd, layers, message):
    from click.testing import CliRunner

    from cnnplan.cli import cli

    done = cnnplan_cmd("shapes", "--in", "8x8x8", layers)
    assert done.returncode == 2 and not done.stdout and "Traceback" not in done.stderr
    assert message in done.stderr and done.stderr.count("\n") == 1
    ran = CliRunner().invoke(cli, ["shapes", "--in", "8x8x8", layers])
    assert ran.exit_code == 2 and message in ran.output


def test_plan_files_read_output_j(tmp_path, cnnplan_cmd):
    plan = tmp_path / "csp.toml"
    plan.write_text('input = "64x16x16"\n'
                    '[[layers]]\nname = "halves"\nspec = "split(32)"\n'
                    '[[layers]]\nname = "b"\nspec = "conv(32, k=3, p=1)"\nfrom = "halves[1]"\n'
                    '[[layers]]\nspec = "concat"\nfrom = ["halves[0]", "b"]\n')
    done = cnnplan_cmd("shapes", str(plan), "--format", "json")
    assert done.returncode == 0, done.stderr
    import json

    layers = json.loads(done.stdout)["layers"]
    assert layers[0]["outputs"] == [[32, 16, 16], [32, 16, 16]]
    assert layers[1]["from"] == ["halves[1]"] and layers[2]["output"] == [64, 16, 16]
    refused = cnnplan_cmd("plan", str(plan))
    assert refused.returncode == 2 and "several outputs" in refused.stderr


# -- imported models: torch forward with hooks, params, fvcore and the flop counter ------------

def hooked_shapes(torch, model, x):
    """{module name: output shape without the batch} from a real forward."""
    found = {}

    def hook(name):
        def record(module, inputs, output):
            if isinstance(output, torch.Tensor):
                found[name] = tuple(output.shape[1:])
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if n]
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return found


def check_import(torch, model, shape):
    """Import `model`; every module layer's shape equals the hooked forward's, params equal
    sum(p.numel()); returns (result of cnnplan shapes on the plan, plan layers by name)."""
    imported = cnnplan.import_model(model, "x".join(map(str, shape)))
    result = cnnplan.shapes(plan_text=imported.data["plan"])
    layers = {layer["name"]: layer for layer in result.data["layers"]}
    hooked = hooked_shapes(torch, model.eval(), torch.randn(2, *shape))
    # plan names of a top-level nn.Sequential's children get a leading underscore
    hooked = {("_" + n if n[0].isdigit() else n): s for n, s in hooked.items()}
    compared = [name for name in layers if name in hooked]
    assert compared
    for name in compared:
        assert tuple(layers[name]["output"]) == hooked[name], name
    assert result.data["params"] == sum(p.numel() for p in model.parameters())
    return result, layers


def shuffle_net_block(torch):
    """ShuffleNet-V2's stride-1 unit, written as torchvision writes it (chunk, branch, cat,
    channel shuffle by view / transpose / contiguous / view)."""
    nn = torch.nn

    def channel_shuffle(x, groups):
        batch, channels, height, width = x.size()
        x = x.view(batch, groups, channels // groups, height, width)
        x = torch.transpose(x, 1, 2).contiguous()
        return x.view(batch, channels, height, width)

    class Unit(nn.Module):
        def __init__(self, c=24):
            super().__init__()
            half = c // 2
            self.branch2 = nn.Sequential(nn.Conv2d(half, half, 1, bias=False),
                                         nn.BatchNorm2d(half), nn.ReLU(),
                                         nn.Conv2d(half, half, 3, padding=1, groups=half),
                                         nn.BatchNorm2d(half), nn.Conv2d(half, half, 1),
                                         nn.ReLU())

        def forward(self, x):
            x1, x2 = x.chunk(2, dim=1)
            return channel_shuffle(torch.cat((x1, self.branch2(x2)), dim=1), 2)

    return nn.Sequential(nn.Conv2d(3, 24, 3, stride=2, padding=1), Unit(), Unit())


def conv_linear_macs_fvcore(model, x):
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(model.eval(), x)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    ops = analysis.by_operator()
    return ops.get("conv", 0) + ops.get("linear", 0) + ops.get("addmm", 0)


@pytest.mark.oracle
def test_shufflenet_unit_imports_exactly(torch):
    model = shuffle_net_block(torch)
    result, layers = check_import(torch, model, (3, 32, 32))
    kinds = [layer["kind"] for layer in result.data["layers"]]
    assert {"chunk", "unflatten", "permute", "flatten"} <= set(kinds)
    conv = sum(layer["macs"] for layer in result.data["layers"] if layer["kind"] == "conv")
    assert conv == conv_linear_macs_fvcore(model, torch.randn(1, 3, 32, 32))
    # the branch reads output 1 of the chunk, the cat output 0
    assert any(source.endswith("chunk[1]") for layer in result.data["layers"]
               for source in layer["from"])
    # at another input size the plan still equals torch (nothing frozen in the shuffle)
    plan = cnnplan.import_model(model, "3x32x32").data["plan"]
    other = cnnplan.shapes(plan_text=plan.replace('input = "3x32x32"', 'input = "3x20x20"'))
    with torch.no_grad():
        y = model.eval()(torch.randn(1, 3, 20, 20))
    assert tuple(other.data["output"]) == tuple(y.shape[1:])


def tiny_vit(torch, width=32, heads=4, patch=8):
    """A vision transformer from torch.nn modules: patch embedding by a strided conv, tokens
    by flatten + transpose, pre-norm encoder blocks with nn.MultiheadAttention and an MLP of
    nn.Linear on the last axis, the first token's features to a head."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(width)
            self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
            self.ln_2 = nn.LayerNorm(width)
            self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(),
                                     nn.Linear(4 * width, width))

        def forward(self, x):
            y = self.ln_1(x)
            y, _ = self.attention(y, y, y, need_weights=False)
            x = x + y
            return x + self.mlp(self.ln_2(x))

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Conv2d(3, width, patch, stride=patch)
            self.blocks = nn.Sequential(Block(), Block())
            self.head = nn.Linear(width, 10)

        def forward(self, x):
            x = self.embed(x).flatten(2).transpose(1, 2)
            x = self.blocks(x)
            return self.head(x[:, 0])

    return ViT()


@pytest.mark.oracle
def test_vision_transformer_imports_with_attention_macs(torch):
    model = tiny_vit(torch)
    result, layers = check_import(torch, model, (3, 32, 32))
    kinds = {layer["kind"] for layer in result.data["layers"]}
    assert {"mha", "permute", "flatten", "select", "linear"} <= kinds
    model.train(False)
    x = torch.randn(1, 3, 32, 32)
    _, flop_total = flop_macs(torch, lambda: model(x))   # grad mode: no fused fast path
    counted = sum(layer["macs"] for layer in result.data["layers"]
                  if layer["kind"] in ("conv", "linear", "mha"))
    assert counted == flop_total
    assert layers["embed"]["rf"] == 8 and layers["blocks.0.attention"]["rf"] is None


def conv_next_block(torch, c=16):
    """ConvNeXt's block as torchvision writes it, without the layer scale: depthwise 7x7,
    permute to channels last, LayerNorm, Linear 4C, GELU, Linear C, permute back, add."""
    nn = torch.nn

    class Permute(nn.Module):
        def __init__(self, dims):
            super().__init__()
            self.dims = dims

        def forward(self, x):
            return torch.permute(x, self.dims)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = nn.Sequential(nn.Conv2d(c, c, 7, padding=3, groups=c),
                                       Permute([0, 2, 3, 1]), nn.LayerNorm(c),
                                       nn.Linear(c, 4 * c), nn.GELU(), nn.Linear(4 * c, c),
                                       Permute([0, 3, 1, 2]))

        def forward(self, x):
            return x + self.block(x)

    return nn.Sequential(nn.Conv2d(3, c, 4, stride=4), Block(), Block())


@pytest.mark.oracle
def test_convnext_block_imports_with_rf_through_permutes(torch):
    model = conv_next_block(torch)
    result, layers = check_import(torch, model, (3, 64, 64))
    macs = sum(layer["macs"] for layer in result.data["layers"]
               if layer["kind"] in ("conv", "linear"))
    assert macs == conv_linear_macs_fvcore(model, torch.randn(1, 3, 64, 64))
    rf = result.data["layers"][-1]["rf"]
    assert widest_per_axis(torch, model.double(), (3, 64, 64)) == [rf, rf]
    assert rf == 4 + 6 * 4 + 6 * 4       # stem 4, then two 7x7 windows at jump 4


def test_torchvision_shufflenet_v2_imports_exactly():
    """The real model where torchvision is installed (not a CI dependency)."""
    import sys
    import types

    torch = pytest.importorskip("torch")
    sys.modules.setdefault("torchvision._meta_registrations",
                           types.ModuleType("torchvision._meta_registrations"))
    models = pytest.importorskip("torchvision.models")
    pytest.importorskip("fvcore")
    model = models.shufflenet_v2_x0_5()
    result, _ = check_import(torch, model, (3, 96, 96))
    macs = sum(layer["macs"] for layer in result.data["layers"]
               if layer["kind"] in ("conv", "linear"))
    assert macs == conv_linear_macs_fvcore(model, torch.randn(1, 3, 96, 96))


@pytest.mark.skipif(not os.environ.get("CNNPLAN_SLOW_ORACLES"),
                    reason="about 25 s: CNNPLAN_SLOW_ORACLES=1 runs it")
def test_torchvision_inception_v3_rf_per_axis_equals_autograd():
    """Inception-v3's 1x7 branch in Mixed_6b: autograd's support of one output position spans
    159 rows and 255 columns of the input; the imported plan says [159, 255]
    (CNNPLAN_SLOW_ORACLES=1 python -m pytest tests/test_tensor_layouts.py -k inception)."""
    import sys
    import types

    torch = pytest.importorskip("torch")
    sys.modules.setdefault("torchvision._meta_registrations",
                           types.ModuleType("torchvision._meta_registrations"))
    models = pytest.importorskip("torchvision.models")
    model = models.inception_v3(init_weights=True, aux_logits=False).eval()
    plan = cnnplan.import_model(model, "3x299x299").data["plan"]
    layers = {layer["name"]: layer for layer in cnnplan.shapes(plan_text=plan).data["layers"]}
    found = {}
    model.Mixed_6b.branch7x7_2.conv.register_forward_hook(
        lambda module, inputs, output: found.setdefault("y", output))
    x = torch.rand(1, 3, 299, 299, requires_grad=True)
    model(x)
    y = found["y"]
    (grad,) = torch.autograd.grad(y[0, :, y.shape[2] // 2, y.shape[3] // 2].sum(), x)
    support = torch.nonzero(grad[0].abs().sum(0))
    spans = [int(support[:, a].max() - support[:, a].min()) + 1 for a in (0, 1)]
    assert layers["Mixed_6b.branch7x7_2.conv"]["rf"] == spans == [159, 255]


# -- hostile specs: a clear BadInput, never an internal error ------------------------------------

LAYOUT_KINDS = ("permute", "flatten", "unflatten", "reshape", "expand", "select", "narrow",
                "split", "chunk", "unbind", "softmax", "linear", "matmul", "attention", "mha",
                "concat", "identity")
VALUES = st.one_of(st.integers(-8, 8), st.tuples(st.integers(-3, 9)),
                   st.tuples(st.integers(-3, 9), st.integers(-3, 9)),
                   st.tuples(st.integers(-2, 5), st.integers(-2, 5), st.integers(-2, 5)),
                   st.sampled_from(["true", "false"]))
REFS = st.sampled_from(["a", "a[0]", "a[1]", "a[7]", "b", "b[0]", "input", "input[0]"])


@st.composite
def hostile_layer(draw):
    kind = draw(st.sampled_from(LAYOUT_KINDS))
    args = [f"{name}={text(draw(VALUES))}" for name in draw(st.lists(st.sampled_from(
        ["dims", "dim", "sizes", "shape", "index", "start", "length", "chunks", "heads",
         "last", "end"]), max_size=3, unique=True))]
    if draw(st.booleans()):
        args.insert(0, text(draw(VALUES)))
    if draw(st.booleans()):
        refs = draw(st.lists(REFS, min_size=1, max_size=3))
        args.append(f"from=({', '.join(refs)})" if len(refs) > 1 else f"from={refs[0]}")
    name = draw(st.sampled_from(["", "a: ", "b: "]))
    return f"{name}{kind}({', '.join(args)})" if args else f"{name}{kind}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_layer(), min_size=1, max_size=4),
       st.sampled_from(["6x4x4", "8x3", "12", "4x2x3x2"]))
def test_hostile_layout_specs_give_bad_input_only(layers, shape):
    try:
        result = cnnplan.shapes(shape, ["; ".join(layers)])
    except BadInput as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for fmt in ("table", "json", "torch"):
        assert cnnplan.render(result, fmt)


# -- reductions, stack, expandas, div and sub (issue 21: ECA, SK, ResNeSt, ConvNeXt-V2) -------

@pytest.mark.oracle
@pytest.mark.parametrize("kind", ["sum", "mean", "norm"])
@pytest.mark.parametrize("shape, dims, keepdim", [
    ((4, 6, 5), (1, 2), True), ((4, 6, 5), (1, 2), False), ((4, 6, 5), 0, True),
    ((4, 6, 5), 0, False), ((2, 4, 6, 5), 0, False), ((6, 5, 4), -1, True),
    ((4, 6, 5), (0, 1, 2), True), ((4, 6, 5), (0, 1, 2), False), ((4, 6, 5), (1, 1), False),
    ((4, 6, 5), 3, False), ((3, 7), (-2,), False)])
def test_reductions_match_torch(torch, kind, shape, dims, keepdim):
    """sum, mean and norm over given axes equal torch's shapes (x.sum(dim, keepdim),
    torch.linalg.vector_norm) or refuse where torch does; every axis reduced without keepdim
    (one number per sample) is refused deliberately; MACs and parameters 0; the export runs."""
    torch_dims = tuple(torch_dim(d) for d in dims) if isinstance(dims, tuple) else torch_dim(dims)
    x = torch.randn(1, *shape)
    fn = {"sum": lambda: x.sum(torch_dims, keepdim=keepdim),
          "mean": lambda: x.mean(torch_dims, keepdim=keepdim),
          "norm": lambda: torch.linalg.vector_norm(x, 2, torch_dims, keepdim=keepdim)}[kind]
    expected = run(torch, fn)
    layer = spec(kind, dims=dims, keepdim=keepdim)
    try:
        result = cnnplan.shapes("x".join(map(str, shape)), [layer])
    except BadInput as exc:
        assert expected is None or expected.dim() == 1, (layer, str(exc))
        return
    assert expected is not None, layer
    got = result.data["layers"][-1]
    assert tuple(got["output"]) == tuple(expected.shape[1:])
    assert got["macs"] == got["params"] == 0
    exported_check(torch, result)


@pytest.mark.oracle
@pytest.mark.parametrize("shape, n, dim", [((4, 6, 6), 2, 0), ((4, 6, 6), 3, 1), ((4, 6, 6), 2, 3),
                                           ((4, 6, 6), 2, -1), ((5, 3), 2, 2), ((4, 6, 6), 2, 4)])
def test_stack_matches_torch(torch, shape, n, dim):
    x = torch.randn(1, *shape)
    expected = run(torch, lambda: torch.stack([x] * n, torch_dim(dim)))
    names = ", ".join(["input"] * n)
    try:
        result = cnnplan.shapes("x".join(map(str, shape)), [f"stack({names}, dim={dim})"])
    except BadInput:
        assert expected is None
        return
    assert tuple(result.data["output"]) == tuple(expected.shape[1:])
    exported_check(torch, result)


def test_stack_refuses_inputs_of_different_shapes():
    with pytest.raises(BadInput, match="stack needs inputs of one shape"):
        cnnplan.shapes("4x6x6", ["a: conv(4, k=3); stack(input, a)"])


@pytest.mark.oracle
@pytest.mark.parametrize("a, b", [((4, 1, 1), (4, 6, 5)), ((1, 6, 1), (4, 6, 5)),
                                  ((6, 5), (4, 6, 5)), ((4, 2, 1), (4, 6, 5)),
                                  ((4, 6, 5), (4, 6, 5)), ((4, 6, 5), (6, 5))])
def test_expandas_and_broadcast_joins_match_torch(torch, a, b):
    """expandas(a, like) is x.expand_as(y); div and sub broadcast as torch's / and -, at
    every batch size: tensors of different ranks line a batch up with a feature axis, which
    torch accepts at batch 1 only, so cnnplan refuses them."""
    for layer, fn in (("expandas(input, b)", lambda xa, xb: xa.expand_as(xb)),
                      ("div(input, b)", lambda xa, xb: xa / xb),
                      ("sub(b, input)", lambda xa, xb: xb - xa)):
        expected = every_batch(torch, fn, a, b)
        try:
            result = with_second(a, b, layer)
        except BadInput:
            assert expected is None, layer
            continue
        assert expected is not None, layer
        assert tuple(result.data["output"]) == tuple(expected.shape[1:]), layer
        exported_check(torch, result)


def test_scale_with_a_bias_counts_both():
    """scale(param=SHAPE, bias=true) is x * w + b: twice the tensor's size in parameters."""
    result = cnnplan.shapes("8x4x4", ["scale(param=(8, 1, 1), bias=true)"])
    assert result.data["params"] == 16 and result.data["weights"] == 8
    assert "bias=true" in cnnplan.render(result, "table")
    with pytest.raises(BadInput, match="bias=true needs"):
        cnnplan.shapes("8x4x4", ["scale(bias=true)"])


@pytest.mark.oracle
def test_rf_through_expand_is_the_one_source_position(torch):
    """An axis of size 1 expanded: every position reads the one source position, so a window
    over it adds nothing (autograd), and the other axis keeps its field."""
    nn = torch.nn

    class Expand(nn.Module):
        def forward(self, x):
            return x.expand(-1, -1, -1, 7)

    model = nn.Sequential(nn.Conv2d(1, 1, (3, 1)), Expand(), nn.Conv2d(1, 1, 3),
                          nn.Conv2d(1, 1, 3)).double()
    for p in model.parameters():
        nn.init.constant_(p, 1.0)
    for layers in (["conv(1, k=(3, 1)); expand(shape=(-1, -1, 7)); conv(1, k=3); conv(1, k=3)"],
                   ["a: conv(1, k=(3, 1)); b: pad(p=(3, 3, 0, 0)); expandas(a, b); "
                    "conv(1, k=3); conv(1, k=3)"]):
        result = cnnplan.shapes("1x20x1", layers)
        assert result.data["layers"][-1]["rf"] == widest_per_axis(torch, model,
                                                                  (1, 20, 1)) == [7, 1]


@pytest.mark.oracle
def test_rf_of_a_stack_and_a_reduction_over_it(torch):
    """SK-style: two branches stacked on a new feature axis and summed over it: the rf is the
    wider branch's (autograd); a sum over a spatial axis ends it."""
    nn = torch.nn

    class SK(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 5, padding=2)

        def forward(self, x):
            return torch.stack([self.a(x), self.b(x)], dim=1).sum(1)

    model = SK().double()
    for p in model.parameters():
        nn.init.constant_(p, 1.0)
    result = cnnplan.shapes("1x16x16", ["a: conv(1, k=3, p=1); b: conv(1, k=5, p=2, from=input); "
                                        "s: stack(a, b, dim=1); sum(dims=1)"])
    assert result.data["layers"][-1]["rf"] == 5 == widest_per_axis(torch, model, (1, 16, 16))[0]
    gone = cnnplan.shapes("1x16x16", ["conv(1, k=3); sum(dims=1, keepdim=true)"])
    assert gone.data["layers"][-1]["rf"] is None


# -- learned tokens: ViT's class token -----------------------------------------------------------

def joined_tokens(torch, x, param, dim, end):
    """torch's own: a (1, *param) parameter expanded over the batch and concatenated."""
    tokens = torch.zeros(1, *param).expand(x.shape[0], *param)
    return torch.cat([x, tokens] if end else [tokens, x], torch_dim(dim))


TOKENS = [((196, 768), (1, 768), 0, False),      # ViT's class token
          ((196, 768), (2, 768), 0, False),      # DeiT's class and distillation tokens
          ((4, 5, 6), (4, 2, 6), 1, True),
          ((4, 5, 6), (4, 5, 3), -1, False),
          ((4, 5, 6), (4, 2, 5), 1, False),      # torch refuses: 5 is not 6
          ((4, 5, 6), (4, 2), 1, False)]         # torch refuses: 2 axes for 3


@pytest.mark.oracle
@pytest.mark.parametrize("shape, param, dim, end", TOKENS)
def test_tokens_match_torch_and_count_as_parameters(torch, shape, param, dim, end):
    x = torch.randn(2, *shape)
    expected = run(torch, lambda: joined_tokens(torch, x, param, dim, end))
    layer = spec("token", param=param, dim=dim, end=end)
    try:
        result = cnnplan.shapes("x".join(map(str, shape)), [layer])
    except BadInput as exc:
        assert expected is None, f"cnnplan refused {layer} on {shape}: {exc}"
        return
    assert expected is not None, f"torch refuses {layer} on {shape}"
    got = result.data["layers"][-1]
    assert tuple(got["output"]) == tuple(expected.shape[1:])
    assert (got["params"], got["weights"], got["macs"]) == (math.prod(param), 0, 0)
    namespace: dict = {}
    exec(compile(cnnplan.render(result, "torch"), "<export>", "exec"), namespace)
    assert namespace["check"]() == tuple(result.data["output"])
    assert sum(p.numel() for p in namespace["MODEL"].parameters()) == math.prod(param)


@pytest.mark.oracle
def test_rf_through_tokens_moves_as_padding_does(torch):
    """Tokens read no input position: along their axis the input's positions move by their
    number, as padding moves them (autograd: same rf, the field starts that much earlier)."""
    nn = torch.nn

    class Tokens(nn.Module):
        def __init__(self):
            super().__init__()
            self.param = nn.Parameter(torch.ones(1, 1, 2, 10, dtype=torch.double))

        def forward(self, x):
            return torch.cat([self.param.expand(x.shape[0], -1, -1, -1), x], 2)

    model = nn.Sequential(nn.Conv2d(1, 1, 3), Tokens(), nn.Conv2d(1, 1, 3)).double()
    for p in model.parameters():
        nn.init.constant_(p, 1.0)
    result = cnnplan.shapes("1x12x12", ["conv(1, k=3)", "token(param=(1, 2, 10), dim=1)",
                                        "conv(1, k=3)"])
    last = result.data["layers"][-1]
    assert [last["rf"]] * 2 == widest_per_axis(torch, model, (1, 12, 12)) == [5, 5]
    x = torch.rand(1, 1, 12, 12, dtype=torch.double, requires_grad=True)
    y = model(x)
    (grad,) = torch.autograd.grad(y[0, 0, 5, 4], x)
    first_row = int(torch.nonzero(grad[0, 0])[:, 0].min())
    assert first_row == 5 * last["jump"] - last["eff_padding"][0] == 3


def token_vit(torch, tokens=1, check_size=False):
    """tiny_vit with torchvision's ViT input side: learned class token(s) expanded over the
    batch and concatenated before the patches, a learned position embedding added (it fixes
    the token count), and, with check_size, torchvision's torch._assert on the image size."""
    nn = torch.nn
    base = tiny_vit(torch)

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.blocks, self.head = base.embed, base.blocks, base.head
            self.class_token = nn.Parameter(torch.zeros(1, tokens, 32))
            self.pos_embedding = nn.Parameter(torch.randn(1, 16 + tokens, 32))

        def forward(self, x):
            n, _, h, w = x.shape
            if check_size:
                torch._assert(h == 32, "Wrong image height!")
            torch._assert(x.dim() == 4, "an input of 4 axes")      # no size: not tied
            x = self.embed(x).flatten(2).transpose(1, 2)
            x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)
            x = self.blocks(x + self.pos_embedding)
            return self.head(x[:, 0])

    return ViT()


@pytest.mark.oracle
@pytest.mark.parametrize("tokens", [1, 2])
def test_vit_class_token_and_position_embedding_import_exactly(torch, tokens):
    model = token_vit(torch, tokens)
    result, layers = check_import(torch, model, (3, 32, 32))
    assert layers["class_token"]["spec"] == f"token(param=({tokens}, 32), dim=0, end=false)"
    assert layers["pos_embedding"]["spec"] == f"shift(param=({16 + tokens}, 32))"
    model.train(False)
    x = torch.randn(1, 3, 32, 32)
    _, flop_total = flop_macs(torch, lambda: model(x))
    assert flop_total == sum(layer["macs"] for layer in result.data["layers"]
                             if layer["kind"] in ("conv", "linear", "mha"))
    # the position embedding fixes the token count: sizes torch refuses, cnnplan refuses
    plan = cnnplan.import_model(model, "3x32x32").data["plan"]
    sizes = range(20, 45)
    accepted = [n for n in sizes
                if run(torch, lambda n=n: model(torch.zeros(1, 3, n, n))) is not None]
    assert accepted == list(range(32, 40))         # 4 x 4 patches of 8
    assert cnnplan.inputs(plan_text=plan, range="20..44").data["sizes"] == accepted
    with pytest.raises(BadInput, match="broadcast"):
        cnnplan.shapes(plan_text=plan, input="3x40x40")
    # the round trip: the same parameter count and shapes
    namespace: dict = {}
    exec(compile(cnnplan.render(result, "torch"), "<round trip>", "exec"), namespace)
    assert sum(p.numel() for p in namespace["MODEL"].parameters()) == result.data["params"]
    assert namespace["check"]() == tuple(result.data["output"]) == (10,)


@pytest.mark.oracle
def test_a_size_check_in_the_model_fixes_the_plan_to_its_input(torch):
    """torchvision's ViT asserts the image size: torch refuses 3x36x36 though the patches
    fit, so the plan holds for its input only and cnnplan refuses 36 too (fixed_input)."""
    model = token_vit(torch, check_size=True)
    with pytest.raises(AssertionError):
        model(torch.zeros(1, 3, 36, 36))
    imported = cnnplan.import_model(model, "3x32x32")
    assert "torch._assert" in imported.data["fixed_input"]
    assert "1 more" not in imported.data["fixed_input"]      # x.dim() == 4 reads no size
    assert cnnplan.shapes(plan_text=imported.data["plan"]).data["output"] == [10]
    for run_it in (lambda: cnnplan.shapes(plan_text=imported.data["plan"], input="3x36x36"),
                   lambda: cnnplan.inputs(plan_text=imported.data["plan"], range="30..40")):
        with pytest.raises(BadInput, match="holds only for input 3x32x32"):
            run_it()


def test_tokens_on_both_sides_are_refused_in_one_line(torch, tmp_path, cnnplan_cmd):
    model_file = tmp_path / "both.py"
    model_file.write_text(
        "import torch\n"
        "class Both(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.a = torch.nn.Parameter(torch.zeros(1, 1, 8))\n"
        "        self.b = torch.nn.Parameter(torch.zeros(1, 1, 8))\n"
        "    def forward(self, x):\n"
        "        n = x.shape[0]\n"
        "        return torch.cat([self.a.expand(n, -1, -1), x, self.b.expand(n, -1, -1)], 1)\n")
    done = cnnplan_cmd("import", f"{model_file}:Both", "--in", "4x8", "-o",
                       str(tmp_path / "both.toml"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "learned tokens on both sides of a layer" in done.stderr
    shown = cnnplan_cmd("shapes", "--in", "196x768", "cls: token(param=(1, 768)); select(dim=0)")
    assert shown.returncode == 0 and "token(param=(1, 768), dim=0, end=false)  197x768" in \
        shown.stdout


def test_a_fixed_kernel_with_a_gain_is_refused():
    with pytest.raises(BadInput, match="a fixed kernel .* has no learned gain"):
        cnnplan.shapes("4x8x8", ["conv(4, k=3, gain=true, fixed=true)"])
