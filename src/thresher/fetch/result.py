"""What one fetch produced: the final response, or why there is none, as plain data for crawler and WARC.

``error`` is a short machine reason; None means the exchange completed. The reasons:

- network: ``timeout``, ``connect-error``, ``reset``, ``truncated``, ``protocol-error``, ``network-error``,
  ``bad-url``
- limits: ``too-large`` (raw bytes or a Content-Length over the cap), ``decompression-bomb`` (decoded bytes
  over the cap), ``unsupported-encoding``, ``decode-error`` (corrupt gzip/deflate/br data)
- content: ``not-html`` (only the headers were read)
- redirects: ``redirect-loop``, ``too-many-redirects``, ``out-of-scope-redirect``, ``bad-redirect``
- status: ``http-<code>`` for any final status outside 2xx and 304 (``http-404``, ``http-429``, ``http-503``)
- set by callers that refuse to fetch: ``robots-disallowed`` (see :meth:`FetchResult.refused`)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..models import last_header

__all__ = ["FetchResult"]


def _now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(slots=True, kw_only=True)
class FetchResult:
    """One fetch: the final response after redirects, or the reason there is none."""

    requested_url: str
    url: str
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    content_type: str | None = None
    charset: str | None = None
    redirects: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    not_modified: bool = False
    error: str | None = None
    retry_after: float | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime = field(default_factory=_now)

    @property
    def ok(self) -> bool:
        """True for a complete 2xx response with a body."""
        return self.error is None and 200 <= self.status < 300 and bool(self.body)

    def header(self, name: str) -> str | None:
        """The last value of header ``name`` (any case), None when absent."""
        return last_header(self.headers, name)

    @classmethod
    def refused(cls, url: str, reason: str) -> FetchResult:
        """A result for a URL that was deliberately not requested (``robots-disallowed``, …)."""
        return cls(requested_url=url, url=url, error=reason)
