"""The store's parts on a real SQLite file and on a real PostgreSQL database (each test that
is not about SQLite itself runs on both): sources with their state, entries, fences, errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sqlite3
from pathlib import Path

import pytest

from feeds import parallel
from feeds.config.config import StoreConfig
from feeds.errors import StoreError
from feeds.models import Entry
from feeds.store.parts import IndexRow, SourceState
from feeds.store.store import Store, open_store

NOW = dt.datetime(2022, 6, 10, 12, 0, tzinfo=dt.UTC)
SH = dt.timezone(dt.timedelta(hours=8))


def entry(n: int, title: str = "", tags: tuple[str, ...] = ()) -> Entry:
    when = dt.datetime(2022, 6, n, 9, 0, tzinfo=SH)
    return Entry(
        id=f"e{n}",
        title=title or f"条目{n}",
        link=f"https://src.example/{n}",
        published=when,
        updated=when,
        summary="",
        content_html=f"<p>{n}</p>",
        tags=tags,
    )


def state(**kw: object) -> SourceState:
    return dataclasses.replace(SourceState("xinhua", "https://xinhua.example/rss"), **kw)  # type: ignore[arg-type]


def test_a_state_and_its_entries_saved_together_read_back_typed(store_config: StoreConfig) -> None:
    saved = state(etag='"v1"', last_fetch=NOW, last_success=NOW, next_attempt=NOW, title="新华")
    with open_store(store_config) as store:
        result = store.sources.save(saved, NOW, [(entry(1), NOW), (entry(2, tags=("体育",)), NOW)])
        assert (result.new, result.changed) == (2, 0)
    with open_store(store_config) as store:
        assert store.sources.states() == {"xinhua": saved}
        assert store.entries.counts() == {"xinhua": 2}
        assert store.entries.index("xinhua") == [
            IndexRow(
                "e2",
                dt.datetime(2022, 6, 2, 1, 0, tzinfo=dt.UTC),
                "https://src.example/2",
                "条目2",
                ("体育",),
            ),
            IndexRow(
                "e1",
                dt.datetime(2022, 6, 1, 1, 0, tzinfo=dt.UTC),
                "https://src.example/1",
                "条目1",
                (),
            ),
        ]
        assert store.entries.load([("xinhua", "e1"), ("xinhua", "nope")]) == {
            ("xinhua", "e1"): entry(1)
        }
        assert store.entries.first_seen("xinhua", ["e1", "nope"]) == {"e1": NOW}
        assert store.entries.first_seen("xinhua") == {"e1": NOW, "e2": NOW}  # every one
        assert store.entries.first_seen("nobody") == {}


def test_an_id_twice_in_one_save_is_new_then_changed(store_config: StoreConfig) -> None:
    with open_store(store_config) as store:
        twice = [(entry(1), NOW), (entry(1, title="第二个"), NOW), (entry(2), NOW), (entry(2), NOW)]
        result = store.sources.save(state(), NOW, twice)
        assert (result.new, result.changed) == (2, 1)
        assert [r.title for r in store.entries.index("xinhua")] == ["条目2", "第二个"]


def test_an_edited_entry_is_changed_and_keeps_its_first_seen(store_config: StoreConfig) -> None:
    later = NOW + dt.timedelta(hours=1)
    with open_store(store_config) as store:
        store.sources.save(state(), NOW, [(entry(1), NOW)])
        result = store.sources.save(state(), later, [(entry(1, title="改过的标题"), later)])
        assert (result.new, result.changed) == (0, 1)
        assert store.entries.first_seen("xinhua", ["e1"]) == {"e1": NOW}
        assert store.entries.index("xinhua")[0].title == "改过的标题"
        before = store.meta("entries_version")
        assert store.sources.save(state(last_error="HTTP 500"), later).new == 0  # state alone
        assert store.meta("entries_version") == before  # no entry moved
        assert store.sources.states()["xinhua"].last_error == "HTTP 500"


def test_prune_keeps_the_newest_per_source(store_config: StoreConfig) -> None:
    with open_store(store_config) as store:
        store.sources.save(state(), NOW, [(entry(n), NOW) for n in range(1, 6)])
        assert store.prune(NOW, max_age_days=0, max_per_source=2) == 3
        assert [r.entry_id for r in store.entries.index("xinhua")] == ["e5", "e4"]


def test_a_raw_sqlite_error_in_a_read_is_our_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "feeds.sqlite3"
    with Store(path) as store:
        other = sqlite3.connect(path)
        other.execute("DROP TABLE entries")
        other.commit()
        other.close()
        with pytest.raises(StoreError, match=rf"{path}: store error: no such table: entries"):
            store.entries.index("xinhua")
        with pytest.raises(StoreError, match=str(path)):
            store.sources.save(state(), NOW, [(entry(1), NOW)])
        assert store.sources.states() == {}  # the failed save was rolled back whole


def test_read_only_open_writes_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "state" / "feeds.sqlite3"
    with pytest.raises(StoreError, match="no store yet"):
        Store(missing, read_only=True)
    assert not missing.parent.exists()
    Store(missing).close()
    with Store(missing, read_only=True) as store:
        assert store.sources.states() == {}
        with pytest.raises(StoreError, match=rf"{missing}: the store is read-only"):
            store.sources.save(state(), NOW)


def test_worker_processes_only_for_big_jobs_in_a_single_threaded_process() -> None:
    assert parallel.worker_count(5, 20, threads=1) == 0
    assert parallel.worker_count(50, 20, threads=3) == 0
    cores = min(os.cpu_count() or 1, parallel.MAX_WORKERS)
    assert parallel.worker_count(50, 20, threads=1) == (cores if cores >= 2 else 0)


def test_a_late_save_with_an_old_fence_changes_nothing(store_config: StoreConfig) -> None:
    with open_store(store_config) as store:
        first = store.sources.claim("xinhua")
        second = store.sources.claim("xinhua")  # the job was taken over by another worker
        assert (first, second) == (1, 2)
        assert store.sources.save(state(etag='"new"'), NOW, [(entry(1), NOW)], fence=second).new
        before = store.meta("entries_version")
        late = store.sources.save(
            state(last_error="late"),
            NOW,
            [(entry(1, title="旧的"), NOW), (entry(2), NOW)],
            fence=first,
        )
        assert late.refused and (late.new, late.changed) == (0, 0)
        assert store.sources.states()["xinhua"].etag == '"new"'  # the state is untouched
        assert [r.title for r in store.entries.index("xinhua")] == ["条目1"]
        assert store.meta("entries_version") == before
        assert store.sources.save(state(), NOW, fence=7).refused  # never claimed that far
        assert not store.sources.save(state(), NOW).refused  # unfenced: one machine, as before
        assert store.sources.claim("other") == 1  # a source without a row yet


def test_a_fetch_stored_twice_stores_once_and_ids_sort_by_code_point(
    store_config: StoreConfig,
) -> None:
    pairs = [(dataclasses.replace(entry(1), id=i), NOW) for i in ("b", "B", "a", "条", "_")]
    with open_store(store_config) as store:
        assert store.sources.save(state(), NOW, pairs).new == 5
        again = store.sources.save(state(), NOW + dt.timedelta(hours=1), pairs)
        assert (again.new, again.changed) == (0, 0)
        assert store.entries.counts() == {"xinhua": 5}
        # one published time: ties go by id in code-point order on both backends
        assert [r.entry_id for r in store.entries.index("xinhua")] == ["B", "_", "a", "b", "条"]


def test_prune_by_age_and_dump_restore_round_trip(
    store_config: StoreConfig, tmp_path: Path
) -> None:
    with open_store(store_config) as store:
        store.sources.save(state(), NOW, [(entry(n), NOW) for n in range(1, 4)])
        assert store.prune(NOW, max_age_days=9, max_per_source=10) == 1  # e1 is 9.1 days old
        rows = list(store.entries.dump())
    assert [(r.entry_id, r.first_seen, r.published) for r in rows] == [
        ("e2", NOW, entry(2).published),
        ("e3", NOW, entry(3).published),
    ]
    with Store(tmp_path / "copy.sqlite3") as copy:
        assert copy.entries.restore(rows) == 2
        assert list(copy.entries.dump()) == rows
        assert copy.load_entries([("xinhua", "e3")]) == {("xinhua", "e3"): entry(3)}


def test_text_with_nul_is_stored_on_both_backends(store_config: StoreConfig) -> None:
    odd = dataclasses.replace(entry(1), link="https://src.example/1\x00x", summary="a\x00b")
    with open_store(store_config) as store:
        assert store.sources.save(state(last_error="bad\x00byte"), NOW, [(odd, NOW)]).new == 1
        assert store.sources.save(state(), NOW, [(odd, NOW)]).changed == 0  # stored once
        (got,) = store.entries.load([("xinhua", "e1")]).values()
        assert got.summary in ("a\x00b", "ab")  # PostgreSQL text cannot hold NUL: dropped
        assert store.entries.counts() == {"xinhua": 1}


def test_a_store_of_schema_3_gains_fences_and_keeps_its_entries(tmp_path: Path) -> None:
    path = tmp_path / "feeds.sqlite3"
    with Store(path) as store:
        store.sources.save(state(), NOW, [(entry(1), NOW)])
    old = sqlite3.connect(path)
    old.execute("DROP TABLE fences")
    old.execute("PRAGMA user_version=3")
    old.commit()
    old.close()
    with Store(path) as store:
        assert store.sources.claim("xinhua") == 1
        assert store.entries.counts() == {"xinhua": 1}


def test_the_stores_due_sources_are_fetchstate_due_over_a_table_of_states(
    store_config: StoreConfig,
) -> None:
    """``sources.due`` and ``sources.unseen`` (what the distributed tick asks) pick exactly
    the sources the pure rule ``fetchstate.due`` picks, on both backends."""
    from feeds.aggregate import fetchstate
    from feeds.config.config import SourceConfig

    tick = dt.timedelta(microseconds=1)
    table: dict[str, tuple[dict[str, object], bool]] = {  # stored fields, enabled
        "waited": ({"next_attempt": NOW - dt.timedelta(hours=1)}, True),
        "on-the-dot": ({"next_attempt": NOW}, True),
        "a-tick-ago": ({"next_attempt": NOW - tick}, True),
        "a-tick-away": ({"next_attempt": NOW + tick}, True),
        "later": ({"next_attempt": NOW + dt.timedelta(hours=1)}, True),
        "unset": ({"next_attempt": None}, True),
        "gone-retry-due": ({"gone": True, "next_attempt": NOW - dt.timedelta(seconds=1)}, True),
        "gone-waiting": ({"gone": True, "next_attempt": NOW + dt.timedelta(days=1)}, True),
        "moved": ({"url": "https://old.example/rss", "next_attempt": NOW + tick}, True),
        "failing": ({"consecutive_errors": 3, "next_attempt": NOW - tick}, True),
        "off": ({"next_attempt": NOW - dt.timedelta(hours=1)}, False),
    }
    sources = tuple(
        SourceConfig(id=i, url=f"https://{i}.example/rss", enabled=on)
        for i, (_, on) in [*table.items(), ("new", ({}, True))]
    )
    with open_store(store_config) as store:
        for s in sources:
            if s.id in table:
                kw = {"url": s.url, **table[s.id][0]}
                row = dataclasses.replace(SourceState(s.id, s.url), **kw)  # type: ignore[arg-type]
                store.sources.save(row, NOW)
        states = store.sources.states()
        enabled = [s for s in sources if s.enabled]
        asked = set(store.sources.due(NOW, 100)) | set(
            store.sources.unseen((s.id, s.url) for s in enabled)
        )
        by_rule = [s.id for s in fetchstate.due(sources, states, NOW)]
        assert [s.id for s in enabled if s.id in asked] == by_rule
        assert set(by_rule) == {
            "waited", "on-the-dot", "a-tick-ago", "unset", "gone-retry-due", "moved",
            "failing", "new",
        }  # fmt: skip
        # the longest-waiting first (unset first, ties by id), at most ``limit``
        assert store.sources.due(NOW, 3) == ["unset", "off", "waited"]
        assert store.sources.unseen([]) == []


def test_threads_opening_a_new_store_at_once_all_get_it(tmp_path: Path) -> None:
    """A tick and a build opening a store that does not exist yet: each makes it or finds
    it made, none fails with 'table already exists'."""
    import threading

    for round_ in range(5):
        path = tmp_path / f"new-{round_}.sqlite3"
        start = threading.Barrier(4)
        failures: list[BaseException] = []

        def open_once(
            path: Path = path,
            start: threading.Barrier = start,
            failures: list[BaseException] = failures,
        ) -> None:
            start.wait(timeout=10)
            try:
                Store(path, timeout=10).close()
            except BaseException as e:  # reported below
                failures.append(e)

        threads = [threading.Thread(target=open_once) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert failures == []
        with Store(path, read_only=True) as store:
            assert store.sources.states() == {}
