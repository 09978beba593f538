"""The fixture web server: loopback only, discovery files, listings, validators, variants and faults."""

from __future__ import annotations

import email.utils
import gzip
import ipaddress
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from protego import Protego

import thresher
from thresher.fixtureserver import (
    FAULT_PATHS,
    OFFSITE_URL,
    REDIRECT_CHAIN_HOPS,
    TRAP_PATHS,
    FixtureServer,
    SiteSpec,
    _gzip_bomb_parts,
    _huge_stream,
    default_sites,
)

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"
SLOW = 0.3
HREF = re.compile(r"""href=["']([^"']+)["']""")
ROOT = Path(__file__).resolve().parent.parent
NEXT = re.compile(
    r"""<a[^>]*\bhref=["']([^"']+)["'][^>]*>\s*(?:Next<|Older posts &raquo;|<i [^>]*angle-right)"""
)


@pytest.fixture(scope="module")
def server() -> Iterator[FixtureServer]:
    with FixtureServer(default_sites(12), slow_seconds=SLOW) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fresh(request: pytest.FixtureRequest) -> None:
    """Each test that uses the server starts with an empty log and fresh fault state."""
    if "server" in request.fixturenames:
        srv: FixtureServer = request.getfixturevalue("server")
        srv.clear_log()
        srv.reset_state()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5, headers={"User-Agent": "thresher-test/1.0"}) as c:
        yield c


def links(page: str) -> set[str]:
    return set(HREF.findall(page))


def same_site_paths(page: str, base: str) -> set[str]:
    """Root-relative paths of every same-site link on a page (absolute links reduced to their path)."""
    out = set()
    for href in links(page):
        if href.startswith(base):
            href = href[len(base) :]
        if href.startswith("/") and not href.startswith("//"):
            out.add(href.split("#")[0])
    return out


# ---------------------------------------------------------------------------------------------- binding


def test_binds_only_loopback_addresses_one_port_each_site(server: FixtureServer) -> None:
    bound = server.bound
    assert len(bound) == 3
    loopback = ipaddress.ip_network("127.0.0.0/8")
    assert all(ipaddress.ip_address(host) in loopback for host, _ in bound)
    assert {port for _, port in bound} == {server.port}
    assert [f"http://{h}:{p}" for h, p in bound] == list(server.addresses.values())
    assert server.addresses == {
        "fix-guides": f"http://127.0.0.2:{server.port}",
        "byteguides": f"http://127.0.0.3:{server.port}",
        "oddbits": f"http://127.0.0.4:{server.port}",
    }


@pytest.mark.parametrize(
    "address", ["0.0.0.0", "192.168.1.10", "10.0.0.1", "::1", "localhost", "127.0.0.0", ""]
)
def test_refuses_non_loopback_addresses(address: str) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8|not an IP address"):
        FixtureServer([SiteSpec("x", address)])


def test_refuses_duplicate_addresses_and_unknown_templates() -> None:
    with pytest.raises(ValueError, match="unique"):
        FixtureServer([SiteSpec("a", "127.0.0.2"), SiteSpec("b", "127.0.0.2")])
    with pytest.raises(ValueError, match="unknown template"):
        FixtureServer([SiteSpec("a", "127.0.0.2", template="jekyll")])  # type: ignore[arg-type]


def test_each_address_serves_only_its_own_site(server: FixtureServer, client: httpx.Client) -> None:
    homes = {name: client.get(base + "/").text for name, base in server.addresses.items()}
    assert "Fix Guides" in homes["fix-guides"] and "ByteGuides" not in homes["fix-guides"]
    assert "ByteGuides" in homes["byteguides"] and "Odd Bits" not in homes["byteguides"]
    assert "Odd Bits" in homes["oddbits"] and "Fix Guides" not in homes["oddbits"]
    redefine_article = server.articles("fix-guides")[0]
    assert client.get(server.url("byteguides", redefine_article.path)).status_code == 404
    # Routing follows the socket's local address, never the Host header.
    spoofed = client.get(server.url("fix-guides", "/"), headers={"Host": f"127.0.0.3:{server.port}"})
    assert "Fix Guides" in spoofed.text and "ByteGuides" not in spoofed.text
    assert {r.host for r in server.log} == {f"127.0.0.{k}:{server.port}" for k in (2, 3, 4)}


# ---------------------------------------------------------------------------------------------- discovery


def test_robots_txt(server: FixtureServer, client: httpx.Client) -> None:
    base = server.addresses["fix-guides"]
    resp = client.get(base + "/robots.txt")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    lines = resp.text.splitlines()
    star = lines.index("User-agent: *")
    assert lines[star + 1 : star + 4] == [
        "Disallow: /private/",
        "Disallow: /article_preview.html",
        "Crawl-delay: 0.2",
    ]
    assert f"Sitemap: {base}/sitemap_index.xml" in lines
    rules = Protego.parse(resp.text)
    assert not rules.can_fetch(base + "/private/draft-1/", "thresher")
    assert not rules.can_fetch(base + "/article_preview.html?slug=x", "thresher")
    assert rules.can_fetch(server.articles("fix-guides")[0].url, "thresher")
    assert not rules.can_fetch(base + "/", "BadBot")
    assert rules.crawl_delay("thresher") == 0.2
    assert list(rules.sitemaps) == [base + "/sitemap_index.xml"]
    plain = client.get(server.url("byteguides", "/robots.txt")).text
    assert "Crawl-delay" not in plain


@pytest.mark.parametrize("site", ["fix-guides", "byteguides", "oddbits"])
def test_sitemap_index_and_sitemaps(server: FixtureServer, client: httpx.Client, site: str) -> None:
    base = server.addresses[site]
    index = ET.fromstring(client.get(base + "/sitemap_index.xml").content)
    assert index.tag == SM + "sitemapindex"
    children = [e.findtext(SM + "loc") for e in index.iter(SM + "sitemap")]
    assert children == [base + "/sitemap.xml", base + "/sitemap1.xml.gz", base + "/sitemap.txt"]
    first = ET.fromstring(client.get(base + "/sitemap.xml").content)
    gz = client.get(base + "/sitemap1.xml.gz")
    assert gz.headers["content-type"] == "application/gzip" and "content-encoding" not in gz.headers
    second = ET.fromstring(gzip.decompress(gz.content))
    xml_urls = []
    for urlset in (first, second):
        assert urlset.tag == SM + "urlset"
        for url in urlset.iter(SM + "url"):
            xml_urls.append(url.findtext(SM + "loc"))
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", url.findtext(SM + "lastmod") or "")
    txt = client.get(base + "/sitemap.txt").text.splitlines()
    assert txt == xml_urls and len(set(txt)) == len(txt)
    public = [a for a in server.articles(site) if not a.private]
    assert {a.url for a in public} <= set(txt)
    # The articles are split between the two urlsets.
    first_urls = {u.findtext(SM + "loc") for u in first.iter(SM + "url")}
    assert first_urls & {a.url for a in public} and {a.url for a in public} - first_urls


def test_orphan_article_is_only_in_the_sitemap(server: FixtureServer, client: httpx.Client) -> None:
    base = server.addresses["fix-guides"]
    orphan = [a for a in server.articles("fix-guides") if a.orphan]
    assert len(orphan) == 1
    assert orphan[0].url in client.get(base + "/sitemap.txt").text
    for path in ("/", "/page/2/", *(a.path for a in server.articles("fix-guides") if a.listed)):
        assert orphan[0].path not in client.get(base + path).text
    assert client.get(orphan[0].url).status_code == 200


def test_atom_feed_has_latest_articles_with_full_content(server: FixtureServer, client: httpx.Client) -> None:
    base = server.addresses["fix-guides"]
    feed = ET.fromstring(client.get(base + "/atom.xml").content)
    entries = feed.findall(ATOM + "entry")
    listed = [a for a in server.articles("fix-guides") if a.listed]
    assert len(entries) == min(20, len(listed))
    assert [e.findtext(ATOM + "title") for e in entries] == [a.title for a in listed[:20]]
    first = entries[0]
    assert first.find(ATOM + "link").get("href") == listed[0].url  # type: ignore[union-attr]
    assert (first.findtext(ATOM + "published") or "").endswith("Z")
    content = first.findtext(ATOM + "content") or ""
    assert "atpl-alsoreadstyle" in content and "affiliate ads begin" in content  # ads and Also read included
    assert first.find(ATOM + "summary") is not None and first.findall(ATOM + "category")


def test_wordpress_rss_feed(server: FixtureServer, client: httpx.Client) -> None:
    resp = client.get(server.url("byteguides", "/feed/"))
    assert resp.headers["content-type"].startswith("application/rss+xml")
    channel = ET.fromstring(resp.content).find("channel")
    assert channel is not None
    items = channel.findall("item")
    listed = [a for a in server.articles("byteguides") if a.listed]
    assert [i.findtext("link") for i in items] == [a.url for a in listed[:20]]
    encoded = items[0].findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or ""
    assert "<p>" in encoded
    assert email.utils.parsedate_to_datetime(items[0].findtext("pubDate") or "") == listed[0].published


# ---------------------------------------------------------------------------------------------- pages


@pytest.mark.parametrize("site", ["fix-guides", "byteguides", "oddbits"])
def test_listings_link_every_listed_article_and_articles_link_each_other(
    server: FixtureServer, client: httpx.Client, site: str
) -> None:
    base = server.addresses[site]
    articles = server.articles(site)
    listed = {a.path for a in articles if a.listed}
    found: set[str] = set()
    path: str | None = "/"
    pages = 0
    while path and pages < 5:
        page = client.get(base + path).text
        found |= same_site_paths(page, base) & listed
        pages += 1
        nxt = NEXT.search(page)
        path = nxt[1].removeprefix(base) if nxt else None
    assert pages == 2 and found == listed
    for a in articles[:4]:
        page = client.get(a.url).text
        others = (same_site_paths(page, base) & listed) - {a.path}
        assert len(others) >= 2, a.path
        assert a.title in page
    assert len({a.title for a in articles}) == len(articles)
    bodies = {client.get(a.url).text.split("In this article:", 1)[1][:400] for a in articles[:4]}
    assert len(bodies) == 4  # generated bodies differ


def test_tag_category_about_and_404(server: FixtureServer, client: httpx.Client) -> None:
    for site, tag_base, cat_base, about in (
        ("fix-guides", "/tags/", "/categories/", "/about/"),
        ("byteguides", "/tag/", "/category/", "/about/"),
        ("oddbits", "/tags/", "/categories/", "/about.html"),
    ):
        a = server.articles(site)[0]
        tag_page = client.get(server.url(site, f"{tag_base}{a.tags[0]}/"))
        assert tag_page.status_code == 200 and a.path in tag_page.text.replace(server.addresses[site], "")
        cat_page = client.get(server.url(site, cat_base))
        assert cat_page.status_code == 404  # only concrete categories exist
        assert client.get(server.url(site, about)).status_code == 200
        missing = client.get(server.url(site, "/no/such/page/"))
        assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    redefine = server.articles("fix-guides")[0]
    cat = client.get(server.url("fix-guides", "/categories/Windows-Tips/Storage/"))
    assert cat.status_code == 200 and redefine.path in cat.text
    moved = client.get(server.url("fix-guides", "/about"))
    assert moved.status_code == 301 and moved.headers["location"] == "/about/"


def test_generated_articles_extract_to_their_ground_truth(
    server: FixtureServer, client: httpx.Client
) -> None:
    for site in server.addresses:
        for a in server.articles(site)[:4]:
            article = thresher.extract(client.get(a.url).content, url=a.url)
            assert article.title == a.title
            assert sorted(article.tags) == sorted(a.tags)
            assert article.published is not None and article.published.date() == a.published.date()


def test_disallowed_pages_exist_and_are_linked_from_home(server: FixtureServer, client: httpx.Client) -> None:
    for site, base in server.addresses.items():
        home = client.get(base + "/").text
        private = [a for a in server.articles(site) if a.private]
        assert {a.path for a in private} == {
            "/private/draft-1/",
            "/private/draft-2/",
            "/article_preview.html",
        }
        for path in ("/private/", "/private/draft-1/", "/private/draft-2/", "/article_preview.html"):
            assert f'href="{path}"' in home
            assert client.get(base + path).status_code == 200
        hub = client.get(base + "/private/").text
        assert "/private/draft-1/" in hub and "/private/draft-2/" in hub


def test_noindex_and_noarchive_articles(server: FixtureServer, client: httpx.Client) -> None:
    for site in server.addresses:
        arts = server.articles(site)
        noindex = [a for a in arts if a.noindex]
        noarchive = [a for a in arts if a.noarchive]
        assert len(noindex) == len(noarchive) == 1
        page = client.get(noindex[0].url)
        assert re.search(r"""<meta name=["']robots["'] content=["']noindex""", page.text)
        assert "x-robots-tag" not in page.headers
        assert client.get(noarchive[0].url).headers["x-robots-tag"] == "noarchive"
        assert "noindex" not in client.get(arts[0].url).text


def test_conditional_requests(server: FixtureServer, client: httpx.Client) -> None:
    url = server.articles("fix-guides")[0].url
    first = client.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert (
        first.status_code == 200 and not etag.startswith("W/") and first.headers["content-encoding"] == "gzip"
    )
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    past = email.utils.format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)
    assert client.get(url, headers={"If-Modified-Since": past}).status_code == 200
    # The identity representation has its own strong tag; either validates.
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.headers["etag"] != etag
    assert int(plain.headers["content-length"]) == len(plain.content)
    assert client.get(url, headers={"If-None-Match": plain.headers["etag"]}).status_code == 304
    assert client.get(url, headers={"If-None-Match": f'"x", {etag}'}).status_code == 304
    sitemap = client.get(server.url("fix-guides", "/sitemap.xml"))
    assert client.get(sitemap.url, headers={"If-None-Match": sitemap.headers["etag"]}).status_code == 304
    records = [r for r in server.log if r.path == "/" + url.split("/", 3)[3]]
    assert [r.status for r in records][:2] == [200, 304]
    assert records[1].headers["if-none-match"] == etag


def test_precompress_gzips_every_text_page_up_front() -> None:
    with FixtureServer([SiteSpec("pre", "127.0.0.3", 4, template="plain")]) as srv:
        pages = srv._site_by_name["pre"].pages
        assert all(p.gzipped is None for p in pages.values())
        count = srv.precompress()
        text = [p for p in pages.values() if p.content_type.startswith(("text/", "application/xml"))]
        assert count >= len(text) > 5 and all(p.gzipped is not None for p in text)
        url = srv.articles("pre")[0].url
        with httpx.Client() as c:
            r = c.get(url)
        assert (
            r.headers["content-encoding"] == "gzip"
            and gzip.decompress(pages["/" + url.split("/", 3)[3]].gzipped or b"") == r.content
        )


def test_head_and_post(server: FixtureServer, client: httpx.Client) -> None:
    url = server.articles("byteguides")[0].url
    head = client.head(url, headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 10_000
    assert client.post(url, content=b"x").status_code == 405


def test_canonical_variants_serve_the_same_page(server: FixtureServer, client: httpx.Client) -> None:
    for site in ("fix-guides", "byteguides"):
        base = server.addresses[site]
        a = server.articles(site)[0]
        b = server.articles(site)[1]
        home = client.get(base + "/").text
        assert f'href="{a.path}index.html"' in home and f'href="{b.path}?utm_source=x"' in home
        canonical = client.get(a.url).text
        assert f'<link rel="canonical" href="{a.url}"' in canonical
        assert client.get(a.url + "index.html").text == canonical
        assert client.get(a.url + "?utm_source=x").text == canonical
        moved = client.get(a.url.rstrip("/"))
        assert moved.status_code == 301 and moved.headers["location"] == a.path
    plain = server.articles("oddbits")[1]
    assert client.get(plain.url + "?utm_source=x").text == client.get(plain.url).text


# ---------------------------------------------------------------------------------------------- faults


def test_faults_are_linked_from_home_and_listed_in_sitemap(
    server: FixtureServer, client: httpx.Client
) -> None:
    base = server.addresses["oddbits"]
    home = client.get(base + "/").text
    sitemap = client.get(base + "/sitemap.txt").text.splitlines()
    for path in FAULT_PATHS:
        assert f'href="{path}"' in home and base + path in sitemap
    index = client.get(base + "/fault/").text
    assert all(p in index for p in FAULT_PATHS)
    assert client.get(server.url("fix-guides", "/fault/429")).status_code == 404  # only the faults site


def test_fault_429_then_ok_per_client(server: FixtureServer, client: httpx.Client) -> None:
    url = server.url("oddbits", "/fault/429")
    first = client.get(url)
    assert first.status_code == 429 and first.headers["retry-after"] == "2"
    assert client.get(url).status_code == 200
    server.reset_state()
    assert client.get(url).status_code == 429


def test_fault_429_with_http_date(server: FixtureServer, client: httpx.Client) -> None:
    url = server.url("oddbits", "/fault/429-date")
    first = client.get(url)
    assert first.status_code == 429
    when = email.utils.parsedate_to_datetime(first.headers["retry-after"])
    assert 1.5 <= when.timestamp() - time.time() <= 3.5
    assert client.get(url).status_code == 200


def test_fault_503_twice(server: FixtureServer, client: httpx.Client) -> None:
    url = server.url("oddbits", "/fault/503")
    assert [client.get(url).status_code for _ in range(4)] == [503, 503, 200, 200]


def test_fault_slow_is_logged_before_the_answer(server: FixtureServer, client: httpx.Client) -> None:
    start = time.monotonic()
    resp = client.get(server.url("oddbits", "/fault/slow"))
    done = time.monotonic()
    assert resp.status_code == 200 and done - start >= SLOW
    record = server.requests_for("oddbits")[-1]
    assert record.path == "/fault/slow" and record.status == 200
    assert record.time <= done - SLOW + 0.05
    with pytest.raises(httpx.ReadTimeout):
        client.get(server.url("oddbits", "/fault/slow"), timeout=SLOW / 3)


def test_fault_reset_and_truncated(server: FixtureServer, client: httpx.Client) -> None:
    with pytest.raises(httpx.TransportError):
        client.get(server.url("oddbits", "/fault/reset"))
    with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
        client.get(server.url("oddbits", "/fault/truncated"))
    statuses = {r.path: r.status for r in server.log}
    assert statuses == {"/fault/reset": 0, "/fault/truncated": 200}


def test_fault_redirects(server: FixtureServer, client: httpx.Client) -> None:
    base = server.addresses["oddbits"]
    loop = client.get(base + "/fault/redirect-loop")
    assert loop.status_code == 302 and loop.headers["location"] == base + "/fault/redirect-loop-b"
    assert client.get(loop.headers["location"]).headers["location"] == base + "/fault/redirect-loop"
    with pytest.raises(httpx.TooManyRedirects):
        client.get(base + "/fault/redirect-loop", follow_redirects=True)
    url, hops, statuses = base + "/fault/redirect-chain", 0, set()
    while True:
        resp = client.get(url)
        if resp.status_code == 200:
            break
        statuses.add(resp.status_code)
        url = str(resp.url.join(resp.headers["location"]))
        hops += 1
    assert hops == REDIRECT_CHAIN_HOPS and statuses == {301, 302, 303, 307, 308}
    with httpx.Client(timeout=5, max_redirects=10) as strict, pytest.raises(httpx.TooManyRedirects):
        strict.get(base + "/fault/redirect-chain", follow_redirects=True)
    assert client.get(base + "/fault/redirect-chain", follow_redirects=True).status_code == 200  # limit 20
    offsite = client.get(base + "/fault/redirect-offsite")
    assert offsite.status_code == 302 and offsite.headers["location"] == OFFSITE_URL
    assert all(r.host.startswith("127.0.0.4:") for r in server.log)


def test_fault_huge_is_streamed_without_length(server: FixtureServer, client: httpx.Client) -> None:
    with client.stream("GET", server.url("oddbits", "/fault/huge")) as resp:
        assert "content-length" not in resp.headers and resp.headers["transfer-encoding"] == "chunked"
        total = sum(len(chunk) for chunk in resp.iter_raw())
    assert total == 50 * 1024 * 1024
    small = b"".join(_huge_stream(100_000))
    assert len(small) == 100_000 and small.startswith(b"<!DOCTYPE html>") and small.endswith(b"</html>\n")


def test_fault_gzip_bomb(server: FixtureServer, client: httpx.Client) -> None:
    with client.stream("GET", server.url("oddbits", "/fault/gzip-bomb")) as resp:
        assert resp.headers["content-encoding"] == "gzip"
        size = int(resp.headers["content-length"])
        inflater = zlib.decompressobj(31)
        inflated = received = 0
        for chunk in resp.iter_raw():
            received += len(chunk)
            data = inflater.decompress(chunk, 1 << 22)
            inflated += len(data)
            while inflater.unconsumed_tail and inflated < 64 << 20:
                inflated += len(inflater.decompress(inflater.unconsumed_tail, 1 << 22))
            if inflated >= 64 << 20:
                break
    assert size < 2 << 20 and inflated >= 64 << 20 and received < size  # >32x before reading half of it
    header, block, count, tail = _gzip_bomb_parts(4 << 20)
    assert gzip.decompress(header + block * count + tail) == bytes(4 << 20)  # CRC and length check out
    full = _gzip_bomb_parts(1 << 30)
    assert len(full[0]) + len(full[1]) * full[2] + len(full[3]) == size


def test_fault_content_types(server: FixtureServer, client: httpx.Client) -> None:
    wrong = client.get(server.url("oddbits", "/fault/wrong-type"))
    assert wrong.headers["content-type"] == "image/png" and wrong.content.startswith(b"<!DOCTYPE html>")
    charset = client.get(server.url("oddbits", "/fault/wrong-charset"))
    assert charset.headers["content-type"] == "text/html; charset=iso-8859-1"
    assert "Łódź" in charset.content.decode("utf-8") and "Łódź" not in charset.text
    binary = client.get(server.url("oddbits", "/fault/binary"))
    assert binary.headers["content-type"] == "application/octet-stream" and len(binary.content) == 4096


# ---------------------------------------------------------------------------------------------- traps


def test_traps_never_end(server: FixtureServer, client: httpx.Client) -> None:
    base = server.addresses["oddbits"]
    home = client.get(base + "/").text
    assert all(f'href="{p.replace("&", "&amp;")}"' in home for p in TRAP_PATHS)
    url = base + "/calendar/2024/01/"
    for _ in range(30):
        page = client.get(url)
        assert page.status_code == 200
        url = base + re.findall(r'rel="next" href="([^"]+)"', page.text)[0]
    assert url.endswith("/calendar/2026/07/")
    url = base + "/a/"
    for depth in range(1, 20):
        page = client.get(url)
        assert f"Level {depth}." in page.text and 'href="a/"' in page.text
        url = str(page.url.join("a/"))
    search = client.get(base + "/search?q=usb&page=7").text
    assert "/search?q=usb&amp;page=8" in search and "sort=date" in search and "q=usb+windows" in search
    assert client.get(server.url("fix-guides", "/calendar/2024/01/")).status_code == 404


# ---------------------------------------------------------------------------------------------- log


def test_log_records_requests_with_headers(server: FixtureServer, client: httpx.Client) -> None:
    before = time.monotonic()
    client.get(server.url("fix-guides", "/?x=1"), headers={"If-None-Match": '"nope"'})
    client.get(server.url("byteguides", "/robots.txt"))
    log = server.log
    assert [(r.method, r.path, r.status) for r in log] == [("GET", "/?x=1", 200), ("GET", "/robots.txt", 200)]
    first = log[0]
    assert first.host == f"127.0.0.2:{server.port}" and before <= first.time <= log[1].time
    assert first.headers["user-agent"] == "thresher-test/1.0" and first.headers["if-none-match"] == '"nope"'
    assert abs(first.wall - time.time()) < 5
    assert [r.path for r in server.requests_for(server.addresses["byteguides"])] == ["/robots.txt"]
    assert server.requests_for("fix-guides") == server.requests_for(f"127.0.0.2:{server.port}") == [first]
    log.clear()
    assert len(server.log) == 2  # a copy
    server.clear_log()
    assert server.log == []


def test_command_line_serves_until_interrupted() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "thresher.fixtureserver", "--articles", "3", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        urls = dict(line.split() for line in lines)
        assert list(urls) == ["fix-guides", "byteguides", "oddbits"]
        assert httpx.get(urls["oddbits"] + "robots.txt", timeout=5).status_code == 200
        assert urls["fix-guides"].startswith("http://127.0.0.2:")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        if proc.stdout is not None:
            proc.stdout.close()
