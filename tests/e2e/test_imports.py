"""What each command loads, seen in ``sys.modules`` of a fresh process: the HTTP client and
the feed parser only when there are sources to fetch, the scheduler only for ``feeds run``.
A build with no sources should start as fast as the posts allow."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REAL_POST, ROOT, make_site

_CHILD = """\
import json, sys
from feeds.cli import cli
code = cli.main(sys.argv[2:])
loaded = sorted({name.split(".")[0] for name in sys.modules})
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump({"code": code, "modules": loaded}, f)
"""
SOURCE = f"""
sources:
  - id: local
    path: {ROOT / "tests" / "data" / "source.rss.xml"}
    categories: [news]
"""


def _modules(tmp_path: Path, *args: str | Path) -> set[str]:
    report = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(report), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert report.is_file(), proc.stderr
    result = json.loads(report.read_text(encoding="utf-8"))
    assert result["code"] == 0, proc.stderr
    return set(result["modules"])


@pytest.fixture
def site(tmp_path: Path) -> Path:
    s = make_site(tmp_path / "site")
    shutil.copy(REAL_POST, s.posts / REAL_POST.name)
    return s.config


def test_no_command_but_run_imports_the_scheduler(tmp_path: Path, site: Path) -> None:
    commands: list[list[str | Path]] = [
        ["check", "-c", site],
        ["build", "-c", site],
        ["status", "-c", site],
        ["init", tmp_path / "new"],
    ]
    for args in commands:
        assert "apscheduler" not in _modules(tmp_path, *args), args


def test_a_source_with_cron_schedule_still_needs_no_scheduler_to_check(
    tmp_path: Path, site: Path
) -> None:
    site.write_text(
        site.read_text(encoding="utf-8") + "schedule:\n  build: '*/5 * * * 1-5'\n" + SOURCE,
        encoding="utf-8",
    )
    assert "apscheduler" not in _modules(tmp_path, "check", "-c", site)
    fetched = _modules(tmp_path, "fetch", "-c", site)
    assert "apscheduler" not in fetched
    assert {"httpx", "feedparser"} <= fetched  # the probe sees what a command does load


def test_a_build_without_sources_imports_no_http_client_nor_feed_parser(
    tmp_path: Path, site: Path
) -> None:
    loaded = _modules(tmp_path, "build", "-c", site)
    assert not loaded & {"httpx", "feedparser", "httpcore"}, sorted(loaded)
