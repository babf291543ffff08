"""``feeds fetch``, ``feeds status`` and ``feeds build`` with sources, with the CLI in-process
against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

from tests import server as srv
from tests.helpers import check_all_outputs, cli, make_site, parse_feed, post_text
from tests.server import LocalServer

DATA = Path(__file__).resolve().parents[1] / "data"


def config_for(server: LocalServer) -> str:
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
  - id: down
    url: {server.url("/down.xml")}
    categories: [other]
"""


def test_fetch_status_build(tmp_path: Path, http_server: LocalServer) -> None:
    http_server.routes["/xinhua.xml"] = srv.with_etag((DATA / "source.rss.xml").read_bytes())
    http_server.routes["/down.xml"] = srv.static(
        b"", "text/plain", status=503, headers={"Retry-After": "600"}
    )
    site = make_site(tmp_path, config_for(http_server))
    site.post("2022-06-09-own.md", post_text("自己的文章", "2022-06-09", "own"))

    proc = cli("status", "-c", site.config, "--json")
    assert proc.returncode == 0, proc.stderr
    assert [s["state"] for s in json.loads(proc.stdout)["sources"]] == ["new", "new"]

    proc = cli("fetch", "-c", site.config, "-v")
    assert proc.returncode == 1  # one source failed
    assert (
        f"source 'down' ({http_server.url('/down.xml')}): error: fetch failed: HTTP 503"
        in proc.stderr
    )
    assert "fetched 2 sources: 1 ok, 0 not modified, 1 failed, 0 gone; 4 new entries" in proc.stderr
    assert not site.out.exists()  # fetch writes no feed

    proc = cli("status", "-c", site.config)
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0] == "daemon: not started here (no daemon.json)"
    assert lines[1] == "last build: none recorded"
    lines = lines[2:]
    assert lines[0].split() == [
        "SOURCE",
        "STATE",
        "LAST",
        "SUCCESS",
        "ERRORS",
        "ENTRIES",
        "UNDATED",
        "MERGED",
        "NEXT",
        "ATTEMPT",
    ]
    assert lines[1].split()[:2] == ["xinhua", "ok"] and lines[1].split()[5:8] == ["4", "0", "0"]
    assert lines[2].split()[:3] == ["down", "failing", "never"]
    assert "down: last error: HTTP 503 service unavailable" in proc.stdout
    status = json.loads(cli("status", "-c", site.config, "--json").stdout)["sources"]
    assert status[0]["entries"] == 4 and status[1]["errors"] == 1

    proc = cli("build", "-c", site.config)  # nothing due: no fetch, builds from the store
    assert proc.returncode == 0, proc.stderr
    status = json.loads(cli("status", "-c", site.config, "--json").stdout)
    assert status["last_build"]["ok"] is True and status["daemon"] is None
    ages = {f["feed"]: f["newest"] for f in status["feeds"]}
    assert ages["category 'caijing'"] == "2022-06-11T10:00:00+08:00"
    assert ages["category 'own'"] == "2022-06-09T00:00:00+08:00"
    assert len(parse_feed(site.out / "caijing.rss.xml").entries) == 4
    assert parse_feed(site.out / "own.rss.xml").entries[0].title == "自己的文章"
    check_all_outputs(site.out)

    requests = len(http_server.requests)
    proc = cli("fetch", "-c", site.config, "--all", "-v")
    assert "1 not modified" in proc.stderr
    assert len(http_server.requests) == requests + 2
