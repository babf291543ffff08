"""Golden files: the example site's feeds, byte for byte.

Regenerate after an intended change with ``scripts/test tests/golden --update-golden`` and
review the difference with ``git diff tests/golden/expected``. Never edit them by hand.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from feeds.config import config
from feeds.run import once
from tests.helpers import ROOT

EXPECTED = Path(__file__).parent / "expected"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_example_site_matches_golden_files(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    cfg = config.load(ROOT / "config.yaml").with_overrides(
        output=tmp_path / "out", state=tmp_path / "state"
    )
    report = once.fetch_and_build(cfg, NOW)
    assert report.ok
    got = _tree(tmp_path / "out")
    if request.config.getoption("--update-golden"):
        shutil.rmtree(EXPECTED, ignore_errors=True)
        shutil.copytree(tmp_path / "out", EXPECTED)
        pytest.skip("golden files rewritten; review them with git diff")
    assert EXPECTED.is_dir(), "no golden files yet: run with --update-golden"
    want = _tree(EXPECTED)
    assert sorted(got) == sorted(want)
    for name, data in want.items():
        assert got[name].decode("utf-8") == data.decode("utf-8"), name
