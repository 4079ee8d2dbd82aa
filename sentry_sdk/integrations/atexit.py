"""Atexit: at interpreter exit, pending events are flushed within ``shutdown_timeout``."""

from __future__ import annotations

import atexit
import sys

from .._log import report_internal_error
from . import Integration

__all__ = ["AtexitIntegration"]


def _tell_stderr(pending: int, timeout: float) -> None:
    sys.stderr.write(
        f"sentry_sdk: sending {pending} pending event(s) before exit (waiting up to {timeout:g}s)\n"
    )
    sys.stderr.flush()


class AtexitIntegration(Integration):
    """Flushes and closes the client when the interpreter exits, telling stderr what is pending."""

    identifier = "atexit"

    @staticmethod
    def setup_once() -> None:
        atexit.register(_shutdown)


def _shutdown() -> None:
    from ..hub import Hub

    try:
        for hub in (Hub.current, Hub.main):
            client = hub.client
            if client is not None and client.get_integration(AtexitIntegration) is not None:
                client.close(callback=_tell_stderr)
    except Exception:
        report_internal_error()
