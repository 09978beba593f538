"""Real temporary archives for the export tests: fixture pages through ``thresher.extract``, plus variants."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import thresher
from thresher.markdown import markdown_to_text
from thresher.models import Article, content_hash, count_words

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"


def fixture_articles() -> list[Article]:
    """Every fixture page extracted, each at ``https://<family>.example.test/<stem>/``."""
    out = []
    for page in sorted(PAGES.glob("*/*.html")):
        url = f"https://{page.parent.name}.example.test/{page.stem}/"
        article = thresher.extract(page.read_bytes(), url)
        out.append(dataclasses.replace(article, url=url, canonical_url=url))
    return out


def variant(
    article: Article,
    url: str,
    *,
    markdown: str | None = None,
    published: datetime | None = None,
    lang: str | None = None,
    tags: list[str] | None = None,
) -> Article:
    """A copy of ``article`` at ``url`` with another body, date, language or tags (fields kept consistent)."""
    body = article.markdown if markdown is None else markdown
    return dataclasses.replace(
        article,
        url=url,
        canonical_url=url,
        markdown=body,
        text=markdown_to_text(body),
        word_count=count_words(markdown_to_text(body)),
        content_hash=content_hash(body),
        published=published if published is not None else article.published,
        lang=lang if lang is not None else article.lang,
        tags=tags if tags is not None else list(article.tags),
        also_read=list(article.also_read),
    )


def mutate(markdown: str, every: int = 40) -> str:
    """``markdown`` with every ``every``-th word of its prose replaced: a near duplicate."""
    out = []
    count = 0
    for line in markdown.split("\n"):
        if line.startswith(("!", "```", "|", "    ")):
            out.append(line)
            continue
        words = line.split(" ")
        for i, word in enumerate(words):
            count += 1
            if count % every == 0 and word.isalpha():
                words[i] = word + "x"
        out.append(" ".join(words))
    return "\n".join(out)


def later(article: Article, days: int) -> datetime:
    assert article.published is not None
    return article.published + timedelta(days=days)


def build_archive(root: Path, articles: list[Article]) -> thresher.Archive:
    archive = thresher.Archive(root)
    for article in articles:
        archive.add(article)
    return archive
