"""Server signals: per-category rate limits and client reports, against a real loopback server."""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk._ratelimits import RateLimits
from sentry_sdk.testing import IngestServer
from sentry_sdk.transport import HttpTransport


def transport() -> HttpTransport:
    client = sentry_sdk.Hub.current.client
    assert client is not None and isinstance(client.transport, HttpTransport)
    return client.transport


def reports(ingest: IngestServer) -> list[dict[str, Any]]:
    return [item.json() for item in ingest.items("client_report")]


def test_a_rate_limit_on_errors_holds_back_later_errors(ingest: IngestServer) -> None:
    """``X-Sentry-Rate-Limits`` on a 200 is honoured: later error events are dropped and counted."""
    ingest.script((200, {"X-Sentry-Rate-Limits": "60:error:organization"}))
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False, send_client_reports=False)
    sentry_sdk.capture_message("delivered, and answered with a limit")
    sentry_sdk.flush(timeout=5)
    sentry_sdk.capture_message("held back")
    sentry_sdk.flush(timeout=5)
    assert ["delivered, and answered with a limit"] == [e["message"] for e in ingest.events()]
    assert 1 == transport().lost_events[("ratelimit_backoff", "error")]
    assert not transport().is_healthy()


def test_a_limit_on_one_category_removes_only_those_items(ingest: IngestServer) -> None:
    """Limited attachments are taken out of the envelope; the event itself is still sent."""
    ingest.script((200, {"X-Sentry-Rate-Limits": "60:attachment:key"}))
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False, send_client_reports=False)
    sentry_sdk.capture_message("first")
    sentry_sdk.flush(timeout=5)
    sentry_sdk.add_attachment(bytes=b"log", filename="log.txt")
    sentry_sdk.capture_message("second, without its attachment")
    sentry_sdk.flush(timeout=5)
    assert ["first", "second, without its attachment"] == [e["message"] for e in ingest.events()]
    assert [] == ingest.items("attachment")
    assert 1 == transport().lost_events[("ratelimit_backoff", "attachment")]


def test_empty_categories_mean_all_and_429_without_retry_after_means_60_seconds() -> None:
    """The header's parsing, as the protocol defines it."""
    limits = RateLimits()
    assert limits.update(200, {"x-sentry-rate-limits": "30::organization, 5:transaction;span:key"})
    assert limits.is_limited("error") and limits.is_limited("attachment")
    assert 29 < limits.seconds_left() <= 30
    other = RateLimits()
    assert other.update(429, {})
    assert other.is_limited("error")
    assert 59 < other.seconds_left() <= 60
    assert not RateLimits().update(200, {"x-sentry-rate-limits": "soon:error:key"})
    assert not RateLimits().update(500, {})


def test_losses_travel_to_the_server_as_a_client_report(ingest: IngestServer) -> None:
    """Dropped events are reported with the next envelope, by reason and category."""
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False, before_send=lambda e, h: None)
    sentry_sdk.capture_message("dropped by before_send")
    sentry_sdk.capture_message("dropped too")
    sentry_sdk.flush(timeout=5)  # nothing else to send: the report goes on its own
    sentry_sdk.Hub.current.client.options["before_send"] = None  # type: ignore[union-attr]
    sentry_sdk.capture_message("kept")
    sentry_sdk.flush(timeout=5)
    (report,) = reports(ingest)
    assert [{"reason": "before_send", "category": "error", "quantity": 2}] == report["discarded_events"]
    assert isinstance(report["timestamp"], float)
    assert ["kept"] == [e["message"] for e in ingest.events()]


def test_a_report_rides_along_with_the_next_event(ingest: IngestServer) -> None:
    """With an event to send, the report is an item of that event's envelope (no extra request)."""
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False, sample_rate=0.0)
    sentry_sdk.capture_message("sampled out")
    sentry_sdk.Hub.current.client.options["sample_rate"] = 1.0  # type: ignore[union-attr]
    sentry_sdk.capture_message("sent")
    sentry_sdk.flush(timeout=5)
    (envelope,) = ingest.envelopes()
    assert ["event", "client_report"] == [item.headers["type"] for item in envelope.items]
    assert [{"reason": "sample_rate", "category": "error", "quantity": 1}] == reports(ingest)[0][
        "discarded_events"
    ]


def test_client_reports_can_be_turned_off(ingest: IngestServer) -> None:
    """``send_client_reports=False`` keeps the counts local."""
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False, sample_rate=0.0, send_client_reports=False)
    sentry_sdk.capture_message("sampled out")
    sentry_sdk.flush(timeout=5)
    assert [] == ingest.requests
    assert 1 == transport().lost_events[("sample_rate", "error")]


def test_the_transport_reports_its_health(ingest: IngestServer) -> None:
    """``health()`` tells queue depth, deliveries, drops by reason, the last error and limits."""
    ingest.script((500, {}), (500, {}), (200, {"X-Sentry-Rate-Limits": "30:error:key"}))
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False, send_client_reports=False)
    sentry_sdk.capture_message("retried twice, then delivered")
    sentry_sdk.flush(timeout=10)
    sentry_sdk.capture_message("held back")
    health = transport().health()
    assert {
        "queue_depth": 0,
        "queue_bytes": 0,
        "delivered": 1,
        "spooled": 0,
        "dropped": {"ratelimit_backoff/error": 1},
        "last_error": "HTTP 500",
    } == {k: v for k, v in health.items() if k != "rate_limited_for"}
    assert 29 < health["rate_limited_for"] <= 30
