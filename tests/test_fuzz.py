"""Hostile values through every public entry point: nothing raises into the caller, no internal error
is logged, every event that comes out passes Relay's normalizer, and each capture ends in bounded time.

The values come from ``strategies.hostile_values()``. CI runs a fixed set of examples (the "ci"
profile in conftest.py: derandomized, so every run tries the same ones); a longer random run is
``python -m pytest tests/test_fuzz.py --hypothesis-profile=long``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from payload_check import check_envelope, check_parsed
from strategies import hostile_keys, hostile_values

import sentry_sdk
from sentry_sdk._serializer import serialize_event
from sentry_sdk.testing import IngestServer, capture_events

# A capture may spend 0.25 s in the program's code (reprs that never end) plus its own work; a
# generous bound still tells "bounded" from "stuck".
_CAPTURE_SECONDS = 3.0


@pytest.fixture
def checked(sdk_errors_fail_tests: list[BaseException]) -> Callable[[Callable[[], None]], None]:
    """Run one example: within bounded time, no internal SDK error, and every event Relay-clean."""

    def run(action: Callable[[], None]) -> None:
        # A fresh isolation scope per example: one example's hostile tags must not leak into the next.
        with capture_events() as events, sentry_sdk.isolation_scope():
            start = time.monotonic()
            action()
            elapsed = time.monotonic() - start
            client = sentry_sdk.get_client()
            envelopes = list(client.transport.envelopes)  # type: ignore[union-attr]
        assert [] == sdk_errors_fail_tests
        assert elapsed < _CAPTURE_SECONDS, elapsed
        for envelope in envelopes:
            check_envelope(envelope)
        assert len(events) >= 1

    return run


def _fail_holding(value: Any) -> None:
    held = value  # noqa: F841 - a local variable for the SDK to describe
    raise ValueError("fuzzed local")


@given(value=hostile_values())
def test_any_value_serializes_in_bounded_time(value: Any) -> None:
    """The serializer turns any value into JSON-safe data, quickly, wherever it sits in an event."""
    start = time.monotonic()
    out = serialize_event({"extra": {"v": value}, "tags": {"t": value}, "contexts": {"c": value}})
    assert time.monotonic() - start < _CAPTURE_SECONDS
    assert {"extra", "tags", "contexts"} <= set(out)


@given(key=hostile_keys(), value=hostile_values())
def test_tags(checked: Callable[[Callable[[], None]], None], key: Any, value: Any) -> None:
    """set_tag and set_tags take any key and value; the event still goes out."""

    def action() -> None:
        sentry_sdk.set_tag(key, value)
        sentry_sdk.set_tags({key: value, "plain": value})
        sentry_sdk.capture_message("tags")

    checked(action)


@given(key=hostile_keys(), value=hostile_values())
def test_extras_and_contexts(checked: Callable[[Callable[[], None]], None], key: Any, value: Any) -> None:
    """set_extra and set_context take any key and value."""

    def action() -> None:
        sentry_sdk.set_extra(key, value)
        sentry_sdk.set_context(key, value)
        sentry_sdk.set_context("plain", value)
        sentry_sdk.capture_message("extras")

    checked(action)


@given(value=hostile_values())
def test_user(checked: Callable[[Callable[[], None]], None], value: Any) -> None:
    """set_user takes anything, including a dict of hostile values."""

    def action() -> None:
        sentry_sdk.set_user(value)
        sentry_sdk.capture_message("user")
        sentry_sdk.set_user({"id": value, "email": value})
        sentry_sdk.capture_message("user fields")

    checked(action)


@given(value=hostile_values(), data=st.dictionaries(hostile_keys(), hostile_values(), max_size=5))
def test_breadcrumbs(checked: Callable[[Callable[[], None]], None], value: Any, data: Any) -> None:
    """add_breadcrumb takes any message, category, level and data, or any object as the crumb."""

    def action() -> None:
        sentry_sdk.add_breadcrumb(message=value, category=value, level=value, data=data)
        sentry_sdk.add_breadcrumb(value)
        sentry_sdk.add_breadcrumb(crumb={"message": "m", "data": value}, hint={"x": value})
        sentry_sdk.capture_message("breadcrumbs")

    checked(action)


@given(value=hostile_values())
def test_local_variables(checked: Callable[[Callable[[], None]], None], value: Any) -> None:
    """A hostile local variable in the failing frame is described; the exception is captured."""

    def action() -> None:
        try:
            _fail_holding(value)
        except ValueError:
            sentry_sdk.capture_exception()

    checked(action)


@given(value=hostile_values(), level=hostile_values())
def test_capture_message(checked: Callable[[Callable[[], None]], None], value: Any, level: Any) -> None:
    """capture_message with any object as the message (and as scope data) still sends an event."""

    def action() -> None:
        sentry_sdk.capture_message(value)
        sentry_sdk.capture_message(
            "with scope data", tags={"t": value}, extras={"e": value}, user={"id": value}
        )
        sentry_sdk.capture_message("with a level", level=level)

    checked(action)


@given(value=hostile_values())
def test_capture_event(checked: Callable[[Callable[[], None]], None], value: Any) -> None:
    """capture_event with hostile values in a hand-made event."""

    def action() -> None:
        sentry_sdk.capture_event({"message": value, "extra": {"v": value}, "level": "error"})
        sentry_sdk.capture_event({"message": "plain", "fingerprint": value, "transaction": value})

    checked(action)


@pytest.fixture(scope="module")
def module_ingest() -> Iterator[IngestServer]:
    with IngestServer() as server:
        yield server


@given(value=hostile_values())
def test_before_send_results(
    module_ingest: IngestServer, sdk_errors_fail_tests: list[BaseException], value: Any
) -> None:
    """Whatever before_send returns, the send path neither raises nor sends what Relay rejects:
    a dict (however hostile its contents) goes out made safe, anything else drops the event."""
    before = len(module_ingest.requests)
    returned = value if not isinstance(value, dict) else dict(value, message="fuzzed")

    sentry_sdk.init(
        dsn=module_ingest.dsn, default_integrations=False, before_send=lambda event, hint: returned
    )
    start = time.monotonic()
    sentry_sdk.capture_message("before_send")
    elapsed = time.monotonic() - start
    sentry_sdk.flush(timeout=5)
    sentry_sdk.get_client().close(timeout=0)
    assert [] == sdk_errors_fail_tests
    assert elapsed < _CAPTURE_SECONDS
    new = module_ingest.requests[before:]
    assert all(200 == request.status for request in new)
    for request in new:
        assert request.envelope is not None
        check_parsed(request.envelope)
