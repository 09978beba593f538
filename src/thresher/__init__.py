"""thresher: separate the grain from the chaff on affiliate tech-article sites.

The library works without the CLI::

    import thresher
    article = thresher.extract(html, url="https://example.com/post/")
    print(article.to_markdown())
"""

from __future__ import annotations

__version__ = "0.1.0"  # before the imports: modules below read it

from .errors import (
    ArchiveBusy,
    ConfigError,
    ExportError,
    IndexCorrupt,
    InputError,
    NotHTML,
    PostError,
    StoreError,
    ThresherError,
)
from .extract import extract
from .models import AddResult, AffiliateLink, Article, Link, SearchHit
from .store import Archive

__all__ = [
    "AddResult",
    "AffiliateLink",
    "Archive",
    "ArchiveBusy",
    "Article",
    "ConfigError",
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
