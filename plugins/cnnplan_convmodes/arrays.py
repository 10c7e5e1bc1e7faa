"""Arrays as users type them: parsing, validation and display of 1-D lists and 2-D matrices.

Accepted text: `1,2,3,4`, `1 2 3 4`, `[1,2,3,4]`, `[[1,2],[3,4]]`, `1,2;3,4` (rows split by `;`
or by line breaks), and CSV (one line per row). Numbers are parsed by hand, never evaluated: integers stay Python
ints, anything with a point or exponent becomes a float; NaN and infinities are refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Union

from cnnplan import BadInput, format_value, read_bounded, show_path

Number = Union[int, float]

MAX_TEXT = 4_000_000        # characters of array text (argument or file)
MAX_ELEMENTS = 65_536       # values in one array (e.g. 256 x 256)
MAX_TOKEN = 64              # characters in one number

_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_NONFINITE_RE = re.compile(r"^[+-]?(nan|inf|infinity)$", re.IGNORECASE)
_TOKEN_RE = re.compile(r"\[|\]|,|;|[^\s\[\],;]+")


@dataclass(frozen=True)
class Grid:
    """A 1-D list (one row, ndim 1) or a 2-D matrix (ndim 2) of ints and floats."""

    rows: tuple[tuple[Number, ...], ...]
    ndim: int

    @property
    def shape(self) -> tuple[int, ...]:
        """(n,) for a list, (rows, columns) for a matrix."""
        if self.ndim == 1:
            return (len(self.rows[0]),)
        return (len(self.rows), len(self.rows[0]))

    @property
    def size(self) -> int:
        return len(self.rows) * len(self.rows[0])

    def tolist(self):
        """Plain lists: [1, 2] for a list, [[1, 2], [3, 4]] for a matrix."""
        if self.ndim == 1:
            return list(self.rows[0])
        return [list(row) for row in self.rows]

    def flipped(self) -> "Grid":
        """The array reversed along every axis (the kernel flip of a convolution)."""
        return Grid(tuple(tuple(reversed(row)) for row in reversed(self.rows)), self.ndim)


def parse_number(token: str, what: str, quote=repr) -> Number:
    """'3' -> 3, '-2.5' -> -2.5, '1e3' -> 1000.0; NaN, inf and anything else -> BadInput.

    `quote` shows the token in messages (a file's text passes one that hides it)."""
    if len(token) > MAX_TOKEN:
        shown = quote(token[:20] + "...")
        raise BadInput(f"{what}: number {shown} is too long ({len(token)} characters)")
    if _NONFINITE_RE.match(token):
        raise BadInput(f"{what}: {quote(token)} is not a finite number (NaN and infinities are "
                       "refused)")
    if _INT_RE.match(token):
        return int(token)
    if _FLOAT_RE.match(token):
        value = float(token)
        if not math.isfinite(value):
            raise BadInput(f"{what}: {quote(token)} overflows to infinity")
        return value + 0.0  # -0.0 -> 0.0
    raise BadInput(f"{what}: {quote(token)} is not a number")


def _hidden(token: str) -> str:
    """How a file's text appears in messages: not at all (errors never echo file contents)."""
    return "a value in the file"


def parse_array(text: str, what: str = "array", quote=repr) -> Grid:
    """Parse array text (see the module docstring) into a Grid; BadInput says what is wrong."""
    if not isinstance(text, str):
        raise BadInput(f"{what}: expected text, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise BadInput(f"{what} is too long ({len(text):,} characters; limit {MAX_TEXT:,})")
    tokens = _TOKEN_RE.findall(text)
    if not tokens:
        raise BadInput(f"{what} is empty")
    if "[" not in tokens and "]" not in tokens and "\n" in text.strip():
        tokens = _TOKEN_RE.findall(";".join(line for line in text.splitlines() if line.strip()))
    if "[" in tokens or "]" in tokens:
        if ";" in tokens:
            raise BadInput(f"{what}: use either brackets [[1,2],[3,4]] or ';' between rows, not both")
        return _from_nested(_parse_brackets(tokens, what, quote), what)
    rows = _split(tokens, ";", what, "row")
    values = [[parse_number(t, what, quote) for t in _items(row, what)] for row in rows]
    return _grid(values, 2 if len(values) > 1 else 1, what)


def parse_csv(text: str, what: str = "array", quote=repr) -> Grid:
    """CSV text: one line is a 1-D list, one value per line is a 1-D list, else a matrix.

    Blank lines and lines starting with '#' are skipped; text that starts with '[' is read in
    bracket syntax instead.
    """
    lines = [line for line in text.lstrip("\ufeff").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise BadInput(f"{what} is empty")
    if lines[0].lstrip().startswith("["):
        return parse_array("\n".join(lines), what, quote)
    grid = parse_array(";".join(lines), what, quote)
    if grid.ndim == 2 and len(grid.rows[0]) == 1:
        return Grid((tuple(row[0] for row in grid.rows),), 1)
    return grid


def load_argument(value: str, what: str) -> Grid:
    """A command-line array: text, or `@path` to read a CSV (or bracket-syntax) file."""
    if not value.startswith("@"):
        return parse_array(value, what)
    path = value[1:]
    if not path:
        raise BadInput(f"{what}: '@' must be followed by a file name, e.g. @signal.csv")
    data = read_bounded(path, MAX_TEXT * 4, f"{what} file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{what}: {show_path(path)} is not UTF-8 text (byte {exc.start})") from None
    return parse_csv(text, f"{what} ({show_path(path)[1:-1]})", _hidden)


def as_grid(value, what: str) -> Grid:
    """A Grid from text, a Grid, or (nested) Python lists/tuples of numbers (the library API)."""
    if isinstance(value, Grid):
        return value
    if isinstance(value, str):
        return parse_array(value, what)
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        value = value.tolist()  # numpy arrays, without importing numpy
    if isinstance(value, (list, tuple)):
        return _from_nested(value, what)
    raise BadInput(f"{what}: expected a list or array text, got {type(value).__name__}")


def format_array(values) -> str:
    """[1, 2.5, 3] or [[1, 2], [3, 4]] with the core's number formatting."""
    if isinstance(values, Grid):
        values = values.tolist()
    if values and isinstance(values[0], list):
        return "[" + ", ".join(format_array(row) for row in values) + "]"
    return "[" + ", ".join(format_value(v) for v in values) + "]"


def format_shape(shape: tuple[int, ...]) -> str:
    """(4,) -> '4', (2, 3) -> '2x3'."""
    return "x".join(str(n) for n in shape)


def _split(tokens: list[str], separator: str, what: str, part: str) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for token in tokens:
        if token == separator:
            groups.append([])
        else:
            groups[-1].append(token)
    if len(groups) > 1 and any(not g for g in groups):
        raise BadInput(f"{what} has an empty {part} (check the '{separator}' separators)")
    return groups


def _items(tokens: list[str], what: str) -> list[str]:
    """Numbers separated by commas and/or spaces; doubled or dangling commas are refused."""
    items, expect_value = [], True
    for token in tokens:
        if token == ",":
            if expect_value:
                raise BadInput(f"{what} has an empty value (check the commas)")
            expect_value = True
        else:
            items.append(token)
            expect_value = False
    if expect_value:
        raise BadInput(f"{what} is empty" if not items else f"{what} ends with a comma")
    return items


def _parse_brackets(tokens: list[str], what: str, quote=repr):
    """Nested lists of number tokens from bracket syntax (at most 2 levels deep)."""
    pos = 0

    def parse_list(depth: int):
        nonlocal pos
        if depth > 2:
            raise BadInput(f"{what} nests deeper than 2 levels; only 1-D lists and 2-D matrices")
        pos += 1  # '['
        items, expect_value = [], True
        while pos < len(tokens):
            token = tokens[pos]
            if token == "]":
                if expect_value and items:
                    raise BadInput(f"{what} has a comma before ']'")
                pos += 1
                return items
            if token == ",":
                if expect_value:
                    raise BadInput(f"{what} has an empty value (check the commas)")
                expect_value, pos = True, pos + 1
                continue
            if token == "[":
                items.append(parse_list(depth + 1))
            else:
                items.append(parse_number(token, what, quote))
                pos += 1
            expect_value = False
        raise BadInput(f"{what} has an unclosed '['")

    if tokens[0] != "[":
        if "[" not in tokens:
            raise BadInput(f"{what} has a ']' without a matching '['")
        raise BadInput(f"{what}: unexpected {quote(tokens[0])} before the first '['")
    result = parse_list(1)
    if pos != len(tokens):
        raise BadInput(f"{what}: unexpected {quote(tokens[pos])} after the closing ']'")
    return result


def _from_nested(value, what: str) -> Grid:
    """Validate nested lists of numbers (already parsed or from Python) into a Grid."""
    if not isinstance(value, (list, tuple)) or len(value) == 0:
        raise BadInput(f"{what} is empty")
    kinds = {isinstance(v, (list, tuple)) for v in value}
    if kinds == {True, False}:
        raise BadInput(f"{what} mixes numbers and rows; give a 1-D list or a 2-D matrix")
    if kinds == {False}:
        return _grid([[_check_value(v, what) for v in value]], 1, what)
    rows = []
    for row in value:
        if any(isinstance(v, (list, tuple)) for v in row):
            raise BadInput(f"{what} nests deeper than 2 levels; only 1-D lists and 2-D matrices")
        rows.append([_check_value(v, what) for v in row])
    return _grid(rows, 2, what)


def _check_value(value, what: str) -> Number:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if hasattr(value, "item"):  # numpy scalars
            return _check_value(value.item(), what)
        raise BadInput(f"{what}: {value!r} is not a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BadInput(f"{what}: {value!r} is not a finite number (NaN and infinities are refused)")
        return value + 0.0
    return int(value)


def _grid(rows: list[list[Number]], ndim: int, what: str) -> Grid:
    if not rows or any(len(row) == 0 for row in rows):
        raise BadInput(f"{what} is empty" if len(rows) <= 1 else f"{what} has an empty row")
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        lengths = ", ".join(str(len(row)) for row in rows[:8])
        raise BadInput(f"{what} has ragged rows (lengths {lengths}{', ...' if len(rows) > 8 else ''}); "
                       "every row needs the same number of values")
    size = len(rows) * len(rows[0])
    if size > MAX_ELEMENTS:
        raise BadInput(f"{what} has {size:,} values; the limit is {MAX_ELEMENTS:,}")
    return Grid(tuple(tuple(row) for row in rows), ndim)
