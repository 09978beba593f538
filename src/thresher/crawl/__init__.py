"""Crawl stage: where URLs come from (robots.txt, sitemaps, feeds, page links) and which ones to queue."""

from __future__ import annotations

from .crawler import Crawler, CrawlStats
from .discovery import (
    MAX_SITEMAP_BYTES,
    MAX_SITEMAP_URLS,
    Discovered,
    extract_links,
    feed_links,
    parse_feed,
    parse_robots_sitemaps,
    parse_sitemap,
)
from .frontier import FRONTIER_NAME, Frontier, FrontierEntry, HostState
from .scope import DEFAULT_SKIP_EXTENSIONS, Scope, is_article_url

__all__ = [
    "DEFAULT_SKIP_EXTENSIONS",
    "FRONTIER_NAME",
    "MAX_SITEMAP_BYTES",
    "MAX_SITEMAP_URLS",
    "CrawlStats",
    "Crawler",
    "Discovered",
    "Frontier",
    "FrontierEntry",
    "HostState",
    "Scope",
    "extract_links",
    "feed_links",
    "is_article_url",
    "parse_feed",
    "parse_robots_sitemaps",
    "parse_sitemap",
]
