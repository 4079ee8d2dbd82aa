"""What the tracing functions of the scope and of the module do: start, sample, continue, propagate.

The scope (and ``sentry_sdk``'s module functions through it) calls these; they find the running
span on the given scope and, when none runs, the trace of the isolation scope.
"""

from __future__ import annotations

from .._log import logger
from . import context as _ctx
from .headers import format_baggage, parse_unit_float
from .propagation import PropagationContext, headers_from
from .sampling import decide, new_sample_rand, tracing_enabled
from .spans import DEFAULT_MAX_SPANS, Span, Transaction

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .types import TracingScope as Scope

__all__ = [
    "baggage",
    "continue_trace",
    "dynamic_sampling_context",
    "incoming_context",
    "propagation_context",
    "propagation_headers",
    "start_span",
    "start_transaction",
    "traceparent",
    "transaction_continuing",
]


def _options() -> dict[str, Any]:
    return _ctx.options()


def propagation_context(scope: Scope) -> PropagationContext:
    """The trace of ``scope`` when no span runs: its own, else its isolation scope's."""
    own: PropagationContext | None = scope._propagation
    if own is not None:
        return own
    isolation: PropagationContext = _ctx.isolation_scope().get_propagation_context()
    return isolation


def traceparent(scope: Scope) -> str:
    span: Span | None = scope._span
    if span is not None:
        return span.to_traceparent()
    return propagation_context(scope).to_traceparent()


def dynamic_sampling_context(scope: Scope) -> dict[str, str]:
    span: Span | None = scope._span
    transaction = span.containing_transaction if span is not None else None
    if transaction is not None:
        return transaction.get_baggage_entries(_options())
    return propagation_context(scope).dynamic_sampling_context(_options())


def baggage(scope: Scope) -> str:
    span: Span | None = scope._span
    transaction = span.containing_transaction if span is not None else None
    if transaction is not None:
        return format_baggage(transaction.get_baggage_entries(_options()), transaction._third_party_baggage)
    return propagation_context(scope).to_baggage(_options())


def propagation_headers(scope: Scope) -> list[tuple[str, str]]:
    """The ``sentry-trace`` and ``baggage`` headers for an outgoing request (none if turned off)."""
    if _options().get("propagate_traces") is False:
        return []
    headers = [("sentry-trace", traceparent(scope))]
    value = baggage(scope)
    if value:
        headers.append(("baggage", value))
    return headers


def continue_trace(
    scope: Scope, environ_or_headers: Any, op: str | None, name: str | None, source: str | None, origin: str
) -> Transaction:
    """Make the incoming trace the isolation scope's, and a transaction continuing it."""
    isolation = _ctx.isolation_scope()
    context = incoming_context(*headers_from(environ_or_headers))
    isolation._propagation = context
    return transaction_continuing(context, op=op, name=name or "", source=source or "custom", origin=origin)


def incoming_context(sentry_trace: object, baggage: object) -> PropagationContext:
    """The trace of incoming ``sentry-trace`` and ``baggage`` values (unparsed while none is given);
    a new trace instead when ``strict_trace_continuation`` or the org id forbid continuing it."""
    context = PropagationContext(sentry_trace, baggage)
    if (sentry_trace is not None or baggage is not None) and _ignores_incoming(context):
        return PropagationContext()
    return context


def transaction_continuing(context: PropagationContext, **kwargs: Any) -> Transaction:
    """A transaction (not yet sampled) in the trace of ``context``, as the child of its parent."""
    if context.parent_span_id is None:
        return Transaction(trace_id=context.trace_id, **kwargs)
    return Transaction(
        trace_id=context.trace_id,
        parent_span_id=context.parent_span_id,
        parent_sampled=context.parent_sampled,
        same_process_as_parent=False,
        baggage=(context.incoming_dsc or {}, context.third_party_baggage),
        **kwargs,
    )


def _ignores_incoming(context: PropagationContext) -> bool:
    """``strict_trace_continuation``: a trace of another Sentry organization is not continued."""
    dsc = context.incoming_dsc
    if context.parent_span_id is None:
        return False
    options = _options()
    ours = options.get("org_id")
    if ours is None:
        from .propagation import dsc_from_options

        ours = dsc_from_options(options, "").get("org_id")
    theirs = dsc.get("org_id") if dsc else None
    if ours is not None and theirs is not None and str(ours) != str(theirs):
        logger.debug("incoming trace of organization %s not continued (ours: %s)", theirs, ours)
        return True
    if options.get("strict_trace_continuation") and (ours is None) != (theirs is None):
        logger.debug("incoming trace not continued: strict_trace_continuation and one org id missing")
        return True
    return False


def start_transaction(
    scope: Scope,
    transaction: Transaction | None,
    custom_sampling_context: dict[str, Any] | None,
    kwargs: dict[str, Any],
) -> Transaction:
    """Start ``transaction`` (or one made of ``kwargs``) and take its sampling decision."""
    if transaction is None:
        transaction = Transaction(**kwargs)
    elif kwargs.get("sampled") is not None:
        transaction.sampled = kwargs["sampled"]
    options = _options()
    # What a traces_sampler is given; built only for one (the transaction's JSON costs a span).
    context: dict[str, Any] = dict(custom_sampling_context) if custom_sampling_context else {}
    if options.get("traces_sampler") is not None:
        context = {
            "transaction_context": transaction.to_json(),
            "parent_sampled": transaction.parent_sampled,
            **context,
        }
    transaction.custom_sampling_context = context
    incoming = transaction._dsc or {}
    parent_rate = parse_unit_float(incoming.get("sample_rate"))
    sample_rand = parse_unit_float(incoming.get("sample_rand"))
    if sample_rand is None or sample_rand >= 1.0:
        isolation_context = _ctx.isolation_scope()._propagation
        if isolation_context is not None and isolation_context.trace_id == transaction.trace_id:
            sample_rand = isolation_context.sample_rand()  # one trace: one random number
        else:
            sample_rand = new_sample_rand(transaction.parent_sampled, parent_rate)
    transaction.sample_rand = sample_rand
    if not tracing_enabled(options) and transaction.sampled is None:
        transaction.sampled = False
        return transaction
    sampled, rate = decide(
        options=options,
        sampling_context=context,
        parent_sampled=transaction.parent_sampled,
        sample_rand=sample_rand,
        sampled=transaction.sampled,
    )
    transaction.sampled = sampled
    transaction.sample_rate = rate if rate is not None else parent_rate
    experiments = options.get("_experiments") or {}
    max_spans = experiments.get("max_spans") if isinstance(experiments, dict) else None
    transaction._max_spans = max_spans if isinstance(max_spans, int) and max_spans >= 0 else DEFAULT_MAX_SPANS
    return transaction


def start_span(scope: Scope, kwargs: dict[str, Any]) -> Span:
    """A child of ``scope``'s running span; without one, a span of the scope's trace (not sent)."""
    parent: Span | None = scope._span
    if parent is not None:
        return parent.start_child(**kwargs)
    kwargs.setdefault("trace_id", propagation_context(scope).trace_id)
    return Span(**kwargs)
