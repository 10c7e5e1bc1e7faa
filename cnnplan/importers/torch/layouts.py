"""`cnnplan import`: the mapping of tensor-layout and attention ops (permute, transpose, view,
reshape, flatten, unflatten, chunk, split, unbind, expand, indexing, softmax over any axis,
matmul, scaled_dot_product_attention, nn.MultiheadAttention, nn.Linear on the last axis) onto
the kinds of cnnplan/kinds/layout.py.

`map_layout` is asked first for every node; it returns None for what it does not handle (the
general mapping in graph.py takes over), or what graph.py's `_map_node` returns: (spec,
source nodes, comment), or the name a node aliases (`chunk[1]`: output 1 of a layer with
several outputs). Torch counts axes with the batch (dim 1 = cnnplan's axis 0); an op on the
batch axis has no cnnplan layer.
"""

from __future__ import annotations

import operator

from ...kinds.shape import size_of
from .ops import Unmappable, _text


def concrete(node, values):
    """A node's args and kwargs with every node replaced by its value from the shape run."""
    from torch.fx.node import map_arg

    return map_arg(node.args, lambda n: values[n]), map_arg(node.kwargs, lambda n: values[n])


def several(value) -> bool:
    """True for the tuple of tensors that chunk, split, unbind and MultiheadAttention give."""
    import torch

    return isinstance(value, (tuple, list)) and bool(value) and isinstance(value[0], torch.Tensor)


def _unmappable(text):
    return Unmappable(text)


def _axis(dim, rank: int, what: str = "dim") -> int:
    """torch's `dim` (batch included, rank axes) as cnnplan's axis; the batch has none."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise _unmappable(f"{what} {dim!r} is not one axis")
    if dim % rank == 0:
        raise _unmappable(f"works on the batch axis ({what}={dim}); cnnplan's layers keep it")
    return dim - 1 if dim > 0 else dim


def _sizes(args) -> tuple:
    """(2, 3) from f(2, 3) or f((2, 3)) / f([2, 3])."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def reshape_spec(before: tuple, after: tuple) -> str:
    """The cnnplan kind for a reshape of `before` to `after` (no batch): flatten (all axes, or
    some consecutive ones), unflatten (one axis into several), else reshape with the sizes."""
    if after == (size_of(before),):
        return "flatten"
    if before == after:
        return "identity"
    head = 0
    while head < min(len(before), len(after)) and before[head] == after[head]:
        head += 1
    tail = 0
    while tail < min(len(before), len(after)) - head and before[-1 - tail] == after[-1 - tail]:
        tail += 1
    middle_in = before[head : len(before) - tail]
    middle_out = after[head : len(after) - tail]
    if len(middle_out) == 1 and len(middle_in) > 1:
        return f"flatten(start={head}, end={head + len(middle_in) - 1})"
    if len(middle_in) == 1 and len(middle_out) > 1:
        return f"unflatten(dim={head}, sizes={_text(middle_out)})"
    return f"reshape(shape={_text(after)})"


# -- the op handlers: (arguments after the input, keyword arguments, input shapes, output) ------


def _permute(args, kwargs, ins, out):
    rank = len(ins[0]) + 1
    dims = tuple(d % rank for d in _sizes(args or (kwargs.get("dims"),)))
    if dims[0] != 0:
        raise _unmappable(f"permute {dims} moves the batch axis; cnnplan's layers keep it first")
    return f"permute(dims={_text(tuple(d - 1 for d in dims[1:]))})"


def _transpose(args, kwargs, ins, out):
    rank = len(ins[0]) + 1
    a = args[0] if args else kwargs.get("dim0")
    b = args[1] if len(args) > 1 else kwargs.get("dim1")
    a, b = _axis(a, rank) % (rank - 1), _axis(b, rank) % (rank - 1)
    dims = list(range(rank - 1))
    dims[a], dims[b] = dims[b], dims[a]
    return f"permute(dims={_text(tuple(dims))})"


def _reshape(args, kwargs, ins, out):
    return reshape_spec(ins[0], out)


def _flatten(args, kwargs, ins, out):
    rank = len(ins[0]) + 1
    start = args[0] if args else kwargs.get("start_dim", 0)
    end = args[1] if len(args) > 1 else kwargs.get("end_dim", -1)
    if start % rank == 0 and end % rank == 0:
        return "identity"
    if start % rank == 0:
        raise _unmappable("flattens the batch axis into others; cnnplan's layers keep it")
    return reshape_spec(ins[0], out)


def _unflatten(args, kwargs, ins, out):
    _axis(args[0] if args else kwargs.get("dim"), len(ins[0]) + 1)  # not the batch
    return reshape_spec(ins[0], out)


def _expand(args, kwargs, ins, out, batch):
    """x.expand(n, -1, 8): sizes equal to the input's become -1 (they follow the input)."""
    sizes, shape = _sizes(args or (kwargs.get("size"),)), ins[0]
    if len(sizes) != len(shape) + 1 or sizes[0] not in (-1, batch):
        raise _unmappable(f"expand{tuple(sizes)} adds or changes the batch axis")
    kept = tuple(-1 if size in (-1, old) else size for size, old in zip(sizes[1:], shape))
    if all(size == -1 for size in kept):
        return "identity"
    return f"expand(shape={_text(kept)})"


def _softmax(args, kwargs, ins, out):
    rank = len(ins[0]) + 1
    dim = args[0] if args else kwargs.get("dim")
    if dim is None:
        raise _unmappable("softmax without a dim")
    axis = _axis(dim, rank)
    return "softmax" if axis % (rank - 1) == 0 else f"softmax(dim={axis})"


def _pieces(kind):
    def handler(args, kwargs, ins, out):
        rank = len(ins[0]) + 1
        if kind == "unbind":
            dim = args[0] if args else kwargs.get("dim", 0)
            return f"unbind(dim={_axis(dim, rank)})"
        first = (
            args[0]
            if args
            else kwargs.get("chunks" if kind == "chunk" else "split_size_or_sections")
        )
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        axis = _axis(dim, rank)
        if kind == "chunk":
            return f"chunk({first}, dim={axis})"
        sizes = tuple(first) if isinstance(first, (tuple, list)) else first
        return f"split(sizes={_text(sizes)}, dim={axis})"

    return handler


def _reduce(kind):
    """x.sum(dim, keepdim), x.mean(dim, keepdim) (over other axes than all spatial ones: those
    stay ops.py's mean), x.norm(p=2, dim, keepdim), torch.linalg.vector_norm(x, 2, dim)."""

    def handler(args, kwargs, ins, out):
        rank = len(ins[0]) + 1
        names = ("p", "dim", "keepdim") if kind == "norm" else ("dim", "keepdim")
        a = dict(zip(names, args))
        a.update(kwargs)
        if kind == "norm":
            order = a.get("p", a.get("ord", 2))
            if order not in (2, 2.0, "fro", None):
                raise _unmappable(f"a norm of order {order!r}; cnnplan's norm is the 2-norm")
        dims = a.get("dim")
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if dims in ((None,), ()):
            raise _unmappable(f"{kind} over every axis, the batch's too")
        axes = tuple(_axis(d, rank) for d in dims)
        if kind == "mean" and sorted(d % rank for d in dims) == list(range(2, rank)):
            return None  # over all spatial axes: ops.py's mean
        return f"{kind}(dims={_text(axes if len(axes) > 1 else axes[0])}" + (
            ", keepdim=true)" if a.get("keepdim") else ")"
        )

    return handler


METHODS = {
    "permute": _permute,
    "transpose": _transpose,
    "swapaxes": _transpose,
    "view": _reshape,
    "reshape": _reshape,
    "flatten": _flatten,
    "unflatten": _unflatten,
    "expand": _expand,
    "softmax": _softmax,
    "chunk": _pieces("chunk"),
    "split": _pieces("split"),
    "unbind": _pieces("unbind"),
    "sum": _reduce("sum"),
    "mean": _reduce("mean"),
    "norm": _reduce("norm"),
}


def _functions() -> dict:
    import torch
    import torch.nn.functional as F

    return {
        torch.permute: _permute,
        torch.transpose: _transpose,
        torch.swapaxes: _transpose,
        torch.reshape: _reshape,
        torch.flatten: _flatten,
        torch.unflatten: _unflatten,
        torch.softmax: _softmax,
        F.softmax: _softmax,
        torch.chunk: _pieces("chunk"),
        torch.split: _pieces("split"),
        torch.unbind: _pieces("unbind"),
        torch.sum: _reduce("sum"),
        torch.mean: _reduce("mean"),
        torch.norm: _reduce("norm"),
        torch.linalg.vector_norm: _reduce("norm"),
    }


def _joins() -> dict:
    import torch
    import torch.nn.functional as F

    return {
        torch.matmul: "matmul",
        torch.bmm: "matmul",
        operator.matmul: "matmul",
        F.scaled_dot_product_attention: "attention",
    }


# -- nodes ------------------------------------------------------------------------------------


def map_layout(node, inputs, values, modules, graph):
    """What `node` becomes (see the module docstring), or None if it is not a layout op."""
    if node.op == "call_module":
        return _module(modules[node.target], node, inputs, values)
    if node.op == "get_attr" or not inputs:
        return None
    if node.target is operator.getitem:
        return _getitem(node, inputs, values, graph)
    ins = [tuple(values[n].shape[1:]) for n in inputs]
    value = values[node]
    if several(value):
        out = tuple(value[0].shape[1:])
    elif hasattr(value, "shape"):
        out = tuple(value.shape[1:])
    else:
        return None
    if node.op == "call_method" and node.target == "expand_as":
        return _expand_as(node, inputs, values)
    if _is_stack(node.target):
        return _stack(node, inputs, values)
    if node.op == "call_method":
        handler = METHODS.get(node.target)
    else:
        join = _joins().get(node.target)
        if join is not None:
            return _join(join, node, inputs, values)
        if _is_cat(node.target):
            return _cat(node, inputs, values)
        handler = _functions().get(node.target)
    if handler is None:
        return None
    args, kwargs = concrete(node, values)
    args = args[1:]
    if handler is _softmax and (args[0] if args else kwargs.get("dim")) in (1, 1 - len(out) - 1):
        return None  # the channels: ops.py's own mapping
    if handler is _flatten and out == (size_of(ins[0]),):
        return None
    if (
        value is not None
        and hasattr(value, "shape")
        and value.shape[:1] != values[inputs[0]].shape[:1]
    ):
        raise _unmappable(
            f"changes the batch axis ({tuple(values[inputs[0]].shape)} -> {tuple(value.shape)})"
        )
    if handler is _expand:
        like = shape_source(node, inputs, values, graph)
        if like is not None:  # x.expand(y.shape), x.expand(y.size()): expandas(x, y)
            return "expandas", [inputs[0], like], ""
        spec = _expand(args, kwargs, ins, out, values[inputs[0]].shape[0])
    else:
        spec = handler(args, kwargs, ins, out)
    if spec is None:
        return None
    if spec == "identity":
        return graph.of[inputs[0]]
    return spec, inputs[:1], ""


def _expand_as(node, inputs, values):
    """x.expand_as(y) of two layers -> expandas(x, y) (y's shape only, so it follows y)."""
    if len(inputs) != 2 or node.args[0] is not inputs[0]:
        raise _unmappable("expand_as of a tensor stored in the model, or like one")
    return "expandas", inputs, ""


def layers_read(values, graph, todo) -> set:
    """The layers whose outputs the fx nodes `todo` read, through the sizes and arithmetic
    computed from them (at most 200 nodes walked)."""
    import torch

    found: set = set()
    seen: set = set()
    todo = list(todo)
    while todo and len(seen) < 200:
        n = todo.pop()
        if n in seen or n not in graph.dependent:
            continue
        seen.add(n)
        if n in graph.of and isinstance(values.get(n), torch.Tensor):
            found.add(n)
        else:
            todo += n.all_input_nodes
    return found


def shape_source(node, inputs, values, graph):
    """The layer (not `node`'s input) whose whole shape `node`'s size arguments were read from
    (x.expand(y.shape), x.expand(y.size(0), -1, y.size(2), y.size(3))) when the output has
    exactly that shape; None otherwise."""
    found = layers_read(values, graph, [n for n in node.all_input_nodes if n not in inputs])
    shape = tuple(values[node].shape)
    matches = [n for n in found if tuple(values[n].shape) == shape and isinstance(graph.of[n], str)]
    return matches[0] if len(matches) == 1 else None


def _is_stack(target) -> bool:
    import torch

    return target is torch.stack


def _stack(node, inputs, values):
    """torch.stack(tensors, dim) of layers -> stack(dim=) (dim of the output, not the batch)."""
    args, kwargs = concrete(node, values)
    dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
    tensors = node.args[0] if node.args else node.kwargs.get("tensors")
    if any(t not in inputs for t in tensors):
        raise _unmappable("stacks a tensor stored in the model")
    axis = _axis(dim, values[node].dim())
    return f"stack(dim={axis})" if axis else "stack", list(tensors), ""


def _is_cat(target) -> bool:
    import torch

    return target in (torch.cat, torch.concat, torch.concatenate)


def _cat(node, inputs, values):
    """torch.cat along an axis other than the channels -> concat(dim=)."""
    args, kwargs = concrete(node, values)
    dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
    rank = len(values[node].shape)
    tensors = node.args[0] if node.args else node.kwargs.get("tensors")
    if dim % rank in (0, 1) or any(t not in inputs for t in tensors):
        return None  # graph.py: over the channels, or learned tokens
    return f"concat(dim={_axis(dim, rank)})", list(tensors), ""


def _join(kind, node, inputs, values):
    """matmul(a, b), or attention(q, k, v) for F.scaled_dot_product_attention."""
    names = ("query", "key", "value", "attn_mask") if kind == "attention" else ("input", "other")
    operands = [
        node.args[i] if i < len(node.args) else node.kwargs.get(name)
        for i, name in enumerate(names)
    ]
    if kind == "attention":
        if operands.pop() is not None:
            raise _unmappable("an attention mask (cnnplan's attention has none)")
    if any(o not in inputs for o in operands):
        raise _unmappable(f"{kind} of a tensor stored in the model")
    if any(values[o].dim() < 3 for o in operands):
        raise _unmappable(f"{kind} of a tensor with fewer than 2 axes after the batch")
    return kind, operands, ""


def _module(module, node, inputs, values):
    import torch.nn as nn

    ins = [tuple(values[n].shape[1:]) for n in inputs]
    if isinstance(module, nn.MultiheadAttention):
        return _mha(module, node, inputs)
    if isinstance(module, nn.Linear) and ins and len(ins[0]) > 1:
        return (
            f"linear({module.out_features}, last=true"
            + (", bias=false" if module.bias is None else "")
            + ")",
            inputs,
            "",
        )
    if isinstance(module, nn.Softmax) and module.dim not in (None, 1):
        return _softmax((module.dim,), {}, ins, None), inputs, ""
    if isinstance(module, nn.Flatten) and (module.start_dim, module.end_dim) != (1, -1):
        out = tuple(values[node].shape[1:])
        return _flatten((module.start_dim, module.end_dim), {}, ins, out), inputs, ""
    if isinstance(module, nn.Unflatten):
        return reshape_spec(ins[0], tuple(values[node].shape[1:])), inputs, ""
    return None


def _mha(module, node, inputs):
    """Self-attention (query, key and value one tensor), batch first, as mha(heads)."""
    if not module.batch_first:
        raise _unmappable("batch_first=False puts the batch second; cnnplan's layers keep it first")
    if len(set(node.args[:3])) != 1 or len(inputs) != 3:
        raise _unmappable(
            "attention whose query, key and value differ (cnnplan's mha is self-attention)"
        )
    if module.bias_k is not None or module.add_zero_attn or not module._qkv_same_embed_dim:
        raise _unmappable("add_bias_kv, add_zero_attn or kdim/vdim (cnnplan's mha has none)")
    bias = module.in_proj_bias is not None
    if bias != (module.out_proj.bias is not None):
        raise _unmappable("a bias on only one of the projections")
    if node.kwargs.get("attn_mask") is not None or node.kwargs.get("key_padding_mask") is not None:
        raise _unmappable("an attention mask (cnnplan's mha has none)")
    return f"mha({module.num_heads}" + ("" if bias else ", bias=false") + ")", inputs[:1], ""


def _getitem(node, inputs, values, graph):
    """Output j of a layer with several outputs (a name[j] reference), MultiheadAttention's
    output (j = 0), or x[:, i] / x[:, a:b] (select, narrow) where it is not a centre crop."""
    source, index = node.args
    if several(values[source]):
        name = graph.of[source]
        if not isinstance(index, int):
            raise _unmappable("a slice of several outputs")
        layer = next((layer for layer in graph.layers if layer.name == name), None)
        if layer is not None and layer.spec.startswith("mha("):
            if index != 0:
                raise _unmappable("the attention weights of nn.MultiheadAttention")
            return name
        return f"{name}[{index % len(values[source])}]"
    return None


def tensor_index(node, inputs, values):
    """x[:, i] -> select, x[:, a:b:c] -> slice (the bounds as written: negative ones and
    clamping follow the input's size as in Python); several axes (YOLO's Focus x[..., ::2,
    1::2], x[:, :, :-1, :-1]) -> a list of (spec, output shape), one layer per axis from the
    last; None for anything else."""
    source = node.args[0]
    index = concrete(node, values)[0][1]
    index = index if isinstance(index, tuple) else (index,)
    shape = tuple(values[source].shape)
    if Ellipsis in index:  # x[..., ::2]: the axes it stands for, whole
        at = index.index(Ellipsis)
        index = (*index[:at], *(slice(None),) * (len(shape) - len(index) + 1), *index[at + 1 :])
    if len(inputs) != 1 or source is not inputs[0] or Ellipsis in index or None in index:
        return None
    if not index or index[0] != slice(None) or len(index) > len(shape):
        return None
    changed = [(a, part) for a, part in enumerate(index) if part != slice(None)]
    if not changed:
        return None
    steps, done = [], [slice(None)] * len(index)
    for axis, part in reversed(changed):  # from the last axis: a select drops its axis
        spec = _index_spec(axis, part)
        if spec is None:
            return None
        done[axis] = part
        steps.append((spec, tuple(values[source][tuple(done)].shape[1:])))
    if len(steps) == 1:
        return steps[0][0], [source], ""
    return steps, [source], ""


def _index_spec(axis, part):
    """select or slice for one axis' part of an index; None for a tensor or other index."""
    if axis == 0:
        return None
    if isinstance(part, int) and not isinstance(part, bool):
        return f"select(dim={axis - 1}, index={part})"
    if isinstance(part, slice) and all(
        isinstance(v, (int, type(None))) and not isinstance(v, bool)
        for v in (part.start, part.stop, part.step)
    ):
        if (part.step or 1) < 1:
            raise _unmappable(f"a slice with step {part.step} (torch's steps are positive)")
        bounds = {
            "start": part.start or None,
            "stop": part.stop,
            "step": part.step if part.step != 1 else None,
        }
        named = ", ".join(f"{k}={v}" for k, v in bounds.items() if v is not None)
        return f"slice(dim={axis - 1}{', ' + named if named else ''})"
    return None
