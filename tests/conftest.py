"""Shared fixtures: a clean SDK per test, internal SDK errors as failures, a real ingest server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from payload_check import check_envelope, check_envelope_bytes, check_parsed

from sentry_sdk import Hub, Scope
from sentry_sdk._log import set_debug, set_internal_error_hook
from sentry_sdk.envelope import Envelope
from sentry_sdk.integrations.dedupe import DedupeIntegration
from sentry_sdk.scope import GLOBAL_SCOPE
from sentry_sdk.testing import CapturingTransport, IngestServer

pytest_plugins = ["pytester"]

# Fuzz tests (test_fuzz.py): CI tries the same fixed examples on every run; "long" is a random,
# deeper search for developers (python -m pytest tests/test_fuzz.py --hypothesis-profile=long).
# Each example resets the SDK itself, so function-scoped fixtures are safe across examples.
_FUZZ_CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "ci", max_examples=40, derandomize=True, database=None, deadline=None, suppress_health_check=_FUZZ_CHECKS
)
settings.register_profile(
    "long", max_examples=2000, database=None, deadline=None, suppress_health_check=_FUZZ_CHECKS
)
settings.load_profile("ci")

# Figures a test measured (the secret corpora's catch and pass rates), printed at the end of the
# run so that CI's output shows them.
_FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def report_figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``report_figure(line)`` shows ``line`` in the "measured figures" section of the summary."""
    return request.config.stash.setdefault(_FIGURES, []).append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    figures = config.stash.get(_FIGURES, [])
    if figures:
        terminalreporter.section("measured figures")
        for line in figures:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def sdk_errors_fail_tests(request: pytest.FixtureRequest) -> Iterator[list[BaseException]]:
    """Any error the SDK's internal guard catches during a test fails that test.

    A test that provokes an internal error on purpose takes this fixture and clears the list.
    """
    errors: list[BaseException] = []
    set_internal_error_hook(errors.append)
    yield errors
    set_internal_error_hook(None)
    if errors:
        pytest.fail(f"the SDK reported an internal error: {errors[0]!r}", pytrace=False)


@pytest.fixture(autouse=True)
def clean_sdk(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no client, empty scopes and no SENTRY_* environment."""
    for name in list(os.environ):
        if name.startswith("SENTRY_"):
            monkeypatch.delenv(name)
    _reset()
    yield
    _reset()


def _reset() -> None:
    for hub in {Hub.current, Hub.main}:
        hub._pushed.set(())
        client = hub.client
        if client is not None:
            client.close(timeout=0)
        hub._base.scope = Scope("current")
        hub._base.isolation = Scope("isolation")
    GLOBAL_SCOPE.set_client(None)
    GLOBAL_SCOPE.clear()
    DedupeIntegration.reset_last_seen()
    set_debug(False)


@pytest.fixture
def ingest() -> Iterator[IngestServer]:
    """A real Sentry-compatible ingest server on 127.0.0.1, on a free port."""
    with IngestServer() as server:
        yield server


_ROOT = str(Path(__file__).resolve().parent.parent)


@pytest.fixture
def run_script(tmp_path: Path) -> Callable[[str], subprocess.CompletedProcess[str]]:
    """Run Python source in a fresh interpreter that imports this checkout's sentry_sdk."""

    def run(source: str) -> subprocess.CompletedProcess[str]:
        script = tmp_path / "script.py"
        script.write_text(source)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
        env["PYTHONPATH"] = _ROOT + os.pathsep + env.get("PYTHONPATH", "")
        command = [sys.executable, str(script)]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)

    return run


@pytest.fixture(autouse=True)
def every_payload_passes_relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every envelope a test hands to the in-memory transport or sends to the ingest server is checked.

    Checked at the end of the test: framing, UUID event ids, and Relay's normalizer on every event.
    """
    seen: list[Envelope] = []
    original = CapturingTransport.capture_envelope

    def recording(self: CapturingTransport, envelope: Envelope) -> None:
        seen.append(envelope)
        original(self, envelope)

    monkeypatch.setattr(CapturingTransport, "capture_envelope", recording)
    servers: list[IngestServer] = []
    original_start = IngestServer.start

    def tracking_start(self: IngestServer) -> IngestServer:
        servers.append(self)
        return original_start(self)

    monkeypatch.setattr(IngestServer, "start", tracking_start)
    yield
    for envelope in seen:
        check_envelope(envelope)
    for server in servers:
        for request in server.requests:
            raw = getattr(request, "raw_body", None)
            if raw is not None and request.status == 200:
                check_envelope_bytes(raw)
            elif request.envelope is not None and request.status == 200:
                check_parsed(request.envelope)
