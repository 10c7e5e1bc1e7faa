"""Reading, validating and writing network weights as .npz or .json (W1, b1, W2, b2).

Every problem a user's file can have becomes one BadInput line naming the file and the cause.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import Mapping

import numpy as np
from cnnplan import BadInput, read_bounded, show_path, stage
from cnnplan.platform.errors import number_error

from .network import KEYS, Network

FORMATS = (".npz", ".json")
# bounds that keep a conversion within 500 MB of memory (parameters are also listed in the
# JSON result) and its check within seconds (see solvers.MAX_CHECK_WORK)
MAX_PARAMETERS = 1_000_000          # in all four arrays, and in any one array of a file
MAX_NPZ_BYTES = 64 * 2**20          # an .npz file on disk
MAX_UNPACKED_BYTES = 64 * 2**20     # the arrays inside an .npz, unpacked
MAX_JSON_BYTES = 32 * 2**20         # a .json file
SHAPES = {"W1": "M x D", "b1": "M", "W2": "K x M", "b2": "K"}


def file_format(path, what: str = "weights file") -> str:
    """The suffix of `path` (.npz or .json), or BadInput."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise BadInput(f"{what} {show_path(path)} must end in .npz or .json "
                       f"(got {suffix or 'no suffix'!r})")
    return suffix


def load(path) -> tuple[Network, list[str]]:
    """The network stored at `path`, and the names of any extra arrays it holds (ignored)."""
    suffix = file_format(path)
    where = f"weights file {show_path(path)}"
    raw = read_bounded(path, MAX_NPZ_BYTES if suffix == ".npz" else MAX_JSON_BYTES,
                       "weights file")
    arrays = _read_npz(raw, where) if suffix == ".npz" else _read_json(raw, where)
    extra = sorted(set(arrays) - set(KEYS))
    return validate(arrays, where), extra


def _read_json(raw: bytes, where: str) -> dict:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{where} is not UTF-8 text, so not JSON") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column "
                       f"{exc.colno}") from None
    except RecursionError:
        raise BadInput(f"{where} nests JSON too deeply") from None
    except ValueError as exc:  # an integer past Python's digit limit
        raise BadInput(f"{where}: {number_error(exc)}") from None
    if not isinstance(doc, dict):
        raise BadInput(f"{where} must hold a JSON object with keys {', '.join(KEYS)}; it holds "
                       f"a {type(doc).__name__}")
    return doc


def _read_npz(raw: bytes, where: str) -> dict:
    """The arrays of an .npz archive, each member's header read (and its size checked) before
    its data is unpacked; never unpickles."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = archive.infolist()
    except Exception as exc:  # BadZipFile, and whatever else a damaged archive raises
        raise BadInput(f"{where} is not a valid .npz archive ({_reason(exc)})") from None
    unpacked = sum(info.file_size for info in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise BadInput(f"{where} unpacks to {unpacked:,} bytes, above the limit "
                       f"{MAX_UNPACKED_BYTES:,}")
    arrays = {}
    for info in members:
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        try:
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                               (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if read_header is None:
                    raise ValueError(f".npy format version {version} is not supported")
                shape, _, dtype = read_header(member)
                if dtype.hasobject:
                    raise BadInput(f"{where} holds Python objects (pickled data), not numeric "
                                   "arrays; it is not loaded, for safety")
                if math.prod(shape) > MAX_PARAMETERS:
                    raise BadInput(f"{where}: {name} has {math.prod(shape):,} values, above "
                                   f"the limit {MAX_PARAMETERS:,}")
            with archive.open(info) as member:
                arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
        except BadInput:
            raise
        except Exception as exc:  # zlib, zipfile and format errors from a damaged archive
            raise BadInput(f"{where} is not a valid .npz archive ({_reason(exc)})") from None
    return arrays


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
        raise BadInput(f"{source}: {total:,} parameters, above the limit {MAX_PARAMETERS:,}")
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
    if array.size > MAX_PARAMETERS:
        raise BadInput(f"{source}: {key} has {array.size:,} values, above the limit "
                       f"{MAX_PARAMETERS:,}")
    return array.astype(float)


def _kind(dtype) -> str:
    return {"b": "booleans", "c": "complex numbers", "U": "text", "S": "bytes", "O": "objects",
            "M": "dates", "m": "time spans", "V": "records"}.get(dtype.kind, f"dtype {dtype}")


def save(net: Network, path):
    """`net` as .npz or .json (chosen by the suffix) staged beside `path` (cnnplan.stage):
    the caller commits it in place or discards it."""
    if file_format(path, "output file") == ".npz":
        buffer = io.BytesIO()
        write_npz(buffer, dict(zip(KEYS, net)))
        data = buffer.getvalue()
    else:
        data = to_json(net).encode("utf-8")
    return stage(path, data)


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
