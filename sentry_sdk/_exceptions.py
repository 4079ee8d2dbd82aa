"""Exception events: an exception (with its cause/context chain and groups) as Sentry exception values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._stacktrace import frames_from_traceback, set_in_app
from .types import ExcInfo

_MAX_EXCEPTIONS = 100


def exc_info_from_error(error: BaseException | ExcInfo) -> ExcInfo:
    """An ``exc_info`` tuple from an exception or an ``exc_info`` tuple."""
    if isinstance(error, tuple) and len(error) == 3 and isinstance(error[1], BaseException):
        return (type(error[1]), error[1], error[2])
    if isinstance(error, BaseException):
        return (type(error), error, error.__traceback__)
    raise ValueError(f"expected an exception or an exc_info tuple, got {error!r}")


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<exception str() failed for {type(exc).__name__}>"


def _value(
    exc: BaseException, mechanism: dict[str, Any], include_locals: bool, include_source: bool, max_frames: int
) -> dict[str, Any]:
    cls = type(exc)
    rv: dict[str, Any] = {
        "type": cls.__name__,
        "value": _safe_str(exc),
        "module": cls.__module__,
        "mechanism": mechanism,
    }
    if exc.__traceback__ is not None:
        rv["stacktrace"] = frames_from_traceback(
            exc.__traceback__,
            include_locals=include_locals,
            include_source=include_source,
            max_frames=max_frames,
        )
    return rv


def exceptions_from_error(
    exc: BaseException,
    *,
    mechanism: dict[str, Any],
    include_locals: bool,
    include_source: bool,
    max_frames: int,
) -> list[dict[str, Any]]:
    """Exception values for ``exc`` and its chain and group members, root cause first."""
    handled = mechanism.get("handled", True)
    out: list[dict[str, Any]] = []
    seen: set[int] = set()

    def walk(e: BaseException, mech: dict[str, Any], parent_id: int | None, source: str | None) -> None:
        if id(e) in seen or len(out) >= _MAX_EXCEPTIONS:
            return
        seen.add(id(e))
        exception_id = len(out)
        mech = dict(mech)
        if parent_id is not None or _is_group(e):
            mech["exception_id"] = exception_id
        if parent_id is not None:
            mech["parent_id"] = parent_id
        if source is not None:
            mech["source"] = source
        if _is_group(e):
            mech["is_exception_group"] = True
        out.append(_value(e, mech, include_locals, include_source, max_frames))
        if _is_group(e):
            for i, child in enumerate(getattr(e, "exceptions", ())):
                walk(child, {"type": "chained", "handled": handled}, exception_id, f"exceptions[{i}]")
            return
        if e.__cause__ is not None:
            walk(e.__cause__, {"type": "chained", "handled": handled}, exception_id, "__cause__")
        elif e.__context__ is not None and not e.__suppress_context__:
            walk(e.__context__, {"type": "chained", "handled": handled}, exception_id, "__context__")

    walk(exc, dict(mechanism), None, None)
    out.reverse()
    return out


def _is_group(exc: BaseException) -> bool:
    group = getattr(__import__("builtins"), "BaseExceptionGroup", None)
    return group is not None and isinstance(exc, group)


def event_from_exception(
    exc_info: ExcInfo, *, options: Mapping[str, Any], mechanism: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An error event for ``exc_info`` and the hint that goes with it."""
    values = exceptions_from_error(
        exc_info[1],
        mechanism=mechanism or {"type": "generic", "handled": True},
        include_locals=options.get("include_local_variables", True),
        include_source=options.get("include_source_context", True),
        max_frames=options.get("max_stack_frames", 100),
    )
    for value in values:
        stacktrace = value.get("stacktrace")
        if stacktrace:
            set_in_app(
                stacktrace["frames"],
                in_app_include=options.get("in_app_include", ()),
                in_app_exclude=options.get("in_app_exclude", ()),
                project_root=options.get("project_root"),
            )
    return {"level": "error", "exception": {"values": values}}, {"exc_info": exc_info}


__all__ = ["ExcInfo", "event_from_exception", "exc_info_from_error", "exceptions_from_error"]
