"""The store: aggregated entries and each source's fetch state. By default one SQLite file,
outside the output folder (``state.dir/feeds.sqlite3``), in WAL mode; one transaction per
source. With ``state.database`` they live in PostgreSQL (``feeds.store.pgstore``) and the local
file keeps only the build cache.

Entries are keyed by (source, id), keep the time they were first seen and a content hash, and
are updated in place when the source edits them. They stay after they drop off the source's
feed (until retention removes them), so the output keeps its history and survives the source
going down. A file that is not ours is refused, never overwritten.

The interface, which both backends implement (the SQLite SQL is in ``feeds.store.parts``, the
PostgreSQL SQL in ``feeds.store.pgstore``; the ``SourcesPart`` and ``EntriesPart`` protocols below).
Every method raises ``StoreError`` naming the store (a file, or ``postgresql://host:port/db``
without the password), never a driver's error; times go in aware and come out aware (UTC).

``open_store(cfg: StoreConfig, *, read_only=False) -> Store`` opens the configured backend;
callers never know which. ``Store(path, *, timeout, read_only=False, database=None)`` is the
SQLite one (``database``: the opened PostgreSQL parts, from ``open_store``); a context manager;
``close()``. ``read_only`` opens an existing store for reading (``StoreError`` if it is
missing, foreign or from a newer feeds) and writes nothing.

``store.sources`` — each source's fetch state:
  ``states() -> dict[str, SourceState]``: every stored source's row, by id.
  ``state(source_id) -> SourceState | None``: one source's row (what a fetch job reads).
  ``due(now, limit) -> list[str]``: ids of stored rows whose next attempt is unset or has
  come, longest-waiting first, at most ``limit``; ``unseen(pairs) -> list[str]``: of (id, url)
  pairs, the ids without a row at that URL. Together they are ``fetchstate.due`` without
  reading every row (the tick of ``feeds run --distributed``; how both agree:
  ``feeds/store/due.py``).
  ``save(state, now, entries=(), *, fence: int | None = None) -> SaveResult``: ``state``
  becomes the source's whole row, and its fetched entries ((Entry, first seen) pairs, last
  seen ``now``) are inserted or updated, all in one transaction; returns how many were new
  and how many changed (``SaveResult(new, changed, refused=False)``). The row comes from
  ``feeds.aggregate.fetchstate.next_state``, which alone decides error counts and backoff.
  Fencing, for distributed workers: when ``fence`` is given and is not the source's current
  fence, nothing at all is written (state and entries untouched) and ``SaveResult.refused``
  is true. ``fence=None`` (one machine) saves unconditionally.
  ``claim(source_id: str) -> int``: atomically increments the source's fence counter and
  returns the new value (1 for the first claim; the source need not have a row yet). A worker
  claims a source before fetching it and saves with that fence, so a worker that lost its job
  (stalled past its timeout while another one claimed the source) has its late result refused.

``store.entries`` — stored entries, keyed by (source id, entry id):
  ``first_seen(source_id, ids=None) -> dict[str, datetime]``: when each known id was first
  seen (without ``ids``: every stored entry of the source).
  ``index(source_id) -> list[IndexRow]``: id, published, link, title and tags of a source's
  entries, newest first (ties by id, in code-point order), without their content.
  ``load(keys) -> dict[(source id, entry id), Entry]``: the stored entries (missing ones left
  out). ``counts() -> dict[str, int]``: entries per source.
  ``prune(now, *, max_age_days, max_per_source) -> int``: retention; returns entries dropped.
  ``dump() -> Iterator[EntryRow]`` / ``restore(rows) -> int``: every entry as stored, and
  writing such rows back as they are (``feeds db export`` / ``import``, ``feeds.store.move``).
  Each change to the entries bumps ``meta("entries_version")``, which the build cache reads.

``Store.load_entries`` and ``Store.prune`` are ``entries.load`` and ``entries.prune``. The
build cache (``store.cache``, ``feeds/store/buildcache.py``) is disposable and not part of this
interface: it is always the local SQLite file, with either backend (its questions are many
and keyed by this machine's post files; they must not be network round trips).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from feeds.errors import StoreError
from feeds.models import Author, Enclosure, Entry, SourceRef
from feeds.store import buildcache
from feeds.store.parts import (
    FENCES_SCHEMA,
    PARTS_SCHEMA,
    Entries,
    EntryRow,
    IndexRow,
    SaveResult,
    Sources,
    SourceState,
)
from feeds.store.sqlconn import Sql, read_only_uri, store_error

if TYPE_CHECKING:
    from feeds.config.config import StoreConfig
    from feeds.store.pgstore import Database

__all__ = [
    "SaveResult",
    "SourceState",
    "Store",
    "StoreError",
    "entry_from_json",
    "entry_to_json",
    "open_store",
]

log = logging.getLogger(__name__)

APPLICATION_ID = 0x46454544  # "FEED", in the SQLite header: marks the file as ours
SCHEMA_VERSION = 4
_META_SCHEMA = buildcache.META_SCHEMA


def _when_free(run: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            run()
            return
        except sqlite3.OperationalError as e:
            text = str(e).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def _run_script(db: sqlite3.Connection, script: str) -> None:
    for statement in filter(None, (x.strip() for x in script.split(";"))):
        db.execute(statement)


class SourcesPart(Protocol):
    """``store.sources`` of either backend (SQLite here, PostgreSQL in ``feeds.store.pgstore``)."""

    def states(self) -> dict[str, SourceState]: ...
    def state(self, source_id: str) -> SourceState | None: ...
    def due(self, now: dt.datetime, limit: int) -> list[str]: ...
    def unseen(self, pairs: Iterable[tuple[str, str]]) -> list[str]: ...
    def claim(self, source_id: str) -> int: ...
    def save(
        self,
        state: SourceState,
        now: dt.datetime,
        entries: Iterable[tuple[Entry, dt.datetime]] = (),
        *,
        fence: int | None = None,
    ) -> SaveResult: ...


class EntriesPart(Protocol):
    """``store.entries`` of either backend."""

    def first_seen(
        self, source_id: str, ids: Iterable[str] | None = None
    ) -> dict[str, dt.datetime]: ...
    def index(self, source_id: str) -> list[IndexRow]: ...
    def load(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Entry]: ...
    def counts(self) -> dict[str, int]: ...
    def undated(self) -> dict[str, int]: ...
    def prune(self, now: dt.datetime, *, max_age_days: int, max_per_source: int) -> int: ...
    def dump(self) -> Iterator[EntryRow]: ...
    def restore(self, rows: Iterable[EntryRow]) -> int: ...


class Store:
    def __init__(
        self,
        path: Path,
        *,
        timeout: float = 10.0,
        read_only: bool = False,
        database: Database | None = None,
    ) -> None:
        """With ``database`` (PostgreSQL, opened by ``open_store``), sources and entries are
        there and the SQLite file at ``path`` holds only the build cache; read-only, not even
        that (an in-memory cache)."""
        self.path = path
        self.timeout = timeout
        self._remote = database
        if database is not None and read_only:
            path, read_only = Path(":memory:"), False
        self.read_only = read_only
        if read_only and not path.is_file():
            raise StoreError(f"{path}: no store yet (the first fetch or build makes it)")
        try:
            if not read_only and path.name != ":memory:":
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
        self.cache = buildcache.BuildCache(self._db, self.transaction, self._error)
        self._sql = Sql(self._db, path, timeout)
        entries = Entries(self._sql, entry_to_json, entry_from_json)
        self.entries: EntriesPart = entries
        self.sources: SourcesPart = Sources(self._sql, entries)
        if database is not None:
            self.entries, self.sources = database.entries, database.sources
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
        # Another connection turning a new file to WAL at the same moment makes SQLite say
        # "database is locked" at once, without its busy wait: asked again until the timeout.
        _when_free(lambda: db.execute("PRAGMA journal_mode=WAL"), self.timeout)
        db.execute("PRAGMA synchronous=NORMAL")
        if tables == 0 or version < SCHEMA_VERSION:
            with self.transaction():
                # read again under the write lock: two threads or processes opening a new
                # store at once (a tick and a build) would both make its tables otherwise
                tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if tables == 0 or version < SCHEMA_VERSION:
                    self._make_schema(db, tables)
        db.execute("SELECT id FROM sources LIMIT 1").fetchall()  # checks the file reads

    def _make_schema(self, db: sqlite3.Connection, tables: int) -> None:
        if tables == 0:
            _run_script(db, PARTS_SCHEMA)
        db.execute(FENCES_SCHEMA)
        db.execute(_META_SCHEMA)
        buildcache.create(db)  # a cache of an older layout is dropped
        db.execute(f"PRAGMA application_id={APPLICATION_ID}")
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()
        if self._remote is not None:
            self._remote.close()

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

    # ------------------------------------------------- meta (the build cache is ``self.cache``)

    def meta(self, key: str) -> str | None:
        if self._remote is not None:
            return self._remote.meta(key)
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])


def open_store(cfg: StoreConfig, *, read_only: bool = False) -> Store:
    """The configured store: SQLite in ``state.dir``, or PostgreSQL when ``state.database``
    is set (the build cache then stays in the local SQLite file). Callers do not know which."""
    if cfg.database is None:
        return Store(cfg.path, timeout=cfg.lock_timeout, read_only=read_only)
    from feeds.store.pgstore import Database

    database = Database(
        cfg.database, timeout=cfg.lock_timeout, to_json=entry_to_json, from_json=entry_from_json
    )
    try:
        return Store(cfg.path, timeout=cfg.lock_timeout, read_only=read_only, database=database)
    except BaseException:
        database.close()
        raise


def exists(cfg: StoreConfig) -> bool:
    """Whether there is a store to read (a database always is; a file once made)."""
    return cfg.database is not None or cfg.path.is_file()


def describe(cfg: StoreConfig) -> str:
    """The store as messages name it (a database without its password)."""
    if cfg.database is None:
        return str(cfg.path)
    from feeds.store.pgstore import describe as describe_database

    return describe_database(cfg.database)


def entry_to_json(e: Entry) -> dict[str, Any]:
    # by hand: dataclasses.asdict deep-copies every value and was a third of a fetch round;
    # rights only when there are some, so that what was stored (and fingerprinted) without
    # them stays the same
    out: dict[str, Any] = {
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
    if e.image is not None:  # only when there is one: older entries' JSON stays as it was
        out["image"] = {"url": e.image.url, "length": e.image.length, "type": e.image.type}
    if e.rights is not None:
        out["rights"] = e.rights
    return out


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
        image=Enclosure(**d["image"]) if d.get("image") else None,
        rights=d.get("rights"),
    )
