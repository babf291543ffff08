"""Real services for the tests, started and stopped by the tests themselves.

``postgres()`` gives the URL of a PostgreSQL server: ``FEEDS_TEST_DATABASE_URL`` when it is set
(an operator's or CI's own server), else a private cluster made with Debian's PostgreSQL
binaries — ``initdb`` into a temporary folder, listening on 127.0.0.1 on a free port and on a
socket in that folder only, stopped and removed when the block ends. Nothing is mocked.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PG_ROOTS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's binaries (Debian keeps them out of PATH)."""
    for root in PG_ROOTS:
        if (root / "initdb").is_file() and (root / "pg_ctl").is_file():
            return root
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _as_owner(argv: list[str], owner: str | None) -> list[str]:
    # PostgreSQL refuses to run as root: CI runs the tests as root, so the cluster belongs
    # to the 'postgres' user that Debian's package creates
    return ["runuser", "-u", owner, "--", *argv] if owner else argv


@dataclass(frozen=True)
class Cluster:
    """A private PostgreSQL cluster: its URL, and ``restart()`` (``pg_ctl restart -m fast``:
    every connection is cut, the server is back on the same port)."""

    url: str
    restart: Callable[[], None]


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL URL for the duration of the block (see the module docstring)."""
    given = os.environ.get("FEEDS_TEST_DATABASE_URL")
    if given:
        yield given
        return
    with postgres_cluster() as cluster:
        yield cluster.url


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    """Always a private cluster (a test that restarts the server cannot use a shared one)."""
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed: scripts/test installs it (postgresql)")
    owner = "postgres" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="feeds-pg-"))
    data = folder / "data"
    if owner:
        user = pwd.getpwnam(owner)
        os.chown(folder, user.pw_uid, user.pw_gid)
    port = free_port()

    def run(*argv: str, timeout: float = 60) -> None:
        subprocess.run(
            _as_owner([str(bindir / argv[0]), *argv[1:]], owner),
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    run("initdb", "-D", str(data), "-A", "trust", "-U", "feeds", "-E", "UTF8", "--no-sync")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = str(folder / "server.log")
    run("pg_ctl", "-D", str(data), "-o", options, "-l", log, "-w", "-t", "30", "start")

    def restart() -> None:
        run("pg_ctl", "-D", str(data), "-o", options, "-l", log, "-m", "fast", "-w", "restart")

    try:
        yield Cluster(f"postgresql://feeds@127.0.0.1:{port}/postgres", restart)
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "30", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def moto_s3() -> Iterator[str]:
    """The endpoint URL of moto's S3 server (the ``moto[server]`` package) on 127.0.0.1 on a
    free port, for the duration of the block: a real HTTP server speaking the S3 protocol,
    conditional writes (If-None-Match / If-Match on PutObject, answered 412) included."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
