"""YAML alias bombs and oversized files: a post or a config that would take minutes and
gigabytes to load is refused with a clear error naming it, in bounded time and memory, and
every other post is published."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds import yamlutil
from tests.faults.hostile import cli, titles
from tests.helpers import BASE_CONFIG, Site, make_site, post_text


def bomb(levels: int = 9, width: int = 9) -> str:
    """``levels`` anchors, each a list of ``width`` aliases of the one before: a few hundred
    bytes that stand for ``width ** levels`` values (387 million here)."""
    lines = ["a0: &a0 [x]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path / "site")
    site.post("2022-01-01-good.md", post_text("好文章", "2022-01-01 10:00:00 +0800"))
    return site


def test_alias_bomb_in_front_matter_is_refused(site: Site) -> None:
    """Aliases in a post's front matter (never needed by Jekyll users) are that post's error,
    naming the file and line; the bomb neither stalls the build nor exhausts memory."""
    site.post("2022-01-02-bomb.md", "---\ntitle: 炸弹\n" + bomb() + "---\n正文\n")
    proc = cli("build", "-c", site.config, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "2022-01-02-bomb.md:4: error: front matter: an alias (*name) is not allowed" in (
        proc.stderr
    )
    assert titles(site) == {"好文章"}


def test_one_alias_in_front_matter_is_refused() -> None:
    """Even one harmless-looking alias is refused in front matter: the rule is simple."""
    with pytest.raises(yamlutil.YamlError, match="alias"):
        yamlutil.load("a: &x 1\nb: *x\n", aliases=False)


def test_alias_bomb_in_config_is_refused(site: Site) -> None:
    """A config whose aliases expand past the limit is a config error naming the file, in
    bounded time and memory (the daemon re-reads it on SIGHUP through the same load)."""
    site.config.write_text(BASE_CONFIG + "x-anchors:\n" + _indent(bomb()), encoding="utf-8")
    proc = cli("check", "-c", site.config, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert f"{site.config}:" in proc.stderr
    assert "too many values once aliases (*name) are expanded" in proc.stderr


def test_config_aliases_within_the_limit_still_work() -> None:
    """Aliases in the config that stay within the limit are expanded as before."""
    doc = yamlutil.load("base: &b {x: 1}\nother: *b\nmerged: {<<: *b, y: 2}\n")
    assert doc.value == {"base": {"x": 1}, "other": {"x": 1}, "merged": {"x": 1, "y": 2}}


def test_oversized_post_is_refused(site: Site) -> None:
    """A post over 10 MB is that post's error (naming it and the limit), not read whole."""
    site.post("2022-01-03-huge.md", post_text("巨大", "2022-01-03", body="x" * (11 << 20)))
    proc = cli("build", "-c", site.config, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "2022-01-03-huge.md: error: larger than the limit of 10 MB; refused" in proc.stderr
    assert titles(site) == {"好文章"}


def test_oversized_config_is_refused(site: Site) -> None:
    """A config over 16 MB is refused as a config error naming the file and the limit."""
    site.config.write_text(BASE_CONFIG + ("# padding\n" * 1_700_000), encoding="utf-8")
    proc = cli("check", "-c", site.config, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert f"{site.config}: cannot read config: larger than the limit of 16 MB" in proc.stderr


def _indent(text: str) -> str:
    return "".join("  " + line + "\n" for line in text.splitlines())
