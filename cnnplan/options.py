"""Parsing of NAME=VALUE lists (`--fix k=8,d=1`, `--max p=0`) and of search bounds."""

from __future__ import annotations

import re
from typing import Mapping

from .errors import BadInput

_ITEM_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([+-]?\d+)\s*$")
MAX_TEXT = 1000


def parse_assignments(items, names: tuple[str, ...], what: str) -> dict[str, int]:
    """`["k=8,d=1", "s=2"]` (or a mapping) -> {"k": 8, "d": 1, "s": 2}; names must be known."""
    if items is None:
        return {}
    pairs: list[tuple[str, object]] = []
    if isinstance(items, Mapping):
        pairs = list(items.items())
    else:
        if isinstance(items, str):
            items = [items]
        for item in items:
            if len(item) > MAX_TEXT:
                raise BadInput(f"{what} value is too long ({len(item)} characters)")
            for part in item.split(","):
                if not part.strip():
                    continue
                m = _ITEM_RE.match(part)
                if not m:
                    raise BadInput(
                        f"{what} {part.strip()!r} is not NAME=INTEGER (e.g. {what} k=8,d=1)"
                    )
                pairs.append((m.group(1), int(m.group(2))))
    result: dict[str, int] = {}
    for name, value in pairs:
        if name not in names:
            raise BadInput(f"{what} names unknown variable {name!r}; choose from {', '.join(names)}")
        if type(value) is not int:
            raise BadInput(f"{what} {name}={value!r} is not a whole number")
        if name in result and result[name] != value:
            raise BadInput(f"{what} gives {name} twice ({result[name]} and {value})")
        result[name] = value
    return result


def format_ranges(bounds: Mapping[str, tuple[int, int]]) -> str:
    """{"k": (1, 64), ...} -> 'k 1-64, s 1-64, ...'."""
    return ", ".join(f"{name} {lo}-{hi}" for name, (lo, hi) in bounds.items())

