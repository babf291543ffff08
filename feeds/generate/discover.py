"""Helping people find and subscribe to the feeds: ``index.html`` (every feed, with
autodiscovery tags), ``feeds.opml`` (OPML 2.0: every category feed in one import),
``snippets/<slug>.html`` (autodiscovery tags for the site's category pages), the Jekyll
includes ``snippets/head.html`` and ``snippets/subscribe.html`` (``includes.py``) and ``feed.xsl``
(so a feed opened in a browser reads as a page). Pure: what to write, as bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from lxml import etree

from feeds.config.config import Config
from feeds.formats import FORMATS, LABELS
from feeds.generate import includes, pages
from feeds.generate.generate import STYLESHEET, FeedPlan, feed_page_url, self_url
from feeds.timeutil import rfc822

OPML_FILE = "feeds.opml"
INDEX_FILE = pages.INDEX_FILE


@dataclass(frozen=True)
class Listed:
    """A feed as the index shows it."""

    plan: FeedPlan
    items: int
    newest: dt.datetime


def files(cfg: Config, feeds: Sequence[Listed]) -> dict[str, bytes]:
    """Every discovery file, by path relative to the output folder."""
    out: dict[str, bytes] = {}
    ordered = sorted(
        feeds,
        key=lambda f: ({"all": 0, "category": 1, "tag": 2}[f.plan.kind], f.plan.name, f.plan.lang),
    )
    if cfg.feeds.stylesheet:
        out[STYLESHEET] = XSL.encode("utf-8")
    if not cfg.feeds.discovery or not ordered:
        return out
    out[INDEX_FILE] = index_html(cfg, ordered)
    out[OPML_FILE] = opml(cfg, [f for f in ordered if f.plan.kind == "category"])
    for f in ordered:
        if f.plan.kind == "category" and not f.plan.lang:  # a variant's links are in its own
            out[f"snippets/{f.plan.slug}.html"] = snippet(cfg, f.plan)
    # the includes win over a category slugged "head" or "subscribe" (head.html has its links)
    out |= includes.files(cfg, [f.plan for f in ordered])
    return out


def _links(cfg: Config, plan: FeedPlan) -> list[tuple[str, str, str]]:
    """(format, media type, URL) of each format of a feed."""
    return [(fmt, FORMATS[fmt].media_type, self_url(cfg, path)) for fmt, path in plan.paths.items()]


def snippet(cfg: Config, plan: FeedPlan) -> bytes:
    lines = [f"<!-- feeds: {escape(plan.title)}: include in the <head> of {plan.page_url} -->"]
    lines += pages.head_links(cfg, plan) + pages.variant_links(cfg, plan)
    return ("\n".join(lines) + "\n").encode("utf-8")


def index_html(cfg: Config, feeds: Sequence[Listed]) -> bytes:
    """Every feed, grouped by kind: its page, description, newest entry, item count and a
    link to each format; the autodiscovery tags of every feed but the tags' in the head."""
    site = cfg.site
    head = [link for f in feeds if f.plan.kind != "tag" for link in pages.head_links(cfg, f.plan)]
    groups = []
    for kind, heading in (("all", "全部文章"), ("category", "分类"), ("tag", "标签")):
        items = [_index_item(cfg, f) for f in feeds if f.plan.kind == kind]
        if items:
            groups.append(f'<h2>{heading}</h2>\n<ul class="feeds">\n{chr(10).join(items)}\n</ul>')
    opml_link = (
        f'<p>一次订阅全部分类：<a href="{escape(self_url(cfg, OPML_FILE))}">'
        f"{OPML_FILE}</a>（OPML，可导入任何阅读器）</p>"
    )
    page = f"""<!DOCTYPE html>
<html lang="{escape(site.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(site.title)} · 订阅源</title>
{chr(10).join(head)}
<style>
{pages.STYLE}.feeds {{ list-style: none; padding: 0; margin: 0; }}
.feeds li {{ border-bottom: 1px solid var(--line); padding: .6rem 0; }}
.feeds p {{ margin: .1rem 0; }}
</style>
</head>
<body>
<h1>{escape(site.title)} · 订阅源</h1>
<p>{escape(site.description)}</p>
<div class="box">
{opml_link}
<p>点开一个订阅源，可以复制它的地址，或在 Feedly、Inoreader 等网页阅读器中一键订阅；\
也可以把下面任一格式的链接复制到阅读器（NetNewsWire、Miniflux、newsboat 等）。\
时间为 {escape(site.timezone)} 时间。</p>
</div>
{chr(10).join(groups)}
</body>
</html>
"""
    return page.encode("utf-8")


def _index_item(cfg: Config, f: Listed) -> str:
    plan = f.plan
    page = feed_page_url(cfg, plan) or plan.page_url
    lang = f' hreflang="{escape(plan.lang)}"' if plan.lang else ""
    links = " ".join(
        f'<a href="{escape(url)}" type="{media}"{lang}>{FORMATS[fmt].label}</a>'
        for fmt, media, url in _links(cfg, plan)
    )
    newest = f.newest.astimezone(cfg.site.tz)
    shown = f" <small>{escape(LABELS[plan.lang])}</small>" if plan.lang in LABELS else ""
    return (
        f'<li{lang.replace("hreflang", "lang")}><h3><a href="{escape(page)}">'
        f"{escape(plan.title)}</a>{shown}</h3>\n"
        f'<p class="muted">{escape(plan.description)}</p>\n'
        f'<p class="meta">最新 <time datetime="{newest.isoformat()}">'
        f"{newest:%Y-%m-%d %H:%M}</time> · {f.items} 条 · {links} · "
        f'<a href="{escape(plan.page_url)}">网站</a></p></li>'
    )


def opml(cfg: Config, feeds: Sequence[Listed]) -> bytes:
    """OPML 2.0 subscription list: one outline per category feed (its RSS feed when RSS is
    written, else Atom, else JSON Feed), with xmlUrl and htmlUrl."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = f"{cfg.site.title} · 订阅源"
    if feeds:
        newest = max(f.newest for f in feeds)
        etree.SubElement(head, "dateCreated").text = rfc822(newest)
        etree.SubElement(head, "dateModified").text = rfc822(newest)
    if cfg.site.author:
        etree.SubElement(head, "ownerName").text = cfg.site.author.name
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")
    for f in feeds:
        fmt = next(x for x in FORMATS if x in f.plan.paths)
        outline = etree.SubElement(
            body, "outline", type="rss", text=f.plan.title, title=f.plan.title
        )
        outline.set("xmlUrl", self_url(cfg, f.plan.paths[fmt]))
        outline.set("htmlUrl", f.plan.page_url)
        outline.set("description", f.plan.description)
        outline.set("language", f.plan.lang or cfg.site.language)
        if fmt == "rss":
            outline.set("version", "RSS2")
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


XSL = """<?xml version="1.0" encoding="utf-8"?>
<!-- feeds: shows an RSS 2.0 or Atom 1.0 feed as a readable page in a browser. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" indent="yes" doctype-system="about:legacy-compat"/>
  <xsl:variable name="page"
    select="rss/channel/atom:link[@rel='related'][@type='text/html']/@href
            | atom:feed/atom:link[@rel='related'][@type='text/html']/@href"/>
  <xsl:template match="/">
    <html lang="{rss/channel/language | atom:feed/@xml:lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="rss/channel/title | atom:feed/atom:title"/></title>
        <style>
          body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif;
                 margin: 2rem auto; max-width: 48rem; padding: 0 1rem; color: #222;
                 line-height: 1.6; }
          .note { background: #f4f6f8; padding: .8rem 1rem; border-radius: 6px; }
          .item { border-bottom: 1px solid #e5e5e5; padding: .8rem 0; }
          .date { color: #777; font-size: .9em; }
          code { word-break: break-all; }
        </style>
      </head>
      <body>
        <p class="note">这是一个订阅源（feed）。把本页地址复制到阅读器中即可订阅：
          <code><xsl:value-of select="rss/channel/atom:link[@rel='self']/@href
                                      | atom:feed/atom:link[@rel='self']/@href"/></code>。
          <xsl:if test="$page">也可以打开<a href="{$page}">订阅页</a>，
            在网页阅读器中一键订阅。</xsl:if></p>
        <xsl:apply-templates select="rss/channel | atom:feed"/>
      </body>
    </html>
  </xsl:template>
  <xsl:template match="channel">
    <h1><a href="{link}"><xsl:value-of select="title"/></a></h1>
    <p><xsl:value-of select="description"/></p>
    <xsl:for-each select="item">
      <div class="item">
        <h3><a href="{link}"><xsl:value-of select="title"/></a></h3>
        <div class="date"><xsl:value-of select="pubDate"/></div>
        <p><xsl:value-of select="description"/></p>
      </div>
    </xsl:for-each>
  </xsl:template>
  <xsl:template match="atom:feed">
    <h1><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h1>
    <p><xsl:value-of select="atom:subtitle"/></p>
    <xsl:for-each select="atom:entry">
      <div class="item">
        <h3><a href="{atom:link[not(@rel) or @rel='alternate']/@href}">
          <xsl:value-of select="atom:title"/></a></h3>
        <div class="date"><xsl:value-of select="atom:published"/></div>
        <p><xsl:value-of select="atom:summary"/></p>
      </div>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>
"""
