"""WebSub pings against a hub on 127.0.0.1, and the run-state files."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from feeds import yamlutil
from feeds.config import config
from feeds.generate import runstate, websub
from feeds.generate.report import FeedResult, Report
from feeds.models import Problems
from tests.server import LocalServer

SH = dt.timezone(dt.timedelta(hours=8))


def cfg_for(hub: str) -> config.Config:
    doc = yamlutil.load(
        "site:\n  title: 站\n  url: https://x.example\noutput:\n  url: https://x.example/f/\n"
        f"feeds:\n  websub_hub: {hub}\n"
    )
    return config.parse(doc, Path("config.yaml"))


class Hub:
    def __init__(self, server: LocalServer, statuses: list[int]) -> None:
        self.urls: list[str] = []
        self.statuses = statuses  # answered in turn; 204 once they run out

        def handle(h: BaseHTTPRequestHandler) -> None:
            form = urllib.parse.parse_qs(h.rfile.read(int(h.headers["Content-Length"])).decode())
            status = self.statuses.pop(0) if self.statuses else 204
            if status < 300:
                assert form["hub.mode"] == ["publish"]
                self.urls.append(form["hub.url"][0])
            h.send_response(status)
            h.send_header("Content-Length", "0")
            h.end_headers()

        server.post_routes["/hub"] = handle


def test_each_head_feed_is_announced_and_a_refusal_is_retried(http_server: LocalServer) -> None:
    hub = Hub(http_server, [503])
    problems = Problems()
    accepted = websub.notify(
        cfg_for(http_server.url("/hub")), ["a.rss.xml", "a b.json"], problems, pause=0.01
    )
    assert accepted == 2 and problems.items == []
    assert hub.urls == ["https://x.example/f/a.rss.xml", "https://x.example/f/a%20b.json"]


def test_a_hub_that_keeps_refusing_is_a_warning(http_server: LocalServer) -> None:
    Hub(http_server, [500, 500, 500])
    problems = Problems()
    assert websub.notify(cfg_for(http_server.url("/hub")), ["a.rss.xml"], problems, pause=0) == 0
    (warning,) = problems.items
    assert warning.where == f"websub hub {http_server.url('/hub')}"
    assert warning.message.endswith("failed after 3 attempts: HTTP 500")


def test_a_stop_or_the_deadline_ends_the_pings(http_server: LocalServer) -> None:
    hub = Hub(http_server, [])
    cfg = cfg_for(http_server.url("/hub"))
    problems = Problems()
    assert websub.notify(cfg, ["a.rss.xml"], problems, should_stop=lambda: True) == 0
    assert "asked to stop: 1 feeds not announced" in problems.items[0].message
    problems = Problems()
    assert websub.notify(cfg, ["a.rss.xml", "b.rss.xml"], problems, deadline=0) == 0
    assert "deadline of 0 s passed: 2 feeds not announced" in problems.items[0].message
    assert hub.urls == [] and not http_server.requests


def test_no_hub_or_nothing_written_sends_nothing(http_server: LocalServer) -> None:
    assert websub.notify(cfg_for(http_server.url("/hub")), [], Problems()) == 0
    assert not http_server.requests


def report(label: str, items: int, *, written: int = 1, errors: int = 0) -> Report:
    problems = Problems()
    for i in range(errors):
        problems.error(f"p{i}.md", "bad")
    problems.warn("x.md", "odd")
    newest = dt.datetime(2022, 6, 9, 14, tzinfo=SH)
    return Report(
        files_written=tuple(f"f{i}" for i in range(written)),
        problems=problems,
        feeds=(FeedResult(label, (f"{label}.rss.xml",), items, newest),),
    )


def test_the_build_file_keeps_feeds_a_later_build_did_not_write(tmp_path: Path) -> None:
    t0 = dt.datetime(2022, 6, 9, 15, tzinfo=SH)
    runstate.record_build(tmp_path, report("news", 3, errors=1), t0, t0)
    runstate.record_build(tmp_path, report("world", 5, written=2), t0, t0)
    data = runstate.load(tmp_path, runstate.BUILD_FILE)
    assert data is not None
    assert data["ok"] is True and data["files_written"] == 2 and data["warnings"] == 1
    assert data["feeds"]["news"]["items"] == 3  # from the first build
    assert data["feeds"]["world"] == {
        "items": 5,
        "newest": "2022-06-09T14:00:00+08:00",
        "paths": ["world.rss.xml"],
    }
    assert (tmp_path / runstate.BUILD_FILE).stat().st_mode & 0o777 == 0o644


def test_a_damaged_state_file_reads_as_none(tmp_path: Path) -> None:
    (tmp_path / runstate.DAEMON_FILE).write_text("{not json")
    assert runstate.load(tmp_path, runstate.DAEMON_FILE) is None
    (tmp_path / runstate.BUILD_FILE).write_text(json.dumps([1, 2]))
    assert runstate.load(tmp_path, runstate.BUILD_FILE) is None
    assert runstate.load(tmp_path, "missing.json") is None
