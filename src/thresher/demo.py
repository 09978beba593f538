"""``make demo``: serve the bundled fixture sites on loopback, crawl them into ``./archive``, search it.

The sites are the ones the tests crawl (:mod:`thresher.fixtureserver`), on 127.0.0.2-4 (port 8000, or a
free one); where those addresses cannot be bound (macOS gives only 127.0.0.1) one site is served on
127.0.0.1. The crawl is an ordinary ``thresher crawl`` (lock, run history, logs, progress display) with a
short delay; running the demo again re-checks every page with conditional requests.
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import Config, CrawlSettings, SiteConfig
from .errors import ThresherError
from .fixtureserver import FixtureServer, SiteSpec, default_sites

__all__ = ["SEARCHES", "main"]

SEARCHES = ("print spooler", "onedrive sync")
DEMO_PORT = 8000


def _start(articles: int, port: int) -> FixtureServer:
    """Start the fixture sites: three loopback addresses if the system has them, else 127.0.0.1."""
    sites = default_sites(articles, crawl_delay=None)
    for spec in sites:  # the fault and trap paths are for tests; the demo shows a normal crawl
        spec.faults = spec.trap = False
    for candidate in [sites, [SiteSpec("fix-guides", "127.0.0.1", articles, template="redefine")]]:
        for base_port in dict.fromkeys([port, 0]):
            try:
                return FixtureServer(candidate, base_port=base_port).start()
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    continue  # the port is taken: any free one will do
                if exc.errno == errno.EADDRNOTAVAIL:
                    break  # no 127.0.0.2: fall back to one site on 127.0.0.1
                raise
    raise OSError("cannot bind a loopback address for the fixture sites")


def _config(server: FixtureServer, delay: float) -> Config:
    # the start page is enough: robots.txt names each site's sitemaps, and pages link to the rest
    sites = [SiteConfig(name=name, start_urls=[base + "/"]) for name, base in server.addresses.items()]
    return Config(crawl=CrawlSettings(delay=delay), sites=sites)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve, crawl, search; returns the exit code (0 when the crawl ran and both searches found pages)."""
    from .cli import cli
    from .schedule import CrawlRequest, crawl_once

    parser = argparse.ArgumentParser(prog="python -m thresher.demo", description=__doc__)
    parser.add_argument("--archive", type=Path, default=Path("archive"), help="default: ./archive")
    parser.add_argument("--port", type=int, default=DEMO_PORT, help="port of the fixture sites")
    parser.add_argument("--articles", type=int, default=30, help="articles per site (default: 30)")
    parser.add_argument("--delay", type=float, default=0.1, help="seconds between requests to one host")
    args = parser.parse_args(argv)

    server = _start(args.articles, args.port)
    try:
        print("thresher demo: the bundled fixture sites, served on loopback only")
        for name, base in server.addresses.items():
            print(f"  {name:<11} {base}/")
        print(f"\n$ thresher crawl (delay {args.delay}s per host, robots.txt first) → {args.archive}/")
        sys.stdout.flush()
        request = CrawlRequest(config=_config(server, args.delay), command="demo", force=True)
        try:
            code = crawl_once(args.archive, request)
        except ThresherError as exc:
            print(f"Error: {exc}", file=sys.stderr)
            return 2
        print(
            "(the sites link to a few pages they do not serve, like real ones: those are the 404s)"
            if code == 1
            else ""
        )
        found = 0
        for query in SEARCHES:
            print(f"\n$ thresher search '{query}' --limit 3")
            sys.stdout.flush()
            try:
                cli.main(
                    ["--archive", str(args.archive), "search", query, "--limit", "3"],
                    prog_name="thresher",
                    standalone_mode=False,
                )
                found += 1
            except SystemExit as exc:  # search exits 1 when nothing matches
                found += exc.code in (0, None)
        print(
            f"\nThe archive is in {args.archive}/: Markdown files, index.db, warc/, logs/. "
            "Try `thresher runs`, `thresher stats`, `thresher doctor`."
        )
    finally:
        server.stop()
    return 0 if code in (0, 1) and found == len(SEARCHES) else 1


if __name__ == "__main__":
    sys.exit(main())
