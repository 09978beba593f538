"""End-to-end crawls of the fixture sites on loopback; politeness is proved from the server's own log."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from thresher.cli import cli
from thresher.config import Config, CrawlSettings, default_user_agent, site_for_urls
from thresher.crawl import Crawler, Frontier
from thresher.fixtureserver import FixtureServer, SiteSpec
from thresher.store import Archive, WarcRef

DELAY = 0.12


@pytest.fixture(scope="module")
def server() -> FixtureServer:
    spec = SiteSpec(name="fix-guides", address="127.0.0.2", n_articles=6, template="redefine")
    with FixtureServer([spec], slow_seconds=0.2) as srv:
        yield srv  # type: ignore[misc]


def _crawl(server: FixtureServer, root: Path) -> dict[str, object]:
    base = server.addresses["fix-guides"]
    config = Config(crawl=CrawlSettings(delay=DELAY, max_pages=120), sites=site_for_urls([base + "/"]))
    with Archive(root) as archive, Frontier(root / "frontier.db") as frontier:
        stats = asyncio.run(Crawler(config, archive, frontier).run())
        return stats.to_dict() | {"counts": frontier.counts(), "archived": len(archive)}


def test_polite_crawl_archives_every_article_once(server: FixtureServer, tmp_path: Path) -> None:
    server.clear_log()
    result = _crawl(server, tmp_path / "a")
    log = server.log
    assert log, "nothing was requested"
    # robots.txt first, an honest User-Agent on every request
    assert log[0].path == "/robots.txt"
    assert all(r.headers.get("user-agent") == default_user_agent() for r in log)
    # nothing robots.txt disallows was ever requested
    assert not [r.path for r in log if r.path.startswith(("/private/", "/article_preview.html"))]
    assert result["skipped_by_robots"] >= 1
    # per-host gaps between request starts are at least the delay (one connection per host)
    times = sorted(r.time for r in log)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= DELAY * 0.95, min(gaps)
    # every listed article that does not opt out is archived, exactly once
    expected = {a.url for a in server.articles("fix-guides") if not (a.noindex or a.noarchive or a.private)}
    with Archive(tmp_path / "a") as archive:
        archived = {row[0] for row in archive.db.conn.execute("select url from articles")}
    assert expected <= archived
    assert result["opted_out"] == 2
    per_path: dict[str, int] = defaultdict(int)
    for r in log:
        per_path[r.path] += 1
    assert all(n == 1 for p, n in per_path.items() if p != "/robots.txt"), per_path


def test_second_crawl_is_all_conditional_and_unchanged(server: FixtureServer, tmp_path: Path) -> None:
    root = tmp_path / "a"
    first = _crawl(server, root)
    files = {p: p.read_bytes() for p in root.rglob("*.md")}
    server.clear_log()
    second = _crawl(server, root)
    assert second["new"] == 0 and second["updated"] == 0
    assert second["unchanged"] >= first["new"]  # type: ignore[operator]
    article_requests = [r for r in server.log if r.path.count("/") == 2 and r.status in (200, 304)]
    assert article_requests and all(r.status == 304 for r in article_requests if "if-none-match" in r.headers)
    assert {p: p.read_bytes() for p in root.rglob("*.md")} == files


def test_crawl_command_json_and_usage_errors(server: FixtureServer, tmp_path: Path) -> None:
    base = server.addresses["fix-guides"]
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "--archive",
            str(tmp_path / "a"),
            "crawl",
            base + "/",
            "--delay",
            str(DELAY),
            "--max-pages",
            "60",
            "--json",
        ],
    )
    assert result.exit_code in (0, 1), result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["new"] >= 4
    bad = runner.invoke(cli, ["--archive", str(tmp_path / "a"), "crawl"])
    assert bad.exit_code == 2 and "nothing to crawl" in bad.stderr
    bad = runner.invoke(cli, ["crawl", "--config", str(tmp_path / "missing.toml")])
    assert bad.exit_code == 2 and "no such file" in bad.stderr


_CRAWL_SCRIPT = """
import asyncio, sys
from pathlib import Path
from thresher.config import Config, CrawlSettings, site_for_urls
from thresher.crawl import Crawler, Frontier
from thresher.store import Archive

root, base = Path(sys.argv[1]), sys.argv[2]
settings = CrawlSettings(delay=float(sys.argv[3]), max_pages=200)
config = Config(crawl=settings, sites=site_for_urls([base + "/"]))
with Archive(root) as archive, Frontier(root / "frontier.db") as frontier:
    asyncio.run(Crawler(config, archive, frontier).run())
"""


def test_kill_9_mid_crawl_then_resume_archives_everything_once(server: FixtureServer, tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    root = tmp_path / "a"
    base = server.addresses["fix-guides"]
    server.clear_log()
    proc = subprocess.Popen([sys.executable, "-c", _CRAWL_SCRIPT, str(root), base, "0.15"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len([r for r in server.log if r.status == 200]) < 8:
        time.sleep(0.05)
    proc.kill()  # SIGKILL: no cleanup at all
    proc.wait()
    before = {(r.path, r.status) for r in server.log}
    first_run = len(server.log)
    assert first_run >= 8
    for path in root.rglob("*.md"):  # whatever was written is whole
        text = path.read_text(encoding="utf-8")
        assert text.startswith("---\n") and text.endswith("\n")
    subprocess.run([sys.executable, "-c", _CRAWL_SCRIPT, str(root), base, "0.05"], check=True, timeout=120)
    second = server.log[first_run:]
    # the resumed run fetched again only what was in flight when killed (at most one URL: 1 per host)
    refetched = [r.path for r in second if (r.path, r.status) in before and r.path != "/robots.txt"]
    assert len(refetched) <= 1, refetched
    with Archive(root) as archive:
        urls = [row[0] for row in archive.db.conn.execute("select url from articles")]
        assert archive.db.conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert len(urls) == len(set(urls))
    expected = {a.url for a in server.articles("fix-guides") if not (a.noindex or a.noarchive or a.private)}
    assert expected <= set(urls)


def test_recrawl_skips_urls_whose_sitemap_lastmod_is_older_than_our_fetch(
    server: FixtureServer, tmp_path: Path
) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    root = tmp_path / "a"
    base = server.addresses["fix-guides"]
    # recrawl_after 0: every article is due again, so only the sitemap's lastmod can keep one away
    sites = [replace(site, recrawl_after=0.0) for site in site_for_urls([base + "/"])]
    config = Config(crawl=CrawlSettings(delay=0.05, max_pages=120), sites=sites)

    def crawl() -> None:
        with Archive(root) as archive, Frontier(root / "frontier.db") as frontier:
            asyncio.run(Crawler(config, archive, frontier).run())

    crawl()
    articles = [a for a in server.articles("fix-guides") if not (a.private or a.noindex or a.noarchive)]
    touched = articles[1]
    server.set_lastmod("fix-guides", touched.path, datetime.now(UTC))  # newer than our fetch
    server.clear_log()
    try:
        crawl()
    finally:
        server.set_lastmod("fix-guides", touched.path, touched.updated)
    paths = {a.path for a in articles}
    asked = [r for r in server.log if r.path in paths]
    # the one article with a newer lastmod: a conditional request (unchanged page → 304); the others,
    # whose lastmod is older than our last fetch, are not requested at all
    assert [r.path for r in asked] == [touched.path]
    assert "if-none-match" in asked[0].headers and asked[0].status == 304
    # the sitemaps themselves were read again (that is how the newer lastmod was found)
    assert any(r.path == "/sitemap.xml" for r in server.log)


def test_extraction_in_worker_processes_archives_the_same_articles(
    server: FixtureServer, tmp_path: Path
) -> None:
    base = server.addresses["fix-guides"]
    archived = []
    for workers in (0, 2):
        root = tmp_path / f"w{workers}"
        config = Config(
            crawl=CrawlSettings(delay=0.02, max_pages=120, workers=workers), sites=site_for_urls([base + "/"])
        )
        with Archive(root) as archive, Frontier(root / "frontier.db") as frontier:
            stats = asyncio.run(Crawler(config, archive, frontier).run())
            rows = archive.db.conn.execute("select url, content_hash from articles order by url").fetchall()
            # the workers encode each article's WARC record; the writer appends it as it came
            stored = {raw.url: raw.body for _, raw in archive.warc}
            refs = archive.db.conn.execute("select warc_file, warc_offset, warc_length from articles")
            for ref in refs:
                assert archive.warc.read(WarcRef(*ref)).body in stored.values()
        assert stats.new >= 4 and stats.opted_out == 2
        assert len(stored) == stats.new
        archived.append((rows, stored))
    assert archived[0] == archived[1]
