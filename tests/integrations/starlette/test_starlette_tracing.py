"""Starlette and FastAPI requests as transactions, named after their routes as their errors are."""

from __future__ import annotations

import warnings
from typing import Any

from frameworks import require

import sentry_sdk
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration
from sentry_sdk.testing import CapturingTransport

starlette = require("starlette")
fastapi = require("fastapi")
require("httpx")

from fastapi import FastAPI  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

TRACE_ID = "771a43a4192642f0b136d5159a501700"
PARENT_ID = "b3f3a1c2d4e5f607"


def _init(integration: StarletteIntegration | None = None, **options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    options.setdefault("auto_enabling_integrations", False)
    integrations = [integration or StarletteIntegration(), FastApiIntegration()]
    sentry_sdk.init(transport=transport, integrations=integrations, **options)
    return transport


def _transactions(transport: CapturingTransport) -> list[dict[str, Any]]:
    return [event for event in transport.events if event.get("type") == "transaction"]


async def item(request: Request) -> Response:
    with sentry_sdk.start_span(op="db", name="SELECT item"):
        pass
    return PlainTextResponse(f"item {request.path_params['item_id']}", status_code=202)


async def broken(request: Request) -> Response:
    raise ValueError("broken on purpose")


def _starlette() -> Starlette:
    return Starlette(routes=[Route("/items/{item_id}", item), Route("/broken", broken)])


def test_a_starlette_request_is_a_transaction_named_after_its_route() -> None:
    transport = _init(traces_sample_rate=1.0)
    response = TestClient(_starlette()).get("/items/4", headers={"sentry-trace": f"{TRACE_ID}-{PARENT_ID}-1"})
    assert (202, "item 4") == (response.status_code, response.text)
    (transaction,) = _transactions(transport)
    assert ("/items/{item_id}", "route") == (
        transaction["transaction"],
        transaction["transaction_info"]["source"],
    )
    trace = transaction["contexts"]["trace"]
    assert ("http.server", "auto.http.starlette", "ok") == (trace["op"], trace["origin"], trace["status"])
    assert (TRACE_ID, PARENT_ID) == (trace["trace_id"], trace["parent_span_id"])
    assert ["db"] == [span["op"] for span in transaction["spans"]]


def test_the_endpoint_style_names_the_transaction_after_the_function() -> None:
    transport = _init(StarletteIntegration(transaction_style="endpoint"), traces_sample_rate=1.0)
    TestClient(_starlette()).get("/items/4")
    (transaction,) = _transactions(transport)
    assert (f"{__name__}.item", "component") == (
        transaction["transaction"],
        transaction["transaction_info"]["source"],
    )


def test_a_failing_endpoint_is_a_500_transaction_in_the_errors_trace() -> None:
    transport = _init(traces_sample_rate=1.0)
    assert 500 == TestClient(_starlette(), raise_server_exceptions=False).get("/broken").status_code
    (error,) = [e for e in transport.events if e.get("type") != "transaction"]
    (transaction,) = _transactions(transport)
    assert "internal_error" == transaction["contexts"]["trace"]["status"]
    assert transaction["contexts"]["trace"]["span_id"] == error["contexts"]["trace"]["span_id"]
    assert ("/broken", "route") == (transaction["transaction"], transaction["transaction_info"]["source"])


def test_a_fastapi_path_operation_is_a_transaction_named_after_its_route() -> None:
    transport = _init(traces_sample_rate=1.0)
    app = FastAPI()

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    assert {"id": 5} == TestClient(app).get("/users/5").json()
    (transaction,) = _transactions(transport)
    assert ("/users/{user_id}", "route") == (
        transaction["transaction"],
        transaction["transaction_info"]["source"],
    )
    assert 200 == transaction["contexts"]["trace"]["data"]["http.response.status_code"]
