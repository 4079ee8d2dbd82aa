"""StarletteIntegration: every Starlette app's failures sent once, with route, request and user, isolated."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import socket
import threading
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from frameworks import require

import sentry_sdk
from sentry_sdk.integrations import DidNotEnable
from sentry_sdk.integrations.starlette import StarletteIntegration
from sentry_sdk.testing import CapturingTransport

starlette = require("starlette")
httpx = require("httpx")
uvicorn = require("uvicorn")

from starlette.applications import Starlette  # noqa: E402
from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser  # noqa: E402
from starlette.exceptions import HTTPException  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from starlette.middleware.authentication import AuthenticationMiddleware  # noqa: E402
from starlette.middleware.base import BaseHTTPMiddleware  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse, PlainTextResponse, Response  # noqa: E402
from starlette.routing import Mount, Route, WebSocketRoute  # noqa: E402
from starlette.websockets import WebSocket  # noqa: E402

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient and warns once, at import, when it finds httpx.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient


def _init(integration: StarletteIntegration | None = None, **options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    options.setdefault("auto_enabling_integrations", False)
    sentry_sdk.init(transport=transport, integrations=[integration or StarletteIntegration()], **options)
    return transport


# -- the app the tests use ---------------------------------------------------------------------------


async def read_item(request: Request) -> Response:
    sentry_sdk.set_tag("item", request.path_params["item_id"])
    if request.method == "POST":
        await request.json()
    raise ValueError(f"item {request.path_params['item_id']} is broken")


async def not_found(request: Request) -> Response:
    raise HTTPException(404, "no such thing")


async def teapot(request: Request) -> Response:
    raise HTTPException(int(request.path_params["status"]), "status on purpose")


async def submit(request: Request) -> Response:
    async with request.form() as form:  # closes uploaded files, also when the endpoint fails
        sentry_sdk.set_tag("fields", ",".join(sorted(form.keys())))
        raise RuntimeError("form rejected")


async def unread(request: Request) -> Response:
    raise RuntimeError("failed before reading the body")


def sync_view(request: Request) -> Response:
    sentry_sdk.set_tag("sync", request.query_params["n"])
    raise LookupError(f"sync {request.query_params['n']} failed")


async def fine(request: Request) -> Response:
    return PlainTextResponse("fine")


async def whoami(request: Request) -> Response:
    raise PermissionError("user view failed")


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("echo: " + await websocket.receive_text())
    await websocket.close()


def make_app(**kwargs: Any) -> Starlette:
    sub = Starlette(routes=[Route("/things/{thing_id:int}", read_item)])
    return Starlette(
        routes=[
            Route("/items/{item_id}", read_item, methods=["GET", "POST"]),
            Route("/missing", not_found),
            Route("/status/{status}", teapot),
            Route("/submit", submit, methods=["POST"]),
            Route("/unread", unread, methods=["POST"]),
            Route("/sync", sync_view),
            Route("/fine", fine),
            Route("/whoami", whoami),
            WebSocketRoute("/ws", echo),
            Mount("/api/{version}", app=sub),
        ],
        **kwargs,
    )


def _client(app: Any) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def _exception(event: dict[str, Any]) -> dict[str, Any]:
    (exception,) = event["exception"]["values"]
    return exception


# -- errors ------------------------------------------------------------------------------------------


def test_an_unhandled_error_is_one_event_with_route_and_request_and_the_client_gets_starlettes_500() -> None:
    """One event (logging on): mechanism starlette, handled false, the route as transaction; same 500."""
    app = make_app()
    before = _client(app).get("/items/42?full=1")  # no client bound: the app as without the SDK
    transport = _init(default_integrations=True)
    response = _client(app).get("/items/42?full=1", headers={"user-agent": "tests"})

    assert (before.status_code, before.text, before.headers) == (
        response.status_code,
        response.text,
        response.headers,
    )
    assert (500, "Internal Server Error") == (response.status_code, response.text)
    (event,) = transport.events
    exception = _exception(event)
    assert ("ValueError", "item 42 is broken") == (exception["type"], exception["value"])
    assert ("starlette", False) == (exception["mechanism"]["type"], exception["mechanism"]["handled"])
    assert "read_item" == exception["stacktrace"]["frames"][-1]["function"]
    assert ("/items/{item_id}", {"source": "route"}) == (event["transaction"], event["transaction_info"])
    assert {"item": "42"} == event["tags"]
    request = event["request"]
    assert ("http://testserver/items/42", "GET", "full=1") == (
        request["url"],
        request["method"],
        request["query_string"],
    )
    assert "tests" == request["headers"]["User-Agent"]


def test_with_raise_server_exceptions_the_test_client_still_gets_the_same_exception_once() -> None:
    """ServerErrorMiddleware re-raises after its 500; the exception reaches the caller and is sent once."""
    transport = _init()

    with pytest.raises(ValueError, match="item 1 is broken"):
        TestClient(make_app()).get("/items/1")

    assert 1 == len(transport.events)


def test_routes_under_a_mount_are_named_with_the_mount_prefix() -> None:
    """A route of a mounted sub-app is named by its full template, mount included, and its URL is right."""
    transport = _init()

    _client(make_app()).get("/api/v2/things/5")

    (event,) = transport.events
    assert "/api/{version}/things/{thing_id:int}" == event["transaction"]
    assert "http://testserver/api/v2/things/5" == event["request"]["url"]


def test_transaction_style_endpoint_names_events_after_the_endpoint_function() -> None:
    """With ``"endpoint"``: the endpoint's module.qualname, source component."""
    transport = _init(StarletteIntegration(transaction_style="endpoint"))

    _client(make_app()).get("/items/1")

    (event,) = transport.events
    assert (f"{read_item.__module__}.read_item", {"source": "component"}) == (
        event["transaction"],
        event["transaction_info"],
    )


def test_http_exceptions_are_reported_only_for_failed_request_status_codes() -> None:
    """4xx HTTPExceptions are not sent; a 5xx one is sent with handled true; the responses are unchanged."""
    transport = _init()
    client = _client(make_app())

    missing = client.get("/missing")
    bad = client.get("/status/400")
    unavailable = client.get("/status/503")

    assert [(404, "no such thing"), (400, "status on purpose"), (503, "status on purpose")] == [
        (r.status_code, r.text) for r in (missing, bad, unavailable)
    ]
    (event,) = transport.events
    exception = _exception(event)
    assert ("HTTPException", "starlette", True) == (
        exception["type"],
        exception["mechanism"]["type"],
        exception["mechanism"]["handled"],
    )
    assert "/status/{status}" == event["transaction"]


def test_an_app_that_served_requests_before_init_reports_failed_statuses_after_it() -> None:
    """The middleware stack was built before ``init``: a 503 HTTPException is still reported after it."""
    app = make_app()
    assert 503 == _client(app).get("/status/503").status_code
    transport = _init()

    _client(app).get("/status/503")

    assert ["503: status on purpose"] == [_exception(event)["value"] for event in transport.events]


def test_inside_sentry_asgi_middleware_the_app_is_still_named_by_route_and_reports_once() -> None:
    """A user's SentryAsgiMiddleware around a Starlette app: one request scope, one event, the route name."""
    from sentry_sdk.integrations.asgi import SentryAsgiMiddleware

    transport = _init()

    _client(SentryAsgiMiddleware(make_app())).get("/items/8")

    (event,) = transport.events
    assert ("/items/{item_id}", {"source": "route"}) == (event["transaction"], event["transaction_info"])
    assert "starlette" == _exception(event)["mechanism"]["type"]


def test_a_custom_failed_request_status_codes_set_changes_what_is_reported() -> None:
    """``failed_request_status_codes={404}``: the 404 is sent, a 503 HTTPException is not."""
    transport = _init(StarletteIntegration(failed_request_status_codes={404}))
    client = _client(make_app())

    client.get("/missing")
    client.get("/status/503")

    assert ["404: no such thing"] == [_exception(event)["value"] for event in transport.events]


def test_a_custom_exception_handler_still_answers_and_the_report_follows_the_status() -> None:
    """User handlers (by status and by class) run as before; the failed statuses are reported through them."""
    transport = _init()

    def on_404(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "gone"}, status_code=404)

    async def on_http(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "server"}, status_code=getattr(exc, "status_code", 500))

    client = _client(make_app(exception_handlers={404: on_404, HTTPException: on_http}))
    missing, unavailable = client.get("/missing"), client.get("/status/502")

    assert [(404, {"error": "gone"}), (502, {"error": "server"})] == [
        (r.status_code, r.json()) for r in (missing, unavailable)
    ]
    assert ["502: status on purpose"] == [_exception(event)["value"] for event in transport.events]


def test_an_error_behind_a_base_http_middleware_is_one_event_with_what_the_endpoint_set() -> None:
    """BaseHTTPMiddleware runs the endpoint in another task: its tags are still on the one event."""
    transport = _init()

    async def dispatch(request: Request, call_next: Any) -> Response:
        sentry_sdk.set_tag("middleware", "ran")
        return await call_next(request)

    response = _client(make_app(middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)])).get(
        "/items/3"
    )

    assert 500 == response.status_code
    (event,) = transport.events
    assert {"middleware": "ran", "item": "3"} == event["tags"]
    assert "/items/{item_id}" == event["transaction"]


def test_a_sync_endpoint_run_in_the_threadpool_keeps_the_requests_scope() -> None:
    """A ``def`` endpoint runs in a worker thread: its tag is on its own event, and on no other."""
    transport = _init()
    client = _client(make_app())

    client.get("/sync?n=1")
    client.get("/sync?n=2")

    assert [("1", {"sync": "1"}), ("2", {"sync": "2"})] == [
        (_exception(event)["value"][5], event["tags"]) for event in transport.events
    ]
    assert {} == sentry_sdk.get_isolation_scope()._tags


def test_without_the_integration_enabled_apps_are_left_alone() -> None:
    """Once set up, the patches do nothing for a client that does not enable the integration."""
    _init()
    transport = CapturingTransport()
    sentry_sdk.init(transport=transport, default_integrations=False, auto_enabling_integrations=False)

    response = _client(make_app()).get("/items/1")

    assert 500 == response.status_code
    assert [] == transport.events


def test_bad_options_raise_at_construction_and_an_old_starlette_does_not_enable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bad transaction_style names the valid values; non-int codes: TypeError; old Starlette: DidNotEnable."""
    with pytest.raises(ValueError, match="'endpoint', 'url'"):
        StarletteIntegration(transaction_style="function_name")
    with pytest.raises(TypeError):
        StarletteIntegration(failed_request_status_codes={"500"})
    integration = StarletteIntegration(
        failed_request_status_codes=[range(500, 503), 418], middleware_spans=False
    )
    assert frozenset({500, 501, 502, 418}) == integration.failed_request_status_codes
    assert (False, "starlette") == (integration.middleware_spans, integration.identifier)

    monkeypatch.setattr(starlette, "__version__", "0.19.0")
    with pytest.raises(DidNotEnable, match=r"^Starlette 0\.19\.0 found; 0\.19\.1 or newer is required$"):
        StarletteIntegration.setup_once()


# -- isolation ---------------------------------------------------------------------------------------


def test_concurrent_asyncio_requests_each_carry_only_their_own_tag() -> None:
    """Twenty requests interleaved on one loop (httpx ASGITransport): each event has its own tag only."""
    transport = _init()
    count = 20
    inside = 0
    all_inside = asyncio.Event()

    async def job(request: Request) -> Response:
        nonlocal inside
        number = request.path_params["n"]
        sentry_sdk.set_tag("job", number)
        sentry_sdk.add_breadcrumb(message=f"job {number}")
        inside += 1
        if inside == count:
            all_inside.set()
        await all_inside.wait()  # every request has set its tag before any fails
        raise ValueError(f"job {number} failed")

    app = Starlette(routes=[Route("/jobs/{n}", job)])
    sentry_sdk.add_breadcrumb(message="app started")

    async def main() -> list[int]:
        asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=asgi, base_url="http://testserver") as client:
            responses = await asyncio.gather(*(client.get(f"/jobs/{n}") for n in range(count)))
        return [response.status_code for response in responses]

    assert [500] * count == asyncio.run(main())
    assert count == len(transport.events)
    for event in transport.events:
        number = event["tags"]["job"]
        assert ({"job": number}, f"job {number} failed") == (event["tags"], _exception(event)["value"])
        assert ["app started", f"job {number}"] == [
            crumb["message"] for crumb in event["breadcrumbs"]["values"]
        ]
        assert "/jobs/{n}" == event["transaction"]
    assert sorted(str(n) for n in range(count)) == sorted(event["tags"]["job"] for event in transport.events)
    assert ["app started"] == [crumb["message"] for crumb in sentry_sdk.get_isolation_scope().breadcrumbs]


# -- request data and privacy ------------------------------------------------------------------------


class _TokenBackend(AuthenticationBackend):
    async def authenticate(self, conn: Any) -> tuple[AuthCredentials, SimpleUser] | None:
        if "authorization" not in conn.headers:
            return None
        return AuthCredentials(["authenticated"]), SimpleUser("ada")


def _auth_app() -> Starlette:
    return make_app(middleware=[Middleware(AuthenticationMiddleware, backend=_TokenBackend())])


def test_without_pii_no_cookies_no_address_and_no_user() -> None:
    """Without send_default_pii: credential headers filtered, no cookies, no client address, no user."""
    transport = _init()

    _client(_auth_app()).get("/whoami", headers={"authorization": "Bearer t", "cookie": "theme=dark"})

    (event,) = transport.events
    request = event["request"]
    assert ("[Filtered]", "[Filtered]") == (request["headers"]["Authorization"], request["headers"]["Cookie"])
    assert "cookies" not in request and "REMOTE_ADDR" not in request["env"]
    assert "user" not in event


def test_with_pii_the_authenticated_user_cookies_and_address_are_sent() -> None:
    """With send_default_pii: the AuthenticationMiddleware user (identity, display name), ip, cookies."""
    transport = _init(send_default_pii=True)
    client = TestClient(_auth_app(), raise_server_exceptions=False, client=("203.0.113.9", 51000))

    client.get("/whoami", headers={"authorization": "Bearer t", "cookie": "theme=dark"})
    client.get("/whoami")  # anonymous: UnauthenticatedUser is not reported

    signed_in, anonymous = transport.events
    assert {"id": "ada", "username": "ada", "ip_address": "203.0.113.9"} == signed_in["user"]
    assert {"theme": "dark"} == signed_in["request"]["cookies"]
    assert {"ip_address": "203.0.113.9"} == anonymous["user"]


def test_a_json_body_the_endpoint_read_is_on_the_event() -> None:
    """``await request.json()`` in the endpoint: the event has the JSON parsed."""
    transport = _init()

    _client(make_app()).post("/items/9", json={"name": "widget", "tags": ["a"]})

    assert {"name": "widget", "tags": ["a"]} == transport.events[0]["request"]["data"]


def test_form_fields_are_on_the_event_and_uploaded_files_by_name_only() -> None:
    """Starlette's parsed form (python-multipart): fields as a dict, a file's field without its contents."""
    require("python_multipart")
    transport = _init()
    client = _client(make_app())

    client.post("/submit", data={"name": "ada", "lang": "en"})
    client.post(
        "/submit", data={"title": "report"}, files={"upload": ("secret.txt", b"file contents", "text/plain")}
    )

    urlencoded, multipart = transport.events
    assert {"name": "ada", "lang": "en"} == urlencoded["request"]["data"]
    assert {"title": "report", "upload": ""} == multipart["request"]["data"]
    assert {"rem": [["!raw", "x"]]} == multipart["_meta"]["request"]["data"]["upload"][""]
    assert "file contents" not in json.dumps(multipart)
    assert "title,upload" == multipart["tags"]["fields"]


def test_a_body_the_endpoint_did_not_read_is_on_the_event_when_it_fits() -> None:
    """The endpoint fails before reading; the body (within the limit, length known) is still on the event."""
    transport = _init()

    _client(make_app()).post("/unread", json={"kept": True})

    assert {"kept": True} == transport.events[0]["request"]["data"]


# -- bad input ---------------------------------------------------------------------------------------


def test_a_malformed_json_body_gives_the_endpoints_own_error_and_a_raw_note() -> None:
    """``request.json()`` fails on malformed JSON as without the SDK; the event marks the body as raw."""
    transport = _init()

    response = _client(make_app()).post(
        "/items/1", content=b'{"broken": ', headers={"content-type": "application/json"}
    )

    assert 500 == response.status_code
    (event,) = transport.events
    assert "JSONDecodeError" == _exception(event)["type"]
    assert "" == event["request"]["data"]
    assert {"rem": [["!raw", "x"]]} == event["_meta"]["request"]["data"][""]


async def _raw(app: Any, scope: dict[str, Any], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Call ``app`` as a server would; ``receive`` fails the test if called past the last message."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not messages:
            raise AssertionError("receive() called after the last message: it would hang a real server")
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        await asyncio.wait_for(app(scope, receive, send), timeout=10)
    except Exception as exc:
        sent.append({"raised": type(exc).__name__})
    return sent


def _scope(
    path: str, method: str = "GET", query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("203.0.113.9", 51000),
        "server": ("testserver", 80),
    }


def test_non_utf8_query_and_headers_give_the_same_response_and_a_well_formed_event() -> None:
    """Non-UTF-8 bytes in the query and a header: the app answers as before; the event is well-formed."""
    scope = _scope("/items/5", query=b"q=\xff\xfe", headers=[(b"x-name", b"\xe9t\xe9")])
    before = asyncio.run(_raw(make_app(), dict(scope), [{"type": "http.request", "body": b""}]))
    transport = _init()
    after = asyncio.run(_raw(make_app(), dict(scope), [{"type": "http.request", "body": b""}]))

    assert before == after
    request = transport.events[0]["request"]
    assert ("q=\ufffd\ufffd", "\ufffdt\ufffd") == (request["query_string"], request["headers"]["X-Name"])


def test_a_client_that_disconnects_mid_body_gets_the_same_behaviour_and_nothing_hangs() -> None:
    """``http.request`` (more_body) then ``http.disconnect``: Starlette raises ClientDisconnect as before."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"100")]

    def messages() -> list[dict[str, Any]]:
        return [{"type": "http.request", "body": b'{"par', "more_body": True}, {"type": "http.disconnect"}]

    before = asyncio.run(_raw(make_app(), _scope("/items/5", "POST", headers=headers), messages()))
    transport = _init()
    after = asyncio.run(_raw(make_app(), _scope("/items/5", "POST", headers=headers), messages()))

    assert before == after
    assert {"raised": "ClientDisconnect"} == after[-1]
    assert ["ClientDisconnect"] == [_exception(event)["type"] for event in transport.events]


def test_a_50_mb_body_streamed_to_a_streaming_endpoint_arrives_whole_and_the_event_holds_the_limit() -> None:
    """``request.stream()`` gets all of 50 MB sent in 64 KiB messages; the event leaves the body out."""
    transport = _init()
    size = 50 * 1024 * 1024
    digest = hashlib.sha256()
    received = 0

    async def upload(request: Request) -> Response:
        nonlocal received
        async for chunk in request.stream():
            digest.update(chunk)
            received += len(chunk)
        raise OSError(f"stored {received} bytes, then the disk was full")

    app = Starlette(routes=[Route("/upload", upload, methods=["PUT"])])
    chunk = b"z" * 65536
    left = size

    async def receive() -> dict[str, Any]:
        nonlocal left
        left -= len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": left > 0}

    async def send(message: dict[str, Any]) -> None:
        pass

    scope = _scope(
        "/upload",
        "PUT",
        headers=[(b"content-type", b"application/octet-stream"), (b"content-length", str(size).encode())],
    )
    with pytest.raises(OSError):
        asyncio.run(app(scope, receive, send))

    assert (size, hashlib.sha256(b"z" * size).hexdigest()) == (received, digest.hexdigest())
    (event,) = transport.events
    assert "" == event["request"]["data"]
    assert {"rem": [["!config", "x"]]} == event["_meta"]["request"]["data"][""]
    assert "z" * 10_001 not in json.dumps(event)  # no more of the body than the limit, anywhere


def test_a_websocket_route_and_the_lifespan_work_as_without_the_sdk() -> None:
    """A websocket echo and the startup/shutdown handlers run unchanged; nothing is reported."""
    transport = _init()
    started: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        started.append("up")
        yield
        started.append("down")

    with TestClient(make_app(lifespan=lifespan)) as client:
        with client.websocket_connect("/ws") as websocket:
            websocket.send_text("hi")
            assert "echo: hi" == websocket.receive_text()

    assert ["up", "down"] == started
    assert [] == transport.events


# -- a real server -----------------------------------------------------------------------------------


@contextmanager
def serve(app: Any) -> Iterator[int]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port) in a thread; yields the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
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


def test_a_failure_under_uvicorn_is_one_event_with_the_route_and_the_client_gets_a_500() -> None:
    """Through a real uvicorn server on 127.0.0.1: one event (uvicorn's error log adds none), a 500."""
    sent = threading.Event()

    def before_send(event: Any, hint: Any) -> Any:
        sent.set()
        return event

    transport = _init(default_integrations=True, before_send=before_send)

    with serve(make_app()) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(
            "POST", "/items/77", body=b'{"q": 1}', headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        status, body = response.status, response.read()
        connection.close()
        assert sent.wait(10)

    assert (500, b"Internal Server Error") == (status, body)
    (event,) = transport.events
    assert ("/items/{item_id}", {"item": "77"}) == (event["transaction"], event["tags"])
    assert (f"http://127.0.0.1:{port}/items/77", {"q": 1}) == (
        event["request"]["url"],
        event["request"]["data"],
    )
