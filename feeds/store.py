"""SQLite store: aggregated entries and each source's fetch state. One file, outside the
output folder (``state.dir/feeds.sqlite3``), in WAL mode; one transaction per source.

Entries are keyed by (source, id), keep the time they were first seen and a content hash, and
are updated in place when the source edits them. They stay after they drop off the source's
feed (until retention removes them), so the output keeps its history and survives the source
going down. A file that is not ours is refused, never overwritten.

The interface (what a second backend, PostgreSQL next, implements; the SQL is in
``feeds.storeparts``). Every method raises ``StoreError`` naming the store, never a driver's
error; times go in aware and come out aware (UTC).

``Store(path, *, timeout, read_only=False)`` opens (creating it unless ``read_only``) the
store; a context manager; ``close()``. ``read_only`` opens an existing store for reading
(``StoreError`` if it is missing, foreign or from a newer feeds) and writes nothing.

``store.sources`` — each source's fetch state:
  ``states() -> dict[str, SourceState]``: every stored source's row, by id.
  ``save(state, now, entries=()) -> SaveResult``: ``state`` becomes the source's whole row,
  and its fetched entries ((Entry, first seen) pairs, last seen ``now``) are inserted or
  updated, all in one transaction; returns how many were new and how many changed. The row
  comes from ``feeds.fetchstate.next_state``, which alone decides error counts and backoff.

``store.entries`` — stored entries, keyed by (source id, entry id):
  ``first_seen(source_id, ids) -> dict[str, datetime]``: when each known id was first seen.
  ``index(source_id) -> list[IndexRow]``: id, published, link, title and tags of a source's
  entries, newest first (ties by id), without their content.
  ``load(keys) -> dict[(source id, entry id), Entry]``: the stored entries (missing ones left
  out). ``counts() -> dict[str, int]``: entries per source.
  ``prune(now, *, max_age_days, max_per_source) -> int``: retention; returns entries dropped.
  Each change to the entries bumps ``meta("entries_version")``, which the build cache reads.

``Store.load_entries`` and ``Store.prune`` are ``entries.load`` and ``entries.prune``. The
build cache (``# build cache`` below) is disposable and not part of this interface.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from feeds.errors import StoreError
from feeds.models import Author, Enclosure, Entry, SourceRef
from feeds.storeparts import (
    PARTS_SCHEMA,
    Entries,
    SaveResult,
    Sources,
    SourceState,
    Sql,
    read_only_uri,
    store_error,
)

__all__ = ["SaveResult", "SourceState", "Store", "StoreError", "entry_from_json", "entry_to_json"]

log = logging.getLogger(__name__)

APPLICATION_ID = 0x46454544  # "FEED", in the SQLite header: marks the file as ours
SCHEMA_VERSION = 3
# The build cache (version 3): posts by path, size and mtime, with one row per category and
# tag they are in, indexed so a build asks for the newest N of a feed instead of holding every
# post; rendered entries; what each output file was made from; and a key/value table. All of
# it can be dropped and rebuilt at any time, so a schema change simply drops it.
_CACHE_SCHEMA = """
CREATE TABLE posts (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha TEXT NOT NULL,
    published REAL,
    link TEXT,
    categories TEXT,
    tags TEXT,
    problems TEXT
);
CREATE INDEX posts_by_time ON posts (published DESC, link) WHERE link IS NOT NULL;
CREATE INDEX posts_by_link ON posts (link) WHERE link IS NOT NULL;
CREATE INDEX posts_with_problems ON posts (path) WHERE problems IS NOT NULL;
CREATE TABLE post_names (
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    published REAL NOT NULL,
    link TEXT NOT NULL
);
CREATE INDEX post_names_by_name ON post_names (kind, name, published DESC, link);
CREATE INDEX post_names_by_path ON post_names (path);
CREATE TABLE rendered (
    path TEXT PRIMARY KEY,
    sha TEXT NOT NULL,
    entry TEXT,
    problems TEXT
);
CREATE TABLE outputs (
    path TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL
);
"""
_META_SCHEMA = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
CACHE_TABLES = ("posts", "post_names", "rendered", "outputs")


def _run_script(db: sqlite3.Connection, script: str) -> None:
    for statement in filter(None, (x.strip() for x in script.split(";"))):
        db.execute(statement)


class Store:
    def __init__(self, path: Path, *, timeout: float = 10.0, read_only: bool = False) -> None:
        self.path = path
        self.timeout = timeout
        self.read_only = read_only
        if read_only and not path.is_file():
            raise StoreError(f"{path}: no store yet (the first fetch or build makes it)")
        try:
            if not read_only:
                path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(
                f"{path.parent}: cannot create the state folder: {e.strerror or e}"
            ) from e
        existed = path.exists() and path.stat().st_size > 0
        try:
            self._db = sqlite3.connect(
                read_only_uri(path) if read_only else path,
                timeout=timeout,
                isolation_level=None,
                check_same_thread=False,
                uri=read_only,
            )
        except sqlite3.Error as e:
            raise StoreError(f"{path}: cannot open the store: {e}") from e
        self._sql = Sql(self._db, path, timeout)
        self.entries = Entries(self._sql, entry_to_json, entry_from_json)
        self.sources = Sources(self._sql, self.entries)
        try:
            self._prepare(existed)
        except sqlite3.DatabaseError as e:
            self._db.close()
            raise self._error(e) from e
        except StoreError:
            self._db.close()
            raise

    def _error(self, e: sqlite3.Error) -> StoreError:
        return store_error(self.path, self.timeout, e)

    def _prepare(self, existed: bool) -> None:
        db = self._db
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if existed and (app_id != APPLICATION_ID or tables == 0) and (tables or app_id):
            raise StoreError(
                f"{self.path}: not a feeds store (another program's SQLite "
                f"file); it was left untouched: move it away or set state.dir"
            )
        if app_id == APPLICATION_ID and version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer feeds (schema {version}, this "
                f"one knows {SCHEMA_VERSION}); upgrade feeds"
            )
        if self.read_only:
            if tables == 0:
                raise StoreError(f"{self.path}: no store yet (an empty file)")
            db.execute("SELECT id FROM sources LIMIT 1").fetchall()  # checks the file reads
            return
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        if tables == 0 or version < SCHEMA_VERSION:
            with self.transaction():
                if tables == 0:
                    _run_script(db, PARTS_SCHEMA)
                for table in CACHE_TABLES:  # a cache of an older layout: drop it
                    db.execute(f"DROP TABLE IF EXISTS {table}")
                _run_script(db, _CACHE_SCHEMA)
                db.execute(_META_SCHEMA)
                db.execute("DELETE FROM meta WHERE key LIKE 'cache.%'")
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute("SELECT id FROM sources LIMIT 1").fetchall()  # checks the file reads

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a SQLite error inside it becomes a ``StoreError``."""
        with self._sql.transaction() as db:
            yield db

    def load_entries(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Entry]:
        """The stored entries for these (source id, entry id) keys (``entries.load``)."""
        return self.entries.load(keys)

    def prune(self, now: dt.datetime, *, max_age_days: int, max_per_source: int) -> int:
        """Retention (``entries.prune``): returns how many entries were dropped."""
        return self.entries.prune(now, max_age_days=max_age_days, max_per_source=max_per_source)

    # ---------------------------------------------------------------- build cache

    def _bump(self, db: sqlite3.Connection, key: str) -> None:
        db.execute(
            "INSERT INTO meta VALUES (?, '1') ON CONFLICT(key) DO UPDATE SET "
            "value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
            (key,),
        )

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, values: dict[str, str]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                "value = excluded.value",
                values.items(),
            )

    def clear_cache(self) -> None:
        """Forget every cached post, rendering and output (the next build is a full one)."""
        with self.transaction() as db:
            for table in CACHE_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - our own table names
            db.execute("DELETE FROM meta WHERE key LIKE 'cache.%'")

    def post_stats(self) -> dict[str, tuple[int, int, str]]:
        """path → (size, mtime_ns, sha) of every cached post."""
        try:
            return {
                r[0]: (r[1], r[2], r[3])
                for r in self._db.execute("SELECT path, size, mtime_ns, sha FROM posts")
            }
        except sqlite3.Error as e:
            raise self._error(e) from e

    def update_posts(
        self,
        rows: Iterable[tuple[Any, ...]],
        deleted: Iterable[str],
        touched: Iterable[tuple[int, str]],
        known: set[str],
    ) -> int:
        """Upsert parsed posts (path, size, mtime_ns, sha, published, link, categories JSON,
        tags JSON, problems JSON) with their category and tag rows, forget deleted ones, and
        record a new mtime for files whose bytes did not change. ``known`` are the paths the
        cache had before (only those can have old rows to replace). Returns rows upserted."""
        count = 0
        with self.transaction() as db:
            for path in deleted:
                db.execute("DELETE FROM posts WHERE path=?", (path,))
                db.execute("DELETE FROM post_names WHERE path=?", (path,))
                db.execute("DELETE FROM rendered WHERE path=?", (path,))
            db.executemany("UPDATE posts SET mtime_ns=? WHERE path=?", touched)
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                count += 1
                if row[0] in known:
                    db.execute("DELETE FROM post_names WHERE path=?", (row[0],))
                batch.append(row)
                if len(batch) >= 2000:
                    self._insert_posts(db, batch)
                    batch = []
            self._insert_posts(db, batch)
        return count

    @staticmethod
    def _insert_posts(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        db.executemany("INSERT OR REPLACE INTO posts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        names: list[tuple[str, str, str, float, str]] = []
        for path, _, _, _, published, link, cats, tags, _ in rows:
            if link is None or published is None:
                continue
            names.extend((path, "c", n, published, link) for n in json.loads(cats))
            names.extend((path, "t", n, published, link) for n in json.loads(tags))
        db.executemany("INSERT INTO post_names VALUES (?, ?, ?, ?, ?)", names)

    def post_problems(self) -> list[str]:
        """The problems JSON of every cached post that has any, by path."""
        return [
            r[0]
            for r in self._db.execute(
                "SELECT problems FROM posts WHERE problems IS NOT NULL ORDER BY path"
            )
        ]

    def duplicate_links(self) -> list[tuple[str, str, str]]:
        """(path, link, first path) of every post whose permalink an earlier path (in sort
        order) already has."""
        return [
            (r[0], r[1], r[2])
            for r in self._db.execute(
                "SELECT p.path, p.link, (SELECT min(q.path) FROM posts q WHERE q.link = p.link) "
                "FROM posts p WHERE p.link IN (SELECT link FROM posts WHERE link IS NOT NULL "
                "GROUP BY link HAVING count(*) > 1) ORDER BY p.path"
            )
            if r[0] != r[2]
        ]

    _POST_COLUMNS = "p.path, p.sha, p.link, p.published, p.categories, p.tags"

    def newest_posts(
        self, limit: int, until: float | None, kind: str | None = None, name: str | None = None
    ) -> list[tuple[Any, ...]]:
        """The newest ``limit`` posts (published no later than ``until`` when given), of one
        category (kind "c") or tag ("t"), or of all: newest first, ties by link."""
        cols = self._POST_COLUMNS
        if kind is None:
            sql = (
                f"SELECT {cols} FROM posts p WHERE p.link IS NOT NULL"  # noqa: S608
                + (" AND p.published <= ?" if until is not None else "")
                + " ORDER BY p.published DESC, p.link LIMIT ?"
            )
            args: tuple[Any, ...] = ((until,) if until is not None else ()) + (limit,)
        else:
            sql = (
                f"SELECT {cols} FROM post_names n JOIN posts p ON p.path = n.path "  # noqa: S608
                "WHERE n.kind = ? AND n.name = ?"
                + (" AND n.published <= ?" if until is not None else "")
                + " ORDER BY n.published DESC, n.link LIMIT ?"
            )
            args = (kind, name) + ((until,) if until is not None else ()) + (limit,)
        return self._db.execute(sql, args).fetchall()

    def post_times(self, kind: str, name: str, until: float | None) -> list[float]:
        """Publication times of a category's (or tag's) posts, newest first."""
        sql = "SELECT published FROM post_names WHERE kind = ? AND name = ?"
        args: tuple[Any, ...] = (kind, name)
        if until is not None:
            sql += " AND published <= ?"
            args += (until,)
        return [r[0] for r in self._db.execute(sql + " ORDER BY published DESC", args)]

    def posts_between(
        self, kind: str, name: str, start: float, end: float
    ) -> list[tuple[Any, ...]]:
        """A category's posts published in [start, end), newest first, ties by link."""
        cols = self._POST_COLUMNS
        return self._db.execute(
            f"SELECT {cols} FROM post_names n JOIN posts p ON p.path = n.path "  # noqa: S608
            "WHERE n.kind = ? AND n.name = ? AND n.published >= ? AND n.published < ? "
            "ORDER BY n.published DESC, n.link",
            (kind, name, start, end),
        ).fetchall()

    def names(self, kind: str, until: float | None) -> list[str]:
        """Categories (kind "c") or tags ("t") that have a post published by ``until``."""
        sql = "SELECT DISTINCT name FROM post_names WHERE kind = ?"
        args: tuple[Any, ...] = (kind,)
        if until is not None:
            sql += " AND published <= ?"
            args += (until,)
        return [r[0] for r in self._db.execute(sql + " ORDER BY name", args)]

    def count_posts(self, until: float | None) -> int:
        sql = "SELECT count(*) FROM posts WHERE link IS NOT NULL"
        if until is not None:
            return int(self._db.execute(sql + " AND published <= ?", (until,)).fetchone()[0])
        return int(self._db.execute(sql).fetchone()[0])

    def next_due(self, after: float) -> float | None:
        row = self._db.execute(
            "SELECT min(published) FROM posts WHERE link IS NOT NULL AND published > ?", (after,)
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def rendered(self, path: str, sha: str) -> tuple[str | None, str | None] | None:
        row = self._db.execute(
            "SELECT entry, problems FROM rendered WHERE path=? AND sha=?", (path, sha)
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def save_rendered(self, rows: Iterable[tuple[str, str, str | None, str | None]]) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO rendered VALUES (?, ?, ?, ?)", rows)

    def outputs(self) -> dict[str, tuple[str, int, int]]:
        return {r[0]: (r[1], r[2], r[3]) for r in self._db.execute("SELECT * FROM outputs")}

    def save_outputs(self, rows: Iterable[tuple[str, str, int, int]], *, replace_all: bool) -> None:
        """Record what output files were made from; ``replace_all`` forgets the others."""
        with self.transaction() as db:
            if replace_all:
                db.execute("DELETE FROM outputs")
            db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?)", rows)


def entry_to_json(e: Entry) -> dict[str, Any]:
    # by hand: dataclasses.asdict deep-copies every value and was a third of a fetch round
    return {
        "id": e.id,
        "title": e.title,
        "link": e.link,
        "published": e.published.isoformat(),
        "updated": e.updated.isoformat(),
        "summary": e.summary,
        "content_html": e.content_html,
        "authors": [{"name": a.name, "email": a.email, "uri": a.uri} for a in e.authors],
        "categories": list(e.categories),
        "tags": list(e.tags),
        "source_link": e.source_link,
        "origin": e.origin,
        "enclosures": [{"url": x.url, "length": x.length, "type": x.type} for x in e.enclosures],
        "source": None
        if e.source is None
        else {
            "id": e.source.id,
            "title": e.source.title,
            "url": e.source.url,
            "link": e.source.link,
        },
    }


def entry_from_json(d: dict[str, Any]) -> Entry:
    src = d.get("source")
    return Entry(
        id=d["id"],
        title=d["title"],
        link=d["link"],
        published=dt.datetime.fromisoformat(d["published"]),
        updated=dt.datetime.fromisoformat(d["updated"]),
        summary=d["summary"],
        content_html=d["content_html"],
        authors=tuple(Author(**a) for a in d.get("authors", [])),
        categories=tuple(d.get("categories", [])),
        tags=tuple(d.get("tags", [])),
        source_link=d.get("source_link"),
        origin=d.get("origin", ""),
        enclosures=tuple(Enclosure(**x) for x in d.get("enclosures", [])),
        source=SourceRef(**src) if src else None,
    )
