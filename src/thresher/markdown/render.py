"""Body element → Markdown through the maintained html-to-markdown converter.

html-to-markdown (Rust) is the default: on the devset it is faster than walking the Lexbor tree in
Python (bench numbers in the commit that chose it). It gives up on pathologically deep trees (it returns
nothing for 10,000 nested elements), so those fall back to :mod:`.converter`, which is iterative.
"""

from __future__ import annotations

import re
from typing import Any

import html_to_markdown

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
    escape_misc=True,
    autolinks=False,
    extract_metadata=False,
    infer_dimensions=False,
    preprocessing=html_to_markdown.PreprocessingOptions(enabled=False),
    newline_style="backslash",
    inline_data_media="drop_element",
)
_BLANK_RUNS = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+$", re.M)


def body_to_markdown(node: Any) -> str:
    """Convert a cleaned body element (a Lexbor node) to normalised Markdown ending in one newline."""
    html = node.inner_html or ""
    if not html.strip():
        return ""
    content = html_to_markdown.convert(html, _OPTIONS).content or ""
    content = _BLANK_RUNS.sub("\n\n", _TRAILING.sub("", content)).strip("\n")
    if not content and node.text(deep=True).strip():
        return node_to_markdown(node)
    return content + "\n" if content else ""
