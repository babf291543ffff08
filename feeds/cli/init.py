"""``feeds init``: a starter folder, or a config for an existing Jekyll site. Each returns
whether it wrote what it says; the command line turns that into an exit code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TextIO

from feeds.errors import ConfigError
from feeds.jekyll import jekyll
from feeds.runtime import Runtime

STARTER_CONFIG = """\
# feeds configuration: every key is documented in the README.
site:
  title: 我的新闻站
  url: https://news.example.com
  description: 新闻站的订阅源
  language: zh-CN
  timezone: Asia/Shanghai

posts:
  dirs: [_posts]

output:
  dir: output
  # url: where output/ is served; by default <site.url>/feeds/, so editing site.url is enough

state:
  dir: state

schedule:
  build: 5m            # an interval, or a cron expression such as "*/5 * * * *"
  fetch_every: 30s

sources: []
# sources:
#   - id: example
#     url: https://publisher.example/rss.xml
#     categories: [news]
"""

STARTER_POST = """\
---
layout: post
title: "欢迎使用 feeds"
date: {date} +0800
categories: news
tags: [示例]
---
<p>这是一篇示例文章。把 Jekyll 的文章放进 _posts/，运行 feeds build 即可生成订阅源。</p>
"""


def starter(folder: Path, runtime: Runtime, out: TextIO, err: TextIO) -> bool:
    """``feeds init DIR``: a starter config, folders and a welcome post; false when not done."""
    target = folder / "config.yaml"
    if target.exists():
        print(f"feeds: {target} already exists; not overwriting it", file=err)
        return False
    try:
        for sub in ("_posts", "output", "state"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        target.write_text(STARTER_CONFIG, encoding="utf-8")
        today = runtime.now(dt.timezone(dt.timedelta(hours=8)))
        post = folder / "_posts" / f"{today:%Y-%m-%d}-welcome.md"
        if not post.exists():
            post.write_text(
                STARTER_POST.format(date=f"{today:%Y-%m-%d} 00:00:00"), encoding="utf-8"
            )
    except OSError as e:
        print(f"feeds: cannot create {folder}: {e.strerror or e}", file=err)
        return False
    print(
        f"wrote {target}, {folder / '_posts'}/, {folder / 'output'}/ and {folder / 'state'}/"
        f"; edit site.url (the feeds' URLs follow it), then run: feeds build -c {target}",
        file=out,
    )
    return True


def from_jekyll(folder: Path, site_dir: Path, out: TextIO, err: TextIO) -> bool:
    """``feeds init --jekyll SITE``: a config that reads the site's own _config.yml."""
    target = folder / "config.yaml"
    if target.exists():
        print(f"feeds: {target} already exists; not overwriting it", file=err)
        return False
    try:
        site = jekyll.load_site(site_dir / "_config.yml")
        text = jekyll.starter_config(site, folder)
    except ConfigError as e:
        print(f"feeds: config error: {e}", file=err)
        return False
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as e:
        print(f"feeds: cannot write {target}: {e.strerror or e}", file=err)
        return False
    print(f"wrote {target}; check site.title, then run: feeds build -c {target}", file=out)
    return True
