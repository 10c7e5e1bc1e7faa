"""Pictures of results: SVG diagrams and self-contained HTML pages.

`render_svg(result)` draws a `solve` result (windows on grids), a `shapes` or `plan` network
(blocks, branches and joins) or an autodiff trace (its computational graph), recognised by the
keys of `Result.data`; other results have no picture (BadInput). The modules are imported only
when a picture is asked for.
"""

from __future__ import annotations

from ..platform.result import Result
from .dispatch import picture_kind, render_svg, render_svg_animated


def with_collapse(result: Result, depth: int) -> Result:
    """`result` (of shapes) whose network picture draws every group of layers deeper than
    `depth` as one box: its data gains "collapse": depth."""
    from dataclasses import replace

    return replace(result, data={**result.data, "collapse": depth})


def render_html(result: Result) -> str:
    """A self-contained HTML page of any result: facts, tables, notes and its picture."""
    from .html import render_html as page

    return page(result)


__all__ = ["picture_kind", "render_html", "render_svg", "render_svg_animated", "with_collapse"]
