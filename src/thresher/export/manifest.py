"""The manifest written beside an export (``OUT.manifest.json``): what was asked, what was done."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..files import atomic_write
from ..models import format_datetime
from .dedupe import Cluster

__all__ = ["ExportReport", "manifest_path"]


def manifest_path(out: Path) -> Path:
    """Where the manifest of ``out`` goes: ``OUT.manifest.json`` beside it."""
    return out.with_name(out.name + ".manifest.json")


@dataclass(slots=True, kw_only=True)
class ExportReport:
    """What an export did; :meth:`to_dict` is the manifest.

    ``read`` counts the archived articles looked at; ``dropped`` the ones a filter or the cleaning removed,
    by reason (kind, site, lang, tag, since, until, query, empty, min_words); ``duplicates`` the ones
    removed as duplicates (exact, near); ``written`` the records in the output.
    """

    output: Path
    format: str
    options: dict[str, Any]
    read: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    written: int = 0
    clusters: list[Cluster] = field(default_factory=list)
    removed_lines: dict[str, int] = field(default_factory=dict)
    sha256: str = ""
    bytes: int = 0
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0

    @property
    def manifest(self) -> Path:
        """The manifest file's path."""
        return manifest_path(self.output)

    def to_dict(self) -> dict[str, Any]:
        """The manifest as a JSON-ready dict."""
        return {
            "thresher_version": __version__,
            "created_at": format_datetime(self.created_at),
            "output": self.output.name,
            "format": self.format,
            "options": self.options,
            "counts": {
                "read": self.read,
                "dropped": dict(sorted(self.dropped.items())),
                "duplicates_removed": dict(sorted(self.duplicates.items())),
                "written": self.written,
            },
            "strict_lines_removed": dict(sorted(self.removed_lines.items())),
            "clusters": [c.to_dict() for c in self.clusters],
            "sha256": self.sha256,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
        }

    def write(self) -> None:
        """Write the manifest atomically beside the output."""
        atomic_write(self.manifest, json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n")
