"""A request's trace: continued from its headers on every request, a transaction when sampled.

Every request gets a trace of its own on its isolation scope (tracing without performance): the
incoming ``sentry-trace`` and ``baggage`` values are only kept, and parsed when something asks
for the trace (an error event, an outgoing request), so errors link across services at no cost
to a request that sends nothing.

With tracing enabled and the request's method among the integration's
``http_methods_to_capture``, the request also becomes a transaction (op ``http.server``):
started and sampled before the application runs (``traces_sampler`` gets ``wsgi_environ`` or
``asgi_scope``), running on the request's own current scope so that spans started while it is
handled are its children, given the response's status, named as the request's error events are
when it ends (unless the program renamed it), and sent unless its status is one of
``trace_ignore_status_codes``.
"""

from __future__ import annotations

from ..._log import logger, report_internal_error
from ..._tracing import context as _tracing
from ..._tracing.api import incoming_context, start_transaction, transaction_continuing
from ..._tracing.sampling import tracing_enabled
from .options import DEFAULT_HTTP_METHODS_TO_CAPTURE

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from typing import Any

    from ..._tracing.spans import Transaction
    from .context import RequestContext

__all__ = ["RequestTrace", "begin_request_trace"]

OP_HTTP_SERVER = "http.server"
OP_WEBSOCKET_SERVER = "websocket.server"


def begin_request_trace(
    context: RequestContext,
    options: dict[str, Any],
    origin: str,
    methods: tuple[str, ...] | None = None,
) -> RequestTrace | None:
    """Give the request (just started, its scope entered) its trace; its transaction if traced.

    ``methods`` overrides the integration's ``http_methods_to_capture`` (a middleware's own
    option). Returns ``None`` when the request is not a transaction. Never raises.
    """
    try:
        scope = context.scope
        if scope is None:
            return None
        environ, asgi_scope = context.environ, context.asgi_scope
        if environ is not None:
            sentry_trace, baggage = environ.get("HTTP_SENTRY_TRACE"), environ.get("HTTP_BAGGAGE")
        elif asgi_scope is not None:
            sentry_trace, baggage = _asgi_trace_headers(asgi_scope)
        else:
            return None
        if sentry_trace is None and baggage is None:
            # A trace of the request's own, made when first asked for (the scope it was forked
            # from may hold one, which other requests share).
            scope._propagation = None
        else:
            scope._propagation = incoming_context(sentry_trace, baggage)
        if not tracing_enabled(options):
            return None
        if environ is not None:
            method = str(environ.get("REQUEST_METHOD") or "GET").upper()
            path = str(environ.get("SCRIPT_NAME") or "") + str(environ.get("PATH_INFO") or "")
            op, sampling_context = OP_HTTP_SERVER, {"wsgi_environ": environ}
        elif asgi_scope is not None:
            websocket = asgi_scope.get("type") == "websocket"
            method = "GET" if websocket else str(asgi_scope.get("method") or "GET").upper()
            root, path = str(asgi_scope.get("root_path") or ""), str(asgi_scope.get("path") or "")
            if root and not path.startswith(root):  # servers differ on this (uvicorn 0.26+ joins them)
                path = root + path
            op = OP_WEBSOCKET_SERVER if websocket else OP_HTTP_SERVER
            sampling_context = {"asgi_scope": asgi_scope}
        else:
            return None
        if methods is None:
            methods = getattr(context.integration, "http_methods_to_capture", DEFAULT_HTTP_METHODS_TO_CAPTURE)
        if op == OP_HTTP_SERVER and method not in methods:
            return None
        propagation = scope.get_propagation_context()
        transaction = transaction_continuing(
            propagation, op=op, name=path or "/", source="url", origin=origin
        )
        current = _tracing.current_scope()  # the request's own current scope (it was just entered)
        start_transaction(current, transaction, sampling_context, {})
        transaction._scope = current
        current._span = transaction
        return RequestTrace(transaction, context)
    except Exception:
        report_internal_error()
        return None


def _asgi_trace_headers(scope: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The request's ``sentry-trace`` and ``baggage`` values (ASGI header names are lowercase)."""
    trace = baggage = None
    for name, value in scope.get("headers") or ():
        if name == b"sentry-trace":
            trace = value.decode("latin-1")
        elif name == b"baggage":
            # Several baggage headers are one list (W3C): joined, as a proxy may have split them.
            text = value.decode("latin-1")
            baggage = text if baggage is None else f"{baggage},{text}"
    return trace, baggage


class RequestTrace:
    """A request's transaction while the request runs: its status, its end."""

    __slots__ = ("_context", "_initial", "status_code", "transaction")

    def __init__(self, transaction: Transaction, context: RequestContext) -> None:
        self.transaction = transaction
        self._context = context
        self._initial = (transaction.name, transaction.source)
        self.status_code: int | None = None
        transaction._naming = self._name

    def _name(self) -> None:
        """Name the transaction as the request's events, unless the program renamed it."""
        transaction = self.transaction
        if (transaction.name, transaction.source) == self._initial:
            context = self._context
            context.prepare_for_event()
            name, source = context.naming()
            transaction.set_name(name, source)

    def wsgi_start_response(self, start_response: Callable[..., Any]) -> Callable[..., Any]:
        """``start_response`` that notes the response's status on the way (and changes nothing)."""

        def traced_start_response(status: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                self.status_code = int(str(status)[:3])
            except ValueError:
                pass
            return start_response(status, *args, **kwargs)

        return traced_start_response

    def asgi_send(
        self, send: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> Callable[[Any], Awaitable[None]]:
        """``send`` that notes the response's status on the way (and changes nothing)."""

        async def traced_send(message: Any) -> None:
            if self.status_code is None:
                try:
                    if message.get("type") == "http.response.start":
                        status = message.get("status")
                        if isinstance(status, int):
                            self.status_code = status
                except Exception:  # not a message dict: the server will say so
                    pass
            await send(message)

        return traced_send

    def finish(self, failed: bool = False) -> None:
        """End the transaction (in the request's scope, before it is left) and send it. Never raises."""
        try:
            transaction = self.transaction
            code = self.status_code
            if failed and (code is None or code < 500):
                # The exception escaped the application: the server answers 500, whatever the
                # application had started to send.
                code = 500
            if code is not None:
                transaction.set_http_status(code)
            elif transaction.status is None:
                transaction.set_status("ok")
            transaction._naming = None
            self._name()
            ignored = _tracing.options().get("trace_ignore_status_codes") or ()
            if code is not None and code in ignored and transaction.sampled:
                transaction.sampled = None  # not sent, and not counted as sampled out either
                _lose_ignored(transaction, code)
            transaction.finish(transaction._scope)
        except Exception:
            report_internal_error()


def _lose_ignored(transaction: Transaction, code: int) -> None:
    logger.debug("transaction %r not sent: status %d is in trace_ignore_status_codes", transaction.name, code)
    client = _tracing.client()
    transport = getattr(client, "transport", None) if client is not None else None
    if transport is not None:
        transport.record_lost_event("event_processor", "transaction")
        transport.record_lost_event("event_processor", "span", len(transaction._finished_spans) + 1)
