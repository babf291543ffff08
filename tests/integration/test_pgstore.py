"""The PostgreSQL store's own promises, on a real server: versioned migrations (applied once,
a newer database refused untouched), fences handed out once each under concurrency, a
driver error that comes out as ours naming the database (the failed save rolled back), and a
build whose fetch round saves into PostgreSQL (ETags read back: a 304 the next time)."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from feeds.config import config
from feeds.config.config import StoreConfig
from feeds.errors import StoreError
from feeds.models import Entry
from feeds.run import once
from feeds.store import pgschema, pgstore
from feeds.store.parts import SourceState
from feeds.store.store import open_store
from tests import server as srv
from tests.helpers import make_site, post_text
from tests.integration.test_aggregate import ATOM, RSS, T0, sources_config
from tests.server import LocalServer
from tests.stores import migrated

NOW = dt.datetime(2022, 6, 10, 12, 0, tzinfo=dt.UTC)


def entry(n: int) -> Entry:
    when = NOW - dt.timedelta(hours=n)
    return Entry(f"e{n}", f"条目{n}", f"https://src.example/{n}", when, when, "", "<p>x</p>")


def versions(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM feeds_migrations ORDER BY 1")]


def test_migrations_apply_once_even_when_two_run_at_once(database_url: str) -> None:
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: pgstore.migrate(database_url, timeout=10)[1], range(2)))
    assert sorted(runs) == [[], list(range(1, pgschema.CURRENT + 1))]
    assert versions(database_url) == list(range(1, pgschema.CURRENT + 1))


def test_a_database_from_a_newer_feeds_is_refused_untouched(
    database_url: str, tmp_path: Path
) -> None:
    migrated(database_url)
    newer = pgschema.CURRENT + 1
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO feeds_migrations (version, name) VALUES (%s, 'x')", (newer,))
    message = rf"migrated by a newer feeds \(schema {newer}, this one knows {pgschema.CURRENT}\)"
    with pytest.raises(StoreError, match=message):
        open_store(StoreConfig(tmp_path, database=database_url))
    with pytest.raises(StoreError, match=message):
        pgstore.migrate(database_url, timeout=10)
    assert versions(database_url) == [*range(1, pgschema.CURRENT + 1), newer]
    assert not tmp_path.joinpath("feeds.sqlite3").exists()  # nothing opened locally either


def test_concurrent_claims_each_get_their_own_fence(database_url: str, tmp_path: Path) -> None:
    cfg = StoreConfig(tmp_path, database=migrated(database_url))
    with open_store(cfg) as one, open_store(cfg) as two:
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(lambda i: (one, two)[i % 2].sources.claim("wire"), range(40)))
        assert sorted(got) == list(range(1, 41))
        state = SourceState("wire", "https://wire.example/rss")
        assert one.sources.save(state, NOW, [(entry(1), NOW)], fence=40).new == 1
        assert two.sources.save(state, NOW, [(entry(2), NOW)], fence=39).refused
        assert one.entries.counts() == {"wire": 1}


def test_a_driver_error_is_ours_naming_the_database_and_rolls_back(
    database_url: str, tmp_path: Path
) -> None:
    cfg = StoreConfig(tmp_path, database=migrated(database_url))
    name = database_url.rsplit("/", 1)[1]
    with open_store(cfg) as store:
        with psycopg.connect(database_url) as conn:
            conn.execute("DROP TABLE entries")
        with pytest.raises(StoreError, match=rf"/{name}: store error: .*entries"):
            store.entries.index("wire")
        with pytest.raises(StoreError, match=rf"/{name}: store error"):
            store.sources.save(SourceState("wire", "https://w/"), NOW, [(entry(1), NOW)])
        assert store.sources.states() == {}  # the failed save was rolled back whole


def test_the_due_and_newest_queries_have_their_indexes(database_url: str) -> None:
    migrated(database_url)
    with psycopg.connect(database_url) as conn:
        conn.execute("SET enable_seqscan = off")
        due = conn.execute(
            "EXPLAIN SELECT id FROM sources WHERE NOT gone AND next_attempt <= now() "
            "ORDER BY next_attempt LIMIT 100"
        ).fetchall()
        newest = conn.execute(
            "EXPLAIN SELECT entry_id FROM entries WHERE source_id = 'x' "
            "ORDER BY published DESC, entry_id LIMIT 20"
        ).fetchall()
    assert "sources_due" in str(due)
    assert "entries_newest" in str(newest)


def test_a_build_with_http_sources_fetches_into_postgresql(
    tmp_path: Path, http_server: LocalServer, database_url: str
) -> None:
    database = f"  database: '{migrated(database_url)}'\n"
    site = make_site(
        tmp_path, sources_config(http_server).replace("  dir: state\n", "  dir: state\n" + database)
    )
    site.post(
        "2022-06-09-own.md", post_text("本站自己的文章", "2022-06-09 14:36:33 +0800", "caijing")
    )
    http_server.routes["/xinhua.xml"] = srv.with_etag(RSS)
    http_server.routes["/people.xml"] = srv.static(ATOM, "application/atom+xml")
    cfg = config.load(site.config)
    first = once.fetch_and_build(cfg, T0)
    assert first.ok and [o.status for o in first.sources] == ["ok", "ok"]
    built = site.outputs()
    with open_store(cfg.store, read_only=True) as store:
        assert store.sources.states()["xinhua"].etag == '"v1"'
        counts = store.entries.counts()
    assert counts["xinhua"] > 0 and counts["people"] > 0
    assert "本站自己的文章" in built["all.atom.xml"].decode()
    later = once.fetch_and_build(cfg, T0 + dt.timedelta(hours=1))  # the ETag read back: a 304
    assert [o.status for o in later.sources] == ["not-modified", "ok"]
    with open_store(cfg.store, read_only=True) as store:
        assert store.entries.counts() == counts  # the same fetch stored once
    assert site.outputs() == built
