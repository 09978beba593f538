from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from thresher.errors import PostError
from thresher.models import FRONT_MATTER_KEYS, AffiliateLink, Article, Link, content_hash, split_front_matter


def _article(**kw: object) -> Article:
    base: dict[str, object] = {
        "url": "https://fix.techidaily.com/a/",
        "canonical_url": "https://fix.techidaily.com/a/",
        "title": "How to: fix 'quotes' & #hashes",
        "published": datetime(2024, 10, 17, 18, 38, 42, 215000, tzinfo=UTC),
        "updated": datetime(2024, 10, 19, tzinfo=UTC),
        "tags": ["windows", "backup"],
        "categories": ["Guides"],
        "also_read": [Link(url="https://x.techidaily.com/b/", title="B: the sequel")],
        "affiliate_links": [
            AffiliateLink(url="https://tools.techidaily.com/v/", text="Vendor", network="techidaily")
        ],
        "markdown": "## Step one\n\nDo the thing.\n",
        "text": "Step one\n\nDo the thing.",
        "word_count": 5,
        "content_hash": content_hash("## Step one\n\nDo the thing.\n"),
    }
    base.update(kw)
    return Article(**base)  # type: ignore[arg-type]


def test_front_matter_key_order_and_empty_values_omitted() -> None:
    doc = _article().to_markdown()
    meta, body = split_front_matter(doc)
    keys = list(meta)
    assert keys == [k for k in FRONT_MATTER_KEYS if k in keys]
    assert "author" not in meta and "description" not in meta and "related" not in meta
    assert meta["url"] == "https://fix.techidaily.com/a/"
    assert body == "## Step one\n\nDo the thing.\n"
    assert "date: 2024-10-17T18:38:42.215Z" in doc


def test_round_trip() -> None:
    art = _article()
    back = Article.from_markdown(art.to_markdown())
    for name in (
        "title",
        "published",
        "updated",
        "tags",
        "categories",
        "also_read",
        "affiliate_links",
        "markdown",
        "word_count",
        "content_hash",
        "canonical_url",
    ):
        assert getattr(back, name) == getattr(art, name), name


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@settings(max_examples=150)
@given(
    title=_text,
    tags=st.lists(_text.filter(str.strip), max_size=4),
    links=st.lists(st.tuples(_text, _text), max_size=3),
    when=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
)
def test_front_matter_round_trips(
    title: str, tags: list[str], links: list[tuple[str, str]], when: datetime
) -> None:
    when = when.replace(microsecond=when.microsecond // 1000 * 1000, tzinfo=UTC)
    art = _article(
        title=title,
        tags=tags,
        also_read=[Link(url=u, title=t) for u, t in links],
        published=when,
    )
    meta, _ = split_front_matter(art.to_markdown())
    back = Article.from_markdown(art.to_markdown())
    assert back.title == (title if title else "")
    assert back.tags == [t for t in tags if t]
    assert back.also_read == [Link(url=u, title=t) for u, t in links]
    assert back.published == when
    assert isinstance(yaml.safe_load(yaml.safe_dump(meta)), dict)


@pytest.mark.parametrize(
    "value",
    ["2024-02-30T03:04:05Z", "2024-13-01", "!!int zz", "!!float zz", "!!timestamp zz"],
)
def test_a_value_yaml_cannot_construct_is_a_post_error(value: str) -> None:
    # PyYAML's constructors raise ValueError or AttributeError on these, not a YAMLError
    with pytest.raises(PostError, match="invalid value in YAML front matter"):
        split_front_matter(f"---\ntitle: T\ndate: {value}\n---\nbody\n")
