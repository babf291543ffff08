"""The output formats, one row each: the file suffix, the media type, the label people see,
the renderer, and whether RFC 5005 archives are written in it. Everything that needs a fact
about a format (generate, discover, archive, websub, the pipeline) reads it here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from feeds import generate
from feeds.config import Config
from feeds.generate import FeedPlan
from feeds.models import Entry

Renderer = Callable[..., bytes]  # (cfg, plan, entries, *, path, prev_archive, current)


@dataclass(frozen=True)
class Format:
    name: str  # as written in feeds.formats
    suffix: str
    media_type: str
    label: str
    render: Renderer
    archivable: bool  # RFC 5005 archives (JSON Feed has no archive convention)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "rss",
            ".rss.xml",
            generate.RSS_TYPE,
            "RSS",
            partial(generate.render, fmt="rss"),
            archivable=True,
        ),
        Format(
            "atom",
            ".atom.xml",
            generate.ATOM_TYPE,
            "Atom",
            partial(generate.render, fmt="atom"),
            archivable=True,
        ),
        Format(
            "json",
            ".json",
            "application/feed+json",
            "JSON Feed",
            partial(generate.render, fmt="json"),
            archivable=False,
        ),
    )
}
FEED_SUFFIXES = tuple(f.suffix for f in FORMATS.values())


def render(
    cfg: Config, plan: FeedPlan, entries: Sequence[Entry], fmt: str, **links: str | None
) -> bytes:
    """One feed document in ``fmt`` (``links``: path, prev_archive, current)."""
    return FORMATS[fmt].render(cfg, plan, entries, **links)


def archivable(plan: FeedPlan) -> list[str]:
    """The plan's formats that get archives, in the plan's order."""
    return [f for f in plan.paths if FORMATS[f].archivable]
