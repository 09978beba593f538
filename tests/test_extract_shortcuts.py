"""The extractor's shortcuts give what the long way gives (they only skip work that would find nothing)."""

from __future__ import annotations

import importlib
import random

import pytest

import thresher
from thresher.clean import dom
from thresher.extract.profiles import default_profiles

extract_module = importlib.import_module(
    "thresher.extract"
)  # the package (``thresher.extract`` is the function)
links_module = importlib.import_module("thresher.extract.links")


@pytest.mark.parametrize(
    ("selector", "early"),
    [
        ("div.home-article-list", True),
        ("div.card article.card-content.article", True),
        ("#board DIV#main", True),
        ("body.single, body.home.blog", True),
        (".category-list", False),  # no tag: could be the <code class="language-…"> cleaning adds
        ("#archive", False),
        ("pre.listing", False),
        ("meta.kind", False),
        ("div.a > div.b", False),  # an unwrap can make a new parent
        ("div.a + div.b", False),  # a removal can make new neighbours
        ("div.a:first-child", False),
        ("a[href*='/page/']", False),  # cleaning rewrites hrefs
    ],
)
def test_early_kind_markers_only_for_remove_only_selectors(selector: str, early: bool) -> None:
    assert bool(extract_module._early_kinds((selector,))) is early


def test_generator_read_from_the_markup() -> None:
    guess = extract_module._generator_in_markup
    assert guess(b'<meta name="generator" content=" Hexo 7.3.0 ">') == "Hexo 7.3.0"
    assert guess(b"<meta name=generator content=''><p>x") is None
    assert guess(b"<p>no generator</p>") is None


def test_a_wrong_generator_guess_is_corrected_by_the_tree() -> None:
    # the markup regex sees "Hexo" in a comment; the tree's meta says WordPress
    page = (
        b"<!-- <meta name='generator' content='Hexo 7'> --><html><head>"
        b"<meta content='WordPress 6.4' name='generator'></head>"
        b"<body class='single single-post'><article class='post'><div class='entry-content'>"
        + b"<p>Some words of the post.</p>" * 30
        + b"</div></article></body></html>"
    )
    article = thresher.extract(page, "https://example.com/2024/01/post/")
    assert article.profile == "wordpress"
    assert article.kind == "article"


def test_plain_host_matches_urlsplit_reading() -> None:
    plain = links_module._plain_host
    assert plain("https://Shop.Example.com/x?y#z") == "shop.example.com"
    assert plain("http://a.b") == "a.b"
    for href in (
        "https://user@a.com/",
        "https://a.com:8080/",
        "https://[::1]/",
        "https://é.com/",
        "ftp://a/",
        "https://",
    ):
        assert plain(href) is None, href
    assert plain("https://a.com\n") is None


def test_affiliate_lookup_answers_the_same_twice() -> None:
    index = default_profiles().catalogue.affiliates
    first = index.lookup("www.amazon.co.uk")
    assert first and first == index.lookup("www.amazon.co.uk")
    assert index.lookup("example.com") == ()


def test_affiliate_ranges_cut_as_one_regex_would() -> None:
    rng = random.Random(5)
    bits = [
        b"<!-- affiliate ads begin -->",
        b"<!--AFFILIATE\n ADS BEGIN-->",
        b"<!-- affiliate ads end -->",
        b"<!--affiliate ads  END -->",
        b"<!--",
        b"-->",
        b"<li>",
        b"</li>",
        b"</ul>",
        b"<br/>",
        b"affiliate",
        b"text",
    ]
    for _ in range(3000):
        page = b"".join(rng.choice(bits) for _ in range(rng.randint(0, 10)))
        expected = (page, 0)
        if b"affiliate" in page:
            expected = dom.AFFILIATE_RANGE.subn(lambda m: dom._outer_end_tags(m.group(0)), page)
        assert dom.strip_affiliate_ranges(page) == expected, page
