from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from thresher.extract.dates import parse_date, zone

SHANGHAI = zone("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-10-17T18:38:42.215Z", datetime(2024, 10, 17, 18, 38, 42, 215000, tzinfo=UTC)),
        ("2025-03-03T10:00:00+01:00", datetime(2025, 3, 3, 9, 0, tzinfo=UTC)),
        ("2024-10-17 18:38", datetime(2024, 10, 17, 18, 38, tzinfo=UTC)),
        ("2024/01/02 03:04", datetime(2024, 1, 2, 3, 4, tzinfo=UTC)),
        ("Posted on March 3, 2025", datetime(2025, 3, 3, tzinfo=UTC)),
        ("3 mars 2025 à 10:30", datetime(2025, 3, 3, 10, 30, tzinfo=UTC)),
        ("Updated on December 28, 2023 at 4:05 pm", datetime(2023, 12, 28, 16, 5, tzinfo=UTC)),
    ],
)
def test_parse_date(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


def test_zone_less_dates_are_read_in_the_profile_zone() -> None:
    got = parse_date("2024-10-18 02:38:42", SHANGHAI)
    assert got == datetime(2024, 10, 17, 18, 38, 42, tzinfo=UTC)
    # a stated offset always wins over the profile's zone
    assert parse_date("2024-10-18T02:38:42+00:00", SHANGHAI) == datetime(2024, 10, 18, 2, 38, 42, tzinfo=UTC)
    assert parse_date("2024-10-18T02:38:42-05:30", SHANGHAI).utcoffset() == -timedelta(hours=5, minutes=30)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text", ["", "   ", "2024-13-01", "not a date", "1850-01-01", "2024-02-30T00:00:00Z", None]
)
def test_parse_date_rejects_nonsense(text: str | None) -> None:
    assert parse_date(text) is None


def test_unknown_zone_falls_back_to_utc() -> None:
    assert zone("Mars/Olympus_Mons") is UTC
    assert zone(None) is UTC
    assert parse_date("2024-01-01T00:00:00+01:00").tzinfo == timezone(timedelta(hours=1))  # type: ignore[union-attr]
