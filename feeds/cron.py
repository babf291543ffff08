"""Standard cron expressions, parsed and evaluated with their standard meaning. Pure: no
scheduler library is imported here (the daemon turns a ``Cron`` into APScheduler's triggers in
``scheduler.py``), and ``now`` is passed in.

Every field is expanded to explicit values; Sunday is 0 (or 7); when both day-of-month and
day-of-week are restricted, either matching is enough (cron's rule, which APScheduler's
``CronTrigger.from_crontab`` gets wrong, along with reading weekday ``0`` as Monday); an
expression that can never fire (``0 0 31 2 *``) is an error.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from feeds import timeutil

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, MONTHS),
    ("day of week", 0, 7, DAYS),
)


class CronError(ValueError):
    pass


def _value(text: str, lo: int, hi: int, names: tuple[str, ...], field: str) -> int:
    low = text.lower()
    if names and low in names:
        return names.index(low) + (1 if names is MONTHS else 0)
    if not text.isdigit():
        raise CronError(
            f"{field}: {text!r} is not a number"
            + (f" or a name ({', '.join(names)})" if names else "")
        )
    n = int(text)
    if not lo <= n <= hi:
        raise CronError(f"{field}: {n} is outside {lo}-{hi}")
    return n


def parse_field(
    text: str, lo: int, hi: int, names: tuple[str, ...] = (), field: str = "field"
) -> set[int]:
    """``*``, ``a``, ``a-b``, ``*/n``, ``a-b/n``, ``a/n`` and lists of them → the values."""
    out: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"{field}: empty item in {text!r}")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise CronError(f"{field}: step {step_text!r} must be a whole number ≥ 1")
            step = int(step_text)
        if base == "*":
            start, end = lo, hi
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = _value(a, lo, hi, names, field), _value(b, lo, hi, names, field)
            if start > end:
                raise CronError(f"{field}: range {base!r} runs backwards")
        else:
            start = _value(base, lo, hi, names, field)
            end = hi if step_text else start
        out.update(range(start, end + 1, step))
    return out


@dataclass(frozen=True)
class Cron:
    """A parsed expression: the values each field allows. Weekdays count from Sunday = 0."""

    expr: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    weekdays: tuple[int, ...]
    days_restricted: bool  # day-of-month was not "*"
    weekdays_restricted: bool  # day-of-week was not "*"

    def matches_day(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days
        in_week = (day.weekday() + 1) % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_month or in_week
        return in_month and in_week


def parse(expr: str) -> Cron:
    """A 5-field cron expression (or @daily etc.).

    Raises ``CronError`` with a sentence for anything wrong, including never firing.
    """
    text = MACROS.get(expr.strip().lower(), expr.strip())
    parts = text.split()
    if len(parts) != 5:
        raise CronError(
            f"{expr!r}: a cron expression has 5 fields (minute hour day-of-month "
            f"month day-of-week), not {len(parts)}"
        )
    minute, hour, dom, month, dow = (
        parse_field(p, lo, hi, names, name)
        for p, (name, lo, hi, names) in zip(parts, _FIELDS, strict=True)
    )
    cron = Cron(
        expr=expr,
        minutes=tuple(sorted(minute)),
        hours=tuple(sorted(hour)),
        days=tuple(sorted(dom)),
        months=tuple(sorted(month)),
        weekdays=tuple(sorted({0 if d == 7 else d for d in dow})),
        days_restricted=not parts[2].startswith("*"),
        weekdays_restricted=not parts[4].startswith("*"),
    )
    # every weekday occurs in every month, so only a day-of-month that no month in the
    # list has (in a leap year) can keep it from firing
    if not (cron.days_restricted and cron.weekdays_restricted) and not any(
        d <= calendar.monthrange(2000, m)[1] for m in cron.months for d in cron.days
    ):
        raise CronError(f"{expr!r} never fires (no such date)")
    return cron


# how far to look: Feb 29 on a given weekday ("0 0 29 2 */3") can be 40 years away
_HORIZON_DAYS = 41 * 366


def next_times(cron: Cron, tz: dt.tzinfo, now: dt.datetime, count: int) -> list[dt.datetime]:
    """The next ``count`` times at or after ``now`` (as the daemon's scheduler fires them),
    in ``tz``. A wall time a DST change skips is read the pytz way (standard time)."""
    out: list[dt.datetime] = []
    day = timeutil.to_zone(now, tz).date()
    for _ in range(_HORIZON_DAYS):
        if cron.matches_day(day):
            times = sorted(
                timeutil.localize(dt.datetime.combine(day, dt.time(h, m)), tz)
                for h in cron.hours
                for m in cron.minutes
            )
            for when in times:
                if when >= now and (not out or when > out[-1]):
                    out.append(when)
                    if len(out) == count:
                        return out
        day += dt.timedelta(days=1)
    return out


def next_runs(
    build: str, every: float | None, tz: dt.tzinfo, now: dt.datetime, count: int
) -> list[dt.datetime]:
    """The next ``count`` builds for ``schedule.build``: ``every`` seconds from ``now`` when
    it is an interval (``every`` set), else the cron expression's next times."""
    if every is not None:
        step = dt.timedelta(seconds=every)
        return [timeutil.to_zone(now + step * (i + 1), tz) for i in range(count)]
    return next_times(parse(build), tz, now, count)
