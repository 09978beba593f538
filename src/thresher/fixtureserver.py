"""A loopback-only web server of affiliate-style fixture sites, discovery files and HTTP faults.

Each site listens on its own 127.x address (all on one port) and is built from the HTML fixtures under
``fixtures/pages/<family>/``: every article is the template post with a new title, slug, dates, body
paragraphs, tags and in-site links, so the real markup (ads, "Also read", prev/next, sidebars) survives.
Run it by hand with ``python -m thresher.fixtureserver``.
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import errno
import gzip
import hashlib
import html
import ipaddress
import math
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Literal, TextIO, cast
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

__all__ = [
    "BOMB_BYTES",
    "FAULT_PATHS",
    "HUGE_BYTES",
    "OFFSITE_URL",
    "TRAP_PATHS",
    "WRONG_CHARSET_TEXT",
    "FixtureArticle",
    "FixtureServer",
    "RequestRecord",
    "SiteSpec",
    "default_sites",
    "main",
]

TemplateName = Literal["redefine", "wordpress", "plain"]

OFFSITE_URL = "http://127.0.0.9:1/"
"""Out-of-scope target of ``/fault/redirect-offsite`` and of cross-site links without a sibling site."""
HUGE_BYTES = 50 * 1024 * 1024
BOMB_BYTES = 1 << 30
WRONG_CHARSET_TEXT = "Zażółć gęślą jaźń. Größenänderung der Partition. Ça marche déjà. 日本語のテキスト。"
"""Text of ``/fault/wrong-charset``: UTF-8 bytes under a ``charset=iso-8859-1`` header."""
FAULT_PATHS = (
    "/fault/429",
    "/fault/429-date",
    "/fault/503",
    "/fault/500",
    "/fault/slow",
    "/fault/reset",
    "/fault/truncated",
    "/fault/redirect-loop",
    "/fault/redirect-chain",
    "/fault/redirect-offsite",
    "/fault/huge",
    "/fault/gzip-bomb",
    "/fault/wrong-type",
    "/fault/wrong-charset",
    "/fault/binary",
)
TRAP_PATHS = ("/calendar/2024/01/", "/a/", "/search?q=usb&page=1")
REDIRECT_CHAIN_HOPS = 12

_PER_PAGE = 10
_FEED_LIMIT = 20
_ANCHOR = datetime(2025, 3, 1, 8, 0, 0, tzinfo=UTC)
_STEP = timedelta(hours=26, minutes=13, seconds=7)
_HEXO_TZ = timedelta(hours=8)  # techidaily builds on a UTC+8 machine: visible times are 8 h ahead of og
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_HTML = "text/html; charset=utf-8"
_GZIP_TYPES = ("text/", "application/xml", "application/atom+xml", "application/rss+xml")

# Title grammar: 10 x 12 x 6 = 720 distinct English titles per site before a "(Part N)" suffix is needed.
_VERBS = ("Fix", "Speed Up", "Clean Up", "Back Up", "Reset", "Recover", "Update", "Repair", "Tune", "Protect")
_OBJECTS = (
    "a Slow SSD",
    "the Start Menu",
    "Bluetooth Headsets",
    "a Full System Drive",
    "Wi-Fi Drops",
    "the Print Spooler",
    "USB Sticks",
    "Laptop Batteries",
    "Driver Crashes",
    "OneDrive Sync",
    "the Recycle Bin",
    "External Drives",
)
_CONTEXTS = (
    "on Windows 11",
    "Without Losing Files",
    "in Five Minutes",
    "on a Budget",
    "the Safe Way",
    "for Good",
)
_JA_TOPICS = (
    "Bluetoothヘッドセット",
    "マイク",
    "スピーカー",
    "Wi-Fi",
    "プリンター",
    "USBメモリ",
    "外付けSSD",
    "タッチパッド",
)
_JA_VERBS = ("ペアリングできない", "認識されない", "動作しない", "接続できない")

_DATE_RE = re.compile(
    r"(?P<iso>\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?(?:Z|[+-]\d{2}:\d{2}))"
    r"|(?P<local>\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\b)"
    r"|(?P<date>\b\d{4}-\d{2}-\d{2}\b)"
    r"|(?P<dmy>\b\d{1,2} (?:" + "|".join(_MONTHS) + r") \d{4}\b)"
    r"|(?P<mdy>\b(?:" + "|".join(_MONTHS) + r") \d{1,2}, \d{4}\b)"
)
_A_RE = re.compile(r"<a\b(?P<attrs>[^>]*)>(?P<inner>.*?)</a>", re.S)
_HREF_RE = re.compile(r"""\bhref=(?P<q>["'])(?P<href>.*?)(?P=q)""")
_P_RE = re.compile(r"<p>([^<>]{40,})</p>")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|(?<=。)")
_ROBOTS_META_RE = re.compile(r"""<meta name=(["'])robots\1 content=(["'])[^"']*\2\s*/?>""")


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it, logged before its response was sent (status 0: no response)."""

    time: float
    wall: float
    host: str
    method: str
    path: str
    headers: dict[str, str]
    status: int


@dataclass
class SiteSpec:
    """One fixture site: its name, loopback address, size, robots rules, template family and misbehaviour."""

    name: str
    address: str
    n_articles: int = 30
    crawl_delay: float | None = None
    disallow: list[str] = field(default_factory=lambda: ["/private/", "/article_preview.html"])
    template: TemplateName = "redefine"
    faults: bool = False
    trap: bool = False


@dataclass(frozen=True)
class FixtureArticle:
    """An article a site serves: the ground truth a crawl of that site should find."""

    index: int
    url: str
    path: str
    title: str
    published: datetime
    updated: datetime
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    template: str
    noindex: bool = False
    noarchive: bool = False
    orphan: bool = False
    private: bool = False

    @property
    def listed(self) -> bool:
        """Whether listings, feeds and other articles link to it (not orphan, not private)."""
        return not (self.orphan or self.private)


def default_sites(n_articles: int = 30, *, crawl_delay: float | None = 0.2) -> list[SiteSpec]:
    """Three sites: techidaily-style Redefine, WordPress, and a plain blog with faults and traps."""
    return [
        SiteSpec("fix-guides", "127.0.0.2", n_articles, crawl_delay=crawl_delay, template="redefine"),
        SiteSpec("byteguides", "127.0.0.3", n_articles, template="wordpress"),
        SiteSpec("oddbits", "127.0.0.4", n_articles, template="plain", faults=True, trap=True),
    ]


# --------------------------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class _Tpl:
    """A template post and the facts about it that generation rewrites."""

    file: str
    origin: str
    host: str
    site_name: str
    title: str
    path: str
    published: str
    updated: str
    content_start: str
    content_end: str
    article_re: str
    tags: tuple[str, ...] = ()
    categories: tuple[tuple[str, str], ...] = ()
    sibling_re: str = ""


@dataclass(frozen=True)
class _Family:
    """A template family: its posts, listing templates, URL shapes and vocabularies."""

    name: TemplateName
    site_name: str
    posts: tuple[_Tpl, ...]
    alt_every: int
    tag_base: str
    category_base: str
    tag_pool: tuple[str, ...]
    category_pool: tuple[str, ...] = ()
    rss_path: str = ""


def _dir_article_re(origin: str, reserved: str) -> str:
    """Regex of in-site ``/slug/`` article links (absolute or root-relative) for a directory-style site."""
    return rf"""^(?:{re.escape(origin)})?(?P<path>/(?!(?:{reserved})/)[^/?#"']+/)(?P<rest>[?#].*)?$"""


_HEXO_RESERVED = "tags|categories|about|privacy|terms_conditions|page|archives|images|css|js"
_WP_RESERVED = (
    "category|tag|author|about|contact|deals|privacy-policy|feed|wp-json|wp-content|wp-includes|page"
)
_TECHIDAILY_SIBLING = r"^https://(?!tools\.|thmb\.|cloudflare-cdn\.)[a-z0-9-]+\.techidaily\.com/[^/?#]+/$"

_FAMILIES = (
    _Family(
        name="redefine",
        site_name="Fix Guides",
        posts=(
            _Tpl(
                file="redefine/post-disk-cleanup.html",
                origin="https://fix-guides.techidaily.com",
                host="fix-guides.techidaily.com",
                site_name="Fix Guides",
                title="How to Free Up Disk Space on Windows 11 Without Losing Your Files",
                path="/free-up-disk-space-windows-11-without-losing-files/",
                published="2024-11-05T06:12:40.318+00:00",
                updated="2024-11-07T01:45:09.902+00:00",
                content_start='<div class="article-content markdown-body',
                content_end='<div class="post-copyright-info',
                article_re=_dir_article_re("https://fix-guides.techidaily.com", _HEXO_RESERVED),
                tags=("storage", "windows-11"),
                categories=(("Windows-Tips", "Windows-Tips"), ("Windows-Tips/Storage", "Storage")),
                sibling_re=_TECHIDAILY_SIBLING,
            ),
            _Tpl(
                file="redefine/post-untagged-ja.html",
                origin="https://win-helpdesk.techidaily.com",
                host="win-helpdesk.techidaily.com",
                site_name="Win Helpdesk",
                title="Windows 11でBluetoothヘッドセットがペアリングできない時の対処法",
                path="/1731024511842-windows-11bluetooth/",
                published="2024-11-08T00:08:31.842+00:00",
                updated="2024-11-09T13:20:57.116+00:00",
                content_start='<div class="article-content markdown-body',
                content_end='<div class="post-copyright-info',
                article_re=_dir_article_re("https://win-helpdesk.techidaily.com", _HEXO_RESERVED),
                categories=(("Audio-Devices", "Audio-Devices"),),
                sibling_re=_TECHIDAILY_SIBLING,
            ),
        ),
        alt_every=4,
        tag_base="/tags/",
        category_base="/categories/",
        tag_pool=(
            "storage",
            "windows-11",
            "ssd",
            "backup",
            "drivers",
            "network",
            "updates",
            "recovery",
            "bluetooth",
            "printers",
        ),
    ),
    _Family(
        name="wordpress",
        site_name="ByteGuides",
        posts=(
            _Tpl(
                file="wordpress/post-ads.html",
                origin="https://www.byteguides.test",
                host="www.byteguides.test",
                site_name="ByteGuides",
                title="How to Choose an External SSD for Backups (and 3 Drives We Recommend)",
                path="/external-ssd-for-backups/",
                published="2025-03-04T09:30:00+00:00",
                updated="2025-03-10T14:02:51+00:00",
                content_start='<div class="entry-content">',
                content_end='<footer class="entry-meta">',
                article_re=_dir_article_re("https://www.byteguides.test", _WP_RESERVED),
                tags=("backup", "ssd", "usb-c"),
                categories=(("storage", "Storage"), ("buying-guides", "Buying Guides")),
            ),
            _Tpl(
                file="wordpress/post-classic.html",
                origin="https://www.quickfixpc.test",
                host="www.quickfixpc.test",
                site_name="QuickFix PC",
                title="How to Calibrate Your Laptop Battery (and When to Skip It)",
                path="/calibrate-laptop-battery/",
                published="2024-10-21T16:45:00+00:00",
                updated="2024-11-02T10:11:40+00:00",
                content_start='<div class="entry-content" itemprop="text">',
                content_end='<footer class="entry-meta"',
                article_re=_dir_article_re("https://www.quickfixpc.test", _WP_RESERVED),
                tags=("battery", "windows"),
                categories=(("laptops", "Laptops"),),
            ),
        ),
        alt_every=3,
        tag_base="/tag/",
        category_base="/category/",
        tag_pool=(
            "backup",
            "ssd",
            "usb-c",
            "nas",
            "encryption",
            "cloning",
            "cloud",
            "battery",
            "windows",
            "routers",
        ),
        rss_path="/feed/",
    ),
    _Family(
        name="plain",
        site_name="Odd Bits",
        posts=(
            _Tpl(
                file="plainblog/post.html",
                origin="",
                host="",
                site_name="Odd Bits",
                title="Rescuing a USB Stick That Windows Says Is Write-Protected",
                path="/2025/03/usb-write-protected.html",
                published="2025-03-03T12:00:00+00:00",
                updated="2025-03-03T12:00:00+00:00",
                content_start='<div class="txt">',
                content_end='<div class="postmeta">',
                article_re=r"""^(?P<path>/\d{4}/\d{2}/[^/?#"']+\.html)(?P<rest>[?#].*)?$""",
            ),
        ),
        alt_every=0,
        tag_base="/tags/",
        category_base="/categories/",
        tag_pool=("usb", "diskpart", "windows", "thinkpad", "router", "printer", "ssd", "wake-on-lan"),
        category_pool=("Repairs", "Windows", "Networking"),
        rss_path="/rss.xml",
    ),
)


def _family(name: str) -> _Family:
    """The family called ``name``."""
    for fam in _FAMILIES:
        if fam.name == name:
            return fam
    raise ValueError(f"unknown template family {name!r}; use one of {[f.name for f in _FAMILIES]}")


# --------------------------------------------------------------------------------------------- small helpers


def _check_loopback(address: str) -> str:
    """Return ``address`` if it is an IPv4 host address in 127.0.0.0/8, else raise ValueError."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(f"not an IP address: {address!r} (the fixture server binds loopback only)") from None
    net = ipaddress.ip_network("127.0.0.0/8")
    if ip.version != 4 or ip not in net or ip in (net.network_address, net.broadcast_address):
        raise ValueError(f"refusing to bind {address!r}: the fixture server serves only 127.0.0.0/8")
    return str(ip)


def _slugify(text: str) -> str:
    """Hexo-like slug: lower case, ASCII letters and digits, dashes for spaces and punctuation."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9]+", "-", text.lower())).strip("-")


def _iso_ms(dt: datetime) -> str:
    """``2024-11-07T01:45:09.902Z``: UTC with millisecond precision, as Hexo writes it."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _iso_offset(dt: datetime) -> str:
    """``2025-03-04T09:30:00+00:00``: UTC to the second, as WordPress writes it."""
    return dt.astimezone(UTC).replace(microsecond=0).isoformat()


def _mdy(dt: datetime) -> str:
    """``March 4, 2025``."""
    return f"{_MONTHS[dt.month - 1]} {dt.day}, {dt.year}"


def _http_date(dt: datetime) -> str:
    """An IMF-fixdate for headers."""
    return email.utils.format_datetime(dt.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _etag(body: bytes) -> str:
    """A strong entity tag: a hash of the exact body bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:24] + '"'


def _etag_core(tag: str) -> str:
    """The comparable part of an entity tag: no ``W/``, no quotes, no ``-gzip`` suffix."""
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    return tag.removesuffix("-gzip")


def _accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding value allows gzip."""
    for token in (header or "").split(","):
        name, _, params = token.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


def _cdata(text: str) -> str:
    """Wrap ``text`` in CDATA, splitting any ``]]>`` inside it."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _strip_tags(fragment: str) -> str:
    """Plain text of an HTML fragment, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", fragment)).split())


def _excerpt(text: str, limit: int = 160) -> str:
    """The first ``limit`` characters of ``text``, cut at a word boundary."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0]


def _simple_page(title: str, body: str, *, lang: str = "en") -> bytes:
    """A small standalone HTML document (fault, trap and error pages)."""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n{body}\n"
        "</body>\n</html>\n"
    ).encode()


def _gf2_times(matrix: list[int], vector: int) -> int:
    """Multiply a 32x32 GF(2) matrix (one int per column) by a vector."""
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of A+B from crc(A), crc(B) and len(B): zlib's crc32_combine, which Python does not expose."""
    odd = [0xEDB88320] + [1 << n for n in range(31)]
    even = [_gf2_times(odd, odd[n]) for n in range(32)]
    odd = [_gf2_times(even, even[n]) for n in range(32)]
    while len2:
        even = [_gf2_times(odd, odd[n]) for n in range(32)]
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = [_gf2_times(even, even[n]) for n in range(32)]
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
    return crc1 ^ crc2


def _crc32_of_zeros(unit_crc: int, unit: int, count: int) -> int:
    """CRC-32 of ``count`` blocks of ``unit`` zero bytes, by doubling instead of hashing a gigabyte."""
    acc: int | None = None
    power, power_len = unit_crc, unit
    while count:
        if count & 1:
            acc = power if acc is None else _crc32_combine(acc, power, power_len)
        count >>= 1
        if count:
            power = _crc32_combine(power, power, power_len)
            power_len *= 2
    return acc if acc is not None else 0


def _gzip_bomb_parts(total: int) -> tuple[bytes, bytes, int, bytes]:
    """A gzip stream of ``total`` zero bytes as (header, repeated block, repeat count, tail)."""
    # Deflate's best ratio is about 1030:1, so 1 GiB of zeros needs about 1 MiB. A full flush resets the
    # compressor, so every 1 MiB input block compresses to the same bytes: one block is kept and repeated.
    unit = 1 << 20
    count = max(1, total // unit)
    zeros = bytes(unit)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    block = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    final = comp.flush(zlib.Z_FINISH)
    crc = _crc32_of_zeros(zlib.crc32(zeros), unit, count)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    tail = final + struct.pack("<II", crc, (count * unit) & 0xFFFFFFFF)
    return header, block, count, tail


def _huge_stream(total: int) -> Iterator[bytes]:
    """An HTML page of exactly ``total`` bytes, produced 64 KiB at a time."""
    head = b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Endless</title></head><body>\n'
    tail = b"</body></html>\n"
    unit = b"<p>" + b"This page keeps going long after any article would have ended. " * 8 + b"</p>\n"
    chunk = (unit * (65536 // len(unit) + 1))[:65536]
    remaining = total - len(head) - len(tail)
    yield head
    while remaining > 0:
        n = min(remaining, len(chunk))
        yield chunk if n == len(chunk) else chunk[:n]
        remaining -= n
    yield tail


# --------------------------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class _Post:
    """A planned article: public facts plus what rendering needs."""

    info: FixtureArticle
    tpl: _Tpl
    delta: timedelta
    tag_map: tuple[tuple[str, str], ...]
    cats: tuple[tuple[str, str], ...]


def _title(fam: _Family, tpl_index: int, i: int, offset: int) -> str:
    """A deterministic, per-site unique title for article ``i``."""
    if fam.name == "redefine" and tpl_index == 1:
        k = i // fam.alt_every
        topic, verb = _JA_TOPICS[k % len(_JA_TOPICS)], _JA_VERBS[(k // len(_JA_TOPICS)) % len(_JA_VERBS)]
        suffix = f"（{k // 32 + 1}）" if k >= 32 else ""
        return f"Windows 11で{topic}が{verb}時の対処法{suffix}"
    j = i + offset
    verb = _VERBS[j % 10]
    obj = _OBJECTS[(j % 120 // 10 * 11 + j % 10) % 12]
    ctx = _CONTEXTS[(j % 120 + j // 120) % 6]
    part = f" (Part {i // 720 + 1})" if i >= 720 else ""
    return f"{verb} {obj} {ctx}{part}"


def _plan(spec: SiteSpec, base: str) -> list[_Post]:
    """Plan every article of a site (public ones, then drafts under Disallow paths) before rendering any."""
    fam = _family(spec.template)
    n = spec.n_articles
    offset = zlib.crc32(spec.name.encode()) % 720
    posts: list[_Post] = []
    seen: set[str] = set()

    def make(i: int, path_for: str | None, private: bool) -> _Post:
        tpl_index = (
            1 if fam.alt_every and len(fam.posts) > 1 and i % fam.alt_every == fam.alt_every - 1 else 0
        )
        tpl = fam.posts[tpl_index]
        title = _title(fam, tpl_index, i, offset)
        tpl_published = datetime.fromisoformat(tpl.published)
        millis = (i * 137) % 1000 if tpl_published.microsecond else 0  # WordPress pages show whole seconds
        target = _ANCHOR - i * _STEP - timedelta(milliseconds=millis)
        delta = target - tpl_published
        updated = datetime.fromisoformat(tpl.updated) + delta
        if fam.name == "redefine" and tpl_index == 1:
            slug = f"{int(target.timestamp() * 1000)}-{_slugify(re.sub(r'[^ -~]', '', title))}"
        else:
            slug = _slugify(title)
        if slug in seen:
            slug = f"{slug}-{i}"
        seen.add(slug)
        if path_for is not None:
            path = path_for
        elif fam.name == "plain":
            path = f"/{target.year:04d}/{target.month:02d}/{slug}.html"
        else:
            path = f"/{slug}/"
        tag_map: list[tuple[str, str]] = []
        used: set[str] = set()
        for k, old in enumerate(tpl.tags):
            pick = (i + 3 * k) % len(fam.tag_pool)
            while fam.tag_pool[pick] in used:
                pick = (pick + 1) % len(fam.tag_pool)
            used.add(fam.tag_pool[pick])
            tag_map.append((old, fam.tag_pool[pick]))
        tags = tuple(new for _, new in tag_map)
        cats = tpl.categories
        if fam.name == "plain":
            tags = tuple(fam.tag_pool[(i + 3 * k) % len(fam.tag_pool)] for k in range(2))
            name = fam.category_pool[i % len(fam.category_pool)]
            cats = ((_slugify(name), name),)
        info = FixtureArticle(
            index=i,
            url=base + path,
            path=path,
            title=title,
            published=target,
            updated=updated,
            tags=tags,
            categories=tuple(name for _, name in cats),
            template=tpl.file,
            noindex=not private and n >= 3 and i == 1,
            noarchive=not private and n >= 4 and i == 2,
            orphan=not private and n >= 5 and i == n - 1,
            private=private,
        )
        return _Post(info, tpl, delta, tuple(tag_map), cats)

    for i in range(n):
        posts.append(make(i, None, False))
    extra = n
    for rule in spec.disallow:
        if not rule.startswith("/") or rule == "/":
            continue
        if rule.endswith("/"):
            for k in (1, 2):
                posts.append(make(extra, f"{rule}draft-{k}/", True))
                extra += 1
        else:
            posts.append(make(extra, rule, True))
            extra += 1
    return posts


# --------------------------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class _Page:
    """A static response: body, type, validators and extra headers."""

    body: bytes
    content_type: str
    last_modified: datetime
    etag: str
    headers: tuple[tuple[str, str], ...] = ()
    gzipped: bytes | None = field(default=None, compare=False)  # compressed once, on first use

    def gzip_body(self) -> bytes:
        """The body gzip-compressed (cached: benchmarks must not measure the server's zlib)."""
        if self.gzipped is None:
            object.__setattr__(self, "gzipped", gzip.compress(self.body, 6, mtime=0))  # a cache, not state
        assert self.gzipped is not None
        return self.gzipped


def _page(body: str | bytes, content_type: str, last_modified: datetime, *headers: tuple[str, str]) -> _Page:
    """Build a _Page, computing its strong ETag."""
    data = body.encode() if isinstance(body, str) else body
    return _Page(data, content_type, last_modified, _etag(data), tuple(headers))


@dataclass
class _LinkCtx:
    """What link rewriting needs for one page: where it sits among the articles and whom it may link to."""

    base: str
    linkable: list[FixtureArticle]
    position: int
    siblings: list[tuple[str, str]]
    known_paths: frozenset[str]
    tag_map: dict[str, str] = field(default_factory=dict)
    tag_base: str = "/tags/"
    assigned: dict[str, FixtureArticle] = field(default_factory=dict)
    sibling_assigned: dict[str, tuple[str, str]] = field(default_factory=dict)

    def neighbour(self, step: int) -> FixtureArticle | None:
        """The article ``step`` places away (wrapping), or None if there are no others."""
        if not self.linkable:
            return None
        if self.position < 0:
            return self.linkable[0 if step > 0 else -1]
        return self.linkable[(self.position + step) % len(self.linkable)]

    def related(self, old: str) -> FixtureArticle | None:
        """A distinct, deterministic article standing in for the template's link to ``old``."""
        if old in self.assigned:
            return self.assigned[old]
        pos = self.position
        others = self.linkable[pos + 1 :] + self.linkable[: max(pos, 0)] if pos >= 0 else list(self.linkable)
        pool = others or self.linkable
        if not pool:
            return None
        target = pool[len(self.assigned) % len(pool)]
        self.assigned[old] = target
        return target

    def sibling(self, old: str) -> tuple[str, str]:
        """A sibling site's article (url, title) standing in for a cross-site link, or the offsite URL."""
        if old not in self.sibling_assigned:
            if self.siblings:
                k = (max(self.position, 0) + len(self.sibling_assigned)) % len(self.siblings)
                self.sibling_assigned[old] = self.siblings[k]
            else:
                self.sibling_assigned[old] = (OFFSITE_URL.rstrip("/") + urlsplit(old).path, "")
        return self.sibling_assigned[old]


def _retitle(inner: str, title: str) -> str:
    """Put ``title`` in place of the longest text run of a link's content."""
    parts = re.split(r"(<[^>]*>)", inner)
    best, best_len = -1, 0
    for k in range(0, len(parts), 2):
        size = len(parts[k].strip())
        if size > best_len:
            best, best_len = k, size
    if best < 0 or best_len < 4:
        return inner
    text = parts[best]
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    parts[best] = lead + html.escape(title, quote=False) + trail
    return "".join(parts)


def _set_attr(attrs: str, name: str, value: str) -> str:
    """Replace the value of attribute ``name`` (either quote style) in an attribute string."""
    pattern = re.compile(rf"""(\b{name}=)(["'])(.*?)\2""", re.S)
    return pattern.sub(lambda m: f"{m[1]}{m[2]}{html.escape(value)}{m[2]}", attrs, count=1)


def _remap_links(doc: str, tpl: _Tpl, ctx: _LinkCtx) -> str:
    """Point the template's in-site, cross-site and tag links at generated articles, siblings and tags."""
    article_re = re.compile(tpl.article_re)
    sibling_re = re.compile(tpl.sibling_re) if tpl.sibling_re else None
    tag_re = re.compile(rf"""^(?:{re.escape(tpl.origin)})?(?P<base>/tags?/)(?P<tag>[^/?#"']+)/$""")

    def one(m: re.Match[str]) -> str:
        attrs, inner = m["attrs"], m["inner"]
        hm = _HREF_RE.search(attrs)
        if hm is None:
            return m[0]
        href = hm["href"]
        am = article_re.match(href)
        if am and am["path"] != tpl.path and am["path"] not in ctx.known_paths:
            rel = re.search(r"""\brel=["']([^"']*)""", attrs)
            rels = rel[1].split() if rel else []
            target = (
                ctx.neighbour(-1)
                if "prev" in rels
                else ctx.neighbour(1)
                if "next" in rels
                else ctx.related(am["path"])
            )
            if target is None:
                return m[0]
            absolute = href.startswith(("http://", "https://"))
            new_href = (ctx.base if absolute else "") + target.path + (am["rest"] or "")
            attrs = _set_attr(attrs, "href", new_href)
            if re.search(r"\btitle=", attrs):
                attrs = _set_attr(attrs, "title", target.title)
            return f"<a{attrs}>{_retitle(inner, target.title)}</a>"
        if sibling_re is not None and sibling_re.match(href):
            url, title = ctx.sibling(href)
            attrs = _set_attr(attrs, "href", url)
            return f"<a{attrs}>{_retitle(inner, title) if title else inner}</a>"
        tm = tag_re.match(href)
        if tm and tm["tag"] in ctx.tag_map:
            new = ctx.tag_map[tm["tag"]]
            prefix = ctx.base if href.startswith(("http://", "https://")) else ""
            attrs = _set_attr(attrs, "href", f"{prefix}{ctx.tag_base}{new}/")
            text = inner.strip()
            if text.lstrip("#") == tm["tag"]:
                inner = inner.replace(tm["tag"], new)
            return f"<a{attrs}>{inner}</a>"
        return m[0]

    doc = _A_RE.sub(one, doc)
    for old, new in ctx.tag_map.items():
        doc = doc.replace(
            f'<meta property="article:tag" content="{old}"', f'<meta property="article:tag" content="{new}"'
        )
    return doc


class _Dated:
    """A text split around its dates once, so that shifting them all by some delta is a cheap rejoin."""

    def __init__(self, text: str, default_hour: int = 12) -> None:
        """Find every date and timestamp, and the time of day each plain date most likely stands for."""
        self.pieces: list[str] = []
        self.matches: list[re.Match[str]] = []
        self.times: dict[date, tuple[int, int, int]] = {}
        self.fractions: dict[str, int] = {}
        self.default = (default_hour, 0, 0)
        last = 0
        for m in _DATE_RE.finditer(text):
            self.pieces.append(text[last : m.start()])
            self.matches.append(m)
            last = m.end()
            if m["iso"]:
                dt = datetime.fromisoformat(m["iso"].replace("Z", "+00:00"))
                self.times.setdefault(dt.date(), (dt.hour, dt.minute, dt.second))
                self.fractions[f"{dt.replace(tzinfo=None) + _HEXO_TZ:%Y-%m-%d %H:%M:%S}"] = dt.microsecond
        self.tail = text[last:]

    def _day(self, d: date, delta: timedelta) -> date:
        """Shift a plain date as the instant it stands for."""
        h, mi, s = self.times.get(d, self.default)
        return (datetime(d.year, d.month, d.day, h, mi, s) + delta).date()

    def _one(self, m: re.Match[str], delta: timedelta) -> str:
        """One date moved by ``delta``, in its own notation."""
        text = m[0]
        if m["iso"]:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00")) + delta
            frac = f".{dt.microsecond // 1000:03d}" if "." in text else ""
            zone = "Z" if text.endswith("Z") else text[-6:]
            return dt.strftime("%Y-%m-%dT%H:%M:%S") + frac + zone
        if m["local"]:
            exact = datetime.fromisoformat(text) + timedelta(microseconds=self.fractions.get(text, 0))
            return (exact + delta).strftime("%Y-%m-%d %H:%M:%S")
        if m["date"]:
            try:
                return self._day(date.fromisoformat(text), delta).isoformat()
            except ValueError:
                return text
        if m["dmy"]:
            day, month, year = text.split()
            d = self._day(date(int(year), _MONTHS.index(month) + 1, int(day)), delta)
            return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"
        month, day, year = text.replace(",", "").split()
        d = self._day(date(int(year), _MONTHS.index(month) + 1, int(day)), delta)
        return f"{_MONTHS[d.month - 1]} {d.day}, {d.year}"

    def shift(self, delta: timedelta) -> str:
        """The text with every date moved by ``delta``."""
        out = [piece + self._one(m, delta) for piece, m in zip(self.pieces, self.matches, strict=True)]
        return "".join(out) + self.tail


def _content_bounds(doc: str, tpl: _Tpl) -> tuple[int, int]:
    """Start and end offsets of the article body in a rendered or template post."""
    start = doc.index(">", doc.index(tpl.content_start)) + 1
    return start, doc.index(tpl.content_end, start)


def _sentence_pool(text: str, tpl: _Tpl) -> tuple[str, ...]:
    """The sentences of a template's plain paragraphs: the vocabulary generated bodies are made of."""
    start, end = _content_bounds(text, tpl)
    pool: list[str] = []
    for m in _P_RE.finditer(text[start:end]):
        pool.extend(s for s in _SENTENCE_SPLIT.split(m[1].strip()) if len(s) >= 20)
    return tuple(pool) or ("This page was generated for a crawl test.",)


def _rewrite_paragraphs(doc: str, tpl: _Tpl, pool: tuple[str, ...], title: str, seed: str) -> tuple[str, str]:
    """Replace the body's plain paragraphs with recombined template sentences; also return the first one."""
    start, end = _content_bounds(doc, tpl)
    rng = random.Random(seed)
    first: list[str] = []

    def one(m: re.Match[str]) -> str:
        picks = rng.sample(pool, min(len(pool), rng.randint(1, 3)))
        if not first:
            picks.insert(0, f"In this article: {html.escape(title, quote=False)}.")
        text = " ".join(picks)
        if not first:
            first.append(text)
        return f"<p>{text}</p>"

    body = _P_RE.sub(one, doc[start:end])
    return doc[:start] + body + doc[end:], _strip_tags(first[0]) if first else title


@dataclass(frozen=True)
class _Rendered:
    """A rendered article: full page, body HTML for feeds, and an excerpt for listings."""

    page: str
    content: str
    excerpt: str


# --------------------------------------------------------------------------------------------- a site


class _Site:
    """Everything one fixture site serves, rendered once at start-up."""

    def __init__(
        self,
        spec: SiteSpec,
        base: str,
        posts: list[_Post],
        texts: dict[str, str],
        siblings: list[tuple[str, str]],
    ) -> None:
        """Render every page of the site."""
        self.spec = spec
        self.base = base
        self.host = urlsplit(base).netloc
        self.fam = _family(spec.template)
        self.posts = posts
        self.texts = texts
        self.siblings = siblings
        self.articles = [p.info for p in posts]
        self.listed = [a for a in self.articles if a.listed]
        self.public = [a for a in self.articles if not a.private]
        self.private = [a for a in self.articles if a.private]
        rules = {r for r in spec.disallow if r.startswith("/")}
        self.known_paths = frozenset({a.path for a in self.articles} | rules | {"/"})
        self.pages: dict[str, _Page] = {}
        self.redirects: dict[str, str] = {}
        self.rendered: dict[str, _Rendered] = {}
        self.lastmod_override: dict[str, datetime] = {}
        self.newest = max((a.updated for a in self.public), default=_ANCHOR)
        self.pools = {tpl.file: _sentence_pool(texts[tpl.file], tpl) for tpl in self.fam.posts}
        self.dated = {tpl.file: _Dated(texts[tpl.file]) for tpl in self.fam.posts}
        self.tag_index: dict[str, list[FixtureArticle]] = {}
        self.category_index: dict[str, tuple[str, list[FixtureArticle]]] = {}
        for post in posts:
            if not post.info.listed:
                continue
            for tag in post.info.tags:
                self.tag_index.setdefault(tag, []).append(post.info)
            for path, name in post.cats:
                self.category_index.setdefault(path, (name, []))[1].append(post.info)
        self._build()

    # ---- articles

    def _link_ctx(self, article: FixtureArticle | None, tag_map: dict[str, str]) -> _LinkCtx:
        """Link context for a page about ``article`` (None: a listing)."""
        pos = self.listed.index(article) if article is not None and article in self.listed else -1
        return _LinkCtx(
            base=self.base,
            linkable=self.listed,
            position=pos,
            siblings=self.siblings,
            known_paths=self.known_paths,
            tag_map=tag_map,
            tag_base=self.fam.tag_base,
        )

    def _finish(self, doc: str, tpl: _Tpl) -> str:
        """Swap the template's origin, host and site name for this site's."""
        if tpl.origin:
            doc = doc.replace(tpl.origin, self.base)
        if tpl.host:
            doc = doc.replace(tpl.host, self.host)
        if tpl.site_name != self.fam.site_name:
            doc = doc.replace(tpl.site_name, self.fam.site_name)
        return doc

    def _render_post(self, post: _Post) -> _Rendered:
        """One article page from its template."""
        tpl, info = post.tpl, post.info
        doc = self.dated[tpl.file].shift(post.delta)
        doc, excerpt = _rewrite_paragraphs(
            doc, tpl, self.pools[tpl.file], info.title, f"{self.spec.name}/{info.index}"
        )
        if self.fam.name == "plain":
            doc = self._plain_sidebar(doc)
        doc = _remap_links(doc, tpl, self._link_ctx(info, dict(post.tag_map)))
        doc = doc.replace(tpl.title, info.title).replace(html.escape(tpl.title), html.escape(info.title))
        doc = doc.replace(tpl.path, info.path)
        doc = self._finish(doc, tpl)
        if self.fam.name == "plain":
            doc = self._plain_postmeta(doc, post)
        if info.noindex:
            robots = '<meta name="robots" content="noindex, follow">'
            if _ROBOTS_META_RE.search(doc):
                doc = _ROBOTS_META_RE.sub(robots, doc, count=1)
            else:
                doc = doc.replace("<head>", "<head>\n" + robots, 1)
        start, end = _content_bounds(doc, tpl)
        content = re.sub(r"\s*</div>(?:<!--[^>]*-->)?\s*$", "", doc[start:end]).strip()
        return _Rendered(doc, content, excerpt)

    def _plain_postmeta(self, doc: str, post: _Post) -> str:
        """Add category and tag links to a plain-blog post's meta line."""
        cats = ", ".join(
            f'<a href="{self.fam.category_base}{path}/">{html.escape(name)}</a>' for path, name in post.cats
        )
        tags = ", ".join(f'<a href="{self.fam.tag_base}{t}/" rel="tag">{t}</a>' for t in post.info.tags)
        line = f'<div class="postmeta">\n  Filed under {cats}; tagged {tags}<br />\n'
        doc = doc.replace('<div class="postmeta">\n', line, 1)
        keywords = ", ".join(post.info.tags)
        return re.sub(
            r'<meta name="keywords" content="[^"]*"', f'<meta name="keywords" content="{keywords}"', doc
        )

    def _plain_sidebar(self, doc: str) -> str:
        """Regenerate the plain blog's "Recent posts" and "Archive" sidebar lists from the real articles."""
        recent = "".join(
            f'\n  <li><a href="{a.path}">{html.escape(a.title)}</a></li>' for a in self.listed[:5]
        )
        months: dict[tuple[int, int], int] = {}
        for a in self.listed:
            months[(a.published.year, a.published.month)] = (
                months.get((a.published.year, a.published.month), 0) + 1
            )
        archive = "".join(
            f'\n  <li><a href="/{y:04d}/{m:02d}/">{_MONTHS[m - 1]} {y}</a> ({count})</li>'
            for (y, m), count in sorted(months.items(), reverse=True)[:5]
        )
        archive += '\n  <li><a href="/archive.html">Older posts&hellip;</a></li>'
        doc = re.sub(
            r"(<h3>Recent posts</h3>\s*<ul>).*?(\s*</ul>)",
            lambda m: m[1] + recent + m[2],
            doc,
            count=1,
            flags=re.S,
        )
        return re.sub(
            r"(<h3>Archive</h3>\s*<ul>).*?(\s*</ul>)",
            lambda m: m[1] + archive + m[2],
            doc,
            count=1,
            flags=re.S,
        )

    # ---- listings

    def _extras(self) -> list[tuple[str, str]]:
        """Links only the home page carries: private pages, canonical variants, traps and faults."""
        links: list[tuple[str, str]] = []
        for a in self.private:
            links.append((a.path, f"Draft: {a.title}"))
        for rule in self.spec.disallow:
            if rule.endswith("/") and rule != "/":
                links.append((rule, "Drafts"))
            if rule == "/article_preview.html" and self.listed:
                links.append((f"{rule}?slug={quote(self.listed[0].path.strip('/'))}", "Preview"))
        if self.listed and self.listed[0].path.endswith("/"):
            links.append((self.listed[0].path + "index.html", self.listed[0].title))
        if len(self.listed) > 1:
            links.append((self.listed[1].path + "?utm_source=x", self.listed[1].title))
        if self.spec.trap:
            links.extend((p, "Archive browser") for p in TRAP_PATHS)
        if self.spec.faults:
            links.extend((p, f"Broken link: {p.rsplit('/', 1)[1]}") for p in FAULT_PATHS)
        return links

    def _extras_html(self) -> str:
        """The home page's extra links as a small list."""
        items = "".join(
            f'\n<li><a href="{html.escape(h)}">{html.escape(t)}</a></li>' for h, t in self._extras()
        )
        return f'<div class="site-extras">\n<h3>Elsewhere on this site</h3>\n<ul>{items}\n</ul>\n</div>\n'

    def _paged(self, items: list[FixtureArticle], page: int) -> list[FixtureArticle]:
        """One page of a listing."""
        return items[(page - 1) * _PER_PAGE : page * _PER_PAGE]

    def _page_href(self, base_path: str, page: int) -> str:
        """The URL path of listing page ``page`` under ``base_path``."""
        return base_path if page == 1 else f"{base_path}page/{page}/"

    def _listing(
        self, kind: str, name: str, path: str, items: list[FixtureArticle], page: int, pages: int
    ) -> str:
        """A listing page in the family's own markup."""
        if self.fam.name == "redefine":
            return self._redefine_listing(kind, name, path, items, page, pages)
        if self.fam.name == "wordpress":
            return self._wp_listing(kind, name, path, items, page, pages)
        return self._plain_listing(kind, name, path, items, page, pages)

    def _cat_links_of(self, a: FixtureArticle) -> list[tuple[str, str]]:
        """(path, name) of an article's categories."""
        return list(self.posts[a.index].cats) if a.index < len(self.posts) else []

    def _redefine_item(self, a: FixtureArticle) -> str:
        """One Redefine home-list entry."""
        local = a.published + _HEXO_TZ
        t = html.escape(a.title)
        excerpt = html.escape(_excerpt(self.rendered[a.path].excerpt, 200)) + "..."
        li, a_in = "\n" + " " * 24, "\n" + " " * 28
        cats = f"{a_in}<li>></li>".join(
            f'{li}<li>{a_in}<a href="{self.fam.category_base}{p}/">{html.escape(n)}</a>&nbsp;{li}</li>'
            for p, n in self._cat_links_of(a)
        )
        tags = ""
        if a.tags:
            base = self.fam.tag_base
            tag_items = "".join(f'{li}<li>{a_in}<a href="{base}{t}/">{t}</a>&nbsp;{li}</li>' for t in a.tags)
            s12, s16 = "\n" + " " * 12, "\n" + " " * 16
            tags = (
                f'{s12}<span class="home-article-tag">{s16}<i class="fa-solid fa-tags"></i>'
                f"&nbsp;{s16}<ul>{tag_items}{s16}</ul>{s12}</span>"
            )
        thumb = hashlib.sha256(a.path.encode()).hexdigest()
        data_date = (
            f"{_WEEKDAYS[local.weekday()]} {_MONTHS[local.month - 1][:3]} {local.day:02d} {local.year} "
            f"{local:%H:%M:%S} GMT+0800"
        )
        return f"""            <li class="home-article-item flex flex-row">
                    <div id="home-article-thumbnail" class="basis-1/3 lg:basis-1/4 xl:basis-1/5 relative flex justify-center items-center overflow-hidden rounded-large">
                        <a href="{a.path}" class="w-28 h-28 md:w-32 md:h-32 lg:w-36 lg:h-36 xl:w-48 xl:h-48 p-2">
                            <img src="https://thmb.techidaily.com/{thumb}.jpg" alt="{t}" class="relative w-full h-full rounded-full object-cover dark:brightness-75 transition-all ring ring-gray-50" />
                        </a>
                    </div>
                <div class="flex flex-col gap-5 px-7 pb-7 basis-2/3 lg:basis-3/4 xl:basis-4/5  pt-5">
                    <h3 class="home-article-title">
                        <a href="{a.path}">
                            {t}
                        </a>
                    </h3>
                    <div class="home-article-content markdown-body">
                            {excerpt}
                    </div>
                    <div class="home-article-meta-info-container">
    <div class="home-article-meta-info">
        <span><i class="fa-solid fa-calendars"></i>&nbsp;
            <span class="home-article-date" data-date="{data_date}">
                    {local:%Y-%m-%d}
            </span>
        </span>
            <span class="home-article-category">
                <i class="fa-solid fa-folders"></i>&nbsp;
            <ul>{cats}
            </ul>
        </span>{tags}
    </div>
    <a href="{a.path}">Read more<span class="seo-reader-text">{t}</span>&nbsp;<i class="fa-solid fa-angle-right"></i></a>
</div>
                </div>
            </li>
"""  # noqa: E501

    def _redefine_paginator(self, base_path: str, page: int, pages: int) -> str:
        """Hexo's paginator: prev, numbers, next."""
        out = []
        if page > 1:
            href = self._page_href(base_path, page - 1)
            icon = '<i class="fa-regular fa-angle-left"></i>'
            out.append(f'<a class="extend prev" rel="prev" href="{href}">{icon}</a>')
        for k in range(1, pages + 1):
            if k == page:
                out.append(f'<span class="page-number current">{k}</span>')
            else:
                out.append(f'<a class="page-number" href="{self._page_href(base_path, k)}">{k}</a>')
        if page < pages:
            href = self._page_href(base_path, page + 1)
            icon = '<i class="fa-regular fa-angle-right"></i>'
            out.append(f'<a class="extend next" rel="next" href="{href}">{icon}</a>')
        return '<div class="paginator">\n    ' + "".join(out) + "\n</div>"

    def _redefine_listing(
        self, kind: str, name: str, path: str, items: list[FixtureArticle], page: int, pages: int
    ) -> str:
        """Redefine home pages (listing-home.html) and tag/category archives (listing-tag.html)."""
        tpl = self.fam.posts[0]
        if kind in ("home", "page"):
            doc = self.texts["redefine/listing-home.html"]
            start = doc.index('<ul class="home-article-list">')
            end = doc.index('<div class="home-paginator')
            extras = self._extras_html() if page == 1 else ""
            listing = "".join(self._redefine_item(a) for a in items)
            doc = (
                doc[:start] + f'<ul class="home-article-list">\n{listing}    </ul>\n{extras}    ' + doc[end:]
            )
            paginator = self._redefine_paginator("/", page, pages)
            doc = re.sub(r'<div class="paginator">.*?</div>', lambda _: paginator, doc, count=1, flags=re.S)
            doc = doc.replace(f'"{tpl.origin}/"', f'"{self.base}{path}"')
            return self._finish(doc, tpl)
        doc = self.texts["redefine/listing-tag.html"]
        icon = "fa-tag" if kind == "tag" else "fa-folder"
        label = html.escape(name)
        doc = re.sub(
            r'<div class="tag-name">.*?</div>',
            lambda _: f'<div class="tag-name">\n\t\t<i class="fa-solid {icon}"></i>&nbsp;{label}\n\t</div>',
            doc,
            count=1,
            flags=re.S,
        )
        by_year: dict[int, list[FixtureArticle]] = {}
        for a in items:
            by_year.setdefault((a.published + _HEXO_TZ).year, []).append(a)
        sections = []
        for year, arts in sorted(by_year.items(), reverse=True):
            lis = "".join(
                f"""
                    <li class="article-item space-y-2 px-6 pt-10 pb-2 text-xl relative border-l-2 border-border-color" date-is='{(a.published + _HEXO_TZ):%m-%d}'>
                        <a href="{a.path}" class="block overflow-hidden w-fit">
                            <span class="article-title mb-0.5 text-2xl">{html.escape(a.title)}</span>
                        </a>
                    </li>"""  # noqa: E501
                for a in arts
            )
            sections.append(
                f"""        <section class="archive-item mb-spacing-unit last:mb-0">
            <div class="archive-item-header flex flex-row items-center mb-2">
                <span class="archive-year font-semibold text-3xl mr-2">{year}</span>
                <span class="archive-year-post-count text-xs md:text-sm font-bold rounded-small bg-third-background-color py-[2px] px-[10px] border border-border-color">{len(arts)}</span>
            </div>
            <ul class="article-list pl-0 md:pl-8 text-lg leading-[1.5]">{lis}
            </ul>
        </section>
"""  # noqa: E501
            )
        start = doc.index('<div class="archive-list-container">')
        end = doc.index('<div class="tag-paginator">')
        doc = (
            doc[:start]
            + '<div class="archive-list-container">\n'
            + "".join(sections)
            + "</div>\n\t</div>\n</div>\n"
            + doc[end:]
        )
        doc = re.sub(r'<div class="tag-paginator">.*?</div>\s*</div>\n', "", doc, count=1, flags=re.S)
        doc = doc.replace("/tags/storage/", path)
        return self._finish(doc, tpl)

    def _wp_item(self, a: FixtureArticle) -> str:
        """One WordPress archive entry."""
        url, t = self.base + a.path, html.escape(a.title)
        pid = 5000 + 7 * a.index
        cats = self._cat_links_of(a)
        classes = " ".join(
            [f"post-{pid} post type-post status-publish format-standard hentry"]
            + [f"category-{p}" for p, _ in cats]
            + [f"tag-{tag}" for tag in a.tags]
        )
        cat_links = ", ".join(
            f'<a href="{self.base}{self.fam.category_base}{p}/" rel="category tag">{html.escape(n)}</a>'
            for p, n in cats
        )
        excerpt = html.escape(_excerpt(self.rendered[a.path].excerpt, 240), quote=False)
        return f"""<article id="post-{pid}" class="{classes}">
	<header class="entry-header">
		<h2 class="entry-title"><a href="{url}" rel="bookmark">{t}</a></h2>			<div class="entry-meta">
				<span class="posted-on">Posted on <a href="{url}" rel="bookmark"><time class="entry-date published" datetime="{_iso_offset(a.published)}">{_mdy(a.published)}</time><time class="updated" datetime="{_iso_offset(a.updated)}">{_mdy(a.updated)}</time></a></span>
			</div><!-- .entry-meta -->
			</header><!-- .entry-header -->

	<div class="entry-summary">
		<p>{excerpt} &hellip; <a href="{url}" class="more-link">Continue reading<span class="screen-reader-text"> &#8220;{t}&#8221;</span></a></p>
	</div><!-- .entry-summary -->

	<footer class="entry-footer">
		<span class="cat-links">Posted in {cat_links}</span>
	</footer><!-- .entry-footer -->
</article><!-- #post-{pid} -->

"""  # noqa: E501

    def _wp_listing(
        self, kind: str, name: str, path: str, items: list[FixtureArticle], page: int, pages: int
    ) -> str:
        """WordPress archives (home, /page/N/, category, tag, private) from listing-category.html."""
        doc = self.texts["wordpress/listing-category.html"]
        tpl = self.fam.posts[0]
        headings = {
            "home": "",
            "page": f"Latest posts &ndash; page {page}",
            "category": f"Category: <span>{html.escape(name)}</span>",
            "tag": f"Tag: <span>{html.escape(name)}</span>",
            "about": html.escape(name),
        }
        heading = headings.get(kind, html.escape(name))
        header = (
            f'<header class="page-header">\n\t\t\t\t<h1 class="page-title">{heading}</h1>\t\t\t</header>'
            if heading
            else ""
        )
        doc = re.sub(
            r'<header class="page-header">.*?</header>(?=<!-- \.page-header -->)',
            lambda _: header,
            doc,
            count=1,
            flags=re.S,
        )
        ad = re.search(r'<div class="code-block code-block-5".*?</script></div>\n', doc, re.S)
        entries = [self._wp_item(a) for a in items]
        if ad and len(entries) > 2:
            entries.insert(2, ad[0] + "\n")
        if kind == "about":
            entries = [
                f'<article class="page type-page">\n\t<div class="entry-content">\n\t\t<p>{name} is a small '
                "team testing storage, networking and laptop gear so you do not have to.</p>\n\t</div>\n"
                "</article>\n"
            ]
        if page == 1 and kind == "home":
            entries.append(self._extras_html())
        start = doc.index('<article id="post-')
        end = doc.index('\t<nav class="navigation pagination"')
        doc = doc[:start] + "".join(entries) + doc[end:]
        base_path = path if kind != "page" else "/"
        nav = []

        def href(k: int) -> str:
            return self.base + self._page_href(base_path, k)

        if page > 1:
            nav.append(f'<a class="prev page-numbers" href="{href(page - 1)}">Previous</a>')
        for k in range(1, pages + 1):
            if k == page:
                nav.append(f'<span aria-current="page" class="page-numbers current">{k}</span>')
            else:
                nav.append(f'<a class="page-numbers" href="{href(k)}">{k}</a>')
        if page < pages:
            nav.append(f'<a class="next page-numbers" href="{href(page + 1)}">Next</a>')
        nav_html = '<div class="nav-links">' + "\n".join(nav) + "</div>"
        doc = re.sub(r'<div class="nav-links">.*?</div>', lambda _: nav_html, doc, count=1, flags=re.S)
        doc = re.sub(r'\t<link rel="next"[^>]*>\n', "", doc)
        title = {"home": "ByteGuides", "page": f"Page {page} - ByteGuides"}.get(
            kind, f"{name} Archives - ByteGuides"
        )
        if kind == "about":
            title = f"{name} - ByteGuides"
        doc = re.sub(r"<title>.*?</title>", lambda _: f"<title>{html.escape(title)}</title>", doc, count=1)
        doc = doc.replace(f"{tpl.origin}/category/storage/", f"{self.base}{path}")
        doc = _remap_links(doc, tpl, self._link_ctx(None, {}))
        return self._finish(doc, tpl)

    def _plain_listing(
        self, kind: str, name: str, path: str, items: list[FixtureArticle], page: int, pages: int
    ) -> str:
        """Plain-blog index, archive, month, tag and category pages from the post template's chrome."""
        tpl = self.fam.posts[0]
        doc = self._plain_sidebar(self.texts[tpl.file])
        posts = "".join(
            f'\n<div class="post">\n<h2 class="title"><a href="{a.path}">{html.escape(a.title)}</a></h2>\n'
            f'<div class="date">Posted on {_mdy(a.published)} by Janek</div>\n'
            f'<div class="txt"><p>{html.escape(_excerpt(self.rendered[a.path].excerpt, 240), quote=False)} '
            f'<a href="{a.path}">Read on&hellip;</a></p></div>\n</div>\n'
            for a in items
        )
        nav = []
        if page > 1:
            nav.append(f'<a href="{self._page_href("/", page - 1)}">&laquo; Newer posts</a>')
        if page < pages:
            nav.append(f'<a href="{self._page_href("/", page + 1)}">Older posts &raquo;</a>')
        nav_html = f'<p class="pager">{" | ".join(nav)}</p>\n' if nav else ""
        if kind == "about":
            posts = (
                "\n<p>I am Janek, a retired school technician who still gets handed broken gadgets by the "
                "whole street. This site has been running on the same shared host since 2004.</p>\n"
            )
        heading = "" if kind == "home" else f"<h2>{html.escape(name)}</h2>\n"
        extras = self._extras_html() if kind == "home" else ""
        start = doc.index('<div id="left">')
        end = doc.index('<div id="right">')
        doc = doc[:start] + f'<div id="left">\n{heading}{posts}{nav_html}{extras}</div>\n\n' + doc[end:]
        title = "Odd Bits" if kind == "home" else f"{name} :: Odd Bits"
        doc = re.sub(r"<title>.*?</title>", lambda _: f"<title>{html.escape(title)}</title>", doc, count=1)
        doc = re.sub(r'<meta name="(?:date|keywords|author)" content="[^"]*" />\n', "", doc)
        return re.sub(
            r'<meta name="description" content="[^"]*" />',
            '<meta name="description" content="Things I broke, and how I fixed them." />',
            doc,
        )

    # ---- discovery files

    def _sitemap_urls(self) -> tuple[list[tuple[str, datetime, str]], list[tuple[str, datetime, str]]]:
        """(loc, lastmod, priority) for sitemap.xml and for sitemap1.xml.gz."""
        articles = sorted((a for a in self.public), key=lambda a: a.updated, reverse=True)
        half = (len(articles) + 1) // 2
        mod = self.lastmod_override
        first = [(self.base + "/", self.newest, "1.0")]
        first += [(a.url, mod.get(a.path, a.updated), "0.6") for a in articles[:half]]
        second = [(a.url, mod.get(a.path, a.updated), "0.6") for a in articles[half:]]
        for tag, arts in sorted(self.tag_index.items()):
            second.append((f"{self.base}{self.fam.tag_base}{tag}/", max(a.updated for a in arts), "0.2"))
        for path, (_, arts) in sorted(self.category_index.items()):
            second.append(
                (f"{self.base}{self.fam.category_base}{path}/", max(a.updated for a in arts), "0.2")
            )
        for rule in self.spec.disallow:
            if rule.endswith("/") and rule != "/":
                second.append((self.base + rule, self.newest, "0.1"))
        if self.spec.faults:
            second.extend((self.base + p, self.newest, "0.1") for p in FAULT_PATHS)
        return first, second

    @staticmethod
    def _urlset(entries: list[tuple[str, datetime, str]]) -> str:
        """A sitemaps.org urlset."""
        urls = "".join(
            f"\n  <url>\n    <loc>{html.escape(loc)}</loc>\n    <lastmod>{_iso_ms(mod)}</lastmod>\n"
            f"    <changefreq>monthly</changefreq>\n    <priority>{prio}</priority>\n  </url>"
            for loc, mod, prio in entries
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<?xml-stylesheet type="text/xsl" href="./sitemap.xsl"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}\n</urlset>\n'
        )

    def _robots(self) -> str:
        """robots.txt: a group for another bot, then ours with the Disallow rules, delay and sitemap."""
        lines = [
            f"# robots.txt for {self.spec.name}",
            "User-agent: BadBot",
            "Disallow: /",
            "",
            "User-agent: *",
        ]
        lines += [f"Disallow: {rule}" for rule in self.spec.disallow]
        if self.spec.crawl_delay is not None:
            lines.append(f"Crawl-delay: {self.spec.crawl_delay:g}")
        lines += ["", f"Sitemap: {self.base}/sitemap_index.xml", ""]
        return "\n".join(lines)

    def _atom(self) -> str:
        """hexo-generator-feed's atom.xml: the latest 20 articles, full content in CDATA."""
        entries = []
        for a in self.listed[:_FEED_LIMIT]:
            cats = "".join(
                f'\n    <category term="{html.escape(n)}" scheme="{self.base}{self.fam.category_base}{p}/"/>'
                for p, n in self._cat_links_of(a)
            )
            cats += "".join(
                f'\n    <category term="{t}" scheme="{self.base}{self.fam.tag_base}{t}/"/>' for t in a.tags
            )
            r = self.rendered[a.path]
            entries.append(
                f"""  <entry>
    <title>{html.escape(a.title)}</title>
    <link href="{a.url}"/>
    <id>{a.url}</id>
    <published>{_iso_ms(a.published)}</published>
    <updated>{_iso_ms(a.updated)}</updated>
    <content type="html">{_cdata(r.content)}</content>
    <summary type="html">{html.escape(_excerpt(r.excerpt, 140))}</summary>{cats}
  </entry>
"""
            )
        return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>{html.escape(self.fam.site_name)}</title>
  <link href="{self.base}/atom.xml" rel="self"/>
  <link href="{self.base}/"/>
  <updated>{_iso_ms(self.newest)}</updated>
  <id>{self.base}/</id>
  <author>
    <name>{html.escape(self.fam.site_name)}</name>
  </author>
  <generator uri="https://hexo.io/">Hexo</generator>
{"".join(entries)}</feed>
"""

    def _rss(self) -> str:
        """An RSS 2.0 feed of the latest articles with content:encoded."""
        items = []
        for a in self.listed[:_FEED_LIMIT]:
            r = self.rendered[a.path]
            cats = "".join(f"\n\t\t<category>{_cdata(n)}</category>" for _, n in self._cat_links_of(a))
            items.append(
                f"""	<item>
		<title>{html.escape(a.title)}</title>
		<link>{a.url}</link>
		<dc:creator>{_cdata(self.fam.site_name)}</dc:creator>
		<pubDate>{_http_date(a.published).replace("GMT", "+0000")}</pubDate>{cats}
		<guid isPermaLink="false">{self.base}/?p={5000 + 7 * a.index}</guid>
		<description>{_cdata(_excerpt(r.excerpt, 200))}</description>
		<content:encoded>{_cdata(r.content)}</content:encoded>
	</item>
"""
            )
        return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
	<title>{html.escape(self.fam.site_name)}</title>
	<atom:link href="{self.base}{self.fam.rss_path}" rel="self" type="application/rss+xml" />
	<link>{self.base}/</link>
	<description>Fixture feed</description>
	<lastBuildDate>{_http_date(self.newest).replace("GMT", "+0000")}</lastBuildDate>
	<language>en</language>
{"".join(items)}</channel>
</rss>
"""

    # ---- assembly

    def _build(self) -> None:
        """Render and register every page, listing and discovery file."""
        for post in self.posts:
            r = self._render_post(post)
            self.rendered[post.info.path] = r
            extra = (("X-Robots-Tag", "noarchive"),) if post.info.noarchive else ()
            self.pages[post.info.path] = _page(r.page, _HTML, post.info.updated, *extra)

        def listing(kind: str, name: str, path: str, items: list[FixtureArticle], paged: bool) -> None:
            pages = max(1, math.ceil(len(items) / _PER_PAGE)) if paged else 1
            for page in range(1, pages + 1):
                shown = self._paged(items, page) if paged else items
                where = self._page_href(path, page)
                body = self._listing(kind if page == 1 else "page", name, where, shown, page, pages)
                modified = max((a.updated for a in shown), default=self.newest)
                self.pages[where] = _page(body, _HTML, modified)

        listing("home", self.fam.site_name, "/", self.listed, True)
        for tag, arts in self.tag_index.items():
            listing("tag", tag, f"{self.fam.tag_base}{tag}/", arts, False)
        for path, (name, arts) in self.category_index.items():
            listing("category", name, f"{self.fam.category_base}{path}/", arts, False)
        for rule in self.spec.disallow:
            if rule.endswith("/") and rule != "/" and rule not in self.pages:
                drafts = [a for a in self.private if a.path.startswith(rule)]
                listing("private", "Drafts", rule, drafts, False)
        self._about()
        if self.fam.name == "plain":
            listing("archive", "Archive", "/archive.html", self.listed, False)
            months: dict[str, list[FixtureArticle]] = {}
            for a in self.listed:
                months.setdefault(f"/{a.published.year:04d}/{a.published.month:02d}/", []).append(a)
            for path, arts in months.items():
                label = f"{_MONTHS[arts[0].published.month - 1]} {arts[0].published.year}"
                listing("month", label, path, arts, False)
        self.pages["/robots.txt"] = _page(self._robots(), "text/plain; charset=utf-8", self.newest)
        self._build_sitemaps()
        self.pages["/atom.xml"] = _page(self._atom(), "application/atom+xml; charset=utf-8", self.newest)
        if self.fam.rss_path:
            self.pages[self.fam.rss_path] = _page(
                self._rss(), "application/rss+xml; charset=utf-8", self.newest
            )

    def _build_sitemaps(self) -> None:
        """The sitemap index and its three sitemaps (again after :meth:`FixtureServer.set_lastmod`)."""
        first, second = self._sitemap_urls()
        self.pages["/sitemap.xml"] = _page(self._urlset(first), "application/xml; charset=utf-8", self.newest)
        gz = gzip.compress(self._urlset(second).encode(), 9, mtime=0)
        self.pages["/sitemap1.xml.gz"] = _page(gz, "application/gzip", self.newest)
        txt = "".join(loc + "\n" for loc, _, _ in first + second)
        self.pages["/sitemap.txt"] = _page(txt, "text/plain; charset=utf-8", self.newest)
        index = "".join(
            f"\n  <sitemap>\n    <loc>{self.base}/{name}</loc>\n"
            f"    <lastmod>{_iso_ms(self.newest)}</lastmod>\n  </sitemap>"
            for name in ("sitemap.xml", "sitemap1.xml.gz", "sitemap.txt")
        )
        self.pages["/sitemap_index.xml"] = _page(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{index}\n</sitemapindex>\n',
            "application/xml; charset=utf-8",
            self.newest,
        )

    def _about(self) -> None:
        """The about page at the family's usual address(es)."""
        if self.fam.name == "redefine":
            doc = self._finish(self.texts["redefine/page-about.html"], self.fam.posts[0])
            page = _page(doc, _HTML, self.newest)
            self.pages["/about/"] = page
            self.pages["/about.html"] = page
            self.redirects["/about"] = "/about/"
        elif self.fam.name == "wordpress":
            body = self._wp_listing("about", f"About {self.fam.site_name}", "/about/", [], 1, 1)
            self.pages["/about/"] = _page(body, _HTML, self.newest)
        else:
            body = self._plain_listing("about", "About me", "/about.html", [], 1, 1)
            self.pages["/about.html"] = _page(body, _HTML, self.newest)

    # ---- dynamic pages

    def lookup(self, path: str) -> _Page | None:
        """The static page at ``path``, also as ``…/index.html``."""
        page = self.pages.get(path)
        if page is None and path.endswith("/index.html"):
            page = self.pages.get(path[: -len("index.html")])
        return page

    def not_found(self) -> bytes:
        """The 404 page body."""
        return _simple_page(
            f"Page not found - {self.fam.site_name}",
            '<p>Sorry, there is nothing here.</p>\n<p><a href="/">Back to the home page</a></p>',
        )

    def trap(self, path: str, query: str) -> tuple[int, str, bytes] | None:
        """Crawl-trap pages: (status, Location or "", body), or None if ``path`` is not a trap."""
        if path == "/calendar/":
            return 301, "/calendar/2024/01/", b""
        m = re.fullmatch(r"/calendar/(\d{4})/(\d{2})/", path)
        if m:
            year, month = int(m[1]), int(m[2])
            if not (1 <= year <= 9999 and 1 <= month <= 12):
                return None
            prev = (year, month - 1) if month > 1 else (year - 1, 12)

            def label(y: int, mo: int) -> str:
                return f"{_MONTHS[mo - 1]} {y}"

            nxt = (year, month + 1) if month < 12 else (year + 1, 1)
            links = [
                f'<a rel="prev" href="/calendar/{prev[0]:04d}/{prev[1]:02d}/">&laquo; {label(*prev)}</a>',
                f'<a rel="next" href="/calendar/{nxt[0]:04d}/{nxt[1]:02d}/">{label(*nxt)} &raquo;</a>',
                f'<a href="/calendar/{year + 1:04d}/{month:02d}/">Same month next year</a>',
            ]
            body = (
                "<p>No posts this month.</p>\n<p>" + " | ".join(links) + '</p>\n<p><a href="/">Home</a></p>'
            )
            return 200, "", _simple_page(f"Calendar: {_MONTHS[month - 1]} {year}", body)
        if re.fullmatch(r"(?:/a)+/", path):
            depth = path.count("/a")
            nav = '<a href="a/">Go deeper</a> | <a href="../">Up</a> | <a href="/">Home</a>'
            body = f"<p>Level {depth}.</p>\n<p>{nav}</p>"
            return 200, "", _simple_page(f"Folder level {depth}", body)
        if path == "/search":
            params = parse_qs(query)
            q = params.get("q", [""])[0]
            try:
                page = max(1, int(params.get("page", ["1"])[0]))
            except ValueError:
                page = 1
            hits = self.listed[(page * 3) % max(1, len(self.listed)) :][:5] if self.listed else []
            results = "".join(f'\n<li><a href="{a.path}">{html.escape(a.title)}</a></li>' for a in hits)
            words = [w for w in ("windows", "drive", "fix", "usb") if w not in q.split()]
            more = [
                ("Next page", {"q": q, "page": page + 1}),
                ("Newest first", {"q": q, "page": page, "sort": "date"}),
            ]
            more += [(f"Also search {w}", {"q": f"{q} {w}".strip(), "page": 1}) for w in words[:3]]
            refine = " | ".join(f'<a href="/search?{html.escape(urlencode(p))}">{t}</a>' for t, p in more)
            heading = f"<p>Results for &ldquo;{html.escape(q)}&rdquo;, page {page}:</p>"
            body = f"{heading}\n<ul>{results}\n</ul>\n<p>{refine}</p>"
            return 200, "", _simple_page(f"Search: {q}", body)
        return None


# --------------------------------------------------------------------------------------------- HTTP


@dataclass
class _Reply:
    """What the handler will send: a normal response, a stream, or a deliberate breakage."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    stream: Iterator[bytes] | None = None
    length: int | None = None
    action: Literal["send", "reset", "truncate"] = "send"
    delay: float = 0.0


class _Server(ThreadingHTTPServer):
    """One listening socket for one site; knows its owner and open connections."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: FixtureServer) -> None:
        """Bind (without a reverse DNS lookup) to one loopback address."""
        self.owner = owner
        self.site: _Site | None = None
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind and record name and port; HTTPServer's getfqdn() could stall on DNS."""
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def close_connections(self) -> None:
        """Shut down every open client connection so handler threads wake up and exit."""
        with self.conn_lock:
            conns = list(self.connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Routes each request by the local address it arrived on, logs it, then answers."""

    protocol_version = "HTTP/1.1"
    server_version = "thresher-fixture/1.0"
    sys_version = ""
    timeout = 30
    disable_nagle_algorithm = True

    def setup(self) -> None:
        """Track the connection so stop() can close it."""
        super().setup()
        srv = cast(_Server, self.server)
        with srv.conn_lock:
            srv.connections.add(self.connection)

    def finish(self) -> None:
        """Forget the connection."""
        srv = cast(_Server, self.server)
        with srv.conn_lock:
            srv.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the FixtureServer log records requests."""

    def do_GET(self) -> None:
        """GET."""
        self._serve()

    def do_HEAD(self) -> None:
        """HEAD."""
        self._serve()

    def do_POST(self) -> None:
        """POST (405)."""
        self._serve()

    def do_PUT(self) -> None:
        """PUT (405)."""
        self._serve()

    def do_DELETE(self) -> None:
        """DELETE (405)."""
        self._serve()

    def do_OPTIONS(self) -> None:
        """OPTIONS (405)."""
        self._serve()

    def _serve(self) -> None:
        """Route, log, then send."""
        srv = cast(_Server, self.server)
        site = srv.site
        if site is None:  # pragma: no cover - requests cannot arrive before start() finishes
            self.close_connection = True
            return
        headers: dict[str, str] = {}
        for key, value in self.headers.items():
            k = key.lower()
            headers[k] = f"{headers[k]}, {value}" if k in headers else value
        reply = srv.owner._route(site, self.command, self.path, headers, self.client_address[0])
        status = 0 if reply.action == "reset" else reply.status
        srv.owner._record(
            RequestRecord(time.monotonic(), time.time(), site.host, self.command, self.path, headers, status)
        )
        if self.command not in ("GET", "HEAD"):
            self.close_connection = True
        if reply.delay > 0:
            srv.owner._stopping.wait(reply.delay)
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def _send(self, reply: _Reply) -> None:
        """Write a reply (or break the connection the way the reply asks)."""
        if reply.action == "reset":
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        head_only = self.command == "HEAD" or reply.status in (204, 304)
        self.send_response(reply.status)
        for key, value in reply.headers:
            self.send_header(key, value)
        if reply.action == "truncate":
            self.send_header("Content-Length", str(reply.length))
            self.send_header("Connection", "close")
            self.end_headers()
            if not head_only:
                self.wfile.write(reply.body)
            self.close_connection = True
            return
        if reply.stream is not None:
            chunked = reply.length is None
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(reply.length))
            self.end_headers()
            if head_only:
                return
            for chunk in reply.stream:
                if self.owner_stopping():
                    self.close_connection = True
                    return
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            return
        if reply.status != 304:
            self.send_header("Content-Length", str(len(reply.body)))
        # end_headers() would send the head alone, then the body in a second write: one write of both
        # saves a syscall here and a wake-up in the client, whichever client it is.
        buffered: list[bytes] = getattr(self, "_headers_buffer", [])
        if self.request_version != "HTTP/0.9":
            buffered.append(b"\r\n")
        head = b"".join(buffered)
        buffered.clear()
        self.wfile.write(head if head_only else head + reply.body)

    def owner_stopping(self) -> bool:
        """Whether the server is shutting down (streams stop early)."""
        return cast(_Server, self.server).owner._stopping.is_set()


# --------------------------------------------------------------------------------------------- the server


class FixtureServer:
    """Serves fixture sites on loopback addresses, one per site, all on one port; logs every request."""

    def __init__(
        self,
        sites: list[SiteSpec] | None = None,
        *,
        base_port: int = 0,
        slow_seconds: float = 2.0,
        fixtures_dir: Path | None = None,
        huge_bytes: int = HUGE_BYTES,
        bomb_bytes: int = BOMB_BYTES,
        echo: TextIO | None = None,
    ) -> None:
        """Validate the sites (loopback addresses only); nothing is bound until start()."""
        self.sites = list(sites) if sites is not None else default_sites()
        if not self.sites:
            raise ValueError("no sites to serve")
        names = [s.name for s in self.sites]
        addresses = [_check_loopback(s.address) for s in self.sites]
        if len(set(names)) != len(names) or len(set(addresses)) != len(addresses):
            raise ValueError("site names and addresses must be unique: a site is identified by its address")
        for spec in self.sites:
            _family(spec.template)
            if spec.n_articles < 1:
                raise ValueError(f"site {spec.name!r} needs at least one article")
        self.base_port = base_port
        self.slow_seconds = slow_seconds
        self.fixtures_dir = fixtures_dir or Path(__file__).resolve().parents[2] / "fixtures" / "pages"
        self.huge_bytes = huge_bytes
        self.bomb_bytes = bomb_bytes
        self.echo = echo
        self._lock = threading.Lock()
        self._log: list[RequestRecord] = []
        self._hits: dict[tuple[str, str, str], int] = {}
        self._stopping = threading.Event()
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self._site_by_name: dict[str, _Site] = {}
        self._bomb: tuple[bytes, bytes, int, bytes] | None = None
        self._bomb_lock = threading.Lock()
        self._port = 0

    # ---- lifecycle

    def __enter__(self) -> FixtureServer:
        """Start serving."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop serving."""
        self.stop()

    def start(self) -> FixtureServer:
        """Bind every site's address on one port, render the sites, and serve in background threads."""
        if self._servers:
            return self
        texts = self._load_templates()
        self._stopping.clear()
        servers = self._bind()
        try:
            port = servers[0].server_port
            bases = {s.name: f"http://{s.address}:{port}" for s in self.sites}
            plans = {s.name: _plan(s, bases[s.name]) for s in self.sites}
            for spec, srv in zip(self.sites, servers, strict=True):
                siblings = [
                    (p.info.url, p.info.title)
                    for other in self.sites
                    if other.name != spec.name
                    for p in plans[other.name]
                    if p.info.listed
                ]
                site = _Site(spec, bases[spec.name], plans[spec.name], texts, siblings)
                srv.site = site
                self._site_by_name[spec.name] = site
        except BaseException:
            for srv in servers:
                srv.server_close()
            raise
        self._servers, self._port = servers, port
        for spec, srv in zip(self.sites, self._servers, strict=True):
            thread = threading.Thread(
                target=srv.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"fixture-{spec.name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop every listener, break open connections and join the serving threads."""
        self._stopping.set()
        for srv in self._servers:
            srv.shutdown()
        for srv in self._servers:
            srv.close_connections()
            srv.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def _load_templates(self) -> dict[str, str]:
        """Read every template file the configured families use."""
        files: set[str] = set()
        for spec in self.sites:
            fam = _family(spec.template)
            files.update(t.file for t in fam.posts)
        files.update(
            {
                "redefine/listing-home.html",
                "redefine/listing-tag.html",
                "redefine/page-about.html",
                "wordpress/listing-category.html",
            }
        )
        texts = {}
        for name in sorted(files):
            path = self.fixtures_dir / name
            if not path.is_file():
                raise FileNotFoundError(f"fixture template missing: {path} (run from a source checkout)")
            texts[name] = path.read_text(encoding="utf-8")
        return texts

    def _bind(self) -> list[_Server]:
        """One listener per site address, all on the same port (a free one when base_port is 0)."""
        for attempt in range(50):
            servers: list[_Server] = []
            try:
                port = self.base_port
                for spec in self.sites:
                    srv = _Server((_check_loopback(spec.address), port), self)
                    servers.append(srv)
                    port = srv.server_port
            except OSError as exc:
                for srv in servers:
                    srv.server_close()
                if self.base_port or exc.errno != errno.EADDRINUSE or attempt == 49:
                    raise
                continue
            for srv in servers:
                host = srv.socket.getsockname()[0]
                if ipaddress.ip_address(host) not in ipaddress.ip_network("127.0.0.0/8"):  # pragma: no cover
                    for s in servers:
                        s.server_close()
                    raise RuntimeError(f"bound a non-loopback address {host}")
            return servers
        raise RuntimeError("unreachable")  # pragma: no cover

    # ---- inspection

    @property
    def port(self) -> int:
        """The port every site listens on."""
        return self._port

    @property
    def addresses(self) -> dict[str, str]:
        """Site name -> base URL (``http://127.0.0.2:PORT``, no trailing slash)."""
        return {s.name: f"http://{s.address}:{self._port}" for s in self.sites}

    @property
    def bound(self) -> list[tuple[str, int]]:
        """The (address, port) each listening socket is actually bound to."""
        out = []
        for srv in self._servers:
            host, port = srv.socket.getsockname()[:2]
            out.append((str(host), int(port)))
        return out

    @property
    def log(self) -> list[RequestRecord]:
        """A copy of every request so far, in arrival order."""
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        """Forget logged requests."""
        with self._lock:
            self._log.clear()

    def requests_for(self, site: str) -> list[RequestRecord]:
        """Requests received by one site, given as base URL, ``host:port`` or site name."""
        if site in self.addresses:
            site = self.addresses[site]
        host = urlsplit(site).netloc if "//" in site else site.rstrip("/")
        return [r for r in self.log if r.host == host]

    def reset_state(self) -> None:
        """Forget per-client fault state, so "the first time" faults fire again."""
        with self._lock:
            self._hits.clear()

    def precompress(self) -> int:
        """Gzip every page that would be sent gzipped now, rather than on its first request; how many.

        For benchmarks: the compressed body is cached on first use, so without this the first client
        to crawl a site pays the server's zlib time and a second client crawling it afterwards does not.
        """
        count = 0
        for site in self._site_by_name.values():
            for page in list(site.pages.values()):
                if page.content_type.startswith(_GZIP_TYPES):
                    page.gzip_body()
                    count += 1
        return count

    def articles(self, site: str) -> list[FixtureArticle]:
        """Every article of a site (private drafts last): the ground truth for crawl tests."""
        return list(self._site_by_name[site].articles)

    def set_lastmod(self, site: str, path: str, lastmod: datetime) -> None:
        """Make the sitemaps list ``lastmod`` for the article at ``path`` (the page itself is unchanged)."""
        with self._lock:
            target = self._site_by_name[site]
            target.lastmod_override[path] = lastmod
            target._build_sitemaps()

    def url(self, site: str, path: str = "/") -> str:
        """Absolute URL of ``path`` on ``site``."""
        return self.addresses[site] + path

    # ---- request handling (called from handler threads)

    def _record(self, record: RequestRecord) -> None:
        """Append to the log (and echo it)."""
        with self._lock:
            self._log.append(record)
        if self.echo is not None:
            print(f"{record.host} {record.method} {record.path} {record.status}", file=self.echo, flush=True)

    def _bump(self, key: tuple[str, str, str]) -> int:
        """How many times this client asked for this path before now."""
        with self._lock:
            count = self._hits.get(key, 0)
            self._hits[key] = count + 1
            return count

    def _bomb_parts(self) -> tuple[bytes, bytes, int, bytes]:
        """The gzip bomb, built on first use."""
        with self._bomb_lock:
            if self._bomb is None:
                self._bomb = _gzip_bomb_parts(self.bomb_bytes)
            return self._bomb

    def _route(self, site: _Site, method: str, target: str, headers: dict[str, str], client: str) -> _Reply:
        """Decide the reply to one request."""
        if method not in ("GET", "HEAD"):
            return _Reply(
                405, [("Allow", "GET, HEAD"), ("Content-Type", "text/plain")], b"method not allowed\n"
            )
        parts = urlsplit(target)
        path = unquote(parts.path) or "/"
        if site.spec.faults and path.startswith("/fault/"):
            fault = self._fault(site, path, client)
            if fault is not None:
                return fault
        if site.spec.trap:
            trap = site.trap(path, parts.query)
            if trap is not None:
                status, moved_to, body = trap
                if moved_to:
                    return _Reply(status, [("Location", moved_to)])
                return _Reply(status, [("Content-Type", _HTML)], body)
        page = site.lookup(path)
        if page is not None:
            return self._static(page, headers)
        location: str | None = site.redirects.get(path)
        if location is None and not path.endswith("/") and path + "/" in site.pages:
            location = path + "/"
        if location is not None:
            if parts.query:
                location += "?" + parts.query
            return _Reply(301, [("Location", location), ("Content-Type", _HTML)], b"")
        return _Reply(404, [("Content-Type", _HTML)], site.not_found())

    @staticmethod
    def _static(page: _Page, headers: dict[str, str]) -> _Reply:
        """A static page with validators, gzip when accepted, and 304 for a matching conditional request."""
        gz = _accepts_gzip(headers.get("accept-encoding")) and page.content_type.startswith(_GZIP_TYPES)
        etag = page.etag[:-1] + '-gzip"' if gz else page.etag
        out = [
            ("ETag", etag),
            ("Last-Modified", _http_date(page.last_modified)),
            ("Cache-Control", "max-age=600"),
            ("Vary", "Accept-Encoding"),
            *page.headers,
        ]
        not_modified = False
        inm = headers.get("if-none-match")
        ims = headers.get("if-modified-since")
        if inm is not None:
            wanted = _etag_core(page.etag)
            not_modified = any(t.strip() == "*" or _etag_core(t) == wanted for t in inm.split(","))
        elif ims is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError, IndexError):
                since = None
            if since is not None:
                since = since if since.tzinfo else since.replace(tzinfo=UTC)
                not_modified = page.last_modified.replace(microsecond=0) <= since
        if not_modified:
            return _Reply(304, out)
        body = page.body
        out.insert(0, ("Content-Type", page.content_type))
        if gz:
            body = page.gzip_body()
            out.append(("Content-Encoding", "gzip"))
        return _Reply(200, out, body)

    def _fault(self, site: _Site, path: str, client: str) -> _Reply | None:
        """The misbehaving endpoints under /fault/ (None: no such fault)."""
        name = path.removeprefix("/fault/")
        key = (client, site.host, path)

        def ok(title: str) -> _Reply:
            body = _simple_page(
                title, f"<p>The {html.escape(name)} endpoint answered normally this time.</p>"
            )
            return _Reply(200, [("Content-Type", _HTML)], body)

        if name == "":
            links = "".join(f'\n<li><a href="{p}">{p}</a></li>' for p in FAULT_PATHS)
            return _Reply(200, [("Content-Type", _HTML)], _simple_page("Faults", f"<ul>{links}\n</ul>"))
        if name == "429":
            if self._bump(key) == 0:
                return _Reply(
                    429,
                    [("Retry-After", "2"), ("Content-Type", _HTML)],
                    _simple_page("Too Many Requests", ""),
                )
            return ok("Rate limit lifted")
        if name == "429-date":
            if self._bump(key) == 0:
                when = _http_date(datetime.fromtimestamp(math.floor(time.time()) + 3, UTC))
                return _Reply(
                    429,
                    [("Retry-After", when), ("Content-Type", _HTML)],
                    _simple_page("Too Many Requests", ""),
                )
            return ok("Rate limit lifted")
        if name == "503":
            if self._bump(key) < 2:
                return _Reply(503, [("Content-Type", _HTML)], _simple_page("Service Unavailable", ""))
            return ok("Back in service")
        if name == "500":
            if self._bump(key) < 2:
                return _Reply(500, [("Content-Type", _HTML)], _simple_page("Internal Server Error", ""))
            return ok("Recovered")
        if name == "slow":
            reply = ok("A slow page")
            reply.delay = self.slow_seconds
            return reply
        if name == "reset":
            return _Reply(0, [], action="reset")
        if name == "truncated":
            body = _simple_page("A truncated page", "<p>" + "This sentence will be cut off. " * 60 + "</p>")
            return _Reply(
                200, [("Content-Type", _HTML)], body[: len(body) // 2], length=len(body), action="truncate"
            )
        if name == "redirect-loop":
            return _Reply(302, [("Location", f"{site.base}/fault/redirect-loop-b")])
        if name == "redirect-loop-b":
            return _Reply(302, [("Location", f"{site.base}/fault/redirect-loop")])
        if name == "redirect-chain":
            return _Reply(302, [("Location", "/fault/redirect-chain/1")])
        m = re.fullmatch(r"redirect-chain/(\d+)", name)
        if m:
            hop = int(m[1])
            if hop == REDIRECT_CHAIN_HOPS:
                return ok("End of the redirect chain")
            if 1 <= hop < REDIRECT_CHAIN_HOPS:
                status = (301, 302, 303, 307, 308)[hop % 5]
                return _Reply(status, [("Location", f"/fault/redirect-chain/{hop + 1}")])
            return None
        if name == "redirect-offsite":
            return _Reply(302, [("Location", OFFSITE_URL)])
        if name == "huge":
            return _Reply(200, [("Content-Type", _HTML)], stream=_huge_stream(self.huge_bytes))
        if name == "gzip-bomb":
            header, block, count, tail = self._bomb_parts()

            def bomb() -> Iterator[bytes]:
                yield header
                full, rest = divmod(count, 64)
                group = block * 64
                for _ in range(full):
                    yield group
                if rest:
                    yield block * rest
                yield tail

            size = len(header) + len(block) * count + len(tail)
            headers = [("Content-Type", _HTML), ("Content-Encoding", "gzip")]
            return _Reply(200, headers, stream=bomb(), length=size)
        if name == "wrong-type":
            return _Reply(
                200, [("Content-Type", "image/png")], _simple_page("Not a picture", "<p>An HTML page.</p>")
            )
        if name == "wrong-charset":
            # An article in UTF-8 (its <meta charset> says so) served with a header that says Latin-1.
            paras = "".join(
                f"<p>{WRONG_CHARSET_TEXT} Paragraph {k} of the article, which a crawler must keep whole.</p>"
                for k in range(1, 6)
            )
            body = _simple_page(
                "Grüße aus Łódź — café naïve",
                f'<article><p class="date"><time datetime="2025-03-01T08:00:00+00:00">1 March 2025</time></p>'
                f"{paras}</article>",
            ).replace(b"<title>", b'<meta property="og:type" content="article">\n<title>', 1)
            return _Reply(200, [("Content-Type", "text/html; charset=iso-8859-1")], body)
        if name == "binary":
            data = b"".join(hashlib.sha256(b"binary-%d" % k).digest() for k in range(128))
            return _Reply(200, [("Content-Type", "application/octet-stream")], data)
        return None


# --------------------------------------------------------------------------------------------- CLI


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM handler: stop like Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the default sites in the foreground until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m thresher.fixtureserver", description="Serve the fixture sites on loopback addresses."
    )
    parser.add_argument("--port", type=int, default=0, help="port for every site (default: a free one)")
    parser.add_argument("--articles", type=int, default=30, help="articles per site (default: 30)")
    parser.add_argument("--crawl-delay", type=float, default=0.2, help="Crawl-delay of the Redefine site")
    parser.add_argument("--slow", type=float, default=2.0, help="seconds /fault/slow waits (default: 2)")
    parser.add_argument("--quiet", action="store_true", help="do not print each request")
    args = parser.parse_args(argv)
    server = FixtureServer(
        default_sites(args.articles, crawl_delay=args.crawl_delay),
        base_port=args.port,
        slow_seconds=args.slow,
        echo=None if args.quiet else sys.stderr,
    )
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with server:
        for name, url in server.addresses.items():
            print(f"{name:<12} {url}/", flush=True)
        print("Serving on loopback only. Ctrl-C stops.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
