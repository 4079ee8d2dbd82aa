"""Uncaught exceptions (excepthook) and deduplication of the same exception object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sentry_sdk
from sentry_sdk.testing import CapturingTransport, IngestServer


def test_an_uncaught_exception_is_sent_as_unhandled_and_the_traceback_still_prints(
    ingest: IngestServer, run_script: Callable[[str], Any]
) -> None:
    """A script that dies of an exception reports it (handled=False) and Python still prints it."""
    result = run_script(
        "import sentry_sdk\n"
        f"sentry_sdk.init(dsn={ingest.dsn!r})\n"
        "def main():\n"
        "    secret_number = 41\n"
        "    raise RuntimeError('crashed on purpose')\n"
        "main()\n"
    )
    assert 1 == result.returncode
    assert "RuntimeError: crashed on purpose" in result.stderr
    (event,) = ingest.wait_for_events(1)
    (exc,) = event["exception"]["values"]
    assert ("RuntimeError", "crashed on purpose") == (exc["type"], exc["value"])
    assert ("excepthook", False) == (exc["mechanism"]["type"], exc["mechanism"]["handled"])
    frame = exc["stacktrace"]["frames"][-1]
    assert ("main", 41) == (frame["function"], frame["vars"]["secret_number"])
    assert "error" == event["level"]


def test_the_same_exception_object_is_sent_once() -> None:
    """Capturing one exception object twice in a row sends one event; a new object is sent again."""
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport)
    error = ValueError("once")
    sentry_sdk.capture_exception(error)
    sentry_sdk.capture_exception(error)
    sentry_sdk.capture_exception(ValueError("once"))
    assert 2 == len(transport.events)


def test_dedupe_can_be_disabled() -> None:
    """disabled_integrations turns deduplication off."""
    from sentry_sdk.integrations.dedupe import DedupeIntegration

    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, disabled_integrations=[DedupeIntegration])
    error = ValueError("twice")
    sentry_sdk.capture_exception(error)
    sentry_sdk.capture_exception(error)
    assert 2 == len(transport.events)


def test_enabled_integrations_are_listed_in_the_sdk_info() -> None:
    """The event's sdk.integrations names the enabled integrations (the defaults, with auto-enabling off)."""
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, auto_enabling_integrations=False)
    sentry_sdk.capture_message("x")
    expected = ["argv", "atexit", "dedupe", "excepthook", "logging", "modules", "stdlib", "threading"]
    assert expected == transport.events[0]["sdk"]["integrations"]


def test_a_user_listed_integration_that_cannot_enable_raises_at_init() -> None:
    """DidNotEnable from an integration the user asked for is raised by init."""
    import pytest

    from sentry_sdk.integrations import DidNotEnable, Integration

    class Impossible(Integration):
        identifier = "impossible"

        @staticmethod
        def setup_once() -> None:
            raise DidNotEnable("framework missing")

    with pytest.raises(DidNotEnable, match="framework missing"):
        sentry_sdk.init(integrations=[Impossible()])
