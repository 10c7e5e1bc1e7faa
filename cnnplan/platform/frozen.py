"""Immutable records that cost nothing to define.

`@dataclass(frozen=True)` compiles six generated methods per class when the module loads, about
5 M instructions each time, which every `cnnplan` command would pay at start-up. A record here
is still a dataclass (so `dataclasses.replace`, `fields` and `asdict` work on it, as plugins
use them) but declared with `@dataclass(init=False, repr=False, eq=False)` on top of `Frozen`,
which gives the frozen behaviour, equality, hashing and repr once for all of them; each record
writes its own `__init__` (a plain signature that type checkers and help() read).
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError


class Frozen:
    """Base of an immutable record: `_fields` names its fields in order, `_compared` those that
    equality and hashing use (default: all)."""

    _fields: tuple[str, ...] = ()
    _compared: tuple[str, ...] | None = None

    def _set(self, *values):
        """Set the fields in `_fields` order (for `__init__`)."""
        for name, value in zip(self._fields, values):
            object.__setattr__(self, name, value)

    def _key(self) -> tuple:
        return tuple(getattr(self, name) for name in self._compared or self._fields)

    def __setattr__(self, name, value):
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name):
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({values})"
