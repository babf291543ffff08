"""The ``sources`` section of the config: each external feed (``SourceConfig``) with its
routes, read and checked (duplicate ids, url or path, somewhere for its entries to go).
``feeds.config.config`` reads the rest and re-exports these types."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from feeds import yamlutil
from feeds.config.keys import check_section, read_section
from feeds.config.read import Reader, http_url, kind, source_id


@dataclass(frozen=True)
class Route:
    """Send a source's entry to ``to`` when every condition given matches."""

    to: str
    category: str | None = None  # one of the entry's own categories/tags, exactly
    title: str | None = None  # a keyword in the entry's title (case-insensitive)


@dataclass(frozen=True)
class SourceConfig:
    id: str
    url: str  # http(s) URL, or file:// URL for a local file
    categories: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()
    timezone: str | None = None  # for naive dates; None: the site's
    title: str | None = None  # overrides the feed's own title
    enabled: bool = True
    interval: int = 1800  # seconds between fetches
    allow_networks: tuple[str, ...] = ()  # CIDRs allowed besides public addresses
    encoding: str | None = None  # the body's encoding, whatever it claims (a codec name)
    line: int | None = None  # where it is in the config, for messages


def read_sources(r: Reader, base: Path) -> tuple[SourceConfig, ...]:
    raw = r.raw(("sources",))
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise r.error(("sources",), f"must be a list of sources, not {kind(raw)}")
    out: list[SourceConfig] = []
    seen: dict[str, int | None] = {}
    for i in range(len(raw)):
        out.append(_source(r, ("sources", i), base, seen))
    return tuple(out)


def _source(r: Reader, p: yamlutil.Path, base: Path, seen: dict[str, int | None]) -> SourceConfig:
    check_section(r, "sources[]", p)
    sid = source_id(r, (*p, "id"), None)
    if sid in seen:
        raise r.error((*p, "id"), f"duplicate source id {sid!r} (first at line {seen[sid]})")
    seen[sid] = r.doc.line(p)
    if r.has((*p, "url")) == r.has((*p, "path")):
        raise r.error(p, "give exactly one of url (http/https) or path (a local file)")
    if r.has((*p, "url")):
        url = http_url(r, (*p, "url"), None)
    else:
        url = (base / r.string((*p, "path"))).resolve().as_uri()
    values = read_section(r, "sources[]", p)
    routes = _routes(r, (*p, "routes"))
    if not values["categories"] and not routes:
        raise r.error(p, f"source {sid!r} needs categories or routes: where should its entries go?")
    return SourceConfig(id=sid, url=url, routes=routes, line=r.doc.line(p), **values)


def _routes(r: Reader, path: yamlutil.Path) -> tuple[Route, ...]:
    raw = r.raw(path)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise r.error(path, f"must be a list of routes, not {kind(raw)}")
    out = []
    for i in range(len(raw)):
        p = (*path, i)
        route = Route(**read_section(r, "sources[].routes[]", p))
        if route.category is None and route.title is None:
            raise r.error(
                p,
                "a route needs a condition: category (the entry's own category "
                "or tag) or title (a keyword)",
            )
        out.append(route)
    return tuple(out)
