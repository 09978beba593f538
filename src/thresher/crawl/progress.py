"""The live crawl display: done / queued, per-host rate and errors, as a rich renderable.

:class:`CrawlProgress` takes the crawler's ``on_progress`` callbacks and keeps a short window of samples
per host; :func:`render_progress` is pure (figures in, renderable out) so it is tested without a terminal.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .crawler import CrawlStats

__all__ = ["CrawlProgress", "HostRate", "render_progress"]

_WAITING = ("queued", "in_flight")


@dataclass(frozen=True, slots=True)
class HostRate:
    """One host's line in the display."""

    host: str
    fetched: int
    errors: int
    rate: float  # pages per second over the recent window


def _elapsed(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def render_progress(
    stats: CrawlStats,
    counts: Mapping[str, int],
    hosts: list[HostRate],
    *,
    elapsed: float,
    max_hosts: int = 8,
) -> RenderableType:
    """A summary line (done, queued, new, errors, overall rate, time) over a per-host table.

    Hosts are listed busiest first; past ``max_hosts`` the rest are folded into one line.
    """
    done = sum(n for state, n in counts.items() if state not in _WAITING)
    queued = sum(counts.get(state, 0) for state in _WAITING)
    errors = sum(stats.failed.values())
    rate = stats.fetched / elapsed if elapsed > 0 else 0.0
    head = Text.assemble(
        ("crawl ", "bold"),
        f"{done} done · {queued} queued · {stats.new} new · {stats.updated} updated · ",
        (f"{errors} errors", "red" if errors else ""),
        f" · {rate:.1f} pages/s · {_elapsed(elapsed)}",
    )
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="dim")
    table.add_column("host")
    table.add_column("fetched", justify="right")
    table.add_column("pages/s", justify="right")
    table.add_column("errors", justify="right")
    ranked = sorted(hosts, key=lambda h: (-h.rate, -h.fetched, h.host))
    for h in ranked[:max_hosts]:
        table.add_row(h.host, str(h.fetched), f"{h.rate:.2f}", str(h.errors) if h.errors else "")
    rest = ranked[max_hosts:]
    if rest:
        table.add_row(
            f"… {len(rest)} more hosts",
            str(sum(h.fetched for h in rest)),
            f"{sum(h.rate for h in rest):.2f}",
            str(sum(h.errors for h in rest) or ""),
        )
    return Group(head, table)


class CrawlProgress:
    """Feed it the crawler's progress callbacks; rich renders it (``Live(progress)``).

    Args:
        window: seconds of history a host's rate is measured over.
        clock: monotonic time source (tests pass their own).
        max_hosts: host lines shown before the rest are folded.
    """

    def __init__(
        self, *, window: float = 10.0, clock: Callable[[], float] = time.monotonic, max_hosts: int = 8
    ) -> None:
        self.window = window
        self.max_hosts = max_hosts
        self._clock = clock
        self._start = clock()
        self._stats = CrawlStats()
        self._counts: dict[str, int] = {}
        self._samples: dict[str, deque[tuple[float, int]]] = {}
        self._lock = threading.Lock()  # rich's Live renders from its own thread while the crawl updates

    def update(self, stats: CrawlStats, counts: Mapping[str, int]) -> None:
        """Record the crawler's figures now (its ``on_progress`` callback)."""
        with self._lock:
            self._update(stats, counts)

    def _update(self, stats: CrawlStats, counts: Mapping[str, int]) -> None:
        now = self._clock()
        # a copy: the crawler keeps changing its own while rich renders this one from another thread
        self._stats = CrawlStats(
            new=stats.new,
            updated=stats.updated,
            fetched=stats.fetched,
            failed=Counter(stats.failed),
            errors_per_host=Counter(stats.errors_per_host),
        )
        self._counts = dict(counts)
        for host, fetched in list(stats.fetched_per_host.items()):
            samples = self._samples.setdefault(host, deque())
            if not samples or samples[-1][1] != fetched:
                samples.append((now, fetched))
            while len(samples) > 2 and samples[1][0] < now - self.window:
                samples.popleft()

    def hosts(self) -> list[HostRate]:
        """Every host seen so far, with its recent rate."""
        with self._lock:
            return self._hosts()

    def _hosts(self) -> list[HostRate]:
        now = self._clock()
        out = []
        for host, samples in self._samples.items():
            first_t, first_n = samples[0]
            last_n = samples[-1][1]
            # the oldest sample is the baseline: pages fetched since, over the time since
            span = max(now - first_t, 1e-9)
            rate = (last_n - first_n) / span if len(samples) > 1 else 0.0
            out.append(
                HostRate(
                    host=host,
                    fetched=last_n,
                    errors=self._stats.errors_per_host.get(host, 0),
                    rate=rate,
                )
            )
        return out

    def __rich__(self) -> RenderableType:
        """The current display."""
        hosts = self.hosts()
        with self._lock:
            stats, counts = self._stats, dict(self._counts)
        return render_progress(
            stats,
            counts,
            hosts,
            elapsed=self._clock() - self._start,
            max_hosts=self.max_hosts,
        )
