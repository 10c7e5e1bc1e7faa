"""Reading and writing the files users name, safely: only regular files, bounded in size,
every failure one BadInput line that names the file but never echoes what it holds.

Plugins use these through the public API (`cnnplan.read_bounded`, `cnnplan.write_atomic`).
"""

from __future__ import annotations

import os
import stat

from .errors import BadInput


def show_path(path) -> str:
    """A file name for a message: quoted, and shortened when long."""
    text = os.fsdecode(path) if isinstance(path, bytes) else str(path)
    if len(text) > 80:
        text = text[:38] + "..." + text[-38:]
    return repr(text)


def read_bounded(path, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them, or BadInput.

    The file is opened without blocking and checked on the open descriptor, so a FIFO, a
    device such as /dev/zero or a directory is refused at once, and a file that grows while
    it is read is still bounded.
    """
    name = show_path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise BadInput(f"{what} {name} does not exist") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read {what} {name}: {_reason(exc)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise BadInput(f"{what} {name} is {kind}")
        if info.st_size > limit:
            raise BadInput(f"{what} {name} is {info.st_size:,} bytes; the limit is {limit:,}")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise BadInput(f"cannot read {what} {name}: {_reason(exc)}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise BadInput(f"{what} {name} is larger than {limit:,} bytes")
    return data


def write_atomic(path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same directory, renamed into
    place: the old file stays whole until the new one is complete."""
    name = show_path(path)
    path = os.fspath(path)
    folder, base = os.path.split(path)
    tmp = os.path.join(folder, f".{base[:200]}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except (OSError, ValueError) as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise BadInput(f"cannot write {name}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
