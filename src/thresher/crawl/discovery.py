"""Where the URLs come from: robots.txt Sitemap lines, sitemaps, RSS/Atom feeds and the links of a page.

XML safety. Sitemaps and feeds are parsed with a streaming expat parser (``xml.parsers.expat``) that
refuses any ``<!DOCTYPE`` through ``StartDoctypeDeclHandler``, before expat reads a single entity
declaration. This is safer than searching the bytes for ``<!DOCTYPE``, which misses UTF-16 documents.
Neither sitemaps nor feeds need a DTD, so billion-laughs and external-entity (XXE) documents fail with
:class:`~thresher.errors.InputError`. RSS 0.91's Netscape DOCTYPE is refused as well. Parameter-entity
parsing is off and nothing external is ever loaded. The parser is told the document has a "foreign DTD"
that it never loads, so an undefined entity such as ``&nbsp;`` in a feed title is skipped and the feed
is still read.

Malformed XML raises InputError, and whatever was parsed before the error is **discarded**: a broken
document cannot be trusted. The crawler falls back to ``sitemap.txt``, the feed or page links. Reading
stops without error once the 50,000-URL limit is reached; the URLs after it are ignored.
"""

from __future__ import annotations

import functools
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn
from urllib.parse import urlsplit
from xml.parsers import expat

from ..errors import InputError
from ..extract.dates import parse_date
from ..urls import absolute_url, canonicalize

__all__ = [
    "MAX_SITEMAP_BYTES",
    "MAX_SITEMAP_URLS",
    "Discovered",
    "extract_links",
    "feed_links",
    "parse_feed",
    "parse_robots_sitemaps",
    "parse_sitemap",
]

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # sitemaps.org: 50 MB uncompressed
MAX_SITEMAP_URLS = 50_000  # sitemaps.org: 50,000 URLs per file
_MAX_XML_DEPTH = 256  # sitemaps and feeds nest a handful of levels; deeper is hostile or not a sitemap

_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_ROBOTS_SITEMAP = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.I)
_W3C_PARTIAL = re.compile(r"^\s*(\d{4})(?:-(\d{2}))?\s*$")  # W3C "YYYY" and "YYYY-MM" forms

_UNKNOWN_ENCODING = expat.errors.codes[expat.errors.XML_ERROR_UNKNOWN_ENCODING]

_FEED_ROOTS = frozenset({"rss", "feed", "RDF"})
_FEED_DATES = ("updated", "modified", "pubDate", "published", "date")  # newest-first preference
_FEED_FIELDS = frozenset({"link", "guid", "id", *_FEED_DATES})
_SITEMAP_FIELDS = frozenset({"loc", "lastmod"})
_SKIP_RELS = frozenset({"nofollow", "sponsored"})
_PAGINATION_RELS = frozenset({"next", "prev", "previous"})


@dataclass(frozen=True, slots=True)
class Discovered:
    """One URL found for the crawl, with its lastmod when the source states one and where it came from."""

    url: str
    lastmod: datetime | None = None
    source: str = ""  # "sitemap", "feed", "link", "robots", "canonical", "next"


class _Stop(Exception):
    """Raised from inside the XML handlers to end parsing early (URL cap reached)."""


# --------------------------------------------------------------------------------------------- helpers


def _web_url(href: str | None, base: str) -> str | None:
    """``href`` resolved against ``base`` and canonicalised; None unless it is an http(s) URL with a host."""
    url = absolute_url(href, base)
    if url is None:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return canonicalize(url)


def _utc(value: datetime | None) -> datetime | None:
    """``value`` converted to UTC."""
    return value.astimezone(UTC) if value is not None else None


def _w3c_date(text: str) -> datetime | None:
    """A W3C datetime (every precision from ``YYYY`` to fractional seconds with offset) as aware UTC."""
    if m := _W3C_PARTIAL.match(text):
        year, month = int(m.group(1)), int(m.group(2) or 1)
        if not (1990 <= year <= 2100 and 1 <= month <= 12):
            return None
        return datetime(year, month, 1, tzinfo=UTC)
    return _utc(parse_date(text))


def _rfc822_date(text: str) -> datetime | None:
    """An RSS ``pubDate`` (RFC 822), falling back to ISO forms; zone-less values are read as UTC."""
    try:
        value = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return _w3c_date(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not 1990 <= value.year <= 2100:
        return None
    return _utc(value)


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress gzip bytes (every member), refusing more than ``limit`` bytes of output."""
    out = bytearray()
    rest = data
    try:
        while rest[:2] == _GZIP_MAGIC:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pending = rest
            while pending and not inflater.eof:
                out += inflater.decompress(pending, limit + 1 - len(out))
                if len(out) > limit:
                    raise InputError(f"document is larger than {limit} bytes once decompressed")
                pending = inflater.unconsumed_tail
            if not inflater.eof:
                raise InputError("truncated gzip data")
            rest = inflater.unused_data
    except zlib.error as exc:
        raise InputError(f"corrupt gzip data: {exc}") from exc
    return bytes(out)


def _prepare(data: bytes, limit: int) -> bytes:
    """Gunzip (detected by magic bytes), enforce the size cap, drop a UTF-8 BOM and leading whitespace."""
    if data[:2] == _GZIP_MAGIC:
        data = _gunzip(data, limit)
    elif len(data) > limit:
        raise InputError(f"document is larger than {limit} bytes")
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    if not data.startswith(_UTF16_BOMS):
        # A blank line before <?xml ...?> is the classic broken-plugin sitemap; expat refuses it.
        data = data.lstrip(b" \t\r\n")
    return data


def _looks_like_xml(data: bytes) -> bool:
    """True when the first non-blank character is ``<`` (plain-text sitemaps are not)."""
    if data.startswith(_UTF16_BOMS):
        return data.decode("utf-16", errors="replace").lstrip().startswith("<")
    return data.startswith(b"<")


# ------------------------------------------------------------------------------------------ XML walker


class _Collector:
    """Expat handlers that turn a sitemap or feed into URLs, tracking local names and ``xml:base``."""

    def __init__(self, base_url: str, max_urls: int) -> None:
        self.max_urls = max_urls
        self.kind = ""  # "sitemap" or "feed", set by the root element
        self.names: list[str] = []
        self.bases: list[str] = [base_url]
        self.entry_depth = 0  # depth of the open <url>/<sitemap>/<item>/<entry>, 0 when none
        self.fields: dict[str, str] = {}
        self.link: str | None = None
        self.text: list[str] | None = None
        self.count = 0
        self.pages: list[Discovered] = []
        self.children: list[str] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        """Open an element: track its local name and xml:base, and note entries and their fields."""
        local = name.rpartition(":")[2]
        base = self.bases[-1]
        if xml_base := attrs.get("xml:base"):
            base = absolute_url(xml_base, base) or base
        self.names.append(local)
        self.bases.append(base)
        depth = len(self.names)
        if depth > _MAX_XML_DEPTH:
            raise InputError("XML nested too deeply for a sitemap or feed")
        if depth == 1:
            self.kind = self._kind_of(local)
        elif self.entry_depth == 0:
            if self._is_entry(local, depth):
                self.entry_depth = depth
                self.fields = {}
                self.link = None
        elif depth == self.entry_depth + 1:
            self._field_start(local, attrs, base)

    def _kind_of(self, root: str) -> str:
        """The document kind from its root element, sitemap or feed; any other root is refused."""
        if root in ("urlset", "sitemapindex"):
            return "sitemap"
        if root in _FEED_ROOTS:
            return "feed"
        raise InputError(f"not a sitemap or feed: root element <{root}>")

    def _is_entry(self, local: str, depth: int) -> bool:
        """Whether this element opens a ``<url>``/``<sitemap>``/``<item>``/``<entry>``."""
        if self.kind == "sitemap":
            return depth == 2 and local in ("url", "sitemap")
        return local in ("item", "entry")

    def _field_start(self, local: str, attrs: dict[str, str], base: str) -> None:
        """A direct child of an entry: take an Atom link now, or start collecting text."""
        if self.kind == "feed" and local == "link" and "href" in attrs:
            # Atom: <link rel="alternate" href> or a link without rel; the first one wins.
            rel = (attrs.get("rel") or "alternate").strip().lower()
            if rel == "alternate" and self.link is None:
                self.link = _web_url(attrs["href"], base)
            return
        wanted = _SITEMAP_FIELDS if self.kind == "sitemap" else _FEED_FIELDS
        if local in wanted and local not in self.fields:
            self.text = []
            if local == "guid" and attrs.get("isPermaLink", "true").strip().lower() == "false":
                self.text = None

    def chars(self, data: str) -> None:
        """Character data, kept only while a wanted field is open."""
        if self.text is not None:
            self.text.append(data)

    def end(self, _name: str) -> None:
        """Close an element: store a finished field, or finish an entry."""
        depth = len(self.names)
        local = self.names.pop()
        base = self.bases.pop()
        if self.text is not None and depth == self.entry_depth + 1:
            value = "".join(self.text).strip()
            self.text = None
            if local == "link" and self.kind == "feed":
                if self.link is None:
                    self.link = _web_url(value, base)
            elif value:
                self.fields[local] = value
        elif depth == self.entry_depth:
            self.entry_depth = 0
            self._finish_entry(local, base)

    def _finish_entry(self, local: str, base: str) -> None:
        """Turn a closed entry into a page or child-sitemap URL; stop at the cap."""
        self.count += 1
        if self.kind == "sitemap":
            url = _web_url(self.fields.get("loc"), base)
            if url is not None:
                if local == "sitemap":
                    self.children.append(url)
                else:
                    lastmod = _w3c_date(self.fields.get("lastmod", ""))
                    self.pages.append(Discovered(url, lastmod, "sitemap"))
        else:
            self._finish_feed_entry()
        if self.count >= self.max_urls:
            raise _Stop

    def _finish_feed_entry(self) -> None:
        """A feed entry's URL (link, else a URL guid/id) and its newest date."""
        url = self.link
        for key in ("guid", "id"):  # a permalink guid or an Atom id that is a URL
            value = self.fields.get(key, "")
            if url is None and value.lower().startswith(("http://", "https://")):
                url = _web_url(value, value)
        if url is None:
            return
        lastmod = None
        for key in _FEED_DATES:
            if key in self.fields:
                lastmod = _rfc822_date(self.fields[key])
                if lastmod is not None:
                    break
        self.pages.append(Discovered(url, lastmod, "feed"))


def _refuse_dtd(*_args: Any) -> NoReturn:
    """Expat handler for DOCTYPE, entity declarations and external entities: always refuse."""
    raise InputError("XML with a DOCTYPE is refused (entity expansion and external entities)")


def _run_expat(collector: _Collector, data: bytes, encoding: str | None) -> None:
    """Feed ``data`` to a DTD-refusing expat parser; ExpatError and ValueError propagate."""
    parser = expat.ParserCreate(encoding)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.UseForeignDTD(True)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.CharacterDataHandler = collector.chars
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except _Stop:
        return


def _malformed(exc: expat.ExpatError) -> InputError:
    """The InputError for an expat error, with its line."""
    return InputError(f"malformed XML at line {exc.lineno}: {expat.ErrorString(exc.code)}")


def _collect(data: bytes, base_url: str, max_urls: int) -> _Collector:
    """Parse an XML sitemap or feed; encodings expat lacks are decoded by Python, unknown ones as UTF-8."""
    collector = _Collector(base_url, max_urls)
    try:
        _run_expat(collector, data, None)
        return collector
    except expat.ExpatError as exc:
        if exc.code != _UNKNOWN_ENCODING:
            raise _malformed(exc) from exc
    except (ValueError, LookupError):  # pyexpat: "multi-byte encodings are not supported", unknown codec
        pass
    match = _XML_ENCODING.match(data)
    try:
        text = data.decode(match.group(1).decode("ascii") if match else "utf-8", errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    collector = _Collector(base_url, max_urls)
    try:
        _run_expat(collector, text.encode("utf-8", errors="replace"), "utf-8")
    except expat.ExpatError as exc:
        raise _malformed(exc) from exc
    except (ValueError, LookupError) as exc:
        raise InputError(f"unreadable XML: {exc}") from exc
    return collector


# ------------------------------------------------------------------------------------------ public API


def parse_robots_sitemaps(text: str, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt (any case, comments dropped), absolute and de-duplicated."""
    found: list[str] = []
    for line in text.lstrip("\ufeff").splitlines():
        m = _ROBOTS_SITEMAP.match(line.partition("#")[0])
        if m and (url := _web_url(m.group(1), base_url)) and url not in found:
            found.append(url)
    return found


def parse_sitemap(
    data: bytes,
    base_url: str,
    *,
    max_bytes: int = MAX_SITEMAP_BYTES,
    max_urls: int = MAX_SITEMAP_URLS,
) -> tuple[list[Discovered], list[str]]:
    """(page URLs with lastmod, child sitemap URLs) of an XML, gzip or plain-text sitemap.

    A ``<urlset>`` gives pages, a ``<sitemapindex>`` gives children, any namespace or none. An RSS or
    Atom feed is accepted too (search engines take feeds as sitemaps); its URLs have source "feed".
    Plain text means one URL per line. URLs are canonicalised and de-duplicated in document order.
    Raises InputError for malformed or unsafe XML and for more than ``max_bytes`` after decompression.
    """
    body = _prepare(data, max_bytes)
    if not _looks_like_xml(body):
        return _plain_text_sitemap(body, base_url, max_urls), []
    collector = _collect(body, base_url, max_urls)
    return _dedup(collector.pages), list(dict.fromkeys(collector.children))


def _plain_text_sitemap(body: bytes, base_url: str, max_urls: int) -> list[Discovered]:
    """One http(s) URL per line; other lines are skipped."""
    pages: list[Discovered] = []
    for line in body.decode("utf-8", errors="replace").splitlines():
        token = line.strip().split(maxsplit=1)[0] if line.strip() else ""
        if not token.lower().startswith(("http://", "https://")):
            continue
        if (url := _web_url(token, base_url)) is not None:
            pages.append(Discovered(url, None, "sitemap"))
            if len(pages) >= max_urls:
                break
    return _dedup(pages)


def _dedup(items: list[Discovered]) -> list[Discovered]:
    """Items with distinct URLs, the first of each kept, in order."""
    seen: dict[str, Discovered] = {}
    for item in items:
        seen.setdefault(item.url, item)
    return list(seen.values())


def parse_feed(data: bytes, base_url: str, *, max_bytes: int = MAX_SITEMAP_BYTES) -> list[Discovered]:
    """The entry URLs of an RSS 2.0/1.0 or Atom feed, with their dates, resolved against xml:base.

    RSS: ``<link>``, else a ``<guid>`` URL unless ``isPermaLink="false"``; date from ``<pubDate>``
    (RFC 822) or ``<dc:date>``. Atom: ``<link rel="alternate">`` or a link without rel, else an ``<id>``
    that is a URL; date from ``<updated>``, else ``<published>``. Raises InputError for anything that
    is not a well-formed, DTD-free feed.
    """
    body = _prepare(data, max_bytes)
    if not _looks_like_xml(body):
        raise InputError("not an RSS or Atom feed: no XML markup")
    collector = _collect(body, base_url, MAX_SITEMAP_URLS)
    if collector.kind != "feed":
        raise InputError("not an RSS or Atom feed: this is a sitemap")
    return _dedup(collector.pages)


# ---------------------------------------------------------------------------------------- page links


def _rels(node: Any) -> set[str]:
    """The lower-cased tokens of a node's ``rel`` attribute."""
    # attrs.get reads one attribute; .attributes builds a dict of them all (3x slower per link)
    return set((node.attrs.get("rel") or "").lower().split())


def _page_base(tree: Any, base_url: str) -> str:
    """The page URL, or the document's ``<base href>`` resolved against it."""
    base = tree.css_first("base[href]")
    if base is not None:
        resolved = absolute_url(base.attributes.get("href"), base_url)
        if resolved is not None and resolved.lower().startswith(("http://", "https://")):
            return resolved
    return base_url


def _page_says_nofollow(tree: Any) -> bool:
    """True when ``<meta name="robots">`` says nofollow or none."""
    for meta in tree.css("meta[name][content]"):
        if (meta.attributes.get("name") or "").strip().lower() == "robots":
            tokens = re.split(r"[\s,]+", (meta.attributes.get("content") or "").lower())
            if "nofollow" in tokens or "none" in tokens:
                return True
    return False


def _link_source(node: Any, honour_nofollow: bool) -> str | None:
    """The discovery source of an ``<a>`` or ``<link>``; None when it is not to be followed."""
    rels = _rels(node)
    if node.tag == "link":
        if "canonical" in rels:
            return "canonical"
        if "alternate" in rels and "xml" in (node.attrs.get("type") or "").lower():
            return "feed"
        if not rels & _PAGINATION_RELS:
            return None  # stylesheets, icons, preloads, hreflang alternates
    if honour_nofollow and rels & _SKIP_RELS:
        return None
    return "next" if rels & _PAGINATION_RELS else "link"


def extract_links(tree: Any, base_url: str, *, honour_nofollow: bool = True) -> list[Discovered]:
    """Every followable URL of a parsed page (``LexborHTMLParser``), canonical and de-duplicated in order.

    Sources: ``a[href]`` → "link"; ``a``/``link`` with rel next/prev → "next"; ``link[rel=canonical]`` →
    "canonical"; ``link[rel=alternate][type*=xml]`` → "feed" (searched in the whole document, not just
    ``<head>``). Links are resolved against ``<base href>`` when present and lose their fragment and
    tracking parameters. javascript:, mailto: and other non-http(s) links are skipped. With
    ``honour_nofollow`` (the default), ``rel="nofollow"`` and ``rel="sponsored"`` links are skipped, and a
    page whose ``<meta name="robots">`` says nofollow/none gives only its canonical and feed URLs.
    """
    base = _page_base(tree, base_url)
    try:
        parts = urlsplit(base)
        origin = f"{parts.scheme}://{parts.netloc}/"
    except ValueError:
        origin = base
    page_nofollow = honour_nofollow and _page_says_nofollow(tree)
    found: dict[str, Discovered] = {}
    for node in tree.css("a[href], link[href]"):
        source = _link_source(node, honour_nofollow)
        if source is None or (page_nofollow and source in ("link", "next")):
            continue
        href = (node.attrs.get("href") or "").strip()
        # A root-relative or absolute href resolves the same against any page of the origin, so the
        # navigation, sidebar and footer links every page repeats are resolved once per crawl process.
        shared = href.startswith(("/", "http://", "https://"))
        url = _shared_web_url(href, origin) if shared else _web_url(href, base)
        if url is not None and url not in found:
            found[url] = Discovered(url, None, source)
    return list(found.values())


@functools.lru_cache(maxsize=16384)
def _shared_web_url(href: str, origin: str) -> str | None:
    """:func:`_web_url` of an href that starts with "/" or a scheme, against its page's origin."""
    return _web_url(href, origin)


def feed_links(tree: Any, base_url: str) -> list[str]:
    """Feed autodiscovery: the ``<link rel="alternate" type="…xml">`` URLs anywhere in the page."""
    return [d.url for d in extract_links(tree, base_url, honour_nofollow=False) if d.source == "feed"]
