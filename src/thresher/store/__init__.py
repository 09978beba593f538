"""Store stage: the archive of Markdown files, its SQLite index, and the raw responses (WARC)."""

from __future__ import annotations

from .archive import Archive
from .maintenance import rebuild_index
from .warc import RawResponse, WarcRef, WarcStore

__all__ = ["Archive", "RawResponse", "WarcRef", "WarcStore", "rebuild_index"]
