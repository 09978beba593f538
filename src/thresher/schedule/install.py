"""``thresher schedule``: the crontab line and systemd user units for scheduled crawls; installing them.

The crontab line for ``--every 6h`` is ``0 */6 * * * cd DIR && thresher crawl --config FILE --quiet``;
``--quiet`` keeps cron's mail to errors and a one-line summary. The systemd pair is a oneshot service
and a timer with ``OnUnitActiveSec=`` (an interval) or ``OnCalendar=`` (a cron expression), and
``Persistent=true`` so a calendar run missed while the machine was off happens at the next boot.

Installing writes atomically: the crontab through ``crontab FILE`` (which swaps it whole), replacing an
earlier thresher line for the same folder; the units into ``$XDG_CONFIG_HOME/systemd/user`` (or a folder
given) via temp file + rename.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, InputError
from ..files import atomic_write
from .interval import Every

__all__ = ["CRON_PATH", "Schedule", "install_cron", "install_systemd", "own_executable", "systemd_dir"]

# the PATH cron gives a job (Debian, RHEL, macOS); a thresher found elsewhere is named by its full path
CRON_PATH = "/usr/local/bin:/usr/bin:/bin"
_MARK = "# thresher schedule:"


def own_executable() -> str | None:
    """The ``thresher`` program of this installation (beside the Python running it), else one on PATH."""
    beside = Path(sys.executable).parent / "thresher"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("thresher")


def _thresher_command(search_path: str) -> str:
    """``thresher`` when cron will find this same program on its PATH, else its full path."""
    mine = own_executable()
    if mine is None:
        return "thresher"
    theirs = shutil.which("thresher", path=search_path)
    return "thresher" if theirs and Path(theirs).resolve() == Path(mine).resolve() else mine


@dataclass(slots=True, kw_only=True)
class Schedule:
    """A scheduled crawl: how often, of which config, into which archive, from which folder."""

    every: Every
    directory: Path  # the folder the crawl runs in (absolute)
    config: Path | None  # relative to ``directory`` when inside it
    archive: Path  # as given; a relative one is relative to ``directory``
    name: str = "thresher-crawl"
    cron_path: str = ""  # cron's PATH (default: CRON_PATH)

    def crawl_args(self) -> list[str]:
        """``crawl --config FILE --quiet`` with ``--archive`` first when it is not the default."""
        args: list[str] = []
        if self.archive != Path("archive"):
            args += ["--archive", str(self.archive)]
        args.append("crawl")
        if self.config is not None:
            args += ["--config", str(self.config)]
        return [*args, "--quiet"]

    def crontab_line(self) -> str:
        """The crontab entry (ConfigError when cron cannot run at exactly this interval)."""
        schedule = self.every.crontab_schedule()
        if schedule is None:
            raise ConfigError(
                f"cron cannot run every {self.every.text} exactly; use minutes that divide an hour, hours "
                "that divide a day, 1d, 7d, a cron expression, or --install systemd"
            )
        command = " ".join(
            shlex.quote(a) for a in [_thresher_command(self.cron_path or CRON_PATH), *self.crawl_args()]
        )
        line = f"{schedule} cd {shlex.quote(str(self.directory))} && {command}"
        return line.replace("%", "\\%")  # cron turns a bare % into a newline

    def service_unit(self) -> str:
        """The systemd user service that runs one crawl."""
        exe = own_executable() or "thresher"
        command = " ".join(_systemd_quote(a) for a in [exe, *self.crawl_args()])
        return (
            "[Unit]\n"
            f"Description=thresher crawl in {self.directory}\n"
            "Wants=network-online.target\n"
            "After=network-online.target\n"
            "\n"
            "[Service]\n"
            "Type=oneshot\n"
            f"WorkingDirectory={self.directory}\n"
            f"ExecStart={command}\n"
            "# 2 is a configuration error and 75 another crawl still running: only the first needs a human\n"
            "SuccessExitStatus=75\n"
        )

    def timer_unit(self) -> str:
        """The systemd user timer that starts the service."""
        lines = "\n".join(self.every.timer_lines())
        return (
            "[Unit]\n"
            f"Description=thresher crawl every {self.every.text}\n"
            "\n"
            "[Timer]\n"
            f"{lines}\n"
            "Persistent=true\n"
            "RandomizedDelaySec=1min\n"
            f"Unit={self.name}.service\n"
            "\n"
            "[Install]\n"
            "WantedBy=timers.target\n"
        )


def _systemd_quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "-_./=:+@," for c in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def systemd_dir() -> Path:
    """``$XDG_CONFIG_HOME/systemd/user``, else ``~/.config/systemd/user``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def install_systemd(schedule: Schedule, folder: Path | None = None) -> list[Path]:
    """Write ``NAME.service`` and ``NAME.timer`` atomically; returns their paths."""
    target = folder or systemd_dir()
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{target}: cannot create ({exc.strerror or exc})") from exc
    service, timer = target / f"{schedule.name}.service", target / f"{schedule.name}.timer"
    atomic_write(service, schedule.service_unit())
    atomic_write(timer, schedule.timer_unit())
    return [service, timer]


def _crontab(args: list[str], *, text: str | None = None) -> subprocess.CompletedProcess[str]:
    program = shutil.which("crontab")
    if program is None:
        raise InputError("crontab not found: install cron, or use --install systemd")
    try:
        return subprocess.run(
            [program, *args], input=text, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(f"crontab failed: {exc}") from exc


def install_cron(schedule: Schedule) -> str:
    """Add the line to the user's crontab (replacing this folder's earlier thresher line); returns it."""
    line = schedule.crontab_line()
    mark = f"{_MARK} {schedule.directory}"
    current = _crontab(["-l"])
    if current.returncode != 0 and "no crontab" not in current.stderr.lower():
        raise InputError(f"crontab -l failed: {current.stderr.strip() or current.returncode}")
    kept: list[str] = []
    skip_next = False
    for old in (current.stdout if current.returncode == 0 else "").splitlines():
        if old == mark:
            skip_next = True  # our earlier line follows its mark
            continue
        if skip_next:
            skip_next = False
            continue
        kept.append(old)
    text = "\n".join([*kept, mark, line]) + "\n"
    # crontab FILE replaces the whole table at once: a half-written crontab is never installed
    with tempfile.NamedTemporaryFile("w", suffix=".crontab", delete=False, encoding="utf-8") as fh:
        fh.write(text)
        name = fh.name
    try:
        result = _crontab([name])
    finally:
        os.unlink(name)
    if result.returncode != 0:
        raise InputError(f"crontab refused the new table: {result.stderr.strip() or result.returncode}")
    return line
