"""Pure layer arithmetic along one spatial axis (PyTorch's rules, and TensorFlow's / ONNX's / JAX's
input-dependent `same` padding; see README.md, docs/frameworks.md, `cnnplan solve`).

Every function here is total over positive integers and has no I/O, so the solver, the planner,
the library API, plugins and the tests share them. docs/reference.md lists them, generated from
these docstrings; each example is run as a test.
"""

from __future__ import annotations

import math

MODES = ("exact", "floor")


def effective_kernel(k: int, d: int) -> int:
    """Span of a dilated window: k' = d(k-1) + 1.

    >>> effective_kernel(3, 2)
    5
    """
    return d * (k - 1) + 1


POOLS = ("pool", "maxpool", "avgpool")  # layer names that follow the pooling padding rule


def max_padding(k: int, d: int, layer: str) -> int:
    """Largest padding for which every window still touches the real input.

    Convolution (and transposed convolution): p <= k' - 1. Pooling follows PyTorch's check
    p <= k // 2 (on the kernel size, not the dilated span; torch raises "pad should be at most
    half of effective kernel size").

    >>> max_padding(3, 2, "conv"), max_padding(3, 2, "pool")
    (4, 1)
    """
    if layer in POOLS:
        return k // 2
    return effective_kernel(k, d) - 1


def min_kernel(p: int, d: int, layer: str) -> int:
    """Smallest kernel size k for which padding p and dilation d are valid (the inverse of
    max_padding and dilation_counts): pooling k >= 2p, convolution p <= d(k-1); k >= 2 if d > 1.

    >>> min_kernel(2, 1, "conv"), min_kernel(2, 1, "maxpool"), min_kernel(0, 2, "conv")
    (3, 4, 2)
    """
    lo = 1 if dilation_counts(1, d) else 2
    if layer in POOLS:
        return max(lo, 2 * p)
    return max(lo, -(-p // d) + 1)


def dilation_counts(k: int, d: int) -> bool:
    """With k = 1 dilation has no effect, so a 1-wide window is listed only with d = 1.

    >>> dilation_counts(1, 2), dilation_counts(3, 2)
    (False, True)
    """
    return k != 1 or d == 1


def output_padding_valid(op: int, s: int, d: int) -> bool:
    """Transposed convolution's output padding must be smaller than the stride or the dilation:
    op < max(s, d) (PyTorch).

    >>> output_padding_valid(1, 2, 1), output_padding_valid(2, 2, 1)
    (True, False)
    """
    return op < max(s, d)


def input_fits_kernel(sizes, k: int) -> bool:
    """PyTorch's 3-D average pooling needs every unpadded input size to be at least k.

    >>> input_fits_kernel((4, 5), 3), input_fits_kernel((2, 5), 3)
    (True, False)
    """
    return min(sizes) >= k


def window_valid(layer: str, k: int, s: int, p: int, d: int, op: int = 0) -> bool:
    """Every rule one configuration of a window layer must meet (README.md, `cnnplan solve`):
    k = 1 only with d = 1, the padding rule of `layer` (conv, convT, or a pooling layer), and
    for convT the output-padding rule.

    >>> window_valid("conv", 3, 1, 1, 1), window_valid("maxpool", 3, 1, 2, 1)
    (True, False)
    >>> window_valid("convT", 4, 2, 1, 1, op=2)
    False
    """
    if not dilation_counts(k, d) or p > max_padding(k, d, layer):
        return False
    return layer != "convT" or output_padding_valid(op, s, d)


def conv_output(i: int, k: int, s: int, p: int, d: int, mode: str = "floor") -> int | None:
    """Output size of a convolution or pooling window sweep, or None if it does not apply.

    floor: o = floor((i + 2p - k') / s) + 1 (PyTorch); exact: also requires s | (i + 2p - k').

    >>> conv_output(64, 8, 2, 3, 1), conv_output(64, 8, 3, 3, 1, "exact")
    (32, None)
    """
    span = i + 2 * p - effective_kernel(k, d)
    if span < 0:
        return None
    if mode == "exact" and span % s:
        return None
    return span // s + 1


SAME_RULES = ("same_upper", "same_lower")  # TensorFlow/Keras 'same', ONNX SAME_UPPER/LOWER


def same_output(i: int, s: int) -> int:
    """Output size under TensorFlow's 'same' (ONNX SAME_UPPER / SAME_LOWER): o = ceil(i / s),
    whatever the kernel.

    >>> same_output(224, 2), same_output(7, 3)
    (112, 3)
    """
    return -(-i // s)


def same_pads(i: int, k: int, s: int, d: int, rule: str = "same_upper") -> tuple[int, int]:
    """(before, after) padding of TensorFlow's 'same' rule on an axis of size i: the total
    t = max((o - 1)s + k' - i, 0) with o = ceil(i/s), split floor(t/2) before and the rest
    after (same_upper: TensorFlow, Keras, ONNX SAME_UPPER, JAX 'SAME'); same_lower puts the
    odd row before (ONNX SAME_LOWER, JAX 'SAME_LOWER').

    >>> same_pads(224, 3, 2, 1), same_pads(224, 3, 2, 1, "same_lower"), same_pads(225, 3, 2, 1)
    ((0, 1), (1, 0), (1, 1))
    """
    o = same_output(i, s)
    total = max((o - 1) * s + effective_kernel(k, d) - i, 0)
    small = total // 2
    return (small, total - small) if rule == "same_upper" else (total - small, small)


def window_output(
    i: int, k: int, s: int, before: int, after: int, d: int = 1, ceil: bool = False
) -> int | None:
    """Output size of a window sweep over i rows padded by `before` and `after` (asymmetric
    padding, as ONNX `pads` and JAX pairs give it): floor((i + before + after - k')/s) + 1, or
    with ceil the pooling rule of `pool_output_ceil` (the last window must start before
    i + before). None where no window fits.

    >>> window_output(224, 3, 2, 0, 1), window_output(5, 2, 2, 0, 0, ceil=True)
    (112, 3)
    """
    span = i + before + after - effective_kernel(k, d)
    if not ceil:
        return None if span < 0 else span // s + 1
    o = -(-span // s) + 1
    if o >= 2 and (o - 1) * s >= i + before:
        o -= 1
    return o if o >= 1 else None


def pool_output_ceil(i: int, k: int, s: int, p: int, d: int) -> int | None:
    """Pooling output with ceil_mode=True: o = ceil((i + 2p - k')/s) + 1, minus one if the last
    window would start at or past i + p (it must start inside the input or the left padding).

    As in PyTorch (pooling_output_shape), the span i + 2p - k' may be negative: a single window
    may overhang the padded input by less than s; None when no window fits at all.

    >>> pool_output_ceil(5, 2, 2, 0, 1)  # floor mode would give 2
    3
    """
    span = i + 2 * p - effective_kernel(k, d)
    o = -(-span // s) + 1
    if o >= 2 and (o - 1) * s >= i + p:
        o -= 1
    return o if o >= 1 else None


def unused_rows(i: int, o: int, k: int, s: int, p: int, d: int) -> int:
    """Padded rows after the last of o windows over i + 2p rows: i + 2p - k' - (o-1)s (0 when s
    divides i + 2p - k'; negative when the last window overhangs, as ceil_mode allows).

    >>> unused_rows(64, 32, 3, 2, 1, 1), unused_rows(64, 32, 4, 2, 1, 1)
    (1, 0)
    >>> unused_rows(5, 3, 2, 2, 0, 1)  # ceil_mode: the last window overhangs by one row
    -1
    """
    return i + 2 * p - effective_kernel(k, d) - (o - 1) * s


def transposed_output(i: int, k: int, s: int, p: int, d: int, op: int = 0) -> int | None:
    """Transposed convolution: o = (i-1)s - 2p + d(k-1) + op + 1, with op < max(s, d).

    >>> transposed_output(32, 4, 2, 1, 1)
    64
    """
    if not output_padding_valid(op, s, d):
        return None
    o = (i - 1) * s - 2 * p + d * (k - 1) + op + 1
    return o if o >= 1 else None


def stride_range(
    i: int, o: int, k: int, p: int, d: int, mode: str
) -> tuple[int, int | None] | None:
    """All strides s >= 1 giving output o, as an inclusive range (hi may be None: unbounded).

    Closed form: with n = i + 2p - k', exact needs n = s(o-1) (any s when o = 1 and n = 0);
    floor needs s(o-1) <= n < s*o.

    >>> stride_range(11, 2, 3, 0, 1, "floor"), stride_range(11, 2, 3, 0, 1, "exact")
    ((5, 8), (8, 8))
    """
    n = i + 2 * p - effective_kernel(k, d)
    if n < 0 or o < 1:
        return None
    if o == 1:
        if mode == "exact":
            return (1, None) if n == 0 else None
        return (n + 1, None)
    if mode == "exact":
        if n % (o - 1):
            return None
        s = n // (o - 1)
        return (s, s) if s >= 1 else None
    lo = n // o + 1
    hi = n // (o - 1)
    return (max(lo, 1), hi) if hi >= max(lo, 1) else None


def conv_weights(k: int, spatial_dims: int, c_in: int, c_out: int, groups: int = 1) -> int:
    """Weights of a convolution (no bias): k^n * (C_in / groups) * C_out.

    >>> conv_weights(3, 2, 64, 128), conv_weights(3, 2, 64, 128, groups=64)
    (73728, 1152)
    """
    return k**spatial_dims * (c_in // groups) * c_out


def conv_macs(out_shape, c_in: int, k: int, groups: int = 1) -> int:
    """Multiply-accumulates of a convolution: output elements x (C_in/groups) x k^n.

    >>> conv_macs((64, 32, 32), 3, 8)
    12582912
    """
    return math.prod(out_shape) * (c_in // groups) * k ** (len(out_shape) - 1)


def transposed_macs(in_shape, c_out: int, k: int, groups: int = 1) -> int:
    """Multiply-accumulates of a transposed convolution, counted on the input positions:
    input elements x (C_out/groups) x k^n (each input value is scattered through k^n weights
    into C_out/groups channels).

    >>> transposed_macs((16, 8, 8), 3, 4)
    49152
    """
    return math.prod(in_shape) * (c_out // groups) * k ** (len(in_shape) - 1)


def transposed_padding(i: int, o: int, k: int, s: int, d: int, op: int = 0) -> int | None:
    """The padding p >= 0 for which a transposed convolution maps i onto o, or None.

    >>> transposed_padding(32, 64, 4, 2, 1), transposed_padding(32, 65, 4, 2, 1)
    (1, None)
    """
    twice = (i - 1) * s + d * (k - 1) + op + 1 - o
    if twice < 0 or twice % 2:
        return None
    return twice // 2


def pool_ceil_stride_ranges(i: int, o: int, k: int, p: int, d: int) -> list[tuple[int, int | None]]:
    """Strides s >= 1 for which `pool_output_ceil(i, k, s, p, d) == o`, as inclusive ranges
    (hi None: unbounded). Closed form of PyTorch's ceil_mode rule: with n = i + 2p - k' and
    m = ceil(n/s), the output is m + 1, or m when the last window would start at or past
    i + p (m*s >= i + p); for n < 0 it is 1 when s > -n.

    >>> pool_ceil_stride_ranges(5, 3, 2, 0, 1)
    [(2, 2)]
    """
    n = i + 2 * p - effective_kernel(k, d)
    if o < 1:
        return []
    if n < 0:  # one window overhanging the padded input by less than s
        return [(1 - n, None)] if o == 1 else []
    ranges: list[tuple[int, int | None]] = []
    # not adjusted: o = m + 1 with m*s < i + p
    m = o - 1
    if m == 0:
        if n == 0:
            ranges.append((1, None))
    elif n > 0:
        lo = max(1, -(-n // m))
        hi = (i + p - 1) // m
        if m >= 2:
            hi = min(hi, (n - 1) // (m - 1))
        if hi >= lo:
            ranges.append((lo, hi))
    # adjusted: o = m with m*s >= i + p
    if n > 0:
        lo = max(1, -(-n // o), -(-(i + p) // o))
        top = None if o == 1 else (n - 1) // (o - 1)
        if top is None or top >= lo:
            ranges.append((lo, top))
    return ranges
