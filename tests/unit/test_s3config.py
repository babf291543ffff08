"""The ``output.s3`` section: read into ``S3Config``, checked, and never with ``output.dir``."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.config import config
from feeds.config.s3 import ARCHIVE_CACHE
from feeds.errors import ConfigError

SITE = "site:\n  title: 站点\n  url: https://news.example.com/\n"


def load(tmp_path: Path, output: str) -> config.Config:
    path = tmp_path / "config.yaml"
    path.write_text(SITE + "output:\n" + output, encoding="utf-8")
    return config.load(path)


def test_defaults_and_a_prefix_made_a_folder(tmp_path: Path) -> None:
    cfg = load(tmp_path, "  s3:\n    bucket: news\n    prefix: /site/feeds\n")
    s3 = cfg.output_s3
    assert s3 is not None
    assert (s3.bucket, s3.prefix, s3.endpoint, s3.region, s3.profile) == (
        "news",
        "site/feeds/",
        None,
        None,
        None,
    )
    assert (s3.cache_control, s3.archive_cache_control) == (None, ARCHIVE_CACHE)
    assert s3.where("all.rss.xml") == "s3://news/site/feeds/all.rss.xml"
    assert load(tmp_path, "  s3:\n    bucket: news\n").output_s3 == type(s3)("news")
    assert load(tmp_path, "  dir: out\n").output_s3 is None


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (
            "  dir: out\n  s3:\n    bucket: b\n",
            "output.dir: give output.dir or output.s3, not both",
        ),
        ("  s3:\n    prefix: feeds\n", "output.s3.bucket: is required"),
        ("  s3:\n    bucket: b\n    endpoint: minio:9000\n", "must be the store's absolute"),
        ("  s3:\n    bucket: b\n    prefix: a/../b\n", "must be a folder path inside the bucket"),
        ("  s3:\n    bucket: b\n    secret_key: x\n", "secret_key"),
    ],
)
def test_bad_sections_are_refused_naming_the_key(tmp_path: Path, output: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, output)
    assert message in str(info.value)


def test_output_on_the_command_line_means_a_folder(tmp_path: Path) -> None:
    cfg = load(tmp_path, "  s3:\n    bucket: news\n").with_overrides(output=tmp_path / "o")
    assert cfg.output_s3 is None and cfg.output_dir == tmp_path / "o"
