"""Small typed records for what plugins register, and the registry that holds them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .errors import BadInput
from .result import Result

_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_REF_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@dataclass(frozen=True)
class Solver:
    """A named function that answers a question with a Result (keyword arguments only).

    `function` is the callable, or a 'package.module:function' reference that is imported only
    when the solver is first used (so registering it costs nothing at start-up).
    """

    name: str
    description: str
    function: Callable[..., Result] | str
    provider: str = ""

    def resolve(self) -> Callable[..., Result]:
        """The callable behind `function` (importing it if it is a reference)."""
        if callable(self.function):
            return self.function
        import importlib

        module, _, attr = self.function.partition(":")
        return getattr(importlib.import_module(module), attr)

    @property
    def arguments(self) -> str:
        """The function's parameters, e.g. "input, output, layer='conv'"."""
        import inspect

        return ", ".join(
            p.name if p.default is p.empty else f"{p.name}={p.default!r}"
            for p in inspect.signature(self.resolve()).parameters.values()
        )

    def __call__(self, **kwargs) -> Result:
        """Call the solver; arguments it does not take are BadInput, not a TypeError."""
        import inspect

        function = self.resolve()
        signature = inspect.signature(function)
        takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
        unknown = sorted(set(kwargs) - set(signature.parameters))
        try:
            if unknown and not takes_any:
                raise TypeError(f"no argument {', '.join(map(repr, unknown))}")
            signature.bind(**kwargs)
        except TypeError as exc:
            raise BadInput(f"solver {self.name!r}: {exc}; it takes ({self.arguments})") from None
        return function(**kwargs)


@dataclass(frozen=True)
class Reporter:
    """A named output format: a function from Result to text."""

    name: str
    description: str
    render: Callable[[Result], str]
    provider: str = ""


class RegistrationError(Exception):
    """A plugin registered something malformed or a name that is already taken."""


class Registry:
    """Records of one kind ('solver' or 'format'), unique by name."""

    def __init__(self, kind: str, record_type: type):
        self.kind = kind
        self.record_type = record_type
        self._records: dict[str, object] = {}

    def add(self, record, provider: str):
        """Validate and store `record` as provided by `provider`."""
        if not isinstance(record, self.record_type):
            raise RegistrationError(
                f"{provider} registered {record!r}, not a cnnplan.{self.record_type.__name__}"
            )
        target = getattr(record, "function", getattr(record, "render", None))
        if not callable(target) and not (isinstance(target, str) and _REF_RE.match(target)):
            raise RegistrationError(f"{provider} registered {self.kind} {record.name!r} with "
                                    f"{target!r}: give a callable or 'module:function'")
        if not isinstance(record.name, str) or not _NAME_RE.match(record.name):
            raise RegistrationError(
                f"{provider} registered {self.kind} name {record.name!r}; names are lowercase "
                "letters, digits, '-' and '_', starting with a letter, at most 40 characters"
            )
        if record.name in self._records:
            other = self._records[record.name].provider
            raise RegistrationError(
                f"{self.kind} name {record.name!r} is registered by both {other} and {provider}"
            )
        self._records[record.name] = _with_provider(record, provider)

    def get(self, name: str):
        """The record called `name`; BadInput listing the choices if there is none."""
        try:
            return self._records[name]
        except KeyError:
            raise BadInput(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._records)

    def records(self) -> list:
        return [self._records[n] for n in self.names()]


def _with_provider(record, provider):
    from dataclasses import replace

    return replace(record, provider=provider)
