"""The extractor's shortcuts give what the long way gives (they only skip work that would find nothing)."""

from __future__ import annotations

import importlib
import random
from pathlib import Path

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


# --- settled_kind: the crawl's shortcut past the extraction of listings ------------------------------------

_LISTING_URLS = (
    "https://example.com/",
    "https://example.com/page/3/",
    "https://example.com/tags/windows/",
    "https://example.com/categories/Tips/Storage/",
    "https://example.com/archives/2024/",
)


def _settles_as_extract_says(page: bytes, url: str) -> bool:
    """settled_kind agrees with extract whenever it answers; whether it answered."""
    settled = extract_module.settled_kind(page, url)
    if settled is None:
        return False
    article = thresher.extract(page, url)
    assert settled == (article.kind, article.robots), url
    return True


def test_settled_kind_agrees_with_extract_on_every_fixture_site_page() -> None:
    from thresher.fixtureserver import FixtureServer, default_sites

    settled: dict[str, int] = {}
    with FixtureServer(default_sites(40)) as server:
        for name, site in server._site_by_name.items():
            for path, page in site.pages.items():
                if "html" not in page.content_type:
                    continue
                if _settles_as_extract_says(page.body, site.base + path):
                    settled[name] = settled.get(name, 0) + 1
    # the shortcut is taken on every template's listings (home, /page/N/, tags, categories)
    assert set(settled) == {"fix-guides", "byteguides", "oddbits"}
    assert min(settled.values()) >= 3


def test_settled_kind_agrees_with_extract_on_every_golden_page_at_listing_urls(fixtures_dir: Path) -> None:
    pages = sorted((fixtures_dir / "pages").glob("*/*.html"))
    assert pages
    for path in pages:
        page = path.read_bytes()
        for url in _LISTING_URLS:
            _settles_as_extract_says(page, url)
        assert extract_module.settled_kind(page, "https://example.com/2024/01/a-post/") is None


def test_settled_kind_leaves_marked_articles_and_article_paths_to_extract() -> None:
    head = b"<html><head><meta name='generator' content='Hexo 7.0'><meta name='robots' content='NoIndex'>"
    listing = head + b"</head><body><div class='home-article-list'><a href='/p/'>p</a></div></body></html>"
    assert _settles_as_extract_says(listing, "https://example.com/page/2/")
    assert extract_module.settled_kind(listing, "https://example.com/page/2/") == ("listing", ["noindex"])
    assert extract_module.settled_kind(listing, "https://example.com/2024/01/post/") is None
    assert extract_module.settled_kind(listing, "") is None
    with pytest.raises(thresher.errors.NotHTML):
        extract_module.settled_kind(b"\x00\x01 not html", "https://example.com/")
