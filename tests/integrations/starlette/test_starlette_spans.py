"""The middleware spans of a traced Starlette (and FastAPI) request: one per layer of the stack."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
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
from starlette.middleware import Middleware  # noqa: E402
from starlette.middleware.base import BaseHTTPMiddleware  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

TRANSACTION = "<transaction>"
ALL_LAYERS = ("middleware.starlette", "middleware.starlette.receive", "middleware.starlette.send")


def _init(integration: StarletteIntegration | None = None, **options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    options.setdefault("auto_enabling_integrations", False)
    options.setdefault("traces_sample_rate", 1.0)
    integration = integration or StarletteIntegration(middleware_spans=True)
    sentry_sdk.init(transport=transport, integrations=[integration, FastApiIntegration()], **options)
    return transport


def _transaction(transport: CapturingTransport) -> dict[str, Any]:
    (transaction,) = [event for event in transport.events if event.get("type") == "transaction"]
    return transaction


def _layers(transaction: dict[str, Any]) -> list[tuple[str, str]]:
    """``(middleware, its parent)`` of each middleware span, outermost first (each is the next's parent)."""
    names = {transaction["contexts"]["trace"]["span_id"]: TRANSACTION}
    spans = [span for span in transaction["spans"] if span["op"] == "middleware.starlette"]
    names.update({span["span_id"]: span["description"] for span in spans})
    pairs = {names[span["parent_span_id"]]: span["description"] for span in spans}
    chain, parent = [], TRANSACTION
    while parent in pairs and len(chain) <= len(spans):
        chain.append((pairs[parent], parent))
        parent = pairs[parent]
    assert len(chain) == len(spans), "every middleware span is on one chain from the transaction"
    return chain


class Timing(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["X-Timed"] = "yes"
        return response


class Passthrough:
    """A pure ASGI middleware."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class LoudPassthrough(Passthrough):
    """Its own ``__call__``, calling its parent's: one span all the same."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await super().__call__(scope, receive, send)


def function_middleware(app: Any) -> Any:
    """A middleware that is a factory of a function: not a class, so no span."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        await app(scope, receive, send)

    return middleware


async def item(request: Request) -> Response:
    with sentry_sdk.start_span(op="db", name="SELECT item"):
        pass
    return PlainTextResponse(f"item {request.path_params['item_id']}")


async def echo(request: Request) -> Response:
    return PlainTextResponse(await request.body())


async def current(request: Request) -> Response:
    span = sentry_sdk.get_current_span()
    return PlainTextResponse(str(span.op if span is not None else None))


async def broken(request: Request) -> Response:
    raise ValueError("broken on purpose")


def _app(*middleware: Any) -> Starlette:
    routes = [
        Route("/items/{item_id}", item),
        Route("/echo", echo, methods=["POST"]),
        Route("/current", current),
        Route("/broken", broken),
    ]
    return Starlette(routes=routes, middleware=[Middleware(m) for m in middleware])


def test_each_middleware_is_a_span_named_after_its_class_nested_as_the_stack_nests_them() -> None:
    transport = _init()
    response = TestClient(_app(Timing, Passthrough)).get("/items/4")
    assert ("item 4", "yes") == (response.text, response.headers["X-Timed"])
    transaction = _transaction(transport)
    assert [
        ("ServerErrorMiddleware", TRANSACTION),
        ("Timing", "ServerErrorMiddleware"),
        ("Passthrough", "Timing"),
        ("ExceptionMiddleware", "Passthrough"),
    ] == _layers(transaction)
    spans = {span["description"]: span for span in transaction["spans"]}
    assert spans["ExceptionMiddleware"]["span_id"] == spans["SELECT item"]["parent_span_id"]  # the endpoint's
    middleware = [span for span in transaction["spans"] if span["op"] in ALL_LAYERS]
    assert {"auto.http.starlette"} == {span["origin"] for span in middleware}
    assert {"ServerErrorMiddleware", "Timing", "Passthrough", "ExceptionMiddleware"} == {
        span["tags"]["starlette.middleware_name"] for span in middleware
    }


def test_a_middlewares_receive_and_send_calls_are_its_children() -> None:
    transport = _init()
    assert "hello" == TestClient(_app(Passthrough)).post("/echo", content=b"hello").text
    transaction = _transaction(transport)
    by_id = {span["span_id"]: span for span in transaction["spans"]}
    innermost = next(span for span in transaction["spans"] if span["description"] == "ExceptionMiddleware")
    for op in ("middleware.starlette.receive", "middleware.starlette.send"):
        calls = [span for span in transaction["spans"] if span["op"] == op]
        # The endpoint's call goes out through each layer, innermost first: each layer's call is
        # inside the one of the layer it came from.
        first = next(span for span in calls if span["parent_span_id"] == innermost["span_id"])
        chain = [first["tags"]["starlette.middleware_name"]]
        child = first
        while found := [span for span in calls if span["parent_span_id"] == child["span_id"]]:
            child = found[0]
            chain.append(child["tags"]["starlette.middleware_name"])
        assert ["ExceptionMiddleware", "Passthrough", "ServerErrorMiddleware"] == chain
        assert by_id[first["parent_span_id"]] is innermost
    # Named after the callable the middleware called: Passthrough calls the one it was given.
    sends = [span for span in transaction["spans"] if span["op"] == "middleware.starlette.send"]
    assert "ServerErrorMiddleware.__call__.<locals>._send" in {span["description"] for span in sends}


def test_a_subclass_calling_its_parents_call_is_one_span_and_a_function_middleware_none() -> None:
    transport = _init()
    app = _app(Passthrough, LoudPassthrough, function_middleware)
    assert "item 1" == TestClient(app).get("/items/1").text
    assert [
        ("ServerErrorMiddleware", TRANSACTION),
        ("Passthrough", "ServerErrorMiddleware"),
        ("LoudPassthrough", "Passthrough"),
    ] == _layers(_transaction(transport))[:3]
    names = [
        span["description"]
        for span in _transaction(transport)["spans"]
        if span["op"] == "middleware.starlette"
    ]
    assert "function" not in names and "middleware" not in names


def test_an_error_leaves_the_layers_it_went_through_failed_and_is_on_the_innermost() -> None:
    transport = _init()
    response = TestClient(_app(Passthrough), raise_server_exceptions=False).get("/broken")
    assert 500 == response.status_code
    (error,) = [event for event in transport.events if event.get("type") != "transaction"]
    transaction = _transaction(transport)
    spans = {
        span["description"]: span for span in transaction["spans"] if span["op"] == "middleware.starlette"
    }
    assert {"internal_error"} == {span["status"] for span in spans.values()}
    assert spans["ExceptionMiddleware"]["span_id"] == error["contexts"]["trace"]["span_id"]


def test_a_stack_built_before_tracing_was_on_gets_its_spans() -> None:
    app = _app(Passthrough)
    _init(traces_sample_rate=None)
    client = TestClient(app)
    assert "None" == client.get("/current").text  # built and served, untraced
    transport = _init()
    assert "middleware.starlette" == client.get("/current").text  # the endpoint runs in the innermost
    assert ["ServerErrorMiddleware", "Passthrough", "ExceptionMiddleware"] == [
        name for name, _ in _layers(_transaction(transport))
    ]


def test_middleware_spans_false_makes_none() -> None:
    transport = _init(StarletteIntegration(middleware_spans=False))
    assert "http.server" == TestClient(_app(Timing, Passthrough)).get("/current").text
    assert [] == _transaction(transport)["spans"]


def test_with_tracing_off_nothing_is_made_and_responses_are_the_same() -> None:
    app = _app(Timing, Passthrough)
    transport = _init(traces_sample_rate=None)
    off = TestClient(app).get("/items/2")
    assert "None" == TestClient(app).get("/current").text
    assert [] == transport.events
    _init()
    on = TestClient(app).get("/items/2")
    assert (off.status_code, off.text, sorted(off.headers.items())) == (
        on.status_code,
        on.text,
        sorted(on.headers.items()),
    )


def test_a_fastapi_apps_own_layers_and_the_users_are_spans_too() -> None:
    transport = _init()
    app = FastAPI()
    app.add_middleware(Passthrough)

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    assert {"id": 5} == TestClient(app).get("/users/5").json()
    layers = [name for name, _ in _layers(_transaction(transport))]
    # FastAPI adds layers of its own, which vary with its version: the order of these does not.
    assert "ServerErrorMiddleware" == layers[0]
    assert layers.index("Passthrough") < layers.index("ExceptionMiddleware")


def test_fastapis_integration_alone_applies_its_own_middleware_spans_option() -> None:
    transport = CapturingTransport()
    sentry_sdk.init(
        transport=transport,
        default_integrations=False,
        auto_enabling_integrations=False,
        traces_sample_rate=1.0,
        integrations=[FastApiIntegration(middleware_spans=False)],
    )
    app = FastAPI()

    @app.get("/")
    async def root() -> dict[str, str]:
        return {}

    TestClient(app).get("/")
    assert [] == [span for span in _transaction(transport)["spans"] if span["op"] in ALL_LAYERS]


def test_an_app_that_served_requests_before_init_gets_its_spans(run_script: Callable[[str], Any]) -> None:
    """The stack is patched where it is, not rebuilt: an app started before ``init`` is covered."""
    result = run_script(
        "import json, warnings\n"
        "from starlette.applications import Starlette\n"
        "from starlette.middleware import Middleware\n"
        "from starlette.middleware.gzip import GZipMiddleware\n"
        "from starlette.responses import PlainTextResponse\n"
        "from starlette.routing import Route\n"
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter('ignore')\n"
        "    from starlette.testclient import TestClient\n"
        "async def home(request):\n"
        "    return PlainTextResponse('home')\n"
        "app = Starlette(routes=[Route('/', home)], middleware=[Middleware(GZipMiddleware)])\n"
        "client = TestClient(app)\n"
        "assert client.get('/').text == 'home'\n"
        "import sentry_sdk\n"
        "from sentry_sdk.integrations.starlette import StarletteIntegration\n"
        "events = []\n"
        "sentry_sdk.init(transport=events.append, traces_sample_rate=1.0, default_integrations=False,\n"
        "                auto_enabling_integrations=False,\n"
        "                integrations=[StarletteIntegration(middleware_spans=True)])\n"
        "assert client.get('/').text == 'home'\n"
        "sentry_sdk.flush()\n"
        "(transaction,) = [e for e in events if e.get('type') == 'transaction']\n"
        "print(json.dumps([s['description'] for s in transaction['spans']\n"
        "                  if s['op'] == 'middleware.starlette']))\n"
    )
    assert 0 == result.returncode, result.stderr
    assert ["ExceptionMiddleware", "GZipMiddleware", "ServerErrorMiddleware"] == json.loads(result.stdout)
