"""Generic main-content finder for pages no site profile knows (readability-style scoring).

The caller has already removed scripts, styles and catalogued chrome; what is left may still hold
sidebars, mega menus, link-column footers or comment threads.  We score paragraph-like blocks by
their own prose (length, commas, link density), hand the score to their parent and grandparent the
way readability does, weight candidates by class/id hints and semantic tags, pick the best one,
then adjust it: descend while a single child still holds nearly all of the prose (tightest
container), climb when content-looking siblings hold a real share of it (split articles).

Everything is computed from one ``traverse()`` of the tree plus linear passes over flat lists, so
the cost is O(nodes) and no Python recursion is involved (10,000-deep nesting is fine).  Nodes are
identified by their position in document order; ``LexborNode`` objects are re-created on each
access and compare by serialised HTML, so they are never used as keys or compared with ``==``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, cast

from selectolax.lexbor import LexborNode

__all__ = [
    "class_weight",
    "find_main_content",
    "link_density",
]


def _tag_set(names: str) -> frozenset[str]:
    """Build a tag-name set from a space-separated list."""
    return frozenset(names.split())


# --- Tunables -------------------------------------------------------------------------------------

#: A block needs this many characters of its own (inline) text to count as a paragraph.
MIN_PARAGRAPH_CHARS: Final = 25
#: List items only vote for a container when this long: menus and "most read" lists are short.
MIN_LIST_ITEM_CHARS: Final = 80
#: One score point per this many characters of paragraph text ...
CHARS_PER_POINT: Final = 100
#: ... up to this many points, so one huge block cannot outvote many real paragraphs.
MAX_LENGTH_POINTS: Final = 3.0
#: Commas add a point each (prose has commas, menus don't), capped for comma-heavy code blocks.
MAX_COMMA_POINTS: Final = 10
#: Share of a paragraph's score handed to its container levels (parent, grandparent).
ANCESTOR_SHARES: Final = (1.0, 0.5)
#: Initial score of a candidate by tag, as readability does: divs are typical wrappers, lists and
#: headings typical non-wrappers.
TAG_BASE_SCORES: Final[Mapping[str, float]] = MappingProxyType(
    {
        "div": 5.0,
        "article": 5.0,
        "pre": 3.0,
        "td": 3.0,
        "blockquote": 3.0,
        "address": -3.0,
        "ol": -3.0,
        "ul": -3.0,
        "dl": -3.0,
        "dd": -3.0,
        "dt": -3.0,
        "li": -3.0,
        "form": -3.0,
        "h1": -5.0,
        "h2": -5.0,
        "h3": -5.0,
        "h4": -5.0,
        "h5": -5.0,
        "h6": -5.0,
        "th": -5.0,
    }
)
#: Candidate bonus/malus when its class or id looks like content / like chrome.
CLASS_HINT_WEIGHT: Final = 25.0
#: Candidate bonus for <article>, <main>, [itemprop=articleBody], [role=main].
SEMANTIC_BONUS: Final = 25.0
#: Paragraphs under a chrome-looking container (sidebar, comments, newsletter box ...) keep only
#: this fraction of their score and prose; not zero, so a mislabelled wrapper cannot hide an article.
NEGATIVE_CONTEXT_FACTOR: Final = 0.2
#: Paragraphs (and merge siblings) with more link text than this are navigation, not prose.
PROSE_MAX_LINK_DENSITY: Final = 0.5
#: A semantic element restricts the search to its subtree when it holds this share of the prose.
SEMANTIC_MIN_SHARE: Final = 0.5
#: The tightest container must keep this share of the article prose (descend / merge criterion).
TIGHT_SHARE: Final = 0.9
#: How many levels sibling merging may climb above the top candidate.
MAX_MERGE_LEVELS: Final = 3
#: Sibling merging (readability): a sibling is content when it scores this much ...
SIBLING_MIN_SCORE: Final = 10.0
#: ... or this fraction of the top candidate's score (also the same-class bonus) ...
SIBLING_SCORE_RATIO: Final = 0.2
#: ... or it is a paragraph (or a wrapper like the one being merged) with this much clean prose.
SIBLING_PARAGRAPH_CHARS: Final = 80
SIBLING_PARAGRAPH_MAX_LINK_DENSITY: Final = 0.25
#: Below this much prose the best candidate is not an article (link pages, error pages).
MIN_ARTICLE_CHARS: Final = 200
#: A result with more link text than this is a link list or a teaser listing, not an article.
MAX_ARTICLE_LINK_DENSITY: Final = 0.5

#: Phrasing elements: their text belongs to the nearest enclosing block's "own" prose.
INLINE_TAGS: Final = _tag_set(
    "a abbr b bdi bdo big br cite code data del dfn em font i img input ins kbd label mark "
    "nobr picture q rp rt ruby s samp small source span strike strong sub sup time tt u var "
    "wbr"
)
#: Non-element nodes traverse() yields; they carry no text of their own.
_NODE_PSEUDO_TAGS: Final = frozenset(("-comment", "-doctype", "-text"))
#: Elements whose text is never prose (the caller usually removed them already).
IGNORED_TAGS: Final = _tag_set(
    "head title script style noscript template svg math iframe object embed canvas textarea "
    "select option button video audio"
)
#: Tags whose text flows into the enclosing block's own prose.
_FLOW_TAGS: Final = INLINE_TAGS | _NODE_PSEUDO_TAGS
#: Blocks whose own text can form a paragraph; headings, table rows, chrome tags cannot.
PARAGRAPH_TAGS: Final = _tag_set(
    "p pre td blockquote li div section article main dd center body figcaption details"
)
#: Blocks the tightening step never descends into: text blocks, lists and table parts.
LEAF_BLOCK_TAGS: Final = _tag_set(
    "p pre blockquote li ul ol dl dd dt h1 h2 h3 h4 h5 h6 figure figcaption table thead tbody "
    "tfoot tr th caption"
)
#: Selector for elements that declare themselves the main content.
SEMANTIC_SELECTOR: Final = 'article, main, [itemprop~="articleBody"], [role="main"]'

# Class/id hints, matched against the lower-cased class and id tokens joined by spaces.  Long,
# distinctive words match anywhere ("rightsidebar", "commentlist", "megamenu"); short or ambiguous
# ones must be a whole token or a "-"/"_"-separated part of one, so "shadow" is not "ad",
# "domain" is not "main", and Tailwind's "bg-navy" is not "nav".
#: Content-looking words that may appear anywhere in a class/id token.
POSITIVE_HINTS: Final = ("article", "content", "entry", "story", "blog")
#: Content-looking words that must be a separate part of a token.
POSITIVE_HINT_PARTS: Final = ("body", "main", "page", "post", "text")
#: Chrome-looking words that may appear anywhere in a class/id token.
NEGATIVE_HINTS: Final = (
    "comment", "footer", "footnote", "sidebar", "widget", "related", "share", "social", "promo",
    "banner", "breadcrumb", "newsletter", "subscri", "cookie", "popup", "modal", "sponsor", "advert",
    "disqus", "blogroll", "pagination", "pager", "outbrain", "taboola", "consent", "gdpr",
    "copyright", "licence", "license", "menu", "adsbygoogle",
)  # fmt: skip
#: Chrome-looking words that must be a separate part of a token.
NEGATIVE_HINT_PARTS: Final = ("ad", "ads", "adv", "nav", "navbar", "navigation", "meta", "toc")


def _hint_re(anywhere: tuple[str, ...], parts: tuple[str, ...]) -> re.Pattern[str]:
    """Compile a hint matcher: free-standing words anywhere, short words as token parts."""
    return re.compile(rf"{'|'.join(anywhere)}|(?:^|[\s_-])(?:{'|'.join(parts)})(?=$|[\s_\d-])")


_POSITIVE_HINT_RE: Final = _hint_re(POSITIVE_HINTS, POSITIVE_HINT_PARTS)
_NEGATIVE_HINT_RE: Final = _hint_re(NEGATIVE_HINTS, NEGATIVE_HINT_PARTS)
_ANY_HINT_RE: Final = re.compile(f"{_POSITIVE_HINT_RE.pattern}|{_NEGATIVE_HINT_RE.pattern}")
# Tokens that describe state or taxonomy rather than role: "has-sidebar", "no-comments",
# "tag-social-media", Tailwind's "text-sm" / "md:flex".
_SKIPPED_TOKEN_PREFIXES: Final = ("has-", "no-", "with-", "without-", "tag-", "category-", "text-")


def class_weight(node: LexborNode) -> float:
    """Return +/-CLASS_HINT_WEIGHT (or 0) from the node's class and id hints."""
    attrs = node.attributes
    cls = attrs.get("class")
    ident = attrs.get("id")
    if not cls and not ident:
        return 0.0
    raw = f"{cls or ''} {ident or ''}".lower()
    # Most classes hint nothing: one combined search before the token filtering.
    if not _ANY_HINT_RE.search(raw):
        return 0.0
    text = " ".join(t for t in raw.split() if ":" not in t and not t.startswith(_SKIPPED_TOKEN_PREFIXES))
    weight = 0.0
    if _POSITIVE_HINT_RE.search(text):
        weight += CLASS_HINT_WEIGHT
    if _NEGATIVE_HINT_RE.search(text):
        weight -= CLASS_HINT_WEIGHT
    return weight


def link_density(node: LexborNode) -> float:
    """Return the share of the node's text that sits inside <a> elements (0.0 for no text)."""
    total = len(node.text(deep=True, strip=True))
    if total == 0:
        return 0.0
    if node.tag == "a":
        return 1.0
    # css() includes descendants only once each; nested anchors are invalid HTML and rare.
    linked = sum(len(a.text(deep=True, strip=True)) for a in node.css("a"))
    return min(1.0, linked / total)


class _Page:
    """Flat, document-order statistics of one subtree; index 0 is the root."""

    __slots__ = (
        "block_child",
        "end",
        "hints",
        "index_of",
        "inline_links",
        "inline_text",
        "linked",
        "links",
        "negative",
        "nodes",
        "parent",
        "tags",
        "text",
        "texts",
    )

    def __init__(self, root: LexborNode) -> None:
        # Comprehensions rather than one loop: each pass runs at C-iteration speed, which matters
        # because Python-level work per element dominates the cost.  Comments stay in the lists
        # (they have no text and count as inline), which is cheaper than filtering them out.
        nodes: list[LexborNode] = list(root.traverse())
        n = len(nodes)
        # traverse() yields elements, comments and the like, which all have a tag name.
        tags = cast(list[str], [node.tag for node in nodes])
        index_of: dict[int, int] = dict(zip([node.mem_id for node in nodes], range(n), strict=True))
        # Every node after the root is a descendant of it, so .parent is never None here.
        parent = [-1] + [index_of.get(node.parent.mem_id, 0) for node in nodes[1:]]  # type: ignore[union-attr]
        texts: list[str] = [node.text(deep=False, strip=True) for node in nodes]
        text = [len(s) for s in texts]
        inline_text = text[:]
        links = [0] * n
        inline_links = [0] * n
        end = list(range(1, n + 1))
        block_child = [False] * n
        cards: list[int] = []
        ignored: list[int] = []
        # Reverse document order visits every child before its parent: one pass sums subtrees.
        for i in range(n - 1, 0, -1):
            p = parent[i]
            if end[i] > end[p]:
                end[p] = end[i]
            t = text[i]
            if not t:
                continue
            tag = tags[i]
            if tag in IGNORED_TAGS:
                ignored.append(i)
                continue
            if tag == "a":
                links[i] = t
                inline_links[i] = inline_text[i]
                if block_child[i]:
                    cards.append(i)
            text[p] += t
            links[p] += links[i]
            if tag in _FLOW_TAGS:
                inline_text[p] += inline_text[i]
                inline_links[p] += inline_links[i]
            else:
                block_child[p] = True
        if n and tags[0] == "a":
            links[0] = text[0]
        # Text under <svg>, <noscript> ... was not summed upward; its blocks must not score either.
        for i in ignored:
            inline_text[i : end[i]] = [0] * (end[i] - i)
        # Blocks inside a link (teaser cards) are never prose, whatever their own link text says.
        linked = bytearray(n)
        for i in cards:
            linked[i : end[i]] = b"\x01" * (end[i] - i)

        self.nodes = nodes
        self.index_of = index_of
        self.tags = tags
        self.parent = parent
        self.texts = texts
        self.text = text
        self.links = links
        self.inline_text = inline_text
        self.inline_links = inline_links
        self.end = end
        self.block_child = block_child
        self.linked = linked
        self.hints: dict[int, float] = {}
        self.negative: dict[int, bool] = {}

    def commas(self, i: int) -> int:
        """Count commas in the own prose of block i (all of it for a leaf block)."""
        prose = self.texts[i] if self.block_child[i] else "".join(self.texts[i : self.end[i]])
        return prose.count(",") + prose.count("，")

    def hint(self, i: int) -> float:
        """Return the cached class/id weight of node i (0 for html/body, whose classes describe the page)."""
        weight = self.hints.get(i)
        if weight is None:
            weight = 0.0 if self.tags[i] in ("html", "body") else class_weight(self.nodes[i])
            self.hints[i] = weight
        return weight

    def in_negative_context(self, i: int) -> bool:
        """Return whether the nearest hinted ancestor-or-self of node i looks like chrome."""
        memo = self.negative
        chain: list[int] = []
        j = i
        verdict = False
        while j >= 0:
            known = memo.get(j)
            if known is not None:
                verdict = known
                break
            weight = self.hint(j)
            chain.append(j)
            if weight != 0:
                # A positive hint (e.g. "content" inside a "has-sidebar" wrapper) resets the context.
                verdict = weight < 0
                break
            j = self.parent[j]
        for k in chain:
            memo[k] = verdict
        return verdict

    def density(self, i: int) -> float:
        """Return the link density of the subtree of node i."""
        if self.linked[i]:
            return 1.0
        total = self.text[i]
        return self.links[i] / total if total else 0.0

    def children(self, i: int) -> list[int]:
        """Return the element children of node i (subtree ranges make this a skip list)."""
        out: list[int] = []
        j = i + 1
        stop = self.end[i]
        end = self.end
        while j < stop:
            out.append(j)
            j = end[j]
        return out


def _score(page: _Page, semantic: set[int]) -> tuple[dict[int, float], list[float]]:
    """Score paragraphs into candidate scores; also return per-subtree prose mass."""
    tags = page.tags
    parent = page.parent
    inline_text = page.inline_text
    inline_links = page.inline_links
    linked = page.linked
    block_child = page.block_child
    n = len(tags)
    prose = [0.0] * n
    raw: dict[int, float] = {}
    long_enough = [i for i, length in enumerate(inline_text) if length >= MIN_PARAGRAPH_CHARS]
    for i in long_enough:
        tag = tags[i]
        if tag not in PARAGRAPH_TAGS:
            continue
        length = inline_text[i]
        density = 1.0 if linked[i] else inline_links[i] / length
        if density > PROSE_MAX_LINK_DENSITY:
            continue
        keep = 1.0 - density
        # A bare <p> almost never carries a role class; starting at its parent saves an attribute
        # fetch per paragraph, the dominant cost here.  Other blocks (a "newsletter" div) count.
        if page.in_negative_context(parent[i] if tag == "p" else i):
            keep *= NEGATIVE_CONTEXT_FACTOR
        prose[i] = length * keep
        if tag == "li" and length < MIN_LIST_ITEM_CHARS:
            continue
        points = (
            1.0 + min(page.commas(i), MAX_COMMA_POINTS) + min(length / CHARS_PER_POINT, MAX_LENGTH_POINTS)
        )
        points *= keep
        # A block that also holds other blocks is itself the wrapper of its loose text (readability
        # would wrap that text in <p>s), so it collects the first share; a leaf hands it upward.
        target = i if block_child[i] else parent[i]
        for share in ANCESTOR_SHARES:
            if target < 0:
                break
            if target not in raw:
                raw[target] = (
                    TAG_BASE_SCORES.get(tags[target], 0.0)
                    + page.hint(target)
                    + (SEMANTIC_BONUS if target in semantic else 0.0)
                )
            raw[target] += points * share
            target = parent[target]
    # Reverse order again: subtree prose sums.
    for i in range(n - 1, 0, -1):
        prose[parent[i]] += prose[i]
    scores = {i: s * (1.0 - page.density(i)) for i, s in raw.items()}
    return scores, prose


def _is_content_sibling(
    page: _Page, s: int, cur: int, top_score: float, scores: dict[int, float], prose: list[float]
) -> bool:
    """Tell whether sibling s of cur (the top candidate or an ancestor) continues the article."""
    # Chrome-looking or mostly-link siblings (teaser cards of a listing) never continue an article.
    if page.hint(s) < 0 or page.density(s) > PROSE_MAX_LINK_DENSITY:
        return False
    cls = page.nodes[s].attributes.get("class")
    same_kind = page.tags[s] == page.tags[cur] and cls == page.nodes[cur].attributes.get("class")
    # Readability's test: a good score on its own, helped when it shares cur's class ...
    bonus = top_score * SIBLING_SCORE_RATIO if same_kind and cls else 0.0
    if scores.get(s, 0.0) + bonus >= max(SIBLING_MIN_SCORE, top_score * SIBLING_SCORE_RATIO):
        return True
    # ... or a clean paragraph.  Repeated wrappers of cur's kind (one <div> per paragraph, as page
    # builders emit) are held to the same prose test; other containers are not, so author boxes,
    # licence notes or comment threads next to the body do not drag the result upward.
    if same_kind or (page.tags[s] in PARAGRAPH_TAGS and not page.block_child[s]):
        return prose[s] >= SIBLING_PARAGRAPH_CHARS and page.density(s) < SIBLING_PARAGRAPH_MAX_LINK_DENSITY
    return False


def find_main_content(root: LexborNode) -> LexborNode | None:
    """Return the element that best contains the article body under root, or None."""
    page = _Page(root)
    n = len(page.tags)
    if n == 0:
        return None
    index_of = page.index_of
    semantic = {
        i for i in (index_of.get(node.mem_id) for node in root.css(SEMANTIC_SELECTOR)) if i is not None
    }
    scores, prose = _score(page, semantic)
    if not scores or prose[0] < MIN_ARTICLE_CHARS:
        return None

    # A semantic element holding most of the prose bounds the search; two such elements are
    # necessarily nested, and the deepest (largest index) is the most specific.
    region = 0
    for i in semantic:
        if prose[i] >= SEMANTIC_MIN_SHARE * prose[0] and i > region:
            region = i
    # An explicit, unique articleBody is trusted even when comments or sidebars outweigh it.
    declared = [i for i in semantic if "articleBody" in (page.nodes[i].attributes.get("itemprop") or "")]
    if len(declared) == 1 and prose[declared[0]] >= MIN_ARTICLE_CHARS:
        region = declared[0]
    region_end = page.end[region]
    top = -1
    best = float("-inf")
    for i, s in scores.items():
        if region <= i < region_end and s > best:
            top, best = i, s
    if top < 0:
        top = region

    # Tighten: descend while one container child keeps nearly all the prose.
    while prose[top] > 0:
        floor = TIGHT_SHARE * prose[top]
        nxt = next(
            (c for c in page.children(top) if prose[c] >= floor and page.tags[c] not in LEAF_BLOCK_TAGS), -1
        )
        if nxt < 0:
            break
        top = nxt

    # Merge: climb when content-looking siblings hold more than the tightness slack.  Levels
    # without such siblings (single-child wrappers) are walked through, not stopped at.
    content = prose[top]
    top_score = scores.get(top, 0.0)  # thresholds stay relative to the candidate, not the merge
    cur = top
    for _ in range(MAX_MERGE_LEVELS):
        if cur == region:
            break
        up = page.parent[cur]
        content += sum(
            prose[s]
            for s in page.children(up)
            if s != cur and _is_content_sibling(page, s, cur, top_score, scores, prose)
        )
        if prose[top] < TIGHT_SHARE * content:
            top = up
        cur = up

    if prose[top] < MIN_ARTICLE_CHARS or page.density(top) > MAX_ARTICLE_LINK_DENSITY:
        return None
    return page.nodes[top]
