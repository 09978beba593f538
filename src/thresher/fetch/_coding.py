"""Content-coding decoders with an output cap: a compression bomb stops at the cap instead of filling memory.

httpx's own decoders (``Response.aiter_bytes``) inflate each raw chunk in one call with no output limit: a
64 KB chunk of a gzip bomb becomes ~64 MB before any caller-side check runs. These decoders pass the
remaining room to zlib (``max_length``) and to brotli (``output_buffer_limit``), so no call returns much
more than the cap allows.
"""

from __future__ import annotations

import importlib
import zlib
from types import ModuleType
from typing import Any, Protocol

__all__ = ["CappedDecoder", "DecodeError", "UnsupportedEncoding", "brotli_module"]


class DecodeError(Exception):
    """The body is not valid data in its declared content coding."""


class UnsupportedEncoding(Exception):
    """The response uses a content coding thresher cannot decode."""


def brotli_module() -> ModuleType | None:
    """The ``brotli`` module when installed and new enough to cap its output (1.2+), else None."""
    try:
        module = importlib.import_module("brotli")
    except ImportError:
        return None
    # Older releases cannot bound one call's output, which would defeat the cap: treat them as absent.
    if not hasattr(module.Decompressor(), "can_accept_more_data"):
        return None
    return module


class _Stage(Protocol):
    """One content coding's decoder."""

    @property
    def complete(self) -> bool:
        """True once the end-of-stream marker has been seen."""
        ...

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decode ``data``, returning at most about ``limit`` bytes (``limit`` >= 1)."""
        ...


class _ZlibStage:
    """gzip (several members allowed) or deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, *, gzip: bool) -> None:
        # 32 + MAX_WBITS auto-detects gzip or zlib headers: servers mislabel one as the other.
        self._wbits = 32 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS
        self._fallback: int | None = None if gzip else -zlib.MAX_WBITS
        self._gzip = gzip
        self._inflater = zlib.decompressobj(self._wbits)
        self._started = False
        self._members = 0
        self._done = False

    @property
    def complete(self) -> bool:
        """True once a whole stream has been decoded."""
        return self._done or self._inflater.eof

    def feed(self, data: bytes, limit: int) -> bytes:
        """Inflate ``data`` into at most ``limit`` bytes; input beyond the limit is dropped."""
        out = bytearray()
        while data and not self._done and len(out) < limit:
            try:
                chunk = self._inflater.decompress(data, limit - len(out))
            except zlib.error as exc:
                if not self._started and self._fallback is not None:
                    self._inflater = zlib.decompressobj(self._fallback)
                    self._fallback = None
                    continue
                if not self._started and self._members:
                    self._done = True  # bytes after a complete stream: ignored, as browsers do
                    break
                raise DecodeError(str(exc)) from exc
            self._started = True
            out += chunk
            if self._inflater.eof:
                self._members += 1
                data = self._inflater.unused_data
                if self._gzip and data:
                    self._inflater = zlib.decompressobj(self._wbits)
                    self._started = False
                else:
                    self._done = True
            else:
                data = self._inflater.unconsumed_tail
        return bytes(out)


class _BrotliStage:
    """br, through a brotli module that can bound each call's output."""

    def __init__(self, module: ModuleType) -> None:
        self._decompressor: Any = module.Decompressor()
        self._error: Any = module.error

    @property
    def complete(self) -> bool:
        """True once the brotli stream has ended."""
        return bool(self._decompressor.is_finished())

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decode ``data`` into at most about ``limit`` bytes (brotli may overshoot by one 32 KB block)."""
        out = bytearray()
        try:
            while len(out) < limit:
                out += self._decompressor.process(data, output_buffer_limit=limit - len(out))
                data = b""
                if self._decompressor.can_accept_more_data():
                    break
        except self._error as exc:
            raise DecodeError(str(exc)) from exc
        return bytes(out)


class CappedDecoder:
    """Undo a ``Content-Encoding`` chain, producing at most ``cap`` bytes; ``exceeded`` says it was cut."""

    def __init__(self, content_encoding: str | None, cap: int, *, brotli: ModuleType | None = None) -> None:
        self.cap = cap
        self.exceeded = False
        self._stages: list[_Stage] = []
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        # Codings are listed in the order they were applied, so they are undone from the last one.
        for coding in reversed(codings):
            if coding in ("", "identity"):
                continue
            if coding in ("gzip", "x-gzip"):
                self._stages.append(_ZlibStage(gzip=True))
            elif coding == "deflate":
                self._stages.append(_ZlibStage(gzip=False))
            elif coding == "br" and brotli is not None:
                self._stages.append(_BrotliStage(brotli))
            else:
                raise UnsupportedEncoding(coding)
        self._totals = [0] * (len(self._stages) + 1)

    @property
    def identity(self) -> bool:
        """True when the body has no content coding (so exceeding the cap is plain size, not a bomb)."""
        return not self._stages

    @property
    def complete(self) -> bool:
        """True when every coding reached its end-of-stream marker (always True for identity)."""
        return all(stage.complete for stage in self._stages)

    def feed(self, data: bytes) -> bytes:
        """Decode the next raw bytes; returns nothing more once the cap is exceeded."""
        if self.exceeded:
            return b""
        for i, stage in enumerate(self._stages):
            if not data:
                return b""
            # One byte of room beyond the cap is how an over-long stream is told from an exact fit.
            data = stage.feed(data, self.cap - self._totals[i] + 1)
            self._totals[i] += len(data)
            if self._totals[i] > self.cap:
                self.exceeded = True
        final = len(self._stages)
        room = self.cap - self._totals[final]
        if len(data) > room:
            self.exceeded = True
            data = data[: max(room, 0)]
        self._totals[final] += len(data)
        return data
