"""Fetch stage: a polite HTTP client, robots.txt, per-host pacing and retries."""

from __future__ import annotations

from .client import DEFAULT_ACCEPT, Fetcher, parse_retry_after
from .politeness import HostSlot, HostStatus, Politeness
from .result import FetchResult
from .retry import SLOW_DOWN, TRANSIENT_ERRORS, fetch_with_retries, is_transient, retry_later
from .robots import RobotsPolicy, RobotsState, product_token

__all__ = [
    "DEFAULT_ACCEPT",
    "SLOW_DOWN",
    "TRANSIENT_ERRORS",
    "FetchResult",
    "Fetcher",
    "HostSlot",
    "HostStatus",
    "Politeness",
    "RobotsPolicy",
    "RobotsState",
    "fetch_with_retries",
    "is_transient",
    "parse_retry_after",
    "product_token",
    "retry_later",
]
