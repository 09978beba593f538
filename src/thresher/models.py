"""Typed values passed between pipeline stages."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import yaml

from .errors import PostError

__all__ = [
    "AddResult",
    "AddStatus",
    "AffiliateLink",
    "Article",
    "ArticleKind",
    "Link",
    "SearchHit",
    "content_hash",
    "count_words",
    "last_header",
]

ArticleKind = Literal["article", "listing", "page"]
AddStatus = Literal["new", "updated", "unchanged"]


def last_header(headers: list[tuple[str, str]], name: str) -> str | None:
    """The last value of header ``name`` (any case): a repeated single-valued header's last one wins."""
    key = name.lower()
    found = None
    for field_name, value in headers:
        if field_name.lower() == key:
            found = value
    return found


def count_words(text: str) -> int:
    """Count words: whitespace-separated runs (fast; CJK runs count as one word, as in most tools)."""
    return len(text.split())


def content_hash(markdown: str) -> str:
    """Stable hash of an article body: sha256 of its Markdown (already normalised by the converter)."""
    norm = markdown.strip().replace("\r\n", "\n")
    return "sha256:" + hashlib.sha256(norm.encode("utf-8")).hexdigest()


@dataclass(slots=True, frozen=True)
class Link:
    """A link to another post: an "Also read" entry or a related-posts item."""

    url: str
    title: str

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "url": self.url}


@dataclass(slots=True, frozen=True)
class AffiliateLink:
    """A monetised link found in the body; its text stays in the body, the link is inventoried here."""

    url: str
    text: str
    network: str

    def to_dict(self) -> dict[str, str]:
        return {"url": self.url, "text": self.text, "network": self.network}


# Front-matter keys, in the order the Hexo sources use (see README "Output format").
FRONT_MATTER_KEYS = (
    "title",
    "date",
    "updated",
    "url",
    "site",
    "author",
    "description",
    "excerpt",
    "tags",
    "categories",
    "keywords",
    "thumbnail",
    "lang",
    "also_read",
    "related",
    "affiliate_links",
    "word_count",
    "content_hash",
)


@dataclass(slots=True, kw_only=True)
class Article:
    """One extracted page: metadata, the clean body (Markdown and text), and the links taken out of it."""

    url: str
    canonical_url: str
    kind: ArticleKind = "article"
    title: str = ""
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    description: str | None = None
    excerpt: str | None = None
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    thumbnail: str | None = None
    site_name: str | None = None
    lang: str | None = None
    also_read: list[Link] = field(default_factory=list)
    related: list[Link] = field(default_factory=list)
    affiliate_links: list[AffiliateLink] = field(default_factory=list)
    markdown: str = ""
    text: str = ""
    word_count: int = 0
    content_hash: str = ""
    profile: str = "generic"
    ad_networks: list[str] = field(default_factory=list)
    robots: list[str] = field(default_factory=list)  # <meta name="robots"> directives, e.g. ["noindex"]

    def front_matter(self) -> dict[str, Any]:
        """The YAML front matter as an ordered dict, empty values left out."""
        values: dict[str, Any] = {
            "title": self.title,
            "date": self.published,
            "updated": self.updated,
            "url": self.canonical_url or self.url,
            "site": self.site_name,
            "author": self.author,
            "description": self.description,
            "excerpt": self.excerpt,
            "tags": list(self.tags),
            "categories": list(self.categories),
            "keywords": list(self.keywords),
            "thumbnail": self.thumbnail,
            "lang": self.lang,
            "also_read": [link.to_dict() for link in self.also_read],
            "related": [link.to_dict() for link in self.related],
            "affiliate_links": [a.to_dict() for a in self.affiliate_links],
            "word_count": self.word_count,
            "content_hash": self.content_hash,
        }
        return {k: values[k] for k in FRONT_MATTER_KEYS if values[k] not in (None, "", [], 0)}

    def to_markdown(self) -> str:
        """The archive document: YAML front matter, then the Markdown body."""
        head = dump_front_matter(self.front_matter())
        body = self.markdown.strip("\n")
        return f"---\n{head}---\n\n{body}\n" if body else f"---\n{head}---\n"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (datetimes as ISO 8601 strings)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = format_datetime(value)
            elif isinstance(value, list):
                value = [v.to_dict() if hasattr(v, "to_dict") else v for v in value]
            out[f.name] = value
        return out

    @classmethod
    def from_markdown(cls, document: str) -> Article:
        """Read back a document written by :meth:`to_markdown` (the archive's source of truth)."""
        meta, body = split_front_matter(document)
        url = str(meta.get("url") or "")

        def links(key: str) -> list[Link]:
            return [
                Link(url=str(item.get("url", "")), title=str(item.get("title", "")))
                for item in meta.get(key) or []
                if isinstance(item, dict)
            ]

        from .markdown import markdown_to_text  # local import: markdown imports models

        text = markdown_to_text(body)
        return cls(
            url=url,
            canonical_url=url,
            kind="article",
            title=str(meta.get("title") or ""),
            author=_opt_str(meta.get("author")),
            published=parse_yaml_datetime(meta.get("date")),
            updated=parse_yaml_datetime(meta.get("updated")),
            description=_opt_str(meta.get("description")),
            excerpt=_opt_str(meta.get("excerpt")),
            tags=_str_list(meta.get("tags")),
            categories=_str_list(meta.get("categories")),
            keywords=_str_list(meta.get("keywords")),
            thumbnail=_opt_str(meta.get("thumbnail")),
            site_name=_opt_str(meta.get("site")),
            lang=_opt_str(meta.get("lang")),
            also_read=links("also_read"),
            related=links("related"),
            affiliate_links=[
                AffiliateLink(
                    url=str(item.get("url", "")),
                    text=str(item.get("text", "")),
                    network=str(item.get("network", "")),
                )
                for item in meta.get("affiliate_links") or []
                if isinstance(item, dict)
            ],
            markdown=body,
            text=text,
            word_count=int(meta.get("word_count") or count_words(text)),
            content_hash=str(meta.get("content_hash") or content_hash(body)),
        )


def _opt_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _str_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [str(v) for v in value if v is not None and str(v) != ""]
    return [str(value)]


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, milliseconds kept when present (Hexo's own format)."""
    value = value.astimezone(UTC)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_yaml_datetime(value: Any) -> datetime | None:
    """A YAML date value (already a datetime, or a string) as an aware datetime, zone-less read as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# libyaml's emitter and parser when PyYAML was built with them: the pure-Python ones took ~4 ms to write
# and ~12 ms to read one article's front matter.
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """SafeDumper that writes datetimes as Hexo-style timestamps and never wraps long strings."""


def _represent_datetime(dumper: yaml.SafeDumper, value: datetime) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", format_datetime(value))


_Dumper.add_representer(datetime, _represent_datetime)


def dump_front_matter(meta: dict[str, Any]) -> str:
    """YAML for a front-matter block, keys in the given order, unicode kept readable."""
    if not meta:
        return ""
    return str(
        yaml.dump(
            meta, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=10**9
        )
    )


# A front matter block: an opening ``---`` line, then everything up to the first ``---`` or ``...`` line
# (the line break before it left out). One regex for the whole block, with a lazy ``(.*?)``, tried the
# closing line at every character (~50 us an archive document); the closing line is searched instead.
_OPENING = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.M)


def _front_matter_block(document: str) -> tuple[str, int] | None:
    """The front matter text and where the body starts, or None when ``document`` has no block."""
    opening = _OPENING.match(document)
    if opening is None:
        return None
    start = opening.end()
    closing = _CLOSING.search(document, start)
    if closing is None:
        return None
    end = closing.start()
    if end - 2 >= start and document[end - 2 : end] == "\r\n":
        end -= 2
    elif end - 1 >= start and document[end - 1] == "\n":
        end -= 1
    return document[start:end], closing.end()


def split_front_matter(document: str) -> tuple[dict[str, Any], str]:
    """Split a Markdown post into (front matter, body). A post without front matter has ``{}``.

    Raises:
        PostError: the front matter is not valid YAML, holds a value YAML cannot construct (a 30 February),
            or is not a mapping.
    """
    found = _front_matter_block(document)
    if found is None:
        return {}, document
    block, body = found
    rest = document[body:].lstrip("\n")
    if not block.strip():
        return {}, rest
    # local import: store imports models. The archive's own blocks are read without PyYAML's constructor
    # (pure Python); anything it is not sure of, PyYAML reads (same values either way).
    from .store.frontmatter import read_front_matter

    fast = read_front_matter(block)
    if fast is not None:
        return fast, rest
    try:
        meta = yaml.load(block, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise PostError(f"invalid YAML front matter{where}") from exc
    except Exception as exc:  # PyYAML's constructors raise whatever they hit on a bad value
        # 2024-02-30 as a timestamp, "!!int zz", "!!timestamp zz": ValueError, AttributeError, ...
        raise PostError(f"invalid value in YAML front matter ({exc})") from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise PostError("front matter is not a mapping of keys to values")
    return meta, rest


@dataclass(slots=True, frozen=True, kw_only=True)
class AddResult:
    """What :meth:`thresher.Archive.add` did with one article."""

    status: AddStatus
    url: str
    path: str  # relative to the archive root


@dataclass(slots=True, frozen=True, kw_only=True)
class SearchHit:
    """One search result: where the article is and why it matched."""

    url: str
    title: str
    site: str
    published: datetime | None
    snippet: str  # matched words wrapped in ``**`` (Markdown bold)
    score: float  # higher is better (negated bm25)
    path: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "url": self.url,
            "title": self.title,
            "site": self.site,
            "published": format_datetime(self.published) if self.published else None,
            "snippet": self.snippet,
            "score": self.score,
            "path": self.path,
        }
