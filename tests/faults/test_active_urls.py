"""A ``javascript:``, ``data:`` or ``vbscript:`` URL in an author URI, an enclosure or any other
link field never reaches an output file (issue "Hostile input…", SSRF and active content):
the entry and its author stay, without the link."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import check_all_outputs, make_site, post_text, run_cli

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>源</title><id>urn:x</id>
<updated>2022-06-09T10:00:00+08:00</updated>
{entries}</feed>"""
ENTRY = """<entry><title>条目{n}</title><id>urn:x:{n}</id><link href="https://src.example/{n}"/>
<updated>2022-06-09T10:00:00+08:00</updated>
<author><name>作者{n}</name><uri>{uri}</uri></author>
<link rel="enclosure" href="{uri}" type="audio/mpeg" length="10"/>
<summary>摘要</summary></entry>"""
ACTIVE = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(2)",
    "data:text/html,<b>x</b>",
    "vbscript:msgbox(3)",
]


def test_active_urls_never_reach_the_output(tmp_path: Path) -> None:
    entries = "".join(ENTRY.format(n=i, uri=u) for i, u in enumerate(ACTIVE, 1))
    (tmp_path / "src.xml").write_text(ATOM.format(entries=entries), encoding="utf-8")
    site = make_site(
        tmp_path,
        "state: {dir: state}\nfeeds: {formats: [rss, atom, json]}\n"
        "sources:\n  - {id: src, path: src.xml, categories: [ext]}\n",
    )
    site.post(
        "2022-06-01-a.md",
        post_text(
            "本站",
            "2022-06-01 10:00:00 +0800",
            extra='author: {name: 记者, uri: "javascript:alert(5)"}',
        ),
    )
    proc = run_cli("build", "--config", site.config)
    assert proc.returncode in (0, 1), proc.stderr
    outputs = site.outputs()
    assert "ext.atom.xml" in outputs and "news.json" in outputs
    for name, data in outputs.items():
        low = data.lower()
        for scheme in (b"javascript:", b"vbscript:", b"data:text"):
            assert scheme not in low, (name, scheme)
    assert "作者1".encode() in outputs["ext.atom.xml"]  # the author stays, without the link
    assert "记者".encode() in outputs["news.atom.xml"]
    check_all_outputs(site.out)
