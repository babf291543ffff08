"""YAML configuration → frozen, validated config objects.

Every key has a default and a validator; unknown keys are refused. A ``ConfigError`` names
the file, the line and the dotted key (``config.yaml:12: feeds.max_items: must be ≥ 1``).
Relative paths in the file are relative to the file's folder.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feeds import files, timeutil, yamlutil
from feeds.errors import ConfigError, DateError
from feeds.models import Author
from feeds.textutil import slugify

JEKYLL_PERMALINKS = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
FORMATS = ("rss", "atom", "json")
# A feed's file is its path template (without extension) plus the format's suffix.
SUFFIXES = {"rss": ".rss.xml", "atom": ".atom.xml", "json": ".json"}


@dataclass(frozen=True)
class SiteConfig:
    title: str
    url: str  # absolute, no trailing slash
    description: str
    language: str = "zh-CN"
    author: Author | None = None
    timezone: str = "Asia/Shanghai"

    @property
    def tz(self) -> timeutil.Zone:
        return timeutil.zone(self.timezone)


@dataclass(frozen=True)
class PostsConfig:
    dirs: tuple[Path, ...]
    permalink: str = JEKYLL_PERMALINKS["date"]
    future: bool = False
    source_link: bool = True  # trailing bare <http://…> line = the original article
    drop_nav_links: bool = True  # drop the "[返回…](…)｜[返回首页](…)" line
    nav_link_prefix: str = "返回"


@dataclass(frozen=True)
class FeedsConfig:
    formats: tuple[str, ...] = FORMATS
    max_items: int = 50
    summary_length: int = 200
    category_path: str = "{slug}"
    all_path: str = "all"
    tag_path: str = "tags/{slug}"
    category_page: str = "/category/{slug}.html"
    tag_page: str = "/tag/{slug}.html"
    title_template: str = "{name} - {site}"
    all_feed: bool = True
    tag_feeds: bool = False
    stylesheet: bool = True  # feed.xsl, so a browser shows a readable page
    archives: bool = False  # RFC 5005 monthly archives of the category feeds
    archive_path: str = "archive/{slug}/{month}"
    websub_hub: str | None = None
    discovery: bool = True  # index.html, feeds.opml, snippets/


@dataclass(frozen=True)
class CategoryMeta:
    title: str | None = None
    description: str | None = None
    slug: str | None = None


@dataclass(frozen=True)
class CategoriesConfig:
    only: tuple[str, ...] = ()  # empty: every category found in the posts gets a feed
    meta: Mapping[str, CategoryMeta] = field(default_factory=dict)


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
    line: int | None = None  # where it is in the config, for messages


@dataclass(frozen=True)
class FetchConfig:
    connect_timeout: float = 10.0
    deadline: float = 30.0  # whole request, headers and body, wall clock
    max_bytes: int = 15 * 1024 * 1024  # decompressed body
    max_redirects: int = 5
    user_agent: str = ""
    concurrency: int = 8
    per_host: int = 2
    allow_networks: tuple[str, ...] = ()
    backoff_cap: int = 24 * 3600


@dataclass(frozen=True)
class StoreConfig:
    state_dir: Path
    max_age_days: int = 0  # 0: keep entries whatever their age
    max_per_source: int = 1000
    lock_timeout: float = 10.0  # how long to wait for a store another process has locked

    @property
    def path(self) -> Path:
        return self.state_dir / "feeds.sqlite3"


@dataclass(frozen=True)
class ScheduleConfig:
    """When ``feeds run`` builds and looks for due sources."""

    build: str = "5m"  # as written: an interval or a cron expression
    build_seconds: float | None = 300.0  # set when ``build`` is an interval
    fetch_every: float = 30.0  # how often the daemon looks for due sources
    misfire_grace: float = 600.0  # a run this late still runs (APScheduler's default: 1 s)


@dataclass(frozen=True)
class Config:
    path: Path
    site: SiteConfig
    posts: PostsConfig
    output_dir: Path
    output_url: str  # public URL of output_dir, ends with "/"
    feeds: FeedsConfig
    categories: CategoriesConfig
    tags: CategoriesConfig
    fetch: FetchConfig = field(default_factory=FetchConfig)
    store: StoreConfig = field(default_factory=lambda: StoreConfig(Path("state")))
    sources: tuple[SourceConfig, ...] = ()
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)

    def source_zone(self, source: SourceConfig) -> timeutil.Zone:
        return timeutil.zone(source.timezone or self.site.timezone)

    def with_overrides(
        self,
        *,
        posts: list[Path] | None = None,
        output: Path | None = None,
        state: Path | None = None,
    ) -> Config:
        from dataclasses import replace

        cfg = self
        if posts:
            cfg = replace(cfg, posts=replace(cfg.posts, dirs=tuple(posts)))
        if output is not None:
            cfg = replace(cfg, output_dir=output)
        if state is not None:
            cfg = replace(cfg, store=replace(cfg.store, state_dir=state))
        return cfg

    def category_slug(self, name: str) -> str:
        meta = self.categories.meta.get(name)
        return meta.slug if meta and meta.slug else slugify(name)

    def tag_slug(self, name: str) -> str:
        meta = self.tags.meta.get(name)
        return meta.slug if meta and meta.slug else slugify(name)


# --------------------------------------------------------------------------- reading


class _Reader:
    """Typed access to a YAML document, with errors that name file, line and key."""

    def __init__(self, doc: yamlutil.Document, file: str) -> None:
        self.doc = doc
        self.file = file

    def error(self, path: yamlutil.Path, message: str) -> ConfigError:
        key = ".".join(str(p) for p in path) or None
        return ConfigError(message, file=self.file, line=self.doc.line(path), key=key)

    def raw(self, path: yamlutil.Path) -> Any:
        value: Any = self.doc.value
        for p in path:
            if isinstance(value, dict) and p in value:
                value = value[p]
            elif isinstance(value, list) and isinstance(p, int) and p < len(value):
                value = value[p]
            else:
                return None
        return value

    def has(self, path: yamlutil.Path) -> bool:
        parent = self.raw(path[:-1])
        if isinstance(parent, list):
            return isinstance(path[-1], int) and path[-1] < len(parent)
        return isinstance(parent, dict) and path[-1] in parent

    def section(self, path: yamlutil.Path, allowed: set[str]) -> dict[str, Any]:
        value = self.raw(path)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, f"must be a mapping of keys, not {_kind(value)}")
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                known = ", ".join(sorted(allowed))
                raise self.error((*path, key), f"unknown key{hint}; known keys here: {known}")
        return value

    def string(
        self, path: yamlutil.Path, default: str | None = None, *, required: bool = False
    ) -> str:
        if not self.has(path) or self.raw(path) is None:
            if required or default is None:
                raise self.error(path, "is required")
            return default
        value = self.raw(path)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(path, f"must be a string, not {_kind(value)}")
        text = str(value).strip()
        if not text:
            raise self.error(path, "must not be empty")
        return text

    def optional_string(self, path: yamlutil.Path) -> str | None:
        if not self.has(path) or self.raw(path) is None:
            return None
        return self.string(path)

    def integer(self, path: yamlutil.Path, default: int, *, minimum: int) -> int:
        if not self.has(path):
            return default
        value = self.raw(path)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(path, f"must be a whole number, not {_kind(value)}")
        if value < minimum:
            raise self.error(path, f"must be ≥ {minimum}, not {value}")
        return value

    def boolean(self, path: yamlutil.Path, default: bool) -> bool:
        if not self.has(path):
            return default
        value = self.raw(path)
        if not isinstance(value, bool):
            raise self.error(path, f"must be true or false, not {_kind(value)}")
        return value

    def strings(self, path: yamlutil.Path, default: tuple[str, ...]) -> tuple[str, ...]:
        if not self.has(path) or self.raw(path) is None:
            return default
        value = self.raw(path)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.error(path, f"must be a list of strings, not {_kind(value)}")
        out = []
        for i in range(len(value)):
            out.append(self.string((*path, i)))
        return tuple(out)


def _kind(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{value!r} ({type(value).__name__})"


def load(path: Path) -> Config:
    """Read and validate the config file at ``path``. Raises ``ConfigError``."""
    file = str(path)
    try:
        data = files.read_regular(path, files.MAX_CONFIG_BYTES)
    except files.FileProblem as e:
        raise ConfigError(f"cannot read config: {e.reason}", file=file) from e
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ConfigError("not valid UTF-8 (save the file as UTF-8)", file=file, line=line) from e
    try:
        doc = yamlutil.load(text)
    except yamlutil.YamlError as e:
        raise ConfigError(e.message, file=file, line=e.line) from e
    return parse(doc, path)


def parse(doc: yamlutil.Document, path: Path) -> Config:
    r = _Reader(doc, str(path))
    if doc.value is None:
        raise r.error((), "the config file is empty; it needs at least site.title and site.url")
    r.section(
        (),
        {
            "site",
            "posts",
            "output",
            "feeds",
            "categories",
            "tags",
            "state",
            "fetch",
            "sources",
            "schedule",
        },
    )
    base = path.parent

    # site
    r.section(("site",), {"title", "url", "description", "language", "author", "timezone"})
    url = r.string(("site", "url"), required=True)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise r.error(("site", "url"), f"must be an absolute http(s) URL, not {url!r}")
    if parts.query or parts.fragment:
        raise r.error(("site", "url"), "must not have a query or fragment")
    title = r.string(("site", "title"), required=True)
    tzname = r.string(("site", "timezone"), "Asia/Shanghai")
    try:
        timeutil.zone(tzname)
    except DateError as e:
        raise r.error(("site", "timezone"), str(e)) from e
    site = SiteConfig(
        title=title,
        url=url.rstrip("/"),
        description=r.string(("site", "description"), title),
        language=r.string(("site", "language"), "zh-CN"),
        author=_author(r, ("site", "author")),
        timezone=tzname,
    )

    # posts
    r.section(
        ("posts",),
        {"dirs", "permalink", "future", "source_link", "drop_nav_links", "nav_link_prefix"},
    )
    dirs = tuple(base / d for d in r.strings(("posts", "dirs"), ("_posts",)))
    if not dirs:
        raise r.error(("posts", "dirs"), "must list at least one folder")
    permalink = r.string(("posts", "permalink"), "date")
    permalink = JEKYLL_PERMALINKS.get(permalink, permalink)
    if not permalink.startswith("/"):
        raise r.error(
            ("posts", "permalink"),
            f"must start with '/' or be one of {', '.join(JEKYLL_PERMALINKS)}",
        )
    posts = PostsConfig(
        dirs=dirs,
        permalink=permalink,
        future=r.boolean(("posts", "future"), False),
        source_link=r.boolean(("posts", "source_link"), True),
        drop_nav_links=r.boolean(("posts", "drop_nav_links"), True),
        nav_link_prefix=r.string(("posts", "nav_link_prefix"), "返回"),
    )

    # output
    r.section(("output",), {"dir", "url"})
    output_dir = base / r.string(("output", "dir"), "output")
    output_url = r.string(("output", "url"), site.url + "/feeds/")
    ou = urlsplit(output_url)
    if ou.scheme not in ("http", "https") or not ou.netloc:
        raise r.error(("output", "url"), f"must be an absolute http(s) URL, not {output_url!r}")
    if not output_url.endswith("/"):
        output_url += "/"

    # feeds
    d = FeedsConfig()
    r.section(
        ("feeds",),
        {
            "formats",
            "max_items",
            "summary_length",
            "category_path",
            "all_path",
            "tag_path",
            "category_page",
            "tag_page",
            "title_template",
            "all_feed",
            "tag_feeds",
            "stylesheet",
            "archives",
            "archive_path",
            "websub_hub",
            "discovery",
        },
    )
    formats = r.strings(("feeds", "formats"), d.formats)
    for i, fmt in enumerate(formats):
        if fmt not in FORMATS:
            raise r.error(
                ("feeds", "formats", i), f"unknown format {fmt!r}; known: {', '.join(FORMATS)}"
            )
    if not formats:
        raise r.error(("feeds", "formats"), f"must list at least one of: {', '.join(FORMATS)}")
    feeds = FeedsConfig(
        formats=tuple(dict.fromkeys(formats)),
        max_items=r.integer(("feeds", "max_items"), d.max_items, minimum=1),
        summary_length=r.integer(("feeds", "summary_length"), d.summary_length, minimum=0),
        category_path=_path_template(r, ("feeds", "category_path"), d.category_path, True),
        all_path=_path_template(r, ("feeds", "all_path"), d.all_path, False),
        tag_path=_path_template(r, ("feeds", "tag_path"), d.tag_path, True),
        category_page=_page_template(r, ("feeds", "category_page"), d.category_page),
        tag_page=_page_template(r, ("feeds", "tag_page"), d.tag_page),
        title_template=_title_template(r, ("feeds", "title_template"), d.title_template),
        all_feed=r.boolean(("feeds", "all_feed"), d.all_feed),
        tag_feeds=r.boolean(("feeds", "tag_feeds"), d.tag_feeds),
        stylesheet=r.boolean(("feeds", "stylesheet"), d.stylesheet),
        archives=r.boolean(("feeds", "archives"), d.archives),
        archive_path=_archive_template(r, ("feeds", "archive_path"), d.archive_path),
        websub_hub=_hub(r, ("feeds", "websub_hub")),
        discovery=r.boolean(("feeds", "discovery"), d.discovery),
    )

    categories = _groups(r, "categories")
    tags = _groups(r, "tags")
    store = _store(r, base)
    if output_dir.resolve() in (store.state_dir.resolve(), *store.state_dir.resolve().parents):
        raise r.error(
            ("state", "dir"), "must be outside the output folder (it is not for publishing)"
        )
    fetch = _fetch(r)
    sources = _sources(r, base)
    schedule = _schedule(r, site.tz)
    cfg = Config(
        path=path,
        site=site,
        posts=posts,
        output_dir=output_dir,
        output_url=output_url,
        feeds=feeds,
        categories=categories,
        tags=tags,
        fetch=fetch,
        store=store,
        sources=sources,
        schedule=schedule,
    )
    _check_slugs(r, cfg)
    return cfg


def _author(r: _Reader, path: yamlutil.Path) -> Author | None:
    value = r.raw(path)
    if value is None:
        return None
    if isinstance(value, dict):
        r.section(path, {"name", "email", "uri"})
        return Author(
            name=r.string((*path, "name"), required=True),
            email=r.optional_string((*path, "email")),
            uri=r.optional_string((*path, "uri")),
        )
    return Author(name=r.string(path))


_FIELD = re.compile(r"\{([^{}]*)\}")


def _template(
    r: _Reader, path: yamlutil.Path, default: str, allowed: set[str], required: set[str]
) -> str:
    value = r.string(path, default)
    fields = set(_FIELD.findall(value))
    unknown = fields - allowed
    if unknown:
        raise r.error(
            path,
            f"unknown placeholder {{{sorted(unknown)[0]}}}; "
            f"use {', '.join('{' + a + '}' for a in sorted(allowed))}",
        )
    missing = required - fields
    if missing:
        raise r.error(path, f"must contain {', '.join('{' + m + '}' for m in sorted(missing))}")
    return value


def _path_template(r: _Reader, path: yamlutil.Path, default: str, per_name: bool) -> str:
    if "{format}" in r.string(path, default):
        raise r.error(
            path,
            "leave out {format} and the extension: each format adds its own "
            "(.rss.xml, .atom.xml, .json)",
        )
    required = {"slug"} if per_name else set()
    value = _template(r, path, default, {"slug"}, required)
    parts = value.split("/")
    if value.startswith("/") or ".." in parts or "" in parts or "\\" in value:
        raise r.error(path, f"must be a relative path inside the output folder, not {value!r}")
    return value


def _archive_template(r: _Reader, path: yamlutil.Path, default: str) -> str:
    value = _template(r, path, default, {"slug", "month"}, {"slug", "month"})
    parts = value.split("/")
    if value.startswith("/") or ".." in parts or "" in parts or "\\" in value:
        raise r.error(path, f"must be a relative path inside the output folder, not {value!r}")
    return value


def _hub(r: _Reader, path: yamlutil.Path) -> str | None:
    value = r.optional_string(path)
    if value is not None:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise r.error(path, f"must be the hub's absolute http(s) URL, not {value!r}")
    return value


def _page_template(r: _Reader, path: yamlutil.Path, default: str) -> str:
    value = _template(r, path, default, {"slug"}, {"slug"})
    if not value.startswith("/") and not urlsplit(value).scheme:
        raise r.error(path, f"must start with '/' or be an absolute URL, not {value!r}")
    return value


def _title_template(r: _Reader, path: yamlutil.Path, default: str) -> str:
    return _template(r, path, default, {"name", "site"}, {"name"})


def _groups(r: _Reader, key: str) -> CategoriesConfig:
    r.section((key,), {"only", "meta"})
    only = r.strings((key, "only"), ())
    meta_raw = r.section((key, "meta"), set(r.raw((key, "meta")) or {}))
    meta: dict[str, CategoryMeta] = {}
    for name in meta_raw:
        p = (key, "meta", name)
        if r.raw(p) is None:
            meta[name] = CategoryMeta()
            continue
        r.section(p, {"title", "description", "slug"})
        slug = r.optional_string((*p, "slug"))
        if slug is not None and slugify(slug) != slug:
            raise r.error(
                (*p, "slug"),
                f"must be lower-case letters, digits and '-' "
                f"(e.g. {slugify(slug)!r}), not {slug!r}",
            )
        meta[name] = CategoryMeta(
            title=r.optional_string((*p, "title")),
            description=r.optional_string((*p, "description")),
            slug=slug,
        )
    return CategoriesConfig(only=only, meta=meta)


def _check_slugs(r: _Reader, cfg: Config) -> None:
    """Two configured names that would share one output file are a config error."""
    for key, group, slug_of in (
        ("categories", cfg.categories, cfg.category_slug),
        ("tags", cfg.tags, cfg.tag_slug),
    ):
        seen: dict[str, str] = {}
        for name in list(group.meta) + [n for n in group.only if n not in group.meta]:
            slug = slug_of(name)
            if not slug:
                raise r.error(
                    (key, "meta", name), "has no usable characters for a file name; set a slug"
                )
            if slug in seen and seen[slug] != name:
                raise r.error(
                    (key, "meta", name),
                    f"{name!r} and {seen[slug]!r} would both be written to the "
                    f"feed files for slug {slug!r}; give one of them another slug",
                )
            seen[slug] = name


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _duration(r: _Reader, path: yamlutil.Path, default: float, *, minimum: float) -> float:
    """Seconds, from a number or a string like ``90s``, ``30m``, ``2h``, ``1d``."""
    if not r.has(path):
        return default
    value = r.raw(path)
    m = _DURATION.match(str(value)) if not isinstance(value, bool) else None
    if m is None:
        raise r.error(path, f"must be a duration such as 90s, 30m, 2h or 1d, not {_kind(value)}")
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if seconds < minimum:
        raise r.error(path, f"must be at least {minimum:g} s")
    return seconds


def _networks(r: _Reader, path: yamlutil.Path) -> tuple[str, ...]:
    import ipaddress

    out = r.strings(path, ())
    for i, text in enumerate(out):
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError as e:
            raise r.error((*path, i), f"not a network such as 127.0.0.0/8: {e}") from e
    return out


def _store(r: _Reader, base: Path) -> StoreConfig:
    r.section(("state",), {"dir", "max_age_days", "max_entries_per_source", "lock_timeout"})
    return StoreConfig(
        state_dir=base / r.string(("state", "dir"), "state"),
        max_age_days=r.integer(("state", "max_age_days"), 0, minimum=0),
        max_per_source=r.integer(("state", "max_entries_per_source"), 1000, minimum=1),
        lock_timeout=_duration(r, ("state", "lock_timeout"), 10.0, minimum=0.1),
    )


def _fetch(r: _Reader) -> FetchConfig:
    from feeds import __version__

    d = FetchConfig()
    r.section(
        ("fetch",),
        {
            "connect_timeout",
            "deadline",
            "max_bytes",
            "max_redirects",
            "user_agent",
            "concurrency",
            "per_host",
            "allow_networks",
            "backoff_cap",
        },
    )
    return FetchConfig(
        connect_timeout=_duration(r, ("fetch", "connect_timeout"), d.connect_timeout, minimum=0.1),
        deadline=_duration(r, ("fetch", "deadline"), d.deadline, minimum=0.1),
        max_bytes=r.integer(("fetch", "max_bytes"), d.max_bytes, minimum=1024),
        max_redirects=r.integer(("fetch", "max_redirects"), d.max_redirects, minimum=0),
        user_agent=r.string(
            ("fetch", "user_agent"),
            f"feeds/{__version__} (feed aggregator; +{r.raw(('site', 'url'))})",
        ),
        concurrency=r.integer(("fetch", "concurrency"), d.concurrency, minimum=1),
        per_host=r.integer(("fetch", "per_host"), d.per_host, minimum=1),
        allow_networks=_networks(r, ("fetch", "allow_networks")),
        backoff_cap=int(_duration(r, ("fetch", "backoff_cap"), d.backoff_cap, minimum=60)),
    )


def _sources(r: _Reader, base: Path) -> tuple[SourceConfig, ...]:
    raw = r.raw(("sources",))
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise r.error(("sources",), f"must be a list of sources, not {_kind(raw)}")
    out: list[SourceConfig] = []
    seen: dict[str, int | None] = {}
    for i in range(len(raw)):
        p: yamlutil.Path = ("sources", i)
        r.section(
            p,
            {
                "id",
                "url",
                "path",
                "categories",
                "routes",
                "timezone",
                "title",
                "enabled",
                "interval",
                "allow_networks",
            },
        )
        sid = r.string((*p, "id"), required=True)
        if not _SOURCE_ID.match(sid):
            raise r.error(
                (*p, "id"), f"must be lower-case letters, digits, '-' or '_', not {sid!r}"
            )
        if sid in seen:
            raise r.error((*p, "id"), f"duplicate source id {sid!r} (first at line {seen[sid]})")
        seen[sid] = r.doc.line(p)
        if r.has((*p, "url")) == r.has((*p, "path")):
            raise r.error(p, "give exactly one of url (http/https) or path (a local file)")
        if r.has((*p, "url")):
            url = r.string((*p, "url"))
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise r.error((*p, "url"), f"must be an absolute http(s) URL, not {url!r}")
        else:
            url = (base / r.string((*p, "path"))).resolve().as_uri()
        tzname = r.optional_string((*p, "timezone"))
        if tzname is not None:
            try:
                timeutil.zone(tzname)
            except DateError as e:
                raise r.error((*p, "timezone"), str(e)) from e
        routes = _routes(r, (*p, "routes"))
        categories = r.strings((*p, "categories"), ())
        if not categories and not routes:
            raise r.error(
                p, f"source {sid!r} needs categories or routes: where should its entries go?"
            )
        out.append(
            SourceConfig(
                id=sid,
                url=url,
                categories=categories,
                routes=routes,
                timezone=tzname,
                title=r.optional_string((*p, "title")),
                enabled=r.boolean((*p, "enabled"), True),
                interval=int(_duration(r, (*p, "interval"), 1800, minimum=1)),
                allow_networks=_networks(r, (*p, "allow_networks")),
                line=r.doc.line(p),
            )
        )
    return tuple(out)


def _routes(r: _Reader, path: yamlutil.Path) -> tuple[Route, ...]:
    raw = r.raw(path)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise r.error(path, f"must be a list of routes, not {_kind(raw)}")
    out = []
    for i in range(len(raw)):
        p = (*path, i)
        r.section(p, {"to", "category", "title"})
        route = Route(
            to=r.string((*p, "to"), required=True),
            category=r.optional_string((*p, "category")),
            title=r.optional_string((*p, "title")),
        )
        if route.category is None and route.title is None:
            raise r.error(
                p,
                "a route needs a condition: category (the entry's own category "
                "or tag) or title (a keyword)",
            )
        out.append(route)
    return tuple(out)


def _schedule(r: _Reader, tz: timeutil.Zone) -> ScheduleConfig:
    import datetime as dt

    from feeds import cron

    d = ScheduleConfig()
    r.section(("schedule",), {"build", "fetch_every", "misfire_grace"})
    build = r.string(("schedule", "build"), d.build)
    seconds: float | None
    if _DURATION.match(build):
        seconds = _duration(r, ("schedule", "build"), d.build_seconds or 300.0, minimum=1)
    else:
        seconds = None
        try:  # "never fires" does not depend on the day: any reference time will do
            cron.parse(build, tz, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        except cron.CronError as e:
            raise r.error(
                ("schedule", "build"), f"not an interval (5m) or a valid cron expression: {e}"
            ) from e
    return ScheduleConfig(
        build=build,
        build_seconds=seconds,
        fetch_every=_duration(r, ("schedule", "fetch_every"), d.fetch_every, minimum=1),
        misfire_grace=_duration(r, ("schedule", "misfire_grace"), d.misfire_grace, minimum=1),
    )
