"""Real dates through a real feed on 127.0.0.1 and through real posts and the CLI: one odd
date never costs a source or a build, and every form lands at the right instant."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from feeds.config import config
from feeds.run import once
from tests import server as srv
from tests.helpers import check_all_outputs, make_site, parse_feed, post_text, run_cli
from tests.integration.test_hostile_sources import rss, site_with
from tests.server import LocalServer

T0 = dt.datetime(2022, 6, 12, 12, 0, tzinfo=dt.UTC)  # 20:00 in Beijing: the fetch time
FIRST_SEEN = "2022-06-12T20:00:00+08:00"
DATES = {
    "中文日期": ("2022年06月10日 09:30", "2022-06-10T09:30:00+08:00"),
    "东八区写法": ("Fri, 10 Jun 2022 10:00:00 GMT+8", "2022-06-10T10:00:00+08:00"),
    "三小时前": ("3小时前", "2022-06-12T17:00:00+08:00"),
    "没有年份": ("06月11日 08:00", "2022-06-11T08:00:00+08:00"),
    "纪元秒": ("1654830000", "2022-06-10T11:00:00+08:00"),
    "北京时间": ("2022-06-10 12:00 北京时间", "2022-06-10T12:00:00+08:00"),
    "九九九九年": ("Fri, 31 Dec 9999 23:00:00 -0500", FIRST_SEEN),
    "公元一年": ("0001-01-01T00:00:00+08:00", FIRST_SEEN),
    "看不懂": ("某天", FIRST_SEEN),
}


def test_every_feed_date_form_and_no_lost_source(tmp_path: Path, http_server: LocalServer) -> None:
    items = "".join(
        f"<item><title>{title}</title><link>https://src.example/{i}</link>"
        f"<pubDate>{text}</pubDate></item>"
        for i, (title, (text, _)) in enumerate(DATES.items())
    )
    cfg = config.load(site_with(tmp_path, http_server, {"src": srv.static(rss(items))}))
    report = once.fetch_and_build(cfg, T0)
    assert [o.status for o in report.sources] == ["ok"]
    check_all_outputs(cfg.output_dir)
    raw = (cfg.output_dir / "src.atom.xml").read_text(encoding="utf-8")
    feed = parse_feed(cfg.output_dir / "src.atom.xml")
    assert sorted(e.title for e in feed.entries) == sorted(DATES)
    chunks = {e.title: raw.split(f"<title>{e.title}</title>", 1)[1][:2000] for e in feed.entries}
    for title, (_, expected) in DATES.items():
        assert f"<published>{expected}</published>" in chunks[title], title
    warnings = [str(p) for p in report.problems.items]
    for title in ("九九九九年", "公元一年", "看不懂"):
        text = DATES[title][0]
        hits = [w for w in warnings if repr(text) in w]
        assert len(hits) == 1, (title, warnings)
        assert "source 'src'" in hits[0] and "https://src.example/" in hits[0]
        assert "using the time it was first seen" in hits[0]
    assert len(warnings) == 3, warnings


def test_a_post_date_out_of_range_is_that_posts_error(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.post("2022-06-09-slash.md", post_text("斜杠日期", "2022/06/09 14:36", "a"))
    site.post("2022-06-09-rfc.md", post_text("邮件日期", "Thu, 09 Jun 2022 10:00:00 +0800", "a"))
    site.post("2022-06-08-far.md", post_text("九九九九年", "9999-12-31 23:00:00 -0500", "a"))
    site.post("2022-06-07-early.md", post_text("公元一年", "0001-01-01 00:00:00 +0800", "a"))
    proc = run_cli("build", "-c", site.config)
    assert proc.returncode == 1, proc.stderr
    check_all_outputs(site.out)
    feed = parse_feed(site.out / "a.atom.xml")
    assert [e.title for e in feed.entries] == ["斜杠日期", "邮件日期"]
    raw = (site.out / "a.atom.xml").read_text(encoding="utf-8")
    assert "<published>2022-06-09T14:36:00+08:00</published>" in raw
    for name in ("2022-06-08-far.md", "2022-06-07-early.md"):
        lines = [ln for ln in proc.stderr.splitlines() if f"/{name}:4:" in ln]
        assert lines and "error: date:" in lines[0] and "outside the years" in lines[0], proc.stderr
