"""A fast reader of installed entry points for one group.

importlib.metadata costs ~10 ms to import (it pulls in email parsing); cnnplan needs only the
`[cnnplan]` section of each distribution's entry_points.txt and the name and version that the
`.dist-info` folder name already carries, so it reads those directly.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import NamedTuple


class EntryPoint(NamedTuple):
    """`name = module[:attr]` from a distribution's entry_points.txt."""

    name: str
    value: str
    distribution: str
    version: str

    def load(self):
        module_name, _, attr = self.value.partition(":")
        obj = importlib.import_module(module_name.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
        return obj


def installed_paths() -> list[str]:
    """sys.path without the current directory, which `python -c`, `python -m` and an
    interactive session put first: a *.dist-info lying in the folder where cnnplan happens
    to run is not an installed distribution, so it never loads a plugin."""
    here = os.path.realpath(os.getcwd())
    return [folder for folder in sys.path
            if folder and os.path.realpath(folder) != here]


def entry_points(group: str, paths=None) -> list[EntryPoint]:
    """Entry points of `group` from the .dist-info/.egg-info folders of installed
    distributions (`installed_paths`, or `paths`), sorted by name (a distribution found twice
    on the path: the first one wins)."""
    found: dict[str, EntryPoint] = {}
    seen_dists: set[str] = set()
    for folder in paths if paths is not None else installed_paths():
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:
            continue
        for entry in names:
            stem, dot, suffix = entry.rpartition(".")
            if suffix not in ("dist-info", "egg-info") or not dot:
                continue
            key = normalize(stem.partition("-")[0])
            if key in seen_dists:
                continue
            seen_dists.add(key)
            path = os.path.join(folder or ".", entry)
            pairs = list(_section(_read(os.path.join(path, "entry_points.txt")), group))
            if pairs:
                dist, version = _name_and_version(path, stem)
            for name, value in pairs:
                found.setdefault(name, EntryPoint(name, value, dist, version))
    return [found[name] for name in sorted(found)]


def normalize(name: str) -> str:
    """Distribution names compare case-insensitively with '-', '_' and '.' alike."""
    return name.lower().replace("-", "_").replace(".", "_")


def _name_and_version(path: str, stem: str) -> tuple[str, str]:
    """The distribution's own spelling of its name, and its version, from its metadata
    headers (falling back on the folder name)."""
    dist, _, version = stem.partition("-")
    fields: dict[str, str] = {}
    for filename in ("METADATA", "PKG-INFO"):
        for line in _read(os.path.join(path, filename)).splitlines():
            if not line:
                break
            key, _, value = line.partition(":")
            fields.setdefault(key, value.strip())
    return fields.get("Name") or dist, fields.get("Version") or version


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def _section(text: str, group: str):
    """(name, value) pairs of the INI section [group]."""
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
        elif inside and "=" in line:
            name, _, value = line.partition("=")
            yield name.strip(), value.strip()
