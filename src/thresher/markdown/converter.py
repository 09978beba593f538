"""Cleaned Lexbor element → CommonMark (GFM tables) by walking the parsed tree, not re-parsing its HTML.

The walk is iterative (an explicit stack of frames), so nesting depth is bounded by memory, not by Python's
recursion limit. Inline content is gathered per block context as a list of string pieces; emphasis goes in as
one-character placeholder pieces and becomes ``*``/``**``/``~~`` only when the paragraph is complete, because
whether a delimiter run can open or close depends on the characters on both sides of it.

Choices worth knowing:

- ``iframe``, ``video``, ``audio``, ``object`` and ``embed`` are dropped, not turned into ``[video](src)``
  links: such a link would add a word the page never showed, and embedded players are chaff on our sites.
- Text in ``pre`` is kept verbatim, trailing spaces included; every other line of output has none.
- Markup inside ``pre`` and ``code`` is reduced to its text: a line break for ``br`` and around blocks.
- An ``a``/``strong``/``em``/``del`` that wraps block content (a "card" link around a heading and a paragraph)
  loses its link or emphasis and keeps its blocks: Markdown cannot put blocks inside inline markup.
- Block content inside a heading or a table cell is flattened to one line, its blocks separated by spaces.
- Emphasis that a CommonMark parser would not pair back the way the HTML nests it is dropped, its text kept:
  ``<b>Note:</b>text`` (a ``**`` after punctuation and before a letter cannot close), some runs inside
  words. The check replays markdown-it's delimiter pairing, so what is written parses as intended.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from selectolax.lexbor import LexborNode

__all__ = ["node_to_markdown"]

# Placeholders for emphasis delimiters and hard breaks while a paragraph is being gathered: lone surrogates,
# which no parsed text can hold (Lexbor decodes to valid UTF-8 and turns `&#xD800;` into U+FFFD), so page text
# never needs to be searched for them.
_MARK_BASE: Final = 0xD800
_STRONG: Final = 0
_EM: Final = 1
_DEL: Final = 2
_LINK: Final = 3
_KIND_DELIMITERS: Final = ("**", "*", "~~")  # by emphasis kind; opener = base + 2 * kind, closer = opener + 1
_BR: Final = chr(_MARK_BASE + 2 * len(_KIND_DELIMITERS))
_SPACE_OR_BR: Final = " " + _BR
_EDGE_PIECES: Final = frozenset((" ", _BR))
_DELIMITERS: Final[Mapping[str, str]] = MappingProxyType(
    {chr(_MARK_BASE + 2 * kind + side): text for kind, text in enumerate(_KIND_DELIMITERS) for side in (0, 1)}
)
_DELIMITER_CHAR: Final[Mapping[str, str]] = MappingProxyType(
    {mark: text[0] for mark, text in _DELIMITERS.items()}
)
# markdown-it makes one delimiter per `*` but one per `~~` pair.
_DELIMITER_TOKENS: Final[Mapping[str, int]] = MappingProxyType(
    {mark: 1 if text[0] == "~" else len(text) for mark, text in _DELIMITERS.items()}
)
_OPENER_SET: Final = frozenset(chr(_MARK_BASE + 2 * kind) for kind in range(len(_KIND_DELIMITERS)))
_MARK_SET: Final = frozenset(_DELIMITERS)
_CLOSER_SET: Final = _MARK_SET - _OPENER_SET

# Context kinds: where gathered inline text and finished blocks go.
_FLOW: Final = 0  # root, blockquote: blocks separated by blank lines
_ITEM: Final = 1  # li: like _FLOW, but a paragraph and its sub-list stay on adjacent lines (a tight item)
_LIST: Final = 2  # ul/ol: every block that arrives becomes an item
_TABLE: Final = 3  # table: rows of cells; stray blocks are written before the table
_INLINE: Final = 4  # heading, cell, caption: one line, blocks inside are flattened

# Block kinds, remembered per context to choose separators and list bullets.
_B_NONE: Final = 0
_B_PARA: Final = 1
_B_LIST: Final = 2
_B_LIST_INTERRUPTS: Final = 3  # a list CommonMark lets interrupt a paragraph: bullets, or numbered from 1
_B_OTHER: Final = 4

_MIN_FENCE: Final = 3
_MAX_LIST_NUMBER: Final = 999_999_999  # CommonMark list numbers have at most nine digits
_MAX_COLSPAN: Final = 100  # a hostile colspan must not blow a row up to millions of cells
_HEADING_MARKS: Final = ("#", "##", "###", "####", "#####", "######")
_HTML_WHITESPACE: Final = " \t\n\r\f"
_MD_WHITESPACE: Final = frozenset("\t\n\x0b\x0c\r \xa0\u1680\u202f\u205f\u3000" + _BR) | frozenset(
    chr(code) for code in range(0x2000, 0x200B)
)
_LINE_START_RISK: Final = frozenset("#>-+=|:0123456789")
_C_OTHER: Final = 0
_C_SPACE: Final = 1
_C_PUNCT: Final = 2
_ASCII_CLASS: Final[Mapping[str, int]] = MappingProxyType(
    {chr(code): _C_OTHER for code in range(128)}
    | dict.fromkeys(_MD_WHITESPACE & frozenset(map(chr, range(128))), _C_SPACE)
    | dict.fromkeys("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", _C_PUNCT)
    | {_BR: _C_SPACE}
)

_WS_RE: Final = re.compile(r"[ \t\n\r\f]+")
# `*`, backticks and brackets always; the rest where their neighbours in the text node make them markup: a
# backslash that would escape what follows, `_` at a word edge, `<` that could open a tag or autolink, `&`
# that reads as an entity, `~` that could start strikethrough. Readable punctuation (`-`, `.`, `'`, `!`, `#`
# mid-line) is left alone; line starts are handled per paragraph.
_ESCAPE_RE: Final = re.compile(
    r"[*`\[\]]|\\(?=[!-/:-@\[-`{-~\s]|$)|(?<![^\W_])_|_(?![^\W_])|<(?=[A-Za-z/!?]|$)"
    r"|&(?=#?[A-Za-z0-9]+;|$)|~(?![0-9\s])|(?<=~)~|^~"
)
# At a line start: an ATX heading, a quote, a bullet, a setext underline or thematic break (or a table
# delimiter row under a line with pipes), an ordered-list marker.
_LINE_START_RE: Final = re.compile(
    r"^(?:#{1,6}(?=[ \t]|$)|>|[-+=](?=[ \t]|$)|[-=|:](?=[-=|: \t]*$)|[0-9]{1,9}[.)](?=[ \t]|$))", re.M
)
_HEADING_TAIL_RE: Final = re.compile(r"(^|[ \t])(#+)$")
_CONTENT_LINE_RE: Final = re.compile(r"^(?=.)", re.M)
_BACKTICKS_RE: Final = re.compile(r"`+")
_LANGUAGE_RE: Final = re.compile(r"(?:^|\s)(?:language|lang)-([\w+#.-]+)")
_URL_ESCAPE_RE: Final = re.compile(r"\\(?=[!-/:-@\[-`{-~])|&(?=#?[A-Za-z0-9]+;)")
_URL_DROP_RE: Final = re.compile(r"[\t\n\r]")


class _Ctx:
    """A block context: inline pieces being gathered, and the finished blocks or items or rows."""

    # Class-level defaults: most contexts (paragraph-holding li, headings) never set these, and a context is
    # made per li, so the constructor only creates what every context uses.
    space = True  # the next text's leading space is dropped: at a block start or after a space
    marks = False  # the buffer holds emphasis to resolve
    last = _B_NONE
    last_marker = ""
    level = 0
    span = 1
    ordered = False
    implicit = False
    number = 1
    start = 1
    marker = "-"
    head_row = -1
    in_head = 0
    items: list[str]
    rows: list[list[str]]

    def __init__(self, kind: int, parent: _Ctx | None) -> None:
        """Start an empty context of ``kind`` that reports to ``parent``."""
        self.kind = kind
        self.parent = parent
        self.buf: list[str] = []
        self.opened: list[_Inline] = []
        self.out: list[str] = []


class _Inline:
    """An open inline element (emphasis or link) whose content starts at ``start`` in its context's buffer."""

    __slots__ = ("ctx", "demoted", "href", "kind", "start", "title")

    def __init__(self, kind: int, ctx: _Ctx, start: int, href: str = "", title: str | None = None) -> None:
        """Record an inline element opened in ``ctx``."""
        self.kind = kind
        self.ctx = ctx
        self.start = start
        self.href = href
        self.title = title
        self.demoted = False


_ExitFn = Callable[["_Walker", Any], None]
_Frame = tuple[_ExitFn | None, LexborNode, Any]


class _Walker:
    """Traversal state: the innermost context and the stack of open elements."""

    __slots__ = ("ctx", "root", "stack")

    def __init__(self) -> None:
        """Start at an empty root context."""
        self.root = _Ctx(_FLOW, None)
        self.ctx = self.root
        self.stack: list[_Frame] = []


# --- text ---------------------------------------------------------------------------------------------------


def _backslash(match: re.Match[str]) -> str:
    """The match with a backslash before it (a callable: ``re`` expands string templates in Python)."""
    return "\\" + match.group()


def _has_special(text: str) -> bool:
    """Whether text may need escaping; substring tests are far cheaper than a regex scan."""
    return (
        "_" in text
        or "[" in text
        or "*" in text
        or "&" in text
        or "<" in text
        or "\\" in text
        or "`" in text
        or "]" in text
        or "~" in text
    )


def _escape(text: str) -> str:
    """Escape Markdown-significant characters of one whitespace-collapsed text node."""
    return _ESCAPE_RE.sub(_backslash, text) if _has_special(text) else text


def _code_span(code: str) -> str:
    """Wrap collapsed, stripped code in a backtick fence longer than any backtick run inside it."""
    fence = "`" * (max(map(len, _BACKTICKS_RE.findall(code)), default=0) + 1)
    pad = " " if code[0] == "`" or code[-1] == "`" else ""
    return f"{fence}{pad}{code}{pad}{fence}"


def _add_code_span(ctx: _Ctx, raw: str) -> None:
    """Append inline code; its outer whitespace goes outside the backticks, where it renders as a space."""
    collapsed = _WS_RE.sub(" ", raw)
    if not collapsed:
        return
    code = collapsed.strip(" ")
    if collapsed[0] == " " and not ctx.space:
        ctx.buf.append(" ")
        ctx.space = True
    if not code:
        return
    buf = ctx.buf
    buf.append(_code_span(code))
    if collapsed[-1] == " ":
        ctx.buf.append(" ")
    ctx.space = collapsed[-1] == " "


def _raw_text(node: LexborNode) -> str:
    """The text of a code element, unescaped: a newline for each br and around each block inside it."""
    child = node.first_child
    if child is None:
        return ""
    if child.next is None and child.tag == "-text":
        return child.text_content or ""
    parts: list[str] = []
    stack: list[LexborNode] = []
    while True:
        if child is None:
            if not stack:
                return "".join(parts)
            element = stack.pop()
            if element.tag in _RAW_BREAK_TAGS:
                parts.append("\n")
            child = element.next
            continue
        tag = child.tag
        if tag == "-text":
            parts.append(child.text_content or "")
        elif tag is not None and tag not in _RAW_SKIP_TAGS:
            if tag in _RAW_BREAK_TAGS:
                parts.append("\n")
            if tag != "br":
                stack.append(child)
                child = child.first_child
                continue
        child = child.next


def _destination(url: str) -> str:
    """A link destination: bare when it is safe, else in angle brackets."""
    # Substring tests: a regex or isprintable() scan of a long URL costs more than the rest of the link.
    if not (
        " " in url
        or "(" in url
        or ")" in url
        or "&" in url
        or "\\" in url
        or "<" in url
        or ">" in url
        or "\n" in url
        or "\t" in url
        or "\r" in url
    ):
        return url
    url = _URL_ESCAPE_RE.sub(_backslash, _URL_DROP_RE.sub("", url))
    if not url or any(char in url for char in " ()<>\xa0"):
        return "<" + url.replace("<", "\\<").replace(">", "\\>") + ">"
    return url


def _title(title: str | None) -> str:
    """A link title suffix, or "" without one."""
    if not title or not (title := _WS_RE.sub(" ", title).strip(" ")):
        return ""
    title = _URL_ESCAPE_RE.sub(_backslash, title.replace("\\", "\\\\")).replace('"', '\\"')
    return f' "{title}"'


# --- emphasis resolution ------------------------------------------------------------------------------------
# Works on the buffer's pieces, not on the joined text: a paragraph is hundreds of characters but has only a
# handful of marks, and only the characters next to marks matter.


def _is_punctuation(char: str) -> bool:
    """CommonMark 0.31 punctuation: Unicode P* and S* categories (ASCII punctuation is among them)."""
    return unicodedata.category(char)[0] in "PS"


def _char_class(char: str) -> int:
    """Whitespace, punctuation or other, as CommonMark's flanking rules see a character."""
    found = _ASCII_CLASS.get(char)
    if found is not None:
        return found
    if char in _MD_WHITESPACE:
        return _C_SPACE
    return _C_PUNCT if _is_punctuation(char) else _C_OTHER


def _flanking(before: str, after: str) -> tuple[bool, bool]:
    """Whether a delimiter run between ``before`` and ``after`` is left- and right-flanking."""
    before_class = _char_class(before)
    after_class = _char_class(after)
    left = after_class != _C_SPACE and (after_class != _C_PUNCT or before_class != _C_OTHER)
    right = before_class != _C_SPACE and (before_class != _C_PUNCT or after_class != _C_OTHER)
    return left, right


def _written_if_simple(pieces: list[str], before: str, after: str) -> list[str] | None:
    """The pieces with marks written as delimiters if none needs tidying and all pair as nested, else None."""
    # That holds when each mark stands alone, an opener has no space after it and can only open, and a closer
    # has no space before it and can only close: a CommonMark parser then pairs each closer with the nearest
    # opener, which is exactly the HTML nesting. It is the common case, and one cheap pass.
    written = pieces[:]
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        if piece not in _MARK_SET:
            continue
        previous = pieces[index - 1] if index else ""
        following = pieces[index + 1] if index < last else ""
        if previous in _MARK_SET or following in _MARK_SET or previous == _BR or following == _BR:
            return None
        opener = piece in _OPENER_SET
        if (following[:1] if opener else previous[-1:]) == " ":
            return None
        left, right = _flanking(previous[-1] if previous else before, following[0] if following else after)
        if left == right or left != opener:
            return None
        written[index] = _DELIMITERS[piece]
    return written


def _tidy_pieces(pieces: list[str]) -> None:
    """Move spaces and breaks out of emphasis, drop empty emphasis and join touching emphasis of one kind."""
    changed = True
    while changed:
        changed = False
        index = 0
        while index < len(pieces):
            piece = pieces[index]
            if piece in _OPENER_SET and index + 1 < len(pieces):
                following = pieces[index + 1]
                if following == chr(ord(piece) + 1):
                    del pieces[index : index + 2]
                    changed = True
                    continue
                if following == _BR:
                    pieces[index : index + 2] = [following, piece]
                    changed = True
                elif following[0] == " " and following not in _MARK_SET:
                    pieces[index : index + 2] = [" ", piece, following[1:]] if following[1:] else [" ", piece]
                    changed = True
            elif piece in _CLOSER_SET:
                if index + 1 < len(pieces) and pieces[index + 1] == chr(ord(piece) - 1):
                    del pieces[index : index + 2]
                    changed = True
                    continue
                if index:
                    previous = pieces[index - 1]
                    if previous == _BR:
                        pieces[index - 1 : index + 1] = [piece, previous]
                        changed = True
                    elif previous[-1] == " " and previous not in _MARK_SET:
                        kept = [previous[:-1]] if previous[:-1] else []
                        pieces[index - 1 : index + 1] = [*kept, piece, " "]
                        changed = True
            index += 1


class _Delimiter:
    """One delimiter as markdown-it's inline parser sees it (a `*` character, or a `~~` pair)."""

    __slots__ = ("can_close", "can_open", "end", "length", "mark", "marker", "token")

    def __init__(self, marker: str, length: int, token: int, flanks: tuple[bool, bool], mark: int) -> None:
        """Record a delimiter of run ``length`` at ``token``, made from the mark piece at index ``mark``."""
        self.marker = marker
        self.length = length
        self.token = token
        self.can_open, self.can_close = flanks
        self.end = -1
        self.mark = mark


_Run = tuple[int, int, int, bool, bool]


def _delimiter_runs(pieces: list[str], before: str, after: str) -> list[_Run]:
    """Each delimiter run among the mark pieces: first and end index, token number, left-/right-flanking."""
    runs: list[_Run] = []
    token = 0
    size = len(pieces)
    index = 0
    while index < size:
        if pieces[index] not in _MARK_SET:
            index += 1
            continue
        first = index
        while index < size and pieces[index] in _MARK_SET:
            index += 1
        # Text lies between two runs, so their tokens are not adjacent; a hard break is `\` + newline.
        token += 2
        outer_before = pieces[first - 1][-1] if first else before
        outer_after = pieces[index][0] if index < size else after
        if outer_before == _BR:
            outer_before = "\n"
        if outer_after == _BR:
            outer_after = "\\"
        group = first
        # Delimiter runs are maximal runs of one character, so `**` next to `~~` are two runs.
        while group < index:
            char = _DELIMITER_CHAR[pieces[group]]
            group_end = group + 1
            while group_end < index and _DELIMITER_CHAR[pieces[group_end]] == char:
                group_end += 1
            left, right = _flanking(
                outer_before if group == first else _DELIMITER_CHAR[pieces[group - 1]],
                outer_after if group_end == index else _DELIMITER_CHAR[pieces[group_end]],
            )
            runs.append((group, group_end, token, left, right))
            token += sum(_DELIMITER_TOKENS[piece] for piece in pieces[group:group_end])
            group = group_end
    return runs


def _delimiters(pieces: list[str], runs: list[_Run]) -> list[_Delimiter]:
    """The delimiters markdown-it makes of the runs: one per `*` character, one per `~~`."""
    delimiters: list[_Delimiter] = []
    for first, stop, token, left, right in runs:
        if _DELIMITER_CHAR[pieces[first]] == "~":
            # markdown-it's strikethrough makes one delimiter per `~~`, exempt from the rule of 3.
            for offset, index in enumerate(range(first, stop)):
                delimiters.append(_Delimiter("~", 0, token + offset, (left, right), index))
            continue
        length = sum(_DELIMITER_TOKENS[piece] for piece in pieces[first:stop])
        for index in range(first, stop):
            for _ in range(_DELIMITER_TOKENS[pieces[index]]):
                delimiters.append(_Delimiter("*", length, token, (left, right), index))
                token += 1
    return delimiters


def _match_delimiters(delimiters: list[_Delimiter]) -> None:
    """Pair delimiters exactly as markdown-it's ``balance_pairs`` does (setting ``end`` on openers)."""
    bottoms: dict[str, list[int]] = {}
    jumps: list[int] = []
    header = 0
    last_token = -2
    for closer_index, closer in enumerate(delimiters):
        jumps.append(0)
        if delimiters[header].marker != closer.marker or last_token != closer.token - 1:
            header = closer_index
        last_token = closer.token
        if not closer.can_close:
            continue
        bottom = bottoms.setdefault(closer.marker, [-1] * 6)
        slot = (3 if closer.can_open else 0) + closer.length % 3
        opener_index = header - jumps[header] - 1
        lowest = opener_index
        while opener_index > bottom[slot]:
            opener = delimiters[opener_index]
            if opener.marker == closer.marker and opener.can_open and opener.end < 0:
                odd = (
                    (opener.can_close or closer.can_open)
                    and (opener.length + closer.length) % 3 == 0
                    and (opener.length % 3 != 0 or closer.length % 3 != 0)
                )
                if not odd:
                    previous_closes = opener_index > 0 and not delimiters[opener_index - 1].can_open
                    last_jump = jumps[opener_index - 1] + 1 if previous_closes else 0
                    jumps[closer_index] = closer_index - opener_index + last_jump
                    jumps[opener_index] = last_jump
                    closer.can_open = False
                    opener.end = closer_index
                    opener.can_close = False
                    lowest = -1
                    last_token = -2
                    break
            opener_index -= jumps[opener_index] + 1
        if lowest != -1:
            bottom[slot] = lowest


def _mismatched_marks(pieces: list[str], before: str, after: str) -> set[int]:
    """Indexes of mark pieces that a CommonMark parser would not pair the way the HTML nested them."""
    runs = _delimiter_runs(pieces, before, after)
    # Runs that can only open holding only openers, and runs that can only close holding only closers, pair
    # by nearest opener, which is exactly the HTML nesting; only other runs need the parser's algorithm.
    if all(
        left != right and all((piece in _OPENER_SET) == left for piece in pieces[first:stop])
        for first, stop, _, left, right in runs
    ):
        return set()
    delimiters = _delimiters(pieces, runs)
    _match_delimiters(delimiters)
    by_mark: dict[int, list[int]] = {}
    for index, delimiter in enumerate(delimiters):
        by_mark.setdefault(delimiter.mark, []).append(index)
    bad: set[int] = set()
    open_marks: list[int] = []
    for mark, indexes in by_mark.items():
        if pieces[mark] in _OPENER_SET:
            open_marks.append(mark)
            continue
        opener_mark = open_marks.pop() if open_marks else -1
        if opener_mark < 0 or ord(pieces[opener_mark]) + 1 != ord(pieces[mark]):
            bad.update((mark, opener_mark))
            continue
        # The parser pairs from the inside out: the closer's first character with the opener's last.
        for opener_index, closer_index in zip(reversed(by_mark[opener_mark]), indexes, strict=True):
            opener = delimiters[opener_index]
            if opener.end != closer_index or delimiters[closer_index].end >= 0:
                bad.update((opener.mark, mark))
                for stray in (opener.end, delimiters[closer_index].end):
                    if stray >= 0:
                        bad.add(delimiters[stray].mark)
    return bad


def _drop_marks(pieces: list[str], bad: set[int]) -> list[str]:
    """The pieces without the given marks, their partners, or any unpaired mark."""
    keep = [True] * len(pieces)
    open_indexes: list[int] = []
    for index, piece in enumerate(pieces):
        if piece in _OPENER_SET:
            open_indexes.append(index)
        elif piece in _CLOSER_SET:
            partner = open_indexes.pop() if open_indexes else -1
            if partner < 0 or ord(pieces[partner]) + 1 != ord(piece):
                keep[index] = False
            elif index in bad or partner in bad:
                keep[index] = keep[partner] = False
    for index in open_indexes:
        keep[index] = False
    return [piece for piece, kept in zip(pieces, keep, strict=True) if kept]


def _resolve(pieces: list[str], before: str = " ", after: str = " ") -> str:
    """Join pieces with marks as delimiters, dropping emphasis a CommonMark parser would pair otherwise."""
    # `before` and `after` are what the parser sees around the text: a space at the edges of a paragraph,
    # heading or cell; `[` and the end of input (read as a space) for a link's text.
    pieces = [piece for piece in pieces if piece]
    written = _written_if_simple(pieces, before, after)
    if written is None:
        _tidy_pieces(pieces)
        while bad := _mismatched_marks(pieces, before, after):
            pieces = _drop_marks(pieces, bad)
            _tidy_pieces(pieces)
        written = [_DELIMITERS.get(piece, piece) for piece in pieces]
    return _join(written)


def _join(pieces: list[str]) -> str:
    """Join inline pieces; code spans that ended up touching (a dropped mark between) become one span."""
    text = "".join(pieces)
    if "``" not in text:
        return text
    # Only code spans make pieces that start with a backtick: text escapes its backticks.
    merged: list[str] = []
    for piece in pieces:
        if piece[:1] == "`" and merged and merged[-1][:1] == "`":
            piece = _code_span(_unfence(merged.pop()) + _unfence(piece))
        if piece:
            merged.append(piece)
    return "".join(merged)


def _unfence(span: str) -> str:
    """The code inside a span written by ``_code_span``."""
    fence = len(span) - len(span.lstrip("`"))
    code = span[fence:-fence]
    return code[1:-1] if code[0] == " " else code


# --- blocks -------------------------------------------------------------------------------------------------


def _take_inline(ctx: _Ctx) -> str:
    """Empty the context's inline buffer into one string with emphasis resolved."""
    if ctx.marks:
        ctx.marks = False
        text = _resolve(ctx.buf)
    else:
        text = _join(ctx.buf)
    ctx.buf = []
    ctx.space = True
    return text


def _escape_line_start(match: re.Match[str]) -> str:
    """Backslash the character that would make a line a heading, quote, list item, rule or underline."""
    found = match.group(0)
    if found[0].isdigit():
        return found[:-1] + "\\" + found[-1]
    return "\\" + found


def _paragraph(text: str) -> str:
    """Finish paragraph text: hard breaks written out, edges trimmed, line starts made safe."""
    if _BR in text:
        # Breaks at the edges go, a run of breaks is one, and spaces around a break are dropped.
        text = "\\\n".join(line for line in (part.strip(" ") for part in text.split(_BR)) if line)
    else:
        text = text.strip(" ")
    if not text or text.isspace():
        return ""
    if text[0] in _LINE_START_RISK or "\n" in text:
        text = _LINE_START_RE.sub(_escape_line_start, text)
    return text


def _demote(ctx: _Ctx) -> None:
    """Turn open inline elements into plain wrappers: a block is starting inside them."""
    for inline in ctx.opened:
        inline.demoted = True
        if inline.kind != _LINK:
            ctx.buf[inline.start] = ""
    ctx.opened = []


def _add_block(ctx: _Ctx, text: str, kind: int) -> None:
    """Append a finished block to a context (as an item when the context is a list)."""
    if ctx.kind == _LIST:
        _add_item(ctx, text)
        return
    out = ctx.out
    if out:
        # A sub-list right under an item's paragraph stays tight; elsewhere blocks get one blank line.
        tight = ctx.kind == _ITEM and kind == _B_LIST_INTERRUPTS and ctx.last == _B_PARA
        out.append("\n" if tight else "\n\n")
    out.append(text)
    ctx.last = kind


def _add_item(lst: _Ctx, text: str) -> None:
    """Append an item to a list, its continuation lines indented by the width of its marker."""
    if lst.ordered:
        marker = f"{lst.number}{lst.marker}"
        lst.number = min(lst.number + 1, _MAX_LIST_NUMBER)
    else:
        marker = lst.marker
    first, _, rest = text.partition("\n")
    item = f"{marker} {first}"
    if rest:
        item += "\n" + _CONTENT_LINE_RE.sub(" " * (len(marker) + 1), rest)
    lst.items.append(item)


def _flush(ctx: _Ctx) -> None:
    """End the paragraph being gathered in a block context, if any."""
    if ctx.opened:
        _demote(ctx)
    if ctx.buf:
        text = _paragraph(_take_inline(ctx))
        if not text:
            return
        out = ctx.out
        # The common case of _add_block, inline: a paragraph into a flow context.
        if ctx.kind == _LIST:
            _add_item(ctx, text)
            return
        if out:
            out.append("\n\n")
        out.append(text)
        ctx.last = _B_PARA


def _boundary(ctx: _Ctx) -> None:
    """A block starts or ends: a paragraph break, or a space on a one-line context."""
    if ctx.kind == _INLINE:
        if not ctx.space:
            ctx.buf.append(" ")
            ctx.space = True
    elif ctx.buf or ctx.opened:
        _flush(ctx)


def _close_list(walker: _Walker, lst: _Ctx) -> None:
    """Write a finished list into its parent."""
    _flush(lst)
    parent = lst.parent
    assert parent is not None
    walker.ctx = parent
    if not lst.items:
        return
    loose = any("\n\n" in item for item in lst.items)
    text = ("\n\n" if loose else "\n").join(lst.items)
    interrupts = not lst.ordered or lst.start == 1
    _add_block(parent, text, _B_LIST_INTERRUPTS if interrupts else _B_LIST)
    parent.last_marker = lst.marker


def _open_list(walker: _Walker, ordered: bool, start: int) -> _Ctx:
    """Open a list context; a list right after a list of the same kind switches bullet so they stay apart."""
    parent = walker.ctx
    lst = _Ctx(_LIST, parent)
    lst.items = []
    lst.ordered = ordered
    lst.number = lst.start = start
    lst.marker = "." if ordered else "-"
    if parent.last in (_B_LIST, _B_LIST_INTERRUPTS) and parent.last_marker == lst.marker:
        lst.marker = ")" if ordered else "*"
    walker.ctx = lst
    return lst


# --- element handlers: enter returns True to descend (after pushing a frame); exit runs after the children


def _enter_transparent(walker: _Walker, node: LexborNode) -> bool:
    """Descend without markup (span, u, font, unknown elements)."""
    walker.stack.append((None, node, None))
    return True


def _enter_skip(walker: _Walker, node: LexborNode) -> bool:
    """Drop the element and everything in it."""
    return False


def _exit_block(walker: _Walker, payload: None) -> None:
    """End a paragraph at the close of a block element."""
    _boundary(walker.ctx)


def _enter_block(walker: _Walker, node: LexborNode) -> bool:
    """A block container: its content starts and ends paragraphs."""
    _boundary(walker.ctx)
    walker.stack.append((_exit_block, node, None))
    return True


def _escape_heading_tail(match: re.Match[str]) -> str:
    """Backslash a trailing `#` run that would read as the heading's closing sequence."""
    return match.group(1) + "\\" + match.group(2)


def _exit_heading(walker: _Walker, heading: _Ctx) -> None:
    """Write an ATX heading; a trailing `#` run is escaped so it is not read as a closing sequence."""
    parent = heading.parent
    assert parent is not None
    walker.ctx = parent
    text = _take_inline(heading).strip(" ")
    if text:
        if text[-1] == "#":
            text = _HEADING_TAIL_RE.sub(_escape_heading_tail, text)
        _add_block(parent, f"{_HEADING_MARKS[heading.level - 1]} {text}", _B_OTHER)


def _heading_enter(level: int) -> Callable[[_Walker, LexborNode], bool]:
    """Build the enter handler for one heading level."""

    def enter(walker: _Walker, node: LexborNode) -> bool:
        ctx = walker.ctx
        if ctx.kind == _INLINE:
            return _enter_block(walker, node)
        _flush(ctx)
        heading = _Ctx(_INLINE, ctx)
        heading.level = level
        walker.ctx = heading
        walker.stack.append((_exit_heading, node, heading))
        return True

    return enter


def _exit_quote(walker: _Walker, quote: _Ctx) -> None:
    """Write a blockquote: `> ` before every line, a bare `>` on blank ones."""
    _flush(quote)
    parent = quote.parent
    assert parent is not None
    walker.ctx = parent
    if quote.out:
        text = "".join(quote.out)
        # A split per line, not a regex per line start: a deeply nested quote re-prefixes its text per level.
        if "\n" in text:
            text = "\n".join(["> " + line if line else ">" for line in text.split("\n")])
        else:
            text = "> " + text
        _add_block(parent, text, _B_OTHER)


def _enter_quote(walker: _Walker, node: LexborNode) -> bool:
    """Open a blockquote context."""
    ctx = walker.ctx
    if ctx.kind == _INLINE:
        return _enter_block(walker, node)
    _flush(ctx)
    walker.ctx = _Ctx(_FLOW, ctx)
    walker.stack.append((_exit_quote, node, walker.ctx))
    return True


def _exit_list(walker: _Walker, lst: _Ctx) -> None:
    """Close a ul/ol."""
    _close_list(walker, lst)


def _list_enter(ordered: bool) -> Callable[[_Walker, LexborNode], bool]:
    """Build the enter handler for ul (and menu, dir) or ol."""

    def enter(walker: _Walker, node: LexborNode) -> bool:
        ctx = walker.ctx
        if ctx.kind == _INLINE:
            return _enter_block(walker, node)
        _flush(ctx)
        start = 1
        if ordered:
            raw_start = node.attrs.get("start")
            if raw_start and raw_start.strip().isdigit():
                start = min(int(raw_start), _MAX_LIST_NUMBER)
        walker.stack.append((_exit_list, node, _open_list(walker, ordered, start)))
        return True

    return enter


def _exit_item(walker: _Walker, item: _Ctx) -> None:
    """Hand a finished li to its list (an empty li is dropped)."""
    _flush(item)
    lst = item.parent
    assert lst is not None
    walker.ctx = lst
    if item.out:
        _add_item(lst, "".join(item.out))
    if item.implicit:
        _close_list(walker, lst)


def _enter_item(walker: _Walker, node: LexborNode) -> bool:
    """Open an li; one outside any list gets a list of its own."""
    ctx = walker.ctx
    if ctx.kind == _INLINE:
        return _enter_block(walker, node)
    _flush(ctx)
    implicit = ctx.kind != _LIST
    if implicit:
        ctx = _open_list(walker, False, 1)
    item = _Ctx(_ITEM, ctx)
    item.implicit = implicit
    walker.ctx = item
    walker.stack.append((_exit_item, node, item))
    return True


def _enter_pre(walker: _Walker, node: LexborNode) -> bool:
    """A fenced code block with the text verbatim and the language from a `language-x`/`lang-x` class."""
    ctx = walker.ctx
    raw = _raw_text(node)
    if ctx.kind == _INLINE:
        _boundary(ctx)
        _add_code_span(ctx, raw)
        _boundary(ctx)
        return False
    _flush(ctx)
    code = raw[:-1] if raw.endswith("\n") else raw
    if not code.strip():
        return False
    language = ""
    for holder in (node, node.css_first("code")):
        found = _LANGUAGE_RE.search(holder.attrs.get("class") or "") if holder is not None else None
        if found:
            language = found.group(1)
            break
    fence = "`" * max(_MIN_FENCE, max(map(len, _BACKTICKS_RE.findall(code)), default=0) + 1)
    _add_block(ctx, f"{fence}{language}\n{code}\n{fence}", _B_OTHER)
    return False


def _enter_code(walker: _Walker, node: LexborNode) -> bool:
    """Inline code from the element's text (markup inside code is not representable)."""
    _add_code_span(walker.ctx, _raw_text(node))
    return False


def _enter_hr(walker: _Walker, node: LexborNode) -> bool:
    """A thematic break; `___` where `- ---` would itself read as a break instead of an item holding one."""
    ctx = walker.ctx
    if ctx.kind == _INLINE:
        _boundary(ctx)
        return False
    _flush(ctx)
    first_in_item = ctx.kind == _LIST or (ctx.kind == _ITEM and not ctx.out)
    _add_block(ctx, "___" if first_in_item else "---", _B_OTHER)
    return False


def _enter_br(walker: _Walker, node: LexborNode) -> bool:
    """A hard line break; a space where the context is a single line."""
    ctx = walker.ctx
    if ctx.kind == _INLINE:
        _boundary(ctx)
    else:
        ctx.buf.append(_BR)
        ctx.space = True
    return False


def _enter_img(walker: _Walker, node: LexborNode) -> bool:
    """An image, unless it has no src or an inline data: URI."""
    # One dict of all attributes: LexborAttributes.get costs as much per call, and more for a missing key.
    attrs = node.attributes
    src = (attrs.get("src") or "").strip()
    if not src or src[:5].lower() == "data:":
        return False
    alt = attrs.get("alt")
    alt = _escape(_WS_RE.sub(" ", alt).strip(" ")) if alt else ""
    ctx = walker.ctx
    ctx.buf.append(f"![{alt}]({_destination(src)}{_title(attrs.get('title'))})")
    ctx.space = False
    return False


def _exit_emphasis(walker: _Walker, inline: _Inline) -> None:
    """Close emphasis; emphasis around nothing leaves nothing."""
    if inline.demoted:
        return
    ctx = inline.ctx
    ctx.opened.pop()
    buf = ctx.buf
    if len(buf) - 1 == inline.start:
        buf.pop()
    else:
        buf.append(chr(ord(ctx.buf[inline.start]) + 1))
        # Only now is there emphasis to resolve: icon `<i>`s inside links are empty and leave nothing.
        ctx.marks = True


def _emphasis_enter(kind: int) -> Callable[[_Walker, LexborNode], bool]:
    """Build the enter handler for strong, em or del."""
    opener = chr(_MARK_BASE + 2 * kind)

    def enter(walker: _Walker, node: LexborNode) -> bool:
        ctx = walker.ctx
        # Nested emphasis of the same kind renders the same; repeating it would make `****` runs.
        for inline in ctx.opened:
            if inline.kind == kind:
                walker.stack.append((None, node, None))
                return True
        ctx.buf.append(opener)
        inline = _Inline(kind, ctx, len(ctx.buf) - 1)
        ctx.opened.append(inline)
        walker.stack.append((_exit_emphasis, node, inline))
        return True

    return enter


def _exit_link(walker: _Walker, link: _Inline) -> None:
    """Write `[text](url "title")`; a link without text is dropped, its outer spaces kept outside."""
    if link.demoted:
        return
    ctx = link.ctx
    ctx.opened.pop()
    buf = ctx.buf
    if len(buf) == link.start:
        return
    if len(buf) == link.start + 1:
        # The usual link: one text piece.
        content = buf.pop()
        label = content.strip(_SPACE_OR_BR)
    else:
        pieces = buf[link.start :]
        del buf[link.start :]
        if ctx.marks:
            pieces = [piece for piece in pieces if piece]
            _tidy_pieces(pieces)
        content = _join(pieces)
        label = content.strip(_SPACE_OR_BR)
        if label and ctx.marks and not _MARK_SET.isdisjoint(pieces):
            # Emphasis inside link text is paired within the text alone, which starts after `[`.
            while pieces and pieces[0] in _EDGE_PIECES:
                pieces.pop(0)
            while pieces and pieces[-1] in _EDGE_PIECES:
                pieces.pop()
            label = _resolve(pieces, "[").strip(_SPACE_OR_BR)
    if not label:
        if content:
            buf.append(_BR if _BR in content else " ")
            ctx.space = True
        return
    # Spaces and breaks at the edges of the text go outside the brackets, where they still separate words.
    lead = content[: len(content) - len(content.lstrip(_SPACE_OR_BR))]
    trail = content[len(content.rstrip(_SPACE_OR_BR)) :]
    if lead:
        buf.append(_BR if _BR in lead else " ")
    else:
        # `!` right before `[` would make the link an image, also when emphasis between them is dropped.
        index = len(buf) - 1
        while index >= 0 and (not buf[index] or buf[index] in _OPENER_SET):
            index -= 1
        if index >= 0 and buf[index][-1] == "!":
            buf[index] = buf[index][:-1] + "\\!"
    title = _title(link.title) if link.title else ""
    buf.append(f"[{label}]({_destination(link.href)}{title})")
    if trail:
        buf.append(_BR if _BR in trail else " ")
    ctx.space = bool(trail)


def _enter_link(walker: _Walker, node: LexborNode) -> bool:
    """Open a link; without a usable href (or with javascript:) it is just its text."""
    attrs = node.attributes
    href = (attrs.get("href") or "").strip()
    if not href or href[:11].lower() == "javascript:":
        walker.stack.append((None, node, None))
        return True
    ctx = walker.ctx
    link = _Inline(_LINK, ctx, len(ctx.buf), href, attrs.get("title"))
    ctx.opened.append(link)
    walker.stack.append((_exit_link, node, link))
    return True


def _exit_table(walker: _Walker, table: _Ctx) -> None:
    """Write stray blocks, then a GFM pipe table: header row, delimiter row, body rows padded to one width."""
    _flush(table)
    parent = table.parent
    assert parent is not None
    walker.ctx = parent
    if table.out:
        _add_block(parent, "".join(table.out), _B_OTHER)
    rows = table.rows
    head = table.head_row if table.head_row >= 0 and rows[table.head_row] else -1
    if head < 0:
        head = next((index for index, row in enumerate(rows) if row), -1)
        if head < 0:
            return
    width = max(len(row) for row in rows)
    ordered = [rows[head], ["---"] * width, *(row for index, row in enumerate(rows) if row and index != head)]
    lines = ["| " + " | ".join(row + [""] * (width - len(row))) + " |" for row in ordered]
    _add_block(parent, "\n".join(lines), _B_OTHER)


def _enter_table(walker: _Walker, node: LexborNode) -> bool:
    """Open a table context (flattened to text inside a heading or cell)."""
    ctx = walker.ctx
    if ctx.kind == _INLINE:
        return _enter_block(walker, node)
    _flush(ctx)
    table = _Ctx(_TABLE, ctx)
    table.rows = []
    walker.ctx = table
    walker.stack.append((_exit_table, node, table))
    return True


def _exit_thead(walker: _Walker, table: _Ctx) -> None:
    """Leave a thead."""
    table.in_head -= 1


def _enter_thead(walker: _Walker, node: LexborNode) -> bool:
    """Rows inside a thead are header candidates."""
    ctx = walker.ctx
    if ctx.kind != _TABLE:
        return _enter_transparent(walker, node)
    ctx.in_head += 1
    walker.stack.append((_exit_thead, node, ctx))
    return True


def _enter_row(walker: _Walker, node: LexborNode) -> bool:
    """Start a row."""
    ctx = walker.ctx
    if ctx.kind != _TABLE:
        return _enter_block(walker, node)
    _flush(ctx)
    ctx.rows.append([])
    if ctx.in_head and ctx.head_row < 0:
        ctx.head_row = len(ctx.rows) - 1
    walker.stack.append((None, node, None))
    return True


def _exit_cell(walker: _Walker, cell: _Ctx) -> None:
    """Add a cell's one-line text, pipes escaped, plus empty cells for its colspan."""
    table = cell.parent
    assert table is not None
    walker.ctx = table
    row = table.rows[-1]
    row.append(_take_inline(cell).strip(" ").replace("|", "\\|"))
    if cell.span > 1:
        row.extend([""] * (cell.span - 1))


def _enter_cell(walker: _Walker, node: LexborNode) -> bool:
    """Open a td/th as a one-line context."""
    ctx = walker.ctx
    if ctx.kind != _TABLE:
        return _enter_block(walker, node)
    _flush(ctx)
    if not ctx.rows:
        ctx.rows.append([])
    cell = _Ctx(_INLINE, ctx)
    span = (node.attrs.get("colspan") or "").strip()
    if span.isdigit():
        cell.span = max(1, min(int(span), _MAX_COLSPAN))
    walker.ctx = cell
    walker.stack.append((_exit_cell, node, cell))
    return True


def _exit_caption(walker: _Walker, caption: _Ctx) -> None:
    """A caption becomes a paragraph before its table."""
    table = caption.parent
    assert table is not None
    walker.ctx = table
    text = _paragraph(_take_inline(caption))
    if text:
        _add_block(table, text, _B_PARA)


def _enter_caption(walker: _Walker, node: LexborNode) -> bool:
    """Open a table caption as a one-line context."""
    ctx = walker.ctx
    if ctx.kind != _TABLE:
        return _enter_block(walker, node)
    _flush(ctx)
    walker.ctx = _Ctx(_INLINE, ctx)
    walker.stack.append((_exit_caption, node, walker.ctx))
    return True


_EnterFn = Callable[[_Walker, LexborNode], bool]

_BLOCK_TAGS: Final = (
    "address",
    "article",
    "aside",
    "body",
    "center",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "header",
    "hgroup",
    "html",
    "legend",
    "main",
    "nav",
    "p",
    "search",
    "section",
    "summary",
)
_SKIP_TAGS: Final = (
    "-comment",
    "-doctype",
    "area",
    "audio",
    "base",
    "button",
    "canvas",
    "col",
    "colgroup",
    "datalist",
    "embed",
    "frame",
    "frameset",
    "head",
    "iframe",
    "input",
    "link",
    "map",
    "meta",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "optgroup",
    "option",
    "param",
    "script",
    "select",
    "source",
    "style",
    "svg",
    "template",
    "textarea",
    "title",
    "track",
    "video",
)
_RAW_SKIP_TAGS: Final = frozenset(_SKIP_TAGS)
_RAW_BREAK_TAGS: Final = frozenset(
    (
        *_BLOCK_TAGS,
        "blockquote",
        "br",
        "caption",
        "dir",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "li",
        "menu",
        "ol",
        "pre",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    )
)

_ENTER: Final[Mapping[str, _EnterFn]] = MappingProxyType(
    dict.fromkeys(_BLOCK_TAGS, _enter_block)
    | dict.fromkeys(_SKIP_TAGS, _enter_skip)
    | {f"h{level}": _heading_enter(level) for level in range(1, len(_HEADING_MARKS) + 1)}
    | dict.fromkeys(("strong", "b"), _emphasis_enter(_STRONG))
    | dict.fromkeys(("em", "i"), _emphasis_enter(_EM))
    | dict.fromkeys(("del", "s", "strike"), _emphasis_enter(_DEL))
    | dict.fromkeys(("code", "kbd", "samp", "tt"), _enter_code)
    | dict.fromkeys(("ul", "menu", "dir"), _list_enter(False))
    | dict.fromkeys(("td", "th"), _enter_cell)
    | dict.fromkeys(("thead",), _enter_thead)
    | {
        "a": _enter_link,
        "blockquote": _enter_quote,
        "br": _enter_br,
        "caption": _enter_caption,
        "hr": _enter_hr,
        "img": _enter_img,
        "li": _enter_item,
        "ol": _list_enter(True),
        "pre": _enter_pre,
        "table": _enter_table,
        "tr": _enter_row,
        "wbr": _enter_skip,
    }
)


def node_to_markdown(node: LexborNode) -> str:
    """Convert the children of an already-cleaned element to CommonMark (GFM tables), "" when empty."""
    walker = _Walker()
    stack = walker.stack
    enter_for = _ENTER.get
    child = node.first_child
    while True:
        if child is None:
            if not stack:
                break
            exit_fn, element, payload = stack.pop()
            if exit_fn is not None:
                exit_fn(walker, payload)
            child = element.next
            continue
        tag = child.tag
        if tag == "-text":
            # _add_text, inline: text nodes are half of all nodes, and most are whitespace between blocks.
            text = child.text_content
            child = child.next
            if not text:
                continue
            ctx = walker.ctx
            body = text.strip(_HTML_WHITESPACE)
            if not body:
                if not ctx.space:
                    ctx.buf.append(" ")
                    ctx.space = True
                continue
            if "\n" in body or "  " in body or "\t" in body or "\f" in body or "\r" in body:
                body = _WS_RE.sub(" ", body)
            if _has_special(body):
                # Escape as if the node's trailing space were still there: `&` or `<` before a space is text.
                if text[-1] in _HTML_WHITESPACE:
                    body = _ESCAPE_RE.sub(_backslash, body + " ")[:-1]
                else:
                    body = _ESCAPE_RE.sub(_backslash, body)
            if not ctx.space and text[0] in _HTML_WHITESPACE:
                body = " " + body
            if text[-1] in _HTML_WHITESPACE:
                ctx.buf.append(body + " ")
                ctx.space = True
            else:
                ctx.buf.append(body)
                ctx.space = False
        elif tag is not None and enter_for(tag, _enter_transparent)(walker, child):
            child = child.first_child
        else:
            child = child.next
    root = walker.root
    _flush(root)
    markdown = "".join(root.out)
    return markdown + "\n" if markdown else ""
