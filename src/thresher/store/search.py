"""Ranked full-text search over the index: FTS5 ranks first, filters and snippets follow.

FTS5 sorts by its ``rank`` column (bm25 with the title weighted highest, set in migration 0004)
internally, but only when the FTS table is queried on its own. Joined with ``articles`` and a tag,
site or date filter, SQLite could instead walk the filter's rows and evaluate the match and a
snippet for each. So the search is three small steps:

1. rowids in rank order from the FTS table alone (with no filter, just the first ``limit``);
2. with filters, those rowids in growing chunks checked against ``articles`` (and its tags or
   categories) until ``limit`` pass — a popular filter is satisfied from the first chunk;
3. the ``articles`` rows and a ``snippet()`` for the hits returned, and only those.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import StoreError
from ..models import SearchHit, format_datetime, parse_yaml_datetime

__all__ = ["Filters", "search_index"]

MAX_LIMIT = 10_000
_FIRST_CHUNK = 256
_MAX_CHUNK = 16_384
# "+" keeps SQLite off the tag index: an article's few tags are read through the primary key
# (article_id, position) instead of every row of a popular tag for each candidate
_HAS_TAG = "select 1 from tags t where t.article_id = a.id and +t.tag = ? collate nocase"
_HAS_CATEGORY = "select 1 from categories c where c.article_id = a.id and +c.category = ? collate nocase"
_SNIPPET = "snippet(articles_fts, -1, '**', '**', '…', 16)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Filters:
    """What a search may be narrowed to (None: no condition)."""

    site: str | None = None
    tag: str | None = None
    category: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    lang: str | None = None

    def sql(self) -> tuple[list[str], list[Any]]:
        """Conditions on ``articles a`` and their parameters."""
        where: list[str] = []
        params: list[Any] = []
        if self.site:
            where.append("(a.site = ? or a.site_name = ?)")
            params += [self.site.lower(), self.site]
        if self.tag:
            where.append(f"exists ({_HAS_TAG})")
            params.append(self.tag)
        if self.category:
            where.append(f"exists ({_HAS_CATEGORY})")
            params.append(self.category)
        if self.since:
            where.append("a.published >= ?")
            params.append(format_datetime(self.since))
        if self.until:
            where.append("a.published <= ?")
            params.append(format_datetime(self.until))
        if self.lang:
            where.append("(a.lang = ? or a.lang like ?)")
            params += [self.lang, f"{self.lang}-%"]
        return where, params


def search_index(conn: sqlite3.Connection, expression: str, filters: Filters, limit: int) -> list[SearchHit]:
    """The best ``limit`` articles for an FTS5 MATCH ``expression`` (already validated), best first."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    try:
        where, params = filters.sql()
        if where:
            ranked = _filtered(conn, expression, where, params, limit)
            snippets = _snippets(conn, expression, [rowid for rowid, _ in ranked])
        else:
            rows = conn.execute(
                f"select rowid, rank, {_SNIPPET} from articles_fts where articles_fts match ? "
                "order by rank limit ?",
                [expression, limit],
            ).fetchall()
            ranked = [(r[0], r[1]) for r in rows]
            snippets = {r[0]: r[2] for r in rows}
        articles = {
            r[0]: r[1:]
            for r in conn.execute(
                "select id, url, title, site, published, path from articles "
                "where id in (select value from json_each(?))",
                [json.dumps([rowid for rowid, _ in ranked])],
            )
        }
    except sqlite3.OperationalError as exc:
        raise StoreError(f"search failed: {exc}") from exc
    hits: list[SearchHit] = []
    for rowid, rank in ranked:
        row = articles.get(rowid)
        if row is None:
            continue
        url, title, site, published, path = row
        hits.append(
            SearchHit(
                url=url,
                title=title or "",
                site=site or "",
                published=parse_yaml_datetime(published),
                snippet=" ".join((snippets.get(rowid) or "").split()),
                score=round(-float(rank), 6),
                path=path,
            )
        )
    return hits


def _filtered(
    conn: sqlite3.Connection, expression: str, where: list[str], params: list[Any], limit: int
) -> list[tuple[int, float]]:
    """Rowids in rank order that pass ``where``, checked a chunk at a time until ``limit`` pass."""
    check = "select a.id from articles a where a.id in (select value from json_each(?)) and " + " and ".join(
        where
    )
    cursor = conn.execute(
        "select rowid, rank from articles_fts where articles_fts match ? order by rank", [expression]
    )
    found: list[tuple[int, float]] = []
    size = max(_FIRST_CHUNK, limit * 4)
    try:
        while len(found) < limit:
            chunk = cursor.fetchmany(size)
            if not chunk:
                break
            passed = {r[0] for r in conn.execute(check, [json.dumps([r[0] for r in chunk]), *params])}
            found += [(r[0], r[1]) for r in chunk if r[0] in passed]
            size = min(size * 4, _MAX_CHUNK)
    finally:
        cursor.close()
    return found[:limit]


def _snippets(conn: sqlite3.Connection, expression: str, rowids: list[int]) -> dict[int, str]:
    """``snippet()`` of each of ``rowids`` (FTS5 seeks each one; no other row is read)."""
    if not rowids:
        return {}
    return {
        r[0]: r[1]
        for r in conn.execute(
            f"select rowid, {_SNIPPET} from articles_fts where articles_fts match ? "
            "and rowid in (select value from json_each(?))",
            [expression, json.dumps(rowids)],
        )
    }
