"""Parsing of NAME=VALUE lists (`--fix k=8,d=1`, `--max p=0`) and of search bounds."""

from __future__ import annotations

from collections.abc import Mapping

from ..platform.errors import BadInput, nearest_word

MAX_TEXT = 1000


def split_assignments(
    items, what: str, form: str = "NAME=INTEGER", example: str = "k=8,d=1"
) -> list[tuple[str, object]]:
    """`["k=8,d=1", "s=2"]`, one such string, or a mapping -> [(name, value)], values still as
    typed (text from strings); `form` and `example` word the error for a part without '='."""
    if items is None:
        return []
    if isinstance(items, Mapping):
        return [(str(name), value) for name, value in items.items()]
    pairs = []
    for item in [items] if isinstance(items, str) else items:
        if len(item) > MAX_TEXT:
            raise BadInput(f"{what} is too long ({len(item):,} characters)")
        for part in filter(str.strip, item.split(",")):
            name, sep, value = part.partition("=")
            if not sep:
                raise BadInput(f"{what} {part.strip()!r} is not {form} (e.g. {what} {example})")
            pairs.append((name.strip(), value.strip()))
    return pairs


def merge_assignments(pairs, what: str, show=str) -> dict:
    """[(name, value)] -> {name: value}; a name given twice with different values is BadInput."""
    result: dict = {}
    for name, value in pairs:
        if name in result and result[name] != value:
            raise BadInput(f"{what} gives {name} twice ({show(result[name])} and {show(value)})")
        result[name] = value
    return result


def is_integer_text(text: str) -> bool:
    """`8`, `+8`, `-8` (decimal digits after an optional sign; no spaces or underscores).

    >>> [is_integer_text(t) for t in ("8", "-8", "+", "8.0", " 8", "1_0")]
    [True, True, False, False, False, False]
    """
    return (text[1:] if text[:1] in ("+", "-") else text).isdecimal()


def parse_assignments(items, names: tuple[str, ...], what: str) -> dict[str, int]:
    """`["k=8,d=1", "s=2"]` (or a mapping) -> {"k": 8, "d": 1, "s": 2}; names must be known."""
    pairs = []
    for name, value in split_assignments(items, what):
        if name not in names:
            near = nearest_word(name, names)
            hint = f"did you mean {near}?" if near else f"choose from {', '.join(names)}"
            raise BadInput(f"{what} names unknown variable {name!r}; {hint}")
        if isinstance(value, str) and is_integer_text(value):
            value = int(value)
        elif isinstance(value, str):
            raise BadInput(f"{what} {name}={value!r} is not NAME=INTEGER (e.g. {what} k=8,d=1)")
        if type(value) is not int:
            raise BadInput(f"{what} {name}={value!r} is not a whole number")
        pairs.append((name, value))
    return merge_assignments(pairs, what)


def format_ranges(bounds: Mapping[str, tuple[int, int]]) -> str:
    """{"k": (1, 64), ...} -> 'k 1-64, s 1-64, ...'."""
    return ", ".join(f"{name} {lo}-{hi}" for name, (lo, hi) in bounds.items())
