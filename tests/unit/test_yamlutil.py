from __future__ import annotations

import pytest

from feeds import yamlutil


def test_dates_stay_text_and_lines_are_kept() -> None:
    doc = yamlutil.load(
        "title: 标题\ndate: 2022-06-09 14:36:33 +0800\nd2: 2022-06-09\ntags: [a, b]\n"
    )
    assert doc.value["date"] == "2022-06-09 14:36:33 +0800"
    assert doc.value["d2"] == "2022-06-09"
    assert doc.lines[("date",)] == 2 and doc.lines[("tags", 1)] == 4
    assert doc.line(("tags", 1, "nope")) == 4


def test_impossible_date_is_not_a_crash() -> None:
    assert yamlutil.load("date: 2024-02-30\n").value == {"date": "2024-02-30"}


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(yamlutil.YamlError) as info:
        yamlutil.load("a: 1\nb: 2\na: 3\n")
    assert info.value.line == 3 and "first at line 1" in info.value.message


def test_syntax_error_line() -> None:
    with pytest.raises(yamlutil.YamlError) as info:
        yamlutil.load('a: 1\nb: "unclosed\n')
    assert info.value.line is not None and info.value.line >= 2


def test_merge_keys() -> None:
    doc = yamlutil.load("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert doc.value["other"] == {"x": 1, "y": 2}


def test_unquoted_timestamps_are_marked() -> None:
    """Jekyll reads an unquoted YAML timestamp differently from the same text quoted (UTC
    against site time), so the unquoted ones come back as ``yamlutil.Timestamp``."""
    doc = yamlutil.load(
        "a: 2022-06-09 14:36:33\nb: '2022-06-09 14:36:33'\nc: 2022-06-09 14:36\n"
        "d: [2022-06-09]\ne: !!timestamp 2022-06-09\nf: |\n  2022-06-09\n"
    )
    kinds = {k: type(v[0] if isinstance(v, list) else v) for k, v in doc.value.items()}
    t = yamlutil.Timestamp
    assert kinds == {"a": t, "b": str, "c": str, "d": t, "e": t, "f": str}
    assert doc.value["a"] == "2022-06-09 14:36:33"  # still the text as written


def test_values_written_out_are_not_counted_against_the_alias_limit() -> None:
    """A big config without aliases (10^5 sources are about a million values) loads: only
    values reached again through aliases count, the rest are bounded by the file's size."""
    n = yamlutil.MAX_NODES + 20_000
    doc = yamlutil.load("sources:\n" + "".join(f"  - {{id: s{i}}}\n" for i in range(n)))
    assert len(doc.value["sources"]) == n
