"""The fetch client: caps, redirects, conditional requests, failures, retries; mocked and on a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import http.server
import socket
import struct
import threading
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from thresher.fetch import (
    Fetcher,
    FetchResult,
    fetch_with_retries,
    is_transient,
    parse_retry_after,
    retry_later,
)
from thresher.fetch._coding import CappedDecoder
from thresher.fetch.client import DEFAULT_ACCEPT

UA = "thresher/0.1.0 (+https://github.com/thresher-archive/thresher)"
URL = "https://a.example/post/"
HTML = b"<!doctype html><title>t</title><p>hello</p>"
MB = 1024 * 1024

Handler = Callable[[httpx.Request], httpx.Response]


def gzip_bomb(megabytes: int) -> bytes:
    """``megabytes`` MB of zeros as one gzip stream (about 1 KB per MB)."""
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MB)
    return b"".join([co.compress(block) for _ in range(megabytes)] + [co.flush()])


class Body(httpx.AsyncByteStream):
    """A response body that counts how much of it was read, optionally failing after its chunks."""

    def __init__(
        self, chunks: list[bytes] | None = None, *, endless: bytes = b"", then: Exception | None = None
    ):
        self.chunks = chunks or []
        self.endless = endless
        self.then = then
        self.yielded = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.yielded += 1
            yield chunk
        while self.endless:
            self.yielded += 1
            yield self.endless
        if self.then is not None:
            raise self.then


def fetch(
    handler: Handler, url: str = URL, *, fetcher: dict[str, Any] | None = None, **kw: Any
) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(user_agent=UA, transport=httpx.MockTransport(handler), **(fetcher or {})) as f:
            return await f.fetch(url, **kw)

    return asyncio.run(go())


def html(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"Content-Type": "text/html; charset=UTF-8"}, content=HTML)


# ------------------------------------------------------------------------------------------ basics


def test_plain_fetch_sends_honest_headers_and_reports_the_response() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return html(request)

    r = fetch(handler)
    assert r.ok and r.error is None and r.status == 200
    assert r.body == HTML and r.url == r.requested_url == URL and r.redirects == []
    assert (r.content_type, r.charset) == ("text/html", "utf-8")
    assert r.fetched_at.tzinfo is not None and r.elapsed >= 0
    request = seen[0]
    assert request.headers["User-Agent"] == UA
    assert request.headers["Accept"].startswith("text/html")
    assert request.headers["Accept-Encoding"] in ("gzip, deflate", "gzip, deflate, br")
    assert "If-None-Match" not in request.headers


def test_conditional_request_gives_not_modified() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return html(request)

    r = fetch(handler, etag='"v1"', last_modified="Wed, 21 Oct 2015 07:28:00 GMT")
    assert r.status == 304 and r.not_modified and not r.ok and r.error is None and r.body == b""
    assert r.etag == '"v1"' and r.last_modified == "Wed, 21 Oct 2015 07:28:00 GMT"  # kept from the request
    assert seen[0].headers["If-Modified-Since"] == "Wed, 21 Oct 2015 07:28:00 GMT"


def test_if_modified_since_from_a_datetime_is_an_http_date() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"ETag": '"v2"', "Last-Modified": "x"}, content=HTML)

    r = fetch(handler, last_modified=datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    assert seen[0].headers["If-Modified-Since"] == "Wed, 01 May 2024 12:00:00 GMT"
    assert r.ok and r.etag == '"v2"' and r.last_modified == "x" and r.content_type is None


def test_unsendable_validators_are_dropped_not_raised() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return html(request)

    r = fetch(handler, etag='"café"', last_modified="Wed, 21 Oct 2015\r\nX-Evil: 1")
    assert r.ok and "If-None-Match" not in seen[0].headers and "If-Modified-Since" not in seen[0].headers


def test_charset_parameter_is_reported_unquoted_and_lower_case() -> None:
    r = fetch(
        lambda _: httpx.Response(
            200, headers={"Content-Type": 'text/html; Charset="ISO-8859-1"'}, content=HTML
        )
    )
    assert (r.content_type, r.charset) == ("text/html", "iso-8859-1")


def test_http_errors_are_results_not_exceptions() -> None:
    r = fetch(lambda _: httpx.Response(404, headers={"Content-Type": "text/html"}, content=b"<p>gone</p>"))
    assert (r.status, r.error, r.ok) == (404, "http-404", False)
    assert r.body == b"<p>gone</p>"
    assert fetch(lambda _: httpx.Response(500)).error == "http-500"
    assert fetch(lambda _: httpx.Response(204)).ok is False  # 2xx without a body


@pytest.mark.parametrize("url", ["ftp://a.example/x", "not a url", "http://"])
def test_bad_urls(url: str) -> None:
    assert fetch(html, url).error == "bad-url"


# ------------------------------------------------------------------------------------------ codings and caps


@pytest.mark.parametrize(
    ("coding", "data"),
    [
        ("gzip", gzip.compress(HTML)),
        ("x-gzip", gzip.compress(HTML)),
        ("deflate", zlib.compress(HTML)),
        ("deflate", zlib.compress(HTML)[2:-4]),  # raw deflate, as some servers send it
        ("identity", HTML),
        ("gzip", gzip.compress(HTML[:10]) + gzip.compress(HTML[10:])),  # two gzip members
        ("gzip, gzip", gzip.compress(gzip.compress(HTML))),
    ],
)
def test_content_codings_are_decoded(coding: str, data: bytes) -> None:
    r = fetch(lambda _: httpx.Response(200, headers={"Content-Encoding": coding}, content=data))
    assert r.ok and r.body == HTML
    assert ("Content-Encoding", coding) in r.headers  # headers stay as sent; WarcStore renames them


def test_repeated_content_encoding_headers_form_one_chain() -> None:
    headers = [("Content-Encoding", "gzip"), ("Content-Encoding", "deflate")]
    data = zlib.compress(gzip.compress(HTML))
    r = fetch(lambda _: httpx.Response(200, headers=headers, stream=httpx.ByteStream(data)))
    assert r.ok and r.body == HTML


def test_gzip_bomb_stops_at_the_decompressed_cap() -> None:
    bomb = gzip_bomb(16)
    body = Body([bomb[i : i + 1024] for i in range(0, len(bomb), 1024)])
    r = fetch(
        lambda _: httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=body),
        fetcher={"max_decompressed_bytes": MB},
    )
    assert r.error == "decompression-bomb" and not r.ok
    assert len(r.body) == MB
    assert body.yielded < len(body.chunks)  # reading stopped early


def test_capped_decoder_never_inflates_past_the_cap_even_from_one_chunk() -> None:
    bomb = gzip_bomb(32)
    tracemalloc.start()
    try:
        decoder = CappedDecoder("gzip", MB)
        out = decoder.feed(bomb)  # 32 MB worth in a single call
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decoder.exceeded and len(out) == MB
    assert peak < 8 * MB  # httpx's decoder would hold all 32 MB here


def test_huge_content_length_is_refused_without_reading() -> None:
    body = Body([b"x" * 10])
    r = fetch(lambda _: httpx.Response(200, headers={"Content-Length": str(10**12)}, stream=body))
    assert r.error == "too-large" and r.body == b"" and body.yielded == 0


def test_streamed_body_without_length_stops_at_the_raw_cap() -> None:
    body = Body(endless=b"y" * 65536)
    r = fetch(lambda _: httpx.Response(200, stream=body), fetcher={"max_bytes": MB})
    assert r.error == "too-large" and body.yielded <= MB // 65536 + 1


def test_keep_partial_reads_the_first_bytes_of_a_large_body() -> None:
    body = Body(endless=b"a\n" * 32768)
    handler = lambda _: httpx.Response(200, headers={"Content-Length": str(10**9)}, stream=body)  # noqa: E731
    r = fetch(handler, max_bytes=100_000, keep_partial=True, html_only=False)
    assert r.error == "too-large" and len(r.body) == 100_000


def test_wrong_type_is_refused_after_the_headers() -> None:
    body = Body([b"\x89PNG" + b"0" * 100])
    r = fetch(lambda _: httpx.Response(200, headers={"Content-Type": "image/png"}, stream=body))
    assert r.error == "not-html" and r.content_type == "image/png" and r.body == b"" and body.yielded == 0
    assert fetch(
        lambda _: httpx.Response(200, headers={"Content-Type": "application/xhtml+xml"}, content=HTML)
    ).ok
    assert fetch(lambda _: httpx.Response(200, content=HTML)).ok  # no type: let the sniffing decide
    r = fetch(
        lambda _: httpx.Response(200, headers={"Content-Type": "image/png"}, content=b"png"), html_only=False
    )
    assert r.ok and r.body == b"png"


def test_unsupported_and_corrupt_codings() -> None:
    r = fetch(lambda _: httpx.Response(200, headers={"Content-Encoding": "compress"}, content=b"??"))
    assert r.error == "unsupported-encoding"
    # stream=: httpx would try (and fail) to decode content= itself while building the response
    corrupt = httpx.ByteStream(b"not gzip at all")
    r = fetch(lambda _: httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=corrupt))
    assert r.error == "decode-error"
    cut = gzip.compress(HTML * 50)[:-20]
    r = fetch(lambda _: httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=cut))
    assert r.error == "truncated"


# ------------------------------------------------------------------------------------------ redirects


def test_redirect_chain_is_followed_and_recorded() -> None:
    hops = {
        "/a": "/b",
        "/b": "https://a.example/c?x=1#frag",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path in hops:
            return httpx.Response(301, headers={"Location": hops[request.url.path]})
        return html(request)

    r = fetch(handler, "https://a.example/a")
    assert r.ok and r.url == "https://a.example/c?x=1" and r.requested_url == "https://a.example/a"
    assert r.redirects == ["https://a.example/b", "https://a.example/c?x=1"]


def test_redirect_loop_is_detected() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        target = "/b" if request.url.path == "/a" else "/a"
        return httpx.Response(302, headers={"Location": target})

    r = fetch(handler, "https://a.example/a")
    assert r.error == "redirect-loop" and r.status == 302
    assert r.redirects == ["https://a.example/b", "https://a.example/a"]


def test_too_many_redirects() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(307, headers={"Location": f"/{len(seen)}"})

    r = fetch(handler, "https://a.example/0", fetcher={"max_redirects": 3})
    assert r.error == "too-many-redirects" and len(seen) == 4 and len(r.redirects) == 4


def test_out_of_scope_hop_is_recorded_but_never_requested() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(301, headers={"Location": "https://tracker.example/landing"})

    r = fetch(handler, fetcher={"in_scope": lambda u: httpx.URL(u).host == "a.example"})
    assert r.error == "out-of-scope-redirect" and r.redirects == ["https://tracker.example/landing"]
    assert hosts == ["a.example"] and r.url == URL and r.status == 301


@pytest.mark.parametrize("location", [None, "javascript:alert(1)", "mailto:x@a.example", "http://[::1"])
def test_unusable_location_is_a_bad_redirect(location: str | None) -> None:
    headers = {} if location is None else {"Location": location}
    assert fetch(lambda _: httpx.Response(302, headers=headers)).error == "bad-redirect"


# ------------------------------------------------------------------------------------------ Retry-After


def test_retry_after_seconds_and_date() -> None:
    r = fetch(lambda _: httpx.Response(429, headers={"Retry-After": "120"}))
    assert (r.error, r.retry_after) == ("http-429", 120.0)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    r = fetch(lambda _: httpx.Response(503, headers={"Retry-After": when}))
    assert r.error == "http-503" and r.retry_after is not None and 85 <= r.retry_after <= 90
    assert fetch(lambda _: httpx.Response(503, headers={"Retry-After": "soon"})).retry_after is None
    assert fetch(lambda _: httpx.Response(500, headers={"Retry-After": "5"})).retry_after is None


def test_parse_retry_after() -> None:
    now = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after(" 7 ", now=now) == 7.0
    assert parse_retry_after("Mon, 01 Jan 2024 12:01:00 GMT", now=now) == 60.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0.0  # in the past
    assert parse_retry_after("-5", now=now) is None
    assert parse_retry_after("", now=now) is None
    assert parse_retry_after(None) is None


# ------------------------------------------------------------------------------------------ network failures


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (httpx.ConnectError("refused"), "connect-error"),
        (httpx.ConnectTimeout("slow"), "timeout"),
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ReadError("reset by peer"), "reset"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "protocol-error"),
        (httpx.ProxyError("proxy"), "connect-error"),
    ],
)
def test_transport_errors_before_the_response(exc: Exception, reason: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    r = fetch(handler)
    assert (r.error, r.status, r.ok) == (reason, 0, False)


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (httpx.ReadError("Connection reset by peer"), "reset"),
        (
            httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
            "truncated",
        ),
        (httpx.ReadTimeout("read"), "timeout"),
    ],
)
def test_failures_mid_body(exc: Exception, reason: str) -> None:
    body = Body([b"<p>first half"], then=exc)
    r = fetch(lambda _: httpx.Response(200, stream=body))
    assert (r.error, r.status, r.ok) == (reason, 200, False)
    assert r.body == b"<p>first half"  # what arrived is kept for inspection


def test_body_shorter_than_content_length_is_truncated() -> None:
    body = Body([b"x" * 100])
    r = fetch(lambda _: httpx.Response(200, headers={"Content-Length": "1000"}, stream=body))
    assert r.error == "truncated"


def test_total_deadline_stops_a_slow_drip() -> None:
    async def drip() -> AsyncIterator[bytes]:
        while True:
            await asyncio.sleep(0.02)  # each read is quick, so only the total deadline can stop this
            yield b"<p>"

    started = time.monotonic()
    r = fetch(lambda _: httpx.Response(200, content=drip()), fetcher={"total_timeout": 0.3})
    assert r.error == "timeout" and r.status == 200 and time.monotonic() - started < 2


def test_http_error_keeps_precedence_over_a_body_failure() -> None:
    body = Body([b"busy"], then=httpx.ReadError("reset"))
    r = fetch(lambda _: httpx.Response(503, headers={"Retry-After": "3"}, stream=body))
    assert (r.error, r.retry_after) == ("http-503", 3.0)


def test_constructor_validates() -> None:
    with pytest.raises(ValueError, match="user_agent"):
        Fetcher(user_agent=" ")
    with pytest.raises(ValueError, match="user_agent"):
        Fetcher(user_agent="thresher\u00e9/1")
    with pytest.raises(ValueError, match="timeouts"):
        Fetcher(user_agent=UA, read_timeout=0)


# ------------------------------------------------------------------------------------------ retries


def run_retries(statuses: list[int | Exception], **kw: Any) -> tuple[FetchResult, int, list[float]]:
    calls: list[int] = []
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        step = statuses[min(len(calls), len(statuses) - 1)]
        calls.append(1)
        if isinstance(step, Exception):
            raise step
        return httpx.Response(step, content=HTML if step == 200 else b"")

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    async def go() -> FetchResult:
        async with Fetcher(user_agent=UA, transport=httpx.MockTransport(handler)) as f:
            return await fetch_with_retries(f, URL, sleep=record, **kw)

    result = asyncio.run(go())
    return result, len(calls), sleeps


def test_transient_failures_are_retried_until_success() -> None:
    result, calls, sleeps = run_retries([500, httpx.ReadError("reset"), 200], min_wait=2.0, cap=4.0)
    assert result.ok and calls == 3
    assert len(sleeps) == 2 and all(2.0 <= s <= 6.0 for s in sleeps)


def test_retries_give_up_with_the_last_result() -> None:
    result, calls, _ = run_retries([httpx.ConnectTimeout("slow")], attempts=3)
    assert calls == 3 and result.error == "timeout"


@pytest.mark.parametrize("status", [404, 403, 429, 503, 501, 304])
def test_permanent_failures_and_pacing_signals_are_not_retried(status: int) -> None:
    result, calls, sleeps = run_retries([status])
    assert calls == 1 and sleeps == [] and result.status == status


def test_is_transient() -> None:
    assert is_transient(FetchResult(requested_url=URL, url=URL, status=502, error="http-502"))
    assert not is_transient(FetchResult(requested_url=URL, url=URL, error="too-large", status=200))
    assert not is_transient(FetchResult.refused(URL, "robots-disallowed"))


@pytest.mark.parametrize(
    ("status", "error", "now", "later"),
    [
        (500, None, True, True),
        (502, None, True, True),
        (501, None, False, False),  # "not implemented" will not change
        (503, None, False, True),  # the server's pacing: not at once, but later
        (429, None, False, True),
        (404, None, False, False),
        (410, None, False, False),
        (0, "timeout", True, True),
        (0, "reset", True, True),
        (0, "truncated", True, True),
        (0, "connect-error", True, True),
        (200, "too-large", False, False),
        (200, "decompression-bomb", False, False),
    ],
)
def test_one_rule_says_what_is_retried_at_once_and_what_later(
    status: int, error: str | None, now: bool, later: bool
) -> None:
    """fetch_with_retries (at once) and the crawler's frontier (later) both ask fetch.retry."""
    result = FetchResult(requested_url=URL, url=URL, status=status, error=error)
    assert (is_transient(result), retry_later(result)) == (now, later)


# ------------------------------------------------------------------------------------------ a real socket


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def do_GET(self) -> None:
        with contextlib.suppress(OSError):  # the client gave up on purpose (timeouts, caps)
            self._route()

    def _route(self) -> None:
        path = self.path
        if path == "/page":
            data = gzip.compress(HTML)
            self._head(
                200,
                {"Content-Type": "text/html", "Content-Encoding": "gzip", "Content-Length": str(len(data))},
            )
            self.wfile.write(data)
        elif path == "/moved":
            self._head(301, {"Location": "/page", "Content-Length": "0"})
        elif path == "/bomb":
            bomb = self.server.bomb
            self._head(
                200,
                {"Content-Type": "text/html", "Content-Encoding": "gzip", "Content-Length": str(len(bomb))},
            )
            self.wfile.write(bomb)
        elif path == "/slow":
            self._head(200, {"Content-Type": "text/html", "Content-Length": str(len(HTML))})
            self.wfile.flush()
            self.server.stop.wait(5)  # far longer than the client's read timeout
            self.wfile.write(HTML)
        elif path == "/cut":
            self._head(200, {"Content-Type": "text/html", "Content-Length": "1000"})
            self.wfile.write(b"<p>" + b"x" * 97)
            self.wfile.flush()
            self.close_connection = True
        elif path == "/reset":
            self._head(200, {"Content-Type": "text/html", "Content-Length": "1000"})
            self.wfile.write(b"<p>" + b"x" * 97)
            self.wfile.flush()
            time.sleep(0.1)  # let the client be waiting in recv() when the RST lands
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN: a reset connection.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        else:
            self._head(404, {"Content-Length": "0"})


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    bomb: bytes
    stop: threading.Event


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.bomb = gzip_bomb(64)
    srv.stop = threading.Event()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.stop.set()
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def real_fetch(url: str, **fetcher_kw: Any) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(user_agent=UA, **fetcher_kw) as f:
            return await f.fetch(url)

    return asyncio.run(go())


def test_real_gzip_page_and_redirect(server: str) -> None:
    r = real_fetch(f"{server}/moved")
    assert r.ok and r.body == HTML and r.redirects == [f"{server}/page"]


def test_real_gzip_bomb(server: str) -> None:
    r = real_fetch(f"{server}/bomb", max_decompressed_bytes=2 * MB)
    assert r.error == "decompression-bomb" and len(r.body) == 2 * MB


def test_real_slow_response_hits_the_read_timeout(server: str) -> None:
    started = time.monotonic()
    r = real_fetch(f"{server}/slow", read_timeout=0.3)
    assert r.error == "timeout" and r.status == 200 and time.monotonic() - started < 3


def test_real_connection_closed_mid_body(server: str) -> None:
    r = real_fetch(f"{server}/cut")
    assert r.error == "truncated" and r.status == 200 and len(r.body) == 100


def test_real_connection_reset_mid_body(server: str) -> None:
    r = real_fetch(f"{server}/reset")
    assert r.error == "reset" and r.status == 200


def test_real_connection_refused() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert real_fetch(f"http://127.0.0.1:{port}/").error == "connect-error"


def test_real_pools_are_per_origin_and_an_idle_one_is_closed(server: str) -> None:
    """Each origin gets its own connection pool (127.0.0.1 and localhost are two origins); a pool with
    nothing in flight is closed after the keep-alive expiry, and the next request opens a new one."""
    import thresher.fetch.client as client_module

    other = server.replace("127.0.0.1", "localhost")

    async def go() -> None:
        async with Fetcher(user_agent=UA) as f:
            transport = f._client._transport
            assert isinstance(transport, client_module._PerOriginTransport)
            first, second = await asyncio.gather(f.fetch(f"{server}/page"), f.fetch(f"{other}/page"))
            assert first.ok and second.ok
            pools = dict(transport._pools)
            assert len(pools) == 2 and all(p.active == 0 for p in pools.values())
            assert (await f.fetch(f"{server}/page")).ok
            assert transport._pools == pools  # the same pool, reused
            # as if the keep-alive expiry had passed since both pools were last used
            transport._next_sweep = 0.0
            for pool in pools.values():
                pool.used -= client_module._POOL_SWEEP_SECONDS
            assert (await f.fetch(f"{server}/page")).ok
            assert len(transport._pools) == 1  # localhost's idle pool was closed
            (key,) = transport._pools
            assert transport._pools[key] is not pools[key]  # and the swept origin's pool is a new one

    asyncio.run(go())


def test_cancellation_is_not_swallowed() -> None:
    async def drip() -> AsyncIterator[bytes]:
        while True:
            await asyncio.sleep(0.01)
            yield b"<p>"

    async def go() -> None:
        async with Fetcher(
            user_agent=UA, transport=httpx.MockTransport(lambda _: httpx.Response(200, content=drip()))
        ) as f:
            task = asyncio.ensure_future(f.fetch(URL))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(go())


def test_requests_carry_the_same_headers_and_cookies_as_through_the_client() -> None:
    """Requests go to the transport directly (Fetcher._send); they are what AsyncClient.stream sent: the
    same headers in the same order, and a cookie a response set goes back on the next request."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        cookie = {"Set-Cookie": "session=abc; Path=/"} if len(seen) == 1 else {}
        return httpx.Response(200, headers={"Content-Type": "text/html", **cookie}, content=HTML)

    async def go() -> None:
        async with Fetcher(user_agent=UA, transport=httpx.MockTransport(handler)) as f:
            assert (await f.fetch(URL, etag='"v1"')).ok
            assert (await f.fetch(URL)).ok
        client = httpx.AsyncClient(
            headers={"User-Agent": UA, "Accept-Encoding": f.accept_encoding},
            transport=httpx.MockTransport(handler),
        )
        validator = {"Accept": DEFAULT_ACCEPT, "If-None-Match": '"v1"'}
        async with client, client.stream("GET", URL, headers=validator):
            pass

    asyncio.run(go())
    first, second, reference = seen
    assert first.headers.raw == reference.headers.raw
    assert "cookie" not in first.headers
    assert second.headers["Cookie"] == "session=abc"
    assert first.extensions["timeout"] == {"connect": 10.0, "read": 20.0, "write": 20.0, "pool": 60.0}
