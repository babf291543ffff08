"""The Jekyll includes (snippets/head.html, snippets/subscribe.html), rendered with Liquid as
a layout would: the right category's feeds, the feed of everything, nothing of a post's or
the config's text run as Liquid."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import liquid
import lxml.html

from feeds import yamlutil
from feeds.config import config
from feeds.generate import generate, includes
from feeds.models import Problems

SITE = "site:\n  title: 站\n  url: https://x.example\noutput:\n  url: https://x.example/f/\n"


@dataclass(frozen=True)
class Item:
    published: dt.datetime
    link: str = "https://x.example/1"
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


def built(extra: str = "", names: tuple[str, ...] = ("财经", "world")) -> dict[str, str]:
    cfg = config.parse(yamlutil.load(SITE + extra), Path("config.yaml"))
    groups: dict[str, list[Item]] = {n: [] for n in names}
    one = Item(dt.datetime(2022, 6, 9, tzinfo=dt.UTC))
    plans = [p for p, _ in generate.plan_groups(cfg, groups, {}, [one], Problems())]
    return {k: v.decode() for k, v in includes.files(cfg, plans).items()}


def render(template: str, **context: Any) -> Any:
    html = liquid.Template(template).render(**({"include": {}, "page": {}} | context))
    return lxml.html.fragment_fromstring(html, create_parent="div")


def hrefs(doc: Any, tag: str) -> list[str]:
    return [x.get("href") for x in doc.iter(tag)]


def test_the_head_include_links_the_pages_category_and_everything() -> None:
    head = built("categories:\n  meta:\n    财经: {slug: caijing}\n")[includes.HEAD_FILE]
    everything = [f"https://x.example/f/all{s}" for s in (".rss.xml", ".atom.xml", ".json")]
    caijing = [f"https://x.example/f/caijing{s}" for s in (".rss.xml", ".atom.xml", ".json")]
    assert hrefs(render(head, include={"category": "财经"}), "link") == caijing + everything
    assert hrefs(render(head, page={"category": "财经"}), "link") == caijing + everything
    post = render(head, page={"categories": ["world", "财经"]})  # a post: its first category
    assert hrefs(post, "link")[0] == "https://x.example/f/world.rss.xml"
    assert hrefs(render(head, page={"category": "其他"}), "link") == everything
    assert all(x.get("rel") == "alternate" for x in render(head).iter("link"))


def test_the_subscribe_box_shows_the_category_feeds_and_its_page() -> None:
    box = built()[includes.SUBSCRIBE_FILE]
    doc = render(box, include={"category": "world"})
    assert "订阅「world - 站」" in doc.text_content()
    assert hrefs(doc, "a") == [
        "https://x.example/f/world.rss.xml",
        "https://x.example/f/world.atom.xml",
        "https://x.example/f/world.json",
        "https://x.example/f/world.html",
    ]
    home = render(box)  # no category: the feed of everything
    assert "订阅「站」" in home.text_content()
    assert hrefs(home, "a")[-1] == "https://x.example/f/all.html"


def test_nothing_from_names_or_titles_runs_as_liquid() -> None:
    files = built(
        'categories:\n  meta:\n    a: {title: "{{ site.secret }}"}\n',
        names=("a", "{% raise %}", 'say "hi"'),
    )
    context = {"site": {"secret": "LEAKED"}}
    doc = render(files[includes.HEAD_FILE], include={"category": "a"}, **context)
    titles = [x.get("title") for x in doc.iter("link")]
    assert titles[0] == "{{ site.secret }} - 站 (RSS)" and "LEAKED" not in str(titles)
    quoted = render(files[includes.HEAD_FILE], include={"category": 'say "hi"'})
    assert hrefs(quoted, "link")[0].startswith("https://x.example/f/say-hi")
    # a name a Liquid string cannot hold is left out of the case (its pages get everything)
    assert "raise" not in files[includes.HEAD_FILE]
