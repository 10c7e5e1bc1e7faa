"""Checks of the library's arguments: a wrong type is a TypeError and a wrong value a
ValueError (or cnnplan's BadInput for what a user could type), each saying what was expected,
never a confusing error from deep inside."""

from __future__ import annotations

import os


def _kind(value) -> str:
    return type(value).__name__


def texts(value, name: str) -> tuple:
    """None, one text, or a list/tuple of texts -> a tuple of texts (TypeError otherwise)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise TypeError(
        f"{name} must be text or a list of texts, not {_kind(value)}"
        + (
            f" holding {_kind(next(v for v in value if not isinstance(v, str)))}"
            if isinstance(value, (list, tuple))
            else ""
        )
    )


def whole(value, name: str, minimum: int = 0, optional: bool = True):
    """A whole number >= minimum (None allowed when optional); bool and float are refused."""
    if value is None and optional:
        return None
    if type(value) is not int:
        raise TypeError(f"{name} must be a whole number (int), not {_kind(value)} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return value


def shape(value, name: str):
    """A shape as text ('3x64x64') or a tuple/list of whole numbers (TypeError otherwise)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)) and value and all(type(v) is int for v in value):
        return value
    raise TypeError(
        f"{name} must be a shape as text such as '3x64x64' or a tuple of whole "
        f"numbers, not {_kind(value)}"
    )


def assignments(value, name: str):
    """fix/max: None, 'k=8,d=1', a list of such texts, or a mapping of names to ints."""
    from collections.abc import Mapping

    if value is None or isinstance(value, (str, Mapping)):
        return value
    return texts(value, name)


def path(value, name: str):
    """A file name: text or os.PathLike (TypeError otherwise)."""
    if value is None or isinstance(value, (str, os.PathLike)):
        return value
    raise TypeError(f"{name} must be a file name (str or os.PathLike), not {_kind(value)}")


def choice(value, name: str):
    """A word (text) among a command's choices; the caller checks which."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{name} must be text, not {_kind(value)} {value!r}")
