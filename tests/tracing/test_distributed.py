"""Distributed tracing across two processes over real HTTP on 127.0.0.1.

Service B is a WSGI app in ``SentryWsgiMiddleware``, served by ``wsgiref`` in its own interpreter;
service A is this process, calling B with urllib, requests and httpx inside a transaction. Both
send their transactions to one loopback ingest server: B's are the children of A's ``http.client``
spans, in A's trace, with A's sampling decision and A's (frozen) dynamic sampling context.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from frameworks import require

import sentry_sdk
from sentry_sdk.testing import IngestServer

httpx = require("httpx")
requests = require("requests")

_ROOT = Path(__file__).resolve().parents[2]

_SERVICE_B = """
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

import sentry_sdk
from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

sentry_sdk.init(dsn=sys.argv[1], traces_sample_rate=float(sys.argv[3]), release="b@1", environment="b-env")


def app(environ, start_response):
    with sentry_sdk.start_span(op="db", name="SELECT stock"):
        pass
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ.get("HTTP_SENTRY_TRACE", "none").encode()]


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


server = make_server("127.0.0.1", int(sys.argv[2]), SentryWsgiMiddleware(app), handler_class=Quiet)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _service_b(tmp_path: Path, dsn: str, rate: float) -> Iterator[int]:
    script = tmp_path / "service_b.py"
    script.write_text(_SERVICE_B)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env["PYTHONPATH"] = str(_ROOT)
    process = subprocess.Popen(
        [sys.executable, str(script), dsn, str(port), str(rate)], env=env, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    _, err = process.communicate(timeout=5)
                    pytest.fail(f"service B did not start: {err.decode(errors='replace')[-2000:]}")
                time.sleep(0.05)
        yield port
    finally:
        # SIGINT: B leaves serve_forever and exits normally, flushing its queue at exit.
        process.send_signal(2)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


@pytest.fixture
def ingest() -> Iterator[IngestServer]:
    with IngestServer() as server:
        yield server


@pytest.fixture
def service_b(tmp_path: Path, ingest: IngestServer) -> Iterator[int]:
    yield from _service_b(tmp_path, ingest.dsn, 0.0)  # B's own rate: A's decision must win


def _transactions(ingest: IngestServer) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(envelope header, transaction) of every transaction the ingest server accepted."""
    return [
        (envelope.headers, item.json())
        for envelope in ingest.envelopes()
        for item in envelope.items
        if item.headers.get("type") == "transaction"
    ]


def _wait_for(ingest: IngestServer, count: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = _transactions(ingest)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"expected {count} transactions, got {len(_transactions(ingest))}")


def test_service_a_calling_b_with_urllib_requests_and_httpx_makes_one_trace(
    ingest: IngestServer, service_b: int
) -> None:
    sentry_sdk.init(dsn=ingest.dsn, traces_sample_rate=1.0, release="a@1", environment="a-env")
    base = f"http://127.0.0.1:{service_b}"
    answers: list[str] = []
    with sentry_sdk.start_transaction(name="checkout", op="task") as transaction:
        with urllib.request.urlopen(f"{base}/urllib", timeout=10) as response:
            answers.append(response.read().decode())
        answers.append(requests.get(f"{base}/requests", timeout=10).text)
        with httpx.Client() as client:
            answers.append(client.get(f"{base}/httpx").text)
    sentry_sdk.flush(timeout=10)

    found = _wait_for(ingest, 4)
    (a_header, a), *_ = [(h, t) for h, t in found if t["transaction"] == "checkout"]
    b_by_path = {t["transaction"]: (h, t) for h, t in found if t["transaction"] != "checkout"}
    assert {"/urllib", "/requests", "/httpx"} == set(b_by_path)
    client_spans = {s["description"].rsplit("/", 1)[1]: s for s in a["spans"] if s["op"] == "http.client"}
    assert {"urllib", "requests", "httpx"} <= set(client_spans)
    for path, (b_header, b) in b_by_path.items():
        span = client_spans[path.lstrip("/")]
        trace = b["contexts"]["trace"]
        assert (transaction.trace_id, span["span_id"]) == (trace["trace_id"], trace["parent_span_id"])
        assert f"{transaction.trace_id}-{span['span_id']}-1" in answers
        assert ["db"] == [s["op"] for s in b["spans"]]
        # One trace, one DSC: B passes on A's, frozen (A's release and environment, A's sampling).
        assert a_header["trace"] == b_header["trace"]
    assert ("a@1", "a-env", "true") == (
        a_header["trace"]["release"],
        a_header["trace"]["environment"],
        a_header["trace"]["sampled"],
    )


def test_a_decision_not_to_sample_is_passed_on_and_b_sends_no_transaction(
    tmp_path: Path, ingest: IngestServer
) -> None:
    """A samples out (rate 0); B would sample everything (rate 1), but follows A: B gets A's trace
    with the sampled flag 0, and neither sends a transaction."""
    for port in _service_b(tmp_path, ingest.dsn, 1.0):
        sentry_sdk.init(dsn=ingest.dsn, traces_sample_rate=0.0)
        with sentry_sdk.start_transaction(name="checkout") as transaction:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/x", timeout=10) as response:
                seen = response.read().decode()
        assert seen.startswith(transaction.trace_id) and seen.endswith("-0")
        sentry_sdk.flush(timeout=10)
    assert [] == _transactions(ingest)
