"""Importing the frameworks integration tests run on: a missing one skips, except under CI=true."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def require(module: str) -> ModuleType:
    """Import ``module``; when it is missing, skip the test module, but fail under ``CI=true``.

    CI installs every framework (the test extra), so a missing one there is a broken setup that
    must not pass as a skip.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is required in CI: {exc}", pytrace=False)
        pytest.skip(f"{module} is not installed", allow_module_level=True)
        raise  # not reached: skip raises
