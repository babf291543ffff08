"""YAML with line numbers, for the config file and for post front matter.

PyYAML's ``safe_load`` forgets where each value came from, silently keeps the last of two
duplicate keys, and turns some timestamps into datetimes but leaves ``+0800`` ones as strings.
Here every value keeps the line of its key, duplicate keys are an error, and timestamps stay
strings so that ``timeutil.parse_date`` is the one place that reads dates.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import yaml

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"

Path = tuple[str | int, ...]


class _Loader(_Base):  # type: ignore[misc]
    """Safe loader (libyaml when present) that does not resolve timestamps."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class Timestamp(str):
    """A plain (unquoted) scalar that YAML 1.1 reads as a timestamp, kept as its text.

    Jekyll's YAML (Ruby's Psych) makes such a value a Time, and one without a UTC offset is
    UTC there; the same text quoted is a string that Jekyll reads in the site's zone. The
    type keeps that difference for ``jekyll_post.jekyll_instant``; to everything else it is
    the string it was written as.
    """

    __slots__ = ()


# Psych's ScalarScanner TIME and DATE forms (a superset of PyYAML's timestamp resolver).
_TIMESTAMP_FORM = re.compile(
    r"-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?"
    r"(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?"
    r"|\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)"
)


def _mark(text: str) -> str:
    """``text`` as a ``Timestamp`` when a plain scalar of that form is a YAML timestamp."""
    return Timestamp(text) if text[:1].isdigit() and _TIMESTAMP_FORM.fullmatch(text) else text


class YamlError(Exception):
    """A YAML document that cannot be read; ``line`` is 1-based, relative to the text."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Document:
    """A loaded YAML document and the line where each key (by path) was written."""

    value: Any
    lines: dict[Path, int]

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest parent that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


# An alias is a reference: ten nested ones in 500 bytes stand for a billion values. The
# config may use them (for repeated source settings), up to this many values reached again
# through aliases; the values written out once are bounded by the file's size instead (a
# config of 10^5 sources has about a million of them).
MAX_NODES = 100_000


@dataclass
class _Budget:
    aliases: bool  # whether a node may be reached twice (through an alias)
    left: int
    seen: set[int]


def load(text: str, *, aliases: bool = True) -> Document:
    """Parse one YAML document. An empty document is ``None``.

    With ``aliases=False`` an alias (``*name``) is an error; otherwise its aliases may stand
    for at most ``MAX_NODES`` values (each value an alias reaches again counts once more).
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Path, int] = {}
        if node is None:
            return Document(None, lines)
        lines[()] = node.start_mark.line + 1
        budget = _Budget(aliases, MAX_NODES, set())
        return Document(_build(loader, node, (), lines, budget), lines)
    except yaml.MarkedYAMLError as e:
        # Point at where the broken construct starts (an unclosed quote or bracket), and
        # say where the parser noticed when that is another line.
        mark = e.context_mark or e.problem_mark
        problem = e.problem or str(e)
        if e.context and e.context not in problem:
            problem = f"{e.context}: {problem}"
        if e.problem_mark and mark and e.problem_mark.line != mark.line:
            problem += f" (noticed at line {e.problem_mark.line + 1})"
        raise YamlError(f"invalid YAML: {problem}", mark.line + 1 if mark else None) from e
    except yaml.YAMLError as e:
        raise YamlError(f"invalid YAML: {e}", None) from e
    finally:
        loader.dispose()


def _spend(node: yaml.Node, path: Path, lines: dict[Path, int], budget: _Budget) -> None:
    if id(node) not in budget.seen:
        budget.seen.add(id(node))
        return
    # reached again: the composer gives an alias the anchored node itself
    if not budget.aliases:
        # a list item's recorded line is the anchored node's: name the key's line instead
        at = path[:-1] if path and isinstance(path[-1], int) else path
        raise YamlError("an alias (*name) is not allowed here; write the value out", lines.get(at))
    budget.left -= 1
    if budget.left < 0:
        raise YamlError(
            f"too many values once aliases (*name) are expanded: more than {MAX_NODES}",
            lines.get(path),
        )


def _build(
    loader: Any, node: yaml.Node, path: Path, lines: dict[Path, int], budget: _Budget
) -> Any:
    _spend(node, path, lines, budget)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # YAML merge keys (<<)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError("a mapping key must be a plain value", key_node.start_mark.line + 1)
            key = str(loader.construct_object(key_node))
            if key in out:
                raise YamlError(
                    f"duplicate key {key!r} (first at line {lines[(*path, key)]})",
                    key_node.start_mark.line + 1,
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _build(loader, value_node, (*path, key), lines, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            items.append(_build(loader, item, (*path, i), lines, budget))
        return items
    if node.tag == _TIMESTAMP:  # an explicit !!timestamp tag: keep the text
        return Timestamp(node.value)
    try:
        value = loader.construct_object(node, deep=True)
    except (ValueError, yaml.constructor.ConstructorError) as e:
        raise YamlError(f"invalid value {node.value!r}: {e}", node.start_mark.line + 1) from e
    if isinstance(node, yaml.ScalarNode) and not node.style and type(value) is str:
        # a plain scalar (libyaml gives its style as "", PyYAML as None)
        return _mark(value)
    return value


# ----------------------------------------------------------------------------- fast path
# Most front matter is flat: `key: value` lines with plain or quoted strings and flow lists of
# plain words. For exactly that subset the result is built without PyYAML (5-10× faster);
# anything else (nesting, comments, anchors, escapes, numbers, booleans, block scalars, ...)
# returns None and goes through ``load``. A property test checks both agree.

_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*?))? *\Z")
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_FLOW_UNSAFE = set("[]{}")
_STR = "tag:yaml.org,2002:str"
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE
_YAML_BREAKS = ("\x85", "\u2028", "\u2029")
# The implicit resolvers our loader applies (timestamps excluded) that give anything but a
# string, by the scalar's first character, as PyYAML looks them up.
_ANY_RESOLVERS = tuple(
    rx for tag, rx in _Loader.yaml_implicit_resolvers.get(None, []) if tag != _STR
)
_RESOLVERS = {
    first: tuple(rx for tag, rx in resolvers if tag != _STR) + _ANY_RESOLVERS
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
    if first is not None
}


@functools.lru_cache(maxsize=4096)  # keys, layouts, categories and tags repeat
def _plain(text: str, in_flow: bool) -> str | None:
    """``text`` if YAML reads it as this very string (a plain scalar resolved to str)."""
    if not text or text[0] in _INDICATORS or text != text.strip(" \t"):
        return None
    if ": " in text or " #" in text or text.endswith(":") or "\t" in text:
        return None
    if in_flow and (set(text) & _FLOW_UNSAFE or "," in text):
        return None
    for regexp in _RESOLVERS.get(text[0], _ANY_RESOLVERS):
        if regexp.match(text):
            return None  # YAML reads it as a number, boolean, null, …: not this string
    return text


def _quoted(text: str) -> str | None:
    if len(text) < 2 or text[0] != text[-1] or text[0] not in "\"'":
        return None
    inner = text[1:-1]
    if text[0] == "'":  # single quotes: '' is a quote, nothing else is special
        return None if "'" in inner.replace("''", "") else inner.replace("''", "'")
    if "\\" not in inner and '"' not in inner:
        return inner  # the usual title: nothing escaped
    out = []
    i = 0
    while i < len(inner):
        c = inner[i]
        if c == "\\":
            nxt = inner[i + 1 : i + 2]
            if nxt not in ('"', "\\"):
                return None  # other escapes (\n, \u…): PyYAML decodes them
            out.append(nxt)
            i += 2
        elif c == '"':
            return None  # an unescaped quote: not one scalar
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _scalar(text: str, in_flow: bool) -> str | None:
    if text[:1] in ('"', "'"):
        return _quoted(text)
    value = _plain(text, in_flow)
    return None if value is None else _mark(value)


def load_flat(text: str) -> Document | None:
    """The fast path of ``load`` for flat front matter; None when ``text`` is not that."""
    if _not_flat_text(text):
        return None
    value: dict[str, Any] = {}
    lines: dict[Path, int] = {}
    for number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip(" \t"):
            continue
        m = _KEY_LINE.match(line)
        if m is None:
            return None
        key, raw = m.group(1), m.group(2)
        if key in value or raw is None or _plain(key, False) != key:
            return None  # a duplicate, a nested block, or a key like "on" that is not text
        item: Any
        if not lines:
            lines[()] = number
        if raw.startswith("["):
            items = _flow_list(raw)
            if items is None:
                return None
            item = items
            for i in range(len(items)):
                lines[(key, i)] = number
        else:
            item = _scalar(raw, False)
            if item is None:
                return None
        lines[(key,)] = number
        value[key] = item
    if not value:
        return None
    return Document(value, lines)


def _not_flat_text(text: str) -> bool:
    """Characters the fast path leaves to PyYAML: refused ones, or line breaks to YAML
    (NEL, LS, PS, a lone CR)."""
    return bool(
        _NON_PRINTABLE.search(text)
        or any(c in text for c in _YAML_BREAKS)
        or "\r" in text.replace("\r\n", "")
    )


def _flow_list(raw: str) -> list[Any] | None:
    """A one-line ``[a, b]`` of plain scalars, or None when it is anything more."""
    if not raw.endswith("]"):
        return None
    inner = raw[1:-1].strip(" ")
    parts = [p.strip(" ") for p in inner.split(",")] if inner else []
    items = [_scalar(p, True) for p in parts]
    if any(i is None or i == "" for i in items):
        return None
    return items
