"""Cleaning of Hexo Markdown posts: ad HTML out, "Also read" links into the front matter."""

from __future__ import annotations

from .post import REMOVAL_KINDS, CleanedPost, clean_post

__all__ = ["REMOVAL_KINDS", "CleanedPost", "clean_post"]
