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
    parts += [f"{name}={_text(value)}" for name, value in named.items()
              if value is not None and not (name in defaults and defaults[name] == value)]
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
        raise Unmappable(f"reshapes {format_shape(ins[0])} to {format_shape(out)}; only "
                          "(N, -1), a flatten, is a cnnplan layer")
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
    return spec_text("upsample", scale=_axes(tuple(_whole(s, "scale_factor") for s in scales),
                                             len(ins[0]) - 1), mode=mode)


def _pad(a, ins, out):
    pad = tuple(a["pad"])
    if a.get("mode", "constant") != "constant" or any(v < 0 for v in pad):
        raise Unmappable(f"pads {pad} in mode {a.get('mode')!r}; cnnplan's pad adds zeros")
    return spec_text("pad", p=pad)


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


ACTIVATIONS = ("relu", "relu6", "tanh", "sigmoid", "hardswish", "silu", "gelu")
# op -> (handler, argument names of the functional/method form after the input)
OPS = {
    **{name: (_plain(name), ()) for name in ACTIVATIONS},
    "dropout": (_plain("dropout"), ("p", "training", "inplace")),
    "identity": (_plain("identity"), ()),
    "maxpool": (lambda a, i, o: _pool("maxpool", a, i, o),
                ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")),
    "avgpool": (lambda a, i, o: _pool("avgpool", a, i, o),
                ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                 "divisor_override")),
    "adaptiveavgpool": (lambda a, i, o: _adaptive("adaptiveavgpool", a, i, o), ("output_size",)),
    "adaptivemaxpool": (lambda a, i, o: _adaptive("adaptivemaxpool", a, i, o),
                        ("output_size", "return_indices")),
    "flatten": (_flatten, ("start_dim", "end_dim")),
    "view": (_view, ()),
    "mean": (_mean, ("dim", "keepdim")),
    "softmax": (_softmax, ("dim",)),
    "upsample": (_upsample, ("size", "scale_factor", "mode", "align_corners")),
    "pixelshuffle": (lambda a, i, o: spec_text("pixelshuffle", a["upscale_factor"]),
                     ("upscale_factor",)),
    "pad": (_pad, ("pad", "mode", "value")),
    "add": (_join("add"), ("other",)),
    "mul": (_join("mul"), ("other",)),
}


def functions_table() -> dict:
    """fx call_function targets -> op."""
    import operator

    import torch
    import torch.nn.functional as F

    table = {operator.add: "add", operator.iadd: "add", torch.add: "add",
             operator.mul: "mul", operator.imul: "mul", torch.mul: "mul",
             torch.flatten: "flatten", torch.mean: "mean", torch.softmax: "softmax",
             F.softmax: "softmax", F.dropout: "dropout", F.interpolate: "upsample",
             F.pad: "pad", F.pixel_shuffle: "pixelshuffle", torch.pixel_shuffle: "pixelshuffle",
             torch.relu: "relu", torch.sigmoid: "sigmoid", torch.tanh: "tanh", F.tanh: "tanh"}
    for name in ACTIVATIONS:
        if hasattr(F, name):
            table[getattr(F, name)] = name
    for n in (1, 2, 3):
        table[getattr(F, f"max_pool{n}d")] = "maxpool"
        table[getattr(F, f"avg_pool{n}d")] = "avgpool"
        table[getattr(F, f"adaptive_avg_pool{n}d")] = "adaptiveavgpool"
        table[getattr(F, f"adaptive_max_pool{n}d")] = "adaptivemaxpool"
    return table


METHODS = {"add": "add", "add_": "add", "mul": "mul", "mul_": "mul", "flatten": "flatten",
           "view": "view", "reshape": "view", "mean": "mean", "softmax": "softmax",
           "relu": "relu", "relu_": "relu", "sigmoid": "sigmoid", "sigmoid_": "sigmoid",
           "tanh": "tanh", "tanh_": "tanh"}
ALIASES = {"contiguous", "clone", "detach"}     # methods that leave the tensor as it is
CAT = "cat"


def module_op(m, ins):
    """(op, arguments) of a leaf nn.Module, or (None, spec text) for windows and the like."""
    import torch.nn as nn

    n = len(ins[0]) - 1 if ins else 0
    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                      nn.ConvTranspose3d)):
        if m.padding_mode != "zeros":
            raise Unmappable(f"padding_mode={m.padding_mode!r}; cnnplan pads with zeros")
        transposed = isinstance(m, nn.modules.conv._ConvTransposeNd)
        padding = {"valid": 0}.get(m.padding, m.padding) if isinstance(m.padding, str) \
            else _axes(m.padding, n)
        named = {"k": _axes(m.kernel_size, n), "s": _axes(m.stride, n), "p": padding}
        if transposed:
            named["op"] = _axes(m.output_padding, n)
        named.update(d=_axes(m.dilation, n), groups=m.groups, bias=m.bias is not None)
        return None, spec_text("convT" if transposed else "conv", m.out_channels,
                               defaults=WINDOW_DEFAULTS, **named)
    if isinstance(m, nn.Linear):
        if len(ins[0]) != 1:
            raise Unmappable(f"a linear layer on {format_shape(ins[0])}; cnnplan's linear "
                              "reads a flat input")
        return None, spec_text("linear", m.out_features, bias=m.bias is not None,
                               defaults={"bias": True})
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        if not m.affine:
            raise Unmappable("affine=False (no parameters)")
        return None, "bn"
    if isinstance(m, nn.LayerNorm):
        dims = len(m.normalized_shape)
        if tuple(m.normalized_shape) != tuple(ins[0][-dims:]):
            raise Unmappable(f"normalized_shape {tuple(m.normalized_shape)} is not the last "
                              f"axes of {format_shape(ins[0])}")
        if not m.elementwise_affine or getattr(m, "bias", True) is None:
            raise Unmappable("a layer norm without its weight and bias")
        return None, spec_text("layernorm", dims=dims, defaults={"dims": len(ins[0])})
    if isinstance(m, nn.GroupNorm):
        if not m.affine:
            raise Unmappable("affine=False (no parameters)")
        return None, spec_text("groupnorm", m.num_groups)
    windows = {nn.MaxPool1d: "maxpool", nn.MaxPool2d: "maxpool", nn.MaxPool3d: "maxpool",
               nn.AvgPool1d: "avgpool", nn.AvgPool2d: "avgpool", nn.AvgPool3d: "avgpool"}
    for cls, op in windows.items():
        if isinstance(m, cls):
            return op, {"kernel_size": m.kernel_size, "stride": m.stride, "padding": m.padding,
                        "dilation": getattr(m, "dilation", 1), "ceil_mode": m.ceil_mode,
                        "return_indices": getattr(m, "return_indices", False)}
    simple = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid",
              nn.Hardswish: "hardswish", nn.SiLU: "silu", nn.GELU: "gelu",
              nn.Identity: "identity", nn.Dropout: "dropout", nn.Dropout1d: "dropout",
              nn.Dropout2d: "dropout", nn.Dropout3d: "dropout"}
    if type(m) in simple:
        return simple[type(m)], {}
    adaptive = {nn.AdaptiveAvgPool1d: "adaptiveavgpool", nn.AdaptiveAvgPool2d: "adaptiveavgpool",
                nn.AdaptiveAvgPool3d: "adaptiveavgpool", nn.AdaptiveMaxPool1d: "adaptivemaxpool",
                nn.AdaptiveMaxPool2d: "adaptivemaxpool", nn.AdaptiveMaxPool3d: "adaptivemaxpool"}
    if type(m) in adaptive:
        return adaptive[type(m)], {"output_size": m.output_size,
                                   "return_indices": getattr(m, "return_indices", False)}
    if isinstance(m, nn.Flatten):
        return "flatten", {"start_dim": m.start_dim, "end_dim": m.end_dim}
    if isinstance(m, nn.Softmax):
        return "softmax", {"dim": m.dim}
    if isinstance(m, nn.Upsample):   # also UpsamplingNearest2d and UpsamplingBilinear2d
        return "upsample", {"size": m.size, "scale_factor": m.scale_factor, "mode": m.mode,
                            "align_corners": m.align_corners}
    if isinstance(m, nn.PixelShuffle):
        return "pixelshuffle", {"upscale_factor": m.upscale_factor}
    if isinstance(m, (nn.ZeroPad1d, nn.ZeroPad2d, nn.ZeroPad3d, nn.ConstantPad1d,
                      nn.ConstantPad2d, nn.ConstantPad3d)):
        return "pad", {"pad": m.padding}
    raise Unmappable(f"no cnnplan layer kind for {type(m).__module__}.{type(m).__name__}")


def op_note(op, a) -> str:
    """A comment for mappings that keep the shapes but not every detail."""
    if op == "upsample" and a.get("align_corners") and a.get("mode") == "bilinear":
        return "align_corners=True in the model (cnnplan's bilinear: False; same shapes)"
    if op == "pad" and a.get("value") not in (None, 0, 0.0):
        return f"pads with {a['value']} in the model (cnnplan: zeros; same shapes)"
    return ""


def named_arguments(names, args, kwargs) -> dict:
    """{name: value} of a call's arguments after the input (positional by `names`)."""
    named = dict(zip(names, args))
    named.update(kwargs)
    return named
