"""Retries for transient failures only, with exponential backoff and full jitter (tenacity).

Retried: timeouts, failed connects, resets, truncated bodies, protocol errors and 5xx except 501 (a
permanent "not implemented") and 503. Never retried: 4xx, and 429/503, whose pacing belongs to
:class:`~thresher.fetch.Politeness` (the caller releases the host slot with the status and Retry-After).
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

__all__ = ["TRANSIENT_ERRORS", "fetch_with_retries", "is_transient"]

TRANSIENT_ERRORS = frozenset(
    {"timeout", "connect-error", "reset", "truncated", "protocol-error", "network-error"}
)
_NOT_RETRIED_5XX = frozenset({501, 503})


def is_transient(result: FetchResult) -> bool:
    """True when trying again later may well succeed (and retrying is not the server's pacing signal)."""
    if 500 <= result.status < 600:
        return result.status not in _NOT_RETRIED_5XX
    if 400 <= result.status < 500:
        return False
    return result.error in TRANSIENT_ERRORS


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
