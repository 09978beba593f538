"""Body element → Markdown through the maintained html-to-markdown converter.

html-to-markdown (Rust) is the default: on the devset it is faster than walking the Lexbor tree in
Python (bench numbers in the commit that chose it). It gives up on pathologically deep trees (it returns
nothing for 10,000 nested elements), so those fall back to :mod:`.converter`, which is iterative.
"""

from __future__ import annotations

import re
from typing import Any

import html_to_markdown
from html_to_markdown import _html_to_markdown as _rust
from html_to_markdown import api as _api

from .converter import node_to_markdown

__all__ = ["body_to_markdown"]

# Escaping on: the output must be valid CommonMark whose rendering is the page's text, so literal `*`, `_`,
# `<` and line-leading `1.`/`#` in the text must not turn into markup or raw HTML.
_OPTIONS = html_to_markdown.ConversionOptions(
    heading_style="atx",
    bullets="-",
    code_block_style="backticks",
    escape_asterisks=True,
    escape_underscores=True,
    escape_misc=False,  # it escapes every "-" and "." ("USB\\-C 3\\.2"); the one risk, "<", is handled below
    autolinks=False,
    extract_metadata=False,
    infer_dimensions=False,
    preprocessing=html_to_markdown.PreprocessingOptions(enabled=False),
    newline_style="backslash",
    inline_data_media="drop_element",
)
# Converted to the Rust options object once: html_to_markdown.convert() rebuilds it on every call, which costs
# about a tenth of the conversion itself on our pages.
_RUST_OPTIONS = _api._to_rust_conversion_options(_OPTIONS)
_BLANK_RUNS = re.compile(r"\n{3,}")
# A "<" that CommonMark could read as the start of raw HTML (tag, comment, declaration), except an
# angle-bracket link destination "](<…>)" that the converter writes itself.
_HTML_START = re.compile(r"(?<!\]\()(?<!\\)<(?=[A-Za-z/!?])")
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TRAILING = re.compile(r"[ \t]+$", re.M)


def body_to_markdown(node: Any) -> str:
    """Convert a cleaned body element (a Lexbor node) to normalised Markdown ending in one newline."""
    html = node.inner_html or ""
    if not html.strip():
        return ""
    content = _rust.convert(html=html, options=_RUST_OPTIONS, visitor=None).content or ""
    # The regexes only where they have work: `[ \t]+$` tries every space of the text (0.3 ms a page).
    if " \n" in content or "\t\n" in content or content.endswith((" ", "\t")):
        content = _TRAILING.sub("", content)
    if "\n\n\n" in content:
        content = _BLANK_RUNS.sub("\n\n", content)
    content = content.strip("\n")
    if "<" in content or _quote_after_text(content):
        content = _tidy(content)
    if not content and node.text(deep=True).strip():
        return node_to_markdown(node)
    return content + "\n" if content else ""


def _quote_after_text(markdown: str) -> bool:
    """Whether some ``>`` line directly follows a non-blank line that is not itself a quote line.

    A prefilter for :func:`_tidy` (which also knows about code fences): most pages with block quotes
    already have the blank line, and a line-by-line pass over the whole text is not free.
    """
    index = markdown.find("\n>")
    while index >= 0:
        start = markdown.rfind("\n", 0, index) + 1
        if index > start and markdown[start] != ">":
            return True
        index = markdown.find("\n>", index + 2)
    return False


def _tidy(markdown: str) -> str:
    """Outside code blocks: escape a text "<" that would start raw HTML (not in code spans), and put a
    blank line before a block quote that directly follows a paragraph (valid, but hard to read)."""
    out: list[str] = []
    fence = ""
    for line in markdown.split("\n"):
        marker = _FENCE_LINE.match(line)
        if fence:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = ""
        elif marker:
            fence = marker.group(1)
        else:
            if line.startswith(">") and out and out[-1] and not out[-1].startswith(">"):
                out.append("")
            if "<" in line:
                parts = re.split(r"(`+[^`]*`+)", line)  # odd items are code spans: left as they are
                line = "".join(p if i % 2 else _HTML_START.sub(r"\\<", p) for i, p in enumerate(parts))
        out.append(line)
    return "\n".join(out)
