"""The sliding window itself: exact sums of products over a zero-padded signal.

Integers stay Python integers (no overflow, no rounding); with any float the products are summed
with math.fsum (one rounding per output). The padded signal is never built: positions outside
the signal read as zero.
"""

from __future__ import annotations

import math
from typing import Iterator

from cnnplan import BadInput

from .arrays import Grid, Number
from .padding import Axis

TRIVIAL = Axis(size=1, kernel=1, stride=1, dilation=1, before=0, after=0)


def as_two_axes(axes: tuple[Axis, ...]) -> tuple[Axis, Axis]:
    """(rows, columns): a 1-D problem is one row with a trivial row axis."""
    return (TRIVIAL, axes[0]) if len(axes) == 1 else (axes[0], axes[1])


def is_exact(*grids: Grid) -> bool:
    """True when every value is an integer, so sums stay integers."""
    return all(type(v) is int for g in grids for row in g.rows for v in row)


def total(products: list[Number], exact: bool) -> Number:
    """The sum of products: exact for integers, math.fsum (correctly rounded) for floats;
    BadInput when a float product or sum passes float64's range (about 1.8e308)."""
    if exact:
        return sum(products)
    try:
        value = math.fsum(products)
    except (OverflowError, ValueError):  # fsum's intermediate overflow, or inf - inf
        value = math.inf
    if not math.isfinite(value):
        raise BadInput("the values are too large: a sum of products passes float64's range "
                       "(about 1.8e308); scale the signal or the kernel down")
    return value + 0.0  # + 0.0 turns -0.0 into 0.0


def taps(signal: Grid, kernel: Grid, axes: tuple[Axis, ...], r: int, c: int
         ) -> Iterator[tuple[tuple[int, int], Number, Number]]:
    """For output (r, c): each kernel tap's signal position, signal value (0 in padding), weight.

    `kernel` is used as given (pass kernel.flipped() for a convolution).
    """
    ra, ca = as_two_axes(axes)
    height, width = len(signal.rows), len(signal.rows[0])
    for a, weights in enumerate(kernel.rows):
        y = r * ra.stride + a * ra.dilation - ra.before
        row = signal.rows[y] if 0 <= y < height else None
        for b, weight in enumerate(weights):
            x = c * ca.stride + b * ca.dilation - ca.before
            value = row[x] if row is not None and 0 <= x < width else 0
            yield (y, x), value, weight


def slide(signal: Grid, kernel: Grid, axes: tuple[Axis, ...] | None):
    """Output of sliding `kernel` (as given) over `signal` padded per `axes`.

    A list for 1-D, a list of rows for 2-D; [] when `axes` is None (the mode has no output).
    """
    if axes is None:
        return []
    ra, ca = as_two_axes(axes)
    exact = is_exact(signal, kernel)
    height, width = len(signal.rows), len(signal.rows[0])
    out = []
    for r in range(ra.output):
        line = []
        for c in range(ca.output):
            products = []
            for a, weights in enumerate(kernel.rows):
                y = r * ra.stride + a * ra.dilation - ra.before
                if not 0 <= y < height:
                    continue
                row = signal.rows[y]
                x0 = c * ca.stride - ca.before
                for b, weight in enumerate(weights):
                    x = x0 + b * ca.dilation
                    if 0 <= x < width:
                        products.append(row[x] * weight)
            line.append(total(products, exact))
        out.append(line)
    return out[0] if len(axes) == 1 else out


def work(kernel: Grid, axes: tuple[Axis, ...] | None) -> int:
    """Multiplications `slide` performs at most: outputs x kernel taps."""
    if axes is None:
        return 0
    outputs = 1
    for a in axes:
        outputs *= a.output
    return outputs * kernel.size
