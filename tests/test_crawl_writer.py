"""The crawl's archive writer thread: pages waiting are written in one transaction, a bad one alone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from thresher.crawl.writer import ArchiveWriter
from thresher.errors import StoreError
from thresher.models import AddResult, Article, content_hash
from thresher.store import Archive


def _article(n: int) -> Article:
    url = f"https://writer.example/post-{n}/" if n >= 0 else ""
    body = f"Words about printers, number {n}."
    return Article(
        url=url,
        canonical_url=url,
        title=f"Post {n}",
        published=datetime(2024, 1, 1, tzinfo=UTC),
        markdown=body,
        text=body,
        word_count=len(body.split()),
        content_hash=content_hash(body),
    )


def _record_batches(archive: Archive, gate: threading.Event | None = None) -> list[int]:
    """Make ``archive.add_many`` note each batch's size (and wait for ``gate``, when given, first)."""
    batches: list[int] = []
    add_many = archive.add_many

    def recording(items: Iterable[Any], *, batch: int = 500) -> Iterator[AddResult]:
        items = list(items)
        batches.append(len(items))
        if gate is not None:
            gate.wait(5)
        return add_many(items, batch=batch)

    archive.add_many = recording  # type: ignore[method-assign]
    return batches


def test_waiting_pages_share_a_transaction_and_a_bad_page_fails_alone(tmp_path: Path) -> None:
    gate = threading.Event()
    with Archive(tmp_path) as archive:
        batches = _record_batches(archive, gate)  # the first write is held until every page is queued
        writer = ArchiveWriter(archive)
        articles = [_article(n) for n in (0, 1, 2, -1, 3, 4)]  # -1: no URL, which Archive refuses

        async def main() -> list[AddResult | BaseException]:
            tasks = [asyncio.create_task(writer.add(articles[0], None))]
            while not batches:  # the writer has taken the first page (and is held)
                await asyncio.sleep(0.01)
            tasks += [asyncio.create_task(writer.add(a, None)) for a in articles[1:]]
            await asyncio.sleep(0.1)
            gate.set()
            return await asyncio.gather(*tasks, return_exceptions=True)

        try:
            results = asyncio.run(main())
        finally:
            writer.close()
        assert batches == [1, 5]  # the pages that waited went in together, the bad one with them
        assert isinstance(results[3], StoreError)
        good = [r for i, r in enumerate(results) if i != 3]
        assert all(isinstance(r, AddResult) and r.status == "new" for r in good)
        assert len(archive) == 5
        writer.close()  # idempotent


def test_a_batch_waits_a_moment_for_pages_close_behind_its_first(tmp_path: Path) -> None:
    with Archive(tmp_path) as archive:
        batches = _record_batches(archive)
        writer = ArchiveWriter(archive, linger=0.5)

        async def main() -> None:
            first = asyncio.create_task(writer.add(_article(0), None))
            await asyncio.sleep(0.05)  # within the linger: same transaction
            second = asyncio.create_task(writer.add(_article(1), None))
            await asyncio.gather(first, second)
            await writer.add(_article(2), None)  # alone: its batch ends with the linger

        try:
            asyncio.run(main())
        finally:
            writer.close()
        assert batches == [2, 1]
        assert len(archive) == 3
