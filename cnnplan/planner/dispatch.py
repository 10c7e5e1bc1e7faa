"""`cnnplan plan` as the CLI and the library ask it: the question read, then planned as a chain
(chain.py) or as a graph (graph.py)."""

from __future__ import annotations

from ..kinds.arithmetic import MODES
from ..language.options import parse_assignments
from ..language.planfile import PlanLayer, gather
from ..language.where import parse_where
from ..network.forward import plan_nodes
from ..platform import arguments
from ..platform.budget import budgeted
from ..platform.errors import BadInput, unknown_message
from ..platform.result import Result
from ..solver.bounds import resolve_bounds
from ..solver.search import VARIABLES
from ..solver.windows import RANKS
from .chain import DEFAULT_TOP, MAX_TOP, build_layers, run
from .graph import is_graph, plan_graph
from .report import plan_result

MEMORY_RANKS = ("peak", "train")  # chains only (network/memory.py edge_costs)


@budgeted
def plan(
    input=None,
    layers=(),
    plan_file=None,
    out=None,
    max=None,
    mode=None,
    where=(),
    rank=None,
    top=None,
    limit=None,
    progress=None,
    batch=None,
    dtype=None,
    optimizer=None,
    device=None,
) -> Result:
    """Count and rank every chain of configurations that satisfies the plan's targets; each
    chain's memory at `batch` in `dtype` (docs/memory.md), and with rank "peak" or "train"
    the chains ordered by their inference peak or training total.

    >>> plan("3x64x64", ["conv(64, k=8, d=1) -> 64x32x32"]).data["count"]
    1
    """
    where = arguments.texts(where, "where")
    max = arguments.assignments(max, "max")
    for value, name in ((mode, "mode"), (rank, "rank")):
        arguments.choice(value, name)
    shape, items, options, title = gather(input, layers, plan_file, out)
    if any(item.name for item in items):
        plan_nodes(items)  # names unique, every `from` an earlier layer (a chain plan's too)
    mode = str(mode or options.get("mode", "floor")).lower()
    rank = str(rank or options.get("rank", "params")).lower()
    top = options.get("top", DEFAULT_TOP) if top is None else top
    if mode not in MODES:
        raise BadInput(unknown_message("mode", mode, MODES))
    if rank not in RANKS + MEMORY_RANKS:
        raise BadInput(unknown_message("rank", rank, RANKS + MEMORY_RANKS))
    from ..network.memory import check_options

    memory = check_options(batch or 1, dtype or "float32", optimizer or "adam", device or "cuda")
    if type(top) is not int or not 0 <= top <= MAX_TOP:
        raise BadInput(f"--top {top!r} must be a whole number from 0 to {MAX_TOP}")
    if limit is not None and (type(limit) is not int or limit < 0):
        raise BadInput(f"--limit {limit!r} must be a whole number >= 0")
    maxima = dict(options.get("max", {}))
    maxima.update(parse_assignments(max, VARIABLES, "--max"))
    maxima = parse_assignments(maxima, VARIABLES, "--max")
    resolve_bounds((1,), {}, maxima)  # checks the --max values
    where_texts = list(options.get("where", ())) + list(
        [where] if isinstance(where, str) else where or ()
    )
    everywhere, per_layer = parse_where(where_texts, len(items))
    for n, texts in per_layer.items():
        item = items[n - 1]
        items[n - 1] = PlanLayer(
            item.spec,
            item.target,
            tuple(item.where) + tuple(texts),
            item.origin,
            item.name,
            item.sources,
        )

    if is_graph(items, options):
        if rank in MEMORY_RANKS:
            raise BadInput(
                f"--rank {rank} ranks chains; this plan is a graph (rank it by "
                "params, macs or rf, then ask `cnnplan shapes --batch` of a network)"
            )
        return plan_graph(
            shape, items, options, mode, rank, top, limit, maxima, everywhere, title, progress
        )
    if rank in MEMORY_RANKS:
        outcome = rank_by_memory(
            shape, items, mode, maxima, everywhere, rank, top, memory, progress
        )
    else:
        layers = build_layers(shape, items, mode, maxima, everywhere, rank)
        outcome = run(shape, layers, top, progress)
    if outcome.failure and mode == "exact":
        outcome.other_mode = _floor_answer(
            shape, items, maxima, everywhere, rank, outcome.failure["layer"]
        )
    if progress:
        progress(f"writing the answer ({len(outcome.chains)} chains)")
    return plan_result(outcome, mode, rank, maxima, everywhere, title, limit, memory)


def rank_by_memory(shape, items, mode, maxima, everywhere, rank, top, memory, progress):
    """Plan a chain ranked by inference peak or training total: one chain first tells what
    each layer keeps (network/memory.py edge_costs), then every layer's step is priced by it."""
    from ..network.memory import edge_costs
    from .report import chain_network

    probe = run(shape, build_layers(shape, items, mode, maxima, everywhere, "params"), 1)
    if not probe.chains:
        return run(shape, build_layers(shape, items, mode, maxima, everywhere, "params"), 0)
    costs = edge_costs(chain_network(probe, probe.chains[0][1]), rank, *memory)
    layers = build_layers(shape, items, mode, maxima, everywhere, rank)
    for layer, cost in zip(layers, costs):
        layer.edge_cost = cost
    return run(shape, layers, top, progress)


def _floor_answer(shape, items, maxima, everywhere, rank, failed: int) -> dict | None:
    """When exact mode has no chain: how many PyTorch's floor rule has, and how many
    configurations the layer where exact mode broke has there (None if floor has none either
    or the search is too large)."""
    try:
        outcome = run(shape, build_layers(shape, items, "floor", maxima, everywhere, rank), 0)
    except BadInput:
        return None
    if not outcome.count:
        return None
    return {
        "mode": "floor",
        "count": outcome.count,
        "layer": failed,
        "choices": outcome.choices[failed - 1],
    }
