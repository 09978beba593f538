"""thresher: separate the grain from the chaff on affiliate tech-article sites.

The library works without the CLI::

    import thresher
    article = thresher.extract(html, url="https://example.com/post/")
    print(article.to_markdown())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"  # before the imports: modules below read it

from .errors import (
    ArchiveBusy,
    ConfigError,
    CrawlLocked,
    ExportError,
    IndexCorrupt,
    InputError,
    NotHTML,
    PostError,
    StoreError,
    ThresherError,
)

# ``extract`` is imported here, not lazily: the subpackage of the same name would shadow a lazy one
from .extract import extract
from .models import AddResult, AffiliateLink, Article, Link, SearchHit

if TYPE_CHECKING:
    from .store import Archive

__all__ = [
    "AddResult",
    "AffiliateLink",
    "Archive",
    "ArchiveBusy",
    "Article",
    "ConfigError",
    "CrawlLocked",
    "ExportError",
    "IndexCorrupt",
    "InputError",
    "Link",
    "NotHTML",
    "PostError",
    "SearchHit",
    "StoreError",
    "ThresherError",
    "__version__",
    "extract",
]


def __getattr__(name: str) -> Any:
    """``Archive`` (and SQLite, sqlite-utils) loads on first use, so the command line starts faster."""
    if name == "Archive":
        from .store import Archive

        return Archive
    raise AttributeError(f"module 'thresher' has no attribute {name!r}")
