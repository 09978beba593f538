"""URL normalisation: one spelling per page, so archive keys and crawl frontiers never split a page in two."""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

__all__ = ["absolute_url", "canonicalize", "host_of", "is_tracking_param"]

# Query parameters that identify a click, never a page.
_TRACKING_PREFIXES = ("utm_", "_hs", "mc_", "pk_", "mtm_", "hsa_")
_TRACKING_NAMES = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "igshid",
        "twclid",
        "ttclid",
        "_ga",
        "_gl",
        "ref_src",
        "spm",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wickedid",
        "share",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_INDEX_FILE = re.compile(r"/index\.(?:html?|php)$", re.I)
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
# A URL every step of _canonical leaves as it is: http(s), a plain lower-case host, no port, a path of
# unreserved characters without dots (so no index file), no query or fragment. Archived article URLs
# are mostly like this, and each is new to the memo, so checking the spelling saves the 20 µs parse.
_ALREADY_CANONICAL = re.compile(r"https?://(?:[a-z0-9-]+\.)*[a-z0-9-]+(?:/[A-Za-z0-9_-]*)+", re.ASCII)


def is_tracking_param(name: str) -> bool:
    """True for query parameters that only track clicks (utm_*, fbclid, gclid, …)."""
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


def absolute_url(href: str | None, base: str) -> str | None:
    """Resolve ``href`` against ``base``; None for empty, fragment-only and non-web links."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    if href.startswith(("https://", "http://")) and " " not in href:
        return href
    lowered = href[:11].lower()
    if lowered.startswith(("javascript:", "mailto:", "tel:", "data:", "about:", "blob:")):
        return None
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def host_of(url: str) -> str:
    """The lower-cased host of ``url`` without port ("" when there is none)."""
    if _ALREADY_CANONICAL.fullmatch(url):
        return url.split("/", 3)[2]  # plain lower-case host, no port, no user (8 µs -> 1 µs)
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def canonicalize(url: str) -> str:
    """The one spelling of ``url`` thresher uses as a key.

    Lower-cases scheme and host, drops the default port, the fragment, tracking parameters and a trailing
    ``index.html``, sorts the query and normalises percent-escapes. Idempotent:
    ``canonicalize(canonicalize(u)) == canonicalize(u)``.
    """
    return url if _ALREADY_CANONICAL.fullmatch(url) else _canonical(url)


# A crawl canonicalises every link of every page, and most of them (navigation, sidebars, related posts)
# are the same few hundred URLs again: memoised, link discovery on a fixture page takes 0.7 ms, not 1.9 ms.
@functools.lru_cache(maxsize=8192)
def _canonical(url: str) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in ("http", "https") or not host:
        return url
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    # errors="replace": a lone surrogate in the input must not make normalisation raise
    path = quote(unquote(parts.path), safe=_SAFE_PATH, errors="replace") or "/"
    path = _INDEX_FILE.sub("/", path)
    query_pairs = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)
    ]
    query = urlencode(sorted(query_pairs), quote_via=quote, safe="/:@!$'()*+,;-._~", errors="replace")
    return urlunsplit((scheme, netloc, path, query, ""))
