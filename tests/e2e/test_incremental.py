"""Incremental builds give exactly the files a full build gives, whatever changed."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import Site, make_site, post_text, run_cli


def full_build(site: Site, tmp: Path) -> dict[str, bytes]:
    """Build the same input from scratch (fresh output and cache) and return its files."""
    out, state = tmp / "full-out", tmp / "full-state"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    proc = run_cli("build", "--full", "-c", site.config, "--output", out, "--state", state)
    assert proc.returncode in (0, 1), proc.stderr
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def incremental(site: Site) -> tuple[dict[str, bytes], str]:
    proc = run_cli("build", "-c", site.config, "-vv")
    assert proc.returncode in (0, 1), proc.stderr
    return site.outputs(), proc.stderr


@pytest.fixture
def site(tmp_path: Path) -> Site:
    s = make_site(tmp_path / "site", "feeds:\n  max_items: 3\n  tag_feeds: true\n")
    for i in range(12):
        s.post(
            f"2022-01-{i + 1:02d}-p{i:02d}.md",
            post_text(
                f"文章{i}",
                f"2022-01-{i + 1:02d} 08:00:00 +0800",
                ["a", "b", "c"][i % 3],
                tags=f"[t{i % 2}]",
            ),
        )
    s.post("2022-01-20-bad.md", post_text("坏日期", "2022-02-30", "a"))
    first, _ = incremental(s)
    assert first == full_build(s, tmp_path)
    return s


def test_nothing_changed_does_no_parse(site: Site, tmp_path: Path) -> None:
    files, log = incremental(site)
    assert "nothing changed since the last build" in log
    assert "posts scanned" not in log  # not a single post read
    assert files == full_build(site, tmp_path)


def test_edited_post(site: Site, tmp_path: Path) -> None:
    site.post(
        "2022-01-11-p10.md", post_text("改过的文章", "2022-01-11 08:00:00 +0800", "b", tags="[t0]")
    )
    files, log = incremental(site)
    assert "parsed=1 " in log
    assert files == full_build(site, tmp_path)
    assert "改过的文章".encode() in files["b.atom.xml"]


def test_deleted_post(site: Site, tmp_path: Path) -> None:
    (site.posts / "2022-01-12-p11.md").unlink()
    files, log = incremental(site)
    assert "parsed=0 " in log
    assert files == full_build(site, tmp_path)
    assert "文章11".encode() not in files["c.rss.xml"]


def test_renamed_post(site: Site, tmp_path: Path) -> None:
    (site.posts / "2022-01-12-p11.md").rename(site.posts / "2022-01-12-renamed.md")
    files, log = incremental(site)
    assert "parsed=1 " in log
    assert files == full_build(site, tmp_path)
    assert b"/c/2022/01/12/renamed.html" in files["c.rss.xml"]


def test_mtime_changed_bytes_did_not(site: Site, tmp_path: Path) -> None:
    path = site.posts / "2022-01-05-p04.md"
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    files, log = incremental(site)
    assert "parsed=0 " in log  # read and hashed, not parsed
    assert files == full_build(site, tmp_path)
    files, log = incremental(site)
    assert "nothing changed" in log  # the new mtime was recorded


def test_config_change(site: Site, tmp_path: Path) -> None:
    text = site.config.read_text(encoding="utf-8")
    site.config.write_text(
        text.replace("max_items: 3", "max_items: 2").replace(
            "url: https://news.example.com", "url: https://other.example.com"
        ),
        encoding="utf-8",
    )
    files, log = incremental(site)
    assert "parsed=13 " in log  # the cache belonged to another config: dropped
    assert files == full_build(site, tmp_path)
    assert b"https://other.example.com/" in files["all.atom.xml"]


def test_problems_are_reported_on_every_build(site: Site) -> None:
    for _ in range(2):
        proc = run_cli("build", "-c", site.config)
        assert proc.returncode == 1
        assert "2022-01-20-bad.md:4: error: date: impossible date '2022-02-30'" in proc.stderr


def test_a_deleted_output_file_is_written_again(site: Site, tmp_path: Path) -> None:
    (site.out / "a.rss.xml").unlink()
    files, _ = incremental(site)
    assert files == full_build(site, tmp_path)


def test_future_post_appears_when_its_time_comes(tmp_path: Path) -> None:
    s = make_site(tmp_path / "site")
    s.post("2022-01-01-now.md", post_text("现在", "2022-01-01", "a"))
    s.post("2099-01-01-later.md", post_text("将来", "2099-01-01", "a"))
    incremental(s)
    assert "将来".encode() not in s.outputs()["a.rss.xml"]
    # the cache remembers when the earliest future post is due; pretend that time has come
    db = sqlite3.connect(s.root / "state" / "feeds.sqlite3")
    db.execute("UPDATE meta SET value='1' WHERE key='cache.next_due'")
    db.commit()
    db.close()
    _, log = incremental(s)
    assert "nothing changed" not in log
