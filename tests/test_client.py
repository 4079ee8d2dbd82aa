"""The event pipeline: defaults, processors, hooks, sampling, and every drop counted and logged."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk.consts import VERSION
from sentry_sdk.scope import _global_event_processors, add_global_event_processor
from sentry_sdk.testing import CapturingTransport


def init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    sentry_sdk.init(transport=transport, **options)
    return transport


def test_events_carry_the_default_attributes() -> None:
    """Every event has an id, timestamp, platform, sdk, release, environment, server name and contexts."""
    transport = init(release="1.2.3", environment="test", server_name="web-1", dist="x86")
    event_id = sentry_sdk.capture_message("hello")
    (event,) = transport.events
    assert event_id == event["event_id"]
    assert isinstance(event["timestamp"], float)
    assert ("python", "1.2.3", "test", "web-1", "x86") == (
        event["platform"],
        event["release"],
        event["environment"],
        event["server_name"],
        event["dist"],
    )
    assert {"name": "sentry.python", "version": VERSION} == {k: event["sdk"][k] for k in ("name", "version")}
    assert [{"name": "pypi:sentry-sdk", "version": VERSION}] == event["sdk"]["packages"]
    assert "CPython" == event["contexts"]["runtime"]["name"]
    assert "name" in event["contexts"]["os"]


def test_the_envelope_header_carries_the_event_id_and_sent_at() -> None:
    """The envelope names its event and when it was sent."""
    transport = init()
    event_id = sentry_sdk.capture_message("hello")
    (envelope,) = transport.envelopes
    assert event_id == envelope.headers["event_id"]
    assert envelope.headers["sent_at"].endswith("Z")
    assert ["event"] == [item.type for item in envelope.items]


def test_pipeline_order_processors_then_before_send_then_sampling() -> None:
    """Error processors, then event processors, then before_send, then the sampler see the event."""
    order: list[str] = []

    def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        order.append("before_send")
        return event

    def sampler(event: dict[str, Any], hint: dict[str, Any]) -> float:
        order.append("error_sampler")
        return 1.0

    transport = init(before_send=before_send, error_sampler=sampler)
    with sentry_sdk.configure_scope() as scope:
        scope.add_event_processor(lambda e, h: order.append("event_processor") or e)
        scope.add_error_processor(lambda e, exc_info: order.append("error_processor") or e)
    sentry_sdk.capture_exception(ValueError("x"))
    assert ["error_processor", "event_processor", "before_send", "error_sampler"] == order
    assert 1 == len(transport.events)


def test_global_event_processors_run_before_scope_processors() -> None:
    """``add_global_event_processor`` applies to every scope, ahead of the scope's own processors."""
    order: list[str] = []
    processor = add_global_event_processor(lambda e, h: order.append("global") or e)
    try:
        init()
        with sentry_sdk.configure_scope() as scope:
            scope.add_event_processor(lambda e, h: order.append("scope") or e)
        sentry_sdk.capture_message("x")
    finally:
        _global_event_processors.remove(processor)
    assert ["global", "scope"] == order


def test_error_processors_can_be_limited_to_a_class() -> None:
    """``add_error_processor(fn, cls)`` runs only for exceptions of that class."""
    transport = init()
    with sentry_sdk.configure_scope() as scope:
        scope.add_error_processor(lambda e, exc_info: None, KeyError)
    sentry_sdk.capture_exception(KeyError("dropped"))
    sentry_sdk.capture_exception(ValueError("kept"))
    assert ["kept"] == [e["exception"]["values"][0]["value"] for e in transport.events]


def test_before_send_sees_the_hint_and_may_change_or_drop() -> None:
    """before_send gets the exc_info hint; returning None drops the event and counts it."""

    def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
        if isinstance(hint["exc_info"][1], KeyError):
            return None
        event["tags"] = {"seen": "yes"}
        return event

    transport = init(before_send=before_send)
    assert None is sentry_sdk.capture_exception(KeyError())
    assert sentry_sdk.capture_exception(ValueError()) is not None
    assert [{"seen": "yes"}] == [e["tags"] for e in transport.events]
    assert 1 == transport.lost_events[("before_send", "error")]


def test_a_before_send_returning_something_else_than_a_dict_drops_and_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A before_send that returns, say, ``True`` loses the event visibly: counted and logged."""
    transport = init(before_send=lambda event, hint: True, debug=True)
    with caplog.at_level(logging.DEBUG, logger="sentry_sdk.errors"):
        assert None is sentry_sdk.capture_message("x")
    assert [] == transport.events
    assert 1 == transport.lost_events[("before_send", "error")]
    assert "before_send returned 'bool'" in caplog.text


def test_every_drop_before_the_transport_is_counted() -> None:
    """ignore_errors, an event captured from inside the pipeline, and a closed client all count."""

    def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        sentry_sdk.capture_message("from inside before_send")
        return event

    transport = init(ignore_errors=[KeyError], before_send=before_send)
    client = sentry_sdk.Hub.current.client
    assert client is not None
    sentry_sdk.capture_exception(KeyError("ignored"))
    sentry_sdk.capture_message("kept")
    client.close()
    sentry_sdk.capture_message("after close")
    assert ["kept"] == [e["message"] for e in transport.events]
    assert {"event_processor": 1, "internal_sdk_error": 1, "client_closed": 1} == dict(client.lost_events)
    assert {("event_processor", "error"): 1, ("internal_sdk_error", "error"): 1} == dict(
        transport.lost_events
    )


def test_a_before_send_that_raises_drops_the_event_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    """A raising before_send never reaches the program; the event is dropped, counted and logged."""

    def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("bug in before_send")

    transport = init(before_send=before_send, debug=True)
    with caplog.at_level(logging.DEBUG, logger="sentry_sdk.errors"):
        assert None is sentry_sdk.capture_message("x")
    assert [] == transport.events
    assert 1 == transport.lost_events[("before_send", "error")]
    assert any("before_send raised" in r.getMessage() and r.exc_info for r in caplog.records)


def test_an_event_processor_that_raises_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    """A raising processor is logged; the event goes on unchanged."""
    transport = init()
    with sentry_sdk.configure_scope() as scope:
        scope.add_event_processor(lambda e, h: 1 / 0)
    with caplog.at_level(logging.ERROR, logger="sentry_sdk.errors"):
        sentry_sdk.capture_message("still sent")
    assert ["still sent"] == [e["message"] for e in transport.events]
    assert any("event processor" in r.getMessage() for r in caplog.records)


def test_an_event_processor_returning_none_drops_and_counts() -> None:
    """A processor that returns None drops the event, counted as event_processor."""
    transport = init()
    with sentry_sdk.configure_scope() as scope:
        scope.add_event_processor(lambda e, h: None)
    assert None is sentry_sdk.capture_message("dropped")
    assert 1 == transport.lost_events[("event_processor", "error")]


def test_sample_rate_zero_drops_everything_and_counts() -> None:
    """sample_rate=0 sends nothing; each drop is counted as sample_rate."""
    transport = init(sample_rate=0.0)
    for _ in range(5):
        sentry_sdk.capture_message("x")
    assert [] == transport.events
    assert 5 == transport.lost_events[("sample_rate", "error")]


def test_error_sampler_decides_per_event() -> None:
    """error_sampler's rate replaces sample_rate."""
    transport = init(sample_rate=0.0, error_sampler=lambda e, h: 1.0 if e.get("message") == "keep" else 0.0)
    sentry_sdk.capture_message("keep")
    sentry_sdk.capture_message("drop")
    assert ["keep"] == [e["message"] for e in transport.events]


def test_ignore_errors_by_class_and_by_name() -> None:
    """ignore_errors matches subclasses, plain class names and dotted names."""

    class MyError(Exception):
        pass

    transport = init(ignore_errors=[LookupError, "MyError", "builtins.ZeroDivisionError"])
    sentry_sdk.capture_exception(KeyError())
    sentry_sdk.capture_exception(MyError())
    sentry_sdk.capture_exception(ZeroDivisionError())
    sentry_sdk.capture_exception(ValueError("kept"))
    assert ["ValueError"] == [e["exception"]["values"][0]["type"] for e in transport.events]


def test_an_object_whose_repr_raises_in_a_local_variable() -> None:
    """A local variable whose __repr__ raises does not break capturing; it is described safely."""

    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no repr for you")

    transport = init()
    hostile = Hostile()  # noqa: F841 - captured as a local variable
    try:
        raise ValueError("with a hostile local")
    except ValueError:
        sentry_sdk.capture_exception()
    (event,) = transport.events
    frame = event["exception"]["values"][0]["stacktrace"]["frames"][-1]
    assert "Hostile" in frame["vars"]["hostile"]


def test_local_variables_and_source_context_can_be_turned_off() -> None:
    """include_local_variables=False and include_source_context=False leave vars and lines out."""
    transport = init(include_local_variables=False, include_source_context=False)
    try:
        raise ValueError()
    except ValueError:
        sentry_sdk.capture_exception()
    frame = transport.events[0]["exception"]["values"][0]["stacktrace"]["frames"][-1]
    assert {"vars", "context_line", "pre_context", "post_context"}.isdisjoint(frame)


def test_attach_stacktrace_adds_the_current_stack_to_messages() -> None:
    """With attach_stacktrace, a message carries the stack of the place it was captured."""
    transport = init(attach_stacktrace=True)
    sentry_sdk.capture_message("where am I")
    (thread,) = transport.events[0]["threads"]["values"]
    frames = thread["stacktrace"]["frames"]
    assert "test_attach_stacktrace_adds_the_current_stack_to_messages" == frames[-1]["function"]
    assert not any(f["module"].startswith("sentry_sdk") for f in frames)


def test_before_breadcrumb_and_max_breadcrumbs() -> None:
    """before_breadcrumb can change or drop crumbs; only the newest max_breadcrumbs are kept."""

    def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
        if crumb["message"] == "secret":
            return None
        crumb["data"] = {"hinted": hint.get("why")}
        return crumb

    transport = init(before_breadcrumb=before_breadcrumb, max_breadcrumbs=3)
    for i in range(5):
        sentry_sdk.add_breadcrumb(message=str(i), hint={"why": i})
    sentry_sdk.add_breadcrumb(message="secret")
    sentry_sdk.capture_message("x")
    crumbs = transport.events[0]["breadcrumbs"]["values"]
    assert [("2", 2), ("3", 3), ("4", 4)] == [(c["message"], c["data"]["hinted"]) for c in crumbs]
    assert {"default"} == {c["type"] for c in crumbs}


def test_logging_inside_before_breadcrumb_does_not_recurse() -> None:
    """A before_breadcrumb that logs sees the original crumbs; crumbs from its own logging are dropped."""
    log = logging.getLogger("test.before_breadcrumb")
    calls: list[str] = []

    def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        calls.append(crumb["message"])
        log.warning("saw %s", crumb["message"])
        return crumb

    transport = init(before_breadcrumb=before_breadcrumb, default_integrations=True)
    sentry_sdk.add_breadcrumb(message="first")
    sentry_sdk.add_breadcrumb(lambda: {"message": "lazy"})
    sentry_sdk.capture_message("x")
    assert ["first", "lazy"] == calls
    assert ["first", "lazy"] == [c["message"] for c in transport.events[0]["breadcrumbs"]["values"]]


def test_max_breadcrumbs_zero_keeps_none() -> None:
    """max_breadcrumbs=0 records no breadcrumbs."""
    transport = init(max_breadcrumbs=0)
    sentry_sdk.add_breadcrumb(message="x")
    sentry_sdk.capture_message("x")
    assert "breadcrumbs" not in transport.events[0]


def test_capture_exception_takes_an_exc_info_tuple() -> None:
    """An exc_info tuple is captured like the exception itself."""
    transport = init()
    try:
        raise KeyError("k")
    except KeyError:
        exc_info = sys.exc_info()
    sentry_sdk.capture_exception(exc_info)
    assert "KeyError" == transport.events[0]["exception"]["values"][0]["type"]


def test_capture_exception_outside_except_sends_nothing() -> None:
    """With no argument and no exception being handled, nothing is captured."""
    transport = init()
    assert None is sentry_sdk.capture_exception()
    assert [] == transport.events


def test_an_event_captured_inside_before_send_is_dropped_not_recursed() -> None:
    """Capturing from inside the pipeline (e.g. before_send) does not recurse."""

    def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        assert None is sentry_sdk.capture_message("inner")
        return event

    transport = init(before_send=before_send)
    sentry_sdk.capture_message("outer")
    assert ["outer"] == [e["message"] for e in transport.events]


def test_init_as_a_context_manager_flushes_and_closes() -> None:
    """``with sentry_sdk.init(...)`` closes the client at the end of the block."""
    transport = CapturingTransport()
    with sentry_sdk.init(transport=transport, default_integrations=False) as guard:
        sentry_sdk.capture_message("inside")
    assert not guard.client.is_active()
    assert None is sentry_sdk.capture_message("after close")
    assert ["inside"] == [e["message"] for e in transport.events]


def test_capture_event_with_a_hint_and_non_json_values() -> None:
    """capture_event takes a raw dict; values that are not JSON are made safe."""
    transport = init()
    sentry_sdk.capture_event({"message": "raw", "extra": {"obj": object(), "b": b"\x00", "n": float("nan")}})
    extra = transport.events[0]["extra"]
    assert extra["obj"].startswith("<object object at")
    assert ("b'\\x00'", "nan") == (extra["b"], extra["n"])
