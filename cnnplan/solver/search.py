"""The single-layer search: every (k, s, p, d) mapping an input shape onto an output shape.

The question is posed as a python-constraint Problem (variables k, s, p, d; the layer's shape
relation as `LayerShapeConstraint`; user conditions as FunctionConstraints), so any of the
engine's solvers can answer it. `ShapeSolver` answers it fast: it walks d, p, k in that order
and derives the admissible k range and the stride range in closed form from the arithmetic, so
it never visits the grid, only (d, p, k) triples that can still work; its cost grows with the
number of solutions.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from typing import NamedTuple

import constraint

from ..kinds.arithmetic import (
    conv_output,
    effective_kernel,
    max_padding,
    min_kernel,
    stride_range,
    window_valid,
)
from ..kinds.records import WINDOW_VARIABLES
from ..platform.budget import charge
from ..platform.errors import BadInput

VARIABLES = WINDOW_VARIABLES
MAX_WORK = 2_000_000  # work units one search may spend (a unit is well under 1 us of CPU)
# units per (d, p) pair visited, per kernel or stride range computed, per (k, s) candidate
STEP_COST = {"pair": 8, "range": 2, "candidate": 1, "setup": 60}
CONDITION_COST = 4  # per evaluation of a --where condition without a size of its own


class SearchTooLarge(BadInput):
    """A search that would spend more than its work budget (exit 2)."""

    def __init__(self, limit: int):
        super().__init__(
            f"the search is too large (over {limit:,} steps of trying k, s, p, d); "
            "narrow it with --fix, --max or --where"
        )


class WorkBudget:
    """Work units that several searches share (a plan's layers); SearchTooLarge when spent."""

    def __init__(self, limit: int = MAX_WORK):
        self.limit, self.used = limit, 0

    def spend(self, units: int) -> None:
        self.used += units
        if self.used > self.limit:
            raise SearchTooLarge(self.limit)
        charge(units)


LEVEL = {"d": 0, "p": 1, "k": 2, "s": 3}  # the order ShapeSolver assigns variables in


class Geometry(NamedTuple):
    """What one layer must do: `layer` (conv|pool) in `mode` maps `inputs` onto `outputs`."""

    layer: str
    mode: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def accepts(self, k: int, s: int, p: int, d: int) -> bool:
        """The definition of a valid configuration (README.md, `cnnplan solve`), checked directly."""
        if not window_valid(self.layer, k, s, p, d):
            return False
        return all(
            conv_output(i, k, s, p, d, self.mode) == o for i, o in zip(self.inputs, self.outputs)
        )

    def spans(self, o: int, s_lo: int, s_hi: int) -> tuple[int, int]:
        """Inclusive bounds of the span n = i + 2p - k' that give output o for some stride in
        [s_lo, s_hi]: exact needs n = s(o-1), floor s(o-1) <= n <= s*o - 1."""
        return s_lo * (o - 1), s_hi * (o - 1) if self.mode == "exact" else s_hi * o - 1

    def kernel_range(
        self, p: int, d: int, s_lo: int = 1, s_hi: int | None = None
    ) -> tuple[int, int | None]:
        """Inclusive (lo, hi) of kernel sizes that can still work for this p and d and strides
        in [s_lo, s_hi] (s_hi None: unbounded) (may be empty)."""
        lo = min_kernel(p, d, self.layer)
        hi = None
        for i, o in zip(self.inputs, self.outputs):
            # the span n = i + 2p - k' lies within self.spans: k' = i + 2p - n
            n_lo, n_hi = self.spans(o, s_lo, s_lo if s_hi is None else s_hi)
            top = i + 2 * p - n_lo
            hi_axis = (top - 1) // d + 1
            hi = hi_axis if hi is None else min(hi, hi_axis)
            if s_hi is not None:
                bottom = i + 2 * p - n_hi
                if bottom > 1:
                    lo = max(lo, -(-(bottom - 1) // d) + 1)
        return lo, hi

    def padding_range(self, d: int, k_lo: int, k_hi: int, s_hi: int) -> tuple[int, int]:
        """Inclusive (lo, hi) of paddings that can still work for d, kernels in [k_lo, k_hi] and
        strides up to s_hi (may be empty)."""
        if d > 1:
            k_lo = max(k_lo, 2)
        span_lo, span_hi = d * (k_lo - 1) + 1, d * (k_hi - 1) + 1
        lo, hi = 0, max_padding(k_hi, d, self.layer)
        for i, o in zip(self.inputs, self.outputs):
            # i + 2p - k' must lie in [o-1, s(o-1)] (exact) or [s(o-1), s*o - 1] (floor)
            lo = max(lo, -(-(o - 1 - i + span_lo) // 2))
            top = s_hi * (o - 1) if self.mode == "exact" else s_hi * o - 1
            hi = min(hi, (top - i + span_hi) // 2)
        return lo, hi

    def stride_range(self, k: int, p: int, d: int) -> tuple[int, int | None] | None:
        """Strides that give every axis its output, as an inclusive range (hi None: unbounded)."""
        lo, hi = 1, None
        for i, o in zip(self.inputs, self.outputs):
            r = stride_range(i, o, k, p, d, self.mode)
            if r is None:
                return None
            lo = max(lo, r[0])
            if r[1] is not None:
                hi = r[1] if hi is None else min(hi, r[1])
            if hi is not None and hi < lo:
                return None
        return lo, hi

    def strides_for_kernels(self, p: int, d: int, k_lo: int, k_hi: int) -> tuple[int, int | None]:
        """An inclusive range holding every stride that works for this p, d and some kernel
        in [k_lo, k_hi] (hi None: unbounded; empty when lo > hi)."""
        lo, hi = 1, None
        for i, o in zip(self.inputs, self.outputs):
            n_min = i + 2 * p - effective_kernel(k_hi, d)
            n_max = i + 2 * p - effective_kernel(k_lo, d)
            if n_max < 0:
                return 1, 0
            n_min = max(n_min, 0)
            if o == 1:
                if self.mode == "exact" and n_min > 0:
                    return 1, 0
                lo = max(lo, 1 if self.mode == "exact" else n_min + 1)
                continue
            lo = max(lo, -(-n_min // (o - 1)) if self.mode == "exact" else -(-(n_min + 1) // o))
            top = n_max // (o - 1)
            hi = top if hi is None else min(hi, top)
        return lo, hi

    def kernels_for_stride(self, p: int, d: int, s: int) -> tuple[int, int | None]:
        """Inclusive (lo, hi) of the kernels giving every axis its output with stride s (the
        window rule only; validity is checked by the caller)."""
        lo, hi = 1, None
        for i, o in zip(self.inputs, self.outputs):
            n_lo, n_hi = self.spans(o, s, s)
            ke_lo, ke_hi = max(i + 2 * p - n_hi, 1), i + 2 * p - n_lo
            if ke_hi < 1:
                return 1, 0
            lo = max(lo, -(-(ke_lo - 1) // d) + 1)
            top = (ke_hi - 1) // d + 1
            hi = top if hi is None else min(hi, top)
        return lo, hi

    def outer_work(self, domains: dict[str, list[int]]) -> int:
        """How many (d, p) pairs `ShapeSolver` visits for these domains (an upper bound): the
        cost of a search before its solutions, in O(len(d)) steps."""
        dom_k, dom_s, dom_p = domains["k"], domains["s"], domains["p"]
        if not all(domains.values()):
            return 0
        total = 0
        for d in domains["d"]:
            p_lo, p_hi = self.padding_range(d, dom_k[0], dom_k[-1], dom_s[-1])
            p_lo, p_hi = max(p_lo, dom_p[0]), min(p_hi, dom_p[-1])
            if p_hi >= p_lo:
                total += min(p_hi - p_lo + 1, len(dom_p))
        return total


class LayerShapeConstraint(constraint.Constraint):
    """k, s, p, d map every input axis onto its output axis, with every window on real input."""

    def __init__(self, geometry: Geometry):
        self.geometry = geometry

    def __call__(self, variables, domains, assignments, forwardcheck=False, _unassigned=None):
        values = [assignments.get(v) for v in VARIABLES]
        if any(v is None for v in values):
            return True
        return self.geometry.accepts(*values)


def _in_domain(domain: list[int], lo: int, hi: int | None) -> list[int]:
    """The values of a sorted domain within [lo, hi]."""
    start = bisect_left(domain, lo)
    stop = len(domain) if hi is None else bisect_right(domain, hi)
    return domain[start:stop]


class ShapeSolver(constraint.Solver):
    """Enumerates a layer problem in closed form: d, then p, then k ranges, then s ranges.

    Other constraints are checked as soon as all their variables are assigned.
    """

    requires_pickling = False

    def __init__(self, budget: WorkBudget | None = None):
        self.budget = budget or WorkBudget()

    def getSolutionIter(self, domains, constraints, vconstraints):
        shape = [c for c, _ in constraints if isinstance(c, LayerShapeConstraint)]
        if len(shape) != 1:
            raise ValueError("ShapeSolver needs exactly one LayerShapeConstraint")
        geometry = shape[0].geometry
        checks: list[list] = [[], [], [], []]
        for c, variables in constraints:
            if not isinstance(c, LayerShapeConstraint):
                checks[max(LEVEL[v] for v in variables)].append((c, variables))
        dom = {v: sorted(domains[v]) for v in VARIABLES}

        costs = [sum(getattr(c, "cost", CONDITION_COST) for c, _ in level) for level in checks]

        def ok(level, assignment):
            return all(c(variables, domains, assignment) for c, variables in checks[level])

        def always(level, assignment):
            return True

        if not any(checks):
            ok = always  # no --where: nothing to check past the shape rule

        if not all(dom.values()):
            return
        k_min, k_max, s_min, s_max = dom["k"][0], dom["k"][-1], dom["s"][0], dom["s"][-1]
        k_set = None if k_max - k_min + 1 == len(dom["k"]) else set(dom["k"])
        range_cost, k_cost = STEP_COST["range"], costs[2]
        s_cost = STEP_COST["candidate"] + costs[3]
        # the (d, p) pairs are counted before any is visited: an oversized search is refused
        # at once; kernels and strides are counted as they are tried
        budget = self.budget
        budget.spend((STEP_COST["pair"] + costs[1]) * geometry.outer_work(dom))
        work, limit = budget.used, budget.limit
        assignment: dict[str, int] = {}
        try:
            for d in dom["d"]:
                p_lo, p_hi = geometry.padding_range(d, k_min, k_max, s_max)
                if p_lo > dom["p"][-1] and (d > 1 or k_min > 1):
                    break  # p_lo only grows with d
                assignment["d"] = d
                if p_hi < p_lo or not ok(0, assignment):
                    continue
                for p in _in_domain(dom["p"], p_lo, p_hi):
                    assignment["p"] = p
                    k_lo, k_hi = geometry.kernel_range(p, d, s_min, s_max)
                    if k_lo > k_max:
                        break  # k_lo only grows with p
                    if k_hi < k_lo or not ok(1, assignment):
                        continue
                    kernels = _in_domain(dom["k"], k_lo, k_hi)
                    strides = (
                        _in_domain(
                            dom["s"], *geometry.strides_for_kernels(p, d, kernels[0], kernels[-1])
                        )
                        if kernels
                        else []
                    )
                    if not strides:
                        continue
                    if len(strides) < len(kernels):  # kernels outside k_set are skipped below
                        work += range_cost * len(strides)
                        pairs = _by_stride(geometry, p, d, kernels[0], kernels[-1], strides)
                    else:
                        work += range_cost * len(kernels)
                        pairs = _by_kernel(geometry, p, d, kernels, dom["s"])
                    if work > limit:
                        raise SearchTooLarge(limit)
                    last_k, k_ok = None, False
                    for k, s in pairs:
                        work += s_cost
                        if work > limit:
                            raise SearchTooLarge(limit)
                        if k != last_k:
                            work += k_cost
                            last_k = k
                            assignment["k"] = k
                            assignment.pop("s", None)
                            k_ok = (
                                (k_set is None or k in k_set)
                                and p <= max_padding(k, d, geometry.layer)
                                and ok(2, assignment)
                            )
                        if k_ok:
                            assignment["s"] = s
                            if ok(3, assignment):
                                yield dict(assignment)
                    assignment.pop("s", None)
                    assignment.pop("k", None)
        finally:
            budget.used = work

    def getSolutions(self, domains, constraints, vconstraints):
        return list(self.getSolutionIter(domains, constraints, vconstraints))

    def getSolution(self, domains, constraints, vconstraints):
        return next(iter(self.getSolutionIter(domains, constraints, vconstraints)), None)


def _by_kernel(geometry: Geometry, p: int, d: int, kernels: list[int], dom_s: list[int]):
    """(k, s) pairs for one (p, d), kernel by kernel: the strides of each k in closed form."""
    for k in kernels:
        if p > max_padding(k, d, geometry.layer):
            continue
        strides = geometry.stride_range(k, p, d)
        if strides is not None:
            for s in _in_domain(dom_s, *strides):
                yield k, s


def _by_stride(geometry: Geometry, p: int, d: int, k_lo: int, k_hi: int, strides: list[int]):
    """The same (k, s) pairs, found stride by stride (cheaper when there are fewer strides than
    kernels) and merged into (k, s) order, for every kernel in [k_lo, k_hi] (the caller skips
    those outside the domain)."""
    heap = []
    for s in strides:
        lo, hi = geometry.kernels_for_stride(p, d, s)
        assert hi is not None  # a Geometry has at least one axis
        lo, hi = max(lo, k_lo), min(hi, k_hi)
        if lo <= hi:
            heap.append((lo, s, hi))
    heapq.heapify(heap)
    while heap:
        k, s, hi = heap[0]
        yield k, s
        if k < hi:
            heapq.heapreplace(heap, (k + 1, s, hi))
        else:
            heapq.heappop(heap)


def build_problem(
    geometry: Geometry,
    domains: dict[str, list[int]],
    conditions=(),
    solver: constraint.Solver | None = None,
) -> constraint.Problem:
    """The layer question as a python-constraint Problem (ShapeSolver unless told otherwise)."""
    problem = constraint.Problem(solver or ShapeSolver())
    for v in VARIABLES:
        problem.addVariable(v, list(domains[v]))
    problem.addConstraint(LayerShapeConstraint(geometry), list(VARIABLES))
    for condition in conditions:
        names = sorted(condition.names, key=LEVEL.get)  # type: ignore[arg-type]  # names are all in LEVEL
        problem.addConstraint(_as_function(condition, names), names)
    return problem


def _as_function(condition, names):
    def test(*values):
        return condition(dict(zip(names, values)))

    function = constraint.FunctionConstraint(test)
    function.cost = 2 + getattr(condition, "size", 4 * CONDITION_COST) // 4  # work units
    return function


def solutions(
    geometry: Geometry,
    domains: dict[str, list[int]],
    conditions=(),
    budget: WorkBudget | None = None,
):
    """Iterate over the solutions as (k, s, p, d) tuples, simplest first (d, p, k, s), within
    `budget` (by default a fresh one of MAX_WORK units; SearchTooLarge when it runs out)."""
    budget = budget or WorkBudget()
    # setting the problem up copies the domains and checks one-name conditions on every value
    budget.spend(
        STEP_COST["setup"]
        + sum(len(domains[v]) for v in VARIABLES) // 8
        + sum(
            len(domains[next(iter(c.names))]) * (2 + getattr(c, "size", 8) // 4)
            for c in conditions
            if len(getattr(c, "names", ())) == 1
        )
    )
    problem = build_problem(geometry, domains, conditions, ShapeSolver(budget))
    for sol in problem.getSolutionIter():
        yield sol["k"], sol["s"], sol["p"], sol["d"]


def count(geometry, domains, conditions, budget: WorkBudget | None = None) -> int:
    """How many configurations solve `geometry` within `domains`."""
    return sum(1 for _ in solutions(geometry, domains, conditions, budget))
