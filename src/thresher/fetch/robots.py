"""robots.txt per host, with RFC 9309 semantics for every way fetching it can go wrong.

- 2xx: the rules are parsed (the first 500 KiB; a longer file is cut at its last complete line).
- 4xx, or a redirect chain that never ends: the file is "unavailable" and everything is allowed.
- 5xx, 429, a timeout or a network error: the host is "unreachable" and nothing is allowed until a
  re-fetch succeeds; ``retry_at`` says when :meth:`RobotsPolicy.ensure` tries again (60 s, then doubling).
  Rules already known are kept meanwhile (RFC 9309 §2.4 allows the cached copy in that case).
- Parsed rules are re-fetched after ``max_age`` (24 h, the RFC's upper bound for caching).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlsplit

from protego import Protego

from .client import Fetcher
from .result import FetchResult

__all__ = ["RobotsPolicy", "RobotsState", "product_token"]

RobotsState = Literal["unloaded", "ok", "allow-all", "unreachable"]

_PRODUCT_TOKEN = re.compile(r"[A-Za-z_-]+")
# Results whose partial body is still the start of the real file, so it is parsed as far as it goes.
_CAPPED = frozenset({"too-large", "decompression-bomb"})
# A redirect chain that cannot be followed to its end means "unavailable" (RFC 9309 §2.3.1.2).
_UNAVAILABLE = frozenset({"redirect-loop", "too-many-redirects", "bad-redirect"})


def product_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against: "thresher" from "thresher/0.1.0 (+url)"."""
    m = _PRODUCT_TOKEN.match(user_agent.strip())
    return m.group(0).lower() if m else user_agent.strip().lower()


def _any_url(url: str) -> bool:
    """Scope for robots.txt redirects: any host (RFC 9309 §2.3.1.2)."""
    return True


class RobotsPolicy:
    """The robots.txt rules of one host (scheme + authority), loaded through a ``Fetcher``."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        retry_base: float = 60.0,
        retry_cap: float = 3600.0,
        max_age: float = 24 * 3600.0,
        max_bytes: int = 500 * 1024,
        max_redirects: int = 5,
    ) -> None:
        self.state: RobotsState = "unloaded"
        self.robots_url: str | None = None
        self.status = 0
        self.error: str | None = None
        self.failures = 0
        self.retry_at: float | None = None
        self.expires_at: float | None = None
        self._clock = clock
        self._wall_clock = wall_clock
        self._retry_base = retry_base
        self._retry_cap = retry_cap
        self._max_age = max_age
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._parser: Protego | None = None
        self._lock = asyncio.Lock()

    @staticmethod
    def robots_url_for(base_url: str) -> str:
        """``scheme://authority/robots.txt`` for any URL on the host."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        return f"{parts.scheme}://{parts.netloc}/robots.txt"

    async def load(self, fetcher: Fetcher, base_url: str) -> None:
        """Fetch and apply robots.txt for the host of ``base_url`` (any URL on the host will do)."""
        self.robots_url = self.robots_url_for(base_url)
        result = await fetcher.fetch(
            self.robots_url,
            accept="text/plain,*/*;q=0.5",
            html_only=False,
            max_bytes=self._max_bytes,
            max_redirects=self._max_redirects,
            in_scope=_any_url,
            keep_partial=True,
        )
        self.apply(result)

    async def ensure(self, fetcher: Fetcher, base_url: str | None = None) -> None:
        """Load robots.txt if it never was, its retry time has come, or the rules have expired."""
        async with self._lock:  # concurrent callers for one host share a single fetch
            if not self.due():
                return
            url = base_url or self.robots_url
            if url is None:
                raise ValueError("ensure() needs base_url before the first load()")
            await self.load(fetcher, url)

    def due(self) -> bool:
        """True when :meth:`ensure` would fetch robots.txt now."""
        if self.state == "unloaded":
            return True
        when = self.retry_at if self.retry_at is not None else self.expires_at
        return when is not None and self._clock() >= when

    def apply(self, result: FetchResult) -> None:
        """Update the policy from the result of fetching robots.txt."""
        self.status, self.error = result.status, result.error
        now = self._clock()
        if 200 <= result.status < 300 and (result.error is None or result.error in _CAPPED):
            body = result.body
            if result.error is not None:
                body = body[: body.rfind(b"\n") + 1]  # a cut-off last line could be half a rule
            self.parse(body.decode("utf-8", errors="replace"))
        elif result.error in _UNAVAILABLE or (400 <= result.status < 500 and result.status != 429):
            # 429 is excluded: "slow down" is the server struggling, not the file being absent.
            self._parser = None
            self.state = "allow-all"
            self._succeeded(now)
        else:
            self.failures += 1
            delay = min(self._retry_base * 2 ** (self.failures - 1), self._retry_cap)
            self.retry_at = now + delay
            if self.state in ("unloaded", "unreachable"):
                self.state = "unreachable"

    def parse(self, text: str) -> None:
        """Use ``text`` as the host's robots.txt."""
        self._parser = Protego.parse(text.removeprefix("\ufeff"))
        self.state = "ok"
        self._succeeded(self._clock())

    def _succeeded(self, now: float) -> None:
        """Reset the failure count and schedule the next refresh after ``max_age``."""
        self.failures = 0
        self.retry_at = None
        self.expires_at = now + self._max_age

    def retry_at_wall(self) -> float:
        """``retry_at`` (or the expiry) as a ``time.time()`` value, for schedulers that store wall time."""
        when = self.retry_at if self.retry_at is not None else self.expires_at
        now = self._clock()
        return self._wall_clock() + max(0.0, (when if when is not None else now) - now)

    def allowed(self, url: str, user_agent: str) -> bool:
        """Whether ``user_agent`` may fetch ``url``; False while unloaded or unreachable."""
        if self.state == "allow-all":
            return True
        if self._parser is None:
            # Unloaded or unreachable: RFC 9309 §2.3.1.4 says to assume complete disallow.
            return urlsplit(url).path == "/robots.txt"
        return self._parser.can_fetch(url, product_token(user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        """Seconds between requests asked for by Crawl-delay (or Request-rate), None when unset."""
        if self._parser is None:
            return None
        token = product_token(user_agent)
        delays = []
        if (delay := self._parser.crawl_delay(token)) is not None:
            delays.append(float(delay))
        rate = self._parser.request_rate(token)
        if rate is not None and rate.requests > 0:
            delays.append(rate.seconds / rate.requests)
        return max(delays) if delays else None

    def sitemaps(self) -> list[str]:
        """The Sitemap URLs the file lists, in order."""
        return list(self._parser.sitemaps) if self._parser is not None else []
