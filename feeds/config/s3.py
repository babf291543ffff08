"""The ``output.s3`` section: where in an S3-compatible object store the output goes instead of
``output.dir``. Credentials are never in the config file: the AWS SDK finds them in the standard
environment variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``),
the shared credentials file and its profiles, or the instance's role."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from feeds import yamlutil
from feeds.config.read import Reader

# a closed archive keeps its entries, but gains its next-archive link once, when the next
# month closes (README "Archives"): a day, not "immutable"
ARCHIVE_CACHE = "public, max-age=86400"


@dataclass(frozen=True)
class S3Config:
    bucket: str
    endpoint: str | None = None  # None: the AWS endpoint of the region
    prefix: str | None = None  # None: the bucket's top; else a folder path ending with "/"
    region: str | None = None  # None: from the AWS environment or profile
    profile: str | None = None  # None: AWS_PROFILE, else the default credentials
    cache_control: str | None = None  # None: the caching contract's, as feeds serve sends
    archive_cache_control: str = ARCHIVE_CACHE

    def key(self, rel: str) -> str:
        return (self.prefix or "") + rel

    def where(self, rel: str = "") -> str:
        """``s3://bucket/prefix/rel``, as messages show it."""
        return f"s3://{self.bucket}/{self.key(rel)}"


def endpoint(r: Reader, path: yamlutil.Path, default: None) -> str | None:
    value = r.optional_string(path)
    if value is not None:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise r.error(path, f"must be the store's absolute http(s) URL, not {value!r}")
    return value


def prefix(r: Reader, path: yamlutil.Path, default: None) -> str | None:
    """A folder inside the bucket: no leading slash, one trailing slash (None: the top)."""
    value = r.optional_string(path)
    if value is None or not value.strip("/"):
        return None
    value = value.strip("/")
    if any(part in ("", ".", "..") for part in value.split("/")):
        raise r.error(path, f"must be a folder path inside the bucket, not {value!r}")
    return value + "/"
