"""The helpers code written for sentry-sdk imports from ``sentry_sdk.utils``, under the same names.

A compatibility facade: each name either comes from the SDK module that owns the concept or is a
small function kept here because sentry-sdk users call it by this path. ``import sentry_sdk`` does
not load this module.
"""

from __future__ import annotations

import sys
from functools import partial

from ._dsn import BadDsn, Dsn
from ._exceptions import event_from_exception as _event_from_exception
from ._exceptions import exc_info_from_error
from ._log import capture_internal_exceptions, logger
from ._options import default_release
from ._serializer import safe_repr
from ._stacktrace import frames_from_stack
from .consts import DEFAULT_MAX_STACK_FRAMES

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from datetime import datetime
    from types import TracebackType
    from typing import Any, NoReturn

    from .types import Event, ExcInfo, Hint

__all__ = [
    "BadDsn",
    "Dsn",
    "capture_internal_exceptions",
    "current_stacktrace",
    "event_from_exception",
    "exc_info_from_error",
    "format_timestamp",
    "get_default_release",
    "get_type_module",
    "get_type_name",
    "iter_event_frames",
    "iter_event_stacktraces",
    "logger",
    "qualname_from_function",
    "reraise",
    "safe_repr",
    "safe_str",
    "walk_exception_chain",
]


def event_from_exception(
    exc_info: ExcInfo | BaseException,
    client_options: Mapping[str, Any] | None = None,
    mechanism: dict[str, Any] | None = None,
) -> tuple[Event, Hint]:
    """An error event for an exception (or ``exc_info`` triple) and its hint ``{"exc_info": ...}``.

    ``client_options`` (usually ``client.options``) decide locals, source context, the frame limit
    and in-app marking; missing ones take the SDK's defaults. ``mechanism`` says how the exception
    was caught (default ``{"type": "generic", "handled": True}``).
    """
    return _event_from_exception(
        exc_info_from_error(exc_info), options=client_options or {}, mechanism=mechanism
    )


def get_default_release() -> str | None:
    """The release the SDK reports when none is configured: ``SENTRY_RELEASE``, git HEAD or a CI variable."""
    return default_release()


def format_timestamp(value: datetime) -> str:
    """``value`` in UTC as ISO-8601 with microseconds and a ``Z``: ``2024-05-01T12:00:00.000000Z``.

    A naive datetime is read as local time, as :meth:`datetime.astimezone` does.
    """
    from datetime import timezone

    utc = value.astimezone(timezone.utc).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def safe_str(value: object) -> str:
    """``str(value)``, or its :func:`safe_repr` when ``str`` fails or takes too long."""
    from ._usercode import TimeBudget

    try:
        text = TimeBudget(0.05, 0.05).call(str, value)
    except Exception:
        # A broken __str__ must not break the caller: the repr (or a placeholder) says what it was.
        text = None
    return text if type(text) is str else safe_repr(value)


def get_type_name(cls: object) -> str | None:
    """The qualified name of a class (``Outer.Inner``), or None if it has none."""
    name = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", None)
    return name if isinstance(name, str) else None


def get_type_module(cls: object) -> str | None:
    """The module a class is defined in; None for builtins and for classes without a module."""
    module = getattr(cls, "__module__", None)
    if not isinstance(module, str) or module in ("builtins", "__builtins__"):
        return None
    return module


def qualname_from_function(func: object) -> str | None:
    """``"module.Qual.name"`` for a function or method; ``"partial(<function ...>)"`` for a partial.

    None for a callable without a name (an instance with ``__call__``, say).
    """
    if isinstance(func, partial):
        inner = qualname_from_function(func.func)
        return None if inner is None else f"partial(<function {inner}>)"
    name = get_type_name(func)
    if name is None:
        return None
    module = getattr(func, "__module__", None)
    return f"{module}.{name}" if isinstance(module, str) and module else name


def walk_exception_chain(exc_info: ExcInfo) -> Iterator[ExcInfo]:
    """``exc_info`` and then each exception that led to it, as Python's traceback shows the chain.

    Follows ``__cause__``, else ``__context__`` unless ``raise ... from None`` suppressed it; each
    exception is given once, so a cyclic chain ends.
    """
    exc_type, value, tb = exc_info
    seen: set[int] = set()
    while value is not None and id(value) not in seen:
        yield exc_type, value, tb
        seen.add(id(value))
        if value.__cause__ is not None:
            value = value.__cause__
        elif value.__context__ is not None and not value.__suppress_context__:
            value = value.__context__
        else:
            break
        exc_type, tb = type(value), value.__traceback__


def current_stacktrace(
    include_local_variables: bool = True,
    include_source_context: bool = True,
    max_value_length: int | None = None,
) -> dict[str, Any]:
    """The stack trace ``{"frames": [...]}`` of the caller, outermost frame first.

    The SDK's own frames at the inner end are left out. ``max_value_length`` shortens source lines
    longer than it (they end with "..."); local variables are kept as objects for the serializer.
    """
    frame = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("sentry_sdk."):
        back = frame.f_back
        if back is None:
            break
        frame = back
    stacktrace = frames_from_stack(
        frame,
        include_locals=include_local_variables,
        include_source=include_source_context,
        max_frames=DEFAULT_MAX_STACK_FRAMES,
    )
    if max_value_length is not None:
        limit = max(int(max_value_length), 3)
        for entry in stacktrace["frames"]:
            _shorten_source(entry, limit)
    return stacktrace


def _shorten_source(frame: dict[str, Any], limit: int) -> None:
    def cut(line: str) -> str:
        return line if len(line) <= limit else line[: limit - 3] + "..."

    if "context_line" in frame:
        frame["context_line"] = cut(frame["context_line"])
    for key in ("pre_context", "post_context"):
        if key in frame:
            frame[key] = [cut(line) for line in frame[key]]


def iter_event_stacktraces(event: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every stack trace in an event: the event's own, each thread's and each exception's."""
    own = event.get("stacktrace")
    if isinstance(own, dict):
        yield own
    for area in ("threads", "exception"):
        holder = event.get(area)
        values = holder.get("values") if isinstance(holder, dict) else holder
        if not isinstance(values, list):
            continue
        for value in values:
            stacktrace = value.get("stacktrace") if isinstance(value, dict) else None
            if isinstance(stacktrace, dict):
                yield stacktrace


def iter_event_frames(event: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every frame of every stack trace in an event (see :func:`iter_event_stacktraces`)."""
    for stacktrace in iter_event_stacktraces(event):
        frames = stacktrace.get("frames")
        if isinstance(frames, list):
            for frame in frames:
                if isinstance(frame, dict):
                    yield frame


def reraise(
    tp: type[BaseException] | None, value: BaseException, tb: TracebackType | None = None
) -> NoReturn:
    """Raise ``value`` again, with the traceback ``tb`` when one is given."""
    if tb is not None and value.__traceback__ is not tb:
        raise value.with_traceback(tb)
    raise value
