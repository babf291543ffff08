"""Our RELAX NG schema of RFC 4287 (tests/data/atom.rnc) accepts what we emit and refuses
documents that break the RFC's rules, so the Atom check in every test is a real one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ATOM_RNC, ROOT

pytestmark = pytest.mark.needs_jing

GOOD_ENTRY = (
    "<entry><id>urn:x:1</id><title>标题</title><updated>2022-06-09T14:36:33+08:00</updated>"
    '<content type="html">&lt;p&gt;正文&lt;/p&gt;</content></entry>'
)


def _jing(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("jing")
    if exe is None:
        pytest.fail("jing is not installed: run scripts/test, which installs it")
    doc = tmp_path / "doc.atom.xml"
    doc.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">{body}</feed>\n',
        encoding="utf-8",
    )
    return subprocess.run(
        [exe, "-c", str(ATOM_RNC), str(doc)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_golden_atom_files_are_valid() -> None:
    exe = shutil.which("jing")
    assert exe is not None, "jing is not installed: run scripts/test, which installs it"
    files = sorted((ROOT / "tests" / "golden" / "expected").rglob("*.atom.xml"))
    assert files
    proc = subprocess.run(
        [exe, "-c", str(ATOM_RNC), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout


def test_a_minimal_feed_is_valid(tmp_path: Path) -> None:
    head = "<id>urn:x</id><title>t</title><updated>2022-06-09T06:36:33Z</updated>"
    proc = _jing(tmp_path, head + GOOD_ENTRY)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize(
    ("body", "words"),
    [
        # 4.1.1: a feed has an atom:id
        (
            "<title>t</title><updated>2022-06-09T06:36:33Z</updated>",
            'missing required element "id"',
        ),
        # 3.3: a date has the "T" and an offset
        ("<id>urn:x</id><title>t</title><updated>2022-06-09 14:36</updated>", "updated"),
        # 4.1.1: at most one atom:title
        (
            "<id>urn:x</id><title>a</title><title>b</title><updated>2022-06-09T06:36:33Z</updated>",
            "title",
        ),
        # 3.1: a text construct's type is text, html or xhtml
        (
            '<id>urn:x</id><title type="CDATA">t</title><updated>2022-06-09T06:36:33Z</updated>',
            "type",
        ),
        # 4.2.7: a link has an href
        (
            "<id>urn:x</id><title>t</title><updated>2022-06-09T06:36:33Z</updated>"
            '<link rel="self"/>',
            "href",
        ),
        # 3.2: a person has a name
        (
            "<id>urn:x</id><title>t</title><updated>2022-06-09T06:36:33Z</updated>"
            "<author><email>a@b.example</email></author>",
            "name",
        ),
    ],
)
def test_rule_breakers_are_refused(tmp_path: Path, body: str, words: str) -> None:
    proc = _jing(tmp_path, body)
    assert proc.returncode != 0
    assert words in proc.stdout
