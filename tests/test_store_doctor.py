"""thresher doctor: index integrity, files against index both ways, WARC readability, lock state; --fix."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from thresher.cli import cli
from thresher.extract import extract
from thresher.schedule import CrawlLock, lock_state
from thresher.sqlite import sqlite3
from thresher.store import Archive, RawResponse


@pytest.fixture
def root(tmp_path: Path, fixtures_dir: Path) -> Path:
    """An archive of the fixture articles, each with its raw response in the WARC store."""
    folder = tmp_path / "archive"
    with Archive(folder) as archive:
        for page in sorted((fixtures_dir / "pages").rglob("*.html")):
            body = page.read_bytes()
            article = extract(body, "")
            if article.kind != "article" or not article.canonical_url:
                continue
            raw = RawResponse(
                url=article.canonical_url,
                status=200,
                headers=[("Content-Type", "text/html; charset=utf-8")],
                body=body,
                fetched_at=datetime.now(UTC),
            )
            archive.add(article, raw)
    return folder


def _doctor(root: Path, *args: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, ["--archive", str(root), "doctor", "--json", *args])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def _levels(report: dict[str, object]) -> dict[str, str]:
    return {f["check"]: f["level"] for f in report["findings"]}  # type: ignore[attr-defined,index]


def test_a_healthy_archive(root: Path) -> None:
    code, report = _doctor(root)
    assert code == 0 and report["healthy"] is True
    assert _levels(report) == {"index": "ok", "files": "ok", "warc": "ok", "lock": "ok", "runs": "ok"}
    plain = CliRunner().invoke(cli, ["--archive", str(root), "doctor"])
    assert plain.exit_code == 0 and "ok    files  Markdown files and index agree" in plain.stdout


def test_drift_both_ways_is_found_and_fixed(root: Path) -> None:
    with Archive(root) as archive:
        rows = archive.db.conn.execute("select path, warc_file from articles order by path").fetchall()
        count = len(archive)
    assert len(rows) >= 3
    lost_with_raw = next(p for p, w in rows if w)
    (root / lost_with_raw).unlink()  # a file deleted by hand: its raw page is in the WARC
    unindexed = rows[-1][0]
    conn = sqlite3.connect(root / "index.db")
    with conn:
        conn.execute(
            "delete from articles where path = ?", [unindexed]
        )  # a row lost: the file is not indexed
    conn.close()
    code, report = _doctor(root)
    assert code == 1 and _levels(report)["files"] == "problem"
    details = "\n".join(next(f for f in report["findings"] if f["check"] == "files")["details"])  # type: ignore[attr-defined]
    assert f"no file for {lost_with_raw}" in details and f"not in the index: {unindexed}" in details
    code, fixed = _doctor(root, "--fix")
    assert code == 0, fixed
    assert any(f"restored {lost_with_raw}" in line for line in fixed["repaired"])  # type: ignore[attr-defined]
    assert any("rebuilt index.db" in line for line in fixed["repaired"])  # type: ignore[attr-defined]
    assert (root / lost_with_raw).exists()
    with Archive(root) as archive:
        assert len(archive) == count
    assert _doctor(root)[0] == 0


def test_a_missing_file_without_a_stored_page_is_dropped_from_the_index(root: Path) -> None:
    with Archive(root) as archive:
        path = archive.db.conn.execute("select path from articles limit 1").fetchone()[0]
        archive.db.conn.execute("update articles set warc_file = null where path = ?", [path])
        count = len(archive)
    (root / path).unlink()
    code, _ = _doctor(root, "--fix")
    assert code == 0
    with Archive(root) as archive:
        assert len(archive) == count - 1


def test_damaged_index_is_kept_aside_and_rebuilt(root: Path) -> None:
    with Archive(root) as archive:
        count = len(archive)
    for suffix in ("-wal", "-shm"):
        (root / f"index.db{suffix}").unlink(missing_ok=True)
    (root / "index.db").write_bytes(b"this is not sqlite at all" * 100)
    code, report = _doctor(root)
    assert code == 1 and _levels(report)["index"] == "problem" and _levels(report)["files"] == "problem"
    code, _ = _doctor(root, "--fix")
    assert code == 0
    assert list(root.glob("index.db.damaged-*"))
    with Archive(root) as archive:
        assert len(archive) == count


def test_unreadable_warc_is_reported_not_rewritten(root: Path) -> None:
    warc = sorted((root / "warc").glob("*.warc.gz"))[0]
    data = bytearray(warc.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\x00" * 64
    warc.write_bytes(bytes(data))
    code, report = _doctor(root)
    assert code == 1 and _levels(report)["warc"] == "problem"
    code, _ = _doctor(root, "--fix")
    assert code == 1  # nothing guessed: the damaged file is left for a human
    assert warc.read_bytes() == bytes(data)


def test_lock_states(root: Path) -> None:
    with CrawlLock(root):
        code, report = _doctor(root)
        assert code == 0 and "a crawl is running" in str(report["findings"])
        busy = CliRunner().invoke(cli, ["--archive", str(root), "doctor", "--fix"])
        assert busy.exit_code == 75 and busy.stderr.startswith("Error: another crawl is running on")
    # what a killed crawl leaves: details in the file, nobody holding it
    (root / "crawl.lock").write_text(json.dumps({"pid": 999999, "since": "2026-01-01T00:00:00Z"}))
    code, report = _doctor(root)
    assert code == 0 and _levels(report)["lock"] == "warning"
    assert "pid 999999" in str(report["findings"])
    code, fixed = _doctor(root, "--fix")
    assert code == 0 and "took over the stale lock of pid 999999" in fixed["repaired"]  # type: ignore[operator]
    assert lock_state(root).state == "free"


def test_no_archive_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--archive", str(tmp_path / "nothing"), "doctor"])
    assert result.exit_code == 2 and result.stderr == f"Error: no archive at {tmp_path / 'nothing'}\n"
    result = CliRunner().invoke(cli, ["--archive", str(tmp_path / "nothing"), "doctor", "--fix"])
    assert result.exit_code == 2 and result.stderr == f"Error: no archive at {tmp_path / 'nothing'}\n"
    result = CliRunner().invoke(cli, ["--archive", str(tmp_path / "nothing"), "runs"])
    assert result.exit_code == 2 and result.stderr.startswith("Error: no archive at")
    assert not (tmp_path / "nothing").exists()


def test_reindex_waits_for_no_crawl(root: Path) -> None:
    with CrawlLock(root):
        busy = CliRunner().invoke(cli, ["--archive", str(root), "reindex"])
        assert busy.exit_code == 75 and busy.stderr.startswith("Error: another crawl is running on")
    done = CliRunner().invoke(cli, ["--archive", str(root), "reindex"])
    assert done.exit_code == 0, done.output
