"""A crawl through the misbehaving fixture site: every fault and the trap, proved from the server's log.

One crawl of "oddbits" (faults and traps on) runs once for the module; each test reads what the server
saw and what the frontier recorded. Delays are the configured ones, timestamps the server's own.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from thresher.config import Config, CrawlSettings, site_for_urls
from thresher.crawl import Crawler, CrawlStats, Frontier
from thresher.crawl import crawler as crawler_module
from thresher.fixtureserver import (
    REDIRECT_CHAIN_HOPS,
    WRONG_CHARSET_TEXT,
    FixtureServer,
    RequestRecord,
    SiteSpec,
)
from thresher.store import Archive

DELAY = 0.05
INNER_ATTEMPTS = 3  # fetch_with_retries' default: tries of one claim
MAX_ATTEMPTS = 3  # the frontier's: claims of one URL
MAX_PAGES = 150
QUERY_VARIANTS = 8


@dataclass
class Run:
    base: str
    log: list[RequestRecord]
    stats: CrawlStats
    crawler: Crawler
    root: Path

    def requests(self, path: str) -> list[RequestRecord]:
        return [r for r in self.log if r.path == path]

    def after(self, record: RequestRecord) -> RequestRecord:
        """The next request the host received after ``record``."""
        return self.log[self.log.index(record) + 1]

    def entry(self, path: str) -> tuple[str, str | None, int]:
        with Frontier(self.root / "frontier.db") as frontier:
            e = frontier.get(self.base + path)
        assert e is not None, path
        return e.state, e.reason, e.attempts


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    spec = SiteSpec(
        name="oddbits", address="127.0.0.4", n_articles=4, template="plain", faults=True, trap=True
    )
    root = tmp_path_factory.mktemp("faults")
    with FixtureServer([spec], slow_seconds=0.3) as server:
        base = server.addresses["oddbits"]
        settings = CrawlSettings(
            delay=DELAY,
            max_pages=MAX_PAGES,
            read_timeout=5,
            retry_delay=0.1,
            max_attempts=MAX_ATTEMPTS,
            max_query_variants=QUERY_VARIANTS,
        )
        config = Config(crawl=settings, sites=site_for_urls([base + "/"]))
        with Archive(root) as archive, Frontier(root / "frontier.db", max_attempts=MAX_ATTEMPTS) as frontier:
            crawler = Crawler(config, archive, frontier)
            stats = asyncio.run(crawler.run())  # never raises, whatever the server does
        log = sorted(server.log, key=lambda r: r.time)
    return Run(base=base, log=log, stats=stats, crawler=crawler, root=root)


def test_the_run_finishes_and_no_request_starts_within_the_delay(run: Run) -> None:
    assert not run.stats.interrupted and run.stats.new >= 3
    gaps = [b.time - a.time for a, b in itertools.pairwise(run.log)]
    assert min(gaps) >= DELAY * 0.95, min(gaps)


def test_429_retry_after_in_seconds_is_honoured(run: Run) -> None:
    (first, *rest) = run.requests("/fault/429")
    assert first.status == 429 and rest and rest[0].status == 200
    # nothing at all is sent to the host for the 2 s the server asked for
    assert run.after(first).time - first.time >= 2.0 - 0.02


def test_429_retry_after_as_http_date_is_honoured(run: Run) -> None:
    (first, *rest) = run.requests("/fault/429-date")
    assert first.status == 429 and rest and rest[0].status == 200
    # the fixture asks for floor(now) + 3 s as an HTTP date; compare wall clocks
    until = float(first.wall // 1 + 3)
    assert run.after(first).wall >= until - 0.02


def test_503_without_retry_after_backs_off_then_decays(run: Run) -> None:
    hits = run.requests("/fault/503")
    assert [r.status for r in hits] == [503, 503, 200]  # retried later, and only until it answered
    for r in hits[:2]:
        # the host's delay doubled, bounded below by the politeness floor (1 s) — far above DELAY
        assert run.after(r).time - r.time >= 2 * DELAY
        assert run.after(r).time - r.time >= 1.0 - 0.02
    # after successes the backoff decays away: the host is back at its configured delay
    assert run.crawler._politeness.delay_for(urlsplit(run.base).netloc) == DELAY


def test_transient_failures_are_retried_a_bounded_number_of_times_with_backoff(run: Run) -> None:
    # 500: retried at once with backoff (never sooner than the delay) until it answered
    hits = run.requests("/fault/500")
    assert [r.status for r in hits] == [500, 500, 200]
    assert all(b.time - a.time >= DELAY * 0.95 for a, b in itertools.pairwise(hits))
    assert run.entry("/fault/500")[0] == "done"
    # a reset every time: INNER_ATTEMPTS tries per claim, MAX_ATTEMPTS claims, then failed for good
    for path, reason in (("/fault/reset", "reset"), ("/fault/truncated", "truncated")):
        assert len(run.requests(path)) == INNER_ATTEMPTS * MAX_ATTEMPTS, path
        assert run.entry(path) == ("failed", reason, MAX_ATTEMPTS)
    # a 404 is not retried
    missing = [r for r in run.log if r.status == 404]
    assert missing and all(len(run.requests(r.path)) == 1 for r in missing)
    assert all(run.entry(r.path)[:2] == ("failed", "http-404") for r in missing)


def test_slow_response_is_archived_or_recorded_normally(run: Run) -> None:
    assert [r.status for r in run.requests("/fault/slow")] == [200]
    assert run.entry("/fault/slow")[0] == "done"


@pytest.mark.parametrize(
    ("path", "state", "reason"),
    [
        ("/fault/huge", "skipped", "too-large"),
        ("/fault/gzip-bomb", "skipped", "decompression-bomb"),
        ("/fault/wrong-type", "skipped", "not-html"),
        ("/fault/binary", "skipped", "not-html"),
        ("/fault/redirect-offsite", "skipped", "out-of-scope-redirect"),
        ("/fault/redirect-loop", "done", "redirect"),
        ("/fault/redirect-loop-b", "done", "redirect"),
        (f"/fault/redirect-chain/{10}", "failed", "too-many-redirects"),
    ],
)
def test_fault_ends_in_its_recorded_state(run: Run, path: str, state: str, reason: str) -> None:
    assert run.entry(path)[:2] == (state, reason)
    assert len(run.requests(path)) == 1  # none of these is worth a second request


def test_redirects_are_bounded_and_loops_end(run: Run) -> None:
    # each hop is its own paced request; after max_redirects (10) hops the chain is dropped
    chain = [r.path for r in run.log if r.path.startswith("/fault/redirect-chain/")]
    assert chain == [f"/fault/redirect-chain/{k}" for k in range(1, 11)]
    assert REDIRECT_CHAIN_HOPS > 10 and not run.requests(f"/fault/redirect-chain/{REDIRECT_CHAIN_HOPS}")
    loop = [r.path for r in run.log if r.path.startswith("/fault/redirect-loop")]
    assert sorted(loop) == ["/fault/redirect-loop", "/fault/redirect-loop-b"]


def test_wrong_charset_is_archived_with_the_right_text(run: Run) -> None:
    assert run.entry("/fault/wrong-charset")[0] == "archived"
    with Archive(run.root) as archive:
        stored = archive.get(run.base + "/fault/wrong-charset")
    assert stored is not None
    assert WRONG_CHARSET_TEXT in stored.text and "Ã" not in stored.text
    assert stored.title == "Grüße aus Łódź — café naïve"


def test_the_trap_is_bounded(run: Run) -> None:
    paths = [r.path for r in run.log]
    # repeated segments: /a/a/ is the deepest folder ever asked for
    assert "/a/a/" in paths and not any(p.startswith("/a/a/a/") for p in paths)
    # query explosion: a few variants of /search, never more than the cap
    assert 1 <= len({p for p in paths if p.startswith("/search?")}) <= QUERY_VARIANTS
    # the endless calendar stops at the depth limit, and years stay plausible
    calendar = [p for p in paths if p.startswith("/calendar/")]
    assert calendar and len(calendar) < 100
    assert all(1990 <= int(p.split("/")[2]) <= 2100 for p in calendar)
    # pages per host: never more fetches than the budget, every URL short
    assert run.stats.fetched <= MAX_PAGES
    assert len({p for p in paths if p != "/robots.txt"}) <= MAX_PAGES
    assert max(len(p) for p in paths) < 2048


def test_pages_per_host_budget_bounds_a_trap_crawl(tmp_path: Path) -> None:
    spec = SiteSpec(name="trapsite", address="127.0.0.5", n_articles=2, template="plain", trap=True)
    with FixtureServer([spec]) as server:
        base = server.addresses["trapsite"]
        config = Config(crawl=CrawlSettings(delay=0.02, max_pages=12), sites=site_for_urls([base + "/"]))
        with Archive(tmp_path) as archive, Frontier(tmp_path / "frontier.db") as frontier:
            asyncio.run(Crawler(config, archive, frontier).run())
        requested = [r.path for r in server.log if r.path != "/robots.txt"]
    assert len(requested) <= 12, requested


@pytest.mark.parametrize("per_host", [1, 2])
def test_a_host_has_a_page_in_processing_beside_its_requests_within_budget(
    tmp_path: Path, per_host: int
) -> None:
    """Each host gets twice concurrency_per_host URLs at a time, so the next fetch waits on the delay
    while the last page is extracted and archived; a page waiting for the archive writer frees its slot
    (its URL stays in flight until written). Requests keep the delay, and the page budget holds as
    tightly as before (at most concurrency_per_host - 1 pages over)."""
    spec = SiteSpec(name="pipe", address="127.0.0.6", n_articles=30, template="plain", disallow=[])
    budget = 14
    with FixtureServer([spec]) as server:
        base = server.addresses["pipe"]
        settings = CrawlSettings(delay=DELAY, max_pages=budget, concurrency_per_host=per_host)
        config = Config(crawl=settings, sites=site_for_urls([base + "/"]))
        with Archive(tmp_path) as archive, Frontier(tmp_path / "frontier.db") as frontier:
            most = 0
            claim = frontier.claim

            def counting_claim(**kw: object) -> list[object]:
                nonlocal most
                got = claim(**kw)  # type: ignore[arg-type]
                most = max(most, frontier.counts()["in_flight"])
                return got  # type: ignore[return-value]

            frontier.claim = counting_claim  # type: ignore[method-assign,assignment]
            stats = asyncio.run(Crawler(config, archive, frontier).run())
        log = sorted(server.log, key=lambda r: r.time)
    assert 2 * per_host <= most <= 2 * per_host + crawler_module._MAX_WRITING
    assert budget <= stats.fetched <= budget + per_host - 1
    if per_host == 1:
        gaps = [b.time - a.time for a, b in itertools.pairwise(log)]
        assert min(gaps) >= DELAY


def test_robots_txt_is_fetched_once_while_a_host_has_several_urls_in_flight(tmp_path: Path) -> None:
    from dataclasses import replace

    spec = SiteSpec(name="seeds", address="127.0.0.7", n_articles=6, template="plain", disallow=[])
    with FixtureServer([spec]) as server:
        base = server.addresses["seeds"]
        sites = [
            replace(site, sitemaps=[base + "/sitemap.xml"], feeds=[base + "/atom.xml"])
            for site in site_for_urls([base + "/"])
        ]
        config = Config(crawl=CrawlSettings(delay=0.02, max_pages=30), sites=sites)
        with Archive(tmp_path) as archive, Frontier(tmp_path / "frontier.db") as frontier:
            stats = asyncio.run(Crawler(config, archive, frontier).run())
        robots = [r for r in server.log if r.path == "/robots.txt"]
    assert stats.new > 0 and len(robots) == 1
