"""The plugin manager: entry points of group `cnnplan`, loaded one at a time, in isolation.

A plugin that fails to import, or whose hook raises, is reported once on stderr (with its
distribution) and skipped; CNNPLAN_STRICT_PLUGINS=1 re-raises instead. CNNPLAN_LOAD_PLUGINS=a,b
loads only those plugins (entry-point or distribution names; empty loads none). The core's own
default plugins are registered last, through the same hooks.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

import pluggy

from . import hookspecs
from .registry import RegistrationError, Registry, Reporter, Solver

ENTRY_POINT_GROUP = "cnnplan"
DEFAULT_PLUGINS = ("cnnplan.default_plugin",)


@dataclass
class PluginInfo:
    """One plugin: its name, distribution, version, hooks, and what went wrong with it."""

    name: str
    distribution: str = ""
    version: str = ""
    hooks: list[str] = field(default_factory=list)
    default: bool = False
    errors: list[str] = field(default_factory=list)
    loaded: bool = True

    @property
    def label(self) -> str:
        """'name (distribution version)' for messages."""
        dist = " ".join(filter(None, (self.distribution, self.version)))
        return f"{self.name} ({dist})" if dist else self.name


def strict() -> bool:
    """CNNPLAN_STRICT_PLUGINS=1: a plugin failure is raised, not reported and skipped."""
    return os.environ.get("CNNPLAN_STRICT_PLUGINS", "") not in ("", "0")


def _wanted() -> set[str] | None:
    from .entrypoints import normalize

    value = os.environ.get("CNNPLAN_LOAD_PLUGINS")
    if value is None:
        return None
    return {normalize(part.strip()) for part in value.split(",") if part.strip()}


def warn(message: str):
    """A message for the user on stderr."""
    print(f"cnnplan: {message}", file=sys.stderr)


class PluginHost:
    """The pluggy manager plus what its plugins registered."""

    def __init__(self):
        self.pm = pluggy.PluginManager("cnnplan")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self._solvers: Registry | None = None
        self._reporters: Registry | None = None
        self._kinds = None

    def load_entry_points(self, paths=None):
        """Import and register each entry point of group `cnnplan`, isolating failures."""
        from .entrypoints import entry_points, normalize

        wanted = _wanted()
        matched: set[str] = set()
        for ep in entry_points(ENTRY_POINT_GROUP, paths):
            names = {normalize(ep.name), normalize(ep.distribution)}
            if wanted is not None and not names & wanted:
                continue
            matched |= names
            if ep.name in self.infos or self.pm.has_plugin(ep.name):
                continue
            info = PluginInfo(ep.name, ep.distribution, ep.version)
            self.infos[ep.name] = info
            try:
                self.pm.register(ep.load(), name=ep.name)
            except Exception as exc:  # a broken plugin must not take the CLI down
                info.loaded = False
                self.failed(ep.name, "failed to load", exc)
        for name in sorted((wanted or set()) - matched):
            warn(f"CNNPLAN_LOAD_PLUGINS names {name!r}, but no installed plugin is called that")
        self._changed()

    def load_defaults(self):
        """Register the core's own default plugins (reporters, solvers)."""
        import importlib

        from . import __version__

        for module_name in DEFAULT_PLUGINS:
            if not self.pm.has_plugin(module_name):
                self.pm.register(importlib.import_module(module_name), name=module_name)
                self.infos[module_name] = PluginInfo(module_name, "cnnplan", __version__,
                                                     default=True)
        self._changed()

    def register(self, plugin, name: str):
        """Register a plugin object (a module or class with hookimpls) directly, e.g. in tests."""
        self.pm.register(plugin, name=name)
        self.infos[name] = PluginInfo(name)
        self._changed()

    def unregister(self, name: str):
        """Remove a plugin registered with `register`."""
        self.pm.unregister(name=name)
        self.infos.pop(name, None)
        self._changed()

    @contextmanager
    def registered(self, plugin, name: str):
        """Within the block, `plugin` is registered (unless it is already, e.g. installed)."""
        if self.pm.is_registered(plugin):
            yield self
            return
        self.register(plugin, name)
        try:
            yield self
        finally:
            self.unregister(name)

    def check(self):
        """Run every registration hook now, so failures surface (used in strict mode)."""
        return self.solvers, self.reporters, self.layer_kinds

    def _changed(self):
        for name, info in self.infos.items():
            plugin = self.pm.get_plugin(name)
            if plugin is not None:
                info.hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
        self._solvers = self._reporters = self._kinds = None

    def failed(self, provider: str, what: str, exc: BaseException):
        """Report a plugin's failure once on stderr (or raise it when strict)."""
        if strict():
            raise exc
        info = self.infos.setdefault(provider, PluginInfo(provider))
        message = f"{what}: {type(exc).__name__}: {exc}" if not isinstance(
            exc, RegistrationError) else str(exc)
        info.errors.append(message)
        warn(f"plugin {info.label} {message}; skipped")

    def implementations(self, hook_name: str):
        """(plugin name, function) for each implementation of a hook: the core's defaults
        first (so their names are theirs), then plugins in the order they were loaded."""
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        return sorted(((i.plugin_name, i.function) for i in impls),
                      key=lambda pair: pair[0] not in DEFAULT_PLUGINS)

    def _collect(self, hook_name: str, kind: str, record_type, registry=None) -> Registry:
        """Call each implementation on its own: one that raises registers nothing."""
        registry = Registry(kind, record_type) if registry is None else registry
        for provider, function in self.implementations(hook_name):
            staged: list = []
            try:
                function(register=staged.append)
            except Exception as exc:
                self.failed(provider, f"{hook_name} failed", exc)
                continue
            for record in staged:
                try:
                    registry.add(record, provider)
                except RegistrationError as exc:
                    self.failed(provider, hook_name, exc)
        return registry

    @property
    def solvers(self) -> Registry:
        """Every registered Solver, by name."""
        if self._solvers is None:
            self._solvers = self._collect("register_solvers", "solver", Solver)
        return self._solvers

    @property
    def reporters(self) -> Registry:
        """Every registered Reporter (output format), by name."""
        if self._reporters is None:
            self._reporters = self._collect("register_reporters", "format", Reporter)
        return self._reporters

    @property
    def layer_kinds(self):
        """Every registered layer kind (cnnplan.kinds.KindRegistry)."""
        if self._kinds is None:
            from .kinds import KindRegistry, LayerKind

            self._kinds = self._collect("register_layer_kinds", "layer kind", LayerKind,
                                        KindRegistry())
        return self._kinds


@lru_cache(maxsize=1)
def get_host() -> PluginHost:
    """The process-wide plugin host, built on first use."""
    host = PluginHost()
    host.load_entry_points()
    host.load_defaults()
    return host


__all__ = ["PluginHost", "PluginInfo", "RegistrationError", "get_host", "strict", "warn"]
