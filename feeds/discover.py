"""Helping people find and subscribe to the feeds: ``index.html`` (every feed, with
autodiscovery tags), ``feeds.opml`` (OPML 2.0: every category feed in one import),
``snippets/<slug>.html`` (autodiscovery tags for the site's category pages) and ``feed.xsl``
(so a feed opened in a browser reads as a page). Pure: what to write, as bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from lxml import etree

from feeds.config import Config
from feeds.formats import FORMATS
from feeds.generate import STYLESHEET, FeedPlan, self_url
from feeds.timeutil import rfc822

OPML_FILE = "feeds.opml"
INDEX_FILE = "index.html"


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
        feeds, key=lambda f: ({"all": 0, "category": 1, "tag": 2}[f.plan.kind], f.plan.name)
    )
    if cfg.feeds.stylesheet:
        out[STYLESHEET] = XSL.encode("utf-8")
    if not cfg.feeds.discovery or not ordered:
        return out
    out[INDEX_FILE] = index_html(cfg, ordered)
    out[OPML_FILE] = opml(cfg, [f for f in ordered if f.plan.kind == "category"])
    for f in ordered:
        if f.plan.kind == "category":
            out[f"snippets/{f.plan.slug}.html"] = snippet(cfg, f.plan)
    return out


def _links(cfg: Config, plan: FeedPlan) -> list[tuple[str, str, str]]:
    """(format, media type, URL) of each format of a feed."""
    return [(fmt, FORMATS[fmt].media_type, self_url(cfg, path)) for fmt, path in plan.paths.items()]


def snippet(cfg: Config, plan: FeedPlan) -> bytes:
    lines = [f"<!-- feeds: {escape(plan.title)}: include in the <head> of {plan.page_url} -->"]
    for fmt, media, url in _links(cfg, plan):
        lines.append(
            f'<link rel="alternate" type="{media}" '
            f'title="{escape(plan.title)} ({FORMATS[fmt].label})" href="{escape(url)}">'
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def index_html(cfg: Config, feeds: Sequence[Listed]) -> bytes:
    site = cfg.site
    head = [
        f'<link rel="alternate" type="{media}" title="{escape(f.plan.title)} '
        f'({FORMATS[fmt].label})" href="{escape(url)}">'
        for f in feeds
        if f.plan.kind != "tag"
        for fmt, media, url in _links(cfg, f.plan)
    ]
    rows = []
    for f in feeds:
        links = " ".join(
            f'<a href="{escape(url)}" type="{media}">{FORMATS[fmt].label}</a>'
            for fmt, media, url in _links(cfg, f.plan)
        )
        kind = {"all": "全部", "category": "分类", "tag": "标签"}[f.plan.kind]
        rows.append(
            f'<tr><td>{kind}</td><td><a href="{escape(f.plan.page_url)}">'
            f"{escape(f.plan.title)}</a><br><small>{escape(f.plan.description)}</small></td>"
            f"<td>{f.newest.strftime('%Y-%m-%d %H:%M')}</td><td>{f.items}</td>"
            f'<td class="links">{links}</td></tr>'
        )
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
body {{ font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; color: #222; line-height: 1.5; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .5rem; text-align: left; vertical-align: top; }}
td.links a {{ margin-right: .6rem; }}
small {{ color: #666; }}
</style>
</head>
<body>
<h1>{escape(site.title)} · 订阅源</h1>
<p>{escape(site.description)}</p>
{opml_link}
<p>把下面任一链接复制到阅读器（Feedly、Inoreader、NetNewsWire、Miniflux、newsboat 等）即可订阅。
时间为{escape(site.timezone)}时间。</p>
<table>
<thead><tr><th>类型</th><th>订阅源</th><th>最新文章</th><th>条数</th><th>格式</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</body>
</html>
"""
    return page.encode("utf-8")


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
        outline.set("language", cfg.site.language)
        if fmt == "rss":
            outline.set("version", "RSS2")
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


XSL = """<?xml version="1.0" encoding="utf-8"?>
<!-- feeds: shows an RSS 2.0 or Atom 1.0 feed as a readable page in a browser. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" indent="yes"/>
  <xsl:template match="/">
    <html>
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
                                      | atom:feed/atom:link[@rel='self']/@href"/></code></p>
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
