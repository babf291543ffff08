"""The store as a user meets it: ``feeds status`` only reads (SQLite and PostgreSQL); a
read-only store file is a clear error naming the file, not an internal error."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from feeds.config.config import StoreConfig
from feeds.store.parts import SourceState
from feeds.store.store import open_store
from tests.helpers import ROOT, cli, make_site, post_text
from tests.stores import state_yaml


def test_status_on_an_empty_site_creates_nothing(tmp_path: Path, store_config: StoreConfig) -> None:
    site = make_site(tmp_path, state_yaml(store_config))
    proc = cli("status", "-c", site.config)
    assert proc.returncode == 0, proc.stderr
    store = site.root / "state" / "feeds.sqlite3"
    none_yet = f"store: none yet ({store} is made by the first fetch or build)"
    assert (none_yet in proc.stdout) == (store_config.database is None)  # a database is there
    assert not (site.root / "state").exists()
    assert cli("status", "-c", site.config, "--json").returncode == 0
    assert not (site.root / "state").exists()


def test_status_reads_an_existing_store_without_changing_it(
    tmp_path: Path, store_config: StoreConfig
) -> None:
    site = make_site(tmp_path, state_yaml(store_config))
    site.post("2022-01-01-a.md", post_text("甲", "2022-01-01", "a"))
    assert cli("build", "-c", site.config).returncode == 0
    with open_store(store_config) as s:
        s.sources.save(SourceState("wire", "https://wire.example/rss"), WHEN)
    store = site.root / "state" / "feeds.sqlite3"
    before = store.read_bytes(), _contents(store_config)
    proc = cli("status", "-c", site.config)
    assert proc.returncode == 0 and "store: none yet" not in proc.stdout
    assert (store.read_bytes(), _contents(store_config)) == before


def _contents(cfg: StoreConfig) -> tuple[object, ...]:
    with open_store(cfg, read_only=True) as store:
        return store.sources.states(), list(store.entries.dump()), store.meta("entries_version")


WHEN = dt.datetime(2022, 6, 10, 12, 0, tzinfo=dt.UTC)


def test_status_reads_a_store_in_a_folder_it_cannot_write(
    tmp_path: Path, store_config: StoreConfig
) -> None:
    url = "https://wire.example/rss"
    site = make_site(
        tmp_path,
        state_yaml(store_config, f"sources:\n  - {{id: wire, url: '{url}', categories: [a]}}\n"),
    )
    state = site.root / "state"
    when = WHEN
    with open_store(store_config) as store:
        failing = SourceState(
            "wire", url, last_fetch=when, consecutive_errors=2, last_error="HTTP 503"
        )
        store.sources.save(failing, when)
    try:
        proc = _feeds_with_read_only(state, "status", "-c", str(site.config))
    finally:
        state.chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    assert "store: none yet" not in proc.stdout
    assert "wire: last error: HTTP 503" in proc.stdout


def _feeds_with_read_only(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with ``path`` (a file or folder) read-only: by its mode, or for root (whom
    modes do not stop) through a read-only bind mount in a private mount namespace."""
    cmd = [sys.executable, "-m", "feeds", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if os.geteuid() != 0:
        path.chmod(0o555 if path.is_dir() else 0o444)
    else:
        if shutil.which("unshare") is None:
            pytest.skip("running as root without unshare: cannot make a file read-only")
        probe = subprocess.run(
            ["unshare", "-rm", "true"], capture_output=True, check=False, timeout=30
        )
        if probe.returncode != 0:
            pytest.skip("running as root and mount namespaces are not allowed here")
        mount = f"mount --bind -o ro {shlex.quote(str(path))} {shlex.quote(str(path))}"
        cmd = ["unshare", "-rm", "sh", "-c", f"{mount} && exec {shlex.join(cmd)}"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_read_only_store_is_a_clear_error_naming_the_file(tmp_path: Path) -> None:
    site = make_site(tmp_path, "state:\n  dir: state\n")
    site.post("2022-01-01-a.md", post_text("甲", "2022-01-01", "a"))
    assert cli("build", "-c", site.config).returncode == 0
    site.post("2022-01-02-b.md", post_text("乙", "2022-01-02", "a"))  # something to store
    store = site.root / "state" / "feeds.sqlite3"
    before, outputs = store.read_bytes(), site.outputs()
    try:
        proc = _feeds_with_read_only(store, "build", "-c", str(site.config))
    finally:
        store.chmod(0o644)
    assert proc.returncode == 2, proc.stderr
    assert "internal error" not in proc.stderr
    assert f"{store}: the store is read-only" in proc.stderr
    assert "set state.dir to another folder" in proc.stderr
    assert store.read_bytes() == before and site.outputs() == outputs
