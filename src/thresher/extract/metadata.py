"""Metadata: title, dates, author, tags, categories, thumbnail, description, site, language.

Sources, most trusted first: the site profile's selectors, JSON-LD, ``<meta>`` tags (Open Graph, article:*,
Dublin Core, twitter:*), microdata, then visible text. The traps of MARKUP.md §1/§5 are handled here:
the first ``<h1>`` can be the site name, ``article:tag`` can be the site keywords, ``og:image`` lists ad
banners, and ``meta description`` can be an auto-excerpt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from ..urls import absolute_url, host_of
from .dates import parse_date
from .profiles import Profile

__all__ = ["MetaTags", "Metadata", "clean_text", "read_meta_tags", "read_metadata"]

_ARTICLE_TYPES = frozenset(
    {
        "article",
        "blogposting",
        "newsarticle",
        "techarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "scholarlyarticle",
        "report",
        "howto",
        "liveblogposting",
        "socialmediaposting",
        "review",
    }
)
_TITLE_SEPARATORS = re.compile(r"\s+(?:[-–—|·•»/]|::|//)\s+")
_AD_IMAGE = re.compile(
    r"impactradius-go\.com|\.pxf\.io/|\.sjv\.io/|8odi\.net/|avangate\.com|2checkout\.com"
    r"|doubleclick\.net|googlesyndication\.com|amazon-adsystem\.com|/ads?/|adserver",
    re.I,
)
_NON_WORD = re.compile(r"\W+")
_JSONLD = "script[type='application/ld+json' i]"


@dataclass(slots=True)
class MetaTags:
    """``<meta>`` values by lower-cased name/property (a page may repeat one, e.g. og:image)."""

    values: dict[str, list[str]] = field(default_factory=dict)
    # The JSON-LD <script> elements, found by the same whole-tree query (None: not looked for), and the
    # matches of read_meta_tags()'s ``also`` selectors.
    jsonld_scripts: list[Any] | None = field(default=None, repr=False, compare=False)
    also: list[Any] = field(default_factory=list, repr=False, compare=False)

    def first(self, *names: str) -> str | None:
        """The first non-empty value among ``names``."""
        for name in names:
            for value in self.values.get(name, ()):
                if value.strip():
                    return value.strip()
        return None

    def all(self, name: str) -> list[str]:
        """Every value of ``name`` in page order."""
        return [v.strip() for v in self.values.get(name, ()) if v.strip()]


@dataclass(slots=True, kw_only=True)
class Metadata:
    """What the page says about the article, before the body is looked at."""

    title: str = ""
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    thumbnail: str | None = None
    site_name: str | None = None
    lang: str | None = None
    canonical: str | None = None
    og_type: str | None = None
    generator: str | None = None
    structured_type: str | None = None


def read_meta_tags(tree: Any, also: str = "") -> MetaTags:
    """Collect every ``<meta>`` in the document (some land in ``<body>``, MARKUP.md §5 trap 2).

    The JSON-LD scripts are collected by the same query (``jsonld_scripts``), and so are the matches of
    ``also`` (``also``; its selectors must not match a ``<meta>`` or a ``<script>``): a whole-tree query
    costs about as much as its walk, whatever its selectors, so two walks would cost nearly twice as much.
    """
    scripts: list[Any] = []
    tags = MetaTags(jsonld_scripts=scripts)
    for node in tree.css(f"meta[content], {_JSONLD}, {also}" if also else f"meta[content], {_JSONLD}"):
        tag = node.tag
        if tag != "meta":
            (scripts if tag == "script" else tags.also).append(node)
            continue
        attrs = node.attributes
        key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or attrs.get("http-equiv")
        if key:
            tags.values.setdefault(key.strip().lower(), []).append(attrs.get("content") or "")
    return tags


def clean_text(text: str | None) -> str:
    """Whitespace runs collapsed to one space, edges trimmed (None gives "")."""
    # str.split() and the old `\s+` regex split at the same (Unicode) whitespace; split/join is 3x faster
    return " ".join(text.split()) if text else ""


def _texts(root: Any, selectors: tuple[str, ...]) -> list[str]:
    """Texts of the nodes matched by the first selector that matches anything."""
    for selector in selectors:
        nodes = root.css(selector)
        if nodes:
            out: list[str] = []
            for node in nodes:
                value = node.attributes.get("content") if node.tag == "meta" else node.text(deep=True)
                value = clean_text(value).lstrip("#").strip()
                if value and value not in out:
                    out.append(value)
            if out:
                return out
    return []


def _first_text(root: Any, selectors: tuple[str, ...]) -> str:
    values = _texts(root, selectors)
    return values[0] if values else ""


def _date_from(root: Any, selectors: tuple[str, ...], tz: tzinfo) -> datetime | None:
    for selector in selectors:
        for node in root.css(selector):
            attrs = node.attributes
            for raw in (attrs.get("datetime"), attrs.get("content"), node.text(deep=True)):
                parsed = parse_date(raw, tz)
                if parsed is not None:
                    return parsed
    return None


# ------------------------------------------------------------------ JSON-LD


def _jsonld_objects(tree: Any, scripts: list[Any] | None = None) -> list[dict[str, Any]]:
    """Every JSON-LD object on the page, @graph and lists flattened; broken blocks skipped.

    ``scripts``: the page's JSON-LD script elements when already found (else they are queried).
    """
    out: list[dict[str, Any]] = []
    for script in tree.css(_JSONLD) if scripts is None else scripts:
        raw = script.text(deep=True)
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack and len(out) < 200:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                out.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(reversed(graph))
    return out


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).lower() for v in values if v}


def _ld_name(value: Any) -> str | None:
    """A name out of a JSON-LD Person/Organization, a list of them, or a string."""
    if isinstance(value, list):
        names = [n for n in (_ld_name(v) for v in value) if n]
        return ", ".join(names) if names else None
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, str) and value.strip() and not value.strip().startswith(("http://", "https://")):
        return clean_text(value)
    return None


def _ld_url(value: Any) -> str | None:
    if isinstance(value, list):
        for v in value:
            url = _ld_url(v)
            if url:
                return url
        return None
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or value.get("@id")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _ld_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    if isinstance(value, list):
        return [clean_text(str(v)) for v in value if isinstance(v, str | int) and str(v).strip()]
    return []


# ------------------------------------------------------------------ the reader


def read_metadata(tree: Any, meta: MetaTags, profile: Profile, root: Any, url: str, tz: tzinfo) -> Metadata:
    """Read the page's metadata; ``root`` is the article container (or the whole document)."""
    md = Metadata()
    md.generator = meta.first("generator")
    md.og_type = (meta.first("og:type") or "").lower() or None
    ld: dict[str, Any] = {}
    publisher: Any = None
    for obj in _jsonld_objects(tree, meta.jsonld_scripts):
        kinds = _types(obj)
        if not ld and kinds & _ARTICLE_TYPES:
            ld = obj
            md.structured_type = sorted(kinds & _ARTICLE_TYPES)[0]
        if publisher is None and kinds & {"organization", "website"} and obj.get("name"):
            publisher = obj.get("name")
    is_hexo = bool(md.generator and md.generator.lower().startswith("hexo")) or profile.family == "hexo"

    # site name first: titles are cleaned of it
    md.site_name = (
        meta.first("og:site_name", "application-name", "twitter:site:name")
        or _ld_name(ld.get("publisher"))
        or (clean_text(str(publisher)) if isinstance(publisher, str) else None)
    )

    # title: never the site name (the Redefine preloader <h1>), never "Title - Site"
    # Sources in order, each read only when the ones before it gave nothing usable (some are tree queries).
    sources: tuple[Callable[[], str | None], ...] = (
        lambda: meta.first("og:title"),
        lambda: _first_text(root, profile.title),
        lambda: _ld_name({"name": ld.get("headline") or ld.get("name")}) if ld else None,
        lambda: meta.first("twitter:title", "dc.title", "title"),
        lambda: _title_from_head(tree, md.site_name),
        lambda: _first_text(root, ("h1",)),
    )
    candidates: list[str | None] = []
    for source in sources:
        candidate = source()
        candidates.append(candidate)
        title = _strip_site_suffix(clean_text(candidate), md.site_name)
        if title and (not md.site_name or title.lower() != md.site_name.lower()):
            md.title = title
            break
    else:
        md.title = clean_text(next((c for c in candidates if c), ""))

    if not md.site_name:
        md.site_name = _site_from_page(tree, md.title)

    md.author = (
        _first_text(root, profile.author)
        or _first_text(tree, profile.author)
        or _ld_name(ld.get("author"))
        or _non_url(meta.first("article:author", "author", "dc.creator", "parsely-author", "sailthru.author"))
        or _first_text(
            root,
            ("[itemprop='author'] [itemprop='name']", "[rel='author']", ".byline .author", ".author-name"),
        )
        or None
    )

    md.published = (
        parse_date(ld.get("datePublished") if ld else None, tz)
        or parse_date(meta.first("article:published_time", "og:published_time", "published_time"), tz)
        or _date_from(tree, profile.published, tz)
        or parse_date(
            meta.first(
                "date",
                "dc.date",
                "dc.date.issued",
                "dcterms.created",
                "pubdate",
                "publish-date",
                "sailthru.date",
                "parsely-pub-date",
                "datepublished",
            ),
            tz,
        )
        or _date_from(
            root,
            (
                "time[itemprop~='datePublished']",
                "[itemprop~='datePublished']",
                "time[pubdate]",
                "time.published",
                "time[datetime]",
            ),
            tz,
        )
    )
    md.updated = (
        parse_date(ld.get("dateModified") if ld else None, tz)
        or parse_date(meta.first("article:modified_time", "og:updated_time", "modified_time"), tz)
        or _date_from(tree, profile.updated, tz)
        or parse_date(meta.first("dc.date.modified", "dcterms.modified", "last-modified", "datemodified"), tz)
        or _date_from(
            root, ("time[itemprop~='dateModified']", "[itemprop~='dateModified']", "time.updated"), tz
        )
    )

    # tags: the page's tag links; article:tag only where it cannot be Hexo's keyword fallback (§1)
    md.tags = _texts(root, profile.tags) or _texts(tree, profile.tags)
    if not md.tags and profile.name == "generic":
        md.tags = _texts(tree, ("a[rel~='tag']:not([rel~='category'])",))
        if not md.tags and not is_hexo:
            md.tags = _dedupe(meta.all("article:tag"))
    md.categories = _texts(root, profile.categories) or _texts(tree, profile.categories)
    if not md.categories:
        md.categories = (
            _texts(tree, ("a[rel~='category']",))
            or _ld_list(ld.get("articleSection"))
            or _dedupe(meta.all("article:section"))
        )
    md.keywords = _dedupe(_ld_list(meta.first("keywords", "news_keywords")) + _ld_list(ld.get("keywords")))

    md.thumbnail = _thumbnail(tree, root, profile, ld, meta, url, use_og=profile.og_thumbnail)
    md.description = meta.first("description", "og:description", "twitter:description", "dc.description") or (
        clean_text(str(ld["description"])) if isinstance(ld.get("description"), str) else None
    )
    if md.description:
        md.description = clean_text(md.description)

    html = tree.root  # the <html> element (a query would walk the whole tree to find it)
    if html is None or html.tag != "html":
        html = tree.css_first("html")
    lang = html.attributes.get("lang") if html is not None else None
    md.lang = (
        clean_text(lang)
        or _locale(meta.first("og:locale"))
        or (str(ld["inLanguage"]) if isinstance(ld.get("inLanguage"), str) else None)
        or meta.first("content-language", "language", "dc.language")
    )
    canonical = tree.css_first("link[rel~='canonical' i][href]")
    md.canonical = absolute_url(canonical.attributes.get("href"), url) if canonical is not None else None
    if not md.canonical:
        md.canonical = absolute_url(meta.first("og:url"), url)
    return md


def _title_from_head(tree: Any, site: str | None) -> str | None:
    """``<title>``, cut at a separator when one side is a heading of the page ("Post :: Site" → "Post")."""
    node = tree.css_first("title")
    full = clean_text(node.text(deep=True)) if node is not None else ""
    parts = _TITLE_SEPARATORS.split(full)
    if len(parts) < 2:
        return full or None
    headings = {clean_text(h.text(deep=True)).lower() for h in tree.css("h1, h2")[:20]}
    headings.discard((site or "").lower())
    for part in parts:
        if part.lower() in headings:
            return part
    return full


def _site_from_page(tree: Any, title: str) -> str | None:
    """The site name from the feed link's title, or from what follows the post title in ``<title>``."""
    feed = tree.css_first("link[rel~='alternate'][type*='xml'][title]")
    if feed is not None:
        name = clean_text(feed.attributes.get("title"))
        if name and not name.lower().endswith((" feed", " rss", "comments feed")):
            return name
    node = tree.css_first("title")
    full = clean_text(node.text(deep=True)) if node is not None else ""
    if title and full.startswith(title) and len(full) > len(title):
        rest = full[len(title) :].lstrip(" -–—|:·•»").strip()
        return rest or None
    return None


def _dedupe(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        v = clean_text(v)
        if v and v not in out:
            out.append(v)
    return out


def _non_url(value: str | None) -> str | None:
    if value and not value.startswith(("http://", "https://", "/")):
        return clean_text(value)
    return None


def _locale(value: str | None) -> str | None:
    if not value:
        return None
    return value.replace("_", "-").split("-")[0].lower() if value else None


def _strip_site_suffix(title: str, site: str | None) -> str:
    """ "Post Title - Site Name" → "Post Title" (and "Site: Post" → "Post") when the site is known."""
    if not title or not site:
        return title
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    site_key = _NON_WORD.sub("", site.lower())
    if _NON_WORD.sub("", parts[-1].lower()) == site_key:
        return (
            _TITLE_SEPARATORS.split(title)[0]
            if len(parts) == 2
            else title[: title.rfind(parts[-1])].rstrip(" -–—|:·•»")
        )
    if _NON_WORD.sub("", parts[0].lower()) == site_key:
        return title[len(parts[0]) :].lstrip(" -–—|:·•»")
    return title


def _thumbnail(
    tree: Any, root: Any, profile: Profile, ld: dict[str, Any], meta: MetaTags, url: str, *, use_og: bool
) -> str | None:
    """The cover image: profile selector, JSON-LD image, then the first og/twitter image that is no ad.

    Profiles whose og:image lists every body image (ads included) turn the og fallback off (§1).
    """
    for scope in (root, tree):
        for selector in profile.thumbnail:
            node = scope.css_first(selector)
            if node is not None:
                attrs = node.attributes
                src = attrs.get("data-src") or attrs.get("data-lazy-src") or attrs.get("src")
                resolved = absolute_url(src, url)
                if resolved and not _AD_IMAGE.search(resolved):
                    return resolved
    candidates = [_ld_url(ld.get("image")) if ld else None]
    if use_og:
        candidates += [
            *meta.all("og:image"),
            *meta.all("og:image:url"),
            meta.first("twitter:image", "twitter:image:src"),
        ]
    for candidate in candidates:
        resolved = absolute_url(candidate, url)
        if resolved and not _AD_IMAGE.search(resolved) and host_of(resolved):
            return resolved
    return None
