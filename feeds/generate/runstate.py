"""Small JSON files in the state folder that say how the last runs went, for ``feeds status``
and the health endpoint: ``build.json`` (the last build, cron or daemon) and ``daemon.json``
(the daemon's pid, start, last runs and next fire times). Written atomically."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from feeds.files import FileProblem, read_regular
from feeds.generate.report import Report
from feeds.write import write_if_changed

BUILD_FILE = "build.json"
DAEMON_FILE = "daemon.json"
MAX_STATE_BYTES = 1024 * 1024  # a file we wrote ourselves: anything bigger was planted


def build_summary(report: Report, started: dt.datetime, finished: dt.datetime) -> dict[str, Any]:
    return {
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "ok": report.ok,
        "stopped": report.stopped,
        "files_written": len(report.files_written),
        "files_unchanged": len(report.files_unchanged),
        "files_removed": len(report.files_removed),
        "errors": len(report.problems.errors),
        "warnings": len(report.problems.items) - len(report.problems.errors),
        "feeds": {
            f.label: {"items": f.items, "newest": f.newest.isoformat(), "paths": list(f.paths)}
            for f in report.feeds
        },
    }


def record_build(
    state_dir: Path,
    report: Report,
    started: dt.datetime,
    finished: dt.datetime,
    *,
    before_rename: Callable[[], None] | None = None,
) -> None:
    """Save the last build's summary. A build that went through every feed replaces the
    list of feeds (one gone from the config or the posts is forgotten); after any other (some
    categories, stopped, nothing changed) the feeds it did not write keep their entry."""
    summary = build_summary(report, started, finished)
    if not report.every_feed:
        previous = load(state_dir, BUILD_FILE) or {}
        summary["feeds"] = {**previous.get("feeds", {}), **summary["feeds"]}
    save(state_dir, BUILD_FILE, summary, before_rename=before_rename)


def save(
    state_dir: Path,
    name: str,
    data: dict[str, Any],
    *,
    before_rename: Callable[[], None] | None = None,
) -> None:
    """``before_rename``: the runtime's fault hook (tests only), as for every file write."""
    write_if_changed(
        state_dir / name,
        json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode(),
        before_rename=before_rename,
    )


def load(state_dir: Path, name: str) -> dict[str, Any] | None:
    try:
        value = json.loads(read_regular(state_dir / name, MAX_STATE_BYTES).decode("utf-8"))
    except (FileProblem, ValueError):
        return None
    return value if isinstance(value, dict) else None
