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
    IndexCorrupt,
    InputError,
    NotHTML,
    PostError,
    StoreError,
    ThresherError,
)
from .models import AddResult, AffiliateLink, Article, Link, SearchHit

if TYPE_CHECKING:
    from .extract import extract
    from .store import Archive

__all__ = [
    "AddResult",
    "AffiliateLink",
    "Archive",
    "ArchiveBusy",
    "Article",
    "ConfigError",
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
    """``extract`` and ``Archive`` load on first use, so the command line starts fast."""
    if name == "extract":
        from .extract import extract

        return extract
    if name == "Archive":
        from .store import Archive

        return Archive
    raise AttributeError(f"module 'thresher' has no attribute {name!r}")
