"""RFC 5005 archive chains: each archive links the one before (``prev-archive``) and, once
the next month has closed, the one after (``next-archive``); adding that link rewrites the
document once and leaves its entries byte for byte as they were."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lxml import etree

from feeds.config import config
from feeds.generate import archive, pipeline
from feeds.run import once
from tests.helpers import Site, make_site, post_text

SH = dt.timezone(dt.timedelta(hours=8))
ATOM = "{http://www.w3.org/2005/Atom}"
IN_JUNE = dt.datetime(2022, 6, 20, 12, tzinfo=SH)  # May closed, June open
IN_JULY = dt.datetime(2022, 7, 5, 12, tzinfo=SH)  # May and June closed


def _site(tmp: Path) -> Site:
    site = make_site(tmp, "feeds:\n  archives: true\n  formats: [rss, atom]\n")
    site.post("2022-05-03-a.md", post_text("五月一", "2022-05-03 10:00:00 +08:00"))
    site.post("2022-05-20-b.md", post_text("五月二", "2022-05-20 10:00:00 +08:00"))
    site.post("2022-06-02-c.md", post_text("六月一", "2022-06-02 10:00:00 +08:00"))
    return site


def _build(site: Site, now: dt.datetime) -> pipeline.Report:
    report = once.fetch_and_build(config.load(site.config), now)
    assert report.ok, [str(p) for p in report.problems.items]
    return report


def _links(path: Path) -> dict[str, str]:
    root = etree.parse(str(path)).getroot()
    if root.tag == "rss":
        found = root.findall(f"channel/{ATOM}link")
    else:
        found = root.findall(f"{ATOM}link")
    return {ln.get("rel", ""): ln.get("href", "") for ln in found}


def test_the_newest_archive_links_back_and_the_older_one_forward(tmp_path: Path) -> None:
    site = _site(tmp_path)
    _build(site, IN_JULY)
    base = "https://news.example.com/feeds/archive/news/"
    for suffix in (".atom.xml", ".rss.xml"):
        may = _links(site.out / "archive" / "news" / f"2022-05{suffix}")
        june = _links(site.out / "archive" / "news" / f"2022-06{suffix}")
        assert "prev-archive" not in may and may["next-archive"] == f"{base}2022-06{suffix}"
        assert june["prev-archive"] == f"{base}2022-05{suffix}" and "next-archive" not in june
        assert june["current"] == may["current"] == f"https://news.example.com/feeds/news{suffix}"
        assert _links(site.out / f"news{suffix}")["prev-archive"] == f"{base}2022-06{suffix}"


def test_when_a_month_closes_its_predecessor_gains_next_archive_and_nothing_else(
    tmp_path: Path,
) -> None:
    site = _site(tmp_path)
    _build(site, IN_JUNE)
    may = site.out / "archive" / "news" / "2022-05.atom.xml"
    before = may.read_bytes()
    assert "next-archive" not in _links(may)
    # an edit to a May post after May closed: the archive keeps the entry as it was
    site.post("2022-05-20-b.md", post_text("五月二（改）", "2022-05-20 10:00:00 +08:00"))
    report = _build(site, IN_JULY)
    after = may.read_bytes()
    assert "archive/news/2022-05.atom.xml" in report.files_written
    assert "五月二（改）" not in after.decode() and "五月二" in after.decode()
    added = [ln for ln in after.splitlines() if ln not in before.splitlines()]
    assert added == [
        b'  <link rel="next-archive" '
        b'href="https://news.example.com/feeds/archive/news/2022-06.atom.xml"/>'
    ]
    assert after.replace(added[0] + b"\n", b"") == before
    # once linked, the document is never written again
    again = _build(site, IN_JULY + dt.timedelta(days=3))
    assert not any(f.startswith("archive/") for f in again.files_written)
    assert may.read_bytes() == after


def test_a_linked_archive_is_byte_identical_to_one_written_with_its_link(tmp_path: Path) -> None:
    """Incremental (written in June, linked in July) equals full (written in July)."""
    late, early = _site(tmp_path / "late"), _site(tmp_path / "early")
    _build(early, IN_JUNE)
    _build(early, IN_JULY)
    _build(late, IN_JULY)
    assert early.outputs() == late.outputs()


def test_next_archive_goes_just_before_current_with_the_href_escaped() -> None:
    doc = b'<feed>\n  <link rel="prev-archive" href="p"/>\n  <link rel="current" href="c"/>\n'
    out = archive.with_next_archive(doc, "https://x.example/a?b=1&c=2")
    assert out == (
        b'<feed>\n  <link rel="prev-archive" href="p"/>\n'
        b'  <link rel="next-archive" href="https://x.example/a?b=1&amp;c=2"/>\n'
        b'  <link rel="current" href="c"/>\n'
    )
    assert archive.with_next_archive(b"<feed>\n</feed>\n", "https://x.example/") is None
