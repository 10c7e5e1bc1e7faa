"""The plugin manager: entry points of group `cnnplan`, loaded one at a time, in isolation.

A plugin that fails to import, or whose hook raises, is reported once on stderr (with its
distribution) and skipped; CNNPLAN_STRICT_PLUGINS=1 raises instead, naming the plugin.
CNNPLAN_LOAD_PLUGINS=a,b loads only those plugins (entry-point or distribution names; empty
loads none). The core's own default plugins are registered last, through the same hooks, and
keep their names; between plugins, a name clash goes to the one listed first in
CNNPLAN_PREFER=a,b, else to the first entry-point name in alphabetical order (with a note on
stderr).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

import pluggy

from . import hookspecs
from .registry import NameTaken, RegistrationError, Registry, Reporter, Solver

_FROM_ENV = object()

ENTRY_POINT_GROUP = "cnnplan"
DEFAULT_PLUGINS = ("cnnplan.default_plugin",)


class PluginInfo:
    """One plugin: its name, distribution, version, hooks, and what went wrong with it (a plain
    class: a dataclass costs more to create than cnnplan's whole start-up may spend on it)."""

    def __init__(self, name: str, distribution: str = "", version: str = "", default: bool = False):
        self.name, self.distribution, self.version = name, distribution, version
        self.default = default
        self.hooks: list[str] = []
        self.errors: list[str] = []
        self.loaded = True
        self.shadowed: list[str] = []

    def __repr__(self) -> str:
        return f"PluginInfo({self.label!r}, hooks={self.hooks}, errors={self.errors})"

    @property
    def label(self) -> str:
        """'name (distribution version)' for messages."""
        dist = " ".join(filter(None, (self.distribution, self.version)))
        return f"{self.name} ({dist})" if dist else self.name


def strict() -> bool:
    """CNNPLAN_STRICT_PLUGINS=1: a plugin failure is raised, not reported and skipped."""
    return os.environ.get("CNNPLAN_STRICT_PLUGINS", "") not in ("", "0")


class PluginFailure(Exception):
    """A plugin failed while CNNPLAN_STRICT_PLUGINS is set; the message names the plugin."""


def _names_in(variable: str) -> list[str] | None:
    """The comma-separated, normalized names in an environment variable (None if unset)."""
    from .entrypoints import normalize

    value = os.environ.get(variable)
    if value is None:
        return None
    return [normalize(part.strip()) for part in value.split(",") if part.strip()]


def _wanted() -> set[str] | None:
    names = _names_in("CNNPLAN_LOAD_PLUGINS")
    return None if names is None else set(names)


def warn(message: str):
    """A message for the user on stderr."""
    print(f"cnnplan: {message}", file=sys.stderr)


class PluginHost:
    """The pluggy manager plus what its plugins registered."""

    def __init__(self):
        self.pm = pluggy.PluginManager("cnnplan")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self._registries: dict[str, Registry] = {}

    def load_entry_points(self, paths=None, only=_FROM_ENV):
        """Import and register each entry point of group `cnnplan`, isolating failures;
        `only`: the names to load (default: CNNPLAN_LOAD_PLUGINS, or all)."""
        from .entrypoints import entry_points, normalize

        wanted = (
            _wanted()
            if only is _FROM_ENV
            else (None if only is None else {normalize(name) for name in only})
        )
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
            if only is not _FROM_ENV:
                raise LookupError(f"no installed cnnplan plugin is called {name!r}")
            warn(f"CNNPLAN_LOAD_PLUGINS names {name!r}, but no installed plugin is called that")
        self._changed()

    def load_defaults(self):
        """Register the core's own default plugins (reporters, solvers)."""
        import importlib

        from . import VERSION as __version__

        for module_name in DEFAULT_PLUGINS:
            if not self.pm.has_plugin(module_name):
                self.pm.register(importlib.import_module(module_name), name=module_name)
                self.infos[module_name] = PluginInfo(
                    module_name, "cnnplan", __version__, default=True
                )
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

    def schemas(self) -> dict[str, str]:
        """Result kind -> path of its JSON Schema: the core's `cnnplan/schemas/KIND.json`, and
        each plugin's `schemas/KIND.json` next to its module (the core's win a clash)."""
        folders = [os.path.join(os.path.dirname(os.path.dirname(__file__)), "schemas")]
        for name in self.infos:
            module_file = getattr(self.pm.get_plugin(name), "__file__", None)
            if module_file and name not in DEFAULT_PLUGINS:
                folders.append(os.path.join(os.path.dirname(module_file), "schemas"))
        found: dict[str, str] = {}
        for folder in folders:
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                continue
            for filename in names:
                if filename.endswith(".json"):
                    found.setdefault(filename[:-5], os.path.join(folder, filename))
        return dict(sorted(found.items()))

    def check(self):
        """Run the solver and reporter hooks now, and those of every registry asked for
        before, so failures surface (used in strict mode; callers add `kinds()`)."""
        return self.solvers, self.reporters

    def _changed(self):
        for name, info in self.infos.items():
            plugin = self.pm.get_plugin(name)
            if plugin is not None:
                info.hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
        self._registries.clear()

    def failed(self, provider: str, what: str, exc: BaseException):
        """Report a plugin's failure once on stderr (or raise PluginFailure when strict)."""
        info = self.infos.setdefault(provider, PluginInfo(provider))
        message = (
            f"{what}: {type(exc).__name__}: {exc}"
            if not isinstance(exc, RegistrationError)
            else str(exc).removeprefix(f"{provider} ")
        )
        if strict():
            raise PluginFailure(f"plugin {info.label} {message}") from exc
        info.errors.append(message)
        warn(f"plugin {info.label} {message}; skipped")

    def clash(self, taken: NameTaken):
        """Settle a name two providers registered: the holder keeps it. Silent when the user
        chose the holder in CNNPLAN_PREFER; otherwise a failure of the provider, reported
        with how to choose (the core's names are never given away)."""
        holder = self.infos.get(taken.holder)
        if holder is None or holder.default:
            self.failed(taken.provider, "", taken)
        elif self._preference(taken.holder) < len(self._prefer()):
            self.infos[taken.provider].shadowed.append(
                f"{taken.kind} {taken.name!r} shadowed by {taken.holder} (CNNPLAN_PREFER)"
            )
        else:
            self.failed(
                taken.provider,
                "",
                RegistrationError(
                    f"{taken}; {taken.holder} keeps it (set CNNPLAN_PREFER={taken.provider} to "
                    f"choose {taken.provider})"
                ),
            )

    @staticmethod
    def _prefer() -> list[str]:
        return _names_in("CNNPLAN_PREFER") or []

    def _preference(self, name: str) -> int:
        """Rank of a plugin in CNNPLAN_PREFER (by entry-point or distribution name); plugins
        not listed rank after every listed one."""
        from .entrypoints import normalize

        prefer = self._prefer()
        info = self.infos.get(name, PluginInfo(name))
        ranks = [
            prefer.index(n)
            for n in (normalize(info.name), normalize(info.distribution))
            if n in prefer
        ]
        return min(ranks, default=len(prefer))

    def implementations(self, hook_name: str):
        """(plugin name, function) for each implementation of a hook: the core's defaults
        first (so their names are theirs), then plugins in CNNPLAN_PREFER's order, then the
        rest in the order they were loaded."""
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        order = {name: n for n, name in enumerate(self.infos)}
        return sorted(
            ((i.plugin_name, i.function) for i in impls),
            key=lambda pair: (
                pair[0] not in DEFAULT_PLUGINS,
                self._preference(pair[0]),
                order.get(pair[0], 0),
            ),
        )

    def collect(self, hook_name: str, kind: str, record_type, registry_type=Registry):
        """The registry of what the implementations of `hook_name` registered (built once per
        change of plugins; a part above the platform names its own record and registry types,
        e.g. cnnplan.kinds asks for "register_layer_kinds"). Each implementation is called on
        its own: one that raises registers nothing."""
        found = self._registries.get(hook_name)
        if found is not None:
            return found
        registry = Registry(kind, record_type) if registry_type is Registry else registry_type()
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
                except NameTaken as taken:
                    self.clash(taken)
                except RegistrationError as exc:
                    self.failed(provider, hook_name, exc)
        self._registries[hook_name] = registry
        return registry

    @property
    def solvers(self) -> Registry:
        """Every registered Solver, by name."""
        return self.collect("register_solvers", "solver", Solver)

    @property
    def reporters(self) -> Registry:
        """Every registered Reporter (output format), by name."""
        return self.collect("register_reporters", "format", Reporter)


_current: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host, built on first use (or the one `use_host` set)."""
    global _current
    if _current is None:
        host = PluginHost()
        host.load_entry_points()
        host.load_defaults()
        _current = host
    return _current


@contextmanager
def use_host(host: PluginHost):
    """Within the block, `get_host()` (and so `run_solver`, `render`, `--format` and the
    CLI) is `host`."""
    global _current
    previous, _current = _current, host
    try:
        yield host
    finally:
        _current = previous


def isolated_host(*plugins, names=()) -> PluginHost:
    """A host with only the core's defaults and the given plugins: plugin objects (modules or
    classes with hook implementations), and/or installed plugins by entry-point or
    distribution name (`names`). Other installed plugins are not loaded."""
    host = PluginHost()
    if names:
        host.load_entry_points(only=set(names))
    for plugin in plugins:
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        if not host.pm.is_registered(plugin):
            host.register(plugin, name)
    host.load_defaults()
    return host


__all__ = [
    "NameTaken",
    "PluginFailure",
    "PluginHost",
    "PluginInfo",
    "RegistrationError",
    "get_host",
    "isolated_host",
    "strict",
    "use_host",
    "warn",
]
