"""``thresher doctor``: is the archive whole? Index integrity, files against index, WARC, crawl lock.

Checks (each a :class:`Finding`)::

    index      index.db opens, passes integrity_check, and its FTS index matches the articles
    files      every Markdown file has its index row and every row its file, with the same content hash
    warc       every WARC file reads to its end; every index reference points at an existing file
    lock       archive/crawl.lock is free or held by a live crawl (stale: left by a killed one)
    runs       no run is left "running" by a process that died

``fix`` repairs what can be repaired without guessing: a row whose file is missing gets its file back
from the stored raw page when there is one; then the index is rebuilt from the files (the damaged index
kept aside, history carried over); a stale lock is taken over and emptied; dead runs are marked
abandoned. WARC damage is reported, never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import PostError, StoreError, ThresherError
from ..models import Article
from ..sqlite import sqlite3
from .index import HEAD_FTS, INDEX_NAME, open_index
from .maintenance import markdown_files, rebuild_index
from .warc import WarcRef, WarcStore, iter_warc_file

__all__ = ["DoctorReport", "Finding", "check_archive", "fix_archive"]

Level = Literal["ok", "problem", "warning"]


@dataclass(slots=True, kw_only=True)
class Finding:
    """One check's outcome: ``ok``, ``warning`` (nothing to repair) or ``problem``."""

    check: str
    level: Level
    message: str
    details: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"check": self.check, "level": self.level, "message": self.message, "details": self.details}


@dataclass(slots=True, kw_only=True)
class DoctorReport:
    """All findings, plus what ``fix`` did."""

    findings: list[Finding] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """No problem left (warnings allowed)."""
        return not any(f.level == "problem" for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "healthy": self.healthy,
            "findings": [f.to_dict() for f in self.findings],
            "repaired": self.repaired,
        }


@dataclass(slots=True, kw_only=True)
class _Drift:
    missing_files: list[tuple[str, str, WarcRef | None]] = field(default_factory=list)  # (url, path, ref)
    unindexed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def _sample(items: list[str], limit: int = 10) -> list[str]:
    return items[:limit] + ([f"… and {len(items) - limit} more"] if len(items) > limit else [])


def _check_index(root: Path) -> tuple[Finding, sqlite3.Connection | None]:
    try:
        db = open_index(root, create=False)
    except ThresherError as exc:
        return Finding(check="index", level="problem", message=str(exc)), None
    conn = db.conn
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        if rows != ["ok"]:
            conn.close()
            return Finding(
                check="index", level="problem", message="integrity_check failed", details=rows
            ), None
        conn.execute("insert into articles_fts(articles_fts) values ('integrity-check')")
        conn.execute(f"insert into {HEAD_FTS}({HEAD_FTS}) values ('integrity-check')")
    except sqlite3.DatabaseError as exc:
        conn.close()
        return Finding(check="index", level="problem", message=f"{INDEX_NAME}: {exc}"), None
    count = conn.execute("select count(*) from articles").fetchone()[0]
    return Finding(check="index", level="ok", message=f"{INDEX_NAME} is sound ({count} articles)"), conn


def _drift(root: Path, conn: sqlite3.Connection) -> _Drift:
    drift = _Drift()
    rows = conn.execute(
        "select url, path, content_hash, warc_file, warc_offset, warc_length from articles"
    ).fetchall()
    indexed = {r[1]: r for r in rows}
    on_disk = {p.relative_to(root).as_posix(): p for p in markdown_files(root)}
    for rel, row in sorted(indexed.items()):
        path = on_disk.get(rel)
        if path is None:
            ref = WarcRef(row[3], row[4], row[5]) if row[3] else None
            drift.missing_files.append((row[0], rel, ref))
            continue
        try:
            article = Article.from_markdown(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, PostError):
            drift.unreadable.append(rel)
            continue
        if article.content_hash != row[2]:
            drift.changed.append(rel)
    drift.unindexed = sorted(set(on_disk) - set(indexed))
    return drift


def _files_finding(drift: _Drift) -> Finding:
    details = [f"no file for {rel} ({url})" for url, rel, _ in drift.missing_files]
    details += [f"not in the index: {rel}" for rel in drift.unindexed]
    details += [f"changed since indexed: {rel}" for rel in drift.changed]
    details += [f"unreadable: {rel}" for rel in drift.unreadable]
    if not details:
        return Finding(check="files", level="ok", message="Markdown files and index agree")
    parts = [
        f"{len(drift.missing_files)} indexed without a file",
        f"{len(drift.unindexed)} files not indexed",
        f"{len(drift.changed)} changed since indexed",
        f"{len(drift.unreadable)} unreadable",
    ]
    return Finding(check="files", level="problem", message=", ".join(parts), details=_sample(details))


def _check_warc(root: Path, conn: sqlite3.Connection | None) -> Finding:
    store = WarcStore(root / "warc")
    try:
        files = store.files()
    except ThresherError as exc:
        return Finding(check="warc", level="problem", message=str(exc))
    bad: list[str] = []
    records = 0
    for path in files:
        try:
            for _ in iter_warc_file(path, max_body_bytes=None):
                records += 1
        except ThresherError as exc:
            bad.append(f"{path.name}: {exc}")
    if conn is not None:
        names = {p.name for p in files}
        missing = conn.execute(
            "select warc_file, count(*) from articles where warc_file is not null group by warc_file"
        ).fetchall()
        bad += [f"{n} articles point at a missing {f}" for f, n in missing if Path(f).name not in names]
    if bad:
        return Finding(check="warc", level="problem", message=f"{len(bad)} WARC problem(s)", details=bad)
    return Finding(
        check="warc", level="ok", message=f"{len(files)} WARC files readable ({records} responses)"
    )


def _check_lock(root: Path) -> tuple[Finding, bool]:
    """The lock finding, and whether a live crawl holds the lock."""
    from ..schedule.lock import lock_state

    state = lock_state(root)
    return _lock_finding(state), state.state == "held"


def _lock_finding(state: Any) -> Finding:
    if state.state == "held":
        who = f"pid {state.info.pid} since {state.info.since}" if state.info else "pid unknown"
        return Finding(check="lock", level="ok", message=f"a crawl is running ({who})")
    if state.state == "stale" and state.info is not None:
        return Finding(
            check="lock",
            level="warning",
            message=f"stale: left by a crawl that died (pid {state.info.pid}, since {state.info.since}); "
            "the next crawl takes it over",
        )
    return Finding(check="lock", level="ok", message="free")


def _check_runs(conn: sqlite3.Connection | None, *, crawl_running: bool) -> Finding:
    if conn is None:
        return Finding(check="runs", level="warning", message="run history unreadable (see index)")
    running = conn.execute(
        "select id, pid, started from runs where status = 'running' order by id"
    ).fetchall()
    dead = running[:-1] if crawl_running else running  # the newest one is the live crawl's
    if dead:
        return Finding(
            check="runs",
            level="warning",
            message=f"{len(dead)} run(s) died before finishing (the next crawl resumes them)",
            details=[f"run {r[0]}: pid {r[1]}, started {r[2]}" for r in dead],
        )
    total = conn.execute("select count(*) from runs").fetchone()[0]
    return Finding(check="runs", level="ok", message=f"{total} runs recorded")


def check_archive(root: Path) -> DoctorReport:
    """Run every check (read-only).

    Raises:
        StoreError: ``root`` is not an archive folder.
    """
    report, _ = _check(root)
    return report


def _check(root: Path) -> tuple[DoctorReport, _Drift | None]:
    if not root.is_dir():
        raise StoreError(f"no archive at {root}")
    report = DoctorReport()
    index, conn = _check_index(root)
    report.findings.append(index)
    drift: _Drift | None = None
    try:
        if conn is not None:
            drift = _drift(root, conn)
            report.findings.append(_files_finding(drift))
        else:
            report.findings.append(
                Finding(check="files", level="problem", message="cannot compare: the index is unusable")
            )
        report.findings.append(_check_warc(root, conn))
        lock, crawl_running = _check_lock(root)
        report.findings.append(lock)
        report.findings.append(_check_runs(conn, crawl_running=crawl_running))
    finally:
        if conn is not None:
            conn.close()
    return report, drift


def _restore_from_warc(root: Path, drift: _Drift) -> list[str]:
    """Write back the files of indexed articles whose raw page is stored; returns what was restored."""
    from ..extract import extract
    from .archive import Archive

    restored: list[str] = []
    with Archive(root) as archive:
        for url, rel, ref in drift.missing_files:
            if ref is None:
                continue
            try:
                raw = archive.warc.read(ref)
                article = extract(raw.body, raw.url)
                archive.add(article, ref=ref)
            except ThresherError:
                continue
            restored.append(f"restored {rel} from the stored page of {url}")
    return restored


def fix_archive(root: Path) -> DoctorReport:
    """Repair drift, a stale lock and dead runs (under the crawl lock), then check again.

    Raises:
        CrawlLocked: a crawl is running; nothing is changed.
        StoreError: ``root`` is not an archive folder.
    """
    from ..schedule.lock import CrawlLock
    from ..schedule.runs import abandon_unfinished

    if not root.is_dir():
        raise StoreError(f"no archive at {root}")
    with CrawlLock(root, command="doctor --fix") as lock:
        before, drift = _check(root)
        repaired: list[str] = []
        if lock.stale is not None:
            repaired.append(f"took over the stale lock of pid {lock.stale.pid}")
        index_bad = any(f.check == "index" and f.level == "problem" for f in before.findings)
        files_bad = any(f.check == "files" and f.level == "problem" for f in before.findings)
        if drift is not None and drift.missing_files:
            repaired += _restore_from_warc(root, drift)
        if index_bad or files_bad:
            counts = rebuild_index(root)
            repaired.append(
                f"rebuilt {INDEX_NAME} from the files: {counts['indexed']} indexed, {counts['failed']} failed"
            )
        try:
            db = open_index(root, create=False)
            try:
                n = abandon_unfinished(db.conn)
            finally:
                db.conn.close()
            if n:
                repaired.append(f"marked {n} dead run(s) abandoned")
        except ThresherError:
            pass
    after, _ = _check(root)
    after.repaired = repaired
    return after
