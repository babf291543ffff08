"""A distributed site's processes re-read their config on SIGHUP, and the scheduler watches
the post folders: real PostgreSQL (tests/services.py), real ``feeds worker`` and ``feeds run
--distributed`` processes, sources on a local HTTP server.

Promises: a broken config is refused by both (the log names its file, line and key) and the
old one goes on; a good one takes effect (an added source is fetched, a removed one and one
whose interval grew are no longer fetched); a post saved while the scheduler runs reaches
its feed without waiting for the scheduled build. Every wait is bounded; every process is
stopped.
"""

from __future__ import annotations

import re
import signal
from functools import partial
from pathlib import Path

import pytest

from tests import server as srv
from tests.e2e.test_daemon import titles
from tests.faults.test_distributed import (
    Proc,
    cluster,
    database,
    processes,
    rss,
    site_for,
    wait_for,
)
from tests.helpers import post_text
from tests.server import LocalServer
from tests.services import postgres_bin

pytestmark = pytest.mark.skipif(postgres_bin() is None, reason="needs PostgreSQL")
__all__ = ["cluster", "database"]  # fixtures


def with_sources(text: str, server: LocalServer, intervals: dict[str, str]) -> str:
    """The config ``text`` with its sources replaced by ``intervals`` (id: interval)."""
    head = text[: text.index("sources:\n")]
    sources = "".join(
        f"  - id: {i}\n    url: {server.url(f'/{i}.xml')}\n    categories: [remote]\n"
        f"    interval: {every}\n"
        for i, every in intervals.items()
    )
    return f"{head}sources:\n{sources}"


def hup(procs: list[Proc], result: str, before: list[int]) -> None:
    """SIGHUP each process and wait for its reload's ``result`` line, past the ``before``
    such lines it had already; for an accepted reload, until it has started again."""
    for p in procs:
        p.proc.send_signal(signal.SIGHUP)
    for p, n in zip(procs, before, strict=True):
        wait_for(partial(lambda p, n: reloads(p, result) > n, p, n), f"reload {result}", procs)
        if result == "ok":
            wait_for(partial(lambda p, n: starts(p) > n + 1, p, n), "started again", procs)


def reloads(p: Proc, result: str) -> int:
    return len(re.findall(rf"event=reload role=\w+ result={result}", p.text()))


def starts(p: Proc) -> int:
    return p.text().count("event=start role=")


def ticks(p: Proc) -> int:
    return p.text().count("event=tick ")


def test_sighup_reloads_scheduler_and_worker_and_refuses_a_broken_config(
    tmp_path: Path, http_server: LocalServer, database: str
) -> None:
    for i in ("a", "b", "c"):
        http_server.routes[f"/{i}.xml"] = srv.static(rss(i))
    site = site_for(tmp_path, http_server, database, ["a", "b"])
    good = with_sources(
        site.config.read_text(encoding="utf-8"), http_server, {"a": "1s", "b": "1s"}
    )
    site.config.write_text(good, encoding="utf-8")
    with processes(site) as start:
        procs = [start("run", "--distributed"), start("worker")]
        scheduler = procs[0]
        wait_for(lambda: http_server.hits("/a.xml") >= 2, "a fetched again after 1 s", procs)

        broken = good.replace("fetch_every: 1s", "fetch_every: soon")
        line = broken.splitlines().index("  fetch_every: soon") + 1
        site.config.write_text(broken, encoding="utf-8")
        hup(procs, "refused", [0, 0])
        for p in procs:
            assert f"config.yaml:{line}: schedule.fetch_every:" in p.text(), p.text()
        hits = http_server.hits("/a.xml")
        wait_for(lambda: http_server.hits("/a.xml") > hits + 1, "the old config goes on", procs)

        # b removed, a's interval grown to an hour, c added
        site.config.write_text(
            with_sources(good, http_server, {"a": "1h", "c": "1h"}), encoding="utf-8"
        )
        hup(procs, "ok", [0, 0])
        a, b = http_server.hits("/a.xml"), http_server.hits("/b.xml")
        wait_for(lambda: http_server.hits("/c.xml") >= 1, "the added source fetched", procs)
        seen = ticks(scheduler)
        wait_for(lambda: ticks(scheduler) >= seen + 4, "four more ticks", procs)
        for p in procs:
            p.proc.send_signal(signal.SIGTERM)
        assert [p.proc.wait(timeout=20) for p in procs] == [0, 0]
    # at most the one fetch that was due as the reload came: then the new config's rules
    assert http_server.hits("/a.xml") <= a + 1
    assert http_server.hits("/b.xml") <= b + 1
    assert http_server.hits("/c.xml") == 1


def test_a_saved_post_is_built_without_waiting_for_the_schedule(
    tmp_path: Path, http_server: LocalServer, database: str
) -> None:
    http_server.routes["/s.xml"] = srv.static(rss("s"))
    site = site_for(tmp_path, http_server, database, ["s"])
    site.post("2022-06-01-a.md", post_text("第一篇", "2022-06-01 08:00:00 +0800", "local"))
    feed = site.out / "local.rss.xml"
    with processes(site) as start:
        scheduler = start("run", "--distributed")  # the scheduled build: every hour
        wait_for(lambda: titles(feed) == ["第一篇"], "the first build", [scheduler])
        wait_for(lambda: "event=watch result=started" in scheduler.text(), "watching", [scheduler])
        site.post("2022-06-02-b.md", post_text("第二篇", "2022-06-02 08:00:00 +0800", "local"))
        wait_for(lambda: titles(feed) == ["第二篇", "第一篇"], "the saved post built", [scheduler])
        scheduler.proc.send_signal(signal.SIGTERM)
        assert scheduler.proc.wait(timeout=20) == 0
    assert "event=watch result=build-deferred" in scheduler.text()
