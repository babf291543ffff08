"""Output to S3 (``output.s3``) against moto's S3 server on 127.0.0.1, through the real CLI: the
same bytes as a build to disk, the headers every object carries, uploads skipped when nothing
changed, and the conditional writes that keep two builders from overwriting each other and a
closed archive from being rewritten."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from feeds import caching, manifest
from feeds.config import config
from feeds.errors import WriteError
from feeds.generate.s3sink import S3Writer
from feeds.serve import content_type
from tests.s3site import (
    PREFIX,
    aws,
    bucket,
    build,
    endpoint,
    objects,
    on_disk,
    s3,
    s3_site,
    write_posts,
)

__all__ = ["aws", "bucket", "endpoint"]  # fixtures


def test_a_build_to_s3_writes_the_bytes_of_a_build_to_disk_with_their_headers(
    tmp_path: Path, endpoint: str, bucket: str, aws: dict[str, str]
) -> None:
    site = s3_site(tmp_path / "site", endpoint, bucket)
    write_posts(site, 1)
    proc = build(site, aws)
    assert proc.returncode == 0, proc.stderr
    assert f"→ s3://{bucket}/{PREFIX}" in proc.stderr
    disk = on_disk(site, tmp_path / "ref")
    assert any(name.startswith("archive/") for name in disk)
    assert objects(endpoint, bucket) == disk
    client = s3(endpoint)
    served = caching.hints_for(300).cache_control  # what feeds serve sends (schedule.build 5m)
    for name, data in disk.items():
        head = client.head_object(Bucket=bucket, Key=PREFIX + name)
        assert head["ContentType"] == content_type(name)
        if name not in (caching.HEADERS_FILE, caching.NGINX_FILE, manifest.NAME):
            assert head["ContentType"].endswith("; charset=utf-8"), name  # the others: untyped
        archive = name.startswith("archive/")
        cache = "public, max-age=86400" if archive else served
        assert head["CacheControl"] == cache, name
        assert head["Metadata"] == {"sha256": hashlib.sha256(data).hexdigest()}, name

    # nothing changed: nothing uploaded
    etags = {o["Key"]: o["ETag"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    proc = build(site, aws)
    assert proc.returncode == 0, proc.stderr
    assert " 0 files written" in proc.stderr
    # one new post: only the files it changes are uploaded, and the bucket is the new build
    write_posts(site, 2)
    proc = build(site, aws)
    assert proc.returncode == 0, proc.stderr
    new = on_disk(site, tmp_path / "ref")
    assert objects(endpoint, bucket) == new
    after = {o["Key"]: o["ETag"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    changed = {k.removeprefix(PREFIX) for k in after if etags.get(k) != after[k]}
    assert changed == {n for n in new if disk.get(n) != new[n]}
    assert not any(n.startswith("archive/") for n in changed)  # closed months stay as they were
    # an object deleted by hand is made anew (If-Match finds nothing: created, If-None-Match)
    client.delete_object(Bucket=bucket, Key=PREFIX + "all.rss.xml")
    proc = build(site, aws)
    assert proc.returncode == 0, proc.stderr
    assert " 1 files written" in proc.stderr
    assert objects(endpoint, bucket) == new


def test_a_second_builder_with_a_stale_etag_gets_412_and_changes_nothing(
    tmp_path: Path, endpoint: str, bucket: str, aws: dict[str, str]
) -> None:
    site = s3_site(tmp_path / "site", endpoint, bucket)
    write_posts(site, 1)
    assert build(site, aws).returncode == 0
    # builder B: the same site and bucket, with the ETags builder A had at this point
    shutil.copytree(site.root / "state", tmp_path / "state-b")
    write_posts(site, 2)
    assert build(site, aws).returncode == 0  # A moves on
    held = objects(endpoint, bucket)
    write_posts(site, 1)
    proc = build(site, aws, "--state", tmp_path / "state-b")
    assert proc.returncode == 1, proc.stderr
    assert "412 Precondition Failed: the object changed since this builder wrote it" in proc.stderr
    assert objects(endpoint, bucket) == held  # B overwrote nothing of A's
    # a builder that never wrote here does not take the objects over either
    proc = build(site, aws, "--state", tmp_path / "state-c")
    assert proc.returncode == 1
    assert "this builder never wrote it" in proc.stderr
    assert objects(endpoint, bucket) == held


def test_a_closed_archive_is_never_rewritten(
    tmp_path: Path, endpoint: str, bucket: str, aws: dict[str, str]
) -> None:
    site = s3_site(tmp_path / "site", endpoint, bucket)
    write_posts(site, 1)
    assert build(site, aws).returncode == 0
    before = objects(endpoint, bucket)
    archive = sorted(n for n in before if n.startswith("archive/"))[0]
    cfg = config.load(site.config)
    assert cfg.output_s3 is not None
    writer = S3Writer(cfg.output_s3, tmp_path / "another-state", cache_control="no-cache")
    writer.cleanup()
    with pytest.raises(WriteError) as info:
        writer.write(archive, before[archive] + b"\n", create_only=True)
    assert f"s3://{bucket}/{PREFIX}{archive}: not written: 412 Precondition Failed" in str(
        info.value
    )
    assert "a closed archive is never rewritten" in str(info.value)
    # even by the builder that wrote it
    writer = S3Writer(cfg.output_s3, site.root / "state", cache_control="no-cache")
    writer.cleanup()
    with pytest.raises(WriteError):
        writer.write(archive, b"<rss/>", create_only=True)
    assert writer.write(archive, before[archive], create_only=True) is False  # the same bytes
    assert objects(endpoint, bucket) == before


def test_a_category_gone_loses_its_objects_and_a_hand_made_object_stays(
    tmp_path: Path, endpoint: str, bucket: str, aws: dict[str, str]
) -> None:
    """Stale files on S3: only objects this builder wrote, still as it wrote them, are deleted."""
    site = s3_site(tmp_path / "site", endpoint, bucket)
    write_posts(site, 1)
    assert build(site, aws).returncode == 0
    client = s3(endpoint)
    client.put_object(Bucket=bucket, Key=PREFIX + "mine.txt", Body=b"by hand")
    for path in site.posts.glob("*科技*"):
        path.unlink()
    proc = build(site, aws, "--accept-shrink")  # a whole category gone: the gate asks first
    assert proc.returncode == 0, proc.stderr
    after = objects(endpoint, bucket)
    assert after.pop("mine.txt") == b"by hand"
    assert not [n for n in after if "科技" in n]
    assert after == on_disk(site, tmp_path / "ref")
