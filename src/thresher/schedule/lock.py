"""The archive's crawl lock (``archive/crawl.lock``): one crawl per archive, and a killed one never blocks.

The lock is an advisory ``flock`` on the file, so the kernel releases it when its holder dies, kill -9
included. The file also says who holds it (pid, start time, command) for the "another crawl is running"
message; it is emptied on release and never deleted (deleting a flock'ed file lets two processes lock two
different files). A file that still names a holder while nobody holds the lock was left by a killed run:
it is *stale*, and the next crawl takes it over.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal

from ..errors import CrawlLocked, StoreError
from ..models import format_datetime

__all__ = ["LOCK_NAME", "CrawlLock", "LockInfo", "LockState", "lock_state"]

LOCK_NAME = "crawl.lock"
# the holder writes its details right after taking the lock; a refused process waits this long for them
_DETAILS_WAIT = 0.5


@dataclass(slots=True, kw_only=True)
class LockInfo:
    """Who holds (or held) the lock."""

    pid: int
    since: str  # ISO 8601 UTC
    host: str = ""
    command: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {"pid": self.pid, "since": self.since, "host": self.host, "command": self.command}


@dataclass(slots=True, kw_only=True)
class LockState:
    """``free``, ``held`` (by a live crawl) or ``stale`` (left by a killed one)."""

    state: Literal["free", "held", "stale"]
    info: LockInfo | None = None


def _read_info(path: Path) -> LockInfo | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "null")
        if not isinstance(data, dict):
            return None
        return LockInfo(
            pid=int(data["pid"]),
            since=str(data["since"]),
            host=str(data.get("host", "")),
            command=str(data.get("command", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _open(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot open the crawl lock {path}: {exc.strerror or exc}") from exc


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as exc:
        raise StoreError(f"cannot lock the archive: {exc.strerror or exc}") from exc
    return True


def lock_state(root: Path) -> LockState:
    """Whether a crawl holds the archive's lock, without taking it for longer than a moment."""
    path = root / LOCK_NAME
    if not path.exists():
        return LockState(state="free")
    fd = _open(path)
    try:
        if not _try_flock(fd):
            return LockState(state="held", info=_read_info(path))
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    info = _read_info(path)
    return LockState(state="stale" if info is not None else "free", info=info)


class CrawlLock:
    """Hold ``root/crawl.lock`` for the duration of a ``with`` block.

    Args:
        root: the archive folder.
        command: what the holder is doing, for the message others get.

    Raises:
        CrawlLocked: another live process holds the lock (raised at once, never waits).
        StoreError: the lock file cannot be created.
    """

    def __init__(self, root: Path, *, command: str = "crawl") -> None:
        self.path = root / LOCK_NAME
        self.root = root
        self.command = command
        self.stale: LockInfo | None = None  # what a killed run left, when we took its lock over
        self._fd: int | None = None

    def acquire(self) -> CrawlLock:
        """Take the lock or raise CrawlLocked."""
        fd = _open(self.path)
        if not _try_flock(fd):
            os.close(fd)
            info = _read_info(self.path)
            deadline = time.monotonic() + _DETAILS_WAIT
            while info is None and time.monotonic() < deadline:  # the holder is writing its details
                time.sleep(0.02)
                info = _read_info(self.path)
            who = f"pid {info.pid}, since {info.since}" if info else "pid unknown"
            raise CrawlLocked(f"another crawl is running on {self.root} ({who})", info=info)
        self.stale = _read_info(self.path)
        info = LockInfo(
            pid=os.getpid(),
            since=format_datetime(datetime.now(UTC)),
            host=socket.gethostname(),
            command=self.command or " ".join(sys.argv),
        )
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info.to_dict()).encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"cannot write the crawl lock {self.path}: {exc.strerror or exc}") from exc
        self._fd = fd
        return self

    def release(self) -> None:
        """Empty the file and let go (the kernel does the letting go if we are killed instead)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> CrawlLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
