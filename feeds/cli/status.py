"""``feeds status``: each source's health, the last build and the daemon, from the state
folder. Only reads: it never makes the store. Text for people, ``--json`` for scripts."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from typing import Any, TextIO

from feeds.config import config
from feeds.generate import routing, runstate
from feeds.store import store as store_
from feeds.store.parts import SourceState

_HEAD = (
    "SOURCE",
    "STATE",
    "LAST SUCCESS",
    "ERRORS",
    "ENTRIES",
    "UNDATED",
    "MERGED",
    "NEXT ATTEMPT",
)


@dataclass(frozen=True)
class _Counts:
    entries: int = 0
    undated: int = 0  # dated by the time first seen: the source gave no usable date
    merged: int = 0  # placements in feeds left to another source's copy (dedupe)


def status(cfg: config.Config, now: dt.datetime, as_json: bool, out: TextIO) -> None:
    """Each configured source's health, from the store."""
    known: dict[str, SourceState] = {}
    counts: dict[str, _Counts] = {}
    has_store = store_.exists(cfg.store)  # status only reads: it never makes the store
    if has_store:
        with store_.open_store(cfg.store, read_only=True) as store:
            known, counts = store.sources.states(), _counts(cfg, store)
    rows = [_source_row(s, known.get(s.id), counts.get(s.id, _Counts()), cfg) for s in cfg.sources]
    state_dir = cfg.store.state_dir
    daemon = runstate.load(state_dir, runstate.DAEMON_FILE)
    if daemon and not _alive(daemon.get("pid")):
        daemon["running"] = False
    build = runstate.load(state_dir, runstate.BUILD_FILE)
    feeds = _feed_rows(build, now)
    cluster = _cluster(cfg, now) if has_store and cfg.store.database else None
    if as_json:
        json.dump(
            {
                "now": now.isoformat(),
                "daemon": daemon,
                "last_build": {k: v for k, v in (build or {}).items() if k != "feeds"} or None,
                "feeds": feeds,
                "sources": rows,
                "store": store_.describe(cfg.store) if has_store else None,
                "cluster": cluster,
            },
            out,
            ensure_ascii=False,
            indent=1,
        )
        out.write("\n")
        return
    _write_daemon(daemon, out)
    _write_build(build, feeds, out)
    if not has_store:
        out.write(f"store: none yet ({cfg.store.path} is made by the first fetch or build)\n")
    _write_sources(rows, out)
    if cluster is not None:
        from feeds.store import clusterstatus

        clusterstatus.write(cluster, out)


def _cluster(cfg: config.Config, now: dt.datetime) -> dict[str, Any]:
    """The whole cluster's figures, from PostgreSQL (``feeds.store.clusterstatus``)."""
    from feeds.store import clusterstatus  # psycopg loads only for a PostgreSQL store

    return clusterstatus.figures(cfg, now)


def _counts(cfg: config.Config, store: store_.Store) -> dict[str, _Counts]:
    """Per source: stored entries, how many are dated by first sight, and how many
    placements the build's de-duplication gives to another source's copy (the build's own
    routing, run over the store as it is now)."""
    entries, undated = store.entries.counts(), store.entries.undated()
    merged = routing.stored_entries(cfg, store)[2] if cfg.sources else {}
    return {
        s: _Counts(entries.get(s, 0), undated.get(s, 0), merged.get(s, 0))
        for s in entries.keys() | merged.keys()
    }


def _source_row(
    s: config.SourceConfig, st: SourceState | None, counts: _Counts, cfg: config.Config
) -> dict[str, Any]:
    fresh = st if st is not None and st.url == s.url else None  # a changed URL starts anew
    return {
        "id": s.id,
        "url": s.url,
        "enabled": s.enabled,
        "state": _state_word(s.enabled, fresh),
        "last_success": _iso(fresh.last_success if fresh else None, cfg),
        "errors": fresh.consecutive_errors if fresh else 0,
        "entries": counts.entries,
        "undated": counts.undated,
        "merged": counts.merged,
        "next_attempt": _iso(fresh.next_attempt if fresh else None, cfg),
        "last_error": fresh.last_error if fresh else None,
    }


def _state_word(enabled: bool, st: SourceState | None) -> str:
    if not enabled:
        return "disabled"
    if st is None:
        return "new"
    if st.gone:
        return "gone"
    return "failing" if st.consecutive_errors else "ok"


def _feed_rows(build: dict[str, Any] | None, now: dt.datetime) -> list[dict[str, Any]]:
    feeds = []
    for label, info in sorted((build or {}).get("feeds", {}).items()):
        newest = dt.datetime.fromisoformat(info["newest"])
        feeds.append(
            {
                "feed": label,
                "items": info["items"],
                "newest": info["newest"],
                "age_hours": round((now - newest).total_seconds() / 3600, 1),
            }
        )
    return feeds


def _write_daemon(daemon: dict[str, Any] | None, out: TextIO) -> None:
    if not daemon:
        out.write("daemon: not started here (no daemon.json)\n")
        return
    out.write(
        f"daemon: pid {daemon.get('pid')} "
        f"{'running' if daemon.get('running') else 'not running'}, started "
        f"{daemon.get('started')}; next build {daemon.get('next_build') or '-'}, "
        f"next fetch {daemon.get('next_fetch') or '-'}\n"
    )


def _write_build(build: dict[str, Any] | None, feeds: list[dict[str, Any]], out: TextIO) -> None:
    if not build:
        out.write("last build: none recorded\n")
        return
    out.write(
        f"last build: {build.get('finished')} "
        f"({'ok' if build.get('ok') else 'with errors'}; "
        f"{build.get('files_written')} files written, {build.get('errors')} errors)\n"
    )
    for f in feeds:
        out.write(
            f"  {f['feed']}: {f['items']} items, newest {f['newest']} ({f['age_hours']} h ago)\n"
        )


def _write_sources(rows: list[dict[str, Any]], out: TextIO) -> None:
    table = [_HEAD] + [
        (
            r["id"],
            r["state"],
            r["last_success"] or "never",
            str(r["errors"]),
            str(r["entries"]),
            str(r["undated"]),
            str(r["merged"]),
            r["next_attempt"] or "now",
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(_HEAD))]
    for row in table:
        out.write(
            "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n"
        )
    for r in rows:
        if r["last_error"]:
            out.write(f"{r['id']}: last error: {r['last_error']}\n")
    if not rows:
        out.write("no sources configured\n")


def _iso(value: dt.datetime | None, cfg: config.Config) -> str | None:
    if value is None:
        return None
    return value.astimezone(cfg.site.tz).strftime("%Y-%m-%d %H:%M:%S%z")


def _alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
