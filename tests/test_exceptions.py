"""Exception events: exc_info input forms, cause/context chains, exception groups, and the resulting event."""

from __future__ import annotations

import builtins
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sentry_sdk._exceptions import event_from_exception, exc_info_from_error, exceptions_from_error
from sentry_sdk.types import ExcInfo

_THIS_FILE = os.path.abspath(__file__)
_SOURCE = Path(_THIS_FILE).read_text().splitlines()

needs_groups = pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup is new in Python 3.11")


class AppError(Exception):
    """An exception class defined outside builtins."""


def _caught(raiser: Any) -> BaseException:
    """The exception ``raiser()`` raises, with its traceback."""
    try:
        raiser()
    except BaseException as exc:
        return exc
    raise AssertionError("nothing was raised")


def _raising(exc: BaseException) -> Any:
    """A function that raises ``exc`` when called."""

    def raiser() -> None:
        raise exc

    return raiser


def _key_lookup(key: str) -> Any:
    """A function that raises the KeyError of looking ``key`` up in an empty dict."""
    empty: dict[str, int] = {}
    return lambda: empty[key]


def _raise_app_error() -> None:
    raise AppError("app failed")  # APP-RAISE


def _raise_with_cause() -> None:
    try:
        try:
            raise KeyError("root")
        except KeyError as root:
            raise TypeError("middle") from root
    except TypeError as middle:
        raise AppError("top") from middle


def _raise_during_handling() -> None:
    try:
        raise KeyError("first")
    except KeyError:
        # Deliberately without "from": this is the implicit __context__ being tested.
        raise AppError("while handling")  # noqa: B904


def _raise_from_none() -> None:
    try:
        raise KeyError("hidden")
    except KeyError:
        raise AppError("clean") from None


def _values(exc: BaseException, **mechanism: Any) -> list[dict[str, Any]]:
    return exceptions_from_error(
        exc,
        mechanism=mechanism or {"type": "generic", "handled": True},
        include_locals=False,
        include_source=False,
        max_frames=100,
    )


def _summary(values: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(value["type"], value["value"]) for value in values]


def _options(**overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "include_local_variables": True,
        "include_source_context": True,
        "max_stack_frames": 100,
        "in_app_include": [],
        "in_app_exclude": [],
        "project_root": None,
    }
    options.update(overrides)
    return options


# -- exc_info_from_error ----------------------------------------------------------------------


def test_exc_info_from_an_exception_uses_its_own_traceback() -> None:
    """An exception becomes (its class, itself, its traceback)."""
    exc = _caught(_raise_app_error)
    assert (AppError, exc, exc.__traceback__) == exc_info_from_error(exc)


def test_exc_info_from_a_tuple_is_the_same_triple() -> None:
    """An exc_info tuple such as sys.exc_info() is accepted as it is."""
    exc = _caught(_raise_app_error)
    assert (AppError, exc, exc.__traceback__) == exc_info_from_error((AppError, exc, exc.__traceback__))


def test_exc_info_from_a_live_sys_exc_info() -> None:
    """The tuple sys.exc_info() gives inside an except block is accepted."""
    try:
        _raise_app_error()
    except AppError:
        info = sys.exc_info()
    assert info == exc_info_from_error(info)  # type: ignore[arg-type]


def test_exc_info_from_a_tuple_without_traceback_falls_back_to_the_exceptions() -> None:
    """A tuple whose traceback is None still gets the traceback the exception carries."""
    exc = _caught(_raise_app_error)
    assert (AppError, exc, exc.__traceback__) == exc_info_from_error((AppError, exc, None))


def test_exc_info_from_a_never_raised_exception_has_no_traceback() -> None:
    """An exception that was never raised gives a None traceback."""
    exc = ValueError("never raised")
    assert (ValueError, exc, None) == exc_info_from_error(exc)


@pytest.mark.parametrize(
    "bad", ["boom", None, (None, None, None), (ValueError, "not an exception", None), (1, 2), ValueError]
)
def test_exc_info_from_anything_else_is_a_value_error(bad: Any) -> None:
    """Input that is neither an exception nor an exc_info tuple raises ValueError."""
    with pytest.raises(ValueError, match="expected an exception or an exc_info tuple"):
        exc_info_from_error(bad)


# -- a single exception -----------------------------------------------------------------------


def test_event_describes_the_exception_its_frames_and_mechanism() -> None:
    """A raised exception becomes one error value with type, value, module, mechanism and frames."""
    exc = _caught(_raise_app_error)
    info = exc_info_from_error(exc)
    event, hint = event_from_exception(info, options=_options())
    assert {"exc_info": info} == hint
    assert "error" == event["level"]
    [value] = event["exception"]["values"]
    assert ("AppError", "app failed", __name__) == (value["type"], value["value"], value["module"])
    assert {"type": "generic", "handled": True, "exception_id": 0} == value["mechanism"]
    frames = value["stacktrace"]["frames"]
    assert ["_caught", "_raise_app_error"] == [frame["function"] for frame in frames]
    raise_line = next(n for n, line in enumerate(_SOURCE, 1) if line.endswith("# APP-RAISE"))
    assert (raise_line, _SOURCE[raise_line - 1]) == (frames[-1]["lineno"], frames[-1]["context_line"])


def test_builtin_exceptions_report_the_builtins_module() -> None:
    """A builtin exception's module is "builtins", as sentry-sdk sends it."""
    [value] = _values(_caught(_key_lookup("missing")))
    assert ("KeyError", "'missing'", "builtins") == (value["type"], value["value"], value["module"])


def test_a_given_mechanism_is_used_and_not_mutated() -> None:
    """The caller's mechanism describes the top exception; the caller's dict is left untouched."""
    mechanism = {"type": "excepthook", "handled": False}
    event, _ = event_from_exception(
        exc_info_from_error(_caught(_raise_app_error)), options=_options(), mechanism=mechanism
    )
    assert {"type": "excepthook", "handled": False, "exception_id": 0} == event["exception"]["values"][0][
        "mechanism"
    ]
    assert {"type": "excepthook", "handled": False} == mechanism


def test_an_exception_never_raised_has_no_stacktrace() -> None:
    """Without a traceback there is no stacktrace key at all."""
    [value] = _values(ValueError("never raised"))
    assert "stacktrace" not in value


def test_an_exception_whose_str_raises_still_gets_reported() -> None:
    """A broken __str__ gives a placeholder value instead of losing the event."""

    class UnprintableError(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str for you")

    [value] = _values(_caught(_raising(UnprintableError())))
    assert ("UnprintableError", "<unprintable UnprintableError object>") == (value["type"], value["value"])


def test_locals_and_source_follow_the_options() -> None:
    """include_local_variables and include_source_context switch vars and context lines."""
    info = exc_info_from_error(_caught(_raise_app_error))
    on, _ = event_from_exception(info, options=_options())
    off, _ = event_from_exception(
        info, options=_options(include_local_variables=False, include_source_context=False)
    )
    on_frame = on["exception"]["values"][0]["stacktrace"]["frames"][0]
    off_frame = off["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert (True, True) == ("vars" in on_frame, "context_line" in on_frame)
    assert (False, False) == ("vars" in off_frame, "context_line" in off_frame)
    assert _raise_app_error is on_frame["vars"]["raiser"]


def test_missing_options_fall_back_to_sentry_defaults() -> None:
    """With no options, locals and source are on and no frame is marked in-app."""
    event, _ = event_from_exception(exc_info_from_error(_caught(_raise_app_error)), options={})
    frame = event["exception"]["values"][0]["stacktrace"]["frames"][-1]
    assert (True, True, False) == ("vars" in frame, "context_line" in frame, "in_app" in frame)


def test_in_app_rules_apply_to_every_stacktrace() -> None:
    """in_app_include marks frames of every exception in the chain, project_root marks files under it."""
    info = exc_info_from_error(_caught(_raise_with_cause))
    event, _ = event_from_exception(info, options=_options(in_app_include=[__name__]))
    marks = [
        frame["in_app"] for value in event["exception"]["values"] for frame in value["stacktrace"]["frames"]
    ]
    assert [True] * 4 == marks
    event, _ = event_from_exception(info, options=_options(project_root=str(Path(_THIS_FILE).parent)))
    marks = [
        frame["in_app"] for value in event["exception"]["values"] for frame in value["stacktrace"]["frames"]
    ]
    assert [True] * 4 == marks


# -- chains -----------------------------------------------------------------------------------


def test_a_cause_chain_is_listed_root_cause_first() -> None:
    """``raise ... from ...`` links are followed, the root cause first and the raised exception last."""
    values = _values(_caught(_raise_with_cause), type="generic", handled=False)
    assert [("KeyError", "'root'"), ("TypeError", "middle"), ("AppError", "top")] == _summary(values)
    assert [
        {"type": "chained", "source": "__cause__", "parent_id": 1, "handled": False, "exception_id": 2},
        {"type": "chained", "source": "__cause__", "parent_id": 0, "handled": False, "exception_id": 1},
        {"type": "generic", "handled": False, "exception_id": 0},
    ] == [value["mechanism"] for value in values]


def test_every_exception_in_a_chain_has_its_own_stacktrace() -> None:
    """Each link carries the frames it was raised through."""
    values = _values(_caught(_raise_with_cause))
    assert [["_raise_with_cause"], ["_raise_with_cause"], ["_caught", "_raise_with_cause"]] == [
        [frame["function"] for frame in value["stacktrace"]["frames"]] for value in values
    ]


def test_an_exception_raised_while_handling_another_includes_it() -> None:
    """The implicit ``__context__`` is followed when there is no explicit cause."""
    values = _values(_caught(_raise_during_handling))
    assert [("KeyError", "'first'"), ("AppError", "while handling")] == _summary(values)
    assert "__context__" == values[0]["mechanism"]["source"]


def test_raise_from_none_hides_the_context() -> None:
    """``raise ... from None`` reports only the new exception."""
    assert [("AppError", "clean")] == _summary(_values(_caught(_raise_from_none)))


def test_an_explicit_cause_wins_over_the_context() -> None:
    """With both a cause and a context, only the cause is followed, as Python prints it."""
    top = AppError("top")
    top.__context__ = KeyError("context")
    top.__cause__ = TypeError("cause")
    assert [("TypeError", "cause"), ("AppError", "top")] == _summary(_values(top))


def test_a_cyclic_chain_stops_at_the_first_repeat() -> None:
    """Exceptions whose contexts point at each other are each reported once."""
    first, second = KeyError("first"), TypeError("second")
    first.__context__ = second
    second.__context__ = first
    assert [("TypeError", "second"), ("KeyError", "'first'")] == _summary(_values(first))


def test_an_exception_that_is_its_own_cause_is_reported_once() -> None:
    """A self-referencing cause does not loop."""
    exc = AppError("self")
    exc.__cause__ = exc
    assert [("AppError", "self")] == _summary(_values(exc))


def test_a_very_long_chain_is_cut_at_one_hundred_exceptions() -> None:
    """A chain of 5,000 exceptions neither recurses too deep nor produces an unbounded event."""
    exc: BaseException = KeyError(0)
    for index in range(1, 5_000):
        newer = KeyError(index)
        newer.__context__ = exc
        exc = newer
    values = _values(exc)
    assert 100 == len(values)
    assert ("KeyError", "4999") == (values[-1]["type"], values[-1]["value"])
    assert ("KeyError", "4900") == (values[0]["type"], values[0]["value"])


# -- exception groups -------------------------------------------------------------------------


def _nested_group() -> BaseException:
    group_type: Any = builtins.ExceptionGroup  # type: ignore[attr-defined,unused-ignore]
    inner = group_type("inner", [TypeError("b"), _caught(_key_lookup("c"))])
    return _caught(_raising(group_type("outer", [ValueError("a"), inner])))


@needs_groups
def test_an_exception_group_reports_every_member_with_ids() -> None:
    """Nested groups give each exception an id, members a parent_id and source, groups a group flag."""
    values = _values(_nested_group(), type="generic", handled=True)
    assert [
        ("KeyError", "'c'"),
        ("TypeError", "b"),
        ("ExceptionGroup", "inner (2 sub-exceptions)"),
        ("ValueError", "a"),
        ("ExceptionGroup", "outer (2 sub-exceptions)"),
    ] == _summary(values)
    assert [
        {"type": "chained", "source": "exceptions[1]", "parent_id": 2, "handled": True, "exception_id": 4},
        {"type": "chained", "source": "exceptions[0]", "parent_id": 2, "handled": True, "exception_id": 3},
        {
            "type": "chained",
            "source": "exceptions[1]",
            "parent_id": 0,
            "handled": True,
            "exception_id": 2,
            "is_exception_group": True,
        },
        {"type": "chained", "source": "exceptions[0]", "parent_id": 0, "handled": True, "exception_id": 1},
        {"type": "generic", "handled": True, "exception_id": 0, "is_exception_group": True},
    ] == [value["mechanism"] for value in values]


@needs_groups
def test_group_members_have_stacktraces_only_if_they_were_raised() -> None:
    """A member that was raised keeps its frames; one built but never raised has none."""
    values = _values(_nested_group())
    assert [True, False, False, False, True] == ["stacktrace" in value for value in values]


@needs_groups
def test_a_huge_exception_group_is_cut_at_one_hundred_exceptions() -> None:
    """A group of 10,000 members yields a bounded number of values."""
    group_type: Any = builtins.ExceptionGroup  # type: ignore[attr-defined,unused-ignore]
    group = group_type("many", [ValueError(index) for index in range(10_000)])
    values = _values(group)
    assert 100 == len(values)
    assert ("ExceptionGroup", "exceptions[98]") == (values[-1]["type"], values[0]["mechanism"]["source"])


def test_a_duck_typed_group_is_recognised_on_any_python() -> None:
    """An exception with an ``exceptions`` tuple (such as the exceptiongroup backport) is a group."""

    class MultiError(Exception):
        def __init__(self, exceptions: tuple[object, ...]) -> None:
            super().__init__("several")
            self.exceptions = exceptions

    values = _values(MultiError((KeyError("k"), "not an exception")))
    assert [("KeyError", "'k'"), ("MultiError", "several")] == _summary(values)
    assert (True, "exceptions[0]") == (
        values[1]["mechanism"]["is_exception_group"],
        values[0]["mechanism"]["source"],
    )


# -- frame limits through the whole pipeline --------------------------------------------------


def _recurse(depth: int) -> None:
    if depth <= 0:
        raise RecursionError("maximum recursion depth exceeded (simulated)")
    _recurse(depth - 1)


def test_a_recursion_error_of_ten_thousand_frames_is_captured_quickly() -> None:
    """A 10,000-frame RecursionError event has max_stack_frames frames and frames_omitted, in under 0.5 s."""
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(old_limit + 11_000)
    try:
        exc = _caught(lambda: _recurse(9_998))
    finally:
        sys.setrecursionlimit(old_limit)
    total = 0
    tb = exc.__traceback__
    while tb is not None:
        total += 1
        tb = tb.tb_next
    assert 10_001 == total
    started = time.perf_counter()
    event, _ = event_from_exception(exc_info_from_error(exc), options=_options(max_stack_frames=60))
    elapsed = time.perf_counter() - started
    print(f"10,001-frame RecursionError event built in {elapsed * 1000:.2f} ms")
    stacktrace = event["exception"]["values"][0]["stacktrace"]
    assert 60 == len(stacktrace["frames"])
    assert [30, 9_971] == stacktrace["frames_omitted"]
    assert ["_caught", "<lambda>"] == [frame["function"] for frame in stacktrace["frames"][:2]]
    assert [0] == [frame["vars"]["depth"] for frame in stacktrace["frames"][-1:]]
    assert elapsed < 0.5


def test_event_types_line_up_with_exc_info() -> None:
    """The ExcInfo alias describes what exc_info_from_error returns."""
    info: ExcInfo = exc_info_from_error(AppError("typed"))
    assert AppError is info[0]
