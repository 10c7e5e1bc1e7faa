"""Module paths from before the packages of 0.2 (cnnplan/arithmetic.py and the like): each
still imports, as a view of its new module, with a DeprecationWarning naming the new path.
They go in the release after next; new code imports the new paths (docs/architecture.md)."""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import warnings

MOVED = {
    f"cnnplan.{old}": f"cnnplan.{new}"
    for old, new in (
        ("arithmetic", "kinds.arithmetic"),
        ("tensor_shape", "kinds.shape"),
        ("core_kinds", "kinds.core"),
        ("errors", "platform.errors"),
        ("result", "platform.result"),
        ("registry", "platform.registry"),
        ("hookspecs", "platform.hookspecs"),
        ("plugins", "platform.host"),
        ("reporters", "platform.reporters"),
        ("files", "platform.files"),
        ("entrypoints", "platform.entrypoints"),
        ("where", "language.where"),
        ("options", "language.options"),
        ("specs", "language.specs"),
        ("planfile", "language.planfile"),
        ("search", "solver.search"),
        ("bounds", "solver.bounds"),
        ("nearest", "solver.nearest"),
        ("windows", "solver.windows"),
        ("layer", "solver.layer"),
        ("export", "network.export"),
        ("graphplan", "planner.graph"),
        ("importer", "importers.torch.model"),
    )
}


class _OldPaths:
    """A meta path finder and loader (duck-typed: importlib.abc costs 100 ms of imports) for
    `cnnplan.arithmetic` and the other old paths; the module it makes holds the new module's
    names."""

    def find_spec(self, name, path=None, target=None):
        return importlib.machinery.ModuleSpec(name, self) if name in MOVED else None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        new = MOVED[module.__name__]
        warnings.warn(
            f"{module.__name__} is now {new}; the old path goes in a later release",
            DeprecationWarning,
            stacklevel=2,
        )
        target = importlib.import_module(new)
        module.__dict__.update(
            {k: v for k, v in vars(target).items() if not (k.startswith("__") and k.endswith("__"))}
        )
        module.__doc__ = target.__doc__


def install() -> None:
    if not any(isinstance(finder, _OldPaths) for finder in sys.meta_path):
        sys.meta_path.append(_OldPaths())
