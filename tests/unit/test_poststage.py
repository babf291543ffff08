"""The post stage over a real build cache (SQLite in memory and in the store's file)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
from pathlib import Path

import pytest

from feeds.collect.posts import scan_posts
from feeds.config import config
from feeds.generate import poststage
from feeds.models import Problems, Severity
from feeds.normalize import normalize
from feeds.store.buildcache import BuildCache, LastBuild, Output
from feeds.store.store import Store, StoreError
from feeds.workers import Workers
from tests.helpers import Site, make_site, post_text

SH = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 6, 30, 12, tzinfo=SH)


def setup(tmp_path: Path, extra: str = "") -> tuple[Site, config.Config]:
    site = make_site(tmp_path, extra)
    site.post("2022-06-01-a.md", post_text("甲", "2022-06-01 08:00:00 +0800", "news", "[x]"))
    site.post("2022-06-02-b.md", post_text("乙", "2022-06-02 08:00:00 +0800", "sport"))
    site.post("2022-06-03-bad.md", post_text("坏", "2022-02-30", "news"))
    return site, config.load(site.config)


def sync(cfg: config.Config, cache: BuildCache) -> tuple[int, Problems]:
    problems = Problems()
    scan = scan_posts(cfg.posts.dirs, problems)
    parsed = poststage.sync(normalize.PostSettings.of(cfg), cache, scan, problems)
    return parsed, problems


def test_sync_reads_only_what_changed_and_reports_every_problem_again(tmp_path: Path) -> None:
    site, cfg = setup(tmp_path)
    cache = BuildCache.in_memory()
    parsed, problems = sync(cfg, cache)
    assert parsed == 3
    assert [(p.severity, Path(p.where).name) for p in problems.items] == [
        (Severity.ERROR, "2022-06-03-bad.md")
    ]
    again, problems2 = sync(cfg, cache)
    assert again == 0 and problems2.items == problems.items  # cached, still reported

    touched = site.posts / "2022-06-01-a.md"
    os.utime(touched, ns=(1, 1))  # new mtime, same bytes: not parsed again
    assert sync(cfg, cache)[0] == 0
    assert cache.post_stats()[str(touched)].mtime_ns == 1

    site.post("2022-06-02-b.md", post_text("乙改", "2022-06-02 08:00:00 +0800", "world"))
    (site.posts / "2022-06-03-bad.md").unlink()
    parsed, problems = sync(cfg, cache)
    assert parsed == 1 and problems.items == []
    assert cache.names("c", None) == ["news", "world"]  # the old category row is gone


def test_index_skips_future_posts_and_second_users_of_a_permalink(tmp_path: Path) -> None:
    site, cfg = setup(tmp_path)
    site.post("2022-07-09-later.md", post_text("将来", "2022-07-09 08:00:00 +0800", "news"))
    same = "permalink: /news/one.html"
    site.post("2022-06-04-one.md", post_text("一", "2022-06-04", "news", extra=same))
    site.post("2022-06-05-two.md", post_text("二", "2022-06-05", "news", extra=same))
    cache = BuildCache.in_memory()
    sync(cfg, cache)
    problems = Problems()
    idx = poststage.index(cfg, cache, NOW, problems)
    assert [Path(r.path).name for r in idx.by_category["news"]] == [
        "2022-06-04-one.md",
        "2022-06-01-a.md",
    ]
    assert idx.count == 3  # a, b, one
    assert idx.next_due == dt.datetime(2022, 7, 9, 8, tzinfo=SH).timestamp()
    assert [Path(p.where).name for p in problems.errors] == ["2022-06-05-two.md"]
    assert "already used by" in problems.errors[0].message


def test_renderer_caches_entries_by_the_bytes_rendered(tmp_path: Path) -> None:
    _, cfg = setup(tmp_path)
    settings = normalize.PostSettings.of(cfg)
    with Store(tmp_path / "state" / "feeds.sqlite3") as store:
        sync(cfg, store.cache)
        refs = poststage.index(cfg, store.cache, NOW, Problems()).every
        first = poststage.PostRenderer(settings, store.cache, Problems())
        first.prefetch(refs)
        first.flush()
        assert first.rendered == 2 and first.used == 2
    with Store(tmp_path / "state" / "feeds.sqlite3") as store:  # the cache is in the file
        second = poststage.PostRenderer(settings, store.cache, Problems())
        entries = [second.entry(r) for r in refs]
        assert second.rendered == 0
        assert entries == [first.done[r.path] for r in refs]
        assert entries[0] is not None and entries[0].title == "乙"


def test_a_changed_setting_drops_the_cached_posts(tmp_path: Path) -> None:
    _, cfg = setup(tmp_path)
    cache = BuildCache.in_memory()
    settings = normalize.PostSettings.of(cfg)
    cache.use_settings(poststage.settings_fingerprint(settings))
    sync(cfg, cache)
    cache.save_outputs([Output("all.rss.xml", "f", 1, 2)], replace_all=True)
    cache.save_build(LastBuild("fp", None, (), 2))
    cache.use_settings(poststage.settings_fingerprint(settings))  # same settings: kept
    assert len(cache.post_stats()) == 3 and cache.last_build().posts == 2

    other = dataclasses.replace(settings, summary_length=settings.summary_length + 1)
    assert poststage.settings_fingerprint(other) != poststage.settings_fingerprint(settings)
    cache.use_settings(poststage.settings_fingerprint(other))
    assert cache.post_stats() == {} and cache.outputs() == {}
    assert cache.last_build() == LastBuild()


def test_an_unreadable_post_is_a_problem_row(tmp_path: Path) -> None:
    _, cfg = setup(tmp_path)
    row = poststage.read_row(normalize.PostSettings.of(cfg), str(tmp_path / "gone.md"), 1, 1)
    assert row.link is None and row.sha == ""
    assert "cannot read" in row.problems[0].message


def test_a_damaged_cache_table_is_our_error_naming_the_store(tmp_path: Path) -> None:
    path = tmp_path / "state" / "feeds.sqlite3"
    with Store(path) as store:
        store.cache.save_outputs([Output("a.json", "f", 1, 2)], replace_all=True)
        with store.transaction() as db:
            db.execute("DROP TABLE outputs")
        for call in (
            store.cache.outputs,
            lambda: store.cache.save_outputs([], replace_all=True),
        ):
            with pytest.raises(StoreError, match=r"feeds\.sqlite3: store error: no such table"):
                call()


def test_worker_processes_render_a_post_url_with_the_posts_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers render without every post's URL; a body that names another post is rendered
    here, with them: the same entries as without workers."""
    site, cfg = setup(tmp_path)
    body = "[前文]({% post_url 2022-06-01-a %})\n"
    site.post("2022-06-04-c.md", post_text("丙", "2022-06-04 08:00:00 +0800", "news", body=body))
    cfg = config.load(site.config)
    settings = normalize.PostSettings.of(cfg)
    monkeypatch.setattr(poststage, "RENDER_PARALLEL_AT", 1)
    found = []
    for workers in (Workers(settings), None):
        cache = BuildCache.in_memory()
        sync(cfg, cache)
        refs = poststage.index(cfg, cache, NOW, Problems()).every
        renderer = poststage.PostRenderer(settings, cache, Problems(), workers)
        with workers or contextlib.nullcontext():
            if workers is not None:
                # a session fixture's server thread may live in this process: the forked
                # workers here touch nothing of it
                workers._single_threaded = True
                assert workers.usable(len(refs), 1), "this test needs 2+ cores"
            renderer.prefetch(refs)
        found.append({Path(r.path).name: renderer.done[r.path] for r in refs})
    assert found[0] == found[1]
    linked = found[0]["2022-06-04-c.md"]
    assert linked is not None and 'href="https://news.example.com/news/2022/06/01/a.html"' in (
        linked.content_html
    )
