"""Turning local files into archive entries: HTML pages, Hexo Markdown posts, WARC files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .clean import clean_post
from .errors import InputError, NotHTML, PostError, ThresherError
from .extract import extract
from .files import read_input
from .markdown import markdown_to_text
from .models import Article, Link, content_hash, count_words, parse_yaml_datetime, split_front_matter
from .store.warc import RawResponse, iter_warc_file
from .urls import canonicalize

__all__ = ["IngestItem", "collect_paths", "ingest_path", "post_to_article"]

HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz", ".xhtml")
MARKDOWN_SUFFIXES = (".md", ".markdown")
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")


@dataclass(slots=True, kw_only=True)
class IngestItem:
    """One thing found in a local file: an article to archive (with its raw response), or a failure."""

    source: str
    article: Article | None = None
    raw: RawResponse | None = None
    error: str | None = None


def _kind_of(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if name.endswith(HTML_SUFFIXES) or name.endswith(".gz"):
        return "html"
    if name.endswith(MARKDOWN_SUFFIXES):
        return "markdown"
    return None


def collect_paths(paths: list[Path]) -> Iterator[tuple[Path, str | None]]:
    """Expand folders recursively (hidden entries skipped); yield (file, kind) with kind None if unknown."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(
                    part.startswith(".") for part in child.relative_to(path).parts
                ):
                    kind = _kind_of(child)
                    if kind is not None:
                        yield child, kind
        else:
            yield path, _kind_of(path) or "html"


def post_to_article(
    document: str, *, url: str | None = None, base_url: str | None = None, slug: str = ""
) -> Article:
    """A Hexo Markdown post (front matter + body with ad HTML) → a cleaned Article.

    The URL comes from the front matter (``url`` or ``permalink``), else ``url``, else ``base_url`` + slug.
    """
    cleaned = clean_post(document)
    meta, body = split_front_matter(cleaned.document)
    link = meta.get("url") or meta.get("permalink") or url
    if not link and base_url:
        link = base_url.rstrip("/") + "/" + slug.strip("/") + "/"
    if not link:
        raise PostError("no URL for this post: add url: to its front matter, or pass --url / --base-url")
    canonical = canonicalize(str(link))
    text = markdown_to_text(body)
    keywords = meta.get("keywords")
    return Article(
        url=canonical,
        canonical_url=canonical,
        title=str(meta.get("title") or ""),
        author=str(meta["author"]) if meta.get("author") else None,
        published=parse_yaml_datetime(meta.get("date")),
        updated=parse_yaml_datetime(meta.get("updated")),
        description=str(meta["description"]) if meta.get("description") else None,
        excerpt=str(meta["excerpt"]) if meta.get("excerpt") else None,
        tags=[str(t) for t in _as_list(meta.get("tags"))],
        categories=[str(c) for c in _as_list(meta.get("categories"))],
        keywords=[k.strip() for k in keywords.split(",") if k.strip()]
        if isinstance(keywords, str)
        else [str(k) for k in _as_list(keywords)],
        thumbnail=str(meta["thumbnail"]) if meta.get("thumbnail") else None,
        lang=str(meta["lang"]) if meta.get("lang") else None,
        also_read=[Link(url=x.url, title=x.title) for x in cleaned.also_read],
        markdown=body,
        text=text,
        word_count=count_words(text),
        content_hash=content_hash(body),
        profile="hexo-source",
    )


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, list):
        flat: list[object] = []
        for item in value:  # Hexo allows nested category lists: [[a, b]]
            flat.extend(item if isinstance(item, list) else [item])
        return [v for v in flat if v is not None]
    return [value]


def ingest_path(
    path: Path, kind: str, *, url: str | None = None, base_url: str | None = None
) -> Iterator[IngestItem]:
    """Everything archivable in one file. Errors become items with ``error`` set, never exceptions."""
    source = str(path)
    try:
        if kind == "warc":
            yield from _ingest_warc(path)
            return
        data = read_input(path)
        if kind == "markdown":
            try:
                document = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InputError(f"not UTF-8 text (byte {exc.start})") from exc
            slug = path.name.split(".")[0]
            yield IngestItem(
                source=source, article=post_to_article(document, url=url, base_url=base_url, slug=slug)
            )
            return
        article = extract(data, url or "")
        if not article.canonical_url:
            raise InputError("no URL: the page has no canonical link; pass --url")
        if article.kind != "article":
            yield IngestItem(source=source, error=f"not an article (kind: {article.kind})")
            return
        yield IngestItem(source=source, article=article)
    except NotHTML as exc:
        yield IngestItem(source=source, error=str(exc))
    except ThresherError as exc:
        yield IngestItem(source=source, error=str(exc))


def _ingest_warc(path: Path) -> Iterator[IngestItem]:
    try:
        for _offset, raw in iter_warc_file(path):
            source = f"{path}#{raw.url}"
            if raw.status != 200 or "html" not in (raw.content_type or "text/html"):
                continue
            try:
                article = extract(raw.body, raw.url)
            except ThresherError as exc:
                yield IngestItem(source=source, error=str(exc))
                continue
            if article.kind != "article":
                continue
            yield IngestItem(source=source, article=article, raw=raw)
    except ThresherError as exc:
        yield IngestItem(source=str(path), error=str(exc))
