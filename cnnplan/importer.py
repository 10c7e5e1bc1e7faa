"""`cnnplan import`: read a PyTorch model into a plan file.

The model is traced with torch.fx (symbolically: no forward pass on real data) and mapped node by
node onto cnnplan's layer kinds; the plan's layers are named after the model's modules
(`layer1.0.conv1`), joins after their module and function (`layer1.0.add`). Every import is
checked before anything is written: cnnplan's shapes for the plan must equal the shapes torch's
ShapeProp records node by node (run on the meta device, so no real arithmetic is done), and its
parameter count must equal `sum(p.numel())`.

torch is imported only here, inside the functions that need it, so nothing else in cnnplan pays
for it. The mapping table is in docs/import.md; plugins claim their own module types through the
`register_importers` hook (an `Importer` record each).
"""

from __future__ import annotations

import ast
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Callable

from .errors import BadInput, CnnplanError
from .result import Result
from .tensor_shape import format_shape, parse_shape, size_of

MAX_ARGS = 32
MAX_ARG_TEXT = 1000
BATCH = 2     # the batch of the shape run: a literal view(1, -1) cannot pass for a flatten
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_TARGET = re.compile(r"(?P<where>[^:]+):(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
TORCH_MISSING = ("cnnplan import needs PyTorch: pip install \"cnnplan[torch]\" (or pip install "
                 "torch); nothing else in cnnplan needs it")


class ImportFailed(CnnplanError):
    """The model cannot be imported faithfully (exit 2); nothing is written."""


@dataclass(frozen=True)
class Importer:
    """A plugin's claim on an `nn.Module` type, for `cnnplan import`.

    `module` is the class (or a 'package.module:Class' reference, imported only when a model is
    imported); `function(module, inputs)` gets the module instance and its input shapes (C x
    sizes tuples, no batch) and returns the layer's spec text, e.g. "spacetodepth(2)". A claimed
    module is a leaf of the trace: fx does not look inside it.
    """

    name: str
    module: type | str
    function: Callable | str
    provider: str = ""


@dataclass
class Layer:
    """One layer of the plan being written."""

    name: str
    spec: str
    sources: tuple          # names of the layers (or "input") it reads
    node: str               # the fx node it came from
    shape: tuple            # torch's output shape, without the batch
    comment: str = ""
    placeholder: bool = False


class _Unmappable(Exception):
    """A node with no cnnplan layer kind (the message says why)."""


@dataclass
class _Crop:
    """A centre crop (a slice) of `source`: only meaningful as an input of torch.cat."""

    source: object
    shape: tuple


@dataclass
class _Graph:
    """The state of one mapping: layers, and what each fx node became."""

    layers: list = field(default_factory=list)
    names: set = field(default_factory=lambda: {"input"})
    of: dict = field(default_factory=dict)         # fx node -> layer name, or _Crop
    calls: dict = field(default_factory=dict)      # module name -> times called
    skipped_params: int = 0


# -- the command's inputs -------------------------------------------------------------------

def parse_args(items) -> dict:
    """`["width=8", "blocks=(2, 2)"]` -> {"width": 8, "blocks": (2, 2)}: Python literals only
    (ast.literal_eval, never eval)."""
    items = list(items or ())
    if len(items) > MAX_ARGS:
        raise BadInput(f"{len(items)} --arg options; the limit is {MAX_ARGS}")
    kwargs: dict = {}
    for item in items:
        if len(item) > MAX_ARG_TEXT:
            raise BadInput(f"--arg is too long ({len(item):,} characters)")
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise BadInput(f"--arg {item!r} is not NAME=VALUE (e.g. --arg width=8)")
        if name in kwargs:
            raise BadInput(f"--arg gives {name} twice")
        try:
            kwargs[name] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise BadInput(f"--arg {name}={text.strip()!r} is not a Python literal (a number, "
                           "string, True/False/None, or a tuple, list or dict of them)") from None
    return kwargs


def _torch():
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError:
        raise BadInput(TORCH_MISSING) from None
    return torch


def _check_target(target) -> tuple[str, str]:
    """(file or module, NAME) of TARGET; BadInput if it is malformed or names no file."""
    if isinstance(target, str) and len(target) > MAX_ARG_TEXT:
        raise BadInput(f"import target is too long ({len(target):,} characters)")
    match = _TARGET.fullmatch(target.strip()) if isinstance(target, str) else None
    if match is None:
        raise BadInput(f"import target {target!r} is not FILE.py:NAME or package.module:NAME")
    if match["where"].endswith(".py") and not os.path.isfile(match["where"]):
        raise BadInput(f"import target {target!r}: no file {match['where']}")
    return match["where"], match["name"]


_LOADED: dict = {}     # module name given to a loaded model file -> the file as typed


def load_target(target: str):
    """The class or function that TARGET (`path/to/file.py:NAME` or `package.module:NAME`)
    names. Loading runs the module's code, as importing it in Python would."""
    import importlib
    import importlib.util

    where, name = _check_target(target)
    folder = os.path.dirname(os.path.abspath(where)) if where.endswith(".py") else os.getcwd()
    sys.path.insert(0, folder)   # sibling modules of the model file import as they would
    try:
        if where.endswith(".py"):
            module_name = "cnnplan_import_" + re.sub(r"\W", "_", os.path.abspath(where))
            _LOADED[module_name] = where
            spec = importlib.util.spec_from_file_location(module_name, where)
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except CnnplanError:
        raise
    except ModuleNotFoundError as exc:
        raise BadInput(f"import target {target!r}: no module named {exc.name!r}") from None
    except Exception as exc:
        raise BadInput(f"import target {target!r}: loading {where} failed: "
                       f"{type(exc).__name__}: {_first_line(exc)}") from None
    finally:
        sys.path.remove(folder)
    if not hasattr(module, name):
        raise BadInput(f"import target {target!r}: {where} has no {name!r}")
    return getattr(module, name)


def build_model(target: str, kwargs: dict):
    """The nn.Module that TARGET builds with `kwargs` (in eval mode)."""
    torch = _torch()
    factory = load_target(target)
    if not callable(factory):
        raise BadInput(f"import target {target!r} is not a class or function")
    try:
        model = factory(**kwargs)
    except TypeError as exc:
        raise BadInput(f"import target {target!r} cannot be built with "
                       f"{_call_text(kwargs)}: {_first_line(exc)} (give arguments with "
                       "--arg name=value)") from None
    except Exception as exc:
        raise BadInput(f"building {target!r} failed: {type(exc).__name__}: "
                       f"{_first_line(exc)}") from None
    if not isinstance(model, torch.nn.Module):
        raise BadInput(f"import target {target!r} gives a {type(model).__name__}, not a "
                       "torch.nn.Module")
    return model.eval()


def _call_text(kwargs: dict) -> str:
    return "no arguments" if not kwargs else ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- plugins' importers ---------------------------------------------------------------------

def plugin_importers() -> list[Importer]:
    """Every Importer registered through the `register_importers` hook (a plugin whose hook
    fails is reported once and skipped)."""
    from .plugins import get_host

    host = get_host()
    found = []
    for provider, function in host.implementations("register_importers"):
        staged: list = []
        try:
            function(register=staged.append)
            for record in staged:
                if not isinstance(record, Importer):
                    raise TypeError(f"registered {record!r}, not a cnnplan.importer.Importer")
        except Exception as exc:
            host.failed(provider, "register_importers failed", exc)
            continue
        found += [Importer(r.name, r.module, r.function, provider) for r in staged]
    return found


def _resolve(reference):
    if not isinstance(reference, str):
        return reference
    import importlib

    module, _, attr = reference.partition(":")
    return getattr(importlib.import_module(module), attr)


def _claims(importers) -> list[tuple[type, Importer]]:
    claims = []
    for record in importers:
        try:
            claims.append((_resolve(record.module), record))
        except Exception as exc:
            raise BadInput(f"importer {record.name!r} ({record.provider}): cannot load "
                           f"{record.module!r}: {type(exc).__name__}: {_first_line(exc)}") from None
    return claims


# -- tracing and the shape run --------------------------------------------------------------

def trace(model, claimed: tuple = ()):
    """torch.fx GraphModule of `model`; modules of the `claimed` types stay leaves.
    BadInput with fx's reason if the model cannot be traced symbolically."""
    import inspect

    torch = _torch()

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, module, name):
            return isinstance(module, claimed) or super().is_leaf_module(module, name)

    try:
        parameters = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    inputs = [p for p in parameters if p.default is p.empty
              and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(inputs) > 1:
        raise BadInput(f"{type(model).__name__}.forward takes {len(inputs)} inputs "
                       f"({', '.join(p.name for p in inputs)}); a cnnplan network has one")
    concrete = {p.name: p.default for p in parameters if p.default is not p.empty}
    tracer = Tracer()
    try:
        graph = tracer.trace(model, concrete_args=concrete or None)
    except Exception as exc:
        raise BadInput(f"torch.fx cannot trace {type(model).__name__}: "
                       f"{type(exc).__name__}: {_first_line(exc)}") from None
    return torch.fx.GraphModule(tracer.root, graph)


def shape_run(gm, input_shape: tuple) -> dict:
    """{fx node: its value} for a batch of BATCH inputs of `input_shape`, from torch's ShapeProp
    on the meta device (which also records node.meta["tensor_meta"])."""
    import contextlib
    import io

    torch = _torch()
    from torch.fx.passes.shape_prop import ShapeProp

    values: dict = {}
    current = []

    class Recorder(ShapeProp):
        def run_node(self, node):
            current[:] = [node]
            values[node] = result = super().run_node(node)
            return result

    gm.to("meta")
    try:
        with contextlib.redirect_stderr(io.StringIO()):   # ShapeProp prints tracebacks
            Recorder(gm).propagate(torch.empty(BATCH, *input_shape, device="meta"))
    except Exception as exc:
        cause = exc.__cause__ or exc
        where = f" at {_describe(current[0])}" if current else ""
        raise BadInput(f"torch refuses input {format_shape(input_shape)}{where}: "
                       f"{type(cause).__name__}: {_first_line(cause)} (shapes are worked out on "
                       "the meta device, without data)") from None
    return values


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
        raise _Unmappable(f"{value!r} is not whole numbers")
    return values[0] if len(set(values)) == 1 else values


def _whole(value, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Unmappable(f"{what} {value!r} is not a whole number")
    return value


# -- the mapping, op by op (shared by modules, functions and methods) -----------------------
# Each handler gets the op's arguments by name, the input shapes (C x sizes, no batch) and the
# output shape, and returns the spec text; _Unmappable says why there is none.

# k, s, p, d (and op) are always written: a value a spec leaves out is free in `cnnplan plan`
WINDOW_DEFAULTS = {"groups": 1, "bias": True, "ceil": False}


def _pool(kind, a, ins, out):
    n = len(ins[0]) - 1
    if a.get("return_indices"):
        raise _Unmappable("return_indices=True gives two outputs")
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
        raise _Unmappable(f"flattens dims {start}..{end}; cnnplan's flatten keeps only the batch")
    return "flatten"


def _view(a, ins, out):
    if out != (size_of(ins[0]),):
        raise _Unmappable(f"reshapes {format_shape(ins[0])} to {format_shape(out)}; only "
                          "(N, -1), a flatten, is a cnnplan layer")
    return "flatten"


def _mean(a, ins, out):
    rank = len(ins[0]) + 1
    dims = a.get("dim")
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if dims == (None,) or sorted(d % rank for d in dims) != list(range(2, rank)):
        raise _Unmappable(f"mean over dims {dims}; cnnplan's mean is over all spatial axes")
    return spec_text("mean", keepdim=bool(a.get("keepdim", False)), defaults={"keepdim": False})


def _softmax(a, ins, out):
    dim = a.get("dim")
    if dim is None or dim % (len(ins[0]) + 1) != 1:
        raise _Unmappable(f"softmax over dim {dim}; cnnplan's softmax is over the channels (dim=1)")
    return "softmax"


def _upsample(a, ins, out):
    mode = a.get("mode", "nearest")
    if mode not in ("nearest", "bilinear"):
        raise _Unmappable(f"mode {mode!r}; cnnplan's upsample knows nearest and bilinear")
    if a.get("size") is not None:
        return spec_text("upsample", size=_axes(a["size"], len(ins[0]) - 1), mode=mode)
    scale = a.get("scale_factor")
    scales = tuple(scale) if isinstance(scale, (tuple, list)) else (scale,)
    return spec_text("upsample", scale=_axes(tuple(_whole(s, "scale_factor") for s in scales),
                                             len(ins[0]) - 1), mode=mode)


def _pad(a, ins, out):
    pad = tuple(a["pad"])
    if a.get("mode", "constant") != "constant" or any(v < 0 for v in pad):
        raise _Unmappable(f"pads {pad} in mode {a.get('mode')!r}; cnnplan's pad adds zeros")
    return spec_text("pad", p=pad)


def _join(kind):
    def handler(a, ins, out):
        if len(ins) < 2:
            raise _Unmappable(f"{kind} with a constant; cnnplan's {kind} joins two layers")
        if kind == "add" and len(set(ins)) != 1:
            raise _Unmappable(f"adds shapes {', '.join(map(format_shape, ins))} by broadcasting")
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


def _functions() -> dict:
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


def _module_op(m, ins):
    """(op, arguments) of a leaf nn.Module, or (None, spec text) for windows and the like."""
    import torch.nn as nn

    n = len(ins[0]) - 1 if ins else 0
    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                      nn.ConvTranspose3d)):
        if m.padding_mode != "zeros":
            raise _Unmappable(f"padding_mode={m.padding_mode!r}; cnnplan pads with zeros")
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
            raise _Unmappable(f"a linear layer on {format_shape(ins[0])}; cnnplan's linear "
                              "reads a flat input")
        return None, spec_text("linear", m.out_features, bias=m.bias is not None,
                               defaults={"bias": True})
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        if not m.affine:
            raise _Unmappable("affine=False (no parameters)")
        return None, "bn"
    if isinstance(m, nn.LayerNorm):
        dims = len(m.normalized_shape)
        if tuple(m.normalized_shape) != tuple(ins[0][-dims:]):
            raise _Unmappable(f"normalized_shape {tuple(m.normalized_shape)} is not the last "
                              f"axes of {format_shape(ins[0])}")
        if not m.elementwise_affine or getattr(m, "bias", True) is None:
            raise _Unmappable("a layer norm without its weight and bias")
        return None, spec_text("layernorm", dims=dims, defaults={"dims": len(ins[0])})
    if isinstance(m, nn.GroupNorm):
        if not m.affine:
            raise _Unmappable("affine=False (no parameters)")
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
    raise _Unmappable(f"no cnnplan layer kind for {type(m).__module__}.{type(m).__name__}")


def _note(op, a) -> str:
    """A comment for mappings that keep the shapes but not every detail."""
    if op == "upsample" and a.get("align_corners") and a.get("mode") == "bilinear":
        return "align_corners=True in the model (cnnplan's bilinear: False; same shapes)"
    if op == "pad" and a.get("value") not in (None, 0, 0.0):
        return f"pads with {a['value']} in the model (cnnplan: zeros; same shapes)"
    return ""


def _named(names, args, kwargs) -> dict:
    """{name: value} of a call's arguments after the input (positional by `names`)."""
    named = dict(zip(names, args))
    named.update(kwargs)
    return named


# -- the graph ------------------------------------------------------------------------------

def _layer_name(node, graph: _Graph) -> str:
    """The module's qualified name for a module call (a second call adds _1, _2, ... as fx
    does); a function's or method's enclosing module, a dot, and the function's name."""
    if node.op == "call_module":
        calls = graph.calls.get(node.target, 0)
        graph.calls[node.target] = calls + 1
        base = node.target if not calls else f"{node.target}_{calls}"
    else:
        stack = node.meta.get("nn_module_stack") or {}
        owner = list(stack.values())[-1][0] if stack else ""
        op = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", "op")
        base = f"{owner}.{op}" if owner else op
    base = re.sub(r"[^A-Za-z0-9_.]", "_", base)
    if not _NAME.fullmatch(base):
        base = "_" + base        # a top-level nn.Sequential's children are 0, 1, ...
    name, n = base, 0
    while name in graph.names:
        n += 1
        name = f"{base}_{n}"
    graph.names.add(name)
    return name


def _source(node) -> str:
    """Where a node came from, for messages: its module (class) or the enclosing module."""
    stack = node.meta.get("nn_module_stack") or {}
    if stack:
        path, cls = list(stack.values())[-1]
        return f"module {path or '(root)'} ({_LOADED.get(cls.__module__, cls.__module__)}:" \
               f"{cls.__qualname__})"
    return "the model's own forward"


def _op_text(node) -> str:
    """'call_module layer1.0.conv1', 'call_function torch.erf', 'call_method view'."""
    target = node.target
    if not isinstance(target, str):
        module = getattr(target, "__module__", "") or ""
        target = f"{module}.{getattr(target, '__name__', target)}".lstrip(".")
    return f"{node.op} {target}"


def _describe(node) -> str:
    return f"node {node.name!r} ({_op_text(node)}) in {_source(node)}"


def map_graph(gm, values: dict, claims=(), skip_unknown: bool = False):
    """(layers, output layer name, parameters of skipped nodes) of a traced, shape-run model;
    BadInput for an unmappable node unless skip_unknown, which puts a shape-preserving
    `identity` placeholder in its place."""
    import torch
    from torch.fx.node import map_arg

    functions = _functions()
    modules = dict(gm.named_modules())
    graph = _Graph()
    output = None
    for node in gm.graph.nodes:
        value = values.get(node)
        if node.op == "placeholder":
            if graph.of:
                raise BadInput(f"the model's forward takes a second tensor ({node.name}); a "
                               "cnnplan network has one input")
            graph.of[node] = "input"
            continue
        if node.op == "output":
            output = node.args[0]
            continue
        if not isinstance(value, torch.Tensor):
            continue        # sizes, shapes and other values: not layers
        if node.op == "get_attr" and skip_unknown:   # a constant: its readers get placeholders
            if isinstance(value, torch.nn.Parameter):
                graph.skipped_params += value.numel()
            continue
        inputs = []
        map_arg((node.args, node.kwargs), lambda n: inputs.append(n) if n in graph.of else None)
        try:
            mapped = _map_node(node, inputs, values, modules, functions, claims, graph)
        except _Unmappable as exc:
            if not skip_unknown or not inputs:
                raise BadInput(f"cannot import {_describe(node)}: {exc}"
                               + ("" if skip_unknown else "; --skip-unknown puts a "
                                  "shape-preserving placeholder in its place")) from None
            mapped = ("identity", [inputs[0]], f"PLACEHOLDER for {_op_text(node)}: {exc}")
            if node.op == "call_module":
                graph.skipped_params += sum(p.numel() for p in modules[node.target].parameters())
        if isinstance(mapped, (str, _Crop)):      # an alias of an input, or a crop of it
            graph.of[node] = mapped
            continue
        spec, sources, comment = mapped
        names = []
        for source in sources:
            if isinstance(graph.of[source], _Crop):
                raise BadInput(f"cannot import {_describe(node)}: it reads a slice of "
                               f"{graph.of[source].source!r}; cnnplan knows centre crops only "
                               "as inputs of torch.cat (concat(crop=true))")
            names.append(graph.of[source])
        name = _layer_name(node, graph)
        graph.layers.append(Layer(name, spec, tuple(names), node.name,
                                  tuple(value.shape[1:]), comment,
                                  comment.startswith("PLACEHOLDER")))
        graph.of[node] = name
    out = graph.of.get(output) if isinstance(output, torch.fx.Node) else None
    if not isinstance(out, str) or out == "input":
        raise BadInput("the model's output is not one tensor computed by its layers "
                       f"({output!r}); cnnplan networks have one output")
    return graph.layers, out, graph.skipped_params


def _map_node(node, inputs, values, modules, functions, claims, graph):
    """(spec, source nodes, comment), or the name / _Crop the node aliases."""
    import torch

    ins = [tuple(values[n].shape[1:]) for n in inputs]
    out = tuple(values[node].shape[1:])
    concrete = _concrete(node, values)
    if node.op == "call_module":
        module = modules[node.target]
        for cls, importer in claims:
            if isinstance(module, cls):
                return _claimed(importer, module, ins), inputs, ""
        if len(inputs) != 1:
            raise _Unmappable(f"a module called with {len(inputs)} tensors")
        op, arguments = _module_op(module, ins)
        if op is None:
            return arguments, inputs, ""
        return _apply(op, arguments, ins, out), inputs, _note(op, arguments)
    if node.op == "get_attr":
        raise _Unmappable("a tensor stored in the model (a parameter or buffer used directly)")
    if node.op == "call_method":
        op = METHODS.get(node.target)
        if node.target in ALIASES and len(inputs) == 1:
            return graph.of[inputs[0]]
        if op is None:
            raise _Unmappable(f"no cnnplan layer kind for the method .{node.target}()")
        args, kwargs = concrete
        names = OPS[op][1] if op != "view" else ()
        arguments = _named(names, args[1:], kwargs)
        if op == "flatten" and "start_dim" not in arguments:
            arguments["start_dim"] = 0
        return _apply(op, arguments, ins, out), inputs, _note(op, arguments)
    target = node.target
    if target in (torch.cat, torch.concat, torch.concatenate):
        return _cat(node, inputs, values, graph)
    if target is __import__("operator").getitem:
        return _crop(node, inputs, values, graph)
    op = functions.get(target)
    if op is None:
        raise _Unmappable("no cnnplan layer kind for this function")
    args, kwargs = concrete
    arguments = _named(OPS[op][1], args[1:], kwargs)
    return _apply(op, arguments, ins, out), inputs, _note(op, arguments)


def _apply(op, arguments, ins, out):
    return OPS[op][0](arguments, ins, out)


def _concrete(node, values):
    from torch.fx.node import map_arg

    return map_arg(node.args, lambda n: values[n]), map_arg(node.kwargs, lambda n: values[n])


def _claimed(importer: Importer, module, ins) -> str:
    try:
        spec = _resolve(importer.function)(module, ins)
    except Exception as exc:
        raise _Unmappable(f"importer {importer.name!r} ({importer.provider}) failed: "
                          f"{type(exc).__name__}: {_first_line(exc)}") from None
    if not isinstance(spec, str):
        raise _Unmappable(f"importer {importer.name!r} ({importer.provider}) gave {spec!r}, "
                          "not spec text")
    return spec


def _crop(node, inputs, values, graph):
    """A centred slice of the spatial axes (the original U-Net's skip crop) -> _Crop."""
    source, index = node.args
    if len(inputs) != 1 or source is not inputs[0]:
        raise _Unmappable("indexes a tensor with a tensor")
    index = _concrete(node, values)[0][1]
    index = index if isinstance(index, tuple) else (index,)
    shape_in, shape_out = tuple(values[source].shape), tuple(values[node].shape)
    if (len(index) > len(shape_in) or not all(isinstance(i, slice) for i in index)
            or len(shape_in) != len(shape_out) or shape_in[:2] != shape_out[:2]):
        raise _Unmappable("indexing other than a slice of the spatial axes")
    for axis, piece in enumerate(index):
        start, _, step = piece.indices(shape_in[axis])
        diff = shape_in[axis] - shape_out[axis]
        if step != 1 or start not in (diff // 2, (diff + 1) // 2):
            raise _Unmappable(f"a slice that is not a centre crop (axis {axis}: start {start}, "
                              f"{shape_out[axis]} of {shape_in[axis]})")
    inner = graph.of[source]
    if isinstance(inner, _Crop):
        raise _Unmappable("a crop of a crop")
    return _Crop(inner, shape_out[1:])


def _cat(node, inputs, values, graph):
    """torch.cat over the channels -> concat, or concat(crop=true) when some inputs are centre
    crops to the smallest size."""
    args, kwargs = _concrete(node, values)
    dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
    tensors = node.args[0] if node.args else node.kwargs.get("tensors")
    rank = len(values[node].shape)
    if dim % rank != 1:
        raise _Unmappable(f"concatenates along dim {dim}; cnnplan's concat joins channels (dim=1)")
    if any(t not in graph.of for t in tensors):
        raise _Unmappable("concatenates a tensor stored in the model")
    parts = [graph.of[t] for t in tensors]
    if len(parts) == 1:
        return parts[0]          # torch.cat([x]) is x
    if not any(isinstance(p, _Crop) for p in parts):
        return "concat", list(tensors), ""
    sizes = [tuple(values[t].shape[2:]) for t in tensors]          # after the crops
    full = [tuple(values[t.args[0]].shape[2:]) if isinstance(graph.of[t], _Crop) else size
            for t, size in zip(tensors, sizes)]
    smallest = tuple(min(axis) for axis in zip(*full))
    if any(size != smallest for size in sizes):
        raise _Unmappable("crops its inputs to a size other than the smallest input's")
    sources = [t.args[0] if isinstance(graph.of[t], _Crop) else t for t in tensors]
    return "concat(crop=true)", sources, ""


# -- writing and checking -------------------------------------------------------------------

def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_plan(layers, input_shape, output: str, header: list[str], title: str) -> str:
    """The plan file: header comments, input, output (when not the last layer), layers."""
    lines = [f"# {line}" if line else "#" for line in header]
    lines += [f"title = {_toml_string(title)}", f"input = {_toml_string(format_shape(input_shape))}",
              'mode = "floor"   # PyTorch\'s output sizes, also for cnnplan plan']
    if layers and output != layers[-1].name:
        lines.append(f"output = {_toml_string(output)}")
    previous = "input"
    for layer in layers:
        lines += ["", "[[layers]]"]
        if layer.comment:
            lines.append(f"# {layer.comment}")
        lines += [f"name = {_toml_string(layer.name)}", f"spec = {_toml_string(layer.spec)}"]
        if list(layer.sources) != [previous]:
            sources = layer.sources
            lines.append("from = " + (_toml_string(sources[0]) if len(sources) == 1 else
                                      "[" + ", ".join(map(_toml_string, sources)) + "]"))
        previous = layer.name
    return "\n".join(lines) + "\n"


def check_plan(text: str, layers, torch_params: int, skipped_params: int, output_shape):
    """cnnplan's own reading of the plan must give torch's shape at every layer, torch's output
    and torch's parameter count (less what placeholders stand for); ImportFailed otherwise."""
    import cnnplan

    try:
        result = cnnplan.shapes(plan_text=text)
    except CnnplanError as exc:
        raise ImportFailed(f"the imported plan does not read back: {exc}; nothing written") from None
    by_name = {layer["name"]: layer for layer in result.data["layers"]}
    for layer in layers:
        got = tuple(by_name[layer.name]["output"])
        if got != layer.shape:
            raise ImportFailed(f"layer {layer.name} (node {layer.node}, {layer.spec}): cnnplan "
                               f"gives {format_shape(got)}, torch {format_shape(layer.shape)}; "
                               "nothing written")
    if tuple(result.data["output"]) != tuple(output_shape):
        raise ImportFailed(f"the plan's output {format_shape(result.data['output'])} differs from "
                           f"torch's {format_shape(output_shape)}; nothing written")
    params = result.data["params"]
    if params + skipped_params != torch_params:
        raise ImportFailed(f"the plan has {params:,} parameters, the model {torch_params:,}"
                           + (f" ({skipped_params:,} in placeholders)" if skipped_params else "")
                           + "; nothing written")
    return result


def write_atomic(path: str, text: str):
    """Write `text` to `path` through a temporary file in the same folder and a rename."""
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(prefix=".cnnplan-", suffix=".toml", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None


def import_model(target, input, args=(), skip_unknown: bool = False, command: str = "") -> Result:
    """Import TARGET (`file.py:NAME`, `package.module:NAME`, or an nn.Module instance) for input
    shape `input`; Result.data["plan"] is the plan file's text, checked against torch.

    `args`: `--arg` texts ("width=8") or a dict of keyword arguments for NAME.
    """
    input_shape = parse_shape(input, "--in")
    if isinstance(target, str):       # check what was typed before paying for torch
        kwargs = dict(args) if isinstance(args, dict) else parse_args(args)
        _check_target(target)
    torch = _torch()
    if isinstance(target, torch.nn.Module):   # a copy: the shape run moves it to "meta"
        import copy

        model, source = copy.deepcopy(target).eval(), type(target).__name__
        title = source
    else:
        model, source = build_model(target, kwargs), target
        name = target.rsplit(":", 1)[1]
        title = f"{name}({_call_text(kwargs)})" if kwargs else name
    params = sum(p.numel() for p in model.parameters())
    claims = _claims(plugin_importers())
    gm = trace(model, tuple(cls for cls, _ in claims))
    values = shape_run(gm, input_shape)
    layers, output, skipped = map_graph(gm, values, claims, skip_unknown)
    from . import __version__

    out_node = next(n for n in gm.graph.nodes if n.op == "output").args[0]
    output_shape = tuple(values[out_node].shape[1:])
    placeholders = [layer for layer in layers if layer.placeholder]
    header = [f"Imported by cnnplan {__version__} (torch {torch.__version__.split('+')[0]}):",
              f"  {command or f'cnnplan.import_model({source} instance)'}",
              "A torch.fx trace, one layer per node, named after the model's modules (joins after "
              "their",
              "module and function). Checked on import: every layer's shape for input "
              f"{format_shape(input_shape)} equals",
              f"torch's (ShapeProp on the meta device), and the {params:,} parameters equal "
              "sum(p.numel())."]
    if placeholders:
        header.append(f"{len(placeholders)} PLACEHOLDER layer(s) (identity) stand for nodes "
                      "cnnplan cannot express (--skip-unknown); see their comments.")
    text = render_plan(layers, input_shape, output, header, title)
    check_plan(text, layers, params, skipped, output_shape)
    notes = tuple(f"placeholder {layer.name}: {layer.comment.split(': ', 1)[-1]}"
                  for layer in placeholders)
    return Result(
        title=f"imported {title}: {len(layers)} layers, {params:,} parameters",
        facts=(("source", source), ("input", format_shape(input_shape)),
               ("output", format_shape(output_shape)), ("layers", len(layers)),
               ("params", params), ("placeholders", len(placeholders))),
        notes=notes,
        data={"plan": text, "source": source, "input": list(input_shape),
              "output": list(output_shape), "layers": len(layers), "params": params,
              "placeholders": [layer.name for layer in placeholders]},
        kind="import")
