"""FastApiIntegration: FastAPI apps report through Starlette's integration, named after their routes."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from frameworks import require

import sentry_sdk
from sentry_sdk.integrations import DidNotEnable, Integration
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration
from sentry_sdk.testing import CapturingTransport

fastapi = require("fastapi")
httpx = require("httpx")
uvicorn = require("uvicorn")

from fastapi import FastAPI, Form, HTTPException  # noqa: E402
from pydantic import BaseModel  # noqa: E402

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient and warns once, at import, when it finds httpx.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


def _init(*integrations: Integration, **options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    options.setdefault("auto_enabling_integrations", False)
    sentry_sdk.init(
        transport=transport,
        integrations=list(integrations or (StarletteIntegration(), FastApiIntegration())),
        **options,
    )
    return transport


class Item(BaseModel):
    name: str
    price: float


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, Any]:
        sentry_sdk.set_tag("item", str(item_id))
        raise ValueError(f"item {item_id} is broken")

    @app.get("/sync/{n}")
    def sync_item(n: int) -> dict[str, Any]:
        sentry_sdk.set_tag("sync", str(n))
        raise LookupError(f"sync {n} failed")

    @app.post("/items")
    async def create_item(item: Item) -> dict[str, Any]:
        raise RuntimeError(f"cannot store {item.name}")

    @app.post("/login")
    async def login(username: str = Form(), password: str = Form()) -> dict[str, Any]:
        raise PermissionError(f"{username} may not log in")

    @app.get("/status/{status}")
    async def status(status: int) -> dict[str, Any]:
        raise HTTPException(status_code=status, detail="status on purpose")

    @app.get("/fine")
    async def fine() -> dict[str, Any]:
        return {"ok": True}

    return app


def _client(app: Any) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def _exception(event: dict[str, Any]) -> dict[str, Any]:
    (exception,) = event["exception"]["values"]
    return exception


def test_an_unhandled_error_is_one_event_with_the_route_and_starlettes_mechanism() -> None:
    """A failing path operation: one event (logging on), mechanism starlette, "/items/{item_id}" (route)."""
    app = make_app()
    before = _client(app).get("/items/5")  # no client bound: the app as without the SDK
    transport = _init(default_integrations=True)
    response = _client(app).get("/items/5?verbose=1")

    assert (before.status_code, before.text) == (response.status_code, response.text)
    assert (500, "Internal Server Error") == (response.status_code, response.text)
    (event,) = transport.events
    exception = _exception(event)
    assert ("ValueError", "item 5 is broken") == (exception["type"], exception["value"])
    assert ("starlette", False) == (exception["mechanism"]["type"], exception["mechanism"]["handled"])
    assert ("/items/{item_id}", {"source": "route"}) == (event["transaction"], event["transaction_info"])
    assert {"item": "5"} == event["tags"]
    assert ("http://testserver/items/5", "verbose=1") == (
        event["request"]["url"],
        event["request"]["query_string"],
    )


def test_transaction_style_endpoint_names_events_after_the_path_operation_function() -> None:
    """With ``"endpoint"`` on Starlette's integration: the function's module.qualname, source component."""
    transport = _init(StarletteIntegration(transaction_style="endpoint"), FastApiIntegration())

    _client(make_app()).get("/items/1")

    (event,) = transport.events
    assert (f"{__name__}.make_app.<locals>.read_item", "component") == (
        event["transaction"],
        event["transaction_info"]["source"],
    )


def test_sync_path_operations_in_the_threadpool_keep_their_own_requests_scope() -> None:
    """``def`` endpoints run in worker threads, concurrently: each event has its own tag and no other's."""
    transport = _init()
    app = make_app()

    async def main() -> list[int]:
        asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=asgi, base_url="http://testserver") as client:
            responses = await asyncio.gather(*(client.get(f"/sync/{n}") for n in range(10)))
        return [response.status_code for response in responses]

    assert [500] * 10 == asyncio.run(main())
    assert 10 == len(transport.events)
    for event in transport.events:
        number = event["tags"]["sync"]
        assert ({"sync": number}, f"sync {number} failed") == (event["tags"], _exception(event)["value"])
        assert "/sync/{n}" == event["transaction"]
    assert sorted(str(n) for n in range(10)) == sorted(event["tags"]["sync"] for event in transport.events)
    assert {} == sentry_sdk.get_isolation_scope()._tags


def test_a_json_body_and_form_fields_the_app_parsed_are_on_the_event() -> None:
    """A pydantic body (read by FastAPI) and Form fields (parsed by Starlette) are on their events."""
    require("python_multipart")
    transport = _init()
    client = _client(make_app())

    client.post("/items", json={"name": "widget", "price": 2.5})
    client.post("/login", data={"username": "ada", "password": "hunter2"})

    created, login = transport.events
    assert {"name": "widget", "price": 2.5} == created["request"]["data"]
    assert {"username": "ada", "password": "[Filtered]"} == login["request"]["data"]


def test_a_malformed_json_body_gets_fastapis_own_422_and_sends_nothing() -> None:
    """Malformed JSON: FastAPI answers 422 exactly as without the SDK; a validation error is not reported."""
    app = make_app()
    body, headers = b'{"name": "widget", ', {"content-type": "application/json"}
    before = _client(app).post("/items", content=body, headers=headers)
    transport = _init()
    after = _client(app).post("/items", content=body, headers=headers)

    assert 422 == after.status_code
    assert (before.status_code, before.json()) == (after.status_code, after.json())
    assert [] == transport.events


def test_http_exceptions_follow_starlettes_failed_request_status_codes() -> None:
    """FastAPI's HTTPException: 4xx not sent; 5xx sent with handled true; responses unchanged."""
    transport = _init()
    client = _client(make_app())

    bad, unavailable = client.get("/status/400"), client.get("/status/503")

    assert [(400, {"detail": "status on purpose"}), (503, {"detail": "status on purpose"})] == [
        (r.status_code, r.json()) for r in (bad, unavailable)
    ]
    (event,) = transport.events
    assert ("HTTPException", True) == (_exception(event)["type"], _exception(event)["mechanism"]["handled"])
    assert "/status/{status}" == event["transaction"]


def test_fastapi_failed_request_status_codes_alone_do_not_change_starlettes() -> None:
    """As in sentry-sdk 2.75: with Starlette's integration enabled too, its codes apply, not FastAPI's."""
    transport = _init(StarletteIntegration(), FastApiIntegration(failed_request_status_codes={400}))
    client = _client(make_app())

    client.get("/status/400")
    client.get("/status/503")

    assert ["503: status on purpose"] == [_exception(event)["value"] for event in transport.events]


def test_fastapis_options_apply_when_it_is_the_only_one_enabled() -> None:
    """Auto-enabling off and only FastApiIntegration listed: it does the work, with its own options."""
    transport = _init(FastApiIntegration(failed_request_status_codes={400}))
    client = _client(make_app())

    client.get("/status/400")
    client.get("/status/503")
    client.get("/items/2")

    assert ["400: status on purpose", "item 2 is broken"] == [
        _exception(e)["value"] for e in transport.events
    ]
    assert "starlette" == _exception(transport.events[-1])["mechanism"]["type"]


def test_bad_options_raise_at_construction_and_an_old_fastapi_does_not_enable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Wrong transaction_style names the valid values; non-int codes raise; FastAPI 0.78: DidNotEnable."""
    with pytest.raises(ValueError, match="FastApiIntegration: invalid transaction_style 'route'"):
        FastApiIntegration(transaction_style="route")
    with pytest.raises(TypeError):
        FastApiIntegration(failed_request_status_codes=[None])
    assert "fastapi" == FastApiIntegration().identifier

    monkeypatch.setattr(fastapi, "__version__", "0.78.0")
    with pytest.raises(DidNotEnable, match=r"^FastAPI 0\.78\.0 found; 0\.79 or newer is required$"):
        FastApiIntegration.setup_once()


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


def test_a_failure_under_uvicorn_is_one_event_and_the_client_gets_fastapis_500() -> None:
    """Through a real uvicorn server on 127.0.0.1: one event (uvicorn's error log adds none), a 500."""
    sent = threading.Event()

    def before_send(event: Any, hint: Any) -> Any:
        sent.set()
        return event

    transport = _init(default_integrations=True, before_send=before_send)

    with serve(make_app()) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/sync/3")
        response = connection.getresponse()
        status, body = response.status, response.read()
        connection.close()
        assert sent.wait(10)

    assert (500, b"Internal Server Error") == (status, body)
    (event,) = transport.events
    assert ("/sync/{n}", {"sync": "3"}) == (event["transaction"], event["tags"])
    assert f"http://127.0.0.1:{port}/sync/3" == event["request"]["url"]


def test_import_and_init_import_no_framework_and_a_later_import_enables_both(run_script: Any) -> None:
    """In a fresh interpreter: init imports neither starlette nor fastapi; importing fastapi enables both."""
    result = run_script(
        "import sys\n"
        "import sentry_sdk\n"
        "sentry_sdk.init()\n"
        "print(sorted(m for m in ('starlette', 'fastapi') if m in sys.modules))\n"
        "import fastapi\n"
        "client = sentry_sdk.get_client()\n"
        "print(sorted(i for i in ('starlette', 'fastapi') if client.get_integration(i) is not None))\n"
    )

    assert 0 == result.returncode, result.stderr
    assert ["[]", "['fastapi', 'starlette']"] == result.stdout.split("\n")[:2]
