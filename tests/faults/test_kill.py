"""Killed at any moment: SIGKILL at the Nth file write (temp file written, not yet renamed),
for every N. After each kill every output file is the old or the new version and parses, the
store opens, and the next build gives exactly the files of an uninterrupted build."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import feedparser

from feeds.store.store import Store
from tests.helpers import Site, make_site, post_text, run_cli

CATEGORIES = [f"c{i}" for i in range(6)]


def files(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def readable(name: str, data: bytes) -> bool:
    if name.endswith(".json"):
        json.loads(data)
    elif name.endswith((".rss.xml", ".atom.xml")):
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, (name, parsed.get("bozo_exception"))
    return True


def write_posts(site: Site, version: int) -> None:
    for c in CATEGORIES:
        for i in range(3):
            site.post(
                f"2022-01-{i + 1:02d}-{c}-{i}.md",
                post_text(f"{c}文章{i}", f"2022-01-{i + 1:02d} 08:00:00 +0800", c, tags=f"[t{i}]"),
            )
        extra = site.posts / f"2022-02-01-{c}-new.md"
        if version == 2:
            site.post(extra.name, post_text(f"{c}新文章", "2022-02-01 08:00:00 +0800", c))
        elif extra.exists():
            extra.unlink()


def test_sigkill_at_every_write(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", "feeds:\n  tag_feeds: true\n")
    # the reference: an uninterrupted build of version 2, in its own folders
    write_posts(site, 2)
    ref = tmp_path / "ref"
    assert (
        run_cli(
            "build", "-c", site.config, "--output", ref / "out", "--state", ref / "state"
        ).returncode
        == 0
    )
    new = files(ref / "out")
    write_posts(site, 1)
    assert run_cli("build", "-c", site.config).returncode == 0
    old = files(site.out)
    total = len([n for n in new if n not in old or old[n] != new[n]])
    assert total > 20
    kills = 0
    for n in range(1, total + 3):
        write_posts(site, 2)
        proc = run_cli("build", "-c", site.config, env={"FEEDS_FAULT_KILL_AT": str(n)})
        if proc.returncode == -signal.SIGKILL:
            kills += 1
        else:
            assert proc.returncode == 0, proc.stderr  # fewer writes than n: it finished
        now = files(site.out)
        for name, data in now.items():
            assert data in (old.get(name), new.get(name)), f"kill at write {n}: {name} is torn"
            assert readable(name, data)
        Store(site.root / "state" / "feeds.sqlite3").close()  # opens cleanly
        proc = run_cli("build", "-c", site.config)
        assert proc.returncode == 0, proc.stderr
        assert files(site.out) == new, f"after the kill at write {n}"
        assert not [p for p in site.out.rglob(".feeds-tmp-*")]
        write_posts(site, 1)  # back to version 1 for the next kill
        assert run_cli("build", "-c", site.config).returncode == 0
        assert files(site.out) == old
    print(f"SIGKILLs survived: {kills} (kill points 1..{total + 2}, {total} files changed)")
    assert kills >= total - 2


def test_sigkill_during_the_first_build_and_its_store_writes(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    write_posts(site, 2)
    ref = tmp_path / "ref"
    assert (
        run_cli(
            "build", "-c", site.config, "--output", ref / "out", "--state", ref / "state"
        ).returncode
        == 0
    )
    proc = run_cli("build", "-c", site.config, env={"FEEDS_FAULT_KILL_AT": "1"})
    assert proc.returncode == -signal.SIGKILL
    proc = run_cli("build", "-c", site.config)
    assert proc.returncode == 0, proc.stderr
    assert files(site.out) == files(ref / "out")
    shutil.rmtree(ref)
