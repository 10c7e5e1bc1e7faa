"""The traced graph mapped node by node onto plan layers, named after the model's modules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...kinds.shape import format_shape
from ...platform.errors import BadInput
from .claims import Importer, resolve_claim
from .layouts import concrete, layers_read, map_layout, several, tensor_index
from .load import LOADED_FILES, MODULE_NAME, first_line
from .ops import (
    ALIASES,
    ARITHMETIC,
    METHODS,
    OPS,
    SIZE_DEPENDENT,
    WEIGHTED,
    Unmappable,
    _text,
    functions_table,
    module_op,
    named_arguments,
    op_note,
    spec_text,
)


@dataclass
class Layer:
    """One layer of the plan being written."""

    name: str
    spec: str
    sources: tuple  # names of the layers (or "input") it reads
    node: str  # the fx node it came from
    shape: tuple  # torch's output shape, without the batch
    comment: str = ""
    placeholder: bool = False
    state: str = ""  # where the model keeps its tensors, when not at `name` (plan's [state])


@dataclass
class _Crop:
    """A centre crop (a slice) of `source`: only meaningful as an input of torch.cat."""

    source: object
    shape: tuple
    slice: tuple | None = None  # (spec, sources, comment) as a slice layer, if it is one


@dataclass
class _Graph:
    """The state of one mapping: layers, and what each fx node became."""

    layers: list = field(default_factory=list)
    names: set = field(default_factory=lambda: {"input"})
    of: dict = field(default_factory=dict)  # fx node -> layer name, or _Crop
    calls: dict = field(default_factory=dict)  # module name -> times called
    skipped_params: int = 0
    dependent: set = field(default_factory=set)  # nodes computed from the input
    params: dict = field(default_factory=dict)  # constant node -> {parameter name: size}
    counted: set = field(default_factory=set)  # parameter names that a layer holds
    tied: list = field(default_factory=list)  # layers with sizes from a tensor's shape
    batched: set = field(default_factory=set)  # constants expanded over the batch


# -- the graph ------------------------------------------------------------------------------


def _layer_name(node, graph: _Graph, owner: str | None = None) -> str:
    """The module's qualified name for a module call, or for a function whose weights a module
    owns (`F.batch_norm(x, ..., self.weight, ...)` in `bn1` is `bn1`; a stored tensor is named
    itself); a second call adds __1, a third __2 (a double underscore, which a sanitised
    name such as `block1-0` -> `block1_0` cannot end in by accident); a function's or method's
    enclosing module, a dot, and the function's name."""
    target = owner or (node.target if node.op == "call_module" else None)
    if target is not None:
        calls = graph.calls.get(target, 0)
        graph.calls[target] = calls + 1
        base = target if not calls else f"{target}__{calls}"
    else:
        stack = node.meta.get("nn_module_stack") or {}
        owner = list(stack.values())[-1][0] if stack else ""
        op = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", "op")
        base = f"{owner}.{op}" if owner else op
    base = re.sub(r"[^A-Za-z0-9_.]", "_", base)
    if not MODULE_NAME.fullmatch(base):
        base = "_" + base  # a top-level nn.Sequential's children are 0, 1, ...
    name, n = base, 0
    while name in graph.names:
        n += 1
        name = f"{base}__{n}"
    graph.names.add(name)
    return name


def _source(node) -> str:
    """Where a node came from, for messages: its module (class) or the enclosing module."""
    stack = node.meta.get("nn_module_stack") or {}
    if stack:
        path, cls = list(stack.values())[-1]
        return (
            f"module {path or '(root)'} ({LOADED_FILES.get(cls.__module__, cls.__module__)}:"
            f"{cls.__qualname__})"
        )
    return "the model's own forward"


def _op_text(node) -> str:
    """'call_module layer1.0.conv1', 'call_function torch.erf', 'call_method view'."""
    target = node.target
    if not isinstance(target, str):
        module = getattr(target, "__module__", "") or ""
        target = f"{module}.{getattr(target, '__name__', target)}".lstrip(".")
    return f"{node.op} {target}"


def _constants(node, values) -> str:
    """' with parameter gamma (8x1x1, 8 values)': the model's own tensors a node reads (what
    --skip-unknown leaves out with it)."""
    import torch

    parts = []
    for source in node.all_input_nodes:
        value = values.get(source)
        if source.op == "get_attr" and isinstance(value, torch.Tensor):
            what = "parameter" if isinstance(value, torch.nn.Parameter) else "tensor"
            shape = "x".join(map(str, value.shape)) or "scalar"
            parts.append(f"{what} {source.target} ({shape}, {value.numel():,} values)")
    return " with " + ", ".join(parts) if parts else ""


def describe_node(node) -> str:
    return f"node {node.name!r} ({_op_text(node)}) in {_source(node)}"


def pick_output(output, key=None):
    """The one output of a model's forward: the value itself, or its entry `key` (a dict's
    key, a tuple's index); a dict or tuple with a single entry gives it without a key."""
    if isinstance(output, dict):
        keys = list(output)
        if key is None and len(keys) == 1:
            return output[keys[0]]
        if key is None or key not in output:
            said = "" if key is None else f"--output-key {key!r}: "
            raise BadInput(
                f"{said}the model returns a dict with keys "
                f"{', '.join(map(repr, keys))}; choose one with --output-key KEY"
            )
        return output[key]
    if isinstance(output, (tuple, list)):
        if key is None and len(output) == 1:
            return output[0]
        index = int(key) if isinstance(key, int) or str(key).isdigit() else None
        if index is None or index >= len(output):
            said = "" if key is None else f"--output-key {key!r}: "
            raise BadInput(
                f"{said}the model returns {len(output)} outputs (a "
                f"{type(output).__name__}); choose one with --output-key "
                f"0..{len(output) - 1}"
            )
        return output[index]
    if key is not None:
        raise BadInput(f"--output-key {key!r}: the model returns one tensor, not a dict or tuple")
    return output


def map_graph(gm, values: dict, claims=(), skip_unknown: bool = False, output_key=None):
    """(layers, output layer name, parameters of skipped nodes, sizes tied to the input) of a
    traced, shape-run model; BadInput for an unmappable node unless skip_unknown, which puts a
    shape-preserving `identity` placeholder in its place.

    Nodes that do not depend on the input (parameters, buffers and what the model computes
    from them) are constants, not layers: the layers that read them hold their parameters."""
    import torch

    functions = functions_table()
    modules = dict(gm.named_modules())
    graph = _Graph()
    output = None
    for node in gm.graph.nodes:
        value = values.get(node)
        if node.op == "placeholder":
            if graph.of:
                raise BadInput(
                    f"the model's forward takes a second tensor ({node.name}); a "
                    "cnnplan network has one input"
                )
            graph.of[node] = "input"
            graph.dependent.add(node)
            continue
        if node.op == "output":
            output = node.args[0]
            continue
        sources = node.all_input_nodes
        if (
            node.op == "get_attr"
            or not any(n in graph.dependent for n in sources)
            or _batch_broadcast(node, graph)
        ):
            graph.params[node] = (
                {node.target: value.numel()}
                if isinstance(value, torch.nn.Parameter)
                else _params_of(graph, sources)
            )
            continue  # a constant, from parameters and buffers only
        graph.dependent.add(node)
        if not isinstance(value, torch.Tensor) and not several(value):
            if node.target is torch._assert and _checks_sizes(node, graph):
                graph.tied.append(f"{describe_node(node)} checks a size read from a tensor's shape")
            continue  # sizes, shapes and other values: not layers
        inputs = [n for n in _tensor_args(node) if n in graph.of]
        try:
            mapped = _map_node(node, inputs, values, modules, functions, claims, graph)
        except Unmappable as exc:
            if not skip_unknown or not inputs:
                raise BadInput(
                    f"cannot import {describe_node(node)}: {exc}"
                    + (
                        ""
                        if skip_unknown
                        else "; --skip-unknown puts a shape-preserving placeholder in its place"
                    )
                ) from None
            mapped = (
                "identity",
                [inputs[0]],
                f"PLACEHOLDER for {_op_text(node)}{_constants(node, values)}: {exc}",
            )
            if node.op == "call_module":
                graph.skipped_params += sum(p.numel() for p in modules[node.target].parameters())
            held = {k: v for k, v in _params_of(graph, sources).items() if k not in graph.counted}
            graph.skipped_params += sum(held.values())
            graph.counted |= set(held)
        if isinstance(mapped, (str, _Crop)):  # an alias of an input, or a crop of it
            graph.of[node] = mapped
            continue
        spec, sources, comment, *base = mapped
        names = []
        for source in sources:
            if isinstance(graph.of[source], _Crop) and graph.of[source].slice is not None:
                _slice_layer(source, graph, values)  # not read by torch.cat: a layer
            if isinstance(graph.of[source], _Crop):
                raise BadInput(
                    f"cannot import {describe_node(node)}: it reads a slice of "
                    f"{graph.of[source].source!r}; cnnplan knows centre crops only "
                    "as inputs of torch.cat (concat(crop=true))"
                )
            names.append(graph.of[source])
        if isinstance(spec, list):  # x[..., ::2, 1::2]: one slice layer per axis
            names, spec = _chain(node, spec, names, graph), spec[-1][0]
        name = _layer_name(node, graph, base[0] if base else None)
        state = base[1] if len(base) > 1 and base[1] else ""
        if SIZE_DEPENDENT in comment or (
            spec.split("(")[0] not in SIZE_GENERAL and _reads_sizes(node, graph)
        ):
            graph.tied.append(f"{name} ({spec}) uses sizes computed from a tensor's shape")
        assert value is not None  # the shape run recorded every node that reaches here
        first = value[0] if several(value) else value  # split, chunk: output 0
        graph.layers.append(
            Layer(
                name,
                spec,
                tuple(names),
                node.name,
                tuple(first.shape[1:]),
                comment,
                comment.startswith("PLACEHOLDER"),
                state,
            )
        )
        graph.of[node] = name
    output = pick_output(output, output_key)
    crop = graph.of.get(output) if isinstance(output, torch.fx.Node) else None
    if isinstance(crop, _Crop) and crop.slice is not None:
        _slice_layer(output, graph, values)  # the output is a centre crop: a layer
    out = graph.of.get(output) if isinstance(output, torch.fx.Node) else None
    if not isinstance(out, str) or out == "input":
        raise BadInput(
            "the model's output is not one tensor computed by its layers "
            f"({output!r}); cnnplan networks have one output"
        )
    return graph.layers, out, graph.skipped_params, graph.tied


# kinds whose layer stays right when a size it read from a tensor's shape changes
SIZE_GENERAL = ("flatten", "resize", "concat", "identity", "expandas")


def _tensor_args(node) -> list:
    return _tensor_args_of((node.args, node.kwargs))


def _reads_sizes(node, graph) -> bool:
    """Whether the node reads a number the model computed from a tensor's shape."""
    import torch

    return any(
        n in graph.dependent
        and n not in graph.of
        and n.meta.get("type") is not torch.Tensor
        and not _batch_size(n)
        for n in node.all_input_nodes
    )


def _batch_size(node) -> bool:
    """x.shape[0], x.size(0), x.size()[0] of a layer: the batch size, the same at every input
    size (a layer keeps the batch first)."""
    import operator

    if node.op == "call_method" and node.target == "size":
        return node.args[1:2] == (0,) or node.kwargs.get("dim") == 0
    if node.op != "call_function" or node.target is not operator.getitem or node.args[1] != 0:
        return False
    shape = node.args[0]
    return getattr(shape, "op", None) in ("call_function", "call_method") and (
        (shape.target == "size" and len(shape.args) == 1 and not shape.kwargs)
        or (shape.target is getattr and shape.args[1:] == ("shape",))
    )


def _batch_broadcast(node, graph) -> bool:
    """Whether `node` is a constant expanded over the batch, param.expand(x.shape[0], -1, -1)
    (ViT's class token): a constant (recorded in graph.batched) although it reads the batch
    size."""
    if node.op != "call_method" or node.target != "expand" or node.kwargs:
        return False
    source, *sizes = node.args
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = list(sizes[0])
    if (
        source not in graph.params
        or not sizes
        or not _batch_size(sizes[0])
        or not all(isinstance(size, int) for size in sizes[1:])
    ):
        return False
    graph.batched.add(node)
    return True


def _checks_sizes(node, graph) -> bool:
    """Whether a torch._assert reads a size of a tensor other than the batch (ViT's
    `h == self.image_size`: torch refuses every other input size), not only ranks (x.dim())."""
    todo = list(node.all_input_nodes)
    seen: set = set()
    while todo and len(seen) < 200:
        n = todo.pop()
        if n in seen or n in graph.of or n not in graph.dependent or _batch_size(n):
            continue
        seen.add(n)
        if (n.op == "call_method" and n.target in ("size", "numel")) or (
            n.op == "call_function" and n.target is getattr and n.args[1:] == ("shape",)
        ):
            return True
        todo += n.all_input_nodes
    return False


def _params_of(graph, constants) -> dict:
    """{parameter name: size} behind constant nodes."""
    return {k: v for n in constants for k, v in graph.params.get(n, {}).items()}


def _claim(graph, held: dict):
    """Count `held` parameters for one layer; Unmappable when another layer holds one."""
    shared = sorted(set(held) & graph.counted)
    if shared:
        raise Unmappable(
            f"parameter {shared[0]} is used by another layer too (shared "
            "weights count once in the model, once per layer in a plan)"
        )
    graph.counted |= set(held)


def _map_node(node, inputs, values, modules, functions, claims, graph):
    """(spec, source nodes, comment), or the name / _Crop the node aliases."""
    import torch

    mapped = map_layout(node, inputs, values, modules, graph)  # layouts and attention first
    if mapped is not None:
        return mapped
    if several(values[node]):
        raise Unmappable(
            f"gives {len(values[node])} values (a {type(values[node]).__name__}); "
            "cnnplan's layers with several outputs are chunk, split and unbind"
        )
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
        if op in ARITHMETIC:
            return _arithmetic(node, op, inputs, values, graph)
        args, kwargs = args_kwargs
        names = OPS[op][1] if op != "view" else ()
        arguments = named_arguments(names, args[1:], kwargs)
        if op == "flatten" and "start_dim" not in arguments:
            arguments["start_dim"] = 0
        return _apply(op, arguments, ins, out), inputs, op_note(op, arguments)
    target = node.target
    op = functions.get(target)
    if op in ARITHMETIC:
        return _arithmetic(node, op, inputs, values, graph)
    if op in WEIGHTED:
        return _weighted(node, op, inputs, values, graph)
    if op == "addcmul":
        return _addcmul(node, inputs, values, graph)
    if op == "upsample":
        like = _like(node, graph, values)
        if like is not None:
            args, kwargs = args_kwargs
            mode = named_arguments(OPS[op][1], args[1:], kwargs).get("mode", "nearest")
            OPS["upsample"][0]({"mode": mode, "scale_factor": 1}, ins, out)  # its refusals
            return (
                spec_text("resize", mode=mode, defaults={"mode": "nearest"}),
                [inputs[0], like],
                "",
            )
    if target in (torch.cat, torch.concat, torch.concatenate):
        return _cat(node, inputs, values, graph)
    if target is __import__("operator").getitem:
        try:
            crop = _crop(node, inputs, values, graph)
            crop.slice = tensor_index(node, inputs, values)  # if not read by torch.cat
            return crop
        except Unmappable:
            mapped = tensor_index(node, inputs, values)  # x[:, 0], x[:, 1:]
            if mapped is None:
                raise
            return mapped
    if op is None:
        raise Unmappable("no cnnplan layer kind for this function")
    args, kwargs = args_kwargs
    arguments = named_arguments(OPS[op][1], args[1:], kwargs)
    return _apply(op, arguments, ins, out), inputs, op_note(op, arguments)


def _arithmetic(node, op, inputs, values, graph):
    """x + y, x * y of two layers: add, mul; with a number or a stored tensor (a parameter,
    or computed from parameters and buffers): scale or shift, whose learned tensor's size
    counts as the layer's parameters."""
    import math

    import torch

    first = node.args[0] if node.args else node.kwargs.get("input")
    second = node.args[1] if len(node.args) > 1 else node.kwargs.get("other")
    layers = [a for a in (first, second) if a in graph.of]
    if len(layers) == 2:
        if op in ("sub", "div"):  # a - b, a / b: broadcast joins, as mul
            return op, layers, ""
        ins = [tuple(values[n].shape[1:]) for n in layers]
        return OPS[op][0]({}, ins, None), layers, ""
    if len(layers) != 1:
        raise Unmappable(f"{op} of values that are not layers")
    (x,) = layers
    other = second if x is first else first
    if op == "div" and x is second:
        raise Unmappable("divides by a layer's output")
    kind = "scale" if op in ("mul", "div") else "shift"
    value = values.get(other) if isinstance(other, torch.fx.Node) else other
    if not isinstance(value, torch.Tensor):
        return kind, [x], f"{_op_text(node)} by {_short(value)} in the model (same shape)"
    if tuple(values[node].shape) != tuple(values[x].shape):
        raise Unmappable(
            f"{op} with a stored tensor of shape {tuple(value.shape)} broadcasts "
            f"the input {tuple(values[x].shape)} to a larger shape"
        )
    shape = _stored_shape(op, value, values[x])
    held = _params_of(graph, [other])
    if not held:
        return kind, [x], f"{_op_text(node)} by a stored constant (a buffer) in the model"
    if sum(held.values()) != math.prod(shape):
        raise Unmappable(
            f"{op} with a {format_shape(shape)} tensor computed from "
            f"{sum(held.values()):,} parameters"
        )
    _claim(graph, held)
    name = next(iter(held)) if len(held) == 1 else None
    return spec_text(kind, param=shape or (1,)), [x], "", name, name


def _stored_shape(op, value, x) -> tuple:
    """The shape of a stored tensor used with layer output `x`, without leading 1s that stand
    for the batch axis."""
    shape = tuple(value.shape)
    while len(shape) >= x.dim():
        if shape[0] != 1:
            raise Unmappable(
                f"{op} with a stored tensor of shape {tuple(value.shape)}, which has a batch axis"
            )
        shape = shape[1:]
    return shape


def _addcmul(node, inputs, values, graph):
    """torch.addcmul(b, w, x) = b + w * x with b and w stored in the model (timm's
    GlobalResponseNorm): scale(param=SHAPE, bias=true), whose w and b count as parameters."""
    import math

    a = named_arguments(("input", "tensor1", "tensor2", "value"), node.args, node.kwargs)
    b, t1, t2 = a.get("input"), a.get("tensor1"), a.get("tensor2")
    layers = [t for t in (b, t1, t2) if t in graph.of]
    if len(layers) != 1 or b in layers:
        raise Unmappable("addcmul other than a stored bias plus a stored weight times a layer")
    x = layers[0]
    w = t2 if x is t1 else t1
    if tuple(values[node].shape) != tuple(values[x].shape):
        raise Unmappable(
            f"addcmul with stored tensors broadcasts the input "
            f"{tuple(values[x].shape)} to a larger shape"
        )
    shape = _stored_shape("addcmul", values[w], values[x])
    if _stored_shape("addcmul", values[b], values[x]) != shape:
        raise Unmappable("addcmul with a bias and a weight of different shapes")
    held_w, held_b = _params_of(graph, [w]), _params_of(graph, [b])
    if (sum(held_w.values()), sum(held_b.values())) != (math.prod(shape),) * 2 or set(held_w) & set(
        held_b
    ):
        raise Unmappable(
            f"addcmul with a {format_shape(shape)} weight and bias that are not "
            "two parameters of that size"
        )
    _claim(graph, {**held_w, **held_b})
    value = a.get("value", 1)
    comment = "" if value == 1 else f"addcmul value={_short(value)} in the model (same shape)"
    return spec_text("scale", param=shape or (1,), bias=True), [x], comment


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _weighted(node, op, inputs, values, graph):
    """F.conv2d(x, self.weight, ...), F.batch_norm(x, ..., self.weight, self.bias) and the like
    with weights stored in the model (parameters, or computed from them: weight
    standardisation): the layer of the module they stand for, named after the weights' owner."""
    if len(inputs) != 1:
        raise Unmappable(
            f"{op} reading {len(inputs)} layers (its weights must be stored in the model)"
        )
    names = OPS[op][1]
    raw = named_arguments(names, node.args[1:], node.kwargs)
    args, kwargs = concrete(node, values)
    a = named_arguments(names, args[1:], kwargs)
    stored = [
        raw[k]
        for k in ("weight", "bias", "running_mean", "running_var")
        if isinstance(raw.get(k), __import__("torch").fx.Node)
    ]
    held = _params_of(graph, stored)
    learnable = sum(a[k].numel() for k in ("weight", "bias") if a.get(k) is not None)
    ins = [tuple(values[inputs[0]].shape[1:])]
    spec = _apply(op, a, ins, tuple(values[node].shape[1:]))
    if sum(held.values()) != learnable:
        spec = spec[:-1] + f", {_computed_weights(op, held, learnable, a)})"
    _claim(graph, held)
    owners = {k.rsplit(".", 1)[0] for k in held or _stored(stored) if "." in k}
    owner = owners.pop() if len(owners) == 1 else None
    # the owner's name only when this node gives the owner's output (LayerNorm2d permutes after;
    # then the plan's [state] says that the owner keeps the layer's tensors)
    inside = bool(owner) and _inside(node.next, owner)
    return spec, inputs, "", None if inside else owner, owner if inside else None


def _stored(nodes) -> set:
    """The names of the stored tensors (get_attr) that constant nodes are computed from."""
    found: set = set()
    todo, seen = list(nodes), set[object]()
    while todo and len(seen) < 200:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            if n.op == "get_attr":
                found.add(n.target)
            todo += n.all_input_nodes
    return found


def _computed_weights(op, held: dict, learnable: int, a) -> str:
    """The conv option for a kernel computed from other values than the parameters it holds:
    fixed=true (from buffers only: a blur filter), gain=true (from the kernel, bias and one
    gain per output channel, all of one module: weight standardisation, weight norm); else
    Unmappable."""
    total = sum(held.values())
    said = (
        f"its weight and bias hold {learnable:,} values, computed from {total:,} "
        "parameters of the model"
    )
    if op != "conv_fn" or 0 < total < learnable:
        raise Unmappable(said)
    if not held:
        return "fixed=true"
    owners = {k.rsplit(".", 1)[0] if "." in k else "" for k in held}
    if len(owners) != 1:
        raise Unmappable(
            f"{said} of {len(owners)} modules ({', '.join(sorted(owners))}); a "
            "conv's computed kernel is read from parameters of its own module"
        )
    c_out = a["weight"].shape[0]
    if total - learnable != c_out:
        raise Unmappable(
            f"{said}: {total - learnable:,} more, not one gain per output "
            f"channel ({c_out}); cnnplan's conv(..., gain=true) has those only"
        )
    return "gain=true"


def _inside(node, path: str) -> bool:
    """Whether fx node `node` runs inside the module at `path`."""
    stack = node.meta.get("nn_module_stack") or {}
    return any(where == path for where, _ in stack.values())


def _like(node, graph, values):
    """The layer whose spatial sizes F.interpolate's size= was read from (y.shape[-2:],
    y.size()[2:], (y.size(2), y.size(3))), when the output takes exactly them; else None."""
    size = named_arguments(OPS["upsample"][1], node.args[1:], node.kwargs).get("size")
    found = layers_read(values, graph, _tensor_args_of(size))
    if not found:
        return None
    sizes = tuple(values[node].shape[2:])
    matches = {
        graph.of[n]: n
        for n in found
        if tuple(values[n].shape[2:]) == sizes and isinstance(graph.of[n], str)
    }
    return next(iter(matches.values())) if len(matches) == 1 else None


def _tensor_args_of(value) -> list:
    from torch.fx.node import map_arg

    found: list = []
    map_arg(value, found.append)
    return found


def _apply(op, arguments, ins, out):
    return OPS[op][0](arguments, ins, out)


def _claimed(importer: Importer, module, ins) -> str:
    try:
        spec = resolve_claim(importer.function)(module, ins)
    except Exception as exc:
        raise Unmappable(
            f"importer {importer.name!r} ({importer.provider}) failed: "
            f"{type(exc).__name__}: {first_line(exc)}"
        ) from None
    if not isinstance(spec, str):
        raise Unmappable(
            f"importer {importer.name!r} ({importer.provider}) gave {spec!r}, not spec text"
        )
    return spec


def _slice_layer(node, graph, values):
    """The slice layer(s) of a centre crop that a node other than torch.cat reads."""
    spec, sources, comment = graph.of[node].slice
    names = [graph.of[sources[0]]]
    if isinstance(spec, list):
        names, spec = _chain(node, spec, names, graph), spec[-1][0]
    name = _layer_name(node, graph)
    graph.layers.append(
        Layer(name, spec, tuple(names), node.name, tuple(values[node].shape[1:]), comment)
    )
    graph.of[node] = name


def _chain(node, steps, names, graph) -> list:
    """Layers for all but the last of (spec, output shape) steps of one node, from `names`;
    the name the last step reads."""
    for spec, shape in steps[:-1]:
        name = _layer_name(node, graph)
        graph.layers.append(Layer(name, spec, tuple(names), node.name, shape))
        names = [name]
    return names


def _crop(node, inputs, values, graph):
    """A centred slice of the spatial axes (the original U-Net's skip crop) -> _Crop."""
    source, index = node.args
    if len(inputs) != 1 or source is not inputs[0]:
        raise Unmappable("indexes a tensor with a tensor")
    index = concrete(node, values)[0][1]
    index = index if isinstance(index, tuple) else (index,)
    shape_in, shape_out = tuple(values[source].shape), tuple(values[node].shape)
    if (
        len(index) > len(shape_in)
        or not all(isinstance(i, slice) for i in index)
        or len(shape_in) != len(shape_out)
        or shape_in[:2] != shape_out[:2]
        or shape_in == shape_out
    ):
        raise Unmappable("indexing other than a slice of the spatial axes")
    for axis, piece in enumerate(index):
        start, _, step = piece.indices(shape_in[axis])
        diff = shape_in[axis] - shape_out[axis]
        if step != 1 or start not in (diff // 2, (diff + 1) // 2):
            raise Unmappable(
                f"a slice that is not a centre crop (axis {axis}: start {start}, "
                f"{shape_out[axis]} of {shape_in[axis]})"
            )
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
    if any(t not in graph.of for t in tensors):
        return _tokens(node, tensors, dim % rank - 1, values, graph)
    if dim % rank != 1:
        raise Unmappable(f"concatenates along dim {dim}; cnnplan's concat joins channels (dim=1)")
    if any(t not in graph.of for t in tensors):
        raise Unmappable("concatenates a tensor stored in the model")
    parts = [graph.of[t] for t in tensors]
    if len(parts) == 1:
        return parts[0]  # torch.cat([x]) is x
    if not any(isinstance(p, _Crop) for p in parts):
        return "concat", list(tensors), ""
    sizes = [tuple(values[t].shape[2:]) for t in tensors]  # after the crops
    full = [
        tuple(values[t.args[0]].shape[2:]) if isinstance(graph.of[t], _Crop) else size
        for t, size in zip(tensors, sizes)
    ]
    smallest = tuple(min(axis) for axis in zip(*full))
    if any(size != smallest for size in sizes):
        raise Unmappable("crops its inputs to a size other than the smallest input's")
    sources = [t.args[0] if isinstance(graph.of[t], _Crop) else t for t in tensors]
    return "concat(crop=true)", sources, ""


def _tokens(node, tensors, axis, values, graph):
    """torch.cat of one layer and learned tokens expanded over the batch, all before it or all
    after it (ViT's class token, DeiT's distillation token) -> token(param=SHAPE, dim=), the
    tokens' size counted as parameters; named after the parameter when there is one."""
    import math

    at = [i for i, t in enumerate(tensors) if t in graph.of]
    stored = [t for t in tensors if t not in graph.of]
    if len(at) != 1 or axis < 0 or not all(t in graph.batched for t in stored):
        raise Unmappable(
            "concatenates a tensor stored in the model (cnnplan's token joins one "
            "layer and parameters expanded over the batch: p.expand(n, -1, -1))"
        )
    if 0 < at[0] < len(tensors) - 1:
        raise Unmappable("learned tokens on both sides of a layer")
    x = tensors[at[0]]
    shape = list(values[node].shape[1:])
    shape[axis] -= values[x].shape[axis + 1]
    held = _params_of(graph, stored)
    if sum(held.values()) != math.prod(shape) or not held:
        raise Unmappable(
            f"concatenates {format_shape(tuple(shape))} tokens computed from "
            f"{sum(held.values()):,} parameters"
        )
    _claim(graph, held)
    name = next(iter(held)) if len(held) == 1 else None
    end = ", end=true" if at[0] == 0 else ""
    return f"token(param={_text(tuple(shape))}, dim={axis}{end})", [x], "", name, name
