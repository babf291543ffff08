"""The one place that parses and converts dates.

Every datetime that leaves this module is timezone-aware and expressed in the site timezone
(Asia/Shanghai, +08:00, by default). pytz zones are applied with ``localize`` or
``astimezone``, never with ``tzinfo=`` (which would give the zone's LMT offset, +08:06).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re

import pytz

from feeds.errors import DateError

Zone = dt.tzinfo

_DATE_RE = re.compile(
    r"""^\s*
    (?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})
    (?:
        (?:[Tt]|\s+)
        (?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<frac>\d+))?)?
        \s*
        (?P<tz>Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?
    )?
    \s*$""",
    re.VERBOSE,
)


def zone(name: str) -> Zone:
    """The timezone called ``name`` (an IANA name such as ``Asia/Shanghai``)."""
    try:
        return pytz.timezone(name)
    except pytz.UnknownTimeZoneError as e:
        raise DateError(
            f"unknown timezone {name!r} (use an IANA name such as Asia/Shanghai)"
        ) from e


def localize(naive: dt.datetime, tz: Zone) -> dt.datetime:
    """Attach ``tz`` to a naive wall-clock time, the pytz way (no LMT offsets)."""
    if isinstance(tz, pytz.BaseTzInfo):
        return tz.localize(naive)
    return naive.replace(tzinfo=tz)


def to_zone(aware: dt.datetime, tz: Zone) -> dt.datetime:
    """Express an aware datetime in ``tz``."""
    if aware.tzinfo is None or aware.utcoffset() is None:
        raise DateError(f"naive datetime {aware!r} where an aware one is required")
    out = aware.astimezone(tz)
    if isinstance(tz, pytz.BaseTzInfo):
        out = tz.normalize(out)
    return out


def parse_date(value: object, tz: Zone) -> dt.datetime:
    """Read a front-matter date the way Jekyll does and express it in ``tz``.

    Accepts what YAML hands over: a string (``2022-06-09 14:36:33 +0800``, ISO 8601 with
    ``T`` and ``+08:00`` or ``Z``, a bare ``2022-06-09``), a ``datetime`` (aware or naive) or a
    ``date``. Naive values are wall-clock times in ``tz``; a bare date is midnight in ``tz``.
    Raises ``DateError`` for anything else, including impossible dates (``2024-02-30``).
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return localize(value, tz)
        return to_zone(value, tz)
    if isinstance(value, dt.date):
        return localize(dt.datetime(value.year, value.month, value.day), tz)  # noqa: DTZ001
    if not isinstance(value, str):
        raise DateError(
            f"date must be a string like '2022-06-09 14:36:33 +0800', "
            f"not {type(value).__name__} {value!r}"
        )
    m = _DATE_RE.match(value)
    if not m:
        raise DateError(f"unreadable date {value!r} (expected e.g. '2022-06-09 14:36:33 +0800')")
    frac = m["frac"] or ""
    try:
        naive = dt.datetime(  # noqa: DTZ001 - made aware just below
            int(m["y"]),
            int(m["mo"]),
            int(m["d"]),
            int(m["h"] or 0),
            int(m["mi"] or 0),
            int(m["s"] or 0),
            int((frac + "000000")[:6]),
        )
    except ValueError as e:
        raise DateError(f"impossible date {value!r}: {e}") from e
    offset = m["tz"]
    if offset is None:
        return localize(naive, tz)
    return to_zone(naive.replace(tzinfo=_fixed(offset, value)), tz)


def _fixed(text: str, whole: str) -> dt.timezone:
    if text in ("Z", "z", "UTC", "GMT"):
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise DateError(f"impossible UTC offset in {whole!r}")
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def date_from_filename(year: int, month: int, day: int, tz: Zone) -> dt.datetime:
    """Midnight of the date in a post's file name, in ``tz`` (Jekyll's fallback)."""
    try:
        return localize(dt.datetime(year, month, day), tz)  # noqa: DTZ001
    except ValueError as e:
        raise DateError(f"impossible date {year:04d}-{month:02d}-{day:02d} in file name") from e


def rfc822(value: dt.datetime) -> str:
    """``Thu, 09 Jun 2022 14:36:33 +0800``: locale-independent RFC 822 for RSS."""
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return (
        f"{days[value.weekday()]}, {value.day:02d} {months[value.month - 1]} {value:%Y %H:%M:%S %z}"
    )


# Zones whose "CST" is China Standard Time (+08:00), not US Central (-06:00).
_CHINA_ZONES = {
    "Asia/Shanghai",
    "Asia/Chongqing",
    "Asia/Chungking",
    "Asia/Harbin",
    "Asia/Urumqi",
    "Asia/Kashgar",
    "PRC",
    "Asia/Taipei",
    "ROC",
    "Asia/Macau",
    "Asia/Hong_Kong",
}
_CST = re.compile(r"\bCST\b")
_NO_ZONE = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?\s*$")  # RFC 822 date ending at the time


def is_china_zone(tz: Zone) -> bool:
    return str(tz) in _CHINA_ZONES


def parse_feed_date(text: str | None, naive_tz: Zone, *, china: bool) -> dt.datetime | None:
    """A date as feeds write it (RFC 822 in RSS, RFC 3339 in Atom, and the usual deviations).

    Dates without a zone are wall-clock times in ``naive_tz`` (the source's). ``CST`` means
    China Standard Time (+08:00) when ``china`` is set, US Central otherwise. Returns an aware
    datetime, or None when the text is not a date we can read.
    """
    if not text or not text.strip():
        return None
    text = " ".join(text.split())
    if china and _CST.search(text):
        text = _CST.sub("+0800", text)
    parsed = email.utils.parsedate_tz(text)
    if parsed is not None:
        offset = parsed[9]
        try:
            naive = dt.datetime(*parsed[:6])  # noqa: DTZ001 - made aware just below
        except ValueError:
            return None
        if offset is None or _NO_ZONE.search(text):  # parsedate_tz says 0 for "no zone"
            return localize(naive, naive_tz)
        return naive.replace(tzinfo=dt.timezone(dt.timedelta(seconds=offset)))
    try:
        value = parse_date(text, naive_tz)
    except DateError:
        return None
    return value
