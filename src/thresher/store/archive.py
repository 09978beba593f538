"""The archive: Markdown files (the source of truth), the SQLite index, and the raw responses (WARC).

Layout under the archive root::

    <host>/<slug>.md        one article per file, Article.to_markdown()
    index.db                SQLite index + FTS5 (rebuildable from the files)
    warc/*.warc.gz          raw HTTP responses, for re-processing without re-crawling

Writes are atomic: the file goes to a temp file and is renamed into place, then the index is updated in
one transaction. Re-adding unchanged content rewrites nothing (``last_seen`` lives only in the index).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ArchiveBusy, PostError, StoreError, ThresherError
from ..files import atomic_write
from ..models import AddResult, AddStatus, Article, SearchHit, format_datetime, parse_yaml_datetime
from ..search_query import QueryBuilder
from ..urls import canonicalize, host_of
from .index import FTS_COLUMNS, INDEX_NAME, open_index
from .maintenance import markdown_files, rebuild_index, reprocess
from .paths import article_path, resolve_inside
from .warc import RawResponse, WarcRef, WarcStore

__all__ = ["Archive"]


# A temp file older than this belongs to a writer that died (writes take milliseconds).
_STALE_SECONDS = 600


def _clear_stale(folder: Path) -> None:
    """Remove temp files left by a killed writer."""
    cutoff = datetime.now(UTC).timestamp() - _STALE_SECONDS
    for leftover in folder.glob("*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()


def _now() -> str:
    return format_datetime(datetime.now(UTC))


def _iso(value: datetime | None) -> str | None:
    return format_datetime(value) if value else None


class Archive:
    """A thresher archive folder. Use as a context manager, or call :meth:`close`.

    Args:
        path: the archive folder (created when missing).
        create: create the folder and index when missing (False: raise StoreError instead).
    """

    def __init__(self, path: str | os.PathLike[str] = "archive", *, create: bool = True) -> None:
        self.root = Path(path)
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.root} is not a folder")
        self.db = open_index(self.root, create=create)
        self.warc = WarcStore(self.root / "warc")
        # temp files live in one folder, so what a killed writer leaves behind is easy to find and clear
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(exist_ok=True)
        self._folders: set[Path] = set()  # host folders known to exist (saves a mkdir per article)
        _clear_stale(self._tmp)
        self._queries = QueryBuilder(FTS_COLUMNS)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the index connection."""
        with contextlib.suppress(sqlite3.Error):
            self.db.conn.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise ArchiveBusy(
                f"{self.root / INDEX_NAME} is locked by another writer; try again later"
            ) from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    # ------------------------------------------------------------------ writing

    def add(
        self, article: Article, raw: RawResponse | None = None, *, ref: WarcRef | None = None
    ) -> AddResult:
        """Archive one article (and its raw response); returns new / updated / unchanged.

        ``raw`` is written to the WARC store; ``ref`` points at a response already stored there.

        Raises:
            StoreError: the article has no URL, or the file or index cannot be written.
        """
        with self._transaction() as conn:
            return self._add(conn, article, raw, ref)

    def add_many(
        self, items: Iterable[Article | tuple[Article, RawResponse | None]], *, batch: int = 500
    ) -> Iterator[AddResult]:
        """Archive many articles, ``batch`` per index transaction (bulk imports and benchmarks).

        Each file is still written atomically before its row; a crash loses at most the open batch's
        rows, which the next run (or ``reindex``) restores from the files.
        """
        pending: list[Article | tuple[Article, RawResponse | None]] = []
        for item in items:
            pending.append(item)
            if len(pending) >= batch:
                yield from self._add_batch(pending)
                pending = []
        if pending:
            yield from self._add_batch(pending)

    def _add_batch(self, items: list[Article | tuple[Article, RawResponse | None]]) -> list[AddResult]:
        with self._transaction() as conn:
            return [
                self._add(conn, *(item if isinstance(item, tuple) else (item, None)), None) for item in items
            ]

    def _add(
        self, conn: sqlite3.Connection, article: Article, raw: RawResponse | None, ref: WarcRef | None
    ) -> AddResult:
        url = canonicalize(article.canonical_url or article.url)
        if not url:
            raise StoreError("cannot archive an article without a URL")
        rel = str(article_path(url))
        now = _now()
        row = conn.execute(
            "select id, content_hash, path, first_seen, last_changed from articles where url = ?", [url]
        ).fetchone()
        target = resolve_inside(self.root, rel)
        if row is not None and row[1] == article.content_hash and row[2] == rel and target.exists():
            conn.execute("update articles set last_seen = ? where id = ?", [now, row[0]])
            return AddResult(status="unchanged", url=url, path=rel)
        document = article.to_markdown()
        try:
            if target.parent not in self._folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._folders.add(target.parent)
            atomic_write(target, document, fsync=False, tmp_dir=self._tmp)
        except (OSError, ThresherError) as exc:
            raise StoreError(f"cannot write {target}: {exc}") from exc
        if raw is not None:
            ref = self.warc.write(raw)
        status: AddStatus = (
            "new" if row is None else ("updated" if row[1] != article.content_hash else "unchanged")
        )
        article_id = _write_row(conn, article, url, rel, now, row, ref)
        if row is not None and row[1] != article.content_hash:
            conn.execute(
                "insert or ignore into versions "
                "(article_id, content_hash, first_seen, replaced_at, path) values (?, ?, ?, ?, ?)",
                [article_id, row[1], row[4], now, row[2]],
            )
        if row is not None and row[2] != rel:
            with contextlib.suppress(OSError, ThresherError):
                resolve_inside(self.root, row[2]).unlink()
        return AddResult(status=status, url=url, path=rel)

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return int(self.db.conn.execute("select count(*) from articles").fetchone()[0])

    def get(self, url_or_path: str) -> Article | None:
        """The archived article for a URL (any spelling of it) or an archive-relative path, else None."""
        row = self.db.conn.execute(
            "select path from articles where url = ? or path = ?", [canonicalize(url_or_path), url_or_path]
        ).fetchone()
        rel = row[0] if row is not None else None
        if rel is None:
            candidate = Path(url_or_path)
            with contextlib.suppress(ThresherError, OSError, ValueError):
                if candidate.suffix == ".md" and candidate.resolve().is_relative_to(self.root.resolve()):
                    rel = str(candidate.resolve().relative_to(self.root.resolve()))
        if rel is None:
            return None
        try:
            return Article.from_markdown(resolve_inside(self.root, rel).read_text(encoding="utf-8"))
        except (OSError, PostError) as exc:
            raise StoreError(f"cannot read {rel}: {exc}") from exc

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        site: str | None = None,
        tag: str | None = None,
        category: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        lang: str | None = None,
    ) -> list[SearchHit]:
        """Full-text search, bm25-ranked with the title weighted above the body.

        Any text is a valid query: FTS5 syntax is used when well-formed, plain terms otherwise.
        """
        fts = self._queries.build(query)
        if fts is None:
            return []
        where = ["articles_fts match ?"]
        params: list[Any] = [fts.expression]
        if site:
            where.append("(a.site = ? or a.site_name = ?)")
            params += [site.lower(), site]
        if tag:
            where.append("a.id in (select article_id from tags where tag = ? collate nocase)")
            params.append(tag)
        if category:
            where.append("a.id in (select article_id from categories where category = ? collate nocase)")
            params.append(category)
        if since:
            where.append("a.published >= ?")
            params.append(format_datetime(since))
        if until:
            where.append("a.published <= ?")
            params.append(format_datetime(until))
        if lang:
            where.append("(a.lang = ? or a.lang like ?)")
            params += [lang, f"{lang}-%"]
        # "order by rank" lets FTS5 sort internally (rank is bm25 with the title weighted highest, set in
        # migration 0004) and compute snippet() only for the rows returned
        sql = (
            "select a.url, a.title, a.site, a.published, a.path, "
            "snippet(articles_fts, -1, '**', '**', '…', 16), -articles_fts.rank "
            "from articles_fts join articles a on a.id = articles_fts.rowid "
            f"where {' and '.join(where)} order by articles_fts.rank limit ?"
        )
        params.append(max(1, min(int(limit), 10_000)))
        try:
            rows = self.db.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"search failed: {exc}") from exc
        return [
            SearchHit(
                url=r[0],
                title=r[1] or "",
                site=r[2] or "",
                published=parse_yaml_datetime(r[3]),
                snippet=" ".join((r[5] or "").split()),
                score=round(float(r[6]), 6),
                path=r[4],
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ maintenance

    def markdown_files(self) -> list[Path]:
        """Every article file under the archive root (warc/ and logs/ skipped), in a stable order."""
        return markdown_files(self.root)

    def reindex(self) -> dict[str, int]:
        """Rebuild ``index.db`` from the Markdown files (see :func:`rebuild_index`)."""
        self.close()
        try:
            return rebuild_index(self.root)
        finally:
            self.db = open_index(self.root)

    def reprocess(self, *, site: str | None = None) -> dict[str, int]:
        """Re-extract every stored raw page with the current extractor; counts per outcome."""
        return reprocess(self, site=site)

    def stats(self) -> dict[str, Any]:
        """Articles per site, top tags, date range, index and file sizes."""
        conn = self.db.conn
        sites = conn.execute(
            "select site, count(*) from articles group by site order by count(*) desc, site"
        ).fetchall()
        tags = conn.execute(
            "select tag, count(*) from tags group by tag order by count(*) desc, tag limit 20"
        ).fetchall()
        first, last = conn.execute("select min(published), max(published) from articles").fetchone()
        index_bytes = sum(p.stat().st_size for p in self.root.glob(f"{INDEX_NAME}*") if p.is_file())
        files = list(self.markdown_files())
        warc_bytes = sum(p.stat().st_size for p in (self.root / "warc").glob("*.warc*") if p.is_file())
        return {
            "articles": len(self),
            "sites": [{"site": s, "articles": n} for s, n in sites],
            "top_tags": [{"tag": t, "articles": n} for t, n in tags],
            "published_from": first,
            "published_to": last,
            "index_bytes": index_bytes,
            "markdown_files": len(files),
            "markdown_bytes": sum(p.stat().st_size for p in files),
            "warc_bytes": warc_bytes,
        }


def _write_row(
    conn: sqlite3.Connection, article: Article, url: str, rel: str, now: str, row: Any, ref: Any
) -> int:
    """Insert or update the article's row and its tags, categories and links; return its id.

    ``row`` is the existing (id, content_hash, path, first_seen, last_changed) or None.
    """
    changed = row is None or row[1] != article.content_hash
    values = {
        "url": url,
        "site": host_of(url),
        "site_name": article.site_name,
        "kind": article.kind,
        "title": article.title,
        "author": article.author,
        "published": _iso(article.published),
        "updated": _iso(article.updated),
        "description": article.description,
        "excerpt": article.excerpt,
        "lang": article.lang,
        "thumbnail": article.thumbnail,
        "tags": json.dumps(article.tags, ensure_ascii=False),
        "categories": json.dumps(article.categories, ensure_ascii=False),
        "keywords": json.dumps(article.keywords, ensure_ascii=False),
        "word_count": article.word_count,
        "content_hash": article.content_hash,
        "profile": article.profile,
        "path": rel,
        "source_url": article.url,
        "first_seen": row[3] if row is not None else now,
        "last_seen": now,
        "last_changed": now if changed else row[4],
        "text": article.text,
    }
    if ref is not None:
        values |= {"warc_file": ref.file, "warc_offset": ref.offset, "warc_length": ref.length}
    columns = list(values)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in ("url", "first_seen"))
    article_id = int(
        conn.execute(
            f"insert into articles ({', '.join(columns)}) values ({', '.join('?' * len(columns))}) "
            f"on conflict(url) do update set {updates} returning id",
            list(values.values()),
        ).fetchone()[0]
    )
    if row is not None:  # a new article has no old tags, categories or links to clear
        for table in ("tags", "categories", "links"):
            conn.execute(f"delete from {table} where article_id = ?", [article_id])
    conn.executemany(
        "insert into tags (article_id, tag, position) values (?, ?, ?)",
        [(article_id, tag, i) for i, tag in enumerate(article.tags)],
    )
    conn.executemany(
        "insert into categories (article_id, category, position) values (?, ?, ?)",
        [(article_id, cat, i) for i, cat in enumerate(article.categories)],
    )
    links: list[tuple[int, str, int, str, str, str | None]] = [
        (article_id, "also_read", i, x.url, x.title, None) for i, x in enumerate(article.also_read)
    ]
    links += [(article_id, "related", i, x.url, x.title, None) for i, x in enumerate(article.related)]
    links += [
        (article_id, "affiliate", i, x.url, x.text, x.network) for i, x in enumerate(article.affiliate_links)
    ]
    conn.executemany(
        "insert into links (article_id, kind, position, url, title, network) values (?, ?, ?, ?, ?, ?)", links
    )
    return article_id
