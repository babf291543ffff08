"""Debian's ``jekyll`` as a test oracle: one place that finds it and builds a site with it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def jekyll_exe() -> str:
    """The ``jekyll`` command; skips the test where it is missing, except under CI (which ran
    scripts/test, which installs it: never skip there)."""
    exe = shutil.which("jekyll")
    if exe is None:
        message = "jekyll is not installed (scripts/test installs Debian's jekyll)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return exe


def jekyll_build(site: Path) -> Path:
    """``jekyll build`` in ``site``; its ``_site`` folder (the build must succeed)."""
    proc = subprocess.run(
        [jekyll_exe(), "build", "--quiet"],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return site / "_site"
