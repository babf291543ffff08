"""Small pure text helpers: slugs, XML-safe text, plain-text excerpts."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

from feeds.errors import shown as shown  # with the errors, whose messages use it

# Characters XML 1.0 forbids (C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Jekyll's "default" slugify mode: runs of anything but letters and digits become one '-'.
_NON_ALNUM = re.compile(r"[\W_]+")
_TAG = re.compile(r"<[^>]*>")
_BLOCK_END = re.compile(r"</(?:p|div|li|h[1-6]|blockquote|pre|tr|table)>|<br\s*/?>", re.I)
_DROPPED = re.compile(r"<(script|style|template)\b.*?</\1\s*>", re.I | re.S)
# Jekyll's normalize_whitespace (Ruby's \s and strip): runs of ASCII white space become one
# space; a no-break space (U+00A0) or an ideographic space (U+3000) is the writer's and stays
ASCII_SPACE = " \t\r\n\f\v"
_SPACE = re.compile(f"[{ASCII_SPACE}]+")


def fold_space(text: str) -> str:
    """``text`` with each run of ASCII white space one space, and none at either end; other
    spaces (no-break, ideographic) are kept, as Jekyll and jekyll-feed keep them."""
    return _SPACE.sub(" ", text).strip(ASCII_SPACE)


def slugify(name: str) -> str:
    """Jekyll's default slug: lower-case, non-alphanumerics → '-', Unicode letters kept.

    ``"中国发展网 新闻"`` → ``"中国发展网-新闻"``; ``"R&D News"`` → ``"r-d-news"``.
    """
    text = unicodedata.normalize("NFC", name)
    return _NON_ALNUM.sub("-", text).strip("-").lower()


_SYMBOLS = re.compile(r"[+#]")
_SYMBOL_WORDS = {"+": "plus", "#": "sharp"}
MAX_SLUG_BYTES = 120  # a feed's file name is the slug plus a suffix: well under NAME_MAX


def feed_slug(name: str) -> str:
    """The slug of a category's or tag's feed files: ``slugify``, except that ``+`` and ``#``
    are words (``C``, ``C++`` and ``C#`` → ``c``, ``c-plus-plus``, ``c-sharp``: three feeds),
    a name with no letter or digit gets a stable ``x-<hash>`` (never an empty or dot file
    name), and an over-long one is cut with a hash of the whole name (the same every build).
    """
    slug = slugify(_SYMBOLS.sub(lambda m: f"-{_SYMBOL_WORDS[m.group()]}-", name))
    digest = hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
    if not slug:
        return f"x-{digest}"
    if len(slug.encode()) > MAX_SLUG_BYTES:
        cut = slug.encode()[: MAX_SLUG_BYTES - 9].decode("utf-8", "ignore").rstrip("-")
        return f"{cut}-{digest}"
    return slug


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry."""
    return _XML_INVALID.sub("", text)


def has_xml_invalid(text: str) -> bool:
    return _XML_INVALID.search(text) is not None


def plain_text(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace folded (block ends become a space)."""
    text = _DROPPED.sub("", fragment)
    text = _BLOCK_END.sub(" ", text)
    text = _TAG.sub("", text)
    return fold_space(html.unescape(text))


def excerpt(text: str, length: int) -> str:
    """The first ``length`` characters of ``text`` (a CJK character counts one), with '…'
    when cut. Cuts after a sentence end in the last fifth when there is one."""
    text = fold_space(text)
    if length <= 0:
        return ""
    if len(text) <= length:
        return text
    cut = text[:length]
    floor = length - length // 5
    best = max(cut.rfind(p) for p in "。！？；.!?;")
    if best >= floor:
        return cut[: best + 1]
    if cut[-1].isascii() and cut[-1].isalnum() and text[length].isascii():
        # do not split a Latin word or a number in two
        space = cut.rfind(" ")
        if space >= floor:
            cut = cut[:space]
    return cut.rstrip(" ，、,:：") + "…"
