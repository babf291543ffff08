"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1): the same entries and dates (RFC 3339,
site timezone) as RSS and Atom, in the parts ``generate.render`` joins: the document around
the items, and each item as ``json.dumps`` indents it inside the document (a JSON string never
holds a raw newline, so an item's lines can be indented apart from the rest)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

from feeds import content
from feeds.config.config import Config
from feeds.models import Author, Entry

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
_ITEMS_MARK = "\n    0\n  ]"  # where a one-item list of 0 sits in the document (indent 2)


def head_and_tail(
    cfg: Config, *, title: str, home: str, feed_url: str, description: str, language: str
) -> tuple[bytes, bytes]:
    """The document before its first item and after its last (items go between, each from
    ``units``, a comma between two)."""
    author = cfg.site.author or Author(name=cfg.site.title)
    doc: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": title,
        "home_page_url": home,
        "feed_url": feed_url,
        "description": description,
        "language": language,
        "authors": [_person(author)],
    }
    if cfg.feeds.websub_hub:
        doc["hubs"] = [{"type": "WebSub", "url": cfg.feeds.websub_hub}]
    doc["items"] = [0]
    whole = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    cut = whole.index(_ITEMS_MARK)
    return whole[:cut].encode(), whole[cut + len("\n    0") :].encode()


def units(entries: Sequence[Entry]) -> list[bytes]:
    """Each entry as an item where it sits in the document: its line break and indent first."""
    out = []
    for e in entries:
        text = json.dumps(_item(e), ensure_ascii=False, indent=2)
        out.append(("\n    " + text.replace("\n", "\n    ")).encode())
    return out


def _item(e: Entry) -> dict[str, object]:
    item: dict[str, object] = {"id": e.id, "url": e.link}
    if e.source_link:
        item["external_url"] = e.source_link
    item["title"] = e.title
    item["content_html"] = e.content_html or html.escape(e.summary or e.title)
    if e.summary:
        item["summary"] = e.summary
    pic = content.picture(e)
    if pic is not None:
        item["image"] = pic.url
    item["date_published"] = e.published.isoformat()
    item["date_modified"] = e.updated.isoformat()
    if e.authors:
        item["authors"] = [_person(a) for a in e.authors]
    tags = list(dict.fromkeys((*e.categories, *e.tags)))
    if tags:
        item["tags"] = tags
    if e.enclosures:
        item["attachments"] = [
            {
                "url": x.url,
                "mime_type": x.type,
                **({"size_in_bytes": x.length} if x.length > 0 else {}),
            }
            for x in e.enclosures
        ]
    return item


def _person(a: Author) -> dict[str, str]:
    out = {"name": a.name}
    if a.uri:
        out["url"] = a.uri
    return out
