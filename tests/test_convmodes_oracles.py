"""The convmodes plugin against oracles no one here wrote: numpy, scipy.signal and PyTorch.

Property tests draw small integer arrays (so comparisons are exact), even and odd kernels,
kernels longer than the signal and length-1 inputs; the stated padding and output length must
also agree with the core's arithmetic and with `cnnplan.solve`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal as sps

import cnnplan
from cnnplan.kinds.arithmetic import conv_output, effective_kernel
from cnnplan_convmodes.padding import MODES, plan_mode, solve_arguments
from cnnplan_convmodes.solver import conv
from cnnplan_convmodes.steps import MAX_STEPS

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
values = st.integers(-20, 20)


def vectors(max_size=9):
    return st.lists(values, min_size=1, max_size=max_size)


def matrices(max_side=5):
    return st.tuples(st.integers(1, max_side), st.integers(1, max_side)).flatmap(
        lambda shape: st.lists(st.lists(values, min_size=shape[1], max_size=shape[1]),
                               min_size=shape[0], max_size=shape[0]))


def result(x, w, **options):
    return conv(x, w, **options).data


# ---------------------------------------------------------------- 1-D: numpy

@SETTINGS
@given(vectors(), vectors())
def test_1d_convolution_matches_numpy_convolve(x, w):
    data = result(x, w)
    for mode in MODES:
        assert data[mode] == np.convolve(x, w, mode).tolist(), mode


@SETTINGS
@given(vectors(), vectors())
def test_1d_correlation_matches_numpy_correlate(x, w):
    data = result(x, w, correlate=True)
    for mode in MODES:
        assert data[mode] == np.correlate(x, w, mode).tolist(), mode


@SETTINGS
@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=9),
       st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=9), st.booleans())
def test_1d_floats_match_numpy(x, w, correlate):
    data = result(x, w, correlate=correlate)
    oracle = np.correlate if correlate else np.convolve
    for mode in MODES:
        assert np.allclose(data[mode], oracle(x, w, mode), rtol=1e-12, atol=1e-9), mode
        assert all(type(v) is float for v in data[mode])


def test_integers_stay_integers_beyond_int64():
    big = 2**62
    data = result([big, big], [4, 4])
    assert data["full"] == [4 * big, 8 * big, 4 * big]
    assert all(type(v) is int for v in data["full"])


# ---------------------------------------------------------------- 2-D: scipy

@SETTINGS
@given(matrices(), matrices())
def test_2d_convolution_matches_scipy_convolve2d(x, w):
    data = result(x, w)
    for mode in MODES:
        try:
            expected = sps.convolve2d(x, w, mode).tolist()
        except ValueError:  # 'valid' when neither array fits inside the other
            assert mode == "valid"
            expected = []
        assert data[mode] == expected, mode


@SETTINGS
@given(matrices(), matrices())
def test_2d_correlation_numpy_convention_matches_scipy_correlate(x, w):
    data = result(x, w, correlate=True)
    for mode in MODES:
        try:
            expected = sps.correlate(np.array(x), np.array(w), mode, method="direct").tolist()
        except ValueError:
            assert mode == "valid"
            expected = []
        assert data[mode] == expected, mode


@SETTINGS
@given(matrices(), matrices())
def test_2d_correlation_torch_convention_matches_scipy_correlate2d(x, w):
    """scipy.signal.correlate2d centres 'same' like PyTorch, one off from scipy.signal.correlate."""
    data = result(x, w, correlate=True, same="torch", mode="same")
    assert data["same"] == sps.correlate2d(x, w, "same").tolist()


def test_scipy_correlate_and_correlate2d_differ_by_one_for_even_kernels():
    x, w = [[1, 2, 3, 4]], [[1, 2]]
    numpy_same = result(x, w, correlate=True, mode="same")["same"]
    torch_same = result(x, w, correlate=True, mode="same", same="torch")["same"]
    assert numpy_same == sps.correlate(x, w, "same").tolist() == [[2, 5, 8, 11]]
    assert torch_same == sps.correlate2d(x, w, "same").tolist() == [[5, 8, 11, 4]]


# ---------------------------------------------------------------- PyTorch

def _torch_1d(torch, x, w, **kwargs):
    F = torch.nn.functional
    t = F.conv1d(torch.tensor([[x]], dtype=torch.float64), torch.tensor([[w]], dtype=torch.float64),
                 **kwargs)
    return [int(round(v)) for v in t[0, 0].tolist()]


def _torch_2d(torch, x, w, **kwargs):
    F = torch.nn.functional
    t = F.conv2d(torch.tensor([[x]], dtype=torch.float64), torch.tensor([[w]], dtype=torch.float64),
                 **kwargs)
    return [[int(round(v)) for v in row] for row in t[0, 0].tolist()]


@pytest.mark.oracle
@SETTINGS
@given(vectors(), vectors(6), st.integers(1, 3), st.booleans())
def test_1d_torch_convention_matches_torch_padding_same(torch, x, w, dilation, correlate):
    if not correlate:
        dilation = 1  # --dilation belongs to cross-correlation
    data = result(x, w, mode="same", same="torch", correlate=correlate, dilation=dilation)
    kernel = w if correlate else w[::-1]  # torch does not flip: flip it for a convolution
    assert data["same"] == _torch_1d(torch, x, kernel, padding="same", dilation=dilation)


@pytest.mark.oracle
@SETTINGS
@given(matrices(), matrices(4), st.integers(1, 2), st.booleans())
def test_2d_torch_convention_matches_torch_padding_same(torch, x, w, dilation, correlate):
    if not correlate:
        dilation = 1
    data = result(x, w, mode="same", same="torch", correlate=correlate, dilation=dilation)
    kernel = w if correlate else [row[::-1] for row in w[::-1]]
    assert data["same"] == _torch_2d(torch, x, kernel, padding="same", dilation=dilation)


@pytest.mark.oracle
@SETTINGS
@given(vectors(12), vectors(5), st.integers(1, 4), st.integers(1, 3))
def test_1d_full_and_valid_with_stride_and_dilation_match_torch(torch, x, w, stride, dilation):
    data = result(x, w, correlate=True, stride=stride, dilation=dilation)
    span = effective_kernel(len(w), dilation)
    assert data["full"] == _torch_1d(torch, x, w, stride=stride, dilation=dilation,
                                     padding=span - 1)
    if span <= len(x):
        assert data["valid"] == _torch_1d(torch, x, w, stride=stride, dilation=dilation)
    elif stride > 1 or dilation > 1:
        assert data["valid"] == []  # PyTorch refuses: the kernel does not fit


@pytest.mark.oracle
@SETTINGS
@given(matrices(6), matrices(3), st.integers(1, 3), st.integers(1, 2))
def test_2d_full_and_valid_with_stride_and_dilation_match_torch(torch, x, w, stride, dilation):
    data = result(x, w, correlate=True, stride=stride, dilation=dilation)
    spans = [effective_kernel(n, dilation) for n in (len(w), len(w[0]))]
    assert data["full"] == _torch_2d(torch, x, w, stride=stride, dilation=dilation,
                                     padding=(spans[0] - 1, spans[1] - 1))
    if spans[0] <= len(x) and spans[1] <= len(x[0]):
        assert data["valid"] == _torch_2d(torch, x, w, stride=stride, dilation=dilation)


@pytest.mark.oracle
@SETTINGS
@given(vectors(12), vectors(5), st.integers(2, 4), st.integers(1, 3))
def test_strided_same_torch_follows_tensorflow_rule(torch, x, w, stride, dilation):
    """PyTorch refuses padding='same' with a stride; TensorFlow's documented rule pads
    max((ceil(i/s)-1)s + k' - i, 0) zeros, the larger half after."""
    data = result(x, w, correlate=True, mode="same", same="torch", stride=stride,
                  dilation=dilation)
    n = len(x)
    span = effective_kernel(len(w), dilation)
    pad = max((math.ceil(n / stride) - 1) * stride + span - n, 0)
    padded = [0] * (pad // 2) + x + [0] * (pad - pad // 2)
    expected = _torch_1d(torch, padded, w, stride=stride, dilation=dilation)
    assert data["same"] == expected
    assert len(expected) == math.ceil(n / stride)


@SETTINGS
@given(vectors(12), vectors(5), st.integers(1, 4), st.integers(1, 3))
def test_strided_same_numpy_is_every_sth_output_of_numpy_correlate(x, w, stride, dilation):
    span = effective_kernel(len(w), dilation)
    if span > len(x):
        return  # numpy's swap applies only to the plain form
    dilated = [0] * span
    dilated[::dilation] = w
    data = result(x, w, correlate=True, mode="same", stride=stride, dilation=dilation)
    assert data["same"] == np.correlate(x, dilated, "same")[::stride].tolist()


# ---------------------------------------------------------------- the core's terms

@SETTINGS
@given(st.lists(st.integers(1, 7), min_size=1, max_size=2).flatmap(
           lambda shape: st.tuples(st.just(tuple(shape)),
                                   st.lists(st.integers(1, 7), min_size=len(shape),
                                            max_size=len(shape)).map(tuple))),
       st.sampled_from(MODES), st.sampled_from(("numpy", "torch")), st.booleans(),
       st.integers(1, 3), st.integers(1, 3))
def test_padding_and_size_agree_with_the_core(shapes, mode, convention, correlate, stride,
                                              dilation):
    signal_shape, kernel_shape = shapes
    if not correlate:
        stride = dilation = 1
    axes = plan_mode(mode, signal_shape, kernel_shape, correlate=correlate,
                     convention=convention, stride=stride, dilation=dilation)
    x = np.arange(1, math.prod(signal_shape) + 1).reshape(signal_shape).tolist()
    w = np.ones(kernel_shape, dtype=int).tolist()
    data = result(x, w, mode=mode, same=convention, correlate=correlate, stride=stride,
                  dilation=dilation)
    if axes is None:
        assert data[mode] == []
        return
    plain = stride == dilation == 1
    for a, i, k in zip(axes, signal_shape, kernel_shape):
        span = effective_kernel(k, dilation)
        assert a.output == conv_output(i + a.extra, k, stride, a.padding, dilation)
        assert a.padding <= span - 1  # every window touches the signal (DESIGN.md)
        if mode == "full":
            assert (a.before, a.after) == (span - 1, span - 1)
        elif mode == "valid":
            assert (a.before, a.after) == ((0, 0) if span <= i else (k - i, k - i))
        elif stride == 1 and not (convention == "numpy" and plain and len(signal_shape) == 1
                                  and k > i):
            assert a.before + a.after == span - 1
            low, high = sorted((a.before, a.after))
            assert (low, high) == ((span - 1) // 2, span // 2)
            assert a.before >= a.after if convention == "numpy" else a.before <= a.after
    shape = [a.output for a in axes]
    computed = np.array(data[mode]).shape
    assert list(computed) == shape
    for label, arguments in solve_arguments(axes):
        found = cnnplan.solve(arguments["input"], arguments["output"], fix=arguments["fix"],
                              mode=arguments["mode"])
        assert found.data["count"] == 1, (label, arguments)
        solution = found.data["solutions"][0]
        assert solution["output"][1:] == [int(n) for n in arguments["output"].split("x")[1:]]


@SETTINGS
@given(st.one_of(st.tuples(vectors(), vectors()), st.tuples(matrices(), matrices(3))),
       st.booleans(), st.sampled_from(("numpy", "torch")))
def test_steps_sum_to_the_outputs(arrays, correlate, convention):
    x, w = arrays
    found = conv(x, w, correlate=correlate, same=convention, steps=True)
    for mode in MODES:
        tables = [t for t in found.tables if t.title.startswith(f"{mode}, step by step")]
        flat = found.data[mode]
        if flat and isinstance(flat[0], list):
            flat = [v for row in flat for v in row]
        if not flat:
            assert not tables
            continue
        sums = [row[-1] for row in tables[0].rows]
        assert sums == flat[:len(sums)]
        assert len(sums) == len(flat) or 0 < len(sums) <= MAX_STEPS
