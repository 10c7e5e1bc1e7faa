"""ONNX operators as cnnplan layer specs: one function per op, from the node, its input
shapes and the constants it reads, to (spec text, parameters it consumes, comment).

Shapes have no batch axis. A function raises `Unmappable` with the reason where cnnplan has
no faithful layer kind (the importer then stops: nothing is written).
"""

from __future__ import annotations

from ...platform.errors import CnnplanError


class Unmappable(CnnplanError):
    """An ONNX node cnnplan cannot express (exit 2; nothing is written)."""


class Node:
    """What an op function sees: the ONNX node's type and attributes, the shapes of its tensor
    inputs (None for constants), the constants (numpy arrays, None for tensors) and its
    output shape(s) from onnx.shape_inference."""

    def __init__(self, op, name, attributes, shapes, constants, outputs):
        self.op, self.name, self.attributes = op, name, attributes
        self.shapes, self.constants, self.outputs = shapes, constants, outputs

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
    parts = [f"k={_axes_value(kernel)}", f"s={_axes_value(node.get('strides', [1] * n))}",
             f"p={_pads(node, n)}"]
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
    text = (f"conv({weight.shape[0]}, {_window(node, n)}, groups={node.get('group', 1)}, "
            f"bias={'true' if bias else 'false'})")
    return text, weight.size + (node.constant(2).size if bias else 0)


def conv_transpose(node):
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
    if node.get("output_shape") is not None or auto in ("SAME_UPPER", "SAME_LOWER"):
        wanted = ([int(v) for v in node.get("output_shape")][-n:]
                  if node.get("output_shape") is not None
                  else [i * s for i, s in zip(sizes, strides)])
        totals = [(i - 1) * s + op + d * (k - 1) + 1 - o
                  for i, s, op, d, k, o in zip(sizes, strides, ops, dilations, kernel, wanted)]
        if any(t < 0 or t % 2 for t in totals):
            node.fail(f"output_shape / auto_pad needs uneven padding {totals}; cnnplan's "
                      "transposed convolution pads both sides alike")
        pads = [t // 2 for t in totals]
    else:
        raw = [int(v) for v in node.get("pads", [0] * (2 * n))]
        if raw[:n] != raw[n:]:
            node.fail(f"asymmetric pads {raw}; cnnplan's transposed convolution pads both "
                      "sides alike")
        pads = raw[:n]
    bias = node.constant(2) is not None
    text = (f"convT({weight.shape[1] * group}, k={_axes_value(kernel)}, "
            f"s={_axes_value(strides)}, p={_axes_value(pads)}, d={_axes_value(dilations)}, "
            f"op={_axes_value(ops)}, groups={group}, bias={'true' if bias else 'false'})")
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
    return (f"linear({out}, bias={'true' if bias is not None else 'false'})",
            weight.size + (bias.size if bias is not None else 0))


def matmul(node):
    weight = node.constant(1)
    if weight is None or weight.ndim != 2 or len(node.shapes[0]) != 1:
        node.fail("only a flat input times a constant matrix is a linear layer")
    return f"linear({weight.shape[1]}, bias=false)", weight.size


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


def softmax(node):
    rank = len(node.shapes[0]) + 1
    axis = node.get("axis", -1)
    if axis % rank != 1:
        node.fail(f"softmax over axis {axis}; cnnplan's softmax is over the channels")
    return "softmax", 0


def flatten(node):
    if node.get("axis", 1) != 1:
        node.fail("Flatten with axis other than 1")
    return "flatten", 0


def reshape(node):
    out = node.outputs[0]
    if out is None or len(out) != 1:
        node.fail(f"Reshape to {out}; only flattening to N x features is a cnnplan layer")
    return "flatten", 0


def concat(node):
    rank = len(node.shapes[0]) + 1
    if node.get("axis") % rank != 1:
        node.fail("Concat along an axis other than the channels")
    return "concat", 0


def resize(node):
    shape, out = node.shapes[0], node.outputs[0]
    mode = node.get("mode", "nearest")
    if isinstance(mode, bytes):
        mode = mode.decode()
    if mode not in ("nearest", "linear"):
        node.fail(f"mode {mode!r}")
    word = "nearest" if mode == "nearest" else "bilinear"
    if word == "bilinear" and node.get("coordinate_transformation_mode", "half_pixel") not in (
            "half_pixel", "pytorch_half_pixel"):
        node.fail("linear resizing with corners aligned")
    if out is None or out[0] != shape[0]:
        node.fail("resizing the channels")
    if all(o % i == 0 for i, o in zip(shape[1:], out[1:])):
        return f"upsample(scale={_axes_value(o // i for i, o in zip(shape[1:], out[1:]))}, " \
               f"mode={word})", 0
    return f"upsample(size={_axes_value(out[1:])}, mode={word})", 0


def pad(node):
    pads = node.constant(1)
    pads = node.get("pads") if pads is None else [int(v) for v in pads.flatten()]
    mode = node.get("mode", "constant")
    if isinstance(mode, bytes):
        mode = mode.decode()
    value = node.constant(2)
    if mode != "constant" or (value is not None and float(value) != 0.0) or pads is None:
        node.fail("only zero padding with constant pads is a cnnplan pad layer")
    rank = len(pads) // 2
    begin, end = pads[:rank], pads[rank:]
    if begin[:2] != [0, 0] or end[:2] != [0, 0] or min(pads) < 0:
        node.fail("padding the batch or channel axes, or cropping")
    pairs = [v for a in reversed(range(2, rank)) for v in (begin[a], end[a])]
    return f"pad(p=({', '.join(map(str, pairs))}))", 0


def reduce_mean(node):
    axes = node.get("axes")
    if axes is None and node.constant(1) is not None:
        axes = [int(a) for a in node.constant(1).flatten()]
    rank = len(node.shapes[0]) + 1
    if axes is None or sorted(a % rank for a in axes) != list(range(2, rank)):
        node.fail("a mean over other axes than the spatial ones")
    return f"mean(keepdim={'true' if node.get('keepdims', 1) else 'false'})", 0


def binary(kind):
    def mapped(node):
        tensors = [s for s in node.shapes if s is not None]
        if len(tensors) == 2:
            return kind, 0
        node.fail(f"{node.op} with a constant operand (only folded into a linear layer's bias, "
                  "or shape-preserving scalars)")
    return mapped


def _plain(kind, comment=""):
    def mapped(node):
        return (kind, 0, comment) if comment else (kind, 0)
    return mapped


OPS = {
    "Conv": conv, "ConvTranspose": conv_transpose, "MaxPool": max_pool,
    "AveragePool": average_pool, "GlobalAveragePool": _plain("adaptiveavgpool(1)"),
    "GlobalMaxPool": _plain("adaptivemaxpool(1)"), "BatchNormalization": batch_norm,
    "Gemm": gemm, "MatMul": matmul, "Relu": _plain("relu"), "Clip": clip,
    "Sigmoid": _plain("sigmoid"), "Tanh": _plain("tanh"), "HardSwish": _plain("hardswish"),
    "HardSigmoid": _plain("sigmoid", "HardSigmoid: shape-preserving, written as sigmoid"),
    "LeakyRelu": _plain("relu", "LeakyRelu: shape-preserving, written as relu"),
    "Softmax": softmax, "Flatten": flatten, "Reshape": reshape, "Concat": concat,
    "Resize": resize, "Upsample": resize, "Pad": pad, "Dropout": _plain("dropout"),
    "Identity": _plain("identity"), "ReduceMean": reduce_mean, "Mul": binary("mul"),
    "Add": binary("add"),
}
