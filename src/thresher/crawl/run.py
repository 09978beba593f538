"""``thresher crawl``: configuration and overrides → Crawler, with a progress display and a summary."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.live import Live

from ..config import Config, load_config, site_for_urls
from ..errors import ConfigError
from ..store import Archive
from .crawler import Crawler, CrawlStats
from .frontier import FRONTIER_NAME, Frontier
from .progress import CrawlProgress

__all__ = ["build_config", "run_crawl"]


def build_config(
    *,
    urls: list[str],
    config_path: Path | None,
    site_names: list[str],
    delay: float | None,
    concurrency_per_host: int | None,
    max_pages: int | None,
    max_depth: int | None,
    user_agent: str | None,
) -> Config:
    """The crawl's configuration: a file or URLs, then command-line overrides."""
    if config_path is not None:
        config = load_config(config_path).select(site_names)
        if urls:
            config.sites.extend(site_for_urls(urls))
    elif urls:
        if site_names:
            raise ConfigError("--site needs --config")
        config = Config(sites=site_for_urls(urls))
    else:
        raise ConfigError("nothing to crawl: give URLs or --config FILE")
    if not config.sites:
        raise ConfigError(f"{config_path}: no [[sites]] to crawl")
    crawl = config.crawl
    if delay is not None:
        crawl.delay = delay
        config.sites = [replace(site, delay=None) for site in config.sites]  # the command line wins
    if concurrency_per_host is not None:
        crawl.concurrency_per_host = concurrency_per_host
    if max_pages is not None:
        crawl.max_pages = max_pages
        config.sites = [replace(site, max_pages=None) for site in config.sites]
    if max_depth is not None:
        crawl.max_depth = max_depth
    if user_agent:
        crawl.user_agent = user_agent
    return config


def _summary_line(stats: CrawlStats) -> str:
    failed = sum(stats.failed.values())
    reasons = ", ".join(f"{k} {v}" for k, v in stats.failed.most_common()) if failed else ""
    return (
        f"{stats.new} new, {stats.updated} updated, {stats.unchanged} unchanged, "
        f"{stats.skipped_robots} skipped by robots, {stats.opted_out} opted out, "
        f"{stats.not_articles} not articles, {failed} failed" + (f" ({reasons})" if reasons else "")
    )


def run_crawl(
    archive: Path,
    config: Config,
    *,
    as_json: bool,
    quiet: bool,
    stop: threading.Event | None = None,
    on_finish: Callable[[CrawlStats], None] | None = None,
) -> int:
    """Run one crawl of ``config`` (see :func:`build_config`) and print its summary; returns the exit code.

    ``stop`` stops it gracefully (see :class:`Crawler`); ``on_finish`` gets the figures.
    """
    console = Console(stderr=True)
    show_progress = not (quiet or as_json) and console.is_terminal
    with (
        Archive(archive) as store,
        Frontier(archive / FRONTIER_NAME, max_attempts=config.crawl.max_attempts) as frontier,
    ):
        progress = CrawlProgress()
        crawler = Crawler(
            config, store, frontier, on_progress=progress.update if show_progress else None, stop=stop
        )
        try:
            with Live(progress, console=console, refresh_per_second=4) if show_progress else nullcontext():
                stats = asyncio.run(crawler.run())
        except KeyboardInterrupt:
            stats = crawler.stats
            stats.interrupted = True
            console.print("interrupted: state saved; run the same command again to continue")
            _print(stats, as_json, console)
            if on_finish is not None:
                on_finish(stats)
            return 130
    if on_finish is not None:
        on_finish(stats)
    if stats.interrupted:  # stopped gracefully: the pages in flight finished
        console.print("stopped: state saved; run the same command again to continue")
        _print(stats, as_json, console)
        return 130
    _print(stats, as_json, console)
    return 1 if sum(stats.failed.values()) else 0


def _print(stats: CrawlStats, as_json: bool, console: Console) -> None:
    if as_json:
        sys.stdout.write(json.dumps(stats.to_dict()) + "\n")
    else:
        sys.stdout.write(_summary_line(stats) + "\n")
