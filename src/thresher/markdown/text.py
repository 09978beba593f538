"""Markdown → plain text, for the ``text`` field, search indexing and word counts.

Regex-based on purpose: the Markdown it reads is thresher's own output (a known, regular subset of
CommonMark), and it has to run on every page of a crawl and every file of a reindex.
"""

from __future__ import annotations

import itertools
import re

__all__ = ["markdown_to_text"]

# A link's text and destination. The text is written unrolled, `[^]\\\n]*(?:\\.[^]\\\n]*)*` rather than
# `(?:[^]\\\n]|\\.)*`: the same strings, but the engine runs over plain characters without trying an
# alternation at each one (the two substitutions 0.085 -> 0.07 ms a page).
_TEXT = r"[^\]\\\n]*(?:\\.[^\]\\\n]*)*"
_DESTINATION = r"\((?:<[^>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+\"[^\"\n]*\")?\)"
_IMAGE = re.compile(rf"!\[{_TEXT}\]{_DESTINATION}")
_LINK = re.compile(rf"\[({_TEXT})\]{_DESTINATION}")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^>\s]+)>")
# Inline markup left after links: escapes (kept as their character), emphasis/strike runs, code backticks.
# thresher's Markdown writes emphasis with `*` only and escapes literal `_`, so `_` is left alone.
# Every alternative starts with a literal character, so the regex engine can skip ahead to the next `\`,
# backtick, `*` or `~` instead of trying each alternative at every position (5x faster on our pages).
_INLINE = re.compile(r"\\([!-/:-@\[-`{-~])|`(`*)(.+?)`\2|\*\**|~~|``*")
_ORDERED = re.compile(r"\d{1,9}[.)](?:[ \t]+|$)")
_TABLE_RULE = re.compile(r"^\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?$")
_THEMATIC = re.compile(r"^(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,}|=+)$")
_PIPE = re.compile(r"(?<!\\)\|")
_SPACES = re.compile(r"[ \t]{2,}")
_CODE_MARK = "\x00"  # prefixes code lines while inline markup is removed (NUL never occurs in text)
_BLOCK_START = frozenset("#>-*+|0123456789`~= \t_")


def _inline(match: re.Match[str]) -> str:
    """An escape gives its character, a code span its verbatim content, other markup nothing."""
    if match.group(3) is not None:
        return match.group(3).strip()
    return match.group(1) or ""


# What an escape can give: ASCII punctuation, the class of _INLINE's first alternative.
_ESCAPABLE = frozenset(chr(code) for code in range(0x21, 0x7F) if not chr(code).isalnum())


def _drop_runs(text: str) -> str:
    """Drop ``*`` runs and ``~~`` pairs; pairs first, as _INLINE pairs them ("~*~" keeps its "~~")."""
    return text.replace("~~", "").replace("*", "") if "*" in text or "~" in text else text


def _inline_without_code(text: str) -> str:
    """``_INLINE.sub(_inline, text)`` for a text without a backtick, where no code span can match.

    The text is split at its backslashes; between them only emphasis and strike runs can match, and
    ``str.replace`` drops those in C. The regex called back into Python for each match (~50 a page).
    """
    parts = text.split("\\")
    out = [_drop_runs(parts[0])]
    escaped = False  # the backslash before this part is the character a "\\" pair gives (written already)
    for part in itertools.islice(parts, 1, None):
        if escaped:
            escaped = False
            out.append(_drop_runs(part))
        elif not part:  # the next backslash is escaped (or this one ends the text and stays)
            out.append("\\")
            escaped = True
        elif part[0] in _ESCAPABLE:
            out.append(part[0])
            out.append(_drop_runs(part[1:]))
        else:  # before a letter, a space or a line break a backslash is text
            out.append("\\")
            out.append(_drop_runs(part))
    return "".join(out)


def _inline_markup(text: str) -> str:
    """Remove inline markup everywhere but in code-block lines (marked with ``_CODE_MARK``)."""
    if _CODE_MARK not in text:
        return _INLINE.sub(_inline, text) if "`" in text else _inline_without_code(text)
    return "\n".join(
        line if line.startswith(_CODE_MARK) else _INLINE.sub(_inline, line) for line in text.split("\n")
    )


def markdown_to_text(markdown: str) -> str:
    """The readable text of a Markdown body: markup removed, image alt texts dropped, blocks kept apart.

    Line-oriented with a fast path for plain paragraph lines: it runs on every extracted page.
    """
    if not markdown:
        return ""
    text = _IMAGE.sub("", markdown) if "![" in markdown else markdown
    text = _LINK.sub(r"\1", text) if "](" in text else text
    text = _AUTOLINK.sub(r"\1", text) if "<" in text else text
    out: list[str] = []
    fence = ""
    for line in text.split("\n"):
        if fence:
            if line.lstrip().startswith(fence):
                fence = ""
            else:
                out.append(_CODE_MARK + line)
            continue
        if not line or line[0] not in _BLOCK_START:
            out.append(line)
            continue
        s = line.strip()
        if s.startswith(("```", "~~~")):
            fence = s[:3]
            continue
        while s.startswith(">"):
            s = s[1:].lstrip()
        if s.startswith("#"):
            s = s.lstrip("#").strip().rstrip("#").rstrip()
        elif s[:2] in ("- ", "* ", "+ ") or s in ("-", "*", "+"):
            s = s[2:]
        elif s[:1].isdigit() and (m := _ORDERED.match(s)):
            s = s[m.end() :]
        if s.startswith("|") or s.endswith("|"):
            if _TABLE_RULE.match(s):
                continue
            s = _PIPE.sub(" ", s.strip("|"))
        elif s and s[0] in "*-_=" and _THEMATIC.match(s):
            continue
        out.append(_SPACES.sub(" ", s).strip() if "  " in s or "\t" in s else s.strip())
    lines: list[str] = []
    blank = True
    for line in _inline_markup("\n".join(out)).split("\n"):
        if line:
            if line[0] == _CODE_MARK:
                line = line[1:].rstrip()
            elif line[-1] == " " or line[-1] == "\\":
                line = line.rstrip().rstrip("\\").rstrip()
        if line:
            lines.append(line)
            blank = False
        elif not blank:
            lines.append("")
            blank = True
    return "\n".join(lines).strip()
