"""The opt-in SIGTERM integration: pending events are sent before the process goes."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import Any

import pytest

from sentry_sdk.testing import IngestServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")

_SCRIPT = """
import os, signal, sentry_sdk
from sentry_sdk.integrations.sigterm import SigtermIntegration
{before}
sentry_sdk.init(dsn={dsn!r}, integrations=[SigtermIntegration()])
for i in range(3):
    sentry_sdk.capture_message(f"before sigterm {{i}}")
os.kill(os.getpid(), signal.SIGTERM)
print("still running after SIGTERM")
"""


def test_sigterm_flushes_then_ends_the_process_as_sigterm_does(
    ingest: IngestServer, run_script: Callable[[str], Any]
) -> None:
    """Queued events arrive, and the process still dies of SIGTERM (exit status -15)."""
    ingest.delay = 0.2
    result = run_script(_SCRIPT.format(dsn=ingest.dsn, before=""))
    assert -signal.SIGTERM == result.returncode, result.stderr
    assert "still running" not in result.stdout
    assert 3 == len(ingest.wait_for_events(3))


def test_a_handler_installed_before_runs_after_the_flush(
    ingest: IngestServer, run_script: Callable[[str], Any]
) -> None:
    """The program's own SIGTERM handler is called after the events are sent."""
    ingest.delay = 0.2
    before = "def mine(signum, frame):\n    print('my handler ran')\nsignal.signal(signal.SIGTERM, mine)\n"
    result = run_script(_SCRIPT.format(dsn=ingest.dsn, before=before))
    assert 0 == result.returncode, result.stderr
    assert "my handler ran" in result.stdout
    assert "still running after SIGTERM" in result.stdout
    assert 3 == len(ingest.wait_for_events(3))
