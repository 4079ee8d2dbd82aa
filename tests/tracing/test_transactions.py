"""Transactions and spans as code written for sentry-sdk 2.x uses them, and what reaches Sentry."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.testing import CapturingTransport
from sentry_sdk.tracing import Span, Transaction

DSN = "https://public@o42.ingest.example.com/7"
TRACE = "771a43a4192642f0b136d5159a501700"
PARENT = "b0e6f15b45c36b12"


def _init(**options: Any) -> CapturingTransport:
    transport = CapturingTransport()
    options.setdefault("default_integrations", False)
    options.setdefault("release", "shop@1.2.3")
    sentry_sdk.init(dsn=DSN, transport=transport, **options)
    return transport


def _transactions(transport: CapturingTransport) -> list[dict[str, Any]]:
    return [e for e in transport.events if e.get("type") == "transaction"]


def _errors(transport: CapturingTransport) -> list[dict[str, Any]]:
    return [e for e in transport.events if e.get("type") != "transaction"]


def _envelope_of(transport: CapturingTransport, event_id: str) -> Envelope:
    return next(e for e in transport.envelopes if e.headers.get("event_id") == event_id)


def _lost(transport: CapturingTransport) -> dict[tuple[str, str], int]:
    return dict(transport.lost_events)


# -- a transaction with spans -----------------------------------------------------------------


def test_a_sampled_transaction_is_sent_with_its_finished_spans_and_the_dsc_header() -> None:
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(op="task", name="nightly-report") as transaction:
        with sentry_sdk.start_span(op="db", name="SELECT 1") as span:
            span.set_data("db.system", "sqlite")
        with transaction.start_child(op="http.client", description="GET https://example.com/"):
            pass
    [event] = _transactions(transport)
    assert ("nightly-report", {"source": "custom"}) == (event["transaction"], event["transaction_info"])
    trace = event["contexts"]["trace"]
    assert (transaction.trace_id, transaction.span_id, "task") == (
        trace["trace_id"],
        trace["span_id"],
        trace["op"],
    )
    assert [("db", "SELECT 1"), ("http.client", "GET https://example.com/")] == [
        (s["op"], s["description"]) for s in event["spans"]
    ]
    assert all(s["parent_span_id"] == transaction.span_id for s in event["spans"])
    assert all(s["trace_id"] == transaction.trace_id for s in event["spans"])
    assert {"db.system": "sqlite"} == event["spans"][0]["data"]
    assert event["start_timestamp"] <= event["spans"][0]["start_timestamp"] <= event["timestamp"]
    envelope = _envelope_of(transport, event["event_id"])
    assert ["transaction"] == [item.type for item in envelope.items]
    dsc = envelope.headers["trace"]
    assert {
        "trace_id": transaction.trace_id,
        "public_key": "public",
        "org_id": "42",
        "release": "shop@1.2.3",
        "environment": "production",
        "sample_rate": "1.0",
        "sampled": "true",
        "transaction": "nightly-report",
    } == {k: v for k, v in dsc.items() if k != "sample_rand"}
    assert 0.0 <= float(dsc["sample_rand"]) < 1.0


def test_without_traces_sample_rate_nothing_is_sent_and_nothing_is_counted_lost() -> None:
    transport = _init()
    with sentry_sdk.start_transaction(name="not-traced") as transaction:
        with sentry_sdk.start_span(op="db"):
            pass
    assert transaction.sampled is False
    assert [] == transport.events
    assert {} == _lost(transport)


def test_an_unsampled_transaction_is_counted_as_dropped_by_sampling() -> None:
    transport = _init(traces_sample_rate=0.0)
    with sentry_sdk.start_transaction(name="sampled-out"):
        with sentry_sdk.start_span(op="db"):
            pass
    assert [] == transport.events
    assert {("sample_rate", "transaction"): 1, ("sample_rate", "span"): 1} == _lost(transport)


def test_a_span_left_by_an_exception_is_an_internal_error_and_the_error_carries_its_trace() -> None:
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="checkout") as transaction:
        with pytest.raises(KeyError):
            with sentry_sdk.start_span(op="cart") as span:
                try:
                    raise KeyError("sku")
                except KeyError:
                    sentry_sdk.capture_exception()
                    raise
    [error] = _errors(transport)
    trace = error["contexts"]["trace"]
    assert (transaction.trace_id, span.span_id, transaction.span_id) == (
        trace["trace_id"],
        trace["span_id"],
        trace["parent_span_id"],
    )
    assert "internal_error" == span.status
    assert "true" == _envelope_of(transport, error["event_id"]).headers["trace"]["sampled"]
    [sent] = _transactions(transport)
    assert ["internal_error"] == [s["status"] for s in sent["spans"]]


def test_an_unfinished_span_is_left_out_and_the_current_span_comes_back_after_a_block() -> None:
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="t") as transaction:
        transaction.start_child(op="never-finished")
        with sentry_sdk.start_span(op="outer") as outer:
            with sentry_sdk.start_span(op="inner") as inner:
                assert sentry_sdk.get_current_span() is inner
                assert inner.parent_span_id == outer.span_id
            assert sentry_sdk.get_current_span() is outer
        assert sentry_sdk.get_current_span() is transaction
    assert sentry_sdk.get_current_span() is None
    [event] = _transactions(transport)
    assert ["inner", "outer"] == [s["op"] for s in event["spans"]]


def test_spans_over_max_spans_are_dropped_and_counted() -> None:
    transport = _init(traces_sample_rate=1.0, _experiments={"max_spans": 3})
    with sentry_sdk.start_transaction(name="busy"):
        for n in range(5):
            with sentry_sdk.start_span(op="step", name=str(n)):
                pass
    [event] = _transactions(transport)
    assert ["0", "1", "2"] == [s["description"] for s in event["spans"]]
    assert {("buffer_overflow", "span"): 2} == _lost(transport)


def test_a_transaction_finished_without_with_is_sent_once() -> None:
    transport = _init(traces_sample_rate=1.0)
    transaction = sentry_sdk.start_transaction(name="manual", op="job")
    span = transaction.start_child(op="step")
    span.finish()
    transaction.set_tag("shard", "3")
    transaction.set_measurement("rows", 12, "none")
    transaction.finish()
    transaction.finish()
    [event] = _transactions(transport)
    assert {"shard": "3"} == event["tags"]
    assert {"rows": {"value": 12, "unit": "none"}} == event["measurements"]
    assert ["step"] == [s["op"] for s in event["spans"]]


# -- sampling -------------------------------------------------------------------------------------


def test_the_traces_sampler_sees_the_transaction_and_the_custom_sampling_context() -> None:
    seen: list[dict[str, Any]] = []

    def sampler(context: dict[str, Any]) -> float:
        seen.append(context)
        return 1.0 if context["transaction_context"]["name"] == "keep" else 0.0

    transport = _init(traces_sampler=sampler)
    with sentry_sdk.start_transaction(name="keep", op="task", custom_sampling_context={"job": 7}):
        pass
    with sentry_sdk.start_transaction(name="drop", op="task"):
        pass
    assert ["keep"] == [e["transaction"] for e in _transactions(transport)]
    assert (7, "task", None) == (
        seen[0]["job"],
        seen[0]["transaction_context"]["op"],
        seen[0]["parent_sampled"],
    )


def test_a_sampler_that_raises_samples_out_and_breaks_nothing(caplog: pytest.LogCaptureFixture) -> None:
    def sampler(context: dict[str, Any]) -> float:
        raise RuntimeError("sampler bug")

    transport = _init(traces_sampler=sampler)
    with sentry_sdk.start_transaction(name="t") as transaction:
        pass
    assert transaction.sampled is False
    assert [] == transport.events
    assert "sampler bug" in caplog.text


def test_sampled_given_to_start_transaction_wins_over_the_rate() -> None:
    transport = _init(traces_sample_rate=0.0)
    with sentry_sdk.start_transaction(name="forced", sampled=True):
        pass
    assert ["forced"] == [e["transaction"] for e in _transactions(transport)]


def test_before_send_transaction_can_change_or_drop_a_transaction_and_ignore_errors_does_not_apply() -> None:
    def hook(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
        if event["transaction"] == "health":
            return None
        event["tags"] = {"hooked": "yes"}
        return event

    transport = _init(traces_sample_rate=1.0, before_send_transaction=hook, ignore_errors=[Exception])
    for name in ("health", "orders"):
        with sentry_sdk.start_transaction(name=name):
            pass
    [event] = _transactions(transport)
    assert ("orders", {"hooked": "yes"}) == (event["transaction"], event["tags"])
    assert 1 == _lost(transport)[("before_send", "transaction")]


def test_the_name_set_while_a_transaction_runs_is_the_transactions_name() -> None:
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="generic"):
        sentry_sdk.set_transaction_name("/orders/{id}", source="route")
        sentry_sdk.set_tag("region", "eu")
    [event] = _transactions(transport)
    assert ("/orders/{id}", "route", {"region": "eu"}) == (
        event["transaction"],
        event["transaction_info"]["source"],
        event["tags"],
    )


# -- the trace without performance ----------------------------------------------------------------


def test_errors_without_tracing_share_the_trace_of_their_isolation_scope() -> None:
    transport = _init()
    sentry_sdk.capture_message("one")
    sentry_sdk.capture_message("two")
    with sentry_sdk.isolation_scope() as scope:
        scope.set_new_propagation_context()
        sentry_sdk.capture_message("elsewhere")
    one, two, elsewhere = (e["contexts"]["trace"] for e in transport.events)
    assert one == two
    assert {"trace_id", "span_id"} == set(one)
    assert elsewhere["trace_id"] != one["trace_id"]
    header = transport.envelopes[0].headers["trace"]
    assert (one["trace_id"], "public") == (header["trace_id"], header["public_key"])
    assert "sampled" not in header


def test_outgoing_headers_without_a_transaction_carry_the_trace_and_no_decision() -> None:
    _init()
    traceparent = sentry_sdk.get_traceparent()
    assert traceparent is not None
    trace_id, span_id = traceparent.split("-")
    assert (32, 16) == (len(trace_id), len(span_id))
    baggage = sentry_sdk.get_baggage()
    assert baggage is not None and f"sentry-trace_id={trace_id}" in baggage
    headers = dict(sentry_sdk.get_current_scope().iter_trace_propagation_headers())
    assert {"sentry-trace": traceparent, "baggage": baggage} == headers


def test_propagate_traces_off_sends_no_headers() -> None:
    _init(propagate_traces=False)
    assert [] == list(sentry_sdk.get_current_scope().iter_trace_propagation_headers())


# -- continuing an incoming trace -----------------------------------------------------------------


def test_continue_trace_takes_the_parent_decision_and_freezes_the_incoming_dsc() -> None:
    transport = _init(traces_sample_rate=0.0)
    headers = {
        "sentry-trace": f"{TRACE}-{PARENT}-1",
        "baggage": "other-vendor=abc,sentry-trace_id=" + TRACE + ",sentry-sample_rate=0.5,"
        "sentry-public_key=upstream,sentry-sample_rand=0.25,sentry-sampled=true",
    }
    transaction = sentry_sdk.continue_trace(headers, op="http.server", name="/api", source="route")
    assert (TRACE, PARENT, True) == (
        transaction.trace_id,
        transaction.parent_span_id,
        transaction.parent_sampled,
    )
    with sentry_sdk.start_transaction(transaction):
        baggage = sentry_sdk.get_baggage()
        sentry_sdk.capture_message("inside")
    assert baggage is not None
    assert "other-vendor=abc" in baggage and "sentry-public_key=upstream" in baggage
    event = next(e for e in _transactions(transport))
    assert TRACE == event["contexts"]["trace"]["trace_id"]
    assert PARENT == event["contexts"]["trace"]["parent_span_id"]
    dsc = _envelope_of(transport, event["event_id"]).headers["trace"]
    assert ("upstream", "0.5", "0.25") == (dsc["public_key"], dsc["sample_rate"], dsc["sample_rand"])
    [error] = _errors(transport)
    assert TRACE == error["contexts"]["trace"]["trace_id"]


@pytest.mark.parametrize(
    "sentry_trace",
    [
        "not-a-trace",
        f"{TRACE[:-1]}-{PARENT}-1",
        f"{TRACE}-{PARENT}x-1",
        "0" * 32 + f"-{PARENT}-1",
        f"{TRACE}-{PARENT}-1" + "9" * 10_000,
        f"{TRACE}-{PARENT}-1é",
        b"\xff\xfe",
        None,
    ],
)
def test_a_malformed_incoming_header_starts_a_new_trace_and_never_raises(sentry_trace: object) -> None:
    _init(traces_sample_rate=1.0)
    transaction = sentry_sdk.continue_trace({"sentry-trace": sentry_trace, "baggage": "sentry-sample_rand=x"})
    assert transaction.parent_span_id is None
    assert transaction.trace_id != TRACE and len(transaction.trace_id) == 32


def test_continue_trace_reads_a_wsgi_environ() -> None:
    _init(traces_sample_rate=1.0)
    environ = {"HTTP_SENTRY_TRACE": f"{TRACE}-{PARENT}-0", "HTTP_BAGGAGE": "sentry-trace_id=" + TRACE}
    transaction = sentry_sdk.continue_trace(environ)
    with sentry_sdk.start_transaction(transaction):
        pass
    assert (TRACE, False) == (transaction.trace_id, transaction.sampled)


def test_a_trace_of_another_organization_is_not_continued() -> None:
    _init(traces_sample_rate=1.0)
    headers = {"sentry-trace": f"{TRACE}-{PARENT}-1", "baggage": f"sentry-trace_id={TRACE},sentry-org_id=99"}
    assert sentry_sdk.continue_trace(headers).trace_id != TRACE


# -- @trace ---------------------------------------------------------------------------------------


@sentry_sdk.trace
def _load(n: int) -> int:
    return n * 2


@sentry_sdk.trace(op="render", name="render the page")
async def _render() -> str:
    await asyncio.sleep(0)
    return "page"


def test_trace_wraps_sync_and_async_functions_in_child_spans() -> None:
    transport = _init(traces_sample_rate=1.0)

    async def main() -> str:
        with sentry_sdk.start_transaction(name="job"):
            assert 4 == _load(2)
            return await _render()

    assert "page" == asyncio.run(main())
    [event] = _transactions(transport)
    assert [("function", f"{__name__}._load"), ("render", "render the page")] == [
        (s["op"], s["description"]) for s in event["spans"]
    ]


def test_trace_outside_a_transaction_only_calls_the_function() -> None:
    transport = _init(traces_sample_rate=1.0)
    assert 6 == _load(3)
    assert [] == transport.events


def test_the_public_classes_are_sentry_sdks_names() -> None:
    _init(traces_sample_rate=1.0)
    transaction = sentry_sdk.start_transaction(name="t")
    assert isinstance(transaction, Transaction) and isinstance(transaction, Span)
    assert transaction.containing_transaction is transaction
    child = transaction.start_child(op="x")
    assert child.containing_transaction is transaction
    assert child.to_traceparent() == f"{transaction.trace_id}-{child.span_id}-1"
    child.set_http_status(404)
    assert "not_found" == child.status


# -- lifetimes and nesting --------------------------------------------------------------------


def test_an_unfinished_transaction_goes_with_its_scope_without_being_sent_or_kept() -> None:
    """A transaction entered on a scope and never finished is not sent, and nothing keeps it (or
    its spans) alive once the scope is gone."""
    import gc
    import weakref

    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.isolation_scope():
        with sentry_sdk.new_scope():
            transaction = sentry_sdk.start_transaction(name="abandoned")
            transaction.__enter__()
            sentry_sdk.start_span(op="db").__enter__()  # an unfinished child too
            gone = weakref.ref(transaction)
            del transaction
    gc.collect()
    assert gone() is None
    assert [] == _transactions(transport)


def test_a_transaction_started_inside_another_is_its_own_and_the_outer_one_comes_back() -> None:
    """Nested transactions (as sentry-sdk's): the inner one is sent on its own, and the spans after
    it belong to the outer one again."""
    transport = _init(traces_sample_rate=1.0)
    with sentry_sdk.start_transaction(name="outer") as outer:
        with sentry_sdk.start_transaction(name="inner"):
            with sentry_sdk.start_span(op="in.inner"):
                pass
        assert outer is sentry_sdk.get_current_span()
        with sentry_sdk.start_span(op="in.outer"):
            pass
    inner_event, outer_event = _transactions(transport)
    assert ("inner", ["in.inner"]) == (inner_event["transaction"], [s["op"] for s in inner_event["spans"]])
    assert ("outer", ["in.outer"]) == (outer_event["transaction"], [s["op"] for s in outer_event["spans"]])
