"""`cnnplan import`: every mapped module, function and method against torch (a real forward
pass on CPU gives the output shape, forward hooks each module's shape, `sum(p.numel())` the
parameters), the reference models, the round trip through `--format torch`, plugins' importers,
and the documented errors through the installed command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

import cnnplan
from cnnplan.cli import build_cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, "examples", "models", "reference.py")
pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def nn(torch):
    return torch.nn


@pytest.fixture(scope="module")
def reference(torch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("cnnplan_test_reference", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def torch_truth(torch, model, shape):
    """(output shape, {module name: [output shape per call]}, params) from a real forward pass
    on CPU (a zero tensor, eval mode) with forward hooks on every leaf module."""
    calls: dict = {}
    hooks = []
    for name, module in model.named_modules():
        if name and not list(module.children()):
            hooks.append(module.register_forward_hook(
                lambda m, i, o, name=name: calls.setdefault(name, []).append(tuple(o.shape[1:]))))
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(1, *shape))
    for hook in hooks:
        hook.remove()
    return tuple(out.shape[1:]), calls, sum(p.numel() for p in model.parameters())


def check_against_torch(torch, model, shape, text):
    """cnnplan's reading of the plan `text` equals torch: output, parameters and the shape of
    every module call (by qualified name; the n-th call of a module is NAME_n)."""
    out, calls, params = torch_truth(torch, model, shape)
    result = cnnplan.shapes(plan_text=text)
    assert tuple(result.data["output"]) == out
    assert result.data["params"] == params
    by_name = {layer["name"]: tuple(layer["output"]) for layer in result.data["layers"]}
    for name, shapes in calls.items():
        for n, expected in enumerate(shapes):
            layer = name if n == 0 else f"{name}__{n}"
            if layer in by_name:
                assert by_name[layer] == expected, layer
    return result


def imported(model, shape):
    return cnnplan.import_model(model, "x".join(map(str, shape))).data["plan"]


class Wrap:
    """A model whose forward is `fn(self, x)`, with `modules` as children m0, m1, ..."""

    def __new__(cls, torch, fn, *modules):
        class Model(torch.nn.Module):
            def __init__(self):
                super().__init__()
                for i, module in enumerate(modules):
                    self.add_module(f"m{i}", module)

            def forward(self, x):
                return fn(self, x)

        return Model()


# each case: (builder of the model from (torch, nn, F)), input shape, spec text expected in the
# plan). The expected texts are written from PyTorch's documentation of each argument.
MODULES = [
    (lambda t, nn, F: nn.Conv2d(3, 8, 3), (3, 16, 16), 'spec = "conv(8, k=3, s=1, p=0, d=1)"'),
    (lambda t, nn, F: nn.Conv2d(3, 8, (1, 7), stride=(2, 1), padding=(0, 3), bias=False),
     (3, 16, 20), 'spec = "conv(8, k=(1, 7), s=(2, 1), p=(0, 3), d=1, bias=false)"'),
    (lambda t, nn, F: nn.Conv2d(4, 8, 3, padding=2, dilation=2, groups=4), (4, 9, 9),
     'spec = "conv(8, k=3, s=1, p=2, d=2, groups=4)"'),
    (lambda t, nn, F: nn.Conv2d(3, 6, (3, 5), padding="same"), (3, 10, 11),
     'spec = "conv(6, k=(3, 5), s=1, p=same, d=1)"'),
    (lambda t, nn, F: nn.Conv2d(3, 6, 3, padding="valid"), (3, 10, 11),
     'spec = "conv(6, k=3, s=1, p=0, d=1)"'),
    (lambda t, nn, F: nn.Conv1d(2, 4, 5, stride=2), (2, 31), 'spec = "conv(4, k=5, s=2, p=0, d=1)"'),
    (lambda t, nn, F: nn.Conv3d(2, 4, 3, padding=1), (2, 6, 7, 8), 'spec = "conv(4, k=3, s=1, p=1, d=1)"'),
    (lambda t, nn, F: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
     (4, 7, 7), 'spec = "convT(2, k=3, s=2, p=1, op=1, d=1)"'),
    (lambda t, nn, F: nn.MaxPool2d(3, 2, 1), (3, 15, 15), 'spec = "maxpool(k=3, s=2, p=1, d=1)"'),
    (lambda t, nn, F: nn.MaxPool2d(2, ceil_mode=True), (3, 15, 15),
     'spec = "maxpool(k=2, s=2, p=0, d=1, ceil=true)"'),
    (lambda t, nn, F: nn.AvgPool2d(2), (3, 15, 15), 'spec = "avgpool(k=2, s=2, p=0)"'),
    (lambda t, nn, F: nn.AdaptiveAvgPool2d((7, 5)), (3, 15, 15),
     'spec = "adaptiveavgpool((7, 5))"'),
    (lambda t, nn, F: nn.AdaptiveMaxPool2d(1), (3, 15, 15), 'spec = "adaptivemaxpool(1)"'),
    (lambda t, nn, F: nn.Sequential(nn.Flatten(), nn.Linear(12, 5)), (3, 2, 2),
     'spec = "linear(5)"'),
    (lambda t, nn, F: nn.Sequential(nn.Flatten(), nn.Linear(12, 5, bias=False)), (3, 2, 2),
     'spec = "linear(5, bias=false)"'),
    (lambda t, nn, F: nn.BatchNorm2d(3), (3, 5, 5), 'spec = "bn"'),
    (lambda t, nn, F: nn.BatchNorm1d(3), (3, 5), 'spec = "bn"'),
    (lambda t, nn, F: nn.LayerNorm([5, 6]), (3, 5, 6), 'spec = "layernorm(dims=2)"'),
    (lambda t, nn, F: nn.LayerNorm([3, 5, 6]), (3, 5, 6), 'spec = "layernorm"'),
    (lambda t, nn, F: nn.GroupNorm(2, 4), (4, 5, 6), 'spec = "groupnorm(2)"'),
    (lambda t, nn, F: nn.Dropout(0.3), (3, 4, 4), 'spec = "dropout"'),
    (lambda t, nn, F: nn.Dropout2d(0.3), (3, 4, 4), 'spec = "dropout"'),
    (lambda t, nn, F: nn.ReLU(), (3, 4, 4), 'spec = "relu"'),
    (lambda t, nn, F: nn.ReLU6(), (3, 4, 4), 'spec = "relu6"'),
    (lambda t, nn, F: nn.Tanh(), (3, 4, 4), 'spec = "tanh"'),
    (lambda t, nn, F: nn.Sigmoid(), (3, 4, 4), 'spec = "sigmoid"'),
    (lambda t, nn, F: nn.Hardswish(), (3, 4, 4), 'spec = "hardswish"'),
    (lambda t, nn, F: nn.SiLU(), (3, 4, 4), 'spec = "silu"'),
    (lambda t, nn, F: nn.GELU(), (3, 4, 4), 'spec = "gelu"'),
    (lambda t, nn, F: nn.Softmax(dim=1), (3, 4, 4), 'spec = "softmax"'),
    (lambda t, nn, F: nn.Identity(), (3, 4, 4), 'spec = "identity"'),
    (lambda t, nn, F: nn.Flatten(), (3, 4, 4), 'spec = "flatten"'),
    (lambda t, nn, F: nn.Upsample(scale_factor=2), (3, 4, 5),
     'spec = "upsample(scale=2, mode=nearest)"'),
    (lambda t, nn, F: nn.Upsample(size=(6, 9), mode="bilinear"), (3, 4, 5),
     'spec = "upsample(size=(6, 9), mode=bilinear)"'),
    (lambda t, nn, F: nn.PixelShuffle(2), (8, 4, 5), 'spec = "pixelshuffle(2)"'),
    (lambda t, nn, F: nn.ZeroPad2d((1, 2, 0, 3)), (3, 4, 5), 'spec = "pad(p=(1, 2, 0, 3))"'),
]

FUNCTIONS = [
    (lambda t, nn, F: Wrap(t, lambda m, x: t.cat([m.m0(x), x], 1), nn.Conv2d(3, 5, 1)),
     (3, 6, 6), 'spec = "concat"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: m.m0(x) + x, nn.Conv2d(3, 3, 1)), (3, 6, 6),
     'spec = "add"\nfrom = ["m0", "input"]'),
    (lambda t, nn, F: Wrap(t, lambda m, x: t.add(x, m.m0(x)), nn.Conv2d(3, 3, 1)), (3, 6, 6),
     'spec = "add"\nfrom = ["input", "m0"]'),
    (lambda t, nn, F: Wrap(t, lambda m, x: x * m.m1(m.m0(x)), nn.AdaptiveAvgPool2d(1),
                           nn.Sigmoid()), (3, 6, 6), 'spec = "mul"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: t.mul(x, x)), (3, 6, 6), 'spec = "mul"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: t.flatten(x, 1)), (3, 6, 6), 'spec = "flatten"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: x.flatten(1)), (3, 6, 6), 'spec = "flatten"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: x.view(x.size(0), -1)), (3, 6, 6),
     'spec = "flatten"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: x.reshape(x.shape[0], -1)), (3, 6, 6),
     'spec = "flatten"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.relu(x)), (3, 6, 6), 'spec = "relu"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: x.relu()), (3, 6, 6), 'spec = "relu"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: t.sigmoid(x)), (3, 6, 6), 'spec = "sigmoid"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.relu6(x)), (3, 6, 6), 'spec = "relu6"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.hardswish(x)), (3, 6, 6), 'spec = "hardswish"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.silu(x)), (3, 6, 6), 'spec = "silu"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.gelu(x)), (3, 6, 6), 'spec = "gelu"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: t.tanh(x)), (3, 6, 6), 'spec = "tanh"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.softmax(x, dim=1)), (3, 6, 6), 'spec = "softmax"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.dropout(x, 0.5, m.training)), (3, 6, 6),
     'spec = "dropout"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.adaptive_avg_pool2d(x, (1, 1))), (3, 6, 6),
     'spec = "adaptiveavgpool(1)"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.adaptive_max_pool2d(x, (2, 3))), (3, 6, 6),
     'spec = "adaptivemaxpool((2, 3))"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.max_pool2d(x, 3, 2, 1)), (3, 9, 9),
     'spec = "maxpool(k=3, s=2, p=1, d=1)"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.avg_pool2d(x, 2)), (3, 9, 9),
     'spec = "avgpool(k=2, s=2, p=0)"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: x.mean((2, 3))), (3, 6, 6), 'spec = "mean"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: t.mean(x, dim=[-1, -2], keepdim=True)), (3, 6, 6),
     'spec = "mean(keepdim=true)"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.interpolate(x, scale_factor=2, mode="bilinear")),
     (3, 5, 6), 'spec = "upsample(scale=2, mode=bilinear)"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.pad(x, (1, 0, 2, 2))), (3, 5, 6),
     'spec = "pad(p=(1, 0, 2, 2))"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: F.pixel_shuffle(x, 2)), (8, 5, 6),
     'spec = "pixelshuffle(2)"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: m.m1(t.flatten(m.m0(x), 1)).contiguous(),
                           nn.AdaptiveAvgPool2d(1), nn.Linear(3, 4)), (3, 6, 6),
     'spec = "linear(4)"'),
    # reductions over given axes, stack, expand_as, a - b, a / b, addcmul (issue 21)
    (lambda t, nn, F: Wrap(t, lambda m, x: x.sum(1)), (3, 6, 6), 'spec = "sum(dims=0)"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: t.sum(x, dim=(2, 3), keepdim=True)), (3, 6, 6),
     'spec = "sum(dims=(1, 2), keepdim=true)"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: x.mean(-1, keepdim=True)), (3, 6, 5),
     'spec = "mean(dims=-1, keepdim=true)"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: x.norm(p=2, dim=(2, 3), keepdim=True)), (3, 6, 5),
     'spec = "norm(dims=(1, 2), keepdim=true)"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: t.linalg.vector_norm(x, dim=1)), (3, 6, 5),
     'spec = "norm(dims=0)"'),
    (lambda t, nn, F: Wrap(t, lambda m, x: t.stack([m.m0(x), x], dim=2), nn.Conv2d(3, 3, 1)),
     (3, 6, 5), 'spec = "stack(dim=1)"\nfrom = ["m0", "input"]'),
    (lambda t, nn, F: Wrap(t, lambda m, x: x * m.m0(x).expand_as(x), nn.AdaptiveAvgPool2d(1)),
     (3, 6, 5), 'spec = "expandas"\nfrom = ["m0", "input"]'),
    (lambda t, nn, F: Wrap(t, lambda m, x: m.m0(x).expand(x.shape), nn.AdaptiveAvgPool2d(1)),
     (3, 6, 5), 'spec = "expandas"\nfrom = ["m0", "input"]'),
    (lambda t, nn, F: Wrap(t, lambda m, x: x / m.m0(x), nn.AdaptiveAvgPool2d(1)), (3, 6, 5),
     'spec = "div"\nfrom = ["input", "m0"]'),
    (lambda t, nn, F: Wrap(t, lambda m, x: m.m0(x) - x, nn.AdaptiveAvgPool2d(1)), (3, 6, 5),
     'spec = "sub"\nfrom = ["m0", "input"]'),
    (lambda t, nn, F: Affine(t, 3), (3, 6, 5), 'spec = "scale(param=(3, 1, 1), bias=true)"'),
]


def Affine(torch, c):
    """torch.addcmul(bias, weight, x) with learned C x 1 x 1 tensors (timm's GRN ends so)."""
    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(c))
            self.bias = torch.nn.Parameter(torch.zeros(c))

        def forward(self, x):
            return torch.addcmul(self.bias.view(1, -1, 1, 1), self.weight.view(1, -1, 1, 1), x)
    return Model()


@pytest.mark.parametrize("build, shape, expected", MODULES + FUNCTIONS,
                         ids=[case[2].split('"')[1] + f"-{n}"
                              for n, case in enumerate(MODULES + FUNCTIONS)])
def test_each_mapping_against_torch(torch, build, shape, expected):
    import torch.nn.functional as F

    model = build(torch, torch.nn, F)
    if not hasattr(model, "m0"):      # a module on its own: the child m0 of a model
        model = Wrap(torch, lambda m, x: m.m0(x), model)
    text = imported(model, shape)
    assert expected in text
    check_against_torch(torch, model, shape, text)


def test_centre_crop_before_cat_is_concat_crop(torch, reference):
    model = reference.unet(base=2)
    text = imported(model, (1, 188, 188))
    assert text.count('spec = "concat(crop=true)"') == 4
    assert 'from = ["down.2.3", "ups.0.up"]' in text
    check_against_torch(torch, model, (1, 188, 188), text)


REFERENCE_CASES = [
    ("resnet18", dict(width=8, num_classes=10), (3, 64, 64)),
    ("resnet50", dict(width=4, num_classes=10, blocks=(1, 2, 1, 1)), (3, 64, 64)),
    ("mobilenet_v2", dict(width_mult=0.25, num_classes=10), (3, 64, 64)),
    ("densenet121", dict(growth=4, blocks=(2, 3, 2, 2), init=8, num_classes=10), (3, 64, 64)),
    ("unet", dict(base=4), (1, 188, 188)),
    ("unet_padded", dict(base=4), (1, 48, 64)),
]


@pytest.mark.parametrize("name, kwargs, shape", REFERENCE_CASES,
                         ids=[case[0] for case in REFERENCE_CASES])
def test_small_reference_models_and_the_round_trip(torch, reference, name, kwargs, shape):
    model = getattr(reference, name)(**kwargs)
    text = imported(model, shape)
    result = check_against_torch(torch, model, shape, text)
    namespace = {"__name__": "cnnplan_round_trip"}
    exec(compile(cnnplan.render(result, "torch"), "<round trip>", "exec"), namespace)
    rebuilt = namespace["MODEL"]
    assert sum(p.numel() for p in rebuilt.parameters()) == result.data["params"]
    rebuilt.load_state_dict(model.state_dict(), strict=True)     # the model's own names
    x = torch.randn(2, *shape)
    with torch.no_grad():          # and so the same function
        assert torch.allclose(rebuilt.eval()(x), model.eval()(x), atol=1e-5)
    assert namespace["check"]() == tuple(result.data["output"])


FULL = [("resnet18", (3, 224, 224), (1000,), 11_689_512),
        ("resnet50", (3, 224, 224), (1000,), 25_557_032),
        ("mobilenet_v2", (3, 224, 224), (1000,), 3_504_872),
        ("densenet121", (3, 224, 224), (1000,), 7_978_856),
        ("unet", (1, 572, 572), (2, 388, 388), 31_030_658),
        ("unet_padded", (1, 256, 256), (2, 256, 256), 31_030_658),
        ("SmallResNet", (3, 32, 32), (10,), None)]
FILES = {"unet": "unet_imported", "unet_padded": "unet_padded_imported",
         "SmallResNet": "small_resnet"}


@pytest.mark.parametrize("name, shape, output, params", FULL, ids=[case[0] for case in FULL])
def test_the_example_plan_files_match_the_reference_models(torch, reference, name, shape,
                                                           output, params):
    """examples/networks/NAME.toml (written by cnnplan import; tests/test_transcripts.py checks
    they are current) against the full-size model: output on the meta device, parameters."""
    model = getattr(reference, name)()
    count = sum(p.numel() for p in model.parameters())
    # torchvision's published counts; the U-Nets' 31,030,658 summed by hand from the paper's
    # layers (18,842,048 in the contracting path, 12,188,610 in the expanding path and head)
    assert params is None or count == params
    with torch.no_grad():
        out = model.to("meta")(torch.empty(1, *shape, device="meta"))
    assert tuple(out.shape[1:]) == output
    result = cnnplan.shapes(plan_file=os.path.join(ROOT, "examples", "networks",
                                                   f"{FILES.get(name, name)}.toml"))
    assert tuple(result.data["output"]) == output
    assert result.data["params"] == count


def test_plan_reads_an_imported_file_as_exactly_that_network(torch, reference, tmp_path):
    """Every window value is written and mode is floor: `cnnplan plan` finds one network, the
    model's; delete a value and it is free again."""
    model = reference.SmallResNet()
    text = imported(model, (3, 32, 32))
    path = os.path.join(ROOT, "examples", "networks", "small_resnet.toml")
    assert text.split("\ntitle")[1] == open(path).read().split("\ntitle")[1]
    result = cnnplan.plan(plan_file=path)
    assert result.data["count"] == 1
    assert result.data["chains"][0]["params"] == sum(p.numel() for p in model.parameters())
    loose = tmp_path / "loose.toml"
    loose.write_text(text.replace('spec = "conv(16, k=3, s=1, p=1, d=1, bias=false)"',
                                  'spec = "conv(16, k=3, s=1, d=1, bias=false)"'))
    # the stem's padding free: p = 0, 1, 2 (p <= k - 1), and the block's shortcut lines up
    # for every one of them (both branches map i to floor((i - 1)/2) + 1)
    assert cnnplan.plan(plan_file=str(loose)).data["count"] == 3


def test_a_wrong_mapping_is_caught_and_nothing_is_written(torch, monkeypatch, tmp_path):
    from cnnplan.importers import plan as importer_plan
    from cnnplan.importers.torch import ops as importer

    handler, names = importer.OPS["maxpool"]
    monkeypatch.setitem(importer.OPS, "maxpool",
                        (lambda a, i, o: handler({**a, "stride": 1}, i, o), names))
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.MaxPool2d(2))
    with pytest.raises(importer_plan.ImportFailed, match=r"layer _1 \(node _1, maxpool\(k=2, s=1, p=0, d=1\)\): "
                       r"cnnplan gives 4x7x7, torch 4x4x4; nothing written"):
        cnnplan.import_model(model, "3x10x10")


# -- plugins --------------------------------------------------------------------------------

PLUGIN_MODELS = textwrap.dedent('''
    import torch
    from torch import nn


    class Gate(nn.Module):
        """Control flow on a size: torch.fx cannot trace inside it."""

        def forward(self, x):
            return torch.relu(x) if x.shape[1] > 2 else x


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.gate = Gate()

        def forward(self, x):
            return self.gate(self.conv(x))
''')


@pytest.fixture
def plugin_models(tmp_path):
    path = tmp_path / "gated.py"
    path.write_text(PLUGIN_MODELS)
    return str(path)


class GatePlugin:
    """A test plugin claiming Gate as a shape-preserving identity."""

    @staticmethod
    @cnnplan.hookimpl
    def register_importers(register):
        register(cnnplan.Importer("gate", "cnnplan_test_gated:Gate",
                                  lambda module, inputs: "identity"))


def test_a_plugin_claims_a_module_type(torch, tmp_path, monkeypatch):
    from cnnplan.platform.host import get_host

    (tmp_path / "cnnplan_test_gated.py").write_text(PLUGIN_MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    target = "cnnplan_test_gated:Net"
    unclaimed = cnnplan.import_model(target, "3x8x8").data["plan"]    # the branch followed
    assert 'name = "gate.relu"' in unclaimed and "fixed_input" in unclaimed
    with get_host().registered(GatePlugin, "gate-plugin"):
        text = cnnplan.import_model(target, "3x8x8").data["plan"]
    assert 'name = "gate"\nspec = "identity"' in text
    assert cnnplan.shapes(plan_text=text).data["output"] == [4, 6, 6]


# -- the command ----------------------------------------------------------------------------

def test_import_writes_a_file_and_shapes_reads_it(torch, reference, cnnplan_cmd, tmp_path):
    out = tmp_path / "net.toml"
    proc = cnnplan_cmd("import", f"{REFERENCE}:resnet18", "--in", "3x32x32", "--arg", "width=4",
                       "--arg", "num_classes=10", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"wrote {out}: imported resnet18(width=4, num_classes=10): ")
    text = out.read_text()
    assert text.startswith("# Imported by cnnplan ")
    assert text.splitlines()[1] == (f"#   cnnplan import {REFERENCE}:resnet18 --in 3x32x32 "
                                    "--arg width=4 --arg num_classes=10")
    shapes = cnnplan_cmd("shapes", str(out), "--format", "json")
    assert shapes.returncode == 0, shapes.stderr
    data = json.loads(shapes.stdout)
    model = reference.resnet18(width=4, num_classes=10)
    assert data["output"] == [10]
    assert data["params"] == sum(p.numel() for p in model.parameters())


def test_import_to_stdout_through_click(torch):
    result = CliRunner().invoke(build_cli(), ["import", f"{REFERENCE}:unet_padded", "--in",
                                             "1x32x32", "--arg", "base=2"])
    assert result.exit_code == 0, result.output
    assert 'input = "1x32x32"' in result.output and 'name = "outc"' in result.output


UNKNOWN = textwrap.dedent('''
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.prelu = nn.PReLU()

        def forward(self, x):
            return torch.erf(self.prelu(self.conv(x)))
''')

BAD = [
    (["import", "nowhere.py:Net", "--in", "3x8x8"], "no file nowhere.py"),
    (["import", "MODEL:Nope", "--in", "3x8x8"], "has no 'Nope'"),
    (["import", "MODEL:Net", "--in", "3x8x8", "--arg", "x=__import__('os')"],
     "is not a Python literal"),
    (["import", "MODEL:Net", "--in", "3x8x8", "--arg", "depth=2"],
     "cannot be built with depth=2"),
    (["import", "MODEL:Net", "--in", "3x2x2"], "torch refuses input 3x2x2 at node 'conv' "
     "(call_module conv) in module conv (torch.nn.modules.conv:Conv2d): RuntimeError: "),
    (["import", "MODEL:Net", "--in", "3x8x8"],
     "cannot import node 'prelu' (call_module prelu) in module prelu "
     "(torch.nn.modules.activation:PReLU): no cnnplan layer kind for "
     "torch.nn.modules.activation.PReLU; --skip-unknown puts a shape-preserving placeholder"),
    (["import", "not a target", "--in", "3x8x8"], "is not FILE.py:NAME or package.module:NAME"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[m[:30] for _, m in BAD])
def test_documented_errors(torch, tmp_path, args, message):
    model = tmp_path / "model.py"
    model.write_text(UNKNOWN)
    result = CliRunner().invoke(build_cli(), [a.replace("MODEL", str(model)) for a in args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unknown_node_through_the_installed_command(torch, cnnplan_cmd, tmp_path):
    model = tmp_path / "model.py"
    model.write_text(UNKNOWN)
    proc = cnnplan_cmd("import", f"{model}:Net", "--in", "3x8x8", "-o", str(tmp_path / "n.toml"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"Error: {BAD[5][1]} in its place\n")
    assert not (tmp_path / "n.toml").exists()


def test_skip_unknown_puts_flagged_placeholders(torch, cnnplan_cmd, tmp_path):
    model = tmp_path / "model.py"
    model.write_text(UNKNOWN)
    proc = cnnplan_cmd("import", f"{model}:Net", "--in", "3x8x8", "--skip-unknown")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("# PLACEHOLDER for ") == 2
    assert "2 PLACEHOLDER layer(s)" in proc.stdout
    assert proc.stderr.count("cnnplan: placeholder ") == 2
    assert cnnplan.shapes(plan_text=proc.stdout).data["output"] == [4, 6, 6]


def test_untraceable_model_gives_fx_reason(torch, cnnplan_cmd, tmp_path):
    """A branch on a size is followed for --in (the plan holds for that input only); a branch
    on the tensor's values gets fx's reason in one line."""
    model = tmp_path / "model.py"
    model.write_text(PLUGIN_MODELS + "\n\nclass Data(nn.Module):\n    def forward(self, x):\n"
                     "        return x.relu() if x.max() > 0 else x\n")
    proc = cnnplan_cmd("import", f"{model}:Net", "--in", "3x8x8")
    assert proc.returncode == 0, proc.stderr
    assert 'fixed_input = "gate (Gate) branches on a size computed' in proc.stdout
    proc = cnnplan_cmd("import", f"{model}:Data", "--in", "3x8x8")
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: torch.fx cannot trace Data: TraceError: ")
    assert "control flow" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_without_torch_import_says_how_to_get_it(cnnplan_cmd, tmp_path):
    fake = tmp_path / "torch"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('no torch here')\n")
    proc = cnnplan_cmd("import", f"{REFERENCE}:resnet18", "--in", "3x32x32",
                       env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 2
    assert proc.stderr == ("Error: cnnplan import needs PyTorch: pip install \"cnnplan[torch]\" "
                           "(or pip install torch); nothing else in cnnplan needs it\n")


def test_other_commands_do_not_import_torch():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom cnnplan.cli import build_cli\n"
            "cli = build_cli()\n"
            "for args in (['--help'], ['import', '--help'], ['shapes', '--in', '3x8x8', 'relu'],"
            " ['plugins']):\n"
            "    assert CliRunner().invoke(cli, args).exit_code == 0, args\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy')))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def attention_blocks(torch):
    """ECA (mean, view, conv1d, expand_as), selective kernel (stack, sum over the paths, a
    softmax over them) and ConvNeXt-V2's global response norm (norm, mean over channels, a
    quotient, addcmul), written as timm writes them."""
    nn = torch.nn

    class ECA(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(1, 1, 3, padding=1, bias=False)

        def forward(self, x):
            y = x.mean((2, 3)).view(x.shape[0], 1, -1)
            y = self.conv(y).sigmoid().view(x.shape[0], -1, 1, 1)
            return x * y.expand_as(x)

    class SK(nn.Module):
        def __init__(self, c=8):
            super().__init__()
            self.paths = nn.ModuleList([nn.Conv2d(c, c, 3, padding=1),
                                        nn.Conv2d(c, c, 3, padding=2, dilation=2)])
            self.fc = nn.Conv2d(c, 2 * c, 1)

        def forward(self, x):
            x = torch.stack([p(x) for p in self.paths], dim=1)
            a = self.fc(x.sum(1).mean((2, 3), keepdim=True))
            b, c, h, w = a.shape
            a = torch.softmax(a.view(b, 2, c // 2, h, w), dim=1)
            return torch.sum(x * a, dim=1)

    class GRN(nn.Module):
        def __init__(self, c=8):
            super().__init__()
            self.weight, self.bias = nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c))

        def forward(self, x):
            g = x.norm(p=2, dim=(2, 3), keepdim=True)
            n = g / (g.mean(dim=1, keepdim=True) + 1e-6)
            return x + torch.addcmul(self.bias.view(1, -1, 1, 1), self.weight.view(1, -1, 1, 1),
                                     x * n)

    return (nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), ECA(), GRN()),
            nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), SK()))


def test_eca_sk_and_grn_blocks_import_exactly_at_every_size(torch):
    """Shapes of every module and the parameters equal torch's at the import size; ECA and GRN
    read at other input sizes equal torch's forward there (nothing frozen); SK's view reads
    sizes from its gate's shape, so its plan refuses other sizes (never a wrong number)."""
    eca_grn, sk = (model.eval() for model in attention_blocks(torch))
    kinds = set()
    for model in (eca_grn, sk):
        text = imported(model, (3, 20, 20))
        result = check_against_torch(torch, model, (3, 20, 20), text)
        kinds |= {layer["kind"] for layer in result.data["layers"]}
        for size in (17, 33):
            shape = f"3x{size}x{size}"
            if model is sk:
                with pytest.raises(cnnplan.BadInput, match="holds only for input 3x20x20"):
                    cnnplan.shapes(input=shape, plan_text=text)
                continue
            with torch.no_grad():
                y = model(torch.zeros(1, 3, size, size))
            other = cnnplan.shapes(input=shape, plan_text=text)
            assert tuple(other.data["output"]) == tuple(y.shape[1:])
    assert {"expandas", "stack", "sum", "norm", "div", "scale"} <= kinds


def test_a_chain_keeps_its_module_names_in_the_round_trip(torch, tmp_path):
    """An imported model that is a plain chain (each layer reads the one before) exports as a
    module with each layer at its own path, so the original's state_dict loads strictly and
    the rebuilt network computes the same function; unnamed specs stay an nn.Sequential."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
                                          nn.MaxPool2d(2))
            self.head = nn.Linear(8 * 7 * 7, 10)

        def forward(self, x):
            return self.head(self.features(x).flatten(1))

    model = Net().eval()
    result = cnnplan.shapes(plan_text=imported(model, (3, 16, 16)))
    namespace = {"__name__": "cnnplan_round_trip"}
    exec(compile(cnnplan.render(result, "torch"), "<round trip>", "exec"), namespace)
    rebuilt = namespace["MODEL"].eval()
    rebuilt.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(rebuilt(x), model(x), atol=1e-6)
    plain = cnnplan.render(cnnplan.shapes("3x16x16", ["conv(8, k=3)", "relu"]), "torch")
    assert "MODEL = nn.Sequential(" in plain


def test_the_round_trip_loads_tensors_kept_outside_their_layers(torch, tmp_path):
    """Parameters a module uses in its own forward (ConvNeXt's LayerNorm2d: F.layer_norm
    between permutes; a layer scale; ViT's class token and position embedding) and
    nn.MultiheadAttention: the plan's [state] says where the model keeps each, and the
    `--format torch` export loads the original's state_dict strictly and computes the same
    function. A [state] entry that names no layer, or is not a path, is refused in one line."""
    nn, F = torch.nn, torch.nn.functional

    class LayerNorm2d(nn.LayerNorm):
        def forward(self, x):
            x = x.permute(0, 2, 3, 1)
            x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
            return x.permute(0, 3, 1, 2)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 4, stride=4)
            self.norm = LayerNorm2d(8)
            self.layer_scale = nn.Parameter(torch.rand(8, 1, 1))
            self.class_token = nn.Parameter(torch.randn(1, 1, 8))
            self.pos_embedding = nn.Parameter(torch.randn(1, 5, 8))
            self.attention = nn.MultiheadAttention(8, 2, batch_first=True)
            self.head = nn.Linear(8, 3)

        def forward(self, x):
            x = self.norm(self.stem(x)) * self.layer_scale
            x = x.flatten(2).transpose(1, 2)
            x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
            x = x + self.pos_embedding
            x = self.attention(x, x, x, need_weights=False)[0]
            return self.head(x[:, 0])

    model = Net().eval()
    text = imported(model, (3, 8, 8))
    assert '"norm.layer_norm" = "norm"' in text and '"layer_scale" = "layer_scale"' in text
    result = cnnplan.shapes(plan_text=text)
    namespace = {"__name__": "cnnplan_round_trip"}
    exec(compile(cnnplan.render(result, "torch"), "<round trip>", "exec"), namespace)
    rebuilt = namespace["MODEL"].eval()
    rebuilt.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(rebuilt(x), model(x), atol=1e-5)
    for bad, message in (('"nowhere" = "norm"', "'nowhere', which is not a layer"),
                         ('"norm.layer_norm" = "a b"', "'a b' is not a module or parameter")):
        broken = text.replace('"norm.layer_norm" = "norm"', bad)
        with pytest.raises(cnnplan.BadInput, match=message):
            cnnplan.shapes(plan_text=broken)
