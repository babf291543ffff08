"""The test command's own PostgreSQL: it starts, answers on 127.0.0.1, and is gone afterwards.

Promise: a fresh machine needs no database server set up by hand for the tests; the private
cluster a test starts is stopped by it (no server and no folder left behind).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.services import postgres, postgres_bin


def test_private_postgres_starts_answers_and_stops() -> None:
    if os.environ.get("FEEDS_TEST_DATABASE_URL"):
        pytest.skip("an external server is configured; nothing is started")
    bindir = postgres_bin()
    assert bindir is not None, "PostgreSQL is not installed: scripts/test installs it"
    psql = bindir / "psql" if (bindir / "psql").is_file() else Path(shutil.which("psql") or "psql")
    with postgres() as url:
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1"
        out = subprocess.run(
            [str(psql), url, "-Atc", "SELECT current_setting('server_version_num')::int / 10000"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert int(out.stdout) >= 13
        port = parts.port
    assert port is not None
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the server is still listening"
