"""The daemon re-reads its config on SIGHUP: a config replaced by an alias bomb or by a FIFO
is refused (the old config kept) in bounded time and memory, the daemon keeps publishing,
and SIGTERM still stops it at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.test_daemon import Daemon, daemon_config, titles
from tests.faults.hostile import cap_memory
from tests.faults.test_hostile_yaml import bomb
from tests.helpers import ROOT, Site, make_site, post_text


@contextmanager
def capped_daemon(site: Site) -> Iterator[Daemon]:
    log = site.root / "daemon.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feeds", "run", "-c", str(site.config)],
            stdout=sink,
            stderr=sink,
            env=env,
            preexec_fn=cap_memory,
        )
    try:
        yield Daemon(proc, log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.parametrize("hostile", ["alias-bomb", "fifo"])
def test_sighup_with_a_hostile_config_keeps_the_old_one(tmp_path: Path, hostile: str) -> None:
    """SIGHUP with a config that is an alias bomb or a FIFO: the reload is refused, the old
    config stays, a new post is still published and SIGTERM ends the daemon with exit 0."""
    site = make_site(tmp_path, daemon_config(None))
    site.post("2022-06-01-a.md", post_text("文章", "2022-06-01", "local"))
    good = site.config.read_text(encoding="utf-8")
    with capped_daemon(site) as d:
        d.wait_for(lambda: (site.out / "local.rss.xml").exists(), message="first build")
        site.config.unlink()
        if hostile == "fifo":
            os.mkfifo(site.config)
        else:
            indented = "".join("  " + line + "\n" for line in bomb().splitlines())
            site.config.write_text(good + "x-anchors:\n" + indented, encoding="utf-8")
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(lambda: "event=reload result=refused" in d.text(), message="refusal")
        site.post("2022-06-02-b.md", post_text("之后的文章", "2022-06-02", "local"))
        d.wait_for(
            lambda: titles(site.out / "local.rss.xml")[:1] == ["之后的文章"],
            message="a build on the old config after the refused reload",
        )
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=15) == 0
