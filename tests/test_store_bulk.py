"""Bulk adds (one upsert per batch) behave exactly like one add after another."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from thresher.errors import StoreError
from thresher.models import AddResult, AffiliateLink, Article, Link, content_hash
from thresher.sqlite import sqlite3
from thresher.store import Archive

# what sqlite-utils' enable_fts(create_triggers=True) made, as migration 0002 left it
_SQLITE_UTILS_TRIGGER = """
CREATE TRIGGER "articles_au" AFTER UPDATE ON "articles" BEGIN
  INSERT INTO "articles_fts" ("articles_fts", rowid, "title", "description", "tags", "text")
    VALUES('delete', old.rowid, old."title", old."description", old."tags", old."text");
  INSERT INTO "articles_fts" (rowid, "title", "description", "tags", "text")
    VALUES (new.rowid, new."title", new."description", new."tags", new."text");
END"""


def _article(n: int, body: str = "Plain words about drivers.", **kw: object) -> Article:
    url = f"https://bulk.example/post-{n}/"
    fields: dict[str, object] = {
        "url": url,
        "canonical_url": url,
        "title": f"Post {n} about printers",
        "published": datetime(2024, 1, 1 + n % 28, tzinfo=UTC),
        "tags": [f"tag{n % 3}", "common"],
        "categories": ["Guides"],
        "markdown": body,
        "text": body,
        "word_count": len(body.split()),
        "content_hash": content_hash(body),
    }
    return Article(**(fields | kw))  # type: ignore[arg-type]


def _fts_rows(archive: Archive, term: str) -> list[int]:
    return [
        r[0]
        for r in archive.db.conn.execute(
            "select rowid from articles_fts where articles_fts match ? order by rowid", [term]
        )
    ]


def test_add_many_matches_one_add_after_another(tmp_path: Path) -> None:
    items = [_article(n) for n in range(7)]
    items += [_article(3, "Changed words about scanners."), _article(5), _article(3, "Third body.")]
    with Archive(tmp_path / "bulk") as bulk, Archive(tmp_path / "one") as one:
        got = list(bulk.add_many(items, batch=4))
        want = [one.add(a) for a in items]
        assert [(r.status, r.url, r.path) for r in got] == [(r.status, r.url, r.path) for r in want]
        assert [r.status for r in got][7:] == ["updated", "unchanged", "updated"]
        query = "select url, title, tags, path, content_hash from articles order by url"
        assert bulk.db.conn.execute(query).fetchall() == one.db.conn.execute(query).fetchall()
        for table in ("tags", "categories", "links"):
            q = f"select a.url, t.* from {table} t join articles a on a.id = t.article_id order by 1, 3"
            rows = [r[:1] + r[2:] for r in bulk.db.conn.execute(q)]
            assert rows == [r[:1] + r[2:] for r in one.db.conn.execute(q)]
        hashes = "select content_hash, path from versions order by replaced_at, content_hash"
        assert len(bulk.db.conn.execute(hashes).fetchall()) == 2
        assert bulk.db.conn.execute(hashes).fetchall() == one.db.conn.execute(hashes).fetchall()
        for term in ("scanners", "drivers", "third", "printers"):
            assert [h.url for h in bulk.search(term, limit=50)] == [h.url for h in one.search(term, limit=50)]
        assert bulk.db.conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        bulk.db.conn.execute("insert into articles_fts(articles_fts) values('integrity-check')")
        for n in range(7):
            assert (bulk.root / got[n].path).read_text(encoding="utf-8") == (
                one.root / got[n].path
            ).read_text(encoding="utf-8")


def test_unchanged_re_add_keeps_the_full_text_index(tmp_path: Path) -> None:
    with Archive(tmp_path / "a") as archive:
        list(archive.add_many([_article(n) for n in range(5)]))
        before = archive.db.conn.execute("select max(id) from articles_fts_data").fetchone()[0]
        assert {r.status for r in archive.add_many([_article(n) for n in range(5)])} == {"unchanged"}
        # last_seen moved, the FTS5 index was not rewritten, and it still answers
        after = archive.db.conn.execute("select max(id) from articles_fts_data").fetchone()[0]
        assert after == before
        assert len(_fts_rows(archive, "drivers")) == 5
        archive.add(_article(2, "Now about keyboards."))
        assert _fts_rows(archive, "keyboards") == [3]
        assert len(_fts_rows(archive, "drivers")) == 4
        archive.db.conn.execute("insert into articles_fts(articles_fts) values('integrity-check')")


def test_an_archive_from_before_0005_upgrades(tmp_path: Path) -> None:
    root = tmp_path / "old"
    with Archive(root):
        pass
    # back to what 0001-0004 left: sqlite-utils' own update trigger, 0005 not applied
    db = Database(sqlite3.connect(str(root / "index.db"), isolation_level=None))
    db.execute("drop trigger articles_au")
    db.execute("delete from _sqlite_migrations where name like '0005%'")
    db.execute(_SQLITE_UTILS_TRIGGER)
    db.conn.close()
    with Archive(root) as archive:
        sql = archive.db.conn.execute("select sql from sqlite_master where name = 'articles_au'").fetchone()[
            0
        ]
        assert " when " in sql.lower()
        archive.add(_article(1))
        assert archive.add(_article(1)).status == "unchanged"
        assert [h.title for h in archive.search("printers")] == ["Post 1 about printers"]


def test_big_batches_write_files_beside_the_rows_and_match_one_add_after_another(tmp_path: Path) -> None:
    # 40 files a chunk: written on the archive's file thread while the rows go in
    items = [_article(n, f"Body {n} about drivers.") for n in range(100)]
    items += [_article(n, f"New body {n} about scanners.") for n in range(0, 100, 3)]
    with Archive(tmp_path / "bulk") as bulk, Archive(tmp_path / "one") as one:
        got = list(bulk.add_many(items, batch=40))
        want = [one.add(a) for a in items]
        assert [(r.status, r.path) for r in got] == [(r.status, r.path) for r in want]
        query = "select url, content_hash, path from articles order by url"
        assert bulk.db.conn.execute(query).fetchall() == one.db.conn.execute(query).fetchall()
        for r in got:
            assert (bulk.root / r.path).read_bytes() == (one.root / r.path).read_bytes()
        assert [h.url for h in bulk.search("scanners", limit=100)] == [
            h.url for h in one.search("scanners", limit=100)
        ]


def test_a_file_that_cannot_be_written_in_a_big_batch_commits_none_of_its_rows(tmp_path: Path) -> None:
    items = [_article(n) for n in range(80)]
    with Archive(tmp_path / "a") as archive:
        list(archive.add_many(items[:40], batch=40))
        blocker = archive.root / "bulk.example" / "post-57.md"
        blocker.mkdir()  # the rename onto it fails
        with pytest.raises(StoreError, match="post-57"):
            list(archive.add_many(items[40:], batch=40))
        assert len(archive) == 40
        assert archive.db.conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert not list((archive.root / ".tmp").iterdir())  # no temp file left behind
        blocker.rmdir()
        assert {r.status for r in archive.add_many(items[40:], batch=40)} == {"new"}
        assert len(archive) == 80
        assert {r.status for r in archive.add_many(items, batch=40)} == {"unchanged"}


def test_an_archive_from_before_0007_gets_the_tier_index_filled(tmp_path: Path) -> None:
    root = tmp_path / "old"
    with Archive(root) as archive:
        list(archive.add_many([_article(n) for n in range(30)], batch=30))
    # back to what 0001-0006 left: no tier index, no triggers for it
    db = Database(sqlite3.connect(str(root / "index.db"), isolation_level=None))
    for trigger in ("articles_head_ai", "articles_head_ad", "articles_head_au"):
        db.execute(f"drop trigger {trigger}")
    db.execute("drop table articles_head_fts")
    db.execute("delete from _sqlite_migrations where name like '0007%'")
    db.conn.close()
    with Archive(root) as archive:
        conn = archive.db.conn
        head = "select rowid from articles_head_fts where articles_head_fts match ? order by rowid"
        every = [r[0] for r in conn.execute("select id from articles order by id")]
        assert [r[0] for r in conn.execute(head, ["printers"])] == every
        assert [r[0] for r in conn.execute(head, ["post AND 7"])] == [8]
        conn.execute("insert into articles_head_fts(articles_head_fts) values ('integrity-check')")
        archive.add(_article(30))
        assert [r[0] for r in conn.execute(head, ["printers"])] == [*every, 31]


_ODD_TAGS = ["C++", "naïve café", "emoji 🙂", 'say "hi"', "back\\slash", "ünïcödé", "tab\there", "[1, 2]"]


def _linked(n: int) -> Article:
    also = [Link(url=f"https://bulk.example/also-{n}-{i}/", title=f"Also {i} «{n}»") for i in range(4)]
    return _article(
        n,
        tags=[_ODD_TAGS[(n + i) % len(_ODD_TAGS)] for i in range(n % 4)],
        categories=["Guides", f"Cat {n % 5}"][: 1 + n % 2],
        also_read=also,
        related=also[:1],
        affiliate_links=[AffiliateLink(url=f"https://amzn.to/{n}", text="Buy it", network="amazon")],
    )


def _children(archive: Archive) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    for table in ("tags", "categories", "links"):
        q = f"select a.url, t.* from {table} t join articles a on a.id = t.article_id"
        out[table] = sorted(r[:1] + r[2:] for r in archive.db.conn.execute(q))
    return out


def test_a_batch_over_the_parameter_limit_gives_the_rows_reindex_gives(tmp_path: Path) -> None:
    # 300 articles a statement-limited batch: 37 article rows and 166 link rows a statement, so the
    # multi-row inserts split; tags and categories come from the staged JSON arrays
    items = [_linked(n) for n in range(300)]
    with Archive(tmp_path / "a") as archive:
        assert {r.status for r in archive.add_many(items, batch=300)} == {"new"}
        bulk = _children(archive)
        assert len(bulk["links"]) == 300 * 6
        assert ("https://bulk.example/post-2/", "emoji 🙂", 0) in bulk["tags"]
        ids = "select url, id from articles order by id"
        assert [u for u, _ in archive.db.conn.execute(ids)] == [a.url for a in items]
        archive.reindex()  # the rows again, from the files (test_store_reindex: as a row at a time gave)
        assert _children(archive) == bulk
        # a changed batch replaces each article's children and keeps one version per change
        changed = [_linked(n) for n in range(0, 300, 2)]
        for a in changed:
            a.tags = ["replaced"]
            a.content_hash = content_hash(a.url)
        assert {r.status for r in archive.add_many(changed + items[1::2], batch=300)} == {
            "updated",
            "unchanged",
        }
        after = _children(archive)
        assert [t for t in after["tags"] if t[0] == items[2].url] == [(items[2].url, "replaced", 0)]
        assert after["links"] == bulk["links"]
        assert archive.db.conn.execute("select count(*) from versions").fetchone()[0] == 150
        seen = archive.db.conn.execute("select count(distinct last_seen) from articles").fetchone()[0]
        assert seen == 1  # the unchanged half moved last_seen too
        assert archive.db.conn.execute("pragma integrity_check").fetchone()[0] == "ok"


# add_many with more than one batch overlaps them: batch N+1 is decided and its files are written while
# batch N's rows go in. These tests stop, interrupt and race that overlap.


def _files_and_rows(archive: Archive) -> tuple[set[str], set[str]]:
    files = {str(p.relative_to(archive.root)) for p in archive.markdown_files()}
    rows = {r[0] for r in archive.db.conn.execute("select path from articles")}
    return files, rows


def test_a_consumer_that_stops_early_still_lands_the_batch_in_flight(tmp_path: Path) -> None:
    items = [_article(n) for n in range(50)]
    with Archive(tmp_path / "a") as archive:
        results = archive.add_many(items, batch=10)
        first = [next(results) for _ in range(10)]
        assert [r.status for r in first] == ["new"] * 10
        results.close()  # batch 2's files were being written: its rows land too, nothing more
        files, rows = _files_and_rows(archive)
        assert len(rows) == 20
        assert files == rows
        assert {r.status for r in archive.add_many(items, batch=10)} == {"unchanged", "new"}
        assert len(archive) == 50


def test_closing_the_archive_lands_the_batch_in_flight(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a")
    results = archive.add_many([_article(n) for n in range(30)], batch=10)
    next(results)
    archive.close()
    with Archive(tmp_path / "a") as again:
        files, rows = _files_and_rows(again)
        assert len(rows) == 20
        assert files == rows


def test_an_input_that_fails_part_way_keeps_every_batch_read_before(tmp_path: Path) -> None:
    def items() -> object:
        for n in range(100):
            if n == 35:
                raise ValueError("the source broke")
            yield _article(n)

    with Archive(tmp_path / "a") as archive:
        got: list[AddResult] = []
        with pytest.raises(ValueError, match="source broke"):
            got.extend(archive.add_many(items(), batch=10))  # type: ignore[arg-type]
        files, rows = _files_and_rows(archive)
        assert len(got) == 20  # yielded: the batches that had committed before the error
        assert len(rows) == 30  # and the one whose files were written lands all the same
        assert files == rows


def test_a_file_that_fails_leaves_no_file_of_the_batch_after_it(tmp_path: Path) -> None:
    items = [_article(n) for n in range(60)]
    with Archive(tmp_path / "a") as archive:
        archive.root.joinpath("bulk.example").mkdir(parents=True)
        blocker = archive.root / "bulk.example" / "post-25.md"
        blocker.mkdir()  # batch 2 (posts 20-39) cannot be written
        got: list[AddResult] = []
        with pytest.raises(StoreError, match="post-25"):
            got.extend(archive.add_many(items, batch=20))
        assert len(got) == 20
        files, rows = _files_and_rows(archive)
        assert len(rows) == 20
        assert not any(f.endswith(f"post-{n}.md") for f in files for n in range(40, 60))
        assert archive.db.conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert not list((archive.root / ".tmp").iterdir())
        blocker.rmdir()
        assert len([r for r in archive.add_many(items, batch=20) if r.status == "new"]) == 40


def test_another_writer_between_batches_is_seen(tmp_path: Path) -> None:
    # batch 2 is decided while batch 1 commits; another connection then adds two of its URLs, one with
    # the same content, one with other content: batch 2 is decided again and reports what add() would
    items = [_article(n) for n in range(30)]
    with Archive(tmp_path / "a") as archive:
        results = archive.add_many(items, batch=10)
        assert [next(results).status for _ in range(10)] == ["new"] * 10
        with Archive(tmp_path / "a") as other:
            other.add(_article(12))
            other.add(_article(13, "Another writer's body."))
        rest = list(results)
        assert [(r.url, r.status) for r in rest[:4]] == [
            (items[10].url, "new"),
            (items[11].url, "new"),
            (items[12].url, "unchanged"),
            (items[13].url, "updated"),
        ]
        assert {r.status for r in rest[4:]} == {"new"}
        assert archive.get(items[13].url).text == items[13].text  # type: ignore[union-attr]
        versions = archive.db.conn.execute("select content_hash from versions").fetchall()
        assert versions == [(content_hash("Another writer's body."),)]
        files, rows = _files_and_rows(archive)
        assert len(rows) == 30
        assert files == rows


def test_an_add_while_add_many_is_paused_keeps_every_result(tmp_path: Path) -> None:
    items = [_article(n) for n in range(30)]
    with Archive(tmp_path / "a") as archive:
        results = archive.add_many(items, batch=10)
        got = [next(results) for _ in range(10)]
        assert archive.add(_article(99)).status == "new"  # lands batch 2 first
        assert archive.add(_article(15, "Changed while paused.")).status == "updated"
        got += list(results)
        assert [r.url for r in got] == [a.url for a in items]
        assert [r.status for r in got] == ["new"] * 30
        assert len(archive) == 31
        assert archive.get(items[15].url).text == "Changed while paused."  # type: ignore[union-attr]


_BULK_KILLER = """
import sys
from collections import Counter
from datetime import UTC, datetime
from thresher.models import Article, content_hash
from thresher.store import Archive

def articles():
    for i in range(100_000):
        body = f"## Part {i}\\n\\n" + ("Words about disks and drivers. " * 200) + "\\n"
        url = f"https://kill.example/post-{i}/"
        yield Article(url=url, canonical_url=url, title=f"Post {i}", markdown=body, text=body, word_count=600,
                      content_hash=content_hash(body), published=datetime(2024, 1, 1, tzinfo=UTC))

with Archive(sys.argv[1]) as archive:
    for i, result in enumerate(archive.add_many(articles(), batch=50)):
        if i == 120:
            print("running", flush=True)
"""


def _killed_article(i: int) -> Article:
    """Article ``i`` as the killed writer made it."""
    body = f"## Part {i}\n\n" + ("Words about disks and drivers. " * 200) + "\n"
    return _article(
        i, body, url=f"https://kill.example/post-{i}/", canonical_url=f"https://kill.example/post-{i}/"
    )


def test_kill_9_mid_add_many_leaves_whole_files_and_at_most_two_batches_unindexed(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    root = tmp_path / "a"
    proc = subprocess.Popen(
        [sys.executable, "-c", _BULK_KILLER, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "running"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    for path in (root / "kill.example").glob("*.md"):  # every file that exists is whole
        doc = path.read_text(encoding="utf-8")
        assert doc.startswith("---\n") and doc.endswith("\n") and "Words about disks" in doc
    with Archive(root) as archive:
        assert archive.db.conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        files, rows = _files_and_rows(archive)
        assert len(rows) >= 150 and rows <= files
        assert len(files - rows) <= 100  # the two batches in flight at most
        n = len(files)
        again = [_killed_article(i) for i in range(n + 10)]
        statuses = Counter(r.status for r in archive.add_many(again, batch=50))
        assert statuses["new"] == n + 10 - len(rows)  # the unindexed files are indexed now
        files, rows = _files_and_rows(archive)
        assert files == rows and len(rows) == n + 10
