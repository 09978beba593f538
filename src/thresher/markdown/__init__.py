"""Markdown stage: the cleaned body element → CommonMark, and Markdown → plain text."""

from __future__ import annotations

from .render import body_to_markdown
from .text import markdown_to_text

__all__ = ["body_to_markdown", "markdown_to_text"]
