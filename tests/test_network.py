"""The forward pass (`cnnplan shapes`): PyTorch is the oracle for every shape, parameter count,
MAC count (its FLOP counter) and receptive field (autograd)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnplan
from cnnplan import BadInput
from cnnplan.network.forward import forward
from networks_support import network_case, torch_module

QUESTION_6 = ["conv(64, k=8, s=2)", "maxpool(k=5)", "conv(128, k=4, p=1)"]


def test_question_6_output_and_parameters():
    result = cnnplan.shapes("3x256x256", QUESTION_6)
    data = result.data
    assert data["output"] == [128, 24, 24]
    assert data["size"] == 73728
    last = data["layers"][-1]
    assert (last["weights"], last["params"]) == (131072, 131200)
    assert [layer["output"] for layer in data["layers"]] == [[64, 125, 125], [64, 25, 25],
                                                             [128, 24, 24]]
    assert [layer["rf"] for layer in data["layers"]] == [8, 16, 46]
    assert [layer["jump"] for layer in data["layers"]] == [2, 10, 10]
    assert set(data) >= {"input", "layers", "output", "size", "weights", "params", "macs"}
    # effective padding (Araujo et al.): the sum of each layer's padding times the jump before
    # it: 0, 0, then 1 x 10
    assert [layer["eff_padding"] for layer in data["layers"]] == [0, 0, 10]
    assert set(last) == {"name", "from", "spec", "kind", "output", "size", "weights", "params",
                         "macs", "rf", "jump", "eff_padding", "out_bytes", "saved_bytes"}
    assert [(layer["name"], layer["from"]) for layer in data["layers"]] == [
        ("1", ["input"]), ("2", ["1"]), ("3", ["2"])]


def _run_torch(torch, shape, specs):
    """Apply the specs one by one in torch: (shapes, params, macs) per layer, stopping at the
    first layer torch refuses (its 1-based index is returned as `failed`)."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, *shape)
    outs, params, macs = [], [], []
    for index, spec in enumerate(specs, start=1):
        try:
            module = torch_module(torch, spec, tuple(x.shape[1:]))
            module.eval()
            with torch.no_grad(), FlopCounterMode(display=False) as counter:
                x = module(x)
            if min(x.shape) < 1:
                raise RuntimeError("empty output")
        except (RuntimeError, ValueError):
            return outs, params, macs, index
        outs.append(tuple(x.shape[1:]))
        params.append(sum(p.numel() for p in module.parameters()))
        macs.append(counter.get_total_flops() // 2)
    return outs, params, macs, None


@pytest.mark.oracle
@settings(max_examples=120, deadline=None)
@given(network_case())
def test_shapes_params_and_macs_match_torch(torch, case):
    shape, texts = case
    try:
        net = forward(shape, texts)
    except BadInput as exc:
        specs = [cnnplan.language.specs.parse_spec(t).complete() for t in texts]
        outs, _, _, failed = _run_torch(torch, shape, specs)
        assert failed is not None, f"cnnplan refused ({exc}) but torch accepted {texts}"
        assert f"layer {failed} " in str(exc)
        return
    specs = [step.spec for step in net.steps]
    outs, params, macs, failed = _run_torch(torch, shape, specs)
    assert failed is None, f"torch refused layer {failed} of {texts}"
    assert outs == [step.output for step in net.steps]
    assert params == [step.params for step in net.steps]
    # torch's FLOP counter counts conv, convT (on input positions) and linear: 2 per MAC
    counted = [step.macs if step.spec.kind in ("conv", "convT", "linear") else 0
               for step in net.steps]
    assert macs == counted


@pytest.mark.oracle
@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([
    "conv(1, k=3)", "conv(1, k=2, s=2)", "conv(1, k=3, s=2, d=2)", "conv(1, k=1, s=3)",
    "convT(1, k=4, s=2, p=1)", "convT(1, k=3, s=2)", "convT(1, k=2, s=3)",
    "convT(1, k=3, s=1, d=2)", "avgpool(k=3, s=2)", "maxpool(k=2, s=2, d=2)",
    "conv(1, k=5, s=3, p=2)", "relu"]), min_size=1, max_size=4))
def test_receptive_field_matches_autograd(torch, texts):
    """rf = the widest span of input positions that one output position depends on."""
    probe = forward((1, 10_000), texts)
    length = 3 * probe.rf + 4 * max(1, int(probe.steps[-1].jump or 1)) + 12
    net = forward((1, length), texts)
    widest = _widest_span(torch, net, length)
    assert widest <= net.steps[-1].rf
    if not any(step.spec.kind == "convT" for step in net.steps):
        assert widest == net.steps[-1].rf


def _widest_span(torch, net, length):
    """The widest span of input positions one output position of `net` depends on (autograd:
    all weights 1, max pooling replaced by a convolution with the same windows)."""
    nn = torch.nn
    modules = []
    for step in net.steps:
        spec = step.spec
        if spec.kind == "maxpool":
            module = nn.Conv1d(1, 1, spec.get("k"), stride=spec.get("s"), padding=spec.get("p"),
                               dilation=spec.get("d"), bias=False)
        else:
            module = torch_module(torch, spec, step.input)
        for p in module.parameters():
            torch.nn.init.constant_(p, 1.0)
        modules.append(module)
    model = nn.Sequential(*modules).double()
    x = torch.ones(1, 1, length, dtype=torch.double)
    jac = torch.autograd.functional.jacobian(lambda t: model(t).flatten(), x).reshape(-1, length)
    widest = 0
    for row in jac:
        support = torch.nonzero(row).flatten()
        if len(support):
            widest = max(widest, int(support[-1] - support[0]) + 1)
    return widest


def test_rf_counts_padding_when_the_window_is_larger_than_the_input(torch):
    """docs/networks.md: rf is the field on an unbounded input, padding included; on a smaller
    input an output reaches fewer real positions (at most the input size)."""
    net = forward((1, 2), ["conv(1, k=3, p=1)"])
    assert net.rf == 3
    assert _widest_span(torch, net, 2) == 2


@pytest.mark.oracle
@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([
    "conv(1, k=3, p=1)", "conv(1, k=2, s=2)", "conv(1, k=3, s=2, d=2, p=2)", "conv(1, k=5, p=4)",
    "maxpool(k=3, s=1, p=1)", "avgpool(k=2, s=1, p=1)", "relu"]), min_size=1, max_size=3),
    st.integers(1, 6))
def test_rf_bounds_the_span_on_small_inputs(torch, texts, length):
    """On any input, the widest gradient span is at most rf and at most the input size."""
    try:
        net = forward((1, length), texts)
    except BadInput:
        return
    assert _widest_span(torch, net, length) <= min(net.rf, length)


@pytest.mark.parametrize("texts, message", [
    (["conv(64, k=8, s=2)", "maxpool(k=5)", "conv(128, k=30, p=1)"],
     "layer 3 conv(128, k=30, p=1): kernel 30 larger than padded input 7 (5 + 2*1)"),
    (["conv(8, k=5, d=20)"], "layer 1 conv(8, k=5, d=20): effective kernel 81 (k=5, d=20) "
                             "larger than padded input 64"),
    (["maxpool(k=3, p=2)"], "layer 1 maxpool(k=3, p=2): padding 2 is more than half the "
                            "kernel 3 (PyTorch requires p <= k // 2 = 1)"),
    (["conv(8, k=3, groups=2)"], "layer 1 conv(8, k=3, groups=2): groups=2 must divide the "
                                 "input channels 3"),
    (["convT(8, k=3, s=2, op=2)"], "output padding op=2 must be smaller than the stride 2 or "
                                   "the dilation 1"),
    (["convT(8, k=1, p=40)"], "layer 1 convT(8, k=1, p=40): output size -16 on an axis of "
                              "size 64"),
    (["linear(10)"], "layer 1 linear(10): linear needs a flat input but gets 3x64x64"),
    (["flatten", "conv(4, k=1)"], "layer 2 conv(4, k=1): conv needs a C x sizes input"),
    (["conv(k=3)"], "layer 1 conv(k=3): conv needs its channels"),
    (["conv(4)"], "layer 1 conv(4): conv needs a kernel size k="),
    (["maxpool(s=2)"], "layer 1 maxpool(s=2): maxpool needs a kernel size k="),
    (["conv(4, k=3) -> 4x62x62", "relu -> 4x9"], None),
])
def test_layers_that_cannot_apply_are_named(texts, message):
    if message is None:  # a target of the wrong rank is reported as a mismatch, exit 1
        result = cnnplan.shapes("3x64x64", texts)
        assert result.exit_code == 1 and "layer 2 gives 4x62x62" in result.notes[0]
        return
    with pytest.raises(BadInput) as info:
        cnnplan.shapes("3x64x64", texts)
    assert message in str(info.value)


def test_targets_and_notes():
    ok = cnnplan.shapes("3x64x64", ["conv(64, k=8, s=2, p=3) -> 64x32x32"])
    assert ok.exit_code == 0
    bad = cnnplan.shapes("3x64x64", ["conv(64, k=8, s=2) -> 64x32x32"])
    assert bad.exit_code == 1
    assert bad.data["mismatches"] == ["layer 1 gives 64x29x29 but its target is 64x32x32"]
    floor = cnnplan.shapes("3x64x64", ["conv(8, k=8, s=3)"])
    assert any("2 padded input rows after the last window are not used" in n for n in floor.notes)


def test_transposed_and_flat_conventions():
    net = forward((4, 5, 5), ["convT(6, k=3, s=2, p=1, groups=2)", "conv(2, k=3)", "flatten",
                              "bn", "linear(10, bias=false)", "sigmoid"])
    convt, conv, flat, bn, linear, _ = net.steps
    assert convt.output == (6, 9, 9)
    assert convt.macs == 4 * 25 * 3 * 9            # on input positions: in x C_out/g x k^2
    assert convt.weights == 4 * 3 * 9 and convt.params == 4 * 3 * 9 + 6
    assert str(convt.jump) == "1/2" and convt.rf == 2  # floor((3-1)/2) + 1
    assert conv.rf == 3 and str(conv.jump) == "1/2"
    assert flat.output == (98,) and flat.rf is None and flat.jump is None
    assert (bn.weights, bn.params, bn.macs) == (98, 196, 98)
    assert (linear.weights, linear.params, linear.macs) == (980, 980, 980)
    assert net.rf == 3


def test_json_jump_is_a_fraction_string_after_transposed_convolutions():
    data = cnnplan.shapes("1x8", ["convT(1, k=2, s=2)", "convT(1, k=2, s=2)"]).data
    assert [layer["jump"] for layer in data["layers"]] == ["1/2", "1/4"]


def test_thousands_of_layers_are_fast_and_iterative():
    texts = ["conv(4, k=3, p=1)", "bn", "relu"] * 1500
    result = cnnplan.shapes("4x32x32", texts)
    assert result.data["output"] == [4, 32, 32]
    assert len(result.data["layers"]) == 4500
    with pytest.raises(BadInput, match="limit is 10000"):
        forward((1, 8), ["relu"] * 10_001)
