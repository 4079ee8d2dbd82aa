"""Stack traces: frames from real tracebacks and live stacks, source context, frame limits, in_app marking."""

from __future__ import annotations

import os
import sys
import time
import tokenize
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import pytest

from sentry_sdk._stacktrace import filename_for_module, frames_from_stack, frames_from_traceback, set_in_app

_THIS_FILE = os.path.abspath(__file__)
_SOURCE = Path(_THIS_FILE).read_text().splitlines()


class _Marker:
    """A local variable value whose identity shows that frame vars hold the raw object."""


def _line_of(marker: str) -> int:
    """The 1-based line number in this file of the only line containing ``marker``."""
    hits = [number for number, line in enumerate(_SOURCE, 1) if marker in line and "_line_of" not in line]
    assert 1 == len(hits)
    return hits[0]


def _raise_value_error(marker: _Marker) -> None:
    secret = marker
    assert secret is marker
    raise ValueError("boom")  # RAISE-LINE


def _traceback(include_marker: _Marker | None = None) -> TracebackType:
    try:
        _raise_value_error(include_marker or _Marker())
    except ValueError as exc:
        assert exc.__traceback__ is not None
        return exc.__traceback__
    raise AssertionError("unreachable")


def _capture(**overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"include_locals": True, "include_source": True, "max_frames": 100}
    options.update(overrides)
    return frames_from_traceback(_traceback(), **options)


def _recurse(depth: int) -> None:
    if depth <= 1:
        raise RecursionError("deep")
    _recurse(depth - 1)


def _deep_traceback(levels: int) -> TracebackType:
    """A traceback of exactly ``levels`` frames: this helper, then ``levels - 1`` recursions."""
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, levels + 1000))
    try:
        _recurse(levels - 1)
    except RecursionError as exc:
        assert exc.__traceback__ is not None
        return exc.__traceback__
    finally:
        sys.setrecursionlimit(old_limit)
    raise AssertionError("unreachable")


def _traceback_length(tb: TracebackType | None) -> int:
    count = 0
    while tb is not None:
        count += 1
        tb = tb.tb_next
    return count


def _compiled_raiser(path: str, source: str) -> TracebackType:
    """The traceback of running ``source`` as if it were the file at ``path``."""
    namespace: dict[str, Any] = {"__name__": "scratch_module"}
    try:
        exec(compile(source, path, "exec"), namespace)
    except ZeroDivisionError as exc:
        assert exc.__traceback__ is not None
        return exc.__traceback__
    raise AssertionError("the source did not raise ZeroDivisionError")


# -- frames from a traceback ------------------------------------------------------------------


def test_frames_run_from_the_outermost_call_to_the_raising_function() -> None:
    """Frames are ordered oldest first: the capturing helper, then the function that raised."""
    stacktrace = _capture()
    assert ["_traceback", "_raise_value_error"] == [frame["function"] for frame in stacktrace["frames"]]
    assert "frames_omitted" not in stacktrace


def test_a_frame_names_its_file_module_function_and_line() -> None:
    """The raising frame carries the real file, module, function and line number."""
    frame = _capture()["frames"][-1]
    assert _THIS_FILE == frame["abs_path"]
    assert filename_for_module(__name__, _THIS_FILE) == frame["filename"]
    assert __name__ == frame["module"]
    assert "_raise_value_error" == frame["function"]
    assert _line_of("# RAISE-LINE") == frame["lineno"]


def test_context_lines_are_the_real_source_lines_around_the_error() -> None:
    """context_line, pre_context (5 before) and post_context (5 after) match the file on disk."""
    frame = _capture()["frames"][-1]
    index = _line_of("# RAISE-LINE") - 1
    assert _SOURCE[index] == frame["context_line"]
    assert _SOURCE[index - 5 : index] == frame["pre_context"]
    assert _SOURCE[index + 1 : index + 6] == frame["post_context"]


def test_source_context_is_left_out_when_turned_off() -> None:
    """include_source=False sends no source lines."""
    frame = _capture(include_source=False)["frames"][-1]
    assert set() == {"context_line", "pre_context", "post_context"} & set(frame)


def test_local_variables_are_the_raw_objects_when_turned_on() -> None:
    """include_locals=True gives each frame a dict of its locals, holding the objects themselves."""
    marker = _Marker()
    tb = _traceback(marker)
    frame = frames_from_traceback(tb, include_locals=True, include_source=False, max_frames=100)["frames"][-1]
    assert marker is frame["vars"]["secret"]
    assert marker is frame["vars"]["marker"]


def test_local_variables_are_left_out_when_turned_off() -> None:
    """include_locals=False sends no vars at all."""
    assert [False, False] == ["vars" in frame for frame in _capture(include_locals=False)["frames"]]


def test_context_is_clipped_at_the_start_and_end_of_a_file(tmp_path: Path) -> None:
    """An error near the top or bottom of a file gets only the lines that exist."""
    path = tmp_path / "short.py"
    source = "first = 1\nvalue = 1 / 0\nlast = 2\n"
    path.write_text(source)
    frame = frames_from_traceback(
        _compiled_raiser(str(path), source), include_locals=False, include_source=True, max_frames=100
    )["frames"][-1]
    assert (2, ["first = 1"], "value = 1 / 0", ["last = 2"]) == (
        frame["lineno"],
        frame["pre_context"],
        frame["context_line"],
        frame["post_context"],
    )


def test_windows_line_endings_are_stripped(tmp_path: Path) -> None:
    """Context lines never end in a carriage return or newline."""
    path = tmp_path / "crlf.py"
    source = "first = 1\r\nvalue = 1 / 0\r\n"
    path.write_bytes(source.encode())
    frame = frames_from_traceback(
        _compiled_raiser(str(path), "first = 1\nvalue = 1 / 0\n"),
        include_locals=False,
        include_source=True,
        max_frames=10,
    )["frames"][-1]
    assert (["first = 1"], "value = 1 / 0", []) == (
        frame["pre_context"],
        frame["context_line"],
        frame["post_context"],
    )


@pytest.mark.parametrize("path", ["<string>", os.path.join(os.sep, "no", "such", "dir", "gone.py")])
def test_a_file_that_cannot_be_read_has_no_context(path: str) -> None:
    """Pseudo-files and missing files still give a frame, just without source lines."""
    frame = frames_from_traceback(
        _compiled_raiser(path, "value = 1 / 0\n"), include_locals=False, include_source=True, max_frames=10
    )["frames"][-1]
    assert ({"filename", "abs_path", "module", "function", "lineno"}, path, 1) == (
        set(frame),
        frame["abs_path"],
        frame["lineno"],
    )


def test_a_source_file_is_read_once_however_often_it_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Repeated captures, and many frames from one file, read that file from disk only once."""
    path = tmp_path / "read_once.py"
    source = "def down(n):\n    if n == 0:\n        return 1 / 0\n    return down(n - 1)\ndown(20)\n"
    path.write_text(source)
    tb = _compiled_raiser(str(path), source)
    opened: list[str] = []
    real_open = tokenize.open

    def counting_open(filename: Any) -> Any:
        opened.append(str(filename))
        return real_open(filename)

    monkeypatch.setattr(tokenize, "open", counting_open)
    for _ in range(3):
        stacktrace = frames_from_traceback(tb, include_locals=False, include_source=True, max_frames=100)
        assert "        return 1 / 0" == stacktrace["frames"][-1]["context_line"]
    assert [str(path)] == [name for name in opened if name == str(path)]


def test_no_traceback_gives_no_frames() -> None:
    """A missing traceback is an empty stack trace, not an error."""
    assert {"frames": []} == frames_from_traceback(
        None, include_locals=True, include_source=True, max_frames=100
    )


# -- frame limits -----------------------------------------------------------------------------


def test_a_deep_recursion_keeps_both_ends_and_marks_the_gap() -> None:
    """A 10,000-frame RecursionError keeps max_stack_frames frames and says which were omitted, quickly."""
    tb = _deep_traceback(10_000)
    assert 10_000 == _traceback_length(tb)
    started = time.perf_counter()
    stacktrace = frames_from_traceback(tb, include_locals=True, include_source=True, max_frames=100)
    elapsed = time.perf_counter() - started
    print(f"10,000-frame traceback captured in {elapsed * 1000:.2f} ms")
    frames = stacktrace["frames"]
    assert 100 == len(frames)
    assert [50, 9_950] == stacktrace["frames_omitted"]
    # The outermost frame is the helper; the recursion's depth counts down towards the innermost frame.
    assert "_deep_traceback" == frames[0]["function"]
    assert [9_999 - i for i in range(49)] == [frame["vars"]["depth"] for frame in frames[1:50]]
    assert list(range(50, 0, -1)) == [frame["vars"]["depth"] for frame in frames[50:]]
    assert _line_of('raise RecursionError("deep")') == frames[-1]["lineno"]
    assert elapsed < 0.5


def test_an_odd_frame_budget_favours_the_innermost_frames() -> None:
    """With 5 of 8 frames kept, 2 come from the outer end and 3 from the inner end."""
    stacktrace = frames_from_traceback(
        _deep_traceback(8), include_locals=True, include_source=False, max_frames=5
    )
    assert [2, 5] == stacktrace["frames_omitted"]
    assert ["_deep_traceback", 7, 3, 2, 1] == [
        frame["vars"].get("depth", frame["function"]) for frame in stacktrace["frames"]
    ]


def test_a_trace_within_the_budget_is_whole() -> None:
    """Exactly max_frames frames are all kept and nothing is marked omitted."""
    stacktrace = frames_from_traceback(
        _deep_traceback(6), include_locals=False, include_source=False, max_frames=6
    )
    assert (6, False) == (len(stacktrace["frames"]), "frames_omitted" in stacktrace)


def test_a_zero_frame_budget_omits_every_frame() -> None:
    """max_frames=0 sends no frames and marks all of them omitted."""
    stacktrace = frames_from_traceback(
        _deep_traceback(4), include_locals=False, include_source=False, max_frames=0
    )
    assert {"frames": [], "frames_omitted": [0, 4]} == stacktrace


def test_capturing_a_one_frame_traceback_is_cheap() -> None:
    """A one-frame traceback is captured in well under 50 ms (typically tens of microseconds)."""
    tb = _traceback().tb_next
    assert 1 == _traceback_length(tb)
    started = time.perf_counter()
    stacktrace = frames_from_traceback(tb, include_locals=True, include_source=True, max_frames=100)
    elapsed = time.perf_counter() - started
    print(f"1-frame traceback captured in {elapsed * 1000:.3f} ms")
    assert 1 == len(stacktrace["frames"])
    assert elapsed < 0.05


# -- frames from the live stack ---------------------------------------------------------------


def _outermost(frame: FrameType) -> FrameType:
    while frame.f_back is not None:
        frame = frame.f_back
    return frame


def _stack_depth(frame: FrameType | None) -> int:
    count = 0
    while frame is not None:
        count += 1
        frame = frame.f_back
    return count


def test_the_current_stack_ends_at_the_calling_frame() -> None:
    """frames_from_stack runs from the program's outermost frame down to the frame it was given."""
    here = sys._getframe()
    stacktrace = frames_from_stack(here, include_locals=True, include_source=True, max_frames=10_000)
    frames = stacktrace["frames"]
    last = frames[-1]
    assert ("test_the_current_stack_ends_at_the_calling_frame", __name__) == (
        last["function"],
        last["module"],
    )
    assert _line_of("stacktrace = frames_from_stack(here, include_locals=True") == last["lineno"]
    assert _SOURCE[last["lineno"] - 1] == last["context_line"]
    assert here is last["vars"]["here"]
    assert _outermost(here).f_code.co_name == frames[0]["function"]
    assert _stack_depth(here) == len(frames)


def test_the_current_stack_is_limited_like_a_traceback() -> None:
    """A live stack longer than max_frames keeps its two ends and marks the gap."""
    here = sys._getframe()
    depth = _stack_depth(here)
    assert depth > 4
    stacktrace = frames_from_stack(here, include_locals=False, include_source=False, max_frames=4)
    frames = stacktrace["frames"]
    assert [2, depth - 2] == stacktrace["frames_omitted"]
    assert _outermost(here).f_code.co_name == frames[0]["function"]
    assert "test_the_current_stack_is_limited_like_a_traceback" == frames[-1]["function"]


def test_no_frame_gives_an_empty_stack() -> None:
    """frames_from_stack(None) is an empty stack trace."""
    assert {"frames": []} == frames_from_stack(None, include_locals=True, include_source=True, max_frames=100)


# -- filename_for_module ----------------------------------------------------------------------


def _path(*parts: str) -> str:
    return os.sep + os.sep.join(parts)


@pytest.mark.parametrize(
    ("module", "abs_path", "expected"),
    [
        ("a.b.c", _path("x", "y", "a", "b", "c.py"), os.path.join("a", "b", "c.py")),
        ("a.b", _path("x", "a", "b", "__init__.py"), os.path.join("a", "b", "__init__.py")),
        ("a", _path("x", "a", "__init__.py"), os.path.join("a", "__init__.py")),
        ("mod", _path("x", "y", "mod.py"), "mod.py"),
        ("__main__", _path("home", "me", "script.py"), "script.py"),
        ("a.b.c", _path("x", "other", "c.py"), _path("x", "other", "c.py")),
        ("a.b.c", _path("b", "c.py"), _path("b", "c.py")),
        (None, _path("x", "y", "c.py"), _path("x", "y", "c.py")),
        ("", _path("x", "y", "c.py"), _path("x", "y", "c.py")),
        ("importlib._bootstrap", "<frozen importlib._bootstrap>", "<frozen importlib._bootstrap>"),
        ("a.b", "", ""),
    ],
)
def test_filename_is_relative_to_the_top_level_package(
    module: str | None, abs_path: str, expected: str
) -> None:
    """The filename drops the directories above the module's top-level package, or stays as given."""
    assert expected == filename_for_module(module, abs_path)


def test_filename_of_a_real_module_is_relative_to_its_package() -> None:
    """A frame inside an imported package gets the package-relative path."""
    import sentry_sdk._stacktrace as module

    assert os.path.join("sentry_sdk", "_stacktrace.py") == filename_for_module(
        module.__name__, module.__file__ or ""
    )


# -- in_app -----------------------------------------------------------------------------------


def _marks(frames: list[dict[str, Any]], **rules: Any) -> list[bool | None]:
    options: dict[str, Any] = {"in_app_include": [], "in_app_exclude": [], "project_root": None}
    options.update(rules)
    set_in_app(frames, **options)
    return [frame.get("in_app") for frame in frames]


def _frames(*modules_and_paths: tuple[str | None, str]) -> list[dict[str, Any]]:
    return [{"module": module, "abs_path": path} for module, path in modules_and_paths]


def test_an_explicit_in_app_is_kept() -> None:
    """A frame already marked keeps its mark whatever the rules say."""
    frames = [
        {"module": "foo", "abs_path": _path("lib", "site-packages", "foo.py"), "in_app": True},
        {"module": "foo", "abs_path": _path("proj", "foo.py"), "in_app": False},
    ]
    assert [True, False] == _marks(
        frames, in_app_include=["foo"], in_app_exclude=["foo"], project_root=_path("proj")
    )


def test_in_app_include_matches_a_package_and_its_submodules_only() -> None:
    """``foo`` covers ``foo`` and ``foo.bar`` but not ``foobar``."""
    frames = _frames(("foo", "/a.py"), ("foo.bar", "/b.py"), ("foobar", "/c.py"), (None, "/d.py"))
    assert [True, True, None, None] == _marks(frames, in_app_include=["foo"])


def test_in_app_exclude_matches_a_package_and_its_submodules_only() -> None:
    """``foo`` excluded marks ``foo`` and ``foo.bar`` not in-app, leaving ``foobar`` alone."""
    frames = _frames(("foo", "/a.py"), ("foo.bar", "/b.py"), ("foobar", "/c.py"))
    assert [False, False, None] == _marks(frames, in_app_exclude=["foo"])


def test_in_app_include_wins_over_exclude_and_over_site_packages() -> None:
    """An included module is in-app even when also excluded or installed in site-packages."""
    frames = _frames(("foo.bar", _path("venv", "lib", "site-packages", "foo", "bar.py")))
    assert [True] == _marks(frames, in_app_include=["foo"], in_app_exclude=["foo.bar"])


def test_a_lone_string_rule_is_one_package_name() -> None:
    """in_app_include="foo" means the package foo, not the letters f and o."""
    frames = _frames(("foo.x", "/a.py"), ("f", "/b.py"))
    assert [True, None] == _marks(frames, in_app_include="foo")


@pytest.mark.parametrize("directory", ["site-packages", "dist-packages"])
def test_installed_packages_are_not_in_app(directory: str) -> None:
    """Code under site-packages or dist-packages is third-party, even inside the project root."""
    frames = _frames(("lib", _path("proj", ".venv", "lib", directory, "lib.py")))
    assert [False] == _marks(frames, project_root=_path("proj"))


def test_a_directory_merely_named_like_site_packages_is_not_special() -> None:
    """Only a whole path component named site-packages counts."""
    frames = _frames(("lib", _path("proj", "my-site-packages", "lib.py")))
    assert [None] == _marks(frames)


def test_files_under_the_project_root_are_in_app() -> None:
    """A file anywhere below project_root is in-app; the root is normalised first."""
    frames = _frames(("app.views", _path("proj", "app", "views.py")), ("run", _path("proj", "run.py")))
    assert [True, True] == _marks(frames, project_root=_path("proj", "app", "..") + os.sep)


def test_the_project_root_is_compared_by_whole_directory_names() -> None:
    """``/proj`` does not contain ``/project/x.py``: the comparison is per path component."""
    frames = _frames(("x", _path("project", "x.py")), ("y", _path("other", "y.py")))
    assert [None, None] == _marks(frames, project_root=_path("proj"))


def test_the_filesystem_root_as_project_root_covers_everything() -> None:
    """project_root="/" puts every absolute path in-app."""
    assert [True] == _marks(_frames(("x", _path("any", "x.py"))), project_root=os.sep)


def test_pseudo_files_are_never_under_the_project_root() -> None:
    """Code compiled from a string is not a file in the project, even with the working directory as root."""
    assert [None] == _marks(_frames(("__main__", "<string>")), project_root=os.getcwd())


def test_exclude_wins_over_the_project_root() -> None:
    """An excluded module inside the project is not in-app."""
    frames = _frames(("app.vendored", _path("proj", "app", "vendored.py")))
    assert [False] == _marks(frames, in_app_exclude=["app.vendored"], project_root=_path("proj"))


def test_frames_no_rule_speaks_for_have_no_in_app() -> None:
    """Without any matching rule the in_app key is left out, for Sentry to decide."""
    frames = _frames(("x", _path("elsewhere", "x.py")))
    set_in_app(frames, in_app_include=[], in_app_exclude=[], project_root=None)
    assert [{"module": "x", "abs_path": _path("elsewhere", "x.py")}] == frames


def test_real_frames_from_this_test_file_are_in_app_under_its_directory() -> None:
    """Frames captured from a traceback are marked in-app when this checkout is the project root."""
    frames = _capture(include_locals=False, include_source=False)["frames"]
    assert [True, True] == _marks(frames, project_root=str(Path(_THIS_FILE).parent.parent))
