"""Dedupe: the same exception object captured twice in a row is sent only once."""

from __future__ import annotations

from contextvars import ContextVar

from ..scope import add_global_event_processor
from . import Integration

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..types import Event, Hint


__all__ = ["DedupeIntegration", "sent_last"]

# Exceptions cannot be weakly referenced, and a strong reference would keep the last traceback and
# all its frames alive. Instead each sent exception is stamped with a fresh marker object, and the
# context remembers the last marker: the same object carries the same marker, a new one never does.
_MARK = "_sentry_dedupe_mark"
_last_seen: ContextVar[object | None] = ContextVar("sentry_dedupe_last_seen", default=None)


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


def sent_last(integrations: dict[str, Integration], exc: BaseException) -> bool:
    """Whether Dedupe (if among ``integrations``) would drop an event of ``exc`` in this context.

    For integrations that see an exception a second time (a framework logs the error another
    integration has just captured): asking first spares building an event that would only be
    dropped, and the drop is not counted as a lost event, since nothing was lost.
    """
    last = _last_seen.get()
    return last is not None and "dedupe" in integrations and getattr(exc, _MARK, None) is last


def _dedupe(event: Event, hint: Hint) -> Event | None:
    from ..hub import Hub

    if Hub.current.get_integration(DedupeIntegration) is None:
        return event
    exc_info: Any = hint.get("exc_info")
    if not exc_info or exc_info[1] is None:
        return event
    exc = exc_info[1]
    last = _last_seen.get()
    if last is not None and getattr(exc, _MARK, None) is last:
        return None
    mark = object()
    try:
        setattr(exc, _MARK, mark)
    except (AttributeError, TypeError):  # an exception that takes no attributes: cannot compare
        mark = None
    _last_seen.set(mark)
    return event
