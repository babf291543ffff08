"""The PostgreSQL parts of the store (``state.database``): sources with their fetch state and
fences, stored entries, the entries version. The same interface as ``feeds.store.parts`` (see
``feeds/store/store.py``), with psycopg 3 over a connection pool (psycopg_pool), so the threads of
a fetch round and the processes of many machines share one store. The build cache stays in
the builder's local SQLite file (``feeds.store.store.Store``).

Every psycopg error becomes a ``StoreError`` naming the database as host:port/dbname (never
the password). Times go in aware and come out aware in UTC (the session's time zone is UTC).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from typing import Any

import psycopg
import psycopg_pool
from psycopg import conninfo

from feeds.errors import StoreError
from feeds.models import Entry
from feeds.store import due as storedue, pgschema
from feeds.store.parts import REFUSED, EntryRow, IndexRow, SaveResult, SourceState

log = logging.getLogger(__name__)

Conn = psycopg.Connection[Any]
_STATE_COLUMNS = (
    "id, url, etag, last_modified, last_fetch, last_success, consecutive_errors, "
    "last_error, next_attempt, gone, title"
)
_ROW_COLUMNS = "source_id, entry_id, first_seen, last_seen, published, content_hash, data"


def describe(url: str) -> str:
    """The database as messages name it: ``postgresql://host:port/dbname``, no password."""
    try:
        info = conninfo.conninfo_to_dict(url)
    except psycopg.Error as e:
        raise StoreError(f"state.database: not a usable PostgreSQL URL: {e}") from e
    host = str(info.get("host") or "localhost")
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{host}{port}/{info.get('dbname') or info.get('user') or ''}"


def pg_error(where: str, secret: str, e: psycopg.Error) -> StoreError:
    """Our error for a psycopg one: its first line, the password (if it shows) masked."""
    text = (str(e).strip().splitlines() or [type(e).__name__])[0]
    if secret:
        text = text.replace(secret, "***")
    if isinstance(e, psycopg_pool.PoolTimeout | psycopg.OperationalError):
        return StoreError(
            f"{where}: cannot use the database ({text}): check state.database "
            f"and that the server is up"
        )
    return StoreError(f"{where}: store error: {text}")


class Pg:
    """The pool as the parts see it: every psycopg error comes out as a ``StoreError``."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self.where = describe(url)
        self._secret = _password(url)
        self.timeout = timeout
        wait = max(1, round(timeout))
        try:
            with psycopg.connect(url, connect_timeout=wait, autocommit=True) as conn:
                pgschema.check(conn, self.where)
        except psycopg.Error as e:
            raise self.error(e) from e
        self._pool = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=4,
            timeout=timeout,
            kwargs={"connect_timeout": wait},
            configure=_utc,
            check=psycopg_pool.ConnectionPool.check_connection,  # a restarted server: reconnect
            name="feeds",
            open=True,
        )

    def error(self, e: psycopg.Error) -> StoreError:
        return pg_error(self.where, self._secret, e)

    def rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self.transaction() as conn:
            return conn.execute(sql, args).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """One transaction: committed at the end, rolled back on an error (which becomes
        ours)."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg.Error as e:
            raise self.error(e) from e

    def close(self) -> None:
        self._pool.close()


def _utc(conn: Conn) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()


def _utc_dt(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC)


def _state(r: Any) -> SourceState:
    return SourceState(
        id=r[0],
        url=r[1],
        etag=r[2],
        last_modified=r[3],
        last_fetch=_utc_dt(r[4]),
        last_success=_utc_dt(r[5]),
        consecutive_errors=r[6],
        last_error=r[7],
        next_attempt=_utc_dt(r[8]),
        gone=r[9],
        title=r[10],
    )


class PgSources:
    """Each source's fetch state and fence; saving a state also saves its entries."""

    def __init__(self, pg: Pg, entries: PgEntries) -> None:
        self._pg = pg
        self._entries = entries

    def states(self) -> dict[str, SourceState]:
        rows = self._pg.rows(f"SELECT {_STATE_COLUMNS} FROM sources")  # noqa: S608
        return {r[0]: _state(r) for r in rows}

    def state(self, source_id: str) -> SourceState | None:
        sql = f"SELECT {_STATE_COLUMNS} FROM sources WHERE id=%s"  # noqa: S608
        rows = self._pg.rows(sql, (source_id,))
        return _state(rows[0]) if rows else None

    def due(self, now: dt.datetime, limit: int) -> list[str]:
        return storedue.pg_due(self._pg.rows, now, limit)  # the sources_due index

    def unseen(self, pairs: Iterable[tuple[str, str]]) -> list[str]:
        return storedue.pg_unseen(self._pg.rows, pairs)

    def claim(self, source_id: str) -> int:
        rows = self._pg.rows(
            "INSERT INTO fences VALUES (%s, 1) ON CONFLICT (source_id) DO UPDATE SET "
            "fence = fences.fence + 1 RETURNING fence",
            (source_id,),
        )
        return int(rows[0][0])

    def save(
        self,
        state: SourceState,
        now: dt.datetime,
        entries: Iterable[tuple[Entry, dt.datetime]] = (),
        *,
        fence: int | None = None,
    ) -> SaveResult:
        s = state
        with self._pg.transaction() as conn:
            if fence is not None:
                # FOR SHARE: a claim made meanwhile waits until this save is committed
                row = conn.execute(
                    "SELECT fence FROM fences WHERE source_id=%s FOR SHARE", (s.id,)
                ).fetchone()
                if (0 if row is None else row[0]) != fence:
                    return REFUSED
            s = _state_without_nul(s)
            values = (s.id, s.url, s.etag, s.last_modified, s.last_fetch, s.last_success)
            conn.execute(
                f"INSERT INTO sources ({_STATE_COLUMNS}) VALUES "  # noqa: S608
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                "url=EXCLUDED.url, etag=EXCLUDED.etag, last_modified=EXCLUDED.last_modified, "
                "last_fetch=EXCLUDED.last_fetch, last_success=EXCLUDED.last_success, "
                "consecutive_errors=EXCLUDED.consecutive_errors, "
                "last_error=EXCLUDED.last_error, next_attempt=EXCLUDED.next_attempt, "
                "gone=EXCLUDED.gone, title=EXCLUDED.title",
                (*values, s.consecutive_errors, s.last_error, s.next_attempt, s.gone, s.title),
            )
            return self._entries.put(conn, s.id, now, entries)


class PgEntries:
    """Stored entries, keyed by (source id, entry id); inserts are idempotent upserts."""

    def __init__(
        self,
        pg: Pg,
        to_json: Callable[[Entry], dict[str, Any]],
        from_json: Callable[[dict[str, Any]], Entry],
    ) -> None:
        self._pg = pg
        self._to_json = to_json
        self._from_json = from_json

    def first_seen(
        self, source_id: str, ids: Iterable[str] | None = None
    ) -> dict[str, dt.datetime]:
        if ids is None:
            rows = self._pg.rows(
                "SELECT entry_id, first_seen FROM entries WHERE source_id=%s", (source_id,)
            )
        else:
            rows = self._pg.rows(
                "SELECT entry_id, first_seen FROM entries WHERE source_id=%s "
                "AND entry_id = ANY(%s)",
                (source_id, list(ids)),
            )
        return {r[0]: r[1].astimezone(dt.UTC) for r in rows}

    def index(self, source_id: str) -> list[IndexRow]:
        rows = self._pg.rows(
            "SELECT entry_id, published, data->>'link', data->>'title', data->'tags' "
            "FROM entries WHERE source_id=%s ORDER BY published DESC, entry_id",
            (source_id,),
        )
        return [
            IndexRow(r[0], r[1].astimezone(dt.UTC), r[2], r[3], tuple(r[4] or ())) for r in rows
        ]

    def load(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Entry]:
        wanted = list(keys)
        out: dict[tuple[str, str], Entry] = {}
        for i in range(0, len(wanted), 1000):
            chunk = wanted[i : i + 1000]
            for source_id, entry_id, data in self._pg.rows(
                "SELECT e.source_id, e.entry_id, e.data FROM entries e JOIN "
                "unnest(%s::text[], %s::text[]) AS k(s, i) ON e.source_id = k.s "
                "AND e.entry_id = k.i",
                ([k[0] for k in chunk], [k[1] for k in chunk]),
            ):
                out[(source_id, entry_id)] = self._from_json(data)
        return out

    def counts(self) -> dict[str, int]:
        return dict(self._pg.rows("SELECT source_id, count(*) FROM entries GROUP BY source_id"))

    def undated(self) -> dict[str, int]:
        """Stored entries per source id dated by the time they were first seen."""
        return dict(
            self._pg.rows(
                "SELECT source_id, count(*) FROM entries WHERE published = first_seen "
                "GROUP BY source_id"
            )
        )

    def prune(self, now: dt.datetime, *, max_age_days: int, max_per_source: int) -> int:
        with self._pg.transaction() as conn:
            dropped = 0
            if max_age_days > 0:
                cutoff = now - dt.timedelta(days=max_age_days)
                dropped += conn.execute(
                    "DELETE FROM entries WHERE published < %s", (cutoff,)
                ).rowcount
            dropped += conn.execute(
                "DELETE FROM entries e USING (SELECT source_id, entry_id, row_number() OVER "
                "(PARTITION BY source_id ORDER BY published DESC, entry_id) AS n FROM entries) r "
                "WHERE r.n > %s AND e.source_id = r.source_id AND e.entry_id = r.entry_id",
                (max_per_source,),
            ).rowcount
            if dropped:
                _bump_version(conn)
            return dropped

    def put(
        self,
        conn: Conn,
        source_id: str,
        now: dt.datetime,
        entries: Iterable[tuple[Entry, dt.datetime]],
    ) -> SaveResult:
        """Insert or update a source's fetched entries inside the caller's transaction: new
        and edited ones in one upsert (a fetch stored twice stores once), the rest only
        have their last-seen time moved."""
        pairs = list(entries)
        known = dict(
            conn.execute(
                "SELECT entry_id, content_hash FROM entries WHERE source_id=%s "
                "AND entry_id = ANY(%s)",
                (source_id, [e.id for e, _ in pairs]),
            ).fetchall()
        )
        new = changed = 0
        writes: list[tuple[Any, ...]] = []
        seen_only: list[str] = []
        for entry, first_seen in pairs:
            data = json.dumps(self._to_json(entry), ensure_ascii=False, sort_keys=True)
            digest = hashlib.sha256(data.encode()).hexdigest()  # the same as SQLite's
            if "\\u0000" in data:  # PostgreSQL text cannot hold NUL: it is dropped
                data = _text(_without_nul(json.loads(data)))
            old = known.get(entry.id)
            if old == digest:
                seen_only.append(entry.id)
                continue
            new, changed = (new + 1, changed) if old is None else (new, changed + 1)
            known[entry.id] = digest
            writes.append((source_id, entry.id, first_seen, now, entry.published, digest, data))
        if writes:
            _upsert(conn, writes)
        if seen_only:
            conn.execute(
                "UPDATE entries SET last_seen=%s WHERE source_id=%s AND entry_id = ANY(%s)",
                (now, source_id, seen_only),
            )
        if new or changed:
            _bump_version(conn)
        return SaveResult(new, changed)

    def dump(self) -> Iterator[EntryRow]:
        """Every stored entry as it is stored, in key order, a page at a time."""
        after = ("", "")
        while True:
            rows = self._pg.rows(
                f"SELECT {_ROW_COLUMNS} FROM entries WHERE (source_id, entry_id) > "  # noqa: S608
                "(%s, %s) ORDER BY source_id, entry_id LIMIT 1000",
                after,
            )
            for r in rows:
                first, last, published = (x.astimezone(dt.UTC) for x in r[2:5])
                yield EntryRow(r[0], r[1], first, last, published, r[5], r[6])
            if len(rows) < 1000:
                return
            after = (rows[-1][0], rows[-1][1])

    def restore(self, rows: Iterable[EntryRow]) -> int:
        """Write entries exactly as given (``feeds db import``); returns how many."""
        with self._pg.transaction() as conn:
            batch = [
                (
                    r.source_id,
                    r.entry_id,
                    r.first_seen,
                    r.last_seen,
                    r.published,
                    r.content_hash,
                    _text(r.data),
                )
                for r in rows
            ]
            _upsert(conn, batch)
            if batch:
                _bump_version(conn)
            return len(batch)


def _state_without_nul(s: SourceState) -> SourceState:
    """PostgreSQL text cannot hold NUL (SQLite can): a state's texts are stored without it."""
    found: dict[str, Any] = {
        f.name: v.replace("\x00", "")
        for f in fields(s)
        if isinstance(v := getattr(s, f.name), str) and "\x00" in v
    }
    return replace(s, **found) if found else s


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_nul(v) for k, v in value.items()}
    return value


def _text(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _upsert(conn: Conn, rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO entries ({_ROW_COLUMNS}) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb) "
            "ON CONFLICT (source_id, entry_id) DO UPDATE SET last_seen=EXCLUDED.last_seen, "
            "published=EXCLUDED.published, content_hash=EXCLUDED.content_hash, "
            "data=EXCLUDED.data",
            rows,
        )


def _bump_version(conn: Conn) -> None:
    conn.execute(
        "INSERT INTO meta VALUES ('entries_version', '1') ON CONFLICT (key) DO UPDATE SET "
        "value = (meta.value::bigint + 1)::text"
    )


class Database:
    """The PostgreSQL parts, opened: ``sources``, ``entries``, ``meta``; ``close()``."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        to_json: Callable[[Entry], dict[str, Any]],
        from_json: Callable[[dict[str, Any]], Entry],
    ) -> None:
        self._pg = Pg(url, timeout=timeout)
        self.where = self._pg.where
        self.entries = PgEntries(self._pg, to_json, from_json)
        self.sources = PgSources(self._pg, self.entries)

    def meta(self, key: str) -> str | None:
        rows = self._pg.rows("SELECT value FROM meta WHERE key=%s", (key,))
        return str(rows[0][0]) if rows else None

    def close(self) -> None:
        self._pg.close()


def migrate(url: str, *, timeout: float) -> tuple[str, list[int]]:
    """``feeds db migrate``: the database's name and the versions applied now."""
    where = describe(url)
    try:
        # one transaction: committed when the block ends, rolled back on any error
        with psycopg.connect(url, connect_timeout=max(1, round(timeout))) as conn:
            done = pgschema.migrate(conn, where)
    except psycopg.Error as e:
        raise pg_error(where, _password(url), e) from e
    log.info("migrated database=%s applied=%s", where, done)
    return where, done


def _password(url: str) -> str:
    return str(conninfo.conninfo_to_dict(url).get("password") or "")
