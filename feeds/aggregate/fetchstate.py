"""A source's fetch state after one attempt: a pure function, saved by ``Store.sources.save``.

``next_state(state, source, outcome, now, fetch)`` is the whole rule (like Miniflux's
``ScheduleNextCheck``/``ResetErrorCounter``): a success or "not modified" clears the error
count and comes back after the source's interval (±10 % jitter); a failure counts one more
error and backs off (the interval doubled per error, ±25 % jitter, capped, never sooner than
``Retry-After``); a source that is gone comes back after the cap; when the network is down
(every source failed to connect) the count stays and the source comes back after its interval.
A state stored for another URL starts over: its validators and error count are not this URL's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass

from feeds.config.config import FetchConfig, SourceConfig
from feeds.store.parts import SourceState


@dataclass(frozen=True)
class Modified:
    """A new document was fetched and parsed."""

    etag: str | None
    last_modified: str | None
    title: str | None


@dataclass(frozen=True)
class NotModified:
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class Failed:
    message: str
    gone: bool = False
    retry_after: float | None = None  # seconds the server asked for
    network_down: bool = False  # every source of the round failed to connect


Outcome = Modified | NotModified | Failed


@dataclass(frozen=True)
class Next:
    state: SourceState
    delay: float  # seconds until ``state.next_attempt``


def due(
    sources: tuple[SourceConfig, ...],
    states: dict[str, SourceState],
    now: dt.datetime,
    *,
    force: bool = False,
) -> list[SourceConfig]:
    """Enabled sources whose next attempt has come (all enabled ones with ``force``)."""
    out = []
    for s in sources:
        if not s.enabled:
            continue
        st = states.get(s.id)
        if (
            force
            or st is None
            or st.url != s.url
            or st.next_attempt is None
            or st.next_attempt <= now
        ):
            out.append(s)
    return out


def backoff(source: SourceConfig, errors: int, cap: int, retry_after: float | None) -> float:
    """Seconds until the next attempt after ``errors`` consecutive failures: the source's
    interval doubled per failure, ±25 % jitter (stable per source and count), capped; never
    sooner than the server's ``Retry-After``."""
    base = float(min(cap, source.interval * (1 << min(max(errors - 1, 0), 30))))
    jitter = random.Random(f"{source.id}:{errors}").uniform(0.75, 1.25)  # noqa: S311
    delay = min(cap, base * jitter)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


def next_state(
    state: SourceState | None,
    source: SourceConfig,
    outcome: Outcome,
    now: dt.datetime,
    fetch: FetchConfig,
) -> Next:
    """The source's state after ``outcome`` at ``now``, and the delay until its next attempt."""
    old = state or SourceState(source.id, source.url)
    if old.url != source.url:
        old = SourceState(source.id, source.url, title=old.title, last_success=old.last_success)
    if isinstance(outcome, Failed):
        return _failed(old, source, outcome, now, fetch.backoff_cap)
    # ±10 % jitter (stable for a given source and time), so sources added together spread out
    delay = source.interval * random.Random(f"{source.id}:{now.isoformat()}").uniform(0.9, 1.1)  # noqa: S311
    ok = dataclasses.replace(
        old,
        last_fetch=now,
        last_success=now,
        consecutive_errors=0,
        last_error=None,
        next_attempt=now + dt.timedelta(seconds=delay),
        gone=False,
    )
    if isinstance(outcome, NotModified):  # a 304 without validators keeps the ones we sent
        return Next(
            dataclasses.replace(
                ok,
                etag=old.etag if outcome.etag is None else outcome.etag,
                last_modified=(
                    old.last_modified if outcome.last_modified is None else outcome.last_modified
                ),
            ),
            delay,
        )
    return Next(
        dataclasses.replace(
            ok, etag=outcome.etag, last_modified=outcome.last_modified, title=outcome.title
        ),
        delay,
    )


def _failed(
    old: SourceState, source: SourceConfig, outcome: Failed, now: dt.datetime, cap: int
) -> Next:
    errors = old.consecutive_errors + (0 if outcome.network_down else 1)
    if outcome.network_down:
        delay = float(source.interval)
    elif outcome.gone:
        delay = float(cap)
    else:
        delay = backoff(source, max(errors, 1), cap, outcome.retry_after)
    new = dataclasses.replace(
        old,
        last_fetch=now,
        last_error=outcome.message,
        next_attempt=now + dt.timedelta(seconds=delay),
        consecutive_errors=errors,
        gone=outcome.gone,
    )
    return Next(new, delay)
