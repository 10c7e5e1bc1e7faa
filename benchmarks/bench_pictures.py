"""Benchmark of network pictures (run by hand: python benchmarks/bench_pictures.py).

The time to draw the layered picture (`cnnplan shapes NET.toml --format svg`: layout and SVG)
of imported ResNet-18, ResNet-50 and DenseNet-121, open and collapsed, against the baseline of
the forward pass that makes the result it draws (`cnnplan.shapes`), measured in the same run
(best of 3). Also how many rows and edge lanes (dummy nodes) the layout places.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cnnplan  # noqa: E402
from cnnplan.pictures import render_svg, with_collapse  # noqa: E402

NETWORKS = ROOT / "examples" / "networks"


def best_of(function, repeat: int = 3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return value, min(times)


def lanes(result) -> tuple[int, int]:
    """(rows, dummy nodes) of the layout of a result's network."""
    from cnnplan.pictures.layout import ranks_of
    from cnnplan.pictures.network import collapse, nodes_of

    nodes = collapse(nodes_of(result.data), result.data.get("collapse"))
    names = {n.name for n in nodes}
    edges = [(s, n.name) for n in nodes for s in n.sources if s in names]
    rank = ranks_of([n.name for n in nodes], edges)
    return 1 + max(rank.values()), sum(rank[b] - rank[a] - 1 for a, b in edges)


def main() -> None:
    print(f"{'network':<22} {'layers':>6} {'rows':>5} {'lanes':>6} {'shapes s':>9} "
          f"{'svg s':>7} {'ratio':>6} {'KiB':>6}")
    for name, depth in (("resnet18", None), ("resnet50", None), ("resnet50", 1),
                        ("resnet50", 2), ("densenet121", None), ("densenet121", 2)):
        path = str(NETWORKS / f"{name}.toml")
        result, base = best_of(lambda path=path: cnnplan.shapes(plan_file=path))
        if depth is not None:
            result = with_collapse(result, depth)
        svg, drawn = best_of(lambda result=result: render_svg(result))
        rows, dummies = lanes(result)
        label = name + (f" --collapse {depth}" if depth else "")
        print(f"{label:<22} {len(result.data['layers']):>6} {rows:>5} {dummies:>6} "
              f"{base:>9.3f} {drawn:>7.3f} {drawn / base:>6.1f} {len(svg) / 1024:>6.0f}")


if __name__ == "__main__":
    main()
