"""NAME=NUMBER lists (`--at x1=3,x2=6`, `--seed x1=1`) and the order of the inputs."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from cnnplan import BadInput

from .expression import CONSTANTS, FUNCTIONS

MAX_TEXT = 1000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_INDEXED = re.compile(r"^x(\d{1,6})$")
_TRACE_NAME = re.compile(r"^v-?\d+$")


def parse_assignments(items, option: str) -> dict[str, float]:
    """`"x1=3,x2=6"`, a list of such strings, or a mapping -> {"x1": 3.0, "x2": 6.0} (ordered)."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        pairs = [(str(name), value) for name, value in items.items()]
    else:
        pairs = []
        for item in [items] if isinstance(items, str) else items:
            if len(item) > MAX_TEXT:
                raise BadInput(f"{option} is too long ({len(item):,} characters)")
            for part in item.split(","):
                if part.strip():
                    name, sep, value = part.partition("=")
                    if not sep:
                        raise BadInput(f"{option} {part.strip()!r} is not NAME=NUMBER "
                                       f"(e.g. {option} x1=3,x2=6)")
                    pairs.append((name.strip(), value.strip()))
    result: dict[str, float] = {}
    for name, value in pairs:
        _check_name(name, option)
        number = _to_float(value, f"{option} {name}")
        if name in result and result[name] != number:
            raise BadInput(f"{option} gives {name} twice ({_short(result[name])} and "
                           f"{_short(number)})")
        result[name] = number
    return result


def _check_name(name: str, option: str):
    if not _NAME.match(name):
        raise BadInput(f"{option} name {name!r} is not a variable name (letters, digits and _, "
                       "starting with a letter, e.g. x1)")
    if name in FUNCTIONS:
        raise BadInput(f"{option} name {name!r} is a function; choose another variable name")
    if name in CONSTANTS:
        raise BadInput(f"{option} name {name!r} is a constant; choose another variable name")
    if _TRACE_NAME.match(name):
        raise BadInput(f"{option} name {name!r} looks like a trace variable (v-1, v0, v1, ...); "
                       "choose another variable name")


def _to_float(value, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise BadInput(f"{what}={value!r} is not a number") from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise BadInput(f"{what}={value!r} is not a finite number")
    return number


def _short(value: float) -> str:
    return f"{value:g}"


def input_order(names, given: list[str]) -> list[str]:
    """Inputs in trace order: x1, x2, ... by their number (x1 = v_{1-n}), then other names in
    the order --at gives them."""
    order = {name: i for i, name in enumerate(given)}

    def key(name):
        m = _INDEXED.match(name)
        return (0, int(m.group(1)), 0) if m else (1, 0, order.get(name, len(order)))

    return sorted(set(names), key=key)
