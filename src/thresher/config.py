"""Crawl configuration: defaults, a ``thresher.toml`` file, and command-line overrides.

Example (also in ``fixtures/thresher.toml``)::

    [crawl]
    user_agent = "thresher/0.1.0 (+https://github.com/thresher-archive/thresher)"
    delay = 1.0                 # seconds between requests to one host (robots Crawl-delay is a floor)
    concurrency_per_host = 1
    max_hosts = 8               # hosts crawled at once

    [[sites]]
    name = "win-docs"
    start_urls = ["https://win-docs.techidaily.com/"]
    sitemaps = ["https://win-docs.techidaily.com/sitemap_index.xml"]
    feeds = ["https://win-docs.techidaily.com/atom.xml"]
    allow_hosts = ["win-docs.techidaily.com"]
    include = []                # regexes a URL must match (empty: all)
    exclude = ["/tags/", "\\\\?replytocom="]
    article_pattern = "^https://win-docs\\\\.techidaily\\\\.com/[^/]+/$"
    delay = 2.0
    max_pages = 5000
    recrawl_after = "7d"
    profile = "redefine"        # force a site profile (default: detected per page)
    timezone = "Asia/Shanghai"  # for zone-less dates
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import __version__
from .errors import ConfigError
from .urls import canonicalize, host_of

__all__ = [
    "PROJECT_URL",
    "Config",
    "CrawlSettings",
    "SiteConfig",
    "default_user_agent",
    "load_config",
    "parse_interval",
    "site_for_urls",
]

PROJECT_URL = "https://github.com/thresher-archive/thresher"
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.I)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def default_user_agent() -> str:
    """An honest User-Agent: who we are and where to read about us."""
    return f"thresher/{__version__} (+{PROJECT_URL})"


def parse_interval(value: str | int | float) -> float:
    """Seconds from "90", "15m", "6h", "7d", "2w" (or a number of seconds)."""
    if isinstance(value, int | float):
        if value < 0:
            raise ConfigError(f"interval must not be negative: {value}")
        return float(value)
    match = _INTERVAL.match(str(value))
    if not match:
        raise ConfigError(f"not an interval: {value!r} (use e.g. 30s, 15m, 6h, 7d)")
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


@dataclass(slots=True, kw_only=True)
class CrawlSettings:
    """Settings for the whole crawl."""

    user_agent: str = field(default_factory=default_user_agent)
    delay: float = 1.0
    concurrency_per_host: int = 1
    max_hosts: int = 8
    max_pages: int | None = None
    max_depth: int = 6
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    max_attempts: int = 3
    retry_delay: float = 30.0  # before the frontier tries a transient failure again; doubles per attempt
    max_redirects: int = 10  # hops followed from one URL (each hop is queued, and paced, as its own URL)
    max_query_variants: int = 20  # query strings queued per path: faceted search and calendars explode
    workers: int = 0  # processes extracting pages beside the fetch loop (0: in the loop itself)


@dataclass(slots=True, kw_only=True)
class SiteConfig:
    """One site to crawl."""

    name: str
    start_urls: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    allow_hosts: list[str] = field(default_factory=list)
    include: list[re.Pattern[str]] = field(default_factory=list)
    exclude: list[re.Pattern[str]] = field(default_factory=list)
    article_pattern: re.Pattern[str] | None = None
    delay: float | None = None
    max_pages: int | None = None
    recrawl_after: float | None = None
    profile: str | None = None
    timezone: str | None = None

    @property
    def hosts(self) -> list[str]:
        """Hosts in scope: allow_hosts, else the hosts of the start URLs, sitemaps and feeds."""
        if self.allow_hosts:
            return [h.lower() for h in self.allow_hosts]
        hosts: list[str] = []
        for url in [*self.start_urls, *self.sitemaps, *self.feeds]:
            host = _netloc(url)
            if host and host not in hosts:
                hosts.append(host)
        return hosts


@dataclass(slots=True, kw_only=True)
class Config:
    """A crawl: settings and sites."""

    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    sites: list[SiteConfig] = field(default_factory=list)
    source: Path | None = None

    def select(self, names: list[str]) -> Config:
        """Only the named sites (ConfigError for an unknown name)."""
        if not names:
            return self
        known = {s.name: s for s in self.sites}
        missing = [n for n in names if n not in known]
        if missing:
            raise ConfigError(f"no site named {', '.join(missing)} in {self.source or 'the configuration'}")
        return replace(self, sites=[known[n] for n in names])


def _netloc(url: str) -> str:
    """host[:port] of a URL, lower-cased (ports matter for local test servers)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return ""


def _regexes(value: Any, where: str) -> list[re.Pattern[str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of regular expressions")
    try:
        return [re.compile(v) for v in value]
    except re.error as exc:
        raise ConfigError(f"{where}: invalid regular expression ({exc})") from exc


def _urls(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of URLs")
    out = []
    for v in value:
        if not v.startswith(("http://", "https://")) or not host_of(v):
            raise ConfigError(f"{where}: not an http(s) URL: {v!r}")
        out.append(canonicalize(v))
    return out


def _number(value: Any, where: str, *, minimum: float = 0, integer: bool = False) -> Any:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (integer and not isinstance(value, int))
    ):
        raise ConfigError(f"{where} must be a {'whole ' if integer else ''}number")
    if value < minimum:
        raise ConfigError(f"{where} must be at least {minimum}")
    return value


_CRAWL_KEYS = {
    "user_agent",
    "delay",
    "concurrency_per_host",
    "max_hosts",
    "max_pages",
    "max_depth",
    "connect_timeout",
    "read_timeout",
    "total_timeout",
    "max_bytes",
    "max_attempts",
    "retry_delay",
    "max_redirects",
    "max_query_variants",
    "workers",
}
_SITE_KEYS = {
    "name",
    "start_urls",
    "sitemaps",
    "feeds",
    "allow_hosts",
    "include",
    "exclude",
    "article_pattern",
    "delay",
    "max_pages",
    "recrawl_after",
    "profile",
    "timezone",
}


def parse_config(data: dict[str, Any], source: Path | None = None) -> Config:
    """Validate a parsed TOML document into a Config (ConfigError names the bad key)."""
    where = str(source or "config")
    unknown = set(data) - {"crawl", "sites"}
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}")
    crawl_data = data.get("crawl", {})
    if not isinstance(crawl_data, dict):
        raise ConfigError(f"{where}: [crawl] must be a table")
    bad = set(crawl_data) - _CRAWL_KEYS
    if bad:
        raise ConfigError(f"{where}: unknown [crawl] key(s) {', '.join(sorted(bad))}")
    crawl = CrawlSettings()
    for key, value in crawl_data.items():
        if key == "user_agent":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: crawl.user_agent must be a non-empty string")
            crawl.user_agent = value
        else:
            integer = key in {
                "concurrency_per_host",
                "max_hosts",
                "max_pages",
                "max_depth",
                "max_bytes",
                "max_attempts",
                "max_redirects",
                "max_query_variants",
                "workers",
            }
            minimum = 1 if integer and key not in ("max_depth", "max_redirects", "workers") else 0
            setattr(crawl, key, _number(value, f"{where}: crawl.{key}", minimum=minimum, integer=integer))
    sites_data = data.get("sites", [])
    if not isinstance(sites_data, list):
        raise ConfigError(f"{where}: sites must be an array of tables ([[sites]])")
    sites: list[SiteConfig] = []
    for i, raw in enumerate(sites_data):
        label = f"{where}: sites[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{label} must be a table")
        bad = set(raw) - _SITE_KEYS
        if bad:
            raise ConfigError(f"{label}: unknown key(s) {', '.join(sorted(bad))}")
        name = raw.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name):
            raise ConfigError(f"{label}: name must be 1-64 letters, digits, '.', '_' or '-'")
        if any(s.name == name for s in sites):
            raise ConfigError(f"{label}: duplicate site name {name!r}")
        pattern = raw.get("article_pattern")
        try:
            article_pattern = re.compile(pattern) if isinstance(pattern, str) else None
        except re.error as exc:
            raise ConfigError(f"{label}: article_pattern: {exc}") from exc
        site = SiteConfig(
            name=name,
            start_urls=_urls(raw.get("start_urls"), f"{label}.start_urls"),
            sitemaps=_urls(raw.get("sitemaps"), f"{label}.sitemaps"),
            feeds=_urls(raw.get("feeds"), f"{label}.feeds"),
            allow_hosts=[str(h).lower() for h in raw.get("allow_hosts", [])],
            include=_regexes(raw.get("include"), f"{label}.include"),
            exclude=_regexes(raw.get("exclude"), f"{label}.exclude"),
            article_pattern=article_pattern,
            delay=_number(raw.get("delay"), f"{label}.delay"),
            max_pages=_number(raw.get("max_pages"), f"{label}.max_pages", minimum=1, integer=True),
            recrawl_after=parse_interval(raw["recrawl_after"]) if "recrawl_after" in raw else None,
            profile=str(raw["profile"]) if raw.get("profile") else None,
            timezone=str(raw["timezone"]) if raw.get("timezone") else None,
        )
        if not (site.start_urls or site.sitemaps or site.feeds):
            raise ConfigError(f"{label} ({name}): give at least one of start_urls, sitemaps, feeds")
        sites.append(site)
    return Config(crawl=crawl, sites=sites, source=source)


def load_config(path: Path) -> Config:
    """Read and validate a ``thresher.toml``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return parse_config(data, path)


def site_for_urls(urls: list[str]) -> list[SiteConfig]:
    """One site per host for ``thresher crawl URL...`` (scope = those hosts)."""
    sites: dict[str, SiteConfig] = {}
    for url in _urls(urls, "URL"):
        host = _netloc(url)
        site = sites.setdefault(
            host, SiteConfig(name=re.sub(r"[^A-Za-z0-9._-]", "_", host), allow_hosts=[host])
        )
        site.start_urls.append(url)
    return list(sites.values())
