"""The validation gate: a build whose inputs look broken keeps the live feeds.

Broken looks like this: a posts folder that is not there (a typo in ``posts.dirs``, a volume
not mounted) while fewer posts are found than the live feeds were made from (a folder that
was never there, and took nothing away, stays an error of its own and no more), no posts at
all where the live feeds were made from some, or a category that has lost more than
``build.max_shrink`` of its posts since the live feeds were written. Such
a build writes nothing, says why, and exits 1; ``feeds build --accept-shrink`` writes it
anyway (and its counts become the new baseline). A category the config no longer asks for is
not a shrink. The baseline is in the output folder's manifest (``feeds.manifest``), beside
the feeds it describes. Pure: counts in, reasons out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from feeds.manifest import Manifest

ACCEPT = "feeds build --accept-shrink writes them anyway"


@dataclass(frozen=True)
class Found:
    """What this build found: the posts folders that are missing, the published posts, and
    the posts of each category the baseline knows."""

    missing: Sequence[str]
    posts: int
    category_posts: Mapping[str, int]


def reasons(
    found: Found, before: Manifest, max_shrink: float, wanted: Callable[[str], bool]
) -> list[str]:
    """Why this build's inputs look broken (empty: they do not)."""
    lost = before.posts is not None and found.posts < before.posts
    out = [
        f"{folder}: the posts folder does not exist (posts.dirs), and the live feeds were "
        f"made from {before.posts} posts, not {found.posts}; the live feeds are kept ({ACCEPT})"
        for folder in (found.missing if lost else ())
    ]
    if not out and found.posts == 0 and before.posts:
        out.append(
            f"no posts found, where the live feeds were made from {before.posts}; "
            f"the live feeds are kept ({ACCEPT})"
        )
    if out:
        return out
    for name, was in sorted(before.category_posts.items()):
        now = found.category_posts.get(name, 0)
        if was and wanted(name) and (was - now) / was > max_shrink:
            out.append(
                f"category {name!r}: {now} posts, where the live feeds have {was} "
                f"(-{(was - now) / was:.0%}, more than build.max_shrink {max_shrink:g}); "
                f"the live feeds are kept ({ACCEPT})"
            )
    return out
