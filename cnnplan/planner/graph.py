"""`cnnplan plan` over graphs (residual adds, concatenations, branches): every assignment of the
free k, s, p, d that makes every layer apply, every join line up and every target hold,
counted exactly, and the best ones ranked.

The layers are taken in file order. A state is the tuple of shapes of the tensors still needed
later (the frontier: for a ResNet block, the block input and the branch). Each layer maps the
states reaching it to new states (its window configurations grouped by output, as in the chain
planner, solver/windows.py); a join is a constraint: its inputs must line up. Counts are exact Python
ints for any DAG, not only series-parallel ones; the number of states is bounded by MAX_STATES
(refused beyond, never approximated). The best networks for params or MACs (costs that add up
over layers) are kept per state; `--rank rf` (a maximum over paths) ranks every network when
there are at most RF_RANK_LIMIT of them, and is refused otherwise.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from ..kinds.shape import format_shape
from ..language.specs import INPUT
from ..network.forward import brief_names, build_nodes, forward, layer_text, plan_nodes
from ..platform.budget import charge
from ..platform.errors import BadInput
from ..platform.result import Result, Table
from ..solver.windows import WindowLayer, simple_key
from .chain import MAX_STATES, WORK_LIMIT, FixedLayer, compile_conditions, diagnose
from .report import cfg_row, describe_bounds, window_values

NODE_COST = 400  # work units of setting up one node of a graph plan (measured)
STATE_COST = 4  # per live-shape state and transition (and per kept best entry)
RF_RANK_LIMIT = 20_000


def is_graph(items, options) -> bool:
    """Does this plan use names, `from` or joins (else the chain planner answers it)?"""
    return bool(options.get("output_layer")) or any(
        item.sources or item.spec.refs or item.spec.record.join for item in items
    )


@dataclass(order=True)
class Entry:
    """One of the best partial networks reaching a state: its cost, its simplicity key (per
    layer (d, p, k, s)) and the configuration chosen at each layer so far."""

    cost: object
    simple: tuple
    cfgs: tuple = field(compare=False)


class Node:
    """A layer of the graph with its planner layer per input channel count (built on use)."""

    def __init__(self, node, item, rank, mode, maxima, conditions, shared):
        self.node, self.item, self.spec = node, item, node.spec
        self.rank, self.mode, self.maxima = rank, mode, maxima
        self.conditions, self.shared = conditions, shared
        self.target = item.target
        self.origin = item.origin or f"layer {node.index} {node.spec.describe()}"
        self._layers: dict = {}
        self.work = 0

    @property
    def free(self) -> tuple:
        return self.layer_for(None).free if self.spec.window else ()

    def layer_for(self, u):
        """The chain planner's layer for input shape u (WindowLayer or FixedLayer)."""
        key = None if u is None else (u[0], len(u))
        layer = self._layers.get(key)
        if layer is None:
            spec, index = self.spec, self.node.index
            if spec.window:
                c_in, dims = (u[0], len(u) - 1) if u is not None else (1, 2)
                channels = spec.record.window.channels
                c_out = spec.get("channels") if channels else c_in
                if c_out is None:
                    if self.target is None:
                        raise BadInput(
                            f"{self.origin}: give the output channels, as in "
                            f"{spec.kind}(64), or a target '-> 64x...'"
                        )
                    c_out = self.target[0]
                if u is not None and channels:
                    groups = spec.get("groups", 1)
                    for what, value in (("input", c_in), ("output", c_out)):
                        if value % groups:
                            raise BadInput(
                                f"{self.origin}: groups={groups} must divide the "
                                f"{what} channels {value}"
                            )
                if dims < 1:
                    raise BadInput(
                        f"{self.origin}: {spec.kind} needs a C x sizes input, but its input is flat"
                    )
                layer = WindowLayer(
                    index,
                    spec,
                    c_in,
                    c_out,
                    dims,
                    self.target,
                    self.conditions,
                    self.mode,
                    self.maxima,
                    self.rank,
                    self.shared,
                )
            else:
                layer = FixedLayer(index, spec.complete(self.origin), self.target, self.rank)
            layer.origin = self.origin
            self._layers[key] = layer
        return layer

    def transitions(self, inputs):
        """[(v, alpha, ranked)] from these input shapes (joins: one, if they line up)."""
        if self.spec.record.join:
            self.work += 1
            spec = self.spec.complete(self.origin)
            try:
                v = spec.record.apply(spec, inputs, self.origin).output
            except BadInput:
                return []
            if self.target is not None and v != self.target:
                return []
            return [(v, 0, [(0, (), None)])]
        layer = self.layer_for(inputs[0])
        found = layer.transitions(inputs[0], self.target)
        self.work += layer.work
        layer.work = 0
        return [(v, alpha, ranked) for v, _, alpha, ranked in found]

    def resolve(self, cfg, u):
        if cfg is None:
            return self.spec.complete(self.origin)
        return self.layer_for(u).resolve(cfg)


def _liveness(nodes, output: str) -> list:
    """For each layer j, the tensors still needed after it (in a fixed order)."""
    last: dict = {INPUT: -1}
    for j, node in enumerate(nodes):
        last[node.name] = j
        for source in node.sources:
            last[source] = j
    last[output] = len(nodes)
    order = [INPUT] + [node.name for node in nodes]
    return [tuple(t for t in order[: j + 2] if last[t] > j) for j in range(len(nodes))]


def plan_graph(
    shape, items, options, mode, rank, top, limit, maxima, everywhere, title, progress=None
) -> Result:
    """Count and rank every configuration of a graph plan (see the module docstring)."""

    nodes = plan_nodes(items)
    for node in nodes:
        if node.spec.record.outputs:
            raise BadInput(
                f"layer {node.index} {node.spec.describe()}: cnnplan plan does not "
                "search through layers with several outputs (split, chunk, unbind); "
                "cnnplan shapes and inputs read them"
            )
    output = options.get("output_layer") or nodes[-1].name
    shared: dict = {}
    planned = []
    for node, item in zip(nodes, items):
        charge(NODE_COST + len(node.sources))
        conditions = compile_conditions(item, item.origin or f"layer {node.index}")
        planned.append(Node(node, item, rank, mode, maxima, list(everywhere) + conditions, shared))
    live = _liveness(nodes, output)
    keep_best = rank in ("params", "macs") and top
    # a state: tuple of shapes of the live tensors; value: [count, best entries]
    states: dict[tuple, list] = {(tuple(shape),): [1, [Entry(0, (), ())]]}  # [count, best]
    names = (INPUT,)
    work = 0
    seen_inputs: list = []
    for j, (node, plan_node) in enumerate(zip(nodes, planned)):
        if progress:
            progress(f"layer {j + 1}/{len(nodes)}: {len(states)} states")
        position = {name: n for n, name in enumerate(names)}
        after = live[j]
        new_names = names + (node.name,)
        keep = [new_names.index(t) for t in after]
        nxt: dict = {}
        cache: dict = {}
        seen = set()
        for state, (count, best) in states.items():
            inputs = tuple(state[position[s]] for s in node.sources)
            seen.add(inputs)
            found = cache.get(inputs)
            if found is None:
                found = cache[inputs] = plan_node.transitions(inputs)
            charge(STATE_COST * (1 + len(found)) * (1 + (top if keep_best else 0)))
            for v, alpha, ranked in found:
                full = state + (v,)
                new_state = tuple(full[k] for k in keep)
                slot = nxt.get(new_state)
                if slot is None:
                    if len(nxt) >= MAX_STATES:
                        raise BadInput(
                            f"{plan_node.origin}: more than {MAX_STATES:,} "
                            "combinations of live shapes; give targets for "
                            "intermediate layers or smaller --max bounds"
                        )
                    slot = nxt[new_state] = [0, []]
                slot[0] += count * len(ranked)
                if keep_best:
                    slot[1] = _best(slot[1], best, alpha, ranked, top)
        work += plan_node.work
        plan_node.work = 0
        if work > WORK_LIMIT:
            raise BadInput(
                f"the plan is too large (over {WORK_LIMIT:,} transitions by "
                f"{plan_node.origin}); give targets or smaller --max bounds"
            )
        seen_inputs.append(sorted(seen))
        if not nxt:
            return _failure(shape, nodes, planned, j, seen, mode, maxima, title)
        states, names = nxt, tuple(after)
    count = sum(slot[0] for slot in states.values())
    if keep_best:
        entries = heapq.nsmallest(top, (e for slot in states.values() for e in slot[1]))
        networks = [_network(shape, nodes, planned, e.cfgs, output) for e in entries]
    elif rank == "rf" and top:
        networks = _rank_by_rf(shape, nodes, planned, output, count, top, mode, maxima, everywhere)
    else:
        networks = []
    return _result(
        shape, nodes, planned, count, networks, states, names, output, mode, rank, maxima, title
    )


def _best(current, best, alpha, ranked, top):
    """Merge the `top` best extensions of `best` by this layer's `ranked` configurations."""
    candidates = list(current)
    for entry in best[:top]:
        for w, simple, cfg in ranked[:top]:
            candidates.append(
                Entry(entry.cost + alpha * w, entry.simple + (simple,), entry.cfgs + (cfg,))
            )
    return heapq.nsmallest(top, candidates)


def _network(shape, nodes, planned, cfgs, output):
    """The forward pass of one chosen configuration."""
    shapes = {INPUT: tuple(shape)}
    specs = []
    for node, plan_node, cfg in zip(nodes, planned, cfgs):
        u = shapes[node.sources[0]]
        spec = plan_node.resolve(cfg, u)
        specs.append((node.name if node.named else None, spec, node.sources))
        shapes[node.name] = spec.record.apply(
            spec, tuple(shapes[s] for s in node.sources), ""
        ).output
    return forward(
        tuple(shape), build_nodes(specs), output=output if output != nodes[-1].name else ""
    )


def _rank_by_rf(shape, nodes, planned, output, count, top, mode, maxima, everywhere):
    """Every network, ranked by receptive field (only when there are few)."""
    if count > RF_RANK_LIMIT:
        raise BadInput(
            f"--rank rf over a graph ranks every network, and this plan has {count:,}"
            f" (the limit is {RF_RANK_LIMIT:,}); rank by params or macs, or narrow it"
        )
    everything = _enumerate(shape, nodes, planned)
    scored = []
    for cfgs in everything:
        net = _network(shape, nodes, planned, cfgs, output)
        scored.append((net.rf, tuple(simple_key(c) if c else () for c in cfgs), net))
    scored.sort(key=lambda t: (t[0], t[1]))
    return [net for _, _, net in scored[:top]]


def _enumerate(shape, nodes, planned):
    """Every configuration tuple (depth first over layers)."""
    stack = [({INPUT: tuple(shape)}, ())]
    while stack:
        shapes, cfgs = stack.pop()
        j = len(cfgs)
        if j == len(nodes):
            yield cfgs
            continue
        node = nodes[j]
        inputs = tuple(shapes[s] for s in node.sources)
        for v, _, ranked in planned[j].transitions(inputs):
            for _, _, cfg in ranked:
                stack.append(({**shapes, node.name: v}, cfgs + (cfg,)))


def _failure(shape, nodes, planned, j, seen, mode, maxima, title) -> Result:
    plan_node = planned[j]
    node = nodes[j]
    examples = sorted(seen)[:3]
    shown = "; ".join(", ".join(format_shape(s) for s in inputs) for inputs in examples)
    more = f" (and {len(seen) - 3} more)" if len(seen) > 3 else ""
    near = None
    if node.spec.record.join:
        note = (
            f"no network: {plan_node.origin} never lines up; its inputs "
            f"({', '.join(node.sources)}) reach {shown}{more}"
        )
    elif plan_node.target is not None:
        note = (
            f"no network: {plan_node.origin} cannot give its target "
            f"{format_shape(plan_node.target)} from {shown}{more}"
        )
        near = _nearest(plan_node, seen)
    else:
        note = (
            f"no network: {plan_node.origin} has no valid configuration within the bounds "
            f"for {shown}{more}"
        )
    data = {
        "input": list(shape),
        "mode": mode,
        "count": 0,
        "chains": [],
        "unreachable": {
            "layer": node.index,
            "name": node.name,
            "spec": node.spec.describe(),
            "target": list(plan_node.target) if plan_node.target else None,
            "inputs": [[list(s) for s in inputs] for inputs in examples],
        },
    }
    notes = [note]
    if near is not None:
        notes += near.notes(" there", "configuration")
        data["unreachable"].update(
            nearest=near.as_data(), distance=near.distance, complete=near.complete
        )
    facts = (
        ("input", format_shape(shape)),
        ("layers", len(nodes)),
        ("bounds", describe_bounds(maxima)),
        ("networks", 0),
    )
    return Result(
        title=f"{title or 'plan'} {format_shape(shape)}: 0 networks",
        facts=facts,
        notes=tuple(notes),
        data=data,
        exit_code=1,
        kind="plan",
    )


def _nearest(plan_node, seen):
    """The outputs nearest the layer's target from the inputs that reached it (those with the
    first one's channels, as one planner layer serves them), as the chain planner reports."""
    firsts = sorted({inputs[0] for inputs in seen})
    reach = [u for u in firsts if (u[0], len(u)) == (firsts[0][0], len(firsts[0]))]
    return diagnose(plan_node.node.index - 1, plan_node.layer_for(reach[0]), reach)["near"]


def _result(
    shape, nodes, planned, count, networks, states, names, output, mode, rank, maxima, title
) -> Result:
    outputs = sorted({state[names.index(output)] for state in states})
    goal = format_shape(outputs[0]) if len(outputs) == 1 else f"{len(outputs)} output shapes"
    facts = [
        ("input", format_shape(shape)),
        ("layers", len(nodes)),
        (
            "mode",
            "exact (s divides i + 2p - k')"
            if mode == "exact"
            else "floor (PyTorch: o = floor((i + 2p - k')/s) + 1)",
        ),
        ("bounds", describe_bounds(maxima)),
        ("networks", count),
    ]
    free = [plan_node.origin for plan_node in planned if plan_node.spec.window and plan_node.free]
    tables, chains = [], []
    for r, net in enumerate(networks, start=1):
        rows = []
        entries = []
        for step in net.steps:
            rows.append(
                (
                    step.index,
                    step.name,
                    brief_names(step.sources),
                    layer_text(step),
                    format_shape(step.output),
                )
            )
            cfg = cfg_row(window_values(step.spec) if step.spec.window else None)
            entries.append(
                {
                    "name": step.name,
                    "from": list(step.sources),
                    "spec": step.spec.canonical(),
                    "kind": step.spec.kind,
                    **cfg,
                    "output": list(step.output),
                }
            )
        chains.append(
            {
                "layers": entries,
                "params": net.params,
                "macs": net.macs,
                "rf": net.rf,
                "weights": net.weights,
            }
        )
        tables.append(
            Table(
                ("#", "name", "from", "layer", "output"),
                tuple(rows),
                f"network {r}: params {net.params}, macs {net.macs}, rf {net.rf}",
            )
        )
    notes = []
    if networks:
        notes.append(
            f"networks ranked by {rank}, ties simplest first (earlier layers first, "
            "each by d, p, k, s)"
        )
    if free:
        notes.append("free layers: " + "; ".join(free))
    data = {
        "input": list(shape),
        "output": [list(o) for o in outputs] if len(outputs) > 1 else list(outputs[0]),
        "mode": mode,
        "rank": rank,
        "count": count,
        "graph": True,
        "output_layer": output,
        "chains": chains,
    }
    return Result(
        title=f"{title or 'plan'} {format_shape(shape)} -> {goal}: {count} network"
        f"{'s' if count != 1 else ''}",
        facts=tuple(facts),
        tables=tuple(tables),
        notes=tuple(notes),
        data=data,
        kind="plan",
    )
