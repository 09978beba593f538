"""Per-host pacing on virtual time: gaps, Crawl-delay floor, Retry-After, backoff, concurrency per host."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Coroutine
from typing import Any

import pytest

from thresher.fetch import Politeness


class VirtualTime:
    """A clock and a sleep that jump straight to the next wake-up once every task is blocked."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(seconds, 0.0), next(self._seq), future))
        await future

    def run(self, *coros: Coroutine[Any, Any, Any]) -> list[Any]:
        async def drive() -> list[Any]:
            tasks = [asyncio.ensure_future(c) for c in coros]
            while not all(t.done() for t in tasks):
                for _ in range(50):  # let every runnable task reach its next wait
                    await asyncio.sleep(0)
                if all(t.done() for t in tasks):
                    break
                assert self._timers, "deadlock: tasks wait with no timer pending"
                when, _, future = heapq.heappop(self._timers)
                self.now = max(self.now, when)
                if not future.done():
                    future.set_result(None)
            return [t.result() for t in tasks]

        return asyncio.run(drive())

    def politeness(self, **kw: Any) -> Politeness:
        return Politeness(clock=self.clock, sleep=self.sleep, **kw)


Log = list[tuple[str, float, float]]


async def request(
    p: Politeness,
    vt: VirtualTime,
    host: str,
    log: Log,
    *,
    duration: float = 0.5,
    status: int = 200,
    retry_after: float | None = None,
) -> None:
    """One simulated request: acquire, take ``duration`` seconds, release; log (host, start, end)."""
    await p.acquire(host)
    start = vt.now
    await vt.sleep(duration)
    log.append((host, start, vt.now))
    p.release(host, status=status, retry_after=retry_after)


async def in_sequence(*steps: Awaitable[None]) -> None:
    for step in steps:
        await step


def starts(log: Log, host: str) -> list[float]:
    return sorted(s for h, s, _ in log if h == host)


def test_gap_after_each_response_is_at_least_the_delay() -> None:
    vt = VirtualTime()
    p = vt.politeness(default_delay=2.0)
    log: Log = []
    vt.run(*(request(p, vt, "a.example", log) for _ in range(4)))
    ordered = sorted(log, key=lambda e: e[1])
    assert [s for _, s, _ in ordered] == [0.0, 2.5, 5.0, 7.5]  # end + delay: 0.5 + 2 each time
    for (_, _, end), (_, nxt, _) in itertools.pairwise(ordered):
        assert nxt - end >= 2.0


def test_crawl_delay_is_a_floor() -> None:
    vt = VirtualTime()
    p = vt.politeness(default_delay=1.0)
    p.set_crawl_delay("a.example", 5.0)
    assert p.delay_for("a.example") == 5.0
    log: Log = []
    vt.run(*(request(p, vt, "a.example", log, duration=0.0) for _ in range(3)))
    assert starts(log, "a.example") == [0.0, 5.0, 10.0]
    p.set_crawl_delay("a.example", 0.2)  # a smaller Crawl-delay does not speed us up
    assert p.delay_for("a.example") == 1.0


def test_retry_after_is_honoured_and_capped() -> None:
    vt = VirtualTime()
    p = vt.politeness(default_delay=1.0, max_retry_after=3600.0)
    log: Log = []
    vt.run(
        in_sequence(
            request(p, vt, "a.example", log, status=429, retry_after=30.0),
            request(p, vt, "a.example", log),
        )
    )
    (_, _, end), (_, nxt, _) = log
    assert nxt - end == 30.0
    assert p.delay_for("a.example") == 1.0  # Retry-After is a one-off wait, not a backoff

    vt.run(request(p, vt, "b.example", log, status=503, retry_after=10**7))
    assert p.snapshot()[1].wait == 3600.0

    vt.run(request(p, vt, "c.example", log, status=503, retry_after=0.1))
    assert p.snapshot()[2].wait == 1.0  # never shorter than the normal delay


def test_backoff_doubles_on_429_without_retry_after_and_decays_on_success() -> None:
    vt = VirtualTime()
    p = vt.politeness(default_delay=1.0, max_backoff=60.0)
    log: Log = []
    delays = []
    for status in (429, 503, 429, 200, 200, 200, 200):
        vt.run(request(p, vt, "a.example", log, status=status))
        delays.append(p.delay_for("a.example"))
    assert delays == [2.0, 4.0, 8.0, 4.0, 2.0, 1.0, 1.0]
    # the wait after each response is the delay in force at that moment
    for (_, _, end), (_, nxt, _), delay in zip(log, log[1:], delays, strict=False):
        assert nxt - end == pytest.approx(delay)


def test_backoff_is_bounded() -> None:
    vt = VirtualTime()
    p = vt.politeness(default_delay=1.0, max_backoff=60.0)
    for _ in range(12):
        vt.run(request(p, vt, "a.example", [], status=429, duration=0.0))
    assert p.delay_for("a.example") == 60.0


def test_other_failures_leave_pacing_alone() -> None:
    vt = VirtualTime()
    p = vt.politeness(default_delay=1.0)
    for status in (500, 404, 0):
        vt.run(request(p, vt, "a.example", [], status=status))
    assert p.delay_for("a.example") == 1.0


def test_one_request_per_host_at_a_time_while_hosts_run_in_parallel() -> None:
    vt = VirtualTime()
    p = vt.politeness(default_delay=1.0)
    log: Log = []
    vt.run(
        *(request(p, vt, host, log, duration=2.0) for host in ("a.example", "b.example") for _ in range(3))
    )
    for host in ("a.example", "b.example"):
        spans = sorted((s, e) for h, s, e in log if h == host)
        assert spans == [(0.0, 2.0), (3.0, 5.0), (6.0, 8.0)]  # never overlapping, delay after each
    assert vt.now == 8.0  # the two hosts did not wait for each other


def test_concurrency_above_one_still_spaces_request_starts() -> None:
    vt = VirtualTime()
    p = vt.politeness(default_delay=1.0)
    p.configure("a.example", concurrency=2)
    log: Log = []
    vt.run(*(request(p, vt, "a.example", log, duration=5.0) for _ in range(4)))
    spans = sorted((s, e) for _, s, e in log)
    for t in (s for s, _ in spans):
        assert sum(1 for s, e in spans if s <= t < e) <= 2
    for a, b in itertools.pairwise(s for s, _ in spans):
        assert b - a >= 1.0


def test_cancelled_waiter_takes_no_slot() -> None:
    vt = VirtualTime()
    p = vt.politeness(default_delay=10.0)

    async def scenario() -> None:
        await p.acquire("a.example")
        p.release("a.example", status=200)
        waiter = asyncio.ensure_future(p.acquire("a.example"))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert p.slot("a.example").in_flight == 0

    vt.run(scenario())


def test_configure_and_snapshot() -> None:
    vt = VirtualTime()
    p = vt.politeness(default_delay=1.0)
    p.configure("B.example", delay=3.0, concurrency=2)
    vt.run(request(p, vt, "a.example", [], duration=1.0))
    snap = p.snapshot()
    assert [s.host for s in snap] == ["a.example", "b.example"]
    a, b = snap
    assert (a.delay, a.in_flight, a.last_fetch, a.wait) == (1.0, 0, 1.0, 1.0)
    assert (b.delay, b.concurrency, b.last_fetch) == (3.0, 2, None)
    with pytest.raises(ValueError, match="concurrency"):
        p.configure("a.example", concurrency=0)


def test_a_later_success_does_not_shorten_a_retry_after_hold() -> None:
    vt = VirtualTime()
    p = vt.politeness(default_delay=1.0)
    p.configure("a.example", concurrency=2)
    log: Log = []
    vt.run(
        request(p, vt, "a.example", log, duration=1.0, status=429, retry_after=30.0),
        request(p, vt, "a.example", log, duration=5.0),  # ends after the 429, with a success
    )
    vt.run(request(p, vt, "a.example", log))
    throttled_end = min(e for _, _, e in log)
    assert log[-1][1] >= throttled_end + 30.0


def test_a_request_sent_late_pushes_the_next_start() -> None:
    """Two connections per host: the first request leaves 0.4 s after acquire (a busy loop); the second
    still starts a full delay after it actually left."""
    vt = VirtualTime()
    p = vt.politeness(default_delay=1.0)
    p.configure("a.example", concurrency=2)
    sent: list[float] = []

    async def late_first() -> None:
        await p.acquire("a.example")
        await vt.sleep(0.4)  # the loop was busy elsewhere
        p.sent("a.example")
        sent.append(vt.now)
        await vt.sleep(3.0)
        p.release("a.example", status=200)

    async def second() -> None:
        await vt.sleep(0.01)
        await p.acquire("a.example")
        p.sent("a.example")
        sent.append(vt.now)
        p.release("a.example", status=200)

    vt.run(late_first(), second())
    assert sent[1] - sent[0] >= 1.0 - 1e-9  # without sent(), the second would leave at 1.0: 0.6 s after
