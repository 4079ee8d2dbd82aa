"""The scope's tracing methods: its running span, its trace, and starting spans in it.

A mixin of :class:`sentry_sdk.scope.Scope`, so that the scope module keeps to scope data. The
tracing model is imported when a method is first used: ``import sentry_sdk`` does not load it.
"""

from __future__ import annotations

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from .propagation import PropagationContext
    from .spans import Span, Transaction

__all__ = ["TracingMethods"]


class TracingMethods:
    """sentry-sdk 2.x's tracing methods of a scope (the slots are the scope's own)."""

    # The running span, and the trace when none runs (made on first use; shared by copies).
    # Set by the scope (its _reset_data and __copy__).
    __slots__ = ("_span", "_propagation")
    _span: Span | None
    _propagation: PropagationContext | None

    @property
    def span(self) -> Span | None:
        """The span running in this scope, if any."""
        return self._span

    @span.setter
    def span(self, span: Span | None) -> None:
        self._span = span

    def get_propagation_context(self) -> PropagationContext:
        """The trace of this scope when no span runs (made now if it has none yet)."""
        if self._propagation is None:
            from .propagation import PropagationContext

            self._propagation = PropagationContext()
        return self._propagation

    def set_new_propagation_context(self) -> None:
        """Start a new trace for this scope."""
        from .propagation import PropagationContext

        self._propagation = PropagationContext()

    def generate_propagation_context(self, incoming_data: Any = None) -> None:
        """Continue the trace of ``incoming_data`` (a WSGI environ or headers), or start a new one."""
        from .propagation import PropagationContext

        self._propagation = PropagationContext.from_incoming(incoming_data)

    def get_traceparent(self, *args: Any, **kwargs: Any) -> str | None:
        """The ``sentry-trace`` value for an outgoing request: the span's, else the trace's."""
        from .api import traceparent

        return traceparent(self)

    def get_baggage(self, *args: Any, **kwargs: Any) -> Any:
        """The ``baggage`` value for an outgoing request (as a string; sentry-sdk gives an object)."""
        from .api import baggage

        return baggage(self)

    def get_dynamic_sampling_context(self) -> dict[str, str] | None:
        from .api import dynamic_sampling_context

        return dynamic_sampling_context(self)

    def get_trace_context(self) -> dict[str, Any]:
        span = self._span
        if span is not None:
            return span.get_trace_context()
        return self.get_propagation_context().trace_context()

    def iter_trace_propagation_headers(self, *args: Any, **kwargs: Any) -> Iterator[tuple[str, str]]:
        """``(name, value)`` of the ``sentry-trace`` and ``baggage`` headers for an outgoing request."""
        from .api import propagation_headers

        return iter(propagation_headers(self))

    def iter_headers(self) -> Iterator[tuple[str, str]]:
        from .api import propagation_headers

        return iter(propagation_headers(self))

    def start_transaction(
        self,
        transaction: Transaction | None = None,
        instrumenter: str = "sentry",
        custom_sampling_context: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Transaction:
        """Start (and sample) a transaction; enter it with ``with`` or end it with ``finish()``."""
        from .api import start_transaction

        return start_transaction(self, transaction, custom_sampling_context, kwargs)

    def start_span(self, instrumenter: str = "sentry", **kwargs: Any) -> Span:
        """A child of the running span (or a span of its own trace when none runs)."""
        from .api import start_span

        return start_span(self, kwargs)

    def continue_trace(
        self,
        environ_or_headers: Any,
        op: str | None = None,
        name: str | None = None,
        source: str | None = None,
        origin: str = "manual",
    ) -> Transaction:
        """A transaction continuing the trace of ``environ_or_headers``, to pass to start_transaction."""
        from .api import continue_trace

        return continue_trace(self, environ_or_headers, op, name, source, origin)
