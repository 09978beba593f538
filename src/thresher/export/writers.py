"""Output formats for export, each written to a temp file beside the target and renamed into place.

=======  ===================================================================================================
jsonl    one JSON object per line, the same keys for every record (loads with pandas / ``datasets``)
parquet  the same columns through pyarrow (the ``thresher[parquet]`` extra), row groups of ``ROW_GROUP``
txt      the texts only, each followed by a line holding a form feed (``\\f``): split on ``"\\n\\f\\n"``
md       per record a YAML front matter block (the record's metadata) and its Markdown body
=======  ===================================================================================================
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Literal, Self

import yaml

from ..errors import ExportError
from .records import RECORD_KEYS, ExportRecord

__all__ = ["FORMATS", "Format", "Writer", "open_writer"]

Format = Literal["jsonl", "parquet", "txt", "md"]
FORMATS: Final = ("jsonl", "parquet", "txt", "md")
ROW_GROUP: Final = 2_000
PARQUET_MISSING: Final = "Parquet output needs pyarrow: pip install 'thresher[parquet]'"


class Writer:
    """Writes records to a temp file; :meth:`commit` renames it to the target, an exception removes it."""

    def __init__(self, target: Path, *, with_markdown: bool = False) -> None:
        self.target = target
        self.with_markdown = with_markdown
        self.count = 0
        folder = target.parent if str(target.parent) else Path(".")
        if target.is_dir():
            raise ExportError(f"{target} is a folder; give a file name to -o")
        try:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise ExportError(f"{target}: cannot write ({exc.strerror or exc})") from exc
        self.tmp = Path(name)
        self._fh: IO[bytes] = os.fdopen(fd, "wb")
        self._sha = hashlib.sha256()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.abort()

    def _bytes(self, data: bytes) -> None:
        self._fh.write(data)
        self._sha.update(data)

    def write(self, record: ExportRecord) -> None:
        """Write one record."""
        raise NotImplementedError

    def _finish(self) -> None:
        """Flush whatever the format buffers (before the file is closed)."""

    def sha256(self) -> str:
        """The sha256 of everything written (valid after :meth:`close`)."""
        return self._sha.hexdigest()

    def close(self) -> None:
        """Finish the format and close the temp file (it stays a temp file until :meth:`commit`)."""
        try:
            self._finish()
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError as exc:
            raise ExportError(f"{self.target}: cannot write ({exc.strerror or exc})") from exc
        finally:
            self._fh.close()

    def commit(self) -> None:
        """Rename the temp file to the target."""
        try:
            os.replace(self.tmp, self.target)
        except OSError as exc:
            self.abort()
            raise ExportError(f"{self.target}: cannot write ({exc.strerror or exc})") from exc

    def abort(self) -> None:
        """Close and remove the temp file: nothing is left at the target."""
        with contextlib.suppress(OSError):
            self._fh.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()


class JsonlWriter(Writer):
    """One JSON object per line."""

    def write(self, record: ExportRecord) -> None:
        line = json.dumps(record.to_dict(with_markdown=self.with_markdown), ensure_ascii=False)
        self._bytes(line.encode("utf-8") + b"\n")
        self.count += 1


class TxtWriter(Writer):
    """Texts only, each followed by a form-feed line."""

    def write(self, record: ExportRecord) -> None:
        self._bytes(record.text.encode("utf-8") + b"\n\f\n")
        self.count += 1


class MarkdownWriter(Writer):
    """Front matter (the record's metadata) and the Markdown body, record after record."""

    def write(self, record: ExportRecord) -> None:
        meta = record.to_dict()
        del meta["text"]
        head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1_000_000)
        body = record.markdown if record.markdown is not None else record.text
        self._bytes(f"---\n{head}---\n\n{body}\n\n".encode())
        self.count += 1


class ParquetWriter(Writer):
    """The JSONL columns as a Parquet file, through pyarrow, a row group at a time."""

    def __init__(self, target: Path, *, with_markdown: bool = False) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise ExportError(PARQUET_MISSING) from exc
        super().__init__(target, with_markdown=with_markdown)
        self._pa: Any = pa
        fields = [
            pa.field(
                key, pa.list_(pa.string()) if key in ("tags", "categories", "also_read") else pa.string()
            )
            for key in RECORD_KEYS
        ]
        fields[RECORD_KEYS.index("word_count")] = pa.field("word_count", pa.int64())
        if with_markdown:
            fields.append(pa.field("markdown", pa.string()))
        self._schema = pa.schema(fields)
        self._rows: list[dict[str, Any]] = []
        self._pq = pq.ParquetWriter(self._fh, self._schema, compression="zstd")

    def write(self, record: ExportRecord) -> None:
        self._rows.append(record.to_dict(with_markdown=self.with_markdown))
        self.count += 1
        if len(self._rows) >= ROW_GROUP:
            self._flush_rows()

    def _flush_rows(self) -> None:
        if self._rows:
            self._pq.write_table(self._pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def _finish(self) -> None:
        self._flush_rows()
        self._pq.close()
        self._fh.flush()

    def sha256(self) -> str:
        # pyarrow writes to the file handle directly, so the digest is taken from the finished file
        digest = hashlib.sha256()
        with self.tmp.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._pq.close()
        super().abort()


_WRITERS: Final[dict[str, type[Writer]]] = {
    "jsonl": JsonlWriter,
    "parquet": ParquetWriter,
    "txt": TxtWriter,
    "md": MarkdownWriter,
}


def open_writer(fmt: str, target: Path, *, with_markdown: bool = False) -> Writer:
    """A writer of format ``fmt`` for ``target``.

    Raises:
        ExportError: unknown format, pyarrow missing for parquet, or the folder cannot be written.
    """
    cls = _WRITERS.get(fmt)
    if cls is None:
        raise ExportError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    return cls(target, with_markdown=with_markdown)
