"""Archive benchmark: build a synthetic archive, then time thresher's search against ripgrep over the files.

Run from the repository root::

    .venv/bin/python bench/search.py                          # 100,000 articles, 200 queries, 40 for rg
    .venv/bin/python bench/search.py --articles 20000         # quicker
    .venv/bin/python bench/search.py --json                   # one JSON object on stdout
    .venv/bin/python bench/search.py --out /tmp/arc --keep    # keep the archive for a look afterwards

In one run it:

1. Generates ``--articles`` synthetic :class:`thresher.Article` objects from the hand-written fixture bodies
   (``fixtures/pages/**/*.body.md``, the only text source): 3-12 fixture blocks per article with about 12% of
   their words replaced by vocabulary words drawn with Zipf weights (so articles differ and word frequencies
   have a long tail), a title cut from fixture text, 1-5 tags from a pool of 200, 1-2 categories, a date over
   three years, 0-3 "also read" links, and ``text``/``word_count``/``content_hash`` computed as the pipeline
   does. Seeded, so every run builds the same archive. Generation is not timed.
2. Builds the archive with ``Archive.add_many`` (its default batch) in a fresh folder and times it (wall
   clock, which includes writing the Markdown files). The index size (``index.db`` + ``-wal`` after a
   checkpoint) is set against the Markdown bytes on disk.
3. Times ``Archive.search(q, limit=10)`` for ``--queries`` queries (after 5 untimed warm-up queries), a fixed
   rotation of: a common word, a rare word, two words (AND), a two-word phrase, a prefix (``word*``), and a
   common word filtered by one of the 20 most used tags.
4. Times ripgrep on the same Markdown files for the first ``--rg-queries`` queries (one untimed warm-up):
   ``rg -i -l --no-ignore -g '*.md' --fixed-strings TERM DIR``. A query with several terms is answered with
   its single rarest term (for the tag query: the rarer of the word and the tag name), which asks rg an
   easier question than thresher's AND, so the comparison favours rg. A phrase is searched as the literal
   phrase, a prefix as ``-e 'TERM\\w*'``. rg lists every matching file; thresher returns the 10 best.

Targets: build >= 2,000 articles/s; search p95 <= 20 ms; thresher >= 20x faster than rg at p50. The exit
status is 0 whether or not they are met, 2 when the fixtures cannot be read or ``--out`` is not empty.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1] / "src"))  # fallback when thresher is not installed
try:
    import thresher
    from thresher.markdown import markdown_to_text
    from thresher.models import Article, Link, content_hash, count_words
    from thresher.sqlite import sqlite3
except ImportError as exc:  # pragma: no cover - reported as one line
    sys.exit(f"bench: cannot import thresher: {exc}")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
SEED = 20250301
WARMUP = 5
LIMIT = 10
N_SITES = 20
N_TAGS = 200
N_CATEGORIES = 15
N_AUTHORS = 30
MUTATION_RATE = 0.12
START = datetime(2022, 6, 1, tzinfo=UTC)
SPAN_SECONDS = 3 * 365 * 24 * 3600

TARGET_BUILD_RATE = 2_000.0
TARGET_P95_MS = 20.0
TARGET_RATIO = 20.0

KINDS = ("common", "rare", "and", "phrase", "prefix", "tag")

_FENCE = re.compile(r"^\s*(```|~~~)")
_WORD = re.compile(r"[A-Za-z]{3,}")
_LOWER_WORD = re.compile(r"[a-z]{3,}")
# Parts of a block that must not be mutated: link/image targets, bare URLs and inline code.
_PROTECTED = re.compile(r"(\]\([^)]*\)|https?://\S+|`[^`]*`)")


class BenchError(Exception):
    """The fixtures cannot be read, or the output folder is not usable."""


# ---------------------------------------------------------------------------------------------- corpus


@dataclass(slots=True)
class Block:
    """One fixture block (paragraph, heading, list, table, code fence), pre-split for fast mutation."""

    parts: list[str]  # alternating text; word positions listed in ``words``
    words: list[int]  # indexes into ``parts`` that hold a mutable word


@dataclass(slots=True)
class Corpus:
    """Everything the generator draws from, all taken from the fixture bodies."""

    blocks: list[Block]
    vocab: list[str]  # distinct lower-case words, in Zipf rank order (seeded shuffle)
    cum_weights: list[float]
    sentences: list[list[str]]  # word runs of fixture text, for titles and phrases


def _split_blocks(markdown: str) -> list[str]:
    """Blank-line separated blocks, a fenced code block kept whole even when it holds blank lines."""
    blocks: list[str] = []
    current: list[str] = []
    fence = ""
    for line in markdown.split("\n"):
        match = _FENCE.match(line)
        if fence:
            current.append(line)
            if match and match.group(1) == fence:
                fence = ""
            continue
        if match:
            fence = match.group(1)
            current.append(line)
        elif line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def _make_block(text: str) -> Block:
    """Split a block into parts, marking the words that may be replaced (not in code, URLs or images)."""
    if text.lstrip().startswith(("```", "~~~", "![")):
        return Block(parts=[text], words=[])
    parts: list[str] = []
    words: list[int] = []
    for i, chunk in enumerate(_PROTECTED.split(text)):
        if i % 2:  # protected
            parts.append(chunk)
            continue
        pos = 0
        for m in _WORD.finditer(chunk):
            parts.append(chunk[pos : m.start()])
            words.append(len(parts))
            parts.append(m.group())
            pos = m.end()
        parts.append(chunk[pos:])
    return Block(parts=parts, words=words)


def load_corpus(root: Path, rng: random.Random) -> Corpus:
    """Read every ``*.body.md`` under ``root`` into blocks, a vocabulary and word runs."""
    files = sorted(root.glob("**/*.body.md"))
    if not files:
        raise BenchError(f"no *.body.md fixtures under {root}")
    blocks: list[Block] = []
    words: set[str] = set()
    sentences: list[list[str]] = []
    for path in files:
        try:
            body = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BenchError(f"cannot read {path}: {exc}") from exc
        blocks += [_make_block(b) for b in _split_blocks(body)]
        text = markdown_to_text(body)
        words.update(w.lower() for w in _WORD.findall(text))
        for sentence in re.split(r"[.!?:;\n]+", text):
            run = _WORD.findall(sentence)
            if len(run) >= 4:
                sentences.append(run)
    vocab = sorted(words)
    rng.shuffle(vocab)
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(vocab))]
    cum: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        cum.append(total)
    return Corpus(blocks=blocks, vocab=vocab, cum_weights=cum, sentences=sentences)


@dataclass(slots=True)
class Generated:
    """The synthetic articles plus what the query mix needs to know about them."""

    articles: list[Article]
    doc_freq: Counter[str]  # lower-case word -> number of articles (title + text) holding it
    tag_freq: Counter[str]
    seconds: float


class Generator:
    """Deterministic synthetic articles built from a :class:`Corpus`."""

    def __init__(self, corpus: Corpus, rng: random.Random) -> None:
        self.c = corpus
        self.rng = rng
        pick = self._zipf_words
        self.sites = sorted({f"{a}{b}.test" for a, b in zip(pick(60), pick(60), strict=True)})[:N_SITES]
        tags: set[str] = set()
        while len(tags) < N_TAGS:
            n = 1 if rng.random() < 0.6 else 2
            tags.add(" ".join(w for w in rng.sample(corpus.vocab[:600], n) if len(w) >= 3))
        self.tags = sorted(t for t in tags if t)
        rng.shuffle(self.tags)  # Zipf rank order for tag popularity
        self.tag_cum = list(_cumulative([1.0 / (r + 1) for r in range(len(self.tags))]))
        self.categories = sorted({w.capitalize() for w in rng.sample(corpus.vocab[:300], N_CATEGORIES)})
        self.authors = [
            f"{a.capitalize()} {b.capitalize()}"
            for a, b in zip(pick(N_AUTHORS), pick(N_AUTHORS), strict=True)
        ]
        self.slugs: set[tuple[str, str]] = set()
        self.seen: list[tuple[str, str]] = []

    def _zipf_words(self, k: int) -> list[str]:
        return self.rng.choices(self.c.vocab, cum_weights=self.c.cum_weights, k=k)

    def _mutate(self, block: Block) -> str:
        if not block.words:
            return block.parts[0] if len(block.parts) == 1 else "".join(block.parts)
        parts = list(block.parts)
        k = sum(1 for _ in block.words if self.rng.random() < MUTATION_RATE)
        if k:
            for idx, word in zip(self.rng.sample(block.words, k), self._zipf_words(k), strict=True):
                parts[idx] = word.capitalize() if parts[idx][0].isupper() else word
        return "".join(parts)

    def article(self, i: int) -> Article:
        rng = self.rng
        site = self.sites[int(rng.random() ** 1.5 * len(self.sites))]  # some sites are much bigger
        sentence = rng.choice(self.c.sentences)
        start = rng.randrange(max(1, len(sentence) - 3))
        title_words = sentence[start : start + rng.randint(4, 9)]
        title_words[rng.randrange(len(title_words))] = self._zipf_words(1)[0]
        title = " ".join(title_words)
        title = title[0].upper() + title[1:]
        slug = "-".join(w.lower() for w in title_words)[:80].strip("-")
        if (site, slug) in self.slugs:
            slug = f"{slug}-{i}"
        self.slugs.add((site, slug))
        url = f"https://{site}/{slug}/"
        blocks = [self._mutate(b) for b in rng.sample(self.c.blocks, rng.randint(3, 12))]
        markdown = "\n\n".join(blocks)
        text = markdown_to_text(markdown)
        published = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        tags = sorted(set(rng.choices(self.tags, cum_weights=self.tag_cum, k=rng.randint(1, 5))))
        links = [
            Link(url=u, title=t) for u, t in rng.sample(self.seen, min(len(self.seen), rng.randint(0, 3)))
        ]
        first_line = text.split("\n", 1)[0]
        article = Article(
            url=url,
            canonical_url=url,
            title=title,
            author=rng.choice(self.authors),
            published=published,
            updated=published + timedelta(days=rng.randint(1, 200)) if rng.random() < 0.3 else None,
            description=first_line[:157] + "..." if len(first_line) > 160 else first_line,
            tags=tags,
            categories=rng.sample(self.categories, rng.randint(1, 2)),
            site_name=site.split(".")[0].capitalize(),
            lang="en",
            also_read=links,
            markdown=markdown,
            text=text,
            word_count=count_words(text),
            content_hash=content_hash(markdown),
        )
        if len(self.seen) < 5_000 or rng.random() < 0.05:
            self.seen.append((url, title))
        return article


def _cumulative(weights: Sequence[float]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def generate(corpus: Corpus, n: int, rng: random.Random) -> Generated:
    """``n`` articles and the per-word document frequencies the query mix is chosen from."""
    started = time.perf_counter()
    gen = Generator(corpus, rng)
    articles: list[Article] = []
    doc_freq: Counter[str] = Counter()
    tag_freq: Counter[str] = Counter()
    for i in range(n):
        article = gen.article(i)
        articles.append(article)
        doc_freq.update(set(_LOWER_WORD.findall(f"{article.title}\n{article.text}".lower())))
        tag_freq.update(article.tags)
    return Generated(articles, doc_freq, tag_freq, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------- queries


@dataclass(slots=True, frozen=True)
class Query:
    """One benchmark query: what thresher is asked, and the single pattern rg gets for it."""

    kind: str
    text: str
    tag: str | None
    rg_pattern: str
    rg_regex: bool  # False: --fixed-strings
    df: int | None  # articles holding the rarest word (or the tag); an upper bound for AND and phrases


def make_queries(gen: Generated, corpus: Corpus, n: int, rng: random.Random) -> list[Query]:
    """A fixed rotation over :data:`KINDS`, terms chosen by document frequency in the generated corpus."""
    by_df = [w for w, _ in gen.doc_freq.most_common() if w.isascii()]
    common = by_df[:60]
    middle = by_df[len(by_df) // 5 : len(by_df) // 2]
    rare = [w for w in reversed(by_df) if len(w) >= 4][:100]
    long_words = [w for w in by_df[:400] if len(w) >= 6]
    top_tags = [t for t, _ in gen.tag_freq.most_common(20)]
    df = gen.doc_freq

    def rarest(*terms: str) -> str:
        return min(terms, key=lambda t: (df.get(t, 0), t))

    queries: list[Query] = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        if kind in ("common", "rare"):
            w = rng.choice(common if kind == "common" else rare)
            queries.append(Query(kind, w, None, w, False, df[w]))
        elif kind == "and":
            a, b = rng.choice(common[:30]), rng.choice(middle)
            term = rarest(a, b)
            queries.append(Query(kind, f"{a} {b}", None, term, False, df[term]))
        elif kind == "phrase":
            run = rng.choice(corpus.sentences)
            j = rng.randrange(len(run) - 1)
            a, b = run[j].lower(), run[j + 1].lower()
            queries.append(Query(kind, f'"{a} {b}"', None, f"{a} {b}", False, df[rarest(a, b)]))
        elif kind == "prefix":
            stem = rng.choice(long_words)[:4]
            queries.append(Query(kind, f"{stem}*", None, stem + r"\w*", True, None))
        else:
            w, tag = rng.choice(common), rng.choice(top_tags)
            pattern, count = (w, df[w]) if df[w] <= gen.tag_freq[tag] else (tag, gen.tag_freq[tag])
            queries.append(Query(kind, w, tag, pattern, False, count))
    return queries


# ---------------------------------------------------------------------------------------------- running


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(slots=True)
class Timings:
    """Latencies in ms, per query, in query order."""

    ms: list[float] = field(default_factory=list)
    hits: list[int] = field(default_factory=list)
    urls: list[list[str]] = field(default_factory=list)

    def summary(self) -> dict[str, float | None]:
        if not self.ms:
            return {"p50_ms": None, "p95_ms": None, "max_ms": None}
        return {
            "p50_ms": round(statistics.median(self.ms), 3),
            "p95_ms": round(percentile(self.ms, 0.95), 3),
            "max_ms": round(max(self.ms), 3),
        }


# above this a create is being slowed by the file system (see file_create_us); the report says so
SLOW_CREATE_US = 150


def file_create_us(folder: Path, n: int = 300) -> float:
    """Mean µs to create (and close) an empty file in a new subfolder of ``folder`` (before the build).

    The build creates one file an article, so its rate moves with this. On ext4 without a journal the
    kernel skips free inodes deleted in the last 60 s (360 s while their inode table block is dirty) on
    every create (``recently_deleted``): right after a 100,000-file archive is deleted a create can cost
    0.3-0.9 ms instead of tens of µs. The figure is printed so such a run can be told apart.
    """
    probe = folder / ".create-probe"
    probe.mkdir(parents=True)
    try:
        started = time.perf_counter()
        for i in range(n):
            os.close(os.open(probe / f"{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return (time.perf_counter() - started) * 1e6 / n
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def build(root: Path, articles: list[Article]) -> dict[str, Any]:
    """Add every article with ``add_many``; the wall clock, rate, statuses and sizes."""
    create_us = file_create_us(root)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with thresher.Archive(root) as archive:
        statuses = Counter(r.status for r in archive.add_many(articles))
        seconds = time.perf_counter() - started
        archive.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        stats = archive.stats()
    index = root / "index.db"
    index_bytes = sum(p.stat().st_size for p in (index, root / "index.db-wal") if p.exists())
    return {
        "seconds": round(seconds, 3),
        "articles_per_s": round(len(articles) / seconds, 1),
        "statuses": dict(statuses),
        "articles_indexed": stats["articles"],
        "markdown_files": stats["markdown_files"],
        "markdown_bytes": stats["markdown_bytes"],
        "text_bytes": sum(len(a.text.encode("utf-8")) for a in articles),
        "index_bytes": index_bytes,
        "index_to_markdown": round(index_bytes / max(1, stats["markdown_bytes"]), 3),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "file_create_us": round(create_us, 1),
        "sqlite": f"{sqlite3.sqlite_version} ({sqlite3.__name__})",  # pysqlite3 with the `sqlite` extra
    }


def run_thresher(root: Path, queries: list[Query]) -> Timings:
    """Time ``Archive.search(q, limit=10)`` per query, after :data:`WARMUP` untimed ones."""
    out = Timings()
    with thresher.Archive(root, create=False) as archive:
        for q in queries[:WARMUP]:
            archive.search(q.text, limit=LIMIT, tag=q.tag)
        for q in queries:
            started = time.perf_counter()
            hits = archive.search(q.text, limit=LIMIT, tag=q.tag)
            out.ms.append((time.perf_counter() - started) * 1000)
            out.hits.append(len(hits))
            out.urls.append([h.url for h in hits])
    return out


def ranking_agreement(root: Path, queries: list[Query], ours: Timings) -> dict[str, Any]:
    """How thresher's top 10 compares with exact full-bm25 ranking of every match (not timed).

    Only tiered queries (more than ``TIER_MIN_MATCHES`` matches) can differ. For each query: how many of
    the exact top 10 thresher returned, and the mean full bm25 of thresher's hits as a share of the exact
    top 10's mean (1.0: as good by the full score).
    """
    from thresher.search_query import QueryBuilder
    from thresher.store import search
    from thresher.store.index import FTS_COLUMNS

    builder = QueryBuilder(FTS_COLUMNS)
    shared: list[int] = []
    shares: list[float] = []
    exact_queries = 0
    with contextlib.closing(sqlite3.connect(root / "index.db")) as conn:
        for q, urls in zip(queries, ours.urls, strict=True):
            fts = builder.build(q.text)
            if fts is None:
                continue
            # the library's own test for tiering, and its own filter SQL
            tiered = search.tier_expression(fts.expression) is not None and search._matches_more_than(
                conn, fts.expression, search.TIER_MIN_MATCHES
            )
            if not tiered:
                exact_queries += 1
                continue
            conditions, params = search.Filters(tag=q.tag).sql()
            where = "".join(f" and {c}" for c in conditions)
            scored = conn.execute(
                f"select a.url, {search.BM25} as s from articles_fts f join articles a on a.id = f.rowid "
                f"where articles_fts match ? {where} order by s, f.rowid",
                [fts.expression, *params],
            ).fetchall()
            score = dict(scored)
            exact = [u for u, _ in scored[:LIMIT]]
            shared.append(len(set(exact) & set(urls)))
            if exact and urls:
                best = statistics.mean(score[u] for u in exact)
                shares.append(statistics.mean(score[u] for u in urls if u in score) / best)
    return {
        "exact_queries": exact_queries,
        "tiered_queries": len(shared),
        "shared_of_top10_mean": round(statistics.mean(shared), 2) if shared else None,
        "score_share_mean": round(statistics.mean(shares), 4) if shares else None,
        "score_share_min": round(min(shares), 4) if shares else None,
    }


def find_rg() -> Path | None:
    """``rg`` on PATH, else the one the PyPI ``ripgrep`` wheel puts in this interpreter's scripts folder."""
    found = shutil.which("rg")
    if found:
        return Path(found)
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / ("rg.exe" if os.name == "nt" else "rg")
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def rg_command(rg: Path, q: Query, root: Path) -> list[str]:
    """The ripgrep command line for one query (see the module docstring)."""
    cmd = [str(rg), "-i", "-l", "--no-ignore", "-g", "*.md"]
    cmd += ["-e", q.rg_pattern] if q.rg_regex else ["--fixed-strings", "-e", q.rg_pattern]
    return [*cmd, str(root)]


def run_rg(rg: Path, root: Path, queries: list[Query]) -> Timings:
    """Time one rg process per query (wall clock, output read in full), after one untimed run."""
    out = Timings()
    if not queries:
        return out
    subprocess.run(rg_command(rg, queries[0], root), capture_output=True, check=False)
    for q in queries:
        cmd = rg_command(rg, q, root)
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, check=False)
        out.ms.append((time.perf_counter() - started) * 1000)
        if proc.returncode > 1:
            raise BenchError(f"{' '.join(cmd)} failed: {proc.stderr.decode(errors='replace').strip()}")
        out.hits.append(proc.stdout.count(b"\n"))
    return out


# ---------------------------------------------------------------------------------------------- report


def _ok(value: float | None, target: float, *, at_most: bool = False) -> bool | None:
    if value is None or math.isnan(value):
        return None
    return value <= target if at_most else value >= target


def report(
    args: argparse.Namespace,
    gen: Generated,
    built: dict[str, Any],
    queries: list[Query],
    ours: Timings,
    peer: Timings | None,
    rg: Path | None,
    agreement: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every figure as one JSON-ready dict."""
    search = ours.summary()
    rg_subset = Timings(ms=ours.ms[: len(peer.ms)], hits=ours.hits[: len(peer.ms)]) if peer else None
    per_kind: dict[str, Any] = {}
    for kind in KINDS:
        ms = [t for q, t in zip(queries, ours.ms, strict=True) if q.kind == kind]
        dfs = [q.df for q in queries if q.kind == kind and q.df is not None]
        row: dict[str, Any] = {
            "queries": len(ms),
            "median_df": statistics.median(dfs) if dfs else None,
            **Timings(ms=ms).summary(),
        }
        if peer:
            rg_ms = [t for q, t in zip(queries, peer.ms, strict=False) if q.kind == kind]
            row["rg_p50_ms"] = Timings(ms=rg_ms).summary()["p50_ms"]
        per_kind[kind] = row
    ripgrep: dict[str, Any] | None = None
    ratio = math.nan
    if peer is not None and rg_subset is not None:
        ripgrep = {
            "binary": str(rg),
            "queries": len(peer.ms),
            **peer.summary(),
            "files_listed_median": statistics.median(peer.hits) if peer.hits else 0,
            "thresher_same_queries": rg_subset.summary(),
        }
        rg_p50, ours_p50 = peer.summary()["p50_ms"], rg_subset.summary()["p50_ms"]
        if rg_p50 is not None and ours_p50 is not None:
            ratio = rg_p50 / max(1e-9, ours_p50)
    return {
        "articles": args.articles,
        "seed": SEED,
        "cpus": os.cpu_count(),
        "generate_seconds": round(gen.seconds, 2),
        "build": built,
        "search": {
            "queries": len(ours.ms),
            "limit": LIMIT,
            **search,
            "per_kind": per_kind,
            "ranking": agreement,
        },
        "ripgrep_binary": str(rg) if rg else None,
        "ripgrep": ripgrep,
        "speed_ratio_p50": round(ratio, 1) if not math.isnan(ratio) else None,
        "targets": {
            "build_articles_per_s": {
                "target": TARGET_BUILD_RATE,
                "ok": _ok(built["articles_per_s"], TARGET_BUILD_RATE),
            },
            "search_p95_ms": {
                "target": TARGET_P95_MS,
                "ok": _ok(search["p95_ms"], TARGET_P95_MS, at_most=True),
            },
            "speed_ratio_p50": {"target": TARGET_RATIO, "ok": _ok(ratio, TARGET_RATIO)},
        },
        "query_examples": [
            {"kind": q.kind, "query": q.text, "tag": q.tag, "rg": q.rg_pattern, "df": q.df}
            for q in queries[: len(KINDS)]
        ],
        "load_end": round(os.getloadavg()[0], 2),
    }


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("[green]ok[/]" if ok else "[red]no[/]")


def print_tables(f: dict[str, Any]) -> None:
    """The side-by-side table and the per-kind breakdown, with rich."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    b, s, r, t = f["build"], f["search"], f["ripgrep"], f["targets"]
    table = Table(
        title=f"thresher archive vs ripgrep — {f['articles']:,} articles, {f['cpus']} CPUs",
        caption=f"{s['queries']} thresher queries (limit {s['limit']}); "
        + (f"rg and the ratio: the first {r['queries']}" if r else "rg: not run"),
    )
    for name, justify in (
        ("figure", "left"),
        ("thresher", "right"),
        ("ripgrep", "right"),
        ("target", "right"),
        ("ok", "center"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_row(
        "build rate (add_many)",
        f"{b['articles_per_s']:,.0f}/s ({b['seconds']:.1f} s)",
        "—",
        f">= {TARGET_BUILD_RATE:,.0f}/s",
        _verdict(t["build_articles_per_s"]["ok"]),
    )
    table.add_row(
        "index vs Markdown",
        f"{_mb(b['index_bytes'])} = {b['index_to_markdown']:.2f}x",
        f"{_mb(b['markdown_bytes'])} .md",
        "—",
        "",
    )

    def rg_cell(key: str) -> str:
        if r:
            return f"{r[key]:,.1f} ms"
        return "not run" if f["ripgrep_binary"] else "missing"

    table.add_row(
        "search p50",
        f"{s['p50_ms']:.2f} ms",
        rg_cell("p50_ms"),
        "—",
        "",
    )
    table.add_row(
        "search p95",
        f"{s['p95_ms']:.2f} ms",
        rg_cell("p95_ms"),
        f"<= {TARGET_P95_MS:.0f} ms",
        _verdict(t["search_p95_ms"]["ok"]),
    )
    table.add_row("search max", f"{s['max_ms']:.2f} ms", rg_cell("max_ms"), "—", "")
    ratio = f["speed_ratio_p50"]
    table.add_row(
        "p50 ratio rg/thresher",
        f"{ratio:,.0f}x" if ratio is not None else "—",
        "",
        f">= {TARGET_RATIO:.0f}x",
        _verdict(t["speed_ratio_p50"]["ok"]),
    )
    console.print(table)

    kinds = Table(
        title="thresher latency by query kind (ms)",
        caption="median df: articles holding the rarest term (surface word, before stemming)",
    )
    for name in ("kind", "queries", "median df", "p50", "p95", "max", "rg p50"):
        kinds.add_column(name, justify="left" if name == "kind" else "right")
    for kind, row in s["per_kind"].items():
        rg_p50 = row.get("rg_p50_ms")
        kinds.add_row(
            kind,
            str(row["queries"]),
            f"{row['median_df']:,.0f}" if row["median_df"] is not None else "—",
            f"{row['p50_ms']:.2f}",
            f"{row['p95_ms']:.2f}",
            f"{row['max_ms']:.2f}",
            f"{rg_p50:,.1f}" if rg_p50 is not None else "—",
        )
    console.print(kinds)
    ranking = s.get("ranking")
    if ranking:
        tiered = ranking["tiered_queries"]
        console.print(
            f"ranking: {ranking['exact_queries']} queries ranked exactly (<= 5,000 matches); {tiered} tiered"
            + (
                f", sharing {ranking['shared_of_top10_mean']} of the exact top 10 on average, their mean "
                f"full bm25 {ranking['score_share_mean']:.1%} of the exact top 10's "
                f"(lowest {ranking['score_share_min']:.1%})"
                if tiered
                else ""
            ),
            highlight=False,
        )
    console.print(
        f"generation {f['generate_seconds']:.1f} s (not timed); load average {b['load_before']} before the "
        f"build, {b['load_after']} after, {f['load_end']} at the end; Markdown {_mb(b['markdown_bytes'])}, "
        f"plain text {_mb(b['text_bytes'])}; SQLite {b['sqlite']}; creating a file took "
        f"{b['file_create_us']:.0f} µs before the build (see file_create_us)",
        highlight=False,
    )
    if b["file_create_us"] > SLOW_CREATE_US:
        console.print(
            f"[yellow]creating a file cost {b['file_create_us']:.0f} µs[/] (tens of µs on a quiet disk), so "
            "the build rate above is held down by the file system: on ext4 without a journal a mass "
            "deletion in the last minutes does this (see bench/README.md)",
            highlight=False,
        )
    if not f["ripgrep_binary"]:
        console.print("[yellow]ripgrep is missing[/]: `pip install ripgrep` or `apt-get install ripgrep`")


# ---------------------------------------------------------------------------------------------- main


def _prepare(out: Path | None) -> tuple[Path, bool]:
    """The archive folder and whether this run created it; BenchError when ``out`` is not empty."""
    if out is None:
        return Path(tempfile.mkdtemp(prefix="thresher-bench-")), True
    if out.exists():
        if not out.is_dir() or any(out.iterdir()):
            raise BenchError(f"{out} exists and is not an empty folder")
        return out, False
    out.mkdir(parents=True)
    return out, True


def _cleanup(root: Path, created: bool) -> None:
    if created:
        shutil.rmtree(root, ignore_errors=True)
        return
    for child in root.iterdir():  # an --out folder that was empty before: empty it again
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                child.unlink()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, build the archive, run both searches and print the figures."""
    parser = argparse.ArgumentParser(
        description="Benchmark thresher's archive build and search against ripgrep."
    )
    parser.add_argument(
        "--articles", type=int, default=100_000, metavar="N", help="synthetic articles (100000)"
    )
    parser.add_argument("--queries", type=int, default=200, metavar="N", help="thresher search queries (200)")
    parser.add_argument("--rg-queries", type=int, default=40, metavar="N", help="of those, run by rg (40)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="build here (missing or empty)")
    parser.add_argument("--keep", action="store_true", help="leave the archive in place afterwards")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    if args.articles < 1 or args.queries < 1 or args.rg_queries < 0:
        parser.error("--articles and --queries must be at least 1, --rg-queries at least 0")

    def log(msg: str) -> None:
        if not args.json:
            print(f"bench: {msg}", file=sys.stderr, flush=True)

    rng = random.Random(SEED)
    try:
        corpus = load_corpus(FIXTURES, rng)
        root, created = _prepare(args.out)
    except (BenchError, OSError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    try:
        log(
            f"generating {args.articles:,} articles from {len(corpus.blocks)} fixture blocks, "
            f"{len(corpus.vocab):,} words"
        )
        gen = generate(corpus, args.articles, rng)
        queries = make_queries(gen, corpus, args.queries, random.Random(SEED + 1))
        log(f"building the archive in {root}")
        built = build(root, gen.articles)
        gen.articles.clear()
        log(f"{built['articles_per_s']:,.0f} articles/s; searching ({len(queries)} queries)")
        ours = run_thresher(root, queries)
        agreement = ranking_agreement(root, queries, ours)
        rg = find_rg()
        peer = None
        if rg is None:
            print(
                "bench: ripgrep is missing (`pip install ripgrep` or `apt-get install ripgrep`); "
                "skipping its column",
                file=sys.stderr,
            )
        elif args.rg_queries:
            log(f"ripgrep ({rg}), {min(args.rg_queries, len(queries))} queries")
            peer = run_rg(rg, root, queries[: args.rg_queries])
        figures = report(args, gen, built, queries, ours, peer, rg, agreement)
        if args.keep:
            figures["archive"] = str(root)
    except (BenchError, sqlite3.Error, thresher.ThresherError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    finally:
        if not args.keep:
            _cleanup(root, created)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, allow_nan=False, default=str))
    else:
        print_tables(figures)
        if args.keep:
            print(f"archive kept at {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
