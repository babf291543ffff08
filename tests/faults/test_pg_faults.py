"""PostgreSQL store faults on a private cluster of the test's own: a server restarted under
an open store is reconnected to (nothing lost), and a server that is gone is a clear error
naming the database within the store's timeout (``state.lock_timeout``), not a hang."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from feeds.config.config import StoreConfig
from feeds.errors import StoreError
from feeds.models import Entry
from feeds.store.parts import SourceState
from feeds.store.store import open_store
from tests import services
from tests.stores import migrated

NOW = dt.datetime(2022, 6, 10, 12, 0, tzinfo=dt.UTC)
STATE = SourceState("wire", "https://wire.example/rss")


def entry(n: int) -> Entry:
    when = NOW - dt.timedelta(hours=n)
    return Entry(f"e{n}", f"条目{n}", f"https://src.example/{n}", when, when, "", "<p>x</p>")


def data_directory(url: str) -> Path:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
    assert row is not None
    return Path(row[0])


def pg_ctl(data: Path, action: str) -> None:
    """``restart`` (with the options the server was started with) or ``stop``."""
    bindir = services.postgres_bin()
    assert bindir is not None
    log = str(data.parent / "server.log")  # not our pipe: the server outlives pg_ctl
    argv = [str(bindir / "pg_ctl"), "-D", str(data), "-l", log, "-w", "-t", "30", "-m", "fast"]
    argv.append(action)
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    subprocess.run(argv, check=True, capture_output=True, timeout=60)


@pytest.fixture
def own_server() -> Iterator[str]:
    if os.environ.get("FEEDS_TEST_DATABASE_URL"):
        pytest.skip("an external server is configured: it is not ours to restart")
    if services.postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (scripts/test installs it)")
    with services.postgres() as url:
        yield url


def test_a_restarted_server_is_reconnected_to_and_a_stopped_one_named(
    own_server: str, tmp_path: Path
) -> None:
    cfg = StoreConfig(tmp_path, database=migrated(own_server), lock_timeout=2.0)
    data = data_directory(own_server)
    with open_store(cfg) as store:
        assert store.sources.save(STATE, NOW, [(entry(1), NOW)]).new == 1
        pg_ctl(data, "restart")
        assert store.sources.save(STATE, NOW, [(entry(2), NOW)]).new == 1  # the pool reconnects
        assert store.entries.counts() == {"wire": 2}
        pg_ctl(data, "stop")  # for good: the fixture's own stop then finds nothing to do
        with pytest.raises(
            StoreError, match=r"^postgresql://127\.0\.0\.1:\d+/postgres: cannot use"
        ):
            store.sources.save(STATE, NOW, [(entry(3), NOW)])
