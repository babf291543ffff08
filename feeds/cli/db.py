"""``feeds db``: the store's own commands. ``migrate`` creates or migrates the PostgreSQL
schema (``state.database``); ``export FILE`` / ``import FILE`` move a whole store, SQLite or
PostgreSQL, through a portable JSON Lines file (``feeds.store.move``)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any, TextIO

from feeds.config import config
from feeds.errors import StoreError
from feeds.lock import ProcessLock


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    db = sub.add_parser(
        "db",
        help="the store: migrate the PostgreSQL schema, export or import a whole store",
        description="Create or migrate the PostgreSQL schema (state.database), or move a "
        "whole store (sources with their fetch state, entries) through a JSON Lines file.",
    )
    action = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    mine = {"parents": [common]}  # the common options go after the action
    action.add_parser("migrate", help="create or migrate the schema in state.database", **mine)
    export = action.add_parser("export", help="write the whole store to FILE", **mine)
    export.add_argument("file", type=Path, metavar="FILE")
    imp = action.add_parser(
        "import", help="read FILE (from `feeds db export`) into the store", **mine
    )
    imp.add_argument("file", type=Path, metavar="FILE")


def run(args: argparse.Namespace, cfg: config.Config, now: dt.datetime, out: TextIO) -> int:
    """One ``feeds db`` action; returns the exit code (errors are raised as ours)."""
    from feeds.store import move as storemove
    from feeds.store.store import describe, open_store

    if args.db_command == "migrate":
        if cfg.store.database is None:
            raise StoreError(
                "feeds db migrate: state.database is not set (the SQLite store in "
                "state.dir migrates itself when it is opened)"
            )
        from feeds.store import pgstore

        where, done = pgstore.migrate(cfg.store.database, timeout=cfg.store.lock_timeout)
        applied = ", ".join(map(str, done)) if done else "none (up to date)"
        out.write(f"{where}: migrations applied: {applied}\n")
        return 0
    reading = args.db_command == "export"
    with ProcessLock(cfg.store.state_dir, "db"), open_store(cfg.store, read_only=reading) as store:
        if args.db_command == "export":
            moved = storemove.export(store, args.file)
            verb = f"exported to {args.file}"
        else:
            moved = storemove.import_(store, args.file, now)
            verb = f"imported from {args.file}"
    out.write(f"{describe(cfg.store)}: {moved.sources} sources, {moved.entries} entries {verb}\n")
    return 0
