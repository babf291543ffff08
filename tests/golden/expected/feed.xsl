<?xml version="1.0" encoding="utf-8"?>
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
