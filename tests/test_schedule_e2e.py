"""Unattended runs against the fixture sites: the lock, recrawl_after, run history, --quiet, logs,
a kill -9 of a scheduled run followed by the next one, and watch stopping on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from thresher.cli import cli
from thresher.errors import CrawlLocked
from thresher.fixtureserver import FixtureServer, SiteSpec
from thresher.schedule import CrawlLock, CrawlRequest, Every, lock_state, run_watch
from thresher.schedule.logs import run_logging
from thresher.sqlite import sqlite3
from thresher.store import Archive

THRESHER = [sys.executable, "-m", "thresher"]


@pytest.fixture(scope="module")
def server() -> FixtureServer:
    specs = [
        SiteSpec(name="fix-guides", address="127.0.0.2", n_articles=6, template="redefine"),
        SiteSpec(name="byteguides", address="127.0.0.3", n_articles=4, template="wordpress"),
    ]
    with FixtureServer(specs) as srv:
        yield srv  # type: ignore[misc]


def _config(server: FixtureServer, folder: Path, *, delay: float = 0.02, recrawl: str = "6h") -> Path:
    path = folder / "thresher.toml"
    path.write_text(
        f"[crawl]\ndelay = {delay}\n\n"
        f'[[sites]]\nname = "fix-guides"\nstart_urls = ["{server.url("fix-guides")}"]\n'
        f'recrawl_after = "{recrawl}"\n\n'
        f'[[sites]]\nname = "byteguides"\nstart_urls = ["{server.url("byteguides")}"]\n',
        encoding="utf-8",
    )
    return path


def _runs(root: Path) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, ["--archive", str(root), "runs", "--json"])
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "THRESHER_ARCHIVE"}


def test_recrawl_after_skips_recent_sites_force_overrides_and_runs_are_recorded(
    server: FixtureServer, tmp_path: Path
) -> None:
    root, config = tmp_path / "archive", _config(server, tmp_path)
    runner = CliRunner()
    base = ["--archive", str(root), "crawl", "--config", str(config), "--quiet"]
    first = runner.invoke(cli, base)
    assert first.exit_code in (0, 1), first.output
    # --quiet: the one-line summary on stdout and nothing else
    assert len(first.stdout.strip().splitlines()) == 1 and " new, " in first.stdout
    assert first.stderr == ""
    second = runner.invoke(cli, base)
    assert second.exit_code in (0, 1), second.output
    forced = runner.invoke(cli, [*base, "--force"])
    assert forced.exit_code in (0, 1), forced.output
    runs = _runs(root)
    assert [r["id"] for r in runs] == [3, 2, 1]
    newest, middle, oldest = runs
    assert oldest["sites"] == ["fix-guides", "byteguides"] and oldest["skipped"] == []
    assert oldest["new"] >= 6 and oldest["finished"] and oldest["exit_code"] == first.exit_code
    assert oldest["status"] == ("done" if first.exit_code == 0 else "partial")
    assert middle["sites"] == ["byteguides"] and middle["skipped"] == ["fix-guides"]
    assert newest["sites"] == ["fix-guides", "byteguides"] and newest["skipped"] == []
    assert newest["new"] == 0 and newest["unchanged"] >= 6
    for run in runs:
        assert set(run) >= {
            "started",
            "finished",
            "sites",
            "new",
            "updated",
            "unchanged",
            "failed",
            "exit_code",
        }
    table = runner.invoke(cli, ["--archive", str(root), "runs"])
    assert table.exit_code == 0 and "skipped fix-guides" in table.stdout
    # only byteguides left to skip-check: with every site recent, nothing is crawled and the run says so
    log = (root / "logs" / "thresher.log").read_text(encoding="utf-8")
    assert "run 1: crawling fix-guides, byteguides" in log
    assert "skipped fix-guides: crawled" in log and "--force" in log


def test_a_second_crawl_is_refused_at_once_and_a_dead_holder_is_taken_over(
    server: FixtureServer, tmp_path: Path
) -> None:
    root, config = tmp_path / "archive", _config(server, tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom pathlib import Path\n"
            "from thresher.schedule import CrawlLock\n"
            "with CrawlLock(Path(sys.argv[1])):\n    print('locked', flush=True)\n    time.sleep(120)\n",
            str(root),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        refused = subprocess.run(
            [*THRESHER, "--archive", str(root), "crawl", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(),
        )
        elapsed = time.monotonic() - started
        assert refused.returncode == 75
        message = refused.stderr.strip()
        assert re.fullmatch(
            rf"Error: another crawl is running on {re.escape(str(root))} \(pid {holder.pid}, since \S+Z\)",
            message,
        ), message
        assert elapsed < 5, elapsed  # generous: about 0.3 s of CPU, under a second on an idle machine
        assert "Traceback" not in refused.stderr
        assert lock_state(root).state == "held"
        with pytest.raises(CrawlLocked):
            CrawlLock(root).acquire()
    finally:
        holder.kill()  # SIGKILL: the holder leaves its details in the file
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    state = lock_state(root)
    assert state.state == "stale" and state.info is not None and state.info.pid == holder.pid
    with CrawlLock(root) as lock:
        assert lock.stale is not None and lock.stale.pid == holder.pid
    assert lock_state(root).state == "free"


_DELAY_FOR_KILL = 0.15


def test_kill_9_of_a_scheduled_run_then_the_next_scheduled_run_completes(
    server: FixtureServer, tmp_path: Path
) -> None:
    root = tmp_path / "archive"
    _config(server, tmp_path, delay=_DELAY_FOR_KILL, recrawl="6h")
    # exactly what the crontab line runs, from the folder it cds into
    command = [*THRESHER, "crawl", "--config", "thresher.toml", "--quiet"]
    server.clear_log()
    proc = subprocess.Popen(command, cwd=tmp_path, env=_env())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len([r for r in server.log if r.status == 200]) < 6:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert lock_state(root).state == "stale"
    assert _runs(root)[0]["status"] == "running"  # as the killed process left it
    killed_at = len(server.log)
    assert killed_at >= 6
    done = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=180)
    assert done.returncode in (0, 1), done.stderr
    assert (
        done.stderr == "" and len(done.stdout.strip().splitlines()) == 1
    )  # --quiet: a stale lock is no error
    runs = _runs(root)
    assert [r["status"] for r in runs[:2]] in (["done", "abandoned"], ["partial", "abandoned"])
    # the killed run did not count as a crawl: recrawl_after did not skip fix-guides
    assert runs[0]["sites"] == ["fix-guides", "byteguides"] and runs[0]["skipped"] == []
    assert "took over the lock of a crawl that died" in (root / "logs" / "thresher.log").read_text("utf-8")
    assert lock_state(root).state == "free"
    with Archive(root) as archive:
        urls = [r[0] for r in archive.db.conn.execute("select url from articles")]
    assert len(urls) == len(set(urls))
    expected = {
        a.url
        for site in ("fix-guides", "byteguides")
        for a in server.articles(site)
        if not (a.noindex or a.noarchive or a.private)
    }
    assert expected <= set(urls)
    # and the run after that is a scheduled run that skips the site crawled moments ago
    third = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=180)
    assert third.returncode in (0, 1)
    assert _runs(root)[0]["skipped"] == ["fix-guides"]


def test_watch_stops_on_sigterm_after_the_pages_in_flight(server: FixtureServer, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    _config(server, tmp_path, delay=0.3)
    server.clear_log()
    proc = subprocess.Popen(
        [*THRESHER, "watch", "--every", "1h", "--config", "thresher.toml"],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len([r for r in server.log if r.status == 200]) < 4:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "SIGTERM: stopping after the pages in flight" in err
    assert "watch stopped" in err and "Traceback" not in err
    run = _runs(root)[0]
    assert run["command"] == "watch" and run["status"] == "interrupted" and run["exit_code"] == 130
    assert run["finished"]
    with sqlite3.connect(root / "frontier.db") as conn:
        in_flight = conn.execute("select count(*) from urls where state = 'in_flight'").fetchone()[0]
        queued = conn.execute("select count(*) from urls where state = 'queued'").fetchone()[0]
    assert in_flight == 0  # the pages in flight finished; nothing to fetch twice
    assert queued > 0  # it stopped before the end: the rest waits for the next run
    assert lock_state(root).state == "free"


def test_watch_runs_again_at_each_interval(server: FixtureServer, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    request = CrawlRequest(config_path=_config(server, tmp_path, recrawl="1h"), quiet=True, command="watch")
    lines: list[str] = []
    code = run_watch(root, request, Every(text="1s", seconds=1), max_runs=2, echo=lines.append)
    assert code == 0
    runs = _runs(root)
    assert [r["command"] for r in runs] == ["watch", "watch"]
    assert runs[0]["skipped"] == ["fix-guides"] and runs[0]["sites"] == ["byteguides"]  # recrawl_after
    assert any(line.startswith("next crawl at ") for line in lines)


def test_a_config_error_stops_before_anything_is_written(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    bad = tmp_path / "bad.toml"
    bad.write_text('[[sites]]\nname = "x"\nstart_urls = ["ftp://nope"]\n', encoding="utf-8")
    for command in (["crawl", "--config", str(bad)], ["watch", "--every", "1h", "--config", str(bad)]):
        result = CliRunner().invoke(cli, ["--archive", str(root), *command])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1
    bad_every = CliRunner().invoke(
        cli, ["--archive", str(root), "watch", "--every", "soon", "--config", str(bad)]
    )
    assert bad_every.exit_code == 2 and "not an interval" in bad_every.stderr
    assert not root.exists()


def test_logs_rotate(tmp_path: Path) -> None:
    with run_logging(tmp_path, quiet=True, max_bytes=2_000, backups=2) as logger:
        for i in range(200):
            logger.info("line %d of a long unattended life", i)
    logs = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert logs == ["thresher.log", "thresher.log.1", "thresher.log.2"]
    assert all(p.stat().st_size <= 2_100 for p in (tmp_path / "logs").iterdir())
    assert "line 199" in (tmp_path / "logs" / "thresher.log").read_text(encoding="utf-8")


def test_watch_keeps_going_after_a_later_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from thresher.errors import ArchiveBusy, StoreError
    from thresher.schedule import watch as watch_module  # the module: the function is run_watch

    outcomes: list[object] = [0, ArchiveBusy("index.db is locked by another writer"), 1]

    def fake_crawl_once(root: Path, request: CrawlRequest, *, stop: object = None) -> int:
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return int(outcome)  # type: ignore[call-overload]

    monkeypatch.setattr(watch_module, "crawl_once", fake_crawl_once)
    request = CrawlRequest(urls=["http://127.0.0.2:1/"])
    lines: list[str] = []
    assert run_watch(tmp_path, request, Every(text="1s", seconds=0), max_runs=3, echo=lines.append) == 0
    assert not outcomes
    assert any("Error: index.db is locked by another writer (trying again next turn)" in x for x in lines)
    # but a problem at the first turn is for the person starting it
    outcomes[:] = [StoreError("cannot open")]
    with pytest.raises(StoreError):
        run_watch(tmp_path, request, Every(text="1s", seconds=0), max_runs=3, echo=lines.append)
