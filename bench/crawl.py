"""Crawl benchmark: end-to-end crawl speed against trafilatura, politeness at scale, frontier memory.

Run from the repository root::

    .venv/bin/python bench/crawl.py                  # (a) 2,000 articles, (b) 20x100 pages, (c) 100k URLs
    .venv/bin/python bench/crawl.py --articles 500 --frontier-urls 20000    # quicker
    .venv/bin/python bench/crawl.py --only a --json  # one part, one JSON object on stdout

The fixture sites (:mod:`thresher.fixtureserver`) are served from this process, on loopback addresses only
(127.0.0.2 and 127.0.0.10-29), so the server's own request log is at hand. Every measured job runs in a
child process (this script with ``--child``) that reports its own wall time and peak RSS
(``VmHWM`` in ``/proc/self/status``), so the server's memory is never counted.

(a) One Redefine site with ``--articles`` posts. thresher crawls it unthrottled (delay 0) end to end:
    robots.txt, sitemaps, feed, listings and articles fetched, every article extracted, written as
    Markdown, indexed in SQLite and its raw response stored in WARC. Then, in another child,
    trafilatura's own pipeline on the same site: ``sitemaps.sitemap_search`` on the home page, then
    ``fetch_url`` + ``extract`` for every URL it found. pages/s is fetched pages over wall time.
(b) 20 plain sites; thresher crawls 100 pages of each at delay 0.2 s, 20 hosts at once, one connection
    per host. Ceiling: 20 hosts / 0.2 s = 100 pages/s. A gap violation is two requests to one host,
    as the server logged them, starting less than the delay apart.
(c) A frontier of ``--frontier-urls`` URLs over 50 hosts: add them, count them, then claim and complete
    ``--frontier-claims`` of them the way the crawler does; peak RSS and the time of each step.

Targets: (a) >= 5x trafilatura's pages/s; (b) >= 90% of the ceiling with zero gap violations;
(c) peak RSS < 200 MB. The exit status is 0 whether or not they are met.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1] / "src"))  # fallback when thresher is not installed
from thresher.fixtureserver import FixtureServer, RequestRecord, SiteSpec

TARGET_SPEEDUP = 5.0
TARGET_CEILING_SHARE = 0.90
TARGET_FRONTIER_MB = 200.0
POLITE_HOSTS = 20
POLITE_PAGES = 100
POLITE_DELAY = 0.2
GAP_TOLERANCE = 0.0  # a violation is any logged start-to-start gap below the delay, with no slack


def _peak_mb() -> float:
    """This process's peak RSS in MB: VmHWM, which exec resets (ru_maxrss would keep the high-water
    mark of the parent that forked us, the fixture server included)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _process_cpu_seconds(pid: int) -> float:
    """utime + stime of a live process, from ``/proc/<pid>/stat`` (0.0 where there is no /proc)."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


# ------------------------------------------------------------------------------------------- children


def _child_thresher(args: argparse.Namespace) -> dict[str, Any]:
    from thresher.config import Config, CrawlSettings, site_for_urls
    from thresher.crawl import Crawler, Frontier
    from thresher.crawl.workers import Workers
    from thresher.store import Archive

    # The extraction workers' CPU, read just before the crawl closes them (they are idle by then): the
    # pipeline's CPU per page is the main process's plus theirs.
    worker_cpu: list[float] = []
    close = Workers.close

    def close_and_count(self: Workers) -> None:
        worker_cpu.extend(_process_cpu_seconds(p.pid or 0) for p, _ in self._workers)
        close(self)

    Workers.close = close_and_count  # type: ignore[method-assign]

    settings = CrawlSettings(
        delay=args.delay,
        max_hosts=args.max_hosts,
        concurrency_per_host=args.concurrency,
        max_pages=args.max_pages or None,
        max_depth=10,
        workers=args.workers,
    )
    config = Config(crawl=settings, sites=site_for_urls([b + "/" for b in args.base]))
    root = Path(args.out)
    start = time.perf_counter()
    with Archive(root) as archive, Frontier(root / "frontier.db") as frontier:
        stats = asyncio.run(Crawler(config, archive, frontier).run())
        archived = len(archive)
    elapsed = time.perf_counter() - start
    return {
        "fetched": stats.fetched,
        "new": stats.new,
        "archived": archived,
        "failed": sum(stats.failed.values()),
        "seconds": elapsed,
        "pages_per_s": stats.fetched / elapsed,
        "cpu_seconds": _cpu_seconds(),
        "worker_cpu_seconds": sum(worker_cpu),
        "cpu_ms_per_page": (_cpu_seconds() + sum(worker_cpu)) * 1000 / max(stats.fetched, 1),
        "peak_rss_mb": _peak_mb(),
    }


def _child_trafilatura(args: argparse.Namespace) -> dict[str, Any]:
    from copy import deepcopy
    from urllib.parse import urlsplit

    import trafilatura
    import trafilatura.sitemaps
    from trafilatura.settings import DEFAULT_CONFIG

    # Three switches so trafilatura will crawl a loopback IP at all, none of which slows it down: its
    # SSRF guard refuses non-public addresses, and courlan finds no domain in "127.0.0.2:PORT" (so
    # sitemap_search would give up and drop every link). Its 2 s sleep between sitemaps is set to 0, as
    # thresher's delay is.
    config = deepcopy(DEFAULT_CONFIG)
    config.set("DEFAULT", "SSRF_PROTECTION", "off")

    def hostinfo(url: str) -> tuple[str, str]:
        parts = urlsplit(url)
        return parts.netloc, f"{parts.scheme}://{parts.netloc}"

    trafilatura.sitemaps.get_hostinfo = hostinfo  # type: ignore[assignment]
    trafilatura.sitemaps.extract_domain = lambda link, fast=True: urlsplit(link).netloc  # type: ignore[assignment]

    start = time.perf_counter()
    urls = trafilatura.sitemaps.sitemap_search(args.base[0] + "/", sleep_time=0, config=config)
    fetched = extracted = 0
    for url in urls:
        html = trafilatura.fetch_url(url, config=config)
        if html is None:
            continue
        fetched += 1
        if trafilatura.extract(html, url=url, output_format="markdown", with_metadata=True):
            extracted += 1
    elapsed = time.perf_counter() - start
    return {
        "urls": len(urls),
        "fetched": fetched,
        "extracted": extracted,
        "seconds": elapsed,
        "pages_per_s": fetched / elapsed,
        "cpu_seconds": _cpu_seconds(),
        "peak_rss_mb": _peak_mb(),
    }


def _child_frontier(args: argparse.Namespace) -> dict[str, Any]:
    from thresher.crawl import Frontier
    from thresher.crawl.frontier import NewURL

    hosts = [f"site{h:02d}.example" for h in range(50)]
    out: dict[str, Any] = {"urls": args.frontier_urls}
    with Frontier(Path(args.out) / "frontier.db") as frontier:
        start = time.perf_counter()
        items = (
            NewURL(
                f"https://{hosts[i % 50]}/{i // 50 % 97}/post-{i}-how-to-fix-things/",
                hosts[i % 50],
                "bench",
                1,
                "page",
                1_700_000_000 + i,
                0,
            )
            for i in range(args.frontier_urls)
        )
        out["added"] = frontier.add_many(items)
        out["add_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        out["pending"] = frontier.pending()
        out["counts"] = frontier.counts()["queued"]
        out["count_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        done = 0
        while done < args.frontier_claims:
            batch = frontier.claim(now=time.time(), limit=8, per_host=1)
            if not batch:
                break
            for entry in batch:
                frontier.complete(entry.url, "archived", http_status=200, fetched_at=time.time())
            done += len(batch)
        out["claimed"] = done
        out["claim_ms_per_url"] = (time.perf_counter() - start) * 1000 / max(done, 1)
    out["peak_rss_mb"] = _peak_mb()
    return out


def _run_child(mode: str, *extra: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench: child {mode} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# ------------------------------------------------------------------------------------------- parts


def part_a(articles: int, concurrency: int, workers: int, peer: bool) -> dict[str, Any]:
    spec = SiteSpec("bench-a", "127.0.0.2", articles, template="redefine", disallow=[])
    with FixtureServer([spec]) as server, tempfile.TemporaryDirectory() as tmp:
        server.precompress()  # else the first crawler pays the server's zlib and the second does not
        base = server.addresses["bench-a"]
        ours = _run_child(
            "thresher",
            "--base", base, "--out", tmp, "--delay", "0", "--concurrency", str(concurrency),
            "--workers", str(workers),
        )  # fmt: skip
        ours["requests"] = len(server.log)
        out: dict[str, Any] = {"articles": articles, "thresher": ours}
        if peer:
            server.clear_log()
            theirs = _run_child("trafilatura", "--base", base)
            theirs["requests"] = len(server.log)
            out["trafilatura"] = theirs
            out["speedup"] = ours["pages_per_s"] / theirs["pages_per_s"]
    return out


def gap_violations(log: list[RequestRecord], delay: float) -> tuple[int, float, list[str]]:
    """Requests that started less than ``delay`` after the previous one to their host: how many, the
    smallest gap, and the first few as "host gap path -> path (user-agent)"."""
    by_host: dict[str, list[RequestRecord]] = defaultdict(list)
    for record in log:
        by_host[record.host].append(record)
    violations, smallest, examples = 0, float("inf"), []
    for records in by_host.values():
        records.sort(key=lambda r: r.time)
        for a, b in itertools.pairwise(records):
            gap = b.time - a.time
            smallest = min(smallest, gap)
            if gap < delay - GAP_TOLERANCE:
                violations += 1
                if len(examples) < 5:
                    ua = b.headers.get("user-agent", "")
                    examples.append(f"{b.host} {gap * 1000:.0f} ms {a.path} -> {b.path} ({ua})")
    return violations, smallest, examples


def part_b(workers: int, per_host: int) -> dict[str, Any]:
    specs = [
        SiteSpec(f"host{i:02d}", f"127.0.0.{10 + i}", POLITE_PAGES + 20, template="plain", disallow=[])
        for i in range(POLITE_HOSTS)
    ]
    with FixtureServer(specs) as server, tempfile.TemporaryDirectory() as tmp:
        server.precompress()
        bases = [server.addresses[s.name] for s in specs]
        ours = _run_child(
            "thresher",
            *itertools.chain.from_iterable(("--base", b) for b in bases),
            "--out", tmp, "--delay", str(POLITE_DELAY), "--max-hosts", str(POLITE_HOSTS),
            "--max-pages", str(POLITE_PAGES), "--workers", str(workers), "--concurrency", str(per_host),
        )  # fmt: skip
        log = server.log
    ceiling = POLITE_HOSTS / POLITE_DELAY
    violations, smallest, examples = gap_violations(log, POLITE_DELAY)
    return {
        "hosts": POLITE_HOSTS,
        "connections_per_host": per_host,
        "pages_per_host": POLITE_PAGES,
        "delay": POLITE_DELAY,
        "ceiling_pages_per_s": ceiling,
        "thresher": ours,
        "requests": len(log),
        "share_of_ceiling": ours["pages_per_s"] / ceiling,
        "gap_violations": violations,
        "smallest_gap": smallest,
        "violation_examples": examples,
    }


def part_c(urls: int, claims: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        return _run_child(
            "frontier", "--out", tmp, "--frontier-urls", str(urls), "--frontier-claims", str(claims)
        )


# ------------------------------------------------------------------------------------------- report


def _row(name: str, r: dict[str, Any], what: str) -> str:
    figures = f"{r['fetched']:6d} pages  {r['seconds']:7.1f} s  {r['pages_per_s']:7.1f} pages/s"
    return f"    {name:<12} {figures}  peak RSS {r['peak_rss_mb']:6.1f} MB  ({r[what]} {what})"


def _cpu_row(r: dict[str, Any]) -> str:
    per_page = 1000 / max(r["fetched"], 1)
    main, workers = r["cpu_seconds"] * per_page, r["worker_cpu_seconds"] * per_page
    split = f"main process {main:.1f}, workers {workers:.1f}"
    return f"    {'':<12} CPU per page {main + workers:.1f} ms ({split})"


def _report(results: dict[str, Any]) -> str:
    lines = []
    if "a" in results:
        a = results["a"]
        lines += [
            f"(a) unthrottled crawl of one site, {a['articles']} articles (fetch, extract, write, index)",
            _row("thresher", a["thresher"], "archived"),
            _cpu_row(a["thresher"]),
        ]
        if "trafilatura" in a:
            met = "met" if a["speedup"] >= TARGET_SPEEDUP else "MISSED"
            lines += [
                _row("trafilatura", a["trafilatura"], "extracted"),
                f"    speed-up {a['speedup']:.1f}x (target >= {TARGET_SPEEDUP:g}x): {met}",
            ]
    if "b" in results:
        b = results["b"]
        t = b["thresher"]
        ok = b["share_of_ceiling"] >= TARGET_CEILING_SHARE and b["gap_violations"] == 0
        lines += [
            f"(b) {b['hosts']} hosts x {b['pages_per_host']} pages, delay {b['delay']:g} s, all at once",
            f"    {t['fetched']} pages in {t['seconds']:.1f} s = {t['pages_per_s']:.1f} pages/s, "
            f"{b['share_of_ceiling']:.1%} of the {b['ceiling_pages_per_s']:g} pages/s ceiling; "
            f"peak RSS {t['peak_rss_mb']:.1f} MB",
            _cpu_row(t),
            f"    gap violations in the server log: {b['gap_violations']} of {b['requests']} requests "
            f"(smallest gap {b['smallest_gap'] * 1000:.1f} ms)",
            *(f"      {example}" for example in b["violation_examples"]),
            f"    target >= {TARGET_CEILING_SHARE:.0%} with zero violations: " + ("met" if ok else "MISSED"),
        ]
    if "c" in results:
        c = results["c"]
        met = "met" if c["peak_rss_mb"] < TARGET_FRONTIER_MB else "MISSED"
        claim = f"claim+complete {c['claim_ms_per_url']:.2f} ms/URL over {c['claimed']:,}"
        lines += [
            f"(c) frontier of {c['urls']:,} URLs: add {c['add_seconds']:.1f} s,"
            f" count {c['count_seconds'] * 1000:.0f} ms, {claim}",
            f"    peak RSS {c['peak_rss_mb']:.1f} MB (target < {TARGET_FRONTIER_MB:g} MB): {met}",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/crawl.py", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("a", "b", "c"), action="append", help="run only these parts")
    parser.add_argument("--articles", type=int, default=2000, help="(a) articles on the site")
    parser.add_argument("--concurrency", type=int, default=2, help="(a) connections to the one host")
    parser.add_argument("--no-peer", action="store_true", help="(a) skip trafilatura")
    parser.add_argument(
        "--workers", type=int, default=2, help="(a, b) extraction processes beside the fetch loop (0: none)"
    )
    parser.add_argument("--per-host", type=int, default=1, help="(b) connections per host (default: 1)")
    parser.add_argument("--frontier-urls", type=int, default=100_000, help="(c) URLs in the frontier")
    parser.add_argument("--frontier-claims", type=int, default=5_000, help="(c) URLs claimed and completed")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    # child processes
    parser.add_argument("--child", choices=("thresher", "trafilatura", "frontier"), help=argparse.SUPPRESS)
    parser.add_argument("--base", action="append", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--delay", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--max-hosts", type=int, default=8, help=argparse.SUPPRESS)
    parser.add_argument("--max-pages", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child = {"thresher": _child_thresher, "trafilatura": _child_trafilatura, "frontier": _child_frontier}
        print(json.dumps(child[args.child](args)))
        return 0
    parts = args.only or ["a", "b", "c"]
    results: dict[str, Any] = {}
    if "a" in parts:
        results["a"] = part_a(args.articles, args.concurrency, args.workers, not args.no_peer)
    if "b" in parts:
        results["b"] = part_b(args.workers, args.per_host)
    if "c" in parts:
        results["c"] = part_c(args.frontier_urls, args.frontier_claims)
    if args.json:
        print(json.dumps(results))
    else:
        print(_report(results))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
