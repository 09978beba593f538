"""Worker processes driven from the event loop: one pipe per worker, read with ``loop.add_reader``.

concurrent.futures' ProcessPoolExecutor hands work over through two helper threads in the parent; each
submit wakes one of them, and on a machine with more runnable threads than cores the event loop then
waited for the GIL to come back (3.3 ms per page in the crawl's profile, as long as the archive write).
Here only the event loop touches the pipes, so the parent has no thread to hand the GIL to.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

__all__ = ["WorkerGone", "Workers"]

_JOIN_SECONDS = 1.0


class WorkerGone(Exception):
    """A worker died or its pipe broke: the pool is no longer usable (the caller does the work itself)."""


def _serve(conn: Connection, fn: Callable[..., Any]) -> None:
    """A worker's loop: receive arguments, send back ``("ok", result)`` or ``("raise", exception)``."""
    # Ctrl-C reaches the whole process group; it is the parent's to handle, and the pages in flight
    # (some of them here) must finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            args = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone or closed the pipe
        if args is None:
            return
        try:
            outcome: tuple[str, Any] = ("ok", fn(*args))
        except Exception as exc:
            outcome = ("raise", exc)
        conn.send(outcome)


class Workers:
    """``count`` processes (forkserver: the parent may run threads) each running ``fn`` on request.

    ``fn`` must be a module-level function (it is pickled by name). Use :meth:`run` from the event loop
    and :meth:`close` when done.
    """

    def __init__(self, count: int, fn: Callable[..., Any]) -> None:
        context = multiprocessing.get_context("forkserver")
        # fn's module is imported once, by the fork server, before it forks the workers: each worker
        # used to import it on its own (the extraction stack, ~0.85 s of CPU a worker, spent while the
        # crawl is already fetching). Only takes effect when this starts the fork server.
        context.set_forkserver_preload(["__main__", fn.__module__])
        self._workers: list[tuple[BaseProcess, Connection]] = []
        self._idle: asyncio.Queue[tuple[BaseProcess, Connection] | None] = asyncio.Queue()
        self.broken = False
        for _ in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(theirs, fn), daemon=True, name="thresher-worker")
            process.start()  # it imports fn's module now, while the crawl fetches robots.txt and sitemaps
            theirs.close()
            self._workers.append((process, ours))
            self._idle.put_nowait((process, ours))

    async def run(self, *args: Any) -> Any:
        """``fn(*args)`` in an idle worker; its exception, if it raised one.

        Raises:
            WorkerGone: a worker died (then every later call raises it too).
        """
        worker = await self._idle.get()
        if worker is None or self.broken:
            self._idle.put_nowait(None)  # wake the next waiter too
            raise WorkerGone("extraction worker pool is broken")
        _, conn = worker
        fd = conn.fileno()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[tuple[str, Any]] = loop.create_future()

        def readable() -> None:
            if answer.done():
                return
            try:
                answer.set_result(conn.recv())
            except (EOFError, OSError) as exc:
                answer.set_exception(WorkerGone(f"extraction worker died ({exc!r})"))

        clean = False
        try:
            try:
                conn.send(args)
            except OSError as exc:
                raise WorkerGone(f"extraction worker died ({exc!r})") from exc
            loop.add_reader(fd, readable)
            try:
                kind, value = await answer
            finally:
                loop.remove_reader(fd)
            clean = True
        except WorkerGone:
            self._break()
            raise
        finally:
            if clean:
                self._idle.put_nowait(worker)
            elif not self.broken:
                # cancelled mid-task: its answer would reach the next caller, so this worker is done
                self._drop(worker)
        if kind == "raise":
            raise value
        return value

    def _drop(self, worker: tuple[BaseProcess, Connection]) -> None:
        process, conn = worker
        with contextlib.suppress(ValueError):
            self._workers.remove(worker)
        conn.close()
        process.terminate()
        if not self._workers:
            self._break()

    def _break(self) -> None:
        if not self.broken:
            self.broken = True
            self._idle.put_nowait(None)

    def close(self) -> None:
        """Stop the workers: each finishes what it is doing, then sees its pipe closed and exits. Call it
        when no :meth:`run` is waiting (an answer closed out from under it would never come)."""
        self.broken = True
        for _, conn in self._workers:
            conn.close()
        for process, _ in self._workers:
            process.join(_JOIN_SECONDS)
            if process.is_alive():
                process.terminate()
                process.join(_JOIN_SECONDS)
        self._workers = []
