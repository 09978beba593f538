"""One sqlite3 module for thresher and sqlite-utils; archives stay readable by any SQLite."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import sqlite_utils.utils

import thresher
from thresher.models import Article, content_hash
from thresher.sqlite import sqlite3
from thresher.store import Archive

SRC = Path(thresher.__file__).parent


def test_the_same_module_as_sqlite_utils() -> None:
    # both pick pysqlite3 when it is installed; otherwise each side's `except sqlite3.Error` misses the
    # other's errors
    assert sqlite3 is sqlite_utils.utils.sqlite3
    db = sqlite_utils.Database(memory=True)
    assert isinstance(db.conn, sqlite3.Connection)


def test_no_module_imports_sqlite3_directly() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "sqlite.py" and path.parent == SRC:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            offenders += [
                f"{path.relative_to(SRC)}: {n}" for n in names if n.split(".")[0] in ("sqlite3", "pysqlite3")
            ]
    assert offenders == []


def _article(n: int) -> Article:
    body = f"Printer driver fix number {n}. Reinstall the driver, then restart the spooler."
    url = f"https://site.example/fix-{n}/"
    return Article(
        url=url,
        canonical_url=url,
        title=f"Fix {n} for the printer",
        tags=["printers"],
        markdown=body,
        text=body,
        word_count=len(body.split()),
        content_hash=content_hash(body),
    )


def test_an_archive_is_read_and_searched_by_the_standard_library(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    with Archive(root) as archive:
        list(archive.add_many([_article(n) for n in range(50)]))
        ours = [h.url for h in archive.search("spooler", limit=50)]
    # another process, so the two SQLite libraries never share a file's POSIX locks
    script = """
import json, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
out = {
    "integrity": conn.execute("pragma integrity_check").fetchone()[0],
    "fts_check": conn.execute("insert into articles_fts(articles_fts) values ('integrity-check')").rowcount,
    "hits": [r[0] for r in conn.execute(
        "select a.url from articles_fts join articles a on a.id = articles_fts.rowid "
        "where articles_fts match 'spooler' order by a.id")],
}
print(json.dumps(out))
"""
    proc = subprocess.run(
        [sys.executable, "-I", "-c", script, str(root / "index.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(proc.stdout)
    assert out["integrity"] == "ok"
    assert sorted(out["hits"]) == sorted(ours)
    assert len(ours) == 50
