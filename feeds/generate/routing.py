"""Stored entries for a build: routed into categories and de-duplicated (``stored_entries``,
reading only each entry's index row), then loaded for the refs that land in a feed
(``Loader``). The same article from two sources is one entry per category.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from feeds import content, timeutil
from feeds.config.config import Config
from feeds.models import Enclosure, Entry, RemoteRef
from feeds.normalize import normalize
from feeds.store.store import Store

log = logging.getLogger(__name__)

_TRACKING = re.compile(r"^(utm_\w+|spm|from|fbclid|gclid)$", re.I)
_NOT_WORD = re.compile(r"[\W_]+")
_DAY = dt.timedelta(days=1)


def canonical_link(url: str) -> str:
    """The same article's URL written differently compares equal (scheme, case of the host,
    default port, fragment, tracking parameters, trailing slash)."""
    p = urlsplit(url)
    host = (p.hostname or "").lower()
    if p.port and p.port not in (80, 443):
        host += f":{p.port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(p.query, keep_blank_values=True) if not _TRACKING.match(k)]
    )
    return urlunsplit(("", host, p.path.rstrip("/") or "/", query, ""))


def title_key(title: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", title).casefold())


def stored_entries(
    cfg: Config, store: Store
) -> tuple[list[RemoteRef], list[RemoteRef], dict[str, int]]:
    """Stored entries of the configured, enabled sources, routed into categories and
    de-duplicated: (entries with their categories, entries for the feed of everything, how
    many placements of each source were merged into another source's copy).
    Only what routing and de-duplication need is read; ``Loader`` reads the entries that
    land in a feed.

    The same article from two sources (same canonical link, or the same title within a day)
    appears once per category, and once in the feed of everything, from the source listed
    first in the config.
    """
    tz = cfg.site.tz
    seen = _Seen()
    routed: list[RemoteRef] = []
    everything: list[RemoteRef] = []
    for s in [s for s in cfg.sources if s.enabled]:
        for row in store.entries.index(s.id):
            entry_id, link, title, tags = row.entry_id, row.link, row.title, row.tags
            when = timeutil.to_zone(row.published, tz)
            canon, tkey = canonical_link(link), title_key(title)
            cats = tuple(
                c
                for c in normalize.route(tags, title, s)
                if seen.first_in("category:" + c, canon, tkey, when, s.id)
            )
            ref = RemoteRef(
                source_id=s.id,
                entry_id=entry_id,
                link=link,
                title=title,
                published=when,
                tags=tags,
                categories=cats,
            )
            if cats:
                routed.append(ref)
            if seen.first_in("all", canon, tkey, when, s.id):
                everything.append(ref)
    for source_id, count in sorted(seen.merged.items()):
        log.info("dedupe source=%s merged=%d (in a feed from another source)", source_id, count)
    return routed, everything, dict(seen.merged)


class _Seen:
    """Per group (a category, or "all"): canonical link → the source that has it; title
    key → (time, source); and how many placements each source lost to another's copy."""

    def __init__(self) -> None:
        self.links: dict[str, dict[str, str]] = defaultdict(dict)
        self.titles: dict[str, dict[str, list[tuple[dt.datetime, str]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.merged: Counter[str] = Counter()

    def first_in(self, group: str, link: str, tkey: str, when: dt.datetime, source: str) -> bool:
        """False when another source already has this article in ``group`` (within one
        source, two items are two entries even with the same title: a daily 快讯)."""
        holder = self.links[group].get(link)
        if (holder is not None and holder != source) or (
            tkey and any(abs(when - t) <= _DAY and s != source for t, s in self.titles[group][tkey])
        ):
            self.merged[source] += 1
            return False
        self.links[group].setdefault(link, source)
        if tkey:
            self.titles[group][tkey].append((when, source))
        return True


class Loader:
    """Stored entries for the refs that land in a feed, in the site timezone, with their
    routed categories; each read once per build."""

    def __init__(self, cfg: Config, store: Store) -> None:
        self.tz = cfg.site.tz
        self.proxy = cfg.image_proxy
        self.store = store
        self.done: dict[tuple[str, str], Entry | None] = {}

    def prefetch(self, refs: Iterable[RemoteRef]) -> None:
        wanted = {(r.source_id, r.entry_id): r for r in refs}
        found = self.store.load_entries(k for k in wanted if k not in self.done)
        for key, ref in wanted.items():
            if key not in self.done:
                self.done[key] = self._ready(found.get(key), ref)

    def entry(self, ref: RemoteRef) -> Entry | None:
        key = (ref.source_id, ref.entry_id)
        if key not in self.done:
            self.prefetch([ref])
        return self.done[key]

    def _ready(self, e: Entry | None, ref: RemoteRef) -> Entry | None:
        if e is None:
            return None
        e = dataclasses.replace(
            e,
            published=timeutil.to_zone(e.published, self.tz),
            updated=timeutil.to_zone(e.updated, self.tz),
            categories=ref.categories,
        )
        return e if self.proxy is None else through_proxy(e, self.proxy)


def through_proxy(e: Entry, template: str) -> Entry:
    """Another site's entry with its images loaded through the image proxy (``output.image_proxy``):
    applied when the feed is built, so a change of proxy applies to entries already stored."""
    pic = e.image
    if pic is None and (first := content.first_image(e.content_html)) is not None:
        pic = Enclosure(first, 0, content.media_type(first))  # before its URL is rewritten
    return dataclasses.replace(
        e,
        content_html=content.proxy_images(e.content_html, template),
        image=dataclasses.replace(pic, url=content.proxied(pic.url, template)) if pic else None,
    )
