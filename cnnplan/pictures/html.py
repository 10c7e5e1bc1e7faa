"""`--format html`: any Result as a self-contained page (no script, no remote asset): title,
facts, tables, notes, and the result's SVG picture when it has one. Everything is escaped."""

from __future__ import annotations

from html import escape as _escape

from ..platform.reporters import format_value
from ..platform.result import Result
from ..platform.usertext import visible

CSS = (
    "body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;"
    "padding:2px 8px}td.num{text-align:right}th{background:#f3f3f3}dt{font-weight:bold;"
    "float:left;clear:left;margin-right:.5em}dd{margin:0 0 .2em 0}"
    "figure{margin:1em 0;overflow:auto}.notes{color:#444}"
)


NUM = ' class="num"'


def escape(text) -> str:
    """Text for HTML: markup escaped, control and invisible characters as visible escapes."""
    return _escape(visible(text))


def _text(value) -> str:
    """A value as the text formats print it, but whole numbers with thousands separators."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    return f"{value:,}" if whole else format_value(value)


def _cell(value) -> str:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return f"<td{NUM if number else ''}>{escape(_text(value))}</td>"


def fragment(result: Result) -> str:
    """The result as an HTML fragment (what a notebook shows)."""
    from .dispatch import picture_kind, render_svg
    from .svg import strip_declaration

    parts = [f'<div class="cnnplan-result"><h3>{escape(result.title)}</h3>']
    if result.facts:
        parts.append(
            "<dl>"
            + "".join(
                f"<dt>{escape(str(k))}:</dt><dd>{escape(_text(v))}</dd>" for k, v in result.facts
            )
            + "</dl>"
        )
    for table in result.tables:
        caption = f"<caption>{escape(table.title)}</caption>" if table.title else ""
        head = "".join(f"<th>{escape(str(c))}</th>" for c in table.columns)
        rows = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in table.rows)
        parts.append(f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    if result.notes:
        parts.append(
            '<div class="notes">' + "".join(f"<p>{escape(n)}</p>" for n in result.notes) + "</div>"
        )
    if picture_kind(result.data):
        parts.append(f"<figure>{strip_declaration(render_svg(result))}</figure>")
    parts.append("</div>")
    return "\n".join(parts)


def render_html(result: Result) -> str:
    """A standalone HTML page of the result."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{escape(result.title or 'cnnplan')}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            fragment(result),
            "</body>",
            "</html>",
        ]
    )
