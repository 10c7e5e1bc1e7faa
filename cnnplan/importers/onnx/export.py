"""`--format onnx`: the network of `cnnplan shapes` (or the first chain of `cnnplan plan`) as an
ONNX model (opset 17) built with onnx.helper, with seeded random weights (numpy, seed 0), its
output named "output" and every other layer's output "layer.NAME". Paddings are always
written as explicit `pads` (onnxruntime refuses dilation with auto_pad SAME_*).
"""

from __future__ import annotations

from ...platform.errors import BadInput

OPSET = 17


class _Builder:
    def __init__(self, numpy):
        from onnx import helper, numpy_helper

        self.np, self.helper, self.numpy_helper = numpy, helper, numpy_helper
        self.rng = numpy.random.default_rng(0)
        self.nodes, self.inits = [], []

    def weight(self, name, shape, fill=None):
        data = self.rng.standard_normal(shape) * 0.1 if fill is None else self.np.full(shape, fill)
        self.inits.append(self.numpy_helper.from_array(data.astype(self.np.float32), name))
        return name

    def constant(self, name, shape):
        """A Constant node of seeded values: data, not a parameter (a fixed kernel)."""
        data = (self.rng.standard_normal(shape) * 0.1).astype(self.np.float32)
        return self.node("Constant", [], name, value=self.numpy_helper.from_array(data, name))

    def ints(self, name, values):
        self.inits.append(
            self.numpy_helper.from_array(self.np.asarray(values, self.np.int64), name)
        )
        return name

    def node(self, op, inputs, output, **attributes):
        self.nodes.append(
            self.helper.make_node(op, list(inputs), [output], name=output, **attributes)
        )
        return output


def _axes(spec, name, n, default=None):
    value = spec.get(name, default)
    return list(value) if isinstance(value, tuple) else [value] * n


def _window(b, step, x, out):
    """Conv, ConvTranspose, MaxPool or AveragePool for a window layer."""
    from ...kinds.core import pads_of

    spec = step.spec
    sizes = step.input[1:]
    n = len(sizes)
    ks, ss, ds = _axes(spec, "k", n), _axes(spec, "s", n), _axes(spec, "d", n, 1)
    attrs = {"kernel_shape": ks, "strides": ss}
    if spec.kind == "convT":
        ps = _axes(spec, "p", n, 0)
        c_in, c_out, g = step.input[0], step.output[0], spec.get("groups", 1)
        w = b.weight(f"{out}.weight", (c_in, c_out // g, *ks))
        inputs = [x, w] + ([b.weight(f"{out}.bias", (c_out,))] if spec.get("bias") else [])
        return b.node(
            "ConvTranspose",
            inputs,
            out,
            pads=ps + ps,
            dilations=ds,
            group=g,
            output_padding=_axes(spec, "op", n, 0),
            **attrs,
        )
    befores, afters = pads_of(spec, sizes, ks, ss, ds, "export")
    attrs["pads"] = list(befores) + list(afters)
    if spec.kind == "conv":
        c_in, c_out, g = step.input[0], step.output[0], spec.get("groups", 1)
        shape = (c_out, c_in // g, *ks)
        # fixed=true: the kernel is a buffer (a Constant, no parameter); gain=true: the kernel
        # times a learned gain per output channel, a parameter of its own
        w = (
            b.constant(f"{out}.weight", shape)
            if spec.get("fixed")
            else b.weight(f"{out}.weight", shape)
        )
        if spec.get("gain"):
            gain = b.weight(f"{out}.gain", (c_out, *[1] * (n + 1)))
            w = b.node("Mul", [w, gain], f"{out}.gained_weight")
        inputs = [x, w] + ([b.weight(f"{out}.bias", (c_out,))] if spec.get("bias") else [])
        return b.node("Conv", inputs, out, dilations=ds, group=g, **attrs)
    attrs["ceil_mode"] = int(bool(spec.get("ceil", False)))
    if spec.kind == "maxpool":
        return b.node("MaxPool", [x], out, dilations=ds, **attrs)
    return b.node(
        "AveragePool", [x], out, count_include_pad=int(spec.get("count_pad", True)), **attrs
    )


_UNARY = {
    "relu": "Relu",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "hardswish": "HardSwish",
    "dropout": "Identity",
    "identity": "Identity",
    "flatten": "Flatten",
}


def _layer(b, step, names, out):
    """The ONNX node(s) of one layer, writing tensor `out`."""
    spec, kind = step.spec, step.spec.kind
    xs = [names[s] for s in step.sources]
    x = xs[0]
    n = len(step.input) - 1
    if spec.window:
        return _window(b, step, x, out)
    if kind in _UNARY:
        return b.node(_UNARY[kind], [x], out)
    if kind == "relu6":
        lo = b.weight(f"{out}.min", (), 0.0)
        hi = b.weight(f"{out}.max", (), 6.0)
        return b.node("Clip", [x, lo, hi], out)
    if kind == "silu":
        return b.node("Mul", [x, b.node("Sigmoid", [x], f"{out}.sigmoid")], out)
    if kind == "softmax":
        return b.node("Softmax", [x], out, axis=1)
    if kind == "bn":
        c = step.input[0]
        params = [
            b.weight(f"{out}.{p}", (c,), v)
            for p, v in (("scale", 1.0), ("bias", 0.0), ("mean", 0.0), ("var", 1.0))
        ]
        return b.node("BatchNormalization", [x, *params], out)
    if kind == "linear":
        f_in, f_out = step.input[0], step.output[0]
        inputs = [x, b.weight(f"{out}.weight", (f_out, f_in))]
        if spec.get("bias"):
            inputs.append(b.weight(f"{out}.bias", (f_out,)))
        return b.node("Gemm", inputs, out, transB=1)
    if kind in ("adaptiveavgpool", "adaptivemaxpool"):
        outs = _axes(spec, "out", n)
        if all(o == 1 for o in outs):
            return b.node(
                "GlobalAveragePool" if kind == "adaptiveavgpool" else "GlobalMaxPool", [x], out
            )
        if any(i % o for i, o in zip(step.input[1:], outs)):
            raise BadInput(
                f"layer {step.index} {spec.describe()}: uneven adaptive pooling "
                "has no ONNX operator"
            )
        k = [i // o for i, o in zip(step.input[1:], outs)]
        return b.node(
            "AveragePool" if kind == "adaptiveavgpool" else "MaxPool",
            [x],
            out,
            kernel_shape=k,
            strides=k,
        )
    if kind == "mean":
        return b.node(
            "ReduceMean",
            [x],
            out,
            axes=list(range(2, n + 2)),
            keepdims=int(bool(spec.get("keepdim"))),
        )
    if kind == "layernorm":
        dims = spec.get("dims", len(step.input))
        shape = step.input[len(step.input) - dims :]
        return b.node(
            "LayerNormalization",
            [x, b.weight(f"{out}.scale", shape, 1.0), b.weight(f"{out}.bias", shape, 0.0)],
            out,
            axis=-dims,
        )
    if kind == "upsample":
        sizes = b.ints(f"{out}.sizes", [1, *step.output])
        mode = spec.get("mode", "nearest")
        if mode == "nearest":
            return b.node(
                "Resize",
                [x, "", "", sizes],
                out,
                mode="nearest",
                coordinate_transformation_mode="asymmetric",
                nearest_mode="floor",
            )
        return b.node(
            "Resize",
            [x, "", "", sizes],
            out,
            mode="linear",
            coordinate_transformation_mode="pytorch_half_pixel",
        )
    if kind == "pixelshuffle":
        return b.node("DepthToSpace", [x], out, blocksize=spec.get("r"), mode="CRD")
    if kind == "pad":
        from ...kinds.core import pad_amounts

        pairs = pad_amounts(spec, n, "export")
        pads = b.ints(f"{out}.pads", [0, 0, *(a for a, _ in pairs), 0, 0, *(c for _, c in pairs)])
        mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}.get(
            spec.get("mode", "constant")
        )
        if mode is None:  # circular is ONNX's "wrap", from opset 19 on
            raise BadInput(
                f"layer {step.index} {spec.describe()}: --format onnx writes opset "
                f"{OPSET}, whose Pad has no circular mode"
            )
        return b.node("Pad", [x, pads], out, mode=mode)
    if kind in ("add", "mul"):
        op = "Add" if kind == "add" else "Mul"
        total = xs[0]
        for j, other in enumerate(xs[1:], start=1):
            total = b.node(op, [total, other], out if j == len(xs) - 1 else f"{out}.{j}")
        return total
    if kind == "concat" and not spec.get("crop"):
        return b.node("Concat", xs, out, axis=1)
    raise BadInput(
        f"layer {step.index} {spec.describe()}: --format onnx has no operator for "
        f"{kind}" + (" with crop=true" if kind == "concat" else "")
    )


def network_model(net, title: str = "cnnplan"):
    """An onnx.ModelProto of a forward-pass Network (batch 1)."""
    try:
        import numpy
        from onnx import TensorProto, helper
    except ImportError:
        raise BadInput(
            '--format onnx needs the onnx package: pip install "cnnplan[onnx]"'
        ) from None
    b = _Builder(numpy)
    names = {"input": "input"}
    for step in net.steps:
        names[step.name] = _layer(b, step, names, f"layer.{step.name}")
    final = names[net.out_step.name] if net.steps else "input"
    if b.nodes and b.nodes[-1].output[0] == final:  # the last layer writes "output"
        b.nodes[-1].output[0] = "output"
    else:
        b.nodes.append(helper.make_node("Identity", [final], ["output"], name="output"))
    graph = helper.make_graph(
        b.nodes,
        title[:200],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, *net.input])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, *net.output])],
        b.inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="cnnplan"
    )
    model.ir_version = 8
    return model


def render_onnx(result) -> bytes:
    """The reporter: the serialized model of a shapes network or a plan's first chain."""
    from ...network.export import _networks

    net, _ = _networks(result.data)[0]
    return network_model(net, result.title).SerializeToString()
