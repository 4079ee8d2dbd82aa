"""Reporting an exception that escapes code an integration wrapped, as an unhandled error."""

from __future__ import annotations

from .._exceptions import event_from_exception
from .._log import report_internal_error
from ..hub import Hub
from . import Integration
from .dedupe import sent_last

__all__ = ["capture_unhandled"]


def capture_unhandled(
    integration: type[Integration] | str | None, exc: BaseException, mechanism: str, handled: bool = False
) -> str | None:
    """Send ``exc`` as an error of ``mechanism``, if the current client enables ``integration``.

    ``integration`` is the class or its identifier; with ``None`` (a middleware the program
    applied itself) any bound client will do.

    For patched code that then re-raises (or hands the error back to its framework): it never
    raises itself. Returns the event id, or ``None`` when nothing was sent.
    """
    try:
        hub = Hub.current
        client = hub.client
        if client is None or (integration is not None and client.get_integration(integration) is None):
            return None
        if sent_last(client.integrations, exc):  # an outer layer seeing what an inner one sent
            return None
        event, hint = event_from_exception(
            (type(exc), exc, exc.__traceback__),
            options=client.options,
            mechanism={"type": mechanism, "handled": handled},
        )
        event["level"] = "error"
        return hub.capture_event(event, hint)
    except Exception:
        report_internal_error()
        return None
