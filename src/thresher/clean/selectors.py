"""Selector prefiltering: run only the catalogue selectors that can match anything on this page.

Lexbor's cost for a selector list is (nodes × selectors): the chaff catalogue's ~150 selectors cost about a
millisecond per page, although a page carries the markers of a handful of them at most. One pass over the
scope's elements collects what any selector needs to be present: tag names, attribute names, class and id
tokens. A selector whose subject (its last compound) asks for something the scope does not have cannot match,
so it is left out of the query. Values are collected for ``class``, ``id``, ``href`` and ``src`` only (the
attributes the catalogue tests by value): ``[href*='pxf.io/c/']`` runs only when some href holds that text.
Other valued tests (``[width='0']``) only need the attribute to be present.

The test is conservative: everything is compared lower-cased, pseudo-classes are ignored, and a selector
this module cannot read is always kept. Filtering therefore never changes what a query finds; it only
drops selectors that would have found nothing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["PageTokens", "SelectorList", "in_markup", "selector_list"]

# One compound selector's parts: a tag, `.class`, `#id`, `[attr op "value" flag]`, `:pseudo(...)`.
_IDENT = r"-?[_a-zA-Z][-_a-zA-Z0-9]*"
_PART = re.compile(
    rf"(?P<tag>{_IDENT}|\*)"
    rf"|\.(?P<cls>{_IDENT})"
    rf"|#(?P<id>{_IDENT})"
    rf"|\[\s*(?P<attr>{_IDENT})\s*(?:(?P<op>[~|^$*]?=)\s*(?:'(?P<sq>[^'\\]*)'|\"(?P<dq>[^\"\\]*)\"|(?P<bare>{_IDENT}))"
    r"\s*(?:[iIsS]\s*)?)?\]"
    rf"|:(?::)?{_IDENT}"
)
_PSEUDO_ARGS = re.compile(r"\([^()]*\)")
_VALUED = ("class", "id", "href", "src")


@dataclass(slots=True, frozen=True)
class _Need:
    """What a selector's subject requires of the scope (all lower-case)."""

    selector: str
    tag: str
    words: tuple[str, ...]  # class and id tokens
    attrs: tuple[str, ...]
    values: tuple[tuple[str, str], ...]  # (attribute, text its value must contain) for _VALUED attributes


def _split_top(text: str, separator: str) -> list[str] | None:
    """Split at ``separator`` outside brackets, parentheses and quotes (None when unbalanced)."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth < 0:
                return None
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    if depth or quote:
        return None
    parts.append(text[start:])
    return parts


def _subject(selector: str) -> str | None:
    """The last compound of a complex selector (the element that matches), pseudo-class arguments removed."""
    text = selector.strip()
    while True:  # nested :not(:has(...)) arguments: innermost first
        stripped = _PSEUDO_ARGS.sub("", text)
        if stripped == text:
            break
        text = stripped
    if "(" in text or ")" in text:
        return None
    # Combinators outside brackets: the subject follows the last one.
    depth = 0
    cut = 0
    quote = ""
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif depth == 0 and char in " >+~":
            cut = index + 1
    return text[cut:].strip() or None


def _need(selector: str) -> _Need | None:
    """Parse one selector's requirements; None when it cannot be read (then it is always run)."""
    subject = _subject(selector)
    if subject is None:
        return None
    tag = ""
    words: list[str] = []
    attrs: list[str] = []
    values: list[tuple[str, str]] = []
    position = 0
    while position < len(subject):
        match = _PART.match(subject, position)
        if match is None:
            return None
        position = match.end()
        if match.group("tag"):
            tag = "" if match.group("tag") == "*" else match.group("tag").lower()
        elif match.group("cls"):
            words.append(match.group("cls").lower())
        elif match.group("id"):
            words.append(match.group("id").lower())
        elif match.group("attr"):
            name = match.group("attr").lower()
            attrs.append(name)
            value = match.group("sq") or match.group("dq") or match.group("bare") or ""
            if match.group("op") and value and name in _VALUED:
                values.append((name, value.lower()))
    return _Need(selector, tag, tuple(words), tuple(attrs), tuple(values))


@dataclass(slots=True, frozen=True)
class PageTokens:
    """What the elements of a scope carry, lower-cased: tag names, attribute names, class and id tokens."""

    tags: frozenset[str]
    attrs: frozenset[str]
    words: frozenset[str]
    values: dict[str, str]  # _VALUED attribute → its values, newline-joined

    @classmethod
    def of(cls, root: Any) -> PageTokens:
        """Collect the tokens of ``root`` and every element below it (one C-driven traversal)."""
        tags: set[str] = set()
        names: set[str] = set()
        classes: list[str] = []
        ids: list[str] = []
        hrefs: list[str] = []
        sources: list[str] = []
        # the loop over _VALUED unrolled: this runs for every element of the body
        for node in root.traverse():
            tags.add(node.tag)
            attributes = node.attributes
            if attributes:
                names.update(attributes)
                get = attributes.get
                if value := get("class"):
                    classes.append(value)
                if value := get("id"):
                    ids.append(value)
                if value := get("href"):
                    hrefs.append(value)
                if value := get("src"):
                    sources.append(value)
        found = dict(zip(_VALUED, (classes, ids, hrefs, sources), strict=True))
        values = {name: "\n".join(items).lower() for name, items in found.items()}
        words = frozenset(values["class"].split()) | frozenset(values["id"].split())
        return cls(frozenset(tags), frozenset(name.lower() for name in names), words, values)

    def admits(self, need: _Need) -> bool:
        """Whether a selector with these requirements could match an element of the scope."""
        return (
            (not need.tag or need.tag in self.tags)
            and self.words.issuperset(need.words)
            and self.attrs.issuperset(need.attrs)
            and all(text in self.values[name] for name, text in need.values)
        )


class SelectorList:
    """A comma-separated selector list, each selector's requirements parsed once."""

    __slots__ = ("always", "needs", "text")

    def __init__(self, selectors: str | tuple[str, ...] | list[str]) -> None:
        """Parse ``selectors`` (a comma-joined string or a sequence of selectors)."""
        items: list[str] = []
        for entry in [selectors] if isinstance(selectors, str) else selectors:
            parts = _split_top(entry, ",")
            items.extend(p.strip() for p in (parts if parts is not None else [entry]) if p.strip())
        self.text = ", ".join(items)
        self.needs: tuple[_Need, ...] = ()
        always: list[str] = []
        needs: list[_Need] = []
        for item in items:
            need = _need(item)
            if need is None:
                always.append(item)
            else:
                needs.append(need)
        self.needs = tuple(needs)
        self.always = tuple(always)

    def __bool__(self) -> bool:
        return bool(self.text)

    def markers(self) -> tuple[bytes, ...] | None:
        """Lower-cased byte strings one of which a page's markup must contain for any selector to match.

        Each selector contributes its longest class or id token (a marker that contains another marker is
        redundant); None when some selector has no such token, so that no byte test can rule it out.
        """
        if self.always:
            return None
        words: set[str] = set()
        for need in self.needs:
            if not need.words:
                return None
            words.add(max(need.words, key=len))
        kept = sorted(w for w in words if not any(o != w and o in w for o in words))
        return tuple(w.encode() for w in kept)

    def for_page(self, tokens: PageTokens | None) -> str:
        """The selectors that can match on the page with ``tokens`` ("" when none can); all without tokens."""
        if tokens is None:
            return self.text
        # tokens.admits, inlined: this runs for every catalogue selector on every page
        tags, words, attrs, values = tokens.tags, tokens.words, tokens.attrs, tokens.values
        kept = [
            need.selector
            for need in self.needs
            if (not need.tag or need.tag in tags)
            and words.issuperset(need.words)
            and attrs.issuperset(need.attrs)
            and (not need.values or all(text in values[name] for name, text in need.values))
        ]
        kept.extend(self.always)
        return ", ".join(kept)


def in_markup(page: bytes, marker: bytes) -> bool:
    """Whether ``marker`` occurs in ``page`` anywhere but plainly in text (between a ``>`` and a ``<``).

    Conservative: an occurrence counts as markup unless the nearest ``<``/``>`` on both sides say it is text,
    so a class name is never missed; words in the article text ("related issues") are not markup.
    """
    start = page.find(marker)
    while start >= 0:
        end = start + len(marker)
        if page.rfind(b">", 0, start) <= page.rfind(b"<", 0, start):
            return True
        after_open = page.find(b"<", end)
        after_close = page.find(b">", end)
        if after_open < 0 or (after_close >= 0 and after_close < after_open):
            return True
        start = page.find(marker, end)
    return False


@functools.cache
def selector_list(selectors: tuple[str, ...]) -> SelectorList:
    """The parsed form of a profile's selector tuple (parsed once per process, like a compiled regex)."""
    return SelectorList(selectors)
