"""The fast archive-document writer gives exactly what Article.to_markdown() gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thresher.models import AffiliateLink, Article, Link
from thresher.store.frontmatter import render_document

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"

# Characters around every rule of libyaml's scalar analysis: indicators, quotes, spaces, breaks, tabs,
# controls, NEL, line separators, BOM, non-ASCII letters, astral characters (lone surrogates are left out:
# PyYAML itself cannot write them).
_TRICKY = "#,[]{}&*!|>'\"%@`?:-.~ \t\n\r\x00\x07\x7f\x85\xa0\u2028\u2029\ufeff\ufffeé—’😀"
_TEXT = st.text(
    alphabet=st.sampled_from(_TRICKY) | st.characters(codec="utf-8"), max_size=12
) | st.sampled_from(
    [
        "yes",
        "No",
        "null",
        "~",
        "true",
        "OFF",
        "1.5",
        ".inf",
        "0x1F",
        "2024-01-02",
        "12:30",
        "=",
        "<<",
        "---x",
        "...",
        "- a",
        "a: b",
        "a #b",
        "a#b",
        "a:",
        ":a",
        "? x",
        "' x",
        "1e3",
        "+1",
        "0o7",
        "a, b",
    ]
)


def _article(**fields: object) -> Article:
    base: dict[str, object] = {
        "url": "https://example.test/a/",
        "canonical_url": "https://example.test/a/",
        "title": "A title",
        "markdown": "Body text.",
        "content_hash": "sha256:00",
    }
    return Article(**(base | fields))  # type: ignore[arg-type]


@settings(max_examples=500, deadline=None)
@given(
    title=_TEXT,
    description=_TEXT,
    tags=st.lists(_TEXT, max_size=3),
    links=st.lists(st.tuples(_TEXT, _TEXT), max_size=2),
    affiliate=st.lists(st.tuples(_TEXT, _TEXT, _TEXT), max_size=1),
    words=st.integers(min_value=-5, max_value=10**12),
    minute=st.integers(min_value=0, max_value=10**6),
    markdown=_TEXT,
)
def test_same_document_as_pyyaml(
    title: str,
    description: str,
    tags: list[str],
    links: list[tuple[str, str]],
    affiliate: list[tuple[str, str, str]],
    words: int,
    minute: int,
    markdown: str,
) -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=minute, microseconds=minute % 3 * 1500)
    article = _article(
        title=title,
        description=description,
        author=title[::-1],
        tags=tags,
        categories=tags[:1],
        keywords=tags[1:],
        published=when,
        updated=when.astimezone(timezone(timedelta(hours=8))),
        also_read=[Link(url=u, title=t) for u, t in links],
        affiliate_links=[AffiliateLink(url=u, text=t, network=n) for u, t, n in affiliate],
        word_count=words,
        markdown=markdown,
    )
    assert render_document(article) == article.to_markdown()


@pytest.mark.parametrize("page", sorted(FIXTURES.glob("**/*.html")), ids=lambda p: p.name)
def test_same_document_for_every_fixture_page(page: Path) -> None:
    import thresher

    article = thresher.extract(page.read_bytes(), url=f"https://fixture.test/{page.stem}/")
    assert render_document(article) == article.to_markdown()
