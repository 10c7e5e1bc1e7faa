"""Every core layer kind against PyTorch: for random arguments and input shapes, cnnplan's output
shape and parameter count equal those of the torch module built twice, once from the
constructor text `--format torch` writes and once independently here from the same description;
where torch refuses, cnnplan refuses with BadInput (exit 2), and the other way round."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnnplan
from cnnplan import BadInput

# -- a layer as a description: (kind, positional, {name: value}) ---------------------------------

ACTIVATIONS = ("relu", "relu6", "tanh", "sigmoid", "hardswish", "silu", "gelu", "softmax",
               "dropout", "identity")


def value_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(str, value)) + ")"
    return str(value)


def spec_text(kind, positional=None, values=None) -> str:
    """The cnnplan spec for a description."""
    args = [] if positional is None else [value_text(positional)]
    args += [f"{name}={value_text(v)}" for name, v in (values or {}).items()]
    return f"{kind}({', '.join(args)})" if args else kind


def _axes(value, n):
    return value if isinstance(value, tuple) else (value,) * n


SPATIAL = ("conv", "convT", "maxpool", "avgpool", "adaptiveavgpool", "adaptivemaxpool",
           "upsample", "pixelshuffle", "pad", "mean")


def reference_module(torch, kind, positional, values, shape):
    """The torch module for a description, written from PyTorch's documentation (not from
    cnnplan's export)."""
    nn, F = torch.nn, torch.nn.functional
    n = len(shape) - 1
    v = dict(values)
    dims = {1: "1d", 2: "2d", 3: "3d"}.get(n, "")
    if n == 0 and kind in SPATIAL:
        raise ValueError("a spatial kind on a flat input (torch would read C as a size)")
    if kind == "conv":
        return getattr(nn, "Conv" + dims)(shape[0], positional, v["k"], stride=v.get("s", 1),
                                          padding=v.get("p", 0), dilation=v.get("d", 1),
                                          groups=v.get("groups", 1), bias=v.get("bias", True))
    if kind == "convT":
        return getattr(nn, "ConvTranspose" + dims)(
            shape[0], positional, v["k"], stride=v.get("s", 1), padding=v.get("p", 0),
            output_padding=v.get("op", 0), groups=v.get("groups", 1),
            bias=v.get("bias", True), dilation=v.get("d", 1))
    if kind == "maxpool":
        return getattr(nn, "MaxPool" + dims)(v["k"], stride=v.get("s", v["k"]),
                                             padding=v.get("p", 0), dilation=v.get("d", 1),
                                             ceil_mode=v.get("ceil", False))
    if kind == "avgpool":
        return getattr(nn, "AvgPool" + dims)(v["k"], stride=v.get("s", v["k"]),
                                             padding=v.get("p", 0), ceil_mode=v.get("ceil", False))
    if kind == "bn":
        return (nn.BatchNorm1d if n <= 1 else getattr(nn, "BatchNorm" + dims))(shape[0])
    if kind == "groupnorm":
        return nn.GroupNorm(positional, shape[0])
    if kind == "layernorm":
        count = positional if positional is not None else len(shape)
        if count > len(shape):
            raise ValueError("layernorm over more axes than C x sizes has")
        return nn.LayerNorm(list(shape[len(shape) - count:]))
    if kind in ("adaptiveavgpool", "adaptivemaxpool"):
        name = "AdaptiveAvgPool" if kind == "adaptiveavgpool" else "AdaptiveMaxPool"
        return getattr(nn, name + dims)(positional)
    if kind == "upsample":
        mode = v.get("mode", "nearest")
        extra = {"align_corners": False} if mode == "bilinear" else {}
        if "size" in v:
            return nn.Upsample(size=v["size"], mode=mode, **extra)
        return nn.Upsample(scale_factor=positional, mode=mode, **extra)
    if kind == "pixelshuffle":
        return nn.PixelShuffle(positional)
    if kind == "pad":
        p = v["p"]
        amounts = (p, p) * n if isinstance(p, int) else p
        return Lambda(lambda x: F.pad(x, amounts))
    if kind == "mean":
        axes = tuple(range(2, len(shape) + 1))
        return Lambda(lambda x: x.mean(axes, keepdim=v.get("keepdim", False)))
    if kind == "flatten":
        return nn.Flatten()
    if kind == "linear":
        return nn.Linear(shape[0], positional, bias=v.get("bias", True))
    return {"relu": nn.ReLU, "relu6": nn.ReLU6, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
            "hardswish": nn.Hardswish, "silu": nn.SiLU, "gelu": nn.GELU,
            "softmax": lambda: nn.Softmax(dim=1), "dropout": nn.Dropout,
            "identity": nn.Identity}[kind]()


class Lambda:
    """A parameterless callable layer (F.pad, Tensor.mean) with a .parameters() like a module."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def parameters(self):
        return iter(())

    def eval(self):
        return self

    double = eval


def run_torch(torch, module, shape):
    """(output shape without the batch, params), or None where torch refuses (raises, or gives
    an empty tensor)."""
    module.eval()
    try:
        with torch.no_grad():
            y = module(torch.randn(1, *shape))
    except (RuntimeError, ValueError, IndexError, TypeError):
        return None
    if y.numel() == 0:
        return None
    return tuple(y.shape[1:]), sum(p.numel() for p in module.parameters())


def exported_module(torch, result, index=0):
    """Module `index` of cnnplan's `--format torch` snippet for a chain (after check())."""
    namespace = {}
    exec(compile(cnnplan.render(result, "torch"), "<export>", "exec"), namespace)
    model = namespace["MODEL"]
    assert namespace["check"]() == tuple(result.data["output"])
    return model[index] if isinstance(model, torch.nn.Sequential) else model


# -- random descriptions, per kind -----------------------------------------------------------------

def sizes(draw, n, low=1, high=9):
    return tuple(draw(st.integers(low, high)) for _ in range(n))


def axis_value(draw, n, low, high):
    """A number, or a tuple of one value per axis (sometimes of the wrong length)."""
    if n > 1 and draw(st.booleans()):
        count = n if draw(st.integers(0, 9)) else draw(st.sampled_from([k for k in (2, 3, 4)
                                                                          if k != n]))
        return tuple(draw(st.integers(low, high)) for _ in range(count))
    return draw(st.integers(low, high))


@st.composite
def window_case(draw):
    n = draw(st.sampled_from([1, 2, 2, 3]))
    kind = draw(st.sampled_from(["conv", "conv", "convT", "maxpool", "avgpool"]))
    channels = draw(st.sampled_from([1, 2, 4, 6]))
    shape = (channels, *sizes(draw, n, 1, 12 if n < 3 else 6))
    values = {"k": axis_value(draw, n, 1, 5)}
    positional = None
    if kind in ("conv", "convT"):
        groups = draw(st.sampled_from([1, 1, 2, 3]))
        positional = draw(st.integers(1, 3)) * groups
        values["groups"] = groups
        values["bias"] = draw(st.booleans())
    if draw(st.booleans()):
        values["s"] = axis_value(draw, n, 1, 3)
    if kind == "conv" and draw(st.integers(0, 3)) == 0:
        values["p"] = draw(st.sampled_from(["same", "valid"]))
    elif draw(st.booleans()):
        values["p"] = axis_value(draw, n, 0, 3)
    if kind != "avgpool" and draw(st.booleans()):
        values["d"] = axis_value(draw, n, 1, 3)
    if kind == "convT" and draw(st.booleans()):
        values["op"] = axis_value(draw, n, 0, 2)
    if kind in ("maxpool", "avgpool") and draw(st.booleans()):
        values["ceil"] = draw(st.booleans())
    return shape, kind, positional, values


@st.composite
def other_case(draw):
    kind = draw(st.sampled_from(["bn", "groupnorm", "layernorm", "adaptiveavgpool",
                                 "adaptivemaxpool", "upsample", "pixelshuffle", "pad", "mean",
                                 "flatten", "linear", *ACTIVATIONS]))
    n = draw(st.sampled_from([0, 1, 2, 2, 3] if kind != "pixelshuffle" else [2]))
    channels = draw(st.sampled_from([1, 2, 3, 4, 8, 9, 12]))
    shape = (channels, *sizes(draw, n, 1, 9 if n < 3 else 5))
    positional, values = None, {}
    if kind == "groupnorm":
        positional = draw(st.sampled_from([1, 2, 3, 4]))
    elif kind == "layernorm" and draw(st.booleans()):
        positional = draw(st.integers(1, 4))
    elif kind in ("adaptiveavgpool", "adaptivemaxpool"):
        positional = axis_value(draw, n, 1, 10)
    elif kind == "upsample":
        values["mode"] = draw(st.sampled_from(["nearest", "bilinear"]))
        if draw(st.booleans()):
            values["size"] = axis_value(draw, n, 1, 20)
        else:
            positional = axis_value(draw, n, 1, 3)
    elif kind == "pixelshuffle":
        positional = draw(st.integers(1, 3))
    elif kind == "pad":
        if draw(st.booleans()):
            values["p"] = draw(st.integers(0, 3))
        else:
            values["p"] = tuple(draw(st.integers(0, 3))
                                for _ in range(2 * draw(st.integers(1, max(n, 1)))))
    elif kind == "mean":
        values["keepdim"] = draw(st.booleans())
    elif kind == "linear":
        positional = draw(st.integers(1, 7))
        values["bias"] = draw(st.booleans())
    return shape, kind, positional, values


# Where cnnplan refuses on purpose although torch computes something (docs/networks.md):
# pixel shuffle is 2-D only (torch shuffles any last three axes, batch included); linear takes
# only a flat input (torch applies it to the last axis of any tensor).
def deliberate_refusal(kind, shape):
    return (kind == "pixelshuffle" and len(shape) != 3) or (kind == "linear" and len(shape) > 1)


# Where cnnplan accepts on purpose although torch refuses: a tuple of equal values stands for
# that one number, whatever its length (k=(3, 3, 3) on a 2-D input is k=3; torch wants 2 values).
def equal_tuple_of_wrong_length(positional, values, shape):
    return any(isinstance(v, tuple) and len(v) != len(shape) - 1 and len(set(v)) == 1
               for v in (positional, *values.values()))


def check_against_torch(torch, case):
    shape, kind, positional, values = case
    text = spec_text(kind, positional, values)
    # a flat input C is written as C x 1, flattened (--in takes C x sizes)
    flat = len(shape) == 1
    given = (*shape, 1) if flat else shape
    try:
        result = cnnplan.shapes("x".join(map(str, given)), ["flatten", text] if flat else [text])
    except BadInput as exc:
        assert f"layer {2 if flat else 1}" in str(exc)
        if deliberate_refusal(kind, shape):
            return
        try:
            module = reference_module(torch, kind, positional, values, shape)
        except (ValueError, RuntimeError, TypeError, AttributeError):
            return                               # torch refuses to build it
        got = run_torch(torch, module, shape)
        assert got is None, f"cnnplan refused {text} on {shape} ({exc}) but torch gives {got}"
        return
    layer = result.data["layers"][-1]
    module = reference_module(torch, kind, positional, values, shape)
    got = run_torch(torch, module, shape)
    if got is None and equal_tuple_of_wrong_length(positional, values, shape):
        return
    assert got is not None, f"torch refuses {text} on {shape}, cnnplan gives {layer['output']}"
    assert got == (tuple(layer["output"]), layer["params"]), text
    exported = exported_module(torch, result, -1)
    assert run_torch(torch, exported, shape) == got, text


@pytest.mark.oracle
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(window_case())
def test_window_kinds_match_torch(torch, case):
    """conv, convT, maxpool, avgpool: per-axis tuples, padding same/valid, dilation, groups,
    ceil mode, 1-D to 3-D."""
    check_against_torch(torch, case)


@pytest.mark.oracle
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(other_case())
def test_other_kinds_match_torch(torch, case):
    """Normalisation, adaptive pooling, upsampling, pixel shuffle, pad, mean, flatten, linear
    and the shape-keeping kinds, on flat, 1-D, 2-D and 3-D inputs."""
    check_against_torch(torch, case)


# The cases the issue names, each certain to be drawn: (shape, kind, positional, values, ok).
NAMED = [
    ((3, 17, 17), "conv", 8, {"k": (1, 7), "p": (0, 3)}, True),            # Inception-v3
    ((3, 17, 17), "conv", 8, {"k": (7, 1), "s": (2, 1), "p": (3, 0)}, True),
    ((4, 9, 10), "conv", 4, {"k": 3, "p": "same"}, True),
    ((4, 9, 10), "conv", 4, {"k": 4, "p": "same"}, True),                   # even k: 1 left, 2 right
    ((4, 9, 10), "conv", 4, {"k": (2, 3), "d": (3, 2), "p": "same"}, True),
    ((4, 9, 10), "conv", 4, {"k": 3, "s": 2, "p": "same"}, False),          # torch: stride 1 only
    ((4, 9, 10), "conv", 4, {"k": 3, "p": "valid"}, True),
    ((2, 12, 12), "adaptiveavgpool", (3, 4), {}, True),                     # divisible
    ((2, 10, 7), "adaptivemaxpool", (3, 4), {}, True),                      # not divisible
    ((2, 5), "adaptiveavgpool", 8, {}, True),                               # larger than input
    ((2, 5, 6), "upsample", 2, {"mode": "nearest"}, True),
    ((2, 5, 6), "upsample", (2, 3), {"mode": "bilinear"}, True),
    ((2, 5, 6), "upsample", None, {"size": (9, 4), "mode": "bilinear"}, True),
    ((2, 5), "upsample", None, {"size": 11}, True),
    ((2, 5), "upsample", 2, {"mode": "bilinear"}, False),                   # bilinear needs 2-D
    ((8, 3, 5), "pixelshuffle", 2, {}, True),
    ((6, 3, 5), "pixelshuffle", 2, {}, False),                              # 6 % 4
    ((2, 4, 5), "pad", None, {"p": (1, 2, 3, 0)}, True),
    ((2, 4, 5), "pad", None, {"p": (2, 2)}, True),                          # last axis only
    ((2, 4, 5), "pad", None, {"p": 1}, True),
    ((6, 4, 5), "layernorm", None, {}, True),
    ((6, 4, 5), "layernorm", 2, {}, True),
    ((6, 4, 5), "groupnorm", 3, {}, True),
    ((6, 4, 5), "groupnorm", 4, {}, False),
    ((6, 4, 5), "mean", None, {"keepdim": True}, True),
    ((6, 4, 5), "mean", None, {}, True),
    ((4, 6, 6), "maxpool", None, {"k": 3, "s": (2, 1), "p": (1, 0), "ceil": True}, True),
    ((4, 6, 6), "avgpool", None, {"k": (2, 3), "p": (1, 2)}, False),                   # p > k // 2
]


@pytest.mark.oracle
@pytest.mark.parametrize("shape, kind, positional, values, ok", NAMED)
def test_named_cases_match_torch(torch, shape, kind, positional, values, ok):
    if ok:
        cnnplan.shapes("x".join(map(str, shape)), [spec_text(kind, positional, values)])
    else:
        with pytest.raises(BadInput):
            cnnplan.shapes("x".join(map(str, shape)), [spec_text(kind, positional, values)])
    check_against_torch(torch, (shape, kind, positional, values))


@pytest.mark.parametrize("args", [
    ("--in", "4x9x10", "conv(4, k=3, s=2, p=same)"),
    ("--in", "6x3x5", "pixelshuffle(2)"),
    ("--in", "1x1x1", "groupnorm(1)"),
    ("--in", "2x5", "upsample(2, mode=bilinear)"),
])
def test_refusals_exit_2_with_one_line(cnnplan_cmd, args):
    from click.testing import CliRunner

    from cnnplan.cli import cli

    done = cnnplan_cmd("shapes", *args)
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.startswith("Error: layer 1 ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    ran = CliRunner().invoke(cli, ["shapes", *args])
    assert ran.exit_code == 2 and "layer 1 " in ran.output
