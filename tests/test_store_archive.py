"""The archive against real files and a real SQLite index in temporary folders."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

import thresher
from thresher.errors import IndexCorrupt, StoreError
from thresher.models import AffiliateLink, Article, Link, content_hash
from thresher.sqlite import sqlite3
from thresher.store import Archive, RawResponse, rebuild_index

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"


def _article(
    url: str = "https://fix.techidaily.com/free-disk-space/",
    body: str = "## Step\n\nClean the disk.\n",
    **kw: object,
) -> Article:
    base: dict[str, object] = {
        "url": url,
        "canonical_url": url,
        "title": "Free disk space",
        "published": datetime(2024, 5, 1, 8, 0, tzinfo=UTC),
        "tags": ["storage", "windows"],
        "categories": ["Guides"],
        "also_read": [Link(url="https://x.techidaily.com/a/", title="A")],
        "affiliate_links": [
            AffiliateLink(url="https://tools.techidaily.com/x/", text="X", network="techidaily")
        ],
        "site_name": "Fix",
        "lang": "en",
        "markdown": body,
        "text": body.replace("#", "").strip(),
        "word_count": 4,
        "content_hash": content_hash(body),
    }
    base.update(kw)
    return Article(**base)  # type: ignore[arg-type]


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    with Archive(tmp_path / "archive") as a:
        yield a  # type: ignore[misc]


def test_add_new_unchanged_updated(archive: Archive) -> None:
    first = archive.add(_article())
    assert first.status == "new"
    path = archive.root / first.path
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    assert archive.add(_article()).status == "unchanged"
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime  # nothing rewritten
    changed = _article(body="## Step\n\nClean the disk twice.\n")
    assert archive.add(changed).status == "updated"
    assert "twice" in path.read_text(encoding="utf-8")
    versions = archive.db.conn.execute("select content_hash from versions").fetchall()
    assert versions == [(content_hash("## Step\n\nClean the disk.\n"),)]
    assert len(archive) == 1


def test_file_is_the_article_document_and_get_reads_it(archive: Archive) -> None:
    art = _article()
    result = archive.add(art)
    assert (archive.root / result.path).read_text(encoding="utf-8") == art.to_markdown()
    assert result.path == "fix.techidaily.com/free-disk-space.md"
    got = archive.get("https://FIX.techidaily.com/free-disk-space/index.html?utm_source=x")
    assert got is not None and got.title == art.title and got.tags == art.tags
    assert archive.get(result.path) is not None
    assert archive.get("https://elsewhere.example/") is None


def test_index_rows_links_tags(archive: Archive) -> None:
    archive.add(_article())
    conn = archive.db.conn
    assert conn.execute("select tag from tags order by position").fetchall() == [("storage",), ("windows",)]
    kinds = conn.execute("select kind, url, network from links order by kind").fetchall()
    assert kinds == [
        ("affiliate", "https://tools.techidaily.com/x/", "techidaily"),
        ("also_read", "https://x.techidaily.com/a/", None),
    ]
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_search_ranks_title_above_body_and_filters(archive: Archive) -> None:
    archive.add(
        _article("https://a.example/one/", "## Intro\n\nA guide about printers.\n", title="Bluetooth pairing")
    )
    archive.add(
        _article(
            "https://b.example/two/",
            "## Intro\n\nBluetooth is mentioned once here.\n",
            title="Printer drivers",
            tags=["printers"],
            lang="de",
        )
    )
    hits = archive.search("bluetooth")
    assert [h.url for h in hits] == ["https://a.example/one/", "https://b.example/two/"]
    assert hits[0].score > hits[1].score
    assert "**Bluetooth**" in hits[1].snippet
    assert [h.url for h in archive.search("bluetooth", site="b.example")] == ["https://b.example/two/"]
    assert [h.url for h in archive.search("bluetooth", tag="printers")] == ["https://b.example/two/"]
    assert [h.url for h in archive.search("bluetooth", lang="de")] == ["https://b.example/two/"]
    assert archive.search("bluetooth", since=datetime(2030, 1, 1, tzinfo=UTC)) == []
    assert archive.search("nothing-like-this") == []


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "*",
        "NEAR(",
        "'; DROP TABLE articles; --",
        "x" * 5000,
        "🤖 emoji",
        "東京 検索",
        "title:",
        "bogus:column",
        "AND OR NOT",
        "(((",
        "^start",
        "-minus",
        "\x00nul",
    ],
)
def test_any_query_is_safe(archive: Archive, query: str) -> None:
    archive.add(_article())
    archive.search(query)  # no exception of any kind
    assert len(archive) == 1


def test_reindex_rebuilds_from_files_and_keeps_history(archive: Archive) -> None:
    archive.add(_article())
    archive.add(_article(body="## Step\n\nNew body.\n"))
    archive.add(_article("https://b.example/two/"))
    first_seen = archive.db.conn.execute("select first_seen from articles order by url").fetchall()
    counts = archive.reindex()
    assert counts == {"indexed": 2, "failed": 0}
    assert len(archive) == 2
    assert archive.db.conn.execute("select first_seen from articles order by url").fetchall() == first_seen
    assert archive.db.conn.execute("select count(*) from versions").fetchone()[0] == 1
    assert [h.url for h in archive.search("body")] == ["https://fix.techidaily.com/free-disk-space/"]


def test_reindex_from_files_alone(tmp_path: Path) -> None:
    root = tmp_path / "a"
    with Archive(root) as a:
        a.add(_article())
    (root / "index.db").unlink()
    for extra in root.glob("index.db-*"):
        extra.unlink()
    assert rebuild_index(root) == {"indexed": 1, "failed": 0}
    with Archive(root) as a:
        assert len(a) == 1 and a.search("disk")


def test_corrupt_or_foreign_index_is_refused_and_never_overwritten(tmp_path: Path) -> None:
    root = tmp_path / "a"
    root.mkdir()
    (root / "index.db").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(IndexCorrupt, match="not an SQLite database"):
        Archive(root)
    assert (root / "index.db").read_bytes() == b"this is not sqlite at all" * 100
    foreign = tmp_path / "b"
    foreign.mkdir()
    conn = sqlite3.connect(foreign / "index.db")
    conn.execute("create table customers (id integer)")
    conn.commit()
    conn.close()
    before = (foreign / "index.db").read_bytes()
    with pytest.raises(IndexCorrupt, match="not a thresher index"):
        Archive(foreign)
    assert (foreign / "index.db").read_bytes() == before


def test_reindex_keeps_a_damaged_index_aside(tmp_path: Path) -> None:
    root = tmp_path / "a"
    with Archive(root) as a:
        a.add(_article())
    for extra in root.glob("index.db-*"):
        extra.unlink()
    (root / "index.db").write_bytes(b"garbage" * 1000)
    assert rebuild_index(root)["indexed"] == 1
    kept = list(root.glob("index.db.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"garbage" * 1000
    with Archive(root) as a:
        assert len(a) == 1


def test_second_writer_waits_or_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "a"
    with Archive(root) as a:
        a.add(_article())
    holder = sqlite3.connect(root / "index.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        import thresher.store.index as index

        monkeypatch.setattr(index, "BUSY_TIMEOUT_MS", 200)
        with Archive(root) as b, pytest.raises(StoreError, match="locked"):
            b.add(_article(body="changed\n"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Archive(root) as c:
        assert c.add(_article(body="changed\n")).status == "updated"


def test_raw_responses_go_to_warc_and_reprocess_uses_them(tmp_path: Path) -> None:
    page = FIXTURES / "redefine" / "post-disk-cleanup.html"
    expected = json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))
    html = page.read_bytes()
    raw = RawResponse(
        url=expected["url"],
        status=200,
        headers=[("Content-Type", "text/html; charset=utf-8")],
        body=html,
        fetched_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    with Archive(tmp_path / "a") as a:
        art = thresher.extract(html, expected["url"])
        assert a.add(art, raw).status == "new"
        assert list((a.root / "warc").glob("*.warc.gz"))
        counts = a.reprocess()
        assert counts == {"unchanged": 1}
        # pretend an older extractor wrote a worse body; reprocess brings the current one back
        a.add(_article(expected["canonical_url"], "old body\n"))
        assert a.reprocess() == {"updated": 1}
        assert a.get(expected["canonical_url"]).markdown == art.markdown  # type: ignore[union-attr]


def test_unwritable_target_loses_nothing(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    archive.add(_article())
    import thresher.store.archive as mod

    def full_disk(*_a: object, **_k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mod, "atomic_write", full_disk)
    with pytest.raises(StoreError, match="No space left"):
        archive.add(_article(body="new body that cannot be written\n"))
    assert "Clean the disk." in (archive.root / "fix.techidaily.com/free-disk-space.md").read_text(
        encoding="utf-8"
    )
    assert archive.db.conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert archive.add(_article()).status == "unchanged"
    assert not [p for p in archive.root.rglob("*") if p.name.startswith(".") and p.is_file()]
    assert os.listdir(archive.root / "fix.techidaily.com") == ["free-disk-space.md"]


_KILLER = """
import sys
from datetime import UTC, datetime
from thresher.models import Article, content_hash
from thresher.store import Archive

with Archive(sys.argv[1]) as archive:
    for i in range(100_000):
        body = f"## Part {i}\\n\\n" + ("Words about disks and drivers. " * 200) + "\\n"
        url = f"https://kill.example/post-{i}/"
        archive.add(Article(url=url, canonical_url=url, title=f"Post {i}", markdown=body, text=body,
                            word_count=600, content_hash=content_hash(body),
                            published=datetime(2024, 1, 1, tzinfo=UTC)))
        if i == 20:
            print("running", flush=True)
"""


def test_kill_9_mid_add_leaves_no_partial_file_and_a_rerun_completes(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    root = tmp_path / "a"
    proc = subprocess.Popen([sys.executable, "-c", _KILLER, str(root)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "running"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    files = sorted((root / "kill.example").glob("*.md"))
    assert files, "the writer was killed before it wrote anything"
    for path in files:  # every file that exists is whole
        doc = path.read_text(encoding="utf-8")
        assert doc.startswith("---\n") and doc.endswith("\n") and "Words about disks" in doc
    with Archive(root) as archive:
        assert archive.db.conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        indexed = len(archive)
        assert indexed in (len(files), len(files) - 1)  # at most the file being indexed when killed
        body = "## Part 0\n\n" + ("Words about disks and drivers. " * 200) + "\n"
        again = Article(
            url="https://kill.example/post-0/",
            canonical_url="https://kill.example/post-0/",
            title="Post 0",
            markdown=body,
            text=body,
            word_count=600,
            content_hash=content_hash(body),
            published=datetime(2024, 1, 1, tzinfo=UTC),
        )
        assert archive.add(again).status == "unchanged"
    assert rebuild_index(root)["indexed"] == len(files)
