"""SentryAsgiMiddleware: an ASGI app's failures reported, each connection isolated, the app unchanged."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import socket
import threading
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from frameworks import require

import sentry_sdk
from sentry_sdk.integrations.asgi import SentryAsgiMiddleware
from sentry_sdk.testing import CapturingTransport

httpx = require("httpx")
uvicorn = require("uvicorn")

Message = dict[str, Any]


def _init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    sentry_sdk.init(transport=transport, **options)
    return transport


def _scope(
    path: str = "/items/7",
    method: str = "GET",
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    kind: str = "http",
) -> dict[str, Any]:
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http" if kind == "http" else "ws",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"app.example"), *(headers or [])],
        "client": ("203.0.113.9", 51000),
        "server": ("app.example", 80),
    }


def _feeder(*messages: Message) -> Any:
    """A ``receive`` that hands out ``messages`` in order, then fails the test if asked again."""
    queue = list(messages)

    async def receive() -> Message:
        if not queue:
            raise AssertionError("receive() called after the last message: it would hang a real server")
        return queue.pop(0)

    return receive


async def _call(app: Any, scope: dict[str, Any], *messages: Message) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, _feeder(*messages), send), timeout=10)
    return sent


def _run(app: Any, scope: dict[str, Any], *messages: Message) -> list[Message]:
    return asyncio.run(_call(app, scope, *messages))


def _request(body: bytes = b"", more_body: bool = False) -> Message:
    return {"type": "http.request", "body": body, "more_body": more_body}


async def _reply(send: Any, text: bytes = b"ok", status: int = 200) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]}
    )
    await send({"type": "http.response.body", "body": text})


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise OSError("client disconnected")
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _failing(scope: dict[str, Any], receive: Any, send: Any) -> None:
    raise ZeroDivisionError("the app failed")


# -- errors ------------------------------------------------------------------------------------------


def test_an_exception_escaping_the_app_is_one_unhandled_event_with_the_request_and_is_re_raised() -> None:
    """The app's own exception object propagates; the event has mechanism asgi, handled false, the request."""
    transport = _init()
    raised: list[BaseException] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        error = KeyError("missing")
        raised.append(error)
        raise error

    scope = _scope(query=b"page=2", headers=[(b"user-agent", b"tests")])
    with pytest.raises(KeyError) as info:
        _run(SentryAsgiMiddleware(app), scope, _request())

    assert raised == [info.value]
    (event,) = transport.events
    (exception,) = event["exception"]["values"]
    assert ("KeyError", {"type": "asgi", "handled": False}) == (
        exception["type"],
        {k: exception["mechanism"][k] for k in ("type", "handled")},
    )
    assert "error" == event["level"]
    assert {
        "url": "http://app.example/items/7",
        "method": "GET",
        "query_string": "page=2",
        "headers": {"Host": "app.example", "User-Agent": "tests"},
        "env": {"SERVER_NAME": "app.example", "SERVER_PORT": "80"},
    } == event["request"]
    # Named after the full URL without the query, as sentry-sdk's ASGI middleware does.
    assert ("http://app.example/items/7", {"source": "url"}) == (
        event["transaction"],
        event["transaction_info"],
    )


def test_a_root_path_is_in_the_url_once_whether_or_not_the_server_put_it_in_the_path() -> None:
    """``root_path="/api"`` with ``path="/api/items/7"`` (uvicorn today) or ``"/items/7"`` (older servers)."""
    transport = _init()
    for path in ("/api/items/7", "/items/7"):
        scope = _scope(path=path)
        scope["root_path"] = "/api"
        with pytest.raises(ZeroDivisionError):
            _run(SentryAsgiMiddleware(_failing), scope, _request())

    assert ["http://app.example/api/items/7"] * 2 == [event["request"]["url"] for event in transport.events]
    assert ["http://app.example/api/items/7"] * 2 == [event["transaction"] for event in transport.events]


def test_a_successful_request_is_unchanged_and_sends_nothing() -> None:
    """The app's messages reach the server as they are; no event is sent."""
    transport = _init()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert b"hello" == await _read_body(receive)
        await _reply(send, b"fine")

    sent = _run(SentryAsgiMiddleware(app), _scope(method="POST"), _request(b"hel", True), _request(b"lo"))

    assert [200, b"fine"] == [sent[0]["status"], sent[1]["body"]]
    assert [] == transport.events


def test_without_a_client_the_middleware_hands_the_app_the_servers_own_receive() -> None:
    """No client bound: the call is a plain pass-through (the very same receive and send)."""
    seen: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.extend((receive, send))

    async def receive() -> Message:
        return _request()

    async def send(message: Message) -> None:
        pass

    asyncio.run(SentryAsgiMiddleware(app)(_scope(method="POST"), receive, send))

    assert [receive, send] == seen


def test_lifespan_and_other_scopes_pass_straight_through() -> None:
    """A lifespan scope reaches the app with the server's receive and send, and forks no request scope."""
    transport = _init()
    seen: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        from sentry_sdk.integrations._web.context import current_request

        seen.extend((receive, send, current_request()))
        raise RuntimeError("startup failed")

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        pass

    with pytest.raises(RuntimeError):
        asyncio.run(
            SentryAsgiMiddleware(app)({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
        )

    assert [receive, send, None] == seen
    assert [] == transport.events  # lifespan failures are the server's to report


def test_a_websocket_connection_runs_isolated_and_its_failure_is_reported() -> None:
    """Websocket messages pass through untouched; a failing handler is one event with the ws URL."""
    transport = _init()
    received: list[Message] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        received.append(await receive())
        await send({"type": "websocket.accept"})
        received.append(await receive())
        sentry_sdk.set_tag("socket", "yes")
        raise ConnectionAbortedError("socket handler failed")

    scope = _scope(path="/live", kind="websocket")
    with pytest.raises(ConnectionAbortedError):
        _run(
            SentryAsgiMiddleware(app),
            scope,
            {"type": "websocket.connect"},
            {"type": "websocket.receive", "text": "hi"},
        )

    assert [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "hi"}] == received
    (event,) = transport.events
    assert "ws://app.example/live" == event["request"]["url"]
    assert "method" not in event["request"]
    assert {"socket": "yes"} == event["tags"]
    assert {} == sentry_sdk.get_isolation_scope()._tags


def test_an_asgi2_double_callable_app_is_supported() -> None:
    """``app(scope)`` returning ``instance(receive, send)`` works, and its failures are reported."""
    transport = _init()

    class Asgi2App:
        def __init__(self, scope: dict[str, Any]) -> None:
            self.scope = scope

        async def __call__(self, receive: Any, send: Any) -> None:
            if self.scope["path"] == "/fail":
                raise LookupError("asgi2 failed")
            await _reply(send, b"asgi2")

    sent = _run(SentryAsgiMiddleware(Asgi2App), _scope(path="/ok"), _request())
    with pytest.raises(LookupError):
        _run(SentryAsgiMiddleware(Asgi2App), _scope(path="/fail"), _request())

    assert b"asgi2" == sent[1]["body"]
    assert ["LookupError"] == [event["exception"]["values"][0]["type"] for event in transport.events]


def test_nested_middlewares_report_a_failure_once() -> None:
    """Two SentryAsgiMiddleware around one app: one request scope, one event (the outer one's mechanism)."""
    transport = _init()
    app = SentryAsgiMiddleware(SentryAsgiMiddleware(_failing, mechanism_type="inner"), mechanism_type="outer")

    with pytest.raises(ZeroDivisionError):
        _run(app, _scope(), _request())

    assert ["outer"] == [event["exception"]["values"][0]["mechanism"]["type"] for event in transport.events]


# -- options -----------------------------------------------------------------------------------------


def test_transaction_style_endpoint_names_events_after_the_endpoint_in_the_scope() -> None:
    """With ``"endpoint"``, a framework's ``scope["endpoint"]`` names the event (source component)."""
    transport = _init()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["endpoint"] = _failing
        await _failing(scope, receive, send)

    with pytest.raises(ZeroDivisionError):
        _run(SentryAsgiMiddleware(app, transaction_style="endpoint"), _scope(), _request())
    with pytest.raises(ZeroDivisionError):
        _run(SentryAsgiMiddleware(_failing, transaction_style="endpoint"), _scope(path="/bare"), _request())

    named, unnamed = transport.events
    assert (f"{__name__}._failing", {"source": "component"}) == (
        named["transaction"],
        named["transaction_info"],
    )
    assert ("http://app.example/bare", {"source": "url"}) == (
        unnamed["transaction"],
        unnamed["transaction_info"],
    )


def test_a_name_set_by_the_app_wins_over_the_url() -> None:
    """``set_transaction_name`` inside the request names its events."""
    transport = _init()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        sentry_sdk.set_transaction_name("checkout", source="custom")
        raise ValueError("payment failed")

    with pytest.raises(ValueError):
        _run(SentryAsgiMiddleware(app), _scope(), _request())

    (event,) = transport.events
    assert ("checkout", {"source": "custom"}) == (event["transaction"], event["transaction_info"])


def test_bad_middleware_arguments_raise_at_construction() -> None:
    """A wrong transaction_style names the valid values; a non-callable app or method list is refused."""
    with pytest.raises(ValueError, match="'endpoint', 'url'"):
        SentryAsgiMiddleware(_failing, transaction_style="route")
    with pytest.raises(TypeError):
        SentryAsgiMiddleware("not an app")
    with pytest.raises(TypeError):
        SentryAsgiMiddleware(_failing, http_methods_to_capture="GET")
    middleware = SentryAsgiMiddleware(_failing, unsafe_context_data=True, span_origin="auto.http.asgi")
    assert ("url", "asgi", "auto.http.asgi") == (
        middleware.transaction_style,
        middleware.mechanism_type,
        middleware.span_origin,
    )


# -- isolation ---------------------------------------------------------------------------------------


def test_concurrent_asyncio_requests_each_carry_only_their_own_data() -> None:
    """Twenty requests interleaved on one event loop: each event has its own tag, user and breadcrumb only."""
    transport = _init()
    sentry_sdk.add_breadcrumb(message="app started")
    count = 20
    inside = 0
    all_inside = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal inside
        number = scope["path"].rsplit("/", 1)[1]
        sentry_sdk.set_tag("request_number", number)
        sentry_sdk.set_user({"id": number})
        sentry_sdk.add_breadcrumb(message=f"request {number}")
        inside += 1
        if inside == count:
            all_inside.set()
        await all_inside.wait()  # every request has set its data before any fails
        raise ValueError(f"request {number} failed")

    async def main() -> list[int]:
        transport_ = httpx.ASGITransport(app=SentryAsgiMiddleware(app), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport_, base_url="http://app.example") as client:
            responses = await asyncio.gather(*(client.get(f"/jobs/{n}") for n in range(count)))
        return [response.status_code for response in responses]

    assert [500] * count == asyncio.run(main())
    assert count == len(transport.events)
    for event in transport.events:
        number = event["tags"]["request_number"]
        assert {"request_number": number} == event["tags"]
        assert {"id": number} == event["user"]
        assert f"request {number} failed" == event["exception"]["values"][0]["value"]
        assert ["app started", f"request {number}"] == [c["message"] for c in event["breadcrumbs"]["values"]]
    assert sorted(str(n) for n in range(count)) == sorted(
        e["tags"]["request_number"] for e in transport.events
    )
    # Nothing a request set piled up on the process scope.
    assert ["app started"] == [crumb["message"] for crumb in sentry_sdk.get_isolation_scope().breadcrumbs]


# -- request data and privacy ------------------------------------------------------------------------


def test_without_pii_no_cookies_no_address_and_credential_headers_are_filtered() -> None:
    """Authorization, Cookie and X-Forwarded-For values are [Filtered]; no cookies, REMOTE_ADDR or user."""
    transport = _init()
    headers = [
        (b"authorization", b"Bearer secret"),
        (b"cookie", b"session=abc"),
        (b"x-forwarded-for", b"198.51.100.4"),
    ]

    with pytest.raises(ZeroDivisionError):
        _run(SentryAsgiMiddleware(_failing), _scope(headers=headers), _request())

    (event,) = transport.events
    request = event["request"]
    assert {
        "Host": "app.example",
        "Authorization": "[Filtered]",
        "Cookie": "[Filtered]",
        "X-Forwarded-For": "[Filtered]",
    } == request["headers"]
    assert "cookies" not in request
    assert "REMOTE_ADDR" not in request["env"]
    assert "user" not in event


def test_with_pii_cookies_and_the_client_address_are_sent() -> None:
    """With send_default_pii: parsed cookies, REMOTE_ADDR, and user.ip_address from the scope's client."""
    transport = _init(send_default_pii=True)

    with pytest.raises(ZeroDivisionError):
        _run(
            SentryAsgiMiddleware(_failing),
            _scope(headers=[(b"cookie", b"theme=dark; lang=en")]),
            _request(),
        )

    (event,) = transport.events
    assert {"theme": "dark", "lang": "en"} == event["request"]["cookies"]
    assert "203.0.113.9" == event["request"]["env"]["REMOTE_ADDR"]
    assert {"ip_address": "203.0.113.9"} == event["user"]


def test_a_json_body_the_app_read_is_on_the_event_parsed() -> None:
    """The app reads the body in two messages; the event has the JSON parsed."""
    transport = _init()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        json.loads(await _read_body(receive))
        raise RuntimeError("order rejected")

    body = b'{"order": 7, "items": ["a", "b"]}'
    scope = _scope(
        method="POST",
        headers=[(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    )
    with pytest.raises(RuntimeError):
        _run(SentryAsgiMiddleware(app), scope, _request(body[:10], True), _request(body[10:]))

    assert {"order": 7, "items": ["a", "b"]} == transport.events[0]["request"]["data"]


def test_a_body_the_app_did_not_read_is_read_for_the_event_when_it_fits() -> None:
    """The app fails before receiving; the event still has the body (it fits the limit, its length is set)."""
    transport = _init()
    body = b"name=ada&lang=en"
    scope = _scope(
        method="POST",
        headers=[
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ],
    )

    with pytest.raises(ZeroDivisionError):
        _run(SentryAsgiMiddleware(_failing), scope, _request(body[:4], True), _request(body[4:]))

    assert {"name": "ada", "lang": "en"} == transport.events[0]["request"]["data"]


def test_a_body_over_the_limit_is_left_out_with_a_note() -> None:
    """Over ``max_request_body_size``: ``data`` is empty and ``_meta`` says why; nothing is read for it."""
    transport = _init(max_request_body_size="small")
    body = b"x" * 5000
    scope = _scope(method="POST", headers=[(b"content-type", b"text/plain"), (b"content-length", b"5000")])

    # Only one message is available: reading ahead for the event would fail the test.
    with pytest.raises(ZeroDivisionError):
        _run(SentryAsgiMiddleware(_failing), scope, _request(body))

    (event,) = transport.events
    assert "" == event["request"]["data"]
    assert {"rem": [["!config", "x"]]} == event["_meta"]["request"]["data"][""]


# -- bad input ---------------------------------------------------------------------------------------


def test_a_client_that_disconnects_mid_body_gives_the_app_the_same_messages_and_nothing_hangs() -> None:
    """``http.request`` (more_body) then ``http.disconnect``: the app sees just that; no third receive."""
    transport = _init()
    seen: list[list[Message]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        messages = [await receive(), await receive()]
        seen.append(messages)
        raise OSError("client went away")

    scope = _scope(method="POST", headers=[(b"content-type", b"text/plain"), (b"content-length", b"100")])
    feed = (_request(b"hello", True), {"type": "http.disconnect"})
    for wrapped in (app, SentryAsgiMiddleware(app)):
        with pytest.raises(OSError, match="client went away"):
            _run(wrapped, scope, *feed)

    assert seen[0] == seen[1] == list(feed)
    (event,) = transport.events
    assert "OSError" == event["exception"]["values"][0]["type"]
    assert "hello" == event["request"]["data"]


def test_a_client_gone_before_the_app_read_anything_does_not_hang_the_event() -> None:
    """The app fails without receiving; the SDK's read for the event stops at the disconnect."""
    transport = _init()
    scope = _scope(method="POST", headers=[(b"content-type", b"text/plain"), (b"content-length", b"100")])

    with pytest.raises(ZeroDivisionError):
        _run(SentryAsgiMiddleware(_failing), scope, _request(b"par", True), {"type": "http.disconnect"})

    assert "par" == transport.events[0]["request"]["data"]


class _Stream:
    """A ``receive`` that streams ``size`` bytes of b"z" in 64 KiB messages without holding them."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.chunk = b"z" * 65536

    async def __call__(self) -> Message:
        piece = self.chunk if self.left >= len(self.chunk) else self.chunk[: self.left]
        self.left -= len(piece)
        return _request(piece, more_body=self.left > 0)


def test_a_50_mb_body_streamed_in_chunks_reaches_the_app_whole_and_is_not_held() -> None:
    """The app receives all 50 MB; the SDK keeps at most the limit, and the event notes the size."""
    transport = _init()
    size = 50 * 1024 * 1024
    digest = hashlib.sha256()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            digest.update(message["body"])
            if not message["more_body"]:
                break
        raise OSError("disk full")

    async def send(message: Message) -> None:
        pass

    scope = _scope(
        method="PUT",
        headers=[(b"content-type", b"application/octet-stream"), (b"content-length", str(size).encode())],
    )
    tracemalloc.start()
    try:
        with pytest.raises(OSError):
            asyncio.run(SentryAsgiMiddleware(app)(scope, _Stream(size), send))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert hashlib.sha256(b"z" * size).hexdigest() == digest.hexdigest()
    assert peak < 4 * 1024 * 1024, f"peak traced memory {peak} bytes"
    (event,) = transport.events
    assert "" == event["request"]["data"]
    assert {"rem": [["!config", "x"]]} == event["_meta"]["request"]["data"][""]
    assert "z" * 10_001 not in json.dumps(event)  # no more of the body than the limit, anywhere


def test_non_utf8_bytes_in_path_query_and_headers_give_a_well_formed_event() -> None:
    """Bytes that are not UTF-8 are shown with replacement characters, never raised on."""
    transport = _init()
    scope = _scope(
        path="/caf\ufffd", query=b"q=\xff\xfe", headers=[(b"x-name", b"\xe9t\xe9"), (b"\xff-odd", b"v")]
    )

    with pytest.raises(ZeroDivisionError):
        _run(SentryAsgiMiddleware(_failing), scope, _request())

    request = transport.events[0]["request"]
    assert "http://app.example/caf\ufffd" == request["url"]  # as uvicorn decodes /caf%E9
    assert "q=\ufffd\ufffd" == request["query_string"]
    assert "\ufffdt\ufffd" == request["headers"]["X-Name"]


# -- a real server -----------------------------------------------------------------------------------


@contextmanager
def serve(app: Any) -> Iterator[int]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port) in a thread; yields the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started or not thread.is_alive():
                break
            thread.join(0.01)
        assert server.started, "uvicorn did not start"
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_failure_under_uvicorn_is_one_event_and_the_client_still_gets_its_500() -> None:
    """Through a real uvicorn server on 127.0.0.1: one event (uvicorn's own error log adds none), a 500."""
    sent = threading.Event()

    def before_send(event: Any, hint: Any) -> Any:
        sent.set()
        return event

    transport = _init(default_integrations=True, auto_enabling_integrations=False, before_send=before_send)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        sentry_sdk.set_tag("served_by", "uvicorn")
        await _read_body(receive)
        raise PermissionError("no entry")

    with serve(SentryAsgiMiddleware(app)) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(
            "POST", "/door?knock=1", body=b'{"who": "me"}', headers={"Content-Type": "application/json"}
        )
        status = connection.getresponse().status
        connection.close()
        assert sent.wait(10)

    assert 500 == status
    (event,) = transport.events
    assert "PermissionError" == event["exception"]["values"][0]["type"]
    assert {"served_by": "uvicorn"} == event["tags"]
    assert f"http://127.0.0.1:{port}/door" == event["request"]["url"]
    assert ("knock=1", {"who": "me"}) == (event["request"]["query_string"], event["request"]["data"])
