"""Output to S3-compatible object storage (``output.s3``): ``S3Writer``, the ``Writer`` of
``output`` that puts each file as one object with boto3.

Every object carries the Content-Type with charset that ``feeds serve`` sends for it, a
Cache-Control (``output.s3.cache_control``, by default the caching contract's that ``feeds
serve`` sends; archives ``output.s3.archive_cache_control``) and
the SHA-256 of its bytes (metadata ``sha256``). Writes are conditional, so that two builders
never overwrite each other and a closed archive is never rewritten:

- an RFC 5005 archive is only created, never replaced (``If-None-Match: *``);
- any other object is replaced only while it is the one this builder last wrote (``If-Match``
  with the ETag that write returned); one this builder never wrote is only created.

When the condition does not hold the store answers 412 and that file is ``Failed`` (a
``WriteError`` naming the object); the others are still written. The ETags are kept in a small
SQLite file of the builder's own (``s3-objects.sqlite3`` in ``state.dir``). The hash about to be
put is recorded before each upload, so a builder killed between an upload and its record
knows its own object on the next run. An object already holding the bytes to write is not
uploaded again: the listing taken when the build starts says which objects are still the ones
this builder left.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import botocore.config
from botocore.exceptions import BotoCoreError, ClientError

from feeds.config.s3 import S3Config
from feeds.errors import WriteError
from feeds.serve import content_type
from feeds.store.buildcache import Output

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import PutObjectRequestTypeDef

log = logging.getLogger(__name__)

LEDGER = "s3-objects.sqlite3"
HASH_KEY = "sha256"  # the object's metadata key (x-amz-meta-sha256)
_SCHEMA = """CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, etag TEXT, sha TEXT, pending TEXT,
    PRIMARY KEY (bucket, key))"""


def client(cfg: S3Config) -> S3Client:
    """A client with the standard AWS credential chain (environment, profile, role)."""
    session = boto3.session.Session(profile_name=cfg.profile)
    settings = botocore.config.Config(
        connect_timeout=10, read_timeout=60, retries={"mode": "standard", "max_attempts": 3}
    )
    return session.client("s3", endpoint_url=cfg.endpoint, region_name=cfg.region, config=settings)


@dataclass(frozen=True)
class Seen:
    """What this builder knows of an object: the ETag and hash of its last confirmed write,
    and the hash of an upload it started and never confirmed (None: none)."""

    etag: str | None
    sha: str | None
    pending: str | None


class Ledger:
    """The ETags this builder's writes got back, per bucket and key."""

    def __init__(self, path: Path, bucket: str) -> None:
        self.path, self.bucket = path, bucket
        with self._db() as db:
            db.execute(_SCHEMA)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        except (OSError, sqlite3.Error) as e:
            raise WriteError(f"{self.path}: cannot open the record of S3 ETags: {e}") from e
        try:
            yield db
        except sqlite3.Error as e:
            raise WriteError(f"{self.path}: cannot use the record of S3 ETags: {e}") from e
        finally:
            db.close()

    def all(self) -> dict[str, Seen]:
        with self._db() as db:
            rows = db.execute(
                "SELECT key, etag, sha, pending FROM objects WHERE bucket = ?", (self.bucket,)
            ).fetchall()
        return {key: Seen(*rest) for key, *rest in rows}

    def intend(self, key: str, sha: str) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO objects (bucket, key, pending) VALUES (?, ?, ?) "
                "ON CONFLICT (bucket, key) DO UPDATE SET pending = excluded.pending",
                (self.bucket, key, sha),
            )

    def done(self, key: str, etag: str, sha: str) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO objects (bucket, key, etag, sha) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (bucket, key) DO UPDATE SET etag = excluded.etag, "
                "sha = excluded.sha, pending = NULL",
                (self.bucket, key, etag, sha),
            )


@dataclass(frozen=True)
class Listed:
    etag: str
    size: int


class _Refused(Exception):
    """The store answered 412: the write's condition did not hold."""


class _Missing(Exception):
    """The store answered 404 to an If-Match: the object was deleted."""


class S3Writer:
    def __init__(
        self,
        cfg: S3Config,
        state_dir: Path,
        s3: S3Client | None = None,
        *,
        cache_control: str,
        before_put: Callable[[], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.before_put = before_put  # the runtime's fault hook (tests only)
        self.cache_control = cfg.cache_control or cache_control
        self.s3 = s3 if s3 is not None else client(cfg)
        # by bucket, not endpoint: one bucket can be reached at several URLs; an ETag of
        # another store's bucket of the same name only makes a write fail (412), never land
        self.ledger = Ledger(state_dir / LEDGER, cfg.bucket)
        self.listing: dict[str, Listed] = {}
        self.seen: dict[str, Seen] = self.ledger.all()  # the ledger's rows, kept in step

    # ------------------------------------------------------------------ the Writer protocol

    def cleanup(self) -> None:
        """Nothing to clean up (an upload is whole or absent); lists the objects instead."""
        self.listing = self._list()
        self.seen = self.ledger.all()

    def exists(self, rel: str) -> bool:
        return self.cfg.key(rel) in self.listing

    def holds(self, rel: str, record: Output) -> bool:
        key = self.cfg.key(rel)
        listed, seen = self.listing.get(key), self.seen.get(key)
        return (
            listed is not None
            and seen is not None
            and listed.etag == seen.etag
            and listed.size == record.size
        )

    def record(self, rel: str, fingerprint: str) -> Output | None:
        listed = self.listing.get(self.cfg.key(rel))
        return None if listed is None else Output(rel, fingerprint, listed.size, 0)

    def write(self, rel: str, data: bytes, *, create_only: bool = False) -> bool:
        key = self.cfg.key(rel)
        sha = hashlib.sha256(data).hexdigest()
        seen, listed = self.seen.get(key), self.listing.get(key)
        if seen and seen.sha == sha and listed and listed.etag == seen.etag:
            return False  # the object holds these bytes and is still the one we left
        if_match = seen.etag if seen and not create_only else None
        self.ledger.intend(key, sha)
        self.seen[key] = Seen(seen.etag if seen else None, seen.sha if seen else None, sha)
        try:
            try:
                etag = self._put(rel, data, sha, create_only, if_match)
            except _Missing:  # deleted since: nobody's object is overwritten by making it anew
                etag = self._put(rel, data, sha, create_only, None)
        except _Refused:
            return self._refused(rel, data, sha, create_only, seen)
        self._wrote(key, etag, sha, len(data))
        return True

    def read(self, rel: str, limit: int) -> bytes | None:
        """The object's bytes (None when there is none); ``WriteError`` past ``limit``."""
        got = self._get(rel, limit)
        return None if got is None else got[1]

    def remove(self, rel: str, sha: str) -> bool:
        """Delete the object if it still holds bytes of ``output.digest`` ``sha`` (a file of
        an earlier build that no feed makes now); True when deleted. An object still the one
        this builder last wrote (the listing's ETag is the recorded one) is not downloaded."""
        key = self.cfg.key(rel)
        seen, listed = self.seen.get(key), self.listing.get(key)
        if listed is None:
            return False
        if not (seen and seen.etag == listed.etag):  # not known as ours unchanged: compare
            from feeds.generate.output import digest  # output stands above this sink

            got = self._get(rel, 1 << 30)
            if got is None or digest(got[1]) != sha:
                return False
        try:
            self.s3.delete_object(Bucket=self.cfg.bucket, Key=key)
        except (ClientError, BotoCoreError) as e:
            raise WriteError(f"{self.cfg.where(rel)}: not removed: {e}") from e
        self.listing.pop(key, None)
        return True

    def _get(self, rel: str, limit: int) -> tuple[str, bytes] | None:
        try:
            answer = self.s3.get_object(Bucket=self.cfg.bucket, Key=self.cfg.key(rel))
        except ClientError as e:
            if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise WriteError(f"{self.cfg.where(rel)}: cannot be read: {e}") from e
        except BotoCoreError as e:
            raise WriteError(f"{self.cfg.where(rel)}: cannot be read: {e}") from e
        if answer["ContentLength"] > limit:
            answer["Body"].close()
            raise WriteError(f"{self.cfg.where(rel)}: over {limit} bytes, not read")
        return answer["ETag"], answer["Body"].read()

    # ------------------------------------------------------------------ the store

    def _wrote(self, key: str, etag: str, sha: str, size: int) -> None:
        self.ledger.done(key, etag, sha)
        self.seen[key] = Seen(etag, sha, None)
        self.listing[key] = Listed(etag, size)

    def _refused(
        self, rel: str, data: bytes, sha: str, create_only: bool, seen: Seen | None
    ) -> bool:
        """A 412: fine when the object already holds these bytes, or holds an upload of ours
        that was never confirmed (it is then replaced, once); a ``WriteError`` otherwise."""
        key = self.cfg.key(rel)
        head = self._head(rel)
        if head is not None and head[1] == sha:
            self._wrote(key, head[0], sha, len(data))
            return False
        pending = seen.pending if seen else None  # an upload of ours never confirmed
        if head is not None and not create_only and pending is not None and pending == head[1]:
            log.info("event=s3 adopted=%s etag=%s (an upload not recorded)", key, head[0])
            with contextlib.suppress(_Refused, _Missing):
                etag = self._put(rel, data, sha, create_only, head[0])
                self._wrote(key, etag, sha, len(data))
                return True
        where = self.cfg.where(rel)
        if create_only:
            why = "the archive exists with other bytes, and a closed archive is never rewritten"
        elif seen and seen.etag:
            why = (
                f"the object changed since this builder wrote it (ETag {seen.etag}, now "
                f"{head[0] if head else 'deleted'}): another builder writes here; left as it is"
            )
        else:
            why = (
                "the object exists and this builder never wrote it (another builder's?); "
                "delete it or give this builder its own output.s3.prefix"
            )
        raise WriteError(f"{where}: not written: 412 Precondition Failed: {why}")

    def _put(self, rel: str, data: bytes, sha: str, create_only: bool, if_match: str | None) -> str:
        """Put the object if it is still ``if_match`` (an ETag), or if it does not exist yet
        (None); the new ETag."""
        cache = self.cfg.archive_cache_control if create_only else self.cache_control
        if self.before_put is not None:  # tests: stop or die just before an upload
            self.before_put()
        request: PutObjectRequestTypeDef = {
            "Bucket": self.cfg.bucket,
            "Key": self.cfg.key(rel),
            "Body": data,
            "ContentType": content_type(rel),
            "CacheControl": cache,
            "Metadata": {HASH_KEY: sha},
        }
        if if_match is None:
            request["IfNoneMatch"] = "*"
        else:
            request["IfMatch"] = if_match
        try:
            answer = self.s3.put_object(**request)
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 412:
                raise _Refused from e
            if status == 404 and if_match is not None:
                raise _Missing from e
            raise self._failed(rel, e) from e
        except BotoCoreError as e:
            raise self._failed(rel, e) from e
        log.debug("event=s3 put=%s bytes=%d", self.cfg.key(rel), len(data))
        return answer["ETag"]

    def _head(self, rel: str) -> tuple[str, str | None] | None:
        """The object's ETag and recorded hash; None when it is gone."""
        try:
            answer = self.s3.head_object(Bucket=self.cfg.bucket, Key=self.cfg.key(rel))
        except ClientError as e:
            if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise self._failed(rel, e) from e
        except BotoCoreError as e:
            raise self._failed(rel, e) from e
        return answer["ETag"], answer.get("Metadata", {}).get(HASH_KEY)

    def _list(self) -> dict[str, Listed]:
        out: dict[str, Listed] = {}
        try:
            pages = self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.cfg.bucket, Prefix=self.cfg.prefix or ""
            )
            for page in pages:
                for item in page.get("Contents", []):
                    out[item["Key"]] = Listed(item["ETag"], item["Size"])
        except (ClientError, BotoCoreError) as e:
            raise WriteError(f"{self.cfg.where()}: cannot list the objects: {e}") from e
        return out

    def _failed(self, rel: str, e: Exception) -> WriteError:
        return WriteError(f"{self.cfg.where(rel)}: upload failed, previous object kept: {e}")
