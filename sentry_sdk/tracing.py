"""Tracing's public face, as sentry-sdk 2.x has it: ``Span``, ``Transaction``, ``trace`` and friends.

The model lives in :mod:`sentry_sdk._tracing`; this module names it and adds the ``@trace``
decorator, which wraps a function (sync or async) in a child span of whatever span is running
when it is called, and does nothing else when none is.
"""

from __future__ import annotations

import functools
import inspect

from ._tracing.headers import BAGGAGE_HEADER, SENTRY_TRACE_HEADER
from ._tracing.spans import NoOpSpan, Span, Transaction

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    _F = TypeVar("_F", bound=Callable[..., Any])

__all__ = [
    "BAGGAGE_HEADER_NAME",
    "SENTRY_TRACE_HEADER_NAME",
    "NoOpSpan",
    "Span",
    "Transaction",
    "TransactionSource",
    "trace",
]

SENTRY_TRACE_HEADER_NAME = SENTRY_TRACE_HEADER
BAGGAGE_HEADER_NAME = BAGGAGE_HEADER


class TransactionSource:
    """Where a transaction's name came from (``transaction_info.source``)."""

    COMPONENT = "component"
    CUSTOM = "custom"
    ROUTE = "route"
    TASK = "task"
    URL = "url"
    VIEW = "view"


def _qualified_name(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", repr(function))
    return f"{module}.{name}" if module else str(name)


def _wrap(function: _F, op: str | None, name: str | None, attributes: dict[str, Any] | None) -> _F:
    from .api import get_current_span

    description = name or _qualified_name(function)
    span_op = op or "function"

    def child() -> Span | None:
        parent = get_current_span()
        if parent is None:
            return None
        span = parent.start_child(op=span_op, name=description)
        if attributes:
            span.update_data(attributes)
        return span

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            span = child()
            if span is None:
                return await function(*args, **kwargs)
            with span:
                return await function(*args, **kwargs)

        return traced_async  # type: ignore[return-value]

    @functools.wraps(function)
    def traced(*args: Any, **kwargs: Any) -> Any:
        span = child()
        if span is None:
            return function(*args, **kwargs)
        with span:
            return function(*args, **kwargs)

    return traced  # type: ignore[return-value]


def trace(
    func: Callable[..., Any] | None = None,
    *,
    op: str | None = None,
    name: str | None = None,
    attributes: dict[str, Any] | None = None,
    **_ignored: Any,
) -> Any:
    """``@trace`` or ``@trace(op=..., name=...)``: each call is a child span of the running span."""
    if func is not None:
        return _wrap(func, op, name, attributes)
    return lambda function: _wrap(function, op, name, attributes)
