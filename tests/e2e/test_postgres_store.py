"""The PostgreSQL store through the real CLI, on the shipped example site: a build on
PostgreSQL writes the same bytes as one on SQLite, a SQLite store moved with ``feeds db
export``/``import`` builds the same feeds, and an unmigrated or unreachable database is a
clear error that names it (never its password)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_cli
from tests.stores import with_database

ENV = {"FEEDS_FAKE_NOW": "2026-01-01T08:00:00+08:00"}


def example(tmp_path: Path, name: str, database: str | None = None) -> Path:
    """A copy of the example site (config.yaml and example/) in its own folder."""
    root = tmp_path / name
    shutil.copytree(ROOT / "example", root / "example")
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    if database:
        text = text.replace("\nstate:\n", f"\nstate:\n  database: '{database}'\n", 1)
    (root / "config.yaml").write_text(text, encoding="utf-8")
    return root / "config.yaml"


def feeds(config: Path, *args: str | Path) -> str:
    proc = run_cli(*args, "-c", config, env=ENV)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def built(config: Path, *args: str) -> dict[str, bytes]:
    out = config.parent / "out"
    feeds(config, "build", "--output", out, "--state", config.parent / "state", *args)
    return tree(out)


def test_the_example_built_on_postgresql_is_byte_identical_to_sqlite(
    tmp_path: Path, database_url: str
) -> None:
    on_sqlite = built(example(tmp_path, "sqlite"))
    config = example(tmp_path, "pg", database_url)
    assert "migrations applied: 1" in feeds(config, "db", "migrate")
    assert "migrations applied: none (up to date)" in feeds(config, "db", "migrate")
    on_postgres = built(config)  # the fetch round saves into PostgreSQL
    assert on_sqlite and on_postgres == on_sqlite
    status = json.loads(feeds(config, "status", "--json", "--state", tmp_path / "pg" / "state"))
    assert status["store"].startswith("postgresql://127.0.0.1:")
    (source,) = status["sources"]
    assert source["entries"] > 0
    fresh = tmp_path / "fresh-state"  # a check reads the database and makes no local cache
    proc = run_cli("check", "-c", config, "--state", fresh, env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert not fresh.exists()


def test_a_sqlite_store_moved_to_postgresql_builds_the_same_feeds(
    tmp_path: Path, database_url: str
) -> None:
    lite = example(tmp_path, "sqlite")
    before = built(lite)
    dump = tmp_path / "store.jsonl"
    assert "entries exported" in feeds(lite, "db", "export", dump, "--state", lite.parent / "state")
    config = example(tmp_path, "pg", database_url)
    feeds(config, "db", "migrate")
    assert "entries imported" in feeds(config, "db", "import", dump)
    assert built(config, "--no-fetch") == before  # a fresh builder: no build cache, no fetch
    again = tmp_path / "again.jsonl"
    feeds(config, "db", "export", again)
    assert again.read_bytes() == dump.read_bytes()  # every source and entry moved as it was
    back, third = tmp_path / "back-state", tmp_path / "third.jsonl"  # and back into SQLite
    feeds(lite, "db", "import", again, "--state", back)
    feeds(lite, "db", "export", third, "--state", back)
    assert third.read_bytes() == dump.read_bytes()
    lines = dump.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0]) == {"format": "feeds-store", "version": 1}
    assert any('"entry"' in line for line in lines) and any('"source"' in line for line in lines)


def test_an_unmigrated_database_is_refused_with_the_way_out(
    tmp_path: Path, database_url: str
) -> None:
    config = example(tmp_path, "pg", database_url)
    proc = run_cli("build", "-c", config, "--output", tmp_path / "out", env=ENV)
    assert proc.returncode == 2
    name = database_url.rsplit("/", 1)[1]
    assert f"/{name}: no feeds schema in this database yet: run `feeds db migrate`" in proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_unusable_database_is_named_without_its_password(
    tmp_path: Path, postgres_server: str
) -> None:
    url = with_database(postgres_server, "no_such_db").replace("feeds@", "feeds:sekret@", 1)
    config = example(tmp_path, "pg", url)
    proc = run_cli("build", "-c", config, "--output", tmp_path / "out", env=ENV)
    assert proc.returncode == 2
    assert "/no_such_db: cannot use the database" in proc.stderr
    assert "internal error" not in proc.stderr and "sekret" not in proc.stderr
    proc = run_cli("db", "migrate", "-c", config, env=ENV)
    assert proc.returncode == 2 and "/no_such_db: cannot use the database" in proc.stderr
    assert "sekret" not in proc.stderr


def test_db_migrate_needs_a_database(tmp_path: Path) -> None:
    proc = run_cli("db", "migrate", "-c", example(tmp_path, "sqlite"), env=ENV)
    assert proc.returncode == 2 and "state.database is not set" in proc.stderr


@pytest.mark.parametrize("text", ["", '{"format": "other"}\n'])
def test_import_refuses_a_file_that_is_not_an_export(tmp_path: Path, text: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(text, encoding="utf-8")
    config = example(tmp_path, "sqlite")
    proc = run_cli("db", "import", bad, "-c", config, "--state", tmp_path / "state", env=ENV)
    assert proc.returncode == 2 and f"{bad}:1: not a feeds store export" in proc.stderr
