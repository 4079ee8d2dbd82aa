"""The trace across the broker: where a task's message keeps its ``sentry-trace`` and ``baggage``.

Publishing puts the publishing context's trace headers into the message (the scope's
``iter_trace_propagation_headers``); the worker continues them on the task's isolation scope
(``generate_propagation_context``), third-party baggage entries passed on unchanged.
"""

from __future__ import annotations

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["header"]


def header(request: Any, name: str) -> str | None:
    """A message header from a task's request (a dict, or Celery's request ``Context``)."""
    get = getattr(request, "get", None)
    if get is None:
        return None
    value = get(name)
    if value is None:
        nested = get("headers")  # apply(headers=...) and task protocol 1 nest the custom headers
        value = nested.get(name) if isinstance(nested, dict) else None
    return value if isinstance(value, str) else None
