"""Fixtures for end-to-end tests against a live Bugsink (see bugsink_server.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from bugsink_server import BugsinkServer, BugsinkUnavailable
from payload_check import check_envelope_bytes


def _start(path: Path, **kwargs: int) -> BugsinkServer:
    try:
        return BugsinkServer(path, **kwargs).start()
    except BugsinkUnavailable as exc:
        if os.environ.get("CI"):
            # CI must exercise the real server: not being able to start it is a failure there.
            pytest.fail(f"Bugsink is required in CI: {exc}")
        pytest.skip(f"Bugsink unavailable: {exc}")


@pytest.fixture(scope="session")
def bugsink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BugsinkServer]:
    """A live Bugsink on 127.0.0.1 with a fresh database and one project, for the whole session."""
    server = _start(tmp_path_factory.mktemp("bugsink"))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def every_envelope_bugsink_received_passes_relay(request: pytest.FixtureRequest) -> Iterator[None]:
    """The raw bodies Bugsink kept for this test pass the framing and Relay checks."""
    if "bugsink" not in request.fixturenames:
        yield
        return
    server: BugsinkServer = request.getfixturevalue("bugsink")
    seen = max((i for i, _ in server.raw_envelopes()), default=0)
    yield
    bodies = server.raw_envelopes(seen)
    for _, body in bodies:
        check_envelope_bytes(body)


@pytest.fixture
def bugsink_with_quota(tmp_path: Path) -> Iterator[BugsinkServer]:
    """A Bugsink that accepts 3 events and answers 429 after that."""
    server = _start(tmp_path / "bugsink", quota=3)
    yield server
    server.stop()
