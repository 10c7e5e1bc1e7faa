"""The traced graph mapped node by node onto plan layers, named after the model's modules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...platform.errors import BadInput
from .claims import Importer, resolve_claim
from .layouts import concrete, map_layout, several, tensor_index
from .load import LOADED_FILES, MODULE_NAME, first_line
from .ops import (
    ALIASES,
    METHODS,
    OPS,
    Unmappable,
    functions_table,
    module_op,
    named_arguments,
    op_note,
)


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
    if not MODULE_NAME.fullmatch(base):
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
        return f"module {path or '(root)'} ({LOADED_FILES.get(cls.__module__, cls.__module__)}:" \
               f"{cls.__qualname__})"
    return "the model's own forward"


def _op_text(node) -> str:
    """'call_module layer1.0.conv1', 'call_function torch.erf', 'call_method view'."""
    target = node.target
    if not isinstance(target, str):
        module = getattr(target, "__module__", "") or ""
        target = f"{module}.{getattr(target, '__name__', target)}".lstrip(".")
    return f"{node.op} {target}"


def describe_node(node) -> str:
    return f"node {node.name!r} ({_op_text(node)}) in {_source(node)}"


def map_graph(gm, values: dict, claims=(), skip_unknown: bool = False):
    """(layers, output layer name, parameters of skipped nodes) of a traced, shape-run model;
    BadInput for an unmappable node unless skip_unknown, which puts a shape-preserving
    `identity` placeholder in its place."""
    import torch
    from torch.fx.node import map_arg

    functions = functions_table()
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
        if not isinstance(value, torch.Tensor) and not several(value):
            continue        # sizes, shapes and other values: not layers
        if node.op == "get_attr" and skip_unknown:   # a constant: its readers get placeholders
            if isinstance(value, torch.nn.Parameter):
                graph.skipped_params += value.numel()
            continue
        inputs: list = []
        map_arg((node.args, node.kwargs), lambda n, found=inputs: found.append(n) if n in graph.of else None)  # type: ignore[misc]  # a collector
        try:
            mapped = _map_node(node, inputs, values, modules, functions, claims, graph)
        except Unmappable as exc:
            if not skip_unknown or not inputs:
                raise BadInput(f"cannot import {describe_node(node)}: {exc}"
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
                raise BadInput(f"cannot import {describe_node(node)}: it reads a slice of "
                               f"{graph.of[source].source!r}; cnnplan knows centre crops only "
                               "as inputs of torch.cat (concat(crop=true))")
            names.append(graph.of[source])
        name = _layer_name(node, graph)
        assert value is not None  # a Tensor (or several): checked above
        first = value[0] if several(value) else value      # split, chunk: output 0
        graph.layers.append(Layer(name, spec, tuple(names), node.name,
                                  tuple(first.shape[1:]), comment,
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

    mapped = map_layout(node, inputs, values, modules, graph)   # layouts and attention first
    if mapped is not None:
        return mapped
    ins = [tuple(values[n].shape[1:]) for n in inputs]
    out = tuple(values[node].shape[1:])
    args_kwargs = concrete(node, values)
    if node.op == "call_module":
        module = modules[node.target]
        for cls, importer in claims:
            if isinstance(module, cls):
                return _claimed(importer, module, ins), inputs, ""
        if len(inputs) != 1:
            raise Unmappable(f"a module called with {len(inputs)} tensors")
        op, arguments = module_op(module, ins)
        if op is None:
            return arguments, inputs, ""
        return _apply(op, arguments, ins, out), inputs, op_note(op, arguments)
    if node.op == "get_attr":
        raise Unmappable("a tensor stored in the model (a parameter or buffer used directly)")
    if node.op == "call_method":
        op = METHODS.get(node.target)
        if node.target in ALIASES and len(inputs) == 1:
            return graph.of[inputs[0]]
        if op is None:
            raise Unmappable(f"no cnnplan layer kind for the method .{node.target}()")
        args, kwargs = args_kwargs
        names = OPS[op][1] if op != "view" else ()
        arguments = named_arguments(names, args[1:], kwargs)
        if op == "flatten" and "start_dim" not in arguments:
            arguments["start_dim"] = 0
        return _apply(op, arguments, ins, out), inputs, op_note(op, arguments)
    target = node.target
    if target in (torch.cat, torch.concat, torch.concatenate):
        return _cat(node, inputs, values, graph)
    if target is __import__("operator").getitem:
        try:
            return _crop(node, inputs, values, graph)
        except Unmappable:
            mapped = tensor_index(node, inputs, values)   # x[:, 0], x[:, 1:]
            if mapped is None:
                raise
            return mapped
    op = functions.get(target)
    if op is None:
        raise Unmappable("no cnnplan layer kind for this function")
    args, kwargs = args_kwargs
    arguments = named_arguments(OPS[op][1], args[1:], kwargs)
    return _apply(op, arguments, ins, out), inputs, op_note(op, arguments)


def _apply(op, arguments, ins, out):
    return OPS[op][0](arguments, ins, out)


def _claimed(importer: Importer, module, ins) -> str:
    try:
        spec = resolve_claim(importer.function)(module, ins)
    except Exception as exc:
        raise Unmappable(f"importer {importer.name!r} ({importer.provider}) failed: "
                          f"{type(exc).__name__}: {first_line(exc)}") from None
    if not isinstance(spec, str):
        raise Unmappable(f"importer {importer.name!r} ({importer.provider}) gave {spec!r}, "
                          "not spec text")
    return spec


def _crop(node, inputs, values, graph):
    """A centred slice of the spatial axes (the original U-Net's skip crop) -> _Crop."""
    source, index = node.args
    if len(inputs) != 1 or source is not inputs[0]:
        raise Unmappable("indexes a tensor with a tensor")
    index = concrete(node, values)[0][1]
    index = index if isinstance(index, tuple) else (index,)
    shape_in, shape_out = tuple(values[source].shape), tuple(values[node].shape)
    if (len(index) > len(shape_in) or not all(isinstance(i, slice) for i in index)
            or len(shape_in) != len(shape_out) or shape_in[:2] != shape_out[:2]):
        raise Unmappable("indexing other than a slice of the spatial axes")
    for axis, piece in enumerate(index):
        start, _, step = piece.indices(shape_in[axis])
        diff = shape_in[axis] - shape_out[axis]
        if step != 1 or start not in (diff // 2, (diff + 1) // 2):
            raise Unmappable(f"a slice that is not a centre crop (axis {axis}: start {start}, "
                              f"{shape_out[axis]} of {shape_in[axis]})")
    inner = graph.of[source]
    if isinstance(inner, _Crop):
        raise Unmappable("a crop of a crop")
    return _Crop(inner, shape_out[1:])


def _cat(node, inputs, values, graph):
    """torch.cat over the channels -> concat, or concat(crop=true) when some inputs are centre
    crops to the smallest size."""
    args, kwargs = concrete(node, values)
    dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
    tensors = node.args[0] if node.args else node.kwargs.get("tensors")
    rank = len(values[node].shape)
    if dim % rank != 1:
        raise Unmappable(f"concatenates along dim {dim}; cnnplan's concat joins channels (dim=1)")
    if any(t not in graph.of for t in tensors):
        raise Unmappable("concatenates a tensor stored in the model")
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
        raise Unmappable("crops its inputs to a size other than the smallest input's")
    sources = [t.args[0] if isinstance(graph.of[t], _Crop) else t for t in tensors]
    return "concat(crop=true)", sources, ""
