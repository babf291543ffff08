"""Standard cron expressions → APScheduler 3 triggers, with standard meaning.

APScheduler 3's ``CronTrigger.from_crontab`` reads day-of-week ``0`` as Monday (cron: Sunday),
ANDs day-of-month and day-of-week where cron ORs them when both are restricted, and accepts
expressions that never fire (``0 0 31 2 *``). Here every field is expanded to explicit values,
Sunday is 0 (or 7), both-restricted days become an ``OrTrigger``, and an expression with no
next fire time is an error. Pure: ``now`` is passed in.
"""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# APScheduler's day_of_week names
_APS_DAYS = {0: "sun", 1: "mon", 2: "tue", 3: "wed", 4: "thu", 5: "fri", 6: "sat"}
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


def parse(expr: str, tz: dt.tzinfo, now: dt.datetime) -> BaseTrigger:
    """A trigger for a 5-field cron expression (or @daily etc.), evaluated in ``tz``.

    Raises ``CronError`` with a sentence for anything wrong, including never firing.
    """
    text = MACROS.get(expr.strip().lower(), expr.strip())
    parts = text.split()
    if len(parts) != 5:
        raise CronError(
            f"{expr!r}: a cron expression has 5 fields (minute hour day-of-month "
            f"month day-of-week), not {len(parts)}"
        )
    values = [
        parse_field(p, lo, hi, names, name)
        for p, (name, lo, hi, names) in zip(parts, _FIELDS, strict=True)
    ]
    minute, hour, dom, month, dow = values
    dow = {0 if d == 7 else d for d in dow}

    def joined(vals: set[int]) -> str:
        return ",".join(str(v) for v in sorted(vals))

    common = {
        "minute": joined(minute),
        "hour": joined(hour),
        "month": joined(month),
        "timezone": tz,
    }
    days = ",".join(_APS_DAYS[d] for d in sorted(dow))
    dom_restricted = not parts[2].startswith("*")
    dow_restricted = not parts[4].startswith("*")
    trigger: BaseTrigger
    if dom_restricted and dow_restricted:  # cron: either day field matching is enough
        trigger = OrTrigger(
            [CronTrigger(day=joined(dom), **common), CronTrigger(day_of_week=days, **common)]
        )
    else:
        trigger = CronTrigger(
            day=joined(dom) if dom_restricted else "*",
            day_of_week=days if dow_restricted else "*",
            **common,
        )
    if trigger.get_next_fire_time(None, now) is None:
        raise CronError(f"{expr!r} never fires (no such date)")
    return trigger


def next_times(trigger: BaseTrigger, now: dt.datetime, count: int) -> list[dt.datetime]:
    out: list[dt.datetime] = []
    previous = None
    current = now
    for _ in range(count):
        nxt = trigger.get_next_fire_time(previous, current)
        if nxt is None:
            break
        out.append(nxt)
        previous, current = nxt, nxt + dt.timedelta(microseconds=1)
    return out
