"""Body element → Markdown through the maintained html-to-markdown converter."""

from __future__ import annotations

import re
from typing import Any

import html_to_markdown

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
    return content + "\n" if content else ""
