"""Properties of the extractor that must hold for any input."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import thresher
from thresher.errors import NotHTML

_TAGS = [
    "p",
    "div",
    "span",
    "a",
    "ul",
    "ol",
    "li",
    "table",
    "tr",
    "td",
    "h2",
    "pre",
    "code",
    "ins",
    "script",
    "article",
    "main",
    "img",
    "br",
    "blockquote",
    "noscript",
    "figure",
    "b",
    "i",
]
_ATTRS = [
    "",
    ' class="adsbygoogle"',
    ' href="/x"',
    ' data-src="/a.png"',
    ' class="entry-content"',
    ' id="div-gpt-ad-1"',
    ' class="article-content markdown-body"',
    ' href="https://tools.techidaily.com/v/"',
    ' class="atpl-alsoreadstyle"',
    ' class="yarpp-related"',
    ' href="javascript:void(0)"',
]

markup = st.lists(
    st.one_of(
        st.builds(lambda t, a: f"<{t}{a}>", st.sampled_from(_TAGS), st.sampled_from(_ATTRS)),
        st.builds(lambda t: f"</{t}>", st.sampled_from(_TAGS)),
        st.sampled_from(
            [
                "<!-- affiliate ads begin -->",
                "<!-- affiliate ads end -->",
                "<!--",
                "-->",
                "&amp;",
                "&#0;",
                "<![CDATA[",
                "<meta charset='koi8-r'>",
                "Also read:",
                "Read more: ",
            ]
        ),
        st.text(max_size=30),
    ),
    max_size=60,
).map("".join)


def _check(article: thresher.Article) -> None:
    assert article.kind in ("article", "listing", "page")
    assert "<ins" not in article.markdown
    assert "adsbygoogle" not in article.markdown
    assert article.word_count >= 0


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(markup)
def test_any_markup_gives_an_article_or_not_html(html: str) -> None:
    with contextlib.suppress(NotHTML):
        _check(thresher.extract(html, "https://example.test/post/"))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_give_an_article_or_not_html(data: bytes) -> None:
    with contextlib.suppress(NotHTML):
        _check(thresher.extract(data, "https://example.test/post/"))


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_any_text_gives_an_article_or_not_html(text: str) -> None:
    with contextlib.suppress(NotHTML):
        _check(thresher.extract(text, ""))


@settings(max_examples=100)
@given(markup)
def test_extraction_is_deterministic(html: str) -> None:
    try:
        first = thresher.extract(html, "https://example.test/p/")
    except NotHTML:
        return
    assert thresher.extract(html, "https://example.test/p/") == first
