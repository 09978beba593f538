"""Run history in ``index.db`` (table ``runs``): what each crawl did, for ``thresher runs`` and recrawl_after.

A row is written when a run starts (status ``running``) and updated when it ends, so a run killed
part-way stays visible; the next crawl, holding the lock, marks such rows ``abandoned``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import StoreError
from ..models import format_datetime, parse_yaml_datetime
from ..sqlite import sqlite3

__all__ = ["RunRecord", "abandon_unfinished", "finish_run", "last_crawled", "list_runs", "start_run"]

# statuses of a run that went through its sites to the end (with or without failed pages)
_COMPLETED = ("done", "partial")
_COLUMNS = (
    "id",
    "started",
    "finished",
    "pid",
    "command",
    "status",
    "sites",
    "skipped",
    "new",
    "updated",
    "unchanged",
    "failed",
    "exit_code",
    "message",
)


@dataclass(slots=True, kw_only=True)
class RunRecord:
    """One crawl run as recorded."""

    id: int
    started: str
    finished: str | None = None
    pid: int | None = None
    command: str = "crawl"
    status: str = "running"
    sites: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    exit_code: int | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {name: getattr(self, name) for name in _COLUMNS}


def _now() -> str:
    return format_datetime(datetime.now(UTC))


def _execute(conn: sqlite3.Connection, sql: str, params: list[Any]) -> sqlite3.Cursor:
    try:
        return conn.execute(sql, params)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot record the run: {exc}") from exc


def start_run(
    conn: sqlite3.Connection, *, command: str, sites: list[str], skipped: list[str] | None = None
) -> int:
    """Record a run that starts now; returns its id."""
    cursor = _execute(
        conn,
        "insert into runs (started, pid, command, status, sites, skipped, new, updated, unchanged, failed) "
        "values (?, ?, ?, 'running', ?, ?, 0, 0, 0, 0) returning id",
        [_now(), os.getpid(), command, json.dumps(sites), json.dumps(skipped or [])],
    )
    return int(cursor.fetchone()[0])


def finish_run(
    conn: sqlite3.Connection,
    run_id: int,
    *,
    status: str,
    exit_code: int | None,
    counts: dict[str, int] | None = None,
    message: str = "",
) -> None:
    """Record how a run ended."""
    counts = counts or {}
    _execute(
        conn,
        "update runs set finished = ?, status = ?, exit_code = ?, new = ?, updated = ?, unchanged = ?, "
        "failed = ?, message = ? where id = ?",
        [
            _now(),
            status,
            exit_code,
            counts.get("new", 0),
            counts.get("updated", 0),
            counts.get("unchanged", 0),
            counts.get("failed", 0),
            message,
            run_id,
        ],
    )


def abandon_unfinished(conn: sqlite3.Connection) -> int:
    """Mark runs that never finished (their process died) as ``abandoned``; call with the lock held."""
    cursor = _execute(
        conn,
        "update runs set status = 'abandoned', message = 'the process died before the run finished' "
        "where status = 'running' and finished is null",
        [],
    )
    return cursor.rowcount


def _record(row: tuple[Any, ...]) -> RunRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["sites"] = json.loads(values["sites"] or "[]")
    values["skipped"] = json.loads(values["skipped"] or "[]")
    for key in ("new", "updated", "unchanged", "failed"):
        values[key] = values[key] or 0
    values["message"] = values["message"] or ""
    values["command"] = values["command"] or "crawl"
    return RunRecord(**values)


def list_runs(conn: sqlite3.Connection, *, limit: int = 20) -> list[RunRecord]:
    """The most recent runs, newest first."""
    rows = _execute(
        conn, f"select {', '.join(_COLUMNS)} from runs order by id desc limit ?", [max(1, limit)]
    ).fetchall()
    return [_record(r) for r in rows]


def last_crawled(conn: sqlite3.Connection, site: str) -> datetime | None:
    """When the last completed run of ``site`` finished (interrupted and killed runs do not count)."""
    row = _execute(
        conn,
        "select max(finished) from runs, json_each(runs.sites) "
        f"where status in ({', '.join('?' * len(_COMPLETED))}) and finished is not null "
        "and json_each.value = ?",
        [*_COMPLETED, site],
    ).fetchone()
    return parse_yaml_datetime(row[0]) if row and row[0] else None
