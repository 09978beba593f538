"""Rebuilding the index from the Markdown files, and re-extracting stored raw pages."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import PostError, StoreError, ThresherError
from ..models import Article, format_datetime
from ..sqlite import sqlite3
from ..urls import canonicalize
from .index import INDEX_NAME, open_index
from .paths import article_path
from .rows import Existing, PendingRow, write_rows

if TYPE_CHECKING:
    from .archive import Archive

__all__ = ["markdown_files", "rebuild_index", "reprocess"]

_SKIP_DIRS = frozenset({"warc", "logs"})
_HISTORY_COLUMNS = (
    "url",
    "first_seen",
    "last_seen",
    "last_changed",
    "warc_file",
    "warc_offset",
    "warc_length",
)
# articles a write_rows call when reindexing: one upsert statement (and one FTS5 segment) a batch
REINDEX_BATCH = 2000
_History = dict[str, tuple[Any, ...]]


def markdown_files(root: Path) -> list[Path]:
    """Every article file under ``root`` (warc/, logs/ and hidden folders skipped), sorted."""
    return sorted(
        md
        for host in root.iterdir()
        if host.is_dir() and host.name not in _SKIP_DIRS and not host.name.startswith(".")
        for md in host.glob("*.md")
    )


def _old_runs(root: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The run history (``thresher runs``) of a readable current index: the files do not hold it."""
    if not (root / INDEX_NAME).exists():
        return [], []
    try:
        db = open_index(root, create=False)
    except ThresherError:
        return [], []
    try:
        cursor = db.conn.execute("select * from runs order by id")
        return [d[0] for d in cursor.description], cursor.fetchall()
    except sqlite3.Error:
        return [], []
    finally:
        db.conn.close()


def _old_history(root: Path) -> tuple[_History, list[tuple[Any, ...]]]:
    """Dates and WARC references per URL, and versions, from the current index when it is readable."""
    path = root / INDEX_NAME
    if not path.exists():
        return {}, []
    try:
        db = open_index(root, create=False)
    except ThresherError:
        return {}, []  # damaged or foreign: nothing to carry over, and it stays untouched
    try:
        rows = db.conn.execute(f"select {', '.join(_HISTORY_COLUMNS)} from articles").fetchall()
        versions = db.conn.execute(
            "select a.url, v.content_hash, v.first_seen, v.replaced_at, v.path "
            "from versions v join articles a on a.id = v.article_id"
        ).fetchall()
        return {r[0]: tuple(r) for r in rows}, list(versions)
    finally:
        db.conn.close()


def _restore_last_seen(conn: sqlite3.Connection, rows: Sequence[PendingRow], history: _History) -> None:
    """Put back the ``last_seen`` of the old index on ``rows`` (the upsert set it to now)."""
    moved = {p.url: history[p.url][2] for p in rows if p.url in history}
    if moved:
        conn.execute(
            "update articles set last_seen = j.value from json_each(?) j where articles.url = j.key",
            [json.dumps(moved, ensure_ascii=False)],
        )


def _write_one(
    conn: sqlite3.Connection, row: PendingRow, history: _History, now: str, counts: Counter[str]
) -> None:
    """One article's row, as reindex wrote each row before batches; a constraint it breaks fails it."""
    try:
        write_rows(conn, [row], now)
    except sqlite3.IntegrityError:
        counts["failed"] += 1
        return
    _restore_last_seen(conn, [row], history)
    counts["indexed"] += 1


def _write_batch(
    conn: sqlite3.Connection, rows: list[PendingRow], history: _History, now: str, counts: Counter[str]
) -> None:
    """``rows`` (distinct URLs, none in the index yet) in one :func:`write_rows`.

    Such rows break no constraint; should one still, the batch is undone and written a row at a time,
    so the rows and counts are the ones one upsert per article gave.
    """
    if not rows:
        return
    conn.execute("SAVEPOINT reindex_batch")
    try:
        write_rows(conn, rows, now)
    except sqlite3.IntegrityError:
        conn.execute("ROLLBACK TO reindex_batch")
        conn.execute("RELEASE reindex_batch")
        for row in rows:
            _write_one(conn, row, history, now, counts)
        return
    conn.execute("RELEASE reindex_batch")
    _restore_last_seen(conn, rows, history)
    counts["indexed"] += len(rows)


def rebuild_index(root: Path) -> dict[str, int]:
    """Build a fresh ``index.db`` from the Markdown files, then swap it in.

    The new index is built beside the old one and renamed over it only when complete, so a crash leaves
    the old index in place. A damaged or foreign old index is kept as ``index.db.damaged-<time>``, never
    overwritten. History (first_seen, versions, WARC references) is carried over from a readable old index.

    Rows go in :data:`REINDEX_BATCH` files a statement. One file gives a URL its row, with its tags,
    categories and links: the file at the URL's own path (where the archive writes it) when it is one of
    them, else the first in sorted order. Any other file claiming that URL counts as failed (``thresher
    doctor`` lists it as a file without its row).

    Returns:
        counts: ``indexed`` and ``failed``.
    """

    if not root.is_dir():
        raise StoreError(f"{root} is not an archive folder")
    history, versions = _old_history(root)
    run_columns, runs = _old_runs(root)
    build = root / ".rebuild"
    with contextlib.suppress(FileNotFoundError):
        for leftover in build.iterdir():
            leftover.unlink()
    db = open_index(build)
    counts = Counter({"indexed": 0, "failed": 0})
    now = format_datetime(datetime.now(UTC))
    conn = db.conn
    conn.execute("BEGIN")
    try:
        batch: list[PendingRow] = []
        claimed: dict[str, str] = {}  # URL -> the file its row comes from
        for path in markdown_files(root):
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
            ref = None
            if old is not None and old[4]:
                ref = _Ref(old[4], old[5], old[6])
            holder = claimed.get(url)
            if holder is None:
                claimed[url] = rel
                batch.append(PendingRow(article, url, rel, row, ref))
                if len(batch) >= REINDEX_BATCH:
                    _write_batch(conn, batch, history, now, counts)
                    batch = []
                continue
            # a second file claims the URL: the earlier claim stays, unless this file is at the URL's own path
            own = str(article_path(url))
            if rel != own or holder == own:
                counts["failed"] += 1
                continue
            # its row, tags, categories and links replace the other file's, which is then the one not indexed
            _write_batch(conn, batch, history, now, counts)
            batch = []
            found = conn.execute("select id from articles where url = ?", [url]).fetchone()
            if found is not None:  # (None: the other file's row was never written, and counted failed)
                counts["indexed"] -= 1
                counts["failed"] += 1
                replaced = row or Existing(0, article.content_hash, rel, now, now)
                row = dataclasses.replace(replaced, id=found[0])
            claimed[url] = rel
            _write_one(conn, PendingRow(article, url, rel, row, ref), history, now, counts)
        _write_batch(conn, batch, history, now, counts)
        for url, content_hash, first_seen, replaced_at, vpath in versions:
            conn.execute(
                "insert or ignore into versions (article_id, content_hash, first_seen, replaced_at, path) "
                "select id, ?, ?, ?, ? from articles where url = ?",
                [content_hash, first_seen, replaced_at, vpath, url],
            )
        if runs:
            conn.executemany(
                f"insert into runs ({', '.join(run_columns)}) values ({', '.join('?' * len(run_columns))})",
                runs,
            )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
    except BaseException:
        conn.execute("ROLLBACK")
        conn.close()
        raise
    conn.close()
    _swap_in(root, build / INDEX_NAME)
    with contextlib.suppress(OSError):
        build.rmdir()
    return dict(counts)


class _Ref:
    """A WARC reference carried over from the old index."""

    __slots__ = ("file", "length", "offset")

    def __init__(self, file: str, offset: int, length: int) -> None:
        self.file, self.offset, self.length = file, offset, length


def _swap_in(root: Path, new: Path) -> None:
    """Replace ``root/index.db`` with ``new``; a damaged or foreign old index is renamed aside."""
    target = root / INDEX_NAME
    if target.exists():
        try:
            db = open_index(root, create=False)
            db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.conn.close()
            healthy = True
        except ThresherError:
            healthy = False
        if not healthy:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            os.replace(target, root / f"{INDEX_NAME}.damaged-{stamp}")
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            (root / f"{INDEX_NAME}{suffix}").unlink()
    os.replace(new, target)


def reprocess(archive: Archive, *, site: str | None = None) -> dict[str, int]:
    """Re-extract every stored raw page (the newest response per URL) and update what changed."""
    from ..extract import extract

    latest: dict[str, tuple[Any, Any]] = {}
    for ref, raw in archive.warc:
        if raw.status != 200:
            continue
        url = canonicalize(raw.url)
        if site and site.lower() not in (url.split("/")[2] if "//" in url else ""):
            continue
        known = latest.get(url)
        if known is None or raw.fetched_at >= known[1].fetched_at:
            latest[url] = (ref, raw)
    counts: Counter[str] = Counter()
    for _url, (ref, raw) in sorted(latest.items()):
        try:
            article = extract(raw.body, raw.url)
        except ThresherError:
            counts["failed"] += 1
            continue
        if article.kind != "article":
            counts["not_article"] += 1
            continue
        result = archive.add(article, ref=ref)
        counts[result.status] += 1
    return dict(counts)
