"""The right URLs from the start: ``feeds init`` derives ``output.url`` from ``site.url``, and
``feeds check`` warns when ``output.url`` is on another host than the site or, for a Jekyll
site, not where Jekyll publishes the output folder.

Promise: editing only ``site.url`` in a starter config gives feeds whose self links are on that
site; a config whose feeds would link a place they are not served at says so before a build.
"""

from __future__ import annotations

import io
from pathlib import Path

from feeds.cli import cli
from tests.helpers import parse_feed

JEKYLL = "title: 站\nurl: https://news.example.com\nbaseurl: /blog\n"


def feeds(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_a_starter_config_with_only_site_url_edited_links_that_site(tmp_path: Path) -> None:
    code, _, err = feeds("init", tmp_path / "s")
    assert code == 0, err
    cfg = tmp_path / "s" / "config.yaml"
    text = cfg.read_text(encoding="utf-8")
    assert "news.example.com/feeds" not in text  # nothing but site.url names the host
    cfg.write_text(text.replace("https://news.example.com", "https://mine.example.org"), "utf-8")
    code, _, err = feeds("check", "-c", cfg)
    assert code == 0 and "output.url" not in err, err
    assert feeds("build", "-c", cfg)[0] == 0
    feed = parse_feed(tmp_path / "s" / "output" / "news.atom.xml")
    links = {ln.rel: ln.href for ln in feed.feed.links}
    assert links["self"] == "https://mine.example.org/feeds/news.atom.xml"


def test_check_warns_when_output_url_is_on_another_host(tmp_path: Path) -> None:
    feeds("init", tmp_path / "s")
    cfg = tmp_path / "s" / "config.yaml"
    text = cfg.read_text(encoding="utf-8").replace("https://news.example.com", "https://a.cn")
    stale = text.replace("  dir: output\n", "  dir: output\n  url: https://news.example.com/f/\n")
    cfg.write_text(stale, encoding="utf-8")
    code, out, err = feeds("check", "-c", cfg)
    assert code == 0  # a warning, not an error: the feeds may really be served there
    assert (
        f"{cfg}: warning: output.url https://news.example.com/f/ is on news.example.com, "
        "but site.url https://a.cn is on a.cn" in err
    ), err
    assert "set output.url to where the feeds are served" in err and "1 warnings" in out
    # a sibling host of the site is deliberate
    cfg.write_text(stale.replace("news.example.com/f/", "feeds.a.cn/"), encoding="utf-8")
    assert "output.url" not in feeds("check", "-c", cfg)[2]


def _jekyll(tmp_path: Path, output: str) -> Path:
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True, exist_ok=True)
    (site / "_config.yml").write_text(JEKYLL, encoding="utf-8")
    (site / "_posts" / "2022-06-09-a.md").write_text(
        "---\ntitle: 甲\ndate: 2022-06-09 10:00 +0800\ncategories: news\n---\n正文\n", "utf-8"
    )
    cfg = tmp_path / "config.yaml"
    text = f"site: {{title: 站}}\nposts:\n  jekyll_config: site/_config.yml\noutput:\n{output}"
    cfg.write_text(text, "utf-8")
    return cfg


def test_check_warns_when_jekyll_publishes_the_feeds_elsewhere(tmp_path: Path) -> None:
    cfg = _jekyll(tmp_path, "  dir: site/feeds\n")  # the default URL: where Jekyll puts it
    code, _, err = feeds("check", "-c", cfg)
    assert code == 0 and "output" not in err, err
    cfg = _jekyll(tmp_path, "  dir: site/feeds\n  url: https://news.example.com/feeds/\n")
    err = feeds("check", "-c", cfg)[2]
    assert (
        "output.url is https://news.example.com/feeds/, but Jekyll publishes output.dir "
        f"{tmp_path / 'site' / 'feeds'} at https://news.example.com/blog/feeds/" in err
    ), err
    cfg = _jekyll(tmp_path, "  dir: site/_feeds\n")
    err = feeds("check", "-c", cfg)[2]
    assert "in a folder Jekyll does not publish" in err, err
    cfg = _jekyll(tmp_path, "  dir: out\n  url: https://cdn.example.net/x/\n")  # not in the site
    err = feeds("check", "-c", cfg)[2]
    assert "Jekyll publishes" not in err and "is on cdn.example.net" in err, err
