"""Store stage: the archive of Markdown files, its SQLite index, and the raw responses (WARC)."""

from __future__ import annotations

from .archive import Archive
from .maintenance import rebuild_index
from .warc import EncodedResponse, RawResponse, WarcRef, WarcStore, encode_response

__all__ = [
    "Archive",
    "EncodedResponse",
    "RawResponse",
    "WarcRef",
    "WarcStore",
    "encode_response",
    "rebuild_index",
]
