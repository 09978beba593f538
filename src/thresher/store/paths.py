"""Where an article lives in the archive: ``<host>/<slug>.md``, readable when it can be, safe always.

A path is *clean* (no hash) only when the canonical URL can be read back from the path alone: the
host directory and the slug are decoded and re-canonicalised, and only an exact match counts. Every
other URL, whatever was lost on the way (case, stripped characters, truncation, a query, another
scheme or spelling), gets ``-`` plus the first 10 hex digits of SHA-256 of the URL. So two different
URLs never share a path: two clean paths would decode to the same URL, a clean and a hashed one
differ because clean slugs never end in ``-<10 hex>``, and two hashed ones differ in the hash. Clean
names are also invariant under case mapping, so this holds on case-insensitive file systems too.

The mapping is a pure function of the string; it depends only on the Unicode tables of the running
Python (NFC, lower-casing, character categories), never on the platform.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from ..errors import InputError
from ..urls import canonicalize

__all__ = ["MAX_NAME_BYTES", "article_path", "resolve_inside"]

# File systems cap names at 255 bytes; the margin leaves room for temp-file suffixes of atomic writes.
MAX_NAME_BYTES = 200

_SUFFIX = ".md"
_HASH_CHARS = 10
_NO_HOST = "_nohost"
_INDEX = "index"
# Room a hashed name keeps for its prefix: suffix, "-" + hash, and one "_" that un-reserving may add.
_PREFIX_BYTES = MAX_NAME_BYTES - len(_SUFFIX) - 1 - _HASH_CHARS - 1

# Windows refuses these as a file or directory name, whatever the case and whatever the extension.
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"{dev}{n}" for dev in ("com", "lpt") for n in "0123456789¹²³"}
)
_WINDOWS_INVALID = frozenset('<>:"/\\|?*')
# Control, format (bidi overrides, zero-width), surrogate and separator characters: invisible or
# misleading in a file name, and some file systems reject them.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})

_DOTS = re.compile(r"\.{2,}")
# what _clean_segment replaces in printable ASCII: _WINDOWS_INVALID and the space (category Zs)
_ASCII_UNSAFE = re.compile("[" + re.escape("".join(sorted(_WINDOWS_INVALID))) + " ]")
_HOST_UNSAFE = re.compile(r"[^a-z0-9._-]")
_HASH_TAIL = re.compile(r"-[0-9a-f]{10}\Z")
_PORT = re.compile(r"[1-9][0-9]{0,4}\Z")
# The one URL path a clean slug stands for: dated permalinks (/2024/01/02/post/), else one segment.
_DATED = re.compile(r"([0-9]{4})-([0-9]{2})-(?:([0-9]{2})-)?(.+)", re.ASCII)
_PAGE_FILE = re.compile(r"\.html?\Z")
# The URL most archives hold: https, a plain lower-case host, one lower-case slug segment, a final slash.
# Its path needs none of the decoding, cleaning and read-back of the general case (see _plain_path).
_PLAIN_URL = re.compile(r"https://((?:[a-z0-9-]+\.)*[a-z0-9-]+)/([a-z0-9]+(?:-[a-z0-9]+)*)/", re.ASCII)


def article_path(canonical_url: str) -> PurePosixPath:
    """The archive-relative path ``<host>/<slug>.md`` for ``canonical_url`` (from ``canonicalize``)."""
    plain = _plain_path(canonical_url)
    return plain if plain is not None else _derived_path(canonical_url)


def _plain_path(url: str) -> PurePosixPath | None:
    """:func:`_derived_path` of a :data:`_PLAIN_URL` with a clean name (13 µs, not 59), else None.

    Such a URL is already canonical, its host and slug come through the cleaning unchanged, and the slug
    reads back as the same single segment, unless it is too long, reserved, dated, ``index`` or ends like
    a hash; those and every other URL take the general path.
    """
    match = _PLAIN_URL.fullmatch(url)
    if match is None:
        return None
    host, slug = match.groups()
    if (
        len(host) >= MAX_NAME_BYTES
        or "xn--" in host
        or _unreserve(host) != host
        or len(slug) + len(_SUFFIX) > MAX_NAME_BYTES
        or slug == _INDEX
        or slug in _RESERVED
        or _HASH_TAIL.search(slug)
        or _DATED.fullmatch(slug)
    ):
        return None
    return PurePosixPath(host, slug + _SUFFIX)


def _derived_path(canonical_url: str) -> PurePosixPath:
    """:func:`article_path` for any string: decoded, cleaned, and read back to decide clean or hashed."""
    host, path, query = _split(canonical_url)
    slug = _unreserve(_slug(path, query))
    if _is_clean(canonical_url, host, slug):
        return PurePosixPath(host, slug + _SUFFIX)
    prefix = _truncate(slug, _PREFIX_BYTES).rstrip(".-") or _INDEX
    digest = hashlib.sha256(canonical_url.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
    return PurePosixPath(host, f"{_unreserve(prefix)}-{digest}{_SUFFIX}")


def resolve_inside(root: Path, relative: PurePosixPath | str) -> Path:
    """``root / relative`` with symlinks resolved; InputError unless it stays strictly inside ``root``."""
    rel = PurePosixPath(relative)
    if rel.is_absolute() or not rel.parts:
        raise InputError(f"{str(relative)!r} is not a path relative to the archive")
    try:
        base = root.resolve()
        target = base.joinpath(*rel.parts).resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        # ValueError: embedded NUL; RuntimeError: symlink loop on older Pythons.
        raise InputError(f"{str(relative)!r}: cannot resolve inside {root} ({exc})") from exc
    if target == base or not target.is_relative_to(base):
        raise InputError(f"{str(relative)!r} points outside the archive {root}")
    return target


def _split(url: str) -> tuple[str, str, str]:
    """The host directory name, the path and the query of ``url`` (unparseable: no host, all path)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _NO_HOST, url, ""
    try:
        port = parts.port
    except ValueError:
        port = None  # out of range or not a number: the URL is hashed anyway, as it cannot be rebuilt
    return _host_dir(parts.hostname or "", port), parts.path, parts.query


def _host_dir(hostname: str, port: int | None) -> str:
    """Lower-case ASCII (punycode) host, ``_port`` appended; ``_nohost`` when nothing usable is left."""
    labels = []
    for label in hostname.lower().split("."):
        if not label.isascii():
            try:
                label = label.encode("idna").decode("ascii")
            except UnicodeError:
                # Not a valid IDNA label; raw punycode still keeps it ASCII and tells labels apart.
                label = "xn--" + label.encode("punycode").decode("ascii")
        labels.append(label.lower())
    name = _DOTS.sub(".", _HOST_UNSAFE.sub("_", ".".join(labels))).strip(".")
    if not name:
        return _NO_HOST
    if port is not None:
        name = f"{name}_{port}"
    return _unreserve(name[: MAX_NAME_BYTES - 1].rstrip("."))


def _slug(path: str, query: str) -> str:
    """Path segments (then the query) decoded, NFC, lower-cased, made safe and joined with ``-``."""
    segments = unquote(path).split("/")
    if query:
        segments.append(unquote(query))
    text = [unicodedata.normalize("NFC", unicodedata.normalize("NFC", s).lower()) for s in segments]
    return "-".join(cleaned for s in text if (cleaned := _clean_segment(s))) or _INDEX


def _clean_segment(segment: str) -> str:
    """``segment`` with each run of unsafe characters turned into one ``-``, no ``..``, no edge dots."""
    if segment.isascii() and segment.isprintable() and not _ASCII_UNSAFE.search(segment):
        # nothing to replace (the common case: printable ASCII has no unsafe category but the space)
        return (_DOTS.sub(".", segment) if ".." in segment else segment).strip(".-")
    return _clean_segment_by_char(segment)


def _clean_segment_by_char(segment: str) -> str:
    """:func:`_clean_segment` character by character (any text)."""
    out: list[str] = []
    pending = False
    for ch in segment:
        if ch in _WINDOWS_INVALID or unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            pending = True
            continue
        if pending and out:
            out.append("-")
        pending = False
        out.append(ch)
    # Leading dots would hide the file, trailing dots vanish on Windows, leading dashes read as options.
    return _DOTS.sub(".", "".join(out)).strip(".-")


def _unreserve(name: str) -> str:
    """``name`` with ``_`` after its stem when Windows reserves the stem (``con.md`` → ``con_.md``)."""
    stem, dot, rest = name.partition(".")
    return f"{stem}_{dot}{rest}" if stem.lower() in _RESERVED else name


def _truncate(text: str, limit: int) -> str:
    """The longest prefix of ``text`` within ``limit`` UTF-8 bytes (cut at a character boundary)."""
    return text.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", "ignore")


def _is_clean(url: str, host: str, slug: str) -> bool:
    """True when ``host``/``slug`` alone give back ``url`` and survive case-insensitive file systems."""
    if len(slug.encode("utf-8", "surrogatepass")) + len(_SUFFIX) > MAX_NAME_BYTES or _HASH_TAIL.search(slug):
        return False
    # Case-insensitive file systems fold with their own tables: demand a name every case mapping keeps.
    if slug != slug.casefold() or slug != slug.upper().lower():
        return False
    return _url_of(host, slug) == url


def _url_of(host: str, slug: str) -> str | None:
    """The canonical URL a clean ``host``/``slug`` stands for (None when ``host`` is no clean name)."""
    name, _, port = host.partition("_")
    if host == _NO_HOST or (port and not _PORT.match(port)):
        return None
    labels = []
    for label in name.split("."):
        if label.startswith("xn--"):
            try:
                label = label.encode("ascii").decode("idna")
            except UnicodeError:
                return None
        labels.append(label)
    netloc = ".".join(labels) + (f":{port}" if port else "")
    return canonicalize(f"https://{netloc}{_url_path(slug)}")


def _url_path(slug: str) -> str:
    """The URL path a clean slug stands for: ``/``, ``/y/m/d/rest/``, ``/y/m/rest/`` or ``/slug/``."""
    if slug == _INDEX:
        return "/"
    end = "" if _PAGE_FILE.search(slug) else "/"
    dated = _DATED.fullmatch(slug)
    segments = [g for g in dated.groups() if g] if dated else [slug]
    return "/" + "/".join(segments) + end
