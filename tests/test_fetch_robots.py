"""robots.txt: RFC 9309 outcomes for every status and failure, re-fetching, user-agent matching, limits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from thresher.fetch import Fetcher, FetchResult, RobotsPolicy, product_token

UA = "thresher/0.1.0 (+https://github.com/thresher-archive/thresher)"
BASE = "https://a.example"

ROBOTS = b"""\
User-agent: *
Disallow: /

User-agent: Thresher
Disallow: /private/
Allow: /private/open
Crawl-delay: 5

User-agent: github
Disallow: /

Sitemap: https://a.example/sitemap.xml
Sitemap: https://a.example/news.xml
"""


class Clock:
    """A hand-driven monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Server:
    """A scripted robots.txt server: each request takes the next reply (the last one repeats)."""

    def __init__(self, *replies: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]):
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply


def ok(body: bytes = ROBOTS, **headers: str) -> httpx.Response:
    return httpx.Response(200, headers={"Content-Type": "text/plain", **headers}, content=body)


def run(server: Server, *steps: Callable[[Fetcher], Any], **fetcher_kw: Any) -> None:
    """Run ``steps`` (coroutine functions taking the fetcher) in order on one event loop."""

    async def go() -> None:
        async with Fetcher(user_agent=UA, transport=httpx.MockTransport(server), **fetcher_kw) as fetcher:
            for step in steps:
                await step(fetcher)

    asyncio.run(go())


def loaded(server: Server, **kw: Any) -> RobotsPolicy:
    policy = RobotsPolicy(**kw)
    run(server, lambda f: policy.load(f, f"{BASE}/some/page?x=1"))
    return policy


def test_rules_for_our_product_token() -> None:
    server = Server(ok())
    policy = loaded(server)
    assert policy.state == "ok" and policy.status == 200
    assert server.requests[0].url == "https://a.example/robots.txt"
    assert server.requests[0].headers["User-Agent"] == UA
    assert policy.allowed(f"{BASE}/post/1", UA)
    assert not policy.allowed(f"{BASE}/private/x", UA)
    assert policy.allowed(f"{BASE}/private/open", UA)  # the longer Allow wins
    assert not policy.allowed(f"{BASE}/post/1", "otherbot/2.0")  # falls to the * group
    assert policy.allowed(f"{BASE}/robots.txt", "otherbot/2.0")


def test_user_agent_is_matched_by_product_token_only() -> None:
    # The comment part of our UA mentions github.com; the "github" group must not capture us.
    assert product_token(UA) == "thresher"
    assert product_token("Thresher_Bot-2/1.0") == "thresher_bot-"
    policy = loaded(Server(ok(b"User-agent: github\nDisallow: /\n\nUser-agent: *\nAllow: /\n")))
    assert policy.allowed(f"{BASE}/post", UA)


def test_crawl_delay_and_request_rate() -> None:
    policy = loaded(Server(ok()))
    assert policy.crawl_delay(UA) == 5.0
    assert policy.crawl_delay("otherbot") is None
    policy = loaded(Server(ok(b"User-agent: thresher\nRequest-rate: 1/10\nCrawl-delay: 2\n")))
    assert policy.crawl_delay(UA) == 10.0  # the stricter of the two


def test_sitemaps_are_listed_in_order() -> None:
    assert loaded(Server(ok())).sitemaps() == ["https://a.example/sitemap.xml", "https://a.example/news.xml"]


def test_byte_order_mark_and_html_content_type_do_not_matter() -> None:
    body = b"\xef\xbb\xbfUser-agent: *\nDisallow: /x\n"
    policy = loaded(Server(httpx.Response(200, headers={"Content-Type": "text/html"}, content=body)))
    assert policy.state == "ok" and not policy.allowed(f"{BASE}/x", UA) and policy.allowed(f"{BASE}/y", UA)


@pytest.mark.parametrize("status", [404, 410, 401, 403])
def test_4xx_allows_everything(status: int) -> None:
    policy = loaded(Server(httpx.Response(status)))
    assert policy.state == "allow-all" and policy.allowed(f"{BASE}/anything", UA)
    assert policy.crawl_delay(UA) is None and policy.sitemaps() == [] and policy.retry_at is None


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(500),
        httpx.Response(503, headers={"Retry-After": "10"}),
        httpx.Response(429),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.ReadError("reset"),
    ],
)
def test_server_errors_and_network_failures_disallow_everything(reply: httpx.Response | Exception) -> None:
    clock = Clock()
    policy = loaded(Server(reply), clock=clock)
    assert policy.state == "unreachable"
    assert not policy.allowed(f"{BASE}/post", UA)
    assert policy.retry_at == clock.now + 60


def test_unreachable_is_retried_with_growing_waits_then_recovers() -> None:
    clock = Clock()
    server = Server(httpx.Response(500), httpx.Response(502), ok())
    policy = RobotsPolicy(clock=clock)

    async def check(f: Fetcher) -> None:
        await policy.ensure(f, BASE)  # first load
        assert policy.state == "unreachable" and policy.retry_at == clock.now + 60
        await policy.ensure(f)  # too early: no request
        assert len(server.requests) == 1
        clock.now += 60
        await policy.ensure(f)
        assert len(server.requests) == 2 and policy.state == "unreachable"
        assert policy.retry_at == clock.now + 120  # doubled
        clock.now += 120
        await policy.ensure(f)
        state: str = policy.state  # a plain str: mypy keeps the narrowing from before the await
        assert state == "ok" and policy.retry_at is None and policy.allowed(f"{BASE}/post", UA)

    run(server, check)


def test_retry_wait_is_capped() -> None:
    clock = Clock()
    policy = RobotsPolicy(clock=clock, retry_base=60, retry_cap=300)
    for _ in range(10):
        policy.apply(_failed())
    assert policy.retry_at == clock.now + 300


def _failed() -> FetchResult:
    return FetchResult(requested_url=f"{BASE}/robots.txt", url=f"{BASE}/robots.txt", error="timeout")


def test_known_rules_survive_a_failed_refresh() -> None:
    clock = Clock()
    server = Server(ok(), httpx.Response(500))
    policy = RobotsPolicy(clock=clock, max_age=3600)

    async def check(f: Fetcher) -> None:
        await policy.load(f, BASE)
        clock.now += 3600  # expired
        assert policy.due()
        await policy.ensure(f)
        assert len(server.requests) == 2
        # RFC 9309 §2.4: the cached copy stays in force while the file is unreachable
        assert policy.state == "ok" and not policy.allowed(f"{BASE}/private/x", UA)
        assert policy.allowed(f"{BASE}/post", UA) and policy.retry_at == clock.now + 60

    run(server, check)


def test_rules_expire_and_are_fetched_again() -> None:
    clock = Clock()
    server = Server(ok(), ok(b"User-agent: *\nDisallow: /\n"))
    policy = RobotsPolicy(clock=clock)

    async def check(f: Fetcher) -> None:
        await policy.load(f, BASE)
        await policy.ensure(f)
        assert len(server.requests) == 1
        clock.now += 24 * 3600
        await policy.ensure(f)
        assert len(server.requests) == 2 and not policy.allowed(f"{BASE}/post", UA)

    run(server, check)


def test_concurrent_ensure_fetches_once() -> None:
    server = Server(ok())
    policy = RobotsPolicy()

    async def check(f: Fetcher) -> None:
        await asyncio.gather(*(policy.ensure(f, BASE) for _ in range(5)))

    run(server, check)
    assert len(server.requests) == 1 and policy.state == "ok"


def test_unloaded_policy_allows_nothing() -> None:
    policy = RobotsPolicy()
    assert policy.state == "unloaded" and not policy.allowed(f"{BASE}/post", UA)

    async def check(f: Fetcher) -> None:
        with pytest.raises(ValueError, match="base_url"):
            await policy.ensure(f)

    run(Server(ok()), check)


def test_redirects_are_followed_across_hosts() -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.host == "a.example":
            return httpx.Response(301, headers={"Location": "https://cdn.example/robots/a.txt"})
        return ok()

    server = Server(reply)
    scope_calls: list[str] = []
    policy = RobotsPolicy()

    def in_scope(url: str) -> bool:  # a crawl scope that would reject cdn.example: not for robots.txt
        scope_calls.append(url)
        return httpx.URL(url).host == "a.example"

    run(server, lambda f: policy.load(f, BASE), in_scope=in_scope)
    assert [r.url.host for r in server.requests] == ["a.example", "cdn.example"]
    assert policy.state == "ok" and scope_calls == []


def test_endless_redirects_mean_unavailable() -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("n", "0"))
        return httpx.Response(302, headers={"Location": f"/robots.txt?n={n + 1}"})

    server = Server(reply)
    policy = loaded(server)
    assert policy.state == "allow-all" and policy.error == "too-many-redirects"
    assert len(server.requests) == 6  # the file and five redirects


def test_redirect_loop_means_unavailable() -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        target = "/robots2.txt" if request.url.path == "/robots.txt" else "/robots.txt"
        return httpx.Response(302, headers={"Location": target})

    policy = loaded(Server(reply))
    assert policy.state == "allow-all" and policy.error == "redirect-loop"


def test_oversized_file_is_parsed_up_to_the_cap() -> None:
    head = b"User-agent: *\nDisallow: /early\n"
    filler = b"# " + b"x" * 97 + b"\n"
    body = head + filler * 10_000 + b"Disallow: /late\n"  # ~1 MB, the late rule beyond 500 KiB
    policy = loaded(Server(ok(body)))
    assert policy.state == "ok" and policy.error == "too-large"
    assert not policy.allowed(f"{BASE}/early", UA)
    assert policy.allowed(f"{BASE}/late", UA)


def test_cut_off_last_line_is_not_half_applied() -> None:
    # "Disallow: /" cut from "Disallow: /archive" would block the whole site.
    body = b"User-agent: *\nDisallow: /tmp\n" + b"#" * (1000 - 29) + b"\nDisallow: /archive\n"
    cut = body.index(b"/archive") + 1
    policy = loaded(Server(ok(body)), max_bytes=cut)
    assert policy.error == "too-large" and policy.allowed(f"{BASE}/post", UA)


def test_robots_txt_is_fetched_even_by_an_html_only_fetcher() -> None:
    # The default Fetcher refuses non-HTML; robots.txt (text/plain) must still come through.
    policy = loaded(Server(ok(b"User-agent: *\nDisallow: /\n")))
    assert policy.state == "ok" and not policy.allowed(f"{BASE}/post", UA)


def test_retry_at_wall() -> None:
    clock = Clock()
    policy = RobotsPolicy(clock=clock, wall_clock=lambda: 5_000.0)
    policy.apply(_failed())
    assert policy.retry_at_wall() == 5_060.0


def test_robots_url_for_rejects_non_http() -> None:
    assert RobotsPolicy.robots_url_for("http://a.example:8080/x?y#z") == "http://a.example:8080/robots.txt"
    with pytest.raises(ValueError, match="http"):
        RobotsPolicy.robots_url_for("ftp://a.example/")
