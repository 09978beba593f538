"""Search ranks with FTS5 first and filters afterwards: same hits, same order as one joined query."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from thresher.models import Article, content_hash
from thresher.store import Archive, search


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
        f"where articles_fts match ? {where} order by articles_fts.rank, a.id limit ?"  # ties: lower id first
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
        (  # tag and category only: checked against those tables without the articles row
            {"tag": "T1", "category": "NEWS"},
            "and a.id in (select article_id from tags where tag = 't1') "
            "and a.id in (select article_id from categories where category = 'News')",
            [],
        ),
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


# ------------------------------------------------------------------ tiered search (issue #3)

_NEWS = "and a.id in (select article_id from categories where category = 'News')"


@pytest.mark.parametrize(
    ("expression", "tiered"),
    [
        ("printer", True),
        ('"printer words" AND post*', True),
        ("NEAR(printer words, 3) OR title: post", True),
        ('"NOT a keyword" here', True),
        ("NOTE", True),
        ("printer NOT words", False),
        ("(printer OR post) NOT title: words", False),
    ],
)
def test_a_query_with_not_is_never_tiered(expression: str, tiered: bool) -> None:
    tier = search.tier_expression(expression)
    assert (tier is not None) is tiered
    if tier is not None:
        assert tier == expression  # asked of the tier's own index


@pytest.mark.parametrize(
    "expression",
    [
        "printer",
        "post",
        '"post 22"',
        "printer OR common",
        "post* AND t3",
        "NEAR(post printer, 2)",
        "title: post",
    ],
)
def test_the_tier_index_ranks_as_a_column_filter_on_the_full_index(archive: Archive, expression: str) -> None:
    # what the tier was before migration 0007: the query restricted to title, tags and description
    conn = archive.db.conn
    via_filter = conn.execute(
        f"select rowid, {search.BM25} from articles_fts where articles_fts match ? order by rowid",
        ["{title tags description}: (" + expression + ")"],
    ).fetchall()
    via_head = conn.execute(
        f"select rowid, {search.HEAD_BM25} from articles_head_fts where articles_head_fts match ? "
        "order by rowid",
        [search.tier_expression(expression)],
    ).fetchall()
    assert via_filter, expression
    # the same matches; the scores differ only in length normalisation (the head's length, not the article's)
    assert [r[0] for r in via_head] == [r[0] for r in via_filter]


def test_the_tier_index_follows_updates_and_deletes(tmp_path: Path) -> None:
    with Archive(tmp_path / "a") as a:
        list(a.add_many([_article(n) for n in range(30)], batch=30))
        conn = a.db.conn

        def head(term: str) -> list[int]:
            sql = "select rowid from articles_head_fts where articles_head_fts match ? order by rowid"
            return [r[0] for r in conn.execute(sql, [term])]

        assert head("printer") == [1, 12, 23]  # n = 0, 11, 22
        conn.execute("update articles set title = 'Scanner guide' where id = 12")
        assert head("printer") == [1, 23] and head("scanner") == [12]
        for table in ("tags", "categories", "links"):
            conn.execute(f"delete from {table} where article_id = 23")
        conn.execute("delete from articles where id = 23")
        assert head("printer") == [1]
        conn.execute("insert into articles_head_fts(articles_head_fts) values ('integrity-check')")


def test_a_query_below_the_tier_threshold_ranks_as_before(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 900 articles hold "printer": one more than the threshold would tier it
    monkeypatch.setattr(search, "TIER_MIN_MATCHES", 900)
    for kwargs, where, params in (
        ({}, "", []),
        ({"tag": "common"}, "and a.id in (select article_id from tags where tag = 'Common')", []),
    ):
        hits = archive.search("printer", limit=10, **kwargs)
        assert [h.url for h in hits] == _reference(archive, "printer", where, params, 10)


def test_a_common_word_ranks_within_the_title_tier(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "TIER_MIN_MATCHES", 100)
    full = _reference(archive, "printer", "", [], 900)
    # 82 titles hold "printer" (n % 11 == 0); full bm25 puts them first, as the tier does
    title_matches = {f"https://site{n % 4}.example/post-{n}/" for n in range(0, 900, 11)}
    assert set(full[:82]) == title_matches
    hits = archive.search("printer", limit=10)
    assert len(hits) == 10
    assert all("printer" in h.title for h in hits)  # genuine matches, all in the title
    assert {h.url for h in hits} <= title_matches
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all("**printer**" in h.snippet.lower() for h in hits)
    # with a filter too: every hit passes it
    news = archive.search("printer", limit=10, category="news")
    assert news and all("printer" in h.title for h in news)
    assert {h.url for h in news} <= set(_reference(archive, "printer", _NEWS, [], 900))


def test_the_tier_cap_keeps_the_articles_added_last(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "TIER_MIN_MATCHES", 100)
    monkeypatch.setattr(search, "TIER_CAP", 20)
    hits = archive.search("printer", limit=10)
    latest = {f"https://site{n % 4}.example/post-{n}/" for n in range(0, 900, 11)[-20:]}
    assert len(hits) == 10
    assert {h.url for h in hits} <= latest


def test_a_small_tier_falls_back_to_the_full_ranking(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "TIER_MIN_MATCHES", 100)
    # 82 title matches are fewer than the 200 asked for; a NOT query is never tiered
    assert [h.url for h in archive.search("printer", limit=200)] == _reference(
        archive, "printer", "", [], 200
    )
    assert [h.url for h in archive.search("printer NOT words", limit=10)] == _reference(
        archive, "printer NOT words", "", [], 10
    )
    # a tag nothing in the tier has: the whole match is ranked, and the rare tag found
    assert [h.url for h in archive.search("printer", tag="rare", limit=10)] == _reference(
        archive, "printer", "and a.id in (select article_id from tags where tag = 'rare')", [], 10
    )


def test_prefix_and_phrase_queries_get_snippets(archive: Archive) -> None:
    for query in ("print*", '"printer words"', "uniq*"):
        hits = archive.search(query, limit=10)
        assert len(hits) == 10
        assert [h.url for h in hits] == _reference(archive, query, "", [], 10)
        assert all("**" in h.snippet for h in hits)
