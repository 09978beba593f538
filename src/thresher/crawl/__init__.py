"""Crawl stage: where URLs come from (robots.txt, sitemaps, feeds, page links) and which ones to queue."""

from __future__ import annotations

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
from .scope import DEFAULT_SKIP_EXTENSIONS, Scope, is_article_url

__all__ = [
    "DEFAULT_SKIP_EXTENSIONS",
    "MAX_SITEMAP_BYTES",
    "MAX_SITEMAP_URLS",
    "Discovered",
    "Scope",
    "extract_links",
    "feed_links",
    "is_article_url",
    "parse_feed",
    "parse_robots_sitemaps",
    "parse_sitemap",
]
