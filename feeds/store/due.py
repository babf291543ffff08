"""Which stored sources are due, asked of the store instead of read from every row: the SQL
behind ``store.sources.due(now, limit)`` and ``store.sources.unseen(pairs)`` on both backends.

``feeds.aggregate.fetchstate.due`` stays the rule: an enabled source is due when the store has
no row for it at its configured URL, or when its row's ``next_attempt`` is unset or has come.
(A gone source is no exception: ``fetchstate.next_state`` puts its next attempt
``fetch.backoff_cap`` away, and it is retried then.) The store answers the rule's two halves:

- ``due(now, limit)``: the ids of stored rows whose ``next_attempt`` is unset or ``<= now``,
  the longest-waiting first (unset first, ties by id), at most ``limit`` of them. On
  PostgreSQL the sources that are not gone are found through the ``sources_due`` index
  (``next_attempt WHERE NOT gone``); the few gone ones are a branch of their own.
- ``unseen(pairs)``: of the given (id, url) pairs, the ids the store has no row for at that
  URL (a new source, or one whose URL changed: it starts over).

So, for a config's enabled sources, ``fetchstate.due(sources, states, now)`` is exactly the
sources whose id is in ``due(now, ∞)`` or in ``unseen(pairs)`` (a store test checks it on both
backends over a table of states); a caller filters out the disabled ones itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

Rows = Callable[[str, tuple[Any, ...]], list[Any]]

_PG_DUE = """
SELECT id FROM (
    (SELECT id, next_attempt FROM sources
     WHERE NOT gone AND next_attempt <= %s ORDER BY next_attempt LIMIT %s)
    UNION ALL
    (SELECT id, next_attempt FROM sources WHERE NOT gone AND next_attempt IS NULL LIMIT %s)
    UNION ALL
    (SELECT id, next_attempt FROM sources
     WHERE gone AND (next_attempt IS NULL OR next_attempt <= %s))
) d ORDER BY next_attempt NULLS FIRST, id LIMIT %s"""
_PG_UNSEEN = """
SELECT k.id FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS k(id, url, n)
LEFT JOIN sources s ON s.id = k.id AND s.url = k.url WHERE s.id IS NULL ORDER BY k.n"""
# SQLite keeps times as ISO text in UTC (``storeparts._ts``), which sorts as time does
_SQLITE_DUE = """
SELECT id FROM sources WHERE next_attempt IS NULL OR next_attempt <= ?
ORDER BY next_attempt IS NOT NULL, next_attempt, id LIMIT ?"""
_SQLITE_CHUNK = 400  # pairs per statement (two variables each)


def pg_due(rows: Rows, now: dt.datetime, limit: int) -> list[str]:
    return [r[0] for r in rows(_PG_DUE, (now, limit, limit, now, limit))]


def pg_unseen(rows: Rows, pairs: Iterable[tuple[str, str]]) -> list[str]:
    wanted = list(pairs)
    if not wanted:
        return []
    return [r[0] for r in rows(_PG_UNSEEN, ([p[0] for p in wanted], [p[1] for p in wanted]))]


def sqlite_due(rows: Rows, now: dt.datetime, limit: int) -> list[str]:
    return [r[0] for r in rows(_SQLITE_DUE, (now.astimezone(dt.UTC).isoformat(), limit))]


def sqlite_unseen(rows: Rows, pairs: Iterable[tuple[str, str]]) -> list[str]:
    wanted = list(pairs)
    out: list[str] = []
    for i in range(0, len(wanted), _SQLITE_CHUNK):
        chunk = wanted[i : i + _SQLITE_CHUNK]
        values = ", ".join("(?, ?, ?)" for _ in chunk)
        args = tuple(x for n, (id_, url) in enumerate(chunk) for x in (n, id_, url))
        out += [
            r[0]
            for r in rows(
                f"WITH k(n, id, url) AS (VALUES {values}) SELECT k.id FROM k "  # noqa: S608
                "LEFT JOIN sources s ON s.id = k.id AND s.url = k.url WHERE s.id IS NULL "
                "ORDER BY k.n",
                args,
            )
        ]
    return out


class SqliteDue:
    """``due`` and ``unseen`` of the SQLite ``storeparts.Sources``, which has ``_sql``."""

    _sql: Any  # storeparts.Sql: ``rows(sql, args)``

    def due(self, now: dt.datetime, limit: int) -> list[str]:
        return sqlite_due(self._sql.rows, now, limit)

    def unseen(self, pairs: Iterable[tuple[str, str]]) -> list[str]:
        return sqlite_unseen(self._sql.rows, pairs)
