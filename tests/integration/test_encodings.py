"""Sources in every encoding, served over HTTP on 127.0.0.1, reach the feeds as the text they
are: no mojibake, no Big5 turned into plausible Simplified Chinese, no whole document re-read
because of a few stray bytes (issue "Every real post and feed read right", Encodings)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from feeds.config import config
from feeds.errors import ConfigError
from feeds.run import once
from tests import server as srv
from tests.helpers import check_all_outputs, make_site, parse_feed
from tests.server import LocalServer

T0 = dt.datetime(2022, 6, 12, 12, 0, tzinfo=dt.UTC)
HANT = ["臺灣資本市場持續發展", "監管機關將繼續深化改革", "提升上市公司品質與國際競爭力"]
HANS = ["资本市场服务实体经济", "监管部门继续深化改革", "提升上市公司质量"]
JA = ["東京証券取引所の発表", "新しい市場区分の運用", "投資家の関心が高まる"]


def feed(titles: list[str], declared: str | None) -> str:
    decl = f' encoding="{declared}"' if declared else ""
    items = "".join(
        f"<item><title>{t}</title><link>https://src.example/{i}</link>"
        f"<description>{t}。{t}。</description>"
        f"<pubDate>Fri, 10 Jun 2022 0{i}:00:00 GMT</pubDate></item>"
        for i, t in enumerate(titles, 1)
    )
    return (
        f'<?xml version="1.0"{decl}?><rss version="2.0"><channel><title>源</title>'
        f"<link>https://src.example/</link><description>d</description>{items}</channel></rss>"
    )


def build(tmp: Path, server: LocalServer, body: bytes, ctype: str, extra: str = "") -> list[str]:
    server.routes["/f"] = srv.static(body, ctype)
    site = make_site(
        tmp,
        "fetch: {allow_networks: [127.0.0.0/8], deadline: 3s}\nstate: {dir: state}\n"
        f"sources:\n  - id: f\n    url: {server.url('/f')}\n    categories: [f]\n{extra}",
    )
    cfg = config.load(site.config)
    report = once.fetch_and_build(cfg, T0)
    assert [o.status for o in report.sources] == ["ok"], report.problems.items
    check_all_outputs(cfg.output_dir)
    titles = [e.title for e in parse_feed(cfg.output_dir / "f.rss.xml").entries]
    return sorted(titles)


CASES = [
    ("big5 undeclared", feed(HANT, None).encode("big5"), "application/rss+xml", HANT),
    ("big5 labelled utf-8", feed(HANT, "utf-8").encode("big5"), "text/xml", HANT),
    ("big5 labelled gb2312", feed(HANT, "gb2312").encode("big5"), "text/xml", HANT),
    ("big5 in the header", feed(HANT, None).encode("big5"), "text/xml; charset=big5", HANT),
    ("gbk undeclared", feed(HANS, None).encode("gbk"), "application/rss+xml", HANS),
    ("shift_jis labelled utf-8", feed(JA, "utf-8").encode("shift_jis"), "text/xml", JA),
    ("euc-jp undeclared", feed(JA, None).encode("euc_jp"), "text/xml", JA),
    ("utf-16 declared, ASCII bytes", feed(HANS, "utf-16").encode(), "text/xml", HANS),
    ("utf-16 without BOM", feed(HANS, "utf-16").encode("utf-16-le"), "text/xml", HANS),
    ("utf-32 with BOM", feed(HANS, "utf-32").encode("utf-32"), "text/xml", HANS),
]


@pytest.mark.parametrize(("case", "body", "ctype", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_encoding_reads_right(
    tmp_path: Path,
    http_server: LocalServer,
    case: str,
    body: bytes,
    ctype: str,
    expected: list[str],
) -> None:
    assert build(tmp_path, http_server, body, ctype) == sorted(expected), case


def test_stray_bytes_leave_every_other_title_intact(
    tmp_path: Path, http_server: LocalServer
) -> None:
    body = feed(HANS, "utf-8").encode().replace("质量".encode(), "质量".encode("gbk"))
    titles = build(tmp_path, http_server, body, "application/rss+xml; charset=utf-8")
    assert set(HANS[:2]) <= set(titles)  # untouched: not re-read as GB18030
    (damaged,) = set(titles) - set(HANS[:2])
    assert damaged.startswith("提升上市公司") and "\ufffd" in damaged


def test_a_source_encoding_override_wins(tmp_path: Path, http_server: LocalServer) -> None:
    """For a hopeless source (it claims GBK, and the bytes are Big5) the config decides."""
    body = feed(HANT, "gbk").encode("big5")
    extra = "    encoding: big5\n"
    assert build(tmp_path, http_server, body, "text/xml; charset=gbk", extra) == sorted(HANT)


def test_an_unknown_override_is_a_config_error(tmp_path: Path) -> None:
    site = make_site(tmp_path, "sources:\n  - id: f\n    path: f.xml\n    encoding: klingon\n")
    with pytest.raises(ConfigError, match=r"sources\.0\.encoding: unknown encoding"):
        config.load(site.config)
