"""``reindex`` writes rows in batches; the index it builds is the one it built a row at a time."""

from __future__ import annotations

import contextlib
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from thresher.errors import PostError
from thresher.models import AffiliateLink, Article, Link, content_hash, format_datetime
from thresher.sqlite import sqlite3
from thresher.store import Archive, maintenance, rebuild_index
from thresher.store.index import INDEX_NAME, open_index
from thresher.store.rows import ARTICLE_COLUMNS, Existing, _values
from thresher.urls import canonicalize

_ODD = ["C++", "naïve café", "emoji 🙂", 'say "hi"', "back\\slash", "tab\there", "[1, 2]", "yes", "1e3", "#x"]


def _article(n: int, body: str | None = None, **kw: object) -> Article:
    url = f"https://re{n % 7}.example/post-{n}/"
    body = body if body is not None else f"## Part {n}\n\nWords about drivers and printers {n}.\n"
    also = [Link(url=f"https://re.example/also-{n}-{i}/", title=f"Also {i} «{n}» 'q'") for i in range(n % 4)]
    fields: dict[str, object] = {
        "url": url,
        "canonical_url": url,
        "title": f"Post {n}: about printers" if n % 3 else f"'{n}' yes",
        "published": datetime(2024, 1, 1 + n % 28, n % 24, 5, 7, (n % 5) * 1000, tzinfo=UTC),
        "tags": [_ODD[(n + i) % len(_ODD)] for i in range(n % 5)],
        "categories": ["Guides", f"Cat {n % 5}"][: n % 3],
        "also_read": also,
        "related": also[:1],
        "affiliate_links": [
            AffiliateLink(url=f"https://amzn.to/{n}-{i}", text=f"Buy {i}", network="amazon")
            for i in range(n % 3)
        ],
        "site_name": f"Site {n % 7}" if n % 2 else None,
        "author": "Ann O'Hara" if n % 4 == 1 else None,
        "markdown": body,
        "text": body.replace("#", "").strip(),
        "word_count": len(body.split()),
        "content_hash": content_hash(body),
    }
    return Article(**(fields | kw))  # type: ignore[arg-type]


def _snapshot(root: Path) -> dict[str, Any]:
    """Every table of the index by URL (ids left out) and what a few searches find."""
    conn = sqlite3.connect(root / INDEX_NAME)
    try:
        cols = list(ARTICLE_COLUMNS)
        out: dict[str, Any] = {
            "articles": conn.execute(f"select {', '.join(cols)} from articles order by url").fetchall()
        }
        for table in ("tags", "categories", "links", "versions"):
            q = f"select a.url, t.* from {table} t join articles a on a.id = t.article_id"
            out[table] = sorted(r[:1] + r[2:] for r in conn.execute(q))
        out["orphans"] = [
            conn.execute(
                f"select count(*) from {t} where article_id not in (select id from articles)"
            ).fetchone()
            for t in ("tags", "categories", "links", "versions")
        ]
        out["runs"] = conn.execute("select * from runs order by id").fetchall()
        for fts in ("articles_fts", "articles_head_fts"):
            for term in ("printers", "drivers", "naive", "emoji", "about AND 7", "buy", "yes", '"1e3"'):
                out[f"{fts} {term}"] = [
                    r[0]
                    for r in conn.execute(
                        f"select a.url from {fts} f join articles a on a.id = f.rowid "
                        f"where {fts} match ? order by a.url",
                        [term],
                    )
                ]
        out["fts integrity"] = conn.execute(
            "insert into articles_fts(articles_fts) values ('integrity-check')"
        ).rowcount
        out["integrity"] = conn.execute("pragma integrity_check").fetchall()
        return out
    finally:
        conn.close()


class _Ref:
    def __init__(self, file: str, offset: int, length: int) -> None:
        self.file, self.offset, self.length = file, offset, length


def _write_row(
    conn: sqlite3.Connection, article: Article, url: str, rel: str, now: str, old: Existing | None, ref: Any
) -> int:
    """The one-article upsert reindex used before it wrote rows in batches (kept here as the reference)."""
    values = _values(article, url, rel, now, old, ref)
    columns = [c for c, v in zip(ARTICLE_COLUMNS, values, strict=True) if not c.startswith("warc_") or ref]
    params = [v for c, v in zip(ARTICLE_COLUMNS, values, strict=True) if not c.startswith("warc_") or ref]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in ("url", "first_seen"))
    article_id = int(
        conn.execute(
            f"insert into articles ({', '.join(columns)}) values ({', '.join('?' * len(columns))}) "
            f"on conflict(url) do update set {updates} returning id",
            params,
        ).fetchone()[0]
    )
    if old is not None:
        for table in ("tags", "categories", "links"):
            conn.execute(f"delete from {table} where article_id = ?", [article_id])
    # each table's rows in one statement, as before: a collision adds none of them
    links = [(article_id, "also_read", i, x.url, x.title, None) for i, x in enumerate(article.also_read)]
    links += [(article_id, "related", i, x.url, x.title, None) for i, x in enumerate(article.related)]
    links += [
        (article_id, "affiliate", i, x.url, x.text, x.network) for i, x in enumerate(article.affiliate_links)
    ]
    for head, rows in (
        ("tags (article_id, tag, position)", [(article_id, t, i) for i, t in enumerate(article.tags)]),
        (
            "categories (article_id, category, position)",
            [(article_id, c, i) for i, c in enumerate(article.categories)],
        ),
        ("links (article_id, kind, position, url, title, network)", links),
    ):
        if rows:
            marks = "(" + ", ".join("?" * len(rows[0])) + ")"
            conn.execute(
                f"insert into {head} values {', '.join([marks] * len(rows))}", [v for r in rows for v in r]
            )
    return article_id


def _reindex_row_at_a_time(root: Path, now: str) -> dict[str, int]:
    """rebuild_index as it was before batches: one upsert statement per article."""
    history, versions = maintenance._old_history(root)
    run_columns, runs = maintenance._old_runs(root)
    build = root / ".rebuild"
    db = open_index(build)
    counts = Counter({"indexed": 0, "failed": 0})
    conn = db.conn
    conn.execute("BEGIN")
    for path in maintenance.markdown_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            article = Article.from_markdown(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, PostError):
            counts["failed"] += 1
            continue
        url = canonicalize(article.canonical_url)
        if not url:
            counts["failed"] += 1
            continue
        old = history.get(url)
        row = None if old is None else Existing(0, article.content_hash, rel, old[1], old[3])
        ref = _Ref(old[4], old[5], old[6]) if old is not None and old[4] else None
        try:
            _write_row(conn, article, url, rel, now, row, ref)
        except sqlite3.IntegrityError:
            counts["failed"] += 1
            continue
        if old is not None:
            conn.execute("update articles set last_seen = ? where url = ?", [old[2], url])
        counts["indexed"] += 1
    for url, chash, first_seen, replaced_at, vpath in versions:
        conn.execute(
            "insert or ignore into versions (article_id, content_hash, first_seen, replaced_at, path) "
            "select id, ?, ?, ?, ? from articles where url = ?",
            [chash, first_seen, replaced_at, vpath, url],
        )
    if runs:
        conn.executemany(
            f"insert into runs ({', '.join(run_columns)}) values ({', '.join('?' * len(run_columns))})", runs
        )
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    maintenance._swap_in(root, build / INDEX_NAME)
    with contextlib.suppress(OSError):
        build.rmdir()
    return dict(counts)


_NOW = "2030-01-01T00:00:00Z"


class _Frozen(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> _Frozen:  # type: ignore[override]
        return cls(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(maintenance, "datetime", _Frozen)
    assert format_datetime(maintenance.datetime.now(UTC)) == _NOW


def _both(src: Path, tmp_path: Path) -> tuple[dict[str, int], dict[str, int], Path, Path]:
    """Reindex two copies of ``src``: batched (rebuild_index) and one row at a time."""
    batched, single = tmp_path / "batched", tmp_path / "single"
    shutil.copytree(src, batched)
    shutil.copytree(src, single)
    return rebuild_index(batched), _reindex_row_at_a_time(single, _NOW), batched, single


def _varied_archive(root: Path) -> None:
    items = [_article(n) for n in range(300)]
    with Archive(root) as archive:
        list(archive.add_many(items, batch=120))
        # changed versions, twice for some
        for n in range(0, 300, 7):
            archive.add(_article(n, f"Changed body {n} about scanners.\n"))
        for n in range(0, 300, 21):
            archive.add(_article(n, f"Third body {n} about scanners.\n"))
        conn = archive.db.conn
        # WARC references for some, and a run
        conn.execute(
            "update articles set warc_file = 'warc/x-' || (id % 3) || '.warc.gz', warc_offset = id * 100, "
            "warc_length = id + 7 where id % 4 = 0"
        )
        conn.execute(
            "update articles set first_seen = '2020-02-0' || (id % 9 + 1) || 'T00:00:00Z', "
            "last_seen = '2021-03-0' || (id % 9 + 1) || 'T00:00:00Z' where id % 5 = 0"
        )
        conn.execute(
            "insert into runs (started, status, command) values ('2024-01-01T00:00:00Z', 'done', 'crawl')"
        )


def test_reindex_gives_the_rows_one_row_at_a_time_gave(tmp_path: Path, frozen: None) -> None:
    src = tmp_path / "src"
    _varied_archive(src)
    # files the history does not know: new rows; and a file that cannot be read or has no URL
    extra = _article(1000, tags=["new", "ünï"])
    (src / "re6.example").mkdir(exist_ok=True)
    (src / "re6.example" / "zz-new.md").write_text(extra.to_markdown(), encoding="utf-8")
    (src / "re6.example" / "zz-broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    (src / "re6.example" / "zz-nourl.md").write_text("---\ntitle: no url\n---\nbody\n", encoding="utf-8")
    (src / "re6.example" / "zz-binary.md").write_bytes(b"---\ntitle: \xff\n---\n")
    # a date YAML cannot construct: PyYAML raises ValueError, which once aborted the whole reindex
    (src / "re6.example" / "zz-feb30.md").write_text(
        "---\ntitle: T\ndate: 2024-02-30T03:04:05Z\nurl: https://re6.example/feb30/\n---\nbody\n",
        encoding="utf-8",
    )
    got, want, batched, single = _both(src, tmp_path)
    assert got == want == {"indexed": 301, "failed": 4}
    assert _snapshot(batched) == _snapshot(single)
    snap = _snapshot(batched)
    assert len(snap["versions"]) > 40 and any(r[-4] for r in snap["articles"])  # warc_file carried over


def test_reindex_in_many_batches(tmp_path: Path, frozen: None, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    _varied_archive(src)
    monkeypatch.setattr(maintenance, "REINDEX_BATCH", 7)
    got, want, batched, single = _both(src, tmp_path)
    assert got == want == {"indexed": 300, "failed": 0}
    assert _snapshot(batched) == _snapshot(single)


def _duplicates(root: Path, *, history: bool) -> tuple[Article, Article]:
    """Two files claiming one URL: ``a-first.md`` and ``b-second.md`` (sorted in that order)."""
    first = _article(1, tags=["one", "two"], categories=["First"])
    second = _article(1, "Another body.\n", title="Second", tags=["three"], categories=[])
    second.also_read = [Link(url="https://re.example/only-second/", title="S")]
    second.related = []
    second.affiliate_links = []
    with Archive(root) as archive:
        archive.add(_article(2))
        if history:
            archive.add(first)
    folder = root / "re1.example"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("post-1*.md"):
        old.unlink()
    (folder / "a-first.md").write_text(first.to_markdown(), encoding="utf-8")
    (folder / "b-second.md").write_text(second.to_markdown(), encoding="utf-8")
    if not history:
        for db in root.glob("index.db*"):
            db.unlink()
    return first, second


def _indexed(snap: dict[str, Any], url: str) -> tuple[str, str, list[str], list[str], list[str]]:
    """The title, path, tags, categories and (sorted) link URLs the index holds for ``url``."""
    row = next(r for r in snap["articles"] if r[0] == url)
    return (
        row[ARTICLE_COLUMNS.index("title")],
        row[ARTICLE_COLUMNS.index("path")],
        [t[1] for t in snap["tags"] if t[0] == url],
        [c[1] for c in snap["categories"] if c[0] == url],
        sorted(x[3] for x in snap["links"] if x[0] == url),
    )


@pytest.mark.parametrize("history", [False, True])
def test_two_files_one_url_the_first_one_gives_the_whole_row(tmp_path: Path, history: bool) -> None:
    # neither file is at the URL's own path (post-1.md): the first in sorted order is indexed, all of it
    # (one row at a time used to take the later file's row and, without history, keep the earlier
    # file's tags under it); the other counts as failed
    src = tmp_path / "src"
    first, _ = _duplicates(src, history=history)
    assert rebuild_index(src) == {"indexed": 2, "failed": 1}
    snap = _snapshot(src)
    assert snap["orphans"] == [(0,)] * 4
    assert _indexed(snap, first.url) == (
        first.title,
        "re1.example/a-first.md",
        ["one", "two"],
        ["First"],
        sorted([x.url for x in first.also_read + first.related] + [x.url for x in first.affiliate_links]),
    )


def test_two_files_one_url_the_one_at_its_own_path_wins(tmp_path: Path) -> None:
    src = tmp_path / "src"
    first, second = _duplicates(src, history=True)
    folder = src / "re1.example"
    (folder / "b-second.md").rename(folder / "post-1.md")  # where the archive writes that URL
    (folder / "a-first.md").rename(folder / "0-first.md")  # sorts before it
    assert rebuild_index(src) == {"indexed": 2, "failed": 1}
    snap = _snapshot(src)
    assert _indexed(snap, first.url) == (
        "Second",
        "re1.example/post-1.md",
        ["three"],
        [],
        ["https://re.example/only-second/"],
    )
    assert snap["orphans"] == [(0,)] * 4
    row = next(r for r in snap["articles"] if r[0] == first.url)
    assert row[ARTICLE_COLUMNS.index("content_hash")] == second.content_hash


def test_copies_of_files_change_nothing_in_one_batch_or_across_batches(
    tmp_path: Path, frozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    _varied_archive(src)
    clean = tmp_path / "clean"
    shutil.copytree(src, clean)
    assert rebuild_index(clean) == {"indexed": 300, "failed": 0}
    # copies of some files under other names, sorting before and after them: the same URL claimed three
    # times, near and far apart; the file at the URL's own path keeps its row either way
    copied = sorted(src.glob("re3.example/*.md"))[::5]
    for path in copied:
        shutil.copy(path, path.with_name("0-" + path.name))
        shutil.copy(path, path.with_name("zz-" + path.name))
    for batch in (3, 2000):
        monkeypatch.setattr(maintenance, "REINDEX_BATCH", batch)
        copy = tmp_path / str(batch)
        shutil.copytree(src, copy)
        assert rebuild_index(copy) == {"indexed": 300, "failed": 2 * len(copied)}
        assert _snapshot(copy) == _snapshot(clean)


def test_a_batch_that_breaks_a_constraint_is_undone_and_written_a_row_at_a_time(
    tmp_path: Path, frozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    _varied_archive(src)
    real = maintenance.write_rows

    def breaking(conn: sqlite3.Connection, rows: Any, now: str) -> list[int]:
        ids = real(conn, rows, now)  # written, then refused: the savepoint must take it all back
        if len(rows) > 1:
            raise sqlite3.IntegrityError("UNIQUE constraint failed")
        return ids

    monkeypatch.setattr(maintenance, "write_rows", breaking)
    monkeypatch.setattr(maintenance, "REINDEX_BATCH", 50)
    got, want, batched, single = _both(src, tmp_path)
    assert got == want == {"indexed": 300, "failed": 0}
    assert _snapshot(batched) == _snapshot(single)
