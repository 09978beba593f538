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
import itertools
import json
import os
from collections.abc import Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
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


@dataclass(slots=True)
class _Plan:
    """One chunk of distinct URLs decided against the index: what each add reports and what to write."""

    now: str
    prepared: list[_Prepared] = field(default_factory=list)  # the chunk, raw responses already stored
    results: list[AddResult] = field(default_factory=list)
    pending: list[PendingRow] = field(default_factory=list)  # rows to upsert
    unchanged: list[int] = field(default_factory=list)  # ids whose last_seen moves
    stale: list[str] = field(default_factory=list)  # files articles moved away from
    files: list[tuple[Path, Article]] = field(default_factory=list)
    writing: Future[None] | None = None  # the files on the file thread
    landed: bool = False  # its rows are committed

    def redo(self, fresh: _Plan) -> None:
        """Take the decisions of ``fresh`` (the same chunk decided again)."""
        self.prepared, self.results, self.pending = fresh.prepared, fresh.results, fresh.pending
        self.unchanged, self.stale, self.files = fresh.unchanged, fresh.stale, fresh.files

    @property
    def targets(self) -> list[Path]:
        return [target for target, _ in self.files]


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
        self._ahead: _Plan | None = None  # add_many's batch whose files are written, rows not yet
        self._ahead_version = 0  # data_version when that batch was decided

    def _files_executor(self) -> ThreadPoolExecutor:
        if self._file_thread is None:
            self._file_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="thresher-files")
        return self._file_thread

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the index connection (after landing a batch add_many left in flight)."""
        if self._ahead is not None:
            with contextlib.suppress(ThresherError, sqlite3.Error):
                self._land_ahead()
            self._drop_ahead()
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
    ) -> Generator[AddResult, None, None]:
        """Archive many articles, ``batch`` per index transaction (bulk imports and benchmarks).

        Every file is written atomically before the transaction that adds its row commits. With more
        than one batch, the work overlaps: while one batch's rows go in and commit, the file thread
        is already writing the next batch's files (decided against the index as the previous batch
        left it; if another writer commits in between, the batch is decided again). A crash loses at
        most the rows of the two batches in flight, which the next run (or ``reindex``) restores from
        their files. Results come a batch at a time; a consumer that stops early still gets the batch
        whose files are written landed in the index.
        """
        batches = self._batches(items, batch)
        first = next(batches, None)
        if first is None:
            return
        second = next(batches, None)
        if second is None:  # one batch (the crawl's writer): one transaction, nothing to overlap
            yield from self._add_prepared(first)
            return
        yield from self._pipelined(itertools.chain((first, second), batches))

    def _batches(
        self, items: Iterable[Article | tuple[Article, Response | None]], size: int
    ) -> Iterator[list[_Prepared]]:
        """``items`` in batches of ``size``, each prepared (canonical URL and path) as it fills."""
        pending: list[_Item] = []
        for item in items:
            pending.append((*item, None) if isinstance(item, tuple) else (item, None, None))
            if len(pending) >= size:
                yield self._prepare(pending)
                pending = []
        if pending:
            yield self._prepare(pending)

    @staticmethod
    def _prepare(items: list[_Item]) -> list[_Prepared]:
        """Each item with its canonical URL and archive path."""
        prepared: list[_Prepared] = []
        for article, raw, ref in items:
            url = canonicalize(article.canonical_url or article.url)
            if not url:
                raise StoreError("cannot archive an article without a URL")
            prepared.append((article, raw, ref, url, str(article_path(url))))
        return prepared

    def _add_batch(self, items: list[_Item]) -> list[AddResult]:
        """Add ``items`` in one transaction, in order (a URL given twice is added twice, in turn)."""
        return self._add_prepared(self._prepare(items))

    def _add_prepared(self, prepared: list[_Prepared]) -> list[AddResult]:
        """Add a prepared batch in one transaction, after any batch add_many has in flight."""
        self._land_ahead()  # a batch add_many left in flight goes first
        results: list[AddResult] = []
        with self._transaction() as conn:
            now = _now()
            start = 0
            seen: set[str] = set()
            for i, (*_, url, _rel) in enumerate(prepared):
                if url in seen:  # the second add of a URL must see the first one's row
                    results += self._apply(conn, self._decide(conn, prepared[start:i], now))
                    start, seen = i, set()
                seen.add(url)
            results += self._apply(conn, self._decide(conn, prepared[start:], now))
        return results

    # -- add_many's overlap: decide batch N+1 and start its files while batch N's rows go in

    def _pipelined(self, batches: Iterator[list[_Prepared]]) -> Iterator[AddResult]:
        inflight: _Plan | None = None  # this generator's batch in flight (self._ahead until landed)
        try:
            for prepared in batches:
                if inflight is not None and inflight.landed:  # landed by another write meanwhile
                    yield from inflight.results
                    inflight = None
                if len({p[3] for p in prepared}) < len(prepared):  # a URL twice: in turn, as add() would
                    yield from self._land_ahead()
                    inflight = None
                    yield from self._add_prepared(prepared)
                    continue
                try:
                    with self._transaction() as conn:
                        if inflight is not None:
                            self._write_ahead(conn, inflight)
                        plan = self._decide(
                            conn, prepared, _now(), in_flight=inflight.targets if inflight else ()
                        )
                        previous = inflight.writing if inflight is not None else None
                        plan.writing = self._files_executor().submit(self._write_files, plan.files, previous)
                        self._ahead = plan
                        if inflight is not None:
                            self._finish_files(inflight)
                        self._ahead_version = self._data_version(conn)
                except BaseException:
                    self._drop_ahead()
                    raise
                done, inflight = inflight, plan
                if done is not None:
                    done.landed = True
                    yield from done.results
            self._land_ahead()
            if inflight is not None:
                yield from inflight.results
        except BaseException:
            # the input failed or the consumer stopped: the batch whose files are written still lands
            with contextlib.suppress(ThresherError, sqlite3.Error):
                self._land_ahead()
            self._drop_ahead()
            raise

    def _write_ahead(self, conn: sqlite3.Connection, plan: _Plan) -> None:
        """Write the rows of the batch in flight, deciding it again if another writer came in between."""
        if self._data_version(conn) != self._ahead_version:
            self._wait(plan)  # its files are the ones it decided; decide again and write what that says
            fresh = self._decide(conn, plan.prepared, plan.now)
            self._write_files(fresh.files)
            plan.redo(fresh)
        self._write_index(conn, plan)

    def _land_ahead(self) -> list[AddResult]:
        """Write the rows of the batch add_many has in flight (if any) and commit; its results."""
        plan = self._ahead
        if plan is None:
            return []
        try:
            with self._transaction() as conn:
                self._write_ahead(conn, plan)
                self._finish_files(plan)
        except BaseException:
            self._drop_ahead()
            raise
        self._ahead = None
        plan.landed = True
        return plan.results

    def _drop_ahead(self) -> None:
        """After an error: let the file thread finish what it was given (its files stay, unindexed)."""
        plan, self._ahead = self._ahead, None
        if plan is not None:
            with contextlib.suppress(Exception):
                self._wait(plan)

    @staticmethod
    def _wait(plan: _Plan) -> None:
        if plan.writing is not None:
            writing, plan.writing = plan.writing, None
            writing.result()

    def _finish_files(self, plan: _Plan) -> None:
        """Wait for the plan's files, then remove the files its articles moved away from."""
        self._wait(plan)
        written = {p.path for p in plan.pending}
        for rel in plan.stale:  # a path another article of this chunk now uses is that article's file
            if rel not in written:
                with contextlib.suppress(OSError, ThresherError):
                    resolve_inside(self.root, rel).unlink()

    @staticmethod
    def _data_version(conn: sqlite3.Connection) -> int:
        """Changes whenever another connection commits (SQLite's ``PRAGMA data_version``)."""
        return int(conn.execute("PRAGMA data_version").fetchone()[0])

    # -- one chunk of distinct URLs: decide against the index, then write files and rows

    def _decide(
        self, conn: sqlite3.Connection, chunk: list[_Prepared], now: str, *, in_flight: Iterable[Path] = ()
    ) -> _Plan:
        """What adding ``chunk`` (distinct URLs) means, given the index: statuses, files, rows.

        Raw responses are written to the WARC store here (once: the plan keeps their references).
        ``in_flight`` are files queued on the file thread, which count as present.
        """
        found = {
            r[0]: Existing(*r[1:])
            for r in conn.execute(
                "select url, id, content_hash, path, first_seen, last_changed from articles "
                "where url in (select value from json_each(?))",
                [json.dumps([p[3] for p in chunk])],
            )
        }
        queued = set(in_flight)
        plan = _Plan(now=now)
        for article, raw, ref, url, rel in chunk:
            old = found.get(url)
            target = self._target(rel)
            same = old is not None and old.content_hash == article.content_hash
            if old is not None and same and old.path == rel and (target in queued or target.exists()):
                plan.prepared.append((article, raw, ref, url, rel))
                plan.unchanged.append(old.id)
                plan.results.append(AddResult(status="unchanged", url=url, path=rel))
                continue
            if raw is not None:
                ref = self.warc.write(raw)
            plan.prepared.append((article, None, ref, url, rel))
            plan.files.append((target, article))
            status: AddStatus = "new" if old is None else ("unchanged" if same else "updated")
            if old is not None and old.path != rel:
                plan.stale.append(old.path)
            plan.pending.append(PendingRow(article, url, rel, old, ref))
            plan.results.append(AddResult(status=status, url=url, path=rel))
        return plan

    def _apply(self, conn: sqlite3.Connection, plan: _Plan) -> list[AddResult]:
        """Write the plan's files and rows inside the caller's transaction; its results."""
        if len(plan.files) < _FILE_THREAD_MIN:
            self._write_files(plan.files)
            self._write_index(conn, plan)
        else:
            # The files are written on the file thread while the rows go into the index here: FTS5 and
            # the file system calls release the GIL, so on two cores the two overlap (a third less time
            # for a bulk add). The transaction commits only after every file is in place, so the crash
            # contract is the one of writing them first: files, then the rows that point at them.
            plan.writing = self._files_executor().submit(self._write_files, plan.files)
            try:
                self._write_index(conn, plan)
            except BaseException:
                with contextlib.suppress(Exception):
                    self._wait(plan)  # let the thread finish before the rollback; its error is secondary
                raise
        self._finish_files(plan)
        return plan.results

    def _write_files(self, files: Sequence[tuple[Path, Article]], after: Future[None] | None = None) -> None:
        """Write each article's document atomically (temp file in the archive's temp folder + rename).

        ``after`` is the file-thread task queued before this one: if it failed, its batch's rows will
        not be written and neither are these files (no file of a batch that never gets indexed).
        """
        if after is not None and (after.cancelled() or after.exception() is not None):
            raise StoreError("not written: the files of the batch before failed")
        for target, article in files:
            try:
                atomic_write(target, render_document(article), fsync=False, tmp_dir=self._tmp)
            except (OSError, ThresherError) as exc:
                raise StoreError(f"cannot write {target}: {exc}") from exc

    @staticmethod
    def _write_index(conn: sqlite3.Connection, plan: _Plan) -> None:
        """The plan's rows, and the new ``last_seen`` of its unchanged articles."""
        write_rows(conn, plan.pending, plan.now)
        if plan.unchanged:  # one statement, not one step a row (see rows.py)
            conn.execute(
                "update articles set last_seen = ? where id in (select value from json_each(?))",
                [plan.now, json.dumps(plan.unchanged)],
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
