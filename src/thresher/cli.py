"""The ``thresher`` command: a thin click layer over the library.

Every command calls one library function and turns :class:`~thresher.errors.ThresherError` into a
one-line message and an exit code (2 for bad input), never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .clean import clean_post
from .errors import InputError, NotHTML, PostError, ThresherError
from .extract import extract as extract_article
from .files import atomic_write, read_input

F = TypeVar("F", bound=Callable[..., Any])


class BadInput(click.ClickException):
    """A one-line error for input thresher cannot use; exit code 2."""

    exit_code = 2


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
    result = clean_post(document)
    if output is None:
        click.echo(result.document, nl=False)
    else:
        atomic_write(output, result.document)
        click.echo(
            f"cleaned {file} → {output}: " + ", ".join(f"{k} {v}" for k, v in result.removed.items()),
            err=True,
        )
