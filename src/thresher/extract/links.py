"""Links taken out of the body: "Also read" lists, related-post blocks, inline promos, affiliate links."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..clean.dom import descendants, remove_all
from ..clean.selectors import in_markup
from ..models import AffiliateLink, Link
from ..urls import absolute_url, host_of
from .metadata import clean_text
from .profiles import Catalogue

__all__ = ["take_affiliate_links", "take_also_read", "take_promos", "take_related"]

_LEADING_JUNK = re.compile(r"^[\W_]+")
_BLOCKS = "p, div, aside, ul, ol, table, h1, h2, h3, h4, h5, h6, blockquote"
_PROMO_TAGS = frozenset({"p", "div", "aside"})


def _link_title(a: Any) -> str:
    """Anchor text, else its title attribute, else an image's alt."""
    text = clean_text(a.text(deep=True))
    if text:
        return text
    title = a.attributes.get("title")
    if title:
        return clean_text(title)
    img = a.css_first("img[alt]")
    return clean_text(img.attributes.get("alt")) if img is not None else ""


def _links_in(node: Any, base_url: str) -> list[Link]:
    out: list[Link] = []
    seen: set[str] = set()
    for a in node.css("a[href]"):
        url = absolute_url(a.attributes.get("href"), base_url)
        if not url or url in seen:
            continue
        title = _link_title(a)
        if title:
            seen.add(url)
            out.append(Link(url=url, title=title))
    return out


def take_also_read(body: Any, base_url: str) -> list[Link]:
    """techidaily's block: ``<p><span class="atpl-alsoreadstyle">Also read:</span></p><div><ul>…</ul></div>``.

    The links are returned in page order; the label paragraph and the list are removed from the body.
    """
    links: list[Link] = []
    doomed: list[Any] = []
    for label in body.css("span.atpl-alsoreadstyle"):
        holder = label.parent if label.parent is not None and label.parent.tag == "p" else label
        following = holder.next
        while (
            following is not None
            and following.tag in ("-text", "-comment")
            and not (following.tag == "-text" and (following.text_content or "").strip())
        ):
            following = following.next
        if following is not None and following.tag in ("div", "ul", "ol"):
            links.extend(_links_in(following, base_url))
            doomed.append(following)
        doomed.append(holder)
    _remove_unordered(doomed)
    return links


def _remove_unordered(nodes: list[Any]) -> None:
    """Remove nodes given in no particular order (none may contain another)."""
    seen: set[int] = set()
    for node in nodes:
        if node.mem_id not in seen:
            seen.add(node.mem_id)
            node.decompose()


def take_related(
    tree: Any,
    body: Any,
    catalogue: Catalogue,
    base_url: str,
    extra_selector: str = "",
    *,
    page: bytes | None = None,
) -> list[Link]:
    """Related-post blocks (YARPP, Jetpack, CRP, theme lists) anywhere on the page → links; removed from body.

    ``body`` is a node of ``tree`` (or None). Only links within the page's own site count (a related block
    of other sites' links is promotion). Empty JS shells (Jetpack, Taboola) simply yield nothing.

    ``page`` is the page's markup lower-cased: when its tags hold none of the catalogue's related markers
    ("related", "yarpp", …), no related selector can match and the whole-tree query is skipped (on most
    pages; it costs ~0.4 ms). When the tree has no match, the body is not queried either. The one markup
    this cannot see is a class or id spelled with numeric character references (``rel&#97;ted``); no
    template we know writes its class names that way.
    """
    markers = catalogue.related_markers
    if (
        page is not None
        and markers is not None
        and not extra_selector
        and not any(in_markup(page, marker) for marker in markers)
    ):
        return []
    selector = catalogue.related_selector
    if extra_selector:
        selector = f"{selector}, {extra_selector}" if selector else extra_selector
    if not selector:
        return []
    site = _site_key(host_of(base_url))
    links: list[Link] = []
    seen: set[str] = set()
    blocks = tree.css(selector)
    outermost = _outermost(blocks)
    for block in outermost:
        for link in _links_in(block, base_url):
            if link.url not in seen and _site_key(host_of(link.url)) == site:
                seen.add(link.url)
                links.append(link)
    if body is not None and blocks:  # body is a node of tree: no match in the tree, none in the body
        remove_all(descendants(body, selector))
    return links


def _outermost(nodes: list[Any]) -> list[Any]:
    """Drop nodes nested inside another node of the list (document order kept)."""
    ids = {n.mem_id for n in nodes}
    out = []
    for node in nodes:
        parent = node.parent
        nested = False
        while parent is not None:
            if parent.mem_id in ids:
                nested = True
                break
            parent = parent.parent
        if not nested:
            out.append(node)
    return out


def _site_key(host: str) -> str:
    """The registrable-ish part of a host (``www.`` and one subdomain level ignored)."""
    labels = host.split(".")
    return ".".join(labels[-2:]) if len(labels) >= 2 else host


def take_promos(body: Any, catalogue: Catalogue, base_url: str) -> list[Link]:
    """Inline promo lines ("Also read: …", "Read more: …", "See also: …", "Related: …") → links, removed.

    A line qualifies when its text starts with a catalogued prefix, it holds 1 to ``promo_max_links`` links,
    and little text besides the prefix and the link texts. Wikipedia-style "See also" sections (a heading
    followed by a list) are article content and are kept.
    """
    prefixes = catalogue.promo_prefixes
    links: list[Link] = []
    doomed: list[Any] = []
    seen: set[int] = set()
    # Start from the anchors (few) and look at their nearest block, rather than testing every block of the
    # body against its descendants, which is quadratic on deeply nested pages.
    for anchor in body.css("a[href]"):
        block = anchor.parent
        while block is not None and block.tag not in _PROMO_TAGS:
            block = block.parent
        if block is None or block.mem_id in seen or block.mem_id == body.mem_id:
            continue
        seen.add(block.mem_id)
        text = clean_text(block.text(deep=True))
        if not text or len(text) > 300:
            continue
        lowered = _LEADING_JUNK.sub("", text.lower())
        prefix = next((p for p in prefixes if lowered.startswith(p)), None)
        if prefix is None:
            continue
        # a query per block: only for the few short blocks that start like a promo
        if descendants(block, _BLOCKS):
            continue
        anchors = block.css("a[href]")
        if not 1 <= len(anchors) <= catalogue.promo_max_links:
            continue
        link_chars = sum(len(clean_text(a.text(deep=True))) for a in anchors)
        extra = len(lowered) - len(prefix) - link_chars
        if extra > catalogue.promo_max_extra:
            continue
        found = _links_in(block, base_url)
        if found:
            links.extend(found)
            doomed.append(block)
    _remove_unordered(doomed)
    return links


# The host of a plain ``http(s)://host/...`` URL: ASCII, none of the characters below, up to the path, the
# query, the fragment or the end.
_PLAIN_HOST = re.compile(r"https?://([^/?#@:\[\]\\\t\r\n\x80-\U0010ffff]+)(?=[/?#]|\Z)")


def _plain_host(href: str) -> str | None:
    """The lower-cased host of a plain ``http(s)://host/...`` URL by one regex match; None for anything else
    (userinfo, a port, IPv6, non-ASCII, no scheme), which ``urlsplit`` then reads. Most body links are
    plain, and ``urlsplit`` + ``hostname`` cost several times more."""
    match = _PLAIN_HOST.match(href)
    return match.group(1).lower() if match else None


def take_affiliate_links(
    body: Any, catalogue: Catalogue, anchors: list[tuple[Any, str]] | None = None
) -> list[AffiliateLink]:
    """Inventory monetised links in the body and unwrap them, so their text stays and the link goes.

    ``anchors``: the body's ``a[href]`` elements in document order with their hrefs, when the caller has
    them at hand (:func:`~thresher.clean.dom.absolutize` returns them).
    """
    found: list[AffiliateLink] = []
    lookup = catalogue.affiliates.lookup
    if anchors is None:
        anchors = [(a, a.attributes.get("href") or "") for a in body.css("a[href]")]
    for a, href in anchors:
        host = _plain_host(href)
        if host is None:
            try:
                host = (urlsplit(href).hostname or "").lower()
            except ValueError:
                continue
        rules = lookup(host) if host else None
        if not rules:
            continue
        if any(rule.query for rule in rules):
            # only rules that need a query parameter (Amazon's tag=) make the query worth parsing
            query = urlsplit(href).query
            keys = frozenset(k.lower() for k, _ in parse_qsl(query, keep_blank_values=True))
            network = next((rule.network for rule in rules if rule.accepts(keys)), None)
        else:
            network = rules[0].network
        if network is None:
            continue
        found.append(AffiliateLink(url=href, text=clean_text(a.text(deep=True)), network=network))
        a.unwrap()
    return found
