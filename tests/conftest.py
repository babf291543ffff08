from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server import LocalServer

pytest_plugins = ["tests.stores"]  # the store backends' fixtures


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/expected from the current output",
    )


def _running() -> Iterator[LocalServer]:
    server = LocalServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A real HTTP server on 127.0.0.1 (port chosen by the OS), stopped after the test."""
    yield from _running()


@pytest.fixture
def second_server() -> Iterator[LocalServer]:
    """Another one, for tests that must show a second host sees no request."""
    yield from _running()
