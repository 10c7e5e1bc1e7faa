"""ONNX in and out (`cnnplan import MODEL.onnx`, `--format onnx`): onnxruntime runs every
imported and exported model and every intermediate output shape must equal cnnplan's; the
imported parameters equal the consumed initializers, counted here from the model itself."""

from __future__ import annotations

import os
import sys
import types

import pytest
from onnx_support import check_import, consumed_initializers, intermediate_shapes, onnx_modules, run

import cnnplan
from cnnplan import BadInput

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _import(tmp_path, model, shape=None, name="m.onnx"):
    import onnx

    path = tmp_path / name
    onnx.save(model, str(path))
    from cnnplan.importers.onnx.model import import_onnx

    return path, import_onnx(str(path), shape)


def run_output(model, x):
    from onnx_support import run

    return run(model, x)[0]


# -- hand-built models, one op or attribute each ---------------------------------------------

def _model(nodes, inits, input_dims, output="y", opset=17):
    _, _, numpy = onnx_modules()
    from onnx import TensorProto, helper, numpy_helper

    rng = numpy.random.default_rng(0)
    tensors = [numpy_helper.from_array(
        (rng.standard_normal(shape) if not isinstance(shape, numpy.ndarray) else shape)
        .astype(numpy.float32 if not isinstance(shape, numpy.ndarray) else shape.dtype), name)
        for name, shape in inits.items()]
    graph = helper.make_graph(
        [helper.make_node(op, ins, outs, name=name, **attrs)
         for name, op, ins, outs, attrs in nodes], "hand",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_dims)],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)], tensors)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8 if opset < 19 else 9
    return model


def _i64(values):
    import numpy

    return numpy.asarray(values, numpy.int64)


def _f32(values):
    import numpy

    return numpy.asarray(values, numpy.float32)


HAND = {
    "conv groups dilation pads": ([("c", "Conv", ["x", "w", "b"], ["y"],
                                   {"kernel_shape": [3, 3], "strides": [2, 1],
                                    "dilations": [2, 1], "group": 2,
                                    "pads": [1, 0, 2, 1]})],
                                  {"w": (4, 2, 3, 3), "b": (4,)}),
    "conv auto_pad same_upper": ([("c", "Conv", ["x", "w"], ["y"],
                                   {"kernel_shape": [3, 3], "strides": [2, 2],
                                    "auto_pad": "SAME_UPPER"})], {"w": (4, 4, 3, 3)}),
    "conv auto_pad same_lower": ([("c", "Conv", ["x", "w"], ["y"],
                                   {"kernel_shape": [4, 4], "strides": [3, 3],
                                    "auto_pad": "SAME_LOWER"})], {"w": (4, 4, 4, 4)}),
    "conv auto_pad valid": ([("c", "Conv", ["x", "w"], ["y"],
                              {"kernel_shape": [3, 3], "auto_pad": "VALID"})],
                            {"w": (2, 4, 3, 3)}),
    "convT output_padding": ([("t", "ConvTranspose", ["x", "w", "b"], ["y"],
                               {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1],
                                "output_padding": [1, 1]})], {"w": (4, 3, 3, 3), "b": (3,)}),
    "convT output_shape": ([("t", "ConvTranspose", ["x", "w"], ["y"],
                             {"kernel_shape": [4, 4], "strides": [2, 2],
                              "output_shape": [18, 20]})], {"w": (4, 2, 4, 4)}),
    "convT auto_pad": ([("t", "ConvTranspose", ["x", "w"], ["y"],
                         {"kernel_shape": [4, 4], "strides": [2, 2],
                          "auto_pad": "SAME_UPPER"})], {"w": (4, 2, 4, 4)}),
    "maxpool ceil pads": ([("p", "MaxPool", ["x"], ["y"],
                            {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1],
                             "ceil_mode": 1})], {}),
    "maxpool same_upper dilation-free": ([("p", "MaxPool", ["x"], ["y"],
                                           {"kernel_shape": [3, 2], "strides": [2, 2],
                                            "auto_pad": "SAME_UPPER"})], {}),
    "avgpool count_include_pad asymmetric": ([("p", "AveragePool", ["x"], ["y"],
                                               {"kernel_shape": [2, 2], "strides": [2, 2],
                                                "pads": [0, 1, 1, 0], "count_include_pad": 1})],
                                             {}),
    "global pools, flatten, gemm": ([("g", "GlobalAveragePool", ["x"], ["g"], {}),
                                     ("f", "Flatten", ["g"], ["f"], {}),
                                     ("l", "Gemm", ["f", "w", "b"], ["y"], {"transB": 1})],
                                    {"w": (5, 4), "b": (5,)}),
    "globalmax, reshape, matmul + add": ([("g", "GlobalMaxPool", ["x"], ["g"], {}),
                                          ("r", "Reshape", ["g", "shape"], ["r"], {}),
                                          ("m", "MatMul", ["r", "w"], ["m"], {}),
                                          ("a", "Add", ["m", "b"], ["y"], {})],
                                         {"shape": _i64([1, -1]), "w": (4, 6), "b": (6,)}),
    "bn relu clip sigmoid hard*": ([("bn", "BatchNormalization", ["x", "s", "b", "m", "v"],
                                     ["bn"], {}),
                                    ("r", "Relu", ["bn"], ["r"], {}),
                                    ("c", "Clip", ["r", "lo", "hi"], ["c"], {}),
                                    ("s1", "Sigmoid", ["c"], ["s1"], {}),
                                    ("hs", "HardSigmoid", ["s1"], ["hs"], {}),
                                    ("hw", "HardSwish", ["hs"], ["hw"], {}),
                                    ("d", "Dropout", ["hw"], ["d"], {}),
                                    ("i", "Identity", ["d"], ["y"], {})],
                                   {"s": (4,), "b": (4,), "m": (4,), "v": _f32([1] * 4),
                                    "lo": _f32(0), "hi": _f32(6)}),
    "mul add concat softmax": ([("a", "Conv", ["x", "w"], ["a"], {"kernel_shape": [1, 1]}),
                                ("m", "Mul", ["a", "x"], ["m"], {}),
                                ("s", "Add", ["m", "x"], ["s"], {}),
                                ("c", "Concat", ["s", "x"], ["c"], {"axis": 1}),
                                ("sm", "Softmax", ["c"], ["y"], {"axis": 1})],
                               {"w": (4, 4, 1, 1)}),
    "resize nearest, pad": ([("r", "Resize", ["x", "", "scales"], ["r"], {"mode": "nearest"}),
                             ("p", "Pad", ["r", "pads"], ["y"], {})],
                            {"scales": _f32([1, 1, 2, 2]), "pads": _i64([0, 0, 1, 0, 0, 0, 2, 3])}),
    "resize linear sizes, reducemean": ([("r", "Resize", ["x", "", "", "sizes"], ["r"],
                                          {"mode": "linear"}),
                                         ("m", "ReduceMean", ["r"], ["y"],
                                          {"axes": [2, 3], "keepdims": 1})],
                                        {"sizes": _i64([1, 4, 15, 21])}),
    # layouts (docs/layouts.md): 4x9x11 -> 9x11x4 -> 99x4 -> 4x99 -> 2x2x99 ...
    "transpose, reshape, softmax axis": ([("t", "Transpose", ["x"], ["t"], {"perm": [0, 2, 3, 1]}),
                                          ("r", "Reshape", ["t", "s1"], ["r"], {}),
                                          ("t2", "Transpose", ["r"], ["t2"], {"perm": [0, 2, 1]}),
                                          ("r2", "Reshape", ["t2", "s2"], ["r2"], {}),
                                          ("sm", "Softmax", ["r2"], ["y"], {"axis": -1})],
                                         {"s1": _i64([0, -1, 4]), "s2": _i64([1, 2, 2, 99])}),
    "unsqueeze, squeeze, concat axis, identity transpose": (
        [("u", "Unsqueeze", ["x", "ax"], ["u"], {}),
         ("c", "Concat", ["u", "u"], ["c"], {"axis": 2}),
         ("t", "Transpose", ["c"], ["t"], {"perm": [0, 1, 2, 3, 4]}),
         ("sq", "Squeeze", ["t", "ax2"], ["y"], {})],
        {"ax": _i64([-1]), "ax2": _i64([-1])}),
    "tokens: matmul + add on the last axis, matmul of two tensors": (
        [("r", "Reshape", ["x", "s"], ["r"], {}),
         ("t", "Transpose", ["r"], ["t"], {"perm": [0, 2, 1]}),
         ("q", "MatMul", ["t", "w"], ["q"], {}),
         ("qb", "Add", ["q", "b"], ["qb"], {}),
         ("k", "Transpose", ["qb"], ["k"], {"perm": [0, 2, 1]}),
         ("y", "MatMul", ["qb", "k"], ["y"], {})],
        {"s": _i64([1, 4, -1]), "w": (4, 6), "b": (6,)}),
    "slice from Shape arithmetic, split, concat of three": (
        [("sh", "Shape", ["x"], ["sh"], {}),
         ("g", "Gather", ["sh", "one"], ["g"], {"axis": 0}),
         ("h", "Div", ["g", "two"], ["h"], {}),
         ("hu", "Unsqueeze", ["h", "zero"], ["hu"], {}),
         ("sl", "Slice", ["x", "hu", "big", "one1"], ["sl"], {}),
         ("sp", "Split", ["x", "parts"], ["s0", "s1"], {"axis": 1}),
         ("c", "Concat", ["s1", "sl", "s0"], ["y"], {"axis": 1})],
        {"one": _i64(1), "two": _i64(2), "zero": _i64([0]), "big": _i64([1 << 40]),
         "one1": _i64([1]), "parts": _i64([1, 3])}),
    "slice of a spatial axis, negative start": (
        [("sl", "Slice", ["x", "st", "en", "ax"], ["y"], {})],
        {"st": _i64([-5]), "en": _i64([-1]), "ax": _i64([-1])}),
    "layernorm, constants: scale, shift, layer scale; elementwise": (
        [("ln", "LayerNormalization", ["x", "g", "b"], ["ln"], {"axis": -2}),
         ("m", "Mul", ["ln", "gamma"], ["m"], {}),
         ("a", "Add", ["half", "m"], ["a"], {}),
         ("d", "Div", ["a", "half"], ["d"], {}),
         ("s", "Sub", ["half", "d"], ["s"], {}),
         ("e", "Erf", ["s"], ["e"], {}),
         ("hs", "HardSigmoid", ["e"], ["hs"], {}),
         ("lr", "LeakyRelu", ["hs"], ["lr"], {}),
         ("sh", "Add", ["lr", "row"], ["y"], {})],
        {"g": (9, 11), "b": (9, 11), "gamma": (4, 1, 1), "half": _f32(0.5), "row": (1, 11)}),
    "pad with -inf then maxpool, reflect pad, cast": (
        [("c", "Cast", ["x"], ["c"], {"to": 1}),
         ("p", "Pad", ["c", "pads", "ninf"], ["p"], {}),
         ("m", "MaxPool", ["p"], ["m"], {"kernel_shape": [3, 3], "strides": [2, 2]}),
         ("r", "Pad", ["m", "pads"], ["y"], {"mode": "reflect"})],
        {"pads": _i64([0, 0, 1, 0, 0, 0, 1, 1]), "ninf": _f32(float("-inf"))}),
    "reductions over axes, sub and div of tensors": (
        [("m", "ReduceMean", ["x"], ["m"], {"axes": [1], "keepdims": 1}),
         ("d", "Sub", ["x", "m"], ["d"], {}),
         ("n", "ReduceL2", ["d"], ["n"], {"axes": [-1], "keepdims": 1}),
         ("q", "Div", ["d", "n"], ["q"], {}),
         ("g", "ReduceMean", ["q"], ["g"], {"axes": [2, 3], "keepdims": 0}),
         ("y", "ReduceSum", ["q", "ax"], ["y"], {"keepdims": 0})],
        {"ax": _i64([1, 3])}),
}


@pytest.mark.parametrize("case", sorted(HAND) + ["gelu (opset 20)"])
def test_hand_built_models(tmp_path, case):
    if case.startswith("gelu"):
        model = _model([("g", "Gelu", ["x"], ["y"], {})], {}, [1, 4, 9, 11], opset=20)
    else:
        model = _model(*HAND[case], [1, 4, 9, 11])
    _, result = _import(tmp_path, model)
    assert check_import(model, result, (4, 9, 11)) == result.data["layers"]
    assert result.data["params"] == consumed_initializers(model)


def test_slice_reads_where_onnxruntime_reads(tmp_path):
    """narrow's start (which moves the receptive field) is the one onnxruntime's values come
    from, for negative and clamped bounds."""
    import re

    _, _, numpy = onnx_modules()
    x = numpy.random.default_rng(3).standard_normal((1, 4, 9, 11)).astype(numpy.float32)
    for starts, ends, axis in [([-5], [-1], -1), ([-100], [3], 2), ([1], [1 << 40], 1)]:
        nodes = [("sl", "Slice", ["x", "st", "en", "ax"], ["y"], {})]
        model = _model(nodes, {"st": _i64(starts), "en": _i64(ends), "ax": _i64([axis])},
                       [1, 4, 9, 11])
        _, result = _import(tmp_path, model)
        dim, start, length = map(int, re.search(r"narrow\(dim=(\d+), start=(\d+), "
                                                r"length=(\d+)\)", result.data["plan"]).groups())
        want = numpy.take(x, range(start, start + length), axis=dim + 1)
        assert numpy.array_equal(run_output(model, x), want), (starts, ends, axis)


def test_dynamic_dimensions_take_in(tmp_path, cnnplan_cmd):
    nodes, inits = HAND["conv auto_pad same_upper"]
    model = _model(nodes, inits, ["N", 4, "H", "W"])
    path, _ = _import(tmp_path, model, "4x17x30")
    done = cnnplan_cmd("import", str(path))
    assert done.returncode == 2 and "dynamic dimensions; give --in SHAPE" in done.stderr
    done = cnnplan_cmd("import", str(path), "--in", "4x17x30", "-o", str(tmp_path / "m.toml"))
    assert done.returncode == 0, done.stderr
    data = cnnplan.shapes(plan_file=str(tmp_path / "m.toml")).data
    assert data["output"] == [4, 9, 15]
    done = cnnplan_cmd("import", str(path), "--in", "5x17x30")
    assert done.returncode == 2 and "fixed at 4" in done.stderr


@pytest.mark.parametrize("nodes, inits, message", [
    ([("t", "Cos", ["x"], ["y"], {})], {}, "no cnnplan layer kind"),
    ([("t", "Transpose", ["x"], ["y"], {"perm": [1, 0, 2, 3]})], {}, "moves the batch axis"),
    ([("t", "Transpose", ["x"], ["y"], {})], {}, "moves the batch axis"),
    ([("r", "Reshape", ["x", "s"], ["y"], {})], {"s": _i64([-1, 99])}, "not the batch (1)"),
    ([("r", "Reshape", ["x", "s"], ["y"], {})], {"s": _i64([2, 2, 99])}, "not the batch (1)"),
    ([("u", "Unsqueeze", ["x", "a"], ["y"], {})], {"a": _i64([0])}, "on the batch axis"),
    ([("c", "Concat", ["x", "x"], ["y"], {"axis": 0})], {}, "axis 0 is the batch"),
    ([("m", "MatMul", ["x", "w"], ["y"], {})], {"w": (4, 11, 3)}, "two tensors of the same"),
    ([("m", "Add", ["x", "c"], ["y"], {})], {"c": (2, 1, 1, 1)}, "broadcasts the input"),
    ([("m", "Mul", ["x", "c"], ["y"], {})], {"c": (5, 1, 1, 1, 1)}, "broadcasts the input"),
    ([("m", "Div", ["c", "x"], ["y"], {})], {"c": (1,)}, "divides by a layer's output"),
    ([("r", "ReduceSum", ["x", "a"], ["y"], {})], {"a": _i64([0, 1])}, "axis 0 is the batch"),
    ([("s", "Slice", ["x", "a", "b", "c", "d"], ["y"], {})],
     {"a": _i64([0]), "b": _i64([9]), "c": _i64([2]), "d": _i64([2])}, "step 2"),
    ([("s", "Slice", ["x", "a", "b", "c"], ["y"], {})],
     {"a": _i64([1, 1]), "b": _i64([3, 3]), "c": _i64([2, 3])}, "a slice of 2 axes"),
    ([("t", "ConvTranspose", ["x", "w"], ["y"], {"kernel_shape": [3, 3],
                                                 "pads": [0, 0, 1, 1]})],
     {"w": (4, 2, 3, 3)}, "this needs op = -1"),
])
def test_unmappable_nodes_write_nothing(tmp_path, cnnplan_cmd, nodes, inits, message):
    import onnx

    path = tmp_path / "bad.onnx"
    onnx.save(_model(nodes, inits, [1, 4, 9, 11]), str(path))
    out = tmp_path / "bad.toml"
    done = cnnplan_cmd("import", str(path), "-o", str(out))
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


CONVT = {   # attributes of a ConvTranspose (k = 3 unless given) on 1x4x5x6
    "asymmetric pads": {"strides": [2, 2], "pads": [1, 1, 0, 1]},
    "asymmetric pads, output_padding": {"strides": [2, 3], "pads": [1, 2, 0, 1],
                                        "output_padding": [0, 1]},
    "dilation, pads": {"strides": [1, 2], "dilations": [2, 1], "pads": [2, 1, 1, 1]},
    "same_upper, even totals": {"kernel_shape": [4, 4], "strides": [2, 2],
                                "auto_pad": "SAME_UPPER"},
    "same_lower, odd totals": {"strides": [2, 2], "auto_pad": "SAME_LOWER"},
    "output_shape, output_padding": {"strides": [3, 2], "output_shape": [13, 12],
                                     "output_padding": [1, 1]},
    "output_shape, odd totals": {"strides": [2, 2], "output_shape": [10, 11]},
}


def _convt_args(spec: str) -> dict:
    """k, s, p, d, op of a convT spec (numbers or per-axis tuples) as pairs."""
    import re

    out = {}
    for key in ("k", "s", "p", "d", "op"):
        value = re.search(rf"\b{key}=(\(\d+, \d+\)|\d+)", spec).group(1)
        numbers = [int(v) for v in re.findall(r"\d+", value)]
        out[key] = tuple(numbers) if len(numbers) == 2 else (numbers[0],) * 2
    return out


@pytest.mark.parametrize("case", sorted(CONVT))
def test_conv_transpose_pads_are_exact(torch, tmp_path, case):
    """onnxruntime's values equal PyTorch's transposed convolution with the k, s, p, d, op
    cnnplan imported (so the crop is where ONNX puts it, not only the size)."""
    _, _, numpy = onnx_modules()
    rng = numpy.random.default_rng(2)
    attrs = {"kernel_shape": [3, 3], **CONVT[case]}
    w = rng.standard_normal((4, 3, *attrs["kernel_shape"])).astype(numpy.float32)
    nodes = [("t", "ConvTranspose", ["x", "w"], ["y"], attrs)]
    model = _model(nodes, {"w": w}, [1, 4, 5, 6])
    _, result = _import(tmp_path, model)
    spec = cnnplan.shapes(plan_text=result.data["plan"]).data["layers"][0]["spec"]
    args = _convt_args(spec)
    x = rng.standard_normal((1, 4, 5, 6)).astype(numpy.float32)
    want = run_output(model, x)
    got = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(x), torch.from_numpy(w), stride=args["s"], padding=args["p"],
        output_padding=args["op"], dilation=args["d"]).numpy()
    assert got.shape == want.shape and numpy.allclose(got, want, atol=1e-4), spec


@pytest.mark.parametrize("attrs, message", [
    ({"strides": [2, 2], "pads": [0, 0, 2, 0]}, "this needs op = -2"),   # crops more after
    ({"strides": [2, 2], "pads": [2, 0, 0, 0]}, "this needs op = 2"),    # op' = 2 = s
    ({"strides": [2, 2], "auto_pad": "SAME_UPPER"}, "this needs op = -1"),  # t = 1: (0, 1)
    ({"strides": [4, 4], "auto_pad": "SAME_UPPER"}, "negative padding"),  # k' < s
    ({"strides": [3, 2], "auto_pad": "SAME_LOWER", "output_padding": [1, 1]},
     "onnx.shape_inference adds the output padding"),    # 16x13 there, 15x12 in onnxruntime
])
def test_conv_transpose_pads_it_cannot_express(tmp_path, attrs, message):
    from cnnplan.importers.plan import ImportFailed

    nodes = [("t", "ConvTranspose", ["x", "w"], ["y"], {"kernel_shape": [3, 3], **attrs})]
    with pytest.raises(ImportFailed, match=message):
        _import(tmp_path, _model(nodes, {"w": (4, 2, 3, 3)}, [1, 4, 5, 6]))


def test_not_an_onnx_file(tmp_path, cnnplan_cmd):
    path = tmp_path / "x.onnx"
    path.write_bytes(b"\x00garbage")
    done = cnnplan_cmd("import", str(path))
    assert done.returncode == 2 and "is not an ONNX model" in done.stderr


# -- torchvision models exported by torch.onnx.export ----------------------------------------

def _torchvision():
    sys.modules.setdefault("torchvision._meta_registrations",
                           types.ModuleType("torchvision._meta_registrations"))
    return pytest.importorskip("torchvision")


TORCHVISION = [("squeezenet1_1", 96), ("mobilenet_v3_small", 64)]
if os.environ.get("CNNPLAN_ONNX_MODELS", "") not in ("", "0"):   # about 2 minutes more
    TORCHVISION += [("resnet18", 224), ("mobilenet_v2", 224), ("vgg11", 224),
                    ("densenet121", 64), ("efficientnet_b0", 64), ("shufflenet_v2_x0_5", 64),
                    ("convnext_tiny", 64)]


@pytest.mark.parametrize("name, size", TORCHVISION)
def test_torchvision_exports(torch, tmp_path, name, size):
    tv = _torchvision()
    model = getattr(tv.models, name)(num_classes=10).eval()
    path = tmp_path / f"{name}.onnx"
    torch.onnx.export(model, torch.zeros(1, 3, size, size), str(path), dynamo=False,
                      opset_version=17)
    import onnx

    from cnnplan.importers.onnx.model import import_onnx

    result = import_onnx(str(path))
    onnx_model = onnx.load(str(path))
    assert check_import(onnx_model, result, (3, size, size)) >= 10
    assert result.data["output"] == [10]
    assert result.data["params"] == consumed_initializers(onnx_model)
    if name == "squeezenet1_1":    # no batch norm for the exporter to fold: torch's own count
        assert result.data["params"] == sum(p.numel() for p in model.parameters())


# -- --format onnx ---------------------------------------------------------------------------

EXPORTS = [
    ("3x32x32", "conv(8, k=3, s=2, p=same_upper); bn; relu6; maxpool(k=3, s=2, "
                "p=((0, 1), (1, 0))); avgpool(k=2, ceil=true); flatten; linear(10)"),
    ("3x33x30", "conv(8, k=(3, 5), s=(2, 1), d=2, p=same_lower); silu; avgpool(k=3, s=2, p=1, "
                "count_pad=false); convT(4, k=4, s=2, p=1, op=1); sigmoid; tanh; hardswish; "
                "upsample(2); pixelshuffle(2); pad(p=(1, 2, 0, 3)); softmax"),
    ("3x16x16", "a: conv(8, k=3, p=1); b: conv(8, k=1, from=input); c: add(a, b); d: mul(c, a); "
                "e: concat(d, input); f: adaptiveavgpool(1); g: mean(keepdim=true, from=e); "
                "h: layernorm(dims=3, from=e); dropout; identity"),
    ("2x20", "conv(4, k=3, s=2, p=same_upper); maxpool(k=2, s=1, p=((1, 0))); "
             "adaptivemaxpool(5); flatten; linear(5, bias=false)"),
]


@pytest.mark.parametrize("shape, text", EXPORTS)
def test_exported_models_run_with_cnnplans_shapes(shape, text):
    _, _, numpy = onnx_modules()
    result = cnnplan.shapes(shape, [text])
    blob = cnnplan.render(result, "onnx")
    import onnx

    model = onnx.load_from_string(blob)
    dims = tuple(int(v) for v in shape.split("x"))
    got = intermediate_shapes(model, numpy.zeros((1, *dims), numpy.float32))
    last = result.data.get("output_layer", result.data["layers"][-1]["name"])
    for layer in result.data["layers"]:
        tensor = "output" if layer["name"] == last else f"layer.{layer['name']}"
        assert got[tensor] == tuple(layer["output"]), layer["spec"]
    assert got["output"] == tuple(result.data["output"])


def test_export_through_the_command_then_import_back(tmp_path):
    """The installed command writes the binary model to stdout; imported back, it gives the
    same shapes and parameters."""
    import shutil
    import subprocess

    path = tmp_path / "net.onnx"
    exe = shutil.which("cnnplan") or os.path.join(os.path.dirname(sys.executable), "cnnplan")
    with open(path, "wb") as out:
        done = subprocess.run([exe, "shapes", "--in", "3x40x40", EXPORTS[0][1], "--format",
                               "onnx"], stdout=out, stderr=subprocess.PIPE, timeout=120)
    assert done.returncode == 0, done.stderr
    from cnnplan.importers.onnx.model import import_onnx

    back = import_onnx(str(path))
    again = cnnplan.shapes(plan_text=back.data["plan"]).data
    first = cnnplan.shapes("3x40x40", [EXPORTS[0][1]]).data
    assert [layer["output"] for layer in again["layers"]] == [
        layer["output"] for layer in first["layers"]]
    assert again["params"] == first["params"]


def test_plan_exports_its_first_chain():
    import onnx

    result = cnnplan.plan("3x32x32", ["conv(8, k=3, p=same_upper) -> 8x16x16"],
                          max="k=3,d=1")
    model = onnx.load_from_string(cnnplan.render(result, "onnx"))
    _, _, numpy = onnx_modules()
    got = intermediate_shapes(model, numpy.zeros((1, 3, 32, 32), numpy.float32))
    assert got["output"] == (8, 16, 16)


def test_unexportable_kinds_are_refused(cnnplan_cmd):
    result = cnnplan.shapes("3x16x16", ["a: conv(4, k=3); concat(input, a, crop=true)"])
    with pytest.raises(BadInput, match="no operator for concat with crop=true"):
        cnnplan.render(result, "onnx")
    done = cnnplan_cmd("shapes", "--in", "3x10x10", "adaptiveavgpool(3)", "--format", "onnx")
    assert done.returncode == 2 and "uneven adaptive pooling has no ONNX operator" in done.stderr


def test_export_of_computed_kernels_and_padding_modes():
    """A gain conv exports its gain as a parameter of its own (Mul on the kernel), a fixed
    kernel as a Constant (no parameter), so the initializers the layers read equal cnnplan's
    params; reflect and replicate padding write Pad's reflect and edge modes, which give
    numpy.pad's values; circular (opset 19's wrap) is refused in one line."""
    import onnx

    _, _, numpy = onnx_modules()
    text = ("conv(8, k=3, gain=true); pad(p=1, mode=reflect); "
            "conv(8, k=3, groups=8, fixed=true, bias=false); pad(p=(1, 1, 2, 2), mode=replicate)")
    result = cnnplan.shapes("3x16x16", [text])
    model = onnx.load_from_string(cnnplan.render(result, "onnx"))
    got = intermediate_shapes(model, numpy.zeros((1, 3, 16, 16), numpy.float32))
    assert [got[f"layer.{n}"] for n in ("1", "2", "3")] + [got["output"]] == [
        tuple(layer["output"]) for layer in result.data["layers"]]
    assert consumed_initializers(model) == result.data["params"] == 8 * 27 + 8 + 8
    x = numpy.random.default_rng(1).standard_normal((1, 2, 5, 6)).astype(numpy.float32)
    for mode, numpy_mode in (("reflect", "reflect"), ("replicate", "edge")):
        padded = cnnplan.shapes("2x5x6", [f"pad(p=(1, 2, 3, 1), mode={mode})"])
        (y,) = run(onnx.load_from_string(cnnplan.render(padded, "onnx")), x)
        expected = numpy.pad(x, ((0, 0), (0, 0), (3, 1), (1, 2)), mode=numpy_mode)
        assert numpy.array_equal(y, expected), mode
    circular = cnnplan.shapes("2x5x6", ["pad(p=1, mode=circular)"])
    with pytest.raises(BadInput, match="no circular mode"):
        cnnplan.render(circular, "onnx")
