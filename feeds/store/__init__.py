"""Persistence: the store (SQLite by default, PostgreSQL with ``state.database``) of sources and
entries, and the disposable build cache."""
