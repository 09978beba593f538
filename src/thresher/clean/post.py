"""Clean a Hexo Markdown post: strip the pasted ad HTML and move the "Also read" list into the front matter.

The techidaily sources carry their ads inside the Markdown (MARKUP.md §2, §4): comment-delimited affiliate
ranges, AdSense ``<ins>`` blocks (plus their scripts) and a trailing "Also read" link list. Everything is
done on the raw text, never on a parse tree, so that whatever is not removed stays byte for byte as the author
wrote it, front matter included. Fenced code blocks and inline code spans are skipped: ad-like HTML quoted
there is content, not an ad.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass, field
from typing import Any, Final

import yaml

from ..errors import PostError
from ..models import Link, dump_front_matter, split_front_matter

__all__ = ["REMOVAL_KINDS", "CleanedPost", "clean_post"]

# Keys of CleanedPost.removed, one per kind of removed block.
REMOVAL_KINDS: Final = ("affiliate_range", "adsense", "script", "also_read")

_BEGIN: Final = r"<!--\s*affiliate\s+ads\s+begin\s*-->"
_END: Final = r"<!--\s*affiliate\s+ads\s+end\s*-->"
# A fence opener at the start of a line, possibly inside list items or block quotes.
_FENCE_PREFIX: Final = r"^(?:[ \t]*(?:>|[-+*][ \t]|\d{1,9}[.)][ \t]))*[ \t]*"
_INS: Final = (
    r"<ins\b[^>]*?\sclass\s*=\s*(?:\"[^\"]*\badsbygoogle\b[^\"]*\"|'[^']*\badsbygoogle\b[^']*'|adsbygoogle\b)"
    r"[^>]*>(?:(?!<ins\b).)*?</ins\s*>"
)
_LOADER: Final = r"<script\b[^>]*\ssrc\s*=\s*[\"']?[^\"'\s>]*adsbygoogle\.js\b[^>]*>\s*</script\s*>"
_PUSH: Final = (
    r"<script\b[^>]*>\s*\(\s*adsbygoogle\s*=\s*window\.adsbygoogle\s*\|\|\s*\[\s*\]\s*\)"
    r"\s*\.\s*push\s*\(\s*\{\s*\}\s*\)\s*;?\s*</script\s*>"
)
_ALSO_READ: Final = (
    r"(?:<p\b[^>]*>\s*)?"
    r"<span\b[^>]*\sclass\s*=\s*[\"']?[^\"'>]*\batpl-alsoreadstyle\b[^>]*>[^<]*</span\s*>"
    r"\s*(?:</p\s*>\s*)?"
    r"<div\b[^>]*>\s*<ul\b[^>]*>(?P<items>(?:(?!</?ul\b).)*?)</ul\s*>\s*</div\s*>"
)

# One scanner, so that whichever construct starts first wins (as in a Markdown parser): a code fence or code
# span protects the ad-like HTML it holds; an ad block swallows any backticks inside it. At one position the
# alternatives are tried in order, so a <p> wrapper is taken together with the ads it holds.
_SCANNER: Final = re.compile(
    rf"(?P<fence>{_FENCE_PREFIX}(?:(?P<btick>`{{3,}})[^`\r\n]*|(?P<tilde>~{{3,}})[^\r\n]*)\r?$)"
    r"|(?P<code>(?<![`\\])`+)"
    # A range may not contain another begin marker or a fence: an unterminated begin then removes nothing.
    rf"|(?P<affiliate_range>{_BEGIN}(?:(?!{_BEGIN}|^[ \t>]*(?:```|~~~)).)*?{_END})"
    rf"|(?P<wrapped><p\b[^>]*>\s*(?:(?:{_INS}|{_LOADER}|{_PUSH})\s*)+</p\s*>)"
    rf"|(?P<also_read>{_ALSO_READ})"
    rf"|(?P<adsense>{_INS})"
    rf"|(?P<script>{_LOADER}|{_PUSH})",
    re.I | re.S | re.M,
)
_INS_RE: Final = re.compile(_INS, re.I | re.S)
_SCRIPT_RE: Final = re.compile(rf"{_LOADER}|{_PUSH}", re.I | re.S)
_ANCHOR: Final = re.compile(
    r"<a\b[^>]*?\shref\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+))[^>]*>(?P<text>.*?)</a\s*>",
    re.I | re.S,
)
_TAG: Final = re.compile(r"<[^>]*>")
_HTML_SPACE: Final = re.compile(r"[ \t\r\n\f]+")
_BLANK_LINES: Final = re.compile(r"(?:[ \t]*\r?\n)*")
_BLANK_LINE_INSIDE: Final = re.compile(r"\n[ \t]*\r?\n")
# The front matter's closing fence, at the end of the header text that split_front_matter cut off the body.
_CLOSING_FENCE: Final = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n)?\n*\Z", re.M)


@dataclass(slots=True, kw_only=True)
class CleanedPost:
    """A cleaned post, the links taken out of its "Also read" blocks, and how many blocks of each kind."""

    document: str
    also_read: list[Link] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REMOVAL_KINDS, 0))


def clean_post(document: str) -> CleanedPost:
    """Remove the ad HTML from a Hexo post; record its "Also read" links as ``also_read`` in the front matter.

    The original front matter text is kept verbatim; ``also_read`` is appended unless it already has that key
    (so cleaning a cleaned post changes nothing; links found in the body are then only reported in the
    result). A post without front matter gets one only if it has links. CRLF line endings are kept.

    Raises:
        PostError: the front matter is not valid YAML or not a mapping.
    """
    meta, body = split_front_matter(document)
    # split_front_matter returns a suffix of the document, so the header is the text in front of it.
    head = document[: len(document) - len(body)]
    result = CleanedPost(document=document)
    cleaned = _clean_body(body, result)
    # Cutting a block out can join what was around it into new markup (two backtick runs meeting change which
    # text is code), so clean again until nothing changes: cleaning a cleaned post must be a no-op.
    previous = body
    while cleaned != previous:
        previous, cleaned = cleaned, _clean_body(cleaned, result)
    newline = "\r\n" if _uses_crlf(document) else "\n"
    if result.also_read and "also_read" not in meta:
        if head:
            head = _with_also_read(head, meta, result.also_read, newline)
        else:
            head = _new_front_matter(_also_read_yaml(result.also_read, newline), cleaned, newline)
            cleaned = cleaned.removeprefix("\ufeff").lstrip("\r\n")
    elif not head and cleaned != body and _looks_like_front_matter(cleaned):
        # A cut joined lines into what now reads as a front matter block; an empty one keeps it body text.
        head = _new_front_matter("", cleaned, newline)
        cleaned = cleaned.removeprefix("\ufeff")
    result.document = head + cleaned
    return result


def _new_front_matter(yaml_text: str, body: str, newline: str) -> str:
    """A front matter block holding ``yaml_text``, ahead of ``body`` (whose byte-order mark it takes over)."""
    bom = "\ufeff" if body.startswith("\ufeff") else ""  # a byte-order mark must stay first
    fence = f"---{newline}"
    return f"{bom}{fence}{yaml_text}{fence}{newline}"


def _looks_like_front_matter(text: str) -> bool:
    """Whether ``split_front_matter`` would take a front matter block off the start of ``text``."""
    if not text.removeprefix("\ufeff").startswith("---"):
        return False
    try:
        _, body = split_front_matter(text)
    except PostError:
        return True
    return len(body) != len(text)


def _uses_crlf(document: str) -> bool:
    """Whether the first line ends with CRLF."""
    end = document.find("\n")
    return end > 0 and document[end - 1] == "\r"


def _clean_body(body: str, result: CleanedPost) -> str:
    """The body without its ad blocks; fills ``result.also_read`` and ``result.removed``."""
    # Where paragraphs end: a code span cannot run past one. Found once, so many backticks stay linear.
    breaks = [m.start() for m in _BLANK_LINE_INSIDE.finditer(body)] if "`" in body else []
    spans: list[tuple[int, int]] = []
    pos = 0
    while (match := _SCANNER.search(body, pos)) is not None:
        kind = match.lastgroup
        if kind == "fence":
            pos = _fence_end(body, match)
        elif kind == "code":
            index = bisect.bisect_left(breaks, match.end())
            pos = _code_span_end(body, match, breaks[index] if index < len(breaks) else len(body))
        else:
            _count(match, result)
            spans.append(match.span())
            pos = match.end()
    return _remove_spans(body, _group_spans(body, spans)) if spans else body


def _fence_end(body: str, match: re.Match[str]) -> int:
    """Where the fenced code block opened by ``match`` ends (the end of the body when it is never closed)."""
    marker = match.group("btick") or match.group("tilde")
    closing = re.compile(rf"^[ \t>]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*\r?$", re.M)
    end = closing.search(body, match.end() + 1)
    return len(body) if end is None else end.end()


def _code_span_end(body: str, match: re.Match[str], limit: int) -> int:
    """The end of the inline code span opened by ``match``, or of the backtick run when it opens none."""
    closing = re.compile(rf"(?<!`){match.group('code')}(?!`)")
    end = closing.search(body, match.end(), limit)
    return match.end() if end is None else end.end()


def _count(match: re.Match[str], result: CleanedPost) -> None:
    """Record one removed block in ``result``: its kind counts, and its links if it is an Also-read list."""
    kind = match.lastgroup
    if kind == "wrapped":
        text = match.group("wrapped")
        result.removed["adsense"] += sum(1 for _ in _INS_RE.finditer(text))
        result.removed["script"] += sum(1 for _ in _SCRIPT_RE.finditer(text))
        return
    assert kind is not None
    result.removed[kind] += 1
    if kind == "also_read":
        result.also_read.extend(_links(match.group("items")))


def _links(items: str) -> list[Link]:
    """The links of an Also-read list: text without tags, entities decoded, spaces collapsed as HTML does."""
    links = []
    for anchor in _ANCHOR.finditer(items):
        href = next(v for v in anchor.group("dq", "sq", "bare") if v is not None)
        title = _HTML_SPACE.sub(" ", html.unescape(_TAG.sub("", anchor.group("text"))))
        links.append(Link(url=html.unescape(href).strip(), title=title.strip(" \t\r\n\f")))
    return links


def _is_whole_line(body: str, start: int, end: int) -> bool:
    """Whether ``body[start:end]`` has nothing but spaces around it on its first and last lines."""
    line_start = body.rfind("\n", 0, start) + 1
    line_end = body.find("\n", end)
    after = body[end:] if line_end < 0 else body[end:line_end]
    return not body[line_start:start].strip(" \t") and not after.strip(" \t\r")


def _group_spans(body: str, spans: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """Merge neighbouring spans into blocks to remove, each flagged when it stands on lines of its own.

    Spans on one line separated by spaces go together; so do stand-alone blocks separated only by blank lines,
    which leaves a single gap to collapse. A block sharing its line with text is never merged across lines:
    that would join the text to the next paragraph.
    """
    same_line: list[tuple[int, int]] = []
    for start, end in spans:
        if same_line and not body[same_line[-1][1] : start].strip(" \t"):
            same_line[-1] = (same_line[-1][0], end)
        else:
            same_line.append((start, end))
    blocks: list[tuple[int, int, bool]] = []
    for start, end in same_line:
        whole = _is_whole_line(body, start, end)
        if blocks and whole and blocks[-1][2] and not body[blocks[-1][1] : start].strip(" \t\r\n"):
            blocks[-1] = (blocks[-1][0], end, True)
        else:
            blocks.append((start, end, whole))
    return blocks


def _remove_spans(body: str, blocks: list[tuple[int, int, bool]]) -> str:
    """Cut ``blocks`` out of ``body``; a stand-alone block takes its lines along and blank lines collapse.

    Where lines were removed, the blank lines around the spot collapse to one; to none at the end of the body
    or where there was none (the block sat between two lines of text); at the start of the body, to those
    that were before the block.
    """
    out: list[str] = []
    kept_text = False  # whether text other than whitespace was kept so far
    cursor = 0
    for start, end, whole in blocks:
        if not whole:
            # The block shares a line with text (say, an ad opening inside a list item): cut just the block.
            out.append(body[cursor:start])
            kept_text = True
            cursor = end
            continue
        line_start = body.rfind("\n", 0, start) + 1
        line_end = body.find("\n", end)
        line_end = len(body) if line_end < 0 else line_end + 1
        blank_start = _blank_lines_before(body, line_start, floor=cursor)
        blank_end = _BLANK_LINES.match(body, line_end)
        assert blank_end is not None  # the pattern matches the empty string
        out.append(body[cursor:blank_start])
        kept_text = kept_text or bool(out[-1].strip())
        if kept_text and not body[blank_end.end() :].strip(" \t\r\n"):
            return "".join(out)  # at the end of the body: no blank line left
        # At the start of the body only a blank line that was already there before the block is kept.
        blank = body[blank_start:line_start] or (body[line_end : blank_end.end()] if kept_text else "")
        out.append(blank[: blank.find("\n") + 1])  # one blank line, or none if there was none
        cursor = blank_end.end()
    out.append(body[cursor:])
    return "".join(out)


def _blank_lines_before(body: str, line_start: int, *, floor: int) -> int:
    """Where the run of blank lines just before ``line_start`` begins, not going back past ``floor``."""
    start = line_start
    while start > floor:
        previous = body.rfind("\n", 0, start - 1) + 1
        if previous < floor or body[previous:start].strip(" \t\r\n"):
            break
        start = previous
    return start


def _also_read_yaml(links: list[Link], newline: str) -> str:
    """The ``also_read`` key as YAML lines, strings quoted wherever YAML needs it."""
    text: str = yaml.safe_dump(
        {"also_read": [link.to_dict() for link in links]},
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=10**9,
    )
    return text.replace("\n", newline)


def _with_also_read(head: str, meta: dict[str, Any], links: list[Link], newline: str) -> str:
    """The front matter block ``head`` with an ``also_read`` key appended before its closing fence."""
    closing = _CLOSING_FENCE.search(head)
    assert closing is not None  # split_front_matter matched a closing fence at this very place
    new_head = head[: closing.start()] + _also_read_yaml(links, newline) + head[closing.start() :]
    items = [link.to_dict() for link in links]
    # Appending a top-level key to the original text is only safe for an ordinary block mapping; for any other
    # shape (a flow mapping, an indented mapping) write the front matter anew rather than emit broken YAML.
    if _appended_cleanly(new_head, meta, items):
        return new_head
    fence = f"---{newline}"
    bom = "\ufeff" if head.startswith("\ufeff") else ""
    after_fence = closing.group().partition("\n")[2]  # the blank lines between the front matter and the body
    text = dump_front_matter({**meta, "also_read": items}).replace("\n", newline)
    return bom + fence + text + fence + after_fence


def _appended_cleanly(head: str, meta: dict[str, Any], items: list[dict[str, str]]) -> bool:
    """Whether the front matter ``head`` parses to the keys of ``meta``, then ``also_read: items``."""
    try:
        parsed, _ = split_front_matter(head)
    except PostError:
        return False
    return list(parsed) == [*meta, "also_read"] and parsed["also_read"] == items
