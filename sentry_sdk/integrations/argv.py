"""Argv: every event carries the process's command line as ``extra["sys.argv"]``."""

from __future__ import annotations

import sys

from .._log import report_internal_error
from ..hub import Hub
from ..scope import add_global_event_processor
from . import Integration

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..types import Event, Hint


__all__ = ["ArgvIntegration"]


class ArgvIntegration(Integration):
    """Adds a copy of ``sys.argv`` to each event's extra data, unless the event already has one."""

    identifier = "argv"

    @staticmethod
    def setup_once() -> None:
        add_global_event_processor(_add_argv)


def _add_argv(event: Event, hint: Hint) -> Event:
    try:
        if Hub.current.get_integration(ArgvIntegration) is None:
            return event
        extra = event.get("extra")
        if extra is None:
            event["extra"] = {"sys.argv": list(sys.argv)}
        elif isinstance(extra, dict) and "sys.argv" not in extra:
            # A new dict: the one there may be the caller's own, passed to capture_event.
            event["extra"] = {"sys.argv": list(sys.argv), **extra}
    except Exception:
        report_internal_error()
    return event
