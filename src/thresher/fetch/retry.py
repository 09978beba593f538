"""Which failures are worth another try, and retries for them with exponential backoff and jitter (tenacity).

The one source of truth for the whole crawler:

* :func:`is_transient`: timeouts, failed connects, resets, truncated bodies, protocol errors and 5xx
  except 501 (a permanent "not implemented") and 503. Retried at once by :func:`fetch_with_retries`, and
  again later by the crawl frontier, a bounded number of times.
* :data:`SLOW_DOWN` (429, 503): the server's pacing signal. Never retried at once: the caller releases
  the host slot with the status and Retry-After (:class:`~thresher.fetch.Politeness`), and the frontier
  tries the URL again later.
* :func:`retry_later`: either of the two. Anything else (other 4xx, too large, not HTML…) is final.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_result,
    stop_after_attempt,
    wait_fixed,
    wait_random_exponential,
)

from .client import Fetcher
from .result import FetchResult

__all__ = ["SLOW_DOWN", "TRANSIENT_ERRORS", "fetch_with_retries", "is_transient", "retry_later"]

TRANSIENT_ERRORS = frozenset(
    {"timeout", "connect-error", "reset", "truncated", "protocol-error", "network-error"}
)
SLOW_DOWN = frozenset({429, 503})
_NOT_RETRIED_5XX = frozenset({501, 503})


def is_transient(result: FetchResult) -> bool:
    """True when trying again later may well succeed (and retrying is not the server's pacing signal)."""
    if 500 <= result.status < 600:
        return result.status not in _NOT_RETRIED_5XX
    if 400 <= result.status < 500:
        return False
    return result.error in TRANSIENT_ERRORS


def retry_later(result: FetchResult) -> bool:
    """True when the URL deserves another try later: a transient failure or a "slow down" answer."""
    return result.status in SLOW_DOWN or is_transient(result)


def _last_result(state: RetryCallState) -> FetchResult:
    """Give up quietly: the caller gets the last FetchResult, not a RetryError."""
    assert state.outcome is not None  # tenacity only gives up after an attempt
    result: FetchResult = state.outcome.result()
    return result


async def fetch_with_retries(
    fetcher: Fetcher,
    url: str,
    *,
    attempts: int = 3,
    base: float = 0.5,
    cap: float = 8.0,
    min_wait: float = 0.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    **kw: Any,
) -> FetchResult:
    """``fetcher.fetch(url, **kw)`` up to ``attempts`` times while the failure is transient; the last result.

    Between attempts it waits ``min_wait`` (pass the host's politeness delay, so a retry is never faster
    than a normal request) plus a random time in [0, min(cap, base * 2^n)].
    """
    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_fixed(min_wait) + wait_random_exponential(multiplier=base, max=cap),
        retry=retry_if_result(is_transient),
        retry_error_callback=_last_result,
        sleep=sleep,
    )
    result: FetchResult = await retrying(fetcher.fetch, url, **kw)
    return result
