"""Index rows for articles: the ``articles`` row and its tags, categories, links and versions.

:func:`write_rows` writes them, for ``Archive.add``/``add_many`` and for ``reindex`` (batches of files).
It upserts every article of a batch with one ``INSERT … SELECT`` from a staging table. That matters
because of FTS5: each SQL statement that opens a statement transaction makes FTS5 flush its pending
terms into a new segment (``xSavepoint``), so one upsert per article wrote one tiny segment per article
and spent most of the build merging them (~210 µs an article against ~55 µs with one statement per batch).

``write_rows`` also runs few statements per batch rather than one step per row (multi-row ``VALUES``,
``json_each`` over the staged tag and category arrays, one aggregate for the new ids). Python's sqlite3
gives up the GIL around every step, and in a bulk add the archive's file thread is rendering documents
in Python meanwhile: each row's step then waited for that thread to let go of the GIL. With one step
per row the index thread spent ~35% of its time waiting; a build of 30,000 articles went from ~2,300/s
to ~2,750/s when the rows went in a few statements.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..models import Article, format_datetime
from ..sqlite import sqlite3
from ..urls import host_of

__all__ = ["ARTICLE_COLUMNS", "Existing", "PendingRow", "write_rows"]

ARTICLE_COLUMNS = (
    "url",
    "site",
    "site_name",
    "kind",
    "title",
    "author",
    "published",
    "updated",
    "description",
    "excerpt",
    "lang",
    "thumbnail",
    "tags",
    "categories",
    "keywords",
    "word_count",
    "content_hash",
    "profile",
    "path",
    "source_url",
    "first_seen",
    "last_seen",
    "last_changed",
    "warc_file",
    "warc_offset",
    "warc_length",
    "text",
)
_WARC_COLUMNS = frozenset({"warc_file", "warc_offset", "warc_length"})
_STAGE = "temp.thresher_stage"
# json.dumps with options builds a new encoder on every call; one encoder for the three lists of every
# row costs half as much (same text)
_json = json.JSONEncoder(ensure_ascii=False).encode

# an update keeps the first_seen of the row, and its WARC reference when the new add brings none
_UPSERT = (
    f"insert into main.articles ({', '.join(ARTICLE_COLUMNS)}) "
    f"select {', '.join(ARTICLE_COLUMNS)} from {_STAGE} where true "
    "on conflict(url) do update set "
    + ", ".join(
        f"{c} = coalesce(excluded.{c}, articles.{c})" if c in _WARC_COLUMNS else f"{c} = excluded.{c}"
        for c in ARTICLE_COLUMNS
        if c not in ("url", "first_seen")
    )
)
# SQLite's smallest default limit on the parameters of one statement (3.32 raised it to 32,766; pysqlite3
# cannot tell which limit it was built with)
_MAX_PARAMS = 999


class WarcLocation(Protocol):
    """Where a raw response is stored (``WarcRef``, or a reference carried over by ``reindex``)."""

    @property
    def file(self) -> str: ...
    @property
    def offset(self) -> int: ...
    @property
    def length(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Existing:
    """The index row an add finds for its URL."""

    id: int
    content_hash: str
    path: str
    first_seen: str
    last_changed: str


@dataclass(frozen=True, slots=True)
class PendingRow:
    """One article to upsert, with what the index held for its URL (``old``, None when new)."""

    article: Article
    url: str
    path: str
    old: Existing | None
    ref: WarcLocation | None


def _iso(value: Any) -> str | None:
    return format_datetime(value) if value else None


def _values(
    article: Article, url: str, rel: str, now: str, old: Existing | None, ref: WarcLocation | None
) -> tuple[Any, ...]:
    """The ``articles`` row, in :data:`ARTICLE_COLUMNS` order."""
    changed = old is None or old.content_hash != article.content_hash
    return (
        url,
        host_of(url),
        article.site_name,
        article.kind,
        article.title,
        article.author,
        _iso(article.published),
        _iso(article.updated),
        article.description,
        article.excerpt,
        article.lang,
        article.thumbnail,
        _json(article.tags) if article.tags else "[]",
        _json(article.categories) if article.categories else "[]",
        _json(article.keywords) if article.keywords else "[]",
        article.word_count,
        article.content_hash,
        article.profile,
        rel,
        article.url,
        old.first_seen if old is not None else now,
        now,
        now if changed or old is None else old.last_changed,
        ref.file if ref is not None else None,
        ref.offset if ref is not None else None,
        ref.length if ref is not None else None,
        article.text,
    )


def _insert_values(conn: sqlite3.Connection, head: str, rows: Sequence[Sequence[Any]]) -> None:
    """``head`` (``insert into t (a, b) values``) with ``rows``, as many a statement as the limit allows."""
    if not rows:
        return
    width = len(rows[0])
    per = max(1, _MAX_PARAMS // width)
    marks = "(" + ", ".join("?" * width) + ")"
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        conn.execute(f"{head} {', '.join([marks] * len(chunk))}", list(itertools.chain.from_iterable(chunk)))


def _delete_children(conn: sqlite3.Connection, replaced: Sequence[int]) -> None:
    """Drop the tags, categories and links of the ``replaced`` article ids."""
    if replaced:
        ids = json.dumps(list(replaced))
        for table in ("tags", "categories", "links"):
            conn.execute(f"delete from {table} where article_id in (select value from json_each(?))", [ids])


def _links(items: Sequence[tuple[int, Article]]) -> list[tuple[int, str, int, str, str, str | None]]:
    links: list[tuple[int, str, int, str, str, str | None]] = []
    for aid, a in items:
        links += [(aid, "also_read", i, x.url, x.title, None) for i, x in enumerate(a.also_read)]
        links += [(aid, "related", i, x.url, x.title, None) for i, x in enumerate(a.related)]
        links += [(aid, "affiliate", i, x.url, x.text, x.network) for i, x in enumerate(a.affiliate_links)]
    return links


_INSERT_LINKS = "insert into links (article_id, kind, position, url, title, network) values"


def _versions(conn: sqlite3.Connection, items: Sequence[tuple[int, PendingRow]], now: str) -> None:
    """Keep the replaced content hash of every article whose content changed."""
    _insert_values(
        conn,
        "insert or ignore into versions (article_id, content_hash, first_seen, replaced_at, path) values",
        [
            (aid, p.old.content_hash, p.old.last_changed, now, p.old.path)
            for aid, p in items
            if p.old is not None and p.old.content_hash != p.article.content_hash
        ],
    )


# the staged rows joined to the articles rows they became (url is unique in both)
_STAGED = f"{_STAGE} s join main.articles a on a.url = s.url"


def write_rows(conn: sqlite3.Connection, rows: Sequence[PendingRow], now: str) -> list[int]:
    """Upsert ``rows`` (distinct URLs) in one statement, then their children; their ids, in order."""
    if not rows:
        return []
    conn.execute(f"create temp table if not exists {_STAGE.split('.')[1]} ({', '.join(ARTICLE_COLUMNS)})")
    conn.execute(f"delete from {_STAGE}")
    _insert_values(
        conn,
        f"insert into {_STAGE} values",
        [_values(p.article, p.url, p.path, now, p.old, p.ref) for p in rows],
    )
    conn.execute(_UPSERT)
    ids = json.loads(conn.execute(f"select json_group_object(s.url, a.id) from {_STAGED}").fetchone()[0])
    ordered = [int(ids[p.url]) for p in rows]
    _delete_children(conn, [p.old.id for p in rows if p.old is not None])
    # the staged tags and categories are the JSON arrays of the articles row; key is the position
    conn.execute(
        "insert into tags (article_id, tag, position) "
        f"select a.id, j.value, j.key from {_STAGED}, json_each(s.tags) j"
    )
    conn.execute(
        "insert into categories (article_id, category, position) "
        f"select a.id, j.value, j.key from {_STAGED}, json_each(s.categories) j"
    )
    conn.execute(f"delete from {_STAGE}")
    _insert_values(
        conn, _INSERT_LINKS, _links([(aid, p.article) for aid, p in zip(ordered, rows, strict=True)])
    )
    _versions(conn, list(zip(ordered, rows, strict=True)), now)
    return ordered
