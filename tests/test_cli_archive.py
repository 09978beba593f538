"""`thresher add / search / show / stats / reindex / reprocess` end to end on real files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from thresher.cli import cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


def _copy_fixtures(tmp_path: Path) -> Path:
    pages = tmp_path / "pages"
    shutil.copytree(FIXTURES / "pages", pages, ignore=shutil.ignore_patterns("*.json", "*.md"))
    return pages


def test_add_folder_then_search_show_stats(tmp_path: Path) -> None:
    archive = tmp_path / "arch"
    pages = _copy_fixtures(tmp_path)
    code, out, err = run("--archive", str(archive), "add", str(pages), "--json")
    counts = json.loads(out)
    # every article fixture with a canonical link; listings, the about page and the two pages without a
    # canonical link (fluid, plainblog: they need --url) are reported as failed
    assert counts["new"] == 9
    assert counts["failed"] == 6 and "not an article" in err and "pass --url" in err
    assert code == 1
    code, out, _ = run("--archive", str(archive), "add", str(pages), "--json")
    assert json.loads(out)["unchanged"] == 9

    code, out, _ = run("--archive", str(archive), "search", "disk space", "--json")
    assert code == 0
    hits = json.loads(out)
    assert (
        hits[0]["url"]
        == "https://fix-guides.techidaily.com/free-up-disk-space-windows-11-without-losing-files/"
    )
    assert {"url", "title", "site", "published", "snippet", "score", "path"} <= set(hits[0])
    code, out, _ = run("--archive", str(archive), "search", "zzzznotthere")
    assert code == 1
    code, out, _ = run("--archive", str(archive), "search", "disk", "--tag", "storage")
    assert code == 0 and "Disk" in out

    code, out, _ = run("--archive", str(archive), "show", hits[0]["url"])
    assert code == 0 and out.startswith("---\ntitle: How to Free Up Disk Space")
    code, out, _ = run("--archive", str(archive), "show", hits[0]["path"], "--format", "json")
    assert json.loads(out)["title"].startswith("How to Free Up Disk Space")
    code, out, _ = run("--archive", str(archive), "stats", "--json")
    figures = json.loads(out)
    assert figures["articles"] == 9 and figures["markdown_files"] == 9


def test_archive_from_environment(tmp_path: Path) -> None:
    archive = tmp_path / "env-archive"
    page = FIXTURES / "pages" / "next" / "post.html"
    code, out, _ = run("add", str(page), env={"THRESHER_ARCHIVE": str(archive)})
    assert code == 0 and out.strip() == "1 new, 0 updated, 0 unchanged, 0 failed"
    assert (archive / "index.db").exists()


def test_add_markdown_posts_and_single_url(tmp_path: Path) -> None:
    archive = tmp_path / "arch"
    post = FIXTURES / "posts" / "hexo-post-with-ads.md"
    code, _, err = run("--archive", str(archive), "add", str(post))
    assert code == 1 and "no URL" in err
    code, out, _ = run(
        "--archive", str(archive), "add", str(post), "--url", "https://fix-guides.techidaily.com/x/"
    )
    assert code == 0 and out.startswith("1 new")
    code, out, _ = run("--archive", str(archive), "show", "https://fix-guides.techidaily.com/x/")
    assert "also_read:" in out and "affiliate ads begin" not in out and "adsbygoogle" not in out


def test_unreadable_files_are_reported_and_the_rest_archived(tmp_path: Path) -> None:
    archive = tmp_path / "arch"
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "pages" / "next" / "post.html", folder / "good.html")
    (folder / "binary.html").write_bytes(bytes(range(256)) * 10)
    (folder / "empty.html").write_bytes(b"")
    (folder / "locked.html").write_text("<p>x</p>", encoding="utf-8")
    (folder / "locked.html").chmod(0)
    code, out, err = run("--archive", str(archive), "add", str(folder))
    assert code == 1
    assert out.strip().startswith("1 new")
    assert "binary.html" in err and "empty.html" in err
    assert "Traceback" not in err


def test_read_commands_without_archive_fail_cleanly(tmp_path: Path) -> None:
    for args in (["search", "x"], ["show", "https://a.example/"], ["stats"], ["reprocess"]):
        code, _, err = run("--archive", str(tmp_path / "missing"), *args)
        assert code == 2 and "no archive" in err and len(err.strip().splitlines()) == 1


def test_corrupt_index_is_a_one_line_error_and_reindex_recovers(tmp_path: Path) -> None:
    archive = tmp_path / "arch"
    run("--archive", str(archive), "add", str(FIXTURES / "pages" / "next" / "post.html"))
    for extra in archive.glob("index.db-*"):
        extra.unlink()
    (archive / "index.db").write_bytes(b"\x00garbage" * 500)
    code, _, err = run("--archive", str(archive), "search", "rsync")
    assert code == 2 and "not an SQLite database" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run("--archive", str(archive), "reindex")
    assert code == 0 and out.strip() == "1 indexed, 0 failed"
    code, out, _ = run("--archive", str(archive), "search", "rsync", "--json")
    assert code == 0 and json.loads(out)


def test_bad_dates_are_usage_errors(tmp_path: Path) -> None:
    archive = tmp_path / "arch"
    run("--archive", str(archive), "add", str(FIXTURES / "pages" / "next" / "post.html"))
    code, _, err = run("--archive", str(archive), "search", "rsync", "--since", "yesterday-ish")
    assert code == 2 and "not a date" in err


def test_add_a_warc_file(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from thresher.store import RawResponse, WarcStore

    page = FIXTURES / "pages" / "landscape" / "post.html"
    url = json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))["url"]
    store = WarcStore(tmp_path / "crawl")
    store.write(
        RawResponse(
            url=url,
            status=200,
            headers=[("Content-Type", "text/html")],
            body=page.read_bytes(),
            fetched_at=datetime(2025, 2, 1, tzinfo=UTC),
        )
    )
    store.write(
        RawResponse(
            url=url + "missing/",
            status=404,
            headers=[("Content-Type", "text/html")],
            body=b"<h1>gone</h1>",
            fetched_at=datetime(2025, 2, 1, tzinfo=UTC),
        )
    )
    warc = next((tmp_path / "crawl").glob("*.warc.gz"))
    archive = tmp_path / "arch"
    code, out, _ = run("--archive", str(archive), "add", str(warc))
    assert code == 0 and out.strip() == "1 new, 0 updated, 0 unchanged, 0 failed"
    assert list((archive / "warc").glob("*.warc.gz"))  # the raw response is kept in the archive's own WARC
    code, out, _ = run("--archive", str(archive), "reprocess")
    assert code == 0 and out.strip() == "1 unchanged"


def test_until_a_date_includes_that_whole_day(tmp_path: Path) -> None:
    archive = tmp_path / "arch"
    run("--archive", str(archive), "add", str(_copy_fixtures(tmp_path)))
    code, out, _ = run("--archive", str(archive), "search", "disk space", "--json")
    hit = json.loads(out)[0]
    day = hit["published"][:10]  # an instant during that day (UTC), not its first second
    assert hit["published"] > f"{day}T00:00:00Z"
    code, out, _ = run("--archive", str(archive), "search", "disk space", "--until", day, "--json")
    assert code == 0 and hit["url"] in {h["url"] for h in json.loads(out)}
    code, out, _ = run(
        "--archive", str(archive), "search", "disk space", "--until", f"{day}T00:00:00Z", "--json"
    )
    assert code == 1 or hit["url"] not in {h["url"] for h in json.loads(out)}
