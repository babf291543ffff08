"""PostWatcher on real folders: saves, renames and deletes of post files are reported, a
burst as one call; other files are not; a missing folder is refused, once, at start."""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from feeds.run.watch import PostWatcher


def next_batch(q: queue.Queue[frozenset[Path]], timeout: float = 10.0) -> frozenset[Path]:
    return q.get(timeout=timeout)


Watched = tuple[Path, "queue.Queue[frozenset[Path]]", PostWatcher]


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Watched]:
    posts = tmp_path / "_posts"
    posts.mkdir()
    q: queue.Queue[frozenset[Path]] = queue.Queue()
    w = PostWatcher([posts], q.put, quiet_ms=300, max_ms=2000)
    assert w.start()
    yield posts, q, w
    w.stop()


def test_create_edit_rename_delete_are_reported(
    watched: Watched,
) -> None:
    posts, q, _ = watched
    a = posts / "2022-06-01-a.md"
    a.write_text("one", encoding="utf-8")
    assert a in next_batch(q)
    a.write_text("two", encoding="utf-8")
    assert a in next_batch(q)
    b = posts / "2022-06-01-b.md"
    a.rename(b)
    got = next_batch(q)
    while not {a, b} <= got:  # a rename may come as two batches
        got |= next_batch(q)
    b.unlink()
    assert b in next_batch(q)


def test_a_burst_of_saves_is_one_call_and_other_files_are_ignored(
    watched: Watched,
) -> None:
    posts, q, _ = watched
    (posts / "notes.txt").write_text("x", encoding="utf-8")
    (posts / ".2022-06-01-a.md.swp").write_text("x", encoding="utf-8")
    names = [posts / f"2022-06-0{i}-p.md" for i in range(1, 6)]
    for p in names:
        p.write_text("x", encoding="utf-8")
        time.sleep(0.02)
    assert next_batch(q) == frozenset(names)
    assert q.empty()


def test_a_missing_folder_is_refused_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="feeds.run.watch")
    w = PostWatcher([tmp_path / "nowhere"], lambda changed: None)
    assert w.start() is False
    w.stop()
    assert [r.getMessage().count("event=watch result=off") for r in caplog.records] == [1]
    assert "nowhere" in caplog.text
