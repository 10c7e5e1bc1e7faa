"""Small ONNX models built with onnx.helper for the framework tests (onnxruntime runs them)."""

from __future__ import annotations

import pytest


def onnx_modules():
    """(onnx, onnxruntime, numpy), or skip the test where they are not installed."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import numpy

    return onnx, ort, numpy


def single_op_model(op: str, channels: int, dims: int, weight=None, **attributes):
    """A model with one op (Conv, MaxPool, AveragePool) on a float input N x C x (dynamic
    sizes); `weight` (a numpy array) becomes the Conv's initializer."""
    onnx, _, numpy = onnx_modules()
    from onnx import TensorProto, helper, numpy_helper

    sizes = [f"n{a}" for a in range(dims)]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, *sizes])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    inputs, inits = ["x"], []
    if weight is not None:
        inits.append(numpy_helper.from_array(numpy.asarray(weight, numpy.float32), "w"))
        inputs.append("w")
    node = helper.make_node(op, inputs, ["y"], **attributes)
    graph = helper.make_graph([node], op.lower(), [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def session(model):
    """An onnxruntime (CPU) session for `model`."""
    _, ort, _ = onnx_modules()
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def run(model, *arrays):
    """Run `model` (or a session) on the arrays with onnxruntime; its outputs as a list."""
    found = model if hasattr(model, "get_inputs") else session(model)
    names = [i.name for i in found.get_inputs()]
    return found.run(None, dict(zip(names, arrays)))


def all_outputs(model):
    """A copy of `model` whose every node output is a graph output too (onnxruntime then
    returns each intermediate tensor): (model, names)."""
    onnx, _, _ = onnx_modules()
    from onnx import helper

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    have = {o.name for o in copy.graph.output}
    names = [o for node in copy.graph.node for o in node.output
             if o and o not in have and node.op_type != "Constant"]
    copy.graph.output.extend(helper.make_empty_tensor_value_info(n) for n in names)
    return copy, [o.name for o in copy.graph.output]


def intermediate_shapes(model, x) -> dict:
    """Tensor name -> shape (batch dropped) of every node output, run by onnxruntime."""
    copy, names = all_outputs(model)
    return {name: tuple(value.shape[1:]) for name, value in zip(names, run(copy, x))}


def consumed_initializers(model) -> int:
    """Initializer elements the model's Conv/ConvTranspose/Gemm/MatMul, a MatMul's Add bias,
    BN and LayerNorm scale and shift, and Add/Sub/Mul/Div tensors of more than one element
    read (not BN's running mean and variance, not shape constants or single numbers)."""
    from onnx import numpy_helper

    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:      # exporters share a weight through Identity nodes
        if node.op_type == "Identity" and node.input[0] in inits:
            inits[node.output[0]] = inits[node.input[0]]
    total = 0
    matmuls = {node.output[0] for node in model.graph.node if node.op_type == "MatMul"}
    for node in model.graph.node:
        ins = [n for n in node.input if n in inits]
        if node.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul"):
            total += sum(inits[n].size for n in ins)
        elif node.op_type in ("BatchNormalization", "LayerNormalization"):
            total += sum(inits[n].size for n in list(node.input)[1:3])
        elif node.op_type in ("Add", "Sub", "Mul", "Div"):   # a bias, or a learned tensor
            after_matmul = node.op_type == "Add" and set(node.input) & matmuls
            total += sum(inits[n].size for n in ins if after_matmul or inits[n].size > 1)
    return total


def check_import(model, result, input_shape) -> int:
    """Every layer's shape in the imported plan (an import Result) equals onnxruntime's for
    its node, and the output too: the number of layers."""
    import cnnplan

    _, _, numpy = onnx_modules()
    x = numpy.random.default_rng(1).standard_normal((1, *input_shape)).astype(numpy.float32)
    got = intermediate_shapes(model, x)
    data = cnnplan.shapes(plan_text=result.data["plan"]).data
    for layer in data["layers"]:
        tensor = result.data["tensors"][layer["name"]]
        assert tuple(layer["output"]) == got[tensor], (layer["name"], tensor)
    assert tuple(data["output"]) == tuple(run(model, x)[0].shape[1:])
    return len(data["layers"])
