"""thresher: separate the grain from the chaff on affiliate tech-article sites.

The library works without the CLI::

    import thresher
    article = thresher.extract(html, url="https://example.com/post/")
    print(article.to_markdown())
"""

from __future__ import annotations

from .errors import ConfigError, InputError, NotHTML, PostError, ThresherError
from .extract import extract
from .models import AffiliateLink, Article, Link

__version__ = "0.1.0"

__all__ = [
    "AffiliateLink",
    "Article",
    "ConfigError",
    "InputError",
    "Link",
    "NotHTML",
    "PostError",
    "ThresherError",
    "__version__",
    "extract",
]
