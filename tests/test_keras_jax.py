"""TensorFlow-style padding against JAX and Keras 3 themselves, where they are installed (they
are not cnnplan dependencies: `pip install keras==3.15.1 jax==0.10.2`; .ci/run installs them,
and like every oracle test these fail CI when they skip). docs/frameworks.md gives the runs.

  JAX    lax.padtype_to_pads (the padding conv_general_dilated and reduce_window use) and the
         output size of conv_general_dilated, for 'SAME' and 'SAME_LOWER';
  Keras  Conv1D / MaxPooling1D / AveragePooling1D with padding="same" on the active backend
         (KERAS_BACKEND): output size, compute_output_shape, and where output 0 reads
         (a one-hot kernel or max pooling on an increasing input tells the padding before);
  ONNX   a channels-first Keras model exported by model.export(format="onnx") (the torch
         backend) imports, and onnxruntime and Keras agree with cnnplan layer by layer.
"""

from __future__ import annotations

import functools
import itertools
import os

import pytest

import cnnplan

os.environ.setdefault("KERAS_BACKEND", "torch")     # Keras reads it when first imported


def _layer(i: int, spec: str) -> tuple:
    layer = cnnplan.shapes(f"1x{i}", [spec]).data["layers"][0]
    return layer["output"][-1], layer["eff_padding"]


@pytest.mark.oracle
def test_jax_same_rules():
    jax = pytest.importorskip("jax")
    from jax import lax

    def tensor(*shape):
        return jax.ShapeDtypeStruct(shape, "float32")

    for i, k, s, d in itertools.product(range(1, 11), range(1, 5), range(1, 4), (1, 2)):
        ke = d * (k - 1) + 1
        for word, rule in (("SAME", "same_upper"), ("SAME_LOWER", "same_lower")):
            ((before, _),) = lax.padtype_to_pads((i,), (ke,), (s,), word)
            conv = functools.partial(lax.conv_general_dilated, window_strides=(s,),
                                     padding=word, rhs_dilation=(d,))
            size = jax.eval_shape(conv, tensor(1, 1, i), tensor(1, 1, k)).shape[-1]
            assert _layer(i, f"conv(1, k={k}, s={s}, d={d}, p={rule})") == (size, before), \
                (word, i, k, s, d)


def _keras():
    keras = pytest.importorskip("keras")
    import numpy
    return keras, numpy


@pytest.mark.oracle
def test_keras_same_padding():
    keras, numpy = _keras()
    for i, k, s, d in itertools.product(range(2, 8), range(1, 5), range(1, 4), (1, 2)):
        if s > 1 and d > 1:
            continue            # Keras refuses strides > 1 with dilation > 1
        x = (numpy.arange(i, dtype=numpy.float32) + 1).reshape(1, i, 1)
        conv = keras.layers.Conv1D(1, k, strides=s, dilation_rate=d, padding="same",
                                   use_bias=False)
        conv.build((1, i, 1))
        w = numpy.zeros((k, 1, 1), numpy.float32)
        w[-1] = 1                               # output 0 reads its last tap only
        conv.set_weights([w])
        y = keras.ops.convert_to_numpy(conv(x))[0, :, 0]
        size, before = _layer(i, f"conv(1, k={k}, s={s}, d={d}, p=same_upper)")
        assert y.shape[0] == conv.compute_output_shape((1, i, 1))[1] == size
        if y[0]:                                # the last tap is inside the input
            assert (k - 1) * d - (int(y[0]) - 1) == before, (i, k, s, d)
        for cls, kind in ((keras.layers.MaxPooling1D, "maxpool"),
                          (keras.layers.AveragePooling1D, "avgpool")):
            if d > 1:
                continue
            pool = cls(k, strides=s, padding="same")
            y = keras.ops.convert_to_numpy(pool(x))[0, :, 0]
            size, before = _layer(i, f"{kind}(k={k}, s={s}, p=same_upper)")
            assert y.shape[0] == pool.compute_output_shape((1, i, 1))[1] == size
            if kind == "maxpool" and int(y[0]) < i:  # the largest value read: the last one
                assert (k - 1) - (int(y[0]) - 1) == before, (i, k, s)


@pytest.mark.oracle
def test_keras_model_exported_to_onnx(tmp_path):
    keras, numpy = _keras()
    if keras.backend.backend() != "torch":
        pytest.skip("model.export(format='onnx') without TensorFlow needs the torch backend")
    import onnx
    from onnx_support import check_import

    from cnnplan.importers.onnx.model import import_onnx

    layers, old = keras.layers, keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        inputs = keras.Input((3, 33, 30))
        chain = [layers.Conv2D(8, 3, strides=2, padding="same"),
                 layers.BatchNormalization(axis=1), layers.ReLU(6.0),
                 layers.DepthwiseConv2D(3, strides=2, padding="same"),
                 layers.MaxPooling2D(3, strides=2, padding="same"),
                 layers.AveragePooling2D(2), layers.ZeroPadding2D(((0, 1), (1, 0))),
                 layers.Conv2D(4, 2), layers.GlobalAveragePooling2D(), layers.Dense(10)]
        x = inputs
        for layer in chain:
            x = layer(x)
        model = keras.Model(inputs, x)
        model(numpy.zeros((1, 3, 33, 30), numpy.float32))
        path = str(tmp_path / "keras.onnx")
        model.export(path, format="onnx", verbose=False)
    finally:
        keras.config.set_image_data_format(old)
    result = import_onnx(path)
    check_import(onnx.load(path), result, (3, 33, 30))
    data = cnnplan.shapes(plan_text=result.data["plan"]).data
    windows = [tuple(layer["output"]) for layer in data["layers"]
               if layer["kind"] in ("conv", "maxpool", "avgpool", "linear")]
    keras_shapes = [tuple(layer.output.shape[1:]) for layer in chain
                    if isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D,
                                          layers.MaxPooling2D, layers.AveragePooling2D,
                                          layers.Dense))]
    assert windows == keras_shapes
    assert tuple(data["output"]) == (10,)
