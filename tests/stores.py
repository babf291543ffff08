"""Fixtures for the store's two backends (a pytest plugin, loaded by ``tests/conftest.py``).

``store_config``: a ``StoreConfig`` for each backend in turn — SQLite in the test's folder,
and PostgreSQL in a fresh, migrated database of the session's one private cluster
(``tests/services.py``). ``database_url``: such a fresh database, not migrated. PostgreSQL tests
are skipped only when its binaries are absent (``scripts/test`` installs them).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from feeds.config.config import StoreConfig
from tests import services


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The session's PostgreSQL (one cluster for the whole run)."""
    if not os.environ.get("FEEDS_TEST_DATABASE_URL") and services.postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (scripts/test installs it)")
    with services.postgres() as url:
        yield url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def database_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the session's server, dropped after the test."""
    import psycopg

    name = f"feeds_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(postgres_server, name)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated(url: str) -> str:
    from feeds.store import pgstore

    pgstore.migrate(url, timeout=10)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_config(request: pytest.FixtureRequest, tmp_path: Path) -> StoreConfig:
    """The store's config for each backend in turn (the PostgreSQL one already migrated)."""
    if request.param == "sqlite":
        return StoreConfig(tmp_path / "state")
    url = migrated(request.getfixturevalue("database_url"))
    return StoreConfig(tmp_path / "state", database=url)


def state_yaml(cfg: StoreConfig, extra: str = "") -> str:
    """The ``state:`` section of a test site's config for this backend (``dir: state``)."""
    database = f"  database: '{cfg.database}'\n" if cfg.database else ""
    return f"state:\n  dir: state\n{database}{extra}"
