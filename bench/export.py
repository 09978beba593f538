"""Export benchmark: a synthetic archive of 100,000 articles, then ``export_corpus`` timed with its peak RSS.

Run from the repository root::

    .venv/bin/python bench/export.py                          # 100,000 articles: build, then exact and near
    .venv/bin/python bench/export.py --articles 20000         # quicker
    .venv/bin/python bench/export.py --out /tmp/arc --keep    # keep the archive; later runs reuse it
    .venv/bin/python bench/export.py --json                   # one JSON object on stdout

1. **Archive** (not timed; reused when ``--out`` already holds one of the same size). Articles are made of
   3-12 paragraphs of the hand-written fixture bodies (``fixtures/pages/**/*.body.md``, the only text
   source) with 12% of their words replaced by other fixture words, on 20 hosts, dated over three years.
   5% are exact copies of an earlier article on another host, published later, and 5% near copies with 1%
   of their words changed (Jaccard over 5-word shingles about 0.9). Seeded: every run builds the same
   archive. Written with ``Archive.add_many``.
2. **Exports**, each in a fresh child process so that its peak RSS (``ru_maxrss``) is its own:
   ``--dedupe exact`` (the default export: jsonl, basic cleaning) and ``--dedupe near`` (threshold 0.8).
   The rate is articles read / wall clock of ``export_corpus`` (its CPU time is printed too: on a shared
   machine the wall clock moves with the load); the near copies found are reported against the ones
   planted.

Targets: exact >= 5,000 articles/s; near dedupe of 100,000 <= 60 s; peak RSS < 300 MB. Exit status 0
whether or not they are met; 2 when the fixtures cannot be read.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1] / "src"))  # fallback when thresher is not installed
try:
    import thresher
    from thresher.export import ExportOptions, export_corpus
    from thresher.markdown import markdown_to_text
    from thresher.models import Article, content_hash, count_words
except ImportError as exc:  # pragma: no cover - reported as one line
    sys.exit(f"bench: cannot import thresher: {exc}")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
SEED = 20261126
START = datetime(2022, 6, 1, tzinfo=UTC)
SPAN = 3 * 365 * 24 * 3600
N_SITES = 20
EXACT_SHARE = 0.05
NEAR_SHARE = 0.05
MUTATION = 0.12
NEAR_MUTATION = 0.01
TARGET_RATE = 5_000.0
TARGET_NEAR_SECONDS = 60.0
TARGET_RSS_MB = 300.0
_WORD = re.compile(r"[A-Za-z]{3,}")


def _paragraphs() -> list[str]:
    blocks = []
    for path in sorted(FIXTURES.glob("*/*.body.md")):
        for block in path.read_text(encoding="utf-8").split("\n\n"):
            if block.strip() and not block.lstrip().startswith(("```", "![", "|")):
                blocks.append(block.strip())
    if not blocks:
        raise SystemExit(2)
    return blocks


def _mutate(text: str, rate: float, vocab: Sequence[str], rng: random.Random) -> str:
    return _WORD.sub(lambda m: rng.choice(vocab) if rng.random() < rate else m.group(0), text)


def _article(url: str, markdown: str, published: datetime, i: int) -> Article:
    text = markdown_to_text(markdown)
    return Article(
        url=url,
        canonical_url=url,
        title=text.split("\n", 1)[0][:80],
        author=f"Author {i % 30}",
        published=published,
        tags=[f"tag{i % 50}"],
        categories=[f"cat{i % 7}"],
        lang="en",
        markdown=markdown,
        text=text,
        word_count=count_words(text),
        content_hash=content_hash(markdown),
    )


def articles(n: int) -> Iterator[Article]:
    """``n`` synthetic articles, exact and near copies among them (see the module docstring)."""
    rng = random.Random(SEED)
    blocks = _paragraphs()
    vocab = sorted({w for b in blocks for w in _WORD.findall(b)})
    sites = [f"site{i}.test" for i in range(N_SITES)]
    originals: list[tuple[str, datetime]] = []
    for i in range(n):
        url = f"https://{rng.choice(sites)}/post-{i}/"
        roll = rng.random()
        if originals and roll < EXACT_SHARE + NEAR_SHARE:
            markdown, published = rng.choice(originals)
            published += timedelta(days=rng.randint(1, 90))
            if roll >= EXACT_SHARE:
                mutated = _mutate(markdown, NEAR_MUTATION, vocab, rng)
                if mutated == markdown:  # a near copy differs from its original by at least one word
                    mutated = _WORD.sub(lambda m: m.group(0) + "s", markdown, count=1)
                markdown = mutated
                url = url.replace("/post-", "/near-")
            else:
                url = url.replace("/post-", "/copy-")
        else:
            chosen = rng.sample(blocks, rng.randint(3, 12))
            markdown = "\n\n".join(_mutate(b, MUTATION, vocab, rng) for b in chosen)
            published = START + timedelta(seconds=rng.randrange(SPAN))
            if len(originals) < 20_000:
                originals.append((markdown, published))
        yield _article(url, markdown, published, i)


def build(root: Path, n: int, log: Any) -> None:
    if (root / "index.db").exists():
        with thresher.Archive(root) as archive:
            if len(archive) == n:
                log(f"reusing the archive in {root} ({n:,} articles)")
                return
        shutil.rmtree(root)
    started = time.perf_counter()
    with thresher.Archive(root) as archive:
        for done, _ in enumerate(archive.add_many(articles(n), batch=500), 1):
            if done % 20_000 == 0:
                log(f"  built {done:,}")
        archive.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    log(f"built {n:,} articles in {time.perf_counter() - started:.0f} s")


def run_one(root: Path, mode: str) -> dict[str, Any]:
    """One export in this process; its figures (called in a child process)."""
    out = Path(tempfile.mkdtemp(prefix="thresher-export-")) / "corpus.jsonl"
    started, cpu_started = time.perf_counter(), time.process_time()
    with thresher.Archive(root, create=False) as archive:
        report = export_corpus(archive, out, ExportOptions(dedupe=mode))  # type: ignore[arg-type]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    planted = {c["kept"]: c for c in report.to_dict()["clusters"]}
    near_found = sum(len(c["duplicates"]) for c in planted.values() if c["kind"] == "near")
    shutil.rmtree(out.parent)
    return {
        "mode": mode,
        "seconds": round(seconds, 2),
        "articles_per_s": round(report.read / seconds, 1),
        "cpu_seconds": round(cpu, 2),
        "read": report.read,
        "written": report.written,
        "duplicates": report.duplicates,
        "near_found": near_found,
        "bytes": report.bytes,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--out", type=Path, help="archive folder (reused when it holds --articles)")
    parser.add_argument("--keep", action="store_true", help="keep the archive")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=["exact", "near"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.out, args.child)))
        return 0

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    root = args.out or Path(tempfile.mkdtemp(prefix="thresher-bench-export-")) / "archive"
    build(root, args.articles, log)
    planted_near = sum(1 for a in articles(args.articles) if "/near-" in a.url)
    results = {}
    for mode in ("exact", "near"):
        load = os.getloadavg()[0]
        child = subprocess.run(
            [sys.executable, __file__, "--out", str(root), "--child", mode],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode:
            log(child.stderr)
            return 1
        results[mode] = json.loads(child.stdout) | {"load_before": round(load, 2)}
    exact, near = results["exact"], results["near"]
    figures = {
        "articles": args.articles,
        "planted_near_copies": planted_near,
        "exact": exact,
        "near": near,
        "targets": {
            "exact_rate_ok": exact["articles_per_s"] >= TARGET_RATE,
            "near_seconds_ok": near["seconds"] <= TARGET_NEAR_SECONDS,
            "rss_ok": max(exact["peak_rss_mb"], near["peak_rss_mb"]) < TARGET_RSS_MB,
        },
        "cpus": os.cpu_count(),
    }
    if not args.keep and args.out is None:
        shutil.rmtree(root.parent)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(
        f"{args.articles:,} synthetic articles ({planted_near:,} planted near copies), {os.cpu_count()} CPUs"
    )
    print(
        f"{'export':<8}{'seconds':>9}{'CPU s':>8}{'articles/s':>12}{'CPU rate':>10}{'peak RSS MB':>13}"
        f"{'written':>10}  duplicates removed"
    )
    for mode, r in results.items():
        cpu_rate = r["read"] / r["cpu_seconds"] if r["cpu_seconds"] else 0
        print(
            f"{mode:<8}{r['seconds']:>9}{r['cpu_seconds']:>8}{r['articles_per_s']:>12,.0f}{cpu_rate:>10,.0f}"
            f"{r['peak_rss_mb']:>13}{r['written']:>10,}  {r['duplicates']}  (load {r['load_before']})"
        )
    print(f"near copies found: {near['near_found']:,} of {planted_near:,} planted")
    t = figures["targets"]
    print(
        f"targets: exact >= {TARGET_RATE:,.0f}/s {'met' if t['exact_rate_ok'] else 'MISSED'}; "
        f"near <= {TARGET_NEAR_SECONDS:.0f} s {'met' if t['near_seconds_ok'] else 'MISSED'}; "
        f"RSS < {TARGET_RSS_MB:.0f} MB {'met' if t['rss_ok'] else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
