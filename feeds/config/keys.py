"""Every config key, one row each: its YAML path, how it is read and checked, its default,
the default as the README's key table shows it, and the field it fills. The sections and
the keys each one allows come from this table, and a test checks the README against it.

Adding a key is one row here, one line in the README's table and its field on the section's
frozen dataclass in ``config.py`` (a test checks that the row's default is the field's).

Paths are written as in the README: ``sources[].id`` is a key of every item of the list
``sources``; ``categories.meta.NAME.slug`` is a key under any name in ``categories.meta``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from feeds import yamlutil
from feeds.config import s3 as s3config
from feeds.config.read import (
    Reader,
    ValueReader,
    archive_path,
    build_schedule,
    database_url,
    duration,
    feed_path,
    flag,
    folder_url,
    formats,
    hub_url,
    image_proxy,
    networks,
    optional_encoding,
    optional_text,
    optional_zone,
    page_url,
    permalink,
    share,
    site_url,
    slug,
    source_id,
    text,
    texts,
    title_template,
    variant_list,
    whole,
    zone_name,
)

ANY_NAME = "NAME"  # a path segment that stands for any key (a category's name)


class _Computed:
    """The default of a key whose default depends on other keys; its section computes it."""

    def __repr__(self) -> str:
        return "COMPUTED"


COMPUTED: Any = _Computed()


@dataclass(frozen=True)
class Key:
    path: str  # as in the README, e.g. "feeds.max_items", "sources[].id"
    read: ValueReader | None  # type and validator; None: its section reads it (a mapping)
    default: Any  # when absent; None for a required or optional key, COMPUTED: see doc
    doc: str  # the default column of the README's key table
    field: str | None = None  # the target field; None: its section assembles it

    @property
    def parent(self) -> str:
        return self.path.rpartition(".")[0]

    @property
    def name(self) -> str:
        return self.path.rpartition(".")[2]


_REQUIRED = "required"
_NONE = "none"


def _group(g: str) -> tuple[Key, ...]:
    return (
        Key(f"{g}.only", texts, (), "`[]`", "only"),
        Key(f"{g}.meta.NAME.title", optional_text, None, "`NAME`", "title"),
        Key(
            f"{g}.meta.NAME.description",
            optional_text,
            None,
            "`<site.title>：<title>`",
            "description",
        ),
        Key(f"{g}.meta.NAME.slug", slug, None, "slugify(NAME)", "slug"),
        Key(f"{g}.meta.NAME.variants", variant_list, (), "`[]`", "variants"),
    )


KEYS: tuple[Key, ...] = (
    # site (url and title first: other defaults are made from them)
    Key("site.url", site_url, None, _REQUIRED, "url"),
    Key("site.title", text, None, _REQUIRED, "title"),
    Key("site.timezone", zone_name, "Asia/Shanghai", "`Asia/Shanghai`", "timezone"),
    Key("site.description", text, COMPUTED, "`site.title`", "description"),
    Key("site.language", text, "zh-CN", "`zh-CN`", "language"),
    Key("site.author", None, None, "none (the site title stands in)"),
    Key("site.author.name", text, None, _REQUIRED, "name"),
    Key("site.author.email", optional_text, None, _NONE, "email"),
    Key("site.author.uri", optional_text, None, _NONE, "uri"),
    # posts
    Key("posts.dirs", texts, ("_posts",), "`[_posts]`", "dirs"),
    Key("posts.permalink", permalink, "date", "`date`", "permalink"),
    Key("posts.future", flag, False, "`false`", "future"),
    Key("posts.source_link", flag, True, "`true`", "source_link"),
    Key("posts.drop_nav_links", flag, True, "`true`", "drop_nav_links"),
    Key("posts.nav_link_prefix", text, "返回", "`返回`", "nav_link_prefix"),
    Key("posts.jekyll_config", optional_text, None, _NONE, "jekyll_config"),
    # output
    Key("output.dir", text, "output", "`output`", "dir"),
    Key("output.url", folder_url, COMPUTED, "`<site.url>/feeds/`", "url"),
    Key("output.s3", None, None, "none (files go to `output.dir`)"),
    Key("output.s3.bucket", text, None, _REQUIRED, "bucket"),
    Key("output.s3.endpoint", s3config.endpoint, None, "none (AWS, by region)", "endpoint"),
    Key("output.s3.prefix", s3config.prefix, None, "none (the bucket's top)", "prefix"),
    Key("output.s3.region", optional_text, None, "none (from the AWS environment)", "region"),
    Key("output.s3.profile", optional_text, None, "none (`AWS_PROFILE` or default)", "profile"),
    Key(
        "output.s3.cache_control",
        optional_text,
        None,
        "from `schedule.build`, as `feeds serve` sends",
        "cache_control",
    ),
    Key(
        "output.s3.archive_cache_control",
        text,
        s3config.ARCHIVE_CACHE,
        f"`{s3config.ARCHIVE_CACHE}`",
        "archive_cache_control",
    ),
    Key("output.image_proxy", image_proxy, None, _NONE, "image_proxy"),
    # feeds
    Key("feeds.formats", formats, ("rss", "atom", "json"), "`[rss, atom, json]`", "formats"),
    Key("feeds.max_items", whole(1), 50, "`50`", "max_items"),
    Key("feeds.summary_length", whole(0), 200, "`200`", "summary_length"),
    Key("feeds.category_path", feed_path(per_name=True), "{slug}", "`{slug}`", "category_path"),
    Key("feeds.all_path", feed_path(per_name=False), "all", "`all`", "all_path"),
    Key("feeds.tag_path", feed_path(per_name=True), "tags/{slug}", "`tags/{slug}`", "tag_path"),
    Key(
        "feeds.category_page",
        page_url,
        "/category/{slug}.html",
        "`/category/{slug}.html`",
        "category_page",
    ),
    Key("feeds.tag_page", page_url, "/tag/{slug}.html", "`/tag/{slug}.html`", "tag_page"),
    Key(
        "feeds.title_template",
        title_template,
        "{name} - {site}",
        "`{name} - {site}`",
        "title_template",
    ),
    Key("feeds.all_feed", flag, True, "`true`", "all_feed"),
    Key("feeds.tag_feeds", flag, False, "`false`", "tag_feeds"),
    Key("feeds.remote_tag_feeds", whole(0), 20, "`20`", "remote_tag_feeds"),
    Key("feeds.stylesheet", flag, True, "`true`", "stylesheet"),
    Key("feeds.archives", flag, False, "`false`", "archives"),
    Key(
        "feeds.archive_path",
        archive_path,
        "archive/{slug}/{month}",
        "`archive/{slug}/{month}`",
        "archive_path",
    ),
    Key("feeds.websub_hub", hub_url, None, _NONE, "websub_hub"),
    Key("feeds.discovery", flag, True, "`true`", "discovery"),
    Key("feeds.variants", variant_list, (), "`[]`", "variants"),
    # categories and tags
    *_group("categories"),
    *_group("tags"),
    # state
    Key("state.dir", text, "state", "`state`", "state_dir"),
    Key("state.max_age_days", whole(0), 0, "`0`", "max_age_days"),
    Key("state.max_entries_per_source", whole(1), 1000, "`1000`", "max_per_source"),
    Key("state.lock_timeout", duration(0.1), 10.0, "`10s`", "lock_timeout"),
    Key("state.database", database_url, None, _NONE, "database"),
    # fetch
    Key("fetch.connect_timeout", duration(0.1), 10.0, "`10s`", "connect_timeout"),
    Key("fetch.deadline", duration(0.1), 30.0, "`30s`", "deadline"),
    Key("fetch.max_bytes", whole(1024), 15 * 1024 * 1024, "`15728640` (15 MiB)", "max_bytes"),
    Key("fetch.max_redirects", whole(0), 5, "`5`", "max_redirects"),
    Key(
        "fetch.user_agent",
        text,
        COMPUTED,
        "`feeds/VERSION (feed aggregator; +SITE_URL)`",
        "user_agent",
    ),
    Key("fetch.concurrency", whole(1), 8, "`8`", "concurrency"),
    Key("fetch.per_host", whole(1), 2, "`2`", "per_host"),
    Key("fetch.allow_networks", networks, (), "`[]`", "allow_networks"),
    Key("fetch.backoff_cap", duration(60, whole_seconds=True), 24 * 3600, "`24h`", "backoff_cap"),
    # sources: a list; id, url and path are read first, by the section
    Key("sources[].id", source_id, None, _REQUIRED),
    Key("sources[].url", None, None, "one of url or path is required"),
    Key("sources[].path", None, None, "one of url or path is required"),
    Key("sources[].categories", texts, (), "`[]`", "categories"),
    Key("sources[].routes", None, (), "`[]`"),
    Key("sources[].routes[].to", text, None, _REQUIRED, "to"),
    Key("sources[].routes[].category", optional_text, None, _NONE, "category"),
    Key("sources[].routes[].title", optional_text, None, _NONE, "title"),
    Key("sources[].timezone", optional_zone, None, "`site.timezone`", "timezone"),
    Key("sources[].title", optional_text, None, "the feed's title", "title"),
    Key("sources[].enabled", flag, True, "`true`", "enabled"),
    Key("sources[].interval", duration(1, whole_seconds=True), 1800, "`30m`", "interval"),
    Key("sources[].allow_networks", networks, (), "`[]`", "allow_networks"),
    Key("sources[].encoding", optional_encoding, None, _NONE, "encoding"),
    # schedule
    Key("schedule.build", build_schedule, "5m", "`5m`", "build"),
    Key("schedule.fetch_every", duration(1), 30.0, "`30s`", "fetch_every"),
    Key("schedule.misfire_grace", duration(1), 600.0, "`10m`", "misfire_grace"),
    Key("schedule.watch", flag, True, "`true`", "watch"),
    # queue (feeds worker, feeds run --distributed)
    Key("queue.database", database_url, None, "`state.database`", "database"),
    Key("queue.concurrency", whole(1), 4, "`4`", "concurrency"),
    Key("queue.heartbeat", duration(0.5), 10.0, "`10s`", "heartbeat"),
    Key("queue.stall_timeout", duration(1), 60.0, "`60s`", "stall_timeout"),
    Key("queue.build_settle", duration(0), 10.0, "`10s`", "build_settle"),
    # build
    Key("build.max_shrink", share, 0.5, "`0.5`", "max_shrink"),
)


def _children(section: str) -> set[str] | None:
    """The keys allowed directly under ``section`` (a README-style path, "" for the top);
    ``None`` when any name is allowed there."""
    prefix = section + "." if section else ""
    names = {
        k.path[len(prefix) :].split(".")[0].removesuffix("[]")
        for k in KEYS
        if k.path.startswith(prefix)
    }
    return None if names == {ANY_NAME} else names


ALLOWED: dict[str, set[str] | None] = {
    section: _children(section)
    for section in {"", *(k.parent for k in KEYS), *(k.parent.rpartition(".")[0] for k in KEYS)}
}


def check_section(r: Reader, section: str, at: yamlutil.Path) -> dict[str, Any]:
    """The mapping at ``at`` (README path ``section``); unknown keys are refused."""
    return r.section(at, ALLOWED[section])


def read_section(
    r: Reader,
    section: str,
    at: yamlutil.Path,
    given: Mapping[str, Any] | None = None,
    **computed: Callable[[dict[str, Any]], Any],
) -> dict[str, Any]:
    """Check the mapping at ``at`` and read every key of ``section`` that fills a field, in
    table order: ``{field: value}``. ``computed[field]`` makes a COMPUTED default from the
    values read before it; ``given[field]`` is taken as it is (from a Jekyll site's config:
    the caller refuses the key in the file)."""
    check_section(r, section, at)
    out: dict[str, Any] = {}
    for key in KEYS:
        if given is not None and key.parent == section and key.field and key.field in given:
            out[key.field] = given[key.field]
        elif key.parent == section and key.field is not None and key.read is not None:
            default = computed[key.field](out) if key.default is COMPUTED else key.default
            out[key.field] = key.read(r, (*at, key.name), default)
    return out
