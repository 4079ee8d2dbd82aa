"""The HTTP transport against a real server on 127.0.0.1: wire format, failures, limits, fork."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk import transport as transport_module
from sentry_sdk._connection import ca_certs as _ca_certs
from sentry_sdk._connection import proxy_for as _proxy_for
from sentry_sdk._dsn import Dsn
from sentry_sdk.consts import VERSION
from sentry_sdk.envelope import Envelope
from sentry_sdk.testing import IngestServer
from sentry_sdk.transport import HttpTransport, Transport, _parse_retry_after


def test_an_event_is_posted_as_a_gzipped_envelope_with_auth(ingest: IngestServer) -> None:
    """Events go to /api/<project>/envelope/, gzip-compressed, with X-Sentry-Auth and User-Agent."""
    sentry_sdk.init(dsn=ingest.dsn)
    event_id = sentry_sdk.capture_message("over the wire")
    sentry_sdk.flush(timeout=5)
    (request,) = ingest.requests
    assert "/api/1/envelope/" == request.path
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert "gzip" == headers["content-encoding"]
    assert "application/x-sentry-envelope" == headers["content-type"]
    assert f"sentry.python/{VERSION}" == headers["user-agent"]
    assert "public" == request.auth["sentry_key"]
    assert "7" == request.auth["sentry_version"]
    assert request.envelope is not None
    assert event_id == request.envelope.headers["event_id"]
    assert ["over the wire"] == [e["message"] for e in ingest.events()]


def test_capture_does_not_wait_for_a_slow_server(ingest: IngestServer) -> None:
    """With a server that takes 0.5 s to answer, capturing still returns at once."""
    ingest.delay = 0.5
    sentry_sdk.init(dsn=ingest.dsn)
    start = time.perf_counter()
    for i in range(5):
        sentry_sdk.capture_message(f"slow {i}")
    assert time.perf_counter() - start < 0.25
    sentry_sdk.flush(timeout=10)
    assert 5 == len(ingest.wait_for_events(5))


def test_a_full_queue_drops_and_counts(ingest: IngestServer) -> None:
    """Beyond transport_queue_size pending envelopes, new ones are dropped as queue_overflow."""
    ingest.delay = 0.3
    sentry_sdk.init(dsn=ingest.dsn, transport_queue_size=2)
    for i in range(10):
        sentry_sdk.capture_message(f"burst {i}")
    transport = sentry_sdk.Hub.current.client.transport  # type: ignore[union-attr]
    assert transport is not None
    dropped = transport.lost_events[("queue_overflow", "error")]
    sentry_sdk.flush(timeout=10)
    delivered = len(ingest.events())
    assert 10 == dropped + delivered
    assert dropped >= 7  # at most one in flight plus two queued


def test_with_default_options_a_burst_is_not_cut_at_a_small_count(ingest: IngestServer) -> None:
    """A burst of 1,000 errors against a slow server all wait in the queue and all arrive.

    sentry-sdk's default queue of 100 events would drop most of this burst; ours is bounded by
    the bytes it holds instead.
    """
    ingest.delay = 0.001
    sentry_sdk.init(dsn=ingest.dsn)
    for i in range(1000):
        try:
            raise ValueError(f"burst {i}")
        except ValueError:
            sentry_sdk.capture_exception()
    transport = sentry_sdk.Hub.current.client.transport  # type: ignore[union-attr]
    assert isinstance(transport, HttpTransport)
    assert transport.queue_depth > 100  # the burst outran the server: the queue really held it
    sentry_sdk.flush(timeout=60)
    assert 1000 == len(ingest.events())
    assert {} == dict(transport.lost_events)


def test_the_queue_is_bounded_by_the_bytes_it_holds(ingest: IngestServer) -> None:
    """With transport_queue_bytes small, events beyond it are dropped and counted, never held."""
    ingest.delay = 0.3
    sentry_sdk.init(dsn=ingest.dsn, transport_queue_bytes=50_000)
    for i in range(200):
        sentry_sdk.capture_message(f"{i} {'x' * 4000}")  # about 5 kB each once encoded
    transport = sentry_sdk.Hub.current.client.transport  # type: ignore[union-attr]
    assert isinstance(transport, HttpTransport)
    dropped = transport.lost_events[("queue_overflow", "error")]
    assert transport._worker.pending_bytes <= 50_000
    sentry_sdk.flush(timeout=30)
    delivered = len(ingest.events())
    assert 200 == dropped + delivered
    assert 5 <= delivered <= 15  # what fits in 50 kB, plus what the worker took meanwhile


def test_a_backlog_waits_compressed(ingest: IngestServer) -> None:
    """Behind a slow server, queued envelopes are compressed while they wait: memory stays small."""
    ingest.delay = 0.3
    # Without the modules integration: its list of installed packages depends on the machine.
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False)
    for i in range(50):
        sentry_sdk.capture_message(f"{i} {'compressible ' * 400}")  # about 5 kB each once encoded
    transport = sentry_sdk.Hub.current.client.transport  # type: ignore[union-attr]
    assert isinstance(transport, HttpTransport)
    worker = transport._worker

    def waiting_sizes() -> list[int]:
        with worker._cond:
            return [entry[1] for entry in worker._queue]

    deadline = time.monotonic() + 5
    while max(waiting_sizes(), default=0) > 1000 and time.monotonic() < deadline:
        time.sleep(0.05)
    sizes = waiting_sizes()
    assert len(sizes) >= 20  # still a backlog: the server takes 0.3 s a request
    assert max(sizes) <= 1000  # each waits compressed, not as its 5 kB of JSON
    assert worker.pending_bytes <= 50 * 1000
    ingest.delay = 0  # the server recovers: the backlog drains
    sentry_sdk.flush(timeout=30)
    assert 50 == len(ingest.events())


def test_a_burst_behind_a_slow_server_never_waits_as_much_raw_json(ingest: IngestServer) -> None:
    """While the worker waits on a slow server, a burst is compressed as it comes: a megabyte of
    events holds a few hundred kilobytes, not the megabyte, before the worker gets to it."""
    ingest.delay = 0.5
    sentry_sdk.init(dsn=ingest.dsn, default_integrations=False)
    for i in range(200):
        sentry_sdk.capture_message(f"{i} {'compressible ' * 400}")  # about 5 kB each once encoded
    transport = sentry_sdk.Hub.current.client.transport  # type: ignore[union-attr]
    assert isinstance(transport, HttpTransport)
    held = transport._worker.pending_bytes
    assert transport._worker.pending >= 150  # still waiting: the server takes 0.5 s a request
    assert held <= 400 * 1024  # not the 1 MB of the raw events
    ingest.delay = 0
    sentry_sdk.flush(timeout=30)
    assert 200 == len(ingest.events())


def test_a_server_that_is_down(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing raises when the server is unreachable; after the retries the loss is counted and logged."""
    monkeypatch.setattr(transport_module, "_BACKOFF_CAP", 0.02)  # the same ten attempts, sooner
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sentry_sdk.init(dsn=f"http://public@127.0.0.1:{port}/1", debug=True)
    with caplog.at_level(logging.DEBUG, logger="sentry_sdk.errors"):
        assert sentry_sdk.capture_message("into the void") is not None
        sentry_sdk.flush(timeout=5)
    transport = sentry_sdk.Hub.current.client.transport  # type: ignore[union-attr]
    assert 1 == transport.lost_events[("network_error", "error")]  # type: ignore[union-attr]
    assert any("sending to Sentry failed" in r.getMessage() for r in caplog.records)
    assert any("attempt 10 of 10" in r.getMessage() for r in caplog.records)


def test_429_pauses_sending_until_retry_after(ingest: IngestServer, caplog: pytest.LogCaptureFixture) -> None:
    """After a 429 with Retry-After, events are dropped (counted) until the time has passed."""
    ingest.script((429, {"Retry-After": "1"}))
    sentry_sdk.init(dsn=ingest.dsn)
    with caplog.at_level(logging.WARNING, logger="sentry_sdk.errors"):
        sentry_sdk.capture_message("rate limited")
        sentry_sdk.flush(timeout=5)
    sentry_sdk.capture_message("dropped while paused")
    sentry_sdk.flush(timeout=5)
    transport = sentry_sdk.Hub.current.client.transport  # type: ignore[union-attr]
    assert 2 == transport.lost_events[("ratelimit_backoff", "error")]  # type: ignore[union-attr]
    assert 1 == len(ingest.requests)
    assert any("429" in r.getMessage() for r in caplog.records)
    time.sleep(1.1)  # the server asked for exactly this pause
    sentry_sdk.capture_message("after the pause")
    sentry_sdk.flush(timeout=5)
    assert ["after the pause"] == [e["message"] for e in ingest.wait_for_events(1)]


def test_a_wrong_key_is_logged_not_raised(ingest: IngestServer, caplog: pytest.LogCaptureFixture) -> None:
    """A 403 from the server is logged and counted; the program sees nothing."""
    sentry_sdk.init(dsn=ingest.dsn.replace("public@", "wrong@"))
    with caplog.at_level(logging.WARNING, logger="sentry_sdk.errors"):
        sentry_sdk.capture_message("denied")
        sentry_sdk.flush(timeout=5)
    assert [403] == [r.status for r in ingest.requests]
    assert any("403" in r.getMessage() for r in caplog.records)


def test_flush_at_exit_sends_pending_events_and_tells_stderr(
    ingest: IngestServer, run_script: Callable[[str], Any]
) -> None:
    """Events still queued when the program ends are sent within shutdown_timeout."""
    ingest.delay = 0.2
    result = run_script(
        "import sentry_sdk\n"
        f"sentry_sdk.init(dsn={ingest.dsn!r})\n"
        "for i in range(3):\n"
        "    sentry_sdk.capture_message(f'at exit {i}')\n"
    )
    assert 0 == result.returncode, result.stderr
    assert "pending event" in result.stderr
    assert ["at exit 0", "at exit 1", "at exit 2"] == sorted(e["message"] for e in ingest.wait_for_events(3))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_sends_its_own_events_and_not_the_parents_queue(ingest: IngestServer) -> None:
    """After fork the child starts its own worker; what the parent had queued is sent once."""
    ingest.delay = 0.3
    sentry_sdk.init(dsn=ingest.dsn)
    sentry_sdk.capture_message("parent 1")
    sentry_sdk.capture_message("parent 2")
    with warnings.catch_warnings():
        # Python 3.12+ warns about forking a process with threads (the server's); that is the point.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            sentry_sdk.capture_message("child")
            sentry_sdk.flush(timeout=5)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert 0 == status
    sentry_sdk.flush(timeout=10)
    messages = sorted(e["message"] for e in ingest.wait_for_events(3))
    assert ["child", "parent 1", "parent 2"] == messages


def test_a_transport_subclass_receives_envelopes() -> None:
    """Today's style: a Transport subclass implementing capture_envelope."""
    received: list[Envelope] = []

    class MyTransport(Transport):
        def capture_envelope(self, envelope: Envelope) -> None:
            received.append(envelope)

    sentry_sdk.init(transport=MyTransport)
    sentry_sdk.capture_message("hi")
    assert ["hi"] == [e.get_event()["message"] for e in received]  # type: ignore[index]


def test_an_early_style_transport_receives_event_dicts() -> None:
    """The early style: a Transport subclass implementing only capture_event."""
    received: list[dict[str, Any]] = []

    class OldTransport(Transport):
        def capture_event(self, event: dict[str, Any]) -> None:
            received.append(event)

    sentry_sdk.init(transport=OldTransport())
    sentry_sdk.capture_message("hi")
    assert ["hi"] == [e["message"] for e in received]


def test_a_plain_function_transport_receives_event_dicts() -> None:
    """A function given as transport is called with each event dict."""
    received: list[dict[str, Any]] = []
    sentry_sdk.init(transport=received.append)
    sentry_sdk.capture_message("hi")
    assert ["hi"] == [e["message"] for e in received]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 60.0), ("", 60.0), ("5", 5.0), ("2.5", 2.5), ("garbage", 60.0), ("-3", 0.0)],
)
def test_retry_after_parsing(value: str | None, expected: float) -> None:
    """Retry-After in seconds; absent or unreadable means 60 s."""
    assert expected == _parse_retry_after(value)


def test_retry_after_as_an_http_date() -> None:
    """Retry-After may be an HTTP date."""
    from email.utils import formatdate

    assert 8 <= _parse_retry_after(formatdate(time.time() + 10, usegmt=True)) <= 10


def test_ca_bundle_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """ca_certs wins, then SSL_CERT_FILE, then REQUESTS_CA_BUNDLE, then certifi."""
    import certifi

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    assert certifi.where() == _ca_certs(None)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/r.pem")
    assert "/r.pem" == _ca_certs(None)
    monkeypatch.setenv("SSL_CERT_FILE", "/s.pem")
    assert "/s.pem" == _ca_certs(None)
    assert "/o.pem" == _ca_certs("/o.pem")


def test_proxy_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Options win over the environment; '' disables; an https DSN falls back to http_proxy."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    https = Dsn("https://k@sentry.example.com/1")
    http = Dsn("http://k@sentry.example.com/1")
    assert None is _proxy_for(https, {})
    assert "http://p:1" == _proxy_for(https, {"http_proxy": "http://p:1"})
    assert "http://s:2" == _proxy_for(https, {"https_proxy": "http://s:2", "http_proxy": "http://p:1"})
    monkeypatch.setenv("HTTPS_PROXY", "http://env:3")
    assert "http://env:3" == _proxy_for(https, {})
    assert None is _proxy_for(https, {"https_proxy": ""})
    assert None is _proxy_for(http, {})
    monkeypatch.setenv("NO_PROXY", "sentry.example.com")
    assert None is _proxy_for(https, {})


def test_events_reach_the_server_through_a_proxy(ingest: IngestServer) -> None:
    """With http_proxy set, the request goes to the proxy, which forwards it (here: the server itself)."""
    sentry_sdk.init(dsn="http://public@sentry.invalid/1", http_proxy=ingest.url)
    sentry_sdk.capture_message("via proxy")
    sentry_sdk.flush(timeout=5)
    (request,) = ingest.requests
    # A proxy receives the absolute URL of the real destination.
    assert "http://sentry.invalid/api/1/envelope/" == request.path


def test_http_transport_needs_a_dsn() -> None:
    """Constructing HttpTransport without a DSN is a configuration error."""
    with pytest.raises(ValueError, match="DSN"):
        HttpTransport({})


def test_envelope_framing() -> None:
    """An envelope is a header line, then per item a header line with the payload length and the payload."""
    envelope = Envelope(headers={"event_id": "a" * 32})
    envelope.add_event({"event_id": "a" * 32, "message": "m"})
    raw = envelope.serialize()
    header, item_header, payload, _ = raw.split(b"\n")
    assert b'{"event_id":"' + b"a" * 32 + b'"}' == header
    assert b'"length":' + str(len(payload)).encode() in item_header


def test_a_burst_from_four_threads_survives_a_server_answering_503_at_first(ingest: IngestServer) -> None:
    """With default options, 300 events from 4 threads all arrive though the first 8 requests get 503.

    Failed sends are retried with backoff on the worker thread while capturing goes on queueing.
    """
    ingest.script(*[(503, {})] * 8)
    sentry_sdk.init(dsn=ingest.dsn)

    def burst(n: int) -> None:
        for i in range(75):
            sentry_sdk.capture_message(f"thread {n} event {i}")

    threads = [threading.Thread(target=burst, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sentry_sdk.flush(timeout=60)
    assert 300 == len({e["message"] for e in ingest.events()})
    assert 8 == sum(1 for r in ingest.requests if r.status == 503)
    transport = sentry_sdk.Hub.current.client.transport  # type: ignore[union-attr]
    assert {} == {k: v for k, v in transport.lost_events.items() if v}  # type: ignore[union-attr]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_children_send_their_events_before_they_exit(
    ingest: IngestServer, run_script: Callable[[str], Any], method: str
) -> None:
    """A child's pending events are flushed when it ends, though its atexit handlers never run."""
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    ingest.delay = 0.2  # still queued when the child's work is done
    result = run_script(
        "import multiprocessing, sentry_sdk\n"
        f"sentry_sdk.init(dsn={ingest.dsn!r})\n"
        "def work(n):\n"
        "    for i in range(3):\n"
        "        sentry_sdk.capture_message(f'child {n} event {i}')\n"
        "if __name__ == '__main__':\n"
        f"    ctx = multiprocessing.get_context({method!r})\n"
        "    children = [ctx.Process(target=work, args=(n,)) for n in range(2)]\n"
        "    for child in children:\n"
        "        child.start()\n"
        "    for child in children:\n"
        "        child.join()\n"
        "    print('exit codes', [child.exitcode for child in children])\n"
    )
    assert 0 == result.returncode, result.stderr
    assert "exit codes [0, 0]" in result.stdout
    expected = sorted(f"child {n} event {i}" for n in range(2) for i in range(3))
    assert expected == sorted(e["message"] for e in ingest.wait_for_events(6))
