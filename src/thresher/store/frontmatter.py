"""The archive document of an article, written and read without PyYAML's Python code when that is safe.

``Article.to_markdown()`` runs PyYAML's representer (pure Python, ~0.3 ms an article) before libyaml
emits. Front matter is a flat mapping of strings, datetimes, ints and lists of strings or of small
string mappings, so for the common case the text libyaml would emit is easy to write directly:
a string is a plain scalar when libyaml's own analysis allows it and the YAML resolver reads it back
as a string, otherwise single-quoted. Anything outside that (line breaks, tabs, control or unusual
characters, another value type) falls back to ``Article.to_markdown()`` for the whole document, so
the output is byte-for-byte the same either way (tested against PyYAML on random strings).

Reading back is the inverse, for ``split_front_matter`` (``Article.from_markdown``, ``reindex``): PyYAML's
constructor is pure Python even over libyaml's parser (~1/3 of a reindex). :func:`read_front_matter`
knows only the lines the writer above emits, and accepts a block only when writing what it read gives
that very text again. The writer gives what PyYAML's emitter gives, and PyYAML reads what it wrote back
as the same values, so PyYAML would read the same dict; any other block (comments, flow style, anchors,
other quoting, a key twice ...) is left to PyYAML.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any

from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from ..models import Article, format_datetime

__all__ = ["read_front_matter", "render_document"]

_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_INT_TAG = "tag:yaml.org,2002:int"
_RESOLVER = Resolver()
# First characters the resolver has an implicit type for (digits, signs, ".", "~", "y", "n", "t", ...);
# a string starting with any other character always reads back as a string.
_RESOLVED_FIRST = frozenset(Resolver.yaml_implicit_resolvers)
# One line of printable characters, as libyaml's emitter defines them with allow_unicode: printable
# ASCII and the non-ASCII ranges it prints as they are, minus NEL, the line/paragraph separators and
# the BOM (breaks or special characters there). libyaml escapes characters beyond the BMP (emoji), so
# those take the PyYAML path too, as does anything else.
_SIMPLE = re.compile("[\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*")
# Characters that, first in a scalar, make libyaml quote it in block context.
_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")


def _resolve(text: str) -> str:
    """The tag the YAML resolver gives ``text`` as a plain scalar (what the emitter checks)."""
    return str(_RESOLVER.resolve(ScalarNode, text, (True, False)))  # type: ignore[no-untyped-call]


def _plain_allowed(text: str) -> bool:
    """libyaml's block-context plain-scalar analysis for one printable line (yaml_emitter_analyze_scalar)."""
    if not text or text[0] == " " or text[-1] == " " or text.startswith(("---", "...")):
        return False
    first = text[0]
    if first in _FIRST_INDICATORS:
        return False
    if first in "?:-" and (len(text) == 1 or text[1] == " "):
        return False
    # ": " or a final ":" and " #" are indicators anywhere; ",?[]{}" only matter in flow context
    return not (": " in text or text.endswith(":") or " #" in text)


@functools.lru_cache(maxsize=4096)  # tags, categories, sites and authors repeat across articles
def _scalar(text: str) -> str | None:
    """``text`` as libyaml writes a str value in block context, or None when not sure."""
    if not _SIMPLE.fullmatch(text):
        return None
    if _plain_allowed(text) and (text[0] not in _RESOLVED_FIRST or _resolve(text) == _STR_TAG):
        return text
    return "'" + text.replace("'", "''") + "'"


def _value(value: Any, indent: str) -> str | None:
    """The text after ``key:`` for one front-matter value (with its leading space or newline)."""
    if type(value) is str:
        scalar = _scalar(value)
        return None if scalar is None else " " + scalar
    if type(value) is int:
        return f" {value}"
    if type(value) is datetime:
        stamp = format_datetime(value)
        if _resolve(stamp) != _TIMESTAMP_TAG:
            return None
        return " " + stamp
    if type(value) is list and value:
        lines: list[str] = []
        for item in value:
            if type(item) is str:
                scalar = _scalar(item)
                if scalar is None:
                    return None
                lines.append(f"{indent}- {scalar}")
            elif type(item) is dict and item:
                entries = _mapping(item, indent + "  ")
                if entries is None:
                    return None
                lines.append(f"{indent}- " + entries[len(indent) + 2 :])
            else:
                return None
        return "\n" + "\n".join(lines)
    return None


def _mapping(meta: dict[Any, Any], indent: str) -> str | None:
    """A block mapping of simple keys, one entry a line, every line but the first indented."""
    lines: list[str] = []
    for key, value in meta.items():
        if type(key) is not str or not key.isidentifier() or not key.isascii():
            return None
        if type(value) is list and indent:
            return None  # nested lists do not occur in front matter
        text = _value(value, indent)
        if text is None:
            return None
        lines.append(f"{indent}{key}:{text}")
    return "\n".join(lines)


def render_document(article: Article) -> str:
    """Exactly ``article.to_markdown()``, several times faster for ordinary front matter."""
    meta = article.front_matter()
    head = _mapping(meta, "") if meta else ""
    if head is None:
        return article.to_markdown()
    if head:
        head += "\n"
    body = article.markdown.strip("\n")
    return f"---\n{head}---\n\n{body}\n" if body else f"---\n{head}---\n"


_INT = re.compile(r"-?[0-9]+")
_STAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{3}))?Z")
_NUMERIC_FIRST = frozenset("-0123456789")
_UNKNOWN = object()


def _read_scalar(raw: str) -> Any:
    """The value ``raw`` stands for if the writer wrote it (the caller checks), else ``_UNKNOWN``.

    Digits are an int, and a timestamp a datetime, only when that is how the writer writes that int or
    datetime; otherwise they can only be a plain string (``08``), or nothing the writer writes (``-0``).
    """
    first = raw[:1]
    if first == "'":
        return raw[1:-1].replace("''", "'") if len(raw) > 1 and raw[-1] == "'" else _UNKNOWN
    if first not in _NUMERIC_FIRST or not first:
        return raw
    if _INT.fullmatch(raw):
        try:
            number = int(raw)
        except ValueError:  # more digits than int() converts
            return _UNKNOWN
        return number if str(number) == raw else raw
    stamp = _STAMP.fullmatch(raw)
    if stamp:
        y, mo, d, h, mi, sec, ms = stamp.groups()
        try:
            micro = int(ms) * 1000 if ms else 0
            when = datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec), micro, tzinfo=UTC)
        except ValueError:
            return _UNKNOWN
        return when if format_datetime(when) == raw else raw
    return raw


def _entry(line: str) -> tuple[str, str | None] | None:
    """``key: value`` as (key, raw value), ``key:`` as (key, None), None for any other line.

    The key is what the writer allows (an ASCII identifier) that also reads back as that string (not yes,
    null, ...), and no longer than front matter needs: libyaml writes keys over 128 characters as complex
    keys (``? key``).
    """
    colon = line.find(":")
    if colon < 1 or colon > 64:
        return None
    key = line[:colon]
    if not key.isascii() or not key.isidentifier() or _scalar(key) != key:
        return None
    if colon + 1 == len(line):
        return key, None
    if line[colon + 1] != " ":
        return None
    return key, line[colon + 2 :]


def read_front_matter(text: str) -> dict[str, Any] | None:
    """The front matter ``text`` (between the fences, no final newline) as PyYAML reads it, or None.

    None means "not sure": the block is not exactly what :func:`render_document` writes for the values
    read, and only PyYAML can tell what it holds. Every value is written again with the writer's own
    :func:`_value` and must give the text it was read from, so the whole block is what :func:`_mapping`
    writes for the dict returned.
    """
    meta: dict[str, Any] = {}
    lines = text.split("\n")
    count = len(lines)
    i = 0
    while i < count:
        entry = _entry(lines[i])
        i += 1
        if entry is None or entry[0] in meta:
            return None
        key, raw = entry
        if raw is not None:  # key: value
            value = _read_scalar(raw)
            if _value(value, "") != " " + raw:
                return None
            meta[key] = value
            continue
        # key:, then "- value" lines, or "- key: value" lines each followed by "  key: value" lines
        first = i
        items: list[Any] = []
        while i < count and lines[i][:2] == "- ":
            line = lines[i][2:]
            i += 1
            head = _entry(line)
            if head is None or head[1] is None:
                items.append(_read_scalar(line))
                continue
            item = {head[0]: _read_scalar(head[1])}
            while i < count and lines[i][:2] == "  ":
                nested = _entry(lines[i][2:])
                if nested is None or nested[1] is None or nested[0] in item:
                    return None
                item[nested[0]] = _read_scalar(nested[1])
                i += 1
            items.append(item)
        # an empty list, an unknown value or a list in a mapping writes as None
        if _value(items, "") != "\n" + "\n".join(lines[first:i]):
            return None
        meta[key] = items
    return meta
