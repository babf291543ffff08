"""The build cache's tables (``feeds.store.buildcache`` reads and writes them). A change here needs
the store's ``SCHEMA_VERSION`` raised: a cache of the older layout is then dropped and made
afresh, never migrated."""

from __future__ import annotations

import json
from collections.abc import Iterable

from feeds.models import Problem, Severity

SCHEMA = """
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
TABLES = ("posts", "post_names", "rendered", "outputs")
META_SCHEMA = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
# the CREATE INDEX statements, by name (a cold build's bulk load makes them after the rows)
INDEXES = tuple(x.strip() for x in SCHEMA.split(";") if x.strip().startswith("CREATE INDEX"))
INDEX_NAMES = tuple(x.split()[2] for x in INDEXES)


# A column of problems: JSON of [severity, message, line, where] each.


def problems_json(items: Iterable[Problem]) -> str | None:
    rows = [[p.severity.value, p.message, p.line, p.where] for p in items]
    return json.dumps(rows, ensure_ascii=False) if rows else None


def problems_from_json(text: str | None) -> tuple[Problem, ...]:
    if not text:
        return ()
    return tuple(
        Problem(Severity(severity), where, message, line)
        for severity, message, line, where in json.loads(text)
    )
