"""The SQLite connection as the store's parts see it (``Sql``): every ``sqlite3.Error`` comes out
as a ``StoreError`` (``store_error``) that names the file and says what to do; and the URI that
opens a store for reading only."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from feeds.errors import StoreError


def store_error(path: Path, timeout: float, e: sqlite3.Error) -> StoreError:
    """Our error for a SQLite one: a sentence naming the file and the way out."""
    text = str(e)
    if "locked" in text or "busy" in text:
        return StoreError(
            f"{path}: the store is locked by another process "
            f"(waited {timeout:g} s); try again later"
        )
    if "not a database" in text or "malformed" in text:
        return StoreError(
            f"{path}: not a usable feeds store ({text}); it was left "
            f"untouched: move it away or set state.dir to another folder"
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(
            f"{path}: the store is read-only ({text}): make the file and its folder "
            f"writable for this user, or set state.dir to another folder"
        )
    if "unable to open" in text:
        return StoreError(f"{path}: cannot open the store ({text}): check the file and its folder")
    return StoreError(f"{path}: store error: {text}")


def read_only_uri(path: Path) -> str:
    """Open for reading only. In a folder we cannot write, SQLite cannot make the WAL index
    it reads through, so the file is read as it is on disk (``immutable``: a write under way
    elsewhere may not be seen yet)."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    return uri if os.access(path.parent, os.W_OK) else uri + "&immutable=1"


class Sql:
    """The connection as the parts see it: every error comes out as a ``StoreError``."""

    def __init__(self, db: sqlite3.Connection, path: Path, timeout: float) -> None:
        self.db = db
        self.path = path
        self.timeout = timeout

    def error(self, e: sqlite3.Error) -> StoreError:
        return store_error(self.path, self.timeout, e)

    def rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            raise self.error(e) from e

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a SQLite error inside it is rolled back and becomes ours."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise self.error(e) from e
        try:
            yield self.db
        except BaseException as e:
            with contextlib.suppress(sqlite3.Error):  # the first error is the one to report
                self.db.execute("ROLLBACK")
            if isinstance(e, sqlite3.Error):
                raise self.error(e) from e
            raise
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as e:
            raise self.error(e) from e
