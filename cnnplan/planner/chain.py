"""`cnnplan plan`: every chain of configurations that satisfies a chain's targets, counted
exactly and ranked, by dynamic programming over reachable sizes (never the product of choices).

1. Forward: the set of shapes reachable at each layer boundary from the input, keeping only
   the shapes a layer's target allows; each input shape's transitions (solver/windows.py) are kept.
   The first layer whose reachable set becomes empty is where the chain breaks.
2. Backward, from the last boundary: the number of chains from each live shape to the end
   (exact Python ints: count(u) = sum over transitions of |configurations| x count(v)), and
   its N best suffixes. Costs compose as cost(u) = alpha*w + b*cost(v) with b > 0 (additive for
   params and MACs, the receptive-field extent for rf), so the N best at u are merged lazily
   from the N best at each successor. Ties break simplest first: lexicographically by layer,
   each layer by (d, p, k, s).
3. Back-tracking the N best from the input, then a forward pass (network/forward.py) of each chain
   for its shapes, parameters, MACs and receptive field.

Everything is iterative (no recursion) and bounded: MAX_LAYERS, MAX_STATES reachable shapes
per boundary and WORK_LIMIT transition evaluations.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

from ..kinds.shape import format_shape
from ..language.specs import KINDS, MAX_LAYERS
from ..language.where import compile_condition
from ..network.forward import apply_layer
from ..platform.errors import BadInput
from ..solver.nearest import Candidates, Nearest, clock, deadline
from ..solver.search import VARIABLES, SearchTooLarge
from ..solver.windows import Ranked, Transition, WindowLayer

MAX_STATES = 200_000
WORK_LIMIT = 400_000  # transitions a plan may evaluate (about 3 s and 250 MB at the limit)
MAX_TOP = 1000
DEFAULT_TOP = 10


class FixedLayer:
    """A layer without free values (activations, bn, flatten, linear): one transition."""

    def __init__(self, index, spec, target, rank):
        self.index, self.spec, self.kind, self.target, self.rank = (
            index,
            spec,
            spec.kind,
            target,
            rank,
        )
        self.free = self.conditions = ()
        self.work = 0
        self.edge_cost = None  # --rank peak|train: (u, v) -> (b, alpha) (memory.edge_costs)

    def transitions(self, u, target=None):
        v, _, params, macs, _ = apply_layer(self.spec, u, self.index)
        self.work += 1
        if target is not None and v != target:
            return []
        if self.edge_cost is not None:
            b, alpha = self.edge_cost(u, v)
            return [Transition(v, b, alpha, [Ranked(1, (), None)])]
        w = params if self.rank == "params" else macs if self.rank == "macs" else 0
        return [Transition(v, 1, 1, [Ranked(w, (), None)])]

    def resolve(self, cfg):
        return self.spec


class Best(NamedTuple):
    """One of the N best suffixes from a shape: its cost and simplicity, this layer's
    configuration, and where the rest continues: entry `rank` of the best list at `next`."""

    cost: int | Fraction
    simple: tuple
    rank: int
    cfg: tuple | None
    next: tuple | None


class Candidate(NamedTuple):
    """A heap entry of the lazy k-best merge, ordered by cost, then simplicity: configuration
    `ci` of transition `gi` followed by entry `ei` of its successor's best list."""

    cost: int | Fraction
    simple: tuple
    ei: int
    gi: int
    ci: int


@dataclass
class Outcome:
    """What the planner found."""

    input: tuple
    layers: list
    count: int = 0
    chains: list = field(default_factory=list)  # [(cost, [cfg per layer])]
    live: list = field(default_factory=list)  # live shapes per boundary
    choices: list = field(default_factory=list)  # configurations on live edges per layer
    sets: dict = field(default_factory=dict)  # layer index -> (u, v, [cfg])
    failure: dict | None = None
    other_mode: dict | None = None  # floor's answer when exact has none


# -- building the chain ---------------------------------------------------------------------


def build_layers(input_shape, plan_layers, mode, maxima, where_all, rank):
    """Check the chain statically and make one planner layer per spec."""
    if len(plan_layers) > MAX_LAYERS:
        raise BadInput(f"{len(plan_layers)} layers; the limit is {MAX_LAYERS}")
    if not plan_layers:
        raise BadInput("a plan needs at least one layer")
    layers = []
    shared: dict = {}
    channels, dims = input_shape[0], len(input_shape) - 1  # dims 0: flat
    for index, item in enumerate(plan_layers, start=1):
        spec, target = item.spec, item.target
        name = item.origin or f"layer {index} {spec.describe()}"
        kind = KINDS[spec.kind]
        conditions = compile_conditions(item, name)
        out_dims = 0 if spec.kind in ("flatten", "linear") else dims
        if target is not None and len(target) != out_dims + 1:
            want = "a flat size such as 10" if out_dims == 0 else f"C plus {out_dims} size(s)"
            raise BadInput(
                f"{name}: target {format_shape(target)} does not fit; this layer gives {want}"
            )
        if kind.window:
            if dims == 0:
                raise BadInput(
                    f"{name}: {spec.kind} needs a C x sizes input, but an earlier "
                    "flatten or linear made it flat"
                )
            if kind.window.channels:
                c_out = spec.get("channels")
                if c_out is None:
                    if target is None:
                        raise BadInput(
                            f"{name}: give the output channels, as in "
                            f"{spec.kind}(64), or a target '-> 64x...'"
                        )
                    c_out = target[0]
                elif target is not None and target[0] != c_out:
                    raise BadInput(
                        f"{name}: {c_out} output channels but the target "
                        f"{format_shape(target)} has {target[0]}"
                    )
                groups = spec.get("groups", 1)
                for what, value in (("input", channels), ("output", c_out)):
                    if value % groups:
                        raise BadInput(
                            f"{name}: groups={groups} must divide the {what} channels {value}"
                        )
            else:
                c_out = channels
                if target is not None and target[0] != channels:
                    raise BadInput(
                        f"{name}: pooling keeps the {channels} channels but the "
                        f"target {format_shape(target)} has {target[0]}"
                    )
            layer = WindowLayer(
                index,
                spec,
                channels,
                c_out,
                dims,
                target,
                list(where_all) + conditions,
                mode,
                maxima,
                rank,
                shared,
            )
            channels = c_out
        else:
            complete = spec.complete(name)
            if spec.kind == "linear" and dims != 0:
                raise BadInput(f"{name}: linear needs a flat input; put flatten before it")
            if spec.kind in ("flatten", "linear"):
                dims = 0
                channels = complete.get("features") if spec.kind == "linear" else None
                if spec.kind == "linear" and target is not None and target[0] != channels:
                    raise BadInput(
                        f"{name}: linear gives {channels} features but the target is {target[0]}"
                    )
            layer = FixedLayer(index, complete, target, rank)
        layer.target = target
        layer.origin = name
        layers.append(layer)
    return layers


def compile_conditions(item, name: str) -> list:
    """The layer's own `where` texts, compiled; BadInput if one names no window variable or
    the layer has none."""
    conditions = [compile_condition(text, VARIABLES, f"{name}: where") for text in item.where]
    for c in conditions:
        if not c.names:
            raise BadInput(f"{name}: where {c.text!r} mentions none of k, s, p, d")
    if conditions and not KINDS[item.spec.kind].window:
        raise BadInput(f"{name}: {item.spec.kind} has no k, s, p, d to constrain with where")
    return conditions


# -- the dynamic programme ------------------------------------------------------------------


def run(input_shape, layers, top: int = DEFAULT_TOP, progress=None) -> Outcome:
    """Plan the chain: count every valid chain and keep the `top` best (see module docs)."""
    outcome = Outcome(tuple(input_shape), layers)
    n_layers = len(layers)
    reach = [input_shape]
    edges = []
    work = 0
    for j, layer in enumerate(layers):
        if progress:
            progress(
                f"layer {j + 1}/{n_layers}: {len(reach)} reachable input shape"
                f"{'s' if len(reach) != 1 else ''}"
            )
        step: dict = {}
        nxt: set = set()
        _check_work(work + len(reach) * _transitions_per_input(layer, reach[0]), layer)
        for n, u in enumerate(reach):
            if progress and n and n % 256 == 0:
                progress(f"layer {j + 1}/{n_layers}: input shape {n} of {len(reach)}")
            _check_work(work + layer.work, layer)
            found = layer.transitions(u, layer.target)
            if found:
                step[u] = found
                for t in found:
                    nxt.add(t.output)
            if len(nxt) > MAX_STATES:
                raise BadInput(
                    f"{layer.origin}: more than {MAX_STATES:,} reachable shapes; "
                    "give targets for intermediate layers or smaller --max bounds"
                )
        work += layer.work
        layer.work = 0
        _check_work(work, layer)
        if not nxt:
            outcome.failure = diagnose(j, layer, reach)
            return outcome
        edges.append(step)
        reach = sorted(nxt)

    counts = dict.fromkeys(reach, 1)
    best = {v: [Best(0, (), 0, None, None)] for v in reach}
    bests: list = [None] * (n_layers + 1)
    bests[n_layers] = best
    live: list = [None] * (n_layers + 1)
    live[n_layers] = sorted(reach)
    choices = [0] * n_layers
    for j in range(n_layers - 1, -1, -1):
        if progress:
            progress(f"counting: layer {j + 1} of {n_layers} (backward)")
        new_counts, new_best = {}, {}
        layer_choices = 0
        for u, found in edges[j].items():
            kept = [t for t in found if t.output in counts]
            if not kept:
                continue
            total = 0
            for v, _, _, ranked in kept:
                total += len(ranked) * counts[v]
                layer_choices += len(ranked)
            new_counts[u] = total
            if top:
                new_best[u] = _merge(kept, best, top)
        counts, best = new_counts, new_best
        bests[j] = best
        live[j] = sorted(counts)
        choices[j] = layer_choices
    outcome.count = counts.get(tuple(input_shape), 0)
    outcome.live, outcome.choices = live, choices
    for entry in bests[0].get(tuple(input_shape), []) if top else []:
        cfgs, e = [], entry
        for j in range(n_layers):
            cfgs.append(e.cfg)
            e = bests[j + 1][e.next][e.rank]
        outcome.chains.append((entry.cost, cfgs))
    for j, layer in enumerate(layers):
        if layer.free and len(live[j]) == 1 and len(live[j + 1]) == 1:
            u, v = live[j][0], live[j + 1][0]
            cfgs = sorted(
                (r.cfg for t in edges[j][u] if t.output == v for r in t.ranked),
                key=lambda c: (c[3], c[2], c[0], c[1]),
            )
            outcome.sets[j] = (u, v, cfgs)
    return outcome


def _transitions_per_input(layer, u) -> int:
    """About how many transitions `layer` evaluates for each input shape like `u` (its
    templates when its output is free; one closed-form search counts as one)."""
    if isinstance(layer, WindowLayer) and layer.can_template(u):
        return len(layer.templates(layer.domains(u)))
    return 1


def _check_work(work: int, layer) -> None:
    """Refuse a plan once its transitions (done or about to be done) pass WORK_LIMIT."""
    if work > WORK_LIMIT:
        raise BadInput(
            f"the plan is too large (over {WORK_LIMIT:,} transitions by "
            f"{layer.origin}); give targets for intermediate layers or smaller "
            "--max bounds"
        )


def compose(t, w, rest):
    """cost(u) from one configuration's w and the cost of the rest of the chain: alpha * w +
    b * rest, or with b None (--rank peak) the larger of alpha * w and rest."""
    return max(t.alpha * w, rest) if t.b is None else t.alpha * w + t.b * rest


def _merge(kept, best, top):
    """The `top` best entries (Best) over the transitions `kept` (costs only grow with w and
    with the rest's cost, so the lazy merge is exact)."""
    heap = []
    for gi, t in enumerate(kept):
        first = t.ranked[0]
        heap.append(Candidate(compose(t, first.w, best[t.output][0].cost), first.simple, 0, gi, 0))
    heapq.heapify(heap)
    out = []
    while heap and len(out) < top:
        c = heapq.heappop(heap)
        t = kept[c.gi]
        suffix = best[t.output]
        out.append(Best(c.cost, c.simple, c.ei, t.ranked[c.ci].cfg, t.output))
        if c.ei == 0 and c.ci + 1 < len(t.ranked):
            after = t.ranked[c.ci + 1]
            heapq.heappush(
                heap,
                Candidate(compose(t, after.w, suffix[0].cost), after.simple, 0, c.gi, c.ci + 1),
            )
        if c.ei + 1 < len(suffix):
            cost = compose(t, t.ranked[c.ci].w, suffix[c.ei + 1].cost)
            heapq.heappush(heap, Candidate(cost, c.simple, c.ei + 1, c.gi, c.ci))
    return out


def diagnose(j, layer, reach) -> dict:
    """Why layer j has no way forward: its target is unreachable, or it cannot apply at all."""
    target = layer.target
    info = {
        "layer": j + 1,
        "spec": layer.spec.describe(),
        "origin": layer.origin,
        "target": list(target) if target is not None else None,
        "inputs": [list(u) for u in reach[:20]],
        "n_inputs": len(reach),
        "nearest": [],
        "near": Nearest(),
    }
    if target is None:
        return info
    until = deadline()
    found = Candidates(tuple(target))
    for u in reach:
        if clock() > until:
            found.truncated = True
            break
        try:
            if isinstance(layer, FixedLayer):
                found.add(u, layer.transitions(u)[0].output)
            elif layer.rule == "same":  # p=same_upper / same_lower: ceil(i/s) for each s
                for v in {t.output for t in layer.transitions(u)}:
                    found.add(u, v)
            else:
                found.add_sweep(layer.sweep, u, layer.c_out, layer.domains(u), until)
        except SearchTooLarge:  # the work budget is spent: report what was found
            found.truncated = True
            break

    def counter(u, v):
        return len(layer.pinned(u[1:], v[1:], layer.domains(u)))

    try:
        near = found.nearest(counter if layer.conditions else None, until)
    except SearchTooLarge:
        found.truncated = True
        near = found.nearest(None, until)
    info["nearest"], info["near"] = near.as_data(), near
    return info
