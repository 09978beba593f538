"""Ranked full-text search over the index: FTS5 ranks first, filters and snippets follow.

The ranking is bm25 with the title weighted highest (:data:`BM25`, the weights of the ``rank``
column set in migration 0004). Three small steps:

1. rowids in bm25 order from the FTS table alone. Without filters this is ``order by bm25(...)
   limit N``, which SQLite answers with a top-N sort; ``order by rank`` made FTS5 sort every match
   in full first (for a word in 40% of 100,000 articles: 110 ms against 48 ms). Joined with
   ``articles`` and a tag, site or date filter, SQLite could instead walk the filter's rows and
   evaluate the match for each, so filters are applied to the ranked rowids in growing chunks
   checked against ``articles`` (and its tags or categories) until ``limit`` pass;
2. the ``articles`` rows for the hits returned, and only those;
3. a ``snippet()`` for those hits, and no other row (see :func:`_snippets`).

**Tiered search** (a "champion list", Manning et al., *Introduction to Information Retrieval*
§7.1). bm25 costs 1-2 µs for every matching row, so a word in 40% of 100,000 articles took 50-140
ms whatever the limit. When a query has no ``NOT`` and matches more than :data:`TIER_MIN_MATCHES`
articles, step 1 first ranks only the tier: the matches that match the query within the
high-weight columns alone, at most the :data:`TIER_CAP` added last (highest rowids), by bm25 over
those three columns. The tier has an FTS5 index of its own (``articles_head_fts``, see
:func:`tier_expression`): asked of ``articles_fts`` as ``{title tags description}: (query)``, FTS5
walked every match of the query in the whole text to find the few in those columns. If
at least ``limit`` of them pass the filters, they are the hits, in that order and with that
score; otherwise the whole match is ranked as usual. So:

* a query matching at most ``TIER_MIN_MATCHES`` articles is ranked exactly as before;
* every hit of a tiered query is a genuine match (the column filter only narrows where each
  phrase may match) whose title, tags or description match the query. Those are the articles
  full bm25 puts first anyway (title weight 10, tags 5, description 3, body 1): for the 34
  common-word queries of ``bench/search.py`` at 100,000 articles, all 340 hits of full bm25 match
  in those columns. What is lost is the body's share of the score and, when more than
  ``TIER_CAP`` articles match in those columns, the older ones: the tiered top 10 then shares
  0-5 articles with full bm25's, but their mean full bm25 score is within 1% of its top 10's
  (title matches of a word that common score almost alike). Without the cap the top 10s share 6-10
  articles, but a word in most titles ("the") took 130 ms again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import StoreError
from ..models import SearchHit, format_datetime, parse_yaml_datetime
from ..sqlite import sqlite3
from .index import FTS_BM25_WEIGHTS, HEAD_FTS

__all__ = ["BM25", "TIER_CAP", "TIER_MIN_MATCHES", "Filters", "search_index", "tier_expression"]

MAX_LIMIT = 10_000
_FIRST_CHUNK = 256
_MAX_CHUNK = 16_384
# "+" keeps SQLite off the tag index: an article's few tags are read through the primary key
# (article_id, position) instead of every row of a popular tag for each candidate
_HAS_TAG = "select 1 from tags t where t.article_id = {id} and +t.tag = ? collate nocase"
_HAS_CATEGORY = "select 1 from categories c where c.article_id = {id} and +c.category = ? collate nocase"
_SNIPPET = "snippet(articles_fts, -1, '**', '**', '…', 16)"
#: the rank function of migration 0004 (index.FTS_RANK), spelled out so SQLite can sort with a LIMIT
BM25 = f"bm25(articles_fts, {FTS_BM25_WEIGHTS})"
#: the same weights over the tier's own index (title, description, tags; same column order)
HEAD_BM25 = f"bm25({HEAD_FTS}, {FTS_BM25_WEIGHTS})"
_SCORE = {"articles_fts": BM25, HEAD_FTS: HEAD_BM25}  # the rank expression of each FTS table
#: above this many matching articles a query is ranked within the high-weight tier first
TIER_MIN_MATCHES = 5_000
#: at most this many tier matches, the most recently added, are scored
TIER_CAP = 2_000
# a phrase ("..." with "" inside) is text, not syntax; the NOT operator is the bare upper-case word
_STRING = re.compile(r'"(?:[^"]|"")*"')
_NOT = re.compile(r"\bNOT\b")


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
        return self._conditions("a.id")

    def id_check(self) -> tuple[str, list[Any]] | None:
        """A statement that keeps the ids of a JSON array (its first parameter) that pass, and the rest
        of its parameters; None when there is no condition.

        With only tag and category conditions, the ids are checked against those tables alone:
        reading each candidate's ``articles`` row (one of many large rows, most of them outside the page
        cache) just to learn its id cost as much as the tag test itself (2,000 candidates: ~5 -> ~3 ms).
        """
        if self.site or self.since or self.until or self.lang:
            where, params = self._conditions("a.id")
            sql = "select a.id from articles a where a.id in (select value from json_each(?))"
        else:
            where, params = self._conditions("j.value")
            sql = "select j.value from json_each(?) j where 1"
        return (sql + "".join(f" and {c}" for c in where), params) if where else None

    def _conditions(self, article_id: str) -> tuple[list[str], list[Any]]:
        """Conditions with ``article_id`` as the article's id (``a.*`` columns for the others)."""
        where: list[str] = []
        params: list[Any] = []
        if self.site:
            where.append("(a.site = ? or a.site_name = ?)")
            params += [self.site.lower(), self.site]
        if self.tag:
            where.append(f"exists ({_HAS_TAG.format(id=article_id)})")
            params.append(self.tag)
        if self.category:
            where.append(f"exists ({_HAS_CATEGORY.format(id=article_id)})")
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


def tier_expression(expression: str) -> str | None:
    """The expression to rank the tier with, or None when the query must not be tiered.

    The tier is asked of :data:`~.index.HEAD_FTS` (migration 0007), which holds each article's title,
    description and tags under the same column names as ``articles_fts`` and an always empty ``text``.
    For an expression without ``NOT``, every row it matches there matches ``expression`` in
    ``articles_fts`` too (the same tokens, a subset of each row's columns): exactly the rows
    ``{title tags description}: (expression)`` matches in ``articles_fts``. Their bm25 differs from
    that query's in one way: FTS5 normalises a row's term frequencies by the row's length, which here
    is its title, description and tags, not its whole text (so a short title holding the words counts
    for a little more than it did). ``a NOT b`` would let ``b`` appear in
    the body, so such queries are never tiered.
    """
    if _NOT.search(_STRING.sub(" ", expression)):
        return None
    return expression


def search_index(conn: sqlite3.Connection, expression: str, filters: Filters, limit: int) -> list[SearchHit]:
    """The best ``limit`` articles for an FTS5 MATCH ``expression`` (already validated), best first."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    try:
        check = filters.id_check()
        ranked: list[tuple[int, float]] | None = None
        tier = tier_expression(expression)
        if tier is not None and _matches_more_than(conn, expression, TIER_MIN_MATCHES):
            ranked = _ranked(conn, tier, check, limit, cap=TIER_CAP, table=HEAD_FTS)
            if len(ranked) < limit:
                ranked = None
        if ranked is None:
            ranked = _ranked(conn, expression, check, limit)
        rowids = [rowid for rowid, _ in ranked]
        snippets = _snippets(conn, expression, rowids)
        articles = {
            r[0]: r[1:]
            for r in conn.execute(
                "select id, url, title, site, published, path from articles "
                "where id in (select value from json_each(?))",
                [json.dumps(rowids)],
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
        snippet = snippets.get(rowid)
        hits.append(
            SearchHit(
                url=url,
                title=title or "",
                site=site or "",
                published=parse_yaml_datetime(published),
                snippet=" ".join((snippet or "").split()),
                score=round(-float(rank), 6),
                path=path,
            )
        )
    return hits


def _matches_more_than(conn: sqlite3.Connection, expression: str, n: int) -> bool:
    """Whether more than ``n`` rows match (reads at most ``n + 1`` rowids; no ranking)."""
    row = conn.execute(
        "select count(*) from (select rowid from articles_fts where articles_fts match ? limit ?)",
        [expression, n + 1],
    ).fetchone()
    return bool(row and row[0] > n)


def _ranked(
    conn: sqlite3.Connection,
    expression: str,
    check: tuple[str, list[Any]] | None,
    limit: int,
    *,
    cap: int | None = None,
    table: str = "articles_fts",
) -> list[tuple[int, float]]:
    """The best ``limit`` (rowid, bm25) that pass ``check`` (:meth:`Filters.id_check`; None: all pass), best
    first (ties: lower rowid first).

    With ``cap``, only the ``cap`` matches added last (highest rowids) are scored.
    """
    args: list[Any] = [expression]
    score = _SCORE[table]
    if cap is None:
        source = f"select rowid, {score} as score from {table} where {table} match ?"
    else:
        source = (
            f"select rowid, score from (select rowid, {score} as score from {table} "
            f"where {table} match ? order by rowid desc limit ?)"
        )
        args.append(cap)
    if check is None:
        return [(r[0], r[1]) for r in conn.execute(f"{source} order by score, rowid limit ?", [*args, limit])]
    return _filtered(conn, f"{source} order by score, rowid", args, check, limit)


def _filtered(
    conn: sqlite3.Connection, ranked: str, args: list[Any], check: tuple[str, list[Any]], limit: int
) -> list[tuple[int, float]]:
    """Rowids from the ``ranked`` query that pass ``check`` (:meth:`Filters.id_check`), a chunk at a time
    until ``limit`` pass."""
    check_sql, params = check
    cursor = conn.execute(ranked, args)
    found: list[tuple[int, float]] = []
    size = max(_FIRST_CHUNK, limit * 4)
    try:
        while len(found) < limit:
            chunk = cursor.fetchmany(size)
            if not chunk:
                break
            passed = {r[0] for r in conn.execute(check_sql, [json.dumps([r[0] for r in chunk]), *params])}
            found += [(r[0], r[1]) for r in chunk if r[0] in passed]
            size = min(size * 4, _MAX_CHUNK)
    finally:
        cursor.close()
    return found[:limit]


def _snippets(conn: sqlite3.Connection, expression: str, rowids: list[int]) -> dict[int, str]:
    """``snippet()`` of each of ``rowids``, and of no other row.

    FTS5 seeks each rowid of an ``in`` list with a new scan. That is cheap for words and phrases, but
    a new scan of a prefix query merges the doclists of every word with that prefix again (5-30 ms
    for 10 rowids), so a prefix query instead reads its matches once between the lowest and highest
    rowid (``+rowid`` keeps the list out of FTS5's hands). No bm25 here: it would count every match
    of each phrase again on each seek.
    """
    if not rowids:
        return {}
    ids = json.dumps(rowids)
    if "*" in _STRING.sub(" ", expression):
        sql = (
            f"select rowid, {_SNIPPET} from articles_fts where articles_fts match ? "
            "and rowid between ? and ? and +rowid in (select value from json_each(?))"
        )
        args: list[Any] = [expression, min(rowids), max(rowids), ids]
    else:
        sql = (
            f"select rowid, {_SNIPPET} from articles_fts where articles_fts match ? "
            "and rowid in (select value from json_each(?))"
        )
        args = [expression, ids]
    return {r[0]: r[1] for r in conn.execute(sql, args)}
