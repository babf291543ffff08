"""A post's picture and enclosures, from its front matter. Pure: the sizes of local files are
looked up by the caller (``poststage``, through ``collect.posts.media_size``).

``image`` is what jekyll-feed and jekyll-seo-tag read: a URL or a site path, or a mapping with
``path`` (or ``url``); without one, the first image of the post's content is its picture.
``enclosure`` is one file or a list (a URL or site path, or a mapping with ``url``/``path``,
``type`` and ``length``), for audio, video or documents. Paths are made absolute as Jekyll's
``absolute_url`` does (``site.url`` + ``baseurl`` + the path); a file under the site gets its
``length`` from the file and its ``type`` from its name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from feeds import content
from feeds.models import Enclosure, Entry, Problems, RawPost

_PATH_SAFE = "/:@!$&'()*+,;=-._~%?#"
SizeOf = Callable[[str], int | None]  # a site path ("images/a.jpg") → the file's size


def _url(value: Any, site_url: str) -> str | None:
    """A front-matter URL or site path, absolute; None for anything else."""
    if isinstance(value, dict):
        value = value.get("path") or value.get("url")
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    scheme = urlsplit(text).scheme.lower()
    if scheme in ("http", "https"):
        return text
    if scheme or text.startswith("//"):
        return None
    return site_url + "/" + quote(text.lstrip("/"), safe=_PATH_SAFE)


def image(raw: RawPost, site_url: str, html: str, problems: Problems) -> Enclosure | None:
    """The post's picture: front matter ``image``, else the first image of ``html``."""
    value = raw.meta.get("image")
    if value is not None:
        url = _url(value, site_url)
        if url is not None:
            return Enclosure(url, 0, content.media_type(url))
        problems.warn(
            str(raw.path),
            "image: must be an http(s) URL or a path on the site; ignored",
            raw.line("image"),
        )
    found = content.first_image(html)
    return Enclosure(found, 0, content.media_type(found)) if found else None


def enclosures(raw: RawPost, site_url: str, problems: Problems) -> tuple[Enclosure, ...]:
    """The files front matter ``enclosure`` names, in order."""
    value = raw.meta.get("enclosure")
    if value is None:
        return ()
    out: list[Enclosure] = []
    for item in value if isinstance(value, list) else [value]:
        url = _url(item, site_url)
        if url is None:
            problems.warn(
                str(raw.path),
                "enclosure: each must be an http(s) URL or a path on the site (or a mapping "
                "with url or path); one ignored",
                raw.line("enclosure"),
            )
            continue
        given = item if isinstance(item, dict) else {}
        kind = given.get("type")
        length = given.get("length")
        out.append(
            Enclosure(
                url,
                length if isinstance(length, int) and length >= 0 else 0,
                kind if isinstance(kind, str) and "/" in kind else content.media_type(url),
            )
        )
    return tuple(out)


def site_path(url: str, site_url: str) -> str | None:
    """The path under the site's folder of a URL on the site (``images/a.jpg``), or None."""
    if not url.startswith(site_url + "/"):
        return None
    path = unquote(urlsplit(url[len(site_url) :]).path).lstrip("/")
    return path or None


def with_sizes(entry: Entry, site_url: str, size_of: SizeOf) -> Entry:
    """The entry with the real length of its picture and enclosures that are files under the
    site (a length the front matter gives is kept)."""

    def sized(enc: Enclosure) -> Enclosure:
        path = site_path(enc.url, site_url) if enc.length == 0 else None
        size = size_of(path) if path is not None else None
        return dataclasses.replace(enc, length=size) if size else enc

    pic = sized(entry.image) if entry.image is not None else None
    found = tuple(sized(e) for e in entry.enclosures)
    if pic == entry.image and found == entry.enclosures:
        return entry
    return dataclasses.replace(entry, image=pic, enclosures=found)
