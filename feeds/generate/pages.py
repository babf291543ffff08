"""A web page for every feed (``caijing.html`` beside ``caijing.rss.xml``): what a person who
follows a feed link in a browser reads, since browsers show RSS and Atom as raw text. The
feed's title and description, its entries (title, time in site time, summary, original
source) and every way to subscribe: the feed URLs to copy, a ``feed:`` link and links that
open the feed in the common web readers. Plain HTML and CSS; a six-line script only adds
copy buttons. Pure: what to write, as bytes.

Every string from a post or a source is escaped; entries carry only their plain-text summary,
never their HTML, so nothing of a hostile source's markup reaches the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape
from urllib.parse import quote, urlsplit

from feeds.config.config import Config
from feeds.formats import FORMATS, LABELS
from feeds.generate.generate import FeedPlan, Fragments, self_url
from feeds.models import Entry

INDEX_FILE = "index.html"

# Web readers that subscribe from a link: (name, URL template; {url} is the feed's URL,
# percent-encoded whole).
READERS: tuple[tuple[str, str], ...] = (
    ("Feedly", "https://feedly.com/i/subscription/feed%2F{url}"),
    ("Inoreader", "https://www.inoreader.com/?add_feed={url}"),
    ("NewsBlur", "https://www.newsblur.com/?url={url}"),
    ("The Old Reader", "https://theoldreader.com/feeds/subscribe?url={url}"),
    ("Feedbin", "https://feedbin.com/?subscribe={url}"),
)

KINDS = {"all": "全部文章", "category": "分类", "tag": "标签"}

STYLE = """\
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --line: #d8dee4;
        --box: #f6f8fa; --link: #0b57d0; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --box: #151b23; --link: #6cb6ff; }
}
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "PingFang SC", "Hiragino Sans GB",
       "Microsoft YaHei", "Noto Sans CJK SC", sans-serif;
       margin: 0 auto; max-width: 48rem; padding: 1rem; color: var(--fg); line-height: 1.6;
       overflow-wrap: anywhere; }
a { color: var(--link); }
h1 { font-size: 1.6rem; line-height: 1.3; margin: .4rem 0; }
h2 { font-size: 1.2rem; margin: 1.6rem 0 .6rem; }
h3 { font-size: 1.05rem; margin: 0 0 .2rem; }
.muted, .meta { color: var(--muted); font-size: .9rem; }
.box { background: var(--box); border: 1px solid var(--line); border-radius: 8px;
       padding: .8rem 1rem; }
.box > :first-child { margin-top: 0; }
.meta a, .urls .fmt { white-space: nowrap; }
.urls { list-style: none; padding: 0; margin: 0 0 .6rem; }
.urls li { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem;
           padding: .3rem 0; }
.urls .fmt { font-weight: 600; min-width: 5.5rem; }
.urls code { order: 1; flex: 1 1 0; min-width: 0; word-break: break-all; font-size: .85rem; }
.urls .act { order: 2; }
@media (max-width: 40rem) {
  .urls .fmt { flex: 1 1 auto; }
  .urls code { order: 3; flex-basis: 100%; }
}
.readers { display: flex; flex-wrap: wrap; gap: .4rem; padding: 0; margin: .4rem 0 0;
           list-style: none; }
.readers a, button { display: inline-block; border: 1px solid var(--line); border-radius: 6px;
                     padding: .2rem .6rem; text-decoration: none; font: inherit;
                     font-size: .9rem; background: transparent; color: var(--link);
                     cursor: pointer; }
article { border-bottom: 1px solid var(--line); padding: .8rem 0; }
article p { margin: .2rem 0; }
footer { margin-top: 2rem; }
"""

COPY_SCRIPT = """\
<script>
if (navigator.clipboard) for (const b of document.querySelectorAll("button[data-copy]")) {
  b.hidden = false;
  b.addEventListener("click", () =>
    navigator.clipboard.writeText(b.dataset.copy).then(() => { b.textContent = "已复制"; }));
}
</script>
"""


def subscribe_url(plan: FeedPlan) -> str:
    """The format handed to readers and web readers: RSS when written, else Atom, else JSON
    Feed (the same choice as the OPML file)."""
    return next(f for f in FORMATS if f in plan.paths)


def reader_links(feed_url: str) -> list[tuple[str, str]]:
    """(reader name, link that subscribes to ``feed_url`` there)."""
    return [(name, t.format(url=quote(feed_url, safe=""))) for name, t in READERS]


def _safe_href(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL (what may become an ``href``), else None."""
    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def head_links(cfg: Config, plan: FeedPlan) -> list[str]:
    """Autodiscovery ``<link rel="alternate">`` tags of every format of a feed (with its
    ``hreflang`` when it is a 繁體中文 variant)."""
    lang = f' hreflang="{escape(plan.lang)}"' if plan.lang else ""
    return [
        f'<link rel="alternate" type="{FORMATS[fmt].media_type}"{lang} '
        f'title="{escape(plan.title)} ({FORMATS[fmt].label})" '
        f'href="{escape(self_url(cfg, path))}">'
        for fmt, path in plan.paths.items()
    ]


def variant_links(cfg: Config, plan: FeedPlan) -> list[str]:
    """Autodiscovery tags of the same feed in its other languages (its 繁體中文 variants, or
    for a variant the original and the other variants), with ``hreflang``."""
    return [
        f'<link rel="alternate" type="{FORMATS[fmt].media_type}" hreflang="{escape(lang)}" '
        f'title="{escape(plan.title)} ({LABELS.get(lang, lang)}, {FORMATS[fmt].label})" '
        f'href="{escape(self_url(cfg, path))}">'
        for lang, paths in plan.alternates
        for fmt, path in paths.items()
    ]


def render(
    cfg: Config, plan: FeedPlan, entries: Sequence[Entry], fragments: Fragments | None = None
) -> bytes:
    """The page of one feed; ``entries`` as the feed carries them (newest first).
    ``fragments``: entries' articles shared with the build's other pages (as feeds share
    their entries' bytes: the page of everything keeps them, the others take them)."""
    lang = escape(plan.lang or cfg.site.language)
    head = "\n".join(head_links(cfg, plan) + variant_links(cfg, plan))
    shared = fragments if fragments is not None else Fragments()
    keep = fragments is not None and plan.kind == "all"
    parts = shared.units(
        "page", entries, lambda es: [_article(cfg, e).encode() for e in es], keep=keep
    )
    assert parts is not None  # noqa: S101 - articles are always made
    # the last mark is ours: only fixed text follows the articles
    before, _, after = _page(cfg, plan, entries, lang, head).rpartition(_ARTICLES)
    return b"".join((before.encode(), b"\n".join(parts), after.encode()))


_ARTICLES = "\0articles\0"  # where the articles go


def _page(cfg: Config, plan: FeedPlan, entries: Sequence[Entry], lang: str, head: str) -> str:
    articles = _ARTICLES
    offset = _offset(entries[0].published.astimezone(cfg.site.tz)) if entries else ""
    site_link = _safe_href(plan.page_url)
    page = f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(plan.title)} · 订阅</title>
<meta name="description" content="{escape(plan.description)}">
{head}
<style>
{STYLE}</style>
</head>
<body>
<header>
<p class="muted"><a href="{escape(self_url(cfg, INDEX_FILE))}">{escape(cfg.site.title)} · \
全部订阅源</a> · {KINDS[plan.kind]}</p>
<h1>{escape(plan.title)}</h1>
<p>{escape(plan.description)}</p>
{f'<p><a href="{escape(site_link)}">在网站上阅读</a></p>' if site_link else ""}
</header>
<section class="box" id="subscribe">
<h2>订阅</h2>
{_subscribe(cfg, plan)}
</section>
<section id="entries">
<h2>最新文章</h2>
<p class="muted">共 {len(entries)} 篇，时间为 {escape(cfg.site.timezone)} 时间（{offset}）。</p>
{articles}
</section>
<footer class="muted">订阅源由 feeds 生成；内容以原网站为准。</footer>
{COPY_SCRIPT}</body>
</html>
"""
    return page


def _subscribe(cfg: Config, plan: FeedPlan) -> str:
    rows = []
    for fmt, path in plan.paths.items():
        url = escape(self_url(cfg, path))
        rows.append(
            f'<li><span class="fmt">{FORMATS[fmt].label}</span> '
            f'<a class="act" href="{url}" type="{FORMATS[fmt].media_type}">打开</a> '
            f'<button class="act" type="button" data-copy="{url}" hidden>复制</button> '
            f"<code>{url}</code></li>"
        )
    main = self_url(cfg, plan.paths[subscribe_url(plan)])
    readers = "\n".join(
        f'<li><a href="{escape(link)}" rel="nofollow">{escape(name)}</a></li>'
        for name, link in reader_links(main)
    )
    return f"""<p>把订阅地址复制到阅读器（NetNewsWire、Miniflux、newsboat 等），\
或在网页阅读器中一键订阅。</p>
<ul class="urls">
{chr(10).join(rows)}
</ul>
<ul class="readers">
<li><a href="{escape("feed:" + main)}">用本机阅读器订阅</a></li>
{readers}
</ul>"""


def _article(cfg: Config, e: Entry) -> str:
    when = e.published.astimezone(cfg.site.tz)
    meta = [f'<time datetime="{when.isoformat()}">{when:%Y-%m-%d %H:%M}</time>']
    if e.source is not None:
        home = _safe_href(e.source.link)
        name = escape(e.source.title)
        meta.append(f'来源：<a href="{escape(home)}">{name}</a>' if home else f"来源：{name}")
    original = _safe_href(e.source_link)
    if original:
        meta.append(f'<a href="{escape(original)}">原文</a>')
    summary = f"\n<p>{escape(e.summary)}</p>" if e.summary else ""
    return (
        f'<article>\n<h3><a href="{escape(e.link)}">{escape(e.title)}</a></h3>\n'
        f'<p class="meta">{" · ".join(meta)}</p>{summary}\n</article>'
    )


def _offset(when: dt.datetime) -> str:
    """``UTC+08:00``: the site's offset at ``when``."""
    off = when.utcoffset() or dt.timedelta(0)
    sign = "-" if off < dt.timedelta(0) else "+"
    minutes = abs(int(off.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
