"""Entity declarations in every encoding: a feed that declares XML entities is refused
whatever encoding carries it (UTF-32, EBCDIC, UTF-16 without a BOM), before feedparser's
loose parser can expand them; a feed that only mentions ``<!ENTITY`` in CDATA is kept."""

from __future__ import annotations

import pytest

from feeds.collect.http import FetchResult
from feeds.collect.remote import ParseError, parse

# 10 ** 5 copies of "aaaaaaaaaa" once expanded: a million characters of title from 400 bytes
LAUGHS = (
    '<?xml version="1.0" encoding="{enc}"?>\n'
    '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">\n'
    '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>\n'
    '<rss version="2.0"><channel><title>&f;</title><link>https://x.example/</link>'
    "<item><title>&f;</title><link>https://x.example/1</link></item></channel></rss>"
)
# one 5,000-character entity used 1,600 times: a 10 KB cp037 feed gave an 8-million-character
# title before (feedparser's loose parser expands entities it calls safe)
QUADRATIC = (
    '<?xml version="1.0" encoding="{enc}"?><!DOCTYPE rss [<!ENTITY x "'
    + "x" * 5000
    + '">]><rss version="2.0"><channel><title>t</title><item><title>'
    + "&x;" * 1600
    + "</title><link>https://x.example/1</link></item></channel></rss>"
)
XXE_ARTICLE = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>安全</title>'
    "<link>https://sec.example/</link><item><title>XXE 漏洞解读</title>"
    "<link>https://sec.example/1</link><description><![CDATA[<p>攻击者写 "
    '<!ENTITY x SYSTEM "file:///etc/passwd"> 来读文件。</p>]]></description>'
    "</item></channel></rss>"
)


@pytest.mark.parametrize("doc", [LAUGHS, QUADRATIC], ids=["laughs", "quadratic"])
@pytest.mark.parametrize(
    ("enc", "content_type"),
    [
        ("utf-32", "application/xml"),  # with a BOM
        ("utf-32-le", "application/xml"),
        ("utf-32-be", "application/xml"),
        ("cp037", "application/xml"),  # EBCDIC, detected from its first bytes
        ("utf-16-le", "application/xml"),  # no BOM
        ("cp037", "application/xml; charset=cp037"),
    ],
)
def test_entity_declarations_refused_in_any_encoding(doc: str, enc: str, content_type: str) -> None:
    """An entity-declaring feed is refused in whatever encoding it arrives, naming the URL."""
    body = doc.replace("{enc}", enc).encode(enc)
    result = FetchResult(
        url="http://127.0.0.1/laughs.xml",
        status=200,
        body=body,
        headers={"content-type": content_type},
    )
    with pytest.raises(ParseError, match=r"declares XML entities") as err:
        parse(result)
    assert err.value.url == "http://127.0.0.1/laughs.xml"


def test_entity_mentioned_in_cdata_is_kept() -> None:
    """A feed whose article only mentions ``<!ENTITY`` inside CDATA is parsed and kept."""
    feed = parse(FetchResult(url="http://127.0.0.1/sec.xml", status=200, body=XXE_ARTICLE.encode()))
    assert [i.title for i in feed.items] == ["XXE 漏洞解读"]
    assert "<!ENTITY x SYSTEM" in (feed.items[0].summary_html or "")
