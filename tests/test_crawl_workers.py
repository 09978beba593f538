"""The crawl's extraction worker processes: answers, exceptions, a dead worker, cancellation."""

from __future__ import annotations

import asyncio
import operator
import os
import time
from pathlib import Path

import pytest

from thresher.crawl.workers import WorkerGone, Workers


def test_workers_answer_and_raise() -> None:
    async def main() -> None:
        pool = Workers(2, operator.truediv)
        try:
            results = await asyncio.gather(*(pool.run(n, 2) for n in range(10)))
            assert results == [n / 2 for n in range(10)]
            with pytest.raises(ZeroDivisionError):
                await pool.run(1, 0)
            assert await pool.run(3, 1) == 3  # the worker that raised still serves
        finally:
            pool.close()

    asyncio.run(main())


def test_a_dead_worker_breaks_the_pool_without_hanging() -> None:
    async def main() -> None:
        pool = Workers(2, os._exit)
        try:
            with pytest.raises(WorkerGone):
                await pool.run(3)
            assert pool.broken
            with pytest.raises(WorkerGone):  # later calls, and callers already waiting, fail at once
                await asyncio.wait_for(pool.run(0), timeout=5)
        finally:
            pool.close()

    asyncio.run(main())


def test_a_cancelled_call_retires_its_worker() -> None:
    async def main() -> None:
        pool = Workers(2, time.sleep)
        try:
            task = asyncio.create_task(pool.run(30))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # its late answer must reach nobody: the other worker serves, the sleeping one is gone
            assert await asyncio.wait_for(pool.run(0), timeout=5) is None
            assert not pool.broken
        finally:
            pool.close()

    asyncio.run(main())


def test_parsed_links_pickle_as_plain_calls_and_round_trip() -> None:
    """Links come back from the workers pickled as calls to their class (no per-object state to set)."""
    import pickle
    import pickletools
    from datetime import UTC, datetime
    from multiprocessing.reduction import ForkingPickler

    from thresher.crawl.crawler import Discovered
    from thresher.models import AffiliateLink, Link

    items = [
        Discovered("https://a.example/x/", datetime(2024, 1, 2, tzinfo=UTC), "sitemap"),
        Discovered("https://a.example/y/"),
        Link("https://a.example/z/", "Z"),
        AffiliateLink("https://shop.example/?tag=1", "buy", "amazon"),
    ]
    data = bytes(ForkingPickler.dumps(items))
    assert pickle.loads(data) == items
    assert "BUILD" not in {op.name for op, _, _ in pickletools.genops(data)}


def test_a_worker_encodes_an_articles_warc_record_and_nothing_else(tmp_path: Path) -> None:
    """process_page returns an article's WARC record ready to append; a listing gets none."""
    from datetime import UTC, datetime

    from thresher.crawl.crawler import process_page
    from thresher.store.warc import RawResponse, WarcStore

    pages = Path(__file__).parents[1] / "fixtures" / "pages" / "redefine"
    page = (pages / "post-disk-cleanup.html").read_bytes()
    raw = RawResponse(
        url="https://blog.example/2024/05/a-post/",
        status=200,
        headers=[("Content-Type", "text/html; charset=utf-8")],
        body=page,
        fetched_at=datetime(2024, 5, 6, tzinfo=UTC),
    )
    article, links, encoded = process_page(raw, True)
    assert article.kind == "article" and links
    assert encoded is not None
    store = WarcStore(tmp_path)
    assert store.read(store.write(encoded)) == raw
    listing = RawResponse(
        url="https://blog.example/",
        status=200,
        headers=[("Content-Type", "text/html")],
        body=(pages / "listing-home.html").read_bytes(),
        fetched_at=datetime(2024, 5, 6, tzinfo=UTC),
    )
    article, _, encoded = process_page(listing, True)
    assert article.kind != "article" and encoded is None


def test_the_fork_server_imports_the_function_module_for_the_workers() -> None:
    import multiprocessing.forkserver

    async def main() -> None:
        pool = Workers(1, operator.truediv)
        try:
            assert await pool.run(1, 2) == 0.5
        finally:
            pool.close()

    asyncio.run(main())
    # a fork server started by Workers imports it once, so no worker pays for the import itself
    assert operator.truediv.__module__ in multiprocessing.forkserver._forkserver._preload_modules
    assert "__main__" in multiprocessing.forkserver._forkserver._preload_modules
