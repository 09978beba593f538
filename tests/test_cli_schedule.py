"""thresher schedule: the crontab line and systemd units it prints and installs (never the user's own)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from thresher.cli import cli
from thresher.schedule import install

CONFIG = '[[sites]]\nname = "a"\nstart_urls = ["http://127.0.0.2:8000/"]\n'


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with a config, as cwd, with the default archive and a private systemd home."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("THRESHER_ARCHIVE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / "thresher.toml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


@pytest.fixture
def fake_crontab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `crontab` program on PATH that keeps its table in a temp file (the real one is never touched)."""
    table = tmp_path / "crontab.txt"
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    script = bindir / "crontab"
    script.write_text(
        "#!/bin/sh\n"
        f'TABLE="{table}"\n'
        'if [ "$1" = "-l" ]; then [ -f "$TABLE" ] || { echo "no crontab for $USER" >&2; exit 1; }; '
        'cat "$TABLE"; exit 0; fi\n'
        'cp "$1" "$TABLE"\n',
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return table


def test_crontab_line_for_6h_is_exactly_the_documented_one(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # where cron's PATH finds this same thresher, the line names it plainly
    exe = install.own_executable()
    assert exe is not None
    monkeypatch.setattr(install, "CRON_PATH", str(Path(exe).parent))
    result = CliRunner().invoke(cli, ["schedule", "--every", "6h", "--config", "thresher.toml"])
    assert result.exit_code == 0, result.output
    assert (
        f"0 */6 * * * cd {folder} && thresher crawl --config thresher.toml --quiet"
        in result.stdout.splitlines()
    )
    assert "OnUnitActiveSec=6h" in result.stdout and "Persistent=true" in result.stdout


def test_crontab_line_names_the_full_path_when_cron_would_not_find_thresher(folder: Path) -> None:
    monkeypatch_path = "/nonexistent"
    plan = install.Schedule(
        every=install.Every(text="6h", seconds=21600),
        directory=folder,
        config=Path("thresher.toml"),
        archive=Path("archive"),
        cron_path=monkeypatch_path,
    )
    exe = install.own_executable()
    assert plan.crontab_line() == f"0 */6 * * * cd {folder} && {exe} crawl --config thresher.toml --quiet"


def test_other_archive_and_awkward_paths_are_quoted(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(install, "CRON_PATH", str(Path(install.own_executable() or "").parent))
    odd = folder / "my 100% archive"
    result = CliRunner().invoke(cli, ["--archive", str(odd), "schedule", "--every", "30m"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if x.startswith("*/30 "))
    assert line == (
        f"*/30 * * * * cd {folder} && thresher --archive '{folder}/my 100\\% archive' crawl "
        "--config thresher.toml --quiet"
    )


def test_install_systemd_writes_the_pair_atomically(folder: Path) -> None:
    result = CliRunner().invoke(
        cli, ["schedule", "--every", "6h", "--config", "thresher.toml", "--install", "systemd"]
    )
    assert result.exit_code == 0, result.output
    units = folder / "xdg" / "systemd" / "user"
    service = (units / "thresher-crawl.service").read_text(encoding="utf-8")
    timer = (units / "thresher-crawl.timer").read_text(encoding="utf-8")
    assert "Type=oneshot" in service and f"WorkingDirectory={folder}" in service
    assert "crawl --config thresher.toml --quiet" in service
    assert (
        "OnUnitActiveSec=6h" in timer
        and "Persistent=true" in timer
        and "Unit=thresher-crawl.service" in timer
    )
    assert "WantedBy=timers.target" in timer
    assert sorted(p.name for p in units.iterdir()) == ["thresher-crawl.service", "thresher-crawl.timer"]
    assert "systemctl --user enable --now thresher-crawl.timer" in result.stdout
    # a cron expression becomes OnCalendar, into a folder given on the command line
    other = folder / "units"
    result = CliRunner().invoke(
        cli,
        [
            "schedule",
            "--every",
            "0 3 * * *",
            "--install",
            "systemd",
            "--systemd-dir",
            str(other),
            "--name",
            "t",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "OnCalendar=*-*-* 03:00:00" in (other / "t.timer").read_text(encoding="utf-8")


def test_install_cron_adds_once_and_keeps_other_lines(folder: Path, fake_crontab: Path) -> None:
    fake_crontab.write_text("MAILTO=me@example.com\n5 4 * * * backup.sh\n", encoding="utf-8")
    runner = CliRunner()
    for every in ("6h", "12h"):
        result = runner.invoke(
            cli, ["schedule", "--every", every, "--config", "thresher.toml", "--install", "cron"]
        )
        assert result.exit_code == 0, result.output
    lines = fake_crontab.read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["MAILTO=me@example.com", "5 4 * * * backup.sh"]
    ours = [x for x in lines if "crawl --config thresher.toml --quiet" in x]
    assert len(ours) == 1 and ours[0].startswith("0 */12 * * * ")  # replaced, not added twice


def test_install_cron_into_an_empty_crontab(folder: Path, fake_crontab: Path) -> None:
    result = CliRunner().invoke(cli, ["schedule", "--every", "1d", "--install", "cron"])
    assert result.exit_code == 0, result.output
    assert fake_crontab.read_text(encoding="utf-8").splitlines()[-1].startswith("0 0 * * * cd ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--every", "6x"], "not an interval or a cron expression"),
        (["--every", "0h"], "at least"),
        (["--every", "6h", "--config", "missing.toml"], "no such file"),
        (["--every", "99 * * * *"], "outside 0-59"),
        (["--every", "90m", "--install", "cron"], "cron cannot run every 90m exactly"),
        (["--every", "6h", "--name", "../evil", "--install", "systemd"], "--name"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    folder: Path, fake_crontab: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(cli, ["schedule", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not fake_crontab.exists() and not (folder / "xdg").exists()


def test_without_a_config_file_schedule_says_what_is_missing(folder: Path) -> None:
    (folder / "thresher.toml").unlink()
    result = CliRunner().invoke(cli, ["schedule", "--every", "6h"])
    assert result.exit_code == 2 and result.stderr.startswith("Error: give --config FILE")


def test_broken_config_file_is_refused(folder: Path) -> None:
    (folder / "thresher.toml").write_text("[[sites]]\nname = 3\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["schedule", "--every", "6h", "--config", "thresher.toml"])
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")
