"""Reading and writing the files users name, safely: only regular files, bounded in size,
every failure one line that names the file but never echoes what it holds (BadInput for a
file read, exit 2; CannotWrite for a file written, exit 1).

Plugins use these through the public API (`cnnplan.read_bounded`, `cnnplan.write_atomic`).
"""

from __future__ import annotations

import os
import stat

from .errors import BadInput, CannotWrite


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


class Staged:
    """Bytes written to a temporary file beside their destination, not yet in place:
    `commit()` renames it over the destination, `discard()` removes it. A command stages its
    files, prints its answer, and commits only when that succeeded, so a command that fails
    changes no file."""

    def __init__(self, path: str, temporary: str, name: str):
        self.path, self.temporary, self.name = path, temporary, name

    def commit(self) -> None:
        try:
            _check_target(self.path, self.name)
            os.replace(self.temporary, self.path)
        except (OSError, ValueError) as exc:
            self.discard()
            raise CannotWrite(f"cannot write {self.name}: {_reason(exc)}") from None
        except CannotWrite:
            self.discard()
            raise

    def discard(self) -> None:
        try:
            os.unlink(self.temporary)
        except OSError:
            pass


def _check_target(path: str, name: str) -> None:
    """CannotWrite unless `path` is a new name in an existing folder or a regular file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        folder = os.path.dirname(path) or "."
        if not os.path.isdir(folder):
            raise CannotWrite(f"cannot write {name}: its folder does not exist") from None
        return
    except (OSError, ValueError) as exc:  # a name too long, a NUL, a loop of links
        raise CannotWrite(f"cannot write {name}: {_reason(exc)}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise CannotWrite(f"cannot write {name}: it is {kind} (give a regular file or a new name)")


def check_output(path) -> None:
    """CannotWrite unless `path` (links followed) is a regular file or a new name in an
    existing folder: a command checks its -o before doing any work."""
    _check_target(os.path.realpath(os.fspath(path)), show_path(path))


def stage(path, data: bytes) -> Staged:
    """Write `data` to a new temporary file beside `path` (see Staged). The destination must
    be a regular file or a new name (a device, FIFO or directory is refused, so nothing is
    ever renamed over one); a symbolic link is followed, so the link stays. The new file gets
    the mode the umask gives a new file, or the mode of the file it replaces."""
    name = show_path(path)
    path = os.path.realpath(os.fspath(path))
    _check_target(path, name)
    folder, base = os.path.split(path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = None
    for attempt in range(100):
        temporary = os.path.join(folder, f".{base[:200]}.{os.getpid()}.{attempt}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
        except (OSError, ValueError) as exc:
            raise CannotWrite(f"cannot write {name}: {_reason(exc)}") from None
    else:
        raise CannotWrite(f"cannot write {name}: no free temporary name beside it")
    staged = Staged(path, temporary, name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
    except (OSError, ValueError) as exc:
        staged.discard()
        raise CannotWrite(f"cannot write {name}: {_reason(exc)}") from None
    return staged


def write_atomic(path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same directory, renamed into
    place: the old file stays whole until the new one is complete (see `stage`)."""
    stage(path, data).commit()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
