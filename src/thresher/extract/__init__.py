"""Extract stage: one HTML page in, one :class:`~thresher.models.Article` out.

Pipeline inside :func:`extract`: decode → cut affiliate comment ranges → parse (Lexbor) → detect the site
profile → metadata → locate the body (profile selectors, else generic scoring) → take "Also read", related
and promo links out → strip ads and chrome → rewrite lazy images, absolutize → inventory affiliate links →
Markdown → text.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from ..clean.dom import (
    absolutize,
    normalize_code_blocks,
    remove_comments,
    rewrite_lazy_images,
    strip_affiliate_ranges,
    strip_chaff,
)
from ..clean.selectors import PageTokens, selector_list
from ..markdown import body_to_markdown, markdown_to_text
from ..models import Article, ArticleKind, content_hash, count_words
from ..urls import canonicalize, host_of
from .dates import zone
from .decode import ensure_html, to_utf8
from .generic import find_main_content
from .links import take_affiliate_links, take_also_read, take_promos, take_related
from .metadata import Metadata, read_meta_tags, read_metadata
from .profiles import Profile, ProfileSet, default_profiles

__all__ = ["extract", "settled_kind"]

# Page chrome that a generic page must lose before its body is scored (profiles know their own).
_STRUCTURAL = (
    "header, footer, aside, nav, [role='navigation'], [role='banner'], [role='contentinfo'], "
    "[role='complementary'], #sidebar, .sidebar, #secondary, .widget-area, .widget, .site-header, "
    ".site-footer, .breadcrumb, .breadcrumbs, #breadcrumbs, .menu, .skip-link, .screen-reader-text"
)
_LISTING_PATH = re.compile(
    r"/(?:tags?|categories|category|archives?|author|topics?|label|search)(?:/|$)|/page/\d+/?$|^/?$", re.I
)
_MIN_ARTICLE_WORDS = 80


def extract(
    html: str | bytes, url: str = "", *, profiles: ProfileSet | None = None, profile: str | None = None
) -> Article:
    """Extract the article of one HTML page.

    Args:
        html: the page, as text or as the bytes served (decoded by BOM, ``<meta charset>``, then detection).
        url: the address the page was served at; links and images are resolved against it. When empty,
            the page's canonical link is used.
        profiles: the site profiles to choose from (default: the bundled ones).
        profile: force a profile by name (e.g. "redefine", "generic") instead of detecting one.

    Returns:
        The Article. Any HTML, however broken, gives one.

    Raises:
        NotHTML: the input is not an HTML document (empty, binary, no markup).
    """
    page, ranges = _begin(html, url, profiles or default_profiles(), profile)
    article = page.run()
    if ranges:
        article.ad_networks.insert(0, "affiliate-ranges")
    return article


def _begin(html: str | bytes, url: str, profiles: ProfileSet, forced: str | None) -> tuple[_Extraction, bool]:
    """The page as UTF-8, checked, its affiliate ranges cut, parsed and read up to its profile and meta
    tags; and whether any range was cut.

    Raises:
        NotHTML: the input is not an HTML document.
    """
    data = to_utf8(html)
    ensure_html(data)
    data, ranges = strip_affiliate_ranges(data)
    return _Extraction(LexborHTMLParser(data), data, url, profiles, forced), bool(ranges)


def settled_kind(html: str | bytes, url: str) -> tuple[ArticleKind, list[str]] | None:
    """The kind :func:`extract` gives the page, and its robots directives, when they are settled before
    the body is read; None when only :func:`extract` can tell.

    They are for a listing by its URL path (``/page/2/``, ``/tags/…``, the home page) whose page carries
    none of its profile's article or page markers: :func:`extract` then calls it a listing whatever its
    body, and a crawl, which archives only articles, needs no more. That is decided after the parse and
    the meta tags (about 1 ms on a 70 kB listing, where the whole extraction takes ~30 ms, most of it
    on the listing's hundreds of links). Whenever the answer is not None it is ``(extract(html,
    url).kind, extract(html, url).robots)``.

    Raises:
        NotHTML: the input is not an HTML document (as :func:`extract`).
    """
    if not url or not _LISTING_PATH.search(_path(url)):
        return None
    page, _ = _begin(html, url, default_profiles(), None)
    profile = page.profile
    if profile.article + profile.listing + profile.page:
        if page.kind_marked is None:
            return None  # the markers can only be judged on the cleaned tree
        # Cleaning only removes what the markers match (see _early_kinds): with no article or page
        # marker in the untouched tree there is none in the cleaned one, so _kind answers "listing", by
        # a listing marker or by the path.
        if page.kind_marked and _matches(page.tree, profile.article + profile.page):
            return None
    return "listing", _robots_directives(page.meta.first("robots"), page.meta.first("thresher"))


class _Extraction:
    """The state of one page's extraction (kept together so each step stays small)."""

    def __init__(self, tree: Any, page: bytes, url: str, profiles: ProfileSet, forced: str | None) -> None:
        self.tree = tree
        self.profiles = profiles
        self.catalogue = profiles.catalogue
        # The profile's kind markers are looked for in the meta tags' whole-tree query, which detection
        # needs first (the generator): the profile is detected with the generator as read from the markup,
        # then confirmed with the one the tree gives.
        guess = _generator_in_markup(page) if not forced else None
        profile = profiles.get(forced) if forced else profiles.detect(page, guess)
        kinds = _early_kinds(profile.article + profile.listing + profile.page)
        self.meta = read_meta_tags(tree, kinds)
        if not forced and self.meta.first("generator") != guess:
            profile = profiles.detect(page, self.meta.first("generator"))
            kinds = ""
        self.profile: Profile = profile
        # False: no kind marker anywhere in the untouched tree, so none in the cleaned one (see _early_kinds)
        self.kind_marked: bool | None = bool(self.meta.also) if kinds else None
        self.url = url
        self.page = page

    def run(self) -> Article:
        tree, profile, catalogue = self.tree, self.profile, self.catalogue
        root = _first(tree, profile.root) or tree.body or tree.root
        tz = zone(profile.timezone)
        md = read_metadata(tree, self.meta, profile, root, self.url, tz)
        url = self.url or md.canonical or ""
        canonical = _canonical(url, md.canonical)
        if not self.url:
            url = canonical

        related = take_related(tree, tree.body, catalogue, url, page=self.page.lower())
        body = _first(root, profile.body) if profile.body else None
        if body is None and root is not tree.body:
            body = _first(tree, profile.body)
        from_profile = body is not None
        if body is None:
            body = self._generic_body()
        article = Article(
            url=url,
            canonical_url=canonical,
            title=md.title,
            author=md.author,
            published=md.published,
            updated=md.updated,
            description=md.description,
            tags=md.tags,
            categories=md.categories,
            keywords=md.keywords,
            thumbnail=md.thumbnail,
            site_name=md.site_name or (host_of(url) or None),
            lang=md.lang,
            related=related,
            profile=profile.name,
            robots=_robots_directives(self.meta.first("robots"), self.meta.first("thresher")),
        )
        if body is not None:
            self._fill_body(article, body, md, url)
        article.kind = self._kind(md, article, body, url, from_profile=from_profile)
        return article

    def _generic_body(self) -> Any:
        body = self.tree.body
        if body is None:
            return None
        strip_chaff(
            body, self.catalogue.ads, self.catalogue.ad_selector, self.catalogue.chrome_selector, _STRUCTURAL
        )
        # no clear winner (a short or odd page): the stripped <body> is the best effort
        return find_main_content(body) or body

    def _fill_body(self, article: Article, body: Any, md: Metadata, url: str) -> None:
        catalogue = self.catalogue
        # What the body's elements carry: queries whose selectors cannot match it are narrowed or skipped.
        tokens = PageTokens.of(body)
        tags = tokens.tags
        if "atpl-alsoreadstyle" in tokens.words:
            article.also_read = take_also_read(body, url)
        if md.description and _is_auto_excerpt(md.description, body.text(deep=True)):
            article.description = None
        if "a" in tags:
            article.also_read += take_promos(body, catalogue, url)
        article.ad_networks = strip_chaff(
            body,
            catalogue.ads,
            catalogue.ad_list.for_page(tokens),
            catalogue.chrome_list.for_page(tokens),
            selector_list(self.profile.strip).for_page(tokens),
        )
        if "-comment" in tags:  # the walk above yields comment nodes too, and none is made after it
            remove_comments(body)
        if "figure" in tags:
            normalize_code_blocks(body)
        if "noscript" in tags:
            rewrite_lazy_images(body)
            anchors = absolutize(body, url)
        else:  # no <noscript> to resolve: the image rewrite rides on absolutize's query (one walk, not two)
            anchors = absolutize(body, url, lazy_images="img" in tags)
        article.affiliate_links = take_affiliate_links(body, catalogue, anchors)
        article.markdown = body_to_markdown(body)
        article.text = markdown_to_text(article.markdown)
        article.word_count = count_words(article.text)
        article.content_hash = content_hash(article.markdown) if article.markdown else ""

    def _kind(
        self, md: Metadata, article: Article, body: Any, url: str, *, from_profile: bool
    ) -> ArticleKind:
        tree, profile = self.tree, self.profile
        # one whole-tree query tells whether any kind marker is there (usually none); then which one
        if self.kind_marked is not False and _matches(tree, profile.article + profile.listing + profile.page):
            if _matches(tree, profile.article):
                return "article"
            if _matches(tree, profile.listing):
                return "listing"
            if _matches(tree, profile.page):
                return "page"
        path = _path(url)
        if _LISTING_PATH.search(path):
            return "listing"
        if md.og_type == "article" or md.structured_type:
            return "article" if body is not None else "page"
        if from_profile and md.og_type != "website":
            # the template's own post body is there: a post, unless it is too thin and undated
            return (
                "article" if md.published is not None or article.word_count >= _MIN_ARTICLE_WORDS else "page"
            )
        if len(tree.css("article")) >= 3:
            return "listing"
        if (
            body is not None
            and article.word_count >= _MIN_ARTICLE_WORDS
            and (md.published is not None or md.og_type in (None, "article"))
        ):
            return "article" if md.og_type != "website" else "page"
        return "page"


_GENERATOR = re.compile(rb"""<meta\s+name=["']?generator["']?\s+content=["']([^"'<>]*)["']""", re.I)
# A selector whose matches cleaning can only remove: compounds of a tag, classes and ids joined by descendant
# combinators, the subject with a tag name. Cleaning decomposes and unwraps elements (an ancestor stays an
# ancestor), changes only href and src, and adds only <pre> and <code>.
_TAG = r"[a-zA-Z][a-zA-Z0-9-]*"
_NAMES = r"(?:[.#]-?[_a-zA-Z][-_a-zA-Z0-9]*)*"
_REMOVE_ONLY = re.compile(rf"\s*(?:(?:{_TAG})?{_NAMES}\s+)*(?P<tag>{_TAG}){_NAMES}\s*")
_NOT_SUBJECTS = frozenset({"pre", "code", "meta", "script"})


def _generator_in_markup(page: bytes) -> str | None:
    """The generator meta as the page's head usually writes it (a guess, confirmed against the tree)."""
    match = _GENERATOR.search(page, 0, 65536)
    return (match.group(1).decode("utf-8", "replace").strip() or None) if match else None


@functools.cache
def _early_kinds(selectors: tuple[str, ...]) -> str:
    """The kind markers, joined, when the untouched tree can stand for the cleaned one ("" otherwise).

    They can when every selector is of the _REMOVE_ONLY form with a subject that is not one of the elements
    cleaning adds (<pre>, <code>) nor one read_meta_tags() sorts by its tag (<meta>, <script>): then a
    marker that matches nothing before cleaning matches nothing after it.
    """
    if not selectors:
        return ""
    for selector in selectors:
        for part in selector.split(","):
            match = _REMOVE_ONLY.fullmatch(part)
            if match is None or match.group("tag").lower() in _NOT_SUBJECTS:
                return ""
    return ", ".join(selectors)


def _first(scope: Any, selectors: tuple[str, ...]) -> Any:
    for selector in selectors:
        node = scope.css_first(selector)
        if node is not None:
            return node
    return None


def _matches(tree: Any, selectors: tuple[str, ...]) -> bool:
    # one query for the whole list: each query walks the whole tree
    return bool(selectors) and tree.css_first(", ".join(selectors)) is not None


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).path or "/"
    except ValueError:
        return "/"


def _canonical(url: str, declared: str | None) -> str:
    """The page's canonical URL: its declared one when on the same host, else its own address."""
    if declared and (not url or host_of(declared) == host_of(url)):
        return canonicalize(declared)
    return canonicalize(url) if url else ""


def _is_auto_excerpt(description: str, body_text: str) -> bool:
    """Hexo's fallback description is the first ~200 characters of the body text (MARKUP.md §1)."""
    # whitespace removed: "".join(split()) drops what `\s+` matches (both are str.isspace()), 3x faster
    desc = "".join(description.split()).rstrip(".…")
    if len(desc) < 20:
        return False
    head = desc[:120]
    body = "".join(body_text[: 4 * len(head) + 400].split())
    return body.startswith(head)


def _robots_directives(*values: str | None) -> list[str]:
    """``<meta name="robots">`` (and one addressed to thresher) as lower-case directives."""
    out: list[str] = []
    for value in values:
        for part in (value or "").lower().replace(";", ",").split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out
