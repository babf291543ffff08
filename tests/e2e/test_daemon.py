"""``feeds run`` as a real subprocess: schedules, lock, signals, health. Bounded waits only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import feedparser
import pytest

from tests import server as srv
from tests.helpers import ROOT, Site, make_site, parse_feed, post_text, run_cli
from tests.server import LocalServer


def rss(*titles: str) -> bytes:
    items = "".join(
        f"<item><title>{t}</title><link>https://src.example/{i}</link>"
        f"<pubDate>Fri, 10 Jun 2022 0{i}:00:00 GMT</pubDate></item>"
        for i, t in enumerate(titles)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>源'
        f"</title><link>https://src.example/</link><description>d</description>{items}"
        f"</channel></rss>"
    ).encode()


def daemon_config(server: LocalServer | None, build: str = "1s") -> str:
    text = f"schedule:\n  build: '{build}'\n  fetch_every: 1s\n"
    if server is not None:
        text += (
            "fetch:\n  allow_networks: [127.0.0.0/8]\n  deadline: 3s\nsources:\n"
            f"  - id: src\n    url: {server.url('/feed.xml')}\n    categories: [remote]\n"
            "    interval: 1s\n"
        )
    return text


class Daemon:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc = proc
        self.log = log

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, what: Callable[[], bool], timeout: float = 20.0, message: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if what():
                return
            if self.proc.poll() is not None:
                pytest.fail(
                    f"daemon exited ({self.proc.returncode}) before: {message}\n{self.text()}"
                )
            time.sleep(0.1)
        pytest.fail(f"timed out after {timeout} s waiting for: {message}\n{self.text()}")


@contextmanager
def running(site: Site, *extra: str, env_extra: dict[str, str] | None = None) -> Iterator[Daemon]:
    log = site.root / "daemon.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feeds", "run", "-c", str(site.config), *extra],
            stdout=sink,
            stderr=sink,
            env=env,
        )
    try:
        yield Daemon(proc, log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def titles(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [e.title for e in feedparser.parse(path.read_bytes()).entries]


def test_new_post_and_new_remote_item_arrive(tmp_path: Path, http_server: LocalServer) -> None:
    http_server.routes["/feed.xml"] = srv.with_etag(rss("第一条"), etag='"1"')
    site = make_site(tmp_path, daemon_config(http_server))
    site.post("2022-06-01-a.md", post_text("旧文章", "2022-06-01", "local"))
    with running(site) as d:
        d.wait_for(lambda: titles(site.out / "remote.rss.xml") == ["第一条"], message="first")
        d.wait_for(lambda: titles(site.out / "local.rss.xml") == ["旧文章"], message="post")
        site.post("2022-06-02-b.md", post_text("新文章", "2022-06-02", "local"))
        http_server.routes["/feed.xml"] = srv.with_etag(rss("第一条", "第二条"), etag='"2"')
        d.wait_for(
            lambda: titles(site.out / "local.rss.xml") == ["新文章", "旧文章"],
            message="the new post",
        )
        d.wait_for(
            lambda: sorted(titles(site.out / "remote.rss.xml")) == ["第一条", "第二条"],
            message="the new remote item",
        )
        assert "event=start" in d.text() and "event=fetch sources=1 new=1" in d.text()
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=15) == 0
    assert "event=stop" in d.text()
    assert not (site.root / "state" / "feeds.lock").read_bytes()  # released


def test_second_process_is_refused_while_the_daemon_runs(tmp_path: Path) -> None:
    site = make_site(tmp_path, daemon_config(None))
    site.post("2022-06-01-a.md", post_text("文章", "2022-06-01", "local"))
    with running(site) as d:
        d.wait_for(lambda: (site.out / "local.rss.xml").exists(), message="first build")
        proc = run_cli("build", "-c", site.config)
        assert proc.returncode == 75
        assert f"pid {d.proc.pid} (feeds run, since" in proc.stderr
        assert "not starting a second one" in proc.stderr
        assert run_cli("fetch", "-c", site.config).returncode == 75
        d.proc.send_signal(signal.SIGINT)
        assert d.proc.wait(timeout=15) == 0
    assert run_cli("build", "-c", site.config).returncode == 0  # free again


def test_sighup_with_a_broken_config_keeps_the_old_one(tmp_path: Path) -> None:
    site = make_site(tmp_path, daemon_config(None))
    site.post("2022-06-01-a.md", post_text("文章", "2022-06-01", "local"))
    good = site.config.read_text(encoding="utf-8")
    with running(site) as d:
        d.wait_for(lambda: (site.out / "local.rss.xml").exists(), message="first build")
        site.config.write_text(good + "feeds:\n  max_items: zero\n", encoding="utf-8")
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(lambda: "event=reload result=refused" in d.text(), message="refusal")
        assert "feeds.max_items: must be a whole number" in d.text()
        site.post("2022-06-02-b.md", post_text("之后的文章", "2022-06-02", "local"))
        d.wait_for(
            lambda: titles(site.out / "local.rss.xml")[:1] == ["之后的文章"],
            message="a build on the old config after the refused reload",
        )
        assert d.proc.poll() is None
        site.config.write_text(good.replace("build: '1s'", "build: '2s'"), encoding="utf-8")
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(
            lambda: "event=reload result=ok" in d.text() and 'build="2s"' in d.text(),
            message="the fixed config",
        )
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=15) == 0


def test_sigterm_during_a_build_leaves_whole_files(tmp_path: Path) -> None:
    site = make_site(tmp_path, daemon_config(None, build="1s"))
    categories = [f"c{i:02d}" for i in range(20)]
    for i in range(200):
        site.post(
            f"2022-01-01-p{i:04d}.md",
            post_text(f"文章{i}", f"2022-01-01 {i % 24:02d}:{i % 60:02d}:00", categories[i % 20]),
        )
    # every file write pauses 0.1 s between temp file and rename: a build of 42 files takes
    # seconds, so the signal lands in the middle of it
    slow = {"FEEDS_FAULT_WRITE_DELAY": "0.1"}
    for round_ in range(3):
        with running(site, "-v", env_extra=slow) as d:
            d.wait_for(lambda: "event=build" in d.text(), timeout=60, message="a build")
            before = {p: p.read_bytes() for p in site.out.rglob("*") if p.is_file()}
            for c in categories:  # every feed changes: the next build rewrites every file
                site.post(
                    f"2022-02-0{round_ + 1}-new-{c}.md",
                    post_text(f"新{round_}{c}", f"2022-02-0{round_ + 1}", c),
                )
            d.wait_for(
                lambda old=before: any(
                    p.read_bytes() != old.get(p)  # type: ignore[misc]
                    for p in site.out.rglob("*.rss.xml")
                ),
                timeout=30,
                message="the next build to replace a file",
            )
            time.sleep(0.15 * round_)
            start = time.monotonic()
            d.proc.send_signal(signal.SIGTERM)
            assert d.proc.wait(timeout=20) == 0
            assert time.monotonic() - start < 5
            assert "stopped=true" in d.text()
        files = sorted(site.out.rglob("*"))
        assert not [p for p in files if p.name.startswith(".feeds-tmp-")]
        old = new = 0
        for p in files:
            if p.name.endswith(".json"):
                first_title = json.loads(p.read_bytes())["items"][0]["title"]
            elif p.name.endswith((".rss.xml", ".atom.xml")):
                parsed = feedparser.parse(p.read_bytes())
                assert parsed.bozo == 0, (p, parsed.get("bozo_exception"))
                first_title = parsed.entries[0].title
            else:
                continue  # index.html, feeds.opml, feed.xsl: written after the feeds
            if p.read_bytes() == before[p]:
                old += 1
            else:
                assert first_title.startswith(f"新{round_}"), p
                new += 1
        assert old and new  # stopped half-way: some files old, some new, none partial
    assert not (site.root / "state" / "feeds.lock").read_bytes()


def test_health_endpoint_and_status(tmp_path: Path) -> None:
    site = make_site(tmp_path, daemon_config(None, build="0 * * * *"))
    site.post("2022-06-01-a.md", post_text("文章", "2022-06-01", "local"))
    with running(site, "--health-port", "0", "--log-format", "json") as d:
        d.wait_for(
            lambda: '"listening=127.0.0.1:' in d.text() or "listening=" in d.text(),
            message="health server",
        )
        port = int(d.text().split("listening=127.0.0.1:")[1].split()[0].strip('"}'))
        d.wait_for(lambda: (site.out / "local.rss.xml").exists(), message="start-up build")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as resp:
            body = json.loads(resp.read())
            assert resp.status == 200
        assert body["running"] is True and body["next_build"].endswith("+08:00")
        assert body["next_build"][14:19] == "00:00"  # on the hour, Shanghai time
        for line in d.text().splitlines():
            json.loads(line)  # --log-format json: every line is a JSON object
        status = run_cli("status", "-c", site.config)
        assert f"daemon: pid {d.proc.pid} running" in status.stdout
        assert "category 'local': 1 items, newest 2022-06-01T00:00:00+08:00" in status.stdout
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=15) == 0
    assert "not running" in run_cli("status", "-c", site.config).stdout


def test_init_writes_a_working_site(tmp_path: Path) -> None:
    proc = run_cli("init", tmp_path / "site")
    assert proc.returncode == 0, proc.stderr
    assert run_cli("build", "-c", tmp_path / "site" / "config.yaml").returncode == 0
    assert (
        parse_feed(tmp_path / "site" / "output" / "news.atom.xml").entries[0].title
        == "欢迎使用 feeds"
    )
    again = run_cli("init", tmp_path / "site")
    assert again.returncode == 2 and "already exists" in again.stderr
