"""Outgoing HTTP requests (http.client, urllib, urllib3) and subprocesses as spans; trace headers.

A real HTTP server on 127.0.0.1 records the headers each request arrives with.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import urllib3

import sentry_sdk
from sentry_sdk.integrations.stdlib import StdlibIntegration
from sentry_sdk.testing import CapturingTransport, IngestServer


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
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    sentry_sdk.init(
        transport=transport, integrations=[StdlibIntegration()], default_integrations=False, **options
    )
    return transport


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        response.read()
        status: int = response.status
        return status


def test_a_request_inside_a_transaction_is_an_http_client_span_and_carries_its_trace(server: str) -> None:
    """The span: op http.client, "GET <url>" without the query (filtered into data), the status;
    the request's sentry-trace names that span, its baggage the transaction's DSC."""
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job", op="task") as transaction:
        assert 200 == _get(f"{server}/items?page=2&token=abc")
        http = urllib3.PoolManager()
        assert 503 == http.request("GET", f"{server}/status/503", retries=False).status
    (event,) = transport.events
    first, second = event["spans"]
    assert ("http.client", f"GET {server}/items", "ok") == (
        first["op"],
        first["description"],
        first["status"],
    )
    assert {"url": f"{server}/items", "http.method": "GET", "http.query": "page=2&token=[Filtered]"} == {
        k: first["data"][k] for k in ("url", "http.method", "http.query")
    }
    assert 200 == first["data"]["http.response.status_code"]
    assert ("unavailable", 503) == (second["status"], second["data"]["http.response.status_code"])
    assert "auto.http.stdlib.httplib" == first["origin"]
    headers = _Recorder.seen
    assert [
        f"{transaction.trace_id}-{first['span_id']}-1",
        f"{transaction.trace_id}-{second['span_id']}-1",
    ] == [h["sentry-trace"] for h in headers]
    assert f"sentry-trace_id={transaction.trace_id}" in headers[0]["baggage"]


def test_with_tracing_off_requests_still_carry_the_trace_that_errors_carry(server: str) -> None:
    """No span is made, but the request carries the scope's trace, the same the error events get."""
    transport = _init()
    _get(f"{server}/x")
    sentry_sdk.capture_message("after the call")
    (event,) = transport.events
    trace = event["contexts"]["trace"]
    (headers,) = _Recorder.seen
    assert headers["sentry-trace"].startswith(f"{trace['trace_id']}-{trace['span_id']}")
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
    server: str, options: dict[str, Any]
) -> None:
    _init(traces_sample_rate=1.0, **options)
    with sentry_sdk.start_transaction(name="job"):
        _get(f"{server}/x")
    (headers,) = _Recorder.seen
    assert "sentry-trace" not in headers and "baggage" not in headers


def test_a_target_matching_the_url_gets_the_headers(server: str) -> None:
    _init(traces_sample_rate=1.0, trace_propagation_targets=[r"127\.0\.0\.1:\d+/api"])
    with sentry_sdk.start_transaction(name="job"):
        _get(f"{server}/api/v1")
        _get(f"{server}/other")
    assert ["sentry-trace" in h for h in _Recorder.seen] == [True, False]


def test_the_sdks_own_envelope_posts_carry_no_trace_and_make_no_span() -> None:
    """Sending to the DSN (through urllib3, so through http.client) is never traced."""
    with IngestServer() as ingest:
        sentry_sdk.init(
            dsn=ingest.dsn,
            traces_sample_rate=1.0,
            integrations=[StdlibIntegration()],
            default_integrations=False,
        )
        with sentry_sdk.start_transaction(name="job"):
            sentry_sdk.capture_message("inside")
            sentry_sdk.flush(timeout=10)
        sentry_sdk.flush(timeout=10)
        (transaction,) = [item.json() for item in ingest.items("transaction")]
        assert [] == transaction["spans"]
        assert all("sentry-trace" not in {k.lower() for k in r.headers} for r in ingest.requests)


def test_a_subprocess_started_inside_a_transaction_is_a_span() -> None:
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="job"):
        subprocess.run([sys.executable, "-c", "pass", "--token=abc"], check=True)
    (event,) = transport.events
    (span,) = event["spans"]
    assert "subprocess" == span["op"]
    assert span["description"].endswith("-c pass --token=[Filtered]")
    assert isinstance(span["data"]["subprocess.pid"], int)
