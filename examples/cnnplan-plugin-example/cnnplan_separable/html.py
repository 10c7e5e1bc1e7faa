"""Any cnnplan Result as a small, self-contained HTML fragment."""

from __future__ import annotations

from html import escape

from cnnplan import Result
from cnnplan import format_value


def render_html(result: Result) -> str:
    parts = [f"<h2>{escape(result.title)}</h2>"]
    if result.facts:
        parts.append("<dl>" + "".join(
            f"<dt>{escape(str(k))}</dt><dd>{escape(format_value(v))}</dd>" for k, v in result.facts
        ) + "</dl>")
    for table in result.tables:
        head = "".join(f"<th>{escape(str(c))}</th>" for c in table.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(format_value(v))}</td>" for v in row) + "</tr>"
            for row in table.rows)
        caption = f"<caption>{escape(table.title)}</caption>" if table.title else ""
        parts.append(f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts += [f"<p>{escape(note)}</p>" for note in result.notes]
    return "\n".join(parts)
