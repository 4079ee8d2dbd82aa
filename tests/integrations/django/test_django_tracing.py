"""Django requests as transactions: through the WSGI handler, the ASGI handler and the test clients."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

from frameworks import require

require("django")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # djsetup, whatever pytest's import mode
import djsetup  # noqa: E402, F401  (configures Django with djproject/)

# isort: split

from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.test import AsyncClient, Client  # noqa: E402

import sentry_sdk  # noqa: E402
from sentry_sdk.integrations.django import DjangoIntegration  # noqa: E402
from sentry_sdk.testing import CapturingTransport  # noqa: E402

TRACE_ID = "771a43a4192642f0b136d5159a501700"
PARENT_ID = "b3f3a1c2d4e5f607"


def _init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    options.setdefault("integrations", [DjangoIntegration()])
    sentry_sdk.init(transport=transport, **options)
    return transport


def _transactions(transport: CapturingTransport) -> list[dict[str, Any]]:
    return [event for event in transport.events if event.get("type") == "transaction"]


def _errors(transport: CapturingTransport) -> list[dict[str, Any]]:
    return [event for event in transport.events if event.get("type") != "transaction"]


def test_the_wsgi_handler_makes_a_transaction_named_after_the_route() -> None:
    transport = _init(traces_sample_rate=1.0)
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": "/message/7", "wsgi.input": io.BytesIO()}
    environ["HTTP_SENTRY_TRACE"] = f"{TRACE_ID}-{PARENT_ID}-1"
    setup_testing_defaults(environ)
    statuses: list[str] = []
    result = WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(result)
    result.close()
    assert statuses[0].startswith("500")
    (error,) = _errors(transport)
    (transaction,) = _transactions(transport)
    assert ("/message/{id}", "route") == (
        transaction["transaction"],
        transaction["transaction_info"]["source"],
    )
    trace = transaction["contexts"]["trace"]
    assert ("http.server", "auto.http.django", "internal_error") == (
        trace["op"],
        trace["origin"],
        trace["status"],
    )
    assert (TRACE_ID, PARENT_ID) == (trace["trace_id"], trace["parent_span_id"])
    # The error is in the transaction's trace, on the span running when it was raised (the
    # transaction itself, or one of its middleware or view spans).
    assert trace["trace_id"] == error["contexts"]["trace"]["trace_id"]
    running = {trace["span_id"], *(span["span_id"] for span in transaction["spans"])}
    assert error["contexts"]["trace"]["span_id"] in running


def test_the_test_client_gets_transactions_too_with_the_views_status() -> None:
    """Django's test ``Client`` does not go through the WSGI handler: its requests are traced all the same."""
    transport = _init(
        traces_sample_rate=1.0, integrations=[DjangoIntegration(transaction_style="function_name")]
    )
    assert 200 == Client().get("/ok/").status_code
    assert 404 == Client().get("/not-found/").status_code
    ok, missing = _transactions(transport)
    assert ("djproject.views.ok", "component") == (ok["transaction"], ok["transaction_info"]["source"])
    assert ("ok", 200) == (
        ok["contexts"]["trace"]["status"],
        ok["contexts"]["trace"]["data"]["http.response.status_code"],
    )
    assert "not_found" == missing["contexts"]["trace"]["status"]


def test_http_methods_to_capture_of_the_integration_is_honoured() -> None:
    transport = _init(
        traces_sample_rate=1.0, integrations=[DjangoIntegration(http_methods_to_capture=("POST",))]
    )
    Client().get("/ok/")
    Client().post("/ok/")
    assert ["POST"] == [t["request"]["method"] for t in _transactions(transport)]


def test_the_asgi_handler_and_the_async_client_make_transactions() -> None:
    transport = _init(traces_sample_rate=1.0)
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)  # the client stays connected (cancelled once the response is out)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/async/ok/",
        "raw_path": b"/async/ok/",
        "root_path": "",
        "query_string": b"n=1",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }

    async def main() -> None:
        await ASGIHandler()(scope, receive, send)
        response = await AsyncClient(raise_request_exception=False).get("/async/fail/", {"n": "2"})
        assert 500 == response.status_code

    asyncio.run(main())
    assert 200 == sent[0]["status"]
    names = [(t["transaction"], t["contexts"]["trace"]["status"]) for t in _transactions(transport)]
    assert [("/async/ok/", "ok"), ("/async/fail/", "internal_error")] == names
