"""make demo's code path: serve the fixture sites on loopback, crawl them into ./archive, two searches."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from thresher import demo
from thresher.cli import cli
from thresher.demo import SEARCHES
from thresher.fixtureserver import FixtureServer


def test_demo_crawls_the_fixture_sites_and_searches_them(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "THRESHER_ARCHIVE"}
    # what `make demo` runs ($(BIN)/python -m thresher.demo), from a fresh folder; port 0: any free port
    result = subprocess.run(
        [sys.executable, "-m", "thresher.demo", "--port", "0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "served on loopback only" in out and "http://127.0.0." in out
    assert " new, " in out  # the crawl summary
    for query in SEARCHES:
        assert f"$ thresher search '{query}'" in out
    assert "Traceback" not in result.stderr
    root = tmp_path / "archive"
    runs = CliRunner().invoke(cli, ["--archive", str(root), "runs", "--json"])
    run = json.loads(runs.stdout)[0]
    assert run["command"] == "demo" and run["status"] in ("done", "partial") and run["new"] >= 30
    stats = CliRunner().invoke(cli, ["--archive", str(root), "stats", "--json"])
    assert json.loads(stats.stdout)["articles"] == run["new"]
    doctor = CliRunner().invoke(cli, ["--archive", str(root), "doctor"])
    assert doctor.exit_code == 0, doctor.output


def test_demo_falls_back_to_a_free_port_and_to_127_0_0_1(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.2", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        server = demo._start(2, busy)  # port taken: any free one
        try:
            assert server.port != busy and len(server.addresses) == 3
        finally:
            server.stop()
    real_start = FixtureServer.start

    def no_127_0_0_2(self: FixtureServer) -> FixtureServer:
        if any(s.address != "127.0.0.1" for s in self.sites):  # as on macOS
            raise OSError(errno.EADDRNOTAVAIL, "Can't assign requested address")
        return real_start(self)

    monkeypatch.setattr(FixtureServer, "start", no_127_0_0_2)
    server = demo._start(2, 0)
    try:
        assert list(server.addresses.values()) == [f"http://127.0.0.1:{server.port}"]
    finally:
        server.stop()
