"""``sentry_sdk.utils``: the helpers sentry-sdk code imports from there work under the same calls."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk import utils
from sentry_sdk.utils import (
    BadDsn,
    Dsn,
    capture_internal_exceptions,
    current_stacktrace,
    event_from_exception,
    exc_info_from_error,
    format_timestamp,
    get_default_release,
    get_type_module,
    get_type_name,
    iter_event_frames,
    iter_event_stacktraces,
    logger,
    qualname_from_function,
    reraise,
    safe_repr,
    safe_str,
    walk_exception_chain,
)


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


class Outer:
    class Inner:
        def method(self) -> None:
            pass


class BrokenText:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_the_module_declares_exactly_the_names_it_exports() -> None:
    """``__all__`` lists every helper offered, sorted, and each one is importable."""
    assert sorted(utils.__all__) == utils.__all__
    assert [
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
    ] == utils.__all__
    for name in utils.__all__:
        assert getattr(utils, name) is not None


def test_import_sentry_sdk_does_not_load_utils_and_utils_does_not_load_typing() -> None:
    """``import sentry_sdk`` leaves ``sentry_sdk.utils`` unloaded; importing it loads no ``typing``."""
    probe = (
        "import sys, sentry_sdk\n"
        "before = 'sentry_sdk.utils' in sys.modules\n"
        "import sentry_sdk.utils\n"
        "print(before, 'typing' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "False False" == result.stdout.strip()


# -- exceptions


def test_event_from_exception_takes_sentry_sdks_arguments() -> None:
    """``event_from_exception(exc_info, client_options=..., mechanism=...)`` gives ``(event, hint)``."""
    exc = raised(ValueError("bad value"))
    exc_info = (ValueError, exc, exc.__traceback__)
    event, hint = event_from_exception(
        exc_info,
        client_options={"include_local_variables": False},
        mechanism={"type": "celery", "handled": False},
    )
    assert {"exc_info": exc_info} == hint
    assert "error" == event["level"]
    (value,) = event["exception"]["values"]
    assert ("ValueError", "bad value") == (value["type"], value["value"])
    assert {"type": "celery", "handled": False} == {k: value["mechanism"][k] for k in ("type", "handled")}
    assert all("vars" not in frame for frame in value["stacktrace"]["frames"])


def test_event_from_exception_defaults_and_positional_use() -> None:
    """Without options (or with an unbound client's ``options``) locals are included; an exception works."""
    exc = raised(KeyError("k"))
    event, hint = event_from_exception(exc)
    (value,) = event["exception"]["values"]
    assert {"type": "generic", "handled": True} == {k: value["mechanism"][k] for k in ("type", "handled")}
    assert "vars" in value["stacktrace"]["frames"][-1]
    assert exc is hint["exc_info"][1]

    event, _ = event_from_exception((KeyError, exc, None), sentry_sdk.get_client().options)
    assert "KeyError" == event["exception"]["values"][0]["type"]


def test_exc_info_from_error_accepts_exceptions_and_triples() -> None:
    """An exception or an ``exc_info`` triple gives ``(type, value, traceback)``; anything else ValueError."""
    exc = raised(OSError("disk"))
    assert (OSError, exc, exc.__traceback__) == exc_info_from_error(exc)
    assert (OSError, exc, exc.__traceback__) == exc_info_from_error((OSError, exc, None))
    with pytest.raises(ValueError):
        exc_info_from_error("not an error")  # type: ignore[arg-type]


def test_walk_exception_chain_follows_cause_then_context() -> None:
    """The chain runs from the given exception along ``__cause__``/``__context__``; ``from None`` ends it."""
    try:
        try:
            try:
                raise KeyError("root")
            except KeyError as root:
                raise ValueError("middle") from root
        except ValueError:
            raise RuntimeError("top")  # noqa: B904 - the implicit context is what is tested
    except RuntimeError as top:
        chain = list(walk_exception_chain((RuntimeError, top, top.__traceback__)))
    assert [RuntimeError, ValueError, KeyError] == [exc_type for exc_type, _, _ in chain]
    assert chain[0][2] is not None and all(tb is value.__traceback__ for _, value, tb in chain[1:])

    hidden = raised(ValueError("shown"))
    hidden.__context__ = KeyError("hidden")
    hidden.__suppress_context__ = True
    assert [hidden] == [value for _, value, _ in walk_exception_chain((ValueError, hidden, None))]


def test_walk_exception_chain_ends_on_a_cycle() -> None:
    """Two exceptions that are each other's context are each given once."""
    first, second = ValueError("a"), KeyError("b")
    first.__context__, second.__context__ = second, first
    assert [first, second] == [value for _, value, _ in walk_exception_chain((ValueError, first, None))]


def test_reraise_raises_the_value_with_the_given_traceback() -> None:
    """``reraise(*exc_info)`` raises the same exception object, carrying the traceback passed in."""
    exc = raised(ValueError("again"))
    tb = exc.__traceback__
    with pytest.raises(ValueError) as info:
        reraise(ValueError, exc, tb)
    assert exc is info.value


# -- diagnostics and the DSN


def test_capture_internal_exceptions_swallows_and_logs(
    sdk_errors_fail_tests: list[BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    """An error in ``with capture_internal_exceptions():`` is logged to ``sentry_sdk.errors``, not raised."""
    with caplog.at_level(logging.ERROR, logger="sentry_sdk.errors"):
        with capture_internal_exceptions():
            raise RuntimeError("sdk bug")
    assert ["Internal error in sentry_sdk"] == [r.getMessage() for r in caplog.records]
    assert 1 == len(sdk_errors_fail_tests)
    sdk_errors_fail_tests.clear()


def test_logger_is_the_sentry_sdk_errors_logger(caplog: pytest.LogCaptureFixture) -> None:
    """``logger`` writes to the ``sentry_sdk.errors`` logger, as sentry-sdk's does."""
    with caplog.at_level(logging.WARNING, logger="sentry_sdk.errors"):
        logger.warning("careful")
    assert [("sentry_sdk.errors", "careful")] == [(r.name, r.getMessage()) for r in caplog.records]


def test_dsn_parses_and_bad_dsn_is_raised() -> None:
    """``Dsn(...)`` exposes host, project id and public key; a malformed DSN raises BadDsn (a ValueError)."""
    dsn = Dsn("https://key@o1.ingest.sentry.io/42")
    assert ("o1.ingest.sentry.io", "42", "key") == (dsn.host, dsn.project_id, dsn.public_key)
    with pytest.raises(BadDsn):
        Dsn("not a dsn")
    assert issubclass(BadDsn, ValueError)


def test_get_default_release_reads_sentry_release(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``SENTRY_RELEASE`` set, that is the default release."""
    monkeypatch.setenv("SENTRY_RELEASE", "app@1.2.3")
    assert "app@1.2.3" == get_default_release()


# -- formatting


def test_format_timestamp_is_utc_with_microseconds_and_z() -> None:
    """Aware datetimes are converted to UTC; the result always has six fraction digits and a ``Z``."""
    assert "2024-01-02T03:04:05.000000Z" == format_timestamp(
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    )
    plus_two = timezone(timedelta(hours=2))
    assert "2024-01-02T01:04:05.000007Z" == format_timestamp(
        datetime(2024, 1, 2, 3, 4, 5, 7, tzinfo=plus_two)
    )
    assert "0999-12-31T23:00:00.000000Z" == format_timestamp(
        datetime(1000, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    )


def test_format_timestamp_reads_a_naive_datetime_as_local_time() -> None:
    """A naive datetime is taken to be local time, as ``datetime.astimezone`` does."""
    naive = datetime(2024, 6, 1, 12, 0, 0)
    expected = naive.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert expected == format_timestamp(naive)


def test_safe_repr_and_safe_str_never_raise() -> None:
    """``safe_repr``/``safe_str`` give the text of a value, or a placeholder naming its type."""
    assert "'x'" == safe_repr("x")
    assert "x" == safe_str("x")
    assert "3" == safe_str(3)
    assert "BrokenText" in safe_repr(BrokenText())
    assert "BrokenText" in safe_str(BrokenText())


def test_type_names_and_modules() -> None:
    """``get_type_name`` gives the qualified name; ``get_type_module`` the module, None for builtins."""
    assert "Outer.Inner" == get_type_name(Outer.Inner)
    assert "ValueError" == get_type_name(ValueError)
    assert __name__ == get_type_module(Outer)
    assert get_type_module(ValueError) is None
    assert get_type_name(object()) is None


def test_qualname_from_function() -> None:
    """Functions and methods give ``module.Qual.name``; a partial wraps its function's name."""

    def local() -> None:
        pass

    assert f"{__name__}.Outer.Inner.method" == qualname_from_function(Outer.Inner.method)
    assert f"{__name__}.Outer.Inner.method" == qualname_from_function(Outer.Inner().method)
    assert f"{__name__}.test_qualname_from_function.<locals>.local" == qualname_from_function(local)
    assert "builtins.len" == qualname_from_function(len)
    assert f"partial(<function {__name__}.raised>)" == qualname_from_function(partial(raised, ValueError()))
    assert qualname_from_function(Outer.Inner()) is None


# -- stack traces


def test_current_stacktrace_is_the_callers_stack() -> None:
    """The innermost frame is the caller's, with its locals and source line; options turn those off."""
    marker = "here"  # noqa: F841 - read back from the frame's locals
    frames = current_stacktrace()["frames"]
    innermost = frames[-1]
    assert "test_current_stacktrace_is_the_callers_stack" == innermost["function"]
    assert "here" == innermost["vars"]["marker"]
    assert "current_stacktrace()" in innermost["context_line"]

    bare = current_stacktrace(include_local_variables=False, include_source_context=False)["frames"][-1]
    assert "vars" not in bare and "context_line" not in bare


def test_current_stacktrace_shortens_source_lines_to_max_value_length() -> None:
    """With ``max_value_length`` every source line is at most that long, ending in "..." when cut."""
    innermost = current_stacktrace(max_value_length=20)["frames"][-1]
    lines = [innermost["context_line"], *innermost["pre_context"], *innermost["post_context"]]
    assert all(len(line) <= 20 for line in lines)
    assert innermost["context_line"].endswith("...")


def test_iter_event_stacktraces_and_frames() -> None:
    """Stack traces come from the event, its threads and its exceptions; malformed parts are skipped."""
    event: dict[str, Any] = {
        "stacktrace": {"frames": [{"function": "a"}]},
        "threads": {"values": [{"stacktrace": {"frames": [{"function": "b"}, "junk"]}}, {"id": 2}]},
        "exception": {"values": [{"stacktrace": {"frames": [{"function": "c"}]}}, None]},
    }
    assert 3 == len(list(iter_event_stacktraces(event)))
    assert ["a", "b", "c"] == [frame["function"] for frame in iter_event_frames(event)]
    assert [] == list(iter_event_frames({"exception": "odd", "threads": {"values": 3}}))
