"""The HTTP client: one polite GET with manual redirects, size and decompression caps, and no exceptions.

Every network or HTTP problem comes back as a :class:`FetchResult` with ``error`` set; only programming
errors (and cancellation) propagate. Bodies are read with ``aiter_raw`` and decoded here, because httpx's
own decoders cannot be told to stop at a size (see ``_coding``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import re
import ssl
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from types import TracebackType
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx

from ._coding import CappedDecoder, DecodeError, UnsupportedEncoding, brotli_module
from .result import FetchResult

__all__ = ["DEFAULT_ACCEPT", "Fetcher", "parse_retry_after"]

DEFAULT_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?", re.ASCII)
_POOL_SWEEP_SECONDS = 5.0  # httpx's keep-alive expiry: an origin's pool idle this long is closed

# httpcore asks sniffio which async library runs, 4 times per request, with an ``import sniffio``
# inside the function; httpx no longer depends on it, and a failed import is not cached, so each
# call searched the whole sys.path again (~0.5 ms per page in the crawl's profile). A None entry in
# sys.modules makes the same import fail at once, which httpcore already takes as "asyncio".
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP date); None when unusable."""
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP dates are always GMT
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _content_type(value: str | None) -> tuple[str | None, str | None]:
    """The lower-cased media type and charset parameter of a Content-Type value."""
    if value is None:
        return None, None
    media, *params = value.split(";")
    charset = None
    for param in params:
        name, _, raw = param.partition("=")
        if name.strip().lower() == "charset":
            charset = raw.strip().strip("\"'").strip().lower() or None
    return media.strip().lower() or None, charset


def _content_length(response: httpx.Response) -> int | None:
    """The declared Content-Length, None when absent or not a number."""
    value = response.headers.get("content-length")
    if value is None:
        return None
    # Repeated identical values ("10, 10") are legal (RFC 9110 §8.6); anything else is not trusted.
    values = {v.strip() for v in value.split(",")}
    if len(values) != 1:
        return None
    (single,) = values
    return int(single) if single.isascii() and single.isdigit() else None


def _last(response: httpx.Response, name: str) -> str | None:
    """The last value of a header: for a repeated single-valued header, the last one wins."""
    values = response.headers.get_list(name)
    return values[-1] if values else None


def _sendable(value: str) -> bool:
    """True when ``value`` can go into a request header as is."""
    return value.isascii() and value.isprintable()


def _is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def _resolve(base: str, location: str) -> str | None:
    """The absolute http(s) URL a Location header points to, without fragment; None when unusable."""
    try:
        target, _ = urldefrag(urljoin(base, location.strip()))
    except ValueError:
        return None
    return target if _is_web_url(target) else None


async def _raw_chunks(response: httpx.Response) -> AsyncGenerator[bytes, None]:
    """The body as sent (content coding intact), in the chunks the network delivers."""
    if response.is_stream_consumed and isinstance(response.stream, httpx.AsyncByteStream):
        # An in-memory response (``Response(content=...)`` from a mock transport) was read when built;
        # its stream still holds the raw bytes, while ``aiter_raw`` would refuse to run.
        async for chunk in response.stream:
            yield chunk
        return
    async for chunk in response.aiter_raw():
        yield chunk


def _loop_key(url: str) -> str:
    """One spelling per URL for loop detection (httpx's normal form: lower-case host, "/" path)."""
    try:
        return str(httpx.URL(url))
    except httpx.InvalidURL:
        return url


def _reason(exc: Exception, *, got_response: bool) -> str:
    """The short machine reason for a transport exception."""
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timeout"
    if isinstance(exc, httpx.ConnectError | httpx.ProxyError | ConnectionRefusedError):
        return "connect-error"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "bad-url"
    if isinstance(exc, httpx.RemoteProtocolError):
        # Once the headers are in, the peer closing early means the body is cut short.
        return "truncated" if got_response else "protocol-error"
    if isinstance(exc, httpx.ReadError | httpx.WriteError | ConnectionError):
        return "reset"
    if isinstance(exc, httpx.LocalProtocolError):
        return "protocol-error"
    return "network-error"


class _Tracked(httpx.AsyncByteStream):
    """A response body stream that tells its origin's pool when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, pool: _OriginPool) -> None:
        self._stream = stream
        self._pool: _OriginPool | None = pool

    async def __aiter__(self) -> AsyncGenerator[bytes, None]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._pool is not None:
                self._pool.done()
                self._pool = None


class _OriginPool:
    """The transport of one origin, with its open requests counted so an idle one can be closed."""

    __slots__ = ("active", "transport", "used")

    def __init__(self, transport: httpx.AsyncHTTPTransport) -> None:
        self.transport = transport
        self.active = 0
        self.used = time.monotonic()

    def done(self) -> None:
        self.active -= 1
        self.used = time.monotonic()


class _PerOriginTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, one per origin (scheme, host, port) instead of one for every host.

    httpcore's pool scans all its connections, and polls each idle one's socket, every time it hands
    out or takes back a connection: with one pool for a 20-host crawl that was ~750 checks per page and
    the largest cost in the crawl loop. Per origin, a pool holds only that host's few connections. A
    pool with nothing in flight and unused for the keep-alive expiry is closed, as the shared pool
    would have closed its expired connections, so a crawl of many hosts holds no idle sockets.
    """

    def __init__(self) -> None:
        self._ssl: ssl.SSLContext | None = None  # made once (loading the CA bundle costs ~20 ms)
        self._pools: dict[tuple[bytes, bytes, int | None], _OriginPool] = {}
        self._next_sweep = time.monotonic() + _POOL_SWEEP_SECONDS

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + _POOL_SWEEP_SECONDS
            await self._sweep(now)
        url = request.url
        key = (url.raw_scheme, url.raw_host, url.port)
        pool = self._pools.get(key)
        if pool is None:
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            pool = self._pools[key] = _OriginPool(httpx.AsyncHTTPTransport(verify=self._ssl))
        pool.active += 1
        try:
            response = await pool.transport.handle_async_request(request)
        except BaseException:
            pool.done()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_Tracked(response.stream, pool),
            extensions=response.extensions,
        )

    async def _sweep(self, now: float) -> None:
        idle = [
            key
            for key, pool in self._pools.items()
            if pool.active <= 0 and now - pool.used >= _POOL_SWEEP_SECONDS
        ]
        for key in idle:
            await self._pools.pop(key).transport.aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.transport.aclose()


@dataclass(slots=True, frozen=True)
class _Limits:
    """The limits of one fetch (the Fetcher's defaults unless the call overrides them)."""

    html_only: bool
    max_bytes: int
    max_decoded: int
    max_redirects: int
    in_scope: Callable[[str], bool]
    keep_partial: bool


class Fetcher:
    """An async HTTP client for polite crawling: honest User-Agent, manual redirects, capped bodies."""

    def __init__(
        self,
        *,
        user_agent: str,
        connect_timeout: float = 10.0,
        read_timeout: float = 20.0,
        total_timeout: float = 60.0,
        max_bytes: int = 10 * 1024 * 1024,
        max_decompressed_bytes: int = 10 * 1024 * 1024,
        max_redirects: int = 10,
        in_scope: Callable[[str], bool] = lambda url: True,
        transport: httpx.AsyncBaseTransport | None = None,
        html_only: bool = True,
        on_request: Callable[[str], None] | None = None,
    ) -> None:
        if not user_agent.strip() or not _sendable(user_agent):
            raise ValueError("user_agent must name the crawler in printable ASCII")
        if min(connect_timeout, read_timeout, total_timeout) <= 0:
            raise ValueError("timeouts must be positive")
        if max_bytes < 1 or max_decompressed_bytes < 1 or max_redirects < 0:
            raise ValueError("size limits must be positive and max_redirects not negative")
        self.user_agent = user_agent
        self.total_timeout = total_timeout
        self._defaults = _Limits(
            html_only=html_only,
            max_bytes=max_bytes,
            max_decoded=max_decompressed_bytes,
            max_redirects=max_redirects,
            in_scope=in_scope,
            keep_partial=False,
        )
        self._brotli = brotli_module()
        # Only codings decoded here under the cap are offered; httpx would otherwise add its own list.
        self.accept_encoding = "gzip, deflate, br" if self._brotli is not None else "gzip, deflate"
        # The client builds each request (its headers, cookie jar, timeouts) and closes the transport; the
        # request goes to the transport directly (see _send).
        self._transport = transport if transport is not None else _PerOriginTransport()
        self._client = httpx.AsyncClient(
            headers={"User-Agent": user_agent, "Accept-Encoding": self.accept_encoding},
            timeout=httpx.Timeout(
                connect=connect_timeout, read=read_timeout, write=read_timeout, pool=total_timeout
            ),
            follow_redirects=False,
            transport=self._transport,
        )
        self._on_request = on_request

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | datetime | None = None,
        accept: str = DEFAULT_ACCEPT,
        html_only: bool | None = None,
        max_bytes: int | None = None,
        max_redirects: int | None = None,
        in_scope: Callable[[str], bool] | None = None,
        keep_partial: bool = False,
    ) -> FetchResult:
        """GET ``url`` following redirects; never raises for network or HTTP problems.

        The keyword overrides after ``accept`` exist for robots.txt and sitemaps: ``max_bytes`` caps both raw
        and decoded size, and ``keep_partial`` reads the first ``max_bytes`` of a larger body (``error`` is
        still ``too-large``) instead of refusing it.
        """
        d = self._defaults
        limits = _Limits(
            html_only=d.html_only if html_only is None else html_only,
            max_bytes=d.max_bytes if max_bytes is None else max_bytes,
            max_decoded=d.max_decoded if max_bytes is None else min(max_bytes, d.max_decoded),
            max_redirects=d.max_redirects if max_redirects is None else max_redirects,
            in_scope=d.in_scope if in_scope is None else in_scope,
            keep_partial=keep_partial,
        )
        headers = {"Accept": accept}
        if isinstance(last_modified, datetime):
            last_modified = format_datetime(last_modified.astimezone(UTC), usegmt=True)
        # Validators come from earlier responses; one that cannot be sent back (non-ASCII, line breaks)
        # is dropped, since httpx would raise on it and a plain GET is the right fallback.
        if etag and _sendable(etag):
            headers["If-None-Match"] = etag
        if last_modified and _sendable(last_modified):
            headers["If-Modified-Since"] = last_modified
        result = FetchResult(requested_url=url, url=url)
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.total_timeout):
                await self._exchange(result, headers, limits)
        except TimeoutError:
            result.error = result.error or "timeout"
        result.elapsed = time.monotonic() - started
        if result.not_modified:
            # A 304 need not repeat the validators, and the cached ones are still the valid ones.
            result.etag = result.etag or etag
            result.last_modified = result.last_modified or last_modified
        return result

    async def _exchange(self, result: FetchResult, headers: dict[str, str], limits: _Limits) -> None:
        """Request ``result.url`` and each redirect hop in turn, filling ``result``."""
        current = result.requested_url
        if not _is_web_url(current):
            result.error = "bad-url"  # checked here because a custom transport would take any scheme
            return
        seen = {_loop_key(current)}
        while True:
            result.url = current
            result.status, result.headers = 0, []
            try:
                async with self._send(current, headers) as response:
                    self._record(result, response)
                    if response.status_code not in _REDIRECTS:
                        await self._finish(result, response, limits)
                        return
                    location = result.header("location")
                    target = _resolve(current, location) if location is not None else None
                    if target is None:
                        result.error = "bad-redirect"
                        return
                    result.redirects.append(target)
                    if _loop_key(target) in seen:
                        result.error = "redirect-loop"
                    elif len(result.redirects) > limits.max_redirects:
                        result.error = "too-many-redirects"
                    elif not limits.in_scope(target):
                        result.error = "out-of-scope-redirect"  # recorded above, never requested
                    if result.error is not None:
                        return
                    seen.add(_loop_key(target))
                    current = target
            except httpx.InvalidURL:
                result.error = "bad-url"
                return
            except (httpx.TransportError, OSError) as exc:
                result.error = result.error or _reason(exc, got_response=result.status != 0)
                return

    @contextlib.asynccontextmanager
    async def _send(self, url: str, headers: dict[str, str]) -> AsyncIterator[httpx.Response]:
        """One GET (no redirect followed), its response open until the block ends.

        What ``AsyncClient.stream`` does for it, without the layers it does not need: the client builds
        the request (default headers, cookie jar, timeouts) and takes the response's cookies, and the
        request goes to the transport itself. Redirects are followed in _exchange, auth is never used,
        and the hooks were thresher's own; those layers cost ~0.1-0.3 ms of the event loop's CPU a
        request. Without the redirect layer httpx no longer parses a 3xx's Location (it raised on one
        it could not parse, losing the response, so the header used to be hidden from it).

        Raises:
            httpx.InvalidURL, httpx.TransportError: as ``AsyncClient.stream``.
        """
        request = self._client.build_request("GET", url, headers=headers)
        if self._on_request is not None:
            target = request.url
            self._on_request(f"{target.host}:{target.port}" if target.port else target.host)
        response = await self._transport.handle_async_request(request)
        try:
            response.request = request
            if "set-cookie" in response.headers:
                self._client.cookies.extract_cookies(response)
            yield response
        finally:
            await response.aclose()

    @staticmethod
    def _record(result: FetchResult, response: httpx.Response) -> None:
        """Copy status, headers and validators of a response into ``result``."""
        result.status = response.status_code
        # Raw pairs keep the server's spelling of names (multi_items() lower-cases them) for the WARC record.
        encoding = response.headers.encoding
        result.headers = [(k.decode(encoding), v.decode(encoding)) for k, v in response.headers.raw]
        result.fetched_at = datetime.now(UTC)
        result.content_type, result.charset = _content_type(_last(response, "content-type"))
        result.etag = _last(response, "etag")
        result.last_modified = _last(response, "last-modified")
        result.retry_after = None
        if response.status_code in _RETRY_AFTER_STATUSES:
            result.retry_after = parse_retry_after(_last(response, "retry-after"))

    async def _finish(self, result: FetchResult, response: httpx.Response, limits: _Limits) -> None:
        """Handle the final response: 304, status errors, type and size checks, then the body."""
        status = response.status_code
        if status == 304:
            result.not_modified = True
            return
        if not 200 <= status < 300:
            # The body of an error page is still read (under the caps) so the connection can be reused.
            result.error = f"http-{status}"
        elif limits.html_only and result.content_type not in (None, *_HTML_TYPES):
            result.error = "not-html"  # decided on the headers alone: the body is never downloaded
            return
        length = _content_length(response)
        if length is not None and length > limits.max_bytes and not limits.keep_partial:
            result.error = result.error or "too-large"
            return
        await self._read_body(result, response, limits, length)

    async def _read_body(
        self, result: FetchResult, response: httpx.Response, limits: _Limits, length: int | None
    ) -> None:
        """Stream the raw body through the capped decoder into ``result.body``."""
        try:
            # get() joins repeated headers with ", ": several Content-Encoding lines form one chain.
            coding = response.headers.get("content-encoding")
            decoder = CappedDecoder(coding, limits.max_decoded, brotli=self._brotli)
        except UnsupportedEncoding:
            result.error = result.error or "unsupported-encoding"
            return
        body = bytearray()
        raw_total = 0
        error: str | None = None
        try:
            # aclosing: leaving the loop early must close the generator now, while the stream is open.
            async with contextlib.aclosing(_raw_chunks(response)) as chunks:
                async for raw in chunks:
                    room = limits.max_bytes - raw_total
                    raw_total += len(raw)
                    if raw_total > limits.max_bytes:
                        if limits.keep_partial:
                            body += decoder.feed(raw[:room])
                        error = "too-large"
                        break
                    body += decoder.feed(raw)
                    if decoder.exceeded:
                        error = "too-large" if decoder.identity else "decompression-bomb"
                        break
                else:
                    if length is not None and raw_total < length:
                        error = "truncated"
                    elif raw_total and not decoder.complete:
                        error = "truncated"  # a compressed stream that stops before its end marker
        except DecodeError:
            error = "decode-error"
        finally:
            # Kept on errors too: a truncated or capped body is still useful to robots.txt and debugging.
            result.body = bytes(body)
        if error is not None:
            result.error = result.error or error
