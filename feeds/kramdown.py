"""The kramdown syntax news posts use, around cmark-gfm. Pure functions.

Jekyll renders posts with kramdown; we render CommonMark with cmark-gfm. ``prepare`` takes
kramdown's own constructs out of the Markdown before cmark sees it, leaving HTML comments
as markers; ``finish`` puts the results back into cmark's HTML:

- attribute lists (``{:target="_blank"}``, ``{: .class #id}``, ``{#id}`` on a heading,
  block IALs on their own line) are applied to the element they follow (a block IAL before a
  block: to that block), but only the attributes the sanitizer keeps (``title``, ``lang``,
  an image's ``width``…); the rest are dropped, and so is an IAL with nothing to attach to;
- footnotes are cmark-gfm's (``CMARK_OPT_FOOTNOTES``), renamed to kramdown's anchors
  (``#fn:1``, ``#fnref:1``) so a link into the post's page lands on Jekyll's footnote;
- ``{::nomarkdown}…{:/}`` passes through as HTML; ``{::comment}…{:/}`` and other
  extensions (``{::options … /}``) are removed; definition lists (``term`` then
  ``: definition``) become ``<dl>``; the ``* TOC`` / ``{:toc}`` marker is removed, and so are
  attribute list definitions (``{:name: .class}``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import nh3

_MARK = "feeds-kd"
_MARKER = re.compile(rf"<!--{_MARK}-(ial|html)-(\d+)-->")
_MARKER_LINE = re.compile(rf"<!--{_MARK}-(ial|html)-(\d+)-->(\n?)")
_INLINE_MARKER = re.compile("\ue000(\\d+)\ue001")
_ESCAPED_MARKER = re.compile(rf"&lt;!--{_MARK}-(ial|html)-(\d+)--&gt;")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_EXT_OPEN = re.compile(r"\{::(\w+)((?:\s[^}]*)?)\}")
_EXT_CLOSE = re.compile(r"\{:/(\w*)\}")
_MAX_APPLIED = 200  # attribute lists looked up in the HTML; the others are only removed
_TOC_LINE = re.compile(r"^\s*\{:\s*toc\s*\}\s*$")
_TOC_ITEM = re.compile(r"^\s*(?:[*+-]|1\.)\s+(?:TOC|目录)\s*$")
_ABBR_LINE = re.compile(r"^ {0,3}\*\[([^\]]+)\]:(.*)$")
_TAG = re.compile(r"(<[^>]*>)")
_ALD_LINE = re.compile(r"^\s*\{:[\w-]+:[^}]*\}\s*$")
_BLOCK_IAL = re.compile(r"^\s*\{:\s*([^}]*)\}\s*$")
_SPAN_IAL = re.compile(r"\{:\s*([^}:][^}]*|)\}")
_LEADING_IAL = re.compile(r"^(\s*)(?:\{:\s*(?:[^}:][^}]*|)\}\s*)+")
_HEADING_ID = re.compile(r"^(#{1,6}\s.*?)\s*\{(#[\w-]+)\}\s*$")
_CODE_SPAN = re.compile(r"(`+).+?\1")
_IAL_PART = re.compile(r"""([\w-]+)=("[^"]*"|'[^']*'|\S+)|([.#])([\w-]+)""")
_DEF_START = re.compile(r"^ {0,3}:[ \t]", re.M)
_DEF_LINE = re.compile(r"^ {0,3}:[ \t]+(.*)$")
_NOT_TERM = re.compile(r"^\s*(?:[#>|*+-]\s|\d+[.)]\s|<|\[\^)")
_KEPT_EVERYWHERE = frozenset({"title", "lang"})
_KEPT_ANYWHERE = _KEPT_EVERYWHERE.union(*nh3.ALLOWED_ATTRIBUTES.values())
_FOOTNOTE_ID = re.compile(r'(id|href)="(#?)fn(ref)?-([^"]*)"')
_VOID = re.compile(r"<(img|br|hr|input)\b[^>]*>$")
_CLOSE = re.compile(r"</([a-zA-Z][\w-]*)\s*>$")
_NEXT_CLOSE = re.compile(r"\s*</([a-zA-Z][\w-]*)\s*>")
_NEXT_OPEN = re.compile(r"\s*<([a-zA-Z][\w-]*)\b[^>]*>")

Render = Callable[[str], str]


@dataclass(frozen=True)
class Ial:
    """An attribute list: how it attaches and what it sets."""

    mode: str  # "span": the element just before; "after"/"before": the block; "parent"
    attrs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Prepared:
    text: str  # Markdown for cmark, with markers
    html: tuple[str, ...]  # HTML to put back at each ``html`` marker
    ials: tuple[Ial, ...]
    originals: tuple[str, ...]  # the source text of each marker (``html`` first, then ``ial``)
    abbreviations: tuple[tuple[str, str], ...] = ()  # ``*[HTML]: Hyper Text…`` definitions


def needed(text: str) -> bool:
    """Whether ``text`` may hold kramdown syntax (the fast path skips both steps)."""
    return (
        "{:" in text
        or "{#" in text
        or "[^" in text
        or "*[" in text
        or bool(_DEF_START.search(text))
    )


@dataclass
class _Builder:
    render: Render
    html: list[str]
    ials: list[Ial]
    html_src: list[str]
    ial_src: list[str]
    abbreviations: dict[str, str] = field(default_factory=dict)

    def stash_html(self, fragment: str, source: str) -> str:
        self.html.append(fragment)
        self.html_src.append(source)
        return f"<!--{_MARK}-html-{len(self.html) - 1}-->"

    def stash_inline(self, fragment: str, source: str) -> str:
        """A marker for HTML within a line: not an HTML comment, which at the start of a line
        would make cmark take the whole line as raw HTML."""
        self.html.append(fragment)
        self.html_src.append(source)
        return f"\ue000{len(self.html) - 1}\ue001"

    def stash_ial(self, mode: str, body: str, source: str) -> str:
        self.ials.append(Ial(mode, _parse_ial(body)))
        self.ial_src.append(source)
        return f"<!--{_MARK}-ial-{len(self.ials) - 1}-->"


def prepare(text: str, render: Render) -> Prepared:
    """Take kramdown's constructs out of ``text``; ``render`` is the Markdown renderer used
    for the pieces of a definition list."""
    b = _Builder(render, [], [], [], [])
    out: list[str] = []
    for is_code, lines in _segments(text.split("\n")):
        if is_code:
            out.extend(lines)
        else:
            joined = _extensions("\n".join(lines), b)
            out.extend(_definition_lists(_lines(joined.split("\n"), b), b))
    originals = tuple(b.html_src) + tuple(b.ial_src)
    abbreviations = tuple(sorted(b.abbreviations.items(), key=lambda kv: -len(kv[0])))
    return Prepared("\n".join(out), tuple(b.html), tuple(b.ials), originals, abbreviations)


def _segments(lines: list[str]) -> list[tuple[bool, list[str]]]:
    """The lines split into fenced code blocks (True) and the rest (False)."""
    parts: list[tuple[bool, list[str]]] = [(False, [])]
    fence: str | None = None
    for line in lines:
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            parts.append((True, [line]))
        elif fence is not None:
            parts[-1][1].append(line)
            if m and m.group(1).startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
                parts.append((False, []))
        else:
            parts[-1][1].append(line)
    return [p for p in parts if p[1]]


def _extensions(text: str, b: _Builder) -> str:
    """``{::name}…{:/name}`` (or ``{:/}``) and ``{::name … /}``: nomarkdown kept as HTML,
    the rest removed, and so is an opener or closer without its other half."""
    if "{::" not in text and "{:/" not in text:
        return text
    closers = [(m.start(), m.end(), m.group(1)) for m in _EXT_CLOSE.finditer(text)]
    out: list[str] = []
    pos = ci = 0
    for m in _EXT_OPEN.finditer(text):
        if m.start() < pos:
            continue
        out.append(_EXT_CLOSE.sub("", text[pos : m.start()]))
        pos = m.end()
        while ci < len(closers) and closers[ci][0] < m.end():
            ci += 1
        cj = ci
        while cj < len(closers) and closers[cj][2] not in ("", m.group(1)):
            cj += 1
        if m.group(2).rstrip().endswith("/") or cj == len(closers):
            continue  # self-closing (``{::options … /}``) or never closed: removed
        inner = text[m.end() : closers[cj][0]]
        source = text[m.start() : closers[cj][1]]
        fragment = inner.strip("\n") if m.group(1) == "nomarkdown" else ""  # others: removed
        if "\n" in inner:
            out.append(f"\n{b.stash_html(fragment, source)}\n")
        elif fragment:
            out.append(b.stash_inline(fragment, source))
        pos, ci = closers[cj][1], cj + 1
    out.append(_EXT_CLOSE.sub("", text[pos:]))
    return "".join(out)


def _lines(lines: list[str], b: _Builder) -> list[str]:
    """Line-level constructs: TOC markers, ALDs, block and span IALs, heading ids."""
    out: list[str] = []
    for i, line in enumerate(lines):
        if _TOC_LINE.match(line):
            if out and _TOC_ITEM.match(out[-1]):
                out.pop()
        elif _ALD_LINE.match(line):
            continue
        elif m := _ABBR_LINE.match(line):
            b.abbreviations[m.group(1).strip()] = m.group(2).strip()
        elif m := _BLOCK_IAL.match(line):
            before = bool(out and out[-1].strip())
            after = i + 1 < len(lines) and bool(lines[i + 1].strip())
            if before or after:
                out.append(b.stash_ial("after" if before else "before", m.group(1), line))
        elif m := _HEADING_ID.match(line):
            out.append(m.group(1) + b.stash_ial("parent", m.group(2), line))
        else:
            out.append(_span_ials(line, b))
    return out


def _span_ials(line: str, b: _Builder) -> str:
    if "{:" not in line:
        return line
    if m := _LEADING_IAL.match(line):  # nothing before it to attach to; a marker there
        line = m.group(1) + line[m.end() :]  # would start an HTML block
    pieces: list[str] = []
    last = 0
    for code in [*_CODE_SPAN.finditer(line), None]:
        end = code.start() if code else len(line)
        pieces.append(
            _SPAN_IAL.sub(lambda m: b.stash_ial("span", m.group(1), m.group(0)), line[last:end])
        )
        if code:
            pieces.append(code.group(0))
            last = code.end()
    return "".join(pieces)


def _parse_ial(body: str) -> tuple[tuple[str, str], ...]:
    attrs: list[tuple[str, str]] = []
    for key, value, sigil, name in _IAL_PART.findall(body):
        if sigil:
            attrs.append(("class" if sigil == "." else "id", name))
        elif value[:1] in "\"'":
            attrs.append((key.lower(), value[1:-1]))
        else:
            attrs.append((key.lower(), value))
    return tuple(attrs)


def _definition_lists(lines: list[str], b: _Builder) -> list[str]:
    """``term`` lines followed by ``: definition`` lines → one stashed ``<dl>``."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        start = i
        while i < len(lines) and _is_term(lines, i, start):
            i += 1
        if i == start or i >= len(lines) or not _DEF_LINE.match(lines[i]):
            out.extend(lines[start : max(i, start + 1)])
            i = max(i, start + 1)
            continue
        terms = lines[start:i]
        defs, i = _definitions(lines, i)
        source = "\n".join(terms + defs)
        out.append(b.stash_html(_dl(terms, defs, b.render), source))
    return out


def _is_term(lines: list[str], i: int, start: int) -> bool:
    line = lines[i]
    if not line.strip() or _DEF_LINE.match(line) or _NOT_TERM.match(line):
        return False
    return i > start or i == 0 or not lines[i - 1].strip()


def _definitions(lines: list[str], i: int) -> tuple[list[str], int]:
    """The ``: definition`` lines from ``i`` (with their continuation lines)."""
    defs: list[str] = []
    while i < len(lines) and lines[i].strip():
        defs.append(lines[i])
        i += 1
    return defs, i


def _dl(terms: list[str], defs: list[str], render: Render) -> str:
    items: list[str] = []
    for term in terms:
        items.append(f"<dt>{_unwrap(render(term.strip()))}</dt>")
    current: list[str] = []
    for line in [*defs, ": "]:
        m = _DEF_LINE.match(line)
        if m and current:
            items.append(f"<dd>{_unwrap(render(chr(10).join(current)))}</dd>")
            current = []
        current.append(m.group(1) if m else line.strip())
    return "<dl>\n" + "\n".join(items) + "\n</dl>"


def _unwrap(fragment: str) -> str:
    """One rendered paragraph without its ``<p>``, as kramdown writes ``<dt>``/``<dd>``."""
    text = fragment.strip()
    if text.startswith("<p>") and text.endswith("</p>") and text.count("<p>") == 1:
        return text[3:-4]
    return text


def finish(rendered: str, prepared: Prepared) -> str:
    """cmark's HTML with the stashed pieces and attributes put back."""
    out = rendered
    if "data-footnotes" in out:
        out = _footnotes(out)
    if prepared.abbreviations:
        out = _abbreviate(out, prepared.abbreviations)
    if not prepared.html and not prepared.ials:
        return out
    n_html = len(prepared.html)
    out = _ESCAPED_MARKER.sub(
        lambda m: html.escape(
            prepared.originals[int(m.group(2)) + (n_html if m.group(1) == "ial" else 0)],
            quote=False,
        ),
        out,
    )
    useful = [i for i, ial in enumerate(prepared.ials) if _may_keep(ial)][:_MAX_APPLIED]
    for index in useful:
        start = out.find(f"<!--{_MARK}-ial-{index}-->")
        if start >= 0:
            end = out.index("-->", start) + 3
            end += 1 if _own_line(out, start, end) else 0  # a block IAL's line goes with it
            out = _apply(out, start, end, prepared.ials[index])

    def put_back(m: re.Match[str]) -> str:
        fragment = prepared.html[int(m.group(2))] if m.group(1) == "html" else ""
        own_line = _own_line(m.string, m.start(), m.end() - len(m.group(3)))
        return fragment + ("" if own_line and not fragment else m.group(3))

    for _ in range(3):  # a definition list's pieces can hold markers of their own
        out = _INLINE_MARKER.sub(lambda m: prepared.html[int(m.group(1))], out)
        if not _MARKER.search(out):
            break
        out = _MARKER_LINE.sub(put_back, out)
    return _INLINE_MARKER.sub("", _MARKER.sub("", out))


def _abbreviate(out: str, abbreviations: tuple[tuple[str, str], ...]) -> str:
    """Each abbreviation in text (not in code) as ``<abbr title="…">``, as kramdown does."""
    names = "|".join(re.escape(html.escape(name, quote=False)) for name, _ in abbreviations)
    word = re.compile(rf"(?<![A-Za-z0-9_])({names})(?![A-Za-z0-9_])")
    titles = {html.escape(name, quote=False): title for name, title in abbreviations}
    pieces = _TAG.split(out)
    in_code = 0
    for i, piece in enumerate(pieces):
        if i % 2:  # a tag
            name = piece.lstrip("</").split(None, 1)[0].rstrip(">/").lower() if piece else ""
            if name in ("code", "pre", "abbr"):
                in_code += -1 if piece.startswith("</") else 1
        elif not in_code and piece:
            pieces[i] = word.sub(
                lambda m: f'<abbr title="{html.escape(titles[m.group(1)])}">{m.group(1)}</abbr>',
                piece,
            )
    return "".join(pieces)


def _own_line(text: str, start: int, end: int) -> bool:
    return text[start - 1 : start] in ("", "\n") and text[end : end + 1] == "\n"


def _may_keep(ial: Ial) -> bool:
    return any(key in _KEPT_ANYWHERE for key, _ in ial.attrs)


def _footnotes(out: str) -> str:
    out = out.replace(
        '<section class="footnotes" data-footnotes>', '<div class="footnotes" role="doc-endnotes">'
    )
    if out.rstrip().endswith("</section>"):
        out = out.rstrip()[: -len("</section>")] + "</div>\n"
    return _FOOTNOTE_ID.sub(
        lambda m: f'{m.group(1)}="{m.group(2)}fn{m.group(3) or ""}:{m.group(4)}"', out
    )


def _apply(out: str, start: int, end: int, ial: Ial) -> str:
    """Remove the marker at ``start:end`` and set its attributes on the element it names."""
    head, tail = out[:start], out[end:]
    if ial.mode == "before":
        if m := _NEXT_OPEN.match(tail):
            at = m.end() - len(m.group(0).lstrip())
            tail = _with_attrs(tail, at, m.end() - 1, m.group(1), ial)
        return head + tail
    if ial.mode == "parent":
        head = head.rstrip()
        m = _NEXT_CLOSE.match(tail)
        opened = _matching_open(head, m.group(1)) if m else None
    else:
        opened = _element_before(head.rstrip() if ial.mode == "after" else head)
    if opened is not None:
        head = _with_attrs(head, *opened, ial)
    return head + tail


def _element_before(head: str) -> tuple[int, int, str] | None:
    """The start tag (start, index of its ``>``, name) of the element ending ``head``."""
    if m := _VOID.search(head):
        return m.start(), len(head) - 1, m.group(1)
    if m := _CLOSE.search(head):
        return _matching_open(head[: m.start()], m.group(1))
    return None


def _matching_open(head: str, name: str) -> tuple[int, int, str] | None:
    """The unclosed ``<name …>`` nearest the end of ``head``."""
    depth = 0
    for m in reversed(list(re.finditer(rf"<(/?){name}\b[^>]*>", head, re.I))):
        if m.group(1):
            depth += 1
        elif depth == 0:
            return m.start(), m.end() - 1, name.lower()
        else:
            depth -= 1
    return None


def _with_attrs(text: str, at: int, tag_end: int, name: str, ial: Ial) -> str:
    """``text`` with the start tag at ``at`` given the attributes nh3 would keep."""
    kept = nh3.ALLOWED_ATTRIBUTES.get(name.lower(), set()) | _KEPT_EVERYWHERE
    tag = text[at:tag_end]
    close = "/" if tag.endswith("/") else ""
    tag = tag.rstrip("/ ")
    for key, value in ial.attrs:
        if key in kept and not re.search(rf"\s{re.escape(key)}=", tag):
            tag += f' {key}="{html.escape(value, quote=True)}"'
    return text[:at] + tag + (" /" if close else "") + text[tag_end:]
