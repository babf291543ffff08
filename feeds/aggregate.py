"""External feeds, for the callers that name them here: the fetch round lives in
``feeds.fetchround``, routing and loading stored entries in ``feeds.routing``."""

from __future__ import annotations

from feeds.fetchround import PARSE_PROCESSES_AT, fetch_round
from feeds.routing import Loader, canonical_link, stored_entries, title_key

__all__ = [
    "PARSE_PROCESSES_AT",
    "Loader",
    "canonical_link",
    "fetch_round",
    "stored_entries",
    "title_key",
]
