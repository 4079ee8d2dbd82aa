"""``python -m sentry_sdk demo`` shows an event as its loopback server received it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)


def test_the_demo_prints_what_the_server_received() -> None:
    """The demo's output holds the exception, its source line, tags, user, breadcrumbs, message and log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env["PYTHONPATH"] = ROOT
    result = subprocess.run(
        [sys.executable, "-m", "sentry_sdk", "demo"], capture_output=True, text=True, timeout=60, env=env
    )
    assert 0 == result.returncode, result.stderr
    out = result.stdout
    for expected in (
        "ZeroDivisionError",
        "division by zero",
        "_checkout",
        "discount = 100 / (total - total)",
        "feature",
        "checkout",
        "ada",
        "added 2 books",
        "opened checkout",
        "The demo says hello",
        "card declined for order 1234",
        "event 3 of 3",
    ):
        assert expected in out, f"{expected!r} missing from the demo output:\n{out}"
