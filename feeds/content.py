"""Post bodies → safe, absolute HTML. Pure functions.

Markdown is rendered by cmark-gfm (CommonMark; raw HTML passes through, as Jekyll's
kramdown does), then sanitized by nh3 (scripts, event handlers and ``javascript:`` URLs
removed) with every relative and protocol-relative URL made absolute against the post's URL.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

from feeds import kramdown

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


def sanitize(fragment: str, base_url: str) -> str:
    """Safe HTML: nh3's allow-list; relative and ``//host`` URLs resolved against ``base_url``."""
    return nh3.clean(
        fragment,
        link_rel=None,
        url_relative=("rewrite_with_base", base_url),
    )


def source_paragraph(url: str) -> str:
    """The original-article link as it is shown at the end of the content."""
    safe = html.escape(url, quote=True)
    return f'<p><a href="{safe}">{safe}</a></p>\n'
