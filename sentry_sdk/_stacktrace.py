"""Stack traces: frames from tracebacks and live stacks, with source context and in_app marking."""

from __future__ import annotations

import linecache
import os
from collections.abc import Sequence
from types import FrameType, TracebackType
from typing import Any

_CONTEXT_LINES = 5


def filename_for_module(module: str | None, abs_path: str) -> str:
    """The path of ``abs_path`` relative to the directory its top-level package lives in."""
    if not module or not abs_path:
        return abs_path
    try:
        if abs_path.endswith(".pyc"):
            abs_path = abs_path[:-1]
        base = module.split(".", 1)[0]
        if base == module:
            return os.path.basename(abs_path)
        base_module = __import__("sys").modules.get(base)
        base_file = getattr(base_module, "__file__", None)
        if not base_file:
            return abs_path
        base_dir = os.path.dirname(os.path.dirname(base_file)) + os.sep
        return abs_path[len(base_dir) :] if abs_path.startswith(base_dir) else abs_path
    except Exception:
        return abs_path


def _frame(frame: FrameType, lineno: int, include_locals: bool, include_source: bool) -> dict[str, Any]:
    code = frame.f_code
    f_globals = frame.f_globals
    module = f_globals.get("__name__")
    abs_path = code.co_filename
    if abs_path and not abs_path.startswith("<"):
        abs_path = os.path.abspath(abs_path)
    rv: dict[str, Any] = {
        "filename": filename_for_module(module, abs_path),
        "abs_path": abs_path,
        "function": code.co_name or "<unknown>",
        "module": module,
        "lineno": lineno,
    }
    if include_source and lineno:
        lines = linecache.getlines(code.co_filename, f_globals)
        index = lineno - 1
        if 0 <= index < len(lines):
            rv["pre_context"] = [
                line.rstrip("\r\n") for line in lines[max(0, index - _CONTEXT_LINES) : index]
            ]
            rv["context_line"] = lines[index].rstrip("\r\n")
            rv["post_context"] = [
                line.rstrip("\r\n") for line in lines[index + 1 : index + 1 + _CONTEXT_LINES]
            ]
    if include_locals:
        try:
            rv["vars"] = dict(frame.f_locals)
        except Exception:
            pass
    return rv


def _build(
    pairs: list[tuple[FrameType, int]], include_locals: bool, include_source: bool, max_frames: int
) -> dict[str, Any]:
    omitted: list[int] | None = None
    if len(pairs) > max_frames:
        head = max_frames // 2
        tail = max_frames - head
        omitted = [head, len(pairs) - tail]
        pairs = pairs[:head] + pairs[len(pairs) - tail :]
    rv: dict[str, Any] = {"frames": [_frame(f, n, include_locals, include_source) for f, n in pairs]}
    if omitted is not None:
        rv["frames_omitted"] = omitted
    return rv


def frames_from_traceback(
    tb: TracebackType | None, *, include_locals: bool, include_source: bool, max_frames: int
) -> dict[str, Any]:
    """The stack trace of a traceback, oldest frame first, at most ``max_frames`` frames."""
    pairs: list[tuple[FrameType, int]] = []
    while tb is not None:
        pairs.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    return _build(pairs, include_locals, include_source, max_frames)


def frames_from_stack(
    frame: FrameType | None, *, include_locals: bool, include_source: bool, max_frames: int
) -> dict[str, Any]:
    """The stack trace from ``frame`` up to the outermost caller, oldest frame first."""
    pairs: list[tuple[FrameType, int]] = []
    while frame is not None:
        pairs.append((frame, frame.f_lineno))
        frame = frame.f_back
    pairs.reverse()
    return _build(pairs, include_locals, include_source, max_frames)


def _matches(module: str | None, names: Sequence[str]) -> bool:
    if not module:
        return False
    return any(module == name or module.startswith(name + ".") for name in names)


def _under(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([os.path.abspath(path), os.path.abspath(root)]) == os.path.abspath(root)
    except ValueError:
        return False


def set_in_app(
    frames: list[dict[str, Any]],
    *,
    in_app_include: Sequence[str],
    in_app_exclude: Sequence[str],
    project_root: str | None,
) -> None:
    """Mark frames as the user's code (in_app) by sentry-sdk's rules, first rule that applies."""
    for frame in frames:
        if "in_app" in frame:
            continue
        module = frame.get("module")
        if _matches(module, in_app_include):
            frame["in_app"] = True
            continue
        if _matches(module, in_app_exclude):
            frame["in_app"] = False
            continue
        abs_path = frame.get("abs_path") or ""
        parts = abs_path.replace("\\", "/").split("/")
        if "site-packages" in parts or "dist-packages" in parts:
            frame["in_app"] = False
            continue
        if project_root and abs_path and not abs_path.startswith("<") and _under(abs_path, project_root):
            frame["in_app"] = True


__all__ = ["filename_for_module", "frames_from_stack", "frames_from_traceback", "set_in_app"]
