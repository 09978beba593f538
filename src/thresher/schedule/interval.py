"""``--every``: an interval (``30m``, ``6h``, ``1d``) or a five-field cron expression, and what it becomes.

An interval becomes a crontab schedule (``6h`` → ``0 */6 * * *``) when cron can say it exactly (minutes
that divide an hour, hours that divide a day, whole days), and ``OnUnitActiveSec=`` in a systemd timer.
A cron expression is kept as written for crontab and translated to ``OnCalendar=`` for systemd.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import ConfigError

__all__ = ["CronSpec", "Every", "parse_every"]

_INTERVAL = re.compile(r"^\s*(\d+)\s*([mhd])\s*$", re.I)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_SYSTEMD_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
# (name, low, high, names) for minute, hour, day of month, month, day of week
_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)


@dataclass(frozen=True, slots=True)
class CronSpec:
    """A parsed cron expression: the text and the set of values each field allows."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday (7 is folded into 0)
    any_day: bool  # day of month is "*"
    any_weekday: bool  # day of week is "*"

    def matches(self, moment: datetime) -> bool:
        """Whether cron would run at this minute."""
        if moment.minute not in self.minutes or moment.hour not in self.hours:
            return False
        if moment.month not in self.months:
            return False
        return self._day_matches(moment)

    def _day_matches(self, moment: datetime) -> bool:
        day_ok = moment.day in self.days
        weekday_ok = (moment.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:  # cron: both restricted means either one will do
            return day_ok and weekday_ok
        return day_ok or weekday_ok

    def next_after(self, moment: datetime) -> datetime:
        """The first minute after ``moment`` that the expression selects (within five years)."""
        start = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(366 * 5):
            if day.month in self.months and self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        raise ConfigError(f"cron expression {self.text!r} never runs")

    def on_calendar(self) -> str:
        """The systemd ``OnCalendar=`` form of the expression."""
        fields = self.text.split()
        weekday = "" if self.any_weekday else ",".join(_SYSTEMD_DAYS[d] for d in sorted(self.weekdays)) + " "
        month = _calendar_field(fields[3], self.months, 1, 12)
        dom = _calendar_field(fields[2], self.days, 1, 31)
        hour = _calendar_field(fields[1], self.hours, 0, 23)
        minute = _calendar_field(fields[0], self.minutes, 0, 59)
        return f"{weekday}*-{month}-{dom} {hour}:{minute}:00"


def _calendar_field(text: str, values: frozenset[int], low: int, high: int) -> str:
    if text == "*":
        return "*"
    step = re.fullmatch(r"\*/(\d+)", text)
    if step:
        return f"{low:02d}/{int(step.group(1))}"
    return ",".join(f"{v:02d}" for v in sorted(values))


def _value(token: str, low: int, high: int, names: tuple[str, ...], where: str) -> int:
    token = token.lower()
    if names and token[:3] in names and token.isalpha():
        return names.index(token[:3]) + (1 if low == 1 else 0)
    if not token.isdigit():
        raise ConfigError(f"{where}: {token!r} is not a number")
    number = int(token)
    if not low <= number <= high:
        raise ConfigError(f"{where}: {number} is outside {low}-{high}")
    return number


def _parse_field(text: str, index: int) -> frozenset[int]:
    name, low, high, names = _FIELDS[index]
    where = f"cron {name} field {text!r}"
    out: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ConfigError(f"{where}: step must be a positive number")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = _value(a, low, high, names, where), _value(b, low, high, names, where)
            if first > last:
                raise ConfigError(f"{where}: range {base} runs backwards")
        else:
            first = _value(base, low, high, names, where)
            last = high if step_text else first
        out.update(range(first, last + 1, step))
    if index == 4 and 7 in out:
        out = (out - {7}) | {0}
    return frozenset(out)


def _parse_cron(text: str) -> CronSpec:
    fields = text.split()
    if len(fields) != 5:
        raise ConfigError(
            f"not an interval or a cron expression: {text!r} (use e.g. 30m, 6h, 1d or '0 */6 * * *')"
        )
    sets = [_parse_field(f, i) for i, f in enumerate(fields)]
    return CronSpec(
        text=" ".join(fields),
        minutes=sets[0],
        hours=sets[1],
        days=sets[2],
        months=sets[3],
        weekdays=sets[4],
        any_day=fields[2] == "*",
        any_weekday=fields[4] == "*",
    )


@dataclass(frozen=True, slots=True)
class Every:
    """How often scheduled crawls run: ``seconds`` for an interval, ``cron`` for a cron expression."""

    text: str
    seconds: int | None = None
    cron: CronSpec | None = None

    def crontab_schedule(self) -> str | None:
        """The five crontab fields, or None when cron cannot run at exactly this interval."""
        if self.cron is not None:
            return self.cron.text
        assert self.seconds is not None
        minutes = self.seconds // 60
        if minutes < 60:
            return f"*/{minutes} * * * *" if 60 % minutes == 0 else None
        if minutes % 60 == 0 and minutes < 1440:
            hours = minutes // 60
            if 24 % hours:
                return None
            return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
        if minutes % 1440 == 0:
            days = minutes // 1440
            if days == 1:
                return "0 0 * * *"
            if days == 7:
                return "0 0 * * 0"
        return None

    def timer_lines(self) -> list[str]:
        """The ``[Timer]`` schedule lines of a systemd timer."""
        if self.cron is not None:
            return [f"OnCalendar={self.cron.on_calendar()}"]
        return ["OnActiveSec=1min", f"OnUnitActiveSec={self.text}"]

    def next_after(self, moment: datetime) -> datetime:
        """When the next run is due after one that started at ``moment``."""
        if self.cron is not None:
            return self.cron.next_after(moment)
        assert self.seconds is not None
        return moment + timedelta(seconds=self.seconds)


def parse_every(text: str) -> Every:
    """``30m``, ``6h``, ``1d`` (minutes, hours, days) or a five-field cron expression.

    Raises:
        ConfigError: anything else, or an interval under one minute.
    """
    match = _INTERVAL.match(text)
    if match:
        number, unit = int(match.group(1)), match.group(2).lower()
        if number < 1:
            raise ConfigError(f"interval must be at least 1{unit}: {text!r}")
        return Every(text=f"{number}{unit}", seconds=number * _UNIT_SECONDS[unit])
    return Every(text=text.strip(), cron=_parse_cron(text))
