"""Reading config values: typed access to the YAML document, and the validators the key table
(``keys.py``) names. Every error is a ``ConfigError`` that names the file, the line and
the dotted key (``config.yaml:12: feeds.max_items: must be ≥ 1, not 0``).

A value reader is ``read(r, path, default) -> value``: it returns ``default`` when the key is
absent (``None`` as the default means the key is required, for the text readers).
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from feeds import cron, timeutil, yamlutil
from feeds.collect.encoding import codec_name
from feeds.errors import ConfigError, DateError
from feeds.formats import VARIANTS
from feeds.textutil import slugify

JEKYLL_PERMALINKS = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
FORMATS = ("rss", "atom", "json")


class Reader:
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

    def section(self, path: yamlutil.Path, allowed: set[str] | None) -> dict[str, Any]:
        """The mapping at ``path`` (empty when absent); a key not in ``allowed`` is an error
        (``None``: any key, as for the names under ``categories.meta``)."""
        value = self.raw(path)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, f"must be a mapping of keys, not {kind(value)}")
        if allowed is None:
            return value
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
            raise self.error(path, f"must be a string, not {kind(value)}")
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
            raise self.error(path, f"must be a whole number, not {kind(value)}")
        if value < minimum:
            raise self.error(path, f"must be ≥ {minimum}, not {value}")
        return value

    def boolean(self, path: yamlutil.Path, default: bool) -> bool:
        if not self.has(path):
            return default
        value = self.raw(path)
        if not isinstance(value, bool):
            raise self.error(path, f"must be true or false, not {kind(value)}")
        return value

    def strings(self, path: yamlutil.Path, default: tuple[str, ...]) -> tuple[str, ...]:
        if not self.has(path) or self.raw(path) is None:
            return default
        value = self.raw(path)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.error(path, f"must be a list of strings, not {kind(value)}")
        out = []
        for i in range(len(value)):
            out.append(self.string((*path, i)))
        return tuple(out)


def kind(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{value!r} ({type(value).__name__})"


ValueReader = Callable[[Reader, yamlutil.Path, Any], Any]


def text(r: Reader, path: yamlutil.Path, default: str | None) -> str:
    return r.string(path, default)


def optional_text(r: Reader, path: yamlutil.Path, default: None) -> str | None:
    return r.optional_string(path)


def texts(r: Reader, path: yamlutil.Path, default: tuple[str, ...]) -> tuple[str, ...]:
    return r.strings(path, default)


def flag(r: Reader, path: yamlutil.Path, default: bool) -> bool:
    return r.boolean(path, default)


def whole(minimum: int) -> ValueReader:
    def read(r: Reader, path: yamlutil.Path, default: int) -> int:
        return r.integer(path, default, minimum=minimum)

    return read


def share(r: Reader, path: yamlutil.Path, default: float) -> float:
    """A share from 0 to 1 (``0.5``: half)."""
    if not r.has(path):
        return default
    value = r.raw(path)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise r.error(path, f"must be a share from 0 to 1 such as 0.5, not {kind(value)}")
    return float(value)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def interval_seconds(value: str) -> float | None:
    """Seconds for an interval such as ``90s``, ``30m``, ``2h``, ``1d`` (a bare number is
    seconds); ``None`` when ``value`` is not one."""
    m = _DURATION.match(value)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def duration(minimum: float, *, whole_seconds: bool = False) -> ValueReader:
    """Seconds, from a number or a string like ``90s``, ``30m``, ``2h``, ``1d``."""

    def read(r: Reader, path: yamlutil.Path, default: float) -> float:
        if not r.has(path):
            return default
        value = r.raw(path)
        seconds = None if isinstance(value, bool) else interval_seconds(str(value))
        if seconds is None:
            raise r.error(path, f"must be a duration such as 90s, 30m, 2h or 1d, not {kind(value)}")
        if seconds < minimum:
            raise r.error(path, f"must be at least {minimum:g} s")
        return int(seconds) if whole_seconds else seconds

    return read


def networks(r: Reader, path: yamlutil.Path, default: tuple[str, ...]) -> tuple[str, ...]:
    out = r.strings(path, default)
    for i, value in enumerate(out):
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as e:
            raise r.error((*path, i), f"not a network such as 127.0.0.0/8: {e}") from e
    return out


def _checked_zone(r: Reader, path: yamlutil.Path, name: str) -> str:
    try:
        timeutil.zone(name)
    except DateError as e:
        raise r.error(path, str(e)) from e
    return name


def zone_name(r: Reader, path: yamlutil.Path, default: str) -> str:
    return _checked_zone(r, path, r.string(path, default))


def optional_zone(r: Reader, path: yamlutil.Path, default: None) -> str | None:
    name = r.optional_string(path)
    return None if name is None else _checked_zone(r, path, name)


def optional_encoding(r: Reader, path: yamlutil.Path, default: None) -> str | None:
    name = r.optional_string(path)
    if name is None:
        return None
    codec = codec_name(name)
    if codec is None:
        raise r.error(path, f"unknown encoding {name!r} (e.g. gb18030, big5, shift_jis)")
    return codec


def _http(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def http_url(r: Reader, path: yamlutil.Path, default: str | None) -> str:
    value = r.string(path, default)
    if not _http(value):
        raise r.error(path, f"must be an absolute http(s) URL, not {value!r}")
    return value


def site_url(r: Reader, path: yamlutil.Path, default: None) -> str:
    """The site's URL, without its trailing slash."""
    value = http_url(r, path, None)
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        raise r.error(path, "must not have a query or fragment")
    return value.rstrip("/")


def folder_url(r: Reader, path: yamlutil.Path, default: str) -> str:
    """An absolute http(s) URL of a folder: it ends with ``/``."""
    value = http_url(r, path, default)
    return value if value.endswith("/") else value + "/"


def hub_url(r: Reader, path: yamlutil.Path, default: None) -> str | None:
    value = r.optional_string(path)
    if value is not None and not _http(value):
        raise r.error(path, f"must be the hub's absolute http(s) URL, not {value!r}")
    return value


def database_url(r: Reader, path: yamlutil.Path, default: None) -> str | None:
    value = r.optional_string(path)
    if value is not None and not value.startswith(("postgresql://", "postgres://")):
        raise r.error(path, "must be a postgresql:// URL (absent: the SQLite store in state.dir)")
    return value


def variant_list(r: Reader, path: yamlutil.Path, default: tuple[str, ...]) -> tuple[str, ...]:
    """繁體中文 variants to write (``feeds.variants``): each one of ``formats.VARIANTS``."""

    values = r.strings(path, default)
    for i, value in enumerate(values):
        if value not in VARIANTS:
            raise r.error((*path, i), f"unknown variant {value!r}; known: {', '.join(VARIANTS)}")
    return tuple(dict.fromkeys(values))


def image_proxy(r: Reader, path: yamlutil.Path, default: None) -> str | None:
    """An image proxy's URL template: absolute http(s), with ``{url}`` (the image's URL,
    percent-encoded) exactly once."""
    value = r.optional_string(path)
    if value is not None and (not _http(value.replace("{url}", "x")) or value.count("{url}") != 1):
        raise r.error(
            path,
            f"must be an http(s) URL with {{url}} once, e.g. https://img.example.org/?url={{url}}; "
            f"not {value!r}",
        )
    return value


def permalink(r: Reader, path: yamlutil.Path, default: str) -> str:
    value = r.string(path, default)
    value = JEKYLL_PERMALINKS.get(value, value)
    if not value.startswith("/"):
        raise r.error(path, f"must start with '/' or be one of {', '.join(JEKYLL_PERMALINKS)}")
    return value


def formats(r: Reader, path: yamlutil.Path, default: tuple[str, ...]) -> tuple[str, ...]:
    values = r.strings(path, default)
    for i, fmt in enumerate(values):
        if fmt not in FORMATS:
            raise r.error((*path, i), f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if not values:
        raise r.error(path, f"must list at least one of: {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(values))


def slug(r: Reader, path: yamlutil.Path, default: None) -> str | None:
    value = r.optional_string(path)
    if value is not None and slugify(value) != value:
        raise r.error(
            path,
            f"must be lower-case letters, digits and '-' (e.g. {slugify(value)!r}), not {value!r}",
        )
    return value


_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def source_id(r: Reader, path: yamlutil.Path, default: None) -> str:
    value = r.string(path, required=True)
    if not _SOURCE_ID.match(value):
        raise r.error(path, f"must be lower-case letters, digits, '-' or '_', not {value!r}")
    return value


def build_schedule(r: Reader, path: yamlutil.Path, default: str) -> str:
    """An interval (at least 1 s) or a cron expression that fires."""
    value = r.string(path, default)
    if interval_seconds(value) is not None:
        duration(1)(r, path, 0.0)
        return value
    try:
        cron.parse(value)
    except cron.CronError as e:
        raise r.error(path, f"not an interval (5m) or a valid cron expression: {e}") from e
    return value


# ----------------------------------------------------------------- templates

_FIELD = re.compile(r"\{([^{}]*)\}")


def _template(
    r: Reader, path: yamlutil.Path, default: str, allowed: set[str], required: set[str]
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


def _inside_output(r: Reader, path: yamlutil.Path, value: str) -> str:
    parts = value.split("/")
    if value.startswith("/") or ".." in parts or "" in parts or "\\" in value:
        raise r.error(path, f"must be a relative path inside the output folder, not {value!r}")
    return value


def feed_path(*, per_name: bool) -> ValueReader:
    """A feed's file inside the output folder, without the format's extension."""

    def read(r: Reader, path: yamlutil.Path, default: str) -> str:
        if "{format}" in r.string(path, default):
            raise r.error(
                path,
                "leave out {format} and the extension: each format adds its own "
                "(.rss.xml, .atom.xml, .json)",
            )
        required = {"slug"} if per_name else set()
        return _inside_output(r, path, _template(r, path, default, {"slug"}, required))

    return read


def archive_path(r: Reader, path: yamlutil.Path, default: str) -> str:
    value = _template(r, path, default, {"slug", "month"}, {"slug", "month"})
    return _inside_output(r, path, value)


def page_url(r: Reader, path: yamlutil.Path, default: str) -> str:
    value = _template(r, path, default, {"slug"}, {"slug"})
    if not value.startswith("/") and not urlsplit(value).scheme:
        raise r.error(path, f"must start with '/' or be an absolute URL, not {value!r}")
    return value


def title_template(r: Reader, path: yamlutil.Path, default: str) -> str:
    return _template(r, path, default, {"name", "site"}, {"name"})


# what a Jekyll site's _config.yml decides, so the feeds config must not say it too
