"""How much boilerplate ``--clean strict`` removes on real pages, and whether it touches the source posts.

Run from the repository root::

    .venv/bin/python bench/clean.py ../shared/devset/techidaily-win-docs            # figures only
    .venv/bin/python bench/clean.py DEVSET_DIR --verbose                             # + the lines themselves
    .venv/bin/python bench/clean.py DEVSET_DIR --json

``DEVSET_DIR`` holds ``manifest.jsonl`` rows with ``url``, ``html`` (gzip) and ``expected_body_derived`` (the
page's source post body, Markdown). For every page:

1. **Extracted text**: ``thresher.extract(html, url).text`` after ``--clean basic``, then ``--clean strict``:
   the lines and characters strict removes, per rule.
2. **Repeated lines**: pages are grouped into near-duplicate clusters (the export's own ``NearDeduper`` at
   0.8), and a line is *repeated* when it occurs in pages of at least 3 clusters: a sentence of an article
   is not repeated across different articles, boilerplate is. The share of repeated-line occurrences strict
   removes measures its recall on boilerplate; what stays is listed with ``--verbose``.
3. **Source posts**: the same for ``markdown_to_text(expected_body_derived)``. The devset's own README notes
   that authors copied boilerplate (breadcrumbs, "Share this:", author lines) into their sources, so strict
   does remove lines there. Every distinct removed line is listed with ``--verbose`` for review; a removed
   line found on one page only (marked ``*``) is the likeliest to be an article sentence, and is counted.

Nothing from the devset is written to disk. Exit status 0; 2 when the folder or a file cannot be read.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1] / "src"))  # fallback when thresher is not installed
try:
    import thresher
    from thresher.export import NearDeduper, clean_text
    from thresher.export.clean import strict_rule
    from thresher.markdown import markdown_to_text
except ImportError as exc:  # pragma: no cover - reported as one line
    sys.exit(f"bench: cannot import thresher: {exc}")

MIN_CLUSTERS = 3


def _load(folder: Path) -> list[tuple[str, str, str]]:
    """(url, extracted text, source text) per page."""
    pages = []
    try:
        rows = [
            json.loads(line) for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        for row in rows:
            html = gzip.decompress((folder / row["html"]).read_bytes())
            source = (folder / row["expected_body_derived"]).read_text(encoding="utf-8")
            pages.append((row["url"], thresher.extract(html, row["url"]).text, markdown_to_text(source)))
    except (OSError, ValueError, KeyError) as exc:
        print(f"bench: cannot read {folder}: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    return pages


def _removed(text: str) -> tuple[list[str], list[str], Counter[str]]:
    """(basic lines, lines strict removed, removed per rule)."""
    basic = clean_text(text, "basic").text
    strict = clean_text(basic, "strict")
    left = Counter(strict.text.split("\n"))
    lines = [line for line in basic.split("\n") if line]
    gone = []
    for line in lines:
        if left[line]:
            left[line] -= 1
        else:
            gone.append(line)
    return lines, gone, strict.removed


def measure(pages: list[tuple[str, str, str]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The figures, and the lines behind them (for --verbose)."""
    near = NearDeduper(0.8, capacity=len(pages))
    cluster_of: dict[str, str] = {}
    for url, text, _ in pages:
        found = near.check(clean_text(text).text, url)
        cluster_of[url] = found.kept if found else url
    figures: dict[str, Any] = {"pages": len(pages), "clusters": len(set(cluster_of.values()))}
    details: dict[str, Any] = {}
    for side, index in (("extracted", 1), ("source", 2)):
        clusters_of_line: dict[str, set[str]] = defaultdict(set)
        per_page = []
        rules: Counter[str] = Counter()
        for page in pages:
            lines, gone, removed = _removed(page[index])
            per_page.append((page[0], lines, gone))
            rules.update(removed)
            for line in set(lines):
                clusters_of_line[line].add(cluster_of[page[0]])
        repeated = {line for line, c in clusters_of_line.items() if len(c) >= MIN_CLUSTERS}
        lines_total = sum(len(lines) for _, lines, _ in per_page)
        chars_total = sum(sum(map(len, lines)) for _, lines, _ in per_page)
        gone_all = [line for _, _, gone in per_page for line in gone]
        repeated_total = sum(1 for _, lines, _ in per_page for line in lines if line in repeated)
        repeated_gone = sum(1 for line in gone_all if line in repeated)
        pages_of_line = Counter(line for _, lines, _ in per_page for line in set(lines))
        single_gone = Counter(line for line in gone_all if pages_of_line[line] == 1)
        kept_repeated = Counter(
            line for _, lines, gone in per_page for line in set(lines) - set(gone) if line in repeated
        )
        figures[side] = {
            "lines": lines_total,
            "chars": chars_total,
            "lines_removed": len(gone_all),
            "chars_removed": sum(map(len, gone_all)),
            "pages_touched": sum(1 for _, _, gone in per_page if gone),
            "removed_by_rule": dict(rules.most_common()),
            "repeated_line_occurrences": repeated_total,
            "repeated_removed": repeated_gone,
            "distinct_lines_removed": len(set(gone_all)),
            "removed_found_on_one_page": sum(single_gone.values()),
        }
        details[side] = {
            "removed": Counter(gone_all),
            "removed_found_on_one_page": single_gone,
            "repeated_kept": kept_repeated,
        }
    return figures, details


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("devset", type=Path)
    parser.add_argument("--verbose", action="store_true", help="print the lines behind the figures")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures, details = measure(_load(args.devset))
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{figures['pages']} pages in {figures['clusters']} near-duplicate clusters (0.8)")
    for side in ("extracted", "source"):
        f = figures[side]
        print(f"\n{side} text: {f['lines']:,} lines, {f['chars']:,} characters")
        print(
            f"  strict removes {f['lines_removed']:,} lines ({_pct(f['lines_removed'], f['lines'])}), "
            f"{f['chars_removed']:,} characters ({_pct(f['chars_removed'], f['chars'])}), "
            f"on {f['pages_touched']} pages"
        )
        print("  by rule: " + ", ".join(f"{k} {v}" for k, v in f["removed_by_rule"].items()))
        repeated, removed = f["repeated_line_occurrences"], f["repeated_removed"]
        print(
            f"  lines repeated across >= {MIN_CLUSTERS} clusters: {repeated:,} occurrences, "
            f"{removed:,} removed ({_pct(removed, repeated)})"
        )
        print(
            f"  distinct lines removed: {f['distinct_lines_removed']} (--verbose lists them); "
            f"removed lines found on one page only: {f['removed_found_on_one_page']}"
        )
        if args.verbose:
            d = details[side]
            print("  every distinct removed line:")
            for line, n in d["removed"].most_common():
                print(f"    {n:>4}  {'*' if d['removed_found_on_one_page'][line] else ' '} {line[:140]}")
            print("  repeated and kept (top 40):")
            for line, n in d["repeated_kept"].most_common(40):
                print(f"    {n:>4}  [{strict_rule(line, 99) or '-'}] {line[:140]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
