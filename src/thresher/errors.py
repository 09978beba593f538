"""thresher's exceptions: one tree, so callers can catch everything with ``ThresherError``.

::

    ThresherError
    ├── InputError          bad input from the user: missing file, directory, unreadable path
    │   └── NotHTML         bytes or text that are not an HTML document (empty, binary, plain text)
    ├── PostError           a Markdown post whose front matter cannot be parsed
    ├── ConfigError         a configuration or site-profile file that is invalid
    ├── ExportError         an export cannot be written as asked (bad option, pyarrow missing, unwritable)
    └── StoreError          the archive cannot be used as asked
        ├── IndexCorrupt    index.db is damaged or not a thresher index (it is never overwritten)
        ├── ArchiveBusy     another process holds the archive's index for writing
        └── CrawlLocked     another crawl holds the archive's crawl lock (archive/crawl.lock)

Third-party exceptions (OSError, yaml, sqlite3, httpx) are translated at the boundary with
``raise ... from exc``; nothing else escapes the library.
"""

from __future__ import annotations

__all__ = [
    "ArchiveBusy",
    "ConfigError",
    "CrawlLocked",
    "ExportError",
    "IndexCorrupt",
    "InputError",
    "NotHTML",
    "PostError",
    "StoreError",
    "ThresherError",
]


class ThresherError(Exception):
    """Base class of every error thresher raises on purpose."""


class InputError(ThresherError):
    """The input given by the user cannot be used (missing, a directory, unreadable)."""


class NotHTML(InputError):
    """The input is not an HTML document: empty, binary, or text without any markup."""


class PostError(ThresherError):
    """A Markdown post (front matter + body) cannot be parsed."""


class ConfigError(ThresherError):
    """A configuration or site-profile file is invalid."""


class ExportError(ThresherError):
    """An export cannot be written as asked: a bad option, pyarrow missing, an unwritable output."""


class StoreError(ThresherError):
    """The archive (files, index, WARC) cannot be used as asked."""


class IndexCorrupt(StoreError):
    """``index.db`` is damaged or is not a thresher index; it is left untouched."""


class ArchiveBusy(StoreError):
    """Another process is writing to the archive's index."""


class CrawlLocked(StoreError):
    """Another live crawl holds the archive's crawl lock; ``info`` says who (a LockInfo, or None)."""

    def __init__(self, message: str, *, info: object = None) -> None:
        super().__init__(message)
        self.info = info
