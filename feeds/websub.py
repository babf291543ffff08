"""WebSub (W3C): after a feed's bytes change, tell the hub, once per changed feed, so
subscribers get it pushed instead of polling. The publish request is the de-facto form hubs
accept: a form POST of ``hub.mode=publish`` and ``hub.url=<feed URL>``."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import httpx

from feeds.config import Config
from feeds.generate import self_url
from feeds.models import Problems

log = logging.getLogger(__name__)

ATTEMPTS = 3
FEED_SUFFIXES = (".rss.xml", ".atom.xml", ".json")


def notify(
    cfg: Config,
    written: Iterable[str],
    problems: Problems,
    *,
    attempts: int = ATTEMPTS,
    pause: float = 1.0,
) -> int:
    """Ping the hub for every written head feed (archives and other files are skipped).
    Returns how many the hub accepted; failures after ``attempts`` tries are warnings."""
    hub = cfg.feeds.websub_hub
    archive_root = cfg.feeds.archive_path.split("{", 1)[0]
    feeds = [
        rel
        for rel in written
        if rel.endswith(FEED_SUFFIXES) and not (archive_root and rel.startswith(archive_root))
    ]
    if not hub or not feeds:
        return 0
    accepted = 0
    with httpx.Client(
        timeout=httpx.Timeout(10.0),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": cfg.fetch.user_agent},
    ) as client:
        for rel in feeds:
            url = self_url(cfg, rel)
            error = ""
            for attempt in range(attempts):
                try:
                    resp = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
                    if 200 <= resp.status_code < 300:
                        accepted += 1
                        log.info("event=websub hub=%s url=%s status=%d", hub, url, resp.status_code)
                        break
                    error = f"HTTP {resp.status_code}"
                except httpx.HTTPError as e:
                    error = f"{type(e).__name__}: {e}"
                if attempt + 1 < attempts:
                    time.sleep(pause * (2**attempt))
            else:
                problems.warn(
                    f"websub hub {hub}",
                    f"publish of {url} failed after {attempts} attempts: {error}",
                )
    return accepted
