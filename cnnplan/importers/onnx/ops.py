"""ONNX operators as cnnplan layer specs: one function per op, from the node, its input
shapes and the constants it reads, to (spec text, parameters it consumes, comment).

Shapes have no batch axis. A function raises `Unmappable` with the reason where cnnplan has
no faithful layer kind (the importer then stops: nothing is written).
"""

from __future__ import annotations

from ...kinds.arithmetic import output_padding_valid
from ...platform.errors import CnnplanError


class Unmappable(CnnplanError):
    """An ONNX node cnnplan cannot express (exit 2; nothing is written)."""


class Node:
    """What an op function sees: the ONNX node's type and attributes, the shapes of its tensor
    inputs (None for constants), the constants (numpy arrays, None for tensors) and its
    output shape(s) from onnx.shape_inference, and the first axis of the first output (the
    batch, 1 on import, unless the node moved it)."""

    def __init__(self, op, name, attributes, shapes, constants, outputs, batch=1):
        self.op, self.name, self.attributes = op, name, attributes
        self.shapes, self.constants, self.outputs = shapes, constants, outputs
        self.batch = batch

    def get(self, name, default=None):
        return self.attributes.get(name, default)

    def constant(self, index):
        return self.constants[index] if index < len(self.constants) else None

    def fail(self, why: str):
        raise Unmappable(f"ONNX node {self.name!r} ({self.op}): {why}")


def _axes_value(values) -> str:
    values = tuple(int(v) for v in values)
    return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"


def _pads(node, n: int) -> str:
    """The p= text of a window op: auto_pad words, or pads [b1, b2, ..., e1, e2, ...]."""
    auto = node.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        return auto.lower()
    if auto == "VALID":
        return "0"
    pads = [int(v) for v in node.get("pads", [0] * (2 * n))]
    before, after = pads[:n], pads[n:]
    if before == after:
        return _axes_value(before)
    return "(" + ", ".join(f"({b}, {a})" for b, a in zip(before, after)) + ")"


def _window(node, n, with_dilation=True) -> str:
    kernel = node.get("kernel_shape")
    if kernel is None:
        node.fail("no kernel_shape attribute")
    parts = [
        f"k={_axes_value(kernel)}",
        f"s={_axes_value(node.get('strides', [1] * n))}",
        f"p={_pads(node, n)}",
    ]
    dilations = node.get("dilations", [1] * n)
    if with_dilation:
        parts.append(f"d={_axes_value(dilations)}")
    elif any(int(d) != 1 for d in dilations):
        node.fail("dilated average pooling has no cnnplan kind")
    return ", ".join(parts)


def conv(node):
    weight = node.constant(1)
    if weight is None:
        node.fail("the weight is not a constant")
    n = weight.ndim - 2
    node.attributes.setdefault("kernel_shape", list(weight.shape[2:]))
    bias = node.constant(2) is not None
    if len(node.shapes) > 2 and node.constant(2) is None:
        node.fail("the bias is not a constant")
    text = (
        f"conv({weight.shape[0]}, {_window(node, n)}, groups={node.get('group', 1)}, "
        f"bias={'true' if bias else 'false'})"
    )
    return text, weight.size + (node.constant(2).size if bias else 0)


def conv_transpose(node):
    """ONNX crops the full transposed convolution ((i-1)s + k' long, plus output_padding op)
    by pads b before and e after; cnnplan (as PyTorch) crops p before and p - op after. So
    p = b, op' = op + b - e, exact when 0 <= op' < max(s, d); anything else is refused."""
    weight = node.constant(1)
    if weight is None:
        node.fail("the weight is not a constant")
    n = weight.ndim - 2
    group = node.get("group", 1)
    kernel = [int(k) for k in node.get("kernel_shape", weight.shape[2:])]
    strides = [int(s) for s in node.get("strides", [1] * n)]
    dilations = [int(d) for d in node.get("dilations", [1] * n)]
    ops = [int(o) for o in node.get("output_padding", [0] * n)]
    sizes = node.shapes[0][1:]
    auto = node.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER") and any(ops) and node.get("output_shape") is None:
        node.fail(
            f"auto_pad {auto} with output_padding {ops}: onnx.shape_inference adds the "
            "output padding to i * s, onnxruntime does not (onnx 1.23, onnxruntime 1.32)"
        )
    if node.get("output_shape") is not None or auto in ("SAME_UPPER", "SAME_LOWER"):
        wanted = (
            [int(v) for v in node.get("output_shape")][-n:]
            if node.get("output_shape") is not None
            else [i * s for i, s in zip(sizes, strides)]
        )
        totals = [
            (i - 1) * s + op + d * (k - 1) + 1 - o
            for i, s, op, d, k, o in zip(sizes, strides, ops, dilations, kernel, wanted)
        ]
        if any(t < 0 for t in totals):
            node.fail(
                f"output_shape / auto_pad needs negative padding {totals} (onnxruntime "
                "and onnx.shape_inference disagree on its output size)"
            )
        # the ONNX specification: SAME_UPPER crops the odd row at the end, else at the start
        before = [t // 2 if auto == "SAME_UPPER" else t - t // 2 for t in totals]
        pads = before + [t - b for t, b in zip(totals, before)]
    else:
        pads = [int(v) for v in node.get("pads", [0] * (2 * n))]
    before, after = pads[:n], pads[n:]
    torch_ops = [op + b - e for op, b, e in zip(ops, before, after)]
    for b, e, op, s, d, t in zip(before, after, ops, strides, dilations, torch_ops):
        if t < 0 or not output_padding_valid(t, s, d):
            node.fail(
                f"pads ({b}, {e}) with output_padding {op}: cnnplan's transposed "
                f"convolution crops p before and p - op after with 0 <= op < max(s, d) "
                f"= {max(s, d)}, and this needs op = {t}"
            )
    bias = node.constant(2) is not None
    text = (
        f"convT({weight.shape[1] * group}, k={_axes_value(kernel)}, "
        f"s={_axes_value(strides)}, p={_axes_value(before)}, d={_axes_value(dilations)}, "
        f"op={_axes_value(torch_ops)}, groups={group}, bias={'true' if bias else 'false'})"
    )
    return text, weight.size + (node.constant(2).size if bias else 0)


def max_pool(node):
    if len(node.outputs) > 1:
        node.fail("the indices output of MaxPool has no cnnplan kind")
    n = len(node.shapes[0]) - 1
    ceil = "true" if node.get("ceil_mode", 0) else "false"
    return f"maxpool({_window(node, n)}, ceil={ceil})", 0


def average_pool(node):
    n = len(node.shapes[0]) - 1
    ceil = "true" if node.get("ceil_mode", 0) else "false"
    count = "true" if node.get("count_include_pad", 0) else "false"
    return f"avgpool({_window(node, n, False)}, ceil={ceil}, count_pad={count})", 0


def batch_norm(node):
    c = node.shapes[0][0]
    # scale and B are parameters; the running mean and variance are buffers (as in torch)
    return "bn", 2 * c


def gemm(node):
    weight = node.constant(1)
    if weight is None or node.get("transA", 0) or len(node.shapes[0]) != 1:
        node.fail("only x @ W (+ b) with a constant W and a flat input is a linear layer")
    out = weight.shape[0] if node.get("transB", 0) else weight.shape[1]
    bias = node.constant(2)
    if len(node.shapes) > 2 and (bias is None or bias.size != out):
        node.fail("the bias is not a constant of the output size")
    return (
        f"linear({out}, bias={'true' if bias is not None else 'false'})",
        weight.size + (bias.size if bias is not None else 0),
    )


def matmul(node):
    """A tensor times a constant matrix: a linear layer (on the last axis unless the input is
    flat); two tensors of the same rank: matmul (the batch is their common first axis)."""
    weight = node.constant(1)
    a, b = node.shapes[0], node.shapes[1] if len(node.shapes) > 1 else None
    if a is None:
        node.fail("a constant first operand")
    if weight is not None and weight.ndim == 2:
        last = "" if len(a) == 1 else "last=true, "
        return f"linear({weight.shape[1]}, {last}bias=false)", weight.size
    if b is not None and len(a) == len(b) >= 2:
        return "matmul", 0
    node.fail(
        "only a tensor times a constant matrix (a linear layer) or two tensors of the "
        "same rank with the batch first (matmul)"
    )


def clip(node):
    low = node.constant(1) if len(node.constants) > 1 else node.get("min")
    high = node.constant(2) if len(node.constants) > 2 else node.get("max")
    low = None if low is None else float(low)
    high = None if high is None else float(high)
    if (low, high) == (0.0, 6.0):
        return "relu6", 0
    if low == 0.0 and high is None:
        return "relu", 0
    return "identity", 0, f"Clip({low}, {high}): shape-preserving, no cnnplan kind of its own"


def _axis(node, axis: int, rank: int) -> int:
    """An ONNX axis of a tensor of `rank` (batch included) as cnnplan's (batch left out)."""
    if not -rank <= axis < rank or axis % rank == 0:
        node.fail(f"axis {axis} is the batch (or outside the {rank} axes)")
    return axis % rank - 1


def softmax(node):
    rank = len(node.shapes[0]) + 1
    axis = _axis(node, node.get("axis", -1), rank)
    return ("softmax", 0) if axis == 0 else (f"softmax(dim={axis})", 0)


def flatten(node):
    if node.get("axis", 1) != 1:
        node.fail("Flatten with axis other than 1")
    return "flatten", 0


def _same_batch(node):
    """The node's output keeps the batch as its first axis (1 on import: a per-sample view)."""
    out = node.outputs[0]
    if out is None or node.batch != 1:
        node.fail(
            f"the output's first axis is {node.batch}, not the batch (1): it mixes the "
            "batch with other axes"
        )
    if not out:
        node.fail("the output has no axis besides the batch")
    return out


def reshape(node):
    """To N x features: flatten; otherwise reshape(shape=) with the sizes onnx.shape_inference
    gives (the target's -1 kept, so the plan holds for other input sizes where ONNX's does)."""
    out = _same_batch(node)
    if len(out) == 1:
        return "flatten", 0
    target = node.constant(1)
    sizes = [int(v) for v in out]
    if target is not None and target.size == len(out) + 1:
        sizes = [-1 if int(t) == -1 else v for t, v in zip(target.flatten()[1:], out)]
    return f"reshape(shape=({', '.join(map(str, sizes))}))", 0


def squeeze(node):
    """Squeeze / Unsqueeze of axes other than the batch: a reshape to the inferred sizes."""
    axes = node.get("axes")
    if axes is None and node.constant(1) is not None:
        axes = [int(a) for a in node.constant(1).flatten()]
    rank = len(node.shapes[0]) + 1 + (len(axes or ()) if node.op == "Unsqueeze" else 0)
    if axes is None or any(a % rank == 0 for a in axes):
        node.fail("without axes, or on the batch axis")
    out = _same_batch(node)
    return ("flatten", 0) if len(out) == 1 else (f"reshape(shape=({', '.join(map(str, out))}))", 0)


def transpose(node):
    rank = len(node.shapes[0]) + 1
    perm = [int(p) for p in node.get("perm", reversed(range(rank)))]
    if perm[0] != 0:
        node.fail(f"perm {perm} moves the batch axis")
    dims = [p - 1 for p in perm[1:]]
    if dims == sorted(dims):
        return "identity", 0, "Transpose that keeps every axis in place"
    return f"permute(dims=({', '.join(map(str, dims))}))", 0


def _ints(node, index, attribute):
    """Integers from constant input `index` (opset 13+) or the attribute (older opsets)."""
    value = node.constant(index)
    value = node.get(attribute) if value is None else value.flatten()
    return None if value is None else [int(v) for v in value]


def slice_(node):
    """A step-1 slice of one axis other than the batch: narrow(dim, start, length)."""
    shape = node.shapes[0]
    if shape is None:
        node.fail("slicing a constant")
    rank = len(shape) + 1
    starts, ends = _ints(node, 1, "starts"), _ints(node, 2, "ends")
    axes = _ints(node, 3, "axes") or list(range(len(starts or ())))
    steps = _ints(node, 4, "steps") or [1] * len(axes)
    if starts is None or ends is None:
        node.fail("starts or ends that are not constants")
    full = (1, *shape)
    cut = []
    for start, end, axis, step in zip(starts, ends, axes, steps):
        size = full[axis % rank]
        start, end = (min(max(v + size if v < 0 else v, 0), size) for v in (start, end))
        if (start, end) == (0, size) and step == 1:
            continue
        if step != 1 or axis % rank == 0:
            node.fail(f"a slice with step {step} on axis {axis} (only step 1, not the batch)")
        cut.append((axis % rank - 1, start, max(end - start, 0)))
    if len(cut) > 1:
        node.fail(f"a slice of {len(cut)} axes; narrow cuts one")
    if not cut:
        return "identity", 0, "Slice that keeps every position"
    dim, start, length = cut[0]
    return f"narrow(dim={dim}, start={start}, length={length})", 0


def split(node):
    """Split along an axis other than the batch: split(sizes=(...), dim=), several outputs."""
    rank = len(node.shapes[0]) + 1
    axis = _axis(node, node.get("axis", 0), rank)
    if any(o is None for o in node.outputs):
        node.fail("an output onnx.shape_inference gives no shape")
    sizes = [o[axis] for o in node.outputs]
    if len(sizes) == 1:
        return "identity", 0, "Split into one piece"
    return f"split(sizes=({', '.join(map(str, sizes))}), dim={axis})", 0


def concat(node):
    if any(shape is None for shape in node.shapes):
        node.fail("a constant operand")
    if len(node.shapes) == 1:  # DenseNet's torch.cat([x], 1)
        return "identity", 0, "Concat of one tensor"
    axis = _axis(node, node.get("axis"), len(node.shapes[0]) + 1)
    return ("concat", 0) if axis == 0 else (f"concat(dim={axis})", 0)


def resize(node):
    shape, out = node.shapes[0], node.outputs[0]
    mode = node.get("mode", "nearest")
    if isinstance(mode, bytes):
        mode = mode.decode()
    if mode not in ("nearest", "linear"):
        node.fail(f"mode {mode!r}")
    word = "nearest" if mode == "nearest" else "bilinear"
    if word == "bilinear" and node.get("coordinate_transformation_mode", "half_pixel") not in (
        "half_pixel",
        "pytorch_half_pixel",
    ):
        node.fail("linear resizing with corners aligned")
    if out is None or out[0] != shape[0]:
        node.fail("resizing the channels")
    if all(o % i == 0 for i, o in zip(shape[1:], out[1:])):
        return (
            f"upsample(scale={_axes_value(o // i for i, o in zip(shape[1:], out[1:]))}, "
            f"mode={word})",
            0,
        )
    return f"upsample(size={_axes_value(out[1:])}, mode={word})", 0


def pad(node):
    pads = node.constant(1)
    pads = node.get("pads") if pads is None else [int(v) for v in pads.flatten()]
    mode = node.get("mode", "constant")
    if isinstance(mode, bytes):
        mode = mode.decode()
    value = node.constant(2)
    if pads is None or len(node.shapes) > 3 and node.constant(3) is not None:
        node.fail("pads that are not constants, or an axes input")
    rank = len(pads) // 2
    begin, end = pads[:rank], pads[rank:]
    if begin[:2] != [0, 0] or end[:2] != [0, 0] or min(pads) < 0:
        node.fail("padding the batch or channel axes, or cropping")
    pairs = [v for a in reversed(range(2, rank)) for v in (begin[a], end[a])]
    fill = (
        f"{mode} padding"
        if mode != "constant"
        else f"padding with {float(value.flatten()[0]):g}"
        if value is not None and value.size and float(value.flatten()[0]) != 0.0
        else ""
    )
    text = f"pad(p=({', '.join(map(str, pairs))}))"
    if fill:
        return text, 0, f"{fill}; cnnplan's pad pads with zeros, with the same shapes and fields"
    return text, 0


def reduce(kind):
    """ReduceMean / ReduceSum / ReduceL2 over axes other than the batch: mean (plain over
    the spatial axes), sum or norm with dims=."""

    def mapped(node):
        axes = _ints(node, 1, "axes")
        rank = len(node.shapes[0]) + 1
        if not axes:
            node.fail("a reduction over every axis, the batch included")
        dims = sorted(_axis(node, a, rank) for a in axes)
        keep = "true" if node.get("keepdims", 1) else "false"
        if kind == "mean" and dims == list(range(1, rank - 1)):
            return f"mean(keepdim={keep})", 0
        text = str(dims[0]) if len(dims) == 1 else f"({', '.join(map(str, dims))})"
        return f"{kind}(dims={text}, keepdim={keep})", 0

    return mapped


def binary(kind):
    """Add / Sub / Mul / Div of two tensors: the join; with a constant operand: shift
    or scale, the constant's elements counted as parameters when there are more than one (a
    learned bias, layer scale or embedding; ONNX does not tell a learned tensor from a
    constant, so a single number counts as a constant)."""

    def mapped(node):
        tensors = [s for s in node.shapes if s is not None]
        if len(tensors) == 2:
            return kind, 0
        if len(tensors) != 1 or len(node.shapes) != 2:
            node.fail(f"{node.op} of {len(tensors)} tensors")
        value = next(c for c in node.constants if c is not None)
        if node.outputs[0] != tensors[0] or node.batch != 1:
            node.fail(
                f"a constant of shape {list(value.shape)} broadcasts the input to a larger shape"
            )
        if node.op == "Div" and node.shapes[0] is None:
            node.fail("divides by a layer's output")
        word = "scale" if node.op in ("Mul", "Div") else "shift"
        shape = list(value.shape)
        while len(shape) > len(tensors[0]):
            if shape[0] != 1:
                node.fail(f"a constant of shape {list(value.shape)} with a batch axis")
            shape = shape[1:]
        reversed_ = " (constant - x)" if node.op == "Sub" and node.shapes[0] is None else ""
        if value.size == 1:
            return word, 0, f"{node.op} by {float(value.flatten()[0]):g}{reversed_}"
        shape = shape or [1]
        param = str(shape[0]) if len(shape) == 1 else f"({', '.join(map(str, shape))})"
        return f"{word}(param={param})", value.size, f"{node.op} by a constant{reversed_}"

    return mapped


def layer_norm(node):
    rank = len(node.shapes[0]) + 1
    axis = _axis(node, node.get("axis", -1), rank)
    if node.constant(1) is None or node.constant(2) is None:
        node.fail("a scale and bias that are not both constants (cnnplan's layernorm has both)")
    return f"layernorm(dims={rank - 1 - axis})", node.constant(1).size + node.constant(2).size


def _plain(kind, comment=""):
    def mapped(node):
        return (kind, 0, comment) if comment else (kind, 0)

    return mapped


SHAPE_ONLY = "shape-preserving, no cnnplan kind of its own"

OPS = {
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "MaxPool": max_pool,
    "AveragePool": average_pool,
    "GlobalAveragePool": _plain("adaptiveavgpool(1)"),
    "GlobalMaxPool": _plain("adaptivemaxpool(1)"),
    "BatchNormalization": batch_norm,
    "LayerNormalization": layer_norm,
    "Gemm": gemm,
    "MatMul": matmul,
    "Clip": clip,
    "Relu": _plain("relu"),
    "Sigmoid": _plain("sigmoid"),
    "Tanh": _plain("tanh"),
    "HardSwish": _plain("hardswish"),
    "HardSigmoid": _plain("hardsigmoid"),
    "LeakyRelu": _plain("leakyrelu"),
    "Elu": _plain("elu"),
    "Gelu": _plain("gelu"),
    "Mish": _plain("mish"),
    "Softplus": _plain("softplus"),
    "Softmax": softmax,
    "Flatten": flatten,
    "Reshape": reshape,
    "Concat": concat,
    "Transpose": transpose,
    "Squeeze": squeeze,
    "Unsqueeze": squeeze,
    "Slice": slice_,
    "Split": split,
    "Resize": resize,
    "Upsample": resize,
    "Pad": pad,
    "Dropout": _plain("dropout"),
    "Identity": _plain("identity"),
    "ReduceMean": reduce("mean"),
    "ReduceSum": reduce("sum"),
    "ReduceL2": reduce("norm"),
    "Mul": binary("mul"),
    "Add": binary("add"),
    "Sub": binary("sub"),
    "Div": binary("div"),
    **{
        op: _plain("identity", f"{op}: {SHAPE_ONLY}")
        for op in (
            "Erf",
            "Sqrt",
            "Exp",
            "Neg",
            "Abs",
            "Reciprocal",
            "Sign",
            "Floor",
            "Ceil",
            "Round",
            "Cast",
        )
    },
}
