"""Code as Sentry's Python tracing docs teach it, run against a loopback ingest server.

The pages: Tracing > Custom Instrumentation (transactions, spans as context managers and with
``@sentry_sdk.trace``, data on spans, measurements), Trace Propagation > Custom Instrumentation
(``continue_trace`` for incoming headers, ``get_traceparent``/``get_baggage`` for outgoing ones),
and Configure Sampling (``traces_sample_rate``, a ``traces_sampler`` that reads the sampling
context and honours the parent's decision, ``custom_sampling_context``). Each test writes the
program as those pages show its shape and checks what reached the server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk.testing import IngestServer


@pytest.fixture
def server() -> Iterator[IngestServer]:
    with IngestServer() as ingest:
        yield ingest


def _transactions(server: IngestServer, count: int = 1) -> list[dict[str, Any]]:
    sentry_sdk.flush(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [item.json() for item in server.items("transaction")]
        if len(found) >= count:
            return found
        time.sleep(0.02)
    raise AssertionError(f"expected {count} transactions, got {len(server.items('transaction'))}")


def test_a_transaction_around_an_expensive_operation_with_spans_and_a_decorator(server: IngestServer) -> None:
    sentry_sdk.init(dsn=server.dsn, traces_sample_rate=1.0)

    @sentry_sdk.trace
    def eat_slice(slice: int) -> None:
        pass

    def eat_pizza(pizza: Any) -> None:
        with sentry_sdk.start_transaction(op="task", name="Eat Pizza"):
            while pizza.slices:
                with sentry_sdk.start_span(description="Eat Slice"):
                    eat_slice(pizza.slices.pop())

    eat_pizza(SimpleNamespace(slices=[1, 2]))
    (transaction,) = _transactions(server)
    assert ("Eat Pizza", "task") == (transaction["transaction"], transaction["contexts"]["trace"]["op"])
    spans = transaction["spans"]
    outer = [s for s in spans if s["description"] == "Eat Slice"]
    inner = [s for s in spans if s.get("op") == "function"]
    assert 2 == len(outer) == len(inner)
    assert {s["span_id"] for s in outer} == {s["parent_span_id"] for s in inner}
    assert all(s["description"].endswith("eat_slice") for s in inner)


def test_spans_started_and_finished_by_hand_with_data_tags_and_a_measurement(server: IngestServer) -> None:
    sentry_sdk.init(dsn=server.dsn, traces_sample_rate=1.0)
    transaction = sentry_sdk.start_transaction(op="task", name="Checkout")
    span = transaction.start_child(op="http", description="charge the card")
    span.set_data("amount", 42)
    span.set_tag("gateway", "stripe")
    span.finish()
    sentry_sdk.set_measurement("ui.mount", 20, "millisecond")
    transaction.finish()
    # Not entered with `with`, so not the scope's: set_measurement above found no transaction;
    # on the transaction itself it is kept.
    other = sentry_sdk.start_transaction(op="task", name="Measured")
    with other:
        sentry_sdk.set_measurement("ui.mount", 20, "millisecond")
    first, second = _transactions(server, 2)
    (child,) = first["spans"]
    assert ({"amount": 42}, {"gateway": "stripe"}) == (
        {k: v for k, v in child["data"].items() if k == "amount"},
        child["tags"],
    )
    assert "measurements" not in first
    assert {"ui.mount": {"value": 20, "unit": "millisecond"}} == second["measurements"]


def test_an_async_function_with_the_trace_decorator(server: IngestServer) -> None:
    sentry_sdk.init(dsn=server.dsn, traces_sample_rate=1.0)

    @sentry_sdk.trace(op="db", name="load order")
    async def load(order_id: int) -> int:
        await asyncio.sleep(0)
        return order_id

    async def main() -> int:
        with sentry_sdk.start_transaction(op="task", name="async work"):
            return await load(7)

    assert 7 == asyncio.run(main())
    (transaction,) = _transactions(server)
    assert [("db", "load order")] == [(s["op"], s["description"]) for s in transaction["spans"]]


def test_continuing_incoming_headers_and_passing_the_trace_on(server: IngestServer) -> None:
    """Incoming headers continued with continue_trace; outgoing ones from get_traceparent/get_baggage."""
    sentry_sdk.init(dsn=server.dsn, traces_sample_rate=1.0)
    headers = {
        "sentry-trace": "771a43a4192642f0b136d5159a501700-b3f3a1c2d4e5f607-1",
        "baggage": "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=1.0,"
        "sentry-public_key=up",
    }
    transaction = sentry_sdk.continue_trace(headers, op="queue.task", name="process order")
    with sentry_sdk.start_transaction(transaction):
        outgoing = {"sentry-trace": sentry_sdk.get_traceparent(), "baggage": sentry_sdk.get_baggage()}
    (sent,) = _transactions(server)
    trace = sent["contexts"]["trace"]
    assert ("771a43a4192642f0b136d5159a501700", "b3f3a1c2d4e5f607") == (
        trace["trace_id"],
        trace["parent_span_id"],
    )
    assert f"771a43a4192642f0b136d5159a501700-{trace['span_id']}-1" == outgoing["sentry-trace"]
    assert "sentry-public_key=up" in (outgoing["baggage"] or "")


def test_without_tracing_the_trace_still_propagates_and_links_errors(server: IngestServer) -> None:
    """Tracing off (no rate): continue_trace still makes the incoming trace the errors' trace."""
    sentry_sdk.init(dsn=server.dsn)
    headers = {"sentry-trace": "771a43a4192642f0b136d5159a501700-b3f3a1c2d4e5f607-1"}
    with sentry_sdk.isolation_scope():
        sentry_sdk.continue_trace(headers)
        outgoing = sentry_sdk.get_traceparent()
        sentry_sdk.capture_message("linked")
    sentry_sdk.flush(timeout=10)
    (event,) = server.wait_for_events(1)
    assert "771a43a4192642f0b136d5159a501700" == event["contexts"]["trace"]["trace_id"]
    assert outgoing is not None and outgoing.startswith("771a43a4192642f0b136d5159a501700-")
    assert [] == server.items("transaction")


def test_a_sampler_that_honours_the_parent_and_reads_custom_sampling_context(server: IngestServer) -> None:
    def traces_sampler(sampling_context: dict[str, Any]) -> float:
        parent_sampled = sampling_context.get("parent_sampled")
        if parent_sampled is not None:
            return float(parent_sampled)
        name = sampling_context["transaction_context"]["name"]
        if name == "health-check":
            return 0.0
        if sampling_context.get("user_tier") == "premium":
            return 1.0
        return 0.0

    sentry_sdk.init(dsn=server.dsn, traces_sampler=traces_sampler)
    with sentry_sdk.start_transaction(name="health-check", op="http.server"):
        pass
    with sentry_sdk.start_transaction(
        name="checkout", op="task", custom_sampling_context={"user_tier": "premium"}
    ):
        pass
    with sentry_sdk.start_transaction(
        name="checkout", op="task", custom_sampling_context={"user_tier": "free"}
    ):
        pass
    child = sentry_sdk.continue_trace({"sentry-trace": "771a43a4192642f0b136d5159a501700-b3f3a1c2d4e5f607-1"})
    child.name = "inherited"
    with sentry_sdk.start_transaction(child):
        pass
    names = sorted(t["transaction"] for t in _transactions(server, 2))
    assert ["checkout", "inherited"] == names
