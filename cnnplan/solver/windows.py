"""The configurations (k, s, p, d) of one window layer in a chain, grouped for the planner.

A window layer is a convolution, a transposed convolution or a pooling layer whose k, s, p, d
are each fixed by its spec or free within bounds (as in `cnnplan solve`: the default bound of a
free value is the layer's largest input size, capped at 256; `--max` overrides it; `--where`
filters). Two ways to list what the layer can do from an input shape `u`:

- templates (free outputs): every valid configuration within the bounds, grouped once by what
  decides the output size (2p - k' and s for conv/pool, k'-1-2p and s for convT, k', p, s for
  ceil-mode pooling). A group maps any input to one output, so a state costs one evaluation
  per group, not per configuration. Needs small bounds (at most TEMPLATE_LIMIT combinations).
- pinned (a target output): the closed-form enumeration of `cnnplan solve` (`search.solutions`
  on a `Geometry`) for conv and floor/exact pooling, and closed forms for ceil-mode pooling and
  transposed convolutions; its cost follows the number of solutions, so default bounds work.

Domains are contiguous ranges of values, or one fixed value (`bounds.make_domains`), which the
closed forms rely on.

Each transition is a `Transition` (v, b, alpha, ranked): the output shape v, the
configurations `ranked` as `Ranked` (w, simple, (k, s, p, d)) sorted by w then simplicity
(d, p, k, s), and the affine cost map the ranking uses: cost(u) = alpha * w + b * cost(v).
Configurations of one group share s, so for `--rank rf` (extent E_u = k'-1 + s E_v; for convT
(k'-1 + E_v)/s) b is one number.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import NamedTuple

from ..kinds.arithmetic import (
    SAME_RULES,
    dilation_counts,
    effective_kernel,
    input_fits_kernel,
    max_padding,
    min_kernel,
    pool_ceil_stride_ranges,
    pool_output_ceil,
    transposed_output,
    transposed_padding,
    window_valid,
)
from ..kinds.shape import format_shape, size_of
from ..language.specs import WINDOW_VARS, LayerSpec
from ..platform.errors import BadInput
from .bounds import MAX_SOLUTIONS, make_domains, resolve_bounds
from .nearest import Sweep
from .search import Geometry, WorkBudget, solutions

CONVT_K_COST = 30  # work units of one kernel size tried for a transposed layer (measured)

TEMPLATE_LIMIT = 200_000  # k x s x p x d combinations a free-output layer may enumerate
RANKS = ("params", "macs", "rf")


class Transition(NamedTuple):
    """Input u -> output v with the configurations `ranked`; cost(u) = alpha * w + b * cost(v)."""

    output: tuple
    b: int | Fraction
    alpha: int | Fraction
    ranked: list


class Ranked(NamedTuple):
    """One configuration with its own cost w and its simplicity key (d, p, k, s)."""

    w: int | Fraction
    simple: tuple
    cfg: tuple | None


class WindowGroup(NamedTuple):
    """Conv and floor/exact pooling configurations with one output rule:
    o = (i + shift) // s + 1 with shift = 2p - k' (exact mode: s divides i + shift)."""

    shift: int
    s: int
    k: int = 0  # 3-D average pooling only: the input must be >= k (0: no such rule)

    def output(self, i: int, layer) -> int | None:
        n = i + self.shift
        if n < 0 or (layer.mode == "exact" and n % self.s):
            return None
        if not input_fits_kernel((i,), self.k):
            return None
        return n // self.s + 1


class TransposedGroup(NamedTuple):
    """Transposed convolutions with one output rule: o = (i-1)s + shift + op + 1 with
    shift = k' - 1 - 2p."""

    shift: int
    s: int

    def output(self, i: int, layer) -> int | None:
        o = (i - 1) * self.s + self.shift + layer.op + 1
        return o if o >= 1 else None


class CeilGroup(NamedTuple):
    """Ceil-mode pooling configurations with one window span k', padding p and stride s."""

    span: int
    p: int
    s: int

    def output(self, i: int, layer) -> int | None:
        if layer.input_ge_k and not input_fits_kernel((i,), self.span):  # avgpool: k' = k
            return None
        if layer.mode == "exact" and (i + 2 * self.p - self.span) % self.s:
            return None  # rows unused (or an overhang): not exact
        return pool_output_ceil(i, self.span, self.s, self.p, 1)  # a span k' is k=k', d=1


class SameGroup(NamedTuple):
    """TensorFlow's / ONNX's same padding (p=same_upper or same_lower): o = ceil(i/s), any
    k and d."""

    s: int

    def output(self, i: int, layer) -> int | None:
        if layer.mode == "exact" and i % self.s:
            return None  # the last window reads padding the others do not: not exact
        return -(-i // self.s)


def simple_key(cfg) -> tuple:
    k, s, p, d = cfg
    return (d, p, k, s)


class WindowLayer:
    """One window layer of a plan (a kind with a cnnplan.kinds.Window: conv, convT, maxpool,
    avgpool or a plugin's), with its free variables."""

    def __init__(
        self,
        index: int,
        spec: LayerSpec,
        c_in: int,
        c_out: int,
        dims: int,
        target,
        conditions,
        mode: str,
        maxima: dict,
        rank: str,
        shared=None,
    ):
        self.index, self.spec, self.kind = index, spec, spec.kind
        self.c_in, self.c_out, self.dims = c_in, c_out, dims
        self.target, self.conditions, self.mode = target, tuple(conditions), mode
        self.maxima, self.rank = maxima, rank
        self.window = window = spec.record.window
        self.fixed = {name: spec.get(name) for name in WINDOW_VARS if spec.has(name)}
        self.fixed.update(window.fixed)
        self.groups = spec.get("groups", 1)
        self.bias = spec.get("bias", True)
        self.op = spec.get("op", 0)
        self.ceil = window.ceil and spec.get("ceil", False)
        self.rule = "convT" if window.rule == "convT" else "ceil" if self.ceil else "window"
        if self.fixed.get("p") in SAME_RULES:
            if self.rule != "window":
                raise BadInput(
                    f"layer {index} {spec.describe()}: p={self.fixed['p']} is for "
                    "convolutions and pooling without ceil mode"
                )
            if any("p" in c.names for c in self.conditions):
                raise BadInput(
                    f"layer {index} {spec.describe()}: where over p, but "
                    f"p={self.fixed['p']} is not a number"
                )
            self.rule = "same"
        elif isinstance(self.fixed.get("p"), tuple):
            raise BadInput(
                f"layer {index} {spec.describe()}: plan searches symmetric or "
                "same_upper/same_lower padding; fix k, s and d with explicit pairs "
                "(or use cnnplan solve --padding explicit)"
            )
        self.pad_rule = window.rule  # conv | pool | convT (convT pads as conv does)
        # e.g. PyTorch's avg_pool3d also needs every unpadded input size >= k
        self.input_ge_k = dims == window.input_ge_k
        self.sweep = Sweep(window.rule, mode, self.ceil, self.op, self.input_ge_k)
        if window.rule == "convT" and mode == "exact" and self.op:
            raise BadInput(
                f"layer {index} {spec.describe()}: op={self.op} adds output rows "
                "no input row reaches, which --mode exact excludes; use op=0 or "
                "--mode floor"
            )
        self.work = 0
        self.edge_cost = None  # plan --rank peak|train: (u, v) -> (b, alpha)
        self._domains: dict = {}
        self._costs: dict = {}  # k -> kernel_cost(k)
        # layers that agree on everything templates depend on share them (long chains), and
        # all layers of a plan share one budget for their closed-form searches
        self._shared = {} if shared is None else shared
        self.budget = self._shared.setdefault("budget", WorkBudget())
        self.signature = (
            self.kind,
            tuple(sorted(self.fixed.items())),
            tuple(c.text for c in self.conditions),
            mode,
            c_in,
            c_out,
            dims,
            self.groups,
            self.bias,
            self.op,
            self.ceil,
            rank,
            tuple(sorted(maxima.items())),
        )

    # -- configurations -----------------------------------------------------------------

    @property
    def free(self) -> tuple:
        return tuple(v for v in WINDOW_VARS if v not in self.fixed)

    def domains(self, u) -> dict:
        """Domains of k, s, p, d for input shape u (defaults follow the input size)."""
        sizes = tuple(u[1:])
        if self.window.rule == "convT" and self.target is not None:
            sizes += tuple(self.target[1:])
        top = max(sizes)
        doms = self._domains.get(top)
        if doms is None:
            bounds = resolve_bounds((top,), {}, self.maxima)
            key = (
                "domains",
                self.signature,
                tuple((name, self.fixed.get(name, bounds[name])) for name in WINDOW_VARS),
            )
            doms = self._shared.get(key)
            if doms is None:
                doms = self._shared[key] = make_domains(bounds, self.fixed)
            self._domains[top] = doms
        return doms

    def valid(self, k: int, s: int, p, d: int) -> bool:
        if self.rule == "same":
            if not dilation_counts(k, d):
                return False
        elif not window_valid(self.pad_rule, k, s, p, d, self.op):
            return False
        if self.conditions:
            env = {"k": k, "s": s, "p": p, "d": d}
            return all(c(env) for c in self.conditions)
        return True

    def weight(self, cfg) -> int | Fraction:
        """The configuration's own cost for the rank (see the module docstring)."""
        k, s, p, d = cfg
        if self.rank in ("peak", "train"):
            return 1
        if self.rank == "rf":
            return effective_kernel(k, d) - 1
        return self.kernel_cost(k)

    def kernel_cost(self, k: int) -> int | Fraction:
        """Params, or MACs per output element (convT: per input element), with kernel k: the
        kind's own `apply` at s=1, p=0, d=1 on the smallest input the window fits (a window
        kind's weights depend on k, not on s, p or d)."""
        cost = self._costs.get(k)
        if cost is not None:
            return cost
        key = ("cost", self.signature, k)
        cost = self._costs[k] = self._shared.get(key)
        if cost is None:
            convT = self.window.rule == "convT"
            spec = self.spec.with_window(k=k, s=1, p=0, d=1, op=0, ceil=False, channels=self.c_out)
            u = (self.c_in,) + (1 if convT else k,) * self.dims
            applied = spec.record.apply(spec, (u,), f"layer {self.index}")
            if self.rank == "params":
                cost = applied.params
            else:
                cost = Fraction(applied.macs, size_of(u if convT else applied.output))
                cost = int(cost) if cost.denominator == 1 else cost
            self._shared[key] = self._costs[k] = cost
        return cost

    def factors(self, u, v, s: int):
        """(b, alpha) of the affine cost map for input u, output v and stride s (b None: a
        maximum, for the planner's --rank peak)."""
        if self.edge_cost is not None:
            return self.edge_cost(u, v)
        if self.rank == "rf":
            if self.window.rule == "convT":
                f = Fraction(1, s)
                return f, f
            return s, 1
        if self.rank == "macs":
            return 1, size_of(u if self.window.rule == "convT" else v)
        return 1, 1

    def _ranked(self, cfgs) -> list:
        return sorted(Ranked(self.weight(c), simple_key(c), c) for c in cfgs)

    # -- free outputs: templates ----------------------------------------------------------

    def combinations(self, doms) -> int:
        n = 1
        for name in WINDOW_VARS:
            n *= len(doms[name])
        return n

    def templates(self, doms) -> list:
        """[(group, s, ranked)]: every valid configuration, grouped by its output rule (a
        WindowGroup, TransposedGroup or CeilGroup)."""
        cache_key = ("templates", self.signature, id(doms))
        found = self._shared.get(cache_key)
        if found is not None:
            return found
        groups: dict = {}
        if self.rule == "same":
            for d, k, s in itertools.product(doms["d"], doms["k"], doms["s"]):
                if self.valid(k, s, doms["p"][0], d):
                    groups.setdefault(SameGroup(s), []).append((k, s, doms["p"][0], d))
        for d in doms["d"] if self.rule != "same" else ():
            for k in doms["k"]:
                if not dilation_counts(k, d):
                    continue
                ke = effective_kernel(k, d)
                pmax = max_padding(k, d, self.pad_rule)
                for p in doms["p"]:
                    if p > pmax:
                        break
                    for s in doms["s"]:
                        if not self.valid(k, s, p, d):
                            continue
                        group: WindowGroup | TransposedGroup | CeilGroup
                        if self.rule == "window":
                            group = WindowGroup(2 * p - ke, s, k if self.input_ge_k else 0)
                        elif self.rule == "convT":
                            group = TransposedGroup(ke - 1 - 2 * p, s)
                        else:
                            group = CeilGroup(ke, p, s)
                        groups.setdefault(group, []).append((k, s, p, d))
        found = [(group, cfgs[0][1], self._ranked(cfgs)) for group, cfgs in sorted(groups.items())]
        self._shared[cache_key] = found
        return found

    def can_template(self, u) -> bool:
        return self.combinations(self.domains(u)) <= TEMPLATE_LIMIT

    def transitions(self, u, target=None) -> list:
        """Every (v, b, alpha, ranked) from input shape u (only v == target if given)."""
        doms = self.domains(u)
        if target is not None and not self.can_template(u):
            return self._pinned_transitions(u, target, doms)
        if not self.can_template(u):
            raise BadInput(
                f"layer {self.index} {self.spec.describe()}: its output is free and k, s, p, d "
                f"range over {' x '.join(str(len(doms[v])) for v in WINDOW_VARS)} values from "
                f"input {format_shape(u)}; give --max bounds (e.g. --max k=11,s=4,p=5,d=3), "
                "fix values in the spec, or give this layer a target"
            )
        sizes = u[1:]
        distinct = sorted(set(sizes))
        out = []
        templates = self.templates(doms)
        self.work += len(templates)
        for group, s, ranked in templates:
            if len(distinct) == 1:
                o = group.output(distinct[0], self)
                if o is None:
                    continue
                v = (self.c_out,) + (o,) * len(sizes)
            else:
                outs = tuple(group.output(i, self) for i in sizes)
                if None in outs:
                    continue
                v = (self.c_out,) + outs
            if target is not None and v != target:
                continue
            b, alpha = self.factors(u, v, s)
            out.append(Transition(v, b, alpha, ranked))
        return out

    # -- pinned outputs: closed forms -------------------------------------------------------

    def pinned(self, u_sizes, v_sizes, doms) -> list:
        """Every valid (k, s, p, d) mapping the spatial sizes u_sizes onto v_sizes."""
        u_sizes, v_sizes = tuple(u_sizes), tuple(v_sizes)
        if self.rule == "same":
            return self._pinned_same(u_sizes, v_sizes, doms)
        if self.rule == "window":
            geometry = Geometry(self.pad_rule, self.mode, u_sizes, v_sizes)
            found = []
            for k, s, p, d in solutions(geometry, doms, self.conditions, self.budget):
                if self.input_ge_k and not input_fits_kernel(u_sizes, k):
                    continue
                found.append((k, s, p, d))
                if len(found) > MAX_SOLUTIONS:
                    self._too_many()
            return found
        if self.rule == "convT":
            return self._pinned_convT(u_sizes, v_sizes, doms)
        return self._pinned_ceil(u_sizes, v_sizes, doms)

    def _too_many(self):
        raise BadInput(
            f"layer {self.index} {self.spec.describe()}: more than {MAX_SOLUTIONS:,} "
            "configurations for one input and output; narrow it with --max or --where"
        )

    def _pinned_same(self, u_sizes, v_sizes, doms) -> list:
        from .padded import same_strides

        found = []
        p = doms["p"][0]
        for s in same_strides(u_sizes, v_sizes, doms["s"][-1]):
            if s < doms["s"][0] or any(
                SameGroup(s).output(i, self) != o for i, o in zip(u_sizes, v_sizes)
            ):
                continue
            for d, k in itertools.product(doms["d"], doms["k"]):
                self.budget.spend(1)
                if self.valid(k, s, p, d):
                    found.append((k, s, p, d))
                    if len(found) > MAX_SOLUTIONS:
                        self._too_many()
        return sorted(found, key=simple_key)

    def _pinned_convT(self, u_sizes, v_sizes, doms) -> list:
        i, o = u_sizes[0], v_sizes[0]
        found = []
        dom_p = set(doms["p"])
        k_lo, k_hi = doms["k"][0], doms["k"][-1]
        p_hi = doms["p"][-1]
        for d in doms["d"]:
            for s in doms["s"]:
                self.budget.spend(2)
                # p = ((i-1)s + k' + op - o) / 2 within [0, p_hi]
                base = o - self.op - (i - 1) * s  # k' - 2p
                if base > d * (k_hi - 1) + 1:
                    continue
                if i > 1 and (i - 1) * s > o - self.op + 2 * p_hi:
                    break
                ke_lo, ke_hi = max(base, 1), base + 2 * p_hi
                k_from = max(k_lo, -(-(ke_lo - 1) // d) + 1)
                k_to = min(k_hi, (ke_hi - 1) // d + 1)
                self.budget.spend(CONVT_K_COST * max(k_to - k_from + 1, 0))
                for k in range(k_from, k_to + 1):
                    p = transposed_padding(i, o, k, s, d, self.op)
                    if p is None or p not in dom_p or not self.valid(k, s, p, d):
                        continue
                    if all(
                        transposed_output(a, k, s, p, d, self.op) == b
                        for a, b in zip(u_sizes, v_sizes)
                    ):
                        found.append((k, s, p, d))
                        if len(found) > MAX_SOLUTIONS:
                            self._too_many()
        return sorted(found, key=simple_key)

    def _pinned_ceil(self, u_sizes, v_sizes, doms) -> list:
        found = []
        s_lo, s_hi = doms["s"][0], doms["s"][-1]
        axes = sorted(set(zip(u_sizes, v_sizes)))
        for d in doms["d"]:
            for p in doms["p"]:
                self.budget.spend(4)
                k_from = max(doms["k"][0], min_kernel(p, d, "pool"))
                # n = i + 2p - k' >= o - 1 on every axis; for o = 1 it may be down to 1 - s
                ke_top = min(
                    i + 2 * p - (o - 1) if o > 1 else i + 2 * p + s_hi - 1 for i, o in axes
                )
                k_to = min(doms["k"][-1], (ke_top - 1) // d + 1) if ke_top >= 1 else 0
                if k_from > doms["k"][-1]:
                    break  # min_kernel only grows with p
                for k in range(k_from, k_to + 1):
                    self.budget.spend(4 + len(axes))
                    if self.input_ge_k and not input_fits_kernel(u_sizes, k):
                        continue
                    strides = [(s_lo, s_hi)]
                    for i, o in axes:
                        strides = _intersect(strides, pool_ceil_stride_ranges(i, o, k, p, d))
                        if not strides:
                            break
                    exact = self.mode == "exact"
                    ke = effective_kernel(k, d)
                    for lo, hi in strides:
                        self.budget.spend(max(hi - lo + 1, 0))
                        for s in range(lo, hi + 1):
                            if exact and any((i + 2 * p - ke) % s for i, _ in axes):
                                continue
                            if self.valid(k, s, p, d):
                                found.append((k, s, p, d))
                                if len(found) > MAX_SOLUTIONS:
                                    self._too_many()
        return sorted(found, key=simple_key)

    def _pinned_transitions(self, u, target, doms) -> list:
        if target[0] != self.c_out:
            return []
        cfgs = self.pinned(u[1:], target[1:], doms)
        self.work += len(cfgs) + 1
        by_stride: dict = {}
        for cfg in cfgs:
            by_stride.setdefault(cfg[1], []).append(cfg)
        out = []
        for s, group in sorted(by_stride.items()):
            b, alpha = self.factors(u, target, s)
            out.append(Transition(target, b, alpha, self._ranked(group)))
        return out

    def counter(self, u):
        """counter(inputs, outputs) -> number of configurations (for nearest-output search)."""
        doms = self.domains(u)

        def count(inputs, outputs):
            return len(self.pinned(inputs, outputs, doms))

        return count

    def resolve(self, cfg) -> LayerSpec:
        """The complete spec of this layer with configuration cfg."""
        return self.spec.with_window(**dict(zip(WINDOW_VARS, cfg)), channels=self.c_out)


def _intersect(ranges, others) -> list:
    out = []
    for lo, hi in ranges:
        for olo, ohi in others:
            a = max(lo, olo)
            b = hi if ohi is None else min(hi, ohi)
            if a <= b:
                out.append((a, b))
    return out
