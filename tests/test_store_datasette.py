"""The index opens in Datasette with its full-text search working (sqlite-utils FTS conventions)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from thresher.cli import cli

datasette_app = pytest.importorskip("datasette.app")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"


def test_datasette_full_text_search(tmp_path: Path) -> None:
    from click.testing import CliRunner

    archive = tmp_path / "arch"
    for page in ("next/post.html", "redefine/post-disk-cleanup.html", "landscape/post.html"):
        result = CliRunner().invoke(cli, ["--archive", str(archive), "add", str(FIXTURES / page)])
        assert result.exit_code == 0, result.output

    async def query() -> tuple[int, dict[str, object], int, dict[str, object]]:
        ds = datasette_app.Datasette([str(archive / "index.db")])
        table = await ds.client.get("/index/articles.json?_search=rsync&_shape=objects")
        facet = await ds.client.get("/index/articles.json?_search=hiberfil*&_searchmode=raw&_shape=objects")
        return table.status_code, table.json(), facet.status_code, facet.json()

    status, data, status2, data2 = asyncio.run(query())
    assert status == 200
    rows = data["rows"]
    assert [r["url"] for r in rows] == [
        "https://notes.example-next.test/2024/08/20/nightly-backups-with-rsync-and-cron/"
    ]
    assert status2 == 200
    assert [r["site"] for r in data2["rows"]] == ["fix-guides.techidaily.com"]
