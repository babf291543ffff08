"""The key table (feeds/config/keys.py) is the one list of config keys: the README's key
table shows exactly its keys with its defaults, each row fills a real field with that
field's own default, and each section refuses any key the table does not have."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from feeds.config import config, keys as configkeys
from feeds.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
_ROW = re.compile(r"^\| `([^`]+)` \| (.*?) \| .* \|$")


def readme_keys() -> dict[str, str]:
    """key → default cell of the README's configuration table."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("| key | default | meaning |") + 2
    out: dict[str, str] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        m = _ROW.match(line)
        assert m, f"README key table: one key per row, as `key`: {line}"
        assert m.group(1) not in out, f"README lists {m.group(1)} twice"
        out[m.group(1)] = m.group(2)
    return out


def test_readme_lists_every_key_with_its_default_and_no_other() -> None:
    documented = readme_keys()
    table = {k.path: k.doc for k in configkeys.KEYS}
    assert sorted(set(table) - set(documented)) == [], "keys missing from the README"
    assert sorted(set(documented) - set(table)) == [], "README keys the table lacks"
    wrong = {k: (documented[k], doc) for k, doc in table.items() if documented[k] != doc}
    assert wrong == {}, "README default differs from the table's (README, table)"


def test_each_row_fills_a_field_with_that_fields_default() -> None:
    targets = config.config_dataclasses()
    checked = 0
    for key in configkeys.KEYS:
        if key.field is None or key.parent not in targets:
            continue
        fields = {f.name: f for f in dataclasses.fields(targets[key.parent])}
        assert key.field in fields, f"{key.path}: no field {key.field!r}"
        f = fields[key.field]
        if f.default is dataclasses.MISSING or key.default is configkeys.COMPUTED:
            continue
        default = key.default
        if key.path == "posts.permalink":  # a named style, stored as its pattern
            default = config.JEKYLL_PERMALINKS[default]
        assert f.default == default, f"{key.path}: table {default!r}, field {f.default!r}"
        checked += 1
    assert checked >= 40


MINIMAL = "site:\n  title: 站点\n  url: https://news.example.com/\n"
SECTIONS = {
    "": "{key}: 1\n",
    "site": "site:\n  title: 站点\n  url: https://news.example.com/\n  {key}: 1\n",
    "site.author": MINIMAL + "  author:\n    name: n\n    {key}: 1\n",
    "posts": MINIMAL + "posts:\n  {key}: 1\n",
    "feeds": MINIMAL + "feeds:\n  {key}: 1\n",
    "categories.meta.NAME": MINIMAL + "categories:\n  meta:\n    财经:\n      {key}: 1\n",
    "tags": MINIMAL + "tags:\n  {key}: 1\n",
    "fetch": MINIMAL + "fetch:\n  {key}: 1\n",
    "sources[]": MINIMAL + "sources:\n  - id: a\n    {key}: 1\n",
    "sources[].routes[]": MINIMAL + "sources:\n  - id: a\n    url: https://a.example/\n"
    "    routes:\n      - to: x\n        {key}: 1\n",
    "schedule": MINIMAL + "schedule:\n  {key}: 1\n",
    "output.s3": MINIMAL + "output:\n  s3:\n    bucket: b\n    {key}: 1\n",
}


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_each_section_allows_exactly_the_tables_keys(tmp_path: Path, section: str) -> None:
    allowed = configkeys.ALLOWED[section]
    assert allowed
    path = tmp_path / "config.yaml"
    text = SECTIONS[section]
    if section == "":
        text = MINIMAL + text
    path.write_text(text.format(key="zz_unknown"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert str(info.value).endswith(f"known keys here: {', '.join(sorted(allowed))}")
    assert info.value.key is not None and info.value.key.endswith("zz_unknown")


def _shown(default: object) -> str | None:
    """How the README shows a constant default, or None when it is shown in words."""
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, str | int):
        return f"`{default}`"
    if isinstance(default, tuple):
        return f"`[{', '.join(default)}]`"
    return None


def test_each_rows_readme_default_is_its_default() -> None:
    from feeds.config.read import interval_seconds

    for key in configkeys.KEYS:
        if key.default is None or key.default is configkeys.COMPUTED:
            continue
        doc = key.doc.split(" (")[0]  # "`15728640` (15 MiB)"
        seconds = interval_seconds(doc.strip("`"))
        number = isinstance(key.default, int | float) and not isinstance(key.default, bool)
        if number and seconds is not None and not doc.strip("`").isdigit():  # a duration
            assert seconds == key.default, key.path
        else:
            assert _shown(key.default) == doc, key.path
