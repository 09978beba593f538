"""Export stage: the archive as a corpus (JSONL, Parquet, text, Markdown) with cleaning and deduplication.

::

    select ids (filters, publication order) → read batches → clean (basic | strict) → min words
        → dedupe (exact, near) → write (temp file) → rename → manifest
"""

from __future__ import annotations

from .clean import CleanLevel, CleanResult, clean_markdown, clean_text
from .corpus import DedupeMode, ExportOptions, export_corpus
from .dedupe import Cluster, ExactDeduper, NearDeduper
from .manifest import ExportReport, manifest_path
from .records import RECORD_KEYS, ExportRecord, Filters
from .writers import FORMATS

__all__ = [
    "FORMATS",
    "RECORD_KEYS",
    "CleanLevel",
    "CleanResult",
    "Cluster",
    "DedupeMode",
    "ExactDeduper",
    "ExportOptions",
    "ExportRecord",
    "ExportReport",
    "Filters",
    "NearDeduper",
    "clean_markdown",
    "clean_text",
    "export_corpus",
    "manifest_path",
]
