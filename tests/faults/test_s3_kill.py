"""A builder SIGKILLed in the middle of an upload to S3 (moto's server on 127.0.0.1, behind a
proxy that holds one upload half way): every object is the old or the new version, and the
next builds go on from there, whichever half of the upload the store got."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, Site, run_cli
from tests.s3proxy import StallingProxy
from tests.s3site import (
    PREFIX,
    aws,
    bucket,
    build,
    endpoint,
    objects,
    on_disk,
    s3_site,
    write_posts,
)

__all__ = ["aws", "bucket", "endpoint"]  # fixtures


def _popen_build(site: Site, env: dict[str, str]) -> subprocess.Popen[str]:
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "feeds", "build", "-c", str(site.config)],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _with_endpoint(site: Site, endpoint: str) -> None:
    text = site.config.read_text(encoding="utf-8")
    start = text.index("endpoint: ") + len("endpoint: ")
    end = text.index("\n", start)
    site.config.write_text(text[:start] + endpoint + text[end:], encoding="utf-8")


@pytest.mark.parametrize(("cut", "at"), [("request", 3), ("response", 3), ("hook", 3)])
def test_a_builder_killed_mid_upload_leaves_every_object_old_or_new(
    tmp_path: Path, endpoint: str, bucket: str, aws: dict[str, str], cut: str, at: int
) -> None:
    site = s3_site(tmp_path / "site", endpoint, bucket)
    write_posts(site, 1)
    assert build(site, aws).returncode == 0
    old = objects(endpoint, bucket)
    assert on_disk(site, tmp_path / "ref") == old
    write_posts(site, 2)
    new = on_disk(site, tmp_path / "ref")
    assert len([n for n in new if old.get(n) != new[n]]) > at
    if cut == "hook":  # the fault hook: SIGKILL just before the at-th upload starts
        killed = run_cli("build", "-c", site.config, env={**aws, "FEEDS_FAULT_KILL_AT": str(at)})
        assert killed.returncode == -signal.SIGKILL
        _check_old_or_new(objects(endpoint, bucket), old, new)
        _rebuild_either_way(site, endpoint, bucket, aws, old, new)
        return
    upstream = int(endpoint.rsplit(":", 1)[1])
    proxy = StallingProxy(upstream, at, cut)
    proxy.start()
    _with_endpoint(site, f"http://127.0.0.1:{proxy.port}")
    proc = _popen_build(site, aws)
    try:
        assert proxy.held.wait(60), "the build never reached the upload to hold"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        proxy.stop()
    assert proc.returncode == -signal.SIGKILL
    if cut == "response":  # the whole upload reached the store: wait until it is stored
        deadline = time.monotonic() + 10
        while objects(endpoint, bucket) == old and time.monotonic() < deadline:  # bounded
            time.sleep(0.1)
    now = objects(endpoint, bucket)
    _check_old_or_new(now, old, new)
    held = proxy.held_key.removeprefix(f"/{bucket}/{PREFIX}")
    assert held in old and old[held] != new[held]
    assert now[held] == (old[held] if cut == "request" else new[held])
    _with_endpoint(site, endpoint)
    _rebuild_either_way(site, endpoint, bucket, aws, old, new)


def _check_old_or_new(now: dict[str, bytes], old: dict[str, bytes], new: dict[str, bytes]) -> None:
    assert set(now) <= set(old) | set(new)
    for name, data in now.items():
        assert data in (old.get(name), new.get(name)), f"{name} is neither old nor new"


def _rebuild_either_way(
    site: Site,
    endpoint: str,
    bucket: str,
    aws: dict[str, str],
    old: dict[str, bytes],
    new: dict[str, bytes],
) -> None:
    """The next builds go either way: the builder knows an object it uploaded without seeing
    the answer as its own (it replaces it), and one it never finished as the old one."""
    write_posts(site, 1)
    done = run_cli("build", "-c", site.config, env=aws)
    assert done.returncode == 0, done.stderr
    assert objects(endpoint, bucket) == old
    write_posts(site, 2)
    done = run_cli("build", "-c", site.config, env=aws)
    assert done.returncode == 0, done.stderr
    assert objects(endpoint, bucket) == new
