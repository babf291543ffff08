"""The build cache: what the last build read and wrote, so the next one redoes only what
changed. Posts by path, size and mtime (with one row per category and tag they are in, so a
build asks for a feed's newest N instead of holding every post), rendered entries, what each
output file was made from, and the last build's state (its fingerprint, problems, when the
next future post falls due).

All of it is disposable: it can be dropped and rebuilt at any time, and a schema change simply
drops it. It lives in the store's SQLite file (the store opens the connection and exposes it
as ``store.cache``), or in memory for ``feeds check``. Rows crossing this module's edge are
frozen dataclasses; JSON stays inside.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from feeds.errors import FeedsError
from feeds.models import PostRef, Problem
from feeds.store.cacherows import (
    Duplicate as Duplicate,
    LastBuild as LastBuild,
    Output as Output,
    PostRow as PostRow,
    Rendered as Rendered,
    Stat as Stat,
    problems_from_json as problems_from_json,
    problems_json as problems_json,
)
from feeds.store.cacheschema import (
    INDEX_NAMES,
    INDEXES,
    META_SCHEMA as META_SCHEMA,  # the store makes it
    SCHEMA,
    TABLES,
)

_BATCH = 2000
_IN_CHUNK = 500  # paths per ``IN (…)`` query: far below SQLite's limit of bound values


def create(db: sqlite3.Connection) -> None:
    """Make the cache tables afresh (dropping any of an older layout) and forget the last
    build. The ``meta`` table must exist."""
    for table in TABLES:
        db.execute(f"DROP TABLE IF EXISTS {table}")
    for statement in filter(None, (x.strip() for x in SCHEMA.split(";"))):
        db.execute(statement)
    db.execute("DELETE FROM meta WHERE key LIKE 'cache.%'")


def _memory_error(e: sqlite3.Error) -> Exception:
    return FeedsError(f"in-memory build cache: {e}")


Transaction = Callable[[], AbstractContextManager[sqlite3.Connection]]
_POST_COLUMNS = "p.path, p.sha, p.link, p.published, p.categories, p.tags"


class BuildCache:
    """The cache tables on a SQLite connection the caller owns (``in_memory`` owns its own)."""

    def __init__(
        self,
        db: sqlite3.Connection,
        transaction: Transaction,
        error: Callable[[sqlite3.Error], Exception],
    ) -> None:
        self._db = db
        self._transaction = transaction
        self._error = error

    @classmethod
    def in_memory(cls) -> BuildCache:
        db = sqlite3.connect(":memory:", isolation_level=None)
        db.execute(META_SCHEMA)
        create(db)

        @contextmanager
        def transaction() -> Iterator[sqlite3.Connection]:
            db.execute("BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

        return cls(db, transaction, _memory_error)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction; an SQLite error inside it becomes our own (it is rolled back)."""
        try:
            with self._transaction() as db:
                yield db
        except sqlite3.Error as e:
            raise self._error(e) from e

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            raise self._error(e) from e

    # ---------------------------------------------------------------- build state

    def _meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key=?", ("cache." + key,))
        return str(rows[0][0]) if rows else None

    def _set_meta(self, values: dict[str, str]) -> None:
        with self._write() as db:
            db.executemany(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                "value = excluded.value",
                [("cache." + k, v) for k, v in values.items()],
            )

    def use_settings(self, fingerprint: str, *, drop: bool = False) -> None:
        """Keep the cache only if it was made with these settings (and ``drop`` is false)."""
        if drop or self._meta("config") != fingerprint:
            self.clear()
            self._set_meta({"config": fingerprint})

    def clear(self) -> None:
        """Forget every cached post, rendering and output (the next build is a full one)."""
        with self._write() as db:
            for table in TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - our own table names
            db.execute("DELETE FROM meta WHERE key LIKE 'cache.%'")

    def last_build(self) -> LastBuild:
        due = self._meta("next_due")
        return LastBuild(
            fingerprint=self._meta("build") or "",
            next_due=float(due) if due else None,
            problems=problems_from_json(self._meta("problems")),
            posts=int(self._meta("posts") or 0),
        )

    def save_build(self, state: LastBuild) -> None:
        self._set_meta(
            {
                "build": state.fingerprint,
                "next_due": "" if state.next_due is None else repr(state.next_due),
                "problems": problems_json(state.problems) or "[]",
                "posts": str(state.posts),
            }
        )

    # ---------------------------------------------------------------- posts

    def scan_problems(self) -> tuple[Problem, ...] | None:
        """What the last full scan of the post folders reported; None when the posts rows
        may not be that scan brought up to date (no scan recorded since the cache was made)."""
        text = self._meta("scan")
        return None if text is None else problems_from_json(text)

    def save_scan(self, problems: Iterable[Problem], chunks: Iterable[str] = ()) -> None:
        """The posts rows are a full scan's, synced; it reported ``problems``, and its posts
        came in ``chunks`` (``feeds.collect.posts.Walked``: the next walk compares only
        the posts of chunks not among these)."""
        self._set_meta({"scan": problems_json(problems) or "", "chunks": " ".join(chunks)})

    def scan_chunks(self) -> frozenset[str]:
        """The chunks of the last walk whose posts rows are unchanged since (none after any
        change to the posts rows, until the next walk's are saved)."""
        return frozenset((self._meta("chunks") or "").split())

    def count_post_files(self) -> int:
        """How many post files the cache knows (used or not)."""
        return int(self._rows("SELECT count(*) FROM posts")[0][0])

    def post_scan(self) -> list[tuple[str, int, int]]:
        """(path, size, mtime_ns) of every cached post, by path: the scan they were read from."""
        return self._rows("SELECT path, size, mtime_ns FROM posts ORDER BY path")

    def post_stats(self, paths: Iterable[str] | None = None) -> dict[str, Stat]:
        """Path → size, mtime and hash of every cached post (of those in ``paths``)."""
        sql = "SELECT path, size, mtime_ns, sha FROM posts"
        if paths is None:
            return {r[0]: Stat(r[1], r[2], r[3]) for r in self._rows(sql)}
        wanted, out = list(paths), {}
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            marks = ",".join("?" * len(part))
            for r in self._rows(f"{sql} WHERE path IN ({marks})", tuple(part)):
                out[r[0]] = Stat(r[1], r[2], r[3])
        return out

    def update_posts(
        self,
        rows: Iterable[PostRow],
        deleted: Iterable[str],
        touched: Iterable[tuple[int, str]],
        known: set[str],
    ) -> int:
        """Upsert parsed posts with their category and tag rows, forget deleted ones, and
        record a new mtime for (mtime, path) files whose bytes did not change. ``known`` are
        the paths the cache had before (only those can have old rows to replace). Returns
        how many rows were upserted."""
        count = 0
        with self._write() as db:
            # the last walk's chunks no longer say which rows are as that walk saw them
            db.execute("DELETE FROM meta WHERE key = 'cache.chunks'")
            # into an empty cache (a cold build) rows go in faster without the indexes,
            # which are made once at the end from the rows in place
            bulk = not known and not db.execute("SELECT 1 FROM posts LIMIT 1").fetchall()
            if bulk:
                for name in INDEX_NAMES:
                    db.execute(f"DROP INDEX IF EXISTS {name}")
            for path in deleted:
                for table in ("posts", "post_names", "rendered"):
                    db.execute(f"DELETE FROM {table} WHERE path=?", (path,))  # noqa: S608
            db.executemany("UPDATE posts SET mtime_ns=? WHERE path=?", touched)
            batch: list[PostRow] = []
            for row in rows:
                count += 1
                if row.path in known:
                    db.execute("DELETE FROM post_names WHERE path=?", (row.path,))
                batch.append(row)
                if len(batch) >= _BATCH:
                    _insert_posts(db, batch)
                    batch = []
            _insert_posts(db, batch)
            if bulk:
                for statement in INDEXES:
                    db.execute(statement)
        return count

    def post_problems(self) -> list[Problem]:
        """The problems of every cached post, by path."""
        out: list[Problem] = []
        for (text,) in self._rows(
            "SELECT problems FROM posts WHERE problems IS NOT NULL ORDER BY path"
        ):
            out.extend(problems_from_json(text))
        return out

    def duplicate_links(self) -> list[Duplicate]:
        """Every post whose permalink an earlier path (in sort order) already has."""
        rows = self._rows(
            "SELECT p.path, p.link, (SELECT min(q.path) FROM posts q WHERE q.link = p.link) "
            "FROM posts p WHERE p.link IN (SELECT link FROM posts WHERE link IS NOT NULL "
            "GROUP BY link HAVING count(*) > 1) ORDER BY p.path"
        )
        return [Duplicate(r[0], r[1], r[2]) for r in rows if r[0] != r[2]]

    def newest_posts(
        self,
        limit: int,
        until: float | None,
        tz: dt.tzinfo,
        kind: str | None = None,
        name: str | None = None,
    ) -> list[PostRef]:
        """The newest ``limit`` posts (published no later than ``until`` when given), of one
        category (kind "c") or tag ("t"), or of all: newest first, ties by link."""
        bound = () if until is None else (until,)
        if kind is None:
            sql = (
                f"SELECT {_POST_COLUMNS} FROM posts p WHERE p.link IS NOT NULL"  # noqa: S608
                + (" AND p.published <= ?" if bound else "")
                + " ORDER BY p.published DESC, p.link LIMIT ?"
            )
            args: tuple[Any, ...] = (*bound, limit)
        else:
            sql = (
                f"SELECT {_POST_COLUMNS} FROM post_names n "  # noqa: S608
                "JOIN posts p ON p.path = n.path WHERE n.kind = ? AND n.name = ?"
                + (" AND n.published <= ?" if bound else "")
                + " ORDER BY n.published DESC, n.link LIMIT ?"
            )
            args = (kind, name, *bound, limit)
        return [_ref(r, tz) for r in self._rows(sql, args)]

    def posts_between(
        self, kind: str, name: str, start: float, end: float, tz: dt.tzinfo
    ) -> list[PostRef]:
        """A category's posts published in [start, end), newest first, ties by link."""
        rows = self._rows(
            f"SELECT {_POST_COLUMNS} FROM post_names n JOIN posts p "  # noqa: S608
            "ON p.path = n.path WHERE n.kind = ? AND n.name = ? AND n.published >= ? "
            "AND n.published < ? ORDER BY n.published DESC, n.link",
            (kind, name, start, end),
        )
        return [_ref(r, tz) for r in rows]

    def post_times(self, kind: str, name: str, until: float | None) -> list[float]:
        """Publication times of a category's (or tag's) posts, newest first."""
        sql = "SELECT published FROM post_names WHERE kind = ? AND name = ?"
        args: tuple[Any, ...] = (kind, name)
        if until is not None:
            sql += " AND published <= ?"
            args += (until,)
        return [r[0] for r in self._rows(sql + " ORDER BY published DESC", args)]

    def count_names(self, kind: str, name: str, until: float | None) -> int:
        """How many posts a category (or tag) has, published by ``until`` when given."""
        sql = "SELECT count(*) FROM post_names WHERE kind = ? AND name = ?"
        args: tuple[Any, ...] = (kind, name)
        if until is not None:
            sql += " AND published <= ?"
            args += (until,)
        return int(self._rows(sql, args)[0][0])

    def names(self, kind: str, until: float | None) -> list[str]:
        """Categories (kind "c") or tags ("t") that have a post published by ``until``."""
        sql = "SELECT DISTINCT name FROM post_names WHERE kind = ?"
        args: tuple[Any, ...] = (kind,)
        if until is not None:
            sql += " AND published <= ?"
            args += (until,)
        return [r[0] for r in self._rows(sql + " ORDER BY name", args)]

    def count_posts(self, until: float | None) -> int:
        sql = "SELECT count(*) FROM posts WHERE link IS NOT NULL"
        if until is not None:
            return int(self._rows(sql + " AND published <= ?", (until,))[0][0])
        return int(self._rows(sql)[0][0])

    def next_due(self, after: float) -> float | None:
        rows = self._rows(
            "SELECT min(published) FROM posts WHERE link IS NOT NULL AND published > ?", (after,)
        )
        return None if not rows or rows[0][0] is None else float(rows[0][0])

    # ---------------------------------------------------------------- renderings, outputs

    def rendered(self, wanted: Iterable[tuple[str, str]]) -> dict[str, Rendered]:
        """The renderings of posts by (path, sha), a few hundred a query: each keyed ``sha``
        or ``sha+<its other inputs>`` (the caller checks those), by path."""
        want, out = dict(wanted), {}
        paths = list(want)
        for at in range(0, len(paths), _IN_CHUNK):
            chunk = tuple(paths[at : at + _IN_CHUNK])
            sql = f"SELECT * FROM rendered WHERE path IN ({','.join('?' * len(chunk))})"  # noqa: S608
            for path, key, entry, problems in self._rows(sql, chunk):
                if key == want[path] or key.startswith(want[path] + "+"):
                    out[path] = Rendered(path, key, entry, problems_from_json(problems))
        return out

    def post_links(self) -> dict[str, str]:
        """Every used post's link, by path."""
        return dict(self._rows("SELECT path, link FROM posts WHERE link IS NOT NULL"))

    def save_rendered(self, rows: Iterable[Rendered]) -> None:
        with self._write() as db:
            _insert_rendered(db, rows)

    def outputs(self) -> dict[str, Output]:
        return {r[0]: Output(r[0], r[1], r[2], r[3]) for r in self._rows("SELECT * FROM outputs")}

    def save_outputs(self, rows: Iterable[Output], *, replace_all: bool) -> None:
        """Record what output files were made from; ``replace_all`` forgets the others."""
        with self._write() as db:
            if replace_all:
                db.execute("DELETE FROM outputs")
            db.executemany(
                "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?)",
                [(o.path, o.fingerprint, o.size, o.mtime_ns) for o in rows],
            )


def _insert_posts(db: sqlite3.Connection, rows: list[PostRow]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO posts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                r.path,
                r.size,
                r.mtime_ns,
                r.sha,
                r.published,
                r.link,
                None if r.link is None else _names_json(r.categories),
                None if r.link is None else _names_json(r.tags),
                problems_json(r.problems),
            )
            for r in rows
        ],
    )
    names: list[tuple[str, str, str, float, str]] = []
    for r in rows:
        if r.link is None or r.published is None:
            continue
        names.extend((r.path, "c", n, r.published, r.link) for n in r.categories)
        names.extend((r.path, "t", n, r.published, r.link) for n in r.tags)
    db.executemany("INSERT INTO post_names VALUES (?, ?, ?, ?, ?)", names)
    _insert_rendered(db, [r.rendered for r in rows if r.rendered is not None])


def _insert_rendered(db: sqlite3.Connection, rows: Iterable[Rendered]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO rendered VALUES (?, ?, ?, ?)",
        [(r.path, r.sha, r.entry_json, problems_json(r.problems)) for r in rows],
    )


def _ref(row: tuple[Any, ...], tz: dt.tzinfo) -> PostRef:
    path, sha, link, published, cats, tags = row
    return PostRef(
        path=path,
        sha=sha,
        link=link,
        published=dt.datetime.fromtimestamp(published, tz),
        categories=_names(cats),
        tags=_names(tags),
    )


# A post's categories or tags as a JSON list: few distinct lists in a site (its categories,
# its tags' combinations), each encoded and decoded once.
@functools.lru_cache(maxsize=4096)
def _names_json(names: tuple[str, ...]) -> str:
    return json.dumps(names, ensure_ascii=False)


@functools.lru_cache(maxsize=4096)
def _names(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))
