#!/usr/bin/env python3
"""The whole benchmark suite in one command; writes bench/RESULTS.md and prints it.

    .venv/bin/python bench/run.py            # 10k and 100k posts; 200 and 1,000 feeds
    .venv/bin/python bench/run.py --quick    # 10k posts; 200 feeds
    .venv/bin/python bench/run.py --check    # the regression bar (bench/check.py); --large
                                             # adds 100k posts and 1,000 feeds

Figures only: nothing here asserts a time. Corpora are generated into bench/work/
(git-ignored) by bench/corpus.py, the same bytes every time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build
import check
import fetch

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {sys.version.split()[0]}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k posts and 200 feeds only")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--check", action="store_true", help="compare with bench/baseline.json")
    ap.add_argument("--large", action="store_true", help="--check also at 100k and 1,000 feeds")
    ap.add_argument(
        "--update-baseline", action="store_true", help="--check, then commit-ready baseline.json"
    )
    a = ap.parse_args()
    if a.check or a.update_baseline:
        sys.exit(check.main(a.large, a.runs, a.update_baseline))
    posts = [10_000] if a.quick else [10_000, 100_000]
    feeds = [200] if a.quick else [200, 1_000]
    lines = [
        "# Benchmark results",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        "Produced by `.venv/bin/python bench/run.py`; each build or fetch is a fresh "
        "process (best of the runs for builds; peak RSS is the process's maximum).",
        "",
        "## feeds build",
        "",
    ]
    for n in posts:
        lines += [*build.bench(n, 20, a.runs if n <= 10000 else 1), ""]
    lines += ["## feeds fetch --all", ""]
    for n in feeds:
        lines += [*fetch.bench(n, 50, 8), ""]
    text = "\n".join(lines)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
