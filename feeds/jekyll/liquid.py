"""Liquid in post bodies, rendered as Jekyll renders it before Markdown. Pure but for
reading the site's ``_includes`` files.

python-liquid does the language; this module adds Jekyll's tags (``include`` with
``include.param``, ``highlight``, ``post_url``, ``link``) and its common filters, and bounds
the work a hostile post can cause. Whatever cannot be rendered (an unknown tag, a syntax
error, a missing include, a limit reached) becomes a warning naming the post's file and
line, and its template code is taken out of the body: a feed never carries literal
``{% … %}`` or ``{{ … }}``. Undefined variables render empty, as in Jekyll.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_MAX_INCLUDE_FILES = 1000  # files hashed for the cache key
_URL_TAG = re.compile(r"\{%-?\s*(post_url|link)\s+(\S+?)\s*-?%\}")


def render_liquid(
    body: str,
    *,
    page: Mapping[str, Any],
    site: Mapping[str, Any],
    includes: Path | None,
    posts: Mapping[str, str],
    first_line: int = 1,
) -> tuple[str, list[tuple[int, str]]]:
    """``body`` with its Liquid rendered, and the warnings as (line in the post file,
    message). ``first_line`` is the file line ``body`` starts on (after the front matter);
    ``posts`` maps a post file's stem (``2022-06-09-slug``) to the URL path that
    ``{% post_url %}`` and ``{% link %}`` print. The engine (``feeds.jekyll.liquid_engine``) is
    imported only for a body with Liquid in it."""
    if "{%" not in body and "{{" not in body:
        return body, []
    from feeds.jekyll import liquid_engine

    return liquid_engine.render(
        body, page=page, site=site, includes=includes, posts=posts, first_line=first_line
    )


def referenced_posts(body: str) -> frozenset[str]:
    """The post stems ``body`` names in ``{% post_url %}`` / ``{% link _posts/… %}``: its
    rendering depends on their URLs (for a cache key), not on the other posts."""
    return frozenset(
        m.group(2).rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if m.group(1) == "link"
        else m.group(2).rsplit("/", 1)[-1]
        for m in _URL_TAG.finditer(body)
    )


def includes_fingerprint(includes: Path | None) -> str:
    """A digest of the ``_includes`` folder (file names and bytes), for a cache key: a post
    rendered with an include is stale when the include changes."""
    digest = hashlib.sha256()
    if includes is not None and includes.is_dir():
        files = sorted(p for p in includes.rglob("*") if p.is_file())
        for path in files[:_MAX_INCLUDE_FILES]:
            digest.update(str(path.relative_to(includes)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
