"""The plugin manager: entry points of group `cnnplan`, loaded one at a time, in isolation.

A plugin that fails to import, or whose hook raises, is reported once on stderr and skipped;
CNNPLAN_STRICT_PLUGINS=1 re-raises instead. CNNPLAN_LOAD_PLUGINS=a,b loads only those
plugins (entry-point or distribution names; empty loads none). The core's own defaults are
registered last, through the same hooks.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache

import pluggy

from . import hookspecs
from .registry import RegistrationError, Registry, Reporter, Solver

ENTRY_POINT_GROUP = "cnnplan"
DEFAULT_PLUGINS = ("cnnplan.default_plugin",)


@dataclass
class PluginInfo:
    """One loaded (or failed) plugin: its name, distribution, version and hooks."""

    name: str
    distribution: str = ""
    version: str = ""
    hooks: list[str] = field(default_factory=list)
    default: bool = False
    error: str = ""


def strict() -> bool:
    return os.environ.get("CNNPLAN_STRICT_PLUGINS", "") not in ("", "0")


def _wanted() -> set[str] | None:
    from .entrypoints import normalize

    value = os.environ.get("CNNPLAN_LOAD_PLUGINS")
    if value is None:
        return None
    return {normalize(part.strip()) for part in value.split(",") if part.strip()}


def warn(message: str):
    print(f"cnnplan: {message}", file=sys.stderr)


class PluginHost:
    """The pluggy manager plus what its plugins registered."""

    def __init__(self):
        self.pm = pluggy.PluginManager("cnnplan")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self._solvers: Registry | None = None
        self._reporters: Registry | None = None

    def load_entry_points(self):
        """Import and register each entry point of group `cnnplan`, isolating failures."""
        from .entrypoints import entry_points, normalize

        wanted = _wanted()
        for ep in entry_points(ENTRY_POINT_GROUP):
            dist = ep.distribution
            if wanted is not None and not {normalize(ep.name), normalize(dist)} & wanted:
                continue
            if ep.name in self.infos or self.pm.has_plugin(ep.name):
                continue
            info = PluginInfo(ep.name, dist, ep.version)
            self.infos[ep.name] = info
            try:
                self.pm.register(ep.load(), name=ep.name)
            except Exception as exc:  # a broken plugin must not take the CLI down
                info.error = f"{type(exc).__name__}: {exc}"
                self._fail(f"plugin {ep.name} ({dist or 'unknown distribution'}) failed to load: "
                           f"{info.error}", exc)
        self._refresh_hooks()

    def load_defaults(self):
        """Register the core's own default plugins (reporters, solvers)."""
        import importlib

        for module_name in DEFAULT_PLUGINS:
            if not self.pm.has_plugin(module_name):
                self.pm.register(importlib.import_module(module_name), name=module_name)
                self.infos[module_name] = PluginInfo(module_name, "cnnplan", _version(), default=True)
        self._refresh_hooks()

    def register(self, plugin, name: str):
        """Register a plugin object directly (tests and embedding applications)."""
        self.pm.register(plugin, name=name)
        self.infos[name] = PluginInfo(name)
        self._refresh_hooks()

    def unregister(self, name: str):
        self.pm.unregister(name=name)
        self.infos.pop(name, None)
        self._refresh_hooks()

    def _refresh_hooks(self):
        for name, info in self.infos.items():
            plugin = self.pm.get_plugin(name)
            if plugin is not None:
                info.hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
        self._solvers = self._reporters = None

    def _fail(self, message: str, exc: BaseException):
        if strict():
            raise exc
        warn(message)

    def call_each(self, hook_name: str, args_for):
        """Call every implementation of a hook on its own, so a failure skips only its plugin.

        `args_for(provider_name)` gives the keyword arguments for that plugin's implementation.
        """
        caller = getattr(self.pm.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):
            args = args_for(impl.plugin_name)
            try:
                impl.function(**{name: args[name] for name in impl.argnames})
            except Exception as exc:
                self._fail(f"plugin {impl.plugin_name}: {hook_name} failed: "
                           f"{type(exc).__name__}: {exc}", exc)

    def _collect(self, hook_name: str, kind: str, record_type) -> Registry:
        registry = Registry(kind, record_type)
        self.call_each(hook_name, lambda provider: {
            "register": lambda record: registry.add(record, provider)})
        return registry

    @property
    def solvers(self) -> Registry:
        if self._solvers is None:
            self._solvers = self._collect("register_solvers", "solver", Solver)
        return self._solvers

    @property
    def reporters(self) -> Registry:
        if self._reporters is None:
            self._reporters = self._collect("register_reporters", "format", Reporter)
        return self._reporters


def _version() -> str:
    from . import __version__

    return __version__


@lru_cache(maxsize=1)
def get_host() -> PluginHost:
    """The process-wide plugin host, built on first use."""
    host = PluginHost()
    host.load_entry_points()
    host.load_defaults()
    return host


__all__ = ["PluginHost", "PluginInfo", "RegistrationError", "get_host"]
