"""A layered (Sugiyama-style) layout of a directed acyclic graph, top to bottom, in pure Python.

The classic four steps (Sugiyama, Tagawa & Toda 1981; Gansner et al. 1993):
1. ranks: each node one row below its lowest source (longest path from the sources);
2. an edge spanning several rows gets a dummy node in each row it passes, so it owns a lane
   there and no box can sit on it;
3. crossing reduction: barycentre sweeps down and up, keeping the order with fewest crossings;
4. x positions: each row placed as close as possible to its neighbours' mean (weighted so
   long edges stay straight) without overlapping, by weighted isotonic regression.

Each edge then leaves its source through its own port on the box's bottom and arrives
through its own port on the target's top, so no two edges share an end and a join shows
every input arriving. Between rows an edge is a curve; inside a row it is a vertical line in
its own lane, so it never crosses a box.
"""

from __future__ import annotations

from dataclasses import dataclass

SWEEPS = 8  # down-and-up barycentre sweeps (the best order seen is kept)
PLACEMENT = 8  # down-and-up placement sweeps
LANE = 14.0  # pixels between an edge's lane and its neighbour in a row
GAP = 26.0  # pixels between boxes in a row
PORT = 14.0  # at most this many pixels between the ports of one box side
STRAIGHT = 24.0  # a hop moving sideways by more gets a horizontal track of its own
TRACK, TRACK_MARGIN = 6.0, 12.0  # pixels between tracks, and from the rows to the tracks


@dataclass
class Placed:
    """Where a node went: centre x, top y, width, height and its row."""

    x: float
    y: float
    w: float
    h: float
    rank: int


@dataclass
class Layout:
    boxes: dict  # name -> Placed
    routes: list  # per input edge: its points, from the source's port to the target's
    width: float
    height: float


def ranks_of(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each node's row: 0 for nodes without sources, else one below its lowest source.
    `nodes` must be in an order where sources come first (a network's layer order)."""
    rank: dict[str, int] = {}
    sources: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        sources[b].append(a)
    for node in nodes:
        rank[node] = 1 + max((rank[s] for s in sources[node]), default=-1)
    return rank


def _crossings(upper: list[int], lower_of: dict, pos: dict) -> int:
    """Crossings between a row and the next: inversions among the lower ends of the edges
    taken in the order of their upper ends (a Fenwick tree)."""
    ends = sorted((pos[u], pos[v]) for u in upper for v in lower_of[u])
    size = 1 + max((v for _, v in ends), default=0)
    tree = [0] * (size + 1)
    count = seen = 0
    for _, v in ends:
        i, below = v + 1, 0
        while i > 0:
            below += tree[i]
            i -= i & -i
        count += seen - below
        seen += 1
        i = v + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return count


def _order(rows: list[list[int]], up: dict, down: dict) -> list[list[int]]:
    """Rows reordered by barycentre sweeps until a sweep removes less than 2 % of the
    crossings; the order with fewest crossings seen."""
    rows = [list(r) for r in rows]
    pos = {v: i for row in rows for i, v in enumerate(row)}

    def total():
        return sum(_crossings(rows[r], down, pos) for r in range(len(rows) - 1))

    best = before = total()
    best_rows = [list(r) for r in rows]
    for _ in range(SWEEPS):
        if best == 0:
            break
        for sweep, near in ((range(1, len(rows)), up), (range(len(rows) - 2, -1, -1), down)):
            for r in sweep:
                row = rows[r]
                keys = {}
                for v in row:
                    others = near[v]
                    keys[v] = (
                        pos[others[0]]
                        if len(others) == 1
                        else sum(pos[u] for u in others) / len(others)
                        if others
                        else pos[v]
                    )
                row.sort(key=keys.__getitem__)
                pos.update((v, i) for i, v in enumerate(row))
        now = total()
        if now < best:
            best, best_rows, before = now, [list(r) for r in rows], best
        if now > before * 0.98:  # less than 2 % fewer crossings: good enough
            break
    return best_rows


def _pack(desired: list[float], weights: list[float], gaps: list[float]) -> list[float]:
    """x minimising sum(w (x - desired)^2) with x[i+1] - x[i] >= gaps[i] (pool adjacent
    violators on x minus the gaps before it)."""
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    ws: list[float] = []  # the pooled blocks: weight, weighted sum, count
    sums: list[float] = []
    counts: list[int] = []
    for d, w, o in zip(desired, weights, offsets):
        w_, s_, c_ = w, w * (d - o), 1
        while ws and sums[-1] * w_ > s_ * ws[-1]:
            w_ += ws.pop()
            s_ += sums.pop()
            c_ += counts.pop()
        ws.append(w_)
        sums.append(s_)
        counts.append(c_)
    out: list[float] = []
    for w, s, c in zip(ws, sums, counts):
        out += [s / w] * c
    return [x + o for x, o in zip(out, offsets)]


def _place(rows, up, down, width, dummy) -> dict[int, float]:
    """Centre x of every node: rows packed, then pulled towards their neighbours until a
    down-and-up sweep moves no node by a pixel more than the others."""

    def weight(a, b):
        return 8.0 if dummy[a] and dummy[b] else 0.1 if dummy[a] or dummy[b] else 4.0

    gaps = [
        [
            (width[a] + width[b]) / 2 + (LANE if dummy[a] or dummy[b] else GAP)
            for a, b in zip(row, row[1:])
        ]
        for row in rows
    ]
    x: dict[int, float] = {}
    for row, gap in zip(rows, gaps):
        x.update(zip(row, _pack([0.0] * len(row), [1.0] * len(row), gap)))
    weighted = [{v: [(u, weight(u, v)) for u in near[v]] for v in x} for near in (up, down)]
    for _ in range(PLACEMENT):
        before = dict(x)
        for sweep, near in (
            (range(1, len(rows)), weighted[0]),
            (range(len(rows) - 2, -1, -1), weighted[1]),
        ):
            for r in sweep:
                row = rows[r]
                desired, weights = [], []
                for v in row:
                    total = at = 0.0
                    for u, w in near[v]:
                        total += w
                        at += w * x[u]
                    desired.append(at / total if total else x[v])
                    weights.append(total or 0.05)
                x.update(zip(row, _pack(desired, weights, gaps[r])))
        moved = [x[v] - before[v] for v in x]
        if max(moved) - min(moved) < 1.0:  # the sweeps agree (up to a shift of all)
            break
    return x


def layered(
    nodes: list[str],
    edges: list[tuple[str, str]],
    sizes: dict,
    gaps: list[float] | None = None,
    margin: float = 10.0,
) -> Layout:
    """Lay out `nodes` (sources before what reads them) joined by `edges` (source, target;
    repeats allowed), each node `sizes[name] = (width, height)`. `gaps[r]` is the space
    between row r and row r + 1 (default GAP * 1.4). Coordinates start at `margin`."""
    rank = ranks_of(nodes, edges)
    count = 1 + max(rank.values(), default=0)
    ids = {name: i for i, name in enumerate(nodes)}
    width = {i: float(sizes[n][0]) for n, i in ids.items()}
    dummy = dict.fromkeys(ids.values(), False)
    node_rank = {ids[n]: r for n, r in rank.items()}
    up: dict[int, list[int]] = {i: [] for i in ids.values()}
    down: dict[int, list[int]] = {i: [] for i in ids.values()}
    chains = []  # per edge: the node ids it passes, in order
    key = {i: float(i) for i in ids.values()}  # the first order: written order
    for a, b in edges:
        chain = [ids[a]]
        for r in range(rank[a] + 1, rank[b]):
            d = len(width)
            width[d], dummy[d], node_rank[d] = 0.0, True, r
            up[d], down[d] = [], []
            key[d] = ids[a] + 0.5
            chain.append(d)
        chain.append(ids[b])
        for u, v in zip(chain, chain[1:]):
            down[u].append(v)
            up[v].append(u)
        chains.append(chain)
    rows: list[list[int]] = [[] for _ in range(count)]
    for v in sorted(node_rank, key=lambda v: key[v]):
        rows[node_rank[v]].append(v)
    rows = _order(rows, up, down)
    x = _place(rows, up, down, width, dummy)
    left = min(x[v] - width[v] / 2 for v in x)
    x = {v: at - left + margin for v, at in x.items()}

    heights = [max((sizes[nodes[v]][1] for v in row if not dummy[v]), default=0.0) for row in rows]

    # ports: a box's edges leave (and arrive) in the left-to-right order of their other ends
    out_port: dict[tuple[int, int], float] = {}
    in_port: dict[tuple[int, int], float] = {}
    for side, ports, next_of in (("out", out_port, 1), ("in", in_port, -2)):
        by_node: dict[int, list[tuple[float, int]]] = {}
        for e, chain in enumerate(chains):
            end = chain[0] if side == "out" else chain[-1]
            by_node.setdefault(end, []).append((x[chain[next_of]], e))
        for v, items in by_node.items():
            items.sort()
            n = len(items)
            step = min(PORT, (width[v] - 16) / max(1, n - 1))
            for k, (_, e) in enumerate(items):
                ports[(v, e)] = x[v] + (k - (n - 1) / 2) * step

    # each edge's x in every row it passes; a hop that moves far sideways between two rows
    # gets its own horizontal track in the gap, so that no two such hops run together
    xs = [
        [out_port[(c[0], e)], *(x[d] for d in c[1:-1]), in_port[(c[-1], e)]]
        for e, c in enumerate(chains)
    ]
    sideways: dict[int, list[tuple[int, float, int, int]]] = {}
    for e, (c, at) in enumerate(zip(chains, xs)):
        for k, (x1, x2) in enumerate(zip(at, at[1:])):
            if abs(x2 - x1) > STRAIGHT:
                order = (0, x1) if x2 < x1 else (1, -x1)  # fewest crossings among tracks
                sideways.setdefault(node_rank[c[0]] + k, []).append((*order, e, k))
    track: dict[tuple[int, int], int] = {}
    for hops in sideways.values():
        for n, (_, _, e, k) in enumerate(sorted(hops)):
            track[(e, k)] = n
    gaps = list(gaps) if gaps is not None else [GAP * 1.4] * max(0, count - 1)
    for r, hops in sideways.items():
        gaps[r] = max(gaps[r], 2 * TRACK_MARGIN + (len(hops) - 1) * TRACK)
    tops, y = [], margin
    for r in range(count):
        tops.append(y)
        y += heights[r] + (gaps[r] if r < count - 1 else 0)
    boxes = {}
    for name, i in ids.items():
        w, h = sizes[name]
        r = node_rank[i]
        boxes[name] = Placed(x[i], tops[r] + (heights[r] - h) / 2, w, h, r)

    routes = []
    for e, (chain, at) in enumerate(zip(chains, xs)):
        first, last = boxes[nodes[chain[0]]], boxes[nodes[chain[-1]]]
        points = [(at[0], first.y + first.h)]
        for k in range(len(chain) - 1):
            r = first.rank + k
            below, above = tops[r] + heights[r], tops[r + 1]
            points.append((at[k], below))
            slot = track.get((e, k))
            if slot is not None:
                used = len(sideways[r])
                ty = below + (above - below - (used - 1) * TRACK) / 2 + slot * TRACK
                points += [(at[k], ty), (at[k + 1], ty)]
            points.append((at[k + 1], above))
        points.append((at[-1], last.y))
        routes.append([p for n, p in enumerate(points) if n == 0 or p != points[n - 1]])
    right = max((x[v] + width[v] / 2 for v in x), default=0.0)
    return Layout(boxes, routes, right + margin, y + margin)
