"""Pure feed generation: select, sort and limit entries per feed, then serialize with feedgen.

Nothing here reads the clock: a feed's ``updated``/``lastBuildDate`` is its newest entry's
time, so identical input gives byte-identical output. This is the only feedgen user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypedDict, TypeVar
from urllib.parse import quote, urlsplit

from feedgen.feed import FeedGenerator

from feeds import __version__, caching, content, feedext
from feeds.config.config import SUFFIXES, Config
from feeds.feedext import ExtraEntry, ExtraFeed
from feeds.formats import FORMATS, page_path
from feeds.generate import jsonfeed
from feeds.models import Author, Entry, Problems


class Selectable(Protocol):
    @property
    def link(self) -> str: ...
    @property
    def published(self) -> dt.datetime: ...
    @property
    def categories(self) -> tuple[str, ...]: ...
    @property
    def tags(self) -> tuple[str, ...]: ...


T = TypeVar("T", bound=Selectable)


@dataclass(frozen=True)
class FeedPlan:
    """One feed to write (in each configured format): what it is and where it goes."""

    kind: str  # "category", "tag" or "all"
    name: str  # the category or tag as written in posts; "" for the feed of everything
    slug: str
    title: str
    description: str
    page_url: str  # the HTML page this feed mirrors (RSS <link>, Atom rel=alternate)
    paths: dict[str, str]  # format → path relative to the output folder
    lang: str = ""  # a variant's language (feeds.variants); "": the site's, the original
    # the same feed in other languages: (language, its paths), linked with hreflang
    alternates: tuple[tuple[str, dict[str, str]], ...] = ()

    @property
    def label(self) -> str:
        base = "all" if self.kind == "all" else f"{self.kind} {self.name!r}"
        return f"{base} [{self.lang}]" if self.lang else base


def newest_first(items: Iterable[T]) -> list[T]:
    """Newest first; ties broken by link so the order never depends on file order."""
    return sorted(items, key=lambda e: (-e.published.timestamp(), e.link))


def plan(
    cfg: Config, items: Sequence[T], problems: Problems, everything: Sequence[T] | None = None
) -> list[tuple[FeedPlan, list[T]]]:
    """Every feed the items call for, each with all its items, newest first.

    The caller takes the first ``max_items`` that it can render. The feed of everything
    holds ``everything`` when given (aggregated entries de-duplicated), else ``items``.

    Every category found in the items gets a feed unless ``categories.only`` restricts them;
    tags get feeds when ``feeds.tag_feeds`` is on. Two feeds that would be written to the same
    file are both refused (an error each), never one overwriting the other.
    """
    fc = cfg.feeds
    by_category: dict[str, list[T]] = {}
    by_tag: dict[str, list[T]] = {}
    for item in items:
        for c in item.categories:
            by_category.setdefault(c, []).append(item)
        if fc.tag_feeds:
            for t in item.tags:
                by_tag.setdefault(t, []).append(item)
    return plan_groups(
        cfg, by_category, by_tag, list(items if everything is None else everything), problems
    )


def plan_groups(
    cfg: Config,
    by_category: dict[str, list[T]],
    by_tag: dict[str, list[T]],
    every: list[T],
    problems: Problems,
) -> list[tuple[FeedPlan, list[T]]]:
    """``plan`` for items already grouped by category and tag (each group may hold only its
    newest items: only the first ``max_items`` are used)."""
    fc = cfg.feeds
    plans: list[tuple[FeedPlan, list[T]]] = []
    if fc.all_feed and every:
        plans.append((_plan_all(cfg), newest_first(every)))
    for kind, key, groups, group_cfg in (
        ("category", "categories", by_category, cfg.categories),
        ("tag", "tags", by_tag, cfg.tags),
    ):
        names = sorted(groups)
        if group_cfg.only:
            wanted = set(group_cfg.only)
            for name in group_cfg.only:
                if name not in groups and (kind == "category" or fc.tag_feeds):
                    problems.warn(
                        str(cfg.path), f"{kind} {name!r} is listed in {key}.only but no post has it"
                    )
            names = [n for n in names if n in wanted]
        for name in names:
            plans.append((_plan_group(cfg, kind, name), newest_first(groups[name])))
    return _refuse_collisions(plans, problems)


def _plan_all(cfg: Config) -> FeedPlan:
    site = cfg.site
    return FeedPlan(
        kind="all",
        name="",
        slug="",
        title=site.title,
        description=site.description,
        page_url=site.url + "/",
        paths={f: cfg.feeds.all_path + SUFFIXES[f] for f in cfg.feeds.formats},
    )


def _plan_group(cfg: Config, kind: str, name: str) -> FeedPlan:
    fc = cfg.feeds
    if kind == "category":
        meta = cfg.categories.meta.get(name)
        slug, path_t, page_t = cfg.category_slug(name), fc.category_path, fc.category_page
    else:
        meta = cfg.tags.meta.get(name)
        slug, path_t, page_t = cfg.tag_slug(name), fc.tag_path, fc.tag_page
    shown = meta.title if meta and meta.title else name
    page = page_t.format(slug=quote(slug, safe=""))
    return FeedPlan(
        kind=kind,
        name=name,
        slug=slug,
        title=fc.title_template.format(name=shown, site=cfg.site.title),
        description=meta.description if meta and meta.description else f"{cfg.site.title}：{shown}",
        page_url=cfg.site.url + page if page.startswith("/") else page,
        paths={f: path_t.format(slug=slug) + SUFFIXES[f] for f in fc.formats},
    )


def _refuse_collisions(
    plans: list[tuple[FeedPlan, list[T]]], problems: Problems
) -> list[tuple[FeedPlan, list[T]]]:
    owners: dict[str, list[FeedPlan]] = {}
    for p, _ in plans:
        for path in p.paths.values():
            owners.setdefault(path.casefold(), []).append(p)
    bad: set[int] = set()
    for path, who in owners.items():
        if len(who) > 1:
            names = " and ".join(p.label for p in who)
            problems.error(
                path,
                f"{names} would both be written to this file; neither is "
                f"written (give one a slug under categories.meta or tags.meta)",
            )
            bad.update(id(p) for p in who)
    return [(p, e) for p, e in plans if id(p) not in bad]


# --------------------------------------------------------------------------- feedgen


def self_url(cfg: Config, path: str) -> str:
    return cfg.output_url + quote(path, safe="/")


def feed_page_url(cfg: Config, feed: FeedPlan) -> str | None:
    """The public URL of the feed's web page (``pages.py``; written with the discovery
    files), or None when it has none."""
    path = page_path(feed)
    return self_url(cfg, path) if path is not None and cfg.feeds.discovery else None


class Fragments:
    """Entries serialized once per format and shared by the feeds of one build that hold
    them: the feed of everything keeps each entry's bytes, a later feed that holds the same
    entry (its category's) takes them instead of serializing it again. An entry's bytes do
    not depend on the feed around it, so a document made of shared ones is byte for byte the
    one serialized whole."""

    def __init__(self) -> None:
        self._units: dict[tuple[str, int], tuple[Entry, bytes]] = {}

    def units(
        self, key: str, entries: Sequence[Entry], make: Make, *, keep: bool
    ) -> list[bytes] | None:
        """Each entry's bytes in document ``key`` (a format, or "page"): kept ones taken
        (``keep``: the feed of everything, which keeps what it makes instead), the rest made
        ``BATCH`` at a time. None when ``make`` cannot make a batch."""
        units: list[bytes | None] = [None if keep else self._take(key, e) for e in entries]
        missing = [i for i, u in enumerate(units) if u is None]
        for start in range(0, len(missing), BATCH):
            batch = missing[start : start + BATCH]
            made = make([entries[i] for i in batch])
            if made is None:
                return None
            for i, unit in zip(batch, made, strict=True):
                units[i] = unit
                if keep:
                    self._units[(key, id(entries[i]))] = (entries[i], unit)
        return [u for u in units if u is not None]

    def _take(self, key: str, e: Entry) -> bytes | None:
        kept = self._units.pop((key, id(e)), None)
        return kept[1] if kept is not None and kept[0] is e else None


class Links(TypedDict, total=False):
    """A document's links to its neighbours (``render``'s keywords of the same names)."""

    prev_archive: str | None
    next_archive: str | None
    current: str | None


BATCH = 256  # entries serialized per feedgen document: bounds the lxml tree of a big feed


def render(
    cfg: Config,
    feed: FeedPlan,
    entries: Sequence[Entry],
    fmt: str,
    *,
    path: str | None = None,
    prev_archive: str | None = None,
    next_archive: str | None = None,
    current: str | None = None,
    fragments: Fragments | None = None,
) -> bytes:
    """Serialize one feed in ``fmt`` ("rss", "atom" or "json"). ``entries`` are newest first.

    ``path`` is where the document goes (default: the feed's own path); ``prev_archive`` and
    ``next_archive`` link to the archives before and after it (RFC 5005); ``current`` marks an
    archive document and links to the head feed it belongs to. ``fragments`` shares entries'
    bytes with the other feeds of the build (the feed of everything keeps them, the others
    take them).
    """
    if not entries:
        raise ValueError(f"{feed.label}: a feed needs at least one entry")
    links = (prev_archive, next_archive, current)
    if fmt == "json":
        head, tail = jsonfeed.head_and_tail(
            cfg,
            title=feed.title,
            home=feed.page_url,
            feed_url=self_url(cfg, feed.paths["json"]),
            description=feed.description,
            language=feed.lang or cfg.site.language,
        )
        make: Make = jsonfeed.units
    else:
        head, tail, make = _xml_parts(cfg, feed, entries, fmt, path, links)
    shared = fragments if fragments is not None else Fragments()
    units = shared.units(fmt, entries, make, keep=fragments is not None and feed.kind == "all")
    if units is None:  # feedgen wrote a batch otherwise than expected: the whole at once
        return _xml_parts(cfg, feed, entries, fmt, path, links, whole=True)[0]
    # one copy of a big feed: the document joined once, from its parts
    return b"".join((head, *_separated(units, b"," if fmt == "json" else b""), tail))


def _separated(units: list[bytes], sep: bytes) -> Iterator[bytes]:
    for i, u in enumerate(units):
        if i and sep:
            yield sep
        yield u


Make = Callable[[Sequence[Entry]], list[bytes] | None]
XmlLinks = tuple[str | None, str | None, str | None]


def _xml_parts(
    cfg: Config,
    feed: FeedPlan,
    entries: Sequence[Entry],
    fmt: str,
    path: str | None,
    links: XmlLinks,
    *,
    whole: bool = False,
) -> tuple[bytes, bytes, Make]:
    """The document around the entries (head and tail) and how to serialize entries: each
    batch a feedgen document of the same head, cut after each entry's closing tag (text and
    attributes are escaped, so a tag is never inside one); None if it cannot be cut so.
    ``whole``: the whole document serialized at once instead (as the head; no tail)."""
    with_media = any(content.picture(e) for e in entries)  # the media namespace only where used
    fg = _head(cfg, feed, entries, fmt, path, links, with_media)
    for e in entries if whole else ():
        feedext.add_entry(fg, e, fmt, content.picture(e))
    doc = _serialize(fg, fmt)
    style = stylesheet_href(cfg) if cfg.feeds.stylesheet else None
    if whole:
        return (_with_stylesheet(doc, style) if style else doc), b"", lambda _: None
    cut = doc.rindex(b"\n  </channel>" if fmt == "rss" else b"\n</feed>") + 1
    head, tail = doc[:cut], doc[cut:]
    opening, closing = (
        (b"    <item>", b"</item>\n") if fmt == "rss" else (b"  <entry>", b"</entry>\n")
    )

    def make(batch: Sequence[Entry]) -> list[bytes] | None:
        fg = _head(cfg, feed, entries, fmt, path, links, with_media)
        for e in batch:
            feedext.add_entry(fg, e, fmt, content.picture(e))
        got = _serialize(fg, fmt)
        if not (got.startswith(head) and got.endswith(tail)):
            return None
        *out, rest = got[len(head) : len(got) - len(tail)].split(closing)
        if rest or len(out) != len(batch) or not all(u.startswith(opening) for u in out):
            return None
        return [u + closing for u in out]

    return (_with_stylesheet(head, style) if style else head), tail, make


def _serialize(fg: FeedGenerator, fmt: str) -> bytes:
    return bytes(fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True))


def _head(
    cfg: Config,
    feed: FeedPlan,
    entries: Sequence[Entry],
    fmt: str,
    path: str | None,
    links: XmlLinks,
    with_media: bool,
) -> FeedGenerator:
    """A feedgen document with everything of the feed but its entries."""
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)  # RSS <author> needs an e-mail; dc:creator not
    fg.register_extension("extra", ExtraFeed, ExtraEntry, atom=True, rss=True)
    _links(cfg, feed, fmt, fg, *links)
    this = self_url(cfg, path or feed.paths[fmt])
    fg.id(this)
    fg.title(feed.title)
    fg.subtitle(feed.description)
    fg.language(feed.lang or cfg.site.language)
    fg.generator("feeds", __version__)
    # feedgen uses the last link added as the RSS <link>: the page, not the feed itself.
    fg.link(href=this, rel="self", type=FORMATS[fmt].media_type)
    fg.link(href=feed.page_url, rel="alternate", type="text/html")
    fg.author(feedext.person(cfg.site.author or Author(name=cfg.site.title)))
    fg.updated(max(e.updated for e in entries))
    if with_media:
        fg.load_extension("media", atom=True, rss=True)
    return fg


def _links(
    cfg: Config,
    feed: FeedPlan,
    fmt: str,
    fg: FeedGenerator,
    prev_archive: str | None,
    next_archive: str | None,
    current: str | None,
) -> None:
    """The feed-level links and hints beyond feedgen's own: hub, RFC 5005 links, how often
    a head feed is rebuilt, its web page and its variants."""
    extra: ExtraFeed = fg.extra
    if cfg.feeds.websub_hub:
        extra.links.append(("hub", cfg.feeds.websub_hub))
    if prev_archive:
        extra.links.append(("prev-archive", prev_archive))
    if next_archive:
        extra.links.append(("next-archive", next_archive))
    if current:
        extra.links.append(("current", current))
        extra.archive = True
    else:  # a head feed says how often it is rebuilt (a closed archive never changes)
        hints = caching.hints(cfg.schedule.build, cfg.schedule.build_seconds, cfg.site.tz)
        extra.update = (hints.update_period, hints.update_frequency)
        fg.ttl(hints.ttl)
    # The site's page stays the alternate (readers open it as "the website"); the feed's
    # own page is related (RFC 4287 allows one alternate per type).
    extra.page = feed_page_url(cfg, feed)
    for lang, paths in feed.alternates:  # the feed in other languages (feeds.variants)
        if fmt in paths:
            extra.alternates.append((FORMATS[fmt].media_type, lang, self_url(cfg, paths[fmt])))


def _with_stylesheet(data: bytes, href: str) -> bytes:
    """A browser opening the feed shows it through feed.xsl instead of raw XML."""
    end = data.find(b"\n")
    end = len(data) if end < 0 else end
    pi = f'<?xml-stylesheet type="text/xsl" href="{href}"?>'.encode()
    view = memoryview(data)  # one copy of a large feed, not three
    return b"".join((view[:end], b"\n", pi, b"\n", view[end + 1 :]))


STYLESHEET = "feed.xsl"


def stylesheet_href(cfg: Config) -> str:
    """The stylesheet's URL path (same origin as the feeds, as browsers require for XSLT)."""
    return urlsplit(cfg.output_url).path + STYLESHEET
