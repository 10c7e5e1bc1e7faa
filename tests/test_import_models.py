"""`cnnplan import` on the constructions real models use (issue 21), each against torch: a real
forward pass (shapes at the import size and at other sizes), `sum(p.numel())`, and the
one-line messages; then a sample of the zoo (benchmarks/zoo.py) with every oracle, which
covers every class of failure the zoo found (torchvision and timm: skipped where absent)."""

from __future__ import annotations

import os
import sys
import textwrap
import types

import pytest
from click.testing import CliRunner

import cnnplan
from cnnplan import BadInput
from cnnplan.cli import build_cli
from test_importer import Wrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.oracle


def torch_shapes(torch, model, shape):
    """(output shape, {module name: first output shape}) of a real forward pass."""
    seen = {}

    def record(name):
        def hook(module, inputs, output):
            seen.setdefault(name, tuple(output.shape[1:]))     # returns None: output kept
        return hook

    hooks = [m.register_forward_hook(record(n)) for n, m in model.named_modules() if n]
    with torch.no_grad():
        out = model.eval()(torch.zeros(2, *shape))
    for hook in hooks:
        hook.remove()
    return tuple(out.shape[1:]), seen


def specs(text):
    """{layer name: spec} of a plan file's text."""
    import tomllib

    return {layer["name"]: layer["spec"] for layer in tomllib.loads(text)["layers"]}


def check(torch, model, shape, *others):
    """Import at `shape`; the plan's shapes equal torch's at `shape` and at each of `others`,
    and its parameters sum(p.numel()). Returns the plan's text."""
    text = cnnplan.import_model(model, "x".join(map(str, shape))).data["plan"]
    for size in (shape, *others):
        out, seen = torch_shapes(torch, model, size)
        result = cnnplan.shapes(input="x".join(map(str, size)), plan_text=text)
        assert tuple(result.data["output"]) == out
        layers = {layer["name"]: tuple(layer["output"]) for layer in result.data["layers"]}
        for name, expected in seen.items():
            if name in layers:
                assert layers[name] == expected, (name, size)
    assert result.data["params"] == sum(p.numel() for p in model.parameters())
    return text


@pytest.fixture(scope="module")
def blocks(torch):
    """Model pieces as other packages write them."""
    nn, F = torch.nn, torch.nn.functional

    class Conv(nn.Conv2d):            # a subclass that keeps torch's forward: a leaf
        pass

    class BatchNormAct(nn.BatchNorm2d):   # timm's BatchNormAct2d: its own forward
        def __init__(self, c):
            super().__init__(c)
            self.act = nn.ReLU()

        def forward(self, x):
            x = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                             False, 0.0, self.eps)
            return self.act(x)

    class StdConv(nn.Conv2d):          # weight standardisation (BiT, NFNet without gain)
        def forward(self, x):
            w = F.batch_norm(self.weight.reshape(1, self.out_channels, -1), None, None,
                             training=True, momentum=0.0).reshape_as(self.weight)
            return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation,
                            self.groups)

    class ScaledStdConv(StdConv):      # ... with a learned gain: more parameters than a conv
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.gain = nn.Parameter(torch.ones(self.out_channels, 1, 1, 1))

        def forward(self, x):
            return F.conv2d(x, self.weight * self.gain, self.bias, self.stride, self.padding)

    class LayerScale(nn.Module):       # ConvNeXt: x * gamma, reshaped; a learned bias added
        def __init__(self, c):
            super().__init__()
            self.conv = nn.Conv2d(c, c, 3, padding=1)
            self.gamma = nn.Parameter(torch.full((c,), 1e-6))
            self.offset = nn.Parameter(torch.zeros(1, c, 1, 1))

        def forward(self, x):
            y = self.conv(x) * self.gamma.reshape(1, -1, 1, 1)
            return x + y + self.offset

    class HardSE(nn.Module):           # MobileNetV3's squeeze-excitation, timm's hard_sigmoid
        def __init__(self, c):
            super().__init__()
            self.fc = nn.Conv2d(c, c, 1)
            self.gate = nn.Hardsigmoid()

        def forward(self, x):
            s = self.fc(F.adaptive_avg_pool2d(x, 1))
            return x * self.gate(s) * (F.relu6(s + 3.0) / 6.0)

    return types.SimpleNamespace(Conv=Conv, BatchNormAct=BatchNormAct, StdConv=StdConv,
                                 ScaledStdConv=ScaledStdConv, LayerScale=LayerScale,
                                 HardSE=HardSE)


def test_layers_other_packages_write_are_the_layers_they_stand_for(torch, blocks):
    nn = torch.nn
    model = nn.Sequential(blocks.Conv(3, 8, 3, stride=2), blocks.BatchNormAct(8),
                          blocks.StdConv(8, 8, 3, padding=1), blocks.LayerScale(8),
                          blocks.HardSE(8), nn.Hardsigmoid(), nn.LeakyReLU(0.2), nn.ELU(),
                          nn.Mish(), nn.Softplus())
    text = check(torch, model, (3, 17, 17), (3, 32, 32), (3, 9, 12))
    found = specs(text)
    assert found["_0"] == "conv(8, k=3, s=2, p=0, d=1)"
    assert found["_1.batch_norm"] == "bn"     # not the module's output: its act follows
    assert found["_1.act"] == "relu"
    assert found["_2"] == "conv(8, k=3, s=1, p=1, d=1)"
    assert found["_3.gamma"] == "scale(param=(8, 1, 1))"
    assert found["_3.offset"] == "shift(param=(8, 1, 1))"
    assert [found[n] for n in ("_5", "_6", "_7", "_8", "_9")] == [
        "hardsigmoid", "leakyrelu", "elu", "mish", "softplus"]
    assert "scale" in found.values() and "shift" in found.values()   # x / 6.0, s + 3.0


def flops_macs(torch, model, shape) -> int:
    """MACs of a forward pass by torch.utils.flop_counter (FLOPs / 2: convs and linears)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(torch.zeros(1, *shape))
    return counter.get_total_flops() // 2


def round_trip(torch, text, model):
    """The plan's `--format torch` code: its parameters, and the model's state_dict loads by
    the model's own names (strict)."""
    result = cnnplan.shapes(plan_text=text)
    namespace = {"__name__": "cnnplan_round_trip"}
    exec(compile(cnnplan.render(result, "torch"), "<round trip>", "exec"), namespace)
    rebuilt = namespace["MODEL"]
    assert sum(p.numel() for p in rebuilt.parameters()) == result.data["params"]
    rebuilt.load_state_dict(model.state_dict(), strict=True)
    assert namespace["check"]() == tuple(result.data["output"])
    return rebuilt


def test_a_kernel_computed_from_its_own_modules_parameters_is_a_conv(torch, blocks):
    """ScaledStdConv2d (NFNet): weight standardised and times a learned gain per output
    channel: conv(..., gain=true), whose parameters are the module's (kernel, bias, gain)."""
    nn = torch.nn
    model = nn.Sequential(blocks.ScaledStdConv(3, 4, 3, stride=2), nn.ReLU(),
                          blocks.ScaledStdConv(4, 6, (1, 3), bias=False))
    text = check(torch, model, (3, 15, 15), (3, 22, 17))
    assert specs(text)["_0"] == "conv(4, k=3, s=2, p=0, d=1, gain=true)"
    assert specs(text)["_2"] == "conv(6, k=(1, 3), s=1, p=0, d=1, bias=false, gain=true)"
    assert cnnplan.shapes(plan_text=text).data["macs"] == flops_macs(torch, model, (3, 15, 15))
    rebuilt = round_trip(torch, text, model)   # Gained(conv): the gain kept, not the standard-
    assert set(rebuilt.state_dict()) == set(model.state_dict())           # isation
    from torch.nn.utils.parametrizations import spectral_norm, weight_norm

    normed = nn.Sequential(weight_norm(nn.Conv2d(3, 4, 3)), spectral_norm(nn.Conv2d(4, 2, 1)))
    assert list(specs(check(torch, normed, (3, 9, 9), (3, 12, 7))).values()) == [
        "conv(4, k=3, s=1, p=0, d=1, gain=true)", "conv(2, k=1, s=1, p=0, d=1)"]
    with pytest.raises(BadInput, match="its parameters hold 3 values besides the kernel and "
                                       "bias; cnnplan's conv"):
        cnnplan.import_model(nn.Sequential(weight_norm(nn.Conv2d(3, 4, 3), dim=1)), "3x8x8")


def test_an_nfnet_block_imports(torch, blocks):
    """NFNet's block: `gamma * act(x)`, an SE gate of 2 * sigmoid, `x * self.skipinit_gain`
    (a scalar parameter) and `alpha * out + shortcut`, around ScaledStdConv2d."""
    nn, F = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = blocks.ScaledStdConv(4, 4, 3, padding=1)
            self.fc = nn.Conv2d(4, 4, 1)
            self.skipinit_gain = nn.Parameter(torch.tensor(0.0))

        def forward(self, x):
            out = 1.7139 * F.gelu(x) * 0.5
            out = self.conv(out)
            out = out * (2 * torch.sigmoid(self.fc(out.mean((2, 3), keepdim=True))))
            return 0.2 * (out * self.skipinit_gain) + x

    text = check(torch, nn.Sequential(nn.Conv2d(3, 4, 3), Block()), (3, 12, 12), (3, 17, 9))
    assert 'name = "_1.skipinit_gain"\nspec = "scale(param=(1))"' in text


def test_kernels_computed_otherwise_are_refused(torch):
    """A kernel computed from another module's parameters, or from more than one gain per
    output channel, is not a conv of its own: refused, saying why."""
    nn, F = torch.nn, torch.nn.functional

    class Borrowed(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.scale = nn.Parameter(torch.ones(4, 1, 1, 1))

        def forward(self, x):
            return F.conv2d(x, self.conv.weight * self.scale, self.conv.bias)

    class Masked(nn.Conv2d):
        def __init__(self):
            super().__init__(3, 4, 3)
            self.mask = nn.Parameter(torch.ones_like(self.weight))

        def forward(self, x):
            return F.conv2d(x, self.weight * self.mask, self.bias)

    with pytest.raises(BadInput, match=r"computed from 116 parameters of the model of 2 "
                                       r"modules \(, conv\)"):
        cnnplan.import_model(Borrowed(), "3x8x8")
    with pytest.raises(BadInput, match=r"108 more, not one gain per output channel \(4\)"):
        cnnplan.import_model(nn.Sequential(Masked()), "3x8x8")


def blur_pool(torch, channels, mode="reflect"):
    """timm's BlurPool2d: reflect padding, then a fixed binomial filter in a buffer (no
    parameters), depthwise with stride 2."""
    nn, F = torch.nn, torch.nn.functional

    class BlurPool(nn.Module):
        def __init__(self):
            super().__init__()
            coeffs = torch.tensor([1.0, 2.0, 1.0]) / 4
            self.register_buffer("filt", (coeffs[:, None] * coeffs[None, :])[None, None]
                                 .repeat(channels, 1, 1, 1), persistent=False)

        def forward(self, x):
            x = F.pad(x, [1, 1, 1, 1], mode=mode)
            return F.conv2d(x, self.filt, stride=2, groups=channels)
    return BlurPool()


def test_a_fixed_filter_is_a_conv_without_parameters(torch):
    """A blur (anti-aliasing) filter held in a buffer: conv(..., fixed=true), 0 parameters,
    the conv's MACs (torch's flop counter counts them), the conv's receptive field."""
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(3, 4, 3), blur_pool(torch, 4), nn.Conv2d(4, 2, 3))
    text = check(torch, model, (3, 20, 20), (3, 33, 27))
    found = specs(text)
    assert found["_1.pad"] == "pad(p=(1, 1, 1, 1), mode=reflect)"
    assert found["_1"] == "conv(4, k=3, s=2, p=0, d=1, groups=4, bias=false, fixed=true)"
    result = cnnplan.shapes(plan_text=text)
    assert result.data["macs"] == flops_macs(torch, model, (3, 20, 20))
    double = model.double()
    for p in double.parameters():
        nn.init.constant_(p, 1.0)
    from test_tensor_layouts import widest_per_axis

    assert [result.data["layers"][-1]["rf"]] * 2 == widest_per_axis(torch, double, (3, 40, 40))
    rebuilt = round_trip(torch, text, model)      # Fixed(conv): buffers, not parameters
    assert sum(p.numel() for p in rebuilt.parameters()) == sum(
        p.numel() for p in model.parameters())


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_accept_the_sizes_torch_accepts(torch, mode):
    """F.pad's reflect needs pad < size, circular pad <= size, replicate anything: cnnplan's
    pad(mode=) accepts exactly the input sizes a torch forward does."""
    F = torch.nn.functional
    model = Wrap(torch, lambda m, x: F.pad(m.m0(x), (3, 1, 2, 3), mode=mode),
                 torch.nn.Conv2d(1, 2, 3))
    text = check(torch, model, (1, 12, 12), (1, 7, 9))
    assert specs(text)["pad"] == f"pad(p=(3, 1, 2, 3), mode={mode})"
    from cnnplan.network.inputs import inputs

    ours = set(inputs(plan_text=text, range="1..9").data["sizes"])
    theirs = set()
    for size in range(1, 10):
        try:
            model(torch.zeros(1, 1, size, size))
            theirs.add(size)
        except RuntimeError:
            pass
    assert ours == theirs and theirs != set(range(3, 10)) or mode == "replicate"
    round_trip(torch, text, model)


def test_slices_with_constant_bounds_follow_the_input_size(torch):
    """GhostNet's out[:, :self.out_chs] (channels), and slices of a spatial axis with negative
    bounds, steps and bounds past the end: Python's rules at every input size."""
    nn = torch.nn
    model = Wrap(torch, lambda m, x: m.m1(
        torch.cat([m.m0(x), x], 1)[:, :5][:, :, 1:-2][..., ::2][:, :, :, -4:][:, :, :40]
        [:, :, -3]), nn.Conv2d(3, 4, 3, padding=1), nn.Conv1d(5, 2, 1))
    text = check(torch, model, (3, 12, 14), (3, 9, 9), (3, 31, 8))
    assert sorted(spec for spec in specs(text).values() if spec.startswith(("slice", "sel"))) \
        == ["select(dim=1, index=-3)", "slice(dim=0, stop=5)", "slice(dim=1, start=1, stop=-2)",
            "slice(dim=1, stop=40)", "slice(dim=2, start=-4)", "slice(dim=2, step=2)"]
    with pytest.raises(BadInput, match="selects no position of an axis of size 3"):
        cnnplan.shapes(input="3x3x12", plan_text=text)
    round_trip(torch, text, model)


def test_slices_of_several_axes_are_one_layer_per_axis(torch):
    """YOLOv5's Focus (four strided slices of both spatial axes, concatenated), a transposed
    conv's x[:, :, :-1, :-1], and a centre crop read by a conv: exact at every size; a bound
    computed from the input's size ties the plan to it."""
    nn = torch.nn

    def focus(m, x):
        x = torch.cat([x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2],
                       x[..., 1::2, 1::2]], 1)
        return m.m1(m.m0(x)[:, :, :-1, :-1])[:, :, 1:-1, 1:-1]

    model = Wrap(torch, focus, nn.ConvTranspose2d(12, 4, 3, stride=2), nn.Conv2d(4, 2, 3))
    text = check(torch, model, (3, 16, 16), (3, 20, 30), (3, 10, 14))
    assert list(specs(text).values()).count("slice(dim=2, step=2)") == 2
    from cnnplan.network.inputs import inputs

    theirs = set()
    for size in range(1, 25):     # odd sizes: the four slices differ, cat refuses; an empty
        try:                      # output (size 4) is refused by cnnplan
            if model(torch.zeros(1, 3, size, size)).numel():
                theirs.add(size)
        except RuntimeError:
            pass
    assert set(inputs(plan_text=text, range="1..24").data["sizes"]) == theirs
    round_trip(torch, text, model)
    half = Wrap(torch, lambda m, x: m.m0(x[:, :, : x.shape[2] // 2]), nn.Conv2d(3, 2, 3))
    tied = check(torch, half, (3, 16, 16))
    with pytest.raises(BadInput, match="this plan holds only for input 3x16x16"):
        cnnplan.shapes(input="3x20x20", plan_text=tied)
    round_trip(torch, text, model)


def test_skip_unknown_counts_a_reshaped_parameter_it_skips(torch, blocks):
    """--skip-unknown never ends in an internal error: a stored tensor read by a node with no
    kind (here torch.erf of a layer scale) is counted with the placeholder."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.gamma = nn.Parameter(torch.ones(4))

        def forward(self, x):
            return torch.erf(self.conv(x)) * self.gamma.reshape(1, -1, 1, 1)

    result = cnnplan.import_model(Net(), "3x8x8", skip_unknown=True)
    assert result.data["placeholders"] == ["erf"]
    assert 'spec = "scale(param=(4, 1, 1))"' in result.data["plan"]


def test_branches_on_sizes_are_followed_for_the_import_size(torch):
    """timm's VGG ConvMlp: `if x.shape[-2] < 7: x = F.adaptive_avg_pool2d(x, 7)`. fx cannot
    trace a branch; cnnplan traces with the shapes of --in: exact there, and the plan holds for
    that input only (at another size the branch could go the other way)."""
    nn, F = torch.nn, torch.nn.functional

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Conv2d(4, 3, 7)

        def forward(self, x):
            if x.shape[-2] < 7 or x.shape[-1] < 7:
                x = F.adaptive_avg_pool2d(x, (max(7, x.shape[-2]), max(7, x.shape[-1])))
            return self.fc(x)

    model = nn.Sequential(nn.Conv2d(3, 4, 3, stride=4), Head())
    for shape in ((3, 12, 12), (3, 40, 44)):        # the branch taken, and not
        text = check(torch, model, shape)
        assert 'fixed_input = "1 (Head) branches on a size computed from a tensor\'s shape' \
            in text
        assert ('spec = "adaptiveavgpool(7)"' in text) == (shape[1] == 12)
        with pytest.raises(BadInput, match=f"this plan holds only for input "
                                           f"{'x'.join(map(str, shape))}"):
            cnnplan.shapes(input="3x64x64", plan_text=text)

    class Data(nn.Module):
        def forward(self, x):
            return x.relu() if x.sum() > 0 else x

    with pytest.raises(BadInput, match=r"^torch.fx cannot trace Data: TraceError: .*control "
                                       r"flow \(branches on sizes are followed for --in 3x8x8; "
                                       r"this one reads the tensor's values"):
        cnnplan.import_model(Data(), "3x8x8")


def test_a_function_giving_a_tuple_is_refused_in_one_line(torch, tmp_path):
    """torchvision's MViT wraps `_unsqueeze` (fx keeps it whole), which returns (tensor, flag):
    refused naming the node, not an internal error."""
    model = tmp_path / "pair.py"
    model.write_text(textwrap.dedent("""
        import torch
        from torch import nn

        def pair(x):
            return x.unsqueeze(1), True

        torch.fx.wrap("pair")

        class Net(nn.Module):
            def forward(self, x):
                return pair(x)[0]
    """))
    with pytest.raises(BadInput, match=r"^cannot import node 'pair' .*: gives 2 values \(a "
                                       r"tuple\); cnnplan's layers with several outputs"):
        cnnplan.import_model(f"{model}:Net", "3x8x8")


def test_a_size_read_from_another_tensor_stays_tied(torch):
    """FCN's F.interpolate(y, size=x.shape[-2:]) is resize from [y, input]: right at every
    input size (not upsample(size=...) frozen at the import size)."""
    nn, F = torch.nn, torch.nn.functional

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.Conv2d(4, 2, 3, stride=2))

        def forward(self, x):
            return F.interpolate(self.body(x), size=x.shape[-2:], mode="bilinear")

    text = check(torch, Head(), (3, 32, 32), (3, 45, 45), (3, 20, 33))
    assert 'spec = "resize(mode=bilinear)"\nfrom = ["body.1", "input"]' in text


def test_sizes_that_cannot_be_tied_make_the_plan_hold_for_its_input_only(torch):
    """A pad computed from the input's size (TensorFlow's 'same' by hand): shapes and inputs
    at any other size refuse in one line instead of giving a wrong number."""
    nn, F = torch.nn, torch.nn.functional

    class Same(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, stride=2)

        def forward(self, x):
            pad = (-(-x.shape[-1] // 2) - 1) * 2 + 3 - x.shape[-1]     # >= 0 here
            return self.conv(F.pad(x, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2)))

    text = check(torch, Same(), (3, 16, 16))
    assert 'fixed_input = "pad (pad(p=(0, 1, 0, 1))) uses sizes computed' in text
    with pytest.raises(BadInput, match="this plan holds only for input 3x16x16"):
        cnnplan.shapes(input="3x17x17", plan_text=text)
    from cnnplan.network.inputs import inputs

    with pytest.raises(BadInput, match="import the model again with --in"):
        inputs(plan_text=text, range="1..32")


def test_dict_outputs_take_output_key(torch, cnnplan_cmd, tmp_path):
    model = tmp_path / "seg.py"
    model.write_text(textwrap.dedent("""
        import torch.nn as nn

        class Seg(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv, self.aux = nn.Conv2d(3, 2, 1), nn.Conv2d(3, 5, 3)

            def forward(self, x):
                return {"out": self.conv(x), "aux": self.aux(x)}
    """))
    runner = CliRunner()
    result = runner.invoke(build_cli(), ["import", f"{model}:Seg", "--in", "3x8x8"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        "Error: the model returns a dict with keys 'out', 'aux'; choose one with "
        "--output-key KEY")
    proc = cnnplan_cmd("import", f"{model}:Seg", "--in", "3x8x8", "--output-key", "aux")
    assert proc.returncode == 0, proc.stderr
    assert cnnplan.shapes(plan_text=proc.stdout).data["output"] == [5, 6, 6]
    assert "--output-key aux" in proc.stdout


def test_lazy_modules_and_unused_modules(torch):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.LazyConv2d(4, 3)
            self.aux = nn.Linear(100, 10)       # never called in forward (eval-mode aux head)

        def forward(self, x):
            return self.conv(x)

    result = cnnplan.import_model(Net(), "3x8x8")
    assert result.data["params"] == 3 * 4 * 9 + 4
    assert result.data["unused_params"] == 1010
    assert "1,010 parameters of the model are in modules its forward does not use (aux)" \
        in result.data["plan"]


def test_names_stay_unambiguous(torch):
    """A module named block1-0 and the second call of block1 get different names."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.add_module("block1-0", nn.Conv2d(3, 3, 1))
            self.block1 = nn.ReLU()      # no parameters: a module called twice holds them once

        def forward(self, x):
            return self.block1(getattr(self, "block1-0")(self.block1(x)))

    names = list(specs(cnnplan.import_model(Net(), "3x4x4").data["plan"]))
    assert names == ["block1", "block1_0", "block1__1"]


@pytest.mark.parametrize("shape, message", [
    ("1x3x16x16", "--in 1x3x16x16 looks like it includes the batch; give one input without it: "
                  "--in 3x16x16"),
    ("16x16x3", "--in 16x16x3 looks like channels last; cnnplan and PyTorch put the channels "
                "first: --in 3x16x16"),
])
def test_input_mistakes_say_how_to_fix_them(torch, tmp_path, shape, message):
    model = tmp_path / "net.py"
    model.write_text("import torch.nn as nn\n\ndef net():\n    return nn.Conv2d(3, 4, 3)\n")
    result = CliRunner().invoke(build_cli(), ["import", f"{model}:net", "--in", shape])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == f"Error: {message}"


def test_an_instance_a_raising_model_and_sys_exit(torch, tmp_path, cnnplan_cmd):
    model = tmp_path / "script.py"
    model.write_text(textwrap.dedent("""
        import os
        import sys
        import torch.nn as nn

        net = nn.Sequential(nn.Conv2d(3, 4, 3))

        def broken():
            raise ValueError("no weights here")

        if os.environ.get("SCRIPT_EXITS"):
            sys.exit(3)
    """))
    runner = CliRunner()
    ok = runner.invoke(build_cli(), ["import", f"{model}:net", "--in", "3x8x8"])
    assert ok.exit_code == 0 and 'spec = "conv(4, k=3, s=1, p=0, d=1)"' in ok.output
    bad = runner.invoke(build_cli(), ["import", f"{model}:net", "--in", "3x8x8", "--arg", "a=1"])
    assert bad.output.strip().splitlines()[-1] == (
        f"Error: import target '{model}:net' is a Sequential instance, already built: --arg "
        "applies to a class or function; drop --arg or name Sequential itself")
    raised = runner.invoke(build_cli(), ["import", f"{model}:broken", "--in", "3x8x8"])
    assert raised.output.strip().splitlines()[-1] == (
        f"Error: building '{model}:broken' failed: ValueError: no weights here")
    proc = cnnplan_cmd("import", f"{model}:net", "--in", "3x8x8",
                       env={"SCRIPT_EXITS": "1"})   # the file calls sys.exit when loaded
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"Error: import target '{model}:net': loading {model} calls sys.exit(3); put the script "
        'part of the file under if __name__ == "__main__":')


# -- a sample of the zoo: every failure class it found, with every oracle -----------------------

ZOO_SAMPLE = [
    # torchvision: Hardsigmoid, squeeze-excitation, a dict output, resize (LR-ASPP)
    ("tv-seg", "lraspp_mobilenet_v3_large"),
    # torchvision video: Conv3DSimple, a subclass of nn.Conv3d (a leaf), 3-D everything
    ("tv-video", "r3d_18"),
    # timm: BatchNormAct2d (F.batch_norm with stored weights), SE, ResNet-D's avg-pool shortcut
    ("timm", "regnetx_002"),
]


@pytest.mark.parametrize("family, name", ZOO_SAMPLE, ids=[n for _, n in ZOO_SAMPLE])
def test_zoo_sample(torch, family, name):
    # torchvision's compiled ops do not load against CPU torch: an empty stand-in, first
    sys.modules.setdefault("torchvision._meta_registrations",
                           types.ModuleType("torchvision._meta_registrations"))
    pytest.importorskip("torchvision")
    if family == "timm":
        pytest.importorskip("timm")
    pytest.importorskip("fvcore")
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import zoo
    finally:
        sys.path.pop(0)
    zoo.torch_modules()
    (entry,) = [m for m in zoo.models([family]) if m[2] == name]
    row = zoo.run_model(torch, *entry, timeout=240)
    assert row["status"] == "ok", (row["class"], row["message"], row["oracles"])
    assert not any(v.startswith("WRONG") for v in row["oracles"].values()), row["oracles"]
    assert all(row["oracles"][k].startswith("ok") for k in ("shapes", "params", "macs", "other"))
