"""What the crawler may queue: allowed hosts, include/exclude patterns, and crawler-trap guards."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..urls import is_tracking_param

__all__ = ["DEFAULT_SKIP_EXTENSIONS", "Scope", "is_article_url"]

DEFAULT_SKIP_EXTENSIONS = frozenset(
    {
        # images
        "jpg", "jpeg", "png", "gif", "webp", "avif", "svg", "ico", "bmp", "tif", "tiff", "heic",
        # styles, scripts, fonts
        "css", "js", "mjs", "map", "woff", "woff2", "ttf", "otf", "eot",
        # documents and archives
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "epub",
        "zip", "gz", "tgz", "bz2", "xz", "rar", "7z", "tar",
        # binaries
        "exe", "msi", "dmg", "pkg", "deb", "rpm", "apk", "iso", "img", "bin",
        # audio and video
        "mp3", "m4a", "wav", "ogg", "flac", "mp4", "m4v", "webm", "avi", "mov", "mkv", "flv", "wmv",
    }
)  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}
_VERDICT_CACHE = 8192  # URLs whose verdict a Scope remembers (then it starts again)
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,8})$")
_DATE_SEGMENT = re.compile(r"(\d{4})-(\d{1,2})(?:-\d{1,2})?")  # "2099-01" or "2099-01-31"
_MONTH_SEGMENT = re.compile(r"\d{1,2}")
_YEAR = re.compile(r"\d{4}")
_LEADING_YEAR = re.compile(r"^\s*(\d{4})(?!\d)")
# Query keys that calendar and event plugins page through (The Events Calendar's tribe-bar-date …).
_DATE_KEYS = frozenset(
    {"date", "year", "month", "day", "ym", "cal", "calendar", "tribe-bar-date", "eventdate"}
)


def _next_year() -> int:
    """Default upper bound for calendar years."""
    return datetime.now(UTC).year + 1


@dataclass(slots=True, kw_only=True)
class Scope:
    """Crawl rules; :meth:`check` says whether a URL may be queued, and if not, why.

    ``allow_hosts`` holds lower-case hosts, optionally with a port: ``a.example`` matches that host on
    the scheme's default port, ``a.example:8080`` that port only, ``*.a.example`` the host and all its
    subdomains. An empty set allows every host. ``include``/``exclude`` patterns are searched
    (``re.search``) in the full URL. An empty ``include`` lets everything through.

    Calendar traps: a year outside ``min_year..max_year`` in a date position is refused as
    "calendar-trap". Date positions are a ``YYYY/MM`` pair of path segments, a ``YYYY-MM[-DD]`` segment,
    or the value of a query key such as ``date``, ``year``, ``month`` or ``tribe-bar-date``. An endless
    calendar therefore stops at a plausible year, while ``/2024/10/20/slug/`` permalinks pass.

    Verdicts are remembered per URL: set the fields before the first :meth:`check`, not after.
    """

    allow_hosts: set[str] = field(default_factory=set)
    include: list[re.Pattern[str]] = field(default_factory=list)
    exclude: list[re.Pattern[str]] = field(default_factory=list)
    max_depth: int = 6
    max_url_length: int = 2048
    max_repeated_segments: int = 2
    max_query_params: int = 6
    max_path_segments: int = 12
    skip_extensions: frozenset[str] = DEFAULT_SKIP_EXTENSIONS
    min_year: int = 1990
    max_year: int = field(default_factory=_next_year)
    _verdicts: dict[str, tuple[str | None, str | None]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def for_site(cls, *seeds: str, **options: Any) -> Scope:
        """A scope allowing exactly the hosts (and non-default ports) of ``seeds``."""
        hosts: set[str] = set()
        for seed in seeds:
            try:
                parts = urlsplit(seed.strip())
                host, port = (parts.hostname or "").lower().rstrip("."), parts.port
            except ValueError:
                continue
            if host:
                default = _DEFAULT_PORTS.get(parts.scheme.lower())
                hosts.add(host if port is None or port == default else f"{host}:{port}")
        return cls(allow_hosts=hosts, **options)

    def check(self, url: str, depth: int) -> str | None:
        """None when ``url`` at link ``depth`` may be queued, else a short reason.

        Reasons: "too-long", "invalid", "scheme", "off-host", "excluded", "not-included", "too-deep",
        "asset", "too-many-segments", "repeated-segments", "too-many-params", "calendar-trap".
        """
        # A page offers the same navigation links as the last one: the verdict on the URL itself is
        # remembered (bounded), only the depth is checked each time.
        verdict = self._verdicts.get(url)
        if verdict is None:
            if len(self._verdicts) >= _VERDICT_CACHE:
                self._verdicts.clear()
            verdict = self._verdicts[url] = self._url_checks(url)
        before_depth, after_depth = verdict
        if before_depth is not None:
            return before_depth
        if depth > self.max_depth:
            return "too-deep"
        return after_depth

    def _url_checks(self, url: str) -> tuple[str | None, str | None]:
        """:meth:`check`'s verdicts that do not depend on depth: those ranked before "too-deep", and after."""
        if len(url) > self.max_url_length:
            return "too-long", None
        try:
            parts = urlsplit(url.strip())
            scheme = parts.scheme.lower()
            host = (parts.hostname or "").lower().rstrip(".")
            port = parts.port
        except ValueError:
            return "invalid", None
        if scheme not in _DEFAULT_PORTS:
            return "scheme", None
        if not host:
            return "invalid", None
        if not self._host_allowed(host, port or _DEFAULT_PORTS[scheme], scheme):
            return "off-host", None
        if any(p.search(url) for p in self.exclude):
            return "excluded", None
        if self.include and not any(p.search(url) for p in self.include):
            return "not-included", None
        return None, self._path_trap(parts.path) or self._query_trap(parts.query)

    def allows_host(self, url: str) -> bool:
        """Whether ``url`` is http(s) on an allowed host: the only test for sitemaps and feeds themselves."""
        try:
            parts = urlsplit(url.strip())
            scheme = parts.scheme.lower()
            host = (parts.hostname or "").lower().rstrip(".")
            port = parts.port
        except ValueError:
            return False
        if scheme not in _DEFAULT_PORTS or not host:
            return False
        return self._host_allowed(host, port or _DEFAULT_PORTS[scheme], scheme)

    def _host_allowed(self, host: str, port: int, scheme: str) -> bool:
        """Whether ``host`` on ``port`` matches an ``allow_hosts`` entry."""
        if not self.allow_hosts:
            return True
        for entry in self.allow_hosts:
            name, want_port = _split_host_entry(entry)
            if want_port is None and port != _DEFAULT_PORTS[scheme]:
                continue
            if want_port is not None and want_port != port:
                continue
            if name == host or (name.startswith("*.") and (host == name[2:] or host.endswith(name[1:]))):
                return True
        return False

    def _path_trap(self, path: str) -> str | None:
        """Asset, segment-count, repeated-segment and calendar checks on the path."""
        if (m := _EXTENSION.search(path.rpartition("/")[2])) and m.group(1).lower() in self.skip_extensions:
            return "asset"
        segments = [unquote(s).lower() for s in path.split("/") if s]
        if len(segments) > self.max_path_segments:
            return "too-many-segments"
        if segments and max(Counter(segments).values()) > self.max_repeated_segments:
            return "repeated-segments"
        for i, segment in enumerate(segments):
            year: int | None = None
            if m := _DATE_SEGMENT.fullmatch(segment):
                year = int(m.group(1))
            elif (
                _YEAR.fullmatch(segment)
                and i + 1 < len(segments)
                and _MONTH_SEGMENT.fullmatch(segments[i + 1])
                and 1 <= int(segments[i + 1]) <= 12
            ):
                year = int(segment)
            if year is not None and not self.min_year <= year <= self.max_year:
                return "calendar-trap"
        return None

    def _query_trap(self, query: str) -> str | None:
        """Parameter-count and calendar checks on the query (tracking parameters not counted)."""
        pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not is_tracking_param(k)]
        if len(pairs) > self.max_query_params:
            return "too-many-params"
        for key, value in pairs:
            m = _LEADING_YEAR.match(value) if key.lower() in _DATE_KEYS else None
            if m and not self.min_year <= int(m.group(1)) <= self.max_year:
                return "calendar-trap"
        return None


def _split_host_entry(entry: str) -> tuple[str, int | None]:
    """``"a.example:8080"`` → ("a.example", 8080), ``"[::1]:80"`` → ("::1", 80); no port → None."""
    try:
        parts = urlsplit("//" + entry.strip().lower())
        return (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return entry.strip().lower(), None


def is_article_url(url: str, pattern: re.Pattern[str] | None) -> bool:
    """Whether ``url`` looks like an article by the site's pattern (searched in the full URL); None → True."""
    return pattern is None or pattern.search(url) is not None
