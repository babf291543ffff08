"""Publish on save: ``feeds run`` (a real subprocess) with a build interval of an hour puts
a saved post in its feed, and pings the WebSub hub, long before the next scheduled build;
edits, renames and deletes too. The save-to-feed latency seen is printed, never asserted."""

from __future__ import annotations

import signal
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.e2e.test_daemon import running, titles
from tests.helpers import make_site, post_text
from tests.server import LocalServer

WAIT = 15.0  # seconds: a bounded wait, far below the hour to the next scheduled build


def hub(server: LocalServer) -> list[str]:
    """A WebSub hub on 127.0.0.1; the feed URLs it was pinged for."""
    pinged: list[str] = []

    def handle(h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(h.rfile.read(length).decode())
        pinged.extend(form.get("hub.url", []))
        h.send_response(204)
        h.send_header("Content-Length", "0")
        h.end_headers()

    server.post_routes["/hub"] = handle
    return pinged


def timed(label: str, wait: Callable[[], None]) -> None:
    t0 = time.monotonic()
    wait()
    print(f"save-to-feed latency, {label}: {time.monotonic() - t0:.2f} s")


def test_saved_edited_renamed_and_deleted_posts_are_published_at_once(
    tmp_path: Path, http_server: LocalServer
) -> None:
    pinged = hub(http_server)
    site = make_site(
        tmp_path,
        f"schedule:\n  build: 1h\nfeeds:\n  websub_hub: {http_server.url('/hub')}\n",
    )
    site.post("2022-06-01-a.md", post_text("旧文章", "2022-06-01", "local"))
    feed = site.out / "local.rss.xml"
    with running(site, "-v") as d:
        d.wait_for(lambda: titles(feed) == ["旧文章"], message="the start-up build")
        d.wait_for(lambda: "event=watch result=started" in d.text(), message="watching")
        pinged.clear()

        new = site.post("2022-06-02-b.md", post_text("新文章", "2022-06-02", "local"))
        timed(
            "new post",
            lambda: d.wait_for(lambda: titles(feed)[:1] == ["新文章"], WAIT, "the new post"),
        )
        d.wait_for(
            lambda: any(u.endswith("/local.rss.xml") for u in pinged), WAIT, "the WebSub ping"
        )

        site.post("2022-06-02-b.md", post_text("改过的文章", "2022-06-02", "local"))
        timed(
            "edit",
            lambda: d.wait_for(lambda: titles(feed)[:1] == ["改过的文章"], WAIT, "the edit"),
        )

        moved = new.with_name("2022-06-02-c.md")
        new.rename(moved)
        timed(
            "rename",
            lambda: d.wait_for(
                lambda: (
                    titles(feed) == ["改过的文章", "旧文章"]
                    and "/2022/06/02/c.html" in feed.read_text(encoding="utf-8")
                ),
                WAIT,
                "the renamed post at its new URL",
            ),
        )

        moved.unlink()
        timed(
            "delete",
            lambda: d.wait_for(lambda: titles(feed) == ["旧文章"], WAIT, "the deletion"),
        )
        assert d.text().count("event=build reason=schedule") == 1  # only the start-up one
        # after the walk once the watcher is up, a build it asks for stats the changed files
        assert "reason=watch scan=changed:" in d.text()


def test_watch_false_leaves_it_to_the_schedule(tmp_path: Path) -> None:
    site = make_site(tmp_path, "schedule:\n  build: 2s\n  watch: false\n")
    site.post("2022-06-01-a.md", post_text("旧文章", "2022-06-01", "local"))
    with running(site, "-v") as d:
        d.wait_for(lambda: titles(site.out / "local.rss.xml") == ["旧文章"], message="start")
        site.post("2022-06-02-b.md", post_text("新文章", "2022-06-02", "local"))
        d.wait_for(
            lambda: titles(site.out / "local.rss.xml")[:1] == ["新文章"], WAIT, "the schedule"
        )
        assert "event=watch" not in d.text()
        assert "reason=watch" not in d.text()


def test_when_watching_is_not_possible_it_says_so_once_and_keeps_the_schedule(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path)
    base = site.config.read_text(encoding="utf-8")
    site.write_config(
        "schedule:\n  build: 1s\n",
        base=base.replace("dirs: [_posts]", "dirs: [_posts, _drafts]"),  # _drafts: missing
    )
    site.post("2022-06-01-a.md", post_text("旧文章", "2022-06-01", "local"))
    with running(site) as d:
        d.wait_for(lambda: titles(site.out / "local.rss.xml") == ["旧文章"], message="start")
        site.post("2022-06-02-b.md", post_text("新文章", "2022-06-02", "local"))
        d.wait_for(
            lambda: titles(site.out / "local.rss.xml")[:1] == ["新文章"], WAIT, "the schedule"
        )
        assert d.text().count("event=watch result=off") == 1
        assert "not a folder: " in d.text() and "_drafts" in d.text()
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=15) == 0


def test_sighup_with_watch_false_stops_watching(tmp_path: Path) -> None:
    site = make_site(tmp_path, "schedule:\n  build: 1h\n")
    site.post("2022-06-01-a.md", post_text("旧文章", "2022-06-01", "local"))
    feed = site.out / "local.rss.xml"
    with running(site, "-v") as d:
        d.wait_for(lambda: "event=watch result=started" in d.text(), message="watching")
        d.wait_for(lambda: titles(feed) == ["旧文章"], message="the start-up build")
        site.config.write_text(
            site.config.read_text(encoding="utf-8") + "  watch: false\n", encoding="utf-8"
        )
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(lambda: "event=reload result=ok" in d.text(), message="the reload")
        assert "event=watch result=stopped" in d.text()
        site.post("2022-06-02-b.md", post_text("新文章", "2022-06-02", "local"))
        time.sleep(2)  # a watcher would have built by now (see the first test)
        assert titles(feed) == ["旧文章"] and "reason=watch" not in d.text()
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=15) == 0
