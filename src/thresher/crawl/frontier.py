"""The crawl frontier: every URL a crawl knows, its state and its host's politeness state, in SQLite.

It lives in ``archive/frontier.db``, apart from ``index.db``, so crawl bookkeeping never blocks a search.
Users stop a crawl with kill -9 and run the same command again, so:

* every state change (``add``, ``claim``, ``complete``, ``fail``, ``defer``…) is its own committed
  transaction. The database is in WAL mode with ``synchronous=NORMAL``: a killed process loses nothing
  that was committed and never leaves a damaged file; only a power cut can roll back the last few
  commits, and then a URL at worst goes back to an earlier state and is fetched once more (the archive
  keys articles by URL, so it still holds each article once);
* ``claim`` marks URLs ``in_flight`` before anything is fetched, and ``recover`` (run once at start)
  puts the ones a dead process was fetching back in the queue: only they are fetched again.

States::

    queued ──claim──▶ in_flight ──complete──▶ archived | unchanged | done | skipped (+reason) | failed
       ▲                 │ │
       │                 │ └──fail──▶ failed (+reason, attempts+1, retried at next_attempt_at
       └──defer/recover──┘                    until attempts reach max_attempts, then for good)

URLs must already be canonical (:func:`thresher.urls.canonicalize`): the frontier compares them as
strings, which is what makes "each page once" hold. ``host`` is whatever the caller uses to space
requests (a host name, or ``host:port``); the frontier only groups by it.

Readers never wait (WAL). A second writer waits up to the busy timeout, then gets
:class:`~thresher.errors.ArchiveBusy`. A file that is not SQLite, fails its check or belongs to another
program raises :class:`~thresher.errors.IndexCorrupt` and is never written to.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from sqlite_utils import Database, Migrations
from sqlite_utils.db import DescIndex

from ..errors import ArchiveBusy, IndexCorrupt, StoreError
from ..sqlite import sqlite3
from ..urls import host_of

__all__ = [
    "ARTICLE_STATES",
    "COMPLETE_STATES",
    "FINISHED_STATES",
    "FRONTIER_NAME",
    "STATES",
    "Frontier",
    "FrontierEntry",
    "HostState",
    "NewURL",
    "frontier_migrations",
]

FRONTIER_NAME = "frontier.db"
MIGRATION_SET = "thresher-frontier"
BUSY_TIMEOUT = 10.0  # seconds a writer waits for another one before ArchiveBusy

STATES = ("queued", "in_flight", "archived", "unchanged", "done", "skipped", "failed")
# states ``complete`` may set; "failed" there means failed for good (a 404, a bad sitemap)
COMPLETE_STATES = frozenset({"archived", "unchanged", "done", "skipped", "failed"})
# fetched successfully: a newer sitemap lastmod sends them back to the queue
FINISHED_STATES = ("archived", "unchanged", "done")
# what ``requeue_stale`` recrawls unless told otherwise: the articles
ARTICLE_STATES = ("archived", "unchanged")
# add_many streams its input in chunks this size, so a generator of millions never sits in memory
_CHUNK = 5_000
# URLs this process knows are in the frontier (kept to skip re-inserting them), at most this many
_KNOWN_MAX = 50_000

_ENTRY_COLUMNS = (
    "url",
    "host",
    "site",
    "depth",
    "source",
    "etag",
    "last_modified",
    "lastmod",
    "attempts",
    "last_fetch_at",
    "state",
    "reason",
    "priority",
    "discovered_at",
    "next_attempt_at",
    "http_status",
    "content_hash",
    "article_path",
)
_SELECT = ", ".join(_ENTRY_COLUMNS)
_I_HOST, _I_STATE = _ENTRY_COLUMNS.index("host"), _ENTRY_COLUMNS.index("state")
_I_PRIORITY, _I_DEPTH = _ENTRY_COLUMNS.index("priority"), _ENTRY_COLUMNS.index("depth")
_HOST_COLUMNS = (
    "host",
    "delay",
    "crawl_delay",
    "robots_state",
    "robots_retry_at",
    "last_fetch_at",
    "backoff",
    "fetched",
    "errors",
)

_INSERT = (
    "INSERT OR IGNORE INTO urls"
    " (url, host, site, depth, source, discovered_at, seq, state, priority, lastmod)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)"
)
_FINISHED_SQL = ", ".join(f"'{s}'" for s in FINISHED_STATES)
# A newer lastmod re-queues a finished URL only when it is newer than both the fetch and the lastmod
# already recorded: a sitemap whose clock runs ahead would otherwise re-queue the page on every run.
_REQUEUE_ON_LASTMOD = f"""
UPDATE urls SET
    state = CASE WHEN state IN ({_FINISHED_SQL}) AND (last_fetch_at IS NULL OR :lastmod > last_fetch_at)
                 THEN 'queued' ELSE state END,
    reason = CASE WHEN state IN ({_FINISHED_SQL}) AND (last_fetch_at IS NULL OR :lastmod > last_fetch_at)
                  THEN NULL ELSE reason END,
    next_attempt_at = CASE WHEN state IN ({_FINISHED_SQL})
                                AND (last_fetch_at IS NULL OR :lastmod > last_fetch_at)
                           THEN NULL ELSE next_attempt_at END,
    lastmod = :lastmod
WHERE url = :url AND (lastmod IS NULL OR lastmod < :lastmod)
"""
# Hosts with URLs in a state, by a loose index scan: one index seek per host instead of reading
# every queued row, so claim stays cheap with 100,000 URLs waiting.
_HOSTS_IN_STATE = """
WITH RECURSIVE h(host) AS (
    SELECT (SELECT min(host) FROM urls WHERE state = :state)
    UNION ALL
    SELECT (SELECT min(host) FROM urls WHERE state = :state AND host > h.host) FROM h WHERE h.host IS NOT NULL
)
SELECT host FROM h WHERE host IS NOT NULL
"""
_CLAIM_QUEUED = f"""
SELECT {_SELECT}, seq FROM urls INDEXED BY urls_claim
WHERE state = 'queued' AND host = ? AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
ORDER BY priority DESC, depth, seq LIMIT ?
"""
# retries go in the order they fell due; the index (state, host, next_attempt_at) serves it directly
_CLAIM_RETRY = f"""
SELECT {_SELECT}, seq FROM urls INDEXED BY urls_retry
WHERE state = 'failed' AND host = ? AND next_attempt_at <= ? AND attempts < ?
ORDER BY next_attempt_at LIMIT ?
"""


@dataclass(frozen=True, slots=True)
class FrontierEntry:
    """One URL of the frontier, as ``claim`` and ``get`` return it."""

    url: str
    host: str
    site: str | None
    depth: int
    source: str | None
    etag: str | None
    last_modified: str | None
    lastmod: float | None  # the sitemap's <lastmod>, unix time
    attempts: int  # failed attempts so far
    last_fetch_at: float | None
    state: str
    reason: str | None
    priority: int
    discovered_at: float
    next_attempt_at: float | None
    http_status: int | None
    content_hash: str | None
    article_path: str | None


@dataclass(frozen=True, slots=True)
class HostState:
    """What the crawl remembers about a host between runs: politeness, robots.txt, counters."""

    host: str
    delay: float | None = None  # seconds between requests chosen for this host
    crawl_delay: float | None = None  # robots.txt Crawl-delay
    robots_state: str | None = None  # e.g. "ok", "missing", "unreachable", "forbidden"
    robots_retry_at: float | None = None  # unix time to try robots.txt again
    last_fetch_at: float | None = None
    backoff: float = 0.0  # extra delay after 429/503 answers
    fetched: int = 0
    errors: int = 0


class NewURL(NamedTuple):
    """One URL for :meth:`Frontier.add_many` (the arguments of :meth:`Frontier.add`)."""

    url: str
    host: str
    site: str | None
    depth: int
    source: str | None
    lastmod: float | str | datetime | None = None
    priority: int = 0


def frontier_migrations() -> Migrations:
    """The frontier schema, one registered migration per change; applied in order, each once."""
    m = Migrations(MIGRATION_SET)

    @m(name="0001_urls_hosts")
    def urls_hosts(db: Database) -> None:
        db["urls"].create(  # type: ignore[union-attr]
            {
                "url": str,  # canonical URL
                "host": str,
                "site": str,  # the configuration's site name
                "depth": int,
                "source": str,  # how it was found: start, sitemap, feed, link…
                "discovered_at": float,
                "seq": int,  # discovery order (rowids of a text-keyed table may change on VACUUM)
                "state": str,
                "reason": str,
                "attempts": int,
                "next_attempt_at": float,
                "last_fetch_at": float,
                "http_status": int,
                "etag": str,
                "last_modified": str,
                "lastmod": float,
                "content_hash": str,
                "article_path": str,
                "priority": int,
            },
            pk="url",
            not_null={"host", "depth", "discovered_at", "seq", "state", "attempts", "priority"},
            defaults={"state": "queued", "attempts": 0, "depth": 0, "priority": 0},
        )
        # claim: the best queued URLs of one host, read in order straight off the index
        db["urls"].create_index(  # type: ignore[union-attr]
            ["state", "host", DescIndex("priority"), "depth", "seq"], index_name="urls_claim"
        )
        # claim: the failed URLs of one host whose retry time has come
        db["urls"].create_index(  # type: ignore[union-attr]
            ["state", "host", "next_attempt_at"], index_name="urls_retry"
        )
        # counts(site) and requeue_stale(site)
        db["urls"].create_index(["site", "state"], index_name="urls_site")  # type: ignore[union-attr]
        db["hosts"].create(  # type: ignore[union-attr]
            {
                "host": str,
                "delay": float,
                "crawl_delay": float,
                "robots_state": str,
                "robots_retry_at": float,
                "last_fetch_at": float,
                "backoff": float,
                "fetched": int,
                "errors": int,
            },
            pk="host",
            not_null={"backoff", "fetched", "errors"},
            defaults={"backoff": 0.0, "fetched": 0, "errors": 0},
        )
        # the next discovery number, so add_many needs no max(seq) scan
        db["meta"].create({"key": str, "value": int}, pk="key")  # type: ignore[union-attr]
        db["meta"].insert({"key": "seq", "value": 0})  # type: ignore[union-attr]

    return m


def _timestamp(value: float | str | datetime | None) -> float | None:
    """Unix time of a sitemap lastmod: a number, an ISO 8601 string or a datetime (None if unusable)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None  # a malformed <lastmod> must not stop discovery
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # sitemaps without a zone mean UTC in practice
    return value.timestamp()


def _entry(row: tuple[Any, ...]) -> FrontierEntry:
    return FrontierEntry(*row[: len(_ENTRY_COLUMNS)])


class Frontier:
    """The persistent crawl frontier in ``path`` (normally ``archive/frontier.db``).

    Args:
        path: the database file; created with its folder when missing.
        max_attempts: failed attempts after which a URL is failed for good.
        busy_timeout: seconds to wait for another writer before raising ArchiveBusy.

    Raises:
        IndexCorrupt: the file is not SQLite, fails ``quick_check`` or is another program's database.
        ArchiveBusy: another writer holds the file past the busy timeout.
        StoreError: the file cannot be created or opened.
    """

    def __init__(self, path: Path, *, max_attempts: int = 3, busy_timeout: float = BUSY_TIMEOUT) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.path = Path(path)
        self.max_attempts = max_attempts
        self.busy_timeout = busy_timeout
        # one connection shared by the crawl's threads (asyncio.to_thread…); the lock keeps its
        # transactions from interleaving
        self._lock = threading.Lock()
        self._conn = self._open()
        # URLs known to be in the table (rows are never deleted): a crawl offers every page's ~20-30
        # links, nearly all of them known, and an INSERT OR IGNORE each was ~60% of the frontier's
        # statements. Filled only after a commit; a cache, cleared when full. Another process adding
        # URLs meanwhile is no matter: what is not in here is offered to INSERT OR IGNORE as before.
        self._known: set[str] = set()
        self._staged: list[str] = []

    # ------------------------------------------------------------------ lifecycle

    def _open(self) -> sqlite3.Connection:
        path = self.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                str(path), timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc
        db = Database(conn)
        try:
            self._check(db)
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{path}: cannot switch to WAL mode (journal_mode={mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
            migrations = frontier_migrations()
            if migrations.pending(db):
                # under the write lock, so two crawls opening a new archive at once migrate it once
                conn.execute("BEGIN IMMEDIATE")
                try:
                    migrations.apply(db)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            conn.close()
            if _is_busy(exc):
                raise ArchiveBusy(f"{path} is locked by another thresher process; try again later") from exc
            raise StoreError(f"{path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise IndexCorrupt(f"{path} is damaged ({exc}); it was left as is") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _check(self, db: Database) -> None:
        """Refuse a file that is not SQLite, is damaged, or belongs to another program."""
        conn, path = db.conn, self.path
        try:
            conn.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"{path} is not an SQLite database ({exc}); it was left as is") from exc
        tables = set(db.table_names())
        # a file holding only the migrations table is one whose first open was killed: ours, unfinished
        if not tables - {"_sqlite_migrations"}:
            return
        applied = (
            "_sqlite_migrations" in tables
            and conn.execute(
                "SELECT 1 FROM _sqlite_migrations WHERE migration_set = ? LIMIT 1", (MIGRATION_SET,)
            ).fetchone()
            is not None
        )
        if not applied:
            raise IndexCorrupt(
                f"{path} is not a thresher frontier (tables: {', '.join(sorted(tables)[:5])}); "
                "it was left as is"
            )
        row = conn.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            raise IndexCorrupt(
                f"{path} failed its integrity check ({row[0] if row else 'no answer'}); it was left as is — "
                "move it away to start the crawl state afresh"
            )

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._conn.close()

    def __enter__(self) -> Frontier:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One committed write transaction, taken up front so a busy database fails before any work."""
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
            self._staged = []
            try:
                yield conn
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from exc
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise self._error(exc) from exc
            if self._staged:
                if len(self._known) + len(self._staged) > _KNOWN_MAX:
                    self._known.clear()
                self._known.update(self._staged[:_KNOWN_MAX])

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads, with sqlite3 errors translated."""
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise self._error(exc) from exc

    def _error(self, exc: sqlite3.Error) -> StoreError:
        if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
            return ArchiveBusy(f"{self.path} is locked by another writer; try again later")
        return StoreError(f"{self.path}: {exc}")

    # ------------------------------------------------------------------ adding

    def add(
        self,
        url: str,
        *,
        host: str,
        site: str | None,
        depth: int,
        source: str | None,
        lastmod: float | str | datetime | None = None,
        priority: int = 0,
    ) -> bool:
        """Queue ``url``; True if it is new.

        A known URL keeps its state, depth and priority, whatever it is: it is never queued twice. The
        one exception is a sitemap ``lastmod`` (unix time, ISO 8601 string or datetime) newer than both
        the URL's last fetch and the lastmod recorded before: a finished URL (archived, unchanged, done)
        then goes back to the queue, keeping its ETag and Last-Modified for a conditional request.
        """
        return self.add_many([NewURL(url, host, site, depth, source, lastmod, priority)]) == 1

    def add_many(self, items: Iterable[NewURL]) -> int:
        """Queue many URLs in one transaction, as :meth:`add` does each; returns how many were new."""
        with self._write() as conn:
            return self._insert(conn, items)

    def _insert(self, conn: sqlite3.Connection, items: Iterable[NewURL]) -> int:
        """:meth:`add_many` inside the caller's transaction (a ``_write``)."""
        known = self._known
        # a known URL is left as it is unless a newer lastmod may re-queue it
        source = (item for item in items if item.lastmod is not None or item.url not in known)
        chunk = list(itertools.islice(source, _CHUNK))
        if not chunk:
            return 0
        now = time.time()
        added = 0
        seq = int(conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
        while chunk:
            rows = []
            dated = []
            for item in chunk:
                if not item.url:
                    raise ValueError("an empty URL cannot be queued")
                seq += 1
                lastmod = _timestamp(item.lastmod)
                host = item.host or host_of(item.url)
                rows.append(
                    (item.url, host, item.site, item.depth, item.source, now, seq, item.priority, lastmod)
                )
                if lastmod is not None:
                    dated.append({"url": item.url, "lastmod": lastmod})
            added += conn.executemany(_INSERT, rows).rowcount
            if len(self._staged) < _KNOWN_MAX:
                self._staged += [row[0] for row in rows]
            if dated:
                # new rows already hold this lastmod, so only known URLs can change here
                conn.executemany(_REQUEUE_ON_LASTMOD, dated)
            chunk = list(itertools.islice(source, _CHUNK))
        conn.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (seq,))
        return added

    # ------------------------------------------------------------------ claiming

    def claim(
        self,
        *,
        now: float,
        exclude_hosts: Collection[str] = (),
        limit: int = 8,
        per_host: int = 1,
        host_room: Mapping[str, int] | None = None,
        only_hosts: Collection[str] | None = None,
    ) -> list[FrontierEntry]:
        """Take up to ``limit`` URLs to fetch (at most ``per_host`` per host) and mark them in flight.

        Candidates are queued URLs whose ``next_attempt_at`` (set by ``defer``) has passed, and failed
        URLs whose retry time has come with attempts left. They are taken by priority (highest first),
        then depth, then discovery order; retries of a host in the order they fell due. Hosts in
        ``exclude_hosts`` (busy, or out of budget) are left alone; ``host_room`` lowers ``per_host`` for
        some hosts (those with URLs already in flight), and ``only_hosts``, when given, is the only hosts
        to take from. Atomic: two processes never claim the same URL. The cost grows with the number of
        hosts that have work, not with the queue.
        """
        if limit <= 0 or per_host <= 0:
            return []
        room = dict(host_room or {})
        excluded = set(exclude_hosts) | {host for host, n in room.items() if n <= 0}
        with self._write() as conn:
            hosts: set[str] = set()
            for state in ("queued", "failed"):
                hosts.update(h for (h,) in conn.execute(_HOSTS_IN_STATE, {"state": state}))
            if only_hosts is not None:
                hosts &= set(only_hosts)
            candidates: list[tuple[Any, ...]] = []
            for host in sorted(hosts - excluded):
                cap = min(room.get(host, per_host), per_host)
                candidates += conn.execute(_CLAIM_QUEUED, (host, now, cap)).fetchall()
                candidates += conn.execute(_CLAIM_RETRY, (host, now, self.max_attempts, cap)).fetchall()
            # rows are (columns…, seq): sort on priority (highest first), depth, seq
            candidates.sort(key=lambda r: (-r[_I_PRIORITY], r[_I_DEPTH], r[-1]))
            taken: list[FrontierEntry] = []
            per: dict[str, int] = {}
            for row in candidates:
                host = row[_I_HOST]
                if per.get(host, 0) >= min(room.get(host, per_host), per_host):
                    continue
                per[host] = per.get(host, 0) + 1
                taken.append(_entry((*row[:_I_STATE], "in_flight", *row[_I_STATE + 1 :])))
                if len(taken) >= limit:
                    break
            conn.executemany("UPDATE urls SET state = 'in_flight' WHERE url = ?", [(e.url,) for e in taken])
        return taken

    def recover(self) -> int:
        """Put the URLs a killed process had in flight back in the queue; returns how many.

        Run it once at start, before claiming: every in_flight URL then belongs to a dead process. Their
        attempts are not counted, since the fetch was interrupted, not failed.
        """
        with self._write() as conn:
            return conn.execute("UPDATE urls SET state = 'queued' WHERE state = 'in_flight'").rowcount

    # ------------------------------------------------------------------ outcomes

    def complete(
        self,
        url: str,
        state: str,
        *,
        reason: str | None = None,
        http_status: int | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        content_hash: str | None = None,
        article_path: str | None = None,
        fetched_at: float | None = None,
        discovered: Iterable[NewURL] = (),
    ) -> int:
        """Record the outcome of ``url``: archived, unchanged, done, skipped or failed (for good).

        ``discovered`` are the URLs the page led to, queued as :meth:`add_many` does in the same
        transaction (one commit per page instead of two); returns how many of them were new.

        ``reason`` replaces the old one; ``http_status`` replaces it when given. ``etag``,
        ``last_modified``, ``content_hash``, ``article_path`` and ``fetched_at`` (unix time, stored as
        ``last_fetch_at``) keep their stored value when None: a 304 does not resend validators, and a
        robots skip fetched nothing. Attempts go back to 0 so a later recrawl gets every retry again.

        Raises:
            ValueError: ``state`` is not a final state.
            KeyError: ``url`` is not in the frontier.
        """
        if state not in COMPLETE_STATES:
            raise ValueError(f"cannot complete {url} as {state!r}; one of {sorted(COMPLETE_STATES)}")
        with self._write() as conn:
            cursor = conn.execute(
                """UPDATE urls SET state = :state, reason = :reason, attempts = 0, next_attempt_at = NULL,
                       http_status = coalesce(:http_status, http_status), etag = coalesce(:etag, etag),
                       last_modified = coalesce(:last_modified, last_modified),
                       content_hash = coalesce(:content_hash, content_hash),
                       article_path = coalesce(:article_path, article_path),
                       last_fetch_at = coalesce(:fetched_at, last_fetch_at)
                   WHERE url = :url""",
                {
                    "state": state,
                    "reason": reason,
                    "http_status": http_status,
                    "etag": etag,
                    "last_modified": last_modified,
                    "content_hash": content_hash,
                    "article_path": article_path,
                    "fetched_at": fetched_at,
                    "url": url,
                },
            )
            if cursor.rowcount == 0:
                raise KeyError(url)
            return self._insert(conn, discovered)

    def fail(self, url: str, reason: str, *, retry_at: float | None, http_status: int | None = None) -> bool:
        """Count a failed attempt at ``url``; True if it will be retried (at ``retry_at``, unix time).

        ``retry_at=None`` means the failure is final. Once attempts reach ``max_attempts`` the URL
        stays failed for good.

        Raises:
            KeyError: ``url`` is not in the frontier.
        """
        with self._write() as conn:
            row = conn.execute("SELECT attempts FROM urls WHERE url = ?", (url,)).fetchone()
            if row is None:
                raise KeyError(url)
            attempts = int(row[0]) + 1
            retry = retry_at if attempts < self.max_attempts else None
            conn.execute(
                """UPDATE urls SET state = 'failed', reason = ?, attempts = ?, next_attempt_at = ?,
                       http_status = coalesce(?, http_status)
                   WHERE url = ?""",
                (reason, attempts, retry, http_status, url),
            )
        return retry is not None

    def defer(self, url: str, until: float, reason: str) -> None:
        """Put ``url`` back in the queue, not to be claimed before ``until`` (unix time).

        For waits that are not the page's fault (robots.txt unreachable, Retry-After): no attempt is
        counted.

        Raises:
            KeyError: ``url`` is not in the frontier.
        """
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE urls SET state = 'queued', next_attempt_at = ?, reason = ? WHERE url = ?",
                (until, reason, url),
            )
            if cursor.rowcount == 0:
                raise KeyError(url)

    def requeue_stale(
        self,
        site: str | None,
        older_than: float,
        *,
        states: Collection[str] = ARTICLE_STATES,
        trust_lastmod: bool = False,
    ) -> int:
        """Queue again the URLs in ``states`` (articles by default) last fetched before ``older_than``.

        For scheduled recrawls: ETag and Last-Modified stay, so the fetch is conditional and an
        unchanged page costs a 304. ``site=None`` means every site. Pass ``states=("done",)`` to read
        listing pages and sitemaps again. With ``trust_lastmod``, a URL whose sitemap ``lastmod`` is
        not after its last fetch stays as it is: it has not changed, so it is not fetched at all (a
        newer lastmod has already re-queued it on discovery). Returns how many were queued.
        """
        unknown = set(states) - set(STATES)
        if unknown:
            raise ValueError(f"unknown states: {sorted(unknown)}")
        if not states:
            return 0
        marks = ", ".join("?" * len(states))
        sql = (
            "UPDATE urls SET state = 'queued', reason = NULL, next_attempt_at = NULL, attempts = 0"
            f" WHERE state IN ({marks}) AND (last_fetch_at IS NULL OR last_fetch_at < ?)"
        )
        params: list[Any] = [*states, older_than]
        if trust_lastmod:
            sql += " AND NOT (lastmod IS NOT NULL AND last_fetch_at IS NOT NULL AND lastmod <= last_fetch_at)"
        if site is not None:
            sql += " AND site = ?"
            params.append(site)
        with self._write() as conn:
            return conn.execute(sql, params).rowcount

    # ------------------------------------------------------------------ hosts

    def host_state(self, host: str) -> HostState | None:
        """The saved state of ``host``, or None if none was saved."""
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {', '.join(_HOST_COLUMNS)} FROM hosts WHERE host = ?", (host,)
            ).fetchone()
        return HostState(*row) if row is not None else None

    def save_host(self, state: HostState) -> None:
        """Save (replace) the state of ``state.host``."""
        marks = ", ".join("?" * len(_HOST_COLUMNS))
        with self._write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO hosts ({', '.join(_HOST_COLUMNS)}) VALUES ({marks})",
                tuple(getattr(state, name) for name in _HOST_COLUMNS),
            )

    # ------------------------------------------------------------------ reading

    def get(self, url: str) -> FrontierEntry | None:
        """The entry of ``url``, or None if the frontier does not know it."""
        with self._read() as conn:
            row = conn.execute(f"SELECT {_SELECT} FROM urls WHERE url = ?", (url,)).fetchone()
        return _entry(row) if row is not None else None

    def counts(self, site: str | None = None) -> dict[str, int]:
        """How many URLs are in each state (every state listed, 0 included), for one site or all."""
        sql = "SELECT state, count(*) FROM urls"
        params: tuple[str, ...] = ()
        if site is not None:
            sql += " WHERE site = ?"
            params = (site,)
        with self._read() as conn:
            found = dict(conn.execute(sql + " GROUP BY state", params).fetchall())
        return {state: int(found.pop(state, 0)) for state in STATES} | found

    def reasons(self, state: str, site: str | None = None) -> dict[str, int]:
        """How many URLs in ``state`` have each reason (URLs without a reason are left out)."""
        sql = "SELECT reason, count(*) FROM urls WHERE state = ? AND reason IS NOT NULL"
        params: tuple[str, ...] = (state,)
        if site is not None:
            sql += " AND site = ?"
            params += (site,)
        with self._read() as conn:
            rows = conn.execute(sql + " GROUP BY reason ORDER BY count(*) DESC, reason", params).fetchall()
        return {str(reason): int(n) for reason, n in rows}

    def pending(self) -> int:
        """URLs still to fetch: queued (deferred ones included) and failed with a retry scheduled."""
        with self._read() as conn:
            row = conn.execute(
                """SELECT (SELECT count(*) FROM urls WHERE state = 'queued')
                        + (SELECT count(*) FROM urls WHERE state = 'failed'
                           AND next_attempt_at IS NOT NULL AND attempts < ?)""",
                (self.max_attempts,),
            ).fetchone()
        return int(row[0])

    def next_due(self, exclude_hosts: Collection[str] = ()) -> float | None:
        """The earliest time a pending URL of a host not in ``exclude_hosts`` may be claimed, or None."""
        skip = list(exclude_hosts)
        marks = ",".join("?" * len(skip))
        not_in = f" AND host NOT IN ({marks})" if skip else ""
        with self._read() as conn:
            row = conn.execute(
                f"""SELECT min(coalesce(next_attempt_at, 0)) FROM urls
                    WHERE (state = 'queued' OR (state = 'failed' AND next_attempt_at IS NOT NULL
                                                AND attempts < ?)){not_in}""",
                (self.max_attempts, *skip),
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message
