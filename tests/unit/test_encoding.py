"""Every encoding a source sends, or claims, is read as the text it is (a table test)."""

from __future__ import annotations

import pytest

from feeds.collect.encoding import decode

ZH_HANS = "资本市场服务实体经济能力持续增强，监管部门将继续深化注册制改革。"
ZH_HANT = "臺灣資本市場持續發展，監管機關將繼續深化改革，提升上市公司品質。"
JA = "東京証券取引所は本日、新しい市場区分の運用状況について発表しました。"
KO = "한국은행은 오늘 기준금리를 동결했다고 발표했습니다."


def rss(text: str, declared: str | None = None) -> str:
    decl = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    item = f"<item><title>{text[:12]}</title><description>{text}</description></item>"
    return f'{decl}<rss version="2.0"><channel><title>{text[:6]}</title>{item * 3}</channel></rss>'


CASES = [
    # (case, bytes, content type, text expected, warning expected)
    ("utf-8 declared", rss(ZH_HANS, "utf-8").encode(), "", rss(ZH_HANS, "utf-8"), False),
    ("utf-8 undeclared", rss(ZH_HANS).encode(), "", rss(ZH_HANS), False),
    ("gbk declared", rss(ZH_HANS, "gbk").encode("gbk"), "", rss(ZH_HANS, "gbk"), False),
    ("gbk in the header", rss(ZH_HANS).encode("gbk"), "text/xml; charset=GBK", rss(ZH_HANS), False),
    ("gbk labelled utf-8", rss(ZH_HANS, "utf-8").encode("gbk"), "", rss(ZH_HANS, "utf-8"), True),
    ("gbk undeclared", rss(ZH_HANS).encode("gb18030"), "", rss(ZH_HANS), True),
    ("big5 declared", rss(ZH_HANT, "big5").encode("big5"), "", rss(ZH_HANT, "big5"), False),
    ("big5 undeclared", rss(ZH_HANT).encode("big5"), "", rss(ZH_HANT), True),
    ("big5 labelled utf-8", rss(ZH_HANT, "UTF-8").encode("big5"), "", rss(ZH_HANT, "UTF-8"), True),
    (
        "big5 labelled gb2312",
        rss(ZH_HANT, "gb2312").encode("big5"),
        "",
        rss(ZH_HANT, "gb2312"),
        True,
    ),
    ("shift_jis undeclared", rss(JA).encode("shift_jis"), "", rss(JA), True),
    ("euc-jp labelled utf-8", rss(JA, "utf-8").encode("euc_jp"), "", rss(JA, "utf-8"), True),
    ("euc-kr undeclared", rss(KO).encode("euc_kr"), "", rss(KO), True),
    ("utf-16 with BOM", rss(ZH_HANS, "utf-16").encode("utf-16"), "", rss(ZH_HANS, "utf-16"), False),
    (
        "utf-16le no BOM",
        rss(ZH_HANS, "utf-16").encode("utf-16-le"),
        "",
        rss(ZH_HANS, "utf-16"),
        False,
    ),
    (
        "utf-16be no BOM",
        rss(ZH_HANS, "utf-16").encode("utf-16-be"),
        "",
        rss(ZH_HANS, "utf-16"),
        False,
    ),
    (
        "utf-32le no BOM",
        rss(ZH_HANS, "utf-32").encode("utf-32-le"),
        "",
        rss(ZH_HANS, "utf-32"),
        False,
    ),
    ("utf-32 with BOM", rss(ZH_HANS, "utf-32").encode("utf-32"), "", rss(ZH_HANS, "utf-32"), False),
    ("utf-8 with BOM", b"\xef\xbb\xbf" + rss(ZH_HANS).encode(), "", rss(ZH_HANS), False),
    (
        "utf-16 declared, ASCII bytes",
        rss(ZH_HANS, "utf-16").encode(),
        "",
        rss(ZH_HANS, "utf-16"),
        True,
    ),
    (
        "EBCDIC cp037",
        rss("Markets up", "IBM037").encode("cp037"),
        "",
        rss("Markets up", "IBM037"),
        False,
    ),
    (
        "EBCDIC cp500",
        rss("Markets up", "cp500").encode("cp500"),
        "",
        rss("Markets up", "cp500"),
        False,
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "ctype", "text", "warns"), CASES, ids=[c[0] for c in CASES]
)
def test_table(case: str, body: bytes, ctype: str, text: str, warns: bool) -> None:
    got = decode(body, content_type=ctype)
    assert got.text == text, case
    assert (got.warning is not None) == warns, got.warning


def test_a_few_stray_bytes_leave_the_rest_of_utf8_intact() -> None:
    """A UTF-8 feed with one stray legacy byte pair keeps every valid character."""
    good = rss(ZH_HANS, "utf-8").encode()
    broken = good.replace("监管".encode(), "监管".encode("gbk"), 1)
    got = decode(broken)
    assert got.encoding == "utf-8"
    assert got.text.count("\ufffd") >= 1
    assert got.text.replace("\ufffd", "") == rss(ZH_HANS, "utf-8").replace("监管", "", 1)
    assert got.warning and "not UTF-8" in got.warning


def test_override_wins_over_everything() -> None:
    body = rss(ZH_HANT, "utf-8").encode("big5")
    got = decode(body, content_type="text/xml; charset=gbk", override="big5")
    assert got.text == rss(ZH_HANT, "utf-8") and got.warning is None


def test_xml_says_utf8_for_the_parser() -> None:
    got = decode(rss(ZH_HANT, "big5").encode("big5"))
    assert got.xml == rss(ZH_HANT, "utf-8").encode()
    assert decode(rss("x", "utf-16").encode("utf-16")).xml.startswith(
        b'<?xml version="1.0" encoding="utf-8"?>'
    )


def test_unknown_label_is_a_warning_not_a_failure() -> None:
    got = decode(rss(ZH_HANS, "x-no-such").encode())
    assert got.text == rss(ZH_HANS, "x-no-such")
    assert got.warning and "unknown encoding" in got.warning
