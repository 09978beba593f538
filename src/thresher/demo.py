"""``make demo``: extract the bundled fixture pages into ``archive/`` and show what came out.

Until the crawler lands this is the main job on the bundled default: every page under ``fixtures/pages``
goes through :func:`thresher.extract`, articles go into the archive (Markdown files + index), one of them
is printed, and the archive is searched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .errors import ThresherError
from .extract import extract
from .files import read_input
from .store import Archive


def main(fixtures: Path = Path("fixtures/pages"), archive: Path = Path("archive")) -> int:
    """Extract every fixture page into the archive, show a summary, one article and a search."""
    console = Console(width=None if sys.stdout.isatty() else 160)
    pages = sorted(fixtures.rglob("*.html"))
    if not pages:
        console.print(f"[red]no fixture pages under {fixtures}[/red]")
        return 2
    table = Table(title=f"thresher demo: {len(pages)} bundled pages → {archive}/")
    for column in (
        "page",
        "profile",
        "kind",
        "title",
        "words",
        "also read",
        "related",
        "affiliate",
        "ads",
        "archive",
    ):
        table.add_column(column, overflow="fold")
    shown: str | None = None
    with Archive(archive) as store:
        for page in pages:
            name = str(page.relative_to(fixtures))
            expected = page.with_suffix(".expected.json")
            url = json.loads(expected.read_text(encoding="utf-8")).get("url", "") if expected.exists() else ""
            try:
                article = extract(read_input(page), url)
                status = store.add(article).status if article.kind == "article" else "-"
            except ThresherError as exc:
                table.add_row(name, "-", "error", str(exc), "", "", "", "", "", "")
                continue
            if article.kind == "article" and (shown is None or name.startswith("redefine/post")):
                shown = shown if shown and shown.startswith("https://fix-guides") else article.canonical_url
            table.add_row(
                name,
                article.profile,
                article.kind,
                article.title[:60],
                str(article.word_count),
                str(len(article.also_read)),
                str(len(article.related)),
                str(len(article.affiliate_links)),
                ", ".join(article.ad_networks),
                status,
            )
        console.print(table)
        if shown is not None:
            found = store.get(shown)
            if found is not None:
                console.rule(shown)
                console.print(found.to_markdown(), markup=False, highlight=False)
        console.rule("thresher search 'bluetooth pairing'")
        for hit in store.search("bluetooth pairing", limit=3):
            console.print(
                f"{hit.score:7.2f}  {hit.title}  ({hit.site})\n         {hit.snippet}", markup=False
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
