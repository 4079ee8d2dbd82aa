"""The logging integration: breadcrumbs from INFO, events from ERROR, ignored loggers, no loops."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

import sentry_sdk
from sentry_sdk.integrations.logging import LoggingIntegration, _ignored_loggers, ignore_logger
from sentry_sdk.testing import CapturingTransport


@pytest.fixture
def transport() -> Iterator[CapturingTransport]:
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport)
    logging.getLogger("app").setLevel(logging.DEBUG)
    yield transport
    logging.getLogger("app").setLevel(logging.NOTSET)


def test_info_records_become_breadcrumbs_and_errors_become_events(transport: CapturingTransport) -> None:
    """INFO and WARNING are breadcrumbs; ERROR is an event carrying the earlier ones; DEBUG is ignored."""
    log = logging.getLogger("app.orders")
    log.debug("too chatty")
    log.info("order %d received", 7)
    log.warning("stock low", extra={"sku": "X-1"})
    log.error("payment failed for %s", "ada")
    (event,) = transport.events
    assert ("error", "app.orders") == (event["level"], event["logger"])
    assert {
        "message": "payment failed for %s",
        "params": ["ada"],
        "formatted": "payment failed for ada",
    } == event["logentry"]
    crumbs = event["breadcrumbs"]["values"]
    assert [("info", "order 7 received"), ("warning", "stock low")] == [
        (c["level"], c["message"]) for c in crumbs
    ]
    assert {"type": "log", "category": "app.orders"} == {k: crumbs[0][k] for k in ("type", "category")}
    assert {"sku": "X-1"} == crumbs[1]["data"]


def test_exc_info_makes_an_exception_event(transport: CapturingTransport) -> None:
    """``log.exception`` sends the exception with a logging mechanism."""
    try:
        {}["missing"]
    except KeyError:
        logging.getLogger("app").exception("lookup failed")
    (event,) = transport.events
    (exc,) = event["exception"]["values"]
    assert ("KeyError", "logging", True) == (
        exc["type"],
        exc["mechanism"]["type"],
        exc["mechanism"]["handled"],
    )
    assert "lookup failed" == event["logentry"]["formatted"]


def test_critical_is_fatal(transport: CapturingTransport) -> None:
    """CRITICAL records are sent at level fatal."""
    logging.getLogger("app").critical("down")
    assert ["fatal"] == [e["level"] for e in transport.events]


def test_ignored_loggers_and_their_children_are_not_recorded(transport: CapturingTransport) -> None:
    """ignore_logger(name) silences that logger and its children."""
    ignore_logger("app.noisy")
    try:
        logging.getLogger("app.noisy").error("ignored")
        logging.getLogger("app.noisy.child").error("ignored too")
        logging.getLogger("app.noisyish").error("not ignored")
    finally:
        _ignored_loggers.discard("app.noisy")
    assert ["not ignored"] == [e["logentry"]["formatted"] for e in transport.events]


def test_the_sdks_own_logs_never_become_events(transport: CapturingTransport) -> None:
    """Records of sentry_sdk loggers are never captured (no loops)."""
    logging.getLogger("sentry_sdk.errors").error("internal")
    logging.getLogger("sentry_sdk.anything").error("internal")
    assert [] == transport.events


def test_levels_are_configurable() -> None:
    """LoggingIntegration(level=None, event_level=WARNING) sends warnings and records no breadcrumbs."""
    transport = CapturingTransport()
    sentry_sdk.init(
        transport=transport, integrations=[LoggingIntegration(level=None, event_level=logging.WARNING)]
    )
    logging.getLogger("app").warning("sent")
    logging.getLogger("app").warning("sent too")
    assert ["sent", "sent too"] == [e["logentry"]["formatted"] for e in transport.events]
    assert "breadcrumbs" not in transport.events[1]


def test_a_log_call_inside_before_send_does_not_loop() -> None:
    """Logging an error from before_send neither recurses nor raises."""
    transport = CapturingTransport()

    def before_send(event: dict, hint: dict) -> dict:  # type: ignore[type-arg]
        logging.getLogger("app").error("from before_send")
        return event

    sentry_sdk.init(transport=transport, before_send=before_send)
    logging.getLogger("app").error("outer")
    assert ["outer"] == [e["logentry"]["formatted"] for e in transport.events]


def test_records_are_ignored_when_disabled() -> None:
    """With default_integrations=False, logging is not recorded at all."""
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False)
    logging.getLogger("app").error("not captured")
    assert [] == transport.events


def test_user_handlers_still_run(transport: CapturingTransport, caplog: pytest.LogCaptureFixture) -> None:
    """The user's own handlers see records as before."""
    with caplog.at_level(logging.INFO, logger="app"):
        logging.getLogger("app").info("for the user")
    assert ["for the user"] == [r.getMessage() for r in caplog.records]


def test_levels_may_be_names_and_a_bad_level_fails_at_construction() -> None:
    """``LoggingIntegration(level="INFO")`` works; a typo raises at once, not on every log call."""
    integration = LoggingIntegration(level="info", event_level="CRITICAL")
    assert (logging.INFO, logging.CRITICAL) == (integration.level, integration.event_level)
    with pytest.raises(ValueError, match="INFOO"):
        LoggingIntegration(level="INFOO")
    with pytest.raises(TypeError, match="event_level"):
        LoggingIntegration(event_level=2.5)  # type: ignore[arg-type]


def test_logging_an_error_that_was_just_captured_sends_nothing_more_and_loses_nothing(
    transport: CapturingTransport,
) -> None:
    """A framework logging the error its integration captured (Django's django.request does) adds
    no second event, and no lost event is counted: the log was a duplicate, not a loss.

    After that, a new exception logged the same way is sent, and the record is still a breadcrumb.
    """
    error = ValueError("captured by the framework's integration")
    sentry_sdk.capture_exception(error)
    logging.getLogger("app").error("Internal Server Error", exc_info=(ValueError, error, None))
    assert 1 == len(transport.events)
    assert {} == dict(transport.lost_events)

    other = ValueError("only logged")
    logging.getLogger("app").error("Internal Server Error", exc_info=(ValueError, other, None))
    (_, second) = transport.events
    assert "Internal Server Error" == second["logentry"]["formatted"]
    assert ["Internal Server Error"] == [c["message"] for c in second["breadcrumbs"]["values"]]


def test_an_error_logged_inside_a_span_carries_that_spans_trace(transport: CapturingTransport) -> None:
    """The event of a record logged inside a span names the span, so Sentry shows it in the trace;
    one logged after the transaction names none of its spans."""
    sentry_sdk.init(transport=transport, traces_sample_rate=1.0)
    log = logging.getLogger("app.jobs")
    with sentry_sdk.start_transaction(name="job", op="task") as transaction:
        with sentry_sdk.start_span(op="db", name="SELECT 1") as span:
            log.info("querying")
            log.error("query failed")
    log.error("after the job")
    inside, transaction_event, after = transport.events
    trace = inside["contexts"]["trace"]
    assert (transaction.trace_id, span.span_id) == (trace["trace_id"], trace["span_id"])
    assert "querying" == inside["breadcrumbs"]["values"][-1]["message"]
    assert "transaction" == transaction_event["type"]
    assert span.span_id in [s["span_id"] for s in transaction_event["spans"]]
    assert after["contexts"]["trace"]["span_id"] not in (span.span_id, transaction.span_id)
