"""Tracing's public face, as sentry-sdk 2.x has it: ``Span``, ``Transaction``, ``trace`` and friends.

The model lives in :mod:`sentry_sdk._tracing`; this module names it and adds the ``@trace``
decorator, which wraps a function (sync or async) in a child span of whatever span is running
when it is called, and does nothing else when none is.
"""

from __future__ import annotations

from ._tracing.functions import wrap
from ._tracing.headers import BAGGAGE_HEADER, SENTRY_TRACE_HEADER
from ._tracing.spans import NoOpSpan, Span, Transaction

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

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
        return wrap(func, op, name, attributes)
    return lambda function: wrap(function, op, name, attributes)
