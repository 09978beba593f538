"""``export_corpus``: archive → filtered, cleaned, deduplicated records → one output file + its manifest."""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import ExportError
from ..models import count_words
from ..store import Archive
from .clean import CleanLevel, clean_markdown, clean_text
from .dedupe import ExactDeduper, NearDeduper, signatures
from .manifest import ExportReport
from .records import BATCH, ExportRecord, Filters, iter_rows, markdown_body, select_ids
from .writers import FORMATS, open_writer

__all__ = ["DedupeMode", "ExportOptions", "export_corpus"]

log = logging.getLogger(__name__)

DedupeMode = Literal["none", "exact", "near"]
Progress = Callable[[int, int], None]


@dataclass(slots=True, kw_only=True)
class ExportOptions:
    """How to export (the ``thresher export`` options).

    Args:
        format: ``jsonl`` (default), ``parquet``, ``txt`` or ``md``.
        dedupe: ``none``, ``exact`` (default: the same text) or ``near`` (exact, then MinHash LSH).
        threshold: the Jaccard similarity from which ``near`` calls two texts duplicates (default 0.8).
        clean: ``basic`` (default: Unicode and whitespace) or ``strict`` (also boilerplate lines).
        min_words: drop records with fewer words than this after cleaning.
        with_markdown: add the cleaned Markdown body as ``markdown`` (read from the article files).
        filters: which articles (site, tag, lang, since, until, query, kinds).
    """

    format: str = "jsonl"
    dedupe: DedupeMode = "exact"
    threshold: float = 0.8
    clean: CleanLevel = "basic"
    min_words: int = 0
    with_markdown: bool = False
    filters: Filters = field(default_factory=Filters)

    def validate(self) -> None:
        """Raise ExportError for an option out of range."""
        if self.format not in FORMATS:
            raise ExportError(f"unknown format {self.format!r} (one of {', '.join(FORMATS)})")
        if self.dedupe not in ("none", "exact", "near"):
            raise ExportError(f"unknown dedupe mode {self.dedupe!r} (none, exact or near)")
        if self.clean not in ("basic", "strict"):
            raise ExportError(f"unknown clean level {self.clean!r} (basic or strict)")
        if not 0.0 < self.threshold <= 1.0:
            raise ExportError(f"the near-duplicate threshold must be in (0, 1], not {self.threshold}")
        if self.min_words < 0:
            raise ExportError("--min-words must be >= 0")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, for the manifest."""
        return {
            "format": self.format,
            "dedupe": self.dedupe,
            "threshold": self.threshold if self.dedupe == "near" else None,
            "clean": self.clean,
            "min_words": self.min_words,
            "with_markdown": self.with_markdown,
            "filters": self.filters.to_dict(),
        }


def export_corpus(
    archive: Archive,
    out: str | Path,
    options: ExportOptions | None = None,
    *,
    progress: Progress | None = None,
) -> ExportReport:
    """Export the archive's articles as a corpus file ``out`` and its manifest ``out.manifest.json``.

    Articles are read earliest published first, so deduplication keeps the earliest copy. The output is
    written to a temp file and renamed into place at the end: on any error or KeyboardInterrupt nothing is
    left at ``out``.

    Args:
        archive: an open archive.
        out: the output file (replaced when it exists).
        options: what to export and how (defaults: jsonl, exact dedupe, basic cleaning).
        progress: called as ``progress(done, total)`` after each batch of articles.

    Returns:
        The report, which is also the manifest's content.

    Raises:
        ExportError: a bad option, pyarrow missing for parquet, or the output cannot be written.
        StoreError: the index cannot be read.
    """
    options = options or ExportOptions()
    options.validate()
    target = Path(out)
    started = time.perf_counter()
    report = ExportReport(output=target, format=options.format, options=options.to_dict())
    dropped: Counter[str] = Counter()
    duplicates: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    ids = select_ids(archive, options.filters, dropped)
    report.read = len(ids) + sum(dropped.values())
    exact = ExactDeduper() if options.dedupe != "none" else None
    near = NearDeduper(options.threshold, capacity=len(ids)) if options.dedupe == "near" else None
    need_markdown = options.with_markdown or options.format == "md"
    total, done = len(ids), 0
    with open_writer(options.format, target, with_markdown=options.with_markdown) as writer:
        pending: list[ExportRecord] = []

        def flush() -> None:
            # near dedupe signs a batch at once (numpy per batch, not per article), then checks in order
            if near is not None and pending:
                sigs = signatures([r.text for r in pending])
                keys = near.band_keys(sigs)
                dups = [
                    near.check(r.text, r.url, sigs[i], keys[i]) is not None for i, r in enumerate(pending)
                ]
            else:
                dups = [False] * len(pending)
            for record, dup in zip(pending, dups, strict=True):
                if dup:
                    duplicates["near"] += 1
                    continue
                if need_markdown:
                    record.markdown = clean_markdown(markdown_body(archive, record.path), options.clean)
                writer.write(record)
            pending.clear()

        for record in iter_rows(archive, ids):
            done += 1
            if progress is not None and (done % 500 == 0 or done == total):
                progress(done, total)
            cleaned = clean_text(record.text, options.clean)
            removed.update(cleaned.removed)
            record.text = cleaned.text
            record.word_count = count_words(cleaned.text)
            if not record.text:
                dropped["empty"] += 1
                continue
            if record.word_count < options.min_words:
                dropped["min_words"] += 1
                continue
            if exact is not None and exact.check(record.text, record.url) is not None:
                duplicates["exact"] += 1
                continue
            pending.append(record)
            if len(pending) >= BATCH:
                flush()
        flush()
        writer.close()
        report.sha256 = writer.sha256()
        report.written = writer.count
        report.dropped = dict(dropped)
        report.duplicates = dict(duplicates)
        report.removed_lines = dict(removed)
        report.clusters = (exact.clusters() if exact else []) + (near.clusters() if near else [])
        report.bytes = writer.tmp.stat().st_size
        report.seconds = time.perf_counter() - started
        writer.commit()
    try:
        report.write()
    except BaseException:
        with contextlib.suppress(OSError):
            target.unlink()  # an output without its manifest would be half an export
        raise
    log.info("exported %s records to %s", report.written, target)
    return report
