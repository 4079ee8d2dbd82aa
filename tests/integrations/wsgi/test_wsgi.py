"""SentryWsgiMiddleware: a WSGI application's failures reported, each request isolated, the app unchanged."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import threading
import tracemalloc
from collections.abc import Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

import sentry_sdk
from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware
from sentry_sdk.testing import CapturingTransport, IngestServer


def _init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    sentry_sdk.init(transport=transport, **options)
    return transport


def _environ(
    path: str = "/items/7",
    method: str = "GET",
    query: str = "",
    body: bytes = b"",
    content_type: str | None = None,
    **headers: str,
) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "app.example",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_HOST": "app.example",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)) if body else "",
    }
    if content_type:
        environ["CONTENT_TYPE"] = content_type
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


def _failing(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    raise ZeroDivisionError("the view failed")


def test_an_exception_escaping_the_app_is_one_unhandled_event_with_the_request_and_is_re_raised() -> None:
    """The app's own exception object propagates; the event has mechanism wsgi, handled false, the request."""
    transport = _init()
    app = SentryWsgiMiddleware(_failing)
    with pytest.raises(ZeroDivisionError, match="the view failed"):
        _call(app, _environ(query="page=2&sort=name", Accept="text/html"))

    (event,) = transport.events
    (exc,) = event["exception"]["values"]
    assert ("wsgi", False) == (exc["mechanism"]["type"], exc["mechanism"]["handled"])
    assert "error" == event["level"]
    request = event["request"]
    assert "http://app.example/items/7" == request["url"]
    assert "GET" == request["method"]
    assert "page=2&sort=name" == request["query_string"]
    assert "text/html" == request["headers"]["Accept"]
    assert {"SERVER_NAME": "app.example", "SERVER_PORT": "80"} == request["env"]
    assert ("/items/7", {"source": "url"}) == (event["transaction"], event["transaction_info"])


def test_an_exception_raised_while_the_response_is_iterated_is_reported_and_re_raised() -> None:
    """A streaming response that fails half-way is an event too, still in the request's scope."""
    transport = _init()

    def streaming(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        sentry_sdk.set_tag("streamed", "yes")
        yield b"first part"
        raise KeyError("second part")

    with pytest.raises(KeyError):
        _call(SentryWsgiMiddleware(streaming), _environ())

    (event,) = transport.events
    assert "KeyError" == event["exception"]["values"][0]["type"]
    assert "yes" == event["tags"]["streamed"]
    assert "http://app.example/items/7" == event["request"]["url"]


def test_a_successful_request_is_unchanged_and_sends_nothing() -> None:
    """Status, headers and body are the app's own; its response's close() is called once."""
    transport = _init()
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            return iter([b"hello ", b"world"])

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("201 Created", [("X-Mine", "1")])
        return Body()

    statuses, body = _call(SentryWsgiMiddleware(app), _environ())
    assert (["201 Created"], b"hello world", [True]) == (statuses, body, closed)
    assert [] == transport.events


def test_without_a_client_the_middleware_changes_nothing_in_the_environ() -> None:
    """Before init (or after closing), the app gets the very wsgi.input object the server passed."""
    seen: list[Any] = []
    environ = _environ(body=b"abc")
    original = environ["wsgi.input"]

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"])
        start_response("200 OK", [])
        return [b""]

    _call(SentryWsgiMiddleware(app), environ)
    assert [original] == seen


@pytest.mark.parametrize(
    ("declared", "teed"),
    [
        ({}, False),
        ({"CONTENT_LENGTH": "0"}, False),
        ({"CONTENT_LENGTH": "3"}, True),
        ({"HTTP_TRANSFER_ENCODING": "chunked"}, True),
        ({"wsgi.input_terminated": True}, True),
    ],
)
def test_only_a_request_that_may_have_a_body_gets_its_input_teed(
    declared: dict[str, Any], teed: bool
) -> None:
    """No Content-Length and no transfer coding: no body, and the app gets the server's own stream."""
    _init()
    seen: list[Any] = []
    environ = {**_environ(), **declared}
    original = environ["wsgi.input"]

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"])
        start_response("200 OK", [])
        return [b""]

    _call(SentryWsgiMiddleware(app), environ)
    assert teed == (seen[0] is not original)


def test_each_request_sees_only_its_own_scope_data_and_startup_breadcrumbs() -> None:
    """A user set in one request is not on the next request's event; startup breadcrumbs are on both."""
    transport = _init()
    sentry_sdk.add_breadcrumb(message="app started", category="boot")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/login":
            sentry_sdk.set_user({"id": "alice"})
            sentry_sdk.add_breadcrumb(message="logged in")
            start_response("200 OK", [])
            return [b"ok"]
        raise RuntimeError("next request fails")

    wrapped = SentryWsgiMiddleware(app)
    _call(wrapped, _environ(path="/login"))
    with pytest.raises(RuntimeError):
        _call(wrapped, _environ(path="/other"))

    (event,) = transport.events
    assert "user" not in event
    assert ["app started"] == [crumb["message"] for crumb in event["breadcrumbs"]["values"]]
    # The process scope did not collect the request's breadcrumb either.
    assert ["app started"] == [crumb["message"] for crumb in sentry_sdk.get_isolation_scope().breadcrumbs]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_concurrent_requests_on_a_threaded_server_each_carry_only_their_own_data() -> None:
    """Through a real threaded wsgiref server on 127.0.0.1, to a real ingest server: no tag leaks."""
    with IngestServer() as ingest:
        sentry_sdk.init(dsn=ingest.dsn, default_integrations=False)
        barrier = threading.Barrier(4, timeout=10)

        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            number = environ["PATH_INFO"].rsplit("/", 1)[1]
            sentry_sdk.set_tag("request_number", number)
            sentry_sdk.set_user({"id": number})
            barrier.wait()  # all four requests are inside the app at once
            raise ValueError(f"request {number} failed")

        server = make_server(
            "127.0.0.1", 0, SentryWsgiMiddleware(app), _ThreadingWSGIServer, handler_class=_QuietHandler
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            statuses: list[int] = []

            def get(number: int) -> None:
                connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
                connection.request("GET", f"/jobs/{number}?x=1")
                statuses.append(connection.getresponse().status)
                connection.close()

            clients = [threading.Thread(target=get, args=(n,)) for n in range(4)]
            for client in clients:
                client.start()
            for client in clients:
                client.join()
            events = ingest.wait_for_events(4)
        finally:
            server.shutdown()
            server.server_close()

    assert [500] * 4 == statuses
    assert 4 == len(events)
    for event in events:
        number = event["tags"]["request_number"]
        assert f"request {number} failed" == event["exception"]["values"][0]["value"]
        assert {"id": number} == event["user"]
        assert f"http://127.0.0.1:{server.server_port}/jobs/{number}" == event["request"]["url"]
        assert "x=1" == event["request"]["query_string"]
    assert ["0", "1", "2", "3"] == sorted(event["tags"]["request_number"] for event in events)


# -- request data and privacy ---------------------------------------------------------------------


def test_without_pii_no_cookies_no_address_and_credential_headers_are_filtered() -> None:
    """Authorization, Cookie and X-Forwarded-For values are [Filtered]; no cookies, REMOTE_ADDR or ip."""
    transport = _init()
    environ = _environ(
        AUTHORIZATION="Bearer abc.def", COOKIE="sessionid=s3cr3t; theme=dark", X_FORWARDED_FOR="198.51.100.7"
    )
    with pytest.raises(ZeroDivisionError):
        _call(SentryWsgiMiddleware(_failing), environ)

    (event,) = transport.events
    headers = event["request"]["headers"]
    assert ("[Filtered]", "[Filtered]", "[Filtered]") == (
        headers["Authorization"],
        headers["Cookie"],
        headers["X-Forwarded-For"],
    )
    assert "cookies" not in event["request"]
    assert "REMOTE_ADDR" not in event["request"]["env"]
    assert "user" not in event
    assert "s3cr3t" not in json.dumps(event)


def test_with_pii_cookies_the_client_address_and_user_ip_are_sent() -> None:
    """send_default_pii=True adds request.cookies, env.REMOTE_ADDR and user.ip_address, not credentials."""
    transport = _init(send_default_pii=True)
    environ = _environ(AUTHORIZATION="Bearer abc.def", COOKIE="theme=dark; lang=en")
    with pytest.raises(ZeroDivisionError):
        _call(SentryWsgiMiddleware(_failing), environ)

    (event,) = transport.events
    request = event["request"]
    assert {"theme": "dark", "lang": "en"} == request["cookies"]
    assert "203.0.113.9" == request["env"]["REMOTE_ADDR"]
    assert {"ip_address": "203.0.113.9"} == event["user"]
    assert "[Filtered]" == request["headers"]["Authorization"]


def test_a_json_body_the_app_read_is_on_the_event_parsed() -> None:
    """The app reads its body itself; the event gets the same body as JSON."""
    transport = _init()
    seen: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        raise ValueError("bad order")

    body = json.dumps({"order": 17, "items": ["tea"]}).encode()
    with pytest.raises(ValueError):
        _call(SentryWsgiMiddleware(app), _environ(method="POST", body=body, content_type="application/json"))

    assert [body] == seen
    (event,) = transport.events
    assert {"order": 17, "items": ["tea"]} == event["request"]["data"]


def test_a_body_read_for_an_event_before_the_app_read_it_still_reaches_the_app_whole() -> None:
    """An event sent before the view reads its body has the body; the view then reads every byte of it."""
    transport = _init()
    seen: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        sentry_sdk.capture_message("before reading")
        stream = environ["wsgi.input"]
        seen.append(stream.read(4) + stream.readline() + stream.read())
        start_response("200 OK", [])
        return [b""]

    body = b"name=tea&kind=green\nsecond line"
    _call(SentryWsgiMiddleware(app), _environ(method="POST", body=body, content_type="text/plain"))

    assert [body] == seen
    (event,) = transport.events
    assert body.decode() == event["request"]["data"]


def test_a_form_body_is_a_dict_and_a_malformed_json_body_is_marked_raw() -> None:
    """url-encoded forms are parsed; a JSON body that does not parse is left out with a !raw note."""
    transport = _init()

    def reader(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read()
        raise ValueError("fails after reading")

    wrapped = SentryWsgiMiddleware(reader)
    form = _environ(method="POST", body=b"a=1&b=two+words", content_type="application/x-www-form-urlencoded")
    broken = _environ(method="POST", body=b'{"order": 17,', content_type="application/json")
    for environ in (form, broken):
        with pytest.raises(ValueError):
            _call(wrapped, environ)

    form_event, broken_event = transport.events
    assert {"a": "1", "b": "two words"} == form_event["request"]["data"]
    assert "" == broken_event["request"]["data"]
    assert {"rem": [["!raw", "x"]]} == broken_event["_meta"]["request"]["data"][""]


@pytest.mark.parametrize(
    ("size_option", "size", "kept"),
    [("small", 1_000, True), ("small", 1_001, False), ("medium", 10_000, True), ("never", 10, False)],
)
def test_max_request_body_size_keeps_bodies_within_the_limit_only(
    size_option: str, size: int, kept: bool
) -> None:
    """small: up to 1,000 bytes, medium: 10,000, never: none; a body over it is noted as !config."""
    transport = _init(max_request_body_size=size_option)
    body = b"x" * size

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        assert body == environ["wsgi.input"].read()
        raise ValueError("fails")

    with pytest.raises(ValueError):
        _call(SentryWsgiMiddleware(app), _environ(method="POST", body=body, content_type="text/plain"))

    (event,) = transport.events
    if kept:
        assert body.decode() == event["request"]["data"]
    else:
        assert "" == event["request"]["data"]
        assert {"rem": [["!config", "x"]]} == event["_meta"]["request"]["data"][""]


class _Generated(io.RawIOBase):
    """A request body of ``size`` bytes made up as it is read, never all in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = b"z" * count
        self.left -= count
        return count


def test_a_50_mb_upload_streamed_in_chunks_reaches_the_app_whole_and_is_not_held_in_memory() -> None:
    """The app reads 50 MB in 64 KiB chunks; the SDK keeps at most the limit, and the event notes the size."""
    transport = _init()
    size = 50 * 1024 * 1024
    digest = hashlib.sha256()

    def upload(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        while True:
            chunk = stream.read(65536)
            if not chunk:
                break
            digest.update(chunk)
        raise OSError("disk full")

    environ = _environ(method="PUT", content_type="application/octet-stream")
    environ["wsgi.input"] = io.BufferedReader(_Generated(size), buffer_size=65536)
    environ["CONTENT_LENGTH"] = str(size)
    tracemalloc.start()
    try:
        with pytest.raises(OSError):
            _call(SentryWsgiMiddleware(upload), environ)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert hashlib.sha256(b"z" * size).hexdigest() == digest.hexdigest()
    assert peak < 4 * 1024 * 1024, f"peak traced memory {peak} bytes"
    (event,) = transport.events
    assert {"rem": [["!config", "x"]]} == event["_meta"]["request"]["data"][""]


def test_a_client_that_disconnects_mid_body_gives_the_app_the_same_error() -> None:
    """The stream's own error reaches the app unchanged; the app's failure is one well-formed event."""
    transport = _init()

    class Dropped(io.RawIOBase):
        sent = False

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            if not self.sent:
                self.sent = True
                buffer[:5] = b"hello"
                return 5
            raise ConnectionResetError("client went away")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        assert b"hello" == stream.read(5)
        stream.read(100)
        return [b""]

    environ = _environ(method="POST", content_type="text/plain")
    environ["wsgi.input"] = Dropped()
    environ["CONTENT_LENGTH"] = "1000"
    with pytest.raises(ConnectionResetError, match="client went away"):
        _call(SentryWsgiMiddleware(app), environ)

    (event,) = transport.events
    assert "ConnectionResetError" == event["exception"]["values"][0]["type"]
    assert "hello" == event["request"]["data"]


def test_non_utf8_bytes_in_path_query_and_headers_give_a_well_formed_event() -> None:
    """Latin-1-decoded WSGI strings that are not UTF-8 are shown with replacement characters."""
    transport = _init()
    environ = _environ(path="/caf\xe9", query="q=\xff\xfe", USER_AGENT="agent \xc3")
    with pytest.raises(ZeroDivisionError):
        _call(SentryWsgiMiddleware(_failing), environ)

    (event,) = transport.events
    assert "http://app.example/caf\ufffd" == event["request"]["url"]
    assert "q=\ufffd\ufffd" == event["request"]["query_string"]
    assert "agent \ufffd" == event["request"]["headers"]["User-Agent"]


def test_utf8_paths_are_decoded() -> None:
    """A UTF-8 path (passed by the server as latin-1 text, as WSGI says) is shown as the text it is."""
    transport = _init()
    with pytest.raises(ZeroDivisionError):
        _call(SentryWsgiMiddleware(_failing), _environ(path="/caf\xc3\xa9"))
    assert "http://app.example/caf\xe9" == transport.events[0]["request"]["url"]


def test_nested_middlewares_report_a_failure_once() -> None:
    """An app wrapped twice (say, by a framework integration and by hand) gives one event."""
    transport = _init()
    with pytest.raises(ZeroDivisionError):
        _call(SentryWsgiMiddleware(SentryWsgiMiddleware(_failing)), _environ())
    assert 1 == len(transport.events)


def test_a_name_set_by_the_app_wins_over_the_path() -> None:
    """set_transaction_name inside the request names its events (source custom)."""
    transport = _init()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        sentry_sdk.set_transaction_name("checkout")
        raise ValueError("x")

    with pytest.raises(ValueError):
        _call(SentryWsgiMiddleware(app), _environ())
    (event,) = transport.events
    assert ("checkout", {"source": "custom"}) == (event["transaction"], event["transaction_info"])


def test_bad_middleware_arguments_raise_at_construction() -> None:
    """A non-callable app or a method list that is not strings is refused when the middleware is made."""
    with pytest.raises(TypeError, match="WSGI application"):
        SentryWsgiMiddleware("not an app")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="http_methods_to_capture"):
        SentryWsgiMiddleware(_failing, http_methods_to_capture=[1])  # type: ignore[list-item]


def test_the_sdks_own_wrapper_frames_carry_no_local_variables() -> None:
    """The traceback passes through the SDK's request runner: that frame is kept (with its source),
    but its locals (the client, its options, the environ again) are not sent; the app's are."""
    transport = _init()

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        order_id = 7
        raise RuntimeError(f"order {order_id} failed")

    with pytest.raises(RuntimeError):
        _call(SentryWsgiMiddleware(app), _environ())
    (event,) = transport.events
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    runner = next(f for f in frames if f["module"] == "sentry_sdk.integrations._web.wsgi")
    assert "vars" not in runner and "context_line" in runner
    assert 7 == frames[-1]["vars"]["order_id"]
