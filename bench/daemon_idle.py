#!/usr/bin/env python3
"""The daemon's idle cost: ``feeds run`` with N local sources, sampled for a while after its
first fetch round. Prints CPU seconds used and RSS over time; asserts nothing.

    .venv/bin/python bench/daemon_idle.py [--sources 200] [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch import Counter, serve
from measure import GEN, ROOT, WORK

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def sample(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) and RSS in MB of ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 1e6
    return cpu, rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=60)
    a = ap.parse_args()
    corpus = WORK / f"feeds-{a.sources}-20"
    if not (corpus / "feeds").is_dir():
        subprocess.run(
            [
                sys.executable,
                str(GEN),
                str(corpus),
                "--posts",
                "0",
                "--categories",
                "1",
                "--feeds",
                str(a.sources),
                "--feed-items",
                "20",
            ],
            check=True,
        )
    counter = Counter()
    servers = [serve(f"127.0.0.{i + 1}", corpus / "feeds", counter) for i in range(8)]
    files = sorted(p.name for p in (corpus / "feeds").iterdir())
    lines = [
        "site:",
        "  title: idle",
        "  url: https://bench.example.com",
        "posts:",
        "  dirs: [_posts]",
        "schedule:",
        "  build: 5m",
        "  fetch_every: 30s",
        "fetch:",
        "  allow_networks: [127.0.0.0/8]",
        "state:",
        "  dir: state",
        "sources:",
    ]
    for i, name in enumerate(files):
        host, port = servers[i % 8].server_address[:2]
        lines += [
            f"  - id: f{i:04d}",
            f"    url: http://{host}:{port}/{name}",
            f"    categories: [c{i % 20:02d}]",
            "    interval: 30m",
        ]
    (corpus / "_posts").mkdir(exist_ok=True)
    config = corpus / "idle.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.rmtree(corpus / "state", ignore_errors=True)
    shutil.rmtree(corpus / "output", ignore_errors=True)
    log = corpus / "idle.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feeds", "run", "-c", str(config)],
            stdout=sink,
            stderr=sink,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    try:
        deadline = time.monotonic() + 120
        while "event=fetch" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # let the rebuild after the first fetch finish
        cpu0, rss0 = sample(proc.pid)
        print(
            f"{len(files)} sources; after start-up fetch and build: CPU {cpu0:.2f} s, "
            f"RSS {rss0:.1f} MB; requests so far {dict(counter.counts)}"
        )
        start = time.monotonic()
        points = []
        while time.monotonic() - start < a.seconds:
            time.sleep(min(10, a.seconds))
            cpu, rss = sample(proc.pid)
            points.append((time.monotonic() - start, cpu - cpu0, rss))
        for t, cpu, rss in points:
            print(
                f"  +{t:5.1f} s idle: CPU used {cpu:.2f} s ({100 * cpu / t:.2f} % of one "
                f"core), RSS {rss:.1f} MB"
            )
        print(f"requests during the idle minute: {sum(counter.counts.values())} in all")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        for s in servers:
            s.shutdown()


if __name__ == "__main__":
    main()
