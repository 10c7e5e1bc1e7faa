"""The single-layer search: every (k, s, p, d) mapping an input shape onto an output shape.

The question is posed as a python-constraint Problem (variables k, s, p, d; the layer's shape
relation as `LayerShapeConstraint`; user conditions as FunctionConstraints), so any of the
engine's solvers can answer it. `ShapeSolver` answers it fast: it walks d, p, k in that order
and derives the admissible k range and the stride range in closed form from the arithmetic, so
it never visits the grid, only (d, p, k) triples that can still work; its cost grows with the
number of solutions.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import constraint

from .arithmetic import conv_output, max_padding, min_kernel, stride_range, window_valid

VARIABLES = ("k", "s", "p", "d")
LEVEL = {"d": 0, "p": 1, "k": 2, "s": 3}  # the order ShapeSolver assigns variables in


@dataclass(frozen=True)
class Geometry:
    """What one layer must do: `layer` (conv|pool) in `mode` maps `inputs` onto `outputs`."""

    layer: str
    mode: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def accepts(self, k: int, s: int, p: int, d: int) -> bool:
        """The definition of a valid configuration (DESIGN.md), checked directly."""
        if not window_valid(self.layer, k, s, p, d):
            return False
        return all(
            conv_output(i, k, s, p, d, self.mode) == o for i, o in zip(self.inputs, self.outputs)
        )

    def kernel_range(self, p: int, d: int) -> tuple[int, int]:
        """Inclusive (lo, hi) of kernel sizes that can still work for p and d (may be empty)."""
        lo = min_kernel(p, d, self.layer)
        hi = None
        for i, o in zip(self.inputs, self.outputs):
            # the span n = i + 2p - k' is at least o - 1 (s >= 1) and, if o = 1 in exact mode, 0
            top = i + 2 * p - (o - 1)
            hi_axis = (top - 1) // d + 1
            hi = hi_axis if hi is None else min(hi, hi_axis)
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

    def getSolutionIter(self, domains, constraints, vconstraints):
        for assignment, strides, ok in self._walk(domains, constraints):
            for s in strides:
                assignment["s"] = s
                if ok(3, assignment):
                    yield dict(assignment)
            assignment.pop("s", None)

    def count(self, domains, constraints) -> int:
        """How many solutions there are, without listing the strides when nothing tests s."""
        n = 0
        for assignment, strides, ok in self._walk(domains, constraints):
            if ok.strides_free:
                n += len(strides)
                continue
            for s in strides:
                assignment["s"] = s
                n += ok(3, assignment)
            assignment.pop("s", None)
        return n

    def _walk(self, domains, constraints):
        """(assignment of d, p, k, the strides that give every axis its output, the checker of
        the other constraints by level) for every (d, p, k) that can still work."""
        shape = [c for c, _ in constraints if isinstance(c, LayerShapeConstraint)]
        if len(shape) != 1:
            raise ValueError("ShapeSolver needs exactly one LayerShapeConstraint")
        geometry = shape[0].geometry
        checks: list[list] = [[], [], [], []]
        for c, variables in constraints:
            if not isinstance(c, LayerShapeConstraint):
                checks[max(LEVEL[v] for v in variables)].append((c, variables))
        dom = {v: sorted(domains[v]) for v in VARIABLES}

        def ok(level, assignment):
            return all(c(variables, domains, assignment) for c, variables in checks[level])

        ok.strides_free = not checks[3]
        if not all(dom.values()):
            return
        k_min, k_max, s_max = dom["k"][0], dom["k"][-1], dom["s"][-1]
        assignment: dict[str, int] = {}
        for d in dom["d"]:
            p_lo, p_hi = geometry.padding_range(d, k_min, k_max, s_max)
            if p_lo > dom["p"][-1] and (d > 1 or k_min > 1):
                break  # p_lo only grows with d
            assignment["d"] = d
            if p_hi < p_lo or not ok(0, assignment):
                continue
            for p in _in_domain(dom["p"], p_lo, p_hi):
                assignment["p"] = p
                k_lo, k_hi = geometry.kernel_range(p, d)
                if k_lo > k_max:
                    break  # k_lo only grows with p
                if k_hi < k_lo or not ok(1, assignment):
                    continue
                for k in _in_domain(dom["k"], k_lo, k_hi):
                    if p > max_padding(k, d, geometry.layer):
                        continue
                    assignment["k"] = k
                    if not ok(2, assignment):
                        continue
                    strides = geometry.stride_range(k, p, d)
                    if strides is not None:
                        yield assignment, _in_domain(dom["s"], *strides), ok
                assignment.pop("k", None)

    def getSolutions(self, domains, constraints, vconstraints):
        return list(self.getSolutionIter(domains, constraints, vconstraints))

    def getSolution(self, domains, constraints, vconstraints):
        return next(iter(self.getSolutionIter(domains, constraints, vconstraints)), None)


def build_problem(geometry: Geometry, domains: dict[str, list[int]], conditions=(),
                  solver: constraint.Solver | None = None) -> constraint.Problem:
    """The layer question as a python-constraint Problem (ShapeSolver unless told otherwise)."""
    problem = constraint.Problem(solver or ShapeSolver())
    for v in VARIABLES:
        problem.addVariable(v, list(domains[v]))
    problem.addConstraint(LayerShapeConstraint(geometry), list(VARIABLES))
    for condition in conditions:
        names = sorted(condition.names, key=LEVEL.get)
        problem.addConstraint(_as_function(condition, names), names)
    return problem


def _as_function(condition, names):
    def test(*values):
        return condition(dict(zip(names, values)))

    return constraint.FunctionConstraint(test)


def solutions(geometry: Geometry, domains: dict[str, list[int]], conditions=()):
    """Iterate over the solutions as (k, s, p, d) tuples, simplest first (d, p, k, s)."""
    problem = build_problem(geometry, domains, conditions)
    for sol in problem.getSolutionIter():
        yield sol["k"], sol["s"], sol["p"], sol["d"]


def count(geometry, domains, conditions) -> int:
    """How many configurations solve `geometry` within `domains` (strides counted by range)."""
    constraints = [(LayerShapeConstraint(geometry), list(VARIABLES))]
    for condition in conditions:
        names = sorted(condition.names, key=LEVEL.get)
        constraints.append((_as_function(condition, names), names))
    return ShapeSolver().count(domains, constraints)
