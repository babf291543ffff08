"""The PostgreSQL store's schema: versioned migrations, applied by ``feeds db migrate``.

Each migration is a version number (its place in ``MIGRATIONS``, from 1), a name and its SQL;
``feeds_migrations`` records the versions applied. ``migrate`` applies the missing ones in one
transaction under an advisory lock (two ``feeds db migrate`` at once: the second waits, then
finds nothing to do) and refuses a database newer than this code. ``check`` is what opening
the store asks: the schema must be exactly the one this code knows.

Identifiers are ``COLLATE "C"``: entries sort by id as in SQLite (by code point), whatever the
database's locale, so both backends build the same bytes.
"""

from __future__ import annotations

from typing import Any

from feeds.errors import StoreError

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "sources, fences, entries, meta",
        """
CREATE TABLE sources (
    id TEXT COLLATE "C" PRIMARY KEY,
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_fetch TIMESTAMPTZ,
    last_success TIMESTAMPTZ,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt TIMESTAMPTZ,
    gone BOOLEAN NOT NULL DEFAULT false,
    title TEXT
);
CREATE INDEX sources_due ON sources (next_attempt) WHERE NOT gone;
CREATE TABLE fences (
    source_id TEXT COLLATE "C" PRIMARY KEY,
    fence BIGINT NOT NULL
);
CREATE TABLE entries (
    source_id TEXT COLLATE "C" NOT NULL,
    entry_id TEXT COLLATE "C" NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    published TIMESTAMPTZ NOT NULL,
    content_hash TEXT NOT NULL,
    data JSONB NOT NULL,
    PRIMARY KEY (source_id, entry_id)
);
CREATE INDEX entries_newest ON entries (source_id, published DESC, entry_id);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
""",
    ),
)
CURRENT = len(MIGRATIONS)
_LOCK = 0x46454544  # "FEED": the advisory lock that serializes migrations

_VERSIONS = """
CREATE TABLE IF NOT EXISTS feeds_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


def applied(conn: Any) -> int | None:
    """The newest version applied, or None for a database feeds never migrated."""
    if conn.execute("SELECT to_regclass('feeds_migrations')").fetchone()[0] is None:
        return None
    row = conn.execute("SELECT max(version) FROM feeds_migrations").fetchone()
    return int(row[0] or 0)


def migrate(conn: Any, where: str) -> list[int]:
    """Apply the missing migrations (inside the caller's transaction); returns their
    versions. A database migrated by a newer feeds is refused, untouched."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
    conn.execute(_VERSIONS)
    have = applied(conn) or 0
    if have > CURRENT:
        raise StoreError(_newer(where, have))
    done = []
    for version in range(have + 1, CURRENT + 1):
        name, sql = MIGRATIONS[version - 1]
        conn.execute(sql)
        conn.execute(
            "INSERT INTO feeds_migrations (version, name) VALUES (%s, %s)", (version, name)
        )
        done.append(version)
    return done


def check(conn: Any, where: str) -> None:
    """Refuse a database whose schema is not this code's, saying what to do."""
    have = applied(conn)
    if have is None or have == 0:
        raise StoreError(f"{where}: no feeds schema in this database yet: run `feeds db migrate`")
    if have > CURRENT:
        raise StoreError(_newer(where, have))
    if have < CURRENT:
        raise StoreError(
            f"{where}: the database has schema {have}, this feeds needs {CURRENT}: "
            f"run `feeds db migrate`"
        )


def _newer(where: str, have: int) -> str:
    return (
        f"{where}: migrated by a newer feeds (schema {have}, this one knows {CURRENT}); "
        f"upgrade feeds"
    )
