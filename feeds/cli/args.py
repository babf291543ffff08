"""The command line's arguments: one function per command, the options every command but
``init`` shares in :func:`_common`."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from feeds import __version__
from feeds.cli import db as cli_db

_Sub = Any  # argparse's _SubParsersAction is private


def parser(description: str, env: Mapping[str, str]) -> argparse.ArgumentParser:
    """The parser; ``env`` (the runtime's environment) gives the defaults it documents."""
    common = _common(env)
    p = argparse.ArgumentParser(prog="feeds", description=description)
    p.add_argument("--version", action="version", version=f"feeds {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_build(sub, common)
    _add_fetch(sub, common)
    _add_status(sub, common)
    _add_run(sub, common)
    _add_serve(sub, common)
    _add_worker(sub, common)
    _add_init(sub)
    cli_db.add_parser(sub, common)
    sub.add_parser(
        "check",
        parents=[common],
        help="check the config and every post; write nothing",
        description="Validate the config and every post; report problems; write nothing.",
    )
    return p


def _common(env: Mapping[str, str]) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-c",
        "--config",
        type=Path,
        default=Path(env.get("FEEDS_CONFIG", "config.yaml")),
        help="config file (default: $FEEDS_CONFIG or ./config.yaml)",
    )
    common.add_argument(
        "--posts",
        type=Path,
        action="append",
        metavar="DIR",
        help="posts folder, instead of posts.dirs in the config (repeatable)",
    )
    common.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="output folder, instead of output.dir in the config",
    )
    common.add_argument(
        "--state",
        type=Path,
        metavar="DIR",
        help="state folder (the store), instead of state.dir in the config",
    )
    loud = common.add_mutually_exclusive_group()
    loud.add_argument(
        "-v", "--verbose", action="count", default=0, help="print a summary line (-vv: debug log)"
    )
    loud.add_argument(
        "-q", "--quiet", action="store_true", help="print errors only (no warnings, no progress)"
    )
    common.add_argument(
        "--traceback", action="store_true", help="print the full traceback of a fatal error"
    )
    return common


def _add_build(sub: _Sub, common: argparse.ArgumentParser) -> None:
    build = sub.add_parser(
        "build",
        parents=[common],
        help="fetch due sources, write every feed",
        description="Fetch the external sources that are due, then write "
        "one RSS and one Atom feed per category, and one of "
        "everything. Silent on success unless -v.",
    )
    build.add_argument(
        "--no-fetch", action="store_true", help="build from the posts and the stored entries only"
    )
    build.add_argument(
        "--full",
        action="store_true",
        help="ignore the build cache: read every post and write every feed",
    )
    build.add_argument(
        "--accept-shrink",
        action="store_true",
        help="write even if the inputs look broken (a posts folder missing or empty, a "
        "category that lost more than build.max_shrink of its posts)",
    )


def _add_fetch(sub: _Sub, common: argparse.ArgumentParser) -> None:
    fetch = sub.add_parser(
        "fetch",
        parents=[common],
        help="fetch due sources into the store",
        description="Fetch the external sources that are due and store "
        "their entries; write no feed.",
    )
    fetch.add_argument("--all", action="store_true", help="fetch every enabled source, due or not")


def _add_status(sub: _Sub, common: argparse.ArgumentParser) -> None:
    status = sub.add_parser(
        "status",
        parents=[common],
        help="show each source's health",
        description="Each source's last success, error count, stored entries and next attempt.",
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")


def _add_run(sub: _Sub, common: argparse.ArgumentParser) -> None:
    run = sub.add_parser(
        "run",
        parents=[common],
        help="run as a daemon (build and fetch on a schedule)",
        description="Build and fetch on the schedule in the config, in the "
        "site's timezone, until SIGTERM/SIGINT; SIGHUP reloads "
        "the config.",
    )
    run.add_argument(
        "--health-port",
        type=int,
        metavar="PORT",
        help="serve GET /health on 127.0.0.1:PORT (200 healthy, 503 not)",
    )
    run.add_argument(
        "--distributed",
        action="store_true",
        help="schedule fetch and build jobs in PostgreSQL for `feeds worker`s (see README)",
    )
    _metrics_port(run)
    _log_format(run)


def _metrics_port(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics (GET /metrics) on 127.0.0.1:PORT",
    )


def _log_format(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="one line per event: key=value words (text) or JSON objects",
    )


def _add_worker(sub: _Sub, common: argparse.ArgumentParser) -> None:
    worker = sub.add_parser(
        "worker",
        parents=[common],
        help="run fetch jobs from the queue in PostgreSQL",
        description="Run the fetch jobs that `feeds run --distributed` defers, "
        "queue.concurrency at a time, until SIGTERM/SIGINT. Any number, on any machine.",
    )
    _metrics_port(worker)
    _log_format(worker)


def _add_serve(sub: _Sub, common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser(
        "serve",
        parents=[common],
        help="serve the output folder over HTTP",
        description="Serve the output folder at the path of output.url, "
        "with feed Content-Types, ETag/304 and gzip. For "
        "previews and small sites; nginx for production.",
    )
    serve.add_argument(
        "--bind",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address to listen on (default: 127.0.0.1)",
    )
    serve.add_argument("--port", type=int, default=8080, help="port (default: 8080)")


def _add_init(sub: _Sub) -> None:
    init = sub.add_parser(
        "init",
        help="write a starter config.yaml and folders",
        description="Create DIR with a starter config.yaml, _posts/ (one "
        "example post), output/ and state/.",
    )
    init.add_argument(
        "dir", type=Path, metavar="DIR", nargs="?", help="where config.yaml goes (default: .)"
    )
    init.add_argument(
        "--jekyll",
        type=Path,
        metavar="SITE",
        help="a Jekyll site's folder: point the config at its _config.yml "
        "(url, timezone, permalink, defaults, authors) instead of a starter site",
    )
