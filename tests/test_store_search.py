"""Search ranks with FTS5 first and filters afterwards: same hits, same order as one joined query."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from thresher.models import Article, content_hash
from thresher.store import Archive


def _article(n: int) -> Article:
    # every article holds "printer", some many times; tags, categories, sites and dates vary by n
    body = " ".join(["printer"] * (1 + n % 7) + ["words"] * (n % 13) + [f"unique{n}"])
    url = f"https://site{n % 4}.example/post-{n}/"
    return Article(
        url=url,
        canonical_url=url,
        title=f"Post {n}" + (" printer" if n % 11 == 0 else ""),
        published=datetime(2020 + n % 5, 1 + n % 12, 1, tzinfo=UTC),
        tags=["rare"] if n in (3, 401, 777) else [f"t{n % 5}", "Common"],
        categories=["Guides" if n % 3 else "News"],
        lang="en" if n % 2 else "de-AT",
        markdown=body,
        text=body,
        word_count=len(body.split()),
        content_hash=content_hash(body),
    )


def _reference(archive: Archive, expression: str, where: str, params: list[Any], limit: int) -> list[str]:
    """The urls one joined, FTS-ordered query gives (the pre-#3-tuning search, without snippets)."""
    sql = (
        "select a.url from articles_fts join articles a on a.id = articles_fts.rowid "
        f"where articles_fts match ? {where} order by articles_fts.rank limit ?"
    )
    return [r[0] for r in archive.db.conn.execute(sql, [expression, *params, limit])]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    root: Path = tmp_path_factory.mktemp("search") / "archive"
    with Archive(root) as a:
        list(a.add_many([_article(n) for n in range(900)], batch=300))
        yield a  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "where", "params"),
    [
        ({}, "", []),
        ({"tag": "RARE"}, "and a.id in (select article_id from tags where tag = ? collate nocase)", ["rare"]),
        (
            {"tag": "common"},
            "and a.id in (select article_id from tags where tag = ? collate nocase)",
            ["Common"],
        ),
        ({"category": "news"}, "and a.id in (select article_id from categories where category = 'News')", []),
        ({"site": "site2.example"}, "and a.site = ?", ["site2.example"]),
        (
            {"since": datetime(2023, 1, 1, tzinfo=UTC), "lang": "de"},
            "and a.published >= '2023-01-01T00:00:00Z' and a.lang like 'de%'",
            [],
        ),
        (
            {"until": datetime(2020, 3, 1, tzinfo=UTC), "tag": "t2"},
            "and a.published <= ? and a.id in (select article_id from tags where tag = 't2')",
            ["2020-03-01T00:00:00Z"],
        ),
    ],
)
@pytest.mark.parametrize("limit", [1, 10, 500])
def test_filtered_search_matches_the_joined_query(
    archive: Archive, kwargs: dict[str, Any], where: str, params: list[Any], limit: int
) -> None:
    hits = archive.search("printer", limit=limit, **kwargs)
    assert [h.url for h in hits] == _reference(archive, "printer", where, params, limit)
    assert all("**printer**" in h.snippet.lower() for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_a_filter_nothing_passes_scans_every_match_and_finds_nothing(archive: Archive) -> None:
    assert archive.search("printer", tag="no-such-tag") == []
    assert [h.url for h in archive.search("unique401", tag="rare")] == ["https://site1.example/post-401/"]
