"""Turn tracebacks and live call stacks into Sentry stack traces, and mark which frames are the user's."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from types import FrameType, TracebackType

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    _Located = tuple[FrameType, Optional[int]]


__all__ = ["filename_for_module", "frames_from_stack", "frames_from_traceback", "set_in_app"]

# Sentry shows this many source lines on each side of the line that was executing.
_CONTEXT_LINES = 5
# The SDK's own wrappers (a web request's runner, a patched handler) stand in most tracebacks of
# the program: their locals describe the SDK (its client, its options, the environ once more),
# not the program, and would be a large part of every event.
_OWN_WRAPPERS = "sentry_sdk.integrations."

# Installers put third-party code in directories with these names; such code is never the user's.
_LIBRARY_DIRS = frozenset(("site-packages", "dist-packages"))

# A frame and the line it was executing; the line is None when the interpreter does not know it.


def _split_path(path: str) -> list[str]:
    if os.altsep:
        path = path.replace(os.altsep, os.sep)
    return path.split(os.sep)


def filename_for_module(module: str | None, abs_path: str) -> str:
    """The path Sentry groups by: ``abs_path`` relative to the directory holding the top-level package.

    Module ``a.b.c`` at ``/x/y/a/b/c.py`` gives ``a/b/c.py``; a top-level module (``__main__`` included)
    gives its file's base name. When there is no module name, or the directories do not spell the
    module's package (a module loaded under another name, a pseudo-file such as ``<string>``), the
    path is returned as given.
    """
    if not module or not abs_path:
        return abs_path
    parts = _split_path(abs_path)
    names = module.split(".")
    # A package's own code sits in its __init__ file, one level deeper than its dotted name says.
    if len(parts) >= 2 and parts[-2] == names[-1] and parts[-1].partition(".")[0] == "__init__":
        names.append("__init__")
    count = len(names)
    # Only the directories are checked, not the file name: ``__main__`` is named after no file.
    if len(parts) < count or parts[len(parts) - count : -1] != names[:-1]:
        return abs_path
    # Slice the original string rather than re-joining, so the caller's separators survive.
    kept = sum(len(part) for part in parts[len(parts) - count :]) + count - 1
    return abs_path[len(abs_path) - kept :]


def _absolute(co_filename: str) -> str:
    # Pseudo-files such as "<string>" or "<frozen os>" have no place on disk to resolve against.
    if not co_filename or co_filename.startswith("<"):
        return co_filename
    try:
        return os.path.abspath(co_filename)
    except (OSError, ValueError):
        # abspath needs the working directory, which may have been deleted under us.
        return co_filename


def _source_lines(co_filename: str, module_globals: dict[str, Any]) -> list[str]:
    # linecache rather than a cache of our own: it is the interpreter's shared cache (traceback and
    # pdb fill it too, so a file is read once per process, not once per user of it), it finds source
    # through the module's __loader__ for zip imports and other non-file loaders, and a file already
    # cached costs one dict lookup. Its size is bounded by the number of source files that ran.
    try:
        import linecache  # imported on first use: it pulls in tokenize

        return linecache.getlines(co_filename, module_globals)
    except Exception:
        # A loader's get_source() can raise anything; a frame without source is still useful.
        return []


def _strip(line: str) -> str:
    return line.rstrip("\r\n")


class _FrameBuilder:
    """Builds frame dicts for one capture, remembering per-file work across that capture's frames."""

    def __init__(self, include_locals: bool, include_source: bool) -> None:
        self._include_locals = include_locals
        self._include_source = include_source
        # A deep recursion repeats one file many times: resolve its paths and find its lines once.
        self._paths: dict[tuple[str | None, str], tuple[str, str]] = {}
        self._sources: dict[str, list[str]] = {}

    def build(self, frame: FrameType, lineno: int | None) -> dict[str, Any]:
        code = frame.f_code
        f_globals = frame.f_globals
        module = f_globals.get("__name__")
        if not isinstance(module, str):
            module = None
        co_filename = code.co_filename
        key = (module, co_filename)
        names = self._paths.get(key)
        if names is None:
            abs_path = _absolute(co_filename)
            names = self._paths[key] = (filename_for_module(module, abs_path), abs_path)
        rv: dict[str, Any] = {
            "filename": names[0],
            "abs_path": names[1],
            "module": module,
            "function": code.co_name,
            "lineno": lineno,
        }
        if self._include_source and lineno is not None and lineno > 0:
            lines = self._sources.get(co_filename)
            if lines is None:
                lines = self._sources[co_filename] = _source_lines(co_filename, f_globals)
            index = lineno - 1
            # A file edited since it was loaded may be shorter than the line number: then no context.
            if index < len(lines):
                rv["pre_context"] = [_strip(line) for line in lines[max(0, index - _CONTEXT_LINES) : index]]
                rv["context_line"] = _strip(lines[index])
                rv["post_context"] = [_strip(line) for line in lines[index + 1 : index + 1 + _CONTEXT_LINES]]
        if self._include_locals and not (module is not None and module.startswith(_OWN_WRAPPERS)):
            try:
                # A shallow copy of the raw objects: serializing them is a later stage's job.
                rv["vars"] = dict(frame.f_locals)
            except Exception:
                # A frame whose locals cannot be read still tells where the error happened.
                pass
        return rv


def _keep_ends(
    items: Iterator[_Located], first: int, last: int
) -> tuple[list[_Located], list[_Located], int]:
    """The first ``first`` and the last ``last`` items, and how many there were in all.

    Memory stays bounded by ``first + last``: a traceback of 10,000 frames is only walked.
    """
    head: list[_Located] = []
    tail: deque[_Located] = deque(maxlen=last)
    total = 0
    for item in items:
        if total < first:
            head.append(item)
        else:
            tail.append(item)
        total += 1
    return head, list(tail), total


def _budget(max_frames: int) -> tuple[int, int]:
    """How many outermost and innermost frames to keep when a stack trace is too long."""
    max_frames = max(0, max_frames)
    outer = max_frames // 2
    # An odd budget favours the innermost end: that is where the error happened.
    return outer, max_frames - outer


def _stacktrace(
    oldest_first: list[_Located], total: int, outer: int, include_locals: bool, include_source: bool
) -> dict[str, Any]:
    builder = _FrameBuilder(include_locals, include_source)
    rv: dict[str, Any] = {"frames": [builder.build(frame, lineno) for frame, lineno in oldest_first]}
    dropped = total - len(oldest_first)
    if dropped:
        # The kept frames are [0, outer) and [outer + dropped, total) of the full list; Sentry marks
        # the gap between them.
        rv["frames_omitted"] = [outer, outer + dropped]
    return rv


def _traceback_entries(tb: TracebackType | None) -> Iterator[_Located]:
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def _stack_entries(frame: FrameType | None) -> Iterator[_Located]:
    while frame is not None:
        yield frame, frame.f_lineno
        frame = frame.f_back


def frames_from_traceback(
    tb: TracebackType | None, *, include_locals: bool, include_source: bool, max_frames: int
) -> dict[str, Any]:
    """The stack trace ``{"frames": [...]}`` of a traceback, outermost frame first.

    With more than ``max_frames`` frames, the outermost and innermost halves of the budget are kept
    and ``frames_omitted`` gives the ``[start, end)`` range of the dropped ones.
    """
    outer, inner = _budget(max_frames)
    # A traceback runs from the outermost frame inwards, so the head is the outer end.
    head, tail, total = _keep_ends(_traceback_entries(tb), outer, inner)
    return _stacktrace(head + tail, total, outer, include_locals, include_source)


def frames_from_stack(
    frame: FrameType | None, *, include_locals: bool, include_source: bool, max_frames: int
) -> dict[str, Any]:
    """The stack trace from ``frame`` out to the outermost caller, outermost frame first.

    Frames are limited the same way as :func:`frames_from_traceback`.
    """
    outer, inner = _budget(max_frames)
    # Walking f_back runs from the innermost frame outwards, so the head is the inner end.
    head, tail, total = _keep_ends(_stack_entries(frame), inner, outer)
    kept = head + tail
    kept.reverse()
    return _stacktrace(kept, total, outer, include_locals, include_source)


def _in_packages(module: str, names: Sequence[str]) -> bool:
    # "foo" covers "foo" and "foo.bar" but not "foobar".
    return any(module == name or module.startswith(name + ".") for name in names)


def _components(path: str) -> list[str]:
    parts = os.path.normcase(os.path.normpath(path)).split(os.sep)
    # normpath keeps the separator of a root ("/" or "C:\"), which would leave an empty last part.
    if len(parts) > 1 and not parts[-1]:
        parts.pop()
    return parts


def _root_components(project_root: str | None) -> list[str] | None:
    if not project_root:
        return None
    try:
        return _components(os.path.abspath(project_root))
    except (OSError, ValueError):
        return None


def set_in_app(
    frames: list[dict[str, Any]],
    *,
    in_app_include: Sequence[str],
    in_app_exclude: Sequence[str],
    project_root: str | None,
) -> None:
    """Mark each frame ``in_app`` (the user's own code) or not; the first rule that applies wins.

    A frame that already has ``in_app`` keeps it; then a module in ``in_app_include`` is in-app, one in
    ``in_app_exclude`` is not, a file in ``site-packages``/``dist-packages`` is not, and a file under
    ``project_root`` is. A frame no rule speaks for is left without ``in_app``.
    """
    # A lone string is a Sequence[str] too, but of characters; take it as one package name.
    include = (in_app_include,) if isinstance(in_app_include, str) else in_app_include
    exclude = (in_app_exclude,) if isinstance(in_app_exclude, str) else in_app_exclude
    root = _root_components(project_root)
    for frame in frames:
        if frame.get("in_app") is not None:
            continue
        module = frame.get("module")
        if isinstance(module, str) and module:
            if _in_packages(module, include):
                frame["in_app"] = True
                continue
            if _in_packages(module, exclude):
                frame["in_app"] = False
                continue
        abs_path = frame.get("abs_path")
        if not isinstance(abs_path, str) or not abs_path:
            continue
        parts = _split_path(abs_path)
        if not _LIBRARY_DIRS.isdisjoint(parts):
            frame["in_app"] = False
            continue
        # Only real absolute paths can be under the root: "<string>" is not a file in the project.
        if root is not None and os.path.isabs(abs_path):
            path = _components(abs_path)
            if path[: len(root)] == root:
                frame["in_app"] = True
