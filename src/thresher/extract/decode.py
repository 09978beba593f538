"""Bytes → text: BOM, then ``<meta charset>``, then detection; and the "is this HTML at all?" check."""

from __future__ import annotations

import codecs
import re

from ..errors import NotHTML

__all__ = ["decode_html", "ensure_html", "to_utf8"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]{2,40})""", re.I)
_SNIFF_BYTES = 4096
_SINGLE_BYTE = frozenset({"ascii", "latin-1", "iso8859-1", "cp1252", "iso8859-15"})
_MAGIC = (
    (b"\x1f\x8b", "gzip data"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x7fELF", "an executable"),
    (b"RIFF", "a RIFF media file"),
    (b"SQLite format 3", "an SQLite database"),
)
# Something that opens an element, a doctype or a comment: the least a document needs to count as HTML.
_MARKUP = re.compile(rb"<(?:!doctype|!--|[a-zA-Z][a-zA-Z0-9-]*(?:[\s/>]|$))", re.I)
# Control bytes that text does not use: counted by deleting them (bytes.translate), not by a regex findall.
_CONTROL = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None


def decode_html(data: bytes) -> str:
    """Decode an HTML document the way a careful browser would.

    Order: a byte-order mark; the ``<meta charset>`` (or http-equiv) in the first 4 KB, unless the bytes
    do not decode with it, or it claims a single-byte charset for bytes that are valid UTF-8 (a common lie);
    UTF-8; then charset detection (charset-normalizer); last, UTF-8 with replacement characters.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(name, errors="replace")
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise NotHTML(f"not an HTML document (looks like {what})")
    declared = None
    if m := _META_CHARSET.search(data[:_SNIFF_BYTES]):
        declared = _codec(m.group(1).decode("ascii", "ignore"))
        if declared in ("utf-16-le", "utf-16-be", "utf-16", "utf-32"):
            declared = "utf-8"  # a meta tag readable as ASCII cannot be UTF-16 (HTML spec)
    if declared and declared != "utf-8":
        if declared in _SINGLE_BYTE and _is_utf8(data):
            return data.decode("utf-8")
        try:
            return data.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass
    if _is_utf8(data):
        return data.decode("utf-8")
    return _detect(data)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _detect(data: bytes) -> str:
    """Guess the charset; windows-1252 wins ties, as it is the web's default legacy encoding."""
    from charset_normalizer import from_bytes  # imported lazily: only broken pages need it

    matches = list(from_bytes(data[:200_000]))
    if matches:
        best = min(matches, key=lambda m: (round(m.chaos, 2), m.encoding != "cp1252"))
        try:
            return data.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    return data.decode("utf-8", errors="replace")


def to_utf8(html: str | bytes) -> bytes:
    """The page as UTF-8 bytes, which is what the parser reads: served UTF-8 is passed through untouched."""
    if isinstance(html, str):
        return html.encode("utf-8", errors="replace")
    data = bytes(html)
    # isascii() first: a C scan that is much cheaper than decoding 100 KB only to validate it
    if not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and (
        data.isascii() or _is_utf8(data)
    ):
        declared = _META_CHARSET.search(data[:_SNIFF_BYTES])
        if declared is None or _codec(declared.group(1).decode("ascii", "ignore")) in (
            None,
            "utf-8",
            *_SINGLE_BYTE,
        ):
            return data
    return decode_html(data).encode("utf-8", errors="replace")


def ensure_html(data: bytes) -> None:
    """Raise NotHTML unless ``data`` (UTF-8) looks like an HTML document, however broken."""
    head = data[:_SNIFF_BYTES]
    if not head.strip():
        raise NotHTML("empty document")
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise NotHTML(f"not an HTML document (looks like {what})")
    if b"\x00" in head or len(head) - len(head.translate(None, _CONTROL)) > len(head) // 20:
        raise NotHTML("not an HTML document (binary data)")
    if _MARKUP.search(data) is None:
        raise NotHTML("not an HTML document (no markup found)")
