"""The CLI: exit codes, silence under cron, idempotence, time zones. In-process, but for what
needs a process of its own (the server's TZ, ``python -m feeds``)."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

from feeds.cli import cli as feeds_cli
from tests.helpers import (
    REAL_POST,
    ROOT,
    check_all_outputs,
    cli,
    make_site,
    post_text,
    run_cli,
)


def test_example_config_builds_silently_and_validates(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = cli(
        "build", "--config", ROOT / "config.yaml", "--output", out, "--state", tmp_path / "state"
    )
    assert proc.returncode == 0, proc.stderr
    # silent under cron (no TTY) but for the warnings a site owner should act on: the
    # example keeps one post whose unquoted date has no offset (read as UTC, as in Jekyll)
    assert proc.stdout == ""
    [warning] = proc.stderr.splitlines()
    assert "2022-06-10-xinhua-wending-jiuye.md:4: warning: date: " in warning
    assert warning.endswith("add +0800")
    check_all_outputs(out)


def test_two_builds_leave_files_byte_identical_and_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    state = tmp_path / "state"
    assert (
        cli("build", "-c", ROOT / "config.yaml", "--output", out, "--state", state).returncode == 0
    )
    first = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    for p in first:  # make any rewrite visible even on a coarse-mtime filesystem
        os.utime(p, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    proc = cli("build", "-c", ROOT / "config.yaml", "--output", out, "--state", state, "-v")
    assert proc.returncode == 0
    assert f"0 files written, {len(first)} unchanged" in proc.stderr
    second = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    assert second.keys() == first.keys()
    for p, (data, mtime) in second.items():
        assert data == first[p][0]
        assert mtime == 1_000_000_000_000_000_000


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_server_timezone_does_not_matter(tmp_path: Path, tz: str) -> None:
    site = make_site(tmp_path)
    shutil.copy(REAL_POST, site.posts / REAL_POST.name)
    site.post("2022-06-10-naive.md", post_text("无时区", "2022-06-10 09:15", "zhongguofazhanwang"))
    site.post(  # unquoted with seconds: UTC, as in Jekyll, whatever the server's zone
        "2022-06-11-utc.md", post_text("UTC", "2022-06-11 01:15:00", "zhongguofazhanwang")
    )
    proc = run_cli("build", "-c", site.config, env={"TZ": tz})
    assert proc.returncode == 0, proc.stderr
    rss = (site.out / "zhongguofazhanwang.rss.xml").read_text(encoding="utf-8")
    atom = (site.out / "zhongguofazhanwang.atom.xml").read_text(encoding="utf-8")
    assert "<pubDate>Thu, 09 Jun 2022 14:36:33 +0800</pubDate>" in rss
    assert "<pubDate>Fri, 10 Jun 2022 09:15:00 +0800</pubDate>" in rss
    assert "<published>2022-06-09T14:36:33+08:00</published>" in atom
    assert "<published>2022-06-10T09:15:00+08:00</published>" in atom
    assert "<updated>2022-06-10T09:15:00+08:00</updated>" in atom
    assert "<published>2022-06-11T09:15:00+08:00</published>" in atom


def test_posts_and_output_options(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    other = tmp_path / "other_posts"
    other.mkdir()
    (other / "2022-01-01-a.md").write_text(
        post_text("别处", "2022-01-01", "elsewhere"), encoding="utf-8"
    )
    proc = cli("build", "-c", site.config, "--posts", other, "--output", tmp_path / "o2")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o2" / "elsewhere.rss.xml").is_file()
    assert not site.out.exists()


def test_config_error_exits_2_and_names_file_line_key(tmp_path: Path) -> None:
    site = make_site(tmp_path, "feeds:\n  max_items: -1\n")
    proc = cli("build", "-c", site.config)
    assert proc.returncode == 2
    assert f"{site.config}:11: feeds.max_items: must be ≥ 1" in proc.stderr
    assert not site.out.exists()


def test_missing_config_exits_2(tmp_path: Path) -> None:
    proc = cli("build", "-c", tmp_path / "none.yaml")
    assert proc.returncode == 2 and "none.yaml" in proc.stderr and "cannot read" in proc.stderr


def test_check_writes_nothing_and_reports(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.post("2022-01-01-ok.md", post_text("好", "2022-01-01", "a"))
    site.post("2022-01-02-bad.md", post_text("坏", "2022-02-30", "a"))
    proc = cli("check", "-c", site.config)
    assert proc.returncode == 1
    assert (
        "1 posts, 2 feeds (rss + atom + json each), 0 sources; 1 errors, 0 warnings" in proc.stdout
    )
    assert "schedule.build '5m' (Asia/Shanghai): next " in proc.stdout
    assert "2022-01-02-bad.md:4: error: date: impossible date '2022-02-30'" in proc.stderr
    assert not site.out.exists()
    proc = cli("check", "-c", ROOT / "config.yaml", "--state", tmp_path / "state")
    assert proc.returncode == 0, proc.stderr


def test_quiet_hides_warnings_not_errors(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.post("2022-01-01-num.md", post_text("2024", "2022-01-01", "a"))
    site.post("2022-01-02-bad.md", "---\ntitle: [\n---\n")
    proc = cli("build", "-q", "-c", site.config)
    assert proc.returncode == 1
    assert ": error: " in proc.stderr and ": warning: " not in proc.stderr
    proc = cli("build", "-c", site.config)
    assert "2022-01-01-num.md:3: warning: title: 2024 is not text" in proc.stderr


def test_python_dash_m_and_version() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("feeds ")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    for i in range(600):
        site.post(f"2022-01-01-p{i:03d}.md", post_text(f"第{i}篇", "2022-01-01", "a"))
    tty, out = _Terminal(), io.StringIO()
    assert feeds_cli.main(["build", "-c", str(site.config)], stderr=tty, stdout=out) == 0
    assert "reading posts [" in tty.getvalue() and "600/600" in tty.getvalue()
    plain = io.StringIO()
    assert feeds_cli.main(["build", "-c", str(site.config)], stderr=plain, stdout=out) == 0
    assert plain.getvalue() == ""
