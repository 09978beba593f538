"""The crawl display: rendered to text by rich, without a terminal."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console

from thresher.crawl import CrawlStats
from thresher.crawl.progress import CrawlProgress, HostRate, render_progress


def _text(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None, force_terminal=False)
    console.print(renderable)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def test_render_shows_done_queued_errors_and_each_hosts_rate() -> None:
    stats = CrawlStats(new=7, updated=1, fetched=40, failed=Counter({"reset": 2, "http-404": 1}))
    counts = {"queued": 30, "in_flight": 2, "archived": 8, "done": 20, "failed": 3, "skipped": 4}
    hosts = [
        HostRate(host="127.0.0.2:8000", fetched=25, errors=0, rate=4.5),
        HostRate(host="127.0.0.4:8000", fetched=15, errors=3, rate=1.25),
    ]
    text = _text(render_progress(stats, counts, hosts, elapsed=10.0))
    assert "35 done · 32 queued · 7 new · 1 updated · 3 errors · 4.0 pages/s · 0:00:10" in text
    lines = text.splitlines()
    busiest = next(i for i, line in enumerate(lines) if "127.0.0.2:8000" in line)
    other = next(i for i, line in enumerate(lines) if "127.0.0.4:8000" in line)
    assert busiest < other  # busiest host first
    assert lines[busiest].split()[1:] == ["25", "4.50"]
    assert lines[other].split()[1:] == ["15", "1.25", "3"]


def test_many_hosts_fold_into_one_line() -> None:
    hosts = [HostRate(host=f"127.0.0.{i}", fetched=i, errors=1, rate=float(i)) for i in range(2, 22)]
    text = _text(render_progress(CrawlStats(), {}, hosts, elapsed=0.0, max_hosts=5))
    assert "127.0.0.21" in text and "127.0.0.2 " not in text
    assert "… 15 more hosts" in text
    assert "0 done · 0 queued" in text and "0 errors" in text


def test_progress_measures_each_hosts_rate_over_its_window() -> None:
    now = [100.0]
    progress = CrawlProgress(window=10.0, clock=lambda: now[0])
    stats = CrawlStats()
    stats.errors_per_host["a:1"] = 1
    for _ in range(20):  # 2 pages a second on one host, one error
        now[0] += 0.5
        stats.fetched += 1
        stats.fetched_per_host["a:1"] += 1
        progress.update(stats, {"queued": 5, "archived": stats.fetched})
    stats.fetched_per_host["a:1"] += 100  # not seen until the next update: the display keeps a copy
    (host,) = progress.hosts()
    assert host.host == "a:1" and host.fetched == 20 and host.errors == 1
    assert 1.9 <= host.rate <= 2.1
    text = _text(progress)
    assert "20 done · 5 queued" in text and "a:1" in text
