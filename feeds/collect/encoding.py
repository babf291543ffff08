"""A fetched document's bytes → text, whatever encoding it is in or claims to be in.

The order of evidence: a source's ``encoding:`` override; a byte-order mark; the byte pattern
of ``<?xml`` (UTF-16/UTF-32 without a BOM, EBCDIC); the HTTP ``charset`` and the XML
declaration, when the bytes agree with them; and last charset-normalizer's detection among
the legacy encodings Chinese, Japanese and Korean sites use. Three rules come from feeds that
were read wrong:

- A UTF-8 document with a few stray bytes stays UTF-8: only the bad sequences are replaced
  (with a warning), never the whole document re-read in another encoding.
- An undeclared or mislabelled legacy document is detected, not assumed to be GB18030: Big5
  read as GB18030 is plausible-looking wrong Simplified text; so is Shift_JIS.
- A declaration that cannot be true (UTF-16 on bytes that are plainly ASCII-compatible, as a
  real 877-item feed has) is ignored with a warning, not obeyed into mojibake.

Pure: no I/O. ``Decoded.xml`` gives the document back as UTF-8 with its declaration saying so,
for feedparser.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_DECL = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])([^"']*)(["'])""", re.I)
_DECL_BYTES = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""", re.I)
_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.I)

# What a document that starts with "<?xml" (or "<") looks like in each family (XML 1.0,
# appendix F), checked when there is no byte-order mark.
_FAMILIES = (
    (b"\x00\x00\x00\x3c", "utf-32-be"),
    (b"\x3c\x00\x00\x00", "utf-32-le"),
    (b"\x00\x3c\x00\x3f", "utf-16-be"),
    (b"\x3c\x00\x3f\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", "cp037"),  # EBCDIC; the declaration names the code page
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Legacy encodings a detector chooses among (the common ones of the sites we read).
LEGACY = ("gb18030", "big5", "shift_jis", "euc_jp", "euc_kr", "cp1252")
_CJK = {"gb2312", "gbk", "gb18030", "big5", "big5hkscs", "cp950", "cp936"}
_WIDE = ("utf-16", "utf-32")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # the codec the text was read with (Python's name)
    warning: str | None = None

    @property
    def xml(self) -> bytes:
        """The document as UTF-8, its XML declaration (if any) saying so."""
        return _DECL.sub(r"\1utf-8\3", self.text, count=1).encode("utf-8")


def codec_name(label: str) -> str | None:
    """Python's name for an encoding label (``GBK`` → ``gbk``), None if unknown."""
    try:
        return codecs.lookup(label.strip()).name
    except (LookupError, ValueError):
        return None


def decode(body: bytes, *, content_type: str = "", override: str | None = None) -> Decoded:
    """Read ``body`` as text. ``content_type`` is the HTTP header (its ``charset`` is a
    claim); ``override`` a source's own ``encoding:`` (a known codec name)."""
    if override:
        return _read(body, override, "the source's encoding setting")
    for bom, name in _BOMS:
        if body.startswith(bom):
            return _read(body, name, "its byte-order mark")
    family = next((name for mark, name in _FAMILIES if body.startswith(mark)), None)
    if family == "cp037":
        return _ebcdic(body)
    if family is not None:
        return _read(body, family, "its first bytes")
    return _ascii_compatible(body, content_type)


def _ascii_compatible(body: bytes, content_type: str) -> Decoded:
    header = _CHARSET.search(content_type)
    declared = _DECL_BYTES.match(body[:1024])
    claims = [
        (label, where)
        for label, where in (
            (header.group(1) if header else None, "the HTTP charset"),
            (declared.group(1).decode("ascii", "replace") if declared else None, "its declaration"),
        )
        if label
    ]
    notes: list[str] = []
    for label, where in claims:
        name = codec_name(label)
        if name is None:
            notes.append(f"{where} names an unknown encoding {label!r}")
        elif name.startswith(_WIDE):
            notes.append(f"{where} says {label} but the bytes are ASCII-compatible")
        elif name != "utf-8":
            found = _legacy(body, name, where)
            if found is not None:
                return _noted(found, notes)
    try:
        return _noted(Decoded(body.decode("utf-8"), "utf-8"), notes)
    except UnicodeDecodeError:
        pass
    return _noted(_not_utf8(body), notes)


def _legacy(body: bytes, name: str, where: str) -> Decoded | None:
    """The claimed legacy encoding, if the bytes agree with it (for Chinese labels: if they
    do not read better as the other script's encoding)."""
    try:
        text = body.decode(name)
    except UnicodeDecodeError:
        return None
    if name in _CJK:
        best = _detect(body, ("gb18030", "big5"))
        if best is not None and (best == "big5") != name.startswith(("big5", "cp950")):
            return Decoded(
                body.decode(best, "replace"),
                best,
                f"{where} says {name} but the text reads as {best}; read it as {best}",
            )
    return Decoded(text, name)


def _not_utf8(body: bytes) -> Decoded:
    """Bytes that claim UTF-8 (or nothing) and are not: mostly UTF-8 with a few bad bytes
    (keep it, replace those), or another encoding altogether (detect it)."""
    good, bad = _utf8_runs(body)
    if good >= 4 * bad:
        text = body.decode("utf-8", "replace")
        return Decoded(text, "utf-8", f"{bad} bytes are not UTF-8; replaced them with U+FFFD")
    best = _detect(body, LEGACY) or "gb18030"
    return Decoded(
        body.decode(best, "replace"), best, f"the body is not UTF-8; detected {best} and read it so"
    )


def _utf8_runs(body: bytes) -> tuple[int, int]:
    """(valid multi-byte UTF-8 characters, invalid bytes) in ``body``."""
    good = bad = 0
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    view = body
    while view:
        try:
            text = decoder.decode(view, final=True)
            good += sum(1 for ch in text if ord(ch) > 0x7F)
            break
        except UnicodeDecodeError as e:
            good += sum(1 for ch in view[: e.start].decode("utf-8") if ord(ch) > 0x7F)
            bad += e.end - e.start
            view = view[e.end :]
            decoder.reset()
    return good, bad


def _detect(body: bytes, among: tuple[str, ...]) -> str | None:
    import charset_normalizer  # only documents that are not UTF-8 pay for the import

    match = charset_normalizer.from_bytes(body[:200_000], cp_isolation=list(among)).best()
    return None if match is None else codec_name(match.encoding)


def _ebcdic(body: bytes) -> Decoded:
    head = body[:256].decode("cp037", "replace")
    declared = _DECL.match(head)
    name = codec_name(declared.group(2)) if declared else None
    if name is None or not name.startswith("cp"):
        name = "cp037"
    return _read(body, name, "its EBCDIC declaration")


def _read(body: bytes, name: str, why: str) -> Decoded:
    text = body.decode(name, "replace")
    if name.endswith("-sig") or name in ("utf-16", "utf-32"):
        text = text.lstrip("\ufeff")
    bad = text.count("\ufffd") - body.decode(name, "ignore").count("\ufffd")
    warning = f"{bad} bytes are not {name} (from {why}); replaced them with U+FFFD" if bad else None
    return Decoded(text, codec_name(name) or name, warning)


def _noted(decoded: Decoded, notes: list[str]) -> Decoded:
    if not notes:
        return decoded
    parts = [*notes, *([decoded.warning] if decoded.warning else [])]
    return Decoded(decoded.text, decoded.encoding, "; ".join(parts))
