"""Test helpers: a temporary Jekyll site, the CLI (in-process, or as a subprocess for what
needs a process of its own), and outside validators."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import feedparser
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Our own schema of RFC 4287's rules for what we emit; where the team's shared folder sits
# beside the repository, its schema is checked as well (never instead).
ATOM_RNC = ROOT / "tests" / "data" / "atom.rnc"
SHARED_ATOM_RNC = ROOT.parent / "shared" / "specs" / "atom.rnc"
REAL_POSTS = ROOT / "example" / "_posts"
REAL_POST = REAL_POSTS / "2022-06-09-25100f8fd1580674.md"

BASE_CONFIG = """\
site:
  title: 测试站
  url: https://news.example.com
  description: 测试用的新闻站
  author: {name: 编辑部}
posts:
  dirs: [_posts]
output:
  dir: out
"""


@dataclass
class Site:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def posts(self) -> Path:
        return self.root / "_posts"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def write_config(self, extra: str = "", base: str = BASE_CONFIG) -> None:
        self.config.write_text(base + textwrap.dedent(extra), encoding="utf-8")

    def post(self, name: str, text: str | bytes) -> Path:
        path = self.posts / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def outputs(self) -> dict[str, bytes]:
        return {
            str(p.relative_to(self.out)): p.read_bytes()
            for p in sorted(self.out.rglob("*"))
            if p.is_file()
        }


def make_site(tmp: Path, extra_config: str = "") -> Site:
    site = Site(tmp)
    site.posts.mkdir(parents=True, exist_ok=True)
    site.write_config(extra_config)
    return site


def post_text(
    title: str,
    date: str,
    categories: str = "news",
    tags: str = "",
    body: str = "<p>正文。</p>",
    extra: str = "",
) -> str:
    lines = ["---", "layout: post", f"title: {title}", f"date: {date}", f"categories: {categories}"]
    if tags:
        lines.append(f"tags: {tags}")
    if extra:
        lines.append(extra.strip("\n"))
    lines.append("---")
    return "\n".join(lines) + "\n" + body + "\n"


class CliResult(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


# what needs a process of its own: the hook kills it, the clock of a daemon, signals
SUBPROCESS_ONLY = ("FEEDS_FAULT_KILL_AT", "TZ")


def cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
    """``feeds ARGS`` in this process, as httpie's tests run theirs: ``cli.main`` with an
    environment of its own (the process's, plus ``env``), its output captured, the working
    directory ``cwd`` for the call, and the logging set up by the CLI undone afterwards.
    Give what needs a process of its own (signals, kills, ``feeds run``) to ``run_cli``."""
    from feeds.cli import cli as feeds_cli

    if (args and args[0] in ("run", "serve")) or any(k in (env or {}) for k in SUBPROCESS_ONLY):
        raise ValueError("this needs a process of its own: use run_cli")
    out, err = io.StringIO(), io.StringIO()
    logger = logging.getLogger("feeds")
    saved = logger.handlers[:], logger.propagate, logger.level
    old_cwd = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        # argparse writes usage errors, --help and --version to sys.stdout/stderr and exits
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                argv = [str(a) for a in args]
                environ = {**os.environ, **(env or {})}
                code = feeds_cli.main(argv, stdout=out, stderr=err, env=environ)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    finally:
        os.chdir(old_cwd)
        logger.handlers[:], logger.propagate = saved[0], saved[1]
        logger.setLevel(saved[2])
    return CliResult(code, out.getvalue(), err.getvalue())


def run_cli(
    *args: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m feeds`` as a real subprocess (for signals, kills, the daemon, the
    server's time zone; ``cli`` runs everything else in-process)."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "feeds", *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def jing(paths: list[Path]) -> None:
    """Validate Atom files with jing against our RELAX NG schema of RFC 4287 (never skipped),
    and also against the shared folder's schema when it is there."""
    exe = shutil.which("jing")
    if exe is None:
        pytest.fail("jing is not installed: run scripts/test, which installs it")
    assert paths, "no Atom files to validate"
    schemas = [ATOM_RNC, *([SHARED_ATOM_RNC] if SHARED_ATOM_RNC.is_file() else [])]
    for schema in schemas:
        proc = subprocess.run(
            [exe, "-c", str(schema), *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, f"jing ({schema.name}) found errors:\n{proc.stdout}"


def parse_feed(path: Path) -> feedparser.FeedParserDict:
    """Parse with feedparser and insist on a clean parse (bozo == 0)."""
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, f"{path}: bozo {parsed.get('bozo_exception')!r}"
    return parsed


def check_all_outputs(out: Path) -> list[Path]:
    """Every Atom file validates with jing, every RSS/Atom feed parses cleanly, every JSON
    Feed follows JSON Feed 1.1. Returns the RSS and Atom files."""
    files = sorted(p for p in out.rglob("*.xml") if p.name.endswith((".rss.xml", ".atom.xml")))
    assert files, f"no feeds in {out}"
    for f in files:
        parse_feed(f)
    jing([f for f in files if f.name.endswith(".atom.xml")])
    for f in sorted(out.rglob("*.json")):
        check_json_feed(f)
    return files


def check_json_feed(path: Path) -> dict[str, Any]:
    """The JSON Feed 1.1 field rules (https://www.jsonfeed.org/version/1.1/)."""
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(doc["title"], str) and doc["title"]
    for key in ("home_page_url", "feed_url"):
        assert urlsplit(doc[key]).scheme in ("http", "https"), key
    assert isinstance(doc["items"], list)
    for a in doc.get("authors", []):
        assert isinstance(a, dict) and isinstance(a.get("name"), str)
    for hub in doc.get("hubs", []):
        assert isinstance(hub["type"], str) and isinstance(hub["url"], str)
    ids = set()
    for item in doc["items"]:
        assert isinstance(item["id"], str) and item["id"] not in ids
        ids.add(item["id"])
        assert isinstance(item.get("content_html") or item.get("content_text"), str)
        for key in ("url", "external_url"):
            if key in item:
                assert urlsplit(item[key]).scheme in ("http", "https"), key
        for key in ("date_published", "date_modified"):
            if key in item:
                when = dt.datetime.fromisoformat(item[key])  # RFC 3339
                assert when.utcoffset() is not None, key
        assert all(isinstance(t, str) for t in item.get("tags", []))
        for att in item.get("attachments", []):
            assert isinstance(att["url"], str) and isinstance(att["mime_type"], str)
    return doc
