"""Jekyll includes for the site that links the feeds: ``snippets/head.html`` (autodiscovery
``<link rel="alternate">`` tags) and ``snippets/subscribe.html`` (a subscribe box). A site
copies both into ``_includes/feeds/`` and writes ``{% include feeds/head.html %}`` in its
layout's ``<head>`` and ``{% include feeds/subscribe.html %}`` where the box goes, as
jekyll-feed's ``{% feed_meta %}`` does for its one feed.

Each picks the category from ``include.category``, else ``page.category``, else the page's
first category (a post's), and a Liquid ``case`` gives that category's feeds; the feed of
everything is always linked (and boxed where no category matches). Pure: what to write.

What comes from posts and the config is HTML-escaped and its braces written as character
references, so Jekyll's Liquid never runs anything of it; a category whose name a Liquid
string cannot hold (braces, a line break, both quote marks) is left out of the ``case``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from feeds.config.config import Config
from feeds.formats import FORMATS
from feeds.generate import pages
from feeds.generate.generate import FeedPlan, feed_page_url, self_url

HEAD_FILE = "snippets/head.html"
SUBSCRIBE_FILE = "snippets/subscribe.html"

PICK = (
    "{%- assign feeds_category = include.category | default: page.category"
    " | default: page.categories.first -%}"
)


def files(cfg: Config, plans: Sequence[FeedPlan]) -> dict[str, bytes]:
    """Both includes, by path relative to the output folder."""
    plans = [p for p in plans if not p.lang]  # a variant is linked from its original
    everything = next((p for p in plans if p.kind == "all"), None)
    categories = [p for p in plans if p.kind == "category" and _literal(p.name) is not None]
    head = [_comment("head", "in the <head> of a layout"), PICK]
    box = [_comment("subscribe", "where a page shows its subscribe box"), PICK]
    head.append("{%- case feeds_category -%}")
    box.append("{%- case feeds_category -%}")
    for plan in categories:
        when = f"{{%- when {_literal(plan.name)} -%}}"
        links = pages.head_links(cfg, plan) + pages.variant_links(cfg, plan)
        head += [when, *(_safe(x) for x in links)]
        box += [when, _box(cfg, plan)]
    head.append("{%- endcase -%}")
    if everything is not None:
        links = pages.head_links(cfg, everything) + pages.variant_links(cfg, everything)
        head += [_safe(x) for x in links]
        box += ["{%- else -%}", _box(cfg, everything)]
    box.append("{%- endcase -%}")
    return {
        HEAD_FILE: ("\n".join(head) + "\n").encode("utf-8"),
        SUBSCRIBE_FILE: ("\n".join(box) + "\n").encode("utf-8"),
    }


def _comment(name: str, where: str) -> str:
    return (
        f"{{%- comment -%}} feeds: copy into the site's _includes/feeds/ and include "
        f"feeds/{name}.html {where}; category=NAME picks a category, else page.category "
        "or the page's first category. Written by every build. {%- endcomment -%}"
    )


def _box(cfg: Config, plan: FeedPlan) -> str:
    links = " · ".join(
        f'<a href="{escape(self_url(cfg, path))}" type="{FORMATS[fmt].media_type}">'
        f"{FORMATS[fmt].label}</a>"
        for fmt, path in plan.paths.items()
    )
    page = feed_page_url(cfg, plan)
    more = f' · <a href="{escape(page)}">更多订阅方式</a>' if page else ""
    return _safe(
        f'<aside class="feeds-subscribe" lang="{escape(cfg.site.language)}">'
        f"<p>订阅「{escape(plan.title)}」：{links}{more}</p></aside>"
    )


def _safe(html: str) -> str:
    """HTML that Liquid passes through untouched: no ``{{`` or ``{%`` can start in it."""
    return html.replace("{", "&#123;").replace("}", "&#125;")


def _literal(name: str) -> str | None:
    """``name`` as a Liquid string literal, or None when none can hold it."""
    if any(c in name for c in "{}\r\n"):
        return None
    if '"' not in name:
        return f'"{name}"'
    return None if "'" in name else f"'{name}'"
