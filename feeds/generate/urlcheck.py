"""``feeds check``'s look at the URLs the feeds will carry: every self link, feed page and
OPML entry is made from ``output.url``, so an ``output.url`` that is not where the files are
served breaks every subscription made from them. Pure: warnings from the config alone.

Two warnings: ``output.url`` on another host than ``site.url`` (a starter config whose
``site.url`` was edited but not its ``output.url``; a host that shares ``site.url``'s parent
domain, such as ``feeds.example.com`` beside ``www.example.com``, is taken as deliberate), and,
with ``posts.jekyll_config``, an ``output.dir`` inside the Jekyll site that Jekyll publishes at
another URL than ``output.url``, or does not publish at all.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from feeds.config.config import Config
from feeds.models import Problems


def check_urls(cfg: Config, problems: Problems) -> None:
    where = str(cfg.path)
    feeds_host = urlsplit(cfg.output_url).hostname or ""
    site_host = urlsplit(cfg.site.url).hostname or ""
    if not _related(feeds_host, site_host):
        problems.warn(
            where,
            f"output.url {cfg.output_url} is on {feeds_host}, but site.url {cfg.site.url} is "
            f"on {site_host}: every feed's self link will point at {feeds_host}; set output.url "
            f"to where the feeds are served, or leave it out (it is then {cfg.site.url}/feeds/)",
        )
    served = jekyll_url(cfg)
    if served is None:
        return
    url, folder = served
    if not url:
        problems.warn(
            where,
            f"output.dir {folder} is inside the Jekyll site in a folder Jekyll does not "
            f"publish (its name starts with _ or .): nothing is served at {cfg.output_url}",
        )
    elif url != cfg.output_url:
        problems.warn(
            where,
            f"output.url is {cfg.output_url}, but Jekyll publishes output.dir {folder} at "
            f"{url}: the feeds' self links would not be where the files are served; set "
            f"output.url to {url} (or leave it out if that is <site.url>/feeds/)",
        )


def jekyll_url(cfg: Config) -> tuple[str, Path] | None:
    """(the URL at which Jekyll publishes ``output.dir``, ``output.dir``) when it is inside
    the Jekyll site of ``posts.jekyll_config``; "" for a folder Jekyll skips; None when
    there is no such site or the folder is outside it."""
    site = cfg.posts.jekyll
    if site is None:
        return None
    folder = cfg.output_dir.resolve()
    try:
        rel = folder.relative_to(site.source.resolve())
    except ValueError:
        return None
    if any(part.startswith(("_", ".")) for part in rel.parts):
        return "", cfg.output_dir
    path = "/".join(rel.parts)
    return site.site_url + "/" + (path + "/" if path else ""), cfg.output_dir


def _related(a: str, b: str) -> bool:
    """Whether two hosts are one site's: equal, one under the other, or siblings under
    the same parent domain (``feeds.example.com`` and ``www.example.com``)."""
    a, b = a.casefold().rstrip("."), b.casefold().rstrip(".")
    if a == b or a.endswith("." + b) or b.endswith("." + a):
        return True
    pa, pb = a.partition(".")[2], b.partition(".")[2]
    return "." in pa and pa == pb
