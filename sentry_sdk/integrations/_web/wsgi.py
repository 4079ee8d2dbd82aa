"""Running one WSGI request under the SDK: the core of ``SentryWsgiMiddleware`` and of WSGI frameworks.

The request runs in its own isolation scope (also while its response is iterated and closed), its
body is teed as the application reads it, and an exception escaping the application or its
response iterable is sent as unhandled, then re-raised unchanged.
"""

from __future__ import annotations

from ..._log import report_internal_error
from ...api import get_client, get_isolation_scope
from ...hub import ScopeReentry
from .._capture import capture_unhandled
from .body import BODY_LIMITS, InputTee
from .context import RequestContext, current_request, finish_request, start_request
from .tracing import RequestTrace, begin_request_trace

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

    from .. import Integration

    WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

__all__ = ["run_wsgi"]


def _may_have_body(environ: dict[str, Any]) -> bool:
    """Whether the request may have a body: a Content-Length other than 0, a transfer coding, or
    a server that marks its input as ending by itself (``wsgi.input_terminated``; some set it on
    every request).

    A request with none of these has no body (RFC 9112, 6.3), so its stream is left as it is:
    nothing to tee.
    """
    length = environ.get("CONTENT_LENGTH")
    return (
        bool(length and length != "0")
        or "HTTP_TRANSFER_ENCODING" in environ
        or bool(environ.get("wsgi.input_terminated"))
    )


def _content_length(environ: dict[str, Any]) -> int | None:
    value = environ.get("CONTENT_LENGTH")
    # Most requests have none: no int() of "" (and its exception) on the hot path.
    return int(value) if value and type(value) is str and value.isdigit() else None


def run_wsgi(
    app: WsgiApp,
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    mechanism: str = "wsgi",
    integration: type[Integration] | str | None = None,
    use_x_forwarded_for: bool = False,
    span_origin: str | None = None,
    http_methods_to_capture: tuple[str, ...] | None = None,
    adapt: Callable[[RequestContext], None] | None = None,
    plain_response: Callable[[Any], bool] | None = None,
) -> Iterable[bytes]:
    """Call ``app(environ, start_response)`` as one request under the SDK.

    Does nothing but call the application when no client is bound, when ``integration`` is given
    and not enabled, or inside a request that already runs under the SDK. ``span_origin`` is the
    request transaction's origin (``auto.http.<mechanism>`` by default); ``http_methods_to_capture``
    a middleware's own methods (the integration's otherwise). A framework's ``adapt`` gives the
    request's context its readers (also the context of a runner further out, such as a
    ``SentryWsgiMiddleware`` around the framework's app); ``plain_response(response)`` tells a
    response iterable of the framework's that runs none of the program's code, which is then
    handed to the server as it is, without entering the request's scope for each chunk.
    """
    client = get_client()
    options = client.options
    enabled = client.get_integration(integration) if integration is not None else None
    if not options or (integration is not None and enabled is None):
        return app(environ, start_response)
    outer = current_request()
    if outer is not None:
        if adapt is not None:
            try:
                adapt(outer)
            except Exception:
                report_internal_error()
        return app(environ, start_response)
    try:
        limit = BODY_LIMITS.get(options.get("max_request_body_size") or "medium", 10_000)
        stream = environ.get("wsgi.input")
        tee = None
        if stream is not None and limit != 0 and _may_have_body(environ):
            tee = environ["wsgi.input"] = InputTee(stream, limit, _content_length(environ))
        context = RequestContext(environ=environ, tee=tee, use_x_forwarded_for=use_x_forwarded_for)
        context.integration = enabled
        if adapt is not None:
            adapt(context)
        started = start_request(context)
        trace = None
        if started is not None:
            trace = begin_request_trace(
                context, options, span_origin or "auto.http." + mechanism, http_methods_to_capture
            )
            if trace is not None:
                start_response = trace.wsgi_start_response(start_response)
    except Exception:
        report_internal_error()
        return app(environ, start_response)
    response = None
    try:
        response = app(environ, start_response)
    except Exception as exc:
        capture_unhandled(integration, exc, mechanism)
        if trace is not None:
            trace.finish(failed=True)
            trace = None
        raise
    finally:
        if trace is not None and (
            trace.status_code is not None or type(response) is list or type(response) is tuple
        ):
            # The transaction ends with the application's call, as sentry-sdk's does, when the
            # response has started (test clients need not close a streamed response); an
            # application that starts it only when iterated is finished at its first chunk.
            trace.finish()
            trace = None
        if started is not None:
            finish_request(started)
    if type(response) is list or type(response) is tuple:
        return response
    if trace is None and plain_response is not None:
        try:
            if plain_response(response):
                return response
        except Exception:
            report_internal_error()
    return _ScopedResponse(response, context, integration, mechanism, started[0] if started else None, trace)


_PLAIN_ITERATORS: frozenset[type] = frozenset(
    (type(iter([])), type(iter(())), type(iter(b"")), type(iter("")), type(iter(range(0))))
)


_END = object()  # what next() gives at the end of a response's iterator


class _ScopedResponse:
    """The application's response iterable, iterated and closed in the request's scope."""

    __slots__ = ("_entry", "_integration", "_iterator", "_mechanism", "_response", "_trace")

    def __init__(
        self,
        response: Iterable[bytes],
        context: RequestContext,
        integration: type[Integration] | str | None,
        mechanism: str,
        block: object = None,
        trace: RequestTrace | None = None,
    ) -> None:
        self._response = response
        self._trace = trace  # the request's transaction, if still running: ended at the first chunk
        self._integration = integration
        self._mechanism = mechanism
        # The request's own layer (``block``) is pushed again for each chunk.
        self._entry = ScopeReentry(context.scope or get_isolation_scope(), block)
        self._iterator: Iterator[bytes] | None = None
        # Getting the iterator is the response's own plumbing (a generator's body does not run
        # yet), so it is taken here, to know which kind of iterator it is.
        try:
            self._iterator = iter(response)
        except Exception:
            self._iterator = None  # raised again, in the request's scope, at the first next()

    def __iter__(self) -> _ScopedResponse:
        return self

    def __next__(self) -> bytes:
        iterator = self._iterator
        if type(iterator) in _PLAIN_ITERATORS:
            # A list's (or bytes', tuple's) iterator runs no code of the program's: no need to
            # enter the request's scope for it (Django's responses iterate a list).
            return next(iterator)  # type: ignore[arg-type]
        # The request's scope is entered for the chunk only; the end of the iteration is taken as
        # a sentinel inside it, and StopIteration raised outside it, so that the exception does not
        # travel through the scope's exit. (current_request() is not set again: the adapters ask
        # for it while the app is called, not while its response is iterated.)
        entry = self._entry
        entry.__enter__()
        try:
            if iterator is None:
                iterator = self._iterator = iter(self._response)
            chunk = next(iterator, _END)
            if self._trace is not None:
                self._trace.finish()
                self._trace = None
        except Exception as exc:
            capture_unhandled(self._integration, exc, self._mechanism)
            if self._trace is not None:
                self._trace.finish(failed=True)
                self._trace = None
            raise
        finally:
            entry.__exit__(None, None, None)
        if chunk is _END:
            raise StopIteration
        return chunk  # type: ignore[return-value]

    def close(self) -> None:
        close = getattr(self._response, "close", None)
        trace, self._trace = self._trace, None
        if close is None and trace is None:
            return
        entry = self._entry
        entry.__enter__()
        failed = False
        try:
            if close is not None:
                close()
        except Exception as exc:
            failed = True
            capture_unhandled(self._integration, exc, self._mechanism)
            raise
        finally:
            if trace is not None:
                trace.finish(failed)
            entry.__exit__(None, None, None)

    def __getattr__(self, name: str) -> Any:
        # wsgi.file_wrapper's filelike and friends: servers look for them on the response.
        return getattr(self._response, name)
