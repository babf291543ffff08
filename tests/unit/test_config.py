from __future__ import annotations

from pathlib import Path

import pytest

from feeds.config import config
from feeds.errors import ConfigError

MINIMAL = "site:\n  title: 站点\n  url: https://news.example.com/\n"


def load(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def error(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return info.value


def test_defaults(tmp_path: Path) -> None:
    cfg = load(tmp_path, MINIMAL)
    assert cfg.site.url == "https://news.example.com"
    assert cfg.site.language == "zh-CN"
    assert cfg.site.timezone == "Asia/Shanghai"
    assert cfg.site.description == "站点"
    assert cfg.posts.dirs == (tmp_path / "_posts",)
    assert cfg.posts.permalink == "/:categories/:year/:month/:day/:title:output_ext"
    assert cfg.posts.future is False
    assert cfg.feeds.max_items == 50
    assert cfg.feeds.formats == ("rss", "atom", "json")
    assert cfg.output_dir == tmp_path / "output"
    assert cfg.output_url == "https://news.example.com/feeds/"


def test_shipped_example_config_loads() -> None:
    cfg = config.load(Path(__file__).resolve().parents[2] / "config.yaml")
    assert cfg.category_slug("财经") == "caijing"
    assert cfg.feeds.tag_feeds is True


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        (MINIMAL + "feeds:\n  max_item: 10\n", 5, "feeds.max_item", "did you mean 'max_items'"),
        (MINIMAL + "feeds:\n  max_items: 0\n", 5, "feeds.max_items", "must be ≥ 1"),
        (MINIMAL + "feeds:\n  max_items: ten\n", 5, "feeds.max_items", "whole number"),
        (MINIMAL + "feeds:\n  formats: [rss, yaml]\n", 5, "feeds.formats.1", "unknown format"),
        (
            MINIMAL + "feeds:\n  category_path: 'c/{name}'\n",
            5,
            "feeds.category_path",
            "unknown placeholder {name}",
        ),
        (
            MINIMAL + "feeds:\n  category_path: '{slug}.{format}.xml'\n",
            5,
            "feeds.category_path",
            "leave out {format}",
        ),
        (MINIMAL + "feeds:\n  tag_path: 'tags'\n", 5, "feeds.tag_path", "must contain {slug}"),
        (
            MINIMAL + "feeds:\n  category_path: '../{slug}'\n",
            5,
            "feeds.category_path",
            "inside the output folder",
        ),
        (
            MINIMAL + "feeds:\n  tag_page: '/t/{name}.html'\n",
            5,
            "feeds.tag_page",
            "unknown placeholder",
        ),
        ("site:\n  title: 站点\n", 1, "site.url", "is required"),
        ("site:\n  title: 站点\n  url: news.example.com\n", 3, "site.url", "absolute"),
        (MINIMAL + "  timezone: Asia/Shang_hai\n", 4, "site.timezone", "unknown timezone"),
        (MINIMAL + "  language: [zh]\n", 4, "site.language", "must be a string"),
        (MINIMAL + "posts:\n  future: yes please\n", 5, "posts.future", "true or false"),
        (MINIMAL + "posts:\n  permalink: blog/:title\n", 5, "posts.permalink", "start with"),
        (
            MINIMAL + "categories:\n  meta:\n    财经: {slug: 'Cai Jing'}\n",
            6,
            "categories.meta.财经.slug",
            "'cai-jing'",
        ),
        (
            MINIMAL + "categories:\n  meta:\n    a b: {}\n    a-b: {}\n",
            7,
            "categories.meta.a-b",
            "would both be written",
        ),
        (MINIMAL + "bogus: 1\n", 4, "bogus", "unknown key"),
    ],
)
def test_errors_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, words: str
) -> None:
    e = error(tmp_path, text)
    assert e.file == str(tmp_path / "config.yaml")
    assert e.line == line, str(e)
    assert e.key == key
    assert words in str(e)
    assert str(e).startswith(f"{tmp_path / 'config.yaml'}:{line}: {key}: ")


def test_broken_yaml(tmp_path: Path) -> None:
    e = error(tmp_path, MINIMAL + "feeds: [unclosed\n")
    assert e.line == 4 and "invalid YAML" in str(e)


def test_duplicate_key(tmp_path: Path) -> None:
    e = error(tmp_path, MINIMAL + "site:\n  title: again\n")
    assert e.line == 4 and "duplicate key 'site'" in str(e)


def test_empty_and_missing_file(tmp_path: Path) -> None:
    assert "empty" in str(error(tmp_path, ""))
    with pytest.raises(ConfigError, match="cannot read config"):
        config.load(tmp_path / "nope.yaml")


def test_bom_and_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert config.load(path).site.title == "站点"
    path.write_bytes(MINIMAL.encode("gbk"))
    with pytest.raises(ConfigError, match="UTF-8") as info:
        config.load(path)
    assert info.value.line == 2


def test_named_permalinks_and_overrides(tmp_path: Path) -> None:
    cfg = load(tmp_path, MINIMAL + "posts:\n  permalink: pretty\n  dirs: [a, b]\n")
    assert cfg.posts.permalink == "/:categories/:year/:month/:day/:title/"
    assert cfg.posts.dirs == (tmp_path / "a", tmp_path / "b")
    other = cfg.with_overrides(posts=[Path("x")], output=Path("y"))
    assert other.posts.dirs == (Path("x"),) and other.output_dir == Path("y")
