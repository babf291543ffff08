#!/usr/bin/env python3
"""Benchmark ``feeds fetch`` against local feeds; prints figures, asserts nothing.

    .venv/bin/python bench/fetch.py [--feeds 200] [--items 50] [--hosts 8]

Feeds come from bench/corpus.py (RSS and Atom, mixed time zones). The benchmark
serves them itself on 127.0.0.1 … 127.0.0.N (one server per loopback address, so the per-host
limit applies as it would to N publishers), with ETag support, then runs ``feeds fetch --all``
twice in a fresh process each: cold (empty store) and again (every feed answers 304).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import GEN, WORK, Measured, run_measured


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[int, int] = {}

    def add(self, status: int) -> None:
        with self.lock:
            self.counts[status] = self.counts.get(status, 0) + 1


def serve(host: str, folder: Path, counter: Counter) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = folder / self.path.lstrip("/")
            if not path.is_file():
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                counter.add(404)
                return
            body = path.read_bytes()
            etag = '"' + hashlib.sha1(body).hexdigest() + '"'  # noqa: S324 - an ETag
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                counter.add(304)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/xml; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            counter.add(200)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer((host, 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def corpus_for(feeds: int, items: int) -> Path:
    corpus = WORK / f"feeds-{feeds}-{items}"
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
                str(feeds),
                "--feed-items",
                str(items),
            ],
            check=True,
        )
    return corpus


def write_config(corpus: Path, servers: list[ThreadingHTTPServer]) -> Path:
    files = sorted(p.name for p in (corpus / "feeds").iterdir())
    lines = [
        "site:",
        "  title: bench",
        "  url: https://bench.example.com",
        "posts:",
        "  dirs: [_posts]",
        "fetch:",
        "  allow_networks: [127.0.0.0/8]",
        "state:",
        "  dir: state",
        "sources:",
    ]
    for i, name in enumerate(files):
        host, port = servers[i % len(servers)].server_address[:2]
        lines += [
            f"  - id: f{i:04d}",
            f"    url: http://{host!s}:{port}/{name}",
            f"    categories: [c{i % 20:02d}]",
        ]
    config = corpus / "config.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


LABELS = ("cold (empty store)", "again (conditional GET)")


def rounds(feeds: int, items: int, hosts: int) -> list[tuple[str, Measured, dict[int, int]]]:
    """Serve the feeds, then fetch them twice (cold, then every one answering 304), each in a
    fresh process: (label, measurement, responses by status)."""
    corpus = corpus_for(feeds, items)
    counter = Counter()
    servers = [serve(f"127.0.0.{i + 1}", corpus / "feeds", counter) for i in range(hosts)]
    try:
        config = write_config(corpus, servers)
        shutil.rmtree(corpus / "state", ignore_errors=True)
        out = []
        for label in LABELS:
            counter.counts.clear()
            measured = run_measured("fetch", "--all", "-c", str(config))
            out.append((label, measured, dict(counter.counts)))
        return out
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()


def bench(feeds: int, items: int, hosts: int) -> list[str]:
    out = [
        f"### {feeds:,} feeds of {items} items, served on {hosts} loopback "
        f"addresses by the benchmark",
        "",
        "| fetch | wall s | CPU s | feeds/s | requests/s | peak RSS MB | responses |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, m, counts in rounds(feeds, items, hosts):
        total = sum(counts.values())
        responses = ", ".join(f"{n}× {status}" for status, n in sorted(counts.items()))
        out.append(
            f"| {label} | {m.wall:.2f} | {m.cpu:.2f} | {feeds / m.wall:,.0f} | "
            f"{total / m.wall:,.0f} | {m.peak_mb:.0f} | {responses} (exit {m.code}) |"
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, nargs="+", default=[200])
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--hosts", type=int, default=8)
    a = ap.parse_args()
    print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}")
    for n in a.feeds:
        print("\n".join(bench(n, a.items, a.hosts)))
        print()


if __name__ == "__main__":
    main()
