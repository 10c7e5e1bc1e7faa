"""The registry of layer kinds: every kind the core and the plugins registered, by name and
alias (case-insensitive), read from the plugin host on first use."""

from __future__ import annotations

from collections.abc import Mapping

from .records import LayerKind, rules_of, window_of


class KindRegistry(Mapping):
    """The registered layer kinds, by name (case-insensitive) and alias; a read-only mapping."""

    def __init__(self):
        self._kinds: dict[str, LayerKind] = {}
        self._names: dict[str, str] = {}

    def add(self, kind: LayerKind, provider: str):
        from ..platform.registry import NameTaken, RegistrationError, ascii_name

        if not isinstance(kind, LayerKind):
            raise RegistrationError(f"{provider} registered {kind!r}, not a cnnplan.LayerKind")
        for name in (kind.name, *kind.aliases):
            if not isinstance(name, str) or not ascii_name(name):
                raise RegistrationError(
                    f"{provider} registered layer kind name {name!r}; names "
                    "are letters, digits and '_', starting with a letter"
                )
            other = self._names.get(name.lower())
            if other is not None:
                raise NameTaken("layer kind", name, self._kinds[other].provider, provider)
        self._kinds[kind.name] = kind._replace(
            provider=provider, window=window_of(kind, provider), **rules_of(kind, provider)
        )
        for name in (kind.name, *kind.aliases):
            self._names[name.lower()] = kind.name

    def lookup(self, name: str) -> LayerKind | None:
        """The kind called `name` (any case, or an alias), or None."""
        canonical = self._names.get(name.lower()) if isinstance(name, str) else None
        return self._kinds.get(canonical) if canonical else None

    def __getitem__(self, name: str) -> LayerKind:
        kind = self.lookup(name)
        if kind is None:
            raise KeyError(name)
        return kind

    def __contains__(self, name) -> bool:
        return self.lookup(name) is not None

    def __iter__(self):
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def values(self):
        return self._kinds.values()

    def names(self) -> list[str]:
        return list(self._kinds)

    def words(self) -> list[str]:
        """Every name and alias as registered (a spec may write them in any case)."""
        return [word for kind in self._kinds.values() for word in (kind.name, *kind.aliases)]

    def windows(self) -> dict:
        """{name or alias, lower case: canonical name} of the window kinds (`solve --layer`)."""
        return {word: name for word, name in self._names.items() if self._kinds[name].window}


def kinds() -> KindRegistry:
    """Every registered layer kind (the core's and the plugins'), from the plugin host."""
    from ..platform.host import get_host

    return get_host().collect("register_layer_kinds", "layer kind", LayerKind, KindRegistry)


def describe_kinds() -> str:
    """One line per kind, for help texts and docs."""
    return "\n".join(f"{k.name:16} {k.help}" for k in kinds().values())
