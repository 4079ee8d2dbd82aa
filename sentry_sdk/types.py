"""Type aliases for the payloads user callbacks receive (events, hints, breadcrumbs)."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Optional

# Plain aliases (not TypedDicts) so that user code may put any key it likes in an event, as the
# Sentry protocol allows. Evaluated at runtime, hence ``Optional`` for Python 3.9.
Event = dict[str, Any]
Hint = dict[str, Any]
Breadcrumb = dict[str, Any]
BreadcrumbHint = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, Optional[TracebackType]]
EventProcessor = Callable[[Event, Hint], Optional[Event]]
# What a ``traces_sampler`` receives; accepted for 2.x code that annotates one (tracing is planned).
SamplingContext = dict[str, Any]
ErrorProcessor = Callable[[Event, ExcInfo], Optional[Event]]

__all__ = [
    "Breadcrumb",
    "BreadcrumbHint",
    "ErrorProcessor",
    "Event",
    "EventProcessor",
    "ExcInfo",
    "Hint",
    "SamplingContext",
]
