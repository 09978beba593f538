"""Extraction benchmark: thresher vs trafilatura on a devset folder (manifest.jsonl format).

Run from the repository root::

    .venv/bin/python bench/extract.py ../shared/devset/techidaily-win-docs
    .venv/bin/python bench/extract.py DEVSET_DIR --limit 50 --no-peer   # quick, thresher only
    .venv/bin/python bench/extract.py DEVSET_DIR --verbose              # + metadata mismatch examples
    .venv/bin/python bench/extract.py DEVSET_DIR --json                 # one JSON object on stdout
    .venv/bin/python bench/extract.py DEVSET_DIR --interleave           # alternate page by page
    .venv/bin/python bench/extract.py DEVSET_DIR --profile 30           # where thresher's time goes

All pages are read and decompressed first (not timed); then ``thresher.extract(raw_bytes, url)`` is timed
over every page, then ``trafilatura.extract(html, url=..., output_format="txt", include_comments=False)`` on
the same pages in the same run (each gets one untimed warm-up call). Body text is scored with
:mod:`thresher.quality` against the rendered text of ``expected_body_derived``; metadata is compared field by
field with ``expected``.

Targets: body F1 >= 0.99; each expected field (title, published, updated, tags, categories, thumbnail,
description, also_read) exact on >= 99% of pages; zero ad remnants in ``article.markdown``; >= 15x
trafilatura's pages/s. The exit status is 0 whether or not they are met, 2 when the devset cannot be read.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1] / "src"))  # fallback when thresher is not installed
try:
    import thresher
    from thresher.quality import BodyScore, ad_remnants, aggregate, markdown_to_text, score_body
except ImportError as exc:  # pragma: no cover - reported as one line
    sys.exit(f"bench: cannot import thresher: {exc}")

TARGET_F1 = 0.99
TARGET_FIELD_EXACT = 0.99
TARGET_AD_HITS = 0
TARGET_SPEED_RATIO = 15.0
FIELDS = ("title", "published", "updated", "tags", "categories", "thumbnail", "description", "also_read")
DATE_FIELDS = frozenset({"published", "updated"})


class BenchError(Exception):
    """The devset folder or one of its files cannot be read."""


@dataclass(slots=True)
class Page:
    """One devset page, loaded into memory before any timing."""

    slug: str
    url: str
    raw: bytes
    html: str
    expected_text: str
    expected: dict[str, Any]


@dataclass(slots=True)
class Mismatch:
    """A metadata field whose extracted value differs from the expected one."""

    slug: str
    expected: str
    got: str


@dataclass(slots=True)
class Run:
    """One extractor's results over the pages."""

    name: str
    seconds: float
    scores: list[BodyScore]
    errors: list[tuple[str, str]] = field(default_factory=list)
    ad_hits: list[int] = field(default_factory=list)
    exact: dict[str, int] = field(default_factory=dict)
    checked: dict[str, int] = field(default_factory=dict)
    mismatches: dict[str, list[Mismatch]] = field(default_factory=dict)

    @property
    def pages_per_s(self) -> float:
        """Pages extracted per second of wall time."""
        return len(self.scores) / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> dict[str, Any]:
        """The run's figures as a JSON-ready dict."""
        precision, recall, f1 = aggregate(self.scores)
        out: dict[str, Any] = {
            "f1": round(f1, 4),
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "empty_outputs": sum(s.empty_output for s in self.scores),
            "errors": len(self.errors),
            "pages_per_s": round(self.pages_per_s, 1),
            "seconds": round(self.seconds, 3),
            "ad_remnant_pages": sum(1 for h in self.ad_hits if h),
            "ad_remnant_hits": sum(self.ad_hits),
        }
        if self.checked:
            out["fields_exact"] = {f: round(self.exact[f] / self.checked[f], 4) for f in self.checked}
        return out


# --- loading (not timed) ------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """A file's bytes, gunzipped when it is gzip."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BenchError(f"cannot read {path}: {exc.strerror}") from exc
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def load_pages(devset: Path, limit: int | None) -> list[Page]:
    """Read the manifest and every page it lists, decompressed, with the expected body rendered to text."""
    manifest = devset / "manifest.jsonl"
    if not manifest.is_file():
        raise BenchError(f"no manifest.jsonl in {devset}")
    pages: list[Page] = []
    with manifest.open(encoding="utf-8") as lines:
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            if limit is not None and len(pages) >= limit:
                break
            try:
                row = json.loads(line)
                html_rel, body_rel, url = row["html"], row["expected_body_derived"], row["url"]
            except (ValueError, KeyError) as exc:
                raise BenchError(f"{manifest}:{lineno}: bad manifest row ({exc})") from exc
            raw = _read_bytes(devset / html_rel)
            expected_md = _read_bytes(devset / body_rel).decode("utf-8")
            pages.append(
                Page(
                    slug=Path(html_rel).parent.name or Path(html_rel).name,
                    url=url,
                    raw=raw,
                    html=raw.decode("utf-8", errors="replace"),
                    expected_text=markdown_to_text(expected_md),
                    expected=dict(row.get("expected") or {}),
                )
            )
    if not pages:
        raise BenchError(f"no pages in {manifest}")
    return pages


# --- metadata comparison ------------------------------------------------------------------------------------


def _expected_value(name: str, value: Any) -> Any:
    """The manifest's expected value in the form the Article holds (dates as aware datetimes)."""
    if name in DATE_FIELDS and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def _got_value(name: str, article: thresher.Article) -> Any:
    """The Article's value for one manifest field."""
    if name == "also_read":
        return [link.url for link in article.also_read]
    if name in ("tags", "categories"):
        return list(getattr(article, name))
    return getattr(article, name)


def _same(name: str, expected: Any, got: Any) -> bool:
    """Exact match; dates must be the same instant and timezone-aware."""
    if name in DATE_FIELDS and isinstance(expected, datetime):
        return isinstance(got, datetime) and got.tzinfo is not None and got == expected
    return bool(expected == got)


def _show(value: Any, width: int = 100) -> str:
    """A short printable form of a field value."""
    text = value.isoformat() if isinstance(value, datetime) else repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def check_metadata(run: Run, pages: Sequence[Page], articles: Sequence[thresher.Article | None]) -> None:
    """Count exact metadata fields per page into ``run`` and keep up to 5 mismatch examples per field."""
    for name in FIELDS:
        run.exact[name] = run.checked[name] = 0
        run.mismatches[name] = []
    for page, article in zip(pages, articles, strict=True):
        for name in FIELDS:
            if name not in page.expected:
                continue
            run.checked[name] += 1
            expected = _expected_value(name, page.expected[name])
            got: Any = "<error>" if article is None else _got_value(name, article)
            if article is not None and _same(name, expected, got):
                run.exact[name] += 1
            elif len(run.mismatches[name]) < 5:
                run.mismatches[name].append(Mismatch(page.slug, _show(expected), _show(got)))
    for name in FIELDS:
        if not run.checked[name]:
            del run.exact[name], run.checked[name], run.mismatches[name]


# --- the runs -----------------------------------------------------------------------------------------------


Failures = list[tuple[str, str]]


def _timed(pages: Sequence[Page], call: Callable[[Page], Any]) -> tuple[float, list[Any], Failures]:
    """Warm up on the first page (untimed), then time ``call`` over all pages; failures give None."""
    with contextlib.suppress(Exception):  # a failure is reported by the timed pass
        call(pages[0])
    results: list[Any] = []
    errors: Failures = []
    start = time.perf_counter()
    for page in pages:
        try:
            results.append(call(page))
        except Exception as exc:
            results.append(None)
            errors.append((page.slug, f"{type(exc).__name__}: {exc}"))
    return time.perf_counter() - start, results, errors


Timing = tuple[float, list[Any], Failures]


def _timed_pair(
    pages: Sequence[Page], first: Callable[[Page], Any], second: Callable[[Page], Any]
) -> list[Timing]:
    """Like :func:`_timed` for two calls, alternating page by page, so that the load of a shared machine
    changes under both alike; each call's own time is summed."""
    timings: list[Timing] = [(0.0, [], []), (0.0, [], [])]
    for call in (first, second):
        with contextlib.suppress(Exception):
            call(pages[0])
    for page in pages:
        for index, call in enumerate((first, second)):
            seconds, results, errors = timings[index]
            start = time.perf_counter()
            try:
                results.append(call(page))
            except Exception as exc:
                results.append(None)
                errors.append((page.slug, f"{type(exc).__name__}: {exc}"))
            timings[index] = (seconds + time.perf_counter() - start, results, errors)
    return timings


def _thresher_call(page: Page) -> thresher.Article:
    """thresher's Article for one page, from the bytes served."""
    return thresher.extract(page.raw, page.url)


def _trafilatura_call(page: Page) -> str | None:
    """trafilatura's plain-text body for one page (txt, comments off, defaults otherwise)."""
    import trafilatura

    result: str | None = trafilatura.extract(
        page.html, url=page.url, output_format="txt", include_comments=False
    )
    return result


def run_thresher(pages: Sequence[Page], timing: Timing | None = None) -> Run:
    """Time thresher.extract on the raw bytes (unless ``timing`` is given), then score body, metadata and ad
    remnants."""
    seconds, articles, errors = timing or _timed(pages, _thresher_call)
    run = Run("thresher", seconds, [], errors)
    for page, article in zip(pages, articles, strict=True):
        text = article.text if article is not None else ""
        markdown = article.markdown if article is not None else ""
        run.scores.append(score_body(page.expected_text, text or ""))
        run.ad_hits.append(len(ad_remnants(markdown or "")))
    check_metadata(run, pages, articles)
    return run


def run_trafilatura(pages: Sequence[Page], timing: Timing | None = None) -> Run:
    """Time trafilatura.extract (unless ``timing`` is given) and score its body text."""
    seconds, texts, errors = timing or _timed(pages, _trafilatura_call)
    run = Run("trafilatura", seconds, [], errors)
    for page, text in zip(pages, texts, strict=True):
        run.scores.append(score_body(page.expected_text, text or ""))
        run.ad_hits.append(len(ad_remnants(text or "")))  # on its text output: it has no Markdown here
    return run


# --- report -------------------------------------------------------------------------------------------------


def report(devset: Path, pages: Sequence[Page], ours: Run, peer: Run | None, verbose: bool) -> dict[str, Any]:
    """All figures as one JSON-ready dict."""
    mine = ours.summary()
    ratio = ours.pages_per_s / peer.pages_per_s if peer is not None and peer.pages_per_s else None
    fields = mine.get("fields_exact", {})
    worst = sorted(range(len(pages)), key=lambda i: (ours.scores[i].f1, pages[i].slug))[:10]
    out: dict[str, Any] = {
        "devset": str(devset),
        "pages": len(pages),
        "thresher": mine,
        "trafilatura": peer.summary() if peer is not None else None,
        "speed_ratio": round(ratio, 2) if ratio is not None else None,
        "targets": {
            "body_f1": TARGET_F1,
            "field_exact": TARGET_FIELD_EXACT,
            "ad_remnant_hits": TARGET_AD_HITS,
            "speed_ratio": TARGET_SPEED_RATIO,
        },
        "passed": {
            "body_f1": mine["f1"] >= TARGET_F1,
            "fields": all(v >= TARGET_FIELD_EXACT for v in fields.values()),
            "ad_remnants": mine["ad_remnant_hits"] <= TARGET_AD_HITS,
            "speed_ratio": ratio >= TARGET_SPEED_RATIO if ratio is not None else None,
        },
        "worst": [
            {
                "slug": pages[i].slug,
                "url": pages[i].url,
                "f1": round(ours.scores[i].f1, 4),
                "precision": round(ours.scores[i].precision, 4),
                "recall": round(ours.scores[i].recall, 4),
                "peer_f1": round(peer.scores[i].f1, 4) if peer is not None else None,
                "ad_hits": ours.ad_hits[i],
            }
            for i in worst
        ],
        "errors": [{"slug": s, "error": e} for s, e in ours.errors[:10]],
    }
    if verbose:
        out["mismatches"] = {
            name: [{"slug": m.slug, "expected": m.expected, "got": m.got} for m in items]
            for name, items in ours.mismatches.items()
            if items
        }
    return out


def _mark(ok: bool | None) -> str:
    """A pass/fail cell."""
    return "" if ok is None else "[green]ok[/]" if ok else "[red]no[/]"


def print_tables(figures: dict[str, Any]) -> None:
    """Print the side-by-side table, the worst pages, errors and (verbose) mismatches with rich."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    mine: dict[str, Any] = figures["thresher"]
    peer: dict[str, Any] | None = figures["trafilatura"]
    passed: dict[str, Any] = figures["passed"]

    def peer_cell(key: str, fmt: str = "{:.3f}") -> str:
        """The trafilatura figure for a row, or a dash."""
        return "—" if peer is None or key not in peer else fmt.format(peer[key])

    table = Table(title=f"{figures['devset']} — {figures['pages']} pages")
    table.add_column("metric")
    for col in ("thresher", "trafilatura"):
        table.add_column(col, justify="right")
    table.add_column("target")
    f1_target = f">= {TARGET_F1} {_mark(passed['body_f1'])}"
    table.add_row("body F1", f"{mine['f1']:.3f}", peer_cell("f1"), f1_target)
    table.add_row("body precision", f"{mine['precision']:.3f}", peer_cell("precision"), "")
    table.add_row("body recall", f"{mine['recall']:.3f}", peer_cell("recall"), "")
    table.add_row("empty outputs", str(mine["empty_outputs"]), peer_cell("empty_outputs", "{}"), "")
    table.add_row("errors", str(mine["errors"]), peer_cell("errors", "{}"), "0")
    table.add_section()
    for name, value in mine.get("fields_exact", {}).items():
        ok = value >= TARGET_FIELD_EXACT
        table.add_row(f"{name} exact", f"{value:.1%}", "—", f">= {TARGET_FIELD_EXACT:.0%} {_mark(ok)}")
    table.add_section()
    table.add_row(
        "ad-remnant pages",
        str(mine["ad_remnant_pages"]),
        peer_cell("ad_remnant_pages", "{} (text)"),
        f"0 {_mark(passed['ad_remnants'])}",
    )
    hits = str(mine["ad_remnant_hits"])
    table.add_row("ad-remnant hits", hits, peer_cell("ad_remnant_hits", "{} (text)"), "0")
    table.add_section()
    table.add_row("pages/s", f"{mine['pages_per_s']:.1f}", peer_cell("pages_per_s", "{:.1f}"), "")
    table.add_row("seconds", f"{mine['seconds']:.2f}", peer_cell("seconds", "{:.2f}"), "")
    ratio = figures["speed_ratio"]
    table.add_row(
        "speed ratio",
        "—" if ratio is None else f"{ratio:.1f}x",
        "1x" if peer is not None else "—",
        f">= {TARGET_SPEED_RATIO:.0f}x {_mark(passed['speed_ratio'])}",
    )
    console.print(table)

    worst = Table(title="worst pages by thresher F1")
    for col in ("page", "F1", "P", "R", "trafilatura F1", "ad hits"):
        worst.add_column(col, justify="left" if col == "page" else "right")
    for row in figures["worst"]:
        peer_f1 = "—" if row["peer_f1"] is None else f"{row['peer_f1']:.3f}"
        worst.add_row(
            row["slug"][:70], f"{row['f1']:.3f}", f"{row['precision']:.3f}", f"{row['recall']:.3f}",
            peer_f1, str(row["ad_hits"]),
        )  # fmt: skip
    console.print(worst)

    for item in figures["errors"]:
        console.print(f"[red]error[/] {item['slug']}: {item['error']}", highlight=False, soft_wrap=True)
    for name, items in figures.get("mismatches", {}).items():
        mism = Table(title=f"{name}: mismatches (up to 5)")
        for col in ("page", "expected", "got"):
            mism.add_column(col, overflow="fold")
        for m in items:
            mism.add_row(m["slug"][:50], m["expected"], m["got"])
        console.print(mism)


def profile_thresher(pages: Sequence[Page], top: int) -> None:
    """Cumulative time per function under cProfile, in ms per page (inflated by the profiler)."""
    import cProfile
    import pstats

    thresher.extract(pages[0].raw, pages[0].url)  # warm-up: imports, profile loading
    profiler = cProfile.Profile()
    profiler.enable()
    for page in pages:
        thresher.extract(page.raw, page.url)
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)  # type: ignore[attr-defined]
    print(f"{'cumulative ms/page':>18} {'own ms/page':>12} {'calls/page':>10}  function")
    for (path, line, name), (_, calls, own, cumulative, _) in rows[:top]:
        where = f"{Path(path).name}:{line}({name})" if line else name
        print(
            f"{cumulative / len(pages) * 1000:18.3f} {own / len(pages) * 1000:12.3f} "
            f"{calls / len(pages):10.1f}  {where}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, load the devset, run both extractors and print the figures."""
    parser = argparse.ArgumentParser(description="Benchmark thresher.extract against trafilatura.")
    parser.add_argument("devset", type=Path, metavar="DEVSET_DIR", help="folder holding manifest.jsonl")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N pages")
    parser.add_argument("--no-peer", action="store_true", help="skip trafilatura")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--verbose", "-v", action="store_true", help="show metadata mismatch examples")
    parser.add_argument(
        "--interleave",
        action="store_true",
        help="time both extractors page by page, alternating (fairer on a machine shared with other jobs)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="instead: cProfile thresher over the pages, print the N functions with most cumulative time",
    )
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    try:
        pages = load_pages(args.devset, args.limit)
    except (BenchError, UnicodeDecodeError, OSError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    if args.profile:
        profile_thresher(pages, args.profile)
        return 0
    peer: Run | None
    if args.interleave and not args.no_peer:
        mine, theirs = _timed_pair(pages, _thresher_call, _trafilatura_call)
        ours, peer = run_thresher(pages, mine), run_trafilatura(pages, theirs)
    else:
        ours = run_thresher(pages)
        peer = None if args.no_peer else run_trafilatura(pages)
    figures = report(args.devset, pages, ours, peer, args.verbose)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        print_tables(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
