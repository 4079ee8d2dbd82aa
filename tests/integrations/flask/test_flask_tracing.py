"""Flask requests as transactions: named after their endpoint or rule, as their error events are."""

from __future__ import annotations

from typing import Any

import pytest
from frameworks import require

flask = require("flask")

import sentry_sdk  # noqa: E402
from sentry_sdk.integrations.flask import FlaskIntegration  # noqa: E402
from sentry_sdk.testing import CapturingTransport  # noqa: E402

TRACE_ID = "771a43a4192642f0b136d5159a501700"
PARENT_ID = "b3f3a1c2d4e5f607"


def _init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("integrations", [FlaskIntegration()])
    options.setdefault("default_integrations", False)
    sentry_sdk.init(transport=transport, **options)
    return transport


def _app() -> Any:
    app = flask.Flask("flask_tracing_app")

    @app.route("/message/<int:message_id>")
    def message(message_id: int) -> str:
        with sentry_sdk.start_span(op="db", name="SELECT message"):
            pass
        return f"message {message_id}"

    @app.route("/fail")
    def fail() -> str:
        raise ZeroDivisionError("on purpose")

    @app.route("/missing")
    def missing() -> str:
        flask.abort(404)

    return app


def _transactions(transport: CapturingTransport) -> list[dict[str, Any]]:
    return [event for event in transport.events if event.get("type") == "transaction"]


@pytest.mark.parametrize(
    ("style", "name", "source"),
    [("endpoint", "message", "component"), ("url", "/message/<int:message_id>", "route")],
)
def test_a_request_is_a_transaction_named_by_the_transaction_style(
    style: str, name: str, source: str
) -> None:
    transport = _init(traces_sample_rate=1.0, integrations=[FlaskIntegration(transaction_style=style)])
    response = _app().test_client().get("/message/3")
    assert (200, b"message 3") == (response.status_code, response.data)
    (transaction,) = _transactions(transport)
    assert (name, source) == (transaction["transaction"], transaction["transaction_info"]["source"])
    trace = transaction["contexts"]["trace"]
    assert ("http.server", "auto.http.flask", "ok") == (trace["op"], trace["origin"], trace["status"])
    assert ["db"] == [span["op"] for span in transaction["spans"]]
    assert name == transport.envelopes[0].headers["trace"]["transaction"]  # the DSC names the route


def test_a_failing_view_is_one_error_and_a_500_transaction_in_one_trace() -> None:
    transport = _init(traces_sample_rate=1.0)
    assert 500 == _app().test_client().get("/fail").status_code
    (error,) = [e for e in transport.events if e.get("type") != "transaction"]
    (transaction,) = _transactions(transport)
    trace = transaction["contexts"]["trace"]
    assert ("internal_error", 500) == (trace["status"], trace["data"]["http.response.status_code"])
    assert trace["span_id"] == error["contexts"]["trace"]["span_id"]
    # The DSC was frozen when the error was sent, already with the endpoint's name.
    assert "fail" == transport.envelopes[0].headers["trace"]["transaction"]


def test_an_http_error_status_is_the_transactions_and_an_incoming_trace_is_continued() -> None:
    transport = _init(traces_sample_rate=1.0)
    headers = {"sentry-trace": f"{TRACE_ID}-{PARENT_ID}-1"}
    assert 404 == _app().test_client().get("/missing", headers=headers).status_code
    (transaction,) = _transactions(transport)
    trace = transaction["contexts"]["trace"]
    assert ("not_found", TRACE_ID, PARENT_ID) == (trace["status"], trace["trace_id"], trace["parent_span_id"])


def test_tracing_off_sends_no_transaction_but_errors_carry_the_incoming_trace() -> None:
    transport = _init()
    headers = {"sentry-trace": f"{TRACE_ID}-{PARENT_ID}-0"}
    assert 500 == _app().test_client().get("/fail", headers=headers).status_code
    (error,) = transport.events
    assert (TRACE_ID, PARENT_ID) == (
        error["contexts"]["trace"]["trace_id"],
        error["contexts"]["trace"]["parent_span_id"],
    )
