"""Bad posts get a clear message naming file and line; every other post and feed is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    BASE_CONFIG,
    Site,
    check_all_outputs,
    cli,
    make_site,
    parse_feed,
    post_text,
)


@pytest.fixture(scope="module")
def bad_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, str, int]:
    site = make_site(tmp_path_factory.mktemp("bad"))
    site.post("2022-01-01-good.md", post_text("正常的文章", "2022-01-01 10:00:00 +0800", "a"))
    site.post("2022-01-02-broken-yaml.md", '---\ntitle: "未闭合\ndate: 2022-01-02\n---\n正文\n')
    site.post(
        "2022-01-03-bom.md", b"\xef\xbb\xbf" + post_text("带BOM的文章", "2022-01-03", "a").encode()
    )
    site.post("2022-01-04-gbk.md", post_text("国标编码", "2022-01-04", "a").encode("gbk"))
    site.post("2022-01-05-impossible.md", post_text("不存在的日期", "2024-02-30", "a"))
    site.post("2022-01-06-no-title.md", "---\ndate: 2022-01-06\ncategories: a\n---\n正文\n")
    site.post("2022-01-07-number-title.md", post_text("2024", "2022-01-07", "a"))
    site.post("2022-01-08-no-categories.md", post_text("没有分类", "2022-01-08", "[ ]"))
    site.post(
        "2022-01-09-first.md", post_text("第一篇", "2022-01-09", "a", extra="permalink: /same.html")
    )
    site.post(
        "2022-01-10-second.md",
        post_text("第二篇", "2022-01-10", "a", extra="permalink: /same.html"),
    )
    site.post("2022-01-11-control.md", post_text('"控制\\x01字符\\x1f标题"', "2022-01-11", "a"))
    site.post(
        "2022-01-12-cdata.md",
        post_text('"A&B ]]> <标题>"', "2022-01-12", "a", body="<p>正文 ]]> 与 &amp; 以及 & 号</p>"),
    )
    site.post(
        "2022-01-13-script.md",
        post_text(
            "带脚本",
            "2022-01-13",
            "a",
            body='<p onclick="steal()">文</p><script>alert(1)</script>'
            '<a href="javascript:alert(2)">点</a>',
        ),
    )
    site.post("2022-01-14-unclosed.md", "---\ntitle: 没有结束\ndate: 2022-01-14\n")
    site.post("2022-01-15-no-front-matter.md", "只有正文\n")
    site.post(
        "2022-01-16-unpublished.md",
        post_text("未发布", "2022-01-16", "a", extra="published: false"),
    )
    site.post("2099-01-01-future.md", post_text("未来", "2099-01-01", "a"))
    site.post("notes.md", "随手记\n")
    site.post("2022-01-17-map-category.md", post_text("分类是映射", "2022-01-17", "{x: 1}"))
    site.post("2022-01-18-list-title.md", post_text("[一, 二]", "2022-01-18", "a"))
    site.post("2022-02-30-bad-name.md", "---\ntitle: 文件名日期错\ncategories: a\n---\n正文\n")
    proc = cli("build", "-c", site.config)
    return site, proc.stderr, proc.returncode


def _line_for(stderr: str, name: str) -> str:
    lines = [ln for ln in stderr.splitlines() if f"/{name}" in ln]
    assert lines, f"no message names {name}:\n{stderr}"
    return "\n".join(lines)


def test_exit_code_1_and_every_feed_valid(bad_site: tuple[Site, str, int]) -> None:
    site, _, code = bad_site
    assert code == 1
    check_all_outputs(site.out)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2022-01-02-broken-yaml.md", ":2: error: front matter: invalid YAML"),
        ("2022-01-03-bom.md", ":1: warning: starts with a UTF-8 byte-order mark"),
        ("2022-01-04-gbk.md", ": error: not valid UTF-8"),
        ("2022-01-05-impossible.md", ":4: error: date: impossible date '2024-02-30'"),
        ("2022-01-06-no-title.md", ": warning: no title; used 'No Title' from the file name"),
        ("2022-01-07-number-title.md", ":3: warning: title: 2024 is not text"),
        ("2022-01-08-no-categories.md", ":5: warning: no categories"),
        (
            "2022-01-10-second.md",
            "error: permalink https://news.example.com/same.html is already used by",
        ),
        ("2022-01-11-control.md", ":3: warning: title: contains control characters"),
        ("2022-01-13-script.md", "warning: body contains active content"),
        ("2022-01-14-unclosed.md", ":1: error: front matter is not closed"),
        ("2022-01-15-no-front-matter.md", ":1: error: no front matter"),
        ("notes.md", "warning: not a post"),
        ("2022-01-17-map-category.md", ":5: error: categories: item 1 must be a name"),
        ("2022-01-18-list-title.md", ":3: error: title: must be text, not a list"),
        ("2022-02-30-bad-name.md", "error: date: impossible date 2022-02-30 in file name"),
    ],
)
def test_message_names_file_and_line(
    bad_site: tuple[Site, str, int], name: str, expected: str
) -> None:
    _, stderr, _ = bad_site
    assert expected in _line_for(stderr, name)


def test_good_and_repaired_posts_are_published(bad_site: tuple[Site, str, int]) -> None:
    site, _, _ = bad_site
    feed = parse_feed(site.out / "a.atom.xml")
    titles = [e.title for e in feed.entries]
    assert titles == [
        "带脚本",
        "A&B ]]> <标题>",
        "控制字符标题",
        "第一篇",
        "2024",
        "No Title",  # no title: Jekyll's, from the file name
        "带BOM的文章",
        "正常的文章",
    ]
    everything = [e.title for e in parse_feed(site.out / "all.atom.xml").entries]
    assert "没有分类" in everything and "没有分类" not in titles
    assert "未发布" not in everything and "未来" not in everything


def test_active_content_is_removed(bad_site: tuple[Site, str, int]) -> None:
    site, _, _ = bad_site
    raw = (site.out / "a.rss.xml").read_text(encoding="utf-8") + (
        site.out / "a.atom.xml"
    ).read_text(encoding="utf-8")
    assert "alert" not in raw and "onclick" not in raw and "javascript" not in raw
    cdata = [e for e in parse_feed(site.out / "a.rss.xml").entries if e.title.startswith("A&B")]
    assert "正文 ]]&gt; 与 &amp; 以及 &amp; 号" in cdata[0].content[0].value


def test_future_posts_when_allowed(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.write_config(base=BASE_CONFIG.replace("posts:\n", "posts:\n  future: true\n"))
    site.post("2099-01-01-future.md", post_text("未来", "2099-01-01", "a"))
    assert cli("build", "-c", site.config).returncode == 0
    assert parse_feed(site.out / "a.rss.xml").entries[0].title == "未来"


def test_one_feed_that_cannot_be_written_keeps_its_old_file(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.post("2022-01-01-a.md", post_text("甲", "2022-01-01", "a"))
    site.post("2022-01-02-b.md", post_text("乙", "2022-01-02", "b"))
    assert cli("build", "-c", site.config).returncode == 0
    old_b = (site.out / "b.rss.xml").read_bytes()
    site.post("2022-01-03-a2.md", post_text("甲二", "2022-01-03", "a"))
    site.post("2022-01-04-b2.md", post_text("乙二", "2022-01-04", "b"))
    # b.atom.xml's place is taken by a folder: its write fails, nothing else does
    (site.out / "b.atom.xml").unlink()
    (site.out / "b.atom.xml").mkdir()
    proc = cli("build", "-c", site.config)
    assert proc.returncode == 1
    assert "b.atom.xml" in proc.stderr and "category 'b'" in proc.stderr
    assert [e.title for e in parse_feed(site.out / "a.atom.xml").entries] == ["甲二", "甲"]
    assert (site.out / "b.rss.xml").read_bytes() != old_b  # the other format still written
    assert [e.title for e in parse_feed(site.out / "b.rss.xml").entries] == ["乙二", "乙"]


def test_two_categories_one_path_is_an_error_not_an_overwrite(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.post("2022-01-01-a.md", post_text("大写", "2022-01-01", "Tech"))
    site.post("2022-01-02-b.md", post_text("小写", "2022-01-02", "tech"))
    site.post("2022-01-03-c.md", post_text("其他", "2022-01-03", "other"))
    proc = cli("build", "-c", site.config)
    assert proc.returncode == 1
    assert "category 'Tech' and category 'tech' would both be written" in proc.stderr
    assert not (site.out / "tech.rss.xml").exists()
    assert (site.out / "other.rss.xml").is_file() and (site.out / "all.rss.xml").is_file()
