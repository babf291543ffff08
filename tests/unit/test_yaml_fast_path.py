"""The flat front-matter fast path must agree with PyYAML wherever it answers."""

from __future__ import annotations

from hypothesis import example, given, settings, strategies as st

from feeds import yamlutil

KEYS = st.sampled_from(
    [
        "title",
        "date",
        "categories",
        "tags",
        "layout",
        "on",
        "yes",
        "no",
        "null",
        "a-b",
        "x_1",
        "excerpt",
        "published",
        "author",
        "~",
    ]
)
ATOMS = st.sampled_from(
    [
        "2022-06-09 14:36:33",
        "2022-06-09",
        "2022-6-9 9:36:33 +0800",
        "2022-06-09 14:36",
        "新闻",
        "中国发展网新闻",
        "a b",
        "R&D",
        "true",
        "false",
        "yes",
        "off",
        "null",
        "~",
        "1",
        "0x1F",
        "1_000",
        "1.5",
        ".inf",
        "2022-06-09",
        "2022-06-09 14:36:33 +0800",
        "a:b",
        "a: b",
        "a #b",
        "a#b",
        "-x",
        "- x",
        "?x",
        "*a",
        "&a",
        "!x",
        "%x",
        "@x",
        "`x",
        "|",
        ">",
        "[a]",
        "{a}",
        "a,b",
        "'q'",
        '"q"',
        "it's",
        'say "hi"',
        "back\\slash",
        "tab\there",
        "end:",
        "<独家>",
        "“引号”",
        "x'y",
        "",
        " lead",
        "trail ",
        "a\\nb",
        "🙂",
    ]
)


def _quote_double(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quote_single(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


VALUES = st.one_of(
    ATOMS,
    ATOMS.map(_quote_double),
    ATOMS.map(_quote_single),
    st.lists(st.one_of(ATOMS, ATOMS.map(_quote_double)), max_size=4).map(
        lambda xs: "[" + ", ".join(xs) + "]"
    ),
    st.text(max_size=12),
)
LINES = st.lists(st.tuples(KEYS, VALUES), min_size=1, max_size=6)


@settings(max_examples=600, deadline=None)
@given(LINES, st.booleans())
@example([("title", "\r0")], False)  # a lone CR is a line break to YAML
@example([("title", "\x85")], False)
def test_fast_path_agrees_with_pyyaml(lines: list[tuple[str, str]], blank: bool) -> None:
    text = "\n" + "\n".join(f"{k}: {v}" for k, v in lines) + ("\n\n" if blank else "\n")
    fast = yamlutil.load_flat(text)
    if fast is None:
        return
    full = yamlutil.load(text)
    assert fast.value == full.value
    assert _types(fast.value) == _types(full.value)  # yamlutil.Timestamp marks agree too
    assert fast.lines == full.lines


def _types(value: object) -> object:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value)


def test_fast_path_takes_the_common_case() -> None:
    text = (
        '\nlayout: post\ntitle: "全国“消费帮扶·每周一播”行动"\n'
        "date: 2022-06-09 14:36:33 +0800\n"
        "categories: zhongguofazhanwang\ntags: [中国发展网新闻, 乡村振兴]\n"
    )
    fast = yamlutil.load_flat(text)
    assert fast is not None and fast == yamlutil.load(text)


def test_fast_path_declines_what_it_does_not_know() -> None:
    for text in (
        "\ntitle: 2024\n",
        "\npublished: false\n",
        "\ntitle: a # note\n",
        "\nauthor:\n  name: x\n",
        "\ntitle: |\n  text\n",
        "\non: x\n",
        "\ntitle: a\ntitle: b\n",
        '\ntitle: "a\\nb"\n',
        "\ntags: [a, [b]]\n",
    ):
        assert yamlutil.load_flat(text) is None, text
