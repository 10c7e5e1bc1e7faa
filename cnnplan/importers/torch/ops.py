"""The mapping table: each torch module type, function and method onto a layer spec (one
handler per op, as fvcore's flop table; docs/import.md lists it)."""

from __future__ import annotations

from ...kinds.shape import format_shape, size_of


class Unmappable(Exception):
    """A node with no cnnplan layer kind (the message says why)."""


# -- spec text ------------------------------------------------------------------------------


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "(" + ", ".join(_text(v) for v in value) + ")"
    return str(value)


def spec_text(kind: str, *positional, defaults=None, **named) -> str:
    """`conv(64, k=3, p=1)`: named values that are None or equal their default are left out."""
    defaults = defaults or {}
    parts = [_text(v) for v in positional]
    parts += [
        f"{name}={_text(value)}"
        for name, value in named.items()
        if value is not None and not (name in defaults and defaults[name] == value)
    ]
    return f"{kind}({', '.join(parts)})" if parts else kind


def _axes(value, n: int):
    """An int, or a tuple of n ints when the axes differ (PyTorch's int-or-tuple arguments)."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(values) == 1:
        values = values * n
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise Unmappable(f"{value!r} is not whole numbers")
    return values[0] if len(set(values)) == 1 else values


def _whole(value, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Unmappable(f"{what} {value!r} is not a whole number")
    return value


# -- the mapping, op by op (shared by modules, functions and methods) -----------------------
# Each handler gets the op's arguments by name, the input shapes (C x sizes, no batch) and the
# output shape, and returns the spec text; Unmappable says why there is none.

# k, s, p, d (and op) are always written: a value a spec leaves out is free in `cnnplan plan`
WINDOW_DEFAULTS = {"groups": 1, "bias": True, "ceil": False}


def _pool(kind, a, ins, out):
    n = len(ins[0]) - 1
    if a.get("return_indices"):
        raise Unmappable("return_indices=True gives two outputs")
    k = _axes(a["kernel_size"], n)
    s = _axes(a["stride"] if a.get("stride") not in (None, (), []) else a["kernel_size"], n)
    named = {"k": k, "s": s, "p": _axes(a.get("padding", 0), n)}
    if kind == "maxpool":
        named["d"] = _axes(a.get("dilation", 1), n)
    named["ceil"] = bool(a.get("ceil_mode", False))
    return spec_text(kind, defaults=WINDOW_DEFAULTS, **named)


def _adaptive(kind, a, ins, out):
    spatial = ins[0][1:]
    size = a["output_size"]
    sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * len(spatial)
    sizes = tuple(i if o is None else o for o, i in zip(sizes, spatial))  # None: the input's
    return spec_text(kind, _axes(sizes, len(sizes)))


def _flatten(a, ins, out):
    rank = len(ins[0]) + 1
    start, end = a.get("start_dim", 1), a.get("end_dim", -1)
    if start % rank != 1 or end % rank != rank - 1:
        raise Unmappable(f"flattens dims {start}..{end}; cnnplan's flatten keeps only the batch")
    return "flatten"


def _view(a, ins, out):
    if out != (size_of(ins[0]),):
        raise Unmappable(
            f"reshapes {format_shape(ins[0])} to {format_shape(out)}; only "
            "(N, -1), a flatten, is a cnnplan layer"
        )
    return "flatten"


def _mean(a, ins, out):
    rank = len(ins[0]) + 1
    dims = a.get("dim")
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if dims == (None,) or sorted(d % rank for d in dims) != list(range(2, rank)):
        raise Unmappable(f"mean over dims {dims}; cnnplan's mean is over all spatial axes")
    return spec_text("mean", keepdim=bool(a.get("keepdim", False)), defaults={"keepdim": False})


def _softmax(a, ins, out):
    dim = a.get("dim")
    if dim is None or dim % (len(ins[0]) + 1) != 1:
        raise Unmappable(f"softmax over dim {dim}; cnnplan's softmax is over the channels (dim=1)")
    return "softmax"


def _upsample(a, ins, out):
    mode = a.get("mode", "nearest")
    if mode not in ("nearest", "bilinear"):
        raise Unmappable(f"mode {mode!r}; cnnplan's upsample knows nearest and bilinear")
    if a.get("size") is not None:
        return spec_text("upsample", size=_axes(a["size"], len(ins[0]) - 1), mode=mode)
    scale = a.get("scale_factor")
    scales = tuple(scale) if isinstance(scale, (tuple, list)) else (scale,)
    return spec_text(
        "upsample",
        scale=_axes(tuple(_whole(s, "scale_factor") for s in scales), len(ins[0]) - 1),
        mode=mode,
    )


def _pad(a, ins, out):
    pad = tuple(a["pad"])
    if a.get("mode", "constant") not in PAD_MODES or any(v < 0 for v in pad):
        raise Unmappable(f"pads {pad} in mode {a.get('mode')!r}; cnnplan's pad adds rows")
    return spec_text("pad", p=pad, mode=a.get("mode"), defaults={"mode": "constant"})


# F.pad's modes (cnnplan's pad(mode=...): torch's size limits for reflect and circular)
PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _join(kind):
    def handler(a, ins, out):
        if len(ins) < 2:
            raise Unmappable(f"{kind} with a constant; cnnplan's {kind} joins two layers")
        if kind == "add" and len(set(ins)) != 1:
            raise Unmappable(f"adds shapes {', '.join(map(format_shape, ins))} by broadcasting")
        return kind

    return handler


def _plain(kind):
    return lambda a, ins, out: kind


def torch_layer(module):
    """The torch.nn class whose forward `module` runs (its own class, or the torch.nn layer a
    class from another package subclasses without a forward of its own: timm's Linear,
    torchvision's Conv3DSimple); None for containers and for modules with their own forward."""
    import torch.nn as nn

    def inside(cls):
        return cls.__module__.startswith(("torch.nn.", "torch.ao.nn."))

    runs = next((cls for cls in type(module).__mro__ if "forward" in cls.__dict__), None)
    if (
        runs is None
        or not inside(runs)
        or issubclass(runs, (nn.Sequential, nn.ModuleList, nn.ModuleDict))
    ):
        return None
    return next(cls for cls in type(module).__mro__ if inside(cls))  # ReLU6, not Hardtanh


def conv_spec(c_out, kernel, stride, padding, dilation, groups, bias, n, output_padding=None):
    """conv(...) / convT(...) (with output_padding) from PyTorch's arguments."""
    padding = {"valid": 0}.get(padding, padding) if isinstance(padding, str) else _axes(padding, n)
    named = {"k": _axes(kernel, n), "s": _axes(stride, n), "p": padding}
    if output_padding is not None:
        named["op"] = _axes(output_padding, n)
    named.update(d=_axes(dilation, n), groups=groups, bias=bias)
    return spec_text(
        "conv" if output_padding is None else "convT", c_out, defaults=WINDOW_DEFAULTS, **named
    )


def linear_spec(features, bias, ins) -> str:
    if len(ins[0]) != 1:
        raise Unmappable(
            f"a linear layer on {format_shape(ins[0])}; cnnplan's linear reads a flat input"
        )
    return spec_text("linear", features, bias=bias, defaults={"bias": True})


def norm_spec(kind, argument, affine, ins) -> str:
    """bn, layernorm(dims=) over normalized_shape `argument`, groupnorm(`argument` groups)."""
    if not affine:
        raise Unmappable("a norm without its weight and bias (affine=False)")
    if kind == "layernorm":
        dims = len(argument)
        if tuple(argument) != tuple(ins[0][-dims:]):
            raise Unmappable(
                f"normalized_shape {tuple(argument)} is not the last axes of {format_shape(ins[0])}"
            )
        return spec_text("layernorm", dims=dims, defaults={"dims": len(ins[0])})
    return kind if argument is None else spec_text(kind, argument)


def _conv_fn(transposed):
    def handler(a, ins, out):
        w, groups = a["weight"], a.get("groups", 1)
        return conv_spec(
            w.shape[1] * groups if transposed else w.shape[0],
            tuple(w.shape[2:]),
            a.get("stride", 1),
            a.get("padding", 0),
            a.get("dilation", 1),
            groups,
            a.get("bias") is not None,
            len(ins[0]) - 1,
            a.get("output_padding", 0) if transposed else None,
        )

    return handler


def _affine(a) -> bool:
    return a.get("weight") is not None and a.get("bias") is not None


def _pad_same(a, ins, out):
    """TensorFlow's 'same' padding (timm's pad_same): the amounts depend on the input's size
    (floor(t/2) before, the rest after), read from the shapes of this input."""
    pairs = [((o - i) // 2, (o - i) - (o - i) // 2) for i, o in zip(ins[0][1:], out[1:])]
    return spec_text("pad", p=tuple(v for pair in reversed(pairs) for v in pair))


def _stochastic_depth(a, ins, out):
    if a.get("training"):
        raise Unmappable("stochastic depth in training mode (random)")
    return "dropout"


ACTIVATIONS = (
    "relu",
    "relu6",
    "tanh",
    "sigmoid",
    "hardswish",
    "silu",
    "gelu",
    "hardsigmoid",
    "leakyrelu",
    "elu",
    "mish",
    "hardtanh",
    "softplus",
)
FUNCTIONAL = {"leakyrelu": "leaky_relu"}  # F's name where it differs from the kind


def _inplace(kind):
    """relu, or relu(inplace=true) from nn.ReLU(inplace=True) or F.relu(x, inplace=True)."""
    return lambda a, ins, out: spec_text(kind, inplace=True if a.get("inplace") else None)


INPLACE = ("relu", "relu6", "hardswish", "silu")  # in place changes memory (docs/memory.md)
# op -> (handler, argument names of the functional/method form after the input)
OPS = {
    **{name: (_plain(name), ()) for name in ACTIVATIONS},
    **{name: (_inplace(name), ("inplace",)) for name in INPLACE},
    "dropout": (_inplace("dropout"), ("p", "training", "inplace")),
    "identity": (_plain("identity"), ()),
    "maxpool": (
        lambda a, i, o: _pool("maxpool", a, i, o),
        ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
    ),
    "avgpool": (
        lambda a, i, o: _pool("avgpool", a, i, o),
        ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    ),
    "adaptiveavgpool": (lambda a, i, o: _adaptive("adaptiveavgpool", a, i, o), ("output_size",)),
    "adaptivemaxpool": (
        lambda a, i, o: _adaptive("adaptivemaxpool", a, i, o),
        ("output_size", "return_indices"),
    ),
    "flatten": (_flatten, ("start_dim", "end_dim")),
    "view": (_view, ()),
    "mean": (_mean, ("dim", "keepdim")),
    "softmax": (_softmax, ("dim",)),
    "upsample": (_upsample, ("size", "scale_factor", "mode", "align_corners")),
    "pixelshuffle": (
        lambda a, i, o: spec_text("pixelshuffle", a["upscale_factor"]),
        ("upscale_factor",),
    ),
    "pad": (_pad, ("pad", "mode", "value")),
    "add": (_join("add"), ("other",)),
    "mul": (_join("mul"), ("other",)),
    "sub": (None, ("other",)),
    "div": (None, ("other",)),
    "clamp": (lambda a, i, o: "hardtanh", ("min", "max")),
    "stochastic_depth": (_stochastic_depth, ("p", "mode", "training")),
    "pad_same": (_pad_same, ("kernel_size", "stride", "dilation", "value")),
    # functions whose weights are stored in the model (_weighted)
    "conv_fn": (_conv_fn(False), ("weight", "bias", "stride", "padding", "dilation", "groups")),
    "convT_fn": (
        _conv_fn(True),
        ("weight", "bias", "stride", "padding", "output_padding", "groups", "dilation"),
    ),
    "linear_fn": (
        lambda a, ins, out: linear_spec(a["weight"].shape[0], a.get("bias") is not None, ins),
        ("weight", "bias"),
    ),
    "bn_fn": (
        lambda a, ins, out: norm_spec("bn", None, _affine(a), ins),
        ("running_mean", "running_var", "weight", "bias", "training", "momentum", "eps"),
    ),
    "layernorm_fn": (
        lambda a, ins, out: norm_spec("layernorm", a["normalized_shape"], _affine(a), ins),
        ("normalized_shape", "weight", "bias", "eps"),
    ),
    "groupnorm_fn": (
        lambda a, ins, out: norm_spec("groupnorm", a["num_groups"], _affine(a), ins),
        ("num_groups", "weight", "bias", "eps"),
    ),
}
ARITHMETIC = ("add", "mul", "sub", "div")
WEIGHTED = ("conv_fn", "convT_fn", "linear_fn", "bn_fn", "layernorm_fn", "groupnorm_fn")


# functions of other packages (package.module:function -> op), looked up only when the model's
# code has imported their module; LEAF_FUNCTIONS are kept whole by the trace (their Python
# branches on sizes cannot be traced)
EXTERNAL_FUNCTIONS = {
    "torchvision.ops.stochastic_depth:stochastic_depth": "stochastic_depth",
    "timm.layers.padding:pad_same": "pad_same",
}
LEAF_FUNCTIONS = ("timm.layers.padding:pad_same",)
SIZE_DEPENDENT = "amounts computed from the input's size"


def external_functions(references=tuple(EXTERNAL_FUNCTIONS)) -> dict:
    """{function: reference} for the references whose module is already imported."""
    import sys

    found = {}
    for reference in references:
        module, _, name = reference.partition(":")
        function = getattr(sys.modules.get(module), name, None)
        if callable(function):
            found[function] = reference
    return found


def functions_table() -> dict:
    """fx call_function targets -> op."""
    import operator

    import torch
    import torch.nn.functional as F

    table = {
        operator.add: "add",
        operator.iadd: "add",
        torch.add: "add",
        operator.mul: "mul",
        operator.imul: "mul",
        torch.mul: "mul",
        operator.sub: "sub",
        operator.isub: "sub",
        torch.sub: "sub",
        operator.truediv: "div",
        operator.itruediv: "div",
        torch.div: "div",
        torch.clamp: "clamp",
        torch.addcmul: "addcmul",
        F.linear: "linear_fn",
        F.batch_norm: "bn_fn",
        F.layer_norm: "layernorm_fn",
        F.group_norm: "groupnorm_fn",
        torch.flatten: "flatten",
        torch.mean: "mean",
        torch.softmax: "softmax",
        F.softmax: "softmax",
        F.dropout: "dropout",
        F.interpolate: "upsample",
        F.pad: "pad",
        F.pixel_shuffle: "pixelshuffle",
        torch.pixel_shuffle: "pixelshuffle",
        torch.relu: "relu",
        torch.sigmoid: "sigmoid",
        torch.tanh: "tanh",
        F.tanh: "tanh",
    }
    for name in ACTIVATIONS:
        function = FUNCTIONAL.get(name, name)
        if hasattr(F, function):
            table[getattr(F, function)] = name
        if hasattr(torch, function):
            table[getattr(torch, function)] = name
    table.update(
        {function: EXTERNAL_FUNCTIONS[ref] for function, ref in external_functions().items()}
    )
    for n in (1, 2, 3):
        table[getattr(F, f"conv{n}d")] = table[getattr(torch, f"conv{n}d")] = "conv_fn"
        table[getattr(F, f"conv_transpose{n}d")] = "convT_fn"
        table[getattr(torch, f"conv_transpose{n}d")] = "convT_fn"
        table[getattr(F, f"max_pool{n}d")] = "maxpool"
        table[getattr(F, f"avg_pool{n}d")] = "avgpool"
        table[getattr(F, f"adaptive_avg_pool{n}d")] = "adaptiveavgpool"
        table[getattr(F, f"adaptive_max_pool{n}d")] = "adaptivemaxpool"
    return table


METHODS = {
    "add": "add",
    "add_": "add",
    "mul": "mul",
    "mul_": "mul",
    "flatten": "flatten",
    "sub": "sub",
    "sub_": "sub",
    "div": "div",
    "div_": "div",
    "hardsigmoid": "hardsigmoid",
    "clamp": "clamp",
    "clamp_": "clamp",
    "view": "view",
    "reshape": "view",
    "mean": "mean",
    "softmax": "softmax",
    "relu": "relu",
    "relu_": "relu",
    "sigmoid": "sigmoid",
    "sigmoid_": "sigmoid",
    "tanh": "tanh",
    "tanh_": "tanh",
}
ALIASES = {"contiguous", "clone", "detach"}  # methods that leave the tensor as it is
CAT = "cat"


def module_op(m, ins):
    """(op, arguments) of a leaf nn.Module, or (None, spec text) for windows and the like."""
    import torch.nn as nn

    n = len(ins[0]) - 1 if ins else 0
    if isinstance(
        m,
        (
            nn.Conv1d,
            nn.Conv2d,
            nn.Conv3d,
            nn.ConvTranspose1d,
            nn.ConvTranspose2d,
            nn.ConvTranspose3d,
        ),
    ):
        if m.padding_mode != "zeros":
            raise Unmappable(f"padding_mode={m.padding_mode!r}; cnnplan pads with zeros")
        transposed = isinstance(m, nn.modules.conv._ConvTransposeNd)
        spec = conv_spec(
            m.out_channels,
            m.kernel_size,
            m.stride,
            m.padding,
            m.dilation,
            m.groups,
            m.bias is not None,
            n,
            m.output_padding if transposed else None,
        )
        return None, spec[:-1] + _gain(m, transposed) + ")"
    if isinstance(m, nn.Linear):
        return None, linear_spec(m.out_features, m.bias is not None, ins)
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        return None, norm_spec("bn", None, m.affine, ins)
    if isinstance(m, nn.LayerNorm):
        affine = m.elementwise_affine and getattr(m, "bias", True) is not None
        return None, norm_spec("layernorm", m.normalized_shape, affine, ins)
    if isinstance(m, nn.GroupNorm):
        return None, norm_spec("groupnorm", m.num_groups, m.affine, ins)
    windows = {
        nn.MaxPool1d: "maxpool",
        nn.MaxPool2d: "maxpool",
        nn.MaxPool3d: "maxpool",
        nn.AvgPool1d: "avgpool",
        nn.AvgPool2d: "avgpool",
        nn.AvgPool3d: "avgpool",
    }
    for cls, op in windows.items():
        if isinstance(m, cls):
            return op, {
                "kernel_size": m.kernel_size,
                "stride": m.stride,
                "padding": m.padding,
                "dilation": getattr(m, "dilation", 1),
                "ceil_mode": m.ceil_mode,
                "return_indices": getattr(m, "return_indices", False),
            }
    simple = {
        nn.ReLU: "relu",
        nn.ReLU6: "relu6",
        nn.Tanh: "tanh",
        nn.Sigmoid: "sigmoid",
        nn.Hardswish: "hardswish",
        nn.SiLU: "silu",
        nn.GELU: "gelu",
        nn.Hardsigmoid: "hardsigmoid",
        nn.LeakyReLU: "leakyrelu",
        nn.ELU: "elu",
        nn.Mish: "mish",
        nn.Hardtanh: "hardtanh",
        nn.Softplus: "softplus",
        nn.AlphaDropout: "dropout",
        nn.Identity: "identity",
        nn.Dropout: "dropout",
        nn.Dropout1d: "dropout",
        nn.Dropout2d: "dropout",
        nn.Dropout3d: "dropout",
    }
    layer = torch_layer(m)
    if layer in simple:
        return simple[layer], {"inplace": getattr(m, "inplace", False)}
    adaptive = {
        nn.AdaptiveAvgPool1d: "adaptiveavgpool",
        nn.AdaptiveAvgPool2d: "adaptiveavgpool",
        nn.AdaptiveAvgPool3d: "adaptiveavgpool",
        nn.AdaptiveMaxPool1d: "adaptivemaxpool",
        nn.AdaptiveMaxPool2d: "adaptivemaxpool",
        nn.AdaptiveMaxPool3d: "adaptivemaxpool",
    }
    if layer in adaptive:
        return adaptive[layer], {
            "output_size": m.output_size,
            "return_indices": getattr(m, "return_indices", False),
        }
    if isinstance(m, nn.Flatten):
        return "flatten", {"start_dim": m.start_dim, "end_dim": m.end_dim}
    if isinstance(m, nn.Softmax):
        return "softmax", {"dim": m.dim}
    if isinstance(m, nn.Upsample):  # also UpsamplingNearest2d and UpsamplingBilinear2d
        return "upsample", {
            "size": m.size,
            "scale_factor": m.scale_factor,
            "mode": m.mode,
            "align_corners": m.align_corners,
        }
    if isinstance(m, nn.PixelShuffle):
        return "pixelshuffle", {"upscale_factor": m.upscale_factor}
    if isinstance(
        m,
        (
            nn.ZeroPad1d,
            nn.ZeroPad2d,
            nn.ZeroPad3d,
            nn.ConstantPad1d,
            nn.ConstantPad2d,
            nn.ConstantPad3d,
        ),
    ):
        return "pad", {"pad": m.padding}
    for mode, stem in (
        ("reflect", "Reflection"),
        ("replicate", "Replication"),
        ("circular", "Circular"),
    ):
        if any(
            isinstance(m, cls)
            for cls in (getattr(nn, f"{stem}Pad{n}d", None) for n in (1, 2, 3))
            if cls is not None
        ):
            return "pad", {"pad": m.padding, "mode": mode}
    raise Unmappable(f"no cnnplan layer kind for {type(m).__module__}.{type(m).__name__}")


def _gain(m, transposed) -> str:
    """', gain=true' for a conv module whose kernel is computed from one more parameter per
    output channel (torch.nn.utils.parametrizations.weight_norm's g), '' for a plain one;
    Unmappable for other parameters."""
    extra = (
        sum(p.numel() for p in m.parameters())
        - m.weight.numel()
        - (0 if m.bias is None else m.bias.numel())
    )
    if not extra:
        return ""
    if extra != m.out_channels or transposed:
        raise Unmappable(
            f"its parameters hold {extra:,} values besides the kernel and bias; "
            "cnnplan's conv(..., gain=true) has one per output channel"
        )
    return ", gain=true"


def op_note(op, a) -> str:
    """A comment for mappings that keep the shapes but not every detail."""
    if op == "upsample" and a.get("align_corners") and a.get("mode") == "bilinear":
        return "align_corners=True in the model (cnnplan's bilinear: False; same shapes)"
    if op == "pad_same":
        return f"TensorFlow 'same' padding: {SIZE_DEPENDENT}"
    if op == "stochastic_depth":
        return "stochastic depth (identity in eval mode)"
    if op == "pad" and a.get("value") not in (None, 0, 0.0):
        return f"pads with {a['value']} in the model (cnnplan: zeros; same shapes)"
    return ""


def named_arguments(names, args, kwargs) -> dict:
    """{name: value} of a call's arguments after the input (positional by `names`)."""
    named = dict(zip(names, args))
    named.update(kwargs)
    return named
