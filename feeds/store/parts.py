"""The SQLite parts behind ``feeds.store.store.Store``: sources with their fetch state, and stored
entries. ``store.py`` opens the file and documents the interface; this module holds the SQL.

Every SQLite call of a part goes through ``Sql`` (``feeds.store.sqlconn``), the one place where
a ``sqlite3.Error`` becomes a ``StoreError`` that names the file and says what to do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from feeds.models import Entry
from feeds.store import due as storedue
from feeds.store.sqlconn import Sql

# The tables of the parts (schema version 1; later versions only changed the build cache).
PARTS_SCHEMA = """
CREATE TABLE sources (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_fetch TEXT,
    last_success TEXT,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt TEXT,
    gone INTEGER NOT NULL DEFAULT 0,
    title TEXT
);
CREATE TABLE entries (
    source_id TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    published TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (source_id, entry_id)
);
CREATE INDEX entries_by_source_published ON entries (source_id, published DESC);
"""
# Schema version 4: a fence counter per source, for distributed fetch workers (``claim``).
FENCES_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS fences (source_id TEXT PRIMARY KEY, fence INTEGER NOT NULL)"
)


def _ts(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _dt(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


# ----------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class SourceState:
    """One source's fetch state, as stored (a row of ``sources``)."""

    id: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_fetch: dt.datetime | None = None
    last_success: dt.datetime | None = None
    consecutive_errors: int = 0
    last_error: str | None = None
    next_attempt: dt.datetime | None = None
    gone: bool = False
    title: str | None = None


@dataclass(frozen=True)
class SaveResult:
    new: int
    changed: int
    refused: bool = False  # the save's fence was not the source's current one: nothing written


REFUSED = SaveResult(0, 0, refused=True)


_STATE_COLUMNS = (
    "id, url, etag, last_modified, last_fetch, last_success, consecutive_errors, "
    "last_error, next_attempt, gone, title"
)


def _state(r: Any) -> SourceState:
    return SourceState(
        id=r[0],
        url=r[1],
        etag=r[2],
        last_modified=r[3],
        last_fetch=_dt(r[4]),
        last_success=_dt(r[5]),
        consecutive_errors=r[6],
        last_error=r[7],
        next_attempt=_dt(r[8]),
        gone=bool(r[9]),
        title=r[10],
    )


class Sources(storedue.SqliteDue):  # due() and unseen() are there
    """Each source's fetch state; saving a state also saves the entries fetched with it."""

    def __init__(self, sql: Sql, entries: Entries) -> None:
        self._sql = sql
        self._entries = entries

    def states(self) -> dict[str, SourceState]:
        rows = self._sql.rows(f"SELECT {_STATE_COLUMNS} FROM sources")  # noqa: S608
        return {r[0]: _state(r) for r in rows}

    def state(self, source_id: str) -> SourceState | None:
        """One source's row (a fetch job of ``feeds worker`` reads only its own)."""
        sql = f"SELECT {_STATE_COLUMNS} FROM sources WHERE id=?"  # noqa: S608
        rows = self._sql.rows(sql, (source_id,))
        return _state(rows[0]) if rows else None

    def claim(self, source_id: str) -> int:
        """Take the source for one fetch: its fence counter goes up by one, atomically, and
        the new value is returned (the first claim gives 1)."""
        with self._sql.transaction() as db:
            row = db.execute(
                "INSERT INTO fences VALUES (?, 1) ON CONFLICT(source_id) DO UPDATE SET "
                "fence = fence + 1 RETURNING fence",
                (source_id,),
            ).fetchone()
            return int(row[0])

    def save(
        self,
        state: SourceState,
        now: dt.datetime,
        entries: Iterable[tuple[Entry, dt.datetime]] = (),
        *,
        fence: int | None = None,
    ) -> SaveResult:
        """Write ``state`` as the source's whole row and, in the same transaction, its fetched
        entries (each with its first-seen time; ``now`` is their last-seen time). With a
        ``fence`` that is not the source's current one (a later ``claim`` took the source),
        nothing is written and the result says ``refused``."""
        s = state
        with self._sql.transaction() as db:
            if fence is not None:
                row = db.execute("SELECT fence FROM fences WHERE source_id=?", (s.id,)).fetchone()
                if (0 if row is None else row[0]) != fence:
                    return REFUSED
            db.execute(
                f"INSERT OR REPLACE INTO sources ({_STATE_COLUMNS}) "  # noqa: S608
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    s.id,
                    s.url,
                    s.etag,
                    s.last_modified,
                    _ts(s.last_fetch),
                    _ts(s.last_success),
                    s.consecutive_errors,
                    s.last_error,
                    _ts(s.next_attempt),
                    int(s.gone),
                    s.title,
                ),
            )
            return self._entries.put(db, s.id, now, entries)


# ----------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class IndexRow:
    """What routing and de-duplication read of a stored entry (not its content)."""

    entry_id: str
    published: dt.datetime  # UTC
    link: str
    title: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class EntryRow:
    """A stored entry as it is stored, for moving a store (``feeds db export``/``import``)."""

    source_id: str
    entry_id: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    published: dt.datetime
    content_hash: str
    data: dict[str, Any]  # the entry as ``entry_to_json`` made it


class Entries:
    """Stored entries, keyed by (source id, entry id), each with its first-seen time."""

    def __init__(
        self,
        sql: Sql,
        to_json: Callable[[Entry], dict[str, Any]],
        from_json: Callable[[dict[str, Any]], Entry],
    ) -> None:
        self._sql = sql
        self._to_json = to_json
        self._from_json = from_json

    def first_seen(
        self, source_id: str, ids: Iterable[str] | None = None
    ) -> dict[str, dt.datetime]:
        wanted = None if ids is None else list(ids)
        rows = _by_ids(self._sql.rows, "entry_id, first_seen", source_id, wanted)
        return {entry_id: dt.datetime.fromisoformat(seen) for entry_id, seen in rows}

    def index(self, source_id: str) -> list[IndexRow]:
        """A source's stored entries, newest first (ties by id), without their content (the
        JSON is taken apart by SQLite)."""
        return [
            IndexRow(r[0], dt.datetime.fromisoformat(r[1]), r[2], r[3], _tags(r[4]))
            for r in self._sql.rows(
                "SELECT entry_id, published, json_extract(data, '$.link'), "
                "json_extract(data, '$.title'), json_extract(data, '$.tags') FROM entries "
                "WHERE source_id=? ORDER BY published DESC, entry_id",
                (source_id,),
            )
        ]

    def load(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Entry]:
        """The stored entries for these (source id, entry id) keys; missing ones are left out."""
        out: dict[tuple[str, str], Entry] = {}
        for source_id, entry_id in keys:
            rows = self._sql.rows(
                "SELECT data FROM entries WHERE source_id=? AND entry_id=?", (source_id, entry_id)
            )
            if rows:
                out[(source_id, entry_id)] = self._from_json(json.loads(rows[0][0]))
        return out

    def counts(self) -> dict[str, int]:
        """Stored entries per source id."""
        return dict(self._sql.rows("SELECT source_id, count(*) FROM entries GROUP BY source_id"))

    def undated(self) -> dict[str, int]:
        """Stored entries per source id whose date is the time they were first seen: the
        source gave none that could be used (missing, unreadable, implausible)."""
        return dict(
            self._sql.rows(
                "SELECT source_id, count(*) FROM entries WHERE published = first_seen "
                "GROUP BY source_id"
            )
        )

    def prune(self, now: dt.datetime, *, max_age_days: int, max_per_source: int) -> int:
        """Retention: drop entries older than ``max_age_days`` (0: no limit) and all but the
        newest ``max_per_source`` of each source. Returns how many were dropped."""
        with self._sql.transaction() as db:
            before = db.total_changes
            if max_age_days > 0:
                cutoff = _ts(now - dt.timedelta(days=max_age_days))
                db.execute("DELETE FROM entries WHERE published < ?", (cutoff,))
            db.execute(
                "DELETE FROM entries WHERE rowid IN (SELECT rowid FROM (SELECT rowid, "
                "row_number() OVER (PARTITION BY source_id ORDER BY published DESC, "
                "entry_id) AS n FROM entries) WHERE n > ?)",
                (max_per_source,),
            )
            dropped = db.total_changes - before
            if dropped:
                _bump_version(db)
            return dropped

    def put(
        self,
        db: sqlite3.Connection,
        source_id: str,
        now: dt.datetime,
        entries: Iterable[tuple[Entry, dt.datetime]],
    ) -> SaveResult:
        """Insert or update a source's fetched entries inside the caller's transaction."""
        pairs = list(entries)
        ids = [e.id for e, _ in pairs]
        known = dict(_by_ids(self._sql.rows, "entry_id, content_hash", source_id, ids))
        seen = _ts(now)
        new: list[tuple[Any, ...]] = []
        edited: list[tuple[Any, ...]] = []
        same: list[tuple[Any, ...]] = []
        for entry, first_seen in pairs:
            data = json.dumps(self._to_json(entry), ensure_ascii=False, sort_keys=True)
            digest = hashlib.sha256(data.encode()).hexdigest()
            old, published = known.get(entry.id), _ts(entry.published)
            if old is None:
                new.append((source_id, entry.id, _ts(first_seen), seen, published, digest, data))
            elif old != digest:
                edited.append((seen, published, digest, data, source_id, entry.id))
            else:
                same.append((seen, source_id, entry.id))
            known[entry.id] = digest  # an id twice in one fetch: the second edits the first
        db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)", new)
        db.executemany(
            "UPDATE entries SET last_seen=?, published=?, content_hash=?, data=? "
            "WHERE source_id=? AND entry_id=?",
            edited,
        )
        db.executemany("UPDATE entries SET last_seen=? WHERE source_id=? AND entry_id=?", same)
        if new or edited:
            _bump_version(db)
        return SaveResult(len(new), len(edited))

    def dump(self) -> Iterator[EntryRow]:
        """Every stored entry as it is stored, in key order, a page at a time."""
        after = ("", "")
        while True:
            rows = self._sql.rows(
                "SELECT source_id, entry_id, first_seen, last_seen, published, content_hash, "
                "data FROM entries WHERE (source_id, entry_id) > (?, ?) "
                "ORDER BY source_id, entry_id LIMIT 1000",
                after,
            )
            for r in rows:
                first, last, published = (dt.datetime.fromisoformat(x) for x in r[2:5])
                yield EntryRow(r[0], r[1], first, last, published, r[5], json.loads(r[6]))
            if len(rows) < 1000:
                return
            after = (rows[-1][0], rows[-1][1])

    def restore(self, rows: Iterable[EntryRow]) -> int:
        """Write entries exactly as given (``feeds db import``); returns how many."""
        n = 0
        with self._sql.transaction() as db:
            for r in rows:
                data = json.dumps(r.data, ensure_ascii=False, sort_keys=True)
                times = (_ts(r.first_seen), _ts(r.last_seen), _ts(r.published))
                db.execute(
                    "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (r.source_id, r.entry_id, *times, r.content_hash, data),
                )
                n += 1
            if n:
                _bump_version(db)
        return n


def _by_ids(
    read: Callable[[str, tuple[Any, ...]], list[Any]],
    columns: str,
    source_id: str,
    ids: list[str] | None,
) -> list[Any]:
    """``columns`` of a source's stored entries with these ids (500 a query), or of all."""
    sql = f"SELECT {columns} FROM entries WHERE source_id=?"  # noqa: S608
    if ids is None:
        return read(sql, (source_id,))
    rows: list[Any] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        rows += read(f"{sql} AND entry_id IN ({','.join('?' * len(chunk))})", (source_id, *chunk))
    return rows


def _tags(value: str | None) -> tuple[str, ...]:
    return tuple(json.loads(value)) if value else ()


def _bump_version(db: sqlite3.Connection) -> None:
    """Count changes to the stored entries (``meta.entries_version``): a build whose output
    depends on them sees they moved."""
    db.execute(
        "INSERT INTO meta VALUES ('entries_version', '1') ON CONFLICT(key) DO UPDATE SET "
        "value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
    )
