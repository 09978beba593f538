"""Clean stage on the parsed page: strip ads and chrome, rewrite lazy images, make links absolute.

Works on Lexbor nodes in place. Removal always goes in reverse document order, so a node is never touched
after one of its ancestors has been freed.
"""

from __future__ import annotations

import html
import re
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from ..urls import absolute_url

__all__ = [
    "AFFILIATE_RANGE",
    "absolutize",
    "descendants",
    "normalize_code_blocks",
    "remove_all",
    "remove_comments",
    "rewrite_lazy_images",
    "strip_affiliate_ranges",
    "strip_chaff",
]

# techidaily pastes banner blocks between these comments; they can open inside a <li> or <p> and close
# outside it, so they are cut from the markup before the tree is built (MARKUP.md §5 trap 5).
_RANGE_BEGIN = re.compile(rb"<!--\s*affiliate\s+ads\s+begin\s*-->", re.I)
_RANGE_END = re.compile(rb"<!--\s*affiliate\s+ads\s+end\s*-->", re.I)
AFFILIATE_RANGE = re.compile(_RANGE_BEGIN.pattern + rb".*?" + _RANGE_END.pattern, re.I | re.S)
# Attributes that hold the real image behind a lazy-loading placeholder, most specific first.
_LAZY_ATTRS = (
    "data-lazy-src",
    "data-src",
    "data-original",
    "data-original-mos",
    "data-img-url",
    "data-lazy",
    "data-url",
)
_LAZY_SRCSET = ("data-lazy-srcset", "data-srcset")
# Sources that are a lazy-loading stand-in, not the picture. Substring tests on the lower-cased URL: a
# case-insensitive alternation regex scans the whole URL once per alternative and cost more than the rest of
# the image handling.
_PLACEHOLDER_PREFIXES = ("data:", "about:blank")
_PLACEHOLDER_PARTS = (
    "loading.svg",
    "loading.gif",
    "lazyload",
    "lazy-load",
    "lazy_load",
    "placeholder",
    "blank.gif",
    "spacer.gif",
    "pixel.gif",
    "grey.gif",
    "transparent.png",
    "transparent.gif",
)


def _is_placeholder(url: str) -> bool:
    """Whether ``url`` is a placeholder image (data: URI, loading.gif, lazy-load stand-ins, spacers)."""
    lowered = url.lower()
    return lowered.startswith(_PLACEHOLDER_PREFIXES) or any(part in lowered for part in _PLACEHOLDER_PARTS)


_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


def _outer_end_tags(segment: bytes) -> bytes:
    """The end tags in ``segment`` that close elements opened *before* it (token-level range removal).

    A range that opens inside ``<li>`` and ends after ``</li></ul>`` must not take those end tags with it,
    or the list structure around it would change.
    """
    opened: list[bytes] = []
    kept: list[bytes] = []
    for m in _TAG.finditer(segment):
        name = m.group(2).lower()
        if not m.group(1):
            if name not in _VOID and not m.group(0).endswith(b"/>"):
                opened.append(name)
        elif name in opened:
            while opened and opened.pop() != name:
                pass
        else:
            kept.append(b"</" + name + b">")
    return b"".join(kept)


def strip_affiliate_ranges(html: bytes) -> tuple[bytes, int]:
    """Cut every ``<!-- affiliate ads begin -->…<!-- affiliate ads end -->`` range from raw markup.

    End tags inside a range that belong to elements opened before it are kept (see _outer_end_tags).
    """
    if b"affiliate" not in html:
        return html, 0
    # AFFILIATE_RANGE.subn(), in two searches: its lazy ".*?" tries the end comment at every byte of a range
    # (~9 µs a range), a search for the end comment jumps from "<!--" to "<!--".
    pieces: list[bytes] = []
    done = 0
    begin = _RANGE_BEGIN.search(html)
    while begin is not None:
        end = _RANGE_END.search(html, begin.end())
        if end is None:
            break  # no range can start here or later: every later begin has no end after it either
        pieces += (html[done : begin.start()], _outer_end_tags(html[begin.start() : end.end()]))
        done = end.end()
        begin = _RANGE_BEGIN.search(html, done)
    if not pieces:
        return html, 0
    pieces.append(html[done:])
    return b"".join(pieces), len(pieces) // 2


def descendants(node: Any, selector: str) -> list[Any]:
    """Matches of ``selector`` strictly below ``node`` (Lexbor's ``css`` also returns the node itself)."""
    own = node.mem_id
    return [n for n in node.css(selector) if n.mem_id != own]


def remove_all(nodes: list[Any]) -> int:
    """Decompose ``nodes`` (a document-ordered css() result), descendants before ancestors."""
    seen: set[int] = set()
    count = 0
    for node in reversed(nodes):
        key = node.mem_id
        if key in seen:
            continue
        seen.add(key)
        node.decompose()
        count += 1
    return count


def strip_chaff(
    root: Any, ad_groups: tuple[Any, ...], ad_selector: str, chrome_selector: str, extra_selector: str = ""
) -> list[str]:
    """Remove ads, chrome and ``extra_selector`` matches below ``root``; return the ad networks seen.

    Two queries in all (a Lexbor call costs more than its matching); only the few ad nodes found are
    classified by network.
    """
    networks: list[str] = []
    if ad_selector:
        ads = descendants(root, ad_selector)
        for node in ads:
            network = next((g.network for g in ad_groups if node.css_matches(g.selector)), None)
            if network and network not in networks:
                networks.append(network)
        remove_all(ads)
    selector = ", ".join(s for s in (chrome_selector, extra_selector) if s)
    if selector:
        remove_all(descendants(root, selector))
    return networks


def remove_comments(root: Any) -> None:
    """Drop HTML comments below ``root`` (the converter would otherwise have to skip them)."""
    comments = [node for node in root.traverse(include_text=True) if node.is_comment_node]
    for node in reversed(comments):
        node.decompose()


def _real_source(img: Any) -> str | None:
    attrs = img.attributes
    for name in _LAZY_ATTRS:
        value = attrs.get(name)
        if value and not _is_placeholder(value):
            return str(value)
    for name in _LAZY_SRCSET:
        value = attrs.get(name)
        if value:
            return str(value).split(",")[0].strip().split(" ")[0]
    return None


def _use_real_source(img: Any) -> None:
    """Put a lazy image's real source (data-src, data-lazy-src, …) into its ``src``."""
    real = _real_source(img)
    if real:
        img.attrs["src"] = real


def rewrite_lazy_images(root: Any) -> None:
    """Put the real image into ``src`` (data-src, data-lazy-src, …) and resolve ``<noscript>`` twins.

    A ``<noscript><img></noscript>`` right after a lazy image is the same picture and is dropped; a lone
    one is unwrapped so its image is kept.
    """
    # one query for both (each walks the whole scope); no element is both
    noscripts: list[Any] = []
    for node in root.css("img, noscript"):
        if node.tag != "img":
            noscripts.append(node)
            continue
        _use_real_source(node)
    for ns in reversed(noscripts):
        prev = ns.prev
        while prev is not None and prev.tag == "-text" and not (prev.text_content or "").strip():
            prev = prev.prev
        if prev is not None and prev.tag == "img":
            ns.decompose()
        elif ns.css_first("img") is not None:
            ns.unwrap()
        else:
            ns.decompose()


def absolutize(root: Any, base_url: str, *, lazy_images: bool = False) -> list[tuple[Any, str]]:
    """Resolve ``a[href]`` and ``img[src]`` against the page URL; drop images with no usable source.

    ``lazy_images``: first put each image's real source into ``src``, as :func:`rewrite_lazy_images` does,
    for a scope known to hold no ``<noscript>`` (that function's other half): the rewrite then changes
    attributes only, and its query would find the images this one finds.

    Returns the ``a[href]`` elements below ``root`` afterwards (those whose href was kept), in document
    order, each with its href as it now reads: what ``root.css("a[href]")`` would give next, without walking
    the tree again nor reading the attributes back.
    """
    # one query for both (each walks the whole scope); no element is both, and each is handled on its own
    images: list[Any] = []
    anchors: list[tuple[Any, str]] = []
    for a in root.css("a[href], img"):
        if a.tag == "img":
            if lazy_images:
                _use_real_source(a)
            images.append(a)
            continue
        href = a.attributes.get("href")
        resolved = absolute_url(href, base_url)
        if resolved is None:
            del a.attrs["href"]
            continue
        if resolved != href:
            a.attrs["href"] = resolved
        anchors.append((a, resolved))
    for img in images:
        src = img.attributes.get("src")
        resolved = absolute_url(src, base_url)
        if resolved is None or _is_placeholder(resolved):
            img.decompose()
        elif resolved != src:
            img.attrs["src"] = resolved
    return anchors


def normalize_code_blocks(root: Any) -> None:
    """Turn highlighter tables into plain ``<pre><code>`` so code converts as a fenced block, not a table.

    Hexo's highlight.js/prism output is ``<figure class="highlight LANG"><table><td class="gutter">…
    <td class="code"><pre><span class="line">…``; the gutter holds line numbers that are not code.
    """
    for figure in reversed(root.css("figure.highlight")):
        code_cell = figure.css_first("td.code pre") or figure.css_first("td.code") or figure.css_first("pre")
        if code_cell is None:
            continue
        lines = code_cell.css("span.line")
        code = "\n".join(line.text(deep=True) for line in lines) if lines else code_cell.text(deep=True)
        classes = (figure.attributes.get("class") or "").split()
        lang = next((c for c in classes if c not in ("highlight", "plaintext", "plain", "text")), "")
        attr = f' class="language-{html.escape(lang)}"' if lang else ""
        block = LexborHTMLParser(f"<pre><code{attr}>{html.escape(code)}</code></pre>").css_first("pre")
        figure.insert_before(block)
        figure.decompose()
