"""The regression bar: a set of figures measured in one run, each as a ratio to the floor of
the same run (``bench/floor.py``: reading and parsing every post's front matter), compared
with the committed ratios in ``bench/baseline.json``.

Ratios are of CPU time (user + system, worker processes included), which other processes on
a shared machine disturb far less than wall time; wall times are printed beside them. A
figure fails when its ratio, or its peak RSS, is more than ``TOLERANCE`` worse than the
committed one.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch
import floor
from build import corpus_for
from measure import Measured, run_measured, run_script

BASELINE = Path(__file__).resolve().parent / "baseline.json"
TOLERANCE = 1.25
EVERY_POST = "feeds:\n  max_items: 1000000\n"  # every post of a category lands in its feed


@dataclass(frozen=True)
class Figure:
    name: str
    measured: Measured
    floor_cpu: float

    @property
    def ratio(self) -> float:
        return self.measured.cpu / self.floor_cpu


def best(runs: int, once: Callable[[], Measured]) -> Measured:
    return pick([once() for _ in range(runs)])


def pick(results: list[Measured]) -> Measured:
    """The run with the least CPU time, with the highest peak RSS of all runs."""
    fastest = min(results, key=lambda m: m.cpu)
    peak = max(m.peak_mb for m in results)
    return Measured(fastest.wall, fastest.cpu, peak, fastest.code)


def builds(posts: int, runs: int, floor_cpu: float) -> list[Figure]:
    """Cold, nothing changed and one post changed, on the default config."""
    corpus = corpus_for(posts, 20)
    config = str(corpus / "config.yaml")
    victim = sorted((corpus / "_posts").iterdir())[posts // 2]
    original = victim.read_bytes()
    found: dict[str, list[Measured]] = {"cold": [], "no change": [], "one post changed": []}
    try:
        for i in range(runs):
            shutil.rmtree(corpus / "output", ignore_errors=True)
            shutil.rmtree(corpus / "state", ignore_errors=True)
            found["cold"].append(run_measured("build", "-q", "-c", config))
            found["no change"].append(run_measured("build", "-q", "-c", config))
            victim.write_bytes(original.replace(b"</p>", f" 修改{i}</p>".encode(), 1))
            found["one post changed"].append(run_measured("build", "-q", "-c", config))
            victim.write_bytes(original)
            run_measured("build", "-q", "-c", config)
    finally:
        victim.write_bytes(original)
    return [Figure(f"build {posts // 1000}k {k}", pick(v), floor_cpu) for k, v in found.items()]


def every_post(posts: int, runs: int, floor_cpu: float) -> list[Figure]:
    """A cold build with every post in its category's feed and the feed of everything, and
    the plain python-frontmatter + feedgen script doing RSS and Atom of the same feeds."""
    corpus = corpus_for(posts, 20)
    config = corpus / "every.yaml"
    text = (corpus / "config.yaml").read_text(encoding="utf-8")
    config.write_text(
        text.replace("dir: output", "dir: output-every").replace("dir: state", "dir: state-every")
        + EVERY_POST,
        encoding="utf-8",
    )

    def cold() -> Measured:
        shutil.rmtree(corpus / "output-every", ignore_errors=True)
        shutil.rmtree(corpus / "state-every", ignore_errors=True)
        return run_measured("build", "-q", "-c", str(config))

    plain = Path(__file__).resolve().parent / "plain.py"
    return [
        Figure(f"every post {posts // 1000}k cold", best(runs, cold), floor_cpu),
        Figure(
            f"plain script {posts // 1000}k",
            best(1, lambda: run_script(str(plain), str(corpus), str(corpus / "output-plain"))),
            floor_cpu,
        ),
    ]


def fetches(feeds: int, floor_cpu: float) -> list[Figure]:
    return [
        Figure(f"fetch {feeds} {label.split()[0]}", m, floor_cpu)
        for label, m, _ in fetch.rounds(feeds, 50, 8)
    ]


def collect(large: bool, runs: int) -> tuple[dict[str, dict[str, Any]], list[Figure]]:
    base = floor.measure(corpus_for(10_000, 20) / "_posts")
    figures = builds(10_000, runs, base["cpu"])
    figures += every_post(10_000, runs, base["cpu"])
    figures += fetches(200, base["cpu"])
    floors: dict[str, dict[str, Any]] = {"10k": base}
    if large:
        big = floor.measure(corpus_for(100_000, 20) / "_posts", 1)
        floors["100k"] = big
        figures += builds(100_000, 1, big["cpu"])
        figures += fetches(1000, base["cpu"])
    return floors, figures


def table(floors: dict[str, dict[str, Any]], figures: list[Figure]) -> list[str]:
    lines = []
    for size, f in floors.items():
        lines.append(
            f"floor {size}: {f['cpu']:.3f} s CPU, {f['wall']:.3f} s wall ({f['reader']}; "
            + ", ".join(
                f"{name} {w:.3f} s{'' if ok else ' (not correct)'}"
                for name, (w, _c, ok) in f["candidates"].items()
            )
            + ")"
        )
    lines += [
        "",
        "| figure | wall s | CPU s | CPU × floor | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for fig in figures:
        m = fig.measured
        lines.append(
            f"| {fig.name} | {m.wall:.2f} | {m.cpu:.2f} | {fig.ratio:.2f} | {m.peak_mb:.0f} |"
        )
    return lines


def compare(figures: list[Figure], baseline: dict[str, dict[str, float]]) -> list[str]:
    """One line per figure worse than the committed one by more than ``TOLERANCE``."""
    worse = []
    for fig in figures:
        was = baseline.get(fig.name)
        if was is None:
            continue
        if fig.ratio > was["ratio"] * TOLERANCE:
            worse.append(f"{fig.name}: CPU × floor {fig.ratio:.2f}, committed {was['ratio']:.2f}")
        if fig.measured.peak_mb > was["peak_mb"] * TOLERANCE:
            worse.append(
                f"{fig.name}: peak RSS {fig.measured.peak_mb:.0f} MB, "
                f"committed {was['peak_mb']:.0f} MB"
            )
    return worse


def save(figures: list[Figure], large: bool) -> None:
    old = json.loads(BASELINE.read_text()) if BASELINE.is_file() else {}
    if not large:  # keep the committed 100k and 1,000-feed figures
        old = {k: v for k, v in old.items() if k.startswith(("build 100k", "fetch 1000"))}
    for f in figures:
        old[f.name] = {"ratio": round(f.ratio, 3), "peak_mb": round(f.measured.peak_mb)}
    BASELINE.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")


def main(large: bool, runs: int, update: bool) -> int:
    floors, figures = collect(large, runs)
    print("\n".join(table(floors, figures)))
    if update:
        save(figures, large)
        print(f"\nwrote {BASELINE.name}")
        return 0
    if not BASELINE.is_file():
        print(f"\nno {BASELINE.name} to compare with (--update-baseline writes it)")
        return 1
    worse = compare(figures, json.loads(BASELINE.read_text()))
    if worse:
        print(f"\nworse than the committed figures by more than {TOLERANCE - 1:.0%}:")
        print("\n".join("  " + w for w in worse))
        return 1
    print(f"\nevery figure within {TOLERANCE - 1:.0%} of the committed ones")
    return 0
