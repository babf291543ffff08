"""External feeds end to end: a real HTTP server on 127.0.0.1, the real store, real output."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from feeds.config import config
from feeds.errors import FeedsError, StoreError
from feeds.generate import pipeline
from feeds.run import once
from feeds.store.store import Store
from tests import server as srv
from tests.helpers import Site, check_all_outputs, make_site, parse_feed, post_text
from tests.server import LocalServer

DATA = Path(__file__).resolve().parents[1] / "data"
RSS = (DATA / "source.rss.xml").read_bytes()
ATOM = (DATA / "source.atom.xml").read_bytes()
T0 = dt.datetime(2022, 6, 12, 12, 0, tzinfo=dt.UTC)


def sources_config(server: LocalServer, extra_sources: str = "", extra: str = "") -> str:
    return f"""
fetch:
  allow_networks: [127.0.0.0/8]
  deadline: 3s
state:
  dir: state
sources:
  - id: xinhua
    url: {server.url("/xinhua.xml")}
    categories: [caijing]
    routes:
      - {{to: gushi, category: 股市}}
      - {{to: yanghang, title: 央行}}
  - id: people
    url: {server.url("/people.xml")}
    categories: [caijing, renmin]
{extra_sources}{extra}"""


@pytest.fixture
def site(tmp_path: Path, http_server: LocalServer) -> Site:
    s = make_site(tmp_path, sources_config(http_server))
    s.post("2022-06-09-own.md", post_text("本站自己的文章", "2022-06-09 14:36:33 +0800", "caijing"))
    http_server.routes["/xinhua.xml"] = srv.with_etag(RSS)
    http_server.routes["/people.xml"] = srv.static(ATOM, "application/atom+xml")
    return s


def build(site: Site, now: dt.datetime = T0, *, force_fetch: bool = False) -> pipeline.Report:
    return once.fetch_and_build(config.load(site.config), now, force_fetch=force_fetch)


def test_entries_arrive_in_their_categories_with_site_time(site: Site) -> None:
    report = build(site)
    assert report.ok, report.problems.items
    assert [o.status for o in report.sources] == ["ok", "ok"]
    check_all_outputs(site.out)
    caijing = parse_feed(site.out / "caijing.atom.xml")
    titles = [e.title for e in caijing.entries]
    assert titles == [
        "纽约时间",
        "无时区的日期",
        "A股三大指数集体收涨",
        "央行：保持流动性合理充裕",
        "楼市政策持续优化",
        "本站自己的文章",
    ]
    raw = (site.out / "caijing.atom.xml").read_text(encoding="utf-8")
    assert "<published>2022-06-10T10:00:00+08:00</published>" in raw  # 02:00 GMT
    assert "<published>2022-06-10T15:30:00+08:00</published>" in raw  # CST in a Chinese feed
    assert "<published>2022-06-11T09:00:00+08:00</published>" in raw  # naive: source tz
    assert "<published>2022-06-11T10:00:00+08:00</published>" in raw  # -0500
    rss = (site.out / "caijing.rss.xml").read_text(encoding="utf-8")
    assert "<pubDate>Fri, 10 Jun 2022 10:00:00 +0800</pubDate>" in rss
    assert f'<source url="{site_url(site, "/xinhua.xml")}">新华财经</source>' in rss
    assert (
        '<enclosure url="https://xinhua.example.com/audio/b.mp3" length="12345" '
        'type="audio/mpeg"/>' in rss
    )


def site_url(site: Site, path: str) -> str:
    cfg = config.load(site.config)
    return next(s.url for s in cfg.sources if s.url.endswith(path))


def test_routing_rules(site: Site) -> None:
    build(site)
    assert [e.title for e in parse_feed(site.out / "gushi.rss.xml").entries] == [
        "A股三大指数集体收涨"
    ]
    assert [e.title for e in parse_feed(site.out / "yanghang.rss.xml").entries] == [
        "央行：保持流动性合理充裕"
    ]
    # people's copy of the central-bank story: the only source in "renmin", so it stays there
    assert [e.title for e in parse_feed(site.out / "renmin.rss.xml").entries] == [
        "央行：保持流动性合理充裕",
        "楼市政策持续优化",
    ]


def test_same_article_from_two_sources_appears_once(site: Site) -> None:
    build(site)
    caijing = parse_feed(site.out / "caijing.atom.xml")
    dup = [e for e in caijing.entries if e.title == "央行：保持流动性合理充裕"]
    assert len(dup) == 1 and dup[0].source.title == "新华财经"  # the source listed first
    everything = [e.title for e in parse_feed(site.out / "all.rss.xml").entries]
    assert everything.count("央行：保持流动性合理充裕") == 1


def test_content_is_sanitized_and_absolute(site: Site) -> None:
    build(site)
    feed = parse_feed(site.out / "renmin.atom.xml")
    (entry,) = [e for e in feed.entries if e.title == "楼市政策持续优化"]
    html = entry.content[0].value
    assert "多地优化" in html
    assert "onclick" not in html and "javascript" not in html and "alert" not in html
    raw = (site.out / "caijing.rss.xml").read_text(encoding="utf-8")
    # relative URLs resolve against the document (xml:base where given), as feedparser does
    assert site_url(site, "/xinhua.xml").replace("/xinhua.xml", "/img/pboc.jpg") in raw


def test_second_fetch_is_304_and_changes_nothing(site: Site, http_server: LocalServer) -> None:
    build(site)
    before = site.outputs()
    report = build(site, T0 + dt.timedelta(hours=1))
    assert [o.status for o in report.sources] == ["not-modified", "ok"]
    assert http_server.requests[-2].headers.get("if-none-match") == '"v1"' or any(
        r.headers.get("if-none-match") == '"v1"' for r in http_server.requests
    )
    assert site.outputs() == before


def test_sources_not_due_are_not_fetched(site: Site, http_server: LocalServer) -> None:
    build(site)
    n = len(http_server.requests)
    report = build(site, T0 + dt.timedelta(minutes=5))
    assert not report.sources and len(http_server.requests) == n


def test_entries_survive_the_source_going_down(site: Site, http_server: LocalServer) -> None:
    build(site)
    http_server.routes["/xinhua.xml"] = srv.static(b"oops", "text/plain", status=500)
    http_server.routes["/people.xml"] = srv.static(b"", "text/plain", status=404)
    report = build(site, T0 + dt.timedelta(hours=1))
    assert not report.ok
    messages = "\n".join(map(str, report.problems.items))
    assert "source 'xinhua' (http://127.0.0.1:" in messages and "HTTP 500" in messages
    titles = [e.title for e in parse_feed(site.out / "caijing.atom.xml").entries]
    assert "A股三大指数集体收涨" in titles and "楼市政策持续优化" in titles
    check_all_outputs(site.out)


def test_backoff_grows_and_success_resets(site: Site, http_server: LocalServer) -> None:
    http_server.routes["/xinhua.xml"] = srv.static(b"", "text/plain", status=500)
    cfg = config.load(site.config)
    now = T0
    for expected in (1, 2, 3):
        once.fetch(cfg, now, force=True)
        with Store(cfg.store.path) as store:
            st = store.sources.states()["xinhua"]
        assert st.consecutive_errors == expected
        assert st.next_attempt is not None
        wait = (st.next_attempt - now).total_seconds()
        assert 1800 * 2 ** (expected - 1) * 0.75 <= wait <= 1800 * 2 ** (expected - 1) * 1.25
        now += dt.timedelta(days=1)
    http_server.routes["/xinhua.xml"] = srv.with_etag(RSS)
    once.fetch(cfg, now, force=True)
    with Store(cfg.store.path) as store:
        st = store.sources.states()["xinhua"]
    assert st.consecutive_errors == 0 and st.last_error is None


def test_retry_after_is_respected(site: Site, http_server: LocalServer) -> None:
    http_server.routes["/xinhua.xml"] = srv.static(
        b"", "text/plain", status=429, headers={"Retry-After": "7200"}
    )
    cfg = config.load(site.config)
    once.fetch(cfg, T0)
    with Store(cfg.store.path) as store:
        st = store.sources.states()["xinhua"]
    assert st.next_attempt is not None and (st.next_attempt - T0).total_seconds() >= 7200


def test_gone_is_marked_with_a_warning(site: Site, http_server: LocalServer) -> None:
    http_server.routes["/xinhua.xml"] = srv.static(b"", "text/plain", status=410)
    cfg = config.load(site.config)
    report = once.fetch(cfg, T0)
    assert [o.status for o in report.sources] == ["gone", "ok"]
    assert any("marked gone" in str(p) for p in report.problems.items)
    with Store(cfg.store.path) as store:
        st = store.sources.states()["xinhua"]
    assert st.gone and st.next_attempt == T0 + dt.timedelta(hours=24)


def test_network_down_does_not_grow_error_counts(site: Site, http_server: LocalServer) -> None:
    cfg = config.load(site.config)
    http_server.routes["/xinhua.xml"] = srv.static(b"", "text/plain", status=500)
    once.fetch(cfg, T0)  # one real error on record
    http_server.stop()  # now nothing answers at all
    report = once.fetch(cfg, T0 + dt.timedelta(days=1), force=True)
    assert [o.status for o in report.sources] == ["error", "error"]
    assert any("network looks down" in str(p) for p in report.problems.items)
    with Store(cfg.store.path) as store:
        states = store.sources.states()
    assert states["xinhua"].consecutive_errors == 1
    assert states["people"].consecutive_errors == 0


def test_missing_date_is_first_seen_and_stays(site: Site, http_server: LocalServer) -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<link>https://n.example/</link><description>d</description>"
        b"<item><title>\xe6\x97\xa0\xe6\x97\xa5\xe6\x9c\x9f</title>"
        b"<link>https://n.example/1</link></item></channel></rss>"
    )
    http_server.routes["/xinhua.xml"] = srv.static(body)
    build(site)
    stamp = "<published>2022-06-12T20:00:00+08:00</published>"
    assert stamp in (site.out / "caijing.atom.xml").read_text(encoding="utf-8")
    build(site, T0 + dt.timedelta(days=2), force_fetch=True)
    assert stamp in (site.out / "caijing.atom.xml").read_text(encoding="utf-8")


def test_store_refuses_foreign_and_damaged_files(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.sqlite3"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    before = foreign.read_bytes()
    with pytest.raises(StoreError, match="not a feeds store"):
        Store(foreign)
    assert foreign.read_bytes() == before
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match=r"junk\.sqlite3: not a usable feeds store"):
        Store(junk)
    assert junk.read_bytes() == b"this is not sqlite at all" * 100
    good = tmp_path / "state" / "feeds.sqlite3"  # the state folder is created
    Store(good).close()
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(good.read_bytes()[:100])
    with pytest.raises(StoreError, match=r"truncated\.sqlite3"):
        Store(truncated)


def test_locked_store_gives_a_clear_error_after_a_bounded_wait(tmp_path: Path) -> None:
    path = tmp_path / "feeds.sqlite3"
    Store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        store = Store(path, timeout=0.3)
        with pytest.raises(StoreError, match="locked by another process"), store.transaction():
            pass
        store.close()
    except StoreError as e:  # locked already while opening: just as clear
        assert "locked" in str(e)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_store_error_is_fatal_and_writes_nothing(site: Site) -> None:
    state = site.root / "state"
    state.mkdir()
    (state / "feeds.sqlite3").write_bytes(b"garbage" * 1000)
    with pytest.raises(FeedsError, match="not a usable feeds store"):
        build(site)
    assert not site.out.exists()
