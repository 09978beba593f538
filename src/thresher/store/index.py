"""The archive's SQLite index (``index.db``): schema as registered migrations, FTS5 kept in sync by triggers.

The Markdown files are the source of truth; this index can always be rebuilt from them (``reindex``).
It follows sqlite-utils' FTS conventions (``articles_fts`` with ``content='articles'``), so it opens in
Datasette with full-text search working.
"""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database, Migrations

from ..errors import ArchiveBusy, IndexCorrupt, StoreError
from ..search_query import DEFAULT_TOKENIZE
from ..sqlite import sqlite3

__all__ = ["FTS_COLUMNS", "HEAD_FTS", "INDEX_NAME", "migrations", "open_index"]

INDEX_NAME = "index.db"
FTS_COLUMNS = ("title", "description", "tags", "text")
# porter stemming over unicode61 with diacritics folded: "café" finds "cafe", "running" finds "runs".
FTS_TOKENIZE = DEFAULT_TOKENIZE
MIGRATION_SET = "thresher"
# bm25 weights in FTS column order (title, description, tags, text): the title counts most.
FTS_BM25_WEIGHTS = "10.0, 3.0, 5.0, 1.0"
FTS_RANK = f"bm25({FTS_BM25_WEIGHTS})"
#: the tier of tiered search: title, description and tags alone (see migration 0007 and store/search.py)
HEAD_FTS = "articles_head_fts"
HEAD_COLUMNS = ("title", "description", "tags")
BUSY_TIMEOUT_MS = 10_000
CACHE_KIB = 32 * 1024
# A bulk add rewrites most leaf pages of every index in each transaction, so the default checkpoint
# every 1,000 WAL pages copied the same pages into index.db again and again (and synced it each time).
WAL_CHECKPOINT_PAGES = 10_000
# Reads through a memory map instead of read() into SQLite's page cache: a search touches FTS5 pages
# spread over the whole index, most of them outside the 32 MB cache, and copying each in cost more
# than the ranking (bench/search.py at 100,000 articles: p95 ~19.5 -> ~17.5 ms). Writes still go
# through the WAL. The cost SQLite documents: an I/O error while reading a mapped page is a SIGBUS,
# not an error code.
MMAP_BYTES = 1 << 30


def migrations() -> Migrations:
    """The index schema, one registered migration per change; applied in order, each once."""
    m = Migrations(MIGRATION_SET)

    @m(name="0001_articles")
    def articles(db: Database) -> None:
        db["articles"].create(  # type: ignore[union-attr]
            {
                "id": int,
                "url": str,  # canonical URL: one row per article
                "site": str,  # host
                "site_name": str,
                "kind": str,
                "title": str,
                "author": str,
                "published": str,  # ISO 8601 UTC
                "updated": str,
                "description": str,
                "excerpt": str,
                "lang": str,
                "thumbnail": str,
                "tags": str,  # JSON arrays, also searched through FTS
                "categories": str,
                "keywords": str,
                "word_count": int,
                "content_hash": str,
                "profile": str,
                "path": str,  # relative to the archive root
                "source_url": str,
                "first_seen": str,
                "last_seen": str,
                "last_changed": str,
                "warc_file": str,
                "warc_offset": int,
                "warc_length": int,
                "text": str,
            },
            pk="id",
            not_null={"url", "path", "content_hash", "first_seen", "last_seen", "last_changed"},
        )
        db["articles"].create_index(["url"], unique=True)  # type: ignore[union-attr]
        db["articles"].create_index(["site", "published"])  # type: ignore[union-attr]
        db["articles"].create_index(["path"], unique=True)  # type: ignore[union-attr]
        for name, column in (("tags", "tag"), ("categories", "category")):
            db[name].create(  # type: ignore[union-attr]
                {"article_id": int, column: str, "position": int},
                pk=("article_id", "position"),
                foreign_keys=[("article_id", "articles", "id")],
            )
            db[name].create_index([column])  # type: ignore[union-attr]
        db["links"].create(  # type: ignore[union-attr]
            {"article_id": int, "kind": str, "position": int, "url": str, "title": str, "network": str},
            pk=("article_id", "kind", "position"),
            foreign_keys=[("article_id", "articles", "id")],
        )
        db["links"].create_index(["url"])  # type: ignore[union-attr]
        db["versions"].create(  # type: ignore[union-attr]
            {"article_id": int, "content_hash": str, "first_seen": str, "replaced_at": str, "path": str},
            pk=("article_id", "content_hash", "replaced_at"),
            foreign_keys=[("article_id", "articles", "id")],
        )

    @m(name="0002_articles_fts")
    def articles_fts(db: Database) -> None:
        db["articles"].enable_fts(  # type: ignore[union-attr]
            list(FTS_COLUMNS), fts_version="FTS5", create_triggers=True, tokenize=FTS_TOKENIZE
        )

    @m(name="0003_nocase_tag_indexes")
    def nocase_indexes(db: Database) -> None:
        # search filters compare tags and categories case-insensitively; without these indexes every
        # filtered query read the whole table
        db.execute("create index if not exists idx_tags_tag_nocase on tags (tag collate nocase)")
        db.execute("create index if not exists idx_categories_nocase on categories (category collate nocase)")

    @m(name="0004_fts_rank")
    def fts_rank(db: Database) -> None:
        # FTS5 sorts by its rank column internally and computes snippet() only for the rows it returns;
        # ordering by a bm25() expression computed a snippet for every match first
        db.execute(f"insert into articles_fts(articles_fts, rank) values ('rank', '{FTS_RANK}')")

    @m(name="0005_fts_update_trigger")
    def fts_update_trigger(db: Database) -> None:
        # sqlite-utils' update trigger re-indexed a row on every update, so re-adding an unchanged article
        # (which only moves last_seen) re-tokenized its whole text. Same name and statements, now only
        # when an indexed column really changes (FTS5 needs the old values to delete, which it still gets).
        cols = ", ".join(f'"{c}"' for c in FTS_COLUMNS)
        old = ", ".join(f'old."{c}"' for c in FTS_COLUMNS)
        new = ", ".join(f'new."{c}"' for c in FTS_COLUMNS)
        changed = " or ".join(f'old."{c}" is not new."{c}"' for c in FTS_COLUMNS)
        db.execute("drop trigger if exists articles_au")
        db.execute(
            f'create trigger "articles_au" after update on "articles" when {changed} begin\n'
            f'  insert into "articles_fts" ("articles_fts", rowid, {cols}) '
            f"values('delete', old.rowid, {old});\n"
            f'  insert into "articles_fts" (rowid, {cols}) values (new.rowid, {new});\n'
            "end"
        )

    @m(name="0006_runs")
    def runs(db: Database) -> None:
        # run history (thresher runs): one row per crawl, written when it starts and when it ends, so a
        # run killed part-way stays visible (finished is null until the next crawl marks it abandoned)
        db["runs"].create(  # type: ignore[union-attr]
            {
                "id": int,
                "started": str,  # ISO 8601 UTC
                "finished": str,
                "pid": int,
                "command": str,  # crawl | watch | demo
                # running | done | partial (some pages failed) | interrupted | skipped | error | abandoned
                "status": str,
                "sites": str,  # JSON array: the sites crawled
                "skipped": str,  # JSON array: sites skipped because of recrawl_after
                "new": int,
                "updated": int,
                "unchanged": int,
                "failed": int,
                "exit_code": int,
                "message": str,
            },
            pk="id",
            not_null={"started", "status"},
        )
        db["runs"].create_index(["started"])  # type: ignore[union-attr]

    @m(name="0007_head_fts")
    def head_fts(db: Database) -> None:
        # The tier of tiered search (store/search.py) ranks the articles that match a query in their title,
        # description or tags. Asked of articles_fts with a column filter, FTS5 still walked every match of
        # the query in the whole text to find those (19 ms for "open the" at 100,000 articles); here they
        # are a small index of their own. Same columns in the same order as articles_fts, so column
        # filters and bm25 weights carry over; "text" stays empty. Contentless (content=''): nothing is
        # stored twice, and Datasette still finds articles_fts as the table's one full-text index.
        cols = ", ".join(f'"{c}"' for c in FTS_COLUMNS)
        head = ", ".join(f'"{c}"' for c in HEAD_COLUMNS)
        changed = " or ".join(f'old."{c}" is not new."{c}"' for c in HEAD_COLUMNS)

        def values(row: str) -> str:
            return ", ".join(f'{row}."{c}"' for c in HEAD_COLUMNS) + ", ''"

        db.execute(
            f"create virtual table \"{HEAD_FTS}\" using fts5({cols}, tokenize='{FTS_TOKENIZE}', content='')"
        )
        insert = f'insert into "{HEAD_FTS}" (rowid, {cols})'
        delete = f'insert into "{HEAD_FTS}" ("{HEAD_FTS}", rowid, {cols})'
        db.execute(
            f'create trigger "articles_head_ai" after insert on "articles" begin\n'
            f"  {insert} values (new.id, {values('new')});\nend"
        )
        db.execute(
            f'create trigger "articles_head_ad" after delete on "articles" begin\n'
            f"  {delete} values ('delete', old.id, {values('old')});\nend"
        )
        db.execute(
            f'create trigger "articles_head_au" after update on "articles" when {changed} begin\n'
            f"  {delete} values ('delete', old.id, {values('old')});\n"
            f"  {insert} values (new.id, {values('new')});\nend"
        )
        db.execute(f"{insert} select id, {head}, '' from articles")

    return m


def open_index(folder: Path, *, create: bool = True) -> Database:
    """Open (and migrate) ``folder/index.db``.

    Raises:
        IndexCorrupt: the file is not SQLite, fails ``quick_check``, or is another program's database.
        ArchiveBusy: another writer holds the database past the busy timeout.
        StoreError: the folder cannot be created or the file cannot be opened.
    """
    path = folder / INDEX_NAME
    if not path.exists() and not create:
        raise StoreError(f"no archive index at {path}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # a crawl writes its articles from one writer thread (never two threads at once)
        conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open {path}: {exc}") from exc
    db = Database(conn)
    try:
        _check(db, path)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"{path}: cannot switch to WAL mode (journal_mode={mode})")
        conn.execute("PRAGMA synchronous = NORMAL")
        # bulk adds touch FTS5 segments and the b-trees all over; the 2 MB default cache thrashed
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute("PRAGMA temp_store = MEMORY")  # the staging table of Archive.add_many
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        conn.execute("PRAGMA foreign_keys = ON")
        migrations().apply(db)
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise ArchiveBusy(f"{path} is locked by another thresher process; try again later") from exc
        raise StoreError(f"{path}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise IndexCorrupt(
            f"{path} is damaged ({exc}); it was left as is — move it away and run "
            "`thresher reindex` to rebuild it from the Markdown files"
        ) from exc
    except StoreError:
        conn.close()
        raise
    return db


def _check(db: Database, path: Path) -> None:
    """Refuse a file that is not SQLite, is damaged, or belongs to another program."""
    conn = db.conn
    try:
        conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise IndexCorrupt(f"{path} is not an SQLite database ({exc}); it was left as is") from exc
    tables = set(db.table_names())
    if tables and "_sqlite_migrations" not in tables:
        raise IndexCorrupt(
            f"{path} is not a thresher index (tables: {', '.join(sorted(tables)[:5])}); it was left as is"
        )
    if tables:
        row = conn.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            raise IndexCorrupt(
                f"{path} failed its integrity check ({row[0] if row else 'no answer'}); "
                "it was left as is — run `thresher reindex` to rebuild it"
            )
