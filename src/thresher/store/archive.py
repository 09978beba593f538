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
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ArchiveBusy, PostError, StoreError, ThresherError
from ..files import atomic_write
from ..models import AddResult, AddStatus, Article, SearchHit, format_datetime
from ..search_query import QueryBuilder
from ..sqlite import sqlite3
from ..urls import canonicalize
from .frontmatter import render_document
from .index import FTS_COLUMNS, INDEX_NAME, open_index
from .maintenance import markdown_files, rebuild_index, reprocess
from .paths import article_path, resolve_inside
from .rows import Existing, PendingRow, write_rows
from .search import Filters, search_index
from .warc import Response, WarcRef, WarcStore

__all__ = ["Archive"]

_Item = tuple[Article, "Response | None", "WarcRef | None"]
_Prepared = tuple[Article, "Response | None", "WarcRef | None", str, str]  # + canonical URL, path


# Articles per index transaction in add_many. Each commit rewrites most leaf pages of the FTS5 segments and
# b-trees it touched, so fewer, larger transactions cost less an article: at 100,000 articles, 2,000 a
# batch built at 2,168/s (574 µs of CPU an article) against 1,445/s (817 µs) at 500.
BULK_BATCH = 2_000

# A temp file older than this belongs to a writer that died (writes take milliseconds).
_STALE_SECONDS = 600
# From this many files in one chunk, they are written on the archive's file thread while the index rows
# go in (below that, handing them over costs more than it saves).
_FILE_THREAD_MIN = 16


def _clear_stale(folder: Path) -> None:
    """Remove temp files left by a killed writer."""
    cutoff = datetime.now(UTC).timestamp() - _STALE_SECONDS
    for leftover in folder.glob("*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()


def _now() -> str:
    return format_datetime(datetime.now(UTC))


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
        self._folders: dict[str, Path] = {}  # host folders made and confined (saves a mkdir + resolve each)
        _clear_stale(self._tmp)
        self._queries = QueryBuilder(FTS_COLUMNS)
        self._file_thread: ThreadPoolExecutor | None = None  # made on the first big batch

    def _files_executor(self) -> ThreadPoolExecutor:
        if self._file_thread is None:
            self._file_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="thresher-files")
        return self._file_thread

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the index connection."""
        if self._file_thread is not None:
            self._file_thread.shutdown(wait=True)
            self._file_thread = None
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

    def add(self, article: Article, raw: Response | None = None, *, ref: WarcRef | None = None) -> AddResult:
        """Archive one article (and its raw response); returns new / updated / unchanged.

        ``raw`` is written to the WARC store (as given, when already encoded by
        :func:`~thresher.store.warc.encode_response`); ``ref`` points at a response already stored there.

        Raises:
            StoreError: the article has no URL, or the file or index cannot be written.
        """
        return self._add_batch([(article, raw, ref)])[0]

    def add_many(
        self, items: Iterable[Article | tuple[Article, Response | None]], *, batch: int = BULK_BATCH
    ) -> Iterator[AddResult]:
        """Archive many articles, ``batch`` per index transaction (bulk imports and benchmarks).

        A batch's files are each written atomically first, then its rows in one transaction; a crash
        loses at most the open batch's rows, which the next run (or ``reindex``) restores from the files.
        Results come a batch at a time.
        """
        pending: list[_Item] = []
        for item in items:
            pending.append((*item, None) if isinstance(item, tuple) else (item, None, None))
            if len(pending) >= batch:
                yield from self._add_batch(pending)
                pending = []
        if pending:
            yield from self._add_batch(pending)

    def _add_batch(self, items: list[_Item]) -> list[AddResult]:
        """Add ``items`` in one transaction, in order (a URL given twice is added twice, in turn)."""
        prepared: list[_Prepared] = []
        for article, raw, ref in items:
            url = canonicalize(article.canonical_url or article.url)
            if not url:
                raise StoreError("cannot archive an article without a URL")
            prepared.append((article, raw, ref, url, str(article_path(url))))
        results: list[AddResult] = []
        with self._transaction() as conn:
            now = _now()
            start = 0
            seen: set[str] = set()
            for i, (*_, url, _rel) in enumerate(prepared):
                if url in seen:  # the second add of a URL must see the first one's row
                    results += self._add_chunk(conn, prepared[start:i], now)
                    start, seen = i, set()
                seen.add(url)
            results += self._add_chunk(conn, prepared[start:], now)
        return results

    def _add_chunk(self, conn: sqlite3.Connection, chunk: list[_Prepared], now: str) -> list[AddResult]:
        """Write the files of ``chunk`` (distinct URLs), then its rows; inside the caller's transaction."""
        found = {
            r[0]: Existing(*r[1:])
            for r in conn.execute(
                "select url, id, content_hash, path, first_seen, last_changed from articles "
                "where url in (select value from json_each(?))",
                [json.dumps([p[3] for p in chunk])],
            )
        }
        results: list[AddResult] = []
        pending: list[PendingRow] = []
        unchanged: list[int] = []
        stale: list[str] = []
        files: list[tuple[Path, Article]] = []
        for article, raw, ref, url, rel in chunk:
            old = found.get(url)
            target = self._target(rel)
            same = old is not None and old.content_hash == article.content_hash
            if old is not None and same and old.path == rel and target.exists():
                unchanged.append(old.id)
                results.append(AddResult(status="unchanged", url=url, path=rel))
                continue
            files.append((target, article))
            if raw is not None:
                ref = self.warc.write(raw)
            status: AddStatus = "new" if old is None else ("unchanged" if same else "updated")
            if old is not None and old.path != rel:
                stale.append(old.path)
            pending.append(PendingRow(article, url, rel, old, ref))
            results.append(AddResult(status=status, url=url, path=rel))
        if len(files) < _FILE_THREAD_MIN:
            self._write_files(files)
            self._write_index(conn, pending, unchanged, now)
        else:
            # The files are written on the file thread while the rows go into the index here: FTS5 and
            # the file system calls release the GIL, so on two cores the two overlap (a third less time
            # for a bulk add). The transaction commits only after every file is in place, so the crash
            # contract is the one of writing them first: files, then the rows that point at them.
            writing = self._files_executor().submit(self._write_files, files)
            try:
                self._write_index(conn, pending, unchanged, now)
            except BaseException:
                with contextlib.suppress(Exception):
                    writing.result()  # let the thread finish before the rollback; its error is secondary
                raise
            writing.result()
        written = {p.path for p in pending}
        for rel in stale:  # a path another article of this chunk now uses is that article's file
            if rel not in written:
                with contextlib.suppress(OSError, ThresherError):
                    resolve_inside(self.root, rel).unlink()
        return results

    def _write_files(self, files: Sequence[tuple[Path, Article]]) -> None:
        """Write each article's document atomically (temp file in the archive's temp folder + rename)."""
        for target, article in files:
            try:
                atomic_write(target, render_document(article), fsync=False, tmp_dir=self._tmp)
            except (OSError, ThresherError) as exc:
                raise StoreError(f"cannot write {target}: {exc}") from exc

    @staticmethod
    def _write_index(
        conn: sqlite3.Connection, pending: list[PendingRow], unchanged: list[int], now: str
    ) -> None:
        write_rows(conn, pending, now)
        if unchanged:  # one statement, not one step a row (see rows.py)
            conn.execute(
                "update articles set last_seen = ? where id in (select value from json_each(?))",
                [now, json.dumps(unchanged)],
            )

    def _target(self, rel: str) -> Path:
        """The file for ``rel`` (``<host>/<name>.md`` from article_path), its folder made and checked once.

        The host folder is resolved and confined to the archive the first time (a symlink planted
        there to escape is refused); the name is a single plain component, and atomic_write's rename
        replaces a symlink rather than writing through it.
        """
        host, _, name = rel.partition("/")
        folder = self._folders.get(host)
        if folder is None or "/" in name or name in ("", ".", ".."):
            target = resolve_inside(self.root, rel)
            if "/" in name or name in ("", ".", ".."):
                return target
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot write {target}: {exc}") from exc
            folder = resolve_inside(self.root, host)
            self._folders[host] = folder
        return folder / name

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
        filters = Filters(site=site, tag=tag, category=category, since=since, until=until, lang=lang)
        return search_index(self.db.conn, fts.expression, filters, limit)

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
