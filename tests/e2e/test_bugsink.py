"""End to end: events captured by the SDK are stored by Bugsink, a real Sentry-compatible server."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import pytest
from bugsink_server import BugsinkServer

import sentry_sdk


def stored(bugsink: BugsinkServer, event_id: str | None) -> dict[str, Any]:
    assert event_id is not None
    sentry_sdk.flush(timeout=10)
    return bugsink.event(event_id)


def test_a_handled_exception_with_locals_and_source(bugsink: BugsinkServer) -> None:
    """A caught exception arrives with its frames, local variables and source lines."""
    sentry_sdk.init(dsn=bugsink.dsn)

    def charge(amount: int) -> None:
        card_last4 = "4242"  # noqa: F841 - a local variable to find in the event
        raise ValueError(f"cannot charge {amount}")

    try:
        charge(30)
    except ValueError:
        event_id = sentry_sdk.capture_exception()
    event = stored(bugsink, event_id)
    (exc,) = event["exception"]["values"]
    assert ("ValueError", "cannot charge 30") == (exc["type"], exc["value"])
    frame = exc["stacktrace"]["frames"][-1]
    assert ("charge", "4242", 30) == (frame["function"], frame["vars"]["card_last4"], frame["vars"]["amount"])
    assert 'raise ValueError(f"cannot charge {amount}")' == frame["context_line"].strip()
    assert 5 == len(frame["pre_context"])


def test_a_chained_exception(bugsink: BugsinkServer) -> None:
    """``raise ... from`` arrives as two exceptions, the cause first."""
    sentry_sdk.init(dsn=bugsink.dsn)
    try:
        try:
            {}["config"]
        except KeyError as exc:
            raise RuntimeError("startup failed") from exc
    except RuntimeError:
        event_id = sentry_sdk.capture_exception()
    values = stored(bugsink, event_id)["exception"]["values"]
    assert ["KeyError", "RuntimeError"] == [v["type"] for v in values]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup needs Python 3.11")
def test_an_exception_group(bugsink: BugsinkServer) -> None:
    """An ExceptionGroup arrives with the group and each member exception."""
    sentry_sdk.init(dsn=bugsink.dsn)
    group = ExceptionGroup("two failures", [ValueError("a"), TypeError("b")])  # noqa: F821
    try:
        raise group
    except Exception:
        event_id = sentry_sdk.capture_exception()
    values = stored(bugsink, event_id)["exception"]["values"]
    assert {"ExceptionGroup", "ValueError", "TypeError"} == {v["type"] for v in values}


def test_an_uncaught_exception_in_a_script(bugsink: BugsinkServer, run_script: Callable[[str], Any]) -> None:
    """A script that dies of an exception reports it through the excepthook, unhandled."""
    result = run_script(
        f"import sentry_sdk\nsentry_sdk.init(dsn={bugsink.dsn!r})\nraise LookupError('nothing found')\n"
    )
    assert 1 == result.returncode
    crashes = [e["exception"]["values"][-1] for e in bugsink.events() if "exception" in e]
    (exc,) = [v for v in crashes if v["type"] == "LookupError"]
    assert ("excepthook", False) == (exc["mechanism"]["type"], exc["mechanism"]["handled"])


def test_a_message_with_a_level(bugsink: BugsinkServer) -> None:
    """capture_message arrives with its text and level."""
    sentry_sdk.init(dsn=bugsink.dsn)
    event = stored(bugsink, sentry_sdk.capture_message("disk at 91%", level="warning"))
    assert ("disk at 91%", "warning") == (event["message"], event["level"])


def test_logged_errors_with_and_without_exc_info(bugsink: BugsinkServer) -> None:
    """A logged error arrives as a logentry; with exc_info it carries the exception too."""
    sentry_sdk.init(dsn=bugsink.dsn)
    log = logging.getLogger("e2e.orders")
    log.error("order %s stuck", 77)
    plain = sentry_sdk.last_event_id()
    try:
        int("x")
    except ValueError:
        log.exception("parse failed")
    with_exc = sentry_sdk.last_event_id()
    first = stored(bugsink, plain)
    second = stored(bugsink, with_exc)
    assert ("order 77 stuck", "e2e.orders", "error") == (
        first["logentry"]["formatted"],
        first["logger"],
        first["level"],
    )
    assert "exception" not in first
    assert "ValueError" == second["exception"]["values"][-1]["type"]
    assert "parse failed" == second["logentry"]["formatted"]


def test_scope_data_arrives(bugsink: BugsinkServer) -> None:
    """Tags, user, contexts, extras, fingerprint and breadcrumbs (both forms) arrive as set."""
    sentry_sdk.init(dsn=bugsink.dsn)
    with sentry_sdk.push_scope() as scope:
        scope.set_tag("tenant", "acme")
        scope.user = {"id": "u-1", "email": "ada@example.com"}
        scope.set_context("order", {"id": 5, "total": 12.5})
        scope.set_extra("attempt", 2)
        scope.fingerprint = ["checkout-failure"]
        sentry_sdk.add_breadcrumb(category="ui", message="clicked pay")
        sentry_sdk.add_breadcrumb(lambda: {"category": "net", "message": "POST /pay"})
        event = stored(bugsink, sentry_sdk.capture_message("payment failed"))
    assert {"tenant": "acme"} == event["tags"]
    assert {"id": "u-1", "email": "ada@example.com"} == event["user"]
    assert {"id": 5, "total": 12.5} == event["contexts"]["order"]
    assert 2 == event["extra"]["attempt"]
    assert ["checkout-failure"] == event["fingerprint"]
    assert [("ui", "clicked pay"), ("net", "POST /pay")] == [
        (c["category"], c["message"]) for c in event["breadcrumbs"]["values"]
    ]


def test_release_and_environment_from_options_and_environment(
    bugsink: BugsinkServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """release/environment come from the options, else from SENTRY_RELEASE/SENTRY_ENVIRONMENT."""
    sentry_sdk.init(dsn=bugsink.dsn, release="shop@1.0", environment="staging")
    from_options = stored(bugsink, sentry_sdk.capture_message("from options"))
    monkeypatch.setenv("SENTRY_RELEASE", "shop@2.0")
    monkeypatch.setenv("SENTRY_ENVIRONMENT", "qa")
    sentry_sdk.init(dsn=bugsink.dsn)
    from_env = stored(bugsink, sentry_sdk.capture_message("from env"))
    assert ("shop@1.0", "staging") == (from_options["release"], from_options["environment"])
    assert ("shop@2.0", "qa") == (from_env["release"], from_env["environment"])


def test_a_nested_scope_does_not_leak_into_the_next_event(bugsink: BugsinkServer) -> None:
    """Data set in a nested push_scope is absent from the event captured after it."""
    sentry_sdk.init(dsn=bugsink.dsn)
    with sentry_sdk.push_scope() as outer:
        outer.set_tag("outer", "yes")
        with sentry_sdk.push_scope() as inner:
            inner.set_tag("inner", "yes")
            inner.user = {"id": "nested"}
            inside = stored(bugsink, sentry_sdk.capture_message("inside"))
        after = stored(bugsink, sentry_sdk.capture_message("after"))
    assert {"outer": "yes", "inner": "yes"} == inside["tags"]
    assert {"outer": "yes"} == after["tags"]
    assert "user" not in after


def test_a_burst_of_200_events_is_stored(bugsink: BugsinkServer) -> None:
    """200 events captured in a burst are all stored (with a queue large enough to hold them)."""
    sentry_sdk.init(dsn=bugsink.dsn, transport_queue_size=250)
    ids = [sentry_sdk.capture_message(f"burst {i}") for i in range(200)]
    sentry_sdk.flush(timeout=60)
    for event_id in ids:
        assert event_id is not None
        bugsink.event(event_id)


def test_a_wrong_key_is_reported_in_debug_logs(
    bugsink: BugsinkServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A DSN with a wrong key gets 403: nothing raises, and the debug log says so."""
    key = bugsink.dsn.split("//", 1)[1].split("@", 1)[0]
    sentry_sdk.init(dsn=bugsink.dsn.replace(key, "0" * 32), debug=True)
    with caplog.at_level(logging.DEBUG, logger="sentry_sdk.errors"):
        assert sentry_sdk.capture_message("denied") is not None
        sentry_sdk.flush(timeout=10)
    assert any("403" in r.getMessage() for r in caplog.records)


def test_a_server_over_quota_is_reported_and_sending_pauses(
    bugsink_with_quota: BugsinkServer, caplog: pytest.LogCaptureFixture
) -> None:
    """After the quota, Bugsink answers 429: nothing raises, the log says so, and sending pauses."""
    sentry_sdk.init(dsn=bugsink_with_quota.dsn, debug=True)
    with caplog.at_level(logging.DEBUG, logger="sentry_sdk.errors"):
        for i in range(6):
            sentry_sdk.capture_message(f"quota {i}")
            sentry_sdk.flush(timeout=10)
    assert 3 == len(bugsink_with_quota.events())
    assert any("429" in r.getMessage() for r in caplog.records)
    transport = sentry_sdk.Hub.current.client.transport  # type: ignore[union-attr]
    assert transport is not None
    assert 3 == transport.lost_events[("ratelimit_backoff", "error")]
