"""Reading the archive for export: select articles through the index, then stream their records in batches.

Selection reads only light columns (id, site, lang, published, tags, kind), in publication order, so the
rest of the export sees the earliest copy of a duplicated article first. The text comes from the index's
``text`` column in batches of ``BATCH`` rows; the Markdown body (``--with-markdown``, ``--format md``) from
the article's file. Memory holds the selected ids (8 bytes each) and one batch.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import StoreError
from ..models import format_datetime
from ..search_query import QueryBuilder
from ..sqlite import sqlite3
from ..store import Archive
from ..store.index import FTS_COLUMNS

__all__ = [
    "BATCH",
    "RECORD_KEYS",
    "ExportRecord",
    "Filters",
    "iter_rows",
    "markdown_body",
    "record_id",
    "select_ids",
]

BATCH = 500
#: Every record has exactly these keys, in this order (``markdown`` only with ``--with-markdown``).
RECORD_KEYS = (
    "id",
    "url",
    "site",
    "title",
    "published",
    "updated",
    "author",
    "lang",
    "tags",
    "categories",
    "also_read",
    "text",
    "word_count",
    "content_hash",
)


@dataclass(slots=True, kw_only=True)
class Filters:
    """Which archived articles to export; every filter left at None lets everything through."""

    site: str | None = None
    tag: str | None = None
    lang: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    query: str | None = None
    kinds: tuple[str, ...] = ("article",)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the manifest."""
        return {
            "site": self.site,
            "tag": self.tag,
            "lang": self.lang,
            "since": format_datetime(self.since) if self.since else None,
            "until": format_datetime(self.until) if self.until else None,
            "query": self.query,
            "kinds": list(self.kinds),
        }


@dataclass(slots=True, kw_only=True)
class ExportRecord:
    """One exported article; :meth:`to_dict` gives the same keys for every record."""

    id: str
    url: str
    site: str
    title: str
    published: str | None
    updated: str | None
    author: str | None
    lang: str | None
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    also_read: list[str] = field(default_factory=list)
    text: str = ""
    word_count: int = 0
    content_hash: str = ""
    markdown: str | None = None
    path: str = ""

    def to_dict(self, *, with_markdown: bool = False) -> dict[str, Any]:
        """The record as a dict with the keys of :data:`RECORD_KEYS` (+ ``markdown``)."""
        out = {key: getattr(self, key) for key in RECORD_KEYS}
        if with_markdown:
            out["markdown"] = self.markdown or ""
        return out


def record_id(url: str) -> str:
    """A stable record id: the first 16 hex digits of the URL's sha256 (the same in any archive)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def _json_list(value: str | None) -> list[str]:
    if not value or value == "[]":
        return []
    try:
        items = json.loads(value)
    except ValueError:
        return []
    return [str(item) for item in items] if isinstance(items, list) else []


def _matching_ids(archive: Archive, query: str) -> set[int]:
    """The ids of the articles an FTS query matches (the same safe query building as ``search``)."""
    with QueryBuilder(FTS_COLUMNS) as builder:
        fts = builder.build(query)
    if fts is None:
        return set()
    try:
        rows = archive.db.conn.execute(
            "select rowid from articles_fts where articles_fts match ?", [fts.expression]
        )
        return {int(r[0]) for r in rows}
    except sqlite3.OperationalError as exc:
        raise StoreError(f"query failed: {exc}") from exc


def select_ids(archive: Archive, filters: Filters, dropped: Counter[str]) -> array[int]:
    """The ids of the articles passing ``filters``, earliest published first (undated last, then by id).

    Each article filtered out is counted in ``dropped`` under the first filter it fails.
    """
    matches = _matching_ids(archive, filters.query) if filters.query is not None else None
    site = filters.site.lower() if filters.site else None
    tag = filters.tag.casefold() if filters.tag else None
    lang = filters.lang.lower() if filters.lang else None
    since = format_datetime(filters.since) if filters.since else None
    until = format_datetime(filters.until) if filters.until else None
    ids: array[int] = array("q")
    try:
        rows = archive.db.conn.execute(
            "select id, kind, site, site_name, lang, published, tags from articles "
            "order by published is null, published, id"
        )
        for article_id, kind, host, site_name, article_lang, published, tags in rows:
            reason = None
            if kind not in filters.kinds:
                reason = "kind"
            elif site and host != site and site_name != filters.site:
                reason = "site"
            elif lang and not (
                article_lang and (article_lang.lower() == lang or article_lang.lower().startswith(lang + "-"))
            ):
                reason = "lang"
            elif tag and tag not in (t.casefold() for t in _json_list(tags)):
                reason = "tag"
            elif since and (published is None or published < since):
                reason = "since"
            elif until and (published is None or published > until):
                reason = "until"
            elif matches is not None and article_id not in matches:
                reason = "query"
            if reason is None:
                ids.append(article_id)
            else:
                dropped[reason] += 1
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the archive index: {exc}") from exc
    return ids


_COLUMNS = (
    "id, url, site, title, published, updated, author, lang, tags, categories, content_hash, text, path"
)


def iter_rows(archive: Archive, ids: array[int], *, batch: int = BATCH) -> Iterator[ExportRecord]:
    """The records of ``ids``, in that order, fetched ``batch`` at a time (text uncleaned, no markdown)."""
    conn = archive.db.conn
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch].tolist()
        marks = ",".join("?" * len(chunk))
        try:
            rows = {
                r[0]: r for r in conn.execute(f"select {_COLUMNS} from articles where id in ({marks})", chunk)
            }
            also: dict[int, list[str]] = {}
            for article_id, url in conn.execute(
                f"select article_id, url from links where kind = 'also_read' and article_id in ({marks}) "
                "order by article_id, position",
                chunk,
            ):
                also.setdefault(article_id, []).append(url)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the archive index: {exc}") from exc
        for article_id in chunk:
            row = rows.get(article_id)
            if row is None:  # deleted by a concurrent reindex: nothing to export
                continue
            yield ExportRecord(
                id=record_id(row[1]),
                url=row[1],
                site=row[2] or "",
                title=row[3] or "",
                published=row[4],
                updated=row[5],
                author=row[6],
                lang=row[7],
                tags=_json_list(row[8]),
                categories=_json_list(row[9]),
                also_read=also.get(article_id, []),
                content_hash=row[10],
                text=row[11] or "",
                path=row[12],
            )


def markdown_body(archive: Archive, path: str) -> str:
    """The Markdown body of an archived article's file, front matter cut off without parsing its YAML.

    The front matter is thresher's own (``Article.to_markdown``): a line ``---`` at column 0 can only be
    its end, since YAML block scalars are indented.
    """
    try:
        document = (archive.root / path).read_text(encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if document.startswith("---\n"):
        end = document.find("\n---\n", 3)
        if end == -1:
            end = document.find("\n---", 3)
            return "" if end == -1 else document[end + 4 :].strip("\n")
        return document[end + 5 :].strip("\n")
    return document.strip("\n")
