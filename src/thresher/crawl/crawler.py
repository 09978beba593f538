"""The crawl loop: frontier → robots → politeness → fetch → extract → archive, and discovery back in.

One asyncio task per claimed URL; the frontier hands out at most ``concurrency_per_host`` URLs per host
and ``max_hosts`` hosts at once, and :class:`~thresher.fetch.Politeness` spaces requests to each host.
Every state change is committed to the frontier as it happens, so a kill -9 loses only what was in
flight, and the next run fetches exactly that again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.reduction import ForkingPickler
from typing import Any
from urllib.parse import urlsplit

import httpx
from selectolax.lexbor import LexborHTMLParser

from ..config import Config, SiteConfig
from ..errors import ThresherError
from ..extract import extract, settled_kind
from ..extract.decode import to_utf8
from ..fetch import SLOW_DOWN, Fetcher, FetchResult, Politeness, RobotsPolicy, fetch_with_retries, retry_later
from ..models import AddResult, AffiliateLink, Article, Link
from ..store import Archive, EncodedResponse, RawResponse, encode_response
from ..store.warc import Response
from ..urls import canonicalize
from .discovery import Discovered, extract_links, parse_feed, parse_sitemap
from .frontier import Frontier, FrontierEntry, NewURL
from .scope import Scope
from .workers import WorkerGone, Workers
from .writer import MAX_BATCH, ArchiveWriter

__all__ = ["CrawlStats", "Crawler"]

_SOURCES_SITEMAP = ("sitemap", "robots")
_REDIRECT = "redirect"  # the source of a redirect target: "redirect:<hops from the first URL>"
_IDLE_SLEEP = 0.05
_MAX_IDLE_SLEEP = 5.0
_PROGRESS_INTERVAL = 0.1  # seconds; rich redraws the display 4 times a second
# URLs a host has in flight, per connection (concurrency_per_host): one being fetched, one being
# extracted and archived. Requests themselves stay within concurrency_per_host and the host's delay
# (Politeness); the second page lets the next fetch start while the last page is still processed.
_PIPELINE = 2
# Pages waiting for the archive writer at most, over the whole crawl, that no longer hold their host's
# slot (see Crawler._archive): as many as the writer takes in one transaction.
_MAX_WRITING = 2 * MAX_BATCH


@dataclass(slots=True, kw_only=True)
class CrawlStats:
    """What a crawl did, for the summary line, ``--json`` and the run history."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_robots: int = 0
    opted_out: int = 0
    not_articles: int = 0
    fetched: int = 0
    discovered: int = 0
    out_of_scope: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    interrupted: bool = False
    fetched_per_host: Counter[str] = field(default_factory=Counter)  # for the progress display
    errors_per_host: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped_by_robots": self.skipped_robots,
            "opted_out": self.opted_out,
            "not_articles": self.not_articles,
            "fetched": self.fetched,
            "discovered": self.discovered,
            "out_of_scope": self.out_of_scope,
            "failed": dict(self.failed),
            "interrupted": self.interrupted,
        }


# Every link of every page is looked up here (~24 per page), mostly the same navigation and sidebar URLs
# again: memoised like canonicalize, it no longer shows in the profile (was ~1 ms a page).
@functools.lru_cache(maxsize=8192)
def _netloc(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


_Page = tuple[Article, list[Discovered], EncodedResponse | None]
_Parsed = _Page | ThresherError


def parse_page(body: bytes, url: str, *, utf8: bool) -> tuple[Article, list[Discovered]]:
    """The article and the links of one page, its body made UTF-8 first when ``utf8`` (pure).

    A page whose kind is settled before its body is read (a listing by its URL path: ``settled_kind``)
    is not extracted: the crawl archives only articles, and of any other page it reads only the kind
    and the robots directives, which the Article then holds alone. Listings were a tenth of a site's
    pages and, with their hundreds of links, a third of the extraction workers' time.

    Raises:
        NotHTML: the body is not an HTML document.
    """
    if utf8:
        body = to_utf8(body)
    settled = settled_kind(body, url)
    if settled is None:
        article = extract(body, url)
    else:
        kind, robots = settled
        article = Article(url=url, canonical_url=canonicalize(url), kind=kind, robots=robots)
    links = extract_links(LexborHTMLParser(to_utf8(body)), url)
    return article, links


def process_page(raw: RawResponse, utf8: bool) -> _Page:
    """:func:`parse_page` of a response (its body made UTF-8 first when ``utf8``), and for an article
    its WARC record, encoded: the records' building and gzip (~1.5 ms a page) were the archive writer
    thread's largest cost in the main process, which is the crawl's bottleneck; a worker has a core of
    its own for it. A page that ends up not archived (opted out, outside the site's article pattern)
    has its record dropped.

    Raises:
        NotHTML: the body is not an HTML document.
    """
    article, links = parse_page(raw.body, raw.url, utf8=utf8)
    encoded = None
    if article.kind == "article":
        # a response warcio cannot write goes to the archive as it is, to fail there as it always has
        with contextlib.suppress(ValueError):
            encoded = encode_response(raw)
    return article, links, encoded


# A worker sends each page's links back pickled: a slotted dataclass pickles as its state, which the
# parent restores through dataclasses.fields() per object (~46 objects a page, ~1 s of the (b)
# profile). Pickled as a call to the class with its fields they load several times faster.
ForkingPickler.register(Discovered, lambda d: (Discovered, (d.url, d.lastmod, d.source)))
ForkingPickler.register(Link, lambda x: (Link, (x.url, x.title)))
ForkingPickler.register(AffiliateLink, lambda x: (AffiliateLink, (x.url, x.text, x.network)))


def _is_utf8(result: FetchResult) -> bool:
    """Whether to extract the body as UTF-8: the header says so (else the extractor reads BOM, meta,
    bytes)."""
    return result.charset in (None, "utf-8", "utf8")


def _raw_response(result: FetchResult) -> RawResponse:
    """The response as the archive stores it in WARC."""
    return RawResponse(
        url=result.url,
        status=result.status,
        headers=result.headers,
        body=result.body,
        fetched_at=result.fetched_at or datetime.now(UTC),
    )


def _is_page(entry: FrontierEntry, result: FetchResult) -> bool:
    """Whether :meth:`Crawler._handle` will extract this response (a 2xx HTML page, not a sitemap/feed)."""
    return (
        result.error is None
        and 200 <= result.status < 300
        and not result.not_modified
        and entry.source not in (*_SOURCES_SITEMAP, "feed")
        and "html" in (result.content_type or "text/html").lower()
    )


class Crawler:
    """Crawl the configured sites into an archive.

    Args:
        config: settings and sites.
        archive: where articles go.
        frontier: the persistent crawl state (``archive/frontier.db``).
        transport: an httpx transport (tests); default is the network.
        on_progress: called with (stats, frontier counts) after a page, at most every 0.1 s, and once
            when the crawl ends, for a progress display.
        stop: once set, no new URL is claimed; pages in flight finish, then :meth:`run` returns with
            ``stats.interrupted`` set (a graceful SIGTERM).
    """

    def __init__(
        self,
        config: Config,
        archive: Archive,
        frontier: Frontier,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        on_progress: Callable[[CrawlStats, dict[str, int]], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.config = config
        self.archive = archive
        self.frontier = frontier
        self.stats = CrawlStats()
        self.on_progress = on_progress
        self._stop = stop or threading.Event()
        self._transport = transport
        self._sites = {site.name: site for site in config.sites}
        self._scopes = {site.name: self._scope(site) for site in config.sites}
        self._site_of_host = {host: site.name for site in config.sites for host in site.hosts}
        self._robots: dict[str, RobotsPolicy] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._fetched_per_site: Counter[str] = Counter()
        self._query_variants: Counter[tuple[str, str]] = Counter()
        self._politeness = Politeness()
        self._pool: Workers | None = None
        self._pool_start: asyncio.Future[Workers] | None = None  # the pool while it starts
        self._writer: ArchiveWriter | None = None
        # Tasks whose page is fetched and extracted and waits for the archive writer: they keep their
        # URL in flight (the frontier completes it once written) but free their host's slot.
        self._writing: set[asyncio.Future[Any]] = set()
        self._wake: asyncio.Future[None] | None = None  # set when a slot is freed that way
        self._next_progress = 0.0
        # The crawl's promise is kill -9 safety, like the frontier's (WAL, synchronous=NORMAL) and the
        # Markdown files' (atomic, no fsync): an fsync per WARC record bought only power-cut safety and
        # cost ~5 ms of a blocked event loop per page.
        archive.warc.fsync = False

    def _scope(self, site: SiteConfig) -> Scope:
        return Scope(
            allow_hosts=set(site.hosts),
            include=list(site.include),
            exclude=list(site.exclude),
            max_depth=self.config.crawl.max_depth,
        )

    # ------------------------------------------------------------------ seeding

    def seed(self) -> None:
        """Queue every site's start URLs, sitemaps and feeds (known URLs are left as they are)."""
        for site in self.config.sites:
            items = [(url, "start") for url in site.start_urls]
            items += [(url, "sitemap") for url in site.sitemaps]
            items += [(url, "feed") for url in site.feeds]
            for url, source in items:
                self.frontier.add(url, host=_netloc(url), site=site.name, depth=0, source=source)
            delay = site.delay if site.delay is not None else self.config.crawl.delay
            for host in site.hosts:
                self._politeness.configure(
                    host, delay=delay, concurrency=self.config.crawl.concurrency_per_host
                )

    def _new_round(self) -> None:
        """A finished crawl run again: re-read listings, sitemaps and feeds (they are how new posts are
        found), and re-check articles older than the site's ``recrawl_after`` with conditional requests.
        A resumed crawl (work still pending) skips this, so it fetches again only what was in flight."""
        now = time.time()
        for site in self.config.sites:
            self.frontier.requeue_stale(site.name, now, states=("done",))
            if site.recrawl_after is not None:
                self.frontier.requeue_stale(site.name, now - site.recrawl_after, trust_lastmod=True)

    # ------------------------------------------------------------------ the loop

    async def run(self) -> CrawlStats:
        """Crawl until the frontier is exhausted or the page budgets are spent."""
        resumed = self.frontier.recover()
        if resumed == 0 and self.frontier.pending() == 0:
            self._new_round()
        self.seed()
        crawl = self.config.crawl
        scope_check = self._in_any_scope
        async with Fetcher(
            user_agent=crawl.user_agent,
            connect_timeout=crawl.connect_timeout,
            read_timeout=crawl.read_timeout,
            total_timeout=crawl.total_timeout,
            max_bytes=crawl.max_bytes,
            in_scope=scope_check,
            transport=self._transport,
            html_only=False,
            on_request=self._politeness.sent,
        ) as fetcher:
            tasks: dict[asyncio.Task[None], str] = {}
            if crawl.workers > 0:
                # Started now, in a thread: the fork server imports the extraction stack (~0.7 s) before
                # it forks the workers, and Workers() waits for that. Off the loop, robots.txt and the
                # sitemaps are fetched meanwhile; on it, every host's first request waited (bench (b)
                # lost ~2 points of its ceiling to that).
                self._pool_start = asyncio.ensure_future(
                    asyncio.to_thread(Workers, crawl.workers, process_page)
                )
            # Archive writes (Markdown file, WARC record, index rows) block on the disk for a few ms a
            # page; in one writer thread they no longer hold up the fetches and timers of the loop.
            self._writer = ArchiveWriter(self.archive)
            try:
                while True:
                    # A host with fewer than its share of URLs in flight gets the rest of its share
                    # now, not once all of its URLs have finished (with 2 per host, a host used to
                    # wait for its slower page before either slot was refilled).
                    # A page waiting for the archive writer holds no slot: its host fetches meanwhile,
                    # and the writer gets several pages to a transaction (see _archive).
                    writing = self._writing
                    in_flight = Counter(h for t, h in tasks.items() if t not in writing)
                    per_host = crawl.concurrency_per_host * _PIPELINE
                    lean = self._lean_hosts(in_flight, per_host)
                    share = dict.fromkeys(lean, crawl.concurrency_per_host)
                    partial = {
                        h: share.get(h, per_host) - n
                        for h, n in in_flight.items()
                        if n < share.get(h, per_host)
                    }
                    room = crawl.max_hosts - len(in_flight)
                    exhausted = self._exhausted_hosts()
                    claimed: list[FrontierEntry] = []
                    if self._stop.is_set():
                        self.stats.interrupted = True
                        if not tasks:
                            break  # the pages in flight have finished
                    elif room > 0 or partial:
                        claimed = self.frontier.claim(
                            now=time.time(),
                            exclude_hosts={h for h in in_flight if h not in partial} | exhausted,
                            limit=max(room, 0) * per_host + sum(partial.values()),
                            per_host=per_host,
                            host_room=share | partial,
                            only_hosts=None if room > 0 else set(partial),
                        )
                    for entry in claimed:
                        task = asyncio.create_task(self._process(fetcher, entry))
                        tasks[task] = entry.host
                    if not tasks:
                        due = self.frontier.next_due(exhausted)
                        if due is None:
                            break  # nothing left for any host that still has budget
                        await asyncio.sleep(min(max(due - time.time(), _IDLE_SLEEP), _MAX_IDLE_SLEEP))
                        continue
                    self._wake = wake = asyncio.get_running_loop().create_future()
                    done, _ = await asyncio.wait(
                        [*tasks, wake], timeout=0.5, return_when=asyncio.FIRST_COMPLETED
                    )
                    self._wake = None
                    for finished in done:
                        if finished is not wake:
                            tasks.pop(finished)  # type: ignore[call-overload]
                            finished.result()
            except (KeyboardInterrupt, asyncio.CancelledError):
                self.stats.interrupted = True
                for task in tasks:
                    task.cancel()
                with contextlib.suppress(BaseException):
                    await asyncio.gather(*tasks, return_exceptions=True)
                raise
            finally:
                if self._pool_start is not None:
                    with contextlib.suppress(Exception, asyncio.CancelledError):
                        self._pool = self._pool or await self._pool_start
                    self._pool_start = None
                if self._pool is not None:
                    self._pool.close()
                    self._pool = None
                # a write already started finishes before the archive is closed
                self._writer.close()
                self._writer = None
        self._report_progress(final=True)
        return self.stats

    def _lean_hosts(self, in_flight: Counter[str], per_host: int) -> set[str]:
        """Hosts of sites too near their page budget to take more than concurrency_per_host URLs at a
        time: the pages beyond it must not let a site overshoot its budget more than before."""
        out: set[str] = set()
        for site in self.config.sites:
            budget = site.max_pages or self.config.crawl.max_pages
            if budget is None:
                continue
            taken = self._fetched_per_site[site.name] + sum(in_flight[h] for h in site.hosts)
            if budget - taken < per_host * len(site.hosts):
                out.update(site.hosts)
        return out

    def _exhausted_hosts(self) -> set[str]:
        out: set[str] = set()
        for site in self.config.sites:
            budget = site.max_pages or self.config.crawl.max_pages
            if budget is not None and self._fetched_per_site[site.name] >= budget:
                out.update(site.hosts)
        return out

    def _in_any_scope(self, url: str) -> bool:
        return _netloc(url) in self._site_of_host

    # ------------------------------------------------------------------ one URL

    async def _robots_for(self, fetcher: Fetcher, host: str, url: str) -> RobotsPolicy:
        # A host has several URLs in flight (pipelining): the first loads robots.txt, the others wait
        # for it instead of each fetching it again.
        lock = self._robots_locks.get(host)
        if lock is None:
            lock = self._robots_locks[host] = asyncio.Lock()
        async with lock:
            return await self._robots_locked(fetcher, host, url)

    async def _robots_locked(self, fetcher: Fetcher, host: str, url: str) -> RobotsPolicy:
        policy = self._robots.get(host)
        if policy is None:
            parts = urlsplit(url)
            policy = RobotsPolicy()
            # robots.txt is a request like any other: it waits for, and counts towards, the host's delay
            await self._politeness.acquire(host)
            try:
                await policy.load(fetcher, f"{parts.scheme}://{parts.netloc}")
            finally:
                self._politeness.release(host, status=policy.status or 0)
            self._robots[host] = policy
            site = self._site_of_host.get(host)
            if site is not None:
                for sitemap in policy.sitemaps():
                    if self.frontier.add(
                        canonicalize(sitemap), host=_netloc(sitemap), site=site, depth=0, source="robots"
                    ):
                        self.stats.discovered += 1
        elif policy.due():
            await self._politeness.acquire(host)
            try:
                await policy.ensure(fetcher)
            finally:
                self._politeness.release(host, status=policy.status or 0)
        delay = policy.crawl_delay(self.config.crawl.user_agent)
        if delay is not None:
            self._politeness.set_crawl_delay(host, delay)
        return policy

    async def _process(self, fetcher: Fetcher, entry: FrontierEntry) -> None:
        try:
            await self._process_entry(fetcher, entry)
        except ThresherError as exc:
            self.frontier.fail(entry.url, f"error: {exc}"[:200], retry_at=None)
            self.stats.failed["error"] += 1
        finally:
            self._report_progress()

    def _report_progress(self, *, final: bool = False) -> None:
        """Call ``on_progress``, at most every ``_PROGRESS_INTERVAL`` (and once at the end): the frontier's
        counts are a scan of every URL (~13 ms at 100,000 URLs), too dear to take after every page."""
        if self.on_progress is None:
            return
        now = time.monotonic()
        if final or now >= self._next_progress:
            self._next_progress = now + _PROGRESS_INTERVAL
            self.on_progress(self.stats, self.frontier.counts())

    async def _process_entry(self, fetcher: Fetcher, entry: FrontierEntry) -> None:
        url, host = entry.url, entry.host
        robots = await self._robots_for(fetcher, host, url)
        if robots.state == "unreachable":
            self.frontier.defer(url, robots.retry_at_wall(), "robots-unreachable")
            return
        if not robots.allowed(url, self.config.crawl.user_agent):
            self.frontier.complete(url, "skipped", reason="robots")
            self.stats.skipped_robots += 1
            return
        await self._politeness.acquire(host)
        result: FetchResult | None = None
        try:
            # redirects are not followed inside the fetch: each hop is queued as its own URL, so it waits
            # for the host's delay like every other request (Scrapy does the same)
            result = await fetch_with_retries(
                fetcher,
                url,
                etag=entry.etag,
                last_modified=entry.last_modified,
                max_redirects=0,
                min_wait=self._politeness.delay_for(host),
            )
        finally:
            self._politeness.release(
                host,
                status=result.status if result else 0,
                retry_after=result.retry_after if result else None,
            )
        self.stats.fetched += 1
        self.stats.fetched_per_host[host] += 1
        self._fetched_per_site[entry.site or ""] += 1
        errors = self.stats.failed.total()
        parsed: _Parsed | None = None
        if self._pool is None and self._pool_start is not None:
            self._pool = await self._pool_start
        if self._pool is not None and not self._pool.broken and _is_page(entry, result):
            # extraction is pure CPU work: in a worker process it runs beside the loop's fetches
            try:
                parsed = await self._pool.run(_raw_response(result), _is_utf8(result))
            except ThresherError as exc:
                parsed = exc
            except WorkerGone:
                # a worker died (a crash in native code): parse this page, and the rest, in the loop
                pass
        await self._handle(entry, result, parsed)
        if self.stats.failed.total() > errors:
            self.stats.errors_per_host[host] += 1

    async def _handle(self, entry: FrontierEntry, result: FetchResult, parsed: _Parsed | None = None) -> None:
        url = entry.url
        if 300 <= result.status < 400 and result.redirects:
            self._redirect(entry, result)
            return
        if result.not_modified:
            # a listing stays "done" so the next round reads it again; only articles become "unchanged"
            state = "unchanged" if entry.article_path else "done"
            self.frontier.complete(url, state, http_status=304, fetched_at=time.time())
            self.stats.unchanged += 1
            return
        if result.error is not None or not 200 <= result.status < 300:
            reason = result.error or f"http-{result.status}"
            if retry_later(result):
                # Tried again later, a bounded number of times (the frontier's max_attempts): a host
                # answering 503 or resetting forever must not keep the crawl alive forever.
                wait = self.config.crawl.retry_delay * 2**entry.attempts
                if result.status in SLOW_DOWN:
                    # the server's own pacing: Retry-After, else the host's (now doubled) delay
                    wait = (
                        result.retry_after
                        if result.retry_after is not None
                        else self._politeness.delay_for(entry.host)
                    )
                retried = self.frontier.fail(
                    url,
                    reason,
                    retry_at=time.time() + max(wait, 0.1),
                    http_status=result.status or None,
                )
                if retried:
                    return
            else:
                self.frontier.complete(
                    url,
                    "failed" if result.status >= 400 or result.status == 0 else "skipped",
                    reason=reason,
                    http_status=result.status,
                )
            self.stats.failed[reason] += 1
            return
        if entry.source in _SOURCES_SITEMAP:
            self._discover_sitemap(entry, result)
        elif entry.source == "feed":
            try:
                found = parse_feed(result.body, result.url)
            except ThresherError as exc:
                self.frontier.complete(url, "failed", reason=f"bad-feed: {exc}"[:200])
                self.stats.failed["bad-feed"] += 1
                return
            items = self._queue(entry, found, depth=entry.depth + 1, source="page")
            self.stats.discovered += self.frontier.complete(
                url, "done", http_status=result.status, fetched_at=time.time(), discovered=items
            )
        else:
            await self._page(entry, result, parsed)

    async def _archive(self, article: Article, raw: Response, host: str) -> AddResult:
        """``archive.add(article, raw)``, through the writer thread when there is one.

        While the page waits for its write, its task frees the host's slot (up to _MAX_WRITING pages in
        all), and the claim loop refills it. A page's URL is still completed in the frontier
        only once its write has committed, so a kill -9 loses only URLs in flight, fetched again on
        resume. With the slot held, a page's write used to be the last step of a 4-page pipeline, and
        the writer got one page a transaction (~3 ms of the writer thread's CPU each at bench (a)'s
        pace, against ~0.6 ms a page in transactions of 16: FTS5 writes a segment per transaction).
        """
        if self._writer is None:
            return self.archive.add(article, raw)
        task = asyncio.current_task()
        if task is None or len(self._writing) >= _MAX_WRITING:
            return await self._writer.add(article, raw)
        self._writing.add(task)
        # A host without a delay can fetch into the freed slot at once: the claim loop is woken for it.
        # With a delay its next request waits for the delay anyway, and the slot is refilled when the
        # loop next wakes (a page done): waking it for every page cost (b) ~0.9 ms of CPU a page.
        if self._politeness.delay_for(host) <= 0 and self._wake is not None and not self._wake.done():
            self._wake.set_result(None)
        try:
            return await self._writer.add(article, raw)
        finally:
            self._writing.discard(task)

    def _redirect(self, entry: FrontierEntry, result: FetchResult) -> None:
        """Queue a redirect's target as its own URL (so it waits for the host's delay), counting hops:
        a chain longer than ``max_redirects`` stops there, and a loop ends at the first URL seen twice."""
        url, site = entry.url, entry.site or ""
        target = canonicalize(result.redirects[-1])
        hops = 1
        if entry.source and entry.source.startswith(_REDIRECT + ":"):
            hops += int(entry.source.partition(":")[2] or 0)
        if self._scopes[site].check(target, entry.depth) is not None:
            self.frontier.complete(url, "skipped", reason="out-of-scope-redirect", http_status=result.status)
            self.stats.out_of_scope += 1
            return
        if hops > self.config.crawl.max_redirects:
            self.frontier.complete(url, "failed", reason="too-many-redirects", http_status=result.status)
            self.stats.failed["too-many-redirects"] += 1
            return
        if self.frontier.add(
            target, host=_netloc(target), site=site, depth=entry.depth, source=f"{_REDIRECT}:{hops}"
        ):
            self.stats.discovered += 1
        self.frontier.complete(url, "done", reason="redirect", http_status=result.status)

    def _discover_sitemap(self, entry: FrontierEntry, result: FetchResult) -> None:
        try:
            pages, children = parse_sitemap(result.body, result.url)
        except ThresherError as exc:
            self.frontier.complete(entry.url, "failed", reason=f"bad-sitemap: {exc}"[:200])
            self.stats.failed["bad-sitemap"] += 1
            return
        for child in children:
            if self._scopes[entry.site or ""].allows_host(child):
                self.frontier.add(
                    child, host=_netloc(child), site=entry.site or "", depth=0, source="sitemap"
                )
        items = self._queue(entry, pages, depth=1, source="page")
        self.stats.discovered += self.frontier.complete(
            entry.url, "done", http_status=result.status, fetched_at=time.time(), discovered=items
        )

    def _queue(
        self, entry: FrontierEntry, found: list[Discovered], *, depth: int, source: str | None = None
    ) -> list[NewURL]:
        """The in-scope URLs of ``found``, to queue with the page's outcome (one frontier transaction).
        ``source`` overrides the items' own (pages listed in a sitemap or feed are pages, not more
        sitemaps or feeds)."""
        site = entry.site or ""
        scope = self._scopes[site]
        cap = self.config.crawl.max_query_variants
        items: list[NewURL] = []
        seen: set[str] = set()
        for item in found:
            if item.url in seen:
                continue
            seen.add(item.url)
            if scope.check(item.url, depth) is not None:
                self.stats.out_of_scope += 1
                continue
            if "?" in item.url and cap:
                # a query explosion (facets, sort orders, endless "next page"): few variants per path;
                # counted when offered, so a known variant offered again uses the cap up sooner, never later
                variant = (site, item.url.partition("?")[0])
                if self._query_variants[variant] >= cap:
                    self.stats.out_of_scope += 1
                    continue
                self._query_variants[variant] += 1
            items.append(
                NewURL(
                    item.url, _netloc(item.url), site, depth, source or item.source or "link", item.lastmod
                )
            )
        return items

    async def _page(self, entry: FrontierEntry, result: FetchResult, parsed: _Parsed | None = None) -> None:
        url = entry.url
        content_type = (result.content_type or "text/html").lower()
        if "html" not in content_type:
            self.frontier.complete(url, "skipped", reason="not-html", http_status=result.status)
            self.stats.failed["not-html"] += 1
            return
        header_robots = {
            d.strip().lower() for h, v in result.headers if h.lower() == "x-robots-tag" for d in v.split(",")
        }
        encoded: EncodedResponse | None = None
        try:
            if parsed is None:
                article, links = parse_page(result.body, result.url, utf8=_is_utf8(result))
            elif isinstance(parsed, ThresherError):
                raise parsed
            else:
                article, links, encoded = parsed
        except ThresherError as exc:
            self.frontier.complete(url, "skipped", reason=f"not-html: {exc}"[:200], http_status=result.status)
            self.stats.failed["not-html"] += 1
            return
        found = self._queue(entry, links, depth=entry.depth + 1)
        site = self._sites[entry.site or ""]
        opted_out = header_robots | set(article.robots)
        if "noindex" in opted_out or "noarchive" in opted_out or "none" in opted_out:
            reason = "noindex" if "noindex" in opted_out or "none" in opted_out else "noarchive"
            self.stats.discovered += self.frontier.complete(
                url, "skipped", reason=f"opted-out:{reason}", http_status=result.status, discovered=found
            )
            self.stats.opted_out += 1
            return
        is_article = article.kind == "article" and (
            site.article_pattern is None or bool(site.article_pattern.search(article.canonical_url or url))
        )
        if not is_article:
            self.stats.discovered += self.frontier.complete(
                url,
                "done",
                reason="not-article",
                http_status=result.status,
                etag=result.etag,
                last_modified=result.last_modified,
                fetched_at=time.time(),
                discovered=found,
            )
            self.stats.not_articles += 1
            return
        raw = encoded if encoded is not None else _raw_response(result)
        try:
            added = await self._archive(article, raw, entry.host)
        except ThresherError:
            if found:  # the page failed, its links did not
                self.stats.discovered += self.frontier.add_many(found)
            raise
        setattr(self.stats, added.status, getattr(self.stats, added.status) + 1)
        self.stats.discovered += self.frontier.complete(
            url,
            "archived",
            http_status=result.status,
            etag=result.etag,
            last_modified=result.last_modified,
            content_hash=article.content_hash,
            article_path=added.path,
            fetched_at=time.time(),
            discovered=found,
        )
        canonical = canonicalize(article.canonical_url)
        site_name = entry.site or ""
        in_scope = (
            canonical and canonical != url and self._scopes[site_name].check(canonical, entry.depth) is None
        )
        # the canonical spelling is the same page: mark it archived so it is never fetched again
        if in_scope and self.frontier.add(
            canonical, host=_netloc(canonical), site=site_name, depth=entry.depth, source="canonical"
        ):
            self.frontier.complete(
                canonical,
                "archived",
                reason="canonical-of:" + url,
                content_hash=article.content_hash,
                article_path=added.path,
                fetched_at=time.time(),  # as fresh as the page it names: a recrawl must not fetch it anew
            )
