"""The build's phases one by one: plan, render, write (to a dry writer and to disk)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from feeds.collect.posts import scan_posts
from feeds.config import config
from feeds.generate import output, pipeline, plan, poststage
from feeds.generate.report import Failed, Written, written
from feeds.models import Entry, PostRef, Problems, RemoteRef
from feeds.normalize import normalize
from feeds.store.buildcache import BuildCache
from tests.helpers import make_site, post_text

SH = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 8, 20, 12, tzinfo=SH)


def planned(tmp_path: Path, extra: str = "") -> tuple[plan.Run, BuildCache, plan.Plan]:
    site = make_site(tmp_path, "feeds:\n  max_items: 2\n  archives: true\n" + extra)
    for i, (day, cat) in enumerate([("06-01", "news"), ("07-02", "news"), ("08-03", "sport")]):
        site.post(f"2022-{day}-p{i}.md", post_text(f"文{i}", f"2022-{day} 08:00:00 +0800", cat))
    cfg = config.load(site.config)
    run = plan.Run(cfg, NOW)
    cache = BuildCache.in_memory()
    problems = Problems()
    scan = scan_posts(cfg.posts.dirs, problems)
    settings = normalize.PostSettings.of(cfg)
    return run, cache, plan.plan_feeds(run, cache, scan, plan.Stored(), problems, settings, None)


def sources(run: plan.Run, cache: BuildCache) -> plan.Sources:
    settings = normalize.PostSettings.of(run.cfg)
    return plan.Sources({"post": poststage.PostRenderer(settings, cache, Problems())})


def test_plan_lists_every_feed_with_its_candidates_newest_first(tmp_path: Path) -> None:
    _, _, p = planned(tmp_path)
    assert [f.label for f, _ in p.feeds] == ["all", "category 'news'", "category 'sport'"]
    news = dict((f.name, c) for f, c in p.feeds)["news"]
    assert [Path(r.path).name for r in news if isinstance(r, PostRef)] == [
        "2022-07-02-p1.md",
        "2022-06-01-p0.md",
    ]
    assert p.posts.count == 3


def test_render_gives_each_feed_its_entries_and_closed_months(tmp_path: Path) -> None:
    run, cache, p = planned(tmp_path)
    rendered = list(plan.render_feeds(run, cache, p, plan.Stored(), sources(run, cache)))
    by_name = {r.plan.name: r for r in rendered}
    assert [e.title for e in by_name[""].entries] == ["文2", "文1"]  # max_items: 2
    assert [m.key for m in by_name["news"].months] == ["2022-06", "2022-07"]
    assert by_name["sport"].months == []  # August is not over


def test_a_dry_write_records_every_file_and_touches_nothing(tmp_path: Path) -> None:
    run, cache, p = planned(tmp_path)
    src = sources(run, cache)
    rendered = plan.render_feeds(run, cache, p, plan.Stored(), src)
    writer = output.DryWriter()
    entries_of = plan.month_entries(run, cache, p, plan.Stored(), src)
    done = pipeline.write_all(run, writer, Problems(), rendered, {}, entries_of)
    assert not done.stopped
    assert "archive/news/2022-06.atom.xml" in writer.files
    assert "news.json" in writer.files and "index.html" in writer.files
    assert all(isinstance(r, Written) for r in done.files)
    assert not run.cfg.output_dir.exists()
    heads = written(done.files, changed=True, role="feed")
    assert "all.rss.xml" in heads and not any(h.startswith("archive/") for h in heads)


def test_a_stop_between_documents_keeps_the_rest_unwritten(tmp_path: Path) -> None:
    run, cache, p = planned(tmp_path)
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 1  # let the first document through

    run = plan.Run(run.cfg, NOW, should_stop=stop)
    src = sources(run, cache)
    rendered = plan.render_feeds(run, cache, p, plan.Stored(), src)
    writer = output.DryWriter()
    done = pipeline.write_all(
        run, writer, Problems(), rendered, {}, plan.month_entries(run, cache, p, plan.Stored(), src)
    )
    # head feeds are written one format at a time, the feed of everything first: the first
    # document only, and no feed counted as done
    assert done.stopped and done.feeds == []
    assert sorted(writer.files) == ["all.rss.xml"]


def test_a_file_that_cannot_be_written_is_failed_and_the_rest_go_on(tmp_path: Path) -> None:
    run, cache, p = planned(tmp_path)
    run.cfg.output_dir.mkdir(parents=True)
    (run.cfg.output_dir / "all.rss.xml").mkdir()  # a folder where the file goes
    feed = next(iter(plan.render_feeds(run, cache, p, plan.Stored(), sources(run, cache))))
    problems = Problems()
    results = output.write_head(
        run.cfg, output.DiskWriter(run.cfg.output_dir), problems, feed, lambda _r, _f: None
    )
    failed = [r for r in results if isinstance(r, Failed)]
    assert [r.path for r in failed] == ["all.rss.xml"]
    assert problems.errors[0].where == "all.rss.xml" and "all:" in problems.errors[0].message
    ok = [r for r in results if isinstance(r, Written)]
    assert [r.path for r in ok] == ["all.atom.xml", "all.json", "all.html"]
    assert all(r.changed for r in ok)
    assert (run.cfg.output_dir / "all.json").read_bytes()


class Remote:
    def __init__(self, entry: Entry) -> None:
        self.value = entry
        self.prefetched: list[RemoteRef] = []

    def prefetch(self, refs: Iterable[RemoteRef]) -> None:
        self.prefetched.extend(refs)

    def entry(self, ref: RemoteRef) -> Entry | None:
        return self.value


def test_each_ref_goes_to_the_source_of_its_own_kind(tmp_path: Path) -> None:
    run, cache, p = planned(tmp_path)
    post: PostRef = p.posts.every[0]
    when = dt.datetime(2022, 6, 9, tzinfo=SH)
    remote_entry = Entry("https://r.example/1", "远", "https://r.example/1", when, when, "", "")
    ref = RemoteRef("wire", "1", "https://r.example/1", "远", when, ())
    remote = Remote(remote_entry)
    both = sources(run, cache)
    both = plan.Sources({**both.by_kind, "remote": remote})
    both.prefetch([post, ref])
    assert remote.prefetched == [ref]
    assert both.entry(ref) is remote_entry
    got = both.entry(post)
    assert got is not None and got.title == "文2"
