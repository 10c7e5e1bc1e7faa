"""NAME=NUMBER lists (`--at x1=3,x2=6`, `--seed x1=1`) and the order of the inputs."""

from __future__ import annotations

import math
import re

from cnnplan import BadInput
from cnnplan.language.options import merge_assignments, split_assignments

from .expression import CONSTANTS, FUNCTIONS

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_INDEXED = re.compile(r"^x(\d{1,6})$")
_TRACE_NAME = re.compile(r"^v-?\d+$")


def parse_assignments(items, option: str) -> dict[str, float]:
    """`"x1=3,x2=6"`, a list of such strings, or a mapping -> {"x1": 3.0, "x2": 6.0} (ordered)."""
    pairs = []
    for name, value in split_assignments(items, option, "NAME=NUMBER", "x1=3,x2=6"):
        _check_name(name, option)
        pairs.append((name, _to_float(value, f"{option} {name}")))
    return merge_assignments(pairs, option, show=lambda value: f"{value:g}")


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


def input_order(names, given: list[str]) -> list[str]:
    """Inputs in trace order: x1, x2, ... by their number (x1 = v_{1-n}), then other names in
    the order --at gives them."""
    order = {name: i for i, name in enumerate(given)}

    def key(name):
        m = _INDEXED.match(name)
        return (0, int(m.group(1)), 0) if m else (1, 0, order.get(name, len(order)))

    return sorted(set(names), key=key)
