"""Store faults through the CLI (in-process; a subprocess where another process must hold the
lock): locked by another process, truncated, foreign, missing."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from tests.helpers import Site, cli, make_site, post_text, run_cli


def built_site(tmp_path: Path) -> Site:
    site = make_site(tmp_path, "state:\n  dir: state\n  lock_timeout: 1s\n")
    site.post("2022-01-01-a.md", post_text("甲", "2022-01-01", "a"))
    assert cli("build", "-c", site.config).returncode == 0
    site.post("2022-01-02-b.md", post_text("乙", "2022-01-02", "a"))  # a change to write
    return site


def test_locked_store_bounded_wait_clear_error_nothing_written(tmp_path: Path) -> None:
    site = built_site(tmp_path)
    before = site.outputs()
    holder = sqlite3.connect(site.root / "state" / "feeds.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        start = time.monotonic()
        proc = run_cli("build", "-c", site.config)  # a process of its own, as in real life
        assert time.monotonic() - start < 15  # 1 s of waiting, then a clear answer
        assert proc.returncode == 2
        assert "feeds.sqlite3: the store is locked by another process (waited 1 s)" in proc.stderr
        assert site.outputs() == before
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert cli("build", "-c", site.config).returncode == 0  # no crash loop: it just works


def test_truncated_store_is_refused_and_kept(tmp_path: Path) -> None:
    site = built_site(tmp_path)
    before = site.outputs()
    store = site.root / "state" / "feeds.sqlite3"
    for extra in ("-wal", "-shm"):
        Path(str(store) + extra).unlink(missing_ok=True)
    store.write_bytes(store.read_bytes()[:1000])
    damaged = store.read_bytes()
    proc = cli("build", "-c", site.config)
    assert proc.returncode == 2 and str(store) in proc.stderr
    assert "left untouched" in proc.stderr or "not a" in proc.stderr
    assert store.read_bytes() == damaged and site.outputs() == before


def test_foreign_file_is_refused_and_kept(tmp_path: Path) -> None:
    site = built_site(tmp_path)
    store = site.root / "state" / "feeds.sqlite3"
    for p in (store, Path(str(store) + "-wal"), Path(str(store) + "-shm")):
        p.unlink(missing_ok=True)
    other = sqlite3.connect(store)
    other.execute("CREATE TABLE photos (id INTEGER)")
    other.commit()
    other.close()
    before = store.read_bytes()
    proc = cli("build", "-c", site.config)
    assert proc.returncode == 2 and "not a feeds store" in proc.stderr
    assert store.read_bytes() == before


def test_missing_state_folder_is_created(tmp_path: Path) -> None:
    site = built_site(tmp_path)
    import shutil

    shutil.rmtree(site.root / "state")
    assert cli("build", "-c", site.config).returncode == 0
    assert (site.root / "state" / "feeds.sqlite3").is_file()
