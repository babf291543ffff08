"""Jekyll's own Liquid filters (the common ones), for ``feeds.jekyll.liquid``. Pure.

Each follows Jekyll 4's ``Jekyll::Filters``: ``relative_url`` and ``absolute_url`` use the
site's ``baseurl`` and ``url``; date filters take a datetime, a date or an ISO 8601 string.
A filter Jekyll has and this module lacks (``markdownify``, ``smartify``, ``where_exp``, …)
is an unknown filter, which the caller reports and removes.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

from liquid import Environment, RenderContext
from liquid.exceptions import FilterArgumentError
from liquid.filter import with_context

_SLUG_KEEP = {
    "raw": r"\s+",
    "default": r"[^\w]+|_+",
    "pretty": r"[^\w._~!$&'()+,;=@]+",
    "ascii": r"[^a-zA-Z0-9]+",
}


def register(env: Environment, *, site_key: str) -> None:
    """Add the filters to ``env``; ``site_key`` is where the render data holds ``site``."""

    def site(context: RenderContext) -> Mapping[str, Any]:
        value = context.get([site_key], token=None, default={})
        return value if isinstance(value, Mapping) else {}

    @with_context
    def relative_url(value: object, *, context: RenderContext) -> object:
        return _relative(value, site(context))

    @with_context
    def absolute_url(value: object, *, context: RenderContext) -> object:
        conf = site(context)
        rel = _relative(value, conf)
        if not isinstance(rel, str) or _is_absolute(rel) or not conf.get("url"):
            return rel
        return str(conf["url"]).rstrip("/") + rel

    table: dict[str, Callable[..., Any]] = {
        "relative_url": relative_url,
        "absolute_url": absolute_url,
        "date_to_xmlschema": lambda v: _date(v, "date_to_xmlschema").isoformat(),
        "date_to_rfc822": lambda v: _date(v, "date_to_rfc822").strftime("%a, %d %b %Y %H:%M:%S %z"),
        "date_to_string": lambda v, *_: _date(v, "date_to_string").strftime("%d %b %Y"),
        "date_to_long_string": lambda v, *_: _date(v, "date_to_long_string").strftime("%d %B %Y"),
        "xml_escape": _xml_escape,
        "cgi_escape": lambda v: quote_plus(str(v)),
        "uri_escape": lambda v: quote(str(v), safe="/:@!$&'()*+,;=-._~%#?[]"),
        "jsonify": _jsonify,
        "slugify": slugify,
        "number_of_words": lambda v, *_: len(str(v).split()),
        "normalize_whitespace": lambda v: " ".join(str(v).split()),
        "array_to_sentence_string": _sentence,
    }
    for name, func in table.items():
        env.add_filter(name, func)


def _is_absolute(url: str) -> bool:
    return bool(urlsplit(url).scheme)


def _relative(value: object, conf: Mapping[str, Any]) -> object:
    if value is None:
        return None
    text = str(value)
    if _is_absolute(text):
        return text
    base = str(conf.get("baseurl") or "").strip("/ ")
    path = text if not text or text.startswith("/") else "/" + text
    return ("/" + base if base else "") + path


def _date(value: object, name: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)  # noqa: DTZ001 - Jekyll's local day
    try:
        return dt.datetime.fromisoformat(str(value).strip())
    except ValueError as e:
        raise FilterArgumentError(f"{name}: not a date: {value!r}", token=None) from e


def _xml_escape(value: object) -> str:
    if value is None:
        return ""
    return html.escape(str(value), quote=True).replace("&#x27;", "&apos;")


def _jsonify(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _sentence(value: object, connector: object = "and") -> str:
    items = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    if len(items) <= 2:
        return f" {connector} ".join(items)
    return ", ".join(items[:-1]) + f", {connector} " + items[-1]


def slugify(value: object, mode: object = "default") -> str:
    """Jekyll's ``slugify``: lower case, runs of other characters as one ``-``."""
    text = "" if value is None else str(value)
    if mode == "none":
        return text
    if mode in ("ascii", "latin"):
        if mode == "latin":
            text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        pattern = _SLUG_KEEP["ascii"]
    else:
        pattern = _SLUG_KEEP.get(str(mode), _SLUG_KEEP["default"])
    return re.sub(pattern, "-", text).strip("-").lower()
