"""``feeds check`` walks the build's own road: it plans the feeds ``feeds build`` writes."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

from feeds.cli import cli
from tests.helpers import ROOT, make_site, post_text


def run(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def checked_feeds(stdout: str) -> int:
    m = re.search(r": (\d+) posts, (\d+) feeds ", stdout)
    assert m, stdout
    return int(m.group(2))


def built_feeds(stderr: str) -> int:
    m = re.search(r"feeds: (\d+) feeds from", stderr)
    assert m, stderr
    return int(m.group(1))


def test_check_and_build_agree_on_a_routed_source(tmp_path: Path) -> None:
    site = make_site(
        tmp_path,
        "categories:\n  only: [news, world]\n"
        "sources:\n  - id: wire\n    path: wire.xml\n    categories: [world]\n",
    )
    shutil.copy(ROOT / "tests" / "data" / "source.rss.xml", tmp_path / "wire.xml")
    site.post("2022-01-01-a.md", post_text("新闻", "2022-01-01 08:00:00 +0800", "news"))

    code, _, err = run("build", "-v", "-c", site.config)
    assert code == 0, err
    assert built_feeds(err) == 3  # all, news, world
    assert (site.out / "world.rss.xml").is_file()
    before = site.outputs()

    code, out, err = run("check", "-c", site.config)
    assert code == 0, err
    assert checked_feeds(out) == 3
    assert "world" not in err  # no "listed in categories.only but no post has it"
    assert site.outputs() == before  # check wrote nothing


def test_check_creates_no_store(tmp_path: Path) -> None:
    site = make_site(
        tmp_path, "sources:\n  - id: wire\n    path: wire.xml\n    categories: [world]\n"
    )
    shutil.copy(ROOT / "tests" / "data" / "source.rss.xml", tmp_path / "wire.xml")
    site.post("2022-01-01-a.md", post_text("新闻", "2022-01-01 08:00:00 +0800", "news"))
    code, out, err = run("check", "-c", site.config, "--state", tmp_path / "state")
    assert code == 0, err
    assert checked_feeds(out) == 2  # nothing fetched yet: all, news
    assert not (tmp_path / "state" / "feeds.sqlite3").exists()
    assert not site.out.exists()


def test_check_and_build_agree_on_the_example_site(tmp_path: Path) -> None:
    common = ("-c", ROOT / "config.yaml", "--state", tmp_path / "state")
    code, _, build_err = run("build", "-v", *common, "--output", tmp_path / "out")
    assert code == 0, build_err
    code, out, check_err = run("check", *common)
    assert code == 0, check_err
    assert checked_feeds(out) == built_feeds(build_err) > 3
    posts = re.search(r"from (\d+) posts", build_err)
    assert posts and f": {posts.group(1)} posts, " in out
