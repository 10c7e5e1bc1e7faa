"""Small typed records for what plugins register, and the read-only registries that hold them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from .errors import BadInput, unknown_message
from .result import Result

# Names and references are checked with string methods, not regular expressions, which would
# cost start-up time to compile.


def ascii_name(text: str, others: str = "_", longest: int = 40) -> bool:
    """An ASCII letter, then ASCII letters, digits and the characters in `others`, at most
    `longest` characters in all (a layer kind's name: `others="_"`)."""
    if not 0 < len(text) <= longest or not text.isascii() or not text[0].isalpha():
        return False
    for character in others:
        text = text.replace(character, "a")
    return text.isalnum()


def _reference_part(text: str, dots: bool) -> bool:
    """A letter or '_' first, then letters, digits and '_' (and '.' with `dots`)."""
    body = text.replace("_", "a").replace(".", "a" if dots else "_")
    return (
        bool(text)
        and (text[0] == "_" or (text[0].isascii() and text[0].isalpha()))
        and body.isalnum()
    )


def resolve(target):
    """`target` itself if it is callable, else the object a 'package.module:name' reference
    names (imported now)."""
    if callable(target):
        return target
    import importlib

    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def is_reference(target) -> bool:
    """Whether `target` is a 'package.module:name' reference."""
    if not isinstance(target, str):
        return False
    module, colon, name = target.partition(":")
    return bool(colon) and _reference_part(module, True) and _reference_part(name, False)


class Solver(NamedTuple):
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
        return resolve(self.function)

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


class Reporter(NamedTuple):
    """A named output format: a function from Result to text.

    `render` is the callable, or a 'package.module:function' reference imported on first use.
    `kinds` names the Result kinds it can render (`Result.kind`, e.g. ("ad",)); empty: every
    kind. Call the reporter itself, `reporter(result)`, to render.
    """

    name: str
    description: str
    render: Callable[[Result], str] | str
    kinds: tuple[str, ...] = ()
    provider: str = ""

    def can_render(self, kind: str) -> bool:
        """Whether this format renders Results of `kind` (every kind when `kinds` is empty)."""
        return not self.kinds or kind in self.kinds

    def __call__(self, result: Result) -> str:
        """The text of `result` in this format."""
        return resolve(self.render)(result)


def cannot_render(reporters, reporter: Reporter, kinds) -> BadInput:
    """The error for `reporter` asked to render none of `kinds`: it names the formats in
    `reporters` that can."""
    able = [name for name, other in reporters.items() if any(map(other.can_render, kinds))]
    what = " or ".join(f"{kind!r}" for kind in kinds) if any(kinds) else "unnamed"
    return BadInput(
        f"format {reporter.name!r} cannot render {what} results (it renders "
        f"{', '.join(map(repr, reporter.kinds))}); choose one of: {', '.join(able)}"
    )


class RegistrationError(Exception):
    """A plugin registered something malformed or a name that is already taken."""


class NameTaken(RegistrationError):
    """A plugin registered a name (solver, format or command) that another already holds."""

    def __init__(self, kind: str, name: str, holder: str, provider: str):
        super().__init__(f"{kind} name {name!r} is registered by both {holder} and {provider}")
        self.kind, self.name, self.holder, self.provider = kind, name, holder, provider


class UnknownName(BadInput, KeyError):
    """`registry[name]` for a name nobody registered: a KeyError, and BadInput (exit 2) whose
    message lists the names there are."""

    __str__ = BadInput.__str__


class Registry(Mapping):
    """A read-only mapping from name to record for one kind of thing ('solver' or 'format'):
    `name in registry`, `registry[name]`, `len(registry)`, iteration over the names in
    alphabetical order, `.get(name)` (None if absent), `.items()`, `.values()`.

    `registry[name]` for an unknown name raises `UnknownName` (a KeyError, and a `BadInput`
    listing the choices), so the CLI reports it as one line.
    """

    def __init__(self, kind: str, record_type: type[Any]):
        self.kind = kind
        self.record_type = record_type
        self._records: dict[str, Any] = {}  # records of any registered type

    def __getitem__(self, name: str):
        try:
            return self._records[name]
        except (KeyError, TypeError):
            raise UnknownName(unknown_message(self.kind, name, self)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._records))

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name in self._records

    def __repr__(self) -> str:
        return f"<Registry of {len(self)} {self.kind}s: {', '.join(self)}>"

    def names(self) -> list[str]:
        """The names, in alphabetical order (as `list(registry)`)."""
        return list(self)

    def records(self) -> list:
        """The records, in alphabetical order of their names (as `list(registry.values())`)."""
        return list(self.values())

    def add(self, record, provider: str):
        """Validate and store `record` as provided by `provider` (used by the plugin host)."""
        if not isinstance(record, self.record_type):
            raise RegistrationError(
                f"{provider} registered {record!r}, not a cnnplan.{self.record_type.__name__}"
            )
        target = getattr(record, "function", getattr(record, "render", None))
        if not callable(target) and not is_reference(target):
            raise RegistrationError(
                f"{provider} registered {self.kind} {record.name!r} with "
                f"{target!r}: give a callable or 'module:function'"
            )
        kinds = getattr(record, "kinds", ())
        if not isinstance(kinds, (tuple, list, frozenset)) or not all(
            isinstance(kind, str) for kind in kinds
        ):
            raise RegistrationError(
                f"{provider} registered {self.kind} {record.name!r} with "
                f"kinds={kinds!r}: give a tuple of kind names, e.g. ('ad',)"
            )
        if not isinstance(record.name, str) or not (
            ascii_name(record.name, "_-") and record.name.islower()
        ):
            raise RegistrationError(
                f"{provider} registered {self.kind} name {record.name!r}; names are lowercase "
                "letters, digits, '-' and '_', starting with a letter, at most 40 characters"
            )
        if record.name in self._records:
            raise NameTaken(self.kind, record.name, self._records[record.name].provider, provider)
        self._records[record.name] = _with_provider(record, provider)


def _with_provider(record, provider):
    """The record with its provider set (records are NamedTuples or frozen dataclasses)."""
    if hasattr(record, "_replace"):
        return record._replace(provider=provider)
    from dataclasses import replace

    return replace(record, provider=provider)
