"""Making an event small enough for the server, cutting what matters least first.

Sentry refuses events over 1 MiB (HTTP 413). Rather than lose such an event, it is cut in steps,
each kept only as long as the event is still too big: local variables first, then breadcrumbs,
then long strings, then the frames in the middle of long stack traces (the outermost and innermost
frames, where a crash starts and ends, are kept). What was cut is said in the event's ``_meta``
(and ``frames_omitted`` for frames), so the event shows it.
"""

from __future__ import annotations

from collections.abc import Callable

from ._meta import meta_at
from .consts import MAX_EVENT_BYTES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["trim_event"]

_LONG_STRING = 1024
# Frames kept at each end of a stack trace whose middle is cut.
_FRAME_ENDS = 10


def trim_event(
    event: dict[str, Any], size_of: Callable[[dict[str, Any]], int], limit: int = MAX_EVENT_BYTES
) -> bool:
    """Cut ``event`` in place until ``size_of(event) <= limit``; returns whether it now fits."""
    for step in (_drop_frame_vars, _drop_breadcrumbs, _cut_long_strings, _drop_middle_frames):
        if size_of(event) <= limit:
            return True
        step(event)
    return size_of(event) <= limit


def _note(event: dict[str, Any], path: list[str], note: dict[str, Any]) -> None:
    meta_at(event, path).update(note)


def _stacktraces(event: dict[str, Any]) -> list[tuple[list[str], dict[str, Any]]]:
    found = []
    for area in ("exception", "threads"):
        values = (event.get(area) or {}).get("values") if isinstance(event.get(area), dict) else None
        for index, value in enumerate(values or ()):
            stacktrace = value.get("stacktrace") if isinstance(value, dict) else None
            if isinstance(stacktrace, dict):
                found.append(([area, "values", str(index), "stacktrace"], stacktrace))
    return found


def _drop_frame_vars(event: dict[str, Any]) -> None:
    for path, stacktrace in _stacktraces(event):
        for index, frame in enumerate(stacktrace.get("frames") or ()):
            if isinstance(frame, dict) and frame.pop("vars", None) is not None:
                _note(event, [*path, "frames", str(index), "vars"], {"rem": [["!limit", "x"]]})


def _drop_breadcrumbs(event: dict[str, Any]) -> None:
    crumbs = event.get("breadcrumbs")
    values = crumbs.get("values") if isinstance(crumbs, dict) else None
    if values:
        event["breadcrumbs"] = {"values": []}
        _note(event, ["breadcrumbs", "values"], {"len": len(values), "rem": [["!limit", "x"]]})


def _cut_long_strings(event: dict[str, Any]) -> None:
    def walk(node: Any, path: list[str]) -> Any:
        if isinstance(node, str) and len(node) > _LONG_STRING:
            _note(event, path, {"len": len(node), "rem": [["!limit", "s", _LONG_STRING - 3, _LONG_STRING]]})
            return node[: _LONG_STRING - 3] + "..."
        if isinstance(node, dict):
            for key in list(node):
                if key != "_meta":
                    node[key] = walk(node[key], [*path, str(key)])
        elif isinstance(node, list):
            for index, item in enumerate(node):
                node[index] = walk(item, [*path, str(index)])
        return node

    walk(event, [])


def _drop_middle_frames(event: dict[str, Any]) -> None:
    for path, stacktrace in _stacktraces(event):
        frames = stacktrace.get("frames")
        if not isinstance(frames, list) or len(frames) <= 2 * _FRAME_ENDS:
            continue
        count = len(frames)
        # An earlier cut (max_stack_frames) left a gap [start, end) in the original numbering: the
        # new gap swallows it, so the new one is given in that numbering too.
        start, end = _gap(stacktrace.get("frames_omitted"), count)
        first, last = _FRAME_ENDS, count - _FRAME_ENDS - 1
        stacktrace["frames"] = frames[:_FRAME_ENDS] + frames[-_FRAME_ENDS:]
        stacktrace["frames_omitted"] = [
            first if first < start else first + end - start,
            (last if last < start else last + end - start) + 1,
        ]
        _note(event, [*path, "frames"], {"len": count, "rem": [["!limit", "x"]]})


def _gap(gap: Any, count: int) -> tuple[int, int]:
    """A valid ``frames_omitted`` range as a tuple; an empty one past the end if there is none."""
    if isinstance(gap, list) and len(gap) == 2 and type(gap[0]) is int and type(gap[1]) is int:
        if 0 <= gap[0] <= gap[1]:
            return gap[0], gap[1]
    return count, count
