"""YAML configuration → frozen, validated config objects.

Every key is a row of the table in ``keys.py`` (its default and its validator, read by
``read.py``); unknown keys are refused. A ``ConfigError`` names the file, the line and
the dotted key (``config.yaml:12: feeds.max_items: must be ≥ 1``). Relative paths in the file
are relative to the file's folder. This module holds the config objects and the checks that
involve more than one key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from feeds import files, timeutil, yamlutil
from feeds.config.keys import check_section, read_section
from feeds.config.read import (
    FORMATS,
    JEKYLL_PERMALINKS,
    Reader,
    interval_seconds,
)
from feeds.config.s3 import S3Config
from feeds.config.sources import Route, SourceConfig, read_sources
from feeds.errors import ConfigError
from feeds.jekyll.jekyll import JekyllSite, load_site
from feeds.jekyll.post import permalink_gaps
from feeds.models import Author
from feeds.textutil import feed_slug

__all__ = [
    "FORMATS",
    "JEKYLL_PERMALINKS",
    "SUFFIXES",
    "CategoriesConfig",
    "CategoryMeta",
    "Config",
    "FeedsConfig",
    "FetchConfig",
    "PostsConfig",
    "Route",
    "ScheduleConfig",
    "SiteConfig",
    "SourceConfig",
    "StoreConfig",
    "load",
    "parse",
]

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
    jekyll_config: Path | None = None  # the site's _config.yml, as given
    jekyll: JekyllSite | None = None  # what it says (url, permalink, defaults, authors, …)


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
    remote_tag_feeds: int = 20  # tags of one source that may make tag feeds of their own
    stylesheet: bool = True  # feed.xsl, so a browser shows a readable page
    archives: bool = False  # RFC 5005 monthly archives of the category feeds
    archive_path: str = "archive/{slug}/{month}"
    websub_hub: str | None = None
    discovery: bool = True  # index.html, feeds.opml, snippets/
    variants: tuple[str, ...] = ()  # 繁體中文 copies of every feed (feeds.variants)


@dataclass(frozen=True)
class CategoryMeta:
    title: str | None = None
    description: str | None = None
    slug: str | None = None
    variants: tuple[str, ...] = ()  # 繁體中文 copies of this feed, besides feeds.variants


@dataclass(frozen=True)
class CategoriesConfig:
    only: tuple[str, ...] = ()  # empty: every category found in the posts gets a feed
    meta: Mapping[str, CategoryMeta] = field(default_factory=dict)


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
    database: str | None = None  # a postgresql:// URL: sources and entries live there

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
    watch: bool = True  # rebuild as soon as a post file is saved


@dataclass(frozen=True)  # feeds worker, feeds run --distributed: jobs in PostgreSQL
class QueueConfig:
    database: str | None = None  # PostgreSQL URL of the queue (absent: state.database)
    concurrency: int = 4  # fetch jobs one worker runs at once
    heartbeat: float = 10.0  # how often a worker says it is alive
    stall_timeout: float = 60.0  # a worker silent this long lost its jobs: they run again
    build_settle: float = 10.0  # a build waits this long after the first new entry


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
    queue: QueueConfig = field(default_factory=QueueConfig)
    output_s3: S3Config | None = None  # set: the output goes to object storage, not output_dir
    image_proxy: str | None = None  # output.image_proxy: a URL template with {url}
    max_shrink: float = 0.5  # build.max_shrink: a category losing more of its posts is refused

    def source_zone(self, source: SourceConfig) -> timeutil.Zone:
        return timeutil.zone(source.timezone or self.site.timezone)

    def with_overrides(
        self,
        *,
        posts: list[Path] | None = None,
        output: Path | None = None,
        state: Path | None = None,
    ) -> Config:
        cfg = self
        if posts:
            cfg = replace(cfg, posts=replace(cfg.posts, dirs=tuple(posts)))
        if output is not None:
            cfg = replace(cfg, output_dir=output, output_s3=None)
        if state is not None:
            cfg = replace(cfg, store=replace(cfg.store, state_dir=state))
        return cfg

    def category_slug(self, name: str) -> str:
        meta = self.categories.meta.get(name)
        return meta.slug if meta and meta.slug else feed_slug(name)

    def tag_slug(self, name: str) -> str:
        meta = self.tags.meta.get(name)
        return meta.slug if meta and meta.slug else feed_slug(name)


# --------------------------------------------------------------------------- reading


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
    r = Reader(doc, str(path))
    if doc.value is None:
        raise r.error((), "the config file is empty; it needs at least site.title and site.url")
    check_section(r, "", ())
    base = path.parent
    jekyll = jekyll_site(r, base)
    site = _site(r, jekyll)
    posts = _posts(r, base, jekyll)
    output = read_section(r, "output", ("output",), url=lambda _: site.url + "/feeds/")
    output_dir, output_url = base / output["dir"], output["url"]
    feeds = FeedsConfig(**read_section(r, "feeds", ("feeds",)))
    categories = _groups(r, "categories")
    tags = _groups(r, "tags")
    store = _store(r, base)
    if output_dir.resolve() in (store.state_dir.resolve(), *store.state_dir.resolve().parents):
        raise r.error(
            ("state", "dir"), "must be outside the output folder (it is not for publishing)"
        )
    fetch = _fetch(r)
    sources = read_sources(r, base)
    schedule = _schedule(r)
    build = read_section(r, "build", ("build",))
    cfg = Config(
        output_s3=_output_s3(r),
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
        queue=_queue(r),
        image_proxy=output["image_proxy"],
        max_shrink=build["max_shrink"],
    )
    _check_slugs(r, cfg)
    return cfg


def _site(r: Reader, jekyll: JekyllSite | None) -> SiteConfig:
    given = None
    if jekyll is not None:
        given = {"url": jekyll.site_url, "timezone": jekyll.timezone or "Asia/Shanghai"}
    values = read_section(r, "site", ("site",), given, description=lambda v: v["title"])
    return SiteConfig(**values, author=_author(r, ("site", "author")))


def _author(r: Reader, path: yamlutil.Path) -> Author | None:
    value = r.raw(path)
    if value is None:
        return None
    if isinstance(value, dict):
        return Author(**read_section(r, "site.author", path))
    return Author(name=r.string(path))


def _posts(r: Reader, base: Path, jekyll: JekyllSite | None) -> PostsConfig:
    given = None
    if jekyll is not None:
        given = {"dirs": (jekyll.posts_dir,), "permalink": jekyll.permalink}
    values = read_section(r, "posts", ("posts",), given)
    values["dirs"] = tuple(base / d for d in values["dirs"])
    if values["jekyll_config"] is not None:
        values["jekyll_config"] = base / values["jekyll_config"]
        values["jekyll"] = jekyll
    if not values["dirs"]:
        raise r.error(("posts", "dirs"), "must list at least one folder")
    return PostsConfig(**values)


def _groups(r: Reader, key: str) -> CategoriesConfig:
    only = read_section(r, key, (key,))["only"]
    names = check_section(r, f"{key}.meta", (key, "meta"))
    meta: dict[str, CategoryMeta] = {}
    for name in names:
        p = (key, "meta", name)
        if r.raw(p) is None:
            meta[name] = CategoryMeta()
        else:
            meta[name] = CategoryMeta(**read_section(r, f"{key}.meta.NAME", p))
    return CategoriesConfig(only=only, meta=meta)


def _check_slugs(r: Reader, cfg: Config) -> None:
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


def _store(r: Reader, base: Path) -> StoreConfig:
    values = read_section(r, "state", ("state",))
    values["state_dir"] = base / values["state_dir"]
    return StoreConfig(**values)


def _output_s3(r: Reader) -> S3Config | None:
    if r.raw(("output", "s3")) is None:
        return None
    if r.has(("output", "dir")):
        raise r.error(("output", "dir"), "give output.dir or output.s3, not both")
    return S3Config(**read_section(r, "output.s3", ("output", "s3")))


def _fetch(r: Reader) -> FetchConfig:
    from feeds import __version__

    agent = f"feeds/{__version__} (feed aggregator; +{r.raw(('site', 'url'))})"
    return FetchConfig(**read_section(r, "fetch", ("fetch",), user_agent=lambda _: agent))


def _schedule(r: Reader) -> ScheduleConfig:
    values = read_section(r, "schedule", ("schedule",))
    return ScheduleConfig(**values, build_seconds=interval_seconds(values["build"]))


def _queue(r: Reader) -> QueueConfig:
    q = QueueConfig(**read_section(r, "queue", ("queue",)))
    if q.stall_timeout < 2 * q.heartbeat:
        raise r.error(("queue", "stall_timeout"), "must be at least twice queue.heartbeat")
    return q


_FROM_JEKYLL = (("site", "url"), ("site", "timezone"), ("posts", "dirs"), ("posts", "permalink"))


def jekyll_site(r: Reader, base: Path) -> JekyllSite | None:
    """The Jekyll site ``posts.jekyll_config`` names (its ``_config.yml``), or None."""
    at = ("posts", "jekyll_config")
    if r.raw(at) is None:
        return None
    for key in _FROM_JEKYLL:
        if r.has(key):
            raise r.error(
                key,
                "cannot be set together with posts.jekyll_config: "
                "it comes from the Jekyll site's _config.yml",
            )
    site = load_site((base / r.string(at)).absolute())
    if not site.url:
        raise r.error(at, f"{site.folder / '_config.yml'} sets no url; feeds needs the site's")
    gaps = permalink_gaps(site.permalink)
    if gaps:
        raise r.error(
            at,
            f"{site.folder / '_config.yml'}: permalink {site.permalink!r} uses "
            f"{', '.join(':' + g for g in gaps)}, which feeds cannot fill in yet",
        )
    return site


def config_dataclasses() -> dict[str, type]:
    """The frozen dataclass each section of the key table fills (for the table's tests)."""
    return {
        "site": SiteConfig,
        "site.author": Author,
        "posts": PostsConfig,
        "feeds": FeedsConfig,
        "categories.meta.NAME": CategoryMeta,
        "tags.meta.NAME": CategoryMeta,
        "state": StoreConfig,
        "fetch": FetchConfig,
        "sources[]": SourceConfig,
        "sources[].routes[]": Route,
        "schedule": ScheduleConfig,
        "queue": QueueConfig,
        "output.s3": S3Config,
    }
