"""The W3C feed validator's own code finds no error, and no warning, in what we publish.

Promise: every RSS and Atom file of the example site (category heads, the feed of everything,
tags, archives) and of a generated three-year site passes the validator that feed readers'
authors and subscribers check feeds with, without a warning (the example's posts span two
months, so each category's archives form a chain of two).
It runs where the validator is installed: ``FEEDS_FEEDVALIDATOR`` names a checkout of
github.com/w3c/feedvalidator and ``FEEDS_FEEDVALIDATOR_PYTHON`` a Python that has its
requirements (lxml, html5lib, rdflib); see the README's "Development" section.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, run_cli

RUNNER = Path(__file__).resolve().parents[1] / "w3c_feedvalidator.py"
SERVED_AT = "https://finews.withounder.com/feeds/"  # output.url of the example config


def _validator() -> tuple[str, str]:
    checkout = os.environ.get("FEEDS_FEEDVALIDATOR", "")
    if not checkout or not (Path(checkout) / "src" / "feedvalidator").is_dir():
        pytest.skip("FEEDS_FEEDVALIDATOR does not name a checkout of w3c/feedvalidator")
    return checkout, os.environ.get("FEEDS_FEEDVALIDATOR_PYTHON", sys.executable)


def _validate(base: str, output: Path) -> tuple[int, list[dict[str, Any]]]:
    checkout, python = _validator()
    out = subprocess.run(
        [python, str(RUNNER), checkout, base, str(output)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    checked = sum(1 for r in records if r["level"] == "checked")
    return checked, [r for r in records if r["level"] != "checked"]


def _messages(tmp: Path) -> tuple[int, list[dict[str, Any]]]:
    _validator()
    site = tmp / "site"
    shutil.copytree(ROOT / "example", site / "example")
    shutil.copy(ROOT / "config.yaml", site / "config.yaml")
    proc = run_cli("build", "--config", site / "config.yaml", "-q", cwd=site)
    assert proc.returncode == 0, proc.stderr
    return _validate(SERVED_AT, site / "output")


def _summary(messages: list[dict[str, Any]]) -> str:
    counts = Counter(f"{m['level']} {m['name']}" for m in messages)
    first = {m["name"]: f"{m['file']}: {m['text']}" for m in messages}
    return "\n".join(f"{n}× {k}  e.g. {first[k.split()[1]]}" for k, n in counts.items())


def test_no_validator_errors(tmp_path: Path) -> None:
    checked, messages = _messages(tmp_path)
    assert checked >= 30  # every category, the feed of everything, tags and archives
    errors = [m for m in messages if m["level"] == "error"]
    assert not errors, _summary(errors)


def test_no_validator_warnings(tmp_path: Path) -> None:
    """Every file of the example site, archives included: each category has posts in May and
    June 2022, so May's archive links the next one and June's the one before, and the
    validator's ``ArchiveIncomplete`` (an archive with neither link) has nothing to say."""
    _, messages = _messages(tmp_path)
    archives = list((tmp_path / "site" / "output" / "archive").rglob("2022-05.atom.xml"))
    assert len(archives) == 4  # one per category: the chains the warning is about
    assert not messages, _summary(messages)


CORPUS_CONFIG = """\
site:
  title: 基准测试
  url: https://bench.example.com
posts:
  dirs: [_posts]
output:
  dir: output
state:
  dir: state
feeds:
  tag_feeds: true
  archives: true
  variants: [zh-Hant-TW, zh-Hant-HK]
sources:
  - {id: f0, path: feeds/feed-00.rss.xml, categories: [xinhuawang]}
  - {id: f1, path: feeds/feed-01.atom.xml, categories: [renminwang]}
"""


def test_no_warnings_at_all_where_archives_form_chains(tmp_path: Path) -> None:
    """A generated site over three years (bench/corpus.py): category heads, the feed of
    everything, tags, aggregated entries, archive chains and 繁體 variants, not one warning."""
    _validator()
    site = tmp_path / "corpus"
    make = [sys.executable, str(ROOT / "bench" / "corpus.py"), str(site), "--posts", "300"]
    make += ["--categories", "4", "--seed", "3", "--feeds", "2", "--feed-items", "20"]
    subprocess.run(make, check=True, capture_output=True, timeout=120)
    (site / "config.yaml").write_text(CORPUS_CONFIG, encoding="utf-8")
    proc = run_cli("build", "--config", site / "config.yaml", "-q", cwd=site)
    assert proc.returncode == 0, proc.stderr
    archives = list((site / "output" / "archive").rglob("*.atom.xml"))
    assert len(archives) > 4 * 12  # each category's months, chained
    assert len(list((site / "output" / "zh-Hant-HK").rglob("*.atom.xml"))) > 4
    checked, messages = _validate("https://bench.example.com/feeds/", site / "output")
    assert checked > 2 * len(archives)
    assert not messages, _summary(messages)
