"""The one Result type every solver returns and every reporter renders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .frozen import Frozen


@dataclass(init=False, repr=False, eq=False)
class Table(Frozen):
    """A titled table: column names and rows of plain values (str, int, float, None);
    `wrap` names text columns the table format may wrap to fit a terminal."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    title: str = ""
    wrap: tuple[str, ...] = ()

    _fields = ("columns", "rows", "title", "wrap")

    def __init__(
        self,
        columns: tuple[str, ...],
        rows: tuple[tuple[Any, ...], ...],
        title: str = "",
        wrap: tuple[str, ...] = (),
    ):
        self._set(columns, rows, title, wrap)


@dataclass(init=False, repr=False, eq=False)
class Result(Frozen):
    """What a solver found.

    title: one line naming the question; facts: ordered (label, value) pairs for people;
    tables: the answer's rows; notes: sentences shown after the tables; data: the JSON
    document (the stable machine interface); exit_code: 0 answered, 1 no solution; kind: what
    made it, e.g. "solve" or "shapes" (`data` then follows the schema `cnnplan.schema(kind)`
    returns), or "" when unnamed.
    """

    title: str
    facts: tuple[tuple[str, Any], ...] = ()
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()
    data: Any = None
    exit_code: int = 0
    kind: str = ""

    _fields = ("title", "facts", "tables", "notes", "data", "exit_code", "kind")

    def __init__(
        self,
        title: str,
        facts: tuple[tuple[str, Any], ...] = (),
        tables: tuple[Table, ...] = (),
        notes: tuple[str, ...] = (),
        data: Any = None,
        exit_code: int = 0,
        kind: str = "",
    ):
        self._set(title, facts, tables, notes, data, exit_code, kind)

    def fact(self, label: str, default=None):
        """The value of the fact named `label`."""
        for key, value in self.facts:
            if key == label:
                return value
        return default

    def _repr_html_(self) -> str | None:
        """Jupyter: the result as HTML (tables, and its picture if it has one)."""
        return display(self, "html") if display else None

    def _repr_svg_(self) -> str | None:
        """Jupyter: the result's SVG picture, or None when it has none."""
        return display(self, "svg") if display else None


#: How Jupyter shows a Result: (result, "html" | "svg") -> text or None. The pictures sit above
#: the platform, so the top-level package sets this (cnnplan/__init__.py).
display: Callable[[Result, str], str | None] | None = None
