"""The output formats, one row each: the file suffix, the media type, the label people see,
and whether RFC 5005 archives are written in it; and where a feed's web page goes. Everything
that needs a fact about a format (generate, discover, archive, websub, pages, the pipeline)
reads it here; ``generate.render`` writes a document in any of them. Imports nothing of
feeds, so that all of those can stand on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"


@dataclass(frozen=True)
class Format:
    name: str  # as written in feeds.formats
    suffix: str
    media_type: str
    label: str
    archivable: bool  # RFC 5005 archives (JSON Feed has no archive convention)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("rss", ".rss.xml", RSS_TYPE, "RSS", archivable=True),
        Format("atom", ".atom.xml", ATOM_TYPE, "Atom", archivable=True),
        Format("json", ".json", "application/feed+json", "JSON Feed", archivable=False),
    )
}
FEED_SUFFIXES = tuple(f.suffix for f in FORMATS.values())


class _Planned(Protocol):
    """A feed plan, as far as the formats care: its paths by format."""

    @property
    def paths(self) -> Mapping[str, str]: ...


PAGE_SUFFIX = ".html"
RESERVED_PAGES = ("index.html",)  # the index of every feed: no feed's page may take its name


def page_path(plan: _Planned) -> str | None:
    """Where a feed's web page goes: beside its feed files (``caijing.html`` beside
    ``caijing.rss.xml``); None when that name is the index's."""
    first = next(iter(plan.paths.values()))
    base = next(first[: -len(f.suffix)] for f in FORMATS.values() if first.endswith(f.suffix))
    path = base + PAGE_SUFFIX
    return None if path.casefold() in RESERVED_PAGES else path


def archivable(plan: _Planned) -> list[str]:
    """The plan's formats that get archives, in the plan's order."""
    return [f for f in plan.paths if FORMATS[f].archivable]


# 繁體中文 variants (feeds/generate/variants.py): a BCP 47 tag, as written in the config and in
# xml:lang → its OpenCC configuration, and how pages name it
VARIANTS: dict[str, str] = {"zh-Hant-TW": "s2twp", "zh-Hant-HK": "s2hk"}
LABELS: dict[str, str] = {"zh-Hant-TW": "繁體（台灣）", "zh-Hant-HK": "繁體（香港）"}
