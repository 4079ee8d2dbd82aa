"""Turn a raised exception, with its cause/context chain and group members, into a Sentry error event."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import islice
from types import TracebackType

from ._stacktrace import frames_from_traceback, set_in_app
from ._usercode import TimeBudget

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    ExcInfo = tuple[type[BaseException], BaseException, Optional[TracebackType]]


__all__ = ["ExcInfo", "event_from_exception", "exc_info_from_error", "exceptions_from_error"]


# One event carries at most this many exceptions, so a hostile or runaway chain or group (a group
# of a million members, a chain built in a loop) costs a bounded amount of work and payload.
_MAX_EXCEPTIONS = 100
# Seconds an exception's __str__ may run.
_STR_SECONDS = 0.05

_DEFAULT_MECHANISM: dict[str, Any] = {"type": "generic", "handled": True}


def exc_info_from_error(error: BaseException | ExcInfo) -> ExcInfo:
    """The ``(type, value, traceback)`` triple for an exception or an existing ``exc_info`` tuple.

    The type is always the value's own class. A tuple without a traceback falls back to the one the
    exception carries. Anything else raises :class:`ValueError`.
    """
    if isinstance(error, BaseException):
        return (type(error), error, error.__traceback__)
    if isinstance(error, tuple) and len(error) == 3:
        value = error[1]
        if isinstance(value, BaseException):
            tb = error[2]
            if not isinstance(tb, TracebackType):
                tb = value.__traceback__
            return (type(value), value, tb)
    # Only the type is named: the repr of arbitrary input can be huge or raise.
    raise ValueError(f"expected an exception or an exc_info tuple, not {type(error).__name__}")


def _safe_str(exc: BaseException) -> str:
    try:
        # An exception's __str__ is the program's code: it may fail, or never return.
        text = TimeBudget(_STR_SECONDS, _STR_SECONDS).call(str, exc)
        return text if type(text) is str else str.__str__(text)
    except Exception:
        # A broken __str__ must not lose the event; say what the value was instead.
        return f"<unprintable {type(exc).__name__} object>"


def _group_members(exc: BaseException) -> tuple[Any, ...] | None:
    """The members of an exception group, or None for an exception that is not one.

    Duck-typed on the ``exceptions`` tuple rather than ``isinstance(exc, BaseExceptionGroup)``: that
    class only exists from Python 3.11, and the ``exceptiongroup`` backport defines its own.
    """
    try:
        members = getattr(exc, "exceptions", None)
    except Exception:
        # A property that raises says nothing about being a group.
        return None
    return members if isinstance(members, tuple) else None


def _next_in_chain(exc: BaseException) -> tuple[BaseException, str] | None:
    """The exception that led to ``exc``, and which link it came through, as Python's traceback shows it."""
    if exc.__cause__ is not None:
        return exc.__cause__, "__cause__"
    # ``raise ... from None`` sets __suppress_context__: the user asked not to show the context.
    if exc.__context__ is not None and not exc.__suppress_context__:
        return exc.__context__, "__context__"
    return None


def _value(
    exc: BaseException,
    tb: TracebackType | None,
    mechanism: dict[str, Any],
    include_locals: bool,
    include_source: bool,
    max_frames: int,
) -> dict[str, Any]:
    cls = type(exc)
    rv: dict[str, Any] = {
        "type": cls.__name__,
        "value": _safe_str(exc),
        # Builtins included ("builtins"): Sentry shows the module before the type name.
        "module": cls.__module__,
        "mechanism": mechanism,
    }
    if tb is not None:
        rv["stacktrace"] = frames_from_traceback(
            tb, include_locals=include_locals, include_source=include_source, max_frames=max_frames
        )
    return rv


def _collect(
    top: BaseException,
    top_tb: TracebackType | None,
    mechanism: dict[str, Any],
    include_locals: bool,
    include_source: bool,
    max_frames: int,
) -> list[dict[str, Any]]:
    """Exception values depth-first from ``top`` (exception_id = position), before Sentry's reversal."""
    values: list[dict[str, Any]] = []
    # ids are safe to compare: every exception walked stays reachable from ``top`` throughout.
    seen: set[int] = set()
    # An explicit stack, not recursion: a chain thousands of links long must not hit the recursion limit.
    pending: list[tuple[BaseException, int | None, str | None]] = [(top, None, None)]
    while pending and len(values) < _MAX_EXCEPTIONS:
        exc, parent_id, source = pending.pop()
        if id(exc) in seen:
            # A cycle (a.__context__ is b, b.__context__ is a) or one exception in two places.
            continue
        seen.add(id(exc))
        exception_id = len(values)
        if parent_id is None:
            mech = dict(mechanism)
            tb = top_tb
        else:
            # Every exception shares the top one's fate: if that was handled, so were the ones behind it.
            mech = {"type": "chained", "source": source, "parent_id": parent_id}
            if "handled" in mechanism:
                mech["handled"] = mechanism["handled"]
            tb = exc.__traceback__
        mech["exception_id"] = exception_id
        members = _group_members(exc)
        if members is not None:
            mech["is_exception_group"] = True
        values.append(_value(exc, tb, mech, include_locals, include_source, max_frames))

        children: list[tuple[BaseException, int | None, str | None]] = []
        link = _next_in_chain(exc)
        if link is not None:
            children.append((link[0], exception_id, link[1]))
        if members is not None:
            # No more members than could ever be reported are looked at, however large the group.
            for index, member in islice(enumerate(members), _MAX_EXCEPTIONS):
                if isinstance(member, BaseException):
                    children.append((member, exception_id, f"exceptions[{index}]"))
        # Reversed onto the stack so the chain is walked first, then the members in order.
        pending.extend(reversed(children))
    return values


def exceptions_from_error(
    exc: BaseException,
    *,
    mechanism: dict[str, Any],
    include_locals: bool,
    include_source: bool,
    max_frames: int,
) -> list[dict[str, Any]]:
    """Sentry exception values for ``exc``, its ``__cause__``/``__context__`` chain and group members.

    The list runs root cause first and ``exc`` last, as Sentry expects. ``exc`` gets a copy of
    ``mechanism``; every other exception gets ``{"type": "chained", "source": <"__cause__",
    "__context__" or "exceptions[i]">, "handled": <exc's handled>}``. All carry ``exception_id`` (the
    position in a depth-first walk from ``exc``, which is 0) and all but ``exc`` carry ``parent_id``;
    groups carry ``is_exception_group``. At most 100 exceptions are reported.
    """
    values = _collect(exc, exc.__traceback__, mechanism, include_locals, include_source, max_frames)
    values.reverse()
    return values


def _option(options: Mapping[str, Any], key: str, default: Any) -> Any:
    value = options.get(key)
    return default if value is None else value


def event_from_exception(
    exc_info: ExcInfo, *, options: Mapping[str, Any], mechanism: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An error event for ``exc_info`` and the hint that goes with it: ``(event, {"exc_info": ...})``.

    ``mechanism`` says how the exception was caught (default ``{"type": "generic", "handled": True}``);
    the client ``options`` decide locals, source context, the frame limit and in-app marking.
    """
    exc_info = exc_info_from_error(exc_info)
    # Copied so the caller's dict (often a shared constant) is never mutated.
    mech = dict(_DEFAULT_MECHANISM if mechanism is None else mechanism)
    mech.setdefault("type", "generic")
    values = _collect(
        exc_info[1],
        exc_info[2],
        mech,
        include_locals=bool(_option(options, "include_local_variables", True)),
        include_source=bool(_option(options, "include_source_context", True)),
        max_frames=int(_option(options, "max_stack_frames", 100)),
    )
    values.reverse()
    in_app_include = _option(options, "in_app_include", ())
    in_app_exclude = _option(options, "in_app_exclude", ())
    project_root = options.get("project_root")
    for value in values:
        stacktrace = value.get("stacktrace")
        if stacktrace is not None:
            set_in_app(
                stacktrace["frames"],
                in_app_include=in_app_include,
                in_app_exclude=in_app_exclude,
                project_root=project_root,
            )
    return {"level": "error", "exception": {"values": values}}, {"exc_info": exc_info}
