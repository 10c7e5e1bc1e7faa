"""The core's reporters: table, json, csv, markdown and latex renderings of any Result.

They are registered through the same `register_reporters` hook as any plugin's (see
`default_plugin.py`), so a third-party solver's Result renders in every format.
"""

from __future__ import annotations

import numbers
from typing import Any

from .result import Result, Table
from .usertext import visible


def format_value(value: Any) -> str:
    """A fact value or table cell as the core's text formats print it: None as empty, bools as
    true/false, floats to 10 significant digits, anything else (int, Decimal, str) as str().

    >>> [format_value(v) for v in (None, True, 0.1 + 0.2, 2.0, 1e-12, 7)]
    ['', 'true', '0.3', '2', '1e-12', '7']
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _is_number(value: Any) -> bool:
    """Numbers align right: int, float, and Decimal (printed as it is, trailing zeros kept)."""
    if type(value) in (int, float):  # the common case, without the slow ABC check
        return True
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def terminal_width() -> int | None:
    """The terminal's width when there is one (stdout a terminal, or COLUMNS set), else None:
    text piped to another program keeps its notes on one line each."""
    import os
    import sys

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), 40)
    if not sys.stdout.isatty():
        return None
    try:  # shutil.get_terminal_size's answer, without importing shutil (slow)
        return max(os.get_terminal_size(sys.stdout.fileno()).columns, 40)
    except (OSError, ValueError):
        return 80


def wrap_note(note: str, width: int | None) -> list[str]:
    """A note's lines, each within `width` columns where it has spaces to break at (continuation
    lines indented by two); `width=None` keeps it as it is.

    >>> wrap_note("nearest reachable outputs: 64x32x32 (1 solution), 64x34x34 (2 solutions)", 44)
    ['nearest reachable outputs: 64x32x32 (1', '  solution), 64x34x34 (2 solutions)']
    """
    if width is None:
        return note.split("\n")
    import textwrap

    lines = []
    for line in note.split("\n"):
        lines += textwrap.wrap(
            line, width, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False
        ) or [""]
    return lines


def render_table(result: Result, width: int | None = None) -> str:
    """Aligned plain-text columns for a terminal; notes wrapped to `width` columns (the table
    reporter gives the terminal's width, see terminal_width); control characters shown as
    escapes, so no text can move the cursor or reorder a line."""
    lines = [result.title] if result.title else []
    labels = max((len(label) for label, _ in result.facts), default=0)
    lines += [
        f"  {label + ':':<{labels + 1}} {format_value(value)}" for label, value in result.facts
    ]
    for table in result.tables:
        lines.append("")
        if table.title:
            lines.append(table.title)
        lines += _aligned(table)
    if result.notes:
        lines.append("")
        for note in result.notes:
            lines += wrap_note(note, width)
    return visible("\n".join(lines))


def render_terminal(result: Result) -> str:
    """The table format: render_table with the notes wrapped to the terminal's width."""
    return render_table(result, terminal_width())


def _width(text: str) -> int:
    """Columns `text` takes on a terminal: combining marks (the dot of v\u0307) take none."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(1 for ch in text if not unicodedata.combining(ch))


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


TABLE_WIDTH = 100  # a table with `wrap` columns is fitted to this many terminal columns
MIN_WRAP = 16  # narrowest a wrapped column becomes


MAX_CELL = 120  # characters of a cell the text table shows (longer: cut, marked '...')


def _cell(value, wrap: bool) -> str:
    text = format_value(value)
    if wrap or len(text) <= MAX_CELL:
        return text
    return text[: MAX_CELL - 3] + "..."


def _aligned(table: Table) -> list[str]:
    wraps = [name in table.wrap for name in table.columns]
    cells = [[_cell(v, w) for v, w in zip(row, wraps)] for row in table.rows]
    widths = [_width(c) for c in table.columns]
    for row in cells:
        widths = [max(w, _width(c)) for w, c in zip(widths, row)]
    numeric = [
        all(_is_number(row[j]) or row[j] is None for row in table.rows) and bool(table.rows)
        for j in range(len(table.columns))
    ]
    widths = _fitted(table, widths)

    def line(row):
        parts = [_pad(c, w, num) for c, w, num in zip(row, widths, numeric)]
        return "  ".join(parts).rstrip()

    out = [line(list(table.columns)), "  ".join("-" * w for w in widths)]
    for row in cells:
        out += [line(part) for part in _wrapped(row, widths)]
    return out


def _fitted(table: Table, widths: list[int]) -> list[int]:
    """Column widths with the table's `wrap` columns narrowed (widest first) until a line fits
    TABLE_WIDTH, none below MIN_WRAP."""
    wrap = [j for j, name in enumerate(table.columns) if name in table.wrap]
    widths = list(widths)
    while wrap and sum(widths) + 2 * (len(widths) - 1) > TABLE_WIDTH:
        j = max(wrap, key=lambda n: widths[n])
        if widths[j] <= MIN_WRAP:
            break
        widths[j] -= 1
    return widths


def _wrapped(row: list[str], widths: list[int]) -> list[list[str]]:
    """One row as terminal lines: a cell wider than its column wraps at spaces (or commas)."""
    if all(_width(c) <= w for c, w in zip(row, widths)):
        return [row]
    import textwrap

    pieces = [
        textwrap.wrap(c, w, break_on_hyphens=False) or [""] if _width(c) > w else [c]
        for c, w in zip(row, widths)
    ]
    height = max(len(p) for p in pieces)
    return [[p[n] if n < len(p) else "" for p in pieces] for n in range(height)]


def render_json(result: Result) -> str:
    """The result's machine document (`Result.data`), or its parts when it has none.

    JSON has no infinities or NaN: a float that is not finite is written as the string "inf",
    "-inf" or "nan" (never as the non-standard Infinity/NaN).
    """
    doc = (
        result.data
        if result.data is not None
        else {
            "title": result.title,
            "facts": dict(result.facts),
            "tables": [
                {"title": t.title, "columns": list(t.columns), "rows": [list(r) for r in t.rows]}
                for t in result.tables
            ],
            "notes": list(result.notes),
        }
    )
    try:
        return to_json(doc)
    except ValueError:  # a non-finite float somewhere: spell it as text
        return to_json(json_safe(doc))


def json_safe(value):
    """`value` with every non-finite float replaced by "inf", "-inf" or "nan"."""
    if isinstance(value, float):
        if value != value:
            return "nan"
        return value if abs(value) != float("inf") else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


_ENCODER = None  # json.JSONEncoder, made on first use
_STRING = None  # json's C string encoder, imported on first use


def to_json(value, indent: str = "") -> str:
    """JSON with two-space indents, but lists of plain values kept on one line.

    Strings and ints are written by json's C helpers directly, and a list of ints joined
    without an encoder call, so a large answer (solve's 1,432 rows) costs no json.dumps per
    value.
    """
    global _ENCODER, _STRING
    if _ENCODER is None:
        import json
        from json.encoder import encode_basestring

        _ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, allow_nan=False)
        _STRING = encode_basestring
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if kind is str:
        return _STRING(value)
    if kind is dict and value:
        inner = indent + "  "
        items = [
            f"{inner}{_STRING(k if type(k) is str else str(k))}: "
            f"{int.__repr__(v) if type(v) is int else to_json(v, inner)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if kind in (list, tuple):
        if all(type(v) is int for v in value):
            return "[" + ", ".join(map(int.__repr__, value)) + "]"
        if any(isinstance(v, (dict, list, tuple)) for v in value):
            inner = indent + "  "
            return (
                "[\n" + ",\n".join(inner + to_json(v, inner) for v in value) + "\n" + indent + "]"
            )
    return _ENCODER.encode(value)


def render_csv(result: Result) -> str:
    """Each table as CSV with a header row (tables separated by a blank line); facts if none."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    tables = result.tables or (Table(("fact", "value"), tuple(result.facts)),)
    for n, table in enumerate(tables):
        if n:
            buffer.write("\n")
        writer.writerow(table.columns)
        writer.writerows([format_value(v) for v in row] for row in table.rows)
    return buffer.getvalue().rstrip("\n")


def _md_text(text: str) -> str:
    """Text for markdown: HTML's <, > and & as entities (no tag, e.g. <script> or
    <svg onload=...>, reaches a renderer), control characters as visible escapes."""
    return visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _md_cell(value: Any) -> str:
    """A markdown table cell: HTML, pipes and asterisks escaped (not inside $...$ math)."""
    text = _md_text(format_value(value)).replace("|", "\\|").replace("\n", " ")
    if not (len(text) > 1 and text.startswith("$") and text.endswith("$")):
        text = text.replace("*", "\\*")
    return text


def render_markdown(result: Result) -> str:
    """GitHub-flavoured markdown: a heading, facts as a list, tables as pipe tables, notes."""
    lines = [f"### {_md_cell(result.title)}", ""] if result.title else []
    lines += [f"- **{_md_cell(label)}**: {_md_cell(value)}" for label, value in result.facts]
    for table in result.tables:
        lines.append("")
        if table.title:
            lines += [f"**{_md_text(table.title)}**", ""]
        lines.append("| " + " | ".join(_md_cell(c) for c in table.columns) + " |")
        lines.append(
            "|"
            + "|".join(
                "---:" if _numeric_column(table, j) else "---" for j in range(len(table.columns))
            )
            + "|"
        )
        lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in table.rows]
    if result.notes:
        lines.append("")
        lines += [f"{_md_text(note)}  " for note in result.notes]
    return "\n".join(lines).rstrip()


def _numeric_column(table: Table, j: int) -> bool:
    return bool(table.rows) and all(_is_number(r[j]) or r[j] is None for r in table.rows)


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "`": r"\textasciigrave{}",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text ('--' stays two hyphens, not a dash);
    a line break becomes a space (so text cannot leave a % comment) and control characters
    visible escapes."""
    text = visible(text).replace("\n", " ")
    escaped = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)
    while "--" in escaped:
        escaped = escaped.replace("--", "-{}-")
    return escaped


def latex_cell(value: Any) -> str:
    """A cell for a LaTeX table: text is escaped unless it is already math ($...$)."""
    text = format_value(value)
    if len(text) > 1 and text.startswith("$") and text.endswith("$"):
        return text
    return latex_escape(text)


def render_latex(result: Result) -> str:
    """booktabs tables (\\usepackage{booktabs}); facts as a description list."""
    lines = [f"% {latex_escape(result.title)}"] if result.title else []
    if result.facts:
        lines.append(r"\begin{description}")
        lines += [
            rf"  \item[{latex_escape(label)}] {latex_cell(value)}" for label, value in result.facts
        ]
        lines.append(r"\end{description}")
    for table in result.tables:
        align = "".join(
            "r" if _numeric_column(table, j) else "l" for j in range(len(table.columns))
        )
        if table.title:
            lines += [r"\begin{table}[h]", r"\centering"]
        lines.append(rf"\begin{{tabular}}{{{align}}}")
        lines.append(r"\toprule")
        lines.append(" & ".join(latex_cell(c) for c in table.columns) + r" \\")
        lines.append(r"\midrule")
        lines += [" & ".join(latex_cell(v) for v in row) + r" \\" for row in table.rows]
        lines.append(r"\bottomrule")
        lines.append(r"\end{tabular}")
        if table.title:
            lines.append(rf"\caption{{{latex_escape(table.title)}}}")
            lines.append(r"\end{table}")
    lines += [latex_escape(note) + r" \par" for note in result.notes]
    return "\n".join(line for line in lines if line != "").rstrip()
