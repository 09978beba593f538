"""--every: intervals and cron expressions, and what they become in crontab and systemd."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from thresher.errors import ConfigError
from thresher.schedule import parse_every


@pytest.mark.parametrize(
    ("text", "crontab"),
    [
        ("6h", "0 */6 * * *"),
        ("30m", "*/30 * * * *"),
        ("1m", "*/1 * * * *"),
        ("1h", "0 * * * *"),
        ("12h", "0 */12 * * *"),
        ("1d", "0 0 * * *"),
        ("7d", "0 0 * * 0"),
        ("90m", None),  # cron cannot run every 90 minutes exactly
        ("5h", None),
        ("2d", None),
        ("0 3 * * 1-5", "0 3 * * 1-5"),
    ],
)
def test_crontab_schedules(text: str, crontab: str | None) -> None:
    assert parse_every(text).crontab_schedule() == crontab


def test_intervals_become_on_unit_active_sec_and_cron_on_calendar() -> None:
    assert "OnUnitActiveSec=6h" in parse_every("6h").timer_lines()
    assert parse_every("15 */4 * * mon-fri").timer_lines() == [
        "OnCalendar=Mon,Tue,Wed,Thu,Fri *-*-* 00/4:15:00"
    ]
    assert parse_every("0 0 1 jan *").timer_lines() == ["OnCalendar=*-01-01 00:00:00"]


def test_next_run_times() -> None:
    start = datetime(2026, 1, 1, 10, 17, 30, tzinfo=UTC)
    assert parse_every("6h").next_after(start) == datetime(2026, 1, 1, 16, 17, 30, tzinfo=UTC)
    assert parse_every("*/15 * * * *").next_after(start) == datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
    assert parse_every("0 */6 * * *").next_after(start) == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    # 2026-01-03 is a Saturday; weekdays only → Monday the 5th
    saturday = datetime(2026, 1, 3, 12, 0, tzinfo=UTC)
    assert parse_every("0 9 * * 1-5").next_after(saturday) == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    # day of month and day of week both restricted: either one matches (cron's rule)
    assert parse_every("0 0 13 * 5").next_after(saturday) == datetime(2026, 1, 9, 0, 0, tzinfo=UTC)
    assert parse_every("0 0 * * 7").next_after(saturday) == datetime(2026, 1, 4, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "6",
        "6x",
        "0h",
        "-1h",
        "1.5h",
        "* * * *",
        "61 * * * *",
        "* 24 * * *",
        "*/0 * * * *",
        "5-1 * * * *",
        "0 0 31 2 *",
        "a b c d e",
    ],
)
def test_bad_every_is_a_config_error(text: str) -> None:
    def parse_and_plan() -> None:
        parse_every(text).next_after(datetime(2026, 1, 1, tzinfo=UTC))  # "31 February" never runs

    with pytest.raises(ConfigError):
        parse_and_plan()
