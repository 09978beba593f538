"""``make demo``: extract the bundled fixture pages into ``archive/`` and show what came out.

Until the crawler lands this is the main job on the bundled default: every page under ``fixtures/pages``
goes through :func:`thresher.extract`, articles are written as Markdown files with front matter, and one
of them is printed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table

from .errors import ThresherError
from .extract import extract
from .files import atomic_write, read_input

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _target(archive: Path, url: str, fallback: str) -> Path:
    """``archive/<host>/<slug>.md`` for a URL (a simple, safe spelling; the store owns the real one)."""
    parts = urlsplit(url)
    host = _UNSAFE.sub("_", parts.hostname or "local") or "local"
    slug = _UNSAFE.sub("-", parts.path.strip("/")).strip("-.")[:120] or fallback
    return archive / host / f"{slug}.md"


def main(fixtures: Path = Path("fixtures/pages"), archive: Path = Path("archive")) -> int:
    """Extract every fixture page; return a process exit code."""
    console = Console(width=None if sys.stdout.isatty() else 160)
    pages = sorted(fixtures.rglob("*.html"))
    if not pages:
        console.print(f"[red]no fixture pages under {fixtures}[/red]")
        return 2
    table = Table(title=f"thresher demo: {len(pages)} bundled pages → {archive}/")
    for column in ("page", "profile", "kind", "title", "words", "also read", "related", "affiliate", "ads"):
        table.add_column(column, overflow="fold")
    shown = None
    for page in pages:
        try:
            article = extract(read_input(page), "")
        except ThresherError as exc:
            table.add_row(str(page.relative_to(fixtures)), "-", "error", str(exc), "", "", "", "", "")
            continue
        if article.kind == "article":
            target = _target(archive, article.canonical_url, page.stem)
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, article.to_markdown())
            if shown is None or "redefine" in str(page):
                shown = shown or target
        table.add_row(
            str(page.relative_to(fixtures)),
            article.profile,
            article.kind,
            article.title[:60],
            str(article.word_count),
            str(len(article.also_read)),
            str(len(article.related)),
            str(len(article.affiliate_links)),
            ", ".join(article.ad_networks),
        )
    console.print(table)
    if shown is not None:
        console.rule(str(shown))
        console.print(shown.read_text(encoding="utf-8"), markup=False, highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
