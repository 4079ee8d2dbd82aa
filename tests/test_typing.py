"""Strict typing: the package, and user code in 2.x and early style, pass ``mypy --strict``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_package_and_typical_user_code_pass_mypy_strict() -> None:
    """Code type-checked against sentry-sdk type-checks against this package (tests/typing/)."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "sentry_sdk", "tests/typing"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert 0 == result.returncode, result.stdout + result.stderr
    assert "Success" in result.stdout
