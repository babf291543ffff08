"""The one place that parses and converts dates.

Every datetime that leaves this module is timezone-aware and expressed in the site timezone
(Asia/Shanghai, +08:00, by default). pytz zones are applied with ``localize`` or
``astimezone``, never with ``tzinfo=`` (which would give the zone's LMT offset, +08:06).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import re
import unicodedata

import pytz

from feeds.errors import DateError

Zone = dt.tzinfo

_TIME = r"""
        (?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<frac>\d+))?)?
        (?:\s*(?P<ampm>[AaPp][Mm]))?"""
_ZONE = r"(?P<tz>Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)"
# Jekyll's forms (Ruby's Time.parse): 2022-06-09, 2022/06/09, 2022.06.09, 20220609, a time
# with optional seconds, fraction and AM/PM, an optional zone.
_DATE_RE = re.compile(
    rf"""^\s*
    (?:(?P<y>\d{{4}})(?P<sep>[-/.])(?P<mo>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}})
      |(?P<cy>\d{{4}})(?P<cmo>\d{{2}})(?P<cd>\d{{2}}))
    (?:(?:[Tt]|\s+){_TIME}\s*{_ZONE}?)?
    \s*$""",
    re.VERBOSE,
)
# The common case of _DATE_RE, as _ascii_zones leaves it: read without either (same result)
_PLAIN = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) ([+-]\d{4})")
# Earliest and latest instants accepted: a day inside datetime's range, so that no
# conversion to any zone (offsets are under a day) can overflow later.
_LOWEST = dt.datetime.min.replace(tzinfo=dt.UTC) + dt.timedelta(days=1)
_HIGHEST = dt.datetime.max.replace(tzinfo=dt.UTC) - dt.timedelta(days=1)


@functools.lru_cache(maxsize=64)
def zone(name: str) -> Zone:
    """The timezone called ``name`` (an IANA name such as ``Asia/Shanghai``); pytz gives the
    same object for a name every time, remembered here (asked once per fetched entry)."""
    try:
        return pytz.timezone(name)
    except pytz.UnknownTimeZoneError as e:
        raise DateError(
            f"unknown timezone {name!r} (use an IANA name such as Asia/Shanghai)"
        ) from e


def localize(naive: dt.datetime, tz: Zone) -> dt.datetime:
    """Attach ``tz`` to a naive wall-clock time, the pytz way (no LMT offsets)."""
    if isinstance(tz, pytz.BaseTzInfo):
        try:
            return tz.localize(naive)
        except OverflowError as e:
            raise _out_of_range(naive.isoformat()) from e
    return naive.replace(tzinfo=tz)


def to_zone(aware: dt.datetime, tz: Zone) -> dt.datetime:
    """Express an aware datetime in ``tz``. ``DateError`` if the platform cannot."""
    if aware.tzinfo is None or aware.utcoffset() is None:
        raise DateError(f"naive datetime {aware!r} where an aware one is required")
    try:
        out = aware.astimezone(tz)
        # astimezone has asked the pytz zone itself (fromutc), which gives the offset that is
        # right at that instant; only a datetime that already carried ``tz`` itself comes back
        # as it was, perhaps with the wrong offset (LMT), and is normalized
        if out.tzinfo is tz and isinstance(tz, pytz.BaseTzInfo):
            out = tz.normalize(out)
    except OverflowError as e:
        raise _out_of_range(aware.isoformat()) from e
    return out


def checked(aware: dt.datetime, tz: Zone, text: str) -> dt.datetime:
    """``aware`` in ``tz``, refused with ``DateError`` (naming ``text``, the date as written)
    unless it lies a day inside the years 1–9999 in UTC, so no later conversion overflows."""
    try:
        utc = aware.astimezone(dt.UTC)
    except OverflowError as e:
        raise _out_of_range(text) from e
    if not _LOWEST <= utc <= _HIGHEST:
        raise _out_of_range(text)
    return to_zone(aware, tz)


def _out_of_range(text: str) -> DateError:
    return DateError(f"date {text!r} is outside the years 1 to 9999 that can be represented")


def parse_date(value: object, tz: Zone) -> dt.datetime:
    """Read a front-matter date the way Jekyll does and express it in ``tz``.

    Accepts what YAML hands over: a string (``2022-06-09 14:36:33 +0800``, ISO 8601 with
    ``T`` and ``+08:00`` or ``Z``, a bare ``2022-06-09``; like Ruby's ``Time.parse`` also
    ``2022/06/09 14:36``, ``2022.06.09``, ``20220609``, ``2:36 PM``, ``GMT+8`` and RFC 822
    ``Thu, 09 Jun 2022 14:36:33 +0800``), a ``datetime`` (aware or naive) or a ``date``.
    Naive values are wall-clock times in ``tz``; a bare date is midnight in ``tz``.
    Raises ``DateError`` for anything else, including impossible dates (``2024-02-30``) and
    dates the platform cannot represent (year 9999 late in the day with a western zone).
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return checked(localize(value, tz), tz, value.isoformat())
        return checked(value, tz, value.isoformat())
    if isinstance(value, dt.date):
        midnight = dt.datetime(value.year, value.month, value.day)  # noqa: DTZ001
        return checked(localize(midnight, tz), tz, value.isoformat())
    if not isinstance(value, str):
        raise DateError(
            f"date must be a string like '2022-06-09 14:36:33 +0800', "
            f"not {type(value).__name__} {value!r}"
        )
    plain = _PLAIN.fullmatch(value)
    if plain:  # the form Jekyll writes (2022-06-09 14:36:33 +0800): the road below, shorter
        y, mo, d, h, mi, s, offset = plain.groups()
        return _make((int(y), int(mo), int(d), int(h), int(mi), int(s), 0), offset, tz, value)
    text = _ascii_zones(" ".join(value.split()))
    m = _DATE_RE.match(text)
    if m:
        return _from_match(m, tz, value)
    rfc = _rfc822(text, tz, value) or _month_name_date(text, tz, value)
    if rfc is not None:
        return rfc
    raise DateError(f"unreadable date {value!r} (expected e.g. '2022-06-09 14:36:33 +0800')")


def _from_match(m: re.Match[str], tz: Zone, value: str) -> dt.datetime:
    """The datetime a ``_DATE_RE``-like match describes (groups y/mo/d or cy/cmo/cd, h, mi,
    s, frac, ampm, tz), in ``tz``."""
    groups = m.groupdict()
    y, mo, d = (groups.get(k) or groups.get("c" + k) for k in ("y", "mo", "d"))
    hour = int(groups.get("h") or 0)
    ampm = (groups.get("ampm") or "").lower()
    if ampm and not 1 <= hour <= 12:
        raise DateError(f"impossible hour in {value!r}")
    if ampm:
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    frac = groups.get("frac") or ""
    return _make(
        (
            int(str(y)),
            int(str(mo)),
            int(str(d)),
            hour,
            int(groups.get("mi") or 0),
            int(groups.get("s") or 0),
            int((frac + "000000")[:6]),
        ),
        groups.get("tz"),
        tz,
        value,
    )


def _make(
    fields: tuple[int, int, int, int, int, int, int], offset: str | None, tz: Zone, value: str
) -> dt.datetime:
    """Wall-clock fields plus a written offset (or none: ``tz``) → a checked datetime in tz."""
    try:
        naive = dt.datetime(*fields)  # noqa: DTZ001 - made aware just below
    except ValueError as e:
        raise DateError(f"impossible date {value!r}: {e}") from e
    if offset is None:
        try:
            return checked(localize(naive, tz), tz, value)
        except DateError as e:
            raise _out_of_range(value) from e
    return checked(naive.replace(tzinfo=_fixed(offset, value)), tz, value)


def _fixed(text: str, whole: str) -> dt.timezone:
    found = _OFFSETS.get(text)
    if found is None:
        found = _OFFSETS[text] = _offset(text, whole)
    return found


_OFFSETS: dict[str, dt.timezone] = {}  # offsets as written ("+0800") → their zone, read once


def _offset(text: str, whole: str) -> dt.timezone:
    if text in ("Z", "z", "UTC", "GMT"):
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise DateError(f"impossible UTC offset in {whole!r}")
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


# GMT+8, GMT+0800, UTC+08:00, and a bare +8 / +08:00 after a time → +0800
_GMT_OFFSET = re.compile(r"\b(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d{2}))?\b")
_SHORT_OFFSET = re.compile(r"(?<=\d:\d\d)\s*([+-])(\d{1,2})(?::(\d{2}))?$")


def _ascii_zones(text: str) -> str:
    def fix(m: re.Match[str]) -> str:
        return f" {m[1]}{int(m[2]):02d}{m[3] or '00'}"

    return _SHORT_OFFSET.sub(fix, _GMT_OFFSET.sub(fix, text)).strip()


_NO_ZONE = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?\s*$")  # RFC 822 date ending at the time


_AMPM = re.compile(r"\s*\b([AaPp][Mm])$")
_ZERO_ZONES = {"GMT", "UT", "UTC", "Z", "+0000", "-0000"}
_COMMENT = re.compile(r"\s*\([^()]*\)$")  # "+0000 (UTC)"


def _rfc822(text: str, tz: Zone, value: str) -> dt.datetime | None:
    """An RFC 822 date (email.utils, which also reads ``Dec 1, 2026 10:00 PM``), or None
    when ``text`` is not one. A zone word email.utils does not know is an error, not UTC."""
    text = _COMMENT.sub("", text)
    ampm = _AMPM.search(text)
    if ampm:
        text = text[: ampm.start()]
    parsed = email.utils.parsedate_tz(text)
    if parsed is None:
        return None
    offset = parsed[9]
    hour = parsed[3]
    if ampm:
        if not 1 <= hour <= 12:
            raise DateError(f"impossible hour in {value!r}")
        hour = hour % 12 + (12 if ampm[1].lower() == "pm" else 0)
    fields = (*parsed[:3], hour, *parsed[4:6], 0)
    if offset is None or _NO_ZONE.search(text):  # parsedate_tz says 0 for "no zone"
        return _make(fields, None, tz, value)
    last = text.rsplit(None, 1)[-1].upper()
    if offset == 0 and last not in _ZERO_ZONES:  # and 0 for a zone it does not know
        raise DateError(f"unknown timezone {last!r} in {value!r}")
    if abs(offset) >= 86400:
        raise DateError(f"impossible UTC offset in {value!r}")
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return _make(fields, f"{sign}{hours:02d}{minutes:02d}", tz, value)


_MONTHS = "january february march april may june july august september october november december"
_NAMED_DAY = re.compile(
    r"^(?:(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]{3,9})\.?|(?P<mon2>[A-Za-z]{3,9})\.?\s+(?P<d2>\d{1,2}),?)"
    r"\s+(?P<y>\d{4})$"
)


def _month_name_date(text: str, tz: Zone, value: str) -> dt.datetime | None:
    """``1 December 2026``, ``Dec 1, 2026``: midnight in ``tz`` (email.utils wants a time)."""
    m = _NAMED_DAY.match(text)
    if not m:
        return None
    name = (m["mon"] or m["mon2"]).lower()
    months = _MONTHS.split()
    month = next((i + 1 for i, full in enumerate(months) if full.startswith(name)), None)
    if month is None or len(name) < 3:
        return None
    return _make((int(m["y"]), month, int(m["d"] or m["d2"]), 0, 0, 0, 0), None, tz, value)


def date_from_filename(year: int, month: int, day: int, tz: Zone) -> dt.datetime:
    """Midnight of the date in a post's file name, in ``tz`` (Jekyll's fallback)."""
    try:
        midnight = dt.datetime(year, month, day)  # noqa: DTZ001
    except ValueError as e:
        raise DateError(f"impossible date {year:04d}-{month:02d}-{day:02d} in file name") from e
    return checked(localize(midnight, tz), tz, f"{year:04d}-{month:02d}-{day:02d}")


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


def is_china_zone(tz: Zone) -> bool:
    return str(tz) in _CHINA_ZONES


# ------------------------------------------------------------------ dates as feeds write them

NEAR_FUTURE = dt.timedelta(days=1)  # a date without a year is put at most this far ahead
_FEED_TIME = r"""(?:\s*T?\s*
    (?P<h>\d{1,2})[:时点](?P<mi>\d{2})分?(?:[:分]?(?P<s>\d{2})(?:\.(?P<frac>\d+))?秒?)?)?"""
_FEED_ZONE = r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$"
_FEED_FORMS = (
    # 2026/09/20 10:00:00, 2026-09-20 10:00, 2026年09月20日 10:00, 2026年9月20日, 2026.9.20
    re.compile(
        rf"^(?P<y>\d{{4}})\s*[-/.年]\s*(?P<mo>\d{{1,2}})\s*[-/.月]\s*(?P<d>\d{{1,2}})\s*日?"
        rf"{_FEED_TIME}{_FEED_ZONE}",
        re.X,
    ),
    # 20 9月 2026 10:00:00 +0800 (RFC 822 with Chinese month names)
    re.compile(
        rf"^(?P<d>\d{{1,2}})\s+(?P<mo>\d{{1,2}})\s*月\s+(?P<y>\d{{4}}){_FEED_TIME}{_FEED_ZONE}",
        re.X,
    ),
    # ISO 8601 basic: 20260920T020000Z, 20260920
    re.compile(
        r"^(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})"
        r"(?:T(?P<h>\d{2})(?P<mi>\d{2})(?P<s>\d{2})?(?:\.(?P<frac>\d+))?)?" + _FEED_ZONE
    ),
)
# 09月20日 10:00, 09-20 10:00: the year comes from the fetch time
_YEARLESS = re.compile(
    rf"^(?P<mo>\d{{1,2}})\s*[-/月]\s*(?P<d>\d{{1,2}})\s*日?{_FEED_TIME}{_FEED_ZONE}", re.X
)
_WEEKDAY = re.compile(r"[(（]?(?:星期|礼拜|周)[一二三四五六日天][)）]?\s*,?")
_BEIJING = re.compile(r"[(（]?北京时间[)）]?")
_AGO = re.compile(r"^(?P<n>\d+|半)\s*(?:个)?\s*(?P<unit>秒钟?|分钟|分|小时|钟头|天|日|周|星期)前$")
_UNITS = {"秒": 1, "秒钟": 1, "分钟": 60, "分": 60, "小时": 3600, "钟头": 3600}
_UNITS |= {"天": 86400, "日": 86400, "周": 604800, "星期": 604800}
_DAY_WORD = re.compile(rf"^(?P<word>今天|昨天|前天){_FEED_TIME}$", re.X)
_DAYS_BACK = {"今天": 0, "昨天": 1, "前天": 2}


def parse_feed_date(
    text: str | None, naive_tz: Zone, *, china: bool, now: dt.datetime
) -> dt.datetime | None:
    """A date as feeds write it, in ``naive_tz``; None when there is no date at all.

    Read in this order: relative forms (``刚刚``, ``5分钟前``, ``3小时前``, ``昨天 10:00``,
    ``前天``: against ``now``, the fetch time, in ``naive_tz``), epoch seconds and
    milliseconds, numeric and Chinese forms (``2026/09/20 10:00``, ``2026年9月20日``,
    ``20 9月 2026 10:00 +0800``, ISO basic ``20260920T020000Z``), month and day without a
    year (the year that puts it at most ``NEAR_FUTURE`` after ``now``), then RFC 822 and
    RFC 3339. Weekdays are ignored; zones may be written ``GMT+8``, ``UTC+08:00``, ``+8`` or
    ``北京时间``. Dates without a zone are wall-clock times in ``naive_tz`` (the source's);
    ``CST`` is China Standard Time when ``china`` is set, US Central otherwise. Raises
    ``DateError`` (a sentence naming the text) for what is not a date or cannot be represented.
    """
    if not text or not text.strip():
        return None
    clean = _clean(text, china)
    for read in (_relative, _epoch, _numeric, _yearless):
        value = read(clean, naive_tz, now, text)
        if value is not None:
            return value
    value = _rfc822(clean, naive_tz, text)
    if value is not None:
        return value
    m = _DATE_RE.match(clean)
    if m:
        return _from_match(m, naive_tz, text)
    raise DateError(f"unreadable date {text!r}")


def _clean(text: str, china: bool) -> str:
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    if _BEIJING.search(text):
        text = _BEIJING.sub(" ", text).strip() + " +0800"
    text = _WEEKDAY.sub(" ", text)
    if china and _CST.search(text):
        text = _CST.sub("+0800", text)
    return _ascii_zones(" ".join(text.split()))


def _relative(text: str, tz: Zone, now: dt.datetime, value: str) -> dt.datetime | None:
    def ref() -> dt.datetime:  # only for a relative form: most dates are not one
        return to_zone(now.replace(microsecond=0), tz)

    if text in ("刚刚", "刚才"):
        return ref()
    m = _AGO.match(text)
    if m:
        n = 0.5 if m["n"] == "半" else int(m["n"])
        if n > 100000:
            raise DateError(f"date {value!r} is implausibly far back")
        return checked(ref() - dt.timedelta(seconds=n * _UNITS[m["unit"]]), tz, value)
    m = _DAY_WORD.match(text)
    if m:
        day = ref().date() - dt.timedelta(days=_DAYS_BACK[m["word"]])
        fields = (day.year, day.month, day.day, int(m["h"] or 0), int(m["mi"] or 0))
        return _make((*fields, int(m["s"] or 0), 0), None, tz, value)
    return None


def _epoch(text: str, tz: Zone, now: dt.datetime, value: str) -> dt.datetime | None:
    if not text.isdigit() or len(text) not in (10, 13):
        return None
    seconds = int(text) / (1000 if len(text) == 13 else 1)
    return checked(dt.datetime.fromtimestamp(seconds, dt.UTC), tz, value)


def _numeric(text: str, tz: Zone, now: dt.datetime, value: str) -> dt.datetime | None:
    for form in _FEED_FORMS:
        m = form.match(text)
        if m:
            return _from_match(m, tz, value)
    return None


def _yearless(text: str, tz: Zone, now: dt.datetime, value: str) -> dt.datetime | None:
    m = _YEARLESS.match(text)
    if not m:
        return None
    year = to_zone(now, tz).year
    fields = (int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0), 0)
    for y in (year + 1, year, year - 1):
        try:
            got = _make((y, int(m["mo"]), int(m["d"]), *fields), m["tz"], tz, value)
        except DateError:
            continue  # 2月29日 outside a leap year
        if got <= now + NEAR_FUTURE:
            return got
    raise DateError(f"impossible date {value!r}")
