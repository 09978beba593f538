"""The body-extraction metric of the devset (see ``devset/README.md``), plus ad-remnant detection.

Tokens are ``re.findall(r"\\w+", text)``; each text becomes a multiset of token 4-grams (a text of 1-3 tokens
is one shorter shingle). Per page, tp = shingles shared by output and expectation, fp = extra in the output,
fn = missing from the output. The README divides each by tp+fp+fn; that scaling cancels out of precision and
recall, so :class:`BodyScore` keeps the raw counts. Over a set of pages, precision is the mean of tp/(tp+fp)
over pages with non-empty output, recall the mean of tp/(tp+fn) over all pages (an empty output counts as
recall 0), and F1 = 2PR/(P+R).

No I/O here: the bench (``bench/extract.py``) and the tests feed strings in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from markdown_it import MarkdownIt
from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = [
    "AD_MARKERS",
    "BodyScore",
    "ad_remnants",
    "aggregate",
    "markdown_to_text",
    "score_body",
    "shingles",
    "tokens",
]

Shingle = tuple[str, ...]

_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    """The metric's tokens: every ``\\w+`` run, in order, case kept."""
    return _TOKEN.findall(text)


def shingles(toks: list[str], n: int = 4) -> Counter[Shingle]:
    """Multiset of token n-grams; 1 to n-1 tokens make one shorter shingle, no tokens none."""
    if not toks:
        return Counter()
    if len(toks) < n:
        return Counter([tuple(toks)])
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


@dataclass(slots=True, frozen=True)
class BodyScore:
    """Shingle counts for one page: shared (tp), only in the output (fp), only expected (fn)."""

    tp: int
    fp: int
    fn: int

    @property
    def empty_output(self) -> bool:
        """True when the output has no shingle at all (no ``\\w`` token)."""
        return self.tp + self.fp == 0

    @property
    def precision(self) -> float:
        """tp/(tp+fp); 0.0 for an empty output (which :func:`aggregate` leaves out of the mean)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """tp/(tp+fn); 0.0 for an empty output, 1.0 for a non-empty output when nothing was expected."""
        if self.empty_output:
            return 0.0
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of this page's precision and recall (0.0 when both are 0)."""
        return _f1(self.precision, self.recall)


def _f1(precision: float, recall: float) -> float:
    """2PR/(P+R), 0.0 when P+R is 0."""
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score_body(expected_text: str, got_text: str, n: int = 4) -> BodyScore:
    """Compare an extracted body text with the expected text by shared token n-gram shingles."""
    expected = shingles(tokens(expected_text), n)
    got = shingles(tokens(got_text), n)
    tp = sum((expected & got).values())
    return BodyScore(tp=tp, fp=got.total() - tp, fn=expected.total() - tp)


def aggregate(scores: Iterable[BodyScore]) -> tuple[float, float, float]:
    """(precision, recall, F1) over pages: P averaged over non-empty outputs, R over all pages."""
    items = list(scores)
    if not items:
        return 0.0, 0.0, 0.0
    precisions = [s.precision for s in items if not s.empty_output]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(s.recall for s in items) / len(items)
    return precision, recall, _f1(precision, recall)


# --- Markdown -> text ---------------------------------------------------------------------------------------

_MD = MarkdownIt("commonmark").enable("table")

# Elements whose content is a block of its own: a newline before and after.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
        "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1",
        "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "listing", "main",
        "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
    }
)  # fmt: skip
# Table cells sit on one line, separated by a tab.
_CELL_TAGS = frozenset({"td", "th"})
# Elements whose text is never shown.
_SKIP_TAGS = frozenset({"script", "style", "template", "head", "title", "meta", "link"})
_HSPACE = re.compile(r"[^\S\n]+")
_WHITESPACE = re.compile(r"\s+")


def _html_text(root: LexborNode) -> str:
    """Visible text under ``root``, block elements and ``<br>`` on their own lines."""
    out: list[str] = []
    stack: list[LexborNode | str] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        if item.is_text_node:
            out.append(_WHITESPACE.sub(" ", item.text_content or ""))  # source newlines are not line breaks
            continue
        if not item.is_element_node:
            continue  # comments, doctype
        tag = item.tag or ""
        if tag in _SKIP_TAGS:
            continue
        if tag == "br":
            out.append("\n")
            continue
        if tag == "pre":
            out.append(f"\n{item.text(deep=True)}\n")  # preformatted: its own line breaks count
            continue
        sep = "\n" if tag in _BLOCK_TAGS else "\t" if tag in _CELL_TAGS else ""
        out.append(sep)
        stack.append(sep)
        stack.extend(reversed(list(item.iter(include_text=True))))
    lines = (_HSPACE.sub(" ", line).strip() for line in "".join(out).split("\n"))
    return "\n".join(line for line in lines if line)


def markdown_to_text(md: str) -> str:
    """Render Markdown (CommonMark + tables, raw HTML kept) and return its text, one line per block."""
    html = _MD.render(md)
    body = LexborHTMLParser(html).body
    return _html_text(body) if body is not None else ""


# --- ad remnants --------------------------------------------------------------------------------------------

AD_MARKERS: tuple[str, ...] = (
    # Google AdSense / Ad Manager
    "adsbygoogle",
    "data-ad-client",
    "data-ad-slot",
    "ca-pub-",
    "googlesyndication",
    "securepubads",
    "div-gpt-ad",
    # ad networks and monetisation platforms
    "ezoic-pub-ad",
    "ezstandalone",
    "mv_slot_target",
    "mv-ad-box",
    "adthrive",
    "amazon-adsystem",
    "amzn_assoc",
    "taboola",
    "outbrain",
    "data-rc-widget",
    # impact.com and 2Checkout affiliate banners
    "pxf.io/c/",
    "pxf.io/i/",
    "sjv.io/c/",
    "8odi.net/c/",
    "impactradius-go.com",
    "2checkout.com/order",
    "avangate",
    # techidaily comment-delimited blocks and the inline "Also read" list
    "affiliate ads begin",
    "affiliate ads end",
    "atpl-alsoreadstyle",
    "Also read:",
)

_MARKER_BY_LOWER = {m.lower(): m for m in AD_MARKERS}
_MARKER_RE = re.compile("|".join(re.escape(m) for m in sorted(_MARKER_BY_LOWER, key=len, reverse=True)))


def ad_remnants(markdown: str) -> list[str]:
    """Every AD_MARKERS occurrence (case-insensitive) in an extracted body, in order; empty when clean."""
    return [_MARKER_BY_LOWER[hit] for hit in _MARKER_RE.findall(markdown.lower())]
