"""``feeds run --metrics-port``: Prometheus metrics of a real daemon, scraped over 127.0.0.1
after its start-up fetch round and builds, read with prometheus-client's own parser."""

from __future__ import annotations

import datetime as dt
import socket
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests import server as srv
from tests.e2e.test_daemon import Daemon, rss, running
from tests.helpers import make_site, post_text, run_cli
from tests.server import LocalServer

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def metrics_port(d: Daemon) -> int:
    d.wait_for(lambda: "event=metrics listening=" in d.text(), message="metrics server")
    return int(d.text().split("event=metrics listening=127.0.0.1:")[1].split()[0])


def config(server: LocalServer) -> str:
    # one fetch round (at start-up); sources due again a second after it, and overdue a
    # second after that (schedule.misfire_grace)
    return (
        "schedule:\n  build: 1h\n  fetch_every: 1h\n  misfire_grace: 1s\n"
        "fetch:\n  allow_networks: [127.0.0.0/8]\n  deadline: 3s\nsources:\n"
        f"  - id: src\n    url: {server.url('/feed.xml')}\n    categories: [remote]\n"
        "    interval: 1s\n"
        f"  - id: broken\n    url: {server.url('/missing.xml')}\n    categories: [remote]\n"
        "    interval: 1s\n"
    )


def test_metrics_after_a_fetch_round_and_builds(tmp_path: Path, http_server: LocalServer) -> None:
    http_server.routes["/feed.xml"] = srv.with_etag(rss("第一条", "第二条"), etag='"1"')
    site = make_site(tmp_path, config(http_server))
    site.post("2022-06-01-a.md", post_text("文章", "2022-06-01 08:00:00 +0800", "local"))
    with running(site, "--metrics-port", "0") as d:
        port = metrics_port(d)
        d.wait_for(
            lambda: scrape(port).get(("feeds_fetches_total", (("outcome", "error"),))) == 1,
            message="the start-up fetch round",
        )
        d.wait_for(
            lambda: any(
                name == "feeds_newest_entry_age_seconds" and labels == (("feed", "remote"),)
                for name, labels in scrape(port)
            ),
            message="a build with the fetched entries",
        )
        got = scrape(port)
        assert got[("feeds_fetches_total", (("outcome", "ok"),))] == 1
        assert got[("feeds_fetch_duration_seconds_count", ())] == 2
        assert got[("feeds_entries_stored_total", ())] == 2
        builds = got[("feeds_builds_total", (("result", "ok"),))]
        assert builds >= 1
        assert got[("feeds_build_duration_seconds_count", ())] == builds
        newest_remote = dt.datetime(2022, 6, 10, 1, tzinfo=dt.UTC).timestamp()
        newest_local = dt.datetime(2022, 6, 1, tzinfo=dt.UTC).timestamp()  # 08:00 +08:00
        for feed, newest in (("remote", newest_remote), ("local", newest_local)):
            age = got[("feeds_newest_entry_age_seconds", (("feed", feed),))]
            assert abs(age - (time.time() - newest)) < 600, feed
        assert got[("process_open_fds", ())] > 0
        # both sources come due again, then overdue; the daemon fetches again only in an hour
        d.wait_for(
            lambda: scrape(port).get(("feeds_sources_overdue", ())) == 2,
            message="both sources overdue",
        )
        assert scrape(port)[("feeds_sources_due", ())] == 2


def test_a_metrics_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    site = make_site(tmp_path, "schedule:\n  build: 1h\n")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        proc = run_cli("run", "-c", site.config, "--metrics-port", str(port), timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert f"cannot listen on 127.0.0.1 port {port}: it is already in use" in proc.stderr
    assert "--metrics-port" in proc.stderr
