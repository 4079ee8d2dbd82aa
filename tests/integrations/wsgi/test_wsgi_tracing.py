"""A WSGI request's trace: continued from its headers, an http.server transaction when sampled.

``SentryWsgiMiddleware`` around small WSGI applications, called in-process, and once through a
threaded ``wsgiref`` server on 127.0.0.1 that a second service calls with the first's headers.
"""

from __future__ import annotations

import http.client
import io
import threading
from collections.abc import Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

import sentry_sdk
from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware
from sentry_sdk.testing import CapturingTransport

TRACE_ID = "771a43a4192642f0b136d5159a501700"
PARENT_ID = "b3f3a1c2d4e5f607"


def _init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    sentry_sdk.init(transport=transport, **options)
    return transport


def _environ(path: str = "/items/7", method: str = "GET", **headers: str) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "app.example",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "app.example",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
    }
    for name, value in headers.items():
        environ[f"HTTP_{name.upper()}"] = value
    return environ


def _call(app: Any, environ: dict[str, Any]) -> tuple[list[str], bytes]:
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    response = app(environ, start_response)
    try:
        body = b"".join(response)
    finally:
        close = getattr(response, "close", None)
        if close is not None:
            close()
    return statuses, body


def _transactions(transport: CapturingTransport) -> list[dict[str, Any]]:
    return [event for event in transport.events if event.get("type") == "transaction"]


def _errors(transport: CapturingTransport) -> list[dict[str, Any]]:
    return [event for event in transport.events if event.get("type") != "transaction"]


def _working(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    with sentry_sdk.start_span(op="db.query", name="SELECT 1"):
        pass
    start_response("201 Created", [("Content-Type", "text/plain")])
    return [b"made"]


def _failing(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    raise RuntimeError("the view broke")


def _answer(status: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(status, [("Content-Type", "text/plain")])
        return [b"x"]

    return app


def test_a_sampled_request_is_an_http_server_transaction_with_its_spans_and_status() -> None:
    """The request is a transaction named after its path (source url), with the response's status,
    the view's spans as children, and the response exactly as without the SDK."""
    transport = _init(traces_sample_rate=1.0)
    statuses, body = _call(SentryWsgiMiddleware(_working), _environ("/items/7"))
    assert (["201 Created"], b"made") == (statuses, body)
    (transaction,) = _transactions(transport)
    assert ("/items/7", {"source": "url"}) == (transaction["transaction"], transaction["transaction_info"])
    trace = transaction["contexts"]["trace"]
    assert ("http.server", "ok", "manual") == (trace["op"], trace["status"], trace["origin"])
    assert 201 == trace["data"]["http.response.status_code"]
    (span,) = transaction["spans"]
    assert ("db.query", "SELECT 1") == (span["op"], span["description"])
    assert (trace["trace_id"], trace["span_id"]) == (span["trace_id"], span["parent_span_id"])
    assert "http://app.example/items/7" == transaction["request"]["url"]


def test_an_incoming_trace_is_continued_by_the_transaction_and_its_dsc_passed_on() -> None:
    """``sentry-trace`` and ``baggage`` from the caller: the same trace, the caller's span as parent,
    its sampling decision, and its DSC (frozen) on the envelope; third-party baggage is kept."""
    transport = _init(traces_sample_rate=0.0)  # the caller's decision wins over the rate
    environ = _environ(
        SENTRY_TRACE=f"{TRACE_ID}-{PARENT_ID}-1",
        BAGGAGE=f"other=1,sentry-trace_id={TRACE_ID},sentry-sample_rate=1.0,sentry-sample_rand=0.25,sentry-public_key=k",
    )
    seen: list[tuple[str | None, str | None]] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append((sentry_sdk.get_traceparent(), sentry_sdk.get_baggage()))
        start_response("200 OK", [])
        return [b""]

    _call(SentryWsgiMiddleware(app), environ)
    (transaction,) = _transactions(transport)
    trace = transaction["contexts"]["trace"]
    assert (TRACE_ID, PARENT_ID) == (trace["trace_id"], trace["parent_span_id"])
    assert {"trace_id": TRACE_ID, "sample_rate": "1.0", "sample_rand": "0.25", "public_key": "k"} == (
        transport.envelopes[0].headers["trace"]
    )
    ((traceparent, baggage),) = seen
    assert f"{TRACE_ID}-{trace['span_id']}-1" == traceparent
    assert baggage is not None and baggage.startswith("sentry-") and "other=1" in baggage


def test_an_exception_in_the_application_ends_the_transaction_as_internal_error_in_the_errors_trace() -> None:
    """The error event and the transaction share the trace and the span; the exception still propagates."""
    transport = _init(traces_sample_rate=1.0)
    with pytest.raises(RuntimeError, match="the view broke"):
        _call(SentryWsgiMiddleware(_failing), _environ("/boom"))
    (error,) = _errors(transport)
    (transaction,) = _transactions(transport)
    trace = transaction["contexts"]["trace"]
    assert ("internal_error", 500) == (trace["status"], trace["data"]["http.response.status_code"])
    assert (trace["trace_id"], trace["span_id"]) == (
        error["contexts"]["trace"]["trace_id"],
        error["contexts"]["trace"]["span_id"],
    )


def test_head_and_options_are_not_transactions_unless_asked_for() -> None:
    """``http_methods_to_capture``: all but HEAD and OPTIONS by default; a middleware's own list wins."""
    transport = _init(traces_sample_rate=1.0)
    for method in ("GET", "HEAD", "OPTIONS", "POST"):
        _call(SentryWsgiMiddleware(_answer("200 OK")), _environ(method=method))
    assert 2 == len(_transactions(transport))
    only_head = SentryWsgiMiddleware(_answer("200 OK"), http_methods_to_capture=("head",))
    for method in ("GET", "HEAD"):
        _call(only_head, _environ(method=method))
    assert 3 == len(_transactions(transport))


def test_trace_ignore_status_codes_drops_those_transactions_and_counts_them() -> None:
    """A response status in ``trace_ignore_status_codes`` is not sent; the loss is counted."""
    transport = _init(traces_sample_rate=1.0, trace_ignore_status_codes={404})
    _call(SentryWsgiMiddleware(_answer("404 Not Found")), _environ())
    _call(SentryWsgiMiddleware(_answer("200 OK")), _environ())
    assert [200] == [
        t["contexts"]["trace"]["data"]["http.response.status_code"] for t in _transactions(transport)
    ]
    assert 1 == transport.lost_events[("event_processor", "transaction")]


def test_traces_sampler_gets_the_environ_and_decides() -> None:
    """``traces_sampler`` sees ``wsgi_environ`` and the transaction's name and op."""
    seen: list[tuple[str, str, str]] = []

    def sampler(context: dict[str, Any]) -> float:
        seen.append(
            (
                context["wsgi_environ"]["PATH_INFO"],
                context["transaction_context"]["op"],
                context["transaction_context"]["name"],
            )
        )
        return 1.0 if context["wsgi_environ"]["PATH_INFO"] == "/keep" else 0.0

    transport = _init(traces_sampler=sampler)
    for path in ("/keep", "/drop"):
        _call(SentryWsgiMiddleware(_answer("200 OK")), _environ(path))
    assert [("/keep", "http.server", "/keep"), ("/drop", "http.server", "/drop")] == seen
    assert ["/keep"] == [t["transaction"] for t in _transactions(transport)]


def test_a_name_the_program_sets_wins_over_the_path() -> None:
    """``set_transaction_name`` in the view renames the request's transaction."""
    transport = _init(traces_sample_rate=1.0)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        sentry_sdk.get_current_scope().set_transaction_name("checkout")
        start_response("200 OK", [])
        return [b""]

    _call(SentryWsgiMiddleware(app), _environ("/cart/9"))
    (transaction,) = _transactions(transport)
    assert ("checkout", "custom") == (transaction["transaction"], transaction["transaction_info"]["source"])


def test_a_streamed_response_that_starts_late_ends_the_transaction_at_its_first_chunk() -> None:
    """An application that calls ``start_response`` only when iterated still gets its status."""
    transport = _init(traces_sample_rate=1.0)

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("202 Accepted", [])
        yield b"a"
        yield b"b"

    assert (["202 Accepted"], b"ab") == _call(SentryWsgiMiddleware(app), _environ())
    (transaction,) = _transactions(transport)
    assert "ok" == transaction["contexts"]["trace"]["status"]
    assert 202 == transaction["contexts"]["trace"]["data"]["http.response.status_code"]


def test_with_tracing_off_each_request_has_its_own_trace_and_continues_the_callers() -> None:
    """No transaction is sent, but errors carry the request's trace: a new one per request, or the
    incoming one (tracing without performance)."""
    transport = _init()
    sentry_sdk.capture_message("at startup")  # gives the process scope a trace of its own
    app = SentryWsgiMiddleware(_failing)
    for environ in (_environ(), _environ(), _environ(SENTRY_TRACE=f"{TRACE_ID}-{PARENT_ID}-1")):
        with pytest.raises(RuntimeError):
            _call(app, environ)
    assert [] == _transactions(transport)
    startup, first, second, continued = (e["contexts"]["trace"] for e in transport.events)
    assert len({startup["trace_id"], first["trace_id"], second["trace_id"]}) == 3
    assert (TRACE_ID, PARENT_ID) == (continued["trace_id"], continued["parent_span_id"])


def test_a_trace_of_another_organization_is_not_continued() -> None:
    """The caller's baggage names another org: a new trace starts here."""
    transport = _init(dsn="https://key@o5.ingest.example/1", traces_sample_rate=1.0)
    sentry_sdk.get_client().transport = transport
    environ = _environ(
        SENTRY_TRACE=f"{TRACE_ID}-{PARENT_ID}-1", BAGGAGE=f"sentry-trace_id={TRACE_ID},sentry-org_id=9"
    )
    _call(SentryWsgiMiddleware(_answer("200 OK")), environ)
    (transaction,) = _transactions(transport)
    assert TRACE_ID != transaction["contexts"]["trace"]["trace_id"]
    assert "parent_span_id" not in transaction["contexts"]["trace"]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_two_services_over_http_share_one_trace() -> None:
    """Service A calls service B (a real server on 127.0.0.1) with A's propagation headers: B's
    transaction is the child of A's span, in A's trace."""
    transport = _init(traces_sample_rate=1.0)

    server = make_server(
        "127.0.0.1", 0, SentryWsgiMiddleware(_answer("200 OK")), _ThreadingWSGIServer, _QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sentry_sdk.start_transaction(name="service A", op="task") as a:
            with sentry_sdk.start_span(op="http.client", name="GET /b") as call:
                connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
                connection.request(
                    "GET", "/b", headers=dict(sentry_sdk.get_current_scope().iter_trace_propagation_headers())
                )
                assert 200 == connection.getresponse().status
                connection.close()
    finally:
        server.shutdown()
        server.server_close()
    b = next(t for t in _transactions(transport) if t["transaction"] == "/b")
    assert (a.trace_id, call.span_id) == (
        b["contexts"]["trace"]["trace_id"],
        b["contexts"]["trace"]["parent_span_id"],
    )
