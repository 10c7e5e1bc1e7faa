"""Reading, validating and writing network weights as .npz or .json (W1, b1, W2, b2).

Every problem a user's file can have becomes one BadInput line naming the file and the cause.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Mapping

import numpy as np
from cnnplan import BadInput

from .network import KEYS, Network

FORMATS = (".npz", ".json")
MAX_FILE_BYTES = 512 * 2**20        # on disk, and uncompressed inside an .npz
MAX_PARAMETERS = 10_000_000
SHAPES = {"W1": "M x D", "b1": "M", "W2": "K x M", "b2": "K"}


def file_format(path, what: str = "weights file") -> str:
    """The suffix of `path` (.npz or .json), or BadInput."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise BadInput(f"{what} {str(path)!r} must end in .npz or .json "
                       f"(got {suffix or 'no suffix'!r})")
    return suffix


def load(path) -> tuple[Network, list[str]]:
    """The network stored at `path`, and the names of any extra arrays it holds (ignored)."""
    path = Path(path)
    suffix = file_format(path)
    if not path.exists():
        raise BadInput(f"weights file {str(path)!r} does not exist")
    if path.is_dir():
        raise BadInput(f"weights file {str(path)!r} is a directory")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BadInput(f"cannot read weights file {str(path)!r}: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise BadInput(f"weights file {str(path)!r} is {size} bytes, above the limit "
                       f"{MAX_FILE_BYTES}")
    arrays = _read_npz(path) if suffix == ".npz" else _read_json(path)
    extra = sorted(set(arrays) - set(KEYS))
    return validate(arrays, f"weights file {str(path)!r}"), extra


def _read_json(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read weights file {str(path)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BadInput(f"weights file {str(path)!r} is not UTF-8 text, so not JSON") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"weights file {str(path)!r} is not valid JSON: {exc.msg} at line "
                       f"{exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise BadInput(f"weights file {str(path)!r} nests JSON too deeply") from None
    if not isinstance(doc, dict):
        raise BadInput(f"weights file {str(path)!r} must hold a JSON object with keys "
                       f"{', '.join(KEYS)}; it holds a {type(doc).__name__}")
    return doc


def _read_npz(path: Path) -> dict:
    where = f"weights file {str(path)!r}"
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise BadInput(f"{where} is not a valid .npz archive ({_reason(exc)})") from None
    if unpacked > MAX_FILE_BYTES:
        raise BadInput(f"{where} unpacks to {unpacked} bytes, above the limit {MAX_FILE_BYTES}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise BadInput(f"{where} holds Python objects (pickled data), not numeric "
                           "arrays; it is not loaded, for safety") from None
        raise BadInput(f"{where} is not a valid .npz archive ({_reason(exc)})") from None
    except Exception as exc:  # zlib, zipfile and format errors from a damaged archive
        raise BadInput(f"{where} is not a valid .npz archive ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def validate(arrays: Mapping, source: str = "weights") -> Network:
    """A Network from a mapping with W1, b1, W2, b2, or BadInput saying what is wrong."""
    missing = [key for key in KEYS if key not in arrays]
    if missing:
        raise BadInput(f"{source} lacks {', '.join(missing)} (it needs W1 (M x D), b1 (M), "
                       "W2 (K x M), b2 (K))")
    net = Network(*(_array(arrays[key], key, source) for key in KEYS))
    for key, value in zip(KEYS, net):
        rank = 2 if key.startswith("W") else 1
        if value.ndim != rank:
            raise BadInput(f"{source}: {key} must be {'a matrix' if rank == 2 else 'a vector'} "
                           f"({SHAPES[key]}); it has shape {_shape(value)}")
        if 0 in value.shape:
            raise BadInput(f"{source}: {key} has shape {_shape(value)}; every size must be at "
                           "least 1")
    (m, d), (k, m2) = net.W1.shape, net.W2.shape
    if net.b1.shape[0] != m:
        raise BadInput(f"{source}: b1 has {_count(net.b1.shape[0], 'entry')} but W1 has "
                       f"{_count(m, 'row')} (M = {_count(m, 'hidden unit')})")
    if m2 != m:
        raise BadInput(f"{source}: W2 has {_count(m2, 'column')} but W1 has {_count(m, 'row')} "
                       f"(M = {_count(m, 'hidden unit')})")
    if net.b2.shape[0] != k:
        raise BadInput(f"{source}: b2 has {_count(net.b2.shape[0], 'entry')} but W2 has "
                       f"{_count(k, 'row')} (K = {_count(k, 'output')})")
    total = sum(v.size for v in net)
    if total > MAX_PARAMETERS:
        raise BadInput(f"{source}: {total} parameters, above the limit {MAX_PARAMETERS}")
    for key, value in zip(KEYS, net):
        bad = ~np.isfinite(value)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise BadInput(f"{source}: {key} holds a non-finite value ({value[index]} at "
                           f"{list(index)})")
    return net


def _shape(value) -> str:
    return str(tuple(int(n) for n in value.shape))


def _count(n: int, noun: str) -> str:
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"


def _array(value, key: str, source: str) -> np.ndarray:
    """`value` as a float64 array of real numbers, or BadInput."""
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.array(value)
        except (ValueError, TypeError, RecursionError):
            array = None
        if array is None or array.dtype == object:
            raise BadInput(f"{source}: {key} is not a rectangular array of numbers")
    if array.dtype.kind not in "iuf":
        raise BadInput(f"{source}: {key} must hold real numbers; it holds "
                       f"{_kind(array.dtype)}")
    return array.astype(float)


def _kind(dtype) -> str:
    return {"b": "booleans", "c": "complex numbers", "U": "text", "S": "bytes", "O": "objects",
            "M": "dates", "m": "time spans", "V": "records"}.get(dtype.kind, f"dtype {dtype}")


def save(net: Network, path) -> None:
    """Write `net` to `path` as .npz or .json (chosen by the suffix), replacing it atomically."""
    path = Path(path)
    suffix = file_format(path, "output file")
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            if suffix == ".npz":
                write_npz(handle, dict(zip(KEYS, net)))
            else:
                handle.write(to_json(net).encode("utf-8"))
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BadInput(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


def write_npz(handle, arrays: dict) -> None:
    """An uncompressed .npz, as np.savez writes it but with fixed member dates, so the same
    arrays always give the same bytes."""
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(info, "w") as member:
                np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)


def to_json(net: Network) -> str:
    """The network as a JSON object, one matrix row per line; floats round-trip exactly."""
    def row(values) -> str:
        return "[" + ", ".join(json.dumps(float(v)) for v in values) + "]"

    parts = []
    for key, value in zip(KEYS, net):
        if value.ndim == 2:
            body = ",\n    ".join(row(r) for r in value)
            parts.append(f'  "{key}": [\n    {body}\n  ]')
        else:
            parts.append(f'  "{key}": {row(value)}')
    return "{\n" + ",\n".join(parts) + "\n}\n"
