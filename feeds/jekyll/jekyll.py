"""A Jekyll site's own settings, so the feeds say what its pages say.

``load_site`` reads ``_config.yml`` and ``_data/authors.yml`` (the only I/O here, through
``yamlutil``) into a ``JekyllSite``: url, baseurl, timezone, the posts' permalink, the
excerpt separator, front-matter defaults (``defaults_for`` matches scopes as Jekyll 4.3's
FrontmatterDefaults does) and where the posts and includes are. ``starter_config`` is the
feeds config that ``feeds init --jekyll`` writes. The post rules are in ``post.py``.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feeds import timeutil, yamlutil
from feeds.errors import ConfigError, DateError

# Jekyll's Configuration::STYLE_TO_PERMALINK (4.3); any other value is a template.
PERMALINK_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
# Jekyll placeholders that normalize.permalink_path does not fill in (yet).
UNSUPPORTED_PLACEHOLDERS = frozenset({"w_year", "w_day", "slugified_categories", "path"})
_DEPRECATED_TYPES = {"page": "pages", "post": "posts", "draft": "drafts"}  # old spellings


@dataclass(frozen=True)
class DefaultSet:
    """One entry of ``defaults:``: the scope (path prefix or glob, type) and its values."""

    path: str  # as written; "" is every file
    type: str | None  # "posts", "pages", "drafts", a collection, or None for any
    values: Mapping[str, Any]


@dataclass(frozen=True)
class JekyllSite:
    """What feeds takes from a Jekyll site's ``_config.yml`` and ``_data``."""

    folder: Path  # the folder of _config.yml
    source: Path  # Jekyll's ``source`` (the folder itself unless moved)
    url: str  # no trailing slash; "" when unset
    baseurl: str  # "" or "/blog" (leading slash, no trailing one)
    timezone: str | None  # None: Jekyll would use the machine's zone
    permalink: str  # a template, the named styles resolved
    excerpt_separator: str  # "" turns excerpts off
    defaults: tuple[DefaultSet, ...]
    authors: Mapping[str, Any]  # _data/authors.yml as written: key → mapping or name
    collections_dir: str  # "" unless the posts live under another folder
    includes: str = "_includes"  # includes_dir, relative to source
    title: str | None = None
    description: str | None = None
    lang: str | None = None
    author: Any = None  # site.author (a name or a mapping)
    feed_excerpt_only: Any = None  # site.feed.excerpt_only as written

    @property
    def site_url(self) -> str:
        """``url`` + ``baseurl``: where the pages live (Jekyll's ``absolute_url`` of "")."""
        return self.url + self.baseurl

    @property
    def posts_dir(self) -> Path:
        """Where Jekyll reads posts: ``source/[collections_dir/]_posts``."""
        return self.source / self.collections_dir / "_posts"

    @property
    def includes_dir(self) -> Path:
        """Where ``{% include %}`` looks: ``source/_includes`` unless ``includes_dir``."""
        return self.source / self.includes

    def defaults_for(self, relative_path: str, type: str | None = "posts") -> dict[str, Any]:
        """The front-matter defaults for a file (its path relative to ``source``, e.g.
        ``_posts/2022-06-09-x.md``), as Jekyll's ``FrontmatterDefaults#all``."""
        path = _strip_collections_dir(relative_path, self.collections_dir)
        out: dict[str, Any] = {}
        best: DefaultSet | None = None
        for s in self.defaults:
            if not _applies(s, path, type, self.collections_dir):
                continue
            if _has_precedence(best, s):
                out = deep_merge(out, s.values)
                best = s
            else:
                out = deep_merge(s.values, out)
        return out


# --------------------------------------------------------------------------- loading


def load_site(config_path: Path) -> JekyllSite:
    """Read a Jekyll ``_config.yml`` and the site's ``_data/authors``. A missing or
    malformed file is a ``ConfigError`` naming the file, line and key."""
    file = str(config_path)
    doc = _read_yaml(config_path)
    cfg = doc.value if doc.value is not None else {}
    if not isinstance(cfg, dict):
        raise ConfigError("must be a mapping of settings", file=file, line=doc.line(()))

    text = functools.partial(_text, cfg, doc, file)
    url = _checked_url((text("url") or "").rstrip("/"), doc, file)
    baseurl = (text("baseurl") or "").rstrip("/")
    if baseurl and not baseurl.startswith("/"):
        baseurl = "/" + baseurl  # Jekyll's relative_url adds the slash
    timezone = _checked_zone(text("timezone"), doc, file)
    folder = config_path.parent
    source = folder / (text("source") or ".")
    collections_dir = (text("collections_dir") or "").strip("/")
    feed = cfg.get("feed")
    return JekyllSite(
        folder=folder,
        source=source,
        url=url,
        baseurl=baseurl,
        timezone=timezone,
        permalink=_permalink(cfg, doc, file),
        excerpt_separator=ruby_str(cfg.get("excerpt_separator", "\n\n")),
        defaults=_defaults(cfg.get("defaults"), doc, file),
        authors=_authors_data(source / (text("data_dir") or "_data")),
        collections_dir=collections_dir,
        includes=text("includes_dir") or "_includes",
        title=text("title"),
        description=text("description"),
        lang=text("lang"),
        author=cfg.get("author"),
        feed_excerpt_only=feed.get("excerpt_only") if isinstance(feed, dict) else None,
    )


def _text(cfg: dict[str, Any], doc: yamlutil.Document, file: str, key: str) -> str | None:
    value = cfg.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"must be text, not {value!r}", file=file, line=doc.line((key,)), key=key)
    return value


def _checked_url(url: str, doc: yamlutil.Document, file: str) -> str:
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(
            f"must be an absolute http(s) URL, not {url!r}",
            file=file,
            line=doc.line(("url",)),
            key="url",
        )
    return url


def _checked_zone(timezone: str | None, doc: yamlutil.Document, file: str) -> str | None:
    try:
        if timezone is not None:
            timeutil.zone(timezone)
    except DateError as e:
        raise ConfigError(str(e), file=file, line=doc.line(("timezone",)), key="timezone") from e
    return timezone


def _read_yaml(path: Path) -> yamlutil.Document:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the Jekyll config: {e}", file=str(path)) from e
    try:
        return yamlutil.load(text)
    except yamlutil.YamlError as e:
        raise ConfigError(e.message, file=str(path), line=e.line) from e


def _permalink(cfg: dict[str, Any], doc: yamlutil.Document, file: str) -> str:
    """``collections.posts.permalink`` wins over ``permalink`` (Configuration#
    add_default_collections); a named style becomes its template."""
    key: yamlutil.Path = ("permalink",)
    value: Any = cfg.get("permalink", "date")
    collections = cfg.get("collections")
    posts = collections.get("posts") if isinstance(collections, dict) else None
    if isinstance(posts, dict) and posts.get("permalink") is not None:
        key = ("collections", "posts", "permalink")
        value = posts["permalink"]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"must be a style ({', '.join(PERMALINK_STYLES)}) or a template such as "
            f"/:categories/:title/, not {value!r}",
            file=file,
            line=doc.line(key),
            key=".".join(str(k) for k in key),
        )
    template = PERMALINK_STYLES.get(value.strip(), value.strip())
    return template if template.startswith("/") else "/" + template


def _defaults(value: Any, doc: yamlutil.Document, file: str) -> tuple[DefaultSet, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(
            "must be a list of {scope, values}",
            file=file,
            line=doc.line(("defaults",)),
            key="defaults",
        )
    out = []
    for i, item in enumerate(value):
        key = f"defaults[{i}]"
        line = doc.line(("defaults", i))
        if not isinstance(item, dict) or not isinstance(item.get("values"), dict):
            raise ConfigError("needs a mapping 'values'", file=file, line=line, key=key)
        scope = item.get("scope") or {}
        if not isinstance(scope, dict):
            raise ConfigError("scope: must be a mapping", file=file, line=line, key=key)
        path = scope.get("path")
        kind = scope.get("type")
        # FrontmatterDefaults#update_deprecated_types
        kind = _DEPRECATED_TYPES.get(str(kind), kind)
        out.append(
            DefaultSet(
                path=path if isinstance(path, str) else "",
                type=None if kind is None else str(kind),
                values=item["values"],
            )
        )
    return tuple(out)


def _authors_data(data_dir: Path) -> dict[str, Any]:
    """``_data/authors.yml`` (or ``.yaml``, ``.json``): key → entry; {} when absent."""
    for name in ("authors.yml", "authors.yaml", "authors.json"):
        path = data_dir / name
        if not path.is_file():
            continue
        if name.endswith(".json"):
            try:
                value = json.loads(path.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, ValueError) as e:
                raise ConfigError(f"cannot read authors: {e}", file=str(path)) from e
        else:
            value = _read_yaml(path).value
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigError("must map author keys to entries", file=str(path), line=1)
        return {str(k): v for k, v in value.items()}
    return {}


# --------------------------------------------------------------------------- defaults


def _sanitize(path: str) -> str:
    """FrontmatterDefaults#sanitize_path: a leading slash removed. Jekyll 4.3 does this
    only to compare scopes, not to match them: a scope path written with a leading slash
    matches no file (checked with a real build), and so it is here."""
    return path[1:] if path.startswith("/") else path


def _strip_collections_dir(path: str, collections_dir: str) -> str:
    prefix = collections_dir + "/"
    return path[len(prefix) :] if collections_dir and path.startswith(prefix) else path


def _applies(s: DefaultSet, path: str, kind: str | None, collections_dir: str) -> bool:
    if s.type is not None and s.type != kind:
        return False
    if not s.path:
        return True
    scope = _strip_collections_dir(s.path, collections_dir)
    if "*" not in scope:
        return path.startswith(scope)  # a string prefix, as Jekyll's path_is_subpath?
    glob = _glob_regex(scope)
    parts = path.split("/")
    return any(glob.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1))


def _glob_regex(glob: str) -> re.Pattern[str]:
    """Ruby's ``Dir.glob`` pattern as a regex over relative paths (``*``, ``**``, ``?``)."""
    out = []
    for piece in re.split(r"(\*\*/|\*\*|\*|\?)", glob):
        if piece == "**/":
            out.append("(?:[^/]+/)*")
        elif piece == "**":
            out.append(".*")
        elif piece == "*":
            out.append("[^/]*")
        elif piece == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(piece))
    return re.compile("".join(out))


def _has_precedence(old: DefaultSet | None, new: DefaultSet) -> bool:
    """FrontmatterDefaults#has_precedence?: the longer path wins; at equal length a
    scope with a type wins over one without."""
    if old is None:
        return True
    new_path, old_path = _sanitize(new.path), _sanitize(old.path)
    if len(new_path) != len(old_path):
        return len(new_path) >= len(old_path)
    return new.type is not None or old.type is None


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Jekyll's ``Utils.deep_merge_hashes``: mappings merged key by key, ``over`` wins."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------- feeds init


def starter_config(site: JekyllSite, config_dir: Path) -> str:
    """The YAML text of a feeds config for ``site``, to be written in ``config_dir``:
    what Jekyll's config says is not repeated, only pointed to (``posts.jekyll_config``);
    the feeds go to the site's ``feeds/`` folder, which Jekyll publishes at
    ``url + baseurl + /feeds/``: ``output.url``'s default, so it is not written and follows
    the site's ``url``."""
    if not site.url:
        raise ConfigError(
            "url: not set; feeds needs the site's absolute address (e.g. https://example.com)",
            file=str(site.folder / "_config.yml"),
            key="url",
        )

    def q(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML scalar

    def rel(path: Path) -> str:
        return q(Path(os.path.relpath(path, config_dir)).as_posix())

    lines = [
        "# feeds: made by `feeds init --jekyll` from the Jekyll site's _config.yml.",
        "# url, baseurl, timezone, permalink, excerpt_separator, defaults and",
        "# _data/authors come from that file, so the feeds say what the pages say.",
        "",
        "site:",
        f"  title: {q(site.title or site.url)}",
    ]
    if site.description:  # else feeds' default, the title (an empty one is refused)
        lines.append(f"  description: {q(site.description)}")
    if site.lang:
        lines.append(f"  language: {q(site.lang)}")
    lines += [
        "",
        "posts:",
        f"  jekyll_config: {rel(site.folder / '_config.yml')}",
        "",
        "output:",
        f"  dir: {rel(site.source / 'feeds')}",
        f"  # url: {site.site_url}/feeds/ (from the site's url and baseurl; where Jekyll",
        "  # publishes dir: set it only if the feeds are served elsewhere)",
        "",
    ]
    return "\n".join(lines)


def ruby_str(value: Any) -> str:
    """Ruby's ``to_s`` for YAML values: true/false in lower case, nil as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
