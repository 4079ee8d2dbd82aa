"""httpx: requests of ``httpx.Client`` and ``httpx.AsyncClient`` as breadcrumbs and spans; trace headers.

A real HTTP server on 127.0.0.1 records the headers each request arrives with. Tests taking the
``get`` fixture run once with each client.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from subprocess import CompletedProcess
from typing import Any

import pytest
from frameworks import require

import sentry_sdk
from sentry_sdk.integrations import DidNotEnable
from sentry_sdk.integrations import httpx as httpx_integration
from sentry_sdk.integrations.httpx import HttpxIntegration
from sentry_sdk.testing import CapturingTransport

httpx = require("httpx")


class _Recorder(BaseHTTPRequestHandler):
    """Answers ``/status/<code>`` with that status, anything else with 200; keeps the headers."""

    seen: list[dict[str, str]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        path = self.path.partition("?")[0]
        status = int(path.rpartition("/")[2]) if path.startswith("/status/") else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def server() -> Iterator[str]:
    _Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


Get = Callable[..., Any]  # get(url, headers=None, transport=None, then=None) -> httpx.Response


@pytest.fixture(params=["Client", "AsyncClient"])
def get(request: pytest.FixtureRequest) -> Get:
    """``get(url)`` through a new ``httpx.Client``, or a new ``httpx.AsyncClient`` under ``asyncio.run``.

    ``then()``, if given, is called right after the request (failed or not) where it was made:
    ``asyncio.run`` makes it in a task, and what a task writes to the scope (breadcrumbs, the
    trace of events without a span) stays in that task, as it would in an async program.
    """

    def sync_get(
        url: str, headers: Any = None, transport: Any = None, then: Callable[[], object] | None = None
    ) -> Any:
        try:
            with httpx.Client(transport=transport, trust_env=False) as client:
                return client.get(url, headers=headers)
        finally:
            if then is not None:
                then()

    def async_get(
        url: str, headers: Any = None, transport: Any = None, then: Callable[[], object] | None = None
    ) -> Any:
        async def run() -> Any:
            try:
                async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
                    return await client.get(url, headers=headers)
            finally:
                if then is not None:
                    then()

        return asyncio.run(run())

    return sync_get if request.param == "Client" else async_get


def _init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    sentry_sdk.init(
        transport=transport, integrations=[HttpxIntegration()], default_integrations=False, **options
    )
    return transport


def _breadcrumbs(transport: CapturingTransport) -> list[dict[str, Any]]:
    """The breadcrumbs of an event captured now."""
    sentry_sdk.capture_message("breadcrumbs")
    crumbs: list[dict[str, Any]] = transport.events[-1].get("breadcrumbs", {}).get("values", [])
    return crumbs


def _free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- spans and trace headers --------------------------------------------------------------------


def test_a_request_inside_a_transaction_is_an_http_client_span_and_carries_its_trace(
    server: str, get: Get
) -> None:
    """The span: op http.client, "GET <url>" without the query (filtered into data), the status;
    the request's sentry-trace names that span, its baggage the transaction's DSC."""
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job", op="task") as transaction:
        assert 200 == get(f"{server}/items?page=2&token=abc").status_code
        assert 503 == get(f"{server}/status/503").status_code
    (event,) = transport.events
    assert "transaction" == event["type"]
    first, second = event["spans"]
    assert ("http.client", f"GET {server}/items", "ok") == (
        first["op"],
        first["description"],
        first["status"],
    )
    assert {"url": f"{server}/items", "http.method": "GET", "http.query": "page=2&token=[Filtered]"} == {
        k: first["data"][k] for k in ("url", "http.method", "http.query")
    }
    assert (200, "OK") == (first["data"]["http.response.status_code"], first["data"]["reason"])
    assert ("unavailable", 503) == (second["status"], second["data"]["http.response.status_code"])
    assert ["auto.http.httpx"] * 2 == [first["origin"], second["origin"]]
    headers = _Recorder.seen
    assert [
        f"{transaction.trace_id}-{first['span_id']}-1",
        f"{transaction.trace_id}-{second['span_id']}-1",
    ] == [h["sentry-trace"] for h in headers]
    assert f"sentry-trace_id={transaction.trace_id}" in headers[0]["baggage"]


def test_with_tracing_off_requests_still_carry_the_trace_that_errors_carry(server: str, get: Get) -> None:
    """No span is made, but the request carries the scope's trace, the same the error events get."""
    transport = _init()
    get(f"{server}/x", then=lambda: sentry_sdk.capture_exception(ValueError("after the call")))
    (event,) = transport.events
    trace = event["contexts"]["trace"]
    (headers,) = _Recorder.seen
    assert headers["sentry-trace"].startswith(f"{trace['trace_id']}-")
    assert "sentry-trace_id=" in headers["baggage"]
    assert "spans" not in event


@pytest.mark.parametrize(
    "options",
    [
        {"trace_propagation_targets": ["api\\.example\\.org"]},
        {"trace_propagation_targets": []},
        {"propagate_traces": False},
    ],
)
def test_requests_to_urls_outside_the_targets_carry_no_trace_headers(
    server: str, get: Get, options: dict[str, Any]
) -> None:
    """The span is still made; only the headers are left out."""
    transport = _init(traces_sample_rate=1.0, **options)
    with sentry_sdk.start_transaction(name="job"):
        get(f"{server}/x")
    (headers,) = _Recorder.seen
    assert "sentry-trace" not in headers and "baggage" not in headers
    assert ["http.client"] == [span["op"] for span in transport.events[0]["spans"]]


def test_a_target_matching_the_url_gets_the_headers(server: str, get: Get) -> None:
    _init(traces_sample_rate=1.0, trace_propagation_targets=[r"127\.0\.0\.1:\d+/api"])
    with sentry_sdk.start_transaction(name="job"):
        get(f"{server}/api/v1")
        get(f"{server}/other")
    assert [True, False] == ["sentry-trace" in h for h in _Recorder.seen]


def test_a_trace_header_the_request_already_has_is_kept(server: str, get: Get) -> None:
    """The user's own baggage goes out as the user wrote it; the missing sentry-trace is added."""
    _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job") as transaction:
        get(f"{server}/x", headers={"Baggage": "vendor=1"})
    (headers,) = _Recorder.seen
    assert "vendor=1" == headers["baggage"]
    assert headers["sentry-trace"].startswith(f"{transaction.trace_id}-")


def test_a_request_with_a_custom_transport_is_recorded_and_carries_the_headers(get: Get) -> None:
    """httpx.MockTransport: nothing goes over the network, the request is still a span with headers."""
    received: list[Any] = []

    def handler(request: Any) -> Any:
        received.append(request)
        return httpx.Response(404)

    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job") as transaction:
        get("https://api.example.org/users/7?key=s3cr3t", transport=httpx.MockTransport(handler))
    (span,) = transport.events[0]["spans"]
    assert ("GET https://api.example.org/users/7", "not_found") == (span["description"], span["status"])
    assert "key=[Filtered]" == span["data"]["http.query"]
    (request,) = received
    assert f"{transaction.trace_id}-{span['span_id']}-1" == request.headers["sentry-trace"]


def test_a_streamed_response_ends_the_span_once_its_headers_are_in(server: str) -> None:
    """client.stream(...): the span and the breadcrumb are done before the body is read."""
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job"):
        with httpx.Client(trust_env=False) as client:
            with client.stream("GET", f"{server}/stream") as response:
                before_body = time.time()
                crumbs = _breadcrumbs(transport)
                assert b"ok" == response.read()
    (crumb,) = crumbs
    assert 200 == crumb["data"]["status_code"]
    (span,) = transport.events[-1]["spans"]
    assert ("ok", True) == (span["status"], span["timestamp"] <= before_body)


def test_an_async_streamed_response_ends_the_span_once_its_headers_are_in(server: str) -> None:
    transport = _init(traces_sample_rate=1.0)

    async def run() -> float:
        async with httpx.AsyncClient(trust_env=False) as client:
            async with client.stream("GET", f"{server}/stream") as response:
                before_body = time.time()
                await response.aread()
                return before_body

    with sentry_sdk.start_transaction(name="job"):
        before_body = asyncio.run(run())
    (span,) = transport.events[-1]["spans"]
    assert ("ok", True) == (span["status"], span["timestamp"] <= before_body)


# -- failures -------------------------------------------------------------------------------------


def test_a_refused_connection_propagates_and_ends_the_span_as_failed(get: Get) -> None:
    """The program gets httpx's own ConnectError; the span is internal_error, the breadcrumb error."""
    url = f"http://127.0.0.1:{_free_port()}/down"
    transport = _init(traces_sample_rate=1.0)
    crumbs: list[dict[str, Any]] = []
    with sentry_sdk.start_transaction(name="job"):
        with pytest.raises(httpx.ConnectError):
            get(url, then=lambda: crumbs.extend(_breadcrumbs(transport)))
    (crumb,) = crumbs
    (span,) = transport.events[-1]["spans"]
    assert ("internal_error", f"GET {url}") == (span["status"], span["description"])
    assert "http.response.status_code" not in span["data"]
    assert ("error", {"method": "GET", "url": url}) == (crumb["level"], crumb["data"])


def test_the_exception_of_a_failed_request_is_the_very_one_raised(get: Get) -> None:
    boom = httpx.ReadTimeout("too slow")

    def handler(request: Any) -> Any:
        raise boom

    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job"):
        with pytest.raises(httpx.ReadTimeout) as caught:
            get("https://api.example.org/slow", transport=httpx.MockTransport(handler))
    assert boom is caught.value
    assert ["internal_error"] == [span["status"] for span in transport.events[0]["spans"]]


def test_an_sdk_error_never_reaches_the_program(
    server: str, get: Get, monkeypatch: pytest.MonkeyPatch, sdk_errors_fail_tests: list[BaseException]
) -> None:
    """A bug of ours while starting or ending the record is reported internally; the request goes on."""

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("SDK bug")

    _init(traces_sample_rate=1.0)
    monkeypatch.setattr(httpx_integration, "start_http_span", broken)
    assert 200 == get(f"{server}/x").status_code
    monkeypatch.undo()
    monkeypatch.setattr(httpx_integration, "finish_http_span", broken)
    with sentry_sdk.start_transaction(name="job"):
        assert 200 == get(f"{server}/y").status_code
    assert ["SDK bug", "SDK bug"] == [str(exc) for exc in sdk_errors_fail_tests]
    sdk_errors_fail_tests.clear()


# -- breadcrumbs ----------------------------------------------------------------------------------


def test_each_response_is_a_breadcrumb_with_a_level_by_status(server: str, get: Get) -> None:
    """Like the stdlib's: type http, category httplib; 5xx error, 4xx warning, anything else info."""
    transport = _init()
    crumbs: list[dict[str, Any]] = []
    for status in (200, 302, 404, 503):
        get(f"{server}/status/{status}", then=lambda: crumbs.append(_breadcrumbs(transport)[-1]))
    assert [("http", "httplib")] * 4 == [(c["type"], c["category"]) for c in crumbs]
    assert ["info", "info", "warning", "error"] == [c["level"] for c in crumbs]
    assert {
        "method": "GET",
        "url": f"{server}/status/503",
        "status_code": 503,
        "reason": "Service Unavailable",
    } == (crumbs[-1]["data"])


def test_a_breadcrumb_leaves_credentials_out_and_filters_secret_query_and_fragment_values(get: Get) -> None:
    transport = _init()
    mock = httpx.MockTransport(lambda request: httpx.Response(200))
    crumbs: list[dict[str, Any]] = []
    url = "https://user:pw@api.example.org:8443/a?q=shoes&api_key=k1#access_token=t1"
    get(url, transport=mock, then=lambda: crumbs.extend(_breadcrumbs(transport)))
    (crumb,) = crumbs
    assert {
        "method": "GET",
        "url": "https://api.example.org:8443/a",
        "http.query": "q=shoes&api_key=[Filtered]",
        "http.fragment": "access_token=[Filtered]",
        "status_code": 200,
        "reason": "OK",
    } == crumb["data"]


def test_requests_to_the_sdks_own_endpoint_are_not_recorded(server: str, get: Get) -> None:
    """Whatever sends to the DSN's envelope endpoint through httpx: no span, no breadcrumb, no headers."""
    port = server.rpartition(":")[2]
    transport = _init(dsn=f"http://public@127.0.0.1:{port}/42", traces_sample_rate=1.0)
    crumbs: list[dict[str, Any]] = []
    with sentry_sdk.start_transaction(name="job"):
        get(f"{server}/api/42/envelope/", then=lambda: crumbs.extend(_breadcrumbs(transport)))
        get(f"{server}/api/42/other/", then=lambda: crumbs.append(_breadcrumbs(transport)[-1]))
    assert [f"{server}/api/42/other/"] == [c["data"]["url"] for c in crumbs]
    assert [f"GET {server}/api/42/other/"] == [s["description"] for s in transport.events[-1]["spans"]]
    assert [False, True] == ["sentry-trace" in h for h in _Recorder.seen]


def test_a_client_without_the_integration_records_nothing(server: str, get: Get) -> None:
    """The patches stay in once set up; a later client that does not enable httpx gets nothing from them."""
    _init()
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False, traces_sample_rate=1.0)
    crumbs: list[dict[str, Any]] = []
    with sentry_sdk.start_transaction(name="job"):
        get(f"{server}/x", then=lambda: crumbs.extend(_breadcrumbs(transport)))
    assert ([], []) == (crumbs, transport.events[-1]["spans"])
    assert "sentry-trace" not in _Recorder.seen[0]


# -- enabling -------------------------------------------------------------------------------------


def test_with_httpx_imported_the_integration_is_enabled_by_default() -> None:
    sentry_sdk.init(transport=CapturingTransport())
    assert "httpx" in sentry_sdk.get_client().integrations


def test_auto_enabling_integrations_false_leaves_it_off_unless_listed() -> None:
    sentry_sdk.init(transport=CapturingTransport(), auto_enabling_integrations=False)
    assert "httpx" not in sentry_sdk.get_client().integrations
    sentry_sdk.init(
        transport=CapturingTransport(), auto_enabling_integrations=False, integrations=[HttpxIntegration()]
    )
    assert isinstance(sentry_sdk.get_client().get_integration("httpx"), HttpxIntegration)


def test_an_httpx_older_than_0_23_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(httpx, "__version__", "0.22.0")
    with pytest.raises(DidNotEnable, match=r"^httpx 0\.22\.0 found; 0\.23 or newer is required$"):
        HttpxIntegration.setup_once()


_FRESH = """
import json, sys
import sentry_sdk
from sentry_sdk.integrations.httpx import HttpxIntegration
from sentry_sdk.testing import CapturingTransport

imported_by_module = "httpx" in sys.modules
transport = CapturingTransport()
sentry_sdk.init(transport=transport, traces_sample_rate=1.0)
imported_by_init = "httpx" in sys.modules
import httpx
enabled = "httpx" in sentry_sdk.get_client().integrations
mock = httpx.MockTransport(lambda request: httpx.Response(200, text=request.headers["sentry-trace"]))
with sentry_sdk.start_transaction(name="job") as transaction:
    header = httpx.Client(transport=mock).get("http://example.org/").text
print(json.dumps({
    "imported_by_module": imported_by_module,
    "imported_by_init": imported_by_init,
    "enabled": enabled,
    "spans": [s["op"] for s in transport.events[0]["spans"]],
    "traced": header.startswith(transaction.trace_id),
}))
"""


def test_init_imports_no_httpx_and_importing_httpx_afterwards_enables_the_integration(
    run_script: Callable[[str], CompletedProcess[str]],
) -> None:
    """A fresh interpreter: neither our module nor init imports httpx; the program's import enables it."""
    result = run_script(_FRESH)
    assert 0 == result.returncode, result.stderr
    expected = {
        "imported_by_module": False,
        "imported_by_init": False,
        "enabled": True,
        "spans": ["http.client"],
        "traced": True,
    }
    assert expected == json.loads(result.stdout)


_MISSING = """
import json, sys
sys.modules["httpx"] = None  # not installed
import sentry_sdk
from sentry_sdk.integrations import DidNotEnable
from sentry_sdk.integrations.httpx import HttpxIntegration

sentry_sdk.init()
auto = "httpx" in sentry_sdk.get_client().integrations
try:
    sentry_sdk.init(integrations=[HttpxIntegration()])
    listed = None
except DidNotEnable as exc:
    listed = str(exc)
print(json.dumps({"auto": auto, "listed": listed}))
"""


def test_a_missing_httpx_is_refused_when_listed(run_script: Callable[[str], CompletedProcess[str]]) -> None:
    result = run_script(_MISSING)
    assert 0 == result.returncode, result.stderr
    assert {"auto": False, "listed": "httpx is not installed"} == json.loads(result.stdout)
