"""`cnnplan import MODEL.onnx`: an ONNX graph read node by node into a plan file.

The input's dynamic dimensions take `--in`; onnx.shape_inference gives every tensor's shape,
and each layer's shape in cnnplan's reading of the plan must equal it (importers/plan.py), or
nothing is written. Layers are named after their ONNX node (its name, else its first output);
params count the initializers the layers consume as weights, biases, and normalisation's
scale and shift (batch norm's running mean and variance are buffers, as in PyTorch).
"""

from __future__ import annotations

import re

from ...kinds.shape import format_shape, parse_shape
from ...platform.errors import BadInput
from ...platform.result import Result
from ..plan import ImportFailed, check_plan, render_plan
from .ops import OPS, Node, Unmappable

MAX_NODES = 20_000


class Layer:
    """One layer of the plan being written (the fields importers/plan.py reads)."""

    def __init__(self, name, spec, sources, node, shape, comment=""):
        self.name, self.spec, self.sources = name, spec, tuple(sources)
        self.node, self.shape, self.comment = node, tuple(shape), comment
        self.placeholder = False


def require_onnx():
    try:
        import onnx
    except ImportError:
        raise BadInput(
            'importing ONNX models needs the onnx package: pip install "cnnplan[onnx]"'
        ) from None
    return onnx


def _attributes(node) -> dict:
    from onnx import helper

    out = {}
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        out[attribute.name] = value.decode() if isinstance(value, bytes) else value
    return out


def _dims(value_info):
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim]


def _name(text: str, taken: set) -> str:
    """A cnnplan layer name from an ONNX node or tensor name (letters, digits, '_', '.')."""
    name = re.sub(r"[^A-Za-z0-9_.]", "_", text).strip("_.") or "node"
    if not re.match(r"[A-Za-z_]", name):
        name = "n_" + name
    name = name[:120]
    if name == "input":
        name = "input_"
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _input_shape(graph, initializers, given):
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise ImportFailed(f"the model has {len(inputs)} inputs; cnnplan networks have one")
    dims = _dims(inputs[0])
    if dims is None or len(dims) < 2:
        raise ImportFailed("the model's input has no N x C x sizes shape")
    if given is not None:
        shape = parse_shape(given, "--in")
        if len(shape) != len(dims) - 1:
            raise BadInput(
                f"--in {format_shape(shape)} has {len(shape)} axes; the model's input "
                f"has {len(dims) - 1} besides the batch"
            )
        for n, (want, got) in enumerate(zip(dims[1:], shape), start=1):
            if isinstance(want, int) and want and want != got:
                raise BadInput(
                    f"--in {format_shape(shape)}: axis {n} of the model's input is fixed at {want}"
                )
        return inputs[0].name, shape
    if not all(isinstance(d, int) and d for d in dims[1:]):
        raise BadInput(f"the model's input {dims} has dynamic dimensions; give --in SHAPE")
    return inputs[0].name, tuple(dims[1:])


def import_onnx(path: str, input=None, command: str = "") -> Result:
    """Import the ONNX model at `path` (input shape `input` for its dynamic dimensions);
    Result.data["plan"] is the plan file's text, checked against onnx.shape_inference."""
    onnx = require_onnx()
    from onnx import numpy_helper

    try:
        model = onnx.load(path)
    except FileNotFoundError:
        raise BadInput(f"no ONNX file {path!r}") from None
    except Exception as exc:  # onnx raises DecodeError and others for a file it cannot read
        raise BadInput(f"{path!r} is not an ONNX model ({type(exc).__name__})") from None
    graph = model.graph
    if len(graph.node) > MAX_NODES:
        raise BadInput(f"{len(graph.node)} nodes; the limit is {MAX_NODES}")
    constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    input_name, shape = _input_shape(graph, constants, input)
    for value in graph.input:  # fix the input's dimensions, then infer
        if value.name == input_name:
            dims = value.type.tensor_type.shape.dim
            for dim, size in zip(dims, (1, *shape)):
                dim.Clear()
                dim.dim_value = size
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
    inferred, shapes = _infer(model, input_name, shape, opset)
    constants = {init.name: numpy_helper.to_array(init) for init in inferred.graph.initializer}
    layers: list = []
    taken: set = set()
    made, params = {input_name: "input"}, 0
    tensors_of: dict = {}  # layer name -> the ONNX tensor it stands for
    for node in inferred.graph.node:
        if _fold(node, constants, shapes, opset):
            continue
        label = node.name or node.output[0]
        if node.op_type not in OPS:
            raise ImportFailed(
                f"ONNX node {label!r} ({node.op_type}): no cnnplan layer kind "
                f"(covered: {', '.join(sorted(OPS))}); nothing written"
            )
        tensors = [n for n in node.input if n and n not in constants]
        missing = [n for n in tensors if n not in made]
        if missing:
            raise ImportFailed(
                f"ONNX node {label!r} ({node.op_type}) reads {missing[0]!r}, "
                "which no layer makes; nothing written"
            )
        out = shapes.get(node.output[0])
        if out is None:
            raise ImportFailed(
                f"ONNX node {label!r}: onnx.shape_inference gives no shape for "
                f"{node.output[0]!r}; nothing written"
            )
        view = Node(
            node.op_type,
            label,
            _attributes(node),
            [shapes[n][1:] if n in made else None for n in node.input],
            [constants.get(n) for n in node.input],
            [shapes[o][1:] if o in shapes else None for o in node.output if o],
            out[0] if out else None,
        )
        folded = _fold_bias(node, view, layers, made, constants)
        if folded:
            params += folded
            made[node.output[0]] = layers[-1].name
            layers[-1].shape = out[1:]
            continue
        try:
            mapped = OPS[node.op_type](view)
        except Unmappable as exc:
            raise ImportFailed(f"{exc}; nothing written") from None
        spec, used = mapped[0], mapped[1]
        comment = f"ONNX {node.op_type} {label!r}" + (f": {mapped[2]}" if len(mapped) > 2 else "")
        name = _name(label, taken)
        sources = [made[n] for n in tensors]
        if len(sources) == 1 and spec in ("add", "mul", "sub", "div", "concat"):
            raise ImportFailed(f"ONNX node {label!r}: {node.op_type} of one tensor")
        layers.append(Layer(name, spec, sources, label, out[1:], _printable(comment)))
        tensors_of[name] = node.output[0]
        outs = [o for o in node.output if o]
        for j, tensor in enumerate(outs):  # several outputs (Split): NAME[j]
            made[tensor] = name if len(outs) == 1 else f"{name}[{j}]"
        params += int(used)
    outputs = [o.name for o in graph.output]
    if len(outputs) != 1 or outputs[0] not in made:
        raise ImportFailed("the model needs exactly one output made by its layers")
    output = made[outputs[0]]
    output_shape = shapes[outputs[0]][1:]
    from ...platform import VERSION

    header = [
        f"Imported by cnnplan {VERSION} (onnx {onnx.__version__}):",
        f"  {command or 'cnnplan.import_onnx(' + repr(path) + ')'}",
        "One layer per ONNX node, named after it. Checked on import: every layer's shape "
        f"for input {format_shape(shape)}",
        "equals onnx.shape_inference's, and the parameters equal the initializers the "
        f"layers consume ({params:,}).",
    ]
    title = _printable(graph.name or "onnx model")[:80]
    text = render_plan(layers, shape, output, header, title)
    check_plan(text, layers, params, 0, output_shape)
    return Result(
        title=f"imported {path}: {len(layers)} layers, {params:,} parameters",
        facts=(
            ("source", path),
            ("input", format_shape(shape)),
            ("output", format_shape(output_shape)),
            ("layers", len(layers)),
            ("params", params),
        ),
        data={
            "plan": text,
            "source": path,
            "input": list(shape),
            "output": list(output_shape),
            "layers": len(layers),
            "params": params,
            "placeholders": [],
            "tensors": tensors_of,
        },
        kind="import",
    )


MAX_FOLDED = 1 << 26  # elements a folded node may read
MAX_ROUNDS = 8  # rounds of shape inference with the constants folded in


def _infer(model, input_name: str, shape: tuple, opset: int):
    """(inferred model, {tensor: full shape}) by onnx.shape_inference; where it leaves a tensor
    without a shape (slice bounds computed from Shape, as exporters write x.size() // 2), the
    constants the graph computes are put in as initializers and inference runs again."""
    from onnx import helper, numpy_helper, shape_inference

    for _ in range(MAX_ROUNDS):
        try:
            inferred = shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
        except Exception as exc:
            raise ImportFailed(f"onnx.shape_inference refuses the model: {exc}") from None
        shapes = {input_name: (1, *shape)}
        for value in list(inferred.graph.value_info) + list(inferred.graph.output):
            dims = _dims(value)
            if dims is not None and all(isinstance(d, int) for d in dims):
                shapes[value.name] = tuple(dims)
        constants = {i.name: numpy_helper.to_array(i) for i in inferred.graph.initializer}
        nodes = list(inferred.graph.node)
        folded = [node for node in nodes if _fold(node, constants, shapes, opset)]
        unknown = [
            o for node in nodes for o in node.output if o and o not in shapes and o not in constants
        ]
        if not unknown or not folded:
            return inferred, shapes
        done = {o for node in folded for o in node.output}
        graph = inferred.graph
        gone = {id(node) for node in folded}
        rest = [node for node in nodes if id(node) not in gone]
        inits = list(graph.initializer) + [
            numpy_helper.from_array(constants[o], o) for o in sorted(done) if o in constants
        ]
        model = helper.make_model(
            helper.make_graph(rest, graph.name, graph.input, graph.output, inits),
            opset_imports=inferred.opset_import,
            ir_version=inferred.ir_version,
        )
    return inferred, shapes


def _fold(node, constants: dict, shapes: dict, opset: int) -> bool:
    """A node computed on the spot: Constant, Shape of a tensor (its shape is known for this
    input, batch included) or any node whose inputs are all constants (shape arithmetic, a
    weight transposed or shared through Identity), evaluated by onnx.reference. False
    otherwise."""
    import numpy

    inputs = [n for n in node.input if n]
    if node.op_type == "Shape" and inputs and inputs[0] in shapes:
        attrs = _attributes(node)
        dims = list(shapes[inputs[0]])[attrs.get("start", 0) : attrs.get("end")]
        constants[node.output[0]] = numpy.asarray(dims, numpy.int64)
        return True
    if (not inputs and node.op_type != "Constant") or any(n not in constants for n in inputs):
        return False
    if node.op_type == "Identity":
        constants[node.output[0]] = constants[inputs[0]]
        return True
    if sum(constants[n].size for n in inputs) > MAX_FOLDED:
        return False
    from onnx.reference import ReferenceEvaluator

    try:
        values = ReferenceEvaluator(node, opsets={"": opset}).run(
            None, {n: constants[n] for n in inputs}
        )
    except Exception as exc:  # the reference evaluator raises many kinds
        raise ImportFailed(
            f"ONNX node {node.name or node.output[0]!r} ({node.op_type}) on "
            f"constants: onnx.reference cannot evaluate it ({type(exc).__name__})"
        ) from None
    for name, value in zip(node.output, values):
        if name:
            constants[name] = numpy.asarray(value)
    return True


def _printable(text: str) -> str:
    """One line of printable text (node names are user data in a comment)."""
    return "".join(c if c.isprintable() else "?" for c in text)[:200]


def _fold_bias(node, view, layers, made, constants) -> int:
    """An Add of a constant vector after a bias-free linear layer (MatMul + Add, as exporters
    write Linear) becomes that layer's bias: the bias's size, else 0."""
    if node.op_type != "Add" or not layers:
        return 0
    tensors = [n for n in node.input if n not in constants]
    consts = [constants[n] for n in node.input if n in constants]
    last = layers[-1]
    if (
        len(tensors) == 1
        and len(consts) == 1
        and made.get(tensors[0]) == last.name
        and last.spec.startswith("linear(")
        and last.spec.endswith("bias=false)")
        and consts[0].ndim
        and consts[0].size == last.shape[-1] == consts[0].shape[-1]
    ):
        last.spec = last.spec.replace("bias=false)", "bias=true)")
        return int(consts[0].size)
    return 0
