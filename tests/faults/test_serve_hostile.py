"""Hostile clients against ``feeds serve`` (and the daemon's health port), on 127.0.0.1: every
request gets an HTTP answer, idle and slow connections cannot pile up, a small descriptor
limit neither stops the server nor makes it spin, and a busy port is a clear error.
``FEEDS_LONG_FAULTS=1`` holds more connections for longer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from feeds import serve
from feeds.run import health
from tests.helpers import ROOT, make_site, run_cli

LONG = os.environ.get("FEEDS_LONG_FAULTS") == "1"


def _status_line(port: int, request: bytes, wait: float = 10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(request)
        data = b""
        end = time.monotonic() + wait
        while b"\r\n" not in data and time.monotonic() < end:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    out = tmp_path / "out"
    out.mkdir()
    (out / "all.rss.xml").write_bytes(b"<rss/>")
    server = serve.make_server(out, "127.0.0.1", 0, "/", idle_timeout=1.0)
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield int(server.server_address[1]), out
    finally:
        server.shutdown()
        server.server_close()
        t.join(5)


@pytest.fixture
def health_served() -> Iterator[tuple[int, Path]]:
    """The daemon's health server (``feeds run --health-port``), as the daemon starts it."""
    body = {"running": True, "last_job_failed": None, "build_overdue": None}
    server = health.serve(0, lambda: dict(body), idle_timeout=1.0, max_connections=4)
    try:
        yield int(server.server_address[1]), Path()
    finally:
        server.shutdown()
        server.server_close()


def test_every_hostile_request_gets_a_status_line(
    served: tuple[int, Path], capfd: pytest.CaptureFixture[str]
) -> None:
    """Promise: a name longer than the system allows, a 70 KB request line and a symlink loop
    each get an HTTP status line (not a dropped connection), and no traceback is printed."""
    port, out = served
    (out / "loop1").symlink_to("loop2")
    (out / "loop2").symlink_to("loop1")
    cases = {
        b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n": b"414",
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n": b"414",
        b"GET /loop1 HTTP/1.1\r\nHost: x\r\n\r\n": b"404",
        b"GET /loop1/x.xml HTTP/1.1\r\nHost: x\r\n\r\n": b"404",
        b"GET /all.rss.xml HTTP/1.1\r\nHost: x\r\n\r\n": b"200",
    }
    for request, status in cases.items():
        line = _status_line(port, request)
        assert line.startswith(b"HTTP/1.") and line.split(b" ")[1] == status, (request[:40], line)
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("server", ["served", "health_served"], ids=["serve", "health"])
def test_idle_and_slow_connections_are_closed(server: str, request: pytest.FixtureRequest) -> None:
    """Promise: a connection that sends nothing, or drips its request a byte at a time, is
    closed by the server after its timeout (a slow client cannot hold a thread for ever);
    ``feeds serve`` and the daemon's health port alike."""
    port, _out = request.getfixturevalue(server)
    with socket.create_connection(("127.0.0.1", port), timeout=15) as idle:
        first = idle.recv(100)  # a TimeoutError here: the server kept it open for 15 s
        assert first == b"" or first.startswith(b"HTTP/1.1 408"), first
    with socket.create_connection(("127.0.0.1", port), timeout=15) as slow:
        closed = False
        for byte in b"GET /all.rss.xml HTTP/1.1\r\nHost: " + b"x" * 200:
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            slow.settimeout(0.25)
            try:
                if slow.recv(4096) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            else:
                closed = True  # an answer (408) before the request ended
                break
        assert closed


def test_the_health_port_holds_a_bounded_number_of_connections(
    health_served: tuple[int, Path],
) -> None:
    """Promise: clients that open connections and send nothing cannot take every thread of
    the daemon's health port: past its cap (here 4) a new client gets a 503 "busy" at once,
    and once they are gone (or timed out) a probe gets its 200 again."""
    port, _ = health_served
    probe = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(4)]
    try:
        time.sleep(0.2)  # the server has taken them all
        assert _status_line(port, probe, 5).startswith(b"HTTP/1.1 503"), "not capped"
    finally:
        for s in held:
            s.close()
    line = b""
    for _ in range(20):  # bounded: the slots come back as the server sees them closed
        line = _status_line(port, probe, 5)
        if b" 200 " in line + b" ":
            break
        time.sleep(0.1)
    assert line.split(b" ")[1] == b"200", line


SERVER = """
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
from pathlib import Path
import threading
from feeds import serve
from feeds.run import health
idle = float(sys.argv[2])
if sys.argv[3] == "serve":
    server = serve.make_server(Path(sys.argv[1]), "127.0.0.1", 0, "/", idle_timeout=idle)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
else:
    body = {"running": True, "last_job_failed": None, "build_overdue": None}
    server = health.serve(0, lambda: dict(body), idle_timeout=idle)
print(server.server_address[1], flush=True)
threading.Event().wait()
"""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc for CPU time")
@pytest.mark.parametrize("kind", ["serve", "health"])
def test_many_idle_connections_under_a_small_descriptor_limit(tmp_path: Path, kind: str) -> None:
    """Promise: with only 64 file descriptors and 200 idle connections held open, the server
    (``feeds serve``, the daemon's health port) still answers a new client, and it does not
    spin (its CPU time stays small)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "all.rss.xml").write_bytes(b"<rss/>")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    idle = "5" if LONG else "2"
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(out), idle, kind], stdout=subprocess.PIPE, env=env
    )
    held: list[socket.socket] = []
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        cpu_before = _cpu_seconds(proc.pid)
        for _ in range(400 if LONG else 200):
            try:
                held.append(socket.create_connection(("127.0.0.1", port), timeout=2))
            except OSError:
                break  # the backlog is full: enough pressure
        time.sleep(3.0)  # the server under pressure: a spinning one burns this whole time
        request = f"GET /{'all.rss.xml' if kind == 'serve' else 'health'} HTTP/1.1\r\n"
        request += "Host: x\r\n\r\n"
        answered = b""
        for _ in range(40):  # bounded: at most ~40 × 0.5 s
            try:
                answered = _status_line(port, request.encode(), 2)
            except OSError:
                answered = b""
            if answered.startswith(b"HTTP/1.") and answered.split(b" ")[1] == b"200":
                break
            time.sleep(0.5)
        cpu = _cpu_seconds(proc.pid) - cpu_before
        assert answered.startswith(b"HTTP/1.") and answered.split(b" ")[1] == b"200", answered
        assert cpu < 2.5, f"the server used {cpu:.1f} s of CPU while holding idle connections"
    finally:
        for s in held:
            s.close()
        proc.kill()
        proc.wait(10)


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    """Promise: ``feeds serve`` and ``feeds run --health-port`` on a port already taken say
    which port and how to choose another, instead of "internal error … please report it"."""
    site = make_site(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        r = run_cli("serve", "-c", site.config, "--port", str(port), timeout=60)
        assert r.returncode == 2 and "internal error" not in r.stderr
        assert f"port {port}" in r.stderr and "--port" in r.stderr, r.stderr
        r = run_cli("run", "-c", site.config, "--health-port", str(port), timeout=60)
        assert r.returncode == 2 and "internal error" not in r.stderr
        assert f"port {port}" in r.stderr and "--health-port" in r.stderr, r.stderr


def test_a_closed_stdout_is_no_traceback(tmp_path: Path) -> None:
    """Promise: ``feeds status | head -1`` (the reader gone before feeds writes) ends quietly:
    no BrokenPipeError traceback, no "internal error"."""
    site = make_site(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r, w = os.pipe()
    os.close(r)  # the reader has already gone
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "feeds", "status", "-c", str(site.config)],
            stdout=w,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
            check=False,
        )
    finally:
        os.close(w)
    err = proc.stderr.decode()
    assert "Traceback" not in err and "BrokenPipeError" not in err and "internal error" not in err
