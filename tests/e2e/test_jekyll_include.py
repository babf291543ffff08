"""The Jekyll includes in a real Jekyll build (Debian's ``jekyll``).

Promise: a site made with ``feeds init --jekyll`` that copies ``snippets/head.html`` and
``snippets/subscribe.html`` into ``_includes/feeds/`` and includes them in its layout gets, on
each category page and post, the autodiscovery tags and a subscribe box of its category's
feeds, pointing at files Jekyll publishes.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html

from tests.helpers import run_cli
from tests.jekyll import jekyll_build, jekyll_exe

CONFIG = "title: 测试新闻\nurl: https://news.example.com\ntimezone: Asia/Shanghai\n"
LAYOUT = """\
<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{{ page.title }}</title>
{% include feeds/head.html %}
</head>
<body>
{{ content }}
{% include feeds/subscribe.html %}
</body>
</html>
"""
POST = "---\nlayout: default\ntitle: {title}\ndate: 2022-06-0{day} 10:00 +0800\n"
POST += "categories: [{category}]\n---\n正文。\n"
CATEGORY_PAGE = "---\nlayout: default\ntitle: 财经\ncategory: 财经\n---\n<h1>财经</h1>\n"
HOME = "---\nlayout: default\ntitle: 首页\n---\n<h1>首页</h1>\n"


def _site(root: Path) -> Path:
    site = root / "site"
    for folder in ("_posts", "_layouts", "category"):
        (site / folder).mkdir(parents=True)
    (site / "_config.yml").write_text(CONFIG, encoding="utf-8")
    (site / "_layouts" / "default.html").write_text(LAYOUT, encoding="utf-8")
    for day, title, category in ((1, "股市", "财经"), (2, "天气", "news")):
        text = POST.format(title=title, day=day, category=category)
        (site / "_posts" / f"2022-06-0{day}-p{day}.md").write_text(text, encoding="utf-8")
    (site / "category" / "caijing.html").write_text(CATEGORY_PAGE, encoding="utf-8")
    (site / "index.html").write_text(HOME, encoding="utf-8")
    return site


def _feed_links(page: Path) -> list[str]:
    doc = lxml.html.parse(str(page)).getroot()
    return [x.get("href") for x in doc.iter("link") if x.get("rel") == "alternate"]


def test_a_site_using_the_includes_links_each_categorys_feeds(tmp_path: Path) -> None:
    jekyll_exe()
    site = _site(tmp_path)
    cfg = tmp_path / "feeds" / "config.yaml"
    r = run_cli("init", str(cfg.parent), "--jekyll", str(site))
    assert r.returncode == 0, r.stderr
    with cfg.open("a", encoding="utf-8") as f:
        f.write("categories:\n  meta:\n    财经: {slug: caijing}\n")
    r = run_cli("build", "-c", cfg, "--state", tmp_path / "state")
    assert r.returncode == 0, r.stderr
    includes = site / "_includes" / "feeds"
    includes.mkdir(parents=True)
    for name in ("head.html", "subscribe.html"):  # what the README tells a site to do
        shutil.copy(site / "feeds" / "snippets" / name, includes / name)
    built = jekyll_build(site)

    everything = [f"https://news.example.com/feeds/all{s}" for s in (".rss.xml", ".atom.xml")]
    everything.append("https://news.example.com/feeds/all.json")
    caijing = [u.replace("/all", "/caijing") for u in everything]
    assert _feed_links(built / "category" / "caijing.html") == caijing + everything
    [post] = built.glob("news/2022/06/02/*.html")
    assert _feed_links(post) == [u.replace("/all", "/news") for u in everything] + everything
    assert _feed_links(built / "index.html") == everything
    for url in caijing + everything:  # Jekyll publishes the feeds where the links point
        assert (built / urlsplit(url).path.lstrip("/")).is_file(), url

    box = lxml.html.parse(str(built / "category" / "caijing.html")).find(".//aside")
    assert box is not None and "订阅「财经 - 测试新闻」" in box.text_content()
    hrefs = [a.get("href") for a in box.iter("a")]
    assert hrefs[-1] == "https://news.example.com/feeds/caijing.html"
    assert (built / "feeds" / "caijing.html").is_file()
