"""Unattended crawls: the archive lock, run history, logs, ``schedule`` (cron/systemd) and ``watch``."""

from .install import Schedule, install_cron, install_systemd, systemd_dir
from .interval import CronSpec, Every, parse_every
from .lock import CrawlLock, LockInfo, LockState, lock_state
from .runner import CrawlRequest, crawl_once, graceful_signals, sites_due
from .runs import RunRecord, abandon_unfinished, finish_run, last_crawled, list_runs, start_run
from .watch import run_watch

__all__ = [
    "CrawlLock",
    "CrawlRequest",
    "CronSpec",
    "Every",
    "LockInfo",
    "LockState",
    "RunRecord",
    "Schedule",
    "abandon_unfinished",
    "crawl_once",
    "finish_run",
    "graceful_signals",
    "install_cron",
    "install_systemd",
    "last_crawled",
    "list_runs",
    "lock_state",
    "parse_every",
    "run_watch",
    "sites_due",
    "start_run",
    "systemd_dir",
]
