"""An ASGI request's trace: continued from its headers, a transaction when sampled, per task.

``SentryAsgiMiddleware`` around small ASGI applications, called in-process on one event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk.integrations.asgi import SentryAsgiMiddleware
from sentry_sdk.testing import CapturingTransport

TRACE_ID = "771a43a4192642f0b136d5159a501700"
PARENT_ID = "b3f3a1c2d4e5f607"
Message = dict[str, Any]


def _init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    sentry_sdk.init(transport=transport, **options)
    return transport


def _scope(
    path: str = "/items/7",
    method: str = "GET",
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
        "query_string": b"",
        "headers": [(b"host", b"app.example"), *(headers or [])],
        "client": ("203.0.113.9", 51000),
        "server": ("app.example", 80),
    }


async def _call(app: Any, scope: dict[str, Any]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    return sent


def _transactions(transport: CapturingTransport) -> list[dict[str, Any]]:
    return [event for event in transport.events if event.get("type") == "transaction"]


async def _reply(send: Any, status: int = 200) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _working(scope: Any, receive: Any, send: Any) -> None:
    with sentry_sdk.start_span(op="cache.get", name="item:7"):
        await asyncio.sleep(0)
    await _reply(send, 203)


async def _failing(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError("the endpoint broke")


def test_a_sampled_request_is_a_transaction_with_the_status_sent_and_its_spans() -> None:
    """Named after the path (source url), status from ``http.response.start``, spans as children;
    what the application sends is passed on unchanged."""
    transport = _init(traces_sample_rate=1.0)
    sent = asyncio.run(_call(SentryAsgiMiddleware(_working), _scope("/items/7")))
    assert [203, b"ok"] == [sent[0]["status"], sent[1]["body"]]
    (transaction,) = _transactions(transport)
    trace = transaction["contexts"]["trace"]
    assert ("http.server", "ok", "manual") == (trace["op"], trace["status"], trace["origin"])
    assert 203 == trace["data"]["http.response.status_code"]
    assert "http://app.example/items/7" == transaction["transaction"]  # the url style names by full url
    (span,) = transaction["spans"]
    assert (trace["span_id"], "cache.get") == (span["parent_span_id"], span["op"])


def test_concurrent_requests_each_have_their_own_transaction_and_trace() -> None:
    """Requests interleaved on one loop: each transaction holds only its own spans."""
    transport = _init(traces_sample_rate=1.0)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        for n in range(3):
            with sentry_sdk.start_span(op="step", name=f"{scope['path']} {n}"):
                await asyncio.sleep(0)
        await _reply(send)

    async def main() -> None:
        wrapped = SentryAsgiMiddleware(app)
        await asyncio.gather(*(_call(wrapped, _scope(f"/r{i}")) for i in range(5)))

    asyncio.run(main())
    transactions = _transactions(transport)
    assert 5 == len(transactions)
    assert 5 == len({t["contexts"]["trace"]["trace_id"] for t in transactions})
    for transaction in transactions:
        path = transaction["transaction"].rsplit("/", 1)[1]
        assert [f"/{path} {n}" for n in range(3)] == [s["description"] for s in transaction["spans"]]


def test_an_incoming_trace_is_continued_from_the_asgi_headers() -> None:
    transport = _init(traces_sample_rate=1.0)
    headers = [
        (b"sentry-trace", f"{TRACE_ID}-{PARENT_ID}-1".encode()),
        (b"baggage", f"sentry-trace_id={TRACE_ID}".encode()),
    ]
    asyncio.run(_call(SentryAsgiMiddleware(_working), _scope(headers=headers)))
    (transaction,) = _transactions(transport)
    assert (TRACE_ID, PARENT_ID) == (
        transaction["contexts"]["trace"]["trace_id"],
        transaction["contexts"]["trace"]["parent_span_id"],
    )


def test_a_failing_request_is_an_internal_error_and_the_exception_propagates() -> None:
    transport = _init(traces_sample_rate=1.0)
    with pytest.raises(RuntimeError, match="the endpoint broke"):
        asyncio.run(_call(SentryAsgiMiddleware(_failing), _scope()))
    (transaction,) = _transactions(transport)
    (error,) = [e for e in transport.events if e.get("type") != "transaction"]
    assert "internal_error" == transaction["contexts"]["trace"]["status"]
    assert transaction["contexts"]["trace"]["span_id"] == error["contexts"]["trace"]["span_id"]


def test_the_sampler_gets_the_asgi_scope_and_methods_are_honoured() -> None:
    seen: list[str] = []

    def sampler(context: dict[str, Any]) -> bool:
        seen.append(context["asgi_scope"]["method"])
        return True

    transport = _init(traces_sampler=sampler)
    for method in ("GET", "HEAD", "OPTIONS"):
        asyncio.run(_call(SentryAsgiMiddleware(_working), _scope(method=method)))
    assert ["GET"] == seen
    assert 1 == len(_transactions(transport))


def test_a_websocket_is_a_websocket_server_transaction() -> None:
    transport = _init(traces_sample_rate=1.0)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "websocket.close", "code": 1000})

    asyncio.run(_call(SentryAsgiMiddleware(app), _scope("/ws", kind="websocket")))
    (transaction,) = _transactions(transport)
    assert "websocket.server" == transaction["contexts"]["trace"]["op"]
