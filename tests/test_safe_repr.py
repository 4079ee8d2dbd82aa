"""Describing the program's objects can neither break nor stall a capture, and ``custom_repr`` wins."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk._serializer import serialize_event
from sentry_sdk._usercode import TimeBudget
from sentry_sdk.testing import capture_events
from sentry_sdk.utils import safe_repr, safe_str


class Endless:
    """Every method the SDK might call loops forever, swallowing ordinary exceptions."""

    def _spin(self, *args: object) -> Any:
        while True:
            try:
                time.sleep(0)
            except Exception:
                pass

    __repr__ = __str__ = _spin


class EndlessMapping(Mapping[str, int]):
    """A mapping whose length and items never come."""

    def __getitem__(self, key: str) -> int:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        while True:
            pass

    def __len__(self) -> int:
        while True:
            pass


class EndlessZone(tzinfo):
    """A time zone that never answers its offset."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        while True:
            pass

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "Endless"


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __repr__(self) -> str:
        return "Point(...)"


class EndlessError(Exception):
    def __str__(self) -> str:
        while True:
            pass


def _frame_vars(event: dict[str, Any]) -> dict[str, Any]:
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    return frames[-1]["vars"]  # type: ignore[no-any-return]


def test_a_repr_that_never_returns_is_cut_short_and_named() -> None:
    """safe_repr gives up on a __repr__ that loops forever and says so, within a fraction of a second."""
    start = time.monotonic()
    text = safe_repr(Endless())
    assert ("<repr took too long of Endless>", True) == (text, time.monotonic() - start < 1.0)


def test_str_that_never_returns_falls_back_to_the_placeholder() -> None:
    """safe_str of an object whose __str__ and __repr__ both loop forever returns a placeholder."""
    assert "<repr took too long of Endless>" == safe_str(Endless())


def test_locals_that_never_finish_describing_do_not_stall_the_capture() -> None:
    """An exception with forty endless locals, an endless mapping and an endless time zone is
    captured in well under two seconds, with its other locals intact."""
    with capture_events() as events:
        start = time.monotonic()
        try:
            hostile = [Endless() for _ in range(40)]  # noqa: F841 - locals the SDK collects
            one = Endless()  # noqa: F841
            table = EndlessMapping()  # noqa: F841
            when = datetime(2026, 1, 1, tzinfo=EndlessZone())  # noqa: F841
            plain = {"answer": 42}  # noqa: F841
            raise ValueError("boom")
        except ValueError:
            sentry_sdk.capture_exception()
        elapsed = time.monotonic() - start
    frame_vars = _frame_vars(events[0])
    assert elapsed < 2.0, elapsed
    assert {"answer": 42} == frame_vars["plain"]
    assert frame_vars["one"].startswith("<repr took too long")
    assert "boom" == events[0]["exception"]["values"][0]["value"]


def test_an_exception_whose_str_never_returns_is_still_captured() -> None:
    """The exception's message is a placeholder; its type and frames arrive."""
    with capture_events() as events:
        try:
            raise EndlessError()
        except EndlessError:
            sentry_sdk.capture_exception()
    exception = events[0]["exception"]["values"][0]
    assert ("EndlessError", "<unprintable EndlessError object>") == (exception["type"], exception["value"])
    assert exception["stacktrace"]["frames"]


def test_a_tracer_the_program_had_is_put_back() -> None:
    """Describing objects under a time bound leaves a debugger's or coverage's tracer in place."""
    calls: list[str] = []

    def tracer(frame: Any, event: str, arg: Any) -> None:
        calls.append(event)

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        safe_repr(Endless())
        safe_repr(Point(1, 2))
        now = sys.gettrace()
    finally:
        sys.settrace(previous)
    assert tracer is now


def test_custom_repr_describes_objects_before_anything_else() -> None:
    """custom_repr's string is what a local variable and an extra show."""

    def describe(value: object) -> str | None:
        return f"point at {value.x},{value.y}" if isinstance(value, Point) else None

    with capture_events(custom_repr=describe) as events:
        sentry_sdk.set_extra("where", Point(3, 4))
        try:
            here = Point(1, 2)  # noqa: F841 - a local the SDK collects
            other = {1, 2}  # noqa: F841
            raise ValueError("boom")
        except ValueError:
            sentry_sdk.capture_exception()
    frame_vars = _frame_vars(events[0])
    assert ("point at 1,2", [1, 2], "point at 3,4") == (
        frame_vars["here"],
        frame_vars["other"],
        events[0]["extra"]["where"],
    )


def test_a_failing_or_declining_custom_repr_leaves_the_usual_description() -> None:
    """custom_repr returning None, a non-string, raising, or looping forever: the object's own repr."""

    def decline(value: object) -> Any:
        return None

    def wrong(value: object) -> Any:
        return 42

    def broken(value: object) -> Any:
        raise RuntimeError("custom_repr bug")

    def endless(value: object) -> Any:
        while True:
            pass

    for custom in (decline, wrong, broken, endless):
        out = serialize_event({"extra": {"p": Point(1, 2)}}, custom_repr=custom)
        assert "Point(...)" == out["extra"]["p"], custom.__name__


def test_custom_repr_must_be_callable() -> None:
    """A custom_repr that is not callable is refused at init."""
    with pytest.raises(TypeError, match="custom_repr"):
        sentry_sdk.init(custom_repr="repr")


def test_a_generator_closed_as_the_time_runs_out_closes_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Time running out while the garbage collector closes a generator must not break the closing.

    Closing throws GeneratorExit into the generator; an interruption raised there would replace
    it inside a finalizer, where Python only prints it as an exception it ignored (seen in CI
    under load, in a generator of a mapping's items). The clock here passes the deadline exactly
    at that moment.
    """
    import sentry_sdk._usercode as usercode

    cleaned_up: list[bool] = []

    def numbers() -> Iterator[int]:
        try:
            yield 1
            yield 2
        finally:
            cleaned_up.append(True)

    def clock() -> float:
        checking = sys._getframe(1).f_locals
        closing = checking.get("event") == "exception" and checking["frame"].f_code is numbers.__code__
        if closing:
            clock.now = 100.0  # type: ignore[attr-defined]
        return getattr(clock, "now", 0.0)

    left_open = [numbers()]
    next(left_open[0])
    monkeypatch.setattr(usercode, "monotonic", clock)

    ignored: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)

    def drop_it() -> int:
        left_open.clear()
        return 7  # the interruption comes here, once the closing has ended

    with pytest.raises(usercode.OutOfTimeError):
        TimeBudget().call(drop_it)
    assert [] == ignored
    assert [True] == cleaned_up
