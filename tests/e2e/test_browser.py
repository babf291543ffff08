"""The example site's pages in a real browser: headless Chromium (Debian's ``chromium``) loads
them from ``feeds serve`` on 127.0.0.1 and the tests assert on what it shows.

Promise: a person who opens the index or a feed's page reads the feeds' Chinese titles, the
entries and every way to subscribe, with the copy buttons working where JavaScript runs, and
nothing is wider than a 400 px phone screen. The screenshots go to ``FEEDS_SCREENSHOTS``
when it names a folder (look at them), else to the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import lxml.html
import pytest

from tests.browser import chromium, chromium_exe
from tests.helpers import ROOT, run_cli

CONFIG = ROOT / "config.yaml"
NOW = "2026-01-01T08:00:00+08:00"
PAGES = ("index.html", "caijing.html", "all.html", "tags/" + quote("中国发展网新闻") + ".html")

# Loads each page in a 400 px wide frame of the same origin and writes what it measured (the
# page's width against the frame's, the elements that stick out) into <pre id="result">.
MEASURE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>measure</title></head>
<body><pre id="result">pending</pre>
<script>
const pages = PAGES, results = {};
let left = pages.length;
for (const p of pages) {
  const f = document.createElement("iframe");
  f.style.cssText = "width: 400px; height: 900px; border: 0";
  f.onload = () => {
    const d = f.contentDocument, root = d.documentElement, w = root.clientWidth;
    const wide = [...d.body.querySelectorAll("*")]
      .filter((e) => e.getBoundingClientRect().right > w + 1)
      .map((e) => e.tagName.toLowerCase() + "." + e.className).slice(0, 10);
    const h1 = d.querySelector("h1");
    results[p] = { client: w, scroll: root.scrollWidth, wide: wide, lang: root.lang,
                   h1: h1 ? h1.textContent : null,
                   h1_height: h1 ? h1.getBoundingClientRect().height : 0 };
    if (--left === 0) document.getElementById("result").textContent = JSON.stringify(results);
  };
  f.src = p;
  document.body.appendChild(f);
}
</script>
</body></html>
"""


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:PORT/feeds/
    tmp: Path
    shots: Path

    def load(self, page: str, *args: str, width: int = 1200) -> str:
        profile = self.tmp / f"profile-{len(list(self.tmp.glob('profile-*')))}"
        return chromium(profile, self.base + page, *args, width=width)

    def screenshot(self, page: str, name: str, width: int) -> Path:
        path = self.shots / name
        self.load(page, f"--screenshot={path}", width=width)
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(data[16:20], "big") == width  # IHDR: the image's width
        return path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    chromium_exe()
    tmp = tmp_path_factory.mktemp("browser")
    out = tmp / "out"
    env = {"FEEDS_FAKE_NOW": NOW}
    r = run_cli("build", "-c", CONFIG, "--output", out, "--state", tmp / "state", env=env)
    assert r.returncode == 0, r.stderr
    (out / "measure.html").write_text(MEASURE.replace("PAGES", json.dumps(PAGES)), encoding="utf-8")
    shots = Path(os.environ.get("FEEDS_SCREENSHOTS") or tmp / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    serve = ["serve", "-c", str(CONFIG), "--output", str(out), "--bind", "127.0.0.1"]
    log = (tmp / "serve.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "feeds", *serve, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, f"feeds serve said nothing in 30 s: {(tmp / 'serve.log').read_text()}"
        line = proc.stdout.readline()  # serving … at http://127.0.0.1:PORT/feeds/ (Ctrl-C stops)
        assert " at http://127.0.0.1:" in line, line
        yield Served(line.split(" at ")[1].split()[0], tmp, shots)
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def dom(html: str) -> Any:
    return lxml.html.fromstring(html)


def test_the_index_shows_every_feed_in_chinese_and_leads_to_its_page(served: Served) -> None:
    doc = dom(served.load("index.html", "--dump-dom"))
    assert doc.findtext(".//h1") == "财经新闻聚合 · 订阅源"
    titles = {a.text_content(): a.get("href") for a in doc.iterfind(".//li/h3/a")}
    assert titles["财经 - 财经新闻聚合"] == "https://finews.withounder.com/feeds/caijing.html"
    assert titles["中国发展网 - 财经新闻聚合"].endswith("/feeds/zhongguofazhanwang.html")
    assert titles["中国发展网新闻 - 财经新闻聚合"].endswith(
        "/feeds/tags/" + quote("中国发展网新闻") + ".html"
    )
    assert [h.text for h in doc.iter("h2")] == ["全部文章", "分类", "标签"]
    assert any(a.get("href", "").endswith("/feeds/feeds.opml") for a in doc.iter("a"))
    served.screenshot("index.html", "index-1200.png", 1200)
    served.screenshot("index.html", "index-400.png", 400)


def test_a_feed_page_shows_its_entries_and_every_way_to_subscribe(served: Served) -> None:
    doc = dom(served.load("caijing.html", "--dump-dom"))
    assert doc.get("lang") == "zh-CN"
    assert doc.findtext(".//h1") == "财经 - 财经新闻聚合"
    article = doc.find(".//article")
    assert article.findtext(".//h3/a") == "资本市场服务实体经济能力持续增强"
    assert article.findtext(".//time") == "2022-06-12 16:20"  # site time
    assert "上海证券报讯" in article.text_content()
    codes = [c.text for c in doc.iter("code")]
    assert codes == [
        f"https://finews.withounder.com/feeds/caijing{s}"
        for s in (".rss.xml", ".atom.xml", ".json")
    ]
    # the script ran (127.0.0.1 is a secure context): the copy buttons show
    buttons = list(doc.iter("button"))
    assert [b.get("data-copy") for b in buttons] == codes
    assert all(b.get("hidden") is None and b.text == "复制" for b in buttons)
    readers = {a.text: a.get("href") for a in doc.iterfind(".//ul[@class='readers']/li/a")}
    assert readers["用本机阅读器订阅"] == "feed:" + codes[0]
    assert set(readers) >= {"Feedly", "Inoreader", "NewsBlur", "The Old Reader", "Feedbin"}
    served.screenshot("caijing.html", "caijing-1200.png", 1200)
    served.screenshot("caijing.html", "caijing-400.png", 400)


def test_nothing_is_wider_than_a_400px_screen(served: Served) -> None:
    doc = dom(served.load("measure.html", "--dump-dom", width=1300))
    text = doc.findtext(".//pre")
    assert text and text != "pending", "the measuring page did not finish"
    results = json.loads(text)
    assert sorted(results) == sorted(PAGES)
    for page, m in results.items():
        assert m["client"] == 400, (page, m)
        assert m["scroll"] <= m["client"] and not m["wide"], (page, m)
        assert m["lang"] == "zh-CN" and m["h1"] and m["h1_height"] > 0, (page, m)
