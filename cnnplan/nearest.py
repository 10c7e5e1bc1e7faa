"""The reachable outputs nearest to an unreachable one, for `solve` and `plan`."""

from __future__ import annotations

import itertools
import time

from .arithmetic import conv_output, max_padding
from .search import Geometry, count

NEAREST_SECONDS = 2.0


def nearest_outputs(geometry, shape_in, shape_out, domains, conditions) -> list[dict]:
    """The reachable outputs nearest to the asked one, for the same fixes, bounds and --where.

    Each distinct (input, output) axis is searched on its own for its nearest reachable sizes
    below and above; their combinations are then checked jointly. Bounded by NEAREST_SECONDS.
    """
    deadline = time.monotonic() + NEAREST_SECONDS

    def counter(inputs, outputs):
        return count(Geometry(geometry.layer, geometry.mode, inputs, outputs), domains,
                     conditions)

    found = nearest_reachable(geometry.inputs, geometry.outputs, counter, deadline)
    if not found:
        found = _scan_outputs(geometry, domains, conditions, deadline)
        found.sort()
    return [{"output": [shape_out[0], *outs], "count": n} for _, outs, n in found[:3]]


def nearest_reachable(inputs, outputs, counter, deadline) -> list[tuple]:
    """Reachable output sizes near `outputs`, as sorted (distance, sizes, count) triples.

    `counter(inputs, outputs)` gives the number of configurations mapping the spatial sizes
    `inputs` onto `outputs` (0 when unreachable); used by `solve` and by the chain planner.
    """
    inputs, outputs = tuple(inputs), tuple(outputs)
    pairs = sorted(set(zip(inputs, outputs)))
    options = [_axis_nearest(counter, i, o, deadline) for i, o in pairs]
    found = []
    for choice in itertools.product(*options):
        sizes = dict(zip(pairs, choice))
        outs = tuple(sizes[(i, o)] for i, o in zip(inputs, outputs))
        if outs == outputs:
            continue
        n = counter(inputs, outs)
        if n:
            distance = sum(abs(a - b) for a, b in zip(outs, outputs))
            found.append((distance, outs, n))
    found.sort()
    return found


def _scan_outputs(geometry, domains, conditions, deadline) -> list[tuple]:
    """Fallback: walk the bounded grid (until the deadline) and tally the outputs it reaches."""
    tally: dict[tuple, int] = {}
    names = ("k", "s", "p", "d")
    for n, (k, s, p, d) in enumerate(itertools.product(*(domains[v] for v in names))):
        if n % 4096 == 0 and time.monotonic() > deadline:
            break
        if (k == 1 and d != 1) or p > max_padding(k, d, geometry.layer):
            continue
        outs = tuple(conv_output(i, k, s, p, d, geometry.mode) for i in geometry.inputs)
        if None in outs or not all(c(dict(zip(names, (k, s, p, d)))) for c in conditions):
            continue
        tally[outs] = tally.get(outs, 0) + 1
    return [(sum(abs(a - b) for a, b in zip(outs, geometry.outputs)), outs, n)
            for outs, n in tally.items()]


def _axis_nearest(counter, i, o, deadline) -> list[int]:
    """Sizes reachable from i along one axis: o itself if it is, and the nearest below and above."""
    def reachable(size):
        return counter((i,), (size,))

    near = [o] if reachable(o) else []
    limit = max(4 * i, 2 * o, 16)
    for direction in (-1, 1):
        size = o + direction
        while 1 <= size <= o + limit and time.monotonic() < deadline:
            if reachable(size):
                near.append(size)
                break
            size += direction
    return near
