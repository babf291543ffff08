"""WebSub (W3C): after a feed's bytes change, tell the hub, once per changed head feed, so
subscribers get it pushed instead of polling. The publish request is the de-facto form hubs
accept: a form POST of ``hub.mode=publish`` and ``hub.url=<feed URL>``.

The caller says which written files are head feeds (archives and discovery files are never
pinged). The pings share one overall deadline and stop when ``should_stop`` says so: a hub
that hangs or a daemon shutting down never holds the run for long."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import httpx

from feeds.config.config import Config
from feeds.generate.generate import self_url
from feeds.models import Problems

log = logging.getLogger(__name__)

ATTEMPTS = 3
DEADLINE = 60.0  # seconds for every ping of one run together
REQUEST_TIMEOUT = 10.0


def notify(
    cfg: Config,
    head_feeds: Sequence[str],
    problems: Problems,
    *,
    attempts: int = ATTEMPTS,
    pause: float = 1.0,
    deadline: float = DEADLINE,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Ping the hub for every written head feed (paths relative to the output folder).
    Returns how many the hub accepted; failures after ``attempts`` tries, and feeds left
    unpinged at the deadline or on a stop, are warnings."""
    hub = cfg.feeds.websub_hub
    if not hub or not head_feeds:
        return 0
    end = time.monotonic() + deadline
    accepted = 0
    with httpx.Client(
        timeout=httpx.Timeout(REQUEST_TIMEOUT),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": cfg.fetch.user_agent},
    ) as client:
        for i, rel in enumerate(head_feeds):
            left = end - time.monotonic()
            stopping = should_stop is not None and should_stop()
            if left <= 0 or stopping:
                why = "asked to stop" if stopping else f"deadline of {deadline:g} s passed"
                problems.warn(
                    f"websub hub {hub}",
                    f"{why}: {len(head_feeds) - i} feeds not announced (next change will)",
                )
                break
            url = self_url(cfg, rel)
            error, tries = _publish(client, hub, url, attempts, pause, end)
            if error is None:
                accepted += 1
            else:
                problems.warn(
                    f"websub hub {hub}", f"publish of {url} failed after {tries} attempts: {error}"
                )
    return accepted


def _publish(
    client: httpx.Client, hub: str, url: str, attempts: int, pause: float, end: float
) -> tuple[str | None, int]:
    """One feed's ping, retried with a growing pause: (None when the hub accepted it, else
    the last error; how many attempts were made)."""
    error = ""
    for attempt in range(attempts):
        left = end - time.monotonic()
        if left <= 0:
            return f"{error or 'not sent'}; the overall deadline passed", attempt
        try:
            resp = client.post(
                hub,
                data={"hub.mode": "publish", "hub.url": url},
                timeout=min(REQUEST_TIMEOUT, left),
            )
            if 200 <= resp.status_code < 300:
                log.info("event=websub hub=%s url=%s status=%d", hub, url, resp.status_code)
                return None, attempt + 1
            error = f"HTTP {resp.status_code}"
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"
        if attempt + 1 < attempts:
            time.sleep(max(0.0, min(pause * (2**attempt), end - time.monotonic())))
    return error, attempts
