"""The span model: spans, transactions, and what a finished transaction sends.

A :class:`Span` is a timed operation in a trace; a :class:`Transaction` is the root span of one
service's part of a trace, and is what gets sent (as a ``transaction`` event holding its finished
child spans). Children know their transaction; the transaction knows only the children that have
finished (at most ``max_spans`` of them, the rest counted as dropped), so a span that is never
finished keeps nothing alive, and an unsent transaction is garbage once its scope is gone.

Entering a span (``with``) makes it the current scope's span until the block ends; an exception
leaving the block marks it ``internal_error``.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from .._log import logger, report_internal_error
from . import context
from .headers import format_baggage, format_sample_rand, format_sentry_trace
from .ids import span_id
from .ids import trace_id as new_trace_id
from .propagation import dsc_from_options
from .sampling import tracing_enabled

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from typing import Any

    from .types import TracingScope as Scope

__all__ = ["DEFAULT_MAX_SPANS", "NoOpSpan", "Span", "Transaction", "status_of_http"]

DEFAULT_MAX_SPANS = 1000
# Sources whose names are too specific to group by: left out of the DSC's ``transaction``.
LOW_QUALITY_SOURCES = frozenset(("url",))

_HTTP_STATUS = {
    400: "invalid_argument",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    409: "already_exists",
    413: "failed_precondition",
    429: "resource_exhausted",
    499: "cancelled",
    500: "internal_error",
    501: "unimplemented",
    503: "unavailable",
    504: "deadline_exceeded",
}


def status_of_http(code: int) -> str:
    """The span status of an HTTP response status code."""
    if code < 400:
        return "ok"
    known = _HTTP_STATUS.get(code)
    if known is not None:
        return known
    return "invalid_argument" if code < 500 else "internal_error"


_new_span_id = span_id


def _as_epoch(moment: datetime | float) -> float:
    return float(moment) if isinstance(moment, (int, float)) else moment.timestamp()


class Span:
    """A timed operation in a trace (``sentry_sdk.tracing.Span``)."""

    __slots__ = (
        "__weakref__",  # as sentry-sdk's spans (plain objects), they can be weakly referenced
        "_containing_transaction",
        "_data",
        "_previous",
        "_scope",
        "_end_epoch",
        "_start_epoch",
        "_started",
        "_tags",
        "description",
        "op",
        "origin",
        "parent_span_id",
        "same_process_as_parent",
        "sampled",
        "span_id",
        "status",
        "trace_id",
    )

    def __init__(
        self,
        trace_id: str | None = None,
        span_id: str | None = None,
        parent_span_id: str | None = None,
        same_process_as_parent: bool = True,
        sampled: bool | None = None,
        op: str | None = None,
        description: str | None = None,
        hub: object = None,
        status: str | None = None,
        containing_transaction: Transaction | None = None,
        start_timestamp: datetime | float | None = None,
        scope: Scope | None = None,
        origin: str = "manual",
        name: str | None = None,
        **_ignored: Any,
    ) -> None:
        self.trace_id = trace_id or new_trace_id()
        self.span_id = span_id or _new_span_id()
        self.parent_span_id = parent_span_id
        self.same_process_as_parent = same_process_as_parent
        self.sampled = sampled
        self.op = op
        self.description = description if description is not None else name
        self.status = status
        self.origin = origin
        self._containing_transaction = containing_transaction
        self._scope = scope
        # Made at the first set_tag / set_data: most spans never get either.
        self._tags: dict[str, Any] | None = None
        self._data: dict[str, Any] | None = None
        # Times are kept as seconds since the epoch (what the wire wants); the datetime
        # attributes of sentry-sdk's spans are made from them when asked for.
        self._start_epoch = _as_epoch(start_timestamp) if start_timestamp is not None else time.time()
        # A monotonic start, so that the duration does not jump with the wall clock.
        self._started = time.perf_counter()
        self._end_epoch: float | None = None
        # The spans running on the scope when this one was entered, innermost first, as nested
        # pairs (span, the pairs before it): no list to build for the common single entry.
        self._previous: tuple[Any, ...] | None = None

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__}(op={self.op!r}, description={self.description!r},"
            f" trace_id={self.trace_id!r}, span_id={self.span_id!r}, sampled={self.sampled!r})>"
        )

    # -- names --------------------------------------------------------------------------------

    @property
    def start_timestamp(self) -> datetime:
        """When the span started (a datetime in UTC, as sentry-sdk's)."""
        return datetime.fromtimestamp(self._start_epoch, timezone.utc)

    @start_timestamp.setter
    def start_timestamp(self, value: datetime | float) -> None:
        self._start_epoch = _as_epoch(value)

    @property
    def timestamp(self) -> datetime | None:
        """When the span ended (UTC), or ``None`` while it runs."""
        end = self._end_epoch
        return None if end is None else datetime.fromtimestamp(end, timezone.utc)

    @timestamp.setter
    def timestamp(self, value: datetime | float | None) -> None:
        self._end_epoch = None if value is None else _as_epoch(value)

    @property
    def name(self) -> str | None:
        return self.description

    @name.setter
    def name(self, value: str | None) -> None:
        self.description = value

    @property
    def containing_transaction(self) -> Transaction | None:
        """The transaction this span belongs to (itself, for a transaction)."""
        return self._containing_transaction

    # -- as a context manager -----------------------------------------------------------------

    def __enter__(self) -> Span:
        scope = self._scope if self._scope is not None else context.current_scope()
        self._scope = scope
        self._previous = (scope._span, self._previous)
        scope._span = self
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc is not None and self.status is None:
                self.set_status("internal_error")
            scope = self._scope
            self.finish(scope)
            previous = self._previous
            if scope is not None and previous is not None:
                scope._span, self._previous = previous
        except Exception:
            report_internal_error()

    # -- children -----------------------------------------------------------------------------

    def start_child(self, instrumenter: str = "sentry", **kwargs: Any) -> Span:
        """A span under this one, in the same trace and transaction, with its sampling decision."""
        kwargs.setdefault("sampled", self.sampled)
        return Span(
            trace_id=self.trace_id,
            parent_span_id=self.span_id,
            containing_transaction=self._containing_transaction,
            **kwargs,
        )

    # -- data ---------------------------------------------------------------------------------

    def set_tag(self, key: str, value: Any) -> None:
        if self._tags is None:
            self._tags = {}
        self._tags[key] = value

    def set_data(self, key: str, value: Any) -> None:
        if self._data is None:
            self._data = {}
        self._data[key] = value

    def update_data(self, data: Mapping[str, Any]) -> None:
        if self._data is None:
            self._data = {}
        self._data.update(data)

    def set_status(self, value: str) -> None:
        self.status = value

    def set_http_status(self, http_status: int) -> None:
        """The response's status code as data (``http.response.status_code``) and as the status."""
        self.set_tag("http.status_code", str(http_status))
        self.set_data("http.response.status_code", http_status)
        self.set_status(status_of_http(http_status))

    def set_measurement(self, name: str, value: float, unit: str = "") -> None:
        """A measurement of the span's transaction (Sentry keeps measurements per transaction)."""
        transaction = self._containing_transaction
        if transaction is not None:
            transaction.set_measurement(name, value, unit)

    def set_context(self, key: str, value: dict[str, Any]) -> None:
        transaction = self._containing_transaction
        if transaction is not None:
            transaction.set_context(key, value)

    def set_origin(self, origin: str) -> None:
        self.origin = origin

    # -- propagation --------------------------------------------------------------------------

    def to_traceparent(self) -> str:
        """The ``sentry-trace`` header value for a request made inside this span."""
        return format_sentry_trace(self.trace_id, self.span_id, self.sampled)

    def to_baggage(self) -> str | None:
        """The ``baggage`` header value (the transaction's DSC), if the span has a transaction."""
        transaction = self._containing_transaction
        if transaction is None:
            return None
        return transaction._baggage_header()

    def iter_headers(self) -> Iterator[tuple[str, str]]:
        yield "sentry-trace", self.to_traceparent()
        baggage = self.to_baggage()
        if baggage:
            yield "baggage", baggage

    # -- the wire -----------------------------------------------------------------------------

    def get_trace_context(self) -> dict[str, Any]:
        """``contexts.trace`` of an event captured inside this span."""
        context: dict[str, Any] = {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "op": self.op,
            "status": self.status,
            "origin": self.origin,
        }
        if self.parent_span_id is not None:
            context["parent_span_id"] = self.parent_span_id
        if self.description is not None:
            context["description"] = self.description
        if self._data:
            context["data"] = dict(self._data)
        return {k: v for k, v in context.items() if v is not None}

    def to_json(self) -> dict[str, Any]:
        """The span as an entry of its transaction's ``spans``."""
        span: dict[str, Any] = {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "same_process_as_parent": self.same_process_as_parent,
            "op": self.op,
            "description": self.description,
            "start_timestamp": self._start_epoch,
            "timestamp": self._end_epoch,
            "origin": self.origin,
            "status": self.status,
        }
        if self._tags:
            span["tags"] = dict(self._tags)
        if self._data:
            span["data"] = dict(self._data)
        return {k: v for k, v in span.items() if v is not None}

    # -- the end ------------------------------------------------------------------------------

    def _end(self, end_timestamp: datetime | float | None) -> bool:
        """Stamp the end; False if the span had ended already."""
        if self._end_epoch is not None:
            return False
        if end_timestamp is None:
            self._end_epoch = self._start_epoch + (time.perf_counter() - self._started)
        else:
            self._end_epoch = _as_epoch(end_timestamp)
        return True

    def finish(
        self, scope: Scope | None = None, end_timestamp: datetime | float | None = None, **_ignored: Any
    ) -> str | None:
        """End the span; it is recorded in its transaction if both are sampled. Once only."""
        try:
            if not self._end(end_timestamp):
                return None
            transaction = self._containing_transaction
            if transaction is not None and self.sampled and transaction is not self:
                transaction._record(self)
        except Exception:
            report_internal_error()
        return None


class Transaction(Span):
    """The root span of one service's part of a trace: what is sent (``sentry_sdk.tracing.Transaction``)."""

    __slots__ = (
        "_contexts",
        "_dropped_spans",
        "_dsc",
        "_finished_spans",
        "_max_spans",
        "_measurements",
        "_naming",
        "_third_party_baggage",
        "custom_sampling_context",
        "parent_sampled",
        "sample_rand",
        "sample_rate",
        "source",
    )

    def __init__(
        self,
        name: str = "",
        parent_sampled: bool | None = None,
        baggage: object = None,
        source: str = "custom",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.description = name or kwargs.get("description") or ""
        self.parent_sampled = parent_sampled
        self.source = source
        self.sample_rate: float | None = None
        self.sample_rand: float | None = None
        self.custom_sampling_context: dict[str, Any] = {}
        self._containing_transaction = self
        self._finished_spans: list[Span] = []
        self._dropped_spans = 0
        self._max_spans = DEFAULT_MAX_SPANS
        self._measurements: dict[str, dict[str, Any]] = {}
        self._contexts: dict[str, dict[str, Any]] = {}
        # The DSC: frozen once set (from an incoming baggage, or built at the first request).
        self._dsc: dict[str, str] | None = None
        self._third_party_baggage = ""
        # Names the transaction (once) before its DSC is frozen: an integration that learns the
        # name late (a web request's route) gives it here.
        self._naming: Callable[[], None] | None = None
        if baggage is not None:
            self._take_baggage(baggage)

    def _take_baggage(self, baggage: object) -> None:
        if isinstance(baggage, tuple) and len(baggage) == 2 and isinstance(baggage[1], str):
            sentry, third_party = baggage  # (dsc, third-party) from continue_trace
        else:
            from .headers import parse_baggage

            sentry, third_party = parse_baggage(baggage)
        self._third_party_baggage = third_party
        if sentry:
            self._dsc = dict(sentry)

    def __repr__(self) -> str:
        return (
            f"<Transaction(name={self.name!r}, op={self.op!r}, trace_id={self.trace_id!r},"
            f" span_id={self.span_id!r}, parent_span_id={self.parent_span_id!r}, sampled={self.sampled!r},"
            f" source={self.source!r})>"
        )

    @property
    def name(self) -> str:
        return self.description or ""

    @name.setter
    def name(self, value: str | None) -> None:
        self.description = value or ""

    def set_name(self, name: str, source: str | None = None) -> None:
        self.description = name
        if source is not None:
            self.source = source

    def set_measurement(self, name: str, value: float, unit: str = "") -> None:
        self._measurements[name] = {"value": value, "unit": unit}

    def set_context(self, key: str, value: dict[str, Any]) -> None:
        self._contexts[key] = value

    def _record(self, span: Span) -> None:
        if len(self._finished_spans) >= self._max_spans:
            self._dropped_spans += 1
            return
        self._finished_spans.append(span)

    # -- the DSC ------------------------------------------------------------------------------

    def get_baggage_entries(self, options: Mapping[str, Any]) -> dict[str, str]:
        """The trace's DSC: the incoming one, or this transaction's, built once and frozen."""
        if self._dsc is None:
            naming, self._naming = self._naming, None
            if naming is not None:
                naming()
            dsc = dsc_from_options(options, self.trace_id)
            if self.sample_rate is not None:
                dsc["sample_rate"] = repr(float(self.sample_rate))
            if self.sampled is not None:
                dsc["sampled"] = "true" if self.sampled else "false"
            if self.sample_rand is not None:
                dsc["sample_rand"] = format_sample_rand(self.sample_rand)
            if self.description and self.source not in LOW_QUALITY_SOURCES:
                dsc["transaction"] = self.description
            self._dsc = dsc
        return self._dsc

    def _baggage_header(self) -> str:
        return format_baggage(self.get_baggage_entries(context.options()), self._third_party_baggage)

    def to_baggage(self) -> str | None:
        return self._baggage_header()

    # -- the wire -----------------------------------------------------------------------------

    def get_trace_context(self) -> dict[str, Any]:
        context = super().get_trace_context()
        context.pop("description", None)
        return context

    def to_json(self) -> dict[str, Any]:
        rv = super().to_json()
        rv["name"] = self.name
        rv["source"] = self.source
        rv["sampled"] = self.sampled
        return rv

    def finish(
        self,
        scope: Scope | None = None,
        end_timestamp: datetime | float | None = None,
        hub: object = None,
        **_ignored: Any,
    ) -> str | None:
        """End the transaction and send it (when sampled) with its finished spans; returns its id."""
        try:
            if not self._end(end_timestamp):
                return None
            client = context.client()
            if client is None or not client.is_active():
                return None
            transport = getattr(client, "transport", None)
            if not self.sampled:
                logger.debug("transaction %r not sent: not sampled", self.name)
                if transport is not None and self.sampled is False and tracing_enabled(client.options):
                    transport.record_lost_event("sample_rate", "transaction")
                    transport.record_lost_event("sample_rate", "span", len(self._finished_spans) + 1)
                return None
            if not self.name:
                logger.warning("a transaction without a name is sent as '<unlabeled transaction>'")
                self.description = "<unlabeled transaction>"
            if self._dropped_spans and transport is not None:
                logger.debug(
                    "transaction %r: %d spans over max_spans dropped", self.name, self._dropped_spans
                )
                transport.record_lost_event("buffer_overflow", "span", self._dropped_spans)
            event: dict[str, Any] = {
                "type": "transaction",
                "transaction": self.name,
                "transaction_info": {"source": self.source},
                "contexts": {**self._contexts, "trace": self.get_trace_context()},
                "start_timestamp": self._start_epoch,
                "timestamp": self._end_epoch if self._end_epoch is not None else self._start_epoch,
                "spans": [span.to_json() for span in self._finished_spans],
            }
            if self._tags:
                event["tags"] = dict(self._tags)
            if self._measurements:
                event["measurements"] = dict(self._measurements)
            on = scope if scope is not None else (self._scope or context.current_scope())
            return context.send_transaction(event, on, self)
        except Exception:
            report_internal_error()
            return None


class NoOpSpan(Span):
    """A span that records nothing (``sentry_sdk.tracing.NoOpSpan``)."""

    __slots__ = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(sampled=False, **kwargs)

    def start_child(self, instrumenter: str = "sentry", **kwargs: Any) -> NoOpSpan:
        return NoOpSpan()

    def finish(self, scope: Scope | None = None, end_timestamp: Any = None, **_ignored: Any) -> str | None:
        self._end(end_timestamp)
        return None
