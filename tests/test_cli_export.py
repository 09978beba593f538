"""`thresher export` end to end: options reach the library, errors are one line, output is atomic."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from export_helpers import build_archive, fixture_articles, later, variant
from thresher.cli import cli

DISK = "https://redefine.example.test/post-disk-cleanup/"


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    articles = fixture_articles()
    disk = next(a for a in articles if a.url == DISK)
    articles.append(variant(disk, "https://copy.example.test/disk/", published=later(disk, 2)))
    build_archive(tmp_path / "archive", articles).close()
    return tmp_path / "archive"


def run(archive: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--archive", str(archive), "export", *args])
    return result.exit_code, result.stdout, result.stderr


def test_export_writes_output_manifest_and_a_summary(archive_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    code, stdout, stderr = run(archive_dir, "-o", str(out))
    assert code == 0 and stdout == ""
    assert "11 written" in stderr and "1 duplicates" in stderr and "manifest" in stderr
    assert len(out.read_text().splitlines()) == 11
    assert json.loads((tmp_path / "corpus.jsonl.manifest.json").read_text())["counts"]["written"] == 11


def test_every_option_reaches_the_manifest(archive_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.txt"
    args = [
        *("-o", str(out), "--format", "txt", "--dedupe", "near", "--threshold", "0.9", "--clean", "strict"),
        *("--min-words", "10", "--lang", "en", "--site", "redefine.example.test", "--tag", "storage"),
        *("--since", "2024-01-01", "--until", "2025-12-31", "--query", "disk", "--with-markdown", "--json"),
    ]
    code, stdout, _ = run(archive_dir, *args)
    assert code == 0
    manifest = json.loads(stdout)
    assert manifest == json.loads((tmp_path / "c.txt.manifest.json").read_text())
    assert manifest["options"] == {
        "format": "txt",
        "dedupe": "near",
        "threshold": 0.9,
        "clean": "strict",
        "min_words": 10,
        "with_markdown": True,
        "filters": {
            "site": "redefine.example.test",
            "tag": "storage",
            "lang": "en",
            "since": "2024-01-01T00:00:00Z",
            "until": "2025-12-31T23:59:59Z",  # through that whole day
            "query": "disk",
            "kinds": ["article"],
        },
    }
    assert manifest["counts"]["written"] == 1
    assert out.read_text().startswith("How to Free Up Disk Space")


def test_quiet_and_no_progress_bar_in_a_pipe(archive_dir: Path, tmp_path: Path) -> None:
    code, stdout, stderr = run(archive_dir, "-o", str(tmp_path / "q"), "--quiet")
    assert code == 0 and stdout == "" and stderr == ""
    code, _, stderr = run(archive_dir, "-o", str(tmp_path / "p"))
    assert "exporting" not in stderr and "\x1b[" not in stderr  # CliRunner's stderr is no TTY


def test_errors_are_one_line(archive_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, stderr = run(tmp_path / "nowhere", "-o", str(tmp_path / "x"))
    assert code == 2 and "no archive" in stderr
    code, _, stderr = run(archive_dir, "-o", str(tmp_path / "x"), "--since", "yesterday-ish")
    assert code == 2 and "not a date" in stderr
    code, _, stderr = run(archive_dir, "-o", str(tmp_path / "x"), "--threshold", "0")
    assert code == 2
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    code, _, stderr = run(archive_dir, "-o", str(tmp_path / "x.parquet"), "--format", "parquet")
    assert code == 2
    assert stderr.strip() == "Error: Parquet output needs pyarrow: pip install 'thresher[parquet]'"
    assert not (tmp_path / "x.parquet").exists()


def test_ctrl_c_exits_130_and_leaves_nothing(
    archive_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from thresher.export import writers

    def interrupted(self: object, record: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(writers.JsonlWriter, "write", interrupted)
    out = tmp_path / "c.jsonl"
    code, _, stderr = run(archive_dir, "-o", str(out))
    assert code == 130 and "interrupted" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive"]
