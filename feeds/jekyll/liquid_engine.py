"""The Liquid engine behind ``feeds.jekyll.liquid``: python-liquid with Jekyll's tags (``include``
with ``include.param``, ``highlight``, ``post_url``, ``link``) and filters, and the repair
loop that takes out what cannot be rendered. Imported only when a body has Liquid in it
(python-liquid takes about a third of the command's start-up to import).
"""

from __future__ import annotations

import functools
import html
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TextIO
from urllib.parse import quote

from liquid import CachingFileSystemLoader, Environment, Mode, RenderContext
from liquid.ast import BlockNode, Node
from liquid.exceptions import (
    LiquidError,
    LiquidSyntaxError,
    LocalNamespaceLimitError,
    OutputStreamLimitError,
)
from liquid.parser import get_parser
from liquid.stream import TokenStream
from liquid.tag import Tag
from liquid.token import TOKEN_EOF, TOKEN_EXPRESSION, TOKEN_TAG, Token

from feeds.jekyll import filters as jekyll_filters

_POSTS_KEY = "feeds:posts"  # not a Liquid identifier: templates cannot reach it
_SITE_KEY = "feeds:site"
_MAX_REPAIRS = 20  # template constructs taken out of one post before giving up on Liquid
_MARKUP = re.compile(r"\{%-?.*?-?%\}|\{\{-?.*?-?\}\}", re.S)
_PARAM = re.compile(r"""([\w-]+)\s*=\s*("[^"]*"|'[^']*'|[\w.\[\]-]+)""")
_PLAIN_NAME = re.compile(r"[\w./-]+")


class _JekyllEnvironment(Environment):
    loop_iteration_limit: ClassVar[int | None] = 10_000
    output_stream_limit: ClassVar[int | None] = 4_000_000
    local_namespace_limit: ClassVar[int | None] = 2_000_000
    context_depth_limit: ClassVar[int] = 10  # includes within includes


def render(
    body: str,
    *,
    page: Mapping[str, Any],
    site: Mapping[str, Any],
    includes: Path | None,
    posts: Mapping[str, str],
    first_line: int = 1,
) -> tuple[str, list[tuple[int, str]]]:
    """``body`` with its Liquid rendered, and the warnings as (line in the post file,
    message). ``first_line`` is the file line ``body`` starts on (after the front matter);
    ``posts`` maps a post file's stem (``2022-06-09-slug``) to the URL path that
    ``{% post_url %}`` and ``{% link %}`` print."""
    env = _environment(includes.resolve() if includes is not None else None)
    data = {"page": page, "site": site, _POSTS_KEY: posts, _SITE_KEY: site}
    notes: list[tuple[int, str]] = []
    source = body
    for _ in range(_MAX_REPAIRS):
        try:
            return env.from_string(source).render(**data), sorted(notes)
        except (OutputStreamLimitError, LocalNamespaceLimitError) as e:
            notes.append((first_line, f"Liquid: {_message(e)}"))
            break  # the whole body is too much: no one construct to take out
        except LiquidError as e:
            span = _markup_at(source, e.token)
            if span is None:
                break
            start, end = span
            line = first_line + source.count("\n", 0, start)
            notes.append((line, f"Liquid: {_message(e)}; removed {source[start:end]!r}"))
            # Blank out the construct, keeping its newlines so later line numbers hold.
            source = source[:start] + "\n" * source.count("\n", start, end) + source[end:]
        except (RecursionError, ValueError, TypeError, ArithmeticError):
            break  # a failure inside the engine: give up on this body's Liquid
    notes.append((first_line, "Liquid: cannot render this body; removed all of its template code"))
    return _MARKUP.sub("", source), sorted(notes)


def _message(e: LiquidError) -> str:
    text = str(e.message) if e.message is not None else type(e).__name__
    return " ".join(text.split())


def _markup_at(source: str, token: Token | None) -> tuple[int, int] | None:
    """The ``{% … %}`` or ``{{ … }}`` of ``source`` that holds the token."""
    if token is None or token.source is not source or token.start_index < 0:
        return None
    for m in _MARKUP.finditer(source):
        if m.start() <= token.start_index < m.end():
            return m.start(), m.end()
        if m.start() > token.start_index:
            break
    return None


@functools.lru_cache(maxsize=8)
def _environment(includes: Path | None) -> Environment:
    loader = CachingFileSystemLoader(includes) if includes is not None else None
    env = _JekyllEnvironment(tolerance=Mode.STRICT, loader=loader, strict_filters=True)
    for tag in (_IncludeTag, _HighlightTag, _PostUrlTag, _LinkTag):
        env.add_tag(tag)
    jekyll_filters.register(env, site_key=_SITE_KEY)
    return env


def _argument(stream: TokenStream, tag: Token) -> str:
    """The raw text after a tag's name (Jekyll's tags parse it themselves). The stream is
    left on the tag's last token, where the parser expects a tag to stop."""
    if stream.current.kind != TOKEN_EXPRESSION or not stream.current.value.strip():
        raise _error(f"{tag.value}: missing argument", tag)
    return stream.current.value.strip()


def _error(message: str, token: Token) -> LiquidError:
    # A syntax error, as python-liquid reports other errors at parse time as "unexpected".
    return LiquidSyntaxError(message, token=token)


class _IncludeNode(Node):
    __slots__ = ("name", "params")

    def __init__(self, token: Token, name: str, params: list[tuple[str, str]]) -> None:
        super().__init__(token)
        self.name = name
        self.params = params
        self.blank = False

    def __str__(self) -> str:
        return f"{{% include {self.name} %}}"

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        root = getattr(context.env.loader, "search_path", None)
        if not root:
            raise _error(f"include {self.name}: the site has no _includes folder", self.token)
        folder = Path(root[0])
        target = (folder / self.name).resolve()
        if not target.is_relative_to(folder) or not target.is_file():
            raise _error(f"include {self.name}: no such file in _includes", self.token)
        try:
            template = context.env.get_template(self.name, context=context, tag="include")
            values = {key: self._value(raw, context) for key, raw in self.params}
            with context.extend({"include": values}, template=template):
                template.render_with_context(context, buffer, partial=True)
        except LiquidError as e:
            text = _message(e)  # an include within: its message already names the file
            text = text if text.startswith("include ") else f"include {self.name}: {text}"
            raise LiquidError(text, token=self.token) from e
        return True

    def _value(self, raw: str, context: RenderContext) -> object:
        if raw[:1] in "\"'":
            return raw[1:-1]
        return context.get(list[object](raw.split(".")), token=self.token, default="")


class _IncludeTag(Tag):
    """``{% include file.html key="value" key2=variable %}`` from ``_includes``."""

    name = sys.intern("include")
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token = stream.eat(TOKEN_TAG)
        text = _argument(stream, token)
        name, _, rest = text.partition(" ")
        if not _PLAIN_NAME.fullmatch(name):
            raise _error(f"include: cannot include {name!r} (a plain file name is needed)", token)
        params = _PARAM.findall(rest)
        if _PARAM.sub("", rest).strip():
            raise _error(f"include {name}: cannot read the parameters {rest.strip()!r}", token)
        return _IncludeNode(token, name, params)


class _HighlightNode(Node):
    __slots__ = ("block", "lang")

    def __init__(self, token: Token, lang: str, block: BlockNode) -> None:
        super().__init__(token)
        self.lang = lang
        self.block = block
        self.blank = False

    def __str__(self) -> str:
        return f"{{% highlight {self.lang} %}}"

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        inner = context.get_buffer(buffer)
        self.block.render(context, inner)
        code = html.escape(inner.getvalue().strip("\n"), quote=False)
        lang = html.escape(self.lang)
        # Starting the line with <pre keeps Markdown out of it, blank lines included.
        return buffer.write(
            f'<pre class="highlight"><code class="language-{lang}" data-lang="{lang}">'
            f"{code}</code></pre>"
        )


class _HighlightTag(Tag):
    """``{% highlight lang [linenos] %}…{% endhighlight %}``: Rouge's markup, no colours."""

    name = sys.intern("highlight")
    end = sys.intern("endhighlight")

    def parse(self, stream: TokenStream) -> Node:
        token = stream.eat(TOKEN_TAG)
        words = _argument(stream, token).split()
        lang = words[0].lower()
        if not re.fullmatch(r"[\w+#.-]+", lang):
            raise _error(f"highlight: {lang!r} is not a language name", token)
        next(stream)
        block = get_parser(self.env).parse_block(stream, (self.end, TOKEN_EOF))
        stream.expect(TOKEN_TAG, value=self.end)
        return _HighlightNode(token, lang, block)


class _UrlNode(Node):
    __slots__ = ("label", "stem")

    def __init__(self, token: Token, stem: str, label: str) -> None:
        super().__init__(token)
        self.stem = stem
        self.label = label
        self.blank = False

    def __str__(self) -> str:
        return f"{{% {self.label} %}}"

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        posts = context.get([_POSTS_KEY], token=self.token, default={})
        url = posts.get(self.stem) if isinstance(posts, Mapping) else None
        if not isinstance(url, str):
            raise _error(f"{self.label}: no post {self.stem!r}", self.token)
        return buffer.write(quote(url, safe="/:@!$&'()*+,;=-._~%#?"))


class _PostUrlTag(Tag):
    """``{% post_url 2022-06-09-slug %}`` (or ``sub/2022-06-09-slug``)."""

    name = sys.intern("post_url")
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token = stream.eat(TOKEN_TAG)
        arg = _argument(stream, token)
        return _UrlNode(token, arg.rsplit("/", 1)[-1], f"post_url {arg}")


class _LinkTag(Tag):
    """``{% link _posts/2022-06-09-slug.md %}``: posts only (other pages are not known)."""

    name = sys.intern("link")
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token = stream.eat(TOKEN_TAG)
        arg = _argument(stream, token)
        parts = arg.split("/")
        if "_posts" not in parts[:-1]:
            raise _error(f"link {arg}: only links to posts can be resolved", token)
        stem = parts[-1].rsplit(".", 1)[0]
        return _UrlNode(token, stem, f"link {arg}")
