"""繁體中文 variants: converted copies of feeds, made with OpenCC (the ``opencc`` package).

OpenCC converts phrases, not characters one by one (国家 → 國家, not 國傢), and its ``s2twp``
and ``s2hk`` configurations use Taiwan's and Hong Kong's own words (软件 → 軟體 in Taiwan,
軟件 in Hong Kong). A variant feed is the same feed under ``<variant>/`` with its title,
description, and its entries' titles, summaries and content converted; URLs, attributes but
``alt`` and ``title``, ``<code>``, ``<pre>`` and a link that shows its own URL (the original
article) are left as they are, and so are categories and tags (they name pages). The variant
and the original link each other with ``hreflang``. Pure; OpenCC is loaded on first use.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from feeds.formats import VARIANTS
from feeds.models import Entry

if TYPE_CHECKING:  # planning stands above: imported for annotations only
    from feeds.config.config import Config
    from feeds.generate.generate import FeedPlan


_TOKEN = re.compile(r"(<[^>]*>)")
_KEEP = {"code", "pre", "script", "style"}  # text inside is never converted
_SHOWN_ATTR = re.compile(r'(\s(?:alt|title)=")([^"]*)(")')
_HREF = re.compile(r'\shref="([^"]*)"')
T = TypeVar("T")


@functools.cache
def converter(variant: str) -> Callable[[str], str]:
    """OpenCC's converter for ``variant`` (one of ``VARIANTS``)."""
    import opencc  # loaded only when a variant is written

    cc = opencc.OpenCC(VARIANTS[variant])
    convert: Callable[[str], str] = cc.convert
    return convert


def engine() -> str:
    """The converter's version: output made by another version may differ."""
    import opencc

    return str(getattr(opencc, "__version__", "?"))


def convert_text(text: str, variant: str) -> str:
    return converter(variant)(text) if text else text


def convert_html(fragment: str, variant: str) -> str:
    """Sanitized HTML with its text converted; markup, URLs and code kept byte for byte."""
    convert = converter(variant)
    out: list[str] = []
    inside: list[str] = []  # open elements whose text is kept
    link_url: str | None = None  # the href of the <a> being read, while it is open
    for i, part in enumerate(_TOKEN.split(fragment)):
        if i % 2 == 0:  # text
            keep = bool(inside) or (link_url is not None and html.unescape(part) == link_url)
            out.append(part if keep or not part.strip() else convert(part))
            continue
        name = part[1:].split(None, 1)[0].split(">")[0].rstrip("/").lower() if part else ""
        if name in _KEEP:
            inside.append(name)
        elif name.lstrip("/") in _KEEP and inside:
            inside.pop()
        elif name == "a":
            m = _HREF.search(part)
            link_url = html.unescape(m.group(1)) if m else None
        elif name == "/a":
            link_url = None
        if "alt=" in part or "title=" in part:
            part = _SHOWN_ATTR.sub(lambda m: m.group(1) + convert(m.group(2)) + m.group(3), part)
        out.append(part)
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def convert_entry(entry: Entry, variant: str) -> Entry:
    """The entry as the variant shows it (an entry in several feeds is converted once)."""
    return dataclasses.replace(
        entry,
        title=convert_text(entry.title, variant),
        summary=convert_text(entry.summary, variant),
        content_html=convert_html(entry.content_html, variant),
    )


def convert_entries(entries: Sequence[Entry], variant: str) -> list[Entry]:
    return [convert_entry(e, variant) for e in entries]


def wanted(cfg: Config, plan: FeedPlan) -> tuple[str, ...]:
    """The variants of a feed: ``feeds.variants`` for every feed, and its category's or
    tag's own ``variants``."""
    group = {"category": cfg.categories, "tag": cfg.tags}.get(plan.kind)
    meta = group.meta.get(plan.name) if group is not None else None
    own = meta.variants if meta is not None else ()
    return tuple(dict.fromkeys((*cfg.feeds.variants, *own)))


def expand(cfg: Config, feeds: list[tuple[FeedPlan, T]]) -> list[tuple[FeedPlan, T]]:
    """Every planned feed, each followed by its variants (the same candidates); the original
    and its variants list each other as ``alternates``."""
    out: list[tuple[FeedPlan, T]] = []
    for plan, items in feeds:
        names = wanted(cfg, plan)
        if not names:
            out.append((plan, items))
            continue
        paths = {v: {f: f"{v}/{p}" for f, p in plan.paths.items()} for v in names}
        every = ((cfg.site.language, plan.paths), *((v, paths[v]) for v in names))
        out.append((dataclasses.replace(plan, alternates=every[1:]), items))
        for v in names:
            variant = dataclasses.replace(
                plan,
                lang=v,
                title=convert_text(plan.title, v),
                description=convert_text(plan.description, v),
                paths=paths[v],
                alternates=tuple(a for a in every if a[0] != v),
            )
            out.append((variant, items))
    return out
