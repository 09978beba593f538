"""Per-host pacing: a delay between requests, Crawl-delay as a floor, backoff on 429/503, few at a time.

The delay counts from the *end* of a response, so a slow server gets proportionally fewer requests,
and it is also applied between request starts, so gaps between starts are never shorter than the delay
whatever the concurrency. A host's waiters are served in arrival order (one lock per host).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .retry import SLOW_DOWN

__all__ = ["HostSlot", "HostStatus", "Politeness"]


@dataclass(slots=True)
class HostSlot:
    """The pacing state of one host."""

    host: str
    base_delay: float
    crawl_delay: float | None = None
    backoff_delay: float = 0.0
    concurrency: int = 1
    in_flight: int = 0
    next_allowed: float = 0.0
    hold_until: float = 0.0
    last_fetch: float | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)
    _freed: asyncio.Event = field(default_factory=asyncio.Event, repr=False, compare=False)

    @property
    def delay(self) -> float:
        """The effective delay: the largest of the configured delay, Crawl-delay and the backoff."""
        return max(self.base_delay, self.crawl_delay or 0.0, self.backoff_delay)


@dataclass(frozen=True, slots=True)
class HostStatus:
    """A read-only view of one host for progress displays."""

    host: str
    delay: float
    backoff_delay: float
    in_flight: int
    concurrency: int
    wait: float
    last_fetch: float | None


class Politeness:
    """Pacing for every host of a crawl; ``acquire`` before each request and ``release`` after it."""

    def __init__(
        self,
        *,
        default_delay: float = 1.0,
        default_concurrency: int = 1,
        min_backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_retry_after: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if default_delay < 0 or default_concurrency < 1:
            raise ValueError("delay must be >= 0 and concurrency >= 1")
        self.default_delay = default_delay
        self.default_concurrency = default_concurrency
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._clock = clock
        self._sleep = sleep
        self._slots: dict[str, HostSlot] = {}

    def slot(self, host: str) -> HostSlot:
        """The slot of ``host`` (created with the defaults on first use)."""
        key = host.lower()
        slot = self._slots.get(key)
        if slot is None:
            slot = HostSlot(host=key, base_delay=self.default_delay, concurrency=self.default_concurrency)
            self._slots[key] = slot
        return slot

    def configure(self, host: str, *, delay: float | None = None, concurrency: int | None = None) -> None:
        """Set the base delay and/or the number of simultaneous requests for ``host``."""
        slot = self.slot(host)
        if delay is not None:
            if delay < 0:
                raise ValueError("delay must be >= 0")
            slot.base_delay = delay
        if concurrency is not None:
            if concurrency < 1:
                raise ValueError("concurrency must be >= 1")
            slot.concurrency = concurrency
            slot._freed.set()  # waiters re-check: a raised limit may let them in

    def set_crawl_delay(self, host: str, delay: float | None) -> None:
        """Use robots.txt's Crawl-delay for ``host`` as a floor under the delay (None: no floor)."""
        self.slot(host).crawl_delay = None if delay is None else max(0.0, delay)

    def delay_for(self, host: str) -> float:
        """The effective delay of ``host`` now."""
        return self.slot(host).delay

    async def acquire(self, host: str) -> None:
        """Wait for ``host``'s next allowed time and a free slot, then count the request in flight."""
        slot = self.slot(host)
        async with slot._lock:
            while True:
                if slot.in_flight >= slot.concurrency:
                    slot._freed.clear()
                    await slot._freed.wait()
                    continue
                wait = slot.next_allowed - self._clock()
                if wait > 0:
                    await self._sleep(wait)
                    continue  # a release during the sleep may have pushed next_allowed further
                break
            slot.in_flight += 1
            slot.next_allowed = max(slot.next_allowed, self._clock() + slot.delay)

    def sent(self, host: str) -> None:
        """Note that a request to ``host`` is leaving now: the next start waits the delay from here.

        ``acquire`` reserves the start spacing when it lets a request go, but a busy event loop can
        send that request later; with several connections per host the next one could then follow it
        closer than the delay. Called as the request is handed to the transport, this closes the gap.
        """
        slot = self.slot(host)
        slot.next_allowed = max(slot.next_allowed, self._clock() + slot.delay)

    def release(self, host: str, *, status: int, retry_after: float | None = None) -> None:
        """Record the end of a request to ``host`` and schedule the next one.

        429/503 with Retry-After: wait that long (capped at ``max_retry_after``) or the delay if longer.
        429/503 without it: the backoff doubles (up to ``max_backoff``). A success (2xx/3xx) halves the
        backoff. Other failures leave the pacing alone: retries have their own backoff.
        """
        slot = self.slot(host)
        now = self._clock()
        slot.in_flight = max(0, slot.in_flight - 1)
        slot.last_fetch = now
        if status in SLOW_DOWN and retry_after is not None:
            # A one-off hold, kept apart from next_allowed so a later success cannot shorten it.
            slot.hold_until = max(slot.hold_until, now + min(max(retry_after, 0.0), self.max_retry_after))
        elif status in SLOW_DOWN:
            slot.backoff_delay = min(max(slot.delay * 2, self.min_backoff), self.max_backoff)
        elif 200 <= status < 400 and slot.backoff_delay:
            halved = slot.backoff_delay / 2
            slot.backoff_delay = halved if halved > max(slot.base_delay, slot.crawl_delay or 0.0) else 0.0
        scheduled = max(now + slot.delay, slot.hold_until)
        # With requests still in flight their start-spacing reservations stand; otherwise the delay now in
        # force replaces them (so a decayed backoff takes effect at once).
        slot.next_allowed = max(slot.next_allowed, scheduled) if slot.in_flight else scheduled
        slot._freed.set()

    def snapshot(self) -> list[HostStatus]:
        """Every known host's pacing, sorted by host."""
        now = self._clock()
        return [
            HostStatus(
                host=s.host,
                delay=s.delay,
                backoff_delay=s.backoff_delay,
                in_flight=s.in_flight,
                concurrency=s.concurrency,
                wait=max(0.0, s.next_allowed - now),
                last_fetch=s.last_fetch,
            )
            for s in sorted(self._slots.values(), key=lambda s: s.host)
        ]
