"""A fast reader of installed entry points for one group.

importlib.metadata costs ~10 ms to import (it pulls in email parsing); cnnplan needs only the
`[cnnplan]` section of each distribution's entry_points.txt and the name and version that the
`.dist-info` folder name already carries, so it reads those directly.

Reading every installed distribution's entry_points.txt still costs a few milliseconds in a
large environment, so the list found is cached (`CNNPLAN_CACHE_DIR`, default
`~/.cache/cnnplan`; set it empty to turn the cache off), keyed on the modification times of the
folders searched and of the entry-point files that name the group: installing, upgrading or
removing a distribution changes its folder's time, so the next start reads them again.
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
    return [folder for folder in sys.path if folder and os.path.realpath(folder) != here]


def entry_points(group: str, paths=None) -> list[EntryPoint]:
    """Entry points of `group` from the .dist-info/.egg-info folders of installed
    distributions (`installed_paths`, cached; or `paths`, read every time), sorted by name (a
    distribution found twice on the path: the first one wins)."""
    if paths is not None:
        return [ep for ep, _ in _scan(group, paths)]
    folders = installed_paths()
    cache = _cache_file(group)
    stamp = repr([(folder, _mtime(folder)) for folder in folders])
    found = _cached(cache, stamp) if cache else None
    if found is None:
        scanned = _scan(group, folders)
        found = [ep for ep, _ in scanned]
        if cache:
            _write_cache(cache, stamp, scanned)
    return found


def _scan(group: str, folders) -> list[tuple[EntryPoint, str]]:
    """(entry point, path of the file it came from) pairs, sorted by name."""
    found: dict[str, tuple[EntryPoint, str]] = {}
    seen_dists: set[str] = set()
    for folder in folders:
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
            source = os.path.join(path, "entry_points.txt")
            pairs = list(_section(_read(source), group))
            if pairs:
                dist, version = _name_and_version(path, stem)
            for name, value in pairs:
                found.setdefault(name, (EntryPoint(name, value, dist, version), source))
    return [found[name] for name in sorted(found)]


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path or ".").st_mtime_ns
    except OSError:
        return None


def _cache_file(group: str) -> str | None:
    folder = os.environ.get("CNNPLAN_CACHE_DIR")
    if folder is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "cnnplan")
    return os.path.join(folder, f"entry-points-{group}.txt") if folder else None


def _cached(cache: str, stamp: str) -> list[EntryPoint] | None:
    """The cached entry points if the cache was written for `stamp` and the files they came
    from are unchanged, else None. Lines: the stamp, then per entry point its file's path and
    time and its four fields, tab-separated."""
    lines = _read(cache).split("\n")
    if lines[0] != stamp or lines[-1] != "end":
        return None
    found = []
    for line in lines[1:-1]:
        fields = line.split("\t")
        if len(fields) != 6 or str(_mtime(fields[0])) != fields[1]:
            return None
        found.append(EntryPoint(*fields[2:]))
    return found


def _write_cache(cache: str, stamp: str, scanned: list[tuple[EntryPoint, str]]):
    """Write the cache (atomically; quietly nothing when it cannot be written, or when a
    field holds a tab or a line break)."""
    lines = [stamp]
    for ep, source in scanned:
        fields = (source, str(_mtime(source)), *ep)
        if any("\t" in f or "\n" in f or "\r" in f for f in fields):
            return
        lines.append("\t".join(fields))
    lines.append("end")
    try:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        partial = f"{cache}.{os.getpid()}.partial"
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines))
        os.replace(partial, cache)
    except OSError:
        pass


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
