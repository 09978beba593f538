"""The crawl's archive writer: one thread that writes archived pages, several to a transaction.

Archive.add blocks on the disk (a temp file, a rename, a WARC append, an index commit) for several ms
a page; in the event loop it held up every fetch and timer meanwhile. The writer thread takes that off
the loop. Pages go into one index transaction (``Archive.add_many``) with those that arrive up to
``linger`` (30 ms) after the first, or are already waiting: the per-transaction cost (commit, staging,
lookups, a new FTS5 segment) is shared. At bench (a)'s pace a transaction of one page cost the thread
~3 ms of CPU, ~1.5-2.3 ms a page in transactions of 6-16. The crawler lets a page waiting here free
its host's slot (``Crawler._archive``), so the wait does not hold up the fetches. Each page's result
comes back only once its transaction is committed, so the crawler still completes a URL in the
frontier only after its article is safely in the archive.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time

from ..models import AddResult, Article
from ..store import Archive
from ..store.warc import Response

__all__ = ["ArchiveWriter"]

MAX_BATCH = 16  # pages per transaction at most
LINGER = 0.03  # seconds a batch waits for more pages after its first

_Job = tuple[Article, Response | None, asyncio.AbstractEventLoop, "asyncio.Future[AddResult]"]


def _settle(future: asyncio.Future[AddResult], result: AddResult | None, error: BaseException | None) -> None:
    if future.cancelled():
        return  # the page was cancelled; its write has happened all the same
    if error is not None:
        future.set_exception(error)
    else:
        assert result is not None
        future.set_result(result)


class ArchiveWriter:
    """Writes to ``archive`` from one thread; :meth:`add` from the event loop, :meth:`close` when done."""

    def __init__(self, archive: Archive, *, linger: float = LINGER) -> None:
        self.archive = archive
        self.linger = linger
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="thresher-archive", daemon=True)
        self._thread.start()

    async def add(self, article: Article, raw: Response | None) -> AddResult:
        """``archive.add(article, raw)``, in the writer thread; its result once committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AddResult] = loop.create_future()
        self._jobs.put((article, raw, loop, future))
        return await future

    def close(self) -> None:
        """Write what is queued, then stop the thread (idempotent)."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    def _run(self) -> None:
        stop = False
        while not stop:
            job = self._jobs.get()
            if job is None:
                return
            batch = [job]
            until = time.monotonic() + self.linger
            while len(batch) < MAX_BATCH:
                try:
                    job = self._jobs.get(timeout=max(until - time.monotonic(), 0.0))
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            self._write(batch)

    def _write(self, batch: list[_Job]) -> None:
        outcomes: list[tuple[AddResult | None, BaseException | None]]
        try:
            results = list(self.archive.add_many([(a, r) for a, r, _, _ in batch], batch=len(batch)))
            outcomes = [(result, None) for result in results]
        except Exception as exc:
            # one bad page must not fail the others: the transaction was rolled back, so each page is
            # written again on its own and gets its own result or error
            outcomes = [(None, exc)] if len(batch) == 1 else [self._one(a, r) for a, r, _, _ in batch]
        for (_, _, loop, future), (result, error) in zip(batch, outcomes, strict=True):
            loop.call_soon_threadsafe(_settle, future, result, error)

    def _one(self, article: Article, raw: Response | None) -> tuple[AddResult | None, BaseException | None]:
        try:
            return self.archive.add(article, raw), None
        except Exception as exc:
            return None, exc
