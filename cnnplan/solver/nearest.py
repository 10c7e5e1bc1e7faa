"""The reachable outputs nearest to an unreachable target: one search for `solve` and `plan`.

Definition (README, docs/networks.md): the distance from an output to the target is the sum of
the absolute differences of their spatial sizes (of their one size when both are flat); the
channels must agree. The nearest outputs are every output the layer reaches within its bounds,
fixes and conditions at the smallest distance from the target, each with its number of
configurations (in `plan`, added up over every input shape the earlier layers reach), listed
most configurations first, then by size.

How: a window sweep's output sizes depend only on a short key and the stride s: c = 2p - k'
for convolution and floor/exact pooling, e = k' - 1 - 2p (and whether d > op) for transposed
convolution, (c, p) for ceil-mode pooling. The keys the bounds allow, and how many (k, p, d)
give each, are collected without visiting the (k, s, p, d) grid; every (key, s) is evaluated at
once with numpy (vectorised forms of arithmetic.conv_output, transposed_output and
pool_output_ceil), which gives every reachable output with its number of configurations. They
are taken in order of distance; with --where (which the keys do not see) each candidate is
counted again by the layer's own enumerator, until one distance has an output with a
configuration. Bounded by NEAREST_SECONDS and by CANDIDATES outputs; if either cuts the search
short, the answer says so (`complete` is False).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..kinds.arithmetic import (
    POOLS,
    dilation_counts,
    effective_kernel,
    input_fits_kernel,
    max_padding,
    output_padding_valid,
)
from .search import Geometry, count

NEAREST_SECONDS = 2.0  # of processor time: answers do not depend on the machine's load
CANDIDATES = 4096  # distinct candidate outputs kept (those nearest the target)
CHUNK = 1 << 19  # (key, s) cells evaluated at once
CUT_SHORT = (
    f"the search for nearby outputs was cut short (after {NEAREST_SECONDS:g} s of "
    f"processor time or {CANDIDATES} candidates); nearer ones may exist"
)


def clock() -> float:
    """The time the budget counts: this process's processor time."""
    return time.process_time()


def deadline() -> float:
    return clock() + NEAREST_SECONDS


@dataclass(frozen=True)
class Sweep:
    """What decides a window layer's output sizes."""

    layer: str = "conv"  # conv | convT | pool (or maxpool, avgpool): the padding rule
    mode: str = "floor"  # floor | exact
    ceil: bool = False  # ceil-mode pooling
    op: int = 0  # transposed convolution's output padding
    input_ge_k: bool = False  # 3-D average pooling: every input size must be >= k


@dataclass(frozen=True)
class Nearest:
    """The nearest reachable outputs: ((shape, configurations), ...), all at `distance`."""

    outputs: tuple = ()
    distance: int | None = None
    complete: bool = True  # False: the time or candidate limit cut the search short

    def as_data(self) -> list[dict]:
        return [{"output": list(v), "count": n} for v, n in self.outputs]

    def notes(self, where: str, noun: str, shown: int = 10) -> list[str]:
        """The note lines that report the search: 'nearest reachable outputs{where} (distance
        D): SHAPE (N {noun}s), ...' (the first `shown`), or that none is reachable."""
        from ..kinds.shape import format_shape

        notes = []
        if self.outputs:
            listed = ", ".join(
                f"{format_shape(v)} ({n} {noun}{'s' if n != 1 else ''})"
                for v, n in self.outputs[:shown]
            )
            more = len(self.outputs) - shown
            if more > 0:
                listed += f" and {more} more at the same distance (--format json lists all)"
            notes.append(f"nearest reachable outputs{where} (distance {self.distance}): {listed}")
        elif self.complete:
            notes.append(f"no output at all is reachable{where}")
        if not self.complete:
            notes.append(CUT_SHORT)
        return notes


def distance(shape, target) -> int | None:
    """Sum of the absolute differences of the spatial sizes (of the one size of flat shapes);
    None when the number of axes or the channels differ."""
    if len(shape) != len(target):
        return None
    if len(shape) == 1:
        return abs(shape[0] - target[0])
    if shape[0] != target[0]:
        return None
    return sum(abs(a - b) for a, b in zip(shape[1:], target[1:]))


@dataclass
class Candidates:
    """Outputs (with the input u they come from) nearest a target, complete up to `cut`."""

    target: tuple
    items: list = field(default_factory=list)  # (distance, u, v, configurations)
    cut: int | None = None  # every candidate at distance <= cut is here
    truncated: bool = False  # the deadline stopped the collection

    def add(self, u, v, n: int = 1):
        """A candidate output shape v from input u, by n configurations."""
        dist = distance(v, self.target)
        if dist is not None and (self.cut is None or dist <= self.cut):
            self.items.append((dist, tuple(u), tuple(v), n))
            self._trim()

    def add_sweep(self, sweep: Sweep, u, channels: int, domains: dict, until: float):
        """Every output the sweep can give input shape u within `domains`, with its number of
        configurations (--where aside)."""
        import numpy as np

        if channels != self.target[0] or len(u) != len(self.target):
            return
        sizes = tuple(u[1:])
        target = np.array(self.target[1:], dtype=np.int64)
        for rows, weights in _sweep_rows(sweep, sizes, domains):
            if clock() > until:
                self.truncated = True
                return
            rows, inverse = np.unique(rows, axis=0, return_inverse=True)
            counts = np.bincount(inverse.reshape(-1), weights=weights).astype(np.int64)
            dist = np.abs(rows - target).sum(axis=1)
            keep = np.ones(len(dist), dtype=bool)
            if self.cut is not None:
                keep &= dist <= self.cut
            if keep.sum() > CANDIDATES:
                kth = int(np.partition(dist[keep], CANDIDATES - 1)[CANDIDATES - 1])
                self.cut = kth if self.cut is None else min(self.cut, kth)
                keep &= dist <= kth
            self.items.extend(
                (n, tuple(u), (channels, *row), c)
                for n, row, c in zip(
                    dist[keep].tolist(), rows[keep].tolist(), counts[keep].tolist()
                )
            )
            self._trim()

    def _trim(self):
        if len(self.items) > 2 * CANDIDATES:
            self.items.sort()
            kth = self.items[CANDIDATES - 1][0]
            self.cut = kth if self.cut is None else min(self.cut, kth)
            self.items = [item for item in self.items if item[0] <= self.cut]

    def nearest(self, counter, until: float) -> Nearest:
        """The candidates in order of distance until one distance has reachable outputs; with
        `counter(u, v)` (when --where filters) each is counted again, exactly."""
        items = sorted(self.items)
        complete = not self.truncated
        at = 0
        while at < len(items):
            level = items[at][0]
            tally: dict = {}
            while at < len(items) and items[at][0] == level:
                if clock() > until:
                    return _ranked(tally, level, False)
                _, u, v, n = items[at]
                if counter is not None:
                    n = counter(u, v)
                if n:
                    tally[v] = tally.get(v, 0) + n
                at += 1
            if tally:
                return _ranked(tally, level, complete)
        return Nearest(complete=complete and self.cut is None)


def _ranked(tally: dict, level: int, complete: bool) -> Nearest:
    outputs = tuple(sorted(tally.items(), key=lambda item: (-item[1], item[0])))
    return Nearest(outputs, level if outputs else None, complete)


def nearest_outputs(geometry: Geometry, shape_in, shape_out, domains, conditions) -> Nearest:
    """`solve`'s nearest reachable outputs for the same layer, mode, fixes, bounds and --where."""
    until = deadline()
    found = Candidates(tuple(shape_out))
    found.add_sweep(
        Sweep(geometry.layer, geometry.mode), tuple(shape_in), shape_out[0], domains, until
    )

    def counter(u, v):
        return count(Geometry(geometry.layer, geometry.mode, u[1:], v[1:]), domains, conditions)

    return found.nearest(counter if conditions else None, until)


# -- the outputs of a sweep, by key and stride ---------------------------------------------------


def _sweep_rows(sweep: Sweep, sizes: tuple, domains: dict):
    """(rows, weights) numpy arrays: the output sizes of every axis, and how many valid
    configurations give them, covering every valid configuration."""
    import numpy as np

    if sweep.layer == "convT":
        (keys, mult), s_cap = _transposed_keys(sweep, domains), None
    elif sweep.ceil:
        keys, mult = _ceil_keys(sweep, sizes, domains)
        if len(keys):  # beyond s_cap every output is 1
            lowest = min(sizes) + int(keys[:, 0].min())  # the most negative i + 2p - k'
            s_cap = max(max(sizes) + 2 * domains["p"][-1], -lowest) + 1
    else:
        keys, mult = _window_keys(sweep, sizes, domains)
        s_cap = max(sizes) + 2 * domains["p"][-1] + 1  # beyond it every output is 1 (or none)
    if not len(keys):
        return
    strides = np.array(domains["s"], dtype=np.int64)
    per_stride = np.ones(len(strides), dtype=np.int64)
    if s_cap is not None and strides[-1] > s_cap:  # strides beyond s_cap all act as s_cap + 1
        beyond = strides > s_cap
        kept = strides[~beyond]
        strides = np.append(kept, max(s_cap + 1, strides[0]))
        per_stride = np.append(np.ones(len(kept), dtype=np.int64), beyond.sum())
    step = max(1, CHUNK // len(strides))
    s = strides[None, :]
    distinct = sorted(set(sizes))
    for start in range(0, len(keys), step):
        key = keys[start : start + step]
        weight = mult[start : start + step][:, None] * per_stride[None, :]
        outs, ok = {}, np.ones((len(key), len(strides)), dtype=bool)
        for i in distinct:
            if sweep.layer == "convT":  # o = (i-1)s + e + op + 1, op < max(s, d)
                e, big_d = key[:, :1], key[:, 1:2].astype(bool)
                o = (i - 1) * s + e + sweep.op + 1
                ok &= (o >= 1) & (big_d | np.vectorize(output_padding_valid)(sweep.op, s, 1))
            elif sweep.ceil:  # o = ceil(n/s) + 1, less one if the last window starts
                n, p = i + key[:, :1], key[:, 1:2]  # at or past i + p
                o = -(-n // s) + 1
                o = o - ((o >= 2) & ((o - 1) * s >= i + p))
                ok &= o >= 1
                if sweep.mode == "exact":
                    ok &= n % s == 0
            else:  # o = floor(n/s) + 1 with n = i + 2p - k' >= 0
                n = i + key[:, :1]
                o = n // s + 1
                if sweep.mode == "exact":
                    ok &= n % s == 0
            outs[i] = o
        yield np.stack([outs[i][ok] for i in sizes], axis=1), weight[ok]


def _dilated_kernels(sweep: Sweep, sizes, domains):
    """(d, valid (k, k') pairs in increasing k) per dilation: k = 1 only with d = 1, and for
    3-D average pooling only kernels the input fits."""
    for d in domains["d"]:
        yield d, _valid_kernels(sweep, sizes, domains["k"], d)


def _valid_kernels(sweep: Sweep, sizes, kernels, d):
    for k in kernels:
        if sweep.input_ge_k and not input_fits_kernel(sizes, k):
            return
        if dilation_counts(k, d):
            yield k, effective_kernel(k, d)


def _window_keys(sweep: Sweep, sizes, domains):
    """The values of c = 2p - k' that valid configurations give, with i + c >= 0 on every axis
    (one column), and how many (k, p, d) give each."""
    import numpy as np

    m = min(sizes)
    p_lo, p_hi = domains["p"][0], domains["p"][-1]
    # c >= -m (the window meets the input) and c >= -k' (p >= 0): an array as long as the
    # bounds, not the input (a 10^9 input must not cost 8 GB)
    base = min(m, effective_kernel(domains["k"][-1], domains["d"][-1]))
    seen = np.zeros(2 * p_hi + base + 1, dtype=np.int64)  # at c + base for c in [-base, 2 p_hi]
    for d, kernels in _dilated_kernels(sweep, sizes, domains):
        for k, ke in kernels:
            lo = max(p_lo, -(-(ke - m) // 2))  # i + 2p - k' >= 0 on every axis
            if lo > p_hi:
                break  # k' only grows with k
            top = min(p_hi, max_padding(k, d, sweep.layer))
            if lo <= top:
                seen[2 * lo - ke + base : 2 * top - ke + base + 1 : 2] += 1
    where = np.nonzero(seen)[0]
    return (where - base)[:, None], seen[where]


def _transposed_keys(sweep: Sweep, domains):
    """(e, d > op) for e = k' - 1 - 2p over valid configurations (two columns), and how many
    (k, p, d) give each."""
    import numpy as np

    p_lo, p_hi = domains["p"][0], domains["p"][-1]
    ke_top = effective_kernel(domains["k"][-1], domains["d"][-1])
    seen = np.zeros((2, 2 * ke_top + 1), dtype=np.int64)  # [d > op][e + ke_top]
    for d in domains["d"]:
        big = int(d > sweep.op)
        for k in domains["k"]:
            if not dilation_counts(k, d):
                continue
            ke = effective_kernel(k, d)
            top = min(p_hi, max_padding(k, d, "convT"))
            if p_lo <= top:
                lo_e, hi_e = ke - 1 - 2 * top, ke - 1 - 2 * p_lo
                seen[big, lo_e + ke_top : hi_e + ke_top + 1 : 2] += 1
    rows, e = np.nonzero(seen)
    return np.stack([e - ke_top, rows], axis=1), seen[rows, e]


def _ceil_keys(sweep: Sweep, sizes, domains):
    """(c, p) for c = 2p - k' over valid ceil-mode pooling configurations whose window can
    still meet the input (i + c >= 1 - s on every axis; two columns), and how many (k, d)
    give each."""
    import numpy as np

    m, s_hi = min(sizes), domains["s"][-1]
    p_lo, p_hi = domains["p"][0], domains["p"][-1]
    found: dict = {}
    for d, kernels in _dilated_kernels(sweep, sizes, domains):
        for k, ke in kernels:
            lo = max(p_lo, -(-(ke + 1 - s_hi - m) // 2))
            if lo > p_hi:
                break
            for p in range(lo, min(p_hi, max_padding(k, d, POOLS[0])) + 1):
                found[2 * p - ke, p] = found.get((2 * p - ke, p), 0) + 1
    keys = sorted(found)
    return (
        np.array(keys, dtype=np.int64).reshape(-1, 2),
        np.array([found[key] for key in keys], dtype=np.int64),
    )
