"""The ``thresher`` command: a thin click layer over the library.

Every command calls one library function and turns :class:`~thresher.errors.ThresherError` into a
one-line message and an exit code (2 for bad input), never a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .errors import CrawlLocked, InputError, NotHTML, PostError, ThresherError
from .files import atomic_write, read_input

if TYPE_CHECKING:
    from .store import Archive

# The extractor and the store are imported inside the commands that use them: a crawl refused by the
# archive lock, and --help, answer without loading them.

F = TypeVar("F", bound=Callable[..., Any])


class BadInput(click.ClickException):
    """A one-line error for input thresher cannot use; exit code 2."""

    exit_code = 2


class Busy(click.ClickException):
    """Another crawl holds the archive; exit code 75 (EX_TEMPFAIL: try again later)."""

    exit_code = 75


@contextlib.contextmanager
def _lock_errors() -> Iterator[None]:
    """CrawlLocked → exit 75, other library errors → exit 2, one line each."""
    try:
        yield
    except CrawlLocked as exc:
        raise Busy(str(exc)) from exc
    except ThresherError as exc:
        raise BadInput(str(exc)) from exc


def _errors_to_exit(func: F) -> F:
    """Map library errors to one-line messages (exit 2), and Ctrl-C to exit 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ThresherError as exc:
            raise BadInput(str(exc)) from exc
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="thresher")
@click.option(
    "--archive",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="THRESHER_ARCHIVE",
    default="archive",
    show_default=True,
    help="Archive folder (also THRESHER_ARCHIVE).",
)
@click.pass_context
def cli(ctx: click.Context, archive: Path) -> None:
    """Separate the grain from the chaff on affiliate tech-article sites.

    Extract clean articles (body, metadata, "also read" links) from HTML pages, with every ad stripped.
    """
    ctx.obj = {"archive": archive}


@cli.command()
@click.argument("file", type=str)
@click.option("--url", help="The page's address (default: its canonical link).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "json"]),
    default="md",
    show_default=True,
    help="Markdown with front matter, or the Article as JSON.",
)
@click.option("--profile", help="Force a site profile (e.g. redefine, wordpress, generic).")
@_errors_to_exit
def extract(file: str, url: str | None, fmt: str, profile: str | None) -> None:
    """Extract one page (FILE, a .gz, or - for stdin) to stdout."""
    from .extract import extract as extract_article

    data = read_input(file)
    try:
        article = extract_article(data, url or "", profile=profile)
    except NotHTML as exc:
        raise NotHTML(f"{file}: {exc}") from exc
    if fmt == "json":
        click.echo(json.dumps(article.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(article.to_markdown(), nl=False)


@cli.command()
@click.argument("file", type=str)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the cleaned post here (atomically) instead of stdout.",
)
@_errors_to_exit
def clean(file: str, output: Path | None) -> None:
    """Clean a Markdown post (front matter + inline ad HTML): ads out, "Also read" into the front matter."""
    data = read_input(file)
    try:
        document = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: not UTF-8 text (byte {exc.start})") from exc
    if "\x00" in document:
        raise PostError(f"{file}: binary data, not a Markdown post")
    if not document.strip():
        raise PostError(f"{file}: empty file, not a Markdown post")
    from .clean import clean_post

    result = clean_post(document)
    if output is None:
        click.echo(result.document, nl=False)
    else:
        atomic_write(output, result.document)
        click.echo(
            f"cleaned {file} → {output}: " + ", ".join(f"{k} {v}" for k, v in result.removed.items()),
            err=True,
        )


def _archive(ctx: click.Context, *, create: bool = False) -> Archive:
    from .store import Archive

    root: Path = ctx.obj["archive"]
    if not create and not (root / "index.db").exists():
        raise InputError(f"no archive at {root} (create one with `thresher add`, or pass --archive)")
    return Archive(root, create=create)


def _date_option(value: str | None, name: str) -> Any:
    if value is None:
        return None
    from datetime import timedelta

    from .extract.dates import parse_date

    parsed = parse_date(value)
    if parsed is None:
        raise click.BadParameter(f"not a date: {value!r} (use YYYY-MM-DD or ISO 8601)", param_hint=name)
    if name == "--until" and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        # "until 2024-01-31" means through that day, not up to its first second; whole seconds, because
        # stored instants compare as ISO text ("…59Z" sorts after "…59.999Z")
        parsed += timedelta(days=1, seconds=-1)
    return parsed


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--url", help="The URL of a single HTML page or post (default: its canonical link).")
@click.option("--base-url", help="For Markdown posts without a url: key, the site root their slug joins.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_context
@_errors_to_exit
def add(
    ctx: click.Context, paths: tuple[Path, ...], url: str | None, base_url: str | None, as_json: bool
) -> None:
    """Archive local files: HTML pages (.html, .htm, .gz), Markdown posts, WARC files; folders recurse.

    Prints how many were new, updated, unchanged and failed; exit 1 when any failed.
    """
    from .ingest import collect_paths, ingest_path

    files = list(collect_paths(list(paths)))
    if url and len(files) != 1:
        raise InputError("--url needs exactly one file")
    counts = {"new": 0, "updated": 0, "unchanged": 0, "failed": 0}
    errors: list[str] = []
    with _archive(ctx, create=True) as archive:
        for path, kind in files:
            if not path.exists():
                counts["failed"] += 1
                errors.append(f"{path}: no such file")
                continue
            for item in ingest_path(path, kind or "html", url=url, base_url=base_url):
                if item.article is None:
                    counts["failed"] += 1
                    errors.append(f"{item.source}: {item.error}")
                    continue
                try:
                    result = archive.add(item.article, item.raw)
                except ThresherError as exc:
                    counts["failed"] += 1
                    errors.append(f"{item.source}: {exc}")
                    continue
                counts[result.status] += 1
    for line in errors:
        click.echo(f"failed: {line}", err=True)
    if as_json:
        click.echo(json.dumps(counts))
    else:
        click.echo(", ".join(f"{v} {k}" for k, v in counts.items()))
    if counts["failed"]:
        sys.exit(1)


@cli.command()
@click.argument("query")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--site", help="Only this site (host or site name).")
@click.option("--tag", help="Only articles with this tag.")
@click.option("--category", help="Only articles in this category.")
@click.option("--since", help="Published on or after this date (YYYY-MM-DD or ISO 8601).")
@click.option("--until", help="Published on or before this date.")
@click.option("--lang", help="Only this language (e.g. en, ja).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of hits.")
@click.pass_context
@_errors_to_exit
def search(
    ctx: click.Context,
    query: str,
    limit: int,
    site: str | None,
    tag: str | None,
    category: str | None,
    since: str | None,
    until: str | None,
    lang: str | None,
    as_json: bool,
) -> None:
    """Full-text search of the archive (FTS5 syntax or plain words); exit 1 when nothing matches."""
    with _archive(ctx) as archive:
        hits = archive.search(
            query,
            limit=limit,
            site=site,
            tag=tag,
            category=category,
            since=_date_option(since, "--since"),
            until=_date_option(until, "--until"),
            lang=lang,
        )
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
    elif hits:
        table = Table(show_lines=False)
        for column in ("title", "site", "date", "snippet"):
            table.add_column(column, overflow="fold")
        for hit in hits:
            snippet = escape(hit.snippet).replace("**", "[bold yellow]", 1)
            while "**" in snippet:
                snippet = snippet.replace("**", "[/bold yellow]", 1).replace("**", "[bold yellow]", 1)
            date = hit.published.date().isoformat() if hit.published else ""
            table.add_row(escape(hit.title), escape(hit.site), date, snippet)
        Console().print(table)
    else:
        click.echo("no matches", err=True)
    if not hits:
        sys.exit(1)


@cli.command()
@click.argument("target")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.pass_context
@_errors_to_exit
def show(ctx: click.Context, target: str, fmt: str) -> None:
    """Print one archived article, by URL or by its path in the archive."""
    with _archive(ctx) as archive:
        article = archive.get(target)
    if article is None:
        raise InputError(f"{target} is not in the archive")
    if fmt == "json":
        click.echo(json.dumps(article.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(article.to_markdown(), nl=False)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
@_errors_to_exit
def stats(ctx: click.Context, as_json: bool) -> None:
    """Articles per site, top tags, date range, index and file sizes."""
    with _archive(ctx) as archive:
        figures = archive.stats()
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    console = Console()
    console.print(
        f"[bold]{figures['articles']}[/bold] articles, {figures['markdown_files']} Markdown files "
        f"({figures['markdown_bytes']:,} bytes), index {figures['index_bytes']:,} bytes, "
        f"WARC {figures['warc_bytes']:,} bytes"
    )
    console.print(f"published from {figures['published_from'] or '-'} to {figures['published_to'] or '-'}")
    table = Table(title="sites")
    table.add_column("site")
    table.add_column("articles", justify="right")
    for row in figures["sites"]:
        table.add_row(escape(row["site"]), str(row["articles"]))
    console.print(table)
    if figures["top_tags"]:
        console.print(
            "top tags: " + ", ".join(f"{escape(t['tag'])} ({t['articles']})" for t in figures["top_tags"])
        )


@cli.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild index.db from the Markdown files (a damaged index is kept aside, never overwritten)."""
    root: Path = ctx.obj["archive"]
    from .schedule import CrawlLock
    from .store import rebuild_index

    with _lock_errors():
        if not root.is_dir():
            raise InputError(f"{root} is not an archive folder")
        with CrawlLock(root, command="reindex"):  # swapping index.db under a running crawl loses its rows
            counts = rebuild_index(root)
    click.echo(f"{counts['indexed']} indexed, {counts['failed']} failed")
    if counts["failed"]:
        sys.exit(1)


@cli.command()
@click.option("--site", help="Only pages of this site (host).")
@click.pass_context
@_errors_to_exit
def reprocess(ctx: click.Context, site: str | None) -> None:
    """Re-extract every stored raw page with the current extractor and update what changed."""
    with _archive(ctx) as archive:
        counts = archive.reprocess(site=site)
    click.echo(", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "nothing stored to reprocess")


@cli.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A thresher.toml with [crawl] settings and [[sites]].",
)
@click.option("--site", "site_names", multiple=True, help="Only this configured site (repeatable).")
@click.option(
    "--delay", type=click.FloatRange(min=0), help="Seconds between requests to one host (default 1)."
)
@click.option("--concurrency-per-host", type=click.IntRange(min=1), help="Connections per host (default 1).")
@click.option("--max-pages", type=click.IntRange(min=1), help="Stop each site after this many fetches.")
@click.option("--max-depth", type=click.IntRange(min=0), help="Link depth from the start URLs (default 6).")
@click.option("--user-agent", help="User-Agent (default: thresher/<version> (+project URL)).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", is_flag=True, help="Only errors and a one-line summary.")
@click.option("--force", is_flag=True, help="Crawl sites even when recrawl_after says it is too soon.")
@click.pass_context
def crawl(
    ctx: click.Context,
    urls: tuple[str, ...],
    config_path: Path | None,
    site_names: tuple[str, ...],
    delay: float | None,
    concurrency_per_host: int | None,
    max_pages: int | None,
    max_depth: int | None,
    user_agent: str | None,
    as_json: bool,
    quiet: bool,
    force: bool,
) -> None:
    """Crawl sites politely into the archive: robots.txt, sitemaps, feeds and links.

    Given URLs, crawls those sites (scope = their hosts); given --config, every [[sites]] entry.
    Exit 0 when done, 1 when some pages failed, 2 on a usage or configuration error, 75 when another
    crawl is running on the archive, 130 after Ctrl-C or SIGTERM (the frontier is saved; run the same
    command again to continue). Sites crawled within their recrawl_after are skipped unless --force.
    """
    from .schedule import CrawlRequest, crawl_once  # the crawler pulls in httpx; other commands need not

    request = CrawlRequest(
        urls=list(urls),
        config_path=config_path,
        site_names=list(site_names),
        delay=delay,
        concurrency_per_host=concurrency_per_host,
        max_pages=max_pages,
        max_depth=max_depth,
        user_agent=user_agent,
        as_json=as_json,
        quiet=quiet,
        force=force,
    )
    with _lock_errors():
        code = crawl_once(ctx.obj["archive"], request)
    sys.exit(code)


@cli.command()
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output file."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "parquet", "txt", "md"]),
    default="jsonl",
    show_default=True,
)
@click.option("--dedupe", type=click.Choice(["none", "exact", "near"]), default="exact", show_default=True)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.8,
    show_default=True,
    help="Jaccard similarity from which --dedupe near calls two articles duplicates.",
)
@click.option(
    "--clean", "clean_level", type=click.Choice(["basic", "strict"]), default="basic", show_default=True
)
@click.option("--min-words", type=click.IntRange(min=0), default=0, help="Drop articles shorter than this.")
@click.option("--lang", help="Only this language (e.g. en, ja).")
@click.option("--site", help="Only this site (host or site name).")
@click.option("--tag", help="Only articles with this tag.")
@click.option("--since", help="Published on or after this date (YYYY-MM-DD or ISO 8601).")
@click.option("--until", help="Published on or before this date.")
@click.option("--query", help="Only articles matching this full-text query (as in `thresher search`).")
@click.option("--with-markdown", is_flag=True, help="Add each article's cleaned Markdown body as `markdown`.")
@click.option("--all-kinds", is_flag=True, help="Also export listing and plain pages, not only articles.")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@click.pass_context
@_errors_to_exit
def export(
    ctx: click.Context,
    output: Path,
    fmt: str,
    dedupe: str,
    threshold: float,
    clean_level: str,
    min_words: int,
    lang: str | None,
    site: str | None,
    tag: str | None,
    since: str | None,
    until: str | None,
    query: str | None,
    with_markdown: bool,
    all_kinds: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Export the archive as a corpus (JSONL, Parquet, text, Markdown) with a manifest beside it.

    Cleaned (basic or strict), filtered, and deduplicated (exact, or near with MinHash LSH), keeping the
    earliest published copy. OUT is written atomically; OUT.manifest.json records what was done.
    """
    from .export import ExportOptions, Filters, export_corpus  # numpy and datasketch load only for export

    options = ExportOptions(
        format=fmt,
        dedupe=dedupe,  # type: ignore[arg-type]  # click.Choice checked it
        threshold=threshold,
        clean=clean_level,  # type: ignore[arg-type]
        min_words=min_words,
        with_markdown=with_markdown,
        filters=Filters(
            site=site,
            tag=tag,
            lang=lang,
            since=_date_option(since, "--since"),
            until=_date_option(until, "--until"),
            query=query,
            kinds=("article", "listing", "page") if all_kinds else ("article",),
        ),
    )
    show_bar = not quiet and sys.stderr.isatty()
    with _archive(ctx) as archive:
        if show_bar:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            ) as bar:
                task = bar.add_task("exporting", total=None)
                report = export_corpus(
                    archive,
                    output,
                    options,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        else:
            report = export_corpus(archive, output, options)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    elif not quiet:
        dropped = sum(report.dropped.values())
        dups = sum(report.duplicates.values())
        click.echo(
            f"{report.written} written to {output} ({report.read} read, {dropped} dropped, "
            f"{dups} duplicates); manifest {report.manifest}",
            err=True,
        )


# ------------------------------------------------------------------ unattended runs (#5)


def _crawl_request(
    urls: tuple[str, ...], config_path: Path | None, site_names: tuple[str, ...], quiet: bool, force: bool
) -> Any:
    from .schedule import CrawlRequest

    return CrawlRequest(
        urls=list(urls),
        config_path=config_path,
        site_names=list(site_names),
        quiet=quiet,
        force=force,
        command="watch",
    )


@cli.command()
@click.option("--every", "every_text", required=True, help="An interval (30m, 6h, 1d) or a cron expression.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The thresher.toml the scheduled crawls use (default: ./thresher.toml).",
)
@click.option("--install", type=click.Choice(["cron", "systemd"]), help="Install it instead of printing it.")
@click.option(
    "--systemd-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where --install systemd writes the units (default: $XDG_CONFIG_HOME/systemd/user).",
)
@click.option("--name", default="thresher-crawl", show_default=True, help="Name of the systemd units.")
@click.pass_context
@_errors_to_exit
def schedule(
    ctx: click.Context,
    every_text: str,
    config_path: Path | None,
    install: str | None,
    systemd_dir: Path | None,
    name: str,
) -> None:
    """Print (or --install) a crontab line and a systemd timer that crawl every INTERVAL."""
    from .config import load_config
    from .schedule import Schedule, install_cron, install_systemd, parse_every

    every = parse_every(every_text)
    directory = Path.cwd()
    config: Path | None = None
    if config_path is None and Path("thresher.toml").is_file():
        config_path = Path("thresher.toml")
    if config_path is None:
        raise InputError(
            "give --config FILE: a scheduled crawl needs the sites to crawl (no ./thresher.toml)"
        )
    if config_path is not None:
        load_config(config_path)  # a schedule of a broken configuration would fail every time
        absolute = config_path.resolve()
        config = absolute.relative_to(directory) if absolute.is_relative_to(directory) else absolute
    if not all(c.isalnum() or c in "-_." for c in name):
        raise InputError(f"--name {name!r}: use letters, digits, '-', '_' and '.'")
    plan = Schedule(every=every, directory=directory, config=config, archive=ctx.obj["archive"], name=name)
    if install == "cron":
        line = install_cron(plan)
        click.echo(f"installed in your crontab:\n{line}")
        return
    if install == "systemd":
        paths = install_systemd(plan, systemd_dir)
        click.echo("wrote " + " and ".join(str(p) for p in paths))
        click.echo(f"now run: systemctl --user daemon-reload && systemctl --user enable --now {name}.timer")
        return
    try:
        click.echo("# crontab (crontab -e):")
        click.echo(plan.crontab_line())
    except ThresherError as exc:
        click.echo(f"# {exc}")
    click.echo(f"\n# ~/.config/systemd/user/{name}.service")
    click.echo(plan.service_unit(), nl=False)
    click.echo(f"\n# ~/.config/systemd/user/{name}.timer")
    click.echo(plan.timer_unit(), nl=False)


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--every", "every_text", required=True, help="An interval (30m, 6h, 1d) or a cron expression.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A thresher.toml with the sites to crawl.",
)
@click.option("--site", "site_names", multiple=True, help="Only this configured site (repeatable).")
@click.option("--quiet", is_flag=True, help="Only errors and a one-line summary per crawl.")
@click.option("--force", is_flag=True, help="Ignore recrawl_after on the first crawl.")
@click.pass_context
def watch(
    ctx: click.Context,
    urls: tuple[str, ...],
    every_text: str,
    config_path: Path | None,
    site_names: tuple[str, ...],
    quiet: bool,
    force: bool,
) -> None:
    """Crawl (URLs or --config) now and every INTERVAL in the foreground; SIGTERM/Ctrl-C stops cleanly.

    A signal lets the pages in flight finish and saves the state; a second one stops at once. Meant for
    containers; elsewhere `thresher schedule` hands the timing to cron or systemd.
    """
    from .schedule import parse_every, run_watch

    with _lock_errors():
        every = parse_every(every_text)
        request = _crawl_request(urls, config_path, site_names, quiet, force)
        code = run_watch(ctx.obj["archive"], request, every, echo=lambda line: click.echo(line, err=True))
    sys.exit(code)


@cli.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of runs.")
@click.pass_context
@_errors_to_exit
def runs(ctx: click.Context, limit: int, as_json: bool) -> None:
    """The crawl history: started, finished, sites, new, updated, unchanged, failed, exit code."""
    from .schedule import list_runs

    with _archive(ctx) as archive:
        records = list_runs(archive.db.conn, limit=limit)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in records], indent=2))
        return
    if not records:
        click.echo("no runs recorded yet", err=True)
        return
    table = Table()
    for column in ("run", "started", "finished", "status", "sites", "new", "upd", "same", "failed", "exit"):
        table.add_column(column, overflow="fold")
    for r in records:
        sites = ", ".join(r.sites) + (f" (skipped {', '.join(r.skipped)})" if r.skipped else "")
        table.add_row(
            str(r.id),
            r.started,
            r.finished or "-",
            r.status,
            escape(sites),
            str(r.new),
            str(r.updated),
            str(r.unchanged),
            str(r.failed),
            "-" if r.exit_code is None else str(r.exit_code),
        )
    Console(width=None if sys.stdout.isatty() else 160).print(table)


@cli.command()
@click.option("--fix", is_flag=True, help="Repair drift between files and index, a stale lock, dead runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def doctor(ctx: click.Context, fix: bool, as_json: bool) -> None:
    """Check index integrity, files against index, WARC readability and the crawl lock; exit 1 on problems."""
    from .store.doctor import check_archive, fix_archive

    root: Path = ctx.obj["archive"]
    with _lock_errors():
        report = fix_archive(root) if fix else check_archive(root)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        marks = {"ok": "ok  ", "warning": "warn", "problem": "FAIL"}
        for line in report.repaired:
            click.echo(f"fixed {line}")
        for finding in report.findings:
            click.echo(f"{marks[finding.level]}  {finding.check:<6} {finding.message}")
            for detail in finding.details:
                click.echo(f"            {detail}")
        if not report.healthy and not fix:
            click.echo("run `thresher doctor --fix` to repair what can be repaired", err=True)
    sys.exit(0 if report.healthy else 1)
