"""One unattended-safe crawl: lock, recrawl_after, run history, logs, graceful stop.

``thresher crawl``, ``thresher watch`` and ``make demo`` all crawl through :func:`crawl_once`::

    build the config ─▶ take archive/crawl.lock ─▶ mark dead runs abandoned ─▶ skip sites crawled
    within their recrawl_after ─▶ record the run ─▶ run_crawl ─▶ record how it ended
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from ..config import Config, SiteConfig
from ..errors import CrawlLocked, ThresherError
from ..sqlite import sqlite3
from .lock import CrawlLock, lock_state
from .logs import run_logging
from .runs import abandon_unfinished, finish_run, last_crawled, start_run

__all__ = ["CrawlRequest", "crawl_once", "graceful_signals", "sites_due"]

log = logging.getLogger("thresher.schedule")

_STATUS = {0: "done", 1: "partial", 130: "interrupted"}


@dataclass(slots=True, kw_only=True)
class CrawlRequest:
    """What to crawl and how, as ``thresher crawl`` takes it."""

    urls: list[str] = field(default_factory=list)
    config_path: Path | None = None
    site_names: list[str] = field(default_factory=list)
    delay: float | None = None
    concurrency_per_host: int | None = None
    max_pages: int | None = None
    max_depth: int | None = None
    user_agent: str | None = None
    as_json: bool = False
    quiet: bool = False
    force: bool = False
    command: str = "crawl"
    config: Config | None = None  # a ready configuration instead of the fields above (the demo)

    def build(self) -> Config:
        """The crawl configuration (ConfigError when it is unusable)."""
        if self.config is not None:
            return self.config
        from ..crawl.run import build_config

        return build_config(
            urls=self.urls,
            config_path=self.config_path,
            site_names=self.site_names,
            delay=self.delay,
            concurrency_per_host=self.concurrency_per_host,
            max_pages=self.max_pages,
            max_depth=self.max_depth,
            user_agent=self.user_agent,
        )


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def sites_due(
    archive: Any, sites: list[SiteConfig], *, now: datetime, in_flight: dict[str, int]
) -> tuple[list[SiteConfig], dict[str, str]]:
    """The sites to crawl now, and why each other one is skipped.

    A site is skipped when its last completed run finished less than ``recrawl_after`` ago, unless a
    killed run left URLs of it in flight (that crawl continues).
    """
    due: list[SiteConfig] = []
    skipped: dict[str, str] = {}
    for site in sites:
        if site.recrawl_after is None or in_flight.get(site.name):
            due.append(site)
            continue
        last = last_crawled(archive.db.conn, site.name)
        age = (now - last).total_seconds() if last else None
        if age is not None and 0 <= age < site.recrawl_after:
            skipped[site.name] = (
                f"crawled {_ago(age)} ago, recrawl_after {_ago(site.recrawl_after)}; --force crawls it now"
            )
        else:
            due.append(site)
    return due, skipped


def _in_flight(root: Path) -> dict[str, int]:
    """URLs left in flight per site by a run that died (read before this run recovers them)."""
    from ..crawl.frontier import FRONTIER_NAME

    path = root / FRONTIER_NAME
    if not path.exists():
        return {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            rows = conn.execute(
                "select site, count(*) from urls where state = 'in_flight' group by site"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return {}  # the crawl itself reports an unusable frontier
    return {str(site): int(n) for site, n in rows}


@contextlib.contextmanager
def graceful_signals(stop: threading.Event) -> Iterator[None]:
    """First SIGTERM or SIGINT sets ``stop`` (pages in flight finish); a second one stops at once.

    Outside the main thread (where handlers cannot be installed) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        log.warning(
            "%s: stopping after the pages in flight (again to stop at once)", signal.Signals(signum).name
        )

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def crawl_once(root: Path, request: CrawlRequest, *, stop: threading.Event | None = None) -> int:
    """Crawl once under the archive's lock, recording the run; returns the exit code.

    Raises:
        ConfigError: the configuration is unusable (before anything is locked or written).
        CrawlLocked: another crawl holds the archive (raised at once).
        StoreError: the archive cannot be used.
    """
    # refuse at once, before the crawler's imports and the config are loaded (a refused cron job should
    # not take a second); nothing is created when the archive does not exist yet
    busy = lock_state(root)
    if busy.state == "held":
        info = busy.info
        who = f"pid {info.pid}, since {info.since}" if info else "pid unknown"
        raise CrawlLocked(f"another crawl is running on {root} ({who})", info=info)
    from ..crawl.run import run_crawl

    config = request.build()
    stop = stop or threading.Event()
    with CrawlLock(root, command=request.command) as lock, run_logging(root, quiet=request.quiet) as logger:
        if lock.stale is not None:
            logger.warning(
                "took over the lock of a crawl that died (pid %s, since %s)", lock.stale.pid, lock.stale.since
            )
        in_flight = _in_flight(root)
        from ..store import Archive

        with Archive(root) as archive:
            abandoned = abandon_unfinished(archive.db.conn)
            skipped: dict[str, str] = {}
            if request.force:
                due = config.sites
            else:
                due, skipped = sites_due(archive, config.sites, now=datetime.now(UTC), in_flight=in_flight)
            run_id = start_run(
                archive.db.conn,
                command=request.command,
                sites=[s.name for s in due],
                skipped=sorted(skipped),
            )
        if abandoned:
            logger.info("%d earlier run(s) died before finishing; their work is resumed", abandoned)
        for name, why in skipped.items():
            logger.info("skipped %s: %s", name, why)
        if not due:
            message = "every site was crawled within its recrawl_after: " + "; ".join(
                f"{k} ({v})" for k, v in skipped.items()
            )
            _finish(root, run_id, status="skipped", exit_code=0, counts={}, message=message)
            logger.info("run %d: nothing due", run_id)
            if request.as_json:
                print(json.dumps({"skipped": skipped}))
            else:
                print(f"nothing to crawl: {message}")
            return 0
        logger.info("run %d: crawling %s", run_id, ", ".join(s.name for s in due))
        figures: dict[str, Any] = {}

        def on_finish(stats: Any) -> None:
            figures.update(stats.to_dict())

        started = time.monotonic()
        try:
            with graceful_signals(stop):
                code = run_crawl(
                    root,
                    replace(config, sites=due),
                    as_json=request.as_json,
                    quiet=request.quiet,
                    stop=stop,
                    on_finish=on_finish,
                )
        except (ThresherError, KeyboardInterrupt) as exc:
            message = str(exc) or type(exc).__name__
            _finish(root, run_id, status="error", exit_code=None, counts=_counts(figures), message=message)
            logger.error("run %d failed: %s", run_id, message)
            raise
        counts = _counts(figures)
        _finish(root, run_id, status=_STATUS.get(code, "error"), exit_code=code, counts=counts)
        reasons = figures.get("failed") or {}
        logger.info(
            "run %d %s in %.1fs: %d new, %d updated, %d unchanged, %d failed%s",
            run_id,
            _STATUS.get(code, "ended"),
            time.monotonic() - started,
            counts["new"],
            counts["updated"],
            counts["unchanged"],
            counts["failed"],
            (" (" + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) + ")") if reasons else "",
        )
        return code


def _counts(figures: dict[str, Any]) -> dict[str, int]:
    failed = figures.get("failed") or {}
    return {
        "new": int(figures.get("new", 0)),
        "updated": int(figures.get("updated", 0)),
        "unchanged": int(figures.get("unchanged", 0)),
        "failed": int(sum(failed.values())),
    }


def _finish(
    root: Path, run_id: int, *, status: str, exit_code: int | None, counts: dict[str, int], message: str = ""
) -> None:
    from ..store import Archive

    with Archive(root) as archive:
        finish_run(
            archive.db.conn, run_id, status=status, exit_code=exit_code, counts=counts, message=message
        )
