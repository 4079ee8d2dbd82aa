"""Dedupe: the same exception object captured twice in a row is sent only once."""

from __future__ import annotations

import weakref
from contextvars import ContextVar
from typing import Any

from ..scope import add_global_event_processor
from ..types import Event, Hint
from . import Integration

__all__ = ["DedupeIntegration"]

_last_seen: ContextVar[weakref.ref[BaseException] | None] = ContextVar(
    "sentry_dedupe_last_seen", default=None
)


class DedupeIntegration(Integration):
    """Drops an error event whose exception is the very object sent last in this context."""

    identifier = "dedupe"

    @staticmethod
    def setup_once() -> None:
        add_global_event_processor(_dedupe)

    @staticmethod
    def reset_last_seen() -> None:
        """Forget the last exception, so that it may be sent again."""
        _last_seen.set(None)


def _dedupe(event: Event, hint: Hint) -> Event | None:
    from ..hub import Hub

    if Hub.current.get_integration(DedupeIntegration) is None:
        return event
    exc_info: Any = hint.get("exc_info")
    if not exc_info or exc_info[1] is None:
        return event
    exc = exc_info[1]
    last = _last_seen.get()
    if last is not None and last() is exc:
        return None
    try:
        _last_seen.set(weakref.ref(exc))
    except TypeError:  # an exception type without weakref support: nothing to compare with
        _last_seen.set(None)
    return event
