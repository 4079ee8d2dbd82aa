"""Excepthook: uncaught exceptions are captured as unhandled, then the previous hook runs."""

from __future__ import annotations

import sys
from types import TracebackType

from .._exceptions import event_from_exception
from .._log import report_internal_error
from . import Integration

__all__ = ["ExcepthookIntegration"]


class ExcepthookIntegration(Integration):
    """Wraps ``sys.excepthook``."""

    identifier = "excepthook"

    def __init__(self, always_run: bool = False) -> None:
        self.always_run = always_run

    @staticmethod
    def setup_once() -> None:
        previous = sys.excepthook

        def sentry_excepthook(
            exc_type: type[BaseException], value: BaseException, tb: TracebackType | None
        ) -> None:
            _capture_uncaught(exc_type, value, tb)
            previous(exc_type, value, tb)

        sys.excepthook = sentry_excepthook


def _capture_uncaught(exc_type: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    from ..hub import Hub

    try:
        hub = Hub.current
        client = hub.client
        integration = client.get_integration(ExcepthookIntegration) if client is not None else None
        if client is None or not isinstance(integration, ExcepthookIntegration):
            return
        # In an interactive shell a traceback is part of normal work, not a crash to report.
        if hasattr(sys, "ps1") and not integration.always_run:
            return
        event, hint = event_from_exception(
            (exc_type, value, tb), options=client.options, mechanism={"type": "excepthook", "handled": False}
        )
        event["level"] = "error"
        hub.capture_event(event, hint)
    except Exception:
        report_internal_error()
