"""Reading user-given files (plain or gzip, or stdin) and writing files atomically."""

from __future__ import annotations

import contextlib
import gzip
import io
import itertools
import os
import sys
import tempfile
import zlib
from pathlib import Path

from .errors import InputError

__all__ = ["MAX_INPUT_BYTES", "atomic_write", "read_input"]

# Larger inputs are refused rather than parsed: no real article page comes near this.
MAX_INPUT_BYTES = 64 * 1024 * 1024


def read_input(path: str | Path, *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of ``path`` (``-`` for stdin), gunzipped when it is gzip data; at most ``limit`` bytes.

    Raises:
        InputError: missing, a directory, unreadable, corrupt gzip, or larger than ``limit``.
    """
    name = str(path)
    try:
        if name == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            p = Path(name)
            if p.is_dir():
                raise InputError(f"{name} is a directory, not a file")
            if not p.exists():
                raise InputError(f"{name}: no such file")
            with p.open("rb") as fh:
                data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from exc
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(name, data, limit)
    if len(data) > limit:
        raise InputError(f"{name} is larger than {limit // (1024 * 1024)} MB")
    return data


def _gunzip(name: str, data: bytes, limit: int) -> bytes:
    """Decompress with a cap, so a gzip bomb is refused instead of filling memory."""
    out = bytearray()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
            while chunk := gz.read(1024 * 1024):
                out += chunk
                if len(out) > limit:
                    raise InputError(f"{name} decompresses to more than {limit // (1024 * 1024)} MB")
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{name}: not a valid gzip file ({exc})") from exc
    return bytes(out)


_TEMP_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
)
_temp_names = itertools.count()


def _create_temp(folder: Path, name: str) -> tuple[int, str]:
    """A new temp file in ``folder`` for ``name``: the open descriptor and its path.

    The name holds the process id and a per-process counter, so it is unique without tempfile's random
    names and retry loop (a third of the cost of a small atomic write); O_EXCL still refuses any file
    already there, in which case a random suffix is tried like tempfile does.
    """
    stem = f"{folder}{os.sep}.{name}.{os.getpid()}-{next(_temp_names)}"
    try:
        return os.open(f"{stem}.tmp", _TEMP_FLAGS, 0o600), f"{stem}.tmp"
    except FileExistsError:
        return tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)


def atomic_write(path: str | Path, text: str, *, fsync: bool = True, tmp_dir: Path | None = None) -> None:
    """Write ``text`` to ``path`` via a temp file and a rename: never a half file.

    ``fsync=False`` keeps the atomicity (a crash leaves the old file or the new one, never a mix) but
    not durability across power loss; the archive uses it because its index can be rebuilt.
    ``tmp_dir`` (same file system) holds the temp file, so a kill -9 leaves litter only there.
    """
    target = Path(path)
    folder = tmp_dir or (target.parent if str(target.parent) else Path("."))
    data = text.encode("utf-8")
    try:
        fd, tmp = _create_temp(folder, target.name)
    except OSError as exc:
        raise InputError(f"{target}: cannot write ({exc.strerror or exc})") from exc
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise InputError(f"{target}: cannot write ({exc.strerror or exc})") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
