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
