"""A site that writes to moto's S3 server, for the S3 tests: the server (one per module), AWS
credentials for it from the environment (and none of the machine's AWS files), a fresh bucket
per test, the site's config and posts, and what the bucket holds."""

from __future__ import annotations

import datetime as dt
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from feeds.config import config
from feeds.generate import pipeline
from tests.helpers import BASE_CONFIG, Site, make_site, post_text, run_cli
from tests.services import moto_s3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PREFIX = "site/feeds/"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_s3() as url:
        yield url


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Credentials for moto from the environment, and no AWS files of the machine's."""
    env = {
        **AWS_ENV,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return env


@pytest.fixture
def bucket(endpoint: str, aws: dict[str, str]) -> str:
    name = f"feeds-{uuid.uuid4().hex[:12]}"
    s3(endpoint).create_bucket(Bucket=name)
    return name


def s3(endpoint: str) -> S3Client:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    client = s3(endpoint)
    listed = client.list_objects_v2(Bucket=bucket, Prefix=PREFIX).get("Contents", [])
    return {
        o["Key"].removeprefix(PREFIX): client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        for o in listed
    }


def files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def s3_site(tmp: Path, endpoint: str, bucket: str) -> Site:
    site = make_site(tmp)
    base = BASE_CONFIG.replace("output:\n  dir: out\n", "")
    site.write_config(
        f"""\
        output:
          s3:
            endpoint: {endpoint}
            bucket: {bucket}
            prefix: /{PREFIX}
        feeds:
          tag_feeds: true
          archives: true
        """,
        base=base,
    )
    return site


def write_posts(site: Site, version: int) -> None:
    """Posts over three months (so that there are closed archives); version 2 adds one to
    the current month of each category."""
    for c in ("财经", "科技"):
        for month in (1, 2, 3):
            site.post(
                f"2022-0{month}-05-{c}-{month}.md",
                post_text(f"{c}{month}月", f"2022-0{month}-05 08:00:00 +0800", c, tags="[t]"),
            )
        extra = site.posts / f"2022-03-20-{c}-new.md"
        if version == 2:
            site.post(extra.name, post_text(f"{c}新文章", "2022-03-20 08:00:00 +0800", c))
        elif extra.exists():
            extra.unlink()


def build(site: Site, env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return run_cli("build", "-v", "-c", site.config, *args, env=env)


def on_disk(site: Site, tmp: Path) -> dict[str, bytes]:
    """A build to disk in ``tmp`` (its own output and state) of the posts as they are now: the
    same sequence of builds to disk and to S3 gives the same files."""
    cfg = config.load(site.config).with_overrides(output=tmp / "out", state=tmp / "state")
    report = pipeline.run_once(cfg, dt.datetime.now(cfg.site.tz))
    assert report.ok, report.problems.items
    return files(tmp / "out")
