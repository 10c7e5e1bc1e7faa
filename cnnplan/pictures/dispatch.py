"""Which picture a Result has, and the SVG drawer that makes it."""

from __future__ import annotations

from ..platform.errors import BadInput
from ..platform.result import Result


def picture_kind(data) -> str | None:
    """'solve', 'plan', 'network' or 'graph' for data that has a picture, else None."""
    if not isinstance(data, dict):
        return None
    if "input" in data and ("solutions" in data or "axes" in data) and "bounds" in data:
        return "solve"
    if isinstance(data.get("chains"), list) and "input" in data:
        return "plan"
    if isinstance(data.get("layers"), list) and "input" in data:
        return "network"
    if isinstance(data.get("primal"), list) and "expression" in data:
        return "graph"
    return None


def render_svg(result: Result, animate: bool = False) -> str:
    """The SVG picture of `result`; BadInput naming what can be drawn if it has none."""
    kind = picture_kind(result.data)
    if kind == "solve":
        from .layer import render_solve

        return render_solve(result.data, animate)
    if animate:
        raise BadInput(
            "svg-animated draws solve results only (cnnplan solve ...); use --format svg"
        )
    if kind == "network":
        from .network import render_network

        return render_network(result.data, result.title)
    if kind == "plan":
        from .network import render_plan

        return render_plan(result.data, result.title)
    if kind == "graph":
        from .graph import render_graph

        return render_graph(result.data)
    raise BadInput(
        "the svg format draws solve, shapes, plan and ad results; choose another "
        "--format (html shows any result)"
    )


def render_svg_animated(result: Result) -> str:
    """A solve result's diagrams with the window stepping over the input (SMIL, no script)."""
    return render_svg(result, animate=True)
