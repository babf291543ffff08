"""Moving a whole store between backends (``feeds db export FILE`` / ``feeds db import FILE``):
each source's fetch state and every stored entry with its first- and last-seen times, in a
portable JSON Lines file. The first line names the format; then one ``{"source": …}`` line
per source and one ``{"entry": …}`` line per entry (times in ISO 8601 UTC, the entry as the
store keeps it). The build cache and fence counters are not moved: the one is rebuilt, the
other only matters to fetches in flight.

An import writes rows as they are in the file (the same key: replaced), so an import cut
short can simply be run again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from feeds.errors import StoreError
from feeds.store.parts import EntryRow, SourceState
from feeds.store.store import Store, entry_from_json

FORMAT = "feeds-store"
VERSION = 1
_TIMES = ("last_fetch", "last_success", "next_attempt")
_ROW_TIMES = ("first_seen", "last_seen", "published")


@dataclass(frozen=True)
class Moved:
    sources: int
    entries: int


def export(store: Store, path: Path) -> Moved:
    """Write the store to ``path`` (a temporary file renamed into place when complete)."""
    temp = path.with_name(f".{path.name}.part")
    sources = entries = 0
    try:
        with temp.open("w", encoding="utf-8") as out:
            _line(out, {"format": FORMAT, "version": VERSION})
            for state in sorted(store.sources.states().values(), key=lambda s: s.id):
                _line(out, {"source": _state_json(state)})
                sources += 1
            for row in store.entries.dump():
                _line(out, {"entry": _row_json(row)})
                entries += 1
        temp.replace(path)
    except OSError as e:
        temp.unlink(missing_ok=True)
        raise StoreError(f"{path}: cannot write the export: {e.strerror or e}") from e
    return Moved(sources, entries)


def import_(store: Store, path: Path, now: dt.datetime) -> Moved:
    """Read ``path`` (made by ``export``) into the store."""
    try:
        with path.open(encoding="utf-8") as src:
            lines = enumerate(src, 1)
            _check_header(path, next(lines, (1, "")))
            records = _records(path, lines)
            sources = entries = 0
            pending: list[EntryRow] = []
            while batch := list(islice(records, 1000)):
                for item in batch:
                    if isinstance(item, SourceState):
                        store.sources.save(item, now)
                        sources += 1
                    else:
                        pending.append(item)
                entries += store.entries.restore(pending) if pending else 0
                pending = []
    except OSError as e:
        raise StoreError(f"{path}: cannot read the export: {e.strerror or e}") from e
    return Moved(sources, entries)


def _line(out: TextIO, value: dict[str, Any]) -> None:
    out.write(json.dumps(value, ensure_ascii=False, sort_keys=True) + "\n")


def _state_json(s: SourceState) -> dict[str, Any]:
    d = asdict(s)
    for k in _TIMES:
        d[k] = None if d[k] is None else d[k].astimezone(dt.UTC).isoformat()
    return d


def _row_json(r: EntryRow) -> dict[str, Any]:
    d = asdict(r)
    for k in _ROW_TIMES:
        d[k] = d[k].astimezone(dt.UTC).isoformat()
    return d


def _check_header(path: Path, first: tuple[int, str]) -> None:
    try:
        head = json.loads(first[1])
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise StoreError(f"{path}:1: not a feeds store export (made by `feeds db export`)")
    if head.get("version") != VERSION:
        raise StoreError(
            f"{path}:1: export format {head.get('version')!r}, this feeds reads {VERSION}"
        )


def _records(path: Path, lines: Iterator[tuple[int, str]]) -> Iterator[SourceState | EntryRow]:
    for n, text in lines:
        if not text.strip():
            continue
        try:
            item = json.loads(text)
            if "source" in item:
                yield _state(item["source"])
            else:
                yield _row(item["entry"])
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise StoreError(f"{path}:{n}: not a source or entry line ({e!r})") from e


def _state(d: dict[str, Any]) -> SourceState:
    times = {k: None if d[k] is None else dt.datetime.fromisoformat(d[k]) for k in _TIMES}
    return SourceState(**{**d, **times})


def _row(d: dict[str, Any]) -> EntryRow:
    entry_from_json(d["data"])  # a line that is not an entry is refused here, not at build
    return EntryRow(**{**d, **{k: dt.datetime.fromisoformat(d[k]) for k in _ROW_TIMES}})
