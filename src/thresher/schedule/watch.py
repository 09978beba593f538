"""``thresher watch``: crawl now and then again at every interval, in the foreground (containers).

SIGTERM or SIGINT during a crawl lets the pages in flight finish, saves the state and ends the loop;
during the wait between crawls it ends the loop at once. A second signal stops immediately (the frontier
still holds everything committed, so the next start fetches again only what was in flight).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ..errors import CrawlLocked, ThresherError
from ..models import format_datetime
from .interval import Every
from .runner import CrawlRequest, crawl_once, graceful_signals

__all__ = ["run_watch"]

log = logging.getLogger("thresher.schedule")


def _sleep_until(stop: threading.Event, deadline: float) -> None:
    """Sleep in short steps: the signal handler sets ``stop``, and Event.wait() in the thread that the
    handler interrupts could deadlock on the event's own lock."""
    while not stop.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        time.sleep(min(remaining, 0.2))


def run_watch(
    root: Path,
    request: CrawlRequest,
    every: Every,
    *,
    stop: threading.Event | None = None,
    max_runs: int | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """Crawl every ``every`` until stopped (or ``max_runs`` runs); returns the exit code.

    The exit code is 0 when stopped by a signal or after ``max_runs``. An error in the first run is
    raised (a bad configuration, an unusable archive); later ones are printed and the loop goes on. A
    turn refused because another crawl holds the archive is skipped.
    """
    request.build()  # a bad configuration fails now, not at the first turn
    stop = stop or threading.Event()
    runs = 0
    with graceful_signals(stop):
        while not stop.is_set():
            started = datetime.now(UTC)
            try:
                code = crawl_once(root, request, stop=stop)
            except CrawlLocked as exc:
                echo(f"skipped this turn: {exc}")
                code = 0
            except ThresherError as exc:
                if runs == 0:
                    raise  # a problem at start is for the person starting it
                echo(f"Error: {exc} (trying again next turn)")  # nobody is watching: keep going
                code = 2
            runs += 1
            if stop.is_set() or (max_runs is not None and runs >= max_runs):
                break
            due = every.next_after(started)
            wait = max(0.0, (due - datetime.now(UTC)).total_seconds())
            if code not in (0, 1):
                echo(f"the last run ended with exit code {code}")
            echo(f"next crawl at {format_datetime(due)} (every {every.text}); Ctrl-C or SIGTERM stops")
            _sleep_until(stop, time.monotonic() + wait)
    echo("watch stopped; the crawl state is saved")
    return 0
