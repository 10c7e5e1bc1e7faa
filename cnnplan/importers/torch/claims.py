"""Plugins' claims on torch.nn.Module types (`register_importers`): such a module is one layer,
not traced into."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...platform.errors import BadInput
from .load import first_line


@dataclass(frozen=True)
class Importer:
    """A plugin's claim on an `nn.Module` type, for `cnnplan import`.

    `module` is the class (or a 'package.module:Class' reference, imported only when a model is
    imported); `function(module, inputs)` gets the module instance and its input shapes (C x
    sizes tuples, no batch) and returns the layer's spec text, e.g. "spacetodepth(2)". A claimed
    module is a leaf of the trace: fx does not look inside it.
    """

    name: str
    module: type | str
    function: Callable | str
    provider: str = ""


# -- plugins' importers ---------------------------------------------------------------------


def plugin_importers() -> list[Importer]:
    """Every Importer registered through the `register_importers` hook (a plugin whose hook
    fails is reported once and skipped)."""
    from ...platform.host import get_host

    host = get_host()
    found = []
    for provider, function in host.implementations("register_importers"):
        staged: list = []
        try:
            function(register=staged.append)
            for record in staged:
                if not isinstance(record, Importer):
                    raise TypeError(f"registered {record!r}, not a cnnplan.Importer")
        except Exception as exc:
            host.failed(provider, "register_importers failed", exc)
            continue
        found += [Importer(r.name, r.module, r.function, provider) for r in staged]
    return found


def resolve_claim(reference):
    if not isinstance(reference, str):
        return reference
    import importlib

    module, _, attr = reference.partition(":")
    return getattr(importlib.import_module(module), attr)


def claims_by_type(importers) -> list[tuple[type, Importer]]:
    claims = []
    for record in importers:
        try:
            claims.append((resolve_claim(record.module), record))
        except Exception as exc:
            raise BadInput(
                f"importer {record.name!r} ({record.provider}): cannot load "
                f"{record.module!r}: {type(exc).__name__}: {first_line(exc)}"
            ) from None
    return claims
