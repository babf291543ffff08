"""Read Jekyll posts from disk: ``YYYY-MM-DD-slug.(md|markdown|html)`` files with YAML
front matter. Front matter is split off with python-frontmatter and parsed by
``yamlutil`` (line numbers kept, dates left as text for ``timeutil``).

Nothing here raises for a bad file: each problem is recorded and the file is skipped
(or repaired, for a UTF-8 BOM), so one broken post never stops the others.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from frontmatter.default_handlers import YAMLHandler

from feeds import yamlutil
from feeds.models import Problems, RawPost

log = logging.getLogger(__name__)

POST_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)\.(md|markdown|html)$")
POST_EXTS = (".md", ".markdown", ".html")
_BOM = b"\xef\xbb\xbf"
_HANDLER = YAMLHandler()


def _ignored(name: str) -> bool:
    return name[:1] in (".", "_", "#") or name.endswith("~")


def scan_posts(dirs: tuple[Path, ...], problems: Problems) -> list[tuple[str, int, int]]:
    """Every post file below ``dirs`` with its size and mtime (ns): (path, size, mtime_ns),
    sorted by path. One ``stat`` per file and nothing read: this is all a rebuild with
    nothing changed does.

    Like Jekyll, names starting with '.', '_' or '#' and names ending in '~' are ignored;
    a file with a post extension but no ``YYYY-MM-DD-`` prefix is reported and skipped.
    """
    found: list[tuple[str, int, int]] = []
    misnamed: list[str] = []
    match = POST_NAME.match
    for top in dirs:
        if not top.is_dir():
            problems.error(
                str(top), "posts folder does not exist" if not top.exists() else "is not a folder"
            )
            continue
        stack = [str(top)]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as it:  # entries are not kept: 100k of them are big
                    for entry in it:
                        name = entry.name
                        # a post name starts with a digit: never an ignored name
                        if match(name) and not entry.is_dir():
                            st = entry.stat()
                            found.append((entry.path, st.st_size, st.st_mtime_ns))
                        elif _ignored(name):
                            continue
                        elif entry.is_dir():
                            stack.append(entry.path)
                        elif name.endswith(POST_EXTS):
                            misnamed.append(entry.path)
            except OSError as e:
                problems.error(folder, f"cannot list: {e.strerror or e}")
    for path in sorted(misnamed):
        problems.warn(path, "not a post: the name must look like YYYY-MM-DD-title.md; skipped")
    found.sort(key=lambda f: f[0])
    return found


def parse_post(path: Path, data: bytes, problems: Problems) -> RawPost | None:
    """A post from its bytes; ``None`` (with the reason recorded) when it cannot be used."""
    where = str(path)
    m = POST_NAME.match(path.name)
    if not m:
        problems.error(where, "not a post file name (YYYY-MM-DD-title.ext)")
        return None
    if data.startswith(_BOM):
        problems.warn(
            where,
            "starts with a UTF-8 byte-order mark; ignored it (save the file as UTF-8 without BOM)",
            1,
        )
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        problems.error(
            where,
            f"not valid UTF-8 (byte 0x{data[e.start]:02x} at offset "
            f"{e.start}); save the file as UTF-8",
            line,
        )
        return None
    if not _HANDLER.detect(text):
        problems.error(where, "no front matter: a post must start with a '---' line", 1)
        return None
    try:
        fm, body = _HANDLER.split(text)
    except ValueError:
        problems.error(where, "front matter is not closed by a '---' line", 1)
        return None
    try:
        # The split front matter begins right after the opening '---' on line 1, so
        # YAML's line numbers are the file's.
        doc = yamlutil.load_flat(fm) or yamlutil.load(fm)
    except yamlutil.YamlError as e:
        problems.error(where, f"front matter: {e.message}", e.line)
        return None
    meta = doc.value if doc.value is not None else {}
    if not isinstance(meta, dict):
        problems.error(where, "front matter must be a mapping of keys (key: value)", 2)
        return None
    year, month, day, slug, ext = m.groups()
    return RawPost(
        path=path,
        slug=slug,
        file_date=(int(year), int(month), int(day)),
        ext="." + ext,
        meta=meta,
        lines=doc.lines,
        body=body,
    )
