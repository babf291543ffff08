"""Post bodies → safe, absolute HTML. Pure functions.

Markdown is rendered by cmark-gfm (CommonMark; raw HTML passes through, as Jekyll's
kramdown does), then sanitized by nh3 (scripts, event handlers and ``javascript:`` URLs
removed) with every relative and protocol-relative URL made absolute against the post's URL.
"""

from __future__ import annotations

import functools
import html
import mimetypes
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

from feeds import kramdown
from feeds.models import Enclosure, Entry

# Keep inline HTML (nh3 sanitizes afterwards); footnotes as kramdown has them.
_CMARK_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_FOOTNOTES
_ACTIVE = re.compile(
    r"<\s*(script|iframe|object|embed|style|form)\b|\son[a-z]+\s*=|javascript\s*:", re.I
)
_AUTOLINK_LINE = re.compile(r"^\s*<?(https?://[^\s<>]+)>?\s*$")
_MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
_NAV_SEPARATORS = re.compile(r"[\s｜|/·•]+")


@dataclass(frozen=True)
class Trailer:
    """What site-aware cleanup took off the end of a body."""

    body: str
    source_link: str | None
    dropped_nav: bool


def split_trailer(body: str, *, source_link: bool, drop_nav: bool, nav_prefix: str) -> Trailer:
    """Take the trailing bare ``<http://…>`` line (the original article) and the
    ``[返回…](…)｜[返回首页](…)`` navigation line off the end of a post body.

    Only lines after the last paragraph of the article are looked at; anything else
    stops the search, so a link in the middle of an article is never touched.
    """
    lines = body.rstrip().split("\n")
    found: str | None = None
    dropped = False
    end = len(lines)
    i = end - 1
    while i >= 0:
        line = lines[i].strip()
        if not line:
            i -= 1
            continue
        if drop_nav and not dropped and _is_nav_line(line, nav_prefix):
            dropped = True
        elif source_link and found is None and (m := _AUTOLINK_LINE.match(line)):
            found = m.group(1)
        else:
            break
        end = i
        i -= 1
    if found is None and not dropped:
        return Trailer(body, None, False)
    return Trailer("\n".join(lines[:end]).rstrip() + "\n", found, dropped)


def _is_nav_line(line: str, prefix: str) -> bool:
    links = _MD_LINK.findall(line)
    if not links or not all(text.strip().startswith(prefix) for text, _ in links):
        return False
    return not _NAV_SEPARATORS.sub("", _MD_LINK.sub("", line))


def render_markdown(text: str) -> str:
    """Markdown → HTML, with the kramdown syntax Jekyll posts use (see ``feeds.kramdown``)."""
    if not kramdown.needed(text):
        return _cmark(text)
    prepared = kramdown.prepare(text, _cmark)
    return kramdown.finish(_cmark(prepared.text), prepared)


def _cmark(text: str) -> str:
    return str(cmarkgfm.markdown_to_html(text, options=_CMARK_OPTIONS))


def has_active_content(fragment: str) -> str | None:
    """The first script-like construct in ``fragment`` (for a warning), or None."""
    m = _ACTIVE.search(fragment)
    return m.group(0).strip() if m else None


# nh3's allow-list, plus <video> (its sources and poster are URLs nh3 checks like src) and
# referrerpolicy where a page may load something from another site: with "no-referrer" an
# image host that refuses foreign referrers (Weibo and others answer 403) still serves it.
_TAGS = nh3.ALLOWED_TAGS | {"video", "source"}
_ATTRIBUTES = {
    **nh3.ALLOWED_ATTRIBUTES,
    "img": nh3.ALLOWED_ATTRIBUTES["img"] | {"referrerpolicy"},
    "video": {"src", "poster", "controls", "width", "height", "preload", "referrerpolicy"},
    "source": {"src", "type"},
    "iframe": {"referrerpolicy"},  # iframes themselves are removed; the attribute is allowed
}


def sanitize(fragment: str, base_url: str, *, no_referrer: bool = False) -> str:
    """Safe HTML: nh3's allow-list; relative and ``//host`` URLs resolved against ``base_url``.
    ``no_referrer`` (another site's content) gives every image and video
    ``referrerpolicy="no-referrer"``; otherwise a ``referrerpolicy`` the HTML has is kept."""
    return _cleaner(base_url, no_referrer).clean(fragment)


@functools.lru_cache(maxsize=256)
def _cleaner(base_url: str, no_referrer: bool) -> nh3.Cleaner:
    """A sanitizer for one base URL, made once: building one costs three times what
    cleaning a typical entry does (a source's entries mostly share their feed's base)."""
    forced = {"img": {"referrerpolicy": "no-referrer"}, "video": {"referrerpolicy": "no-referrer"}}
    return nh3.Cleaner(
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        link_rel=None,
        url_relative=("rewrite_with_base", base_url),
        set_tag_attribute_values=forced if no_referrer else None,
    )


# --------------------------------------------------------------------------- pictures

_IMG = re.compile(r"<img\b[^>]*>", re.I)
_ATTR = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_LAZY = ("data-src", "data-original", "data-actualsrc")
_PLACEHOLDER_SRC = re.compile(
    r"^(?:data:|about:|javascript:|#|$)|(?:blank|placeholder|spacer|lazy|loading|grey|gray"
    r"|transparent|pixel|1x1)[^/]*\.(?:gif|png|svg|jpe?g)(?:\?.*)?$",
    re.I,
)
_SANITIZED_IMG_SRC = re.compile(r'(<img\b[^>]*?\ssrc=")([^"]*)(")')


def _attrs(tag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in _ATTR.findall(tag[4:].rstrip(">/")):
        out.setdefault(name.lower(), html.unescape(value.strip("\"'")) if value else "")
    return out


def repair_lazy_images(fragment: str) -> str:
    """Lazy-loaded images as a page's script would show them: an ``<img>`` without a usable
    ``src`` (missing, a ``data:`` URI, a ``blank.gif``-style placeholder) gets the real URL from
    ``data-src``, ``data-original`` or ``data-actualsrc``. Other tags are left as they are."""
    if "data-" not in fragment:
        return fragment

    def fix(m: re.Match[str]) -> str:
        tag = m.group(0)
        attrs = _attrs(tag)
        real = next((attrs[a].strip() for a in _LAZY if attrs.get(a, "").strip()), None)
        if real is None or not _PLACEHOLDER_SRC.search(attrs.get("src", "").strip()):
            return tag
        kept = [
            f'{k}="{html.escape(v, quote=True)}"'
            for k, v in attrs.items()
            if k not in ("src", *_LAZY, "srcset")
        ]
        return "<img " + " ".join([f'src="{html.escape(real, quote=True)}"', *kept]) + ">"

    return _IMG.sub(fix, fragment)


def first_image(sanitized: str) -> str | None:
    """The ``src`` of the first image of sanitized HTML (an absolute http(s) URL), or None."""
    m = _SANITIZED_IMG_SRC.search(sanitized)
    if m is None:
        return None
    url = html.unescape(m.group(2))
    return url if urlsplit(url).scheme in ("http", "https") else None


def proxied(url: str, template: str) -> str:
    """``url`` through an image proxy: ``{url}`` in ``template`` becomes the URL, encoded."""
    return template.replace("{url}", quote(url, safe=""))


def proxy_images(sanitized: str, template: str) -> str:
    """Every http(s) image of sanitized HTML loaded through the proxy ``template``."""

    def swap(m: re.Match[str]) -> str:
        url = html.unescape(m.group(2))
        if urlsplit(url).scheme not in ("http", "https") or url.startswith(_prefix(template)):
            return m.group(0)
        return m.group(1) + html.escape(proxied(url, template), quote=True) + m.group(3)

    return _SANITIZED_IMG_SRC.sub(swap, sanitized)


def _prefix(template: str) -> str:
    return template.split("{url}", 1)[0]


def media_type(url: str) -> str:
    """A media type guessed from the URL's file name (``image/jpeg``), else a generic one."""
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    return guessed or "application/octet-stream"


def source_paragraph(url: str) -> str:
    """The original-article link as it is shown at the end of the content."""
    safe = html.escape(url, quote=True)
    return f'<p><a href="{safe}">{safe}</a></p>\n'


def picture(e: Entry) -> Enclosure | None:
    """The entry's picture: its own (front matter ``image``, the source's Media RSS), else
    the first image of its content."""
    if e.image is not None:
        return e.image
    url = first_image(e.content_html) if "<img" in e.content_html else None
    return Enclosure(url, 0, media_type(url)) if url else None
