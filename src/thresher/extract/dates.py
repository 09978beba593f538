"""Dates as pages state them → timezone-aware datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["parse_date", "zone"]

_ISO = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|UTC|GMT|[+-]\d{2}:?\d{2}|[+-]\d{2})?\s*$"
)
_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january", "janvier", "januar", "enero", "gennaio"),
            ("feb", "february", "février", "fevrier", "februar", "febrero", "febbraio"),
            ("mar", "march", "mars", "märz", "marzo"),
            ("apr", "april", "avril", "abril", "aprile"),
            ("may", "mai", "mayo", "maggio"),
            ("jun", "june", "juin", "juni", "junio", "giugno"),
            ("jul", "july", "juillet", "juli", "julio", "luglio"),
            ("aug", "august", "août", "aout", "agosto"),
            ("sep", "sept", "september", "septembre", "septiembre", "settembre"),
            ("oct", "october", "octobre", "oktober", "octubre", "ottobre"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "décembre", "decembre", "dezember", "diciembre", "dicembre"),
        ]
    )
    for name in names
}
# "March 3, 2025", "3 March 2025", "Mar. 3rd, 2025 10:30"
_TEXT_MDY = re.compile(r"\b([A-Za-zéûä]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_TEXT_DMY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\.?\s+([A-Za-zéûä]{3,9})\.?,?\s+(\d{4})\b")
_TEXT_TIME = re.compile(r"\b(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?")
_SLASHED = re.compile(r"^\s*(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?)?\s*(Z)?\s*$")


def zone(name: str | None) -> tzinfo:
    """The named IANA zone, UTC for None or an unknown name."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _offset(text: str) -> tzinfo | None:

    if text in ("Z", "z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _build(parts: tuple[int, ...], tz: tzinfo) -> datetime | None:
    y, mo, d, h, mi, s, *rest = parts
    try:
        return datetime(y, mo, d, h, mi, s, rest[0] if rest else 0, tzinfo=tz)
    except (ValueError, OverflowError):
        return None


def parse_date(value: str | None, default_zone: tzinfo = UTC) -> datetime | None:
    """Parse the ways pages state dates; zone-less values are read in ``default_zone``.

    Returns None for anything that is not a plausible date (years 1990-2100).
    """
    if not value:
        return None
    text = value.strip()[:80]
    result: datetime | None = None
    if m := _ISO.match(text):
        y, mo, d, h, mi, s, frac, off = m.groups()
        tz = _offset(off) if off else default_zone
        if tz is None:
            return None
        micro = int((frac or "0")[:6].ljust(6, "0"))
        result = _build((int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro), tz)
    elif m := _SLASHED.match(text):
        y, mo, d, h, mi, s = m.groups()
        result = _build((int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0)), default_zone)
    elif m := _COMPACT.match(text):
        y, mo, d, h, mi, s, z = m.groups()
        tz = UTC if z else default_zone
        result = _build((int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0)), tz)
    else:
        result = _parse_text_date(text, default_zone)
    if result is None or not 1990 <= result.year <= 2100:
        return None
    return result


def _parse_text_date(text: str, default_zone: tzinfo) -> datetime | None:
    """Dates written out in words: "March 3, 2025", "3 mars 2025", with an optional clock time."""
    day = month = year = None
    if m := _TEXT_MDY.search(text):
        month, day, year = _MONTHS.get(m.group(1).lower()), int(m.group(2)), int(m.group(3))
    if month is None and (m := _TEXT_DMY.search(text)):
        day, month, year = int(m.group(1)), _MONTHS.get(m.group(2).lower()), int(m.group(3))
    if month is None or day is None or year is None:
        return None
    hour = minute = second = 0
    if t := _TEXT_TIME.search(text):
        hour, minute, second = int(t.group(1)), int(t.group(2)), int(t.group(3) or 0)
        if t.group(4):
            hour = hour % 12 + (12 if t.group(4).lower() == "pm" else 0)
    return _build((year, month, day, hour, minute, second), default_zone)
