"""Debian's headless ``chromium`` as a test browser: one place that finds it and runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

# No traffic but to the page asked for: no sync, no updates, no QUIC, no first-run pages.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
)


def chromium_exe() -> str:
    """The ``chromium`` command; skips the test where it is missing, except under CI (which
    ran scripts/test, which installs it: never skip there)."""
    exe = shutil.which("chromium")
    if exe is None:
        message = "chromium is not installed (scripts/test installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return exe


def chromium(profile: Path, url: str, *args: str, width: int, height: int = 1400) -> str:
    """Load ``url`` in a fresh headless Chromium of ``width`` × ``height`` px with ``args``
    (``--dump-dom``, ``--screenshot=PATH``); its stdout (the DOM with ``--dump-dom``)."""
    proc = subprocess.run(
        [
            chromium_exe(),
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "--virtual-time-budget=5000",  # scripts and frames done before the dump
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout
