"""The caching contract, from the build schedule: how long a reader, a CDN or a browser may
keep a copy of an output file, and the media type each file is served with.

One set of values for every place that states it: the RSS ``<ttl>`` and the syndication
namespace's ``sy:updatePeriod``/``sy:updateFrequency`` in the feeds (``generate``), the
``Cache-Control`` header ``feeds serve`` sends, and the nginx snippet and ``_headers`` file
the build writes for static hosts. Pure: the schedule's cron times are taken from a fixed
reference day, never from the clock, so the same config always gives the same values.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

from feeds import cron

# suffix → Content-Type, the first matching suffix wins (".rss.xml" before ".xml")
TYPES = (
    (".rss.xml", "application/rss+xml; charset=utf-8"),
    (".atom.xml", "application/atom+xml; charset=utf-8"),
    (".json", "application/feed+json; charset=utf-8"),
    (".opml", "text/x-opml; charset=utf-8"),
    (".xsl", "text/xsl; charset=utf-8"),
    (".html", "text/html; charset=utf-8"),
    (".xml", "application/xml; charset=utf-8"),
    (".conf", "text/plain; charset=utf-8"),  # the nginx snippet
    ("_headers", "text/plain; charset=utf-8"),  # Netlify's and Cloudflare's; they read it
    (".feeds-manifest", "application/json; charset=utf-8"),
)
MIN_MAX_AGE = 60  # s: a copy may always be used for a minute
MAX_MAX_AGE = 900  # s: and never for more than 15 minutes without asking (a 304 is cheap)
MAX_STALE = 86400  # s: stale-while-revalidate at most a day
_REFERENCE = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)  # where cron gaps are measured from
_CRON_SAMPLES = 64  # fire times looked at for the shortest gap
_PERIODS = (  # sy:updatePeriod and its length, shortest first
    ("hourly", 3600),
    ("daily", 86400),
    ("weekly", 7 * 86400),
    ("monthly", 31 * 86400),
    ("yearly", 366 * 86400),
)


def content_type(name: str) -> str:
    for suffix, media in TYPES:
        if name.endswith(suffix):
            return media
    return "application/octet-stream"


@dataclass(frozen=True)
class Hints:
    """The schedule's caching values. ``interval`` is the shortest time between two builds."""

    interval: int  # s
    max_age: int  # s: Cache-Control max-age
    stale_while_revalidate: int  # s
    ttl: int  # minutes: RSS <ttl>
    update_period: str  # sy:updatePeriod
    update_frequency: int  # sy:updateFrequency (times per period)

    @property
    def cache_control(self) -> str:
        return (
            f"public, max-age={self.max_age}, stale-while-revalidate={self.stale_while_revalidate}"
        )


def hints_for(interval: float) -> Hints:
    """A quarter of the build interval as max-age (between one and fifteen minutes, never
    longer than the interval), one interval (at most a day) of stale-while-revalidate, the
    interval as RSS ttl, and the syndication period that holds it, with how many builds fit."""
    seconds = max(1, math.ceil(interval))
    max_age = min(seconds, max(MIN_MAX_AGE, min(seconds // 4, MAX_MAX_AGE)))
    name, length = next(((n, s) for n, s in _PERIODS if seconds <= s), _PERIODS[-1])
    return Hints(
        interval=seconds,
        max_age=max_age,
        stale_while_revalidate=min(seconds, MAX_STALE),
        ttl=max(1, math.ceil(seconds / 60)),
        update_period=name,
        update_frequency=max(1, round(length / seconds)),
    )


def hints(build: str, build_seconds: float | None, tz: dt.tzinfo) -> Hints:
    """The hints for ``schedule.build`` (an interval, ``build_seconds``, or a cron
    expression evaluated in ``tz``)."""
    return hints_for(build_seconds if build_seconds is not None else _cron_gap(build, tz))


@lru_cache(maxsize=16)
def _cron_gap(expr: str, tz: dt.tzinfo) -> float:
    """The shortest time between two fire times of ``expr`` (a year when it fires once)."""
    times = cron.next_times(cron.parse(expr), tz, _REFERENCE, _CRON_SAMPLES)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    return min(gaps, default=float(_PERIODS[-1][1]))


# ----------------------------------------------------------------------------- static hosts

NGINX_FILE = "feeds-nginx.conf"
HEADERS_FILE = "_headers"  # Netlify and Cloudflare Pages read it from the published root
_HOST_TYPES = TYPES[:5]  # what hosts do not know by themselves (.html they do; .xml is not ours)


def _intro(hints: Hints, schedule: str) -> str:
    return (
        f"# Written by `feeds build`: the caching contract `feeds serve` keeps, for the builds\n"
        f"# of schedule.build {schedule!r} (at most every {hints.interval} s). Do not edit: the\n"
        f"# next build writes it again.\n"
    )


def nginx_snippet(hints: Hints, schedule: str) -> str:
    """An nginx snippet to include inside the ``location`` that serves the output folder:
    each feed format's media type and the Cache-Control header; temp files and the manifest
    (dot files) are refused. nginx makes ETag and Last-Modified from each file's mtime and
    size, and answers conditional requests by itself."""
    lines = [
        _intro(hints, schedule).rstrip("\n"),
        "# Use: location /feeds/ { root /srv/www; include /srv/www/feeds/" + NGINX_FILE + "; }",
        "# (nginx looks only at the last extension in `types`: feed types are set here.)",
        "location ~ /\\. { deny all; }",
    ]
    for suffix, media in _HOST_TYPES:
        pattern = suffix.replace(".", "\\.")
        lines += [
            f"location ~ {pattern}$ {{",
            "    types { }",
            f'    default_type "{media}";',
            f'    add_header Cache-Control "{hints.cache_control}" always;',
            "}",
        ]
    lines += [f'add_header Cache-Control "{hints.cache_control}" always;', "etag on;"]
    return "\n".join(lines) + "\n"


def headers_file(prefix: str, hints: Hints, schedule: str) -> str:
    """A ``_headers`` file (Netlify, Cloudflare Pages) for the files under the URL path
    ``prefix``: Cache-Control for all of them, the media type for each feed format. One splat
    per rule (Cloudflare's limit); no header is given by two rules (both would be sent)."""
    lines = [_intro(hints, schedule).rstrip("\n"), f"{prefix}*"]
    lines.append(f"  Cache-Control: {hints.cache_control}")
    for suffix, media in _HOST_TYPES:
        lines += [f"{prefix}*{suffix}", f"  Content-Type: {media}"]
    return "\n".join(lines) + "\n"
